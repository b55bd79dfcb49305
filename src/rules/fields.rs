//! Unknown fields: a key the CRD's schema does not declare is an error, as the API server's
//! strict field validation (kubectl's default) makes it: `unknown field "spec.replica"`. Each
//! comes with the nearest declared field, so a typo or a block indented one level off says
//! what was meant.
//!
//! The schema is a CRD's `openAPIV3Schema` when one is given (`--crd`, or the cluster's), and
//! otherwise the plugin's own map of the blocks it reasons about (`spec`, `services`, the
//! three stores and their persistence, scaling, disruption budgets). Objects this map does not
//! describe (server settings, pod fields, …) are only checked against a CRD. Pure.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::{Finding, Origin, Severity};
use crate::suggest;

/// The plugin's own field map: an OpenAPI-shaped tree in which every object with
/// `properties` is closed and every other node is left open.
fn builtin() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let (online, offline, registry) = stores();
        let services = closed(&[
            ("affinity", open()),
            ("deploymentStrategy", open()),
            ("disableInitContainers", open()),
            ("initImage", open()),
            ("nodeSelector", open()),
            ("offlineStore", offline),
            ("onlineStore", online),
            ("podAnnotations", open()),
            (
                "podDisruptionBudgets",
                closed(&[("maxUnavailable", open()), ("minAvailable", open())]),
            ),
            ("registry", registry),
            ("resourceClaims", open()),
            ("runFeastApplyOnInit", open()),
            (
                "scaling",
                closed(&[(
                    "autoscaling",
                    closed(&[
                        ("behavior", open()),
                        ("maxReplicas", open()),
                        ("metrics", open()),
                        ("minReplicas", open()),
                    ]),
                )]),
            ),
            ("securityContext", open()),
            ("tolerations", open()),
            ("topologySpreadConstraints", open()),
            ("ui", open()),
            ("volumes", open()),
        ]);
        closed(&[(
            "spec",
            closed(&[
                ("authz", open()),
                ("batchEngine", open()),
                ("cronJob", open()),
                ("dataQualityMonitoring", open()),
                ("feastProject", open()),
                ("feastProjectDir", open()),
                ("materialization", open()),
                ("mlflow", open()),
                ("openlineage", open()),
                ("replicas", open()),
                ("services", services),
            ]),
        )])
    })
}

/// The three stores' blocks of the field map: online, offline and registry.
fn stores() -> (Value, Value, Value) {
    let pvc = closed(&[
        (
            "create",
            closed(&[
                ("accessModes", open()),
                ("resources", open()),
                ("storageClassName", open()),
            ]),
        ),
        ("mountPath", open()),
        ("ref", closed(&[("name", open())])),
    ]);
    let store = closed(&[
        ("secretKeyName", open()),
        ("secretRef", closed(&[("name", open())])),
        ("type", open()),
    ]);
    let persistence = |file: Value| closed(&[("file", file), ("store", store.clone())]);
    let online = closed(&[
        ("disabled", open()),
        (
            "persistence",
            persistence(closed(&[("path", open()), ("pvc", pvc.clone())])),
        ),
        ("server", open()),
        ("serving", open()),
    ]);
    let offline = closed(&[
        (
            "persistence",
            persistence(closed(&[("pvc", pvc.clone()), ("type", open())])),
        ),
        ("server", open()),
    ]);
    let registry_file = closed(&[
        ("cache_mode", open()),
        ("cache_ttl_seconds", open()),
        ("path", open()),
        ("pvc", pvc.clone()),
        ("s3_additional_kwargs", open()),
    ]);
    let registry = closed(&[
        (
            "local",
            closed(&[
                ("persistence", persistence(registry_file)),
                ("server", open()),
            ]),
        ),
        (
            "remote",
            closed(&[("feastRef", open()), ("hostname", open()), ("tls", open())]),
        ),
    ]);
    (online, offline, registry)
}

fn open() -> Value {
    json!({})
}

fn closed(fields: &[(&str, Value)]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    json!({"type": "object", "properties": properties})
}

/// The unknown fields of `object.spec` against the plugin's own field map.
pub fn unknown(object: &Value) -> Vec<Finding> {
    unknown_against(object, builtin())
}

/// The unknown fields of `object.spec` against an `openAPIV3Schema` (a CRD version's).
pub fn unknown_against(object: &Value, schema: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    if let (Some(spec), Some(spec_schema)) =
        (object.get("spec"), schema.pointer("/properties/spec"))
    {
        walk(
            spec,
            spec_schema,
            &mut vec!["spec".to_string()],
            &[schema],
            &mut out,
        );
    }
    out
}

/// Whether an object schema declares its keys (and so refuses others).
fn properties(schema: &Value) -> Option<&Map<String, Value>> {
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let open_map = schema
        .get("additionalProperties")
        .is_some_and(|a| a != &Value::Bool(false));
    if preserve || open_map {
        return None;
    }
    schema.get("properties").and_then(Value::as_object)
}

