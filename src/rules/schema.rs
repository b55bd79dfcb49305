//! The CRD's OpenAPI constraints on the fields the plugin reasons about (operator contract
//! §2, §3.3): types, minimums, required fields and enums, worded as the API server words them
//! (`should be greater than or equal to 1`, `Unsupported value: …`). Other fields are left to
//! the server: the plugin checks what scaling depends on, not the whole schema.

use serde_json::Value;

use super::Findings;
use crate::featurestore::FeatureStore;

const ONLINE_STORE_TYPES: &[&str] = &[
    "snowflake.online",
    "redis",
    "datastore",
    "dynamodb",
    "bigtable",
    "postgres",
    "cassandra",
    "mysql",
    "hazelcast",
    "singlestore",
    "hbase",
    "elasticsearch",
    "qdrant",
    "couchbase.online",
    "milvus",
    "hybrid",
    "mongodb",
    "aerospike",
    "scylladb",
];
const OFFLINE_STORE_TYPES_V1: &[&str] = &[
    "snowflake.offline",
    "bigquery",
    "redshift",
    "spark",
    "postgres",
    "trino",
    "athena",
    "mssql",
    "couchbase.offline",
    "clickhouse",
    "ray",
    "oracle",
    "hybrid",
];
const REGISTRY_STORE_TYPES: &[&str] = &["sql", "snowflake.registry"];
const OFFLINE_FILE_TYPES: &[&str] = &["file", "dask", "duckdb"];
const REGISTRY_CACHE_MODES: &[&str] = &["none", "sync", "thread"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Integer,
    String,
    Boolean,
    Object,
    Array,
    IntOrString,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Integer => "integer",
            Ty::String => "string",
            Ty::Boolean => "boolean",
            Ty::Object => "object",
            Ty::Array => "array",
            Ty::IntOrString => "integer,string",
        }
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            Ty::Integer => v.is_i64() || v.is_u64(),
            Ty::String => v.is_string(),
            Ty::Boolean => v.is_boolean(),
            Ty::Object => v.is_object(),
            Ty::Array => v.is_array(),
            Ty::IntOrString => v.is_i64() || v.is_u64() || v.is_string(),
        }
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

struct Schema<'a, 'f> {
    fs: &'a FeatureStore<'a>,
    out: &'f mut Findings,
}

impl<'a> Schema<'a, '_> {
    /// The value at `path` when it is present and of the right type; a type error otherwise.
    fn typed(&mut self, path: &str, ty: Ty) -> Option<&'a Value> {
        let v = self.fs.get(path)?;
        if ty.accepts(v) {
            return Some(v);
        }
        let t = json_type(v);
        self.out.schema(
            "schema/type",
            path,
            format!(
                "Invalid value: \"{t}\": {path} in body must be of type {}: \"{t}\"",
                ty.name()
            ),
            format!("Give {path} a value of type {}.", ty.name()),
        );
        None
    }

    fn required(&mut self, path: &str, ty: Ty, example: &str) -> Option<&'a Value> {
        if self.fs.get(path).is_none() {
            self.out.schema(
                "schema/required",
                path,
                "Required value".into(),
                format!("Set {path}, e.g. {example}."),
            );
            return None;
        }
        self.typed(path, ty)
    }

    fn minimum(&mut self, path: &str, min: i64, hint: &str) {
        if let Some(n) = self.typed(path, Ty::Integer).and_then(Value::as_i64)
            && n < min
        {
            self.out.schema(
                "schema/minimum",
                path,
                format!(
                    "Invalid value: {n}: {path} in body should be greater than or equal to {min}"
                ),
                hint.to_string(),
            );
        }
    }

    fn one_of(&mut self, path: &str, allowed: &[&str]) {
        if let Some(s) = self.typed(path, Ty::String).and_then(Value::as_str)
            && !allowed.contains(&s)
        {
            let list = allowed
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ");
            self.out.schema(
                "schema/enum",
                path,
                format!("Unsupported value: \"{s}\": supported values: {list}"),
                format!("Use one of the supported values for {path}."),
            );
        }
    }

    fn store(&mut self, service: &str, types: &[&str], example: &str) {
        let at = format!("spec.services.{service}.persistence.store");
        if self.typed(&at, Ty::Object).is_none() {
            return;
        }
        if self
            .required(&format!("{at}.type"), Ty::String, example)
            .is_some()
        {
            self.one_of(&format!("{at}.type"), types);
        }
        self.required(
            &format!("{at}.secretRef"),
            Ty::Object,
            "secretRef: {name: feast-data-stores}",
        );
    }
}

