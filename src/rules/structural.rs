//! The structural check: an object against an OpenAPI schema as the API server checks it.
//! Unknown fields are errors, as strict field validation (kubectl's default) makes them
//! (`unknown field "spec.replica"`, with the nearest declared field, so a typo or a block
//! indented one level off says what was meant); wrong types, int-or-string values, int32
//! ranges, minimums, enums and required fields are reported at any depth in the server's own
//! words, with the path as the server writes it (`metrics[0].resource.target`).
//!
//! The schema is a CRD's `openAPIV3Schema` when one is given (`--crd`, or the cluster's), and
//! otherwise the typed model's own ([`crate::model::schema`]): every field the model declares
//! is checked, the ones it keeps as they are (server settings, authz, ...) are left open. Pure.

use serde_json::{Map, Value};

use super::{Finding, Origin, RuleId, Severity};
use crate::suggest;

/// The findings of one object against one schema.
pub fn check(object: &Value, schema: &Value) -> Vec<Finding> {
    let mut walk = Walk {
        out: Vec::new(),
        path: Vec::new(),
    };
    walk.node(object, schema, &mut Vec::new());
    walk.out
}

/// One step of a path: a key, or an index into an array.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// A path as the API server writes it: `spec.services.volumes[0].name`.
fn shown(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Index(i) => s.push_str(&format!("[{i}]")),
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
        }
    }
    s
}

fn with(path: &[Step], key: &str) -> Vec<Step> {
    let mut p = path.to_vec();
    p.push(Step::Key(key.to_string()));
    p
}

struct Walk {
    out: Vec<Finding>,
    path: Vec<Step>,
}

impl Walk {
    fn error(&mut self, rule: RuleId, path: String, message: String, hint: String) {
        self.out.push(Finding {
            severity: Severity::Error,
            rule,
            path,
            message,
            hint: hint.into(),
            origin: Origin::Schema,
        });
    }

