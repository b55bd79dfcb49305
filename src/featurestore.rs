//! The FeatureStore as the plugin reasons about it.
//!
//! A read-only view over the object's JSON: the fields that decide scaling, persistence and
//! disruption budgets, with the operator's defaults applied the way the API server and the
//! operator apply them (operator contract §2, §4). The JSON itself is never rebuilt from this
//! view, so fields the plugin does not know survive untouched. Pure: no I/O.

use serde_json::Value;

pub const GROUP: &str = "feast.dev";
pub const VERSION: &str = "v1";
pub const API_VERSION: &str = "feast.dev/v1";
pub const KIND: &str = "FeatureStore";
pub const PLURAL: &str = "featurestores";
/// The resource kubectl prints in messages such as `featurestore.feast.dev/NAME scaled`.
pub const RESOURCE: &str = "featurestore.feast.dev";

/// A Secret a database store reads: which service, the store's type, the Secret and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSecret {
    pub service: &'static str,
    pub store_type: String,
    pub secret: String,
    pub key: String,
}

/// The operator's default HPA metric when `autoscaling.metrics` is unset or empty (§2.2).
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// Looks up a dotted path (`spec.services.registry`) in a JSON value; `None` when any step is
/// missing or not an object. Presence is what CEL's `has()` tests, whatever the value.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(value, |v, key| v.as_object()?.get(key))
}

/// A copy of `value` without null-valued keys, as the API server prunes them before defaulting
/// and validation (a merge-patch `null` or a `null` in a body both end up absent, §2.1).
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// [`without_nulls`], copying only an object that has a null-valued key (most have none).
pub fn pruned(value: &Value) -> std::borrow::Cow<'_, Value> {
    fn has_null_key(value: &Value) -> bool {
        match value {
            Value::Object(map) => map.values().any(|v| v.is_null() || has_null_key(v)),
            Value::Array(items) => items.iter().any(has_null_key),
            _ => false,
        }
    }
    match has_null_key(value) {
        true => std::borrow::Cow::Owned(without_nulls(value)),
        false => std::borrow::Cow::Borrowed(value),
    }
}

/// An int-or-percent as the PDB API takes it (`maxUnavailable: 1`, `minAvailable: "50%"`):
/// an integer ≥ 0, or digits and `%` up to 100%. Parsed once here for the flags, the rules and
/// `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i64),
    Percent(i64),
}

impl IntOrPercent {
    /// From a manifest's or the API's JSON value.
    pub fn parse(v: &Value) -> Option<IntOrPercent> {
        match v {
            Value::Number(n) => n.as_i64().filter(|i| *i >= 0).map(IntOrPercent::Int),
            Value::String(s) => Self::parse_percent(s),
            _ => None,
        }
    }

    /// From the model's int-or-string (`IntOrString`), as the PDB API reads it.
    pub fn of(
        v: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString,
    ) -> Option<IntOrPercent> {
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        match v {
            IntOrString::Int(i) => Some(*i)
                .filter(|i| *i >= 0)
                .map(|i| IntOrPercent::Int(i64::from(i))),
            IntOrString::String(s) => Self::parse_percent(s),
        }
    }

    /// From a flag: `1` or `50%`.
    pub fn parse_flag(s: &str) -> Option<IntOrPercent> {
        let s = s.trim();
        if s.ends_with('%') {
            return Self::parse_percent(s);
        }
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<i32>()
            .ok()
            .map(|n| IntOrPercent::Int(i64::from(n)))
    }

    fn parse_percent(s: &str) -> Option<IntOrPercent> {
        let digits = s.strip_suffix('%')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits
            .parse::<i64>()
            .ok()
            .filter(|p| *p <= 100)
            .map(IntOrPercent::Percent)
    }

    /// The value scaled to `replicas` pods, rounding up as the disruption controller does.
    pub fn scaled(self, replicas: i64) -> i64 {
        match self {
            IntOrPercent::Int(i) => i,
            // Saturating: a count beyond any cluster's (an invalid manifest's) must not panic.
            IntOrPercent::Percent(p) => p.saturating_mul(replicas).saturating_add(99) / 100,
        }
    }

