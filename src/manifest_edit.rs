//! `--in-place`: a JSON merge patch applied to FeatureStores inside a YAML manifest file while
//! keeping everything else of the file as it was: comments, key order, quoting, the other
//! documents. Pure: text in, text out.
//!
//! The edit goes through `yaml-edit`'s lossless syntax tree: a key set to `null` is removed, a
//! mapping is walked into, anything else is set (a new subtree written in block style). The
//! result is then parsed again and must equal the patched objects exactly, and every other
//! document must be unchanged; if not (a layout the editor cannot handle, such as a flow
//! mapping `{...}` on the way), the edit is refused and the caller leaves the file alone.

use std::str::FromStr;

use serde_json::{Map, Value};
use yaml_edit::{Document, Mapping, YamlFile};

use crate::featurestore::{FeatureStore, KIND, without_nulls};
use crate::manifests;
use crate::plan;

/// One store to change: its name and namespace as the file has them, and the merge patch.
pub struct Edit<'a> {
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub patch: &'a Value,
}

fn targets(value: &Value, edit: &Edit) -> bool {
    let fs = FeatureStore::new(value);
    fs.kind() == KIND && fs.name() == edit.name && fs.namespace() == edit.namespace
}

/// A JSON value as a YAML node to insert.
fn node(value: &Value) -> Result<Document, String> {
    let text = serde_saphyr::to_string(&without_nulls(value))
        .map_err(|e| format!("cannot write {value} as YAML: {e}"))?;
    Document::from_str(&text).map_err(|e| format!("cannot re-read {value} as YAML: {e}"))
}

fn apply(mapping: &Mapping, patch: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in patch {
        match value {
            Value::Null => {
                mapping.remove(key.as_str());
            }
            Value::Object(sub) => match mapping.get_mapping(key.as_str()) {
                Some(inner) => apply(&inner, sub)?,
                None => {
                    mapping.set(key.as_str(), node(value)?);
                }
            },
            other => {
                mapping.set(key.as_str(), node(other)?);
            }
        }
    }
    Ok(())
}

/// `text` (one file, `source` for messages) with each edit applied to its FeatureStore.
pub fn edit(source: &str, text: &str, edits: &[Edit]) -> Result<String, String> {
    let before = manifests::parse_documents(source, text).map_err(|e| e.message)?;
    let file = YamlFile::from_str(text).map_err(|e| format!("{source}: {e}"))?;
    for doc in file.documents() {
        let value: Value = serde_saphyr::from_str(&doc.to_string()).unwrap_or(Value::Null);
        let Some(e) = edits.iter().find(|e| targets(&value, e)) else {
            continue;
        };
        let mapping = doc
            .as_mapping()
            .ok_or_else(|| format!("{source}: FeatureStore {} is not a YAML mapping", e.name))?;
        let Value::Object(patch) = e.patch else {
            return Err("the change is not an object".into());
        };
        apply(&mapping, patch)?;
    }
    let out = file.to_string();
    // The safety net: the edited text must read back as exactly the patched objects.
    let after = manifests::parse_documents(source, &out)
        .map_err(|e| format!("the edited file would not parse: {}", e.message))?;
    let expected: Vec<Value> = before
        .iter()
        .map(|d| match edits.iter().find(|e| targets(&d.value, e)) {
            Some(e) => {
                let mut v = d.value.clone();
                plan::merge_patch(&mut v, e.patch);
                v
            }
            None => d.value.clone(),
        })
        .collect();
    let got: Vec<Value> = after.into_iter().map(|d| d.value).collect();
    if got != expected {
        return Err(format!(
            "{source}: its layout could not be edited in place faithfully (a flow-style mapping on the way, say); the file was left unchanged"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = "\
# the orders store
apiVersion: feast.dev/v1
kind: FeatureStore
metadata:
  name: orders   # keep me
  namespace: ml
spec:
  feastProject: orders
  replicas: 3 # static for now
  services:
    podDisruptionBudgets:
      minAvailable: 2
    onlineStore:
      persistence:
        store:
          type: redis   # shared
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: orders
  namespace: ml
data:
  replicas: \"3\"
";

    #[test]
    fn comments_order_and_other_documents_are_kept() {
        let patch = json!({"spec": {"replicas": null, "services": {
            "scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 6}},
            "podDisruptionBudgets": {"maxUnavailable": 1, "minAvailable": null}}}});
        let out = edit(
            "f.yaml",
            FILE,
            &[Edit {
                name: "orders",
                namespace: Some("ml"),
                patch: &patch,
            }],
        )
        .expect("edited");
        assert!(out.starts_with("# the orders store\n"), "{out}");
        assert!(out.contains("name: orders   # keep me"), "{out}");
        assert!(out.contains("type: redis   # shared"), "{out}");
        assert!(!out.contains("replicas: 3"), "{out}");
        assert!(
            out.contains("maxUnavailable: 1") && !out.contains("minAvailable"),
            "{out}"
        );
        assert!(out.contains("maxReplicas: 6"), "{out}");
        assert!(
            out.ends_with("data:\n  replicas: \"3\"\n"),
            "the ConfigMap is untouched: {out}"
        );
    }

    #[test]
    fn a_layout_that_cannot_be_edited_faithfully_is_refused() {
        let flow = "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata: {name: a}\nspec: {feastProject: p, services: {podDisruptionBudgets: {minAvailable: 2}}}\n";
        let patch = json!({"spec": {"services": {"podDisruptionBudgets": {"maxUnavailable": 1, "minAvailable": null}}}});
        let r = edit(
            "f.yaml",
            flow,
            &[Edit {
                name: "a",
                namespace: None,
                patch: &patch,
            }],
        );
        // Either it is edited exactly, or refused: never a wrong file.
        if let Ok(out) = r {
            let v: Value = serde_saphyr::from_str(&out).expect("yaml");
            assert_eq!(
                v["spec"]["services"]["podDisruptionBudgets"],
                json!({"maxUnavailable": 1})
            );
        }
    }
}