fn walk(
    value: &Value,
    schema: &Value,
    path: &mut Vec<String>,
    ancestors: &[&Value],
    out: &mut Vec<Finding>,
) {
    match value {
        Value::Object(map) => {
            if let Some(props) = properties(schema) {
                for (key, child) in map {
                    match props.get(key) {
                        Some(child_schema) => {
                            path.push(key.clone());
                            let mut up = ancestors.to_vec();
                            up.push(schema);
                            walk(child, child_schema, path, &up, out);
                            path.pop();
                        }
                        None => out.push(finding(path, key, schema, ancestors)),
                    }
                }
            } else if let Some(values) =
                schema.get("additionalProperties").filter(|a| a.is_object())
            {
                for (key, child) in map {
                    path.push(key.clone());
                    walk(child, values, path, ancestors, out);
                    path.pop();
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(item, item_schema, path, ancestors, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// `spec.services.volumes.0.name` as kubectl prints it: `spec.services.volumes[0].name`.
fn shown(path: &[String]) -> String {
    let mut s = String::new();
    for part in path {
        if part.chars().all(|c| c.is_ascii_digit()) {
            s.push_str(&format!("[{part}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(part);
        }
    }
    s
}

fn finding(parent: &[String], key: &str, schema: &Value, ancestors: &[&Value]) -> Finding {
    let mut full = parent.to_vec();
    full.push(key.to_string());
    let field = shown(&full);
    let hint = match suggestion(parent, key, schema, ancestors) {
        Some(s) => format!(
            "Did you mean {s}? Rename or move the field; the API server refuses unknown fields."
        ),
        None => format!(
            "Remove {field}, or check its spelling and indentation: {} declares {}.",
            shown(parent),
            declared(schema)
        ),
    };
    Finding {
        severity: Severity::Error,
        rule: "schema/unknown-field",
        path: full.join("."),
        message: format!("unknown field \"{field}\""),
        hint,
        origin: Origin::Schema,
    }
}

fn declared(schema: &Value) -> String {
    let keys: Vec<String> = properties(schema)
        .map(|p| p.keys().map(|k| format!("`{k}`")).collect())
        .unwrap_or_default();
    keys.join(", ")
}

/// The nearest declared field: a sibling a typo away, else the same key one level deeper
/// (`onlineStore.store` → `onlineStore.persistence.store`), else one level up.
fn suggestion(
    parent: &[String],
    key: &str,
    schema: &Value,
    ancestors: &[&Value],
) -> Option<String> {
    let props = properties(schema)?;
    if let Some(near) = suggest::nearest(key, props.keys().map(String::as_str)) {
        let mut p = parent.to_vec();
        p.push(near.to_string());
        return Some(format!("\"{}\" ({})", near, shown(&p)));
    }
    for (child, child_schema) in props {
        if properties(child_schema).is_some_and(|c| c.contains_key(key)) {
            let mut p = parent.to_vec();
            p.extend([child.clone(), key.to_string()]);
            return Some(format!(
                "{} (the block one level deeper, under `{child}`)",
                shown(&p)
            ));
        }
    }
    let grandparent = ancestors.last()?;
    if properties(grandparent).is_some_and(|g| g.contains_key(key)) && parent.len() > 1 {
        let mut p = parent[..parent.len() - 1].to_vec();
        p.push(key.to_string());
        return Some(format!("{} (the block one level up)", shown(&p)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(spec: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "a"}, "spec": spec})
    }

    fn messages(spec: Value) -> Vec<(String, String)> {
        unknown(&fs(spec))
            .into_iter()
            .map(|f| (f.message, f.hint))
            .collect()
    }

    #[test]
    fn a_misspelt_top_level_field_names_the_right_one() {
        let m = messages(json!({"feastProject": "p", "replica": 3}));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, "unknown field \"spec.replica\"");
        assert!(
            m[0].1.contains("\"replicas\" (spec.replicas)"),
            "{}",
            m[0].1
        );
    }

    #[test]
    fn scaling_and_budget_typos_are_caught() {
        let m = messages(json!({"feastProject": "p", "services": {
            "podDisruptionBudget": {"maxUnavailable": 1},
            "scaling": {"autoscale": {"maxReplicas": 3}}}}));
        let fields: Vec<&str> = m.iter().map(|(msg, _)| msg.as_str()).collect();
        assert!(fields.contains(&"unknown field \"spec.services.podDisruptionBudget\""));
        assert!(fields.contains(&"unknown field \"spec.services.scaling.autoscale\""));
        assert!(
            m.iter()
                .any(|(_, h)| h.contains("spec.services.scaling.autoscaling"))
        );
    }

    #[test]
    fn a_block_indented_one_level_too_shallow_points_one_level_deeper() {
        let m = messages(json!({"feastProject": "p", "services": {"onlineStore": {
            "store": {"type": "redis", "secretRef": {"name": "s"}}}}}));
        assert_eq!(m[0].0, "unknown field \"spec.services.onlineStore.store\"");
        assert!(
            m[0].1
                .contains("spec.services.onlineStore.persistence.store"),
            "{}",
            m[0].1
        );
    }

    #[test]
    fn open_objects_and_known_fields_pass() {
        assert!(
            messages(json!({"feastProject": "p", "replicas": 2, "services": {
            "onlineStore": {"server": {"anything": {"goes": 1}}},
            "scaling": {"autoscaling": {"maxReplicas": 3, "metrics": [{"type": "Resource"}]}}}}))
            .is_empty()
        );
    }

    #[test]
    fn a_crd_schema_checks_array_items_and_maps() {
        let schema = json!({"properties": {"spec": {"type": "object", "properties": {
            "list": {"type": "array", "items": {"type": "object", "properties": {"name": {}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}});
        let obj = fs(
            json!({"list": [{"name": "x"}, {"nmae": "y"}], "labels": {"any": "x"}, "free": {"x": 1}}),
        );
        let found = unknown_against(&obj, &schema);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "unknown field \"spec.list[1].nmae\"");
        assert_eq!(found[0].path, "spec.list.1.nmae");
    }
}