    /// The pods a node drain leaves running at `replicas` under this budget as `field`
    /// (`minAvailable` or `maxUnavailable`): evictions stop there. `replicas` itself means the
    /// budget allows no eviction at all.
    pub fn drain_keeps(self, field: &str, replicas: i64) -> i64 {
        let n = self.scaled(replicas).clamp(0, replicas);
        if field == "maxUnavailable" {
            replicas - n
        } else {
            n
        }
    }

    /// As the spec holds it: a number, or a `"N%"` string.
    pub fn to_value(self) -> Value {
        match self {
            IntOrPercent::Int(i) => Value::from(i),
            IntOrPercent::Percent(p) => Value::from(format!("{p}%")),
        }
    }
}

impl std::fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrPercent::Int(i) => write!(f, "{i}"),
            IntOrPercent::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// How the replica count of a store is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScalingMode {
    /// One replica, scaling off: the operator's default.
    Single,
    /// `spec.replicas` > 1.
    Static { replicas: i64 },
    /// `spec.services.scaling.autoscaling` is present: the operator manages an HPA.
    Autoscaled { min: i64, max: Option<i64> },
}

impl ScalingMode {
    pub fn is_scaling(&self) -> bool {
        !matches!(self, ScalingMode::Single)
    }

    /// The fewest replicas the store runs with in this mode.
    pub fn minimum_replicas(&self) -> i64 {
        match self {
            ScalingMode::Single => 1,
            ScalingMode::Static { replicas } => *replicas,
            ScalingMode::Autoscaled { min, .. } => *min,
        }
    }
}

/// Whether the operator has caught up with a store's spec: `status.applied` (the spec it last
/// reconciled) holds the spec's scaling and HA fields. The operator writes no
/// observedGeneration, so this is the only sign (§5, §7), and every command reads it from here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Synced {
    /// `status.applied` holds the spec's scaling and HA fields: the operator has caught up.
    pub synced: bool,
    /// What differs, as `field: spec X, applied Y`.
    pub differences: Vec<String>,
}