    fn node<'s>(&mut self, value: &Value, schema: &'s Value, ancestors: &mut Vec<&'s Value>) {
        if !schema.is_object() || value.is_null() {
            // `true` (or `{}` below) is an open schema; a null is pruned before validation.
            return;
        }
        let here = shown(&self.path);
        if flag(schema, "x-kubernetes-int-or-string") || any_of_int_and_string(schema) {
            if !(is_integer(value) || value.is_string()) {
                self.type_error(&here, "integer,string", value);
            }
            return;
        }
        if let Some(ty) = declared_type(schema)
            && !accepts(ty, value)
        {
            self.type_error(&here, ty, value);
            return;
        }
        if let Some(n) = value.as_i64().or_else(|| value.as_u64().map(|_| i64::MAX)) {
            self.number(&here, n, value, schema);
        }
        if let (Some(s), Some(allowed)) =
            (value.as_str(), schema.get("enum").and_then(Value::as_array))
            && !allowed.iter().any(|a| a.as_str() == Some(s))
        {
            self.unsupported(&here, s, allowed);
        }
        match value {
            Value::Object(map) => self.object(map, schema, ancestors),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.path.push(Step::Index(i));
                        self.node(item, item_schema, ancestors);
                        self.path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn object<'s>(
        &mut self,
        map: &Map<String, Value>,
        schema: &'s Value,
        ancestors: &mut Vec<&'s Value>,
    ) {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if map.get(required).is_none_or(Value::is_null) {
                let at = shown(&with(&self.path, required));
                let example = example(required, schema.pointer(&format!("/properties/{required}")));
                self.error(
                    RuleId::SchemaRequired,
                    at.clone(),
                    "Required value".into(),
                    format!("Set {at}, e.g. {required}: {example}."),
                );
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        let closed = props.is_some()
            && !flag(schema, "x-kubernetes-preserve-unknown-fields")
            && extra.is_none_or(|a| a == &Value::Bool(false));
        for (key, child) in map {
            let child_schema = props
                .and_then(|p| p.get(key))
                .or(extra.filter(|a| a.is_object()));
            match child_schema {
                Some(child_schema) => {
                    self.path.push(Step::Key(key.clone()));
                    ancestors.push(schema);
                    self.node(child, child_schema, ancestors);
                    ancestors.pop();
                    self.path.pop();
                }
                None if closed => {
                    let finding = unknown(&self.path, key, schema, ancestors);
                    self.out.push(finding);
                }
                None => {}
            }
        }
    }

    fn type_error(&mut self, at: &str, ty: &str, value: &Value) {
        let t = json_type(value);
        let quoted_number = ty == "integer"
            && value
                .as_str()
                .is_some_and(|s| s.trim().parse::<i64>().is_ok());
        let hint = if quoted_number {
            format!(
                "Write the number without quotes ({at}: {}): the API server takes an integer here, not a string.",
                value.as_str().unwrap_or_default().trim()
            )
        } else {
            format!("Give {at} a value of type {ty}.")
        };
        self.error(
            RuleId::SchemaType,
            at.to_string(),
            format!("Invalid value: \"{t}\": {at} in body must be of type {ty}: \"{t}\""),
            hint,
        );
    }

    fn number(&mut self, at: &str, n: i64, value: &Value, schema: &Value) {
        let shown_value = value.to_string();
        if schema.get("format").and_then(Value::as_str) == Some("int32")
            && i32::try_from(n).is_err()
        {
            let bound = if n > 0 {
                i32::MAX as i64
            } else {
                i32::MIN as i64
            };
            let (word, dir) = if n > 0 {
                ("less", "at most")
            } else {
                ("greater", "at least")
            };
            // Refused while the body is decoded, before schema validation, in these words.
            self.error(
                RuleId::SchemaRange,
                at.to_string(),
                format!("Invalid value: {shown_value}: should be {word} than or equal to {bound}"),
                format!("{at} is a 32-bit integer: use a value {dir} {bound}."),
            );
            return;
        }
        if let Some(min) = schema.get("minimum").and_then(Value::as_i64)
            && n < min
        {
            self.error(
                RuleId::SchemaMinimum,
                at.to_string(),
                format!("Invalid value: {shown_value}: {at} in body should be greater than or equal to {min}"),
                minimum_hint(at, min),
            );
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_i64)
            && n > max
        {
            self.error(
                RuleId::SchemaRange,
                at.to_string(),
                format!("Invalid value: {shown_value}: {at} in body should be less than or equal to {max}"),
                format!("Use {max} or less."),
            );
        }
    }

    fn unsupported(&mut self, at: &str, s: &str, allowed: &[Value]) {
        let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        let list = names
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = match suggest::nearest(s, names.iter().copied()) {
            Some(near) => {
                format!("Did you mean \"{near}\"? {at} takes one of the supported values.")
            }
            None => format!("Use one of the supported values for {at}."),
        };
        self.error(
            RuleId::SchemaEnum,
            at.to_string(),
            format!("Unsupported value: \"{s}\": supported values: {list}"),
            hint,
        );
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A CRD's int-or-string written out: `anyOf: [{type: integer}, {type: string}]`.
fn any_of_int_and_string(schema: &Value) -> bool {
    let Some(any) = schema.get("anyOf").and_then(Value::as_array) else {
        return false;
    };
    let types: Vec<&str> = any
        .iter()
        .filter_map(|s| s.get("type").and_then(Value::as_str))
        .collect();
    types.contains(&"integer") && types.contains(&"string")
}

/// The schema's `type`, with a `null` alternative (the model's optional fields) set aside.
fn declared_type(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

fn is_integer(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

fn accepts(ty: &str, v: &Value) -> bool {
    match ty {
        "integer" => is_integer(v),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    }
}

/// The JSON type name the API server prints for a value.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn minimum_hint(at: &str, min: i64) -> String {
    if at == "spec.replicas" {
        return "A FeatureStore can't be scaled to zero: use 1 or more.".into();
    }
    let field = at.rsplit('.').next().unwrap_or(at);
    format!("{field} must be at least {min}.")
}

/// A value to show in a "Set X, e.g. ..." hint, from the missing field's schema.
fn example(key: &str, schema: Option<&Value>) -> String {
    if let Some(values) = schema.and_then(|s| s.get("enum")).and_then(Value::as_array) {
        let names: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        let preferred = ["redis", "postgres", "sql", "Resource"];
        return preferred
            .iter()
            .find(|p| names.contains(p))
            .or(names.first())
            .map(|s| s.to_string())
            .unwrap_or_else(|| "...".into());
    }
    match key {
        "feastProject" => "my_project".into(),
        "secretRef" => "{name: feast-data-stores}".into(),
        "maxReplicas" => "5".into(),
        "type" => "Resource".into(),
        "mountPath" => "/data".into(),
        _ => match schema.and_then(declared_type) {
            Some("integer") => "1".into(),
            Some("object") => "{...}".into(),
            Some("array") => "[...]".into(),
            _ => "...".into(),
        },
    }
}

/// Whether an object schema declares its keys (and so refuses others).
fn properties(schema: &Value) -> Option<&Map<String, Value>> {
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
    let open_map = schema
        .get("additionalProperties")
        .is_some_and(|a| a != &Value::Bool(false));
    if preserve || open_map {
        return None;
    }
    schema.get("properties").and_then(Value::as_object)
}

fn unknown(parent: &[Step], key: &str, schema: &Value, ancestors: &[&Value]) -> Finding {
    let full = with(parent, key);
    let field = shown(&full);
    let hint = match suggestion(parent, key, schema, ancestors) {
        Some(s) => format!(
            "Did you mean {s}? Rename or move the field; the API server refuses unknown fields."
        ),
        None => format!(
            "Remove {field}, or check its spelling and indentation: {} declares {}.",
            if parent.is_empty() {
                "the object".to_string()
            } else {
                shown(parent)
            },
            declared(schema)
        ),
    };
    Finding {
        severity: Severity::Error,
        rule: RuleId::SchemaUnknownField,
        path: field.clone(),
        message: format!("unknown field \"{field}\""),
        hint: hint.into(),
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
fn suggestion(parent: &[Step], key: &str, schema: &Value, ancestors: &[&Value]) -> Option<String> {
    let props = properties(schema)?;
    if let Some(near) = suggest::nearest(key, props.keys().map(String::as_str)) {
        return Some(format!("\"{}\" ({})", near, shown(&with(parent, near))));
    }
    for (child, child_schema) in props {
        if properties(child_schema).is_some_and(|c| c.contains_key(key)) {
            let p = with(&with(parent, child), key);
            return Some(format!(
                "{} (the block one level deeper, under `{child}`)",
                shown(&p)
            ));
        }
    }
    let grandparent = ancestors.last()?;
    if properties(grandparent).is_some_and(|g| g.contains_key(key)) && parent.len() > 1 {
        let p = with(&parent[..parent.len() - 1], key);
        return Some(format!("{} (the block one level up)", shown(&p)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fs(spec: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "a"}, "spec": spec})
    }

    fn model() -> &'static Value {
        crate::model::schema(crate::model::ApiVersion::V1)
    }

    fn messages(spec: Value) -> Vec<(String, String)> {
        check(&fs(spec), model())
            .into_iter()
            .filter(|f| f.rule == RuleId::SchemaUnknownField)
            .map(|f| (f.message, f.hint.to_string()))
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
        let schema = json!({"properties": {"apiVersion": {}, "kind": {}, "metadata": {}, "spec": {"type": "object", "properties": {
            "list": {"type": "array", "items": {"type": "object", "properties": {"name": {}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}});
        let obj = fs(
            json!({"list": [{"name": "x"}, {"nmae": "y"}], "labels": {"any": "x"}, "free": {"x": 1}}),
        );
        let found = check(&obj, &schema);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "unknown field \"spec.list[1].nmae\"");
        assert_eq!(found[0].path, "spec.list[1].nmae");
    }

    fn errors_of(spec: Value) -> Vec<(RuleId, String, String)> {
        check(&fs(spec), model())
            .into_iter()
            .map(|f| (f.rule, f.path, f.message))
            .collect()
    }

    #[test]
    fn a_quoted_number_deep_in_a_metric_is_a_type_error_in_the_servers_words() {
        let found = errors_of(
            json!({"feastProject": "p", "services": {"scaling": {"autoscaling": {
            "maxReplicas": 4,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": "60"}}}]}}}}),
        );
        let at = "spec.services.scaling.autoscaling.metrics[0].resource.target.averageUtilization";
        assert_eq!(
            found,
            vec![(
                RuleId::SchemaType,
                at.to_string(),
                format!(
                    "Invalid value: \"string\": {at} in body must be of type integer: \"string\""
                )
            )]
        );
        let hint = &check(&fs(json!({"feastProject": "p", "replicas": "3"})), model())[0].hint;
        assert!(hint.contains("spec.replicas: 3"), "{hint}");
    }

    #[test]
    fn behavior_windows_and_policies_are_typed() {
        let found = errors_of(
            json!({"feastProject": "p", "services": {"scaling": {"autoscaling": {
            "maxReplicas": 4,
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": "300",
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": "60"}, {"type": "Percent", "value": 10}]}}}}}}),
        );
        let paths: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "spec.services.scaling.autoscaling.behavior.scaleDown.policies[0].periodSeconds",
                "spec.services.scaling.autoscaling.behavior.scaleDown.policies[1].periodSeconds",
                "spec.services.scaling.autoscaling.behavior.scaleDown.stabilizationWindowSeconds",
            ]
        );
        assert_eq!(found[1].0, RuleId::SchemaRequired);
    }

    #[test]
    fn int_or_string_int32_and_enums() {
        let found = errors_of(
            json!({"feastProject": "p", "replicas": 2147483648u64, "services": {
            "podDisruptionBudgets": {"maxUnavailable": true},
            "deploymentStrategy": {"rollingUpdate": {"maxSurge": 1.5}},
            "registry": {"local": {"persistence": {"file": {"cache_mode": "syncc"}}}}}}),
        );
        let rules: Vec<(RuleId, &str)> = found.iter().map(|f| (f.0, f.1.as_str())).collect();
        assert!(
            rules.contains(&(RuleId::SchemaRange, "spec.replicas")),
            "{found:?}"
        );
        assert!(
            rules.contains(&(
                RuleId::SchemaType,
                "spec.services.podDisruptionBudgets.maxUnavailable"
            )),
            "{found:?}"
        );
        assert!(
            rules.contains(&(
                RuleId::SchemaType,
                "spec.services.deploymentStrategy.rollingUpdate.maxSurge"
            )),
            "{found:?}"
        );
        assert!(
            rules.contains(&(
                RuleId::SchemaEnum,
                "spec.services.registry.local.persistence.file.cache_mode"
            )),
            "{found:?}"
        );
        let pdb = found
            .iter()
            .find(|f| f.1.ends_with("maxUnavailable"))
            .map(|f| f.2.as_str());
        assert_eq!(
            pdb,
            Some(
                "Invalid value: \"boolean\": spec.services.podDisruptionBudgets.maxUnavailable in body must be of type integer,string: \"boolean\""
            )
        );
    }

    #[test]
    fn spread_and_affinity_items_are_checked_as_core_types() {
        let found = errors_of(json!({"feastProject": "p", "services": {
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone"}],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": "100", "podAffinityTerm": {"topologyKey": "k"}}]}}}}));
        let paths: Vec<(RuleId, &str)> = found.iter().map(|f| (f.0, f.1.as_str())).collect();
        assert!(
            paths.contains(&(
                RuleId::SchemaRequired,
                "spec.services.topologySpreadConstraints[0].whenUnsatisfiable"
            )),
            "{found:?}"
        );
        assert!(paths.contains(&(RuleId::SchemaType, "spec.services.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight")), "{found:?}");
    }

    #[test]
    fn server_blocks_are_open_but_their_resources_are_typed() {
        let found = errors_of(
            json!({"feastProject": "p", "services": {"onlineStore": {"server": {
            "image": "x", "someFutureField": {"a": 1},
            "resources": {"requests": {"cpu": true}}}}}}),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].1,
            "spec.services.onlineStore.server.resources.requests.cpu"
        );
    }

    #[test]
    fn v1alpha1_has_no_scaling_fields_and_no_oracle() {
        let obj = json!({"apiVersion": "feast.dev/v1alpha1", "kind": "FeatureStore", "metadata": {"name": "a"},
            "spec": {"feastProject": "p", "replicas": 2, "services": {"podDisruptionBudgets": {"maxUnavailable": 1},
                "offlineStore": {"persistence": {"store": {"type": "oracle", "secretRef": {"name": "s"}}}}}}});
        let v1alpha1 = crate::model::schema(crate::model::ApiVersion::V1alpha1);
        let found: Vec<(RuleId, String)> = check(&obj, v1alpha1)
            .into_iter()
            .map(|f| (f.rule, f.path))
            .collect();
        assert_eq!(
            found,
            vec![
                (RuleId::SchemaUnknownField, "spec.replicas".to_string()),
                (
                    RuleId::SchemaEnum,
                    "spec.services.offlineStore.persistence.store.type".to_string()
                ),
                (
                    RuleId::SchemaUnknownField,
                    "spec.services.podDisruptionBudgets".to_string()
                ),
            ]
        );
    }
}