pub(super) fn check(fs: &FeatureStore, out: &mut Findings) {
    let mut s = Schema { fs, out };
    if s.typed("spec", Ty::Object).is_none() {
        if fs.get("spec").is_none() {
            s.required("spec", Ty::Object, "spec: {feastProject: my_project}");
        }
        return;
    }
    if let Some(p) = s
        .required("spec.feastProject", Ty::String, "feastProject: my_project")
        .and_then(Value::as_str)
        && !feast_project_ok(p)
    {
        s.out.schema(
            "schema/pattern",
            "spec.feastProject",
            format!(
                "Invalid value: \"{p}\": spec.feastProject in body should match '^[A-Za-z0-9][A-Za-z0-9_-]*$'"
            ),
            "Use letters, digits, '_' and '-', starting with a letter or digit.".to_string(),
        );
    }
    s.minimum(
        "spec.replicas",
        1,
        "A FeatureStore can't be scaled to zero: use 1 or more.",
    );
    if s.typed("spec.services", Ty::Object).is_none() {
        return;
    }
    scaling(&mut s);
    stores(&mut s, fs);
    s.typed("spec.services.deploymentStrategy", Ty::Object);
}

/// The scaling and HA blocks: the HPA's bounds and shapes, the PDB's int-or-string values.
fn scaling(s: &mut Schema) {
    if s.typed("spec.services.scaling", Ty::Object).is_some()
        && s.typed("spec.services.scaling.autoscaling", Ty::Object)
            .is_some()
    {
        const HPA: &str = "spec.services.scaling.autoscaling";
        s.minimum(
            &format!("{HPA}.minReplicas"),
            1,
            "minReplicas must be at least 1.",
        );
        if s.required(&format!("{HPA}.maxReplicas"), Ty::Integer, "maxReplicas: 5")
            .is_some()
        {
            s.minimum(
                &format!("{HPA}.maxReplicas"),
                1,
                "maxReplicas must be at least 1.",
            );
        }
        if let Some(metrics) = s
            .typed(&format!("{HPA}.metrics"), Ty::Array)
            .and_then(Value::as_array)
        {
            for i in 0..metrics.len() {
                let at = format!("{HPA}.metrics.{i}");
                if s.typed(&at, Ty::Object).is_some() {
                    s.required(&format!("{at}.type"), Ty::String, "type: Resource");
                }
            }
        }
        s.typed(&format!("{HPA}.behavior"), Ty::Object);
    }
    if s.typed("spec.services.podDisruptionBudgets", Ty::Object)
        .is_some()
    {
        s.typed(
            "spec.services.podDisruptionBudgets.minAvailable",
            Ty::IntOrString,
        );
        s.typed(
            "spec.services.podDisruptionBudgets.maxUnavailable",
            Ty::IntOrString,
        );
    }
}