/// A JSON value shortened for a one-line difference.
fn short_json(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(v) => {
            let s = crate::render::value::inline(v);
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(59).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// A read-only view of one FeatureStore object.
#[derive(Debug, Clone, Copy)]
pub struct FeatureStore<'a> {
    pub object: &'a Value,
}

impl<'a> FeatureStore<'a> {
    pub fn new(object: &'a Value) -> Self {
        FeatureStore { object }
    }

    pub fn get(&self, path: &str) -> Option<&'a Value> {
        lookup(self.object, path)
    }

    /// A part of the object read as its model type (`src/model.rs`, k8s-openapi's types):
    /// `None` when it is absent, null, or not of the model's shape, which is a type error the
    /// structural check reports at its line. What the operator does with a field is read
    /// through here; the raw [`FeatureStore::get`] is left to presence (CEL's `has()`), line
    /// look-ups and patches.
    pub fn typed<T: serde::de::DeserializeOwned>(&self, path: &str) -> Option<T> {
        let value = self.get(path).filter(|v| !v.is_null())?;
        T::deserialize(value).ok()
    }

    /// `metadata`, typed (labels, annotations, managedFields, ...); empty when absent or
    /// malformed.
    pub fn metadata(&self) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        self.typed("metadata").unwrap_or_default()
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> Option<&'a str> {
        self.get("metadata.uid").and_then(Value::as_str)
    }

    /// `status.phase` as the operator writes it (`Ready`, `Pending`, `Failed`, ...).
    pub fn phase(&self) -> Option<String> {
        self.typed("status.phase")
    }

    /// `status.feastVersion`: the operator's version that last reconciled the store.
    pub fn feast_version(&self) -> Option<String> {
        self.typed("status.feastVersion")
    }

    /// `status.conditions`, typed as the CRD declares them (metav1.Condition).
    pub fn conditions(&self) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
        self.typed("status.conditions").unwrap_or_default()
    }

    /// `status.replicas`: the ready pods the operator last counted (absent: none, §5).
    pub fn status_replicas(&self) -> Option<i64> {
        self.typed::<i32>("status.replicas").map(i64::from)
    }

    /// `status.scalingStatus`.
    pub fn scaling_status(&self) -> Option<crate::model::ScalingStatus> {
        self.typed("status.scalingStatus")
    }

    /// Whether the operator has reconciled the store at all (`status.applied` is written).
    pub fn reconciled(&self) -> bool {
        self.get("status.applied").is_some_and(Value::is_object)
    }

    /// `spec.services.scaling.autoscaling`, typed.
    pub fn autoscaling_config(&self) -> Option<crate::model::AutoscalingConfig> {
        self.typed("spec.services.scaling.autoscaling")
    }

    /// The configured disruption budget, typed: which field is set, and its value.
    pub fn budget(&self) -> Option<(&'static str, IntOrPercent)> {
        let pdb: crate::model::PdbConfig = self.typed("spec.services.podDisruptionBudgets")?;
        match (pdb.min_available, pdb.max_unavailable) {
            (Some(v), None) => IntOrPercent::of(&v).map(|v| ("minAvailable", v)),
            (None, Some(v)) => IntOrPercent::of(&v).map(|v| ("maxUnavailable", v)),
            _ => None,
        }
    }

    pub fn has(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    pub fn name(&self) -> &'a str {
        self.get("metadata.name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&'a str> {
        self.get("metadata.namespace").and_then(Value::as_str)
    }

    /// The store as a suggested command names it: `NAME -n NAMESPACE` (just `NAME` when the
    /// object has no namespace), so a pasted hint reaches this store, not one in `default`.
    pub fn target(&self) -> String {
        use crate::suggest::shell_quote;
        // Quoted: a file's name may be anything until validate refuses it, and a hint is
        // pasted into a shell.
        match self.namespace().filter(|ns| !ns.is_empty()) {
            Some(ns) => format!("{} -n {}", shell_quote(self.name()), shell_quote(ns)),
            None => shell_quote(self.name()).into_owned(),
        }
    }

    pub fn api_version(&self) -> &'a str {
        self.get("apiVersion").and_then(Value::as_str).unwrap_or("")
    }

    pub fn kind(&self) -> &'a str {
        self.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    pub fn is_v1(&self) -> bool {
        self.api_version() == API_VERSION
    }

    /// `spec.replicas`, with the schema default of 1 when it is absent or null (§2.1). A value of
    /// the wrong type also reads as 1 here; the schema rules report the type separately.
    pub fn replicas(&self) -> i64 {
        self.typed::<i32>("spec.replicas").map_or(1, i64::from)
    }

    pub fn autoscaling(&self) -> Option<&'a Value> {
        self.get("spec.services.scaling.autoscaling")
            .filter(|v| !v.is_null())
    }

    pub fn scaling_mode(&self) -> ScalingMode {
        if self.autoscaling().is_some() {
            // Present is what decides the mode (the operator's `isScalingEnabled`); the bounds
            // are the typed block's.
            let config = self.autoscaling_config();
            ScalingMode::Autoscaled {
                min: config
                    .as_ref()
                    .and_then(|c| c.min_replicas)
                    .map_or(1, i64::from),
                max: config.map(|c| i64::from(c.max_replicas)),
            }
        } else if self.replicas() > 1 {
            ScalingMode::Static {
                replicas: self.replicas(),
            }
        } else {
            ScalingMode::Single
        }
    }

    /// The operator's `isScalingEnabled`: replicas > 1 or autoscaling present (§4.1).
    pub fn scaling_enabled(&self) -> bool {
        self.scaling_mode().is_scaling()
    }

    pub fn pdb(&self) -> Option<&'a Value> {
        self.get("spec.services.podDisruptionBudgets")
            .filter(|v| !v.is_null())
    }

    /// The budget the operator turns into a PDB: the configured one, only while scaling (§4.6).
    pub fn active_pdb(&self) -> Option<&'a Value> {
        self.pdb().filter(|_| self.scaling_enabled())
    }

    /// The user's `deploymentStrategy`, `topologySpreadConstraints` and `affinity`, when set.
    pub fn user_strategy(&self) -> Option<&'a Value> {
        self.get("spec.services.deploymentStrategy")
            .filter(|v| !v.is_null())
    }

    pub fn user_spread(&self) -> Option<&'a Value> {
        self.get("spec.services.topologySpreadConstraints")
            .filter(|v| !v.is_null())
    }

    pub fn user_affinity(&self) -> Option<&'a Value> {
        self.get("spec.services.affinity").filter(|v| !v.is_null())
    }

    /// The Deployment strategy type the operator sets (§4.3): the user's, else RollingUpdate
    /// while scaling and Recreate otherwise. An explicit `{}` is defaulted to RollingUpdate by
    /// the API server.
    pub fn effective_strategy(&self) -> String {
        match self.user_strategy() {
            Some(_) => self
                .typed::<k8s_openapi::api::apps::v1::DeploymentStrategy>(
                    "spec.services.deploymentStrategy",
                )
                .and_then(|s| s.type_)
                .unwrap_or_else(|| "RollingUpdate".into()),
            None if self.scaling_enabled() => "RollingUpdate".into(),
            None => "Recreate".into(),
        }
    }

    /// Whether the operator injects its zone spread constraint: while scaling, unless the user
    /// set `topologySpreadConstraints` (`[]` turns it off) (§4.3).
    pub fn injects_zone_spread(&self) -> bool {
        self.user_spread().is_none() && self.scaling_enabled()
    }

    /// Whether the operator injects its soft pod anti-affinity: while scaling, unless the user
    /// set `affinity` (§4.3).
    pub fn injects_anti_affinity(&self) -> bool {
        self.user_affinity().is_none() && self.scaling_enabled()
    }

    /// The Secrets the store's database persistence reads (§2.8): per service with a
    /// `persistence.store`, the Secret's name and the key the operator looks up (its
    /// `secretKeyName`, else the store's type). The operator fails the store when the Secret
    /// or the key is missing.
    pub fn db_secrets(&self) -> Vec<DbSecret> {
        [
            (
                "online store",
                "spec.services.onlineStore.persistence.store",
            ),
            (
                "offline store",
                "spec.services.offlineStore.persistence.store",
            ),
            ("registry", "spec.services.registry.local.persistence.store"),
        ]
        .into_iter()
        .filter_map(|(service, path)| {
            let store: crate::model::DbStore<String> = self.typed(path)?;
            let key = store.secret_key_name.unwrap_or_else(|| store.type_.clone());
            Some(DbSecret {
                service,
                store_type: store.type_,
                secret: store.secret_ref.name,
                key,
            })
        })
        .collect()
    }

    /// The operator's last reconcile of this store failed (`status.phase` Failed).
    pub fn reconcile_failed(&self) -> bool {
        self.phase().as_deref() == Some("Failed")
    }

    /// Compares the spec's scaling and HA fields with `status.applied`: the one definition of
    /// "the operator has caught up" (a missing `applied.replicas` is the default, 1). A store in
    /// phase Failed has not caught up whatever `applied` holds: the operator records the spec
    /// before its reconcile fails (a missing Secret, a rejected PDB), so what it owns may still
    /// be as before, and that is the failure's doing, not a hand edit's.
    pub fn sync(&self) -> Synced {
        let Some(applied) = self.get("status.applied").filter(|v| v.is_object()) else {
            return Synced {
                synced: false,
                differences: vec![
                    "status.applied is absent: the operator has not reconciled this store yet"
                        .into(),
                ],
            };
        };
        let mut differences = Vec::new();
        let spec_replicas = self.replicas();
        let applied_replicas = applied.get("replicas").and_then(Value::as_i64).unwrap_or(1);
        if spec_replicas != applied_replicas {
            differences.push(format!(
                "replicas: spec {spec_replicas}, applied {applied_replicas}"
            ));
        }
        for path in [
            "services.scaling.autoscaling",
            "services.podDisruptionBudgets",
            "services.deploymentStrategy",
            "services.topologySpreadConstraints",
            "services.affinity",
        ] {
            let spec = self.get(&format!("spec.{path}")).map(without_nulls);
            let app = lookup(applied, path).map(without_nulls);
            if spec != app {
                differences.push(format!(
                    "{path}: spec {}, applied {}",
                    short_json(spec.as_ref()),
                    short_json(app.as_ref())
                ));
            }
        }
        if self.reconcile_failed() {
            differences.push(
                "phase Failed: the operator's reconcile of this spec did not complete".into(),
            );
        }
        Synced {
            synced: differences.is_empty(),
            differences,
        }
    }

    /// The serving containers' specs in the order the operator adds them to the Deployment,
    /// with the container name the operator gives each (§4.3). The online server exists unless
    /// disabled; the others only when their `server` block is set.
    pub fn servers(&self) -> Vec<Server> {
        let server = |container: &'static str, path: &'static str| Server {
            container,
            path,
            config: self.typed(path),
        };
        let mut out = Vec::new();
        if self.typed::<bool>("spec.services.onlineStore.disabled") != Some(true) {
            out.push(server("online", "spec.services.onlineStore.server"));
        }
        for (container, path) in [
            ("offline", "spec.services.offlineStore.server"),
            ("registry", "spec.services.registry.local.server"),
            ("ui", "spec.services.ui"),
        ] {
            if self.has(path) {
                out.push(server(container, path));
            }
        }
        out
    }
}

