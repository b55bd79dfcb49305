//! Pure planning: the JSON merge patch a command sends, and the object as it will be once the
//! API server has applied it, so the same rules as `validate` can judge the result first.
//!
//! Patches are `application/merge-patch+json` (custom resources have no strategic merge,
//! operator contract §7): `null` deletes a key and arrays are replaced whole. Empty objects and
//! arrays are written out explicitly, never skipped.

use serde_json::{Map, Value, json};

/// Applies an RFC 7386 JSON merge patch to `target`, in place.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// The object as the API server will store it: the patch applied, then `spec.replicas`
/// defaulted to 1 when the patch removed it (the schema default, §2.1).
pub fn patched(object: &Value, patch: &Value) -> Value {
    let mut after = object.clone();
    merge_patch(&mut after, patch);
    if let Some(spec) = after.get_mut("spec").and_then(Value::as_object_mut) {
        spec.entry("replicas").or_insert(json!(1));
    }
    after
}

/// `scale --replicas N`: set `spec.replicas`; with `drop_autoscaling`, also remove the HPA
/// configuration in the same patch (R1 forbids both).
pub fn scale_patch(replicas: i64, drop_autoscaling: bool) -> Value {
    let mut patch = json!({"spec": {"replicas": replicas}});
    if drop_autoscaling {
        patch["spec"]["services"] = json!({"scaling": {"autoscaling": null}});
    }
    patch
}

/// What `autoscale` writes into `spec.services.scaling.autoscaling`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AutoscalingRequest {
    pub min: Option<i64>,
    pub max: i64,
    /// autoscaling/v2 MetricSpecs; `None` leaves the operator's default (80% CPU).
    pub metrics: Option<Vec<Value>>,
    pub behavior: Option<Value>,
}

/// `autoscale`: write the HPA configuration and remove `spec.replicas` in the same patch, so
/// the default of 1 satisfies the mutual-exclusion rule (R1). The whole autoscaling block is
/// replaced: fields the request leaves out are removed, so the result is exactly what was asked.
pub fn autoscale_patch(request: &AutoscalingRequest) -> Value {
    let mut hpa = Map::new();
    hpa.insert(
        "minReplicas".into(),
        request.min.map_or(Value::Null, |m| json!(m)),
    );
    hpa.insert("maxReplicas".into(), json!(request.max));
    hpa.insert(
        "metrics".into(),
        request.metrics.clone().map_or(Value::Null, Value::Array),
    );
    hpa.insert(
        "behavior".into(),
        request.behavior.clone().unwrap_or(Value::Null),
    );
    json!({"spec": {"replicas": null, "services": {"scaling": {"autoscaling": Value::Object(hpa)}}}})
}

/// `autoscale --off`: drop the HPA configuration and set `spec.replicas` in the same patch, so
/// the workload does not fall to one pod (§4.8).
pub fn autoscale_off_patch(replicas: i64) -> Value {
    json!({"spec": {"replicas": replicas, "services": {"scaling": {"autoscaling": null}}}})
}

/// The disruption budget a `pdb` command asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum PdbPolicy {
    MinAvailable(Value),
    MaxUnavailable(Value),
    Off,
}

/// `pdb`: set exactly one field and null the other (the CEL rule wants exactly one), or remove
/// the whole block.
pub fn pdb_patch(policy: &PdbPolicy) -> Value {
    let block = match policy {
        PdbPolicy::MinAvailable(v) => json!({"minAvailable": v, "maxUnavailable": null}),
        PdbPolicy::MaxUnavailable(v) => json!({"maxUnavailable": v, "minAvailable": null}),
        PdbPolicy::Off => Value::Null,
    };
    json!({"spec": {"services": {"podDisruptionBudgets": block}}})
}

/// Adds `metadata.resourceVersion` so the API server refuses the patch (409) when the object
/// changed since it was checked.
pub fn with_resource_version(mut patch: Value, resource_version: &str) -> Value {
    patch["metadata"] = json!({"resourceVersion": resource_version});
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "arr": [1, 2]});
        merge_patch(
            &mut target,
            &json!({"a": "z", "c": {"f": null}, "arr": [3], "new": {}}),
        );
        assert_eq!(
            target,
            json!({"a": "z", "c": {"d": "e"}, "arr": [3], "new": {}})
        );
    }

    #[test]
    fn autoscale_clears_static_replicas_in_the_same_patch() {
        let obj = json!({"spec": {"feastProject": "p", "replicas": 3}});
        let after = patched(
            &obj,
            &autoscale_patch(&AutoscalingRequest {
                min: Some(2),
                max: 5,
                ..Default::default()
            }),
        );
        assert_eq!(after["spec"]["replicas"], json!(1));
        assert_eq!(
            after["spec"]["services"]["scaling"]["autoscaling"],
            json!({"minReplicas": 2, "maxReplicas": 5})
        );
    }

    #[test]
    fn autoscale_off_keeps_the_replica_count() {
        let obj = json!({"spec": {"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}});
        let after = patched(&obj, &autoscale_off_patch(4));
        assert_eq!(after["spec"]["replicas"], json!(4));
        assert_eq!(after["spec"]["services"]["scaling"], json!({}));
    }

    #[test]
    fn switching_pdb_fields_removes_the_old_one() {
        let obj = json!({"spec": {"services": {"podDisruptionBudgets": {"minAvailable": 1}}}});
        let after = patched(&obj, &pdb_patch(&PdbPolicy::MaxUnavailable(json!("50%"))));
        assert_eq!(
            after["spec"]["services"]["podDisruptionBudgets"],
            json!({"maxUnavailable": "50%"})
        );
        let off = patched(&obj, &pdb_patch(&PdbPolicy::Off));
        assert_eq!(off["spec"]["services"], json!({}));
    }

    #[test]
    fn scale_with_autoscaling_is_refused_by_the_rules_unless_dropped() {
        let obj = json!({"apiVersion": "feast.dev/v1", "metadata": {"name": "a"}, "spec": {"feastProject": "p", "services": {
            "scaling": {"autoscaling": {"maxReplicas": 5}},
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
            "registry": {"remote": {"hostname": "r:80"}}}}});
        let kept = patched(&obj, &scale_patch(3, false));
        assert!(!rules::is_valid(&rules::check(&kept)));
        let dropped = patched(&obj, &scale_patch(3, true));
        assert!(rules::is_valid(&rules::check(&dropped)));
    }

    #[test]
    fn resource_version_rides_along() {
        let p = with_resource_version(scale_patch(2, false), "42");
        assert_eq!(p["metadata"]["resourceVersion"], json!("42"));
    }
}
