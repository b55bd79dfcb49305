//! `-o patch`: a change as a kustomize-ready patch file to commit to Git instead of writing to
//! the cluster. Pure.
//!
//! Each patch names its target by apiVersion, kind and metadata.name, not by namespace: an
//! overlay's `namespace:` is applied to the base's objects, and a patch naming the live
//! namespace finds nothing in a namespace-less base (kustomize: "no matches for Id"). The
//! file's header lists it under `patches:` with a `target`, which kustomize matches whatever
//! namespace the base gives the store. Each patch holds only the fields the change sets; `null`
//! removes a field, as in the JSON merge patch the live command sends (kustomize's strategic
//! merge treats a FeatureStore, a custom resource, with merge-patch semantics). A file with
//! several stores is a multi-document stream, one patch each.

use serde_json::{Map, Value, json};

use crate::featurestore::{API_VERSION, FeatureStore, KIND};

/// The patch for one store: its identity and the merge patch's fields.
pub fn kustomize_patch(object: &Value, merge_patch: &Value) -> Value {
    let fs = FeatureStore::new(object);
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(fs.name()));
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

/// The fields a patch removes (`null`) that the live store holds but its Git source does not
/// carry: a rendered manifest cannot remove them (the field is simply absent, and `kubectl
/// apply` or a server-side apply removes only what it applied before). Each as its dotted path
/// and the JSON pointer to remove it by. A field is taken to come from Git when the
/// last-applied configuration (client-side apply) holds it, or a manager that applies
/// (`operation: Apply`) owns it.
pub fn live_only_removals(live: &Value, merge_patch: &Value) -> Vec<(String, String)> {
    let mut removed = Vec::new();
    nulls(merge_patch, "", &mut removed);
    let meta = FeatureStore::new(live).metadata();
    let applied: Option<Value> = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/last-applied-configuration"))
        .and_then(|t| serde_json::from_str(t).ok());
    let applier_owns = |pointer: &str| {
        // managedFields' fieldsV1 is a tree of `f:<field>` keys.
        let fields: String = pointer
            .split('/')
            .skip(1)
            .map(|k| format!("/f:{k}"))
            .collect();
        meta.managed_fields
            .iter()
            .flatten()
            .filter(|m| m.operation.as_deref() == Some("Apply"))
            .filter_map(|m| m.fields_v1.as_ref())
            .any(|f| f.0.pointer(&fields).is_some())
    };
    removed
        .into_iter()
        .filter(|pointer| live.pointer(pointer).is_some())
        .filter(|pointer| match &applied {
            Some(a) => a.pointer(pointer).is_none(),
            None => !applier_owns(pointer),
        })
        .map(|pointer| (pointer[1..].replace('/', "."), pointer))
        .collect()
}

/// The JSON pointers of the `null`s in a merge patch.
fn nulls(v: &Value, at: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = v {
        for (k, x) in map {
            let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            if x.is_null() {
                out.push(here);
            } else {
                nulls(x, &here, out);
            }
        }
    }
}

/// The patch file: one YAML document per store, with a comment that says how to use it: the
/// kustomization entry, with a target per store.
pub fn file(command: &str, patches: &[Value]) -> crate::error::Result<String> {
    let mut out = format!(
        "# kubectl feast {command}: commit this file beside the FeatureStore's kustomization.yaml and list\n# it under `patches:` with a target, which matches the store whatever namespace its base or\n# overlay gives it (null removes a field):\n#   patches:\n"
    );
    for p in patches {
        let name = FeatureStore::new(p).name();
        out.push_str(&format!(
            "#   - path: <this file>\n#     target: {{group: feast.dev, kind: FeatureStore, name: {name}}}\n"
        ));
    }
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
    fn a_removal_of_a_field_git_never_carried_is_live_only() {
        let patch = json!({"spec": {"replicas": null, "services": {"podDisruptionBudgets": null}}});
        let applied = json!({"spec": {"feastProject": "p", "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}});
        let live = json!({"metadata": {"annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": applied.to_string()}},
            "spec": {"feastProject": "p", "replicas": 3, "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}});
        assert_eq!(
            live_only_removals(&live, &patch),
            [("spec.replicas".to_string(), "/spec/replicas".to_string())]
        );
        // Server-side apply: a field an applier owns comes from Git.
        let ssa = json!({"metadata": {"managedFields": [
                {"manager": "argocd-controller", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "kubectl-feast", "operation": "Update", "fieldsV1": {"f:spec": {"f:services": {"f:podDisruptionBudgets": {}}}}}]},
            "spec": {"replicas": 3, "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}});
        assert_eq!(
            live_only_removals(&ssa, &patch),
            [(
                "spec.services.podDisruptionBudgets".to_string(),
                "/spec/services/podDisruptionBudgets".to_string()
            )]
        );
        // Nothing to remove where the live store lacks the field.
        assert!(live_only_removals(&json!({"spec": {}}), &patch).is_empty());
    }

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
                "metadata": {"name": "a"},
                "spec": {"replicas": null, "services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}})
        );
        let text = file("autoscale", &[p.clone(), p]).expect("rendered");
        assert!(text.starts_with("# kubectl feast autoscale"));
        assert_eq!(text.matches("\n---\n").count(), 1, "{text}");
        assert!(text.contains("replicas: null"), "{text}");
        assert!(
            text.contains("#     target: {group: feast.dev, kind: FeatureStore, name: a}"),
            "{text}"
        );
    }
}