/// A serving container of the store's Deployment and its typed server block (`None`: not
/// set, or not of the model's shape).
#[derive(Debug, Clone)]
pub struct Server {
    pub container: &'static str,
    /// Where its block sits in the spec (`spec.services.onlineStore.server`).
    pub path: &'static str,
    pub config: Option<crate::model::ServerConfigs>,
}

impl Server {
    /// Whether the container requests `resource` (`cpu`, `memory`): what a Utilization metric
    /// needs.
    pub fn requests(&self, resource: &str) -> bool {
        self.config
            .as_ref()
            .and_then(|c| c.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .is_some_and(|r| r.contains_key(resource))
    }
}

/// Accepts a FeatureStore as kubectl names it: `NAME`, `featurestore/NAME`, `feast/NAME`
/// (the short name) or the plural, with or without the `.feast.dev` group.
pub fn resource_name(arg: &str) -> Result<&str, String> {
    let name = match arg.split_once('/') {
        None => arg,
        Some((kind, name)) => {
            let kind = kind.strip_suffix(".feast.dev").unwrap_or(kind);
            if !matches!(kind, "featurestore" | "featurestores" | "feast") {
                return Err(format!(
                    "{arg:?} is not a FeatureStore: use NAME, featurestore/NAME or feast/NAME"
                ));
            }
            name
        }
    };
    if name.is_empty() {
        return Err(format!("{arg:?} has no name"));
    }
    // Object names are DNS-1123 subdomains: the API server would refuse anything else, and a
    // look-up of such a name could only ever say "not found".
    if !is_subdomain(name) {
        return Err(format!(
            "{name:?} is not a valid FeatureStore name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (at most 253 characters)"
        ));
    }
    Ok(name)
}

/// A lowercase RFC 1123 label (a namespace): at most 63 lower-case letters, digits and '-',
/// starting and ending with a letter or digit.
pub fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && is_label_chars(s)
}

