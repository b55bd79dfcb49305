//! `-o patch`: a change as a kustomize-ready patch file to commit to Git instead of writing to
//! the cluster. Pure.
//!
//! Each patch names its target the way kustomize matches it (apiVersion, kind, metadata.name
//! and metadata.namespace) and holds only the fields the change sets; `null` removes a field,
//! as in the JSON merge patch the live command sends (kustomize's strategic merge treats a
//! FeatureStore, a custom resource, with merge-patch semantics). A file with several stores is
//! a multi-document stream, one patch each.

use serde_json::{Map, Value, json};

use crate::featurestore::{API_VERSION, FeatureStore, KIND};

/// The patch for one store: its identity and the merge patch's fields.
pub fn kustomize_patch(object: &Value, merge_patch: &Value) -> Value {
    let fs = FeatureStore::new(object);
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(fs.name()));
    if let Some(ns) = fs.namespace().filter(|ns| !ns.is_empty()) {
        metadata.insert("namespace".into(), json!(ns));
    }
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(API_VERSION));
    out.insert("kind".into(), json!(KIND));
    out.insert("metadata".into(), Value::Object(metadata));
    if let Value::Object(fields) = merge_patch {
        for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "metadata") {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// The patch file: one YAML document per store, with a comment that says how to use it.
pub fn file(command: &str, patches: &[Value]) -> crate::error::Result<String> {
    let mut out = format!(
        "# kubectl feast {command}: commit this patch beside the FeatureStore's manifest and list it\n# under `patches:` in its kustomization.yaml (`- path: <this file>`). null removes a field.\n"
    );
    for (i, p) in patches.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&super::yaml(p)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patch_names_its_target_and_holds_only_the_change() {
        let live = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "a", "namespace": "ml", "resourceVersion": "7", "labels": {"x": "y"}},
            "spec": {"feastProject": "p", "replicas": 3}});
        let patch = json!({"spec": {"replicas": null, "services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}});
        let p = kustomize_patch(&live, &patch);
        assert_eq!(
            p,
            json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
                "metadata": {"name": "a", "namespace": "ml"},
                "spec": {"replicas": null, "services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}})
        );
        let text = file("autoscale", &[p.clone(), p]).expect("rendered");
        assert!(text.starts_with("# kubectl feast autoscale"));
        assert_eq!(text.matches("\n---\n").count(), 1, "{text}");
        assert!(text.contains("replicas: null"), "{text}");
    }
}