/// The three stores' persistence blocks: their enums and typed fields.
fn stores(s: &mut Schema, fs: &FeatureStore) {
    let offline_types: Vec<&str> = if fs.is_v1() {
        OFFLINE_STORE_TYPES_V1.to_vec()
    } else {
        // v1alpha1's enum is v1's without oracle (§2.8).
        OFFLINE_STORE_TYPES_V1
            .iter()
            .copied()
            .filter(|t| *t != "oracle")
            .collect()
    };
    s.store("onlineStore", ONLINE_STORE_TYPES, "type: redis");
    s.store("offlineStore", &offline_types, "type: postgres");
    s.store("registry.local", REGISTRY_STORE_TYPES, "type: sql");
    s.typed(
        "spec.services.onlineStore.persistence.file.path",
        Ty::String,
    );
    s.typed("spec.services.onlineStore.disabled", Ty::Boolean);
    s.one_of(
        "spec.services.offlineStore.persistence.file.type",
        OFFLINE_FILE_TYPES,
    );
    const REG_FILE: &str = "spec.services.registry.local.persistence.file";
    s.typed(&format!("{REG_FILE}.path"), Ty::String);
    s.one_of(&format!("{REG_FILE}.cache_mode"), REGISTRY_CACHE_MODES);
    if let Some(n) = s
        .typed(&format!("{REG_FILE}.cache_ttl_seconds"), Ty::Integer)
        .and_then(Value::as_i64)
        && n < 0
    {
        s.out.schema(
            "schema/minimum",
            &format!("{REG_FILE}.cache_ttl_seconds"),
            format!(
                "Invalid value: {n}: {REG_FILE}.cache_ttl_seconds in body should be greater than or equal to 0"
            ),
            "Use 0 or more seconds.",
        );
    }
}

fn feast_project_ok(p: &str) -> bool {
    let mut chars = p.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{errors, finding};
    use serde_json::{Value, json};

    fn spec(spec: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "fs"}, "spec": spec})
    }

    #[test]
    fn zero_replicas_is_below_the_minimum() {
        let obj = spec(json!({"feastProject": "p", "replicas": 0}));
        assert_eq!(errors(&obj), vec!["schema/minimum"]);
        assert_eq!(
            finding(&obj, "schema/minimum").message,
            "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"
        );
    }

    #[test]
    fn wrong_types_are_reported_not_panicked_on() {
        let obj = spec(
            json!({"feastProject": 7, "replicas": "three", "services": {"scaling": {"autoscaling": {"maxReplicas": "x", "metrics": {}}}, "podDisruptionBudgets": {"maxUnavailable": true}}}),
        );
        let errs = errors(&obj);
        assert!(
            errs.iter().filter(|r| **r == "schema/type").count() >= 4,
            "{errs:?}"
        );
        let f = finding(&obj, "schema/type");
        assert!(f.message.contains("must be of type"), "{}", f.message);
    }

    #[test]
    fn max_replicas_is_required() {
        let obj = spec(
            json!({"feastProject": "p", "services": {"scaling": {"autoscaling": {"minReplicas": 2}}}}),
        );
        let f = finding(&obj, "schema/required");
        assert_eq!(f.path, "spec.services.scaling.autoscaling.maxReplicas");
        assert_eq!(f.message, "Required value");
    }

    #[test]
    fn store_types_are_checked_against_the_enum() {
        let obj = spec(
            json!({"feastProject": "p", "services": {"onlineStore": {"persistence": {"store": {"type": "sqlite", "secretRef": {"name": "s"}}}}}}),
        );
        let f = finding(&obj, "schema/enum");
        assert!(
            f.message.starts_with(
                "Unsupported value: \"sqlite\": supported values: \"snowflake.online\", \"redis\""
            ),
            "{}",
            f.message
        );
    }

    #[test]
    fn store_needs_type_and_secret_ref() {
        let obj = spec(
            json!({"feastProject": "p", "services": {"registry": {"local": {"persistence": {"store": {}}}}}}),
        );
        assert_eq!(errors(&obj), vec!["schema/required", "schema/required"]);
    }

    #[test]
    fn feast_project_is_required_and_patterned() {
        assert_eq!(errors(&spec(json!({}))), vec!["schema/required"]);
        assert_eq!(
            errors(&spec(json!({"feastProject": "-bad"}))),
            vec!["schema/pattern"]
        );
    }

    #[test]
    fn oracle_is_only_an_offline_type_in_v1() {
        let mut obj = spec(
            json!({"feastProject": "p", "services": {"offlineStore": {"persistence": {"store": {"type": "oracle", "secretRef": {"name": "s"}}}}}}),
        );
        assert!(errors(&obj).is_empty());
        obj["apiVersion"] = json!("feast.dev/v1alpha1");
        assert_eq!(errors(&obj), vec!["schema/enum"]);
    }
}