/// A lowercase RFC 1123 subdomain (an object's name): labels joined by '.', at most 253
/// characters, as the API server checks every name.
pub fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label_chars)
}

fn is_label_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A human label for an object: `namespace/name`, or just `name` without a namespace.
pub fn display_name(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruned_copies_only_what_has_a_null_key() {
        use std::borrow::Cow;
        let clean = serde_json::json!({"a": [1, null, {"b": 2}], "c": {"d": "x"}});
        assert!(
            matches!(pruned(&clean), Cow::Borrowed(_)),
            "a null item is not a key"
        );
        for dirty in [
            serde_json::json!({"a": null}),
            serde_json::json!({"c": {"d": null}}),
            serde_json::json!({"a": [1, {"b": null}]}),
        ] {
            let p = pruned(&dirty);
            assert!(matches!(p, Cow::Owned(_)), "{dirty}");
            assert_eq!(*p, without_nulls(&dirty));
        }
    }
    use serde_json::json;

    #[test]
    fn names_are_accepted_in_kubectl_forms() {
        for arg in [
            "a",
            "featurestore/a",
            "feast/a",
            "featurestores.feast.dev/a",
        ] {
            assert_eq!(resource_name(arg), Ok("a"));
        }
        assert!(resource_name("deployment/a").is_err());
        assert!(resource_name("feast/").is_err());
        for bad in ["MyStore", "a/b/c", "-a", "a_", "a b", &"a".repeat(254)] {
            assert!(resource_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_replicas_means_one() {
        let obj = json!({"spec": {"feastProject": "p"}});
        assert_eq!(FeatureStore::new(&obj).replicas(), 1);
        assert_eq!(FeatureStore::new(&obj).scaling_mode(), ScalingMode::Single);
    }

    #[test]
    fn autoscaling_wins_over_replicas_for_the_mode() {
        let obj = json!({"spec": {"replicas": 1, "services": {"scaling": {"autoscaling": {"maxReplicas": 4}}}}});
        assert_eq!(
            FeatureStore::new(&obj).scaling_mode(),
            ScalingMode::Autoscaled {
                min: 1,
                max: Some(4)
            }
        );
    }

    #[test]
    fn autoscaling_with_max_one_still_counts_as_scaling() {
        let obj = json!({"spec": {"services": {"scaling": {"autoscaling": {"maxReplicas": 1}}}}});
        assert!(FeatureStore::new(&obj).scaling_enabled());
    }

    #[test]
    fn empty_scaling_block_is_not_autoscaling() {
        let obj = json!({"spec": {"services": {"scaling": {}}}});
        assert!(!FeatureStore::new(&obj).scaling_enabled());
    }

    #[test]
    fn lookup_reports_presence_even_for_empty_objects() {
        let obj = json!({"a": {"b": {}}});
        assert!(lookup(&obj, "a.b").is_some());
        assert!(lookup(&obj, "a.b.c").is_none());
        assert!(lookup(&json!({"a": 3}), "a.b").is_none());
    }

    #[test]
    fn the_operator_defaults_the_strategy_by_scaling() {
        let fs = |spec: Value| json!({"spec": spec});
        let (single, scaled) = (fs(json!({})), fs(json!({"replicas": 2})));
        assert_eq!(FeatureStore::new(&single).effective_strategy(), "Recreate");
        assert_eq!(
            FeatureStore::new(&scaled).effective_strategy(),
            "RollingUpdate"
        );
        let explicit =
            fs(json!({"replicas": 2, "services": {"deploymentStrategy": {"type": "Recreate"}}}));
        assert_eq!(
            FeatureStore::new(&explicit).effective_strategy(),
            "Recreate"
        );
        let empty = fs(json!({"services": {"deploymentStrategy": {}}}));
        assert_eq!(
            FeatureStore::new(&empty).effective_strategy(),
            "RollingUpdate"
        );
    }

    #[test]
    fn spread_anti_affinity_and_the_pdb_follow_scaling_unless_the_user_set_them() {
        let scaled = json!({"spec": {"replicas": 3, "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}});
        let s = FeatureStore::new(&scaled);
        assert!(s.injects_zone_spread() && s.injects_anti_affinity() && s.active_pdb().is_some());
        let own = json!({"spec": {"replicas": 3, "services": {"topologySpreadConstraints": [], "affinity": null}}});
        let o = FeatureStore::new(&own);
        assert!(!o.injects_zone_spread(), "[] turns the injected spread off");
        assert!(o.injects_anti_affinity(), "a null affinity is absent");
        let single = json!({"spec": {"services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}});
        let one = FeatureStore::new(&single);
        assert!(!one.injects_zone_spread() && one.active_pdb().is_none() && one.pdb().is_some());
    }

    #[test]
    fn budgets_parse_once_for_flags_and_json() {
        assert_eq!(
            IntOrPercent::parse_flag("50%"),
            Some(IntOrPercent::Percent(50))
        );
        assert_eq!(IntOrPercent::parse_flag("2"), Some(IntOrPercent::Int(2)));
        for bad in ["150%", "-1", "-1%", "%", "1.5", "one", ""] {
            assert_eq!(IntOrPercent::parse_flag(bad), None, "{bad}");
        }
        assert_eq!(
            IntOrPercent::parse(&json!("25%")).map(|b| b.scaled(3)),
            Some(1)
        );
        assert_eq!(IntOrPercent::parse(&json!(-1)), None);
        assert_eq!(IntOrPercent::Percent(50).to_value(), json!("50%"));
    }

    #[test]
    fn disabled_online_store_has_no_online_container() {
        let obj = json!({"spec": {"services": {"onlineStore": {"disabled": true}, "registry": {"local": {"server": {}}}}}});
        let names: Vec<_> = FeatureStore::new(&obj)
            .servers()
            .into_iter()
            .map(|s| s.container)
            .collect();
        assert_eq!(names, vec!["registry"]);
    }
}
