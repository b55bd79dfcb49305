//! KEDA ScaledObjects (`keda.sh/v1alpha1`) next to the FeatureStore they scale. KEDA must
//! target the FeatureStore's scale subresource (operator contract §7): a ScaledObject aimed at
//! the operator's Deployment `feast-<name>` makes KEDA's HPA fight the operator, which resets
//! the Deployment to `spec.replicas` on every reconcile. These mistakes fail quietly at run
//! time, so they are caught here, from plain JSON. Pure: no I/O.

use crate::rules::RuleId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Finding, Findings, Severity};
use crate::featurestore::{API_VERSION, FeatureStore, KIND, lookup};

pub const API_GROUP: &str = "keda.sh";
pub const SCALED_OBJECT: &str = "ScaledObject";
/// KEDA's pause annotations: `paused: "true"` stops scaling where it is, `paused-replicas: N`
/// pins the count at N.
pub const PAUSED: &str = "autoscaling.keda.sh/paused";
pub const PAUSED_REPLICAS: &str = "autoscaling.keda.sh/paused-replicas";
/// KEDA's defaults when the fields are absent.
pub const DEFAULT_MIN_REPLICA_COUNT: i64 = 0;
pub const DEFAULT_MAX_REPLICA_COUNT: i64 = 100;

/// Whether a document is a KEDA ScaledObject (any served `keda.sh` version).
pub fn is_scaled_object(object: &Value) -> bool {
    let api_version = lookup(object, "apiVersion").and_then(Value::as_str);
    let kind = lookup(object, "kind").and_then(Value::as_str);
    kind == Some(SCALED_OBJECT)
        && api_version.is_some_and(|v| v.starts_with(&format!("{API_GROUP}/")))
}

/// What a ScaledObject's `scaleTargetRef` points at, as far as FeatureStores are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// `feast.dev/*` `FeatureStore` NAME: the right target.
    FeatureStore(&'a str),
    /// An `apps/v1` Deployment (KEDA's default kind when `kind` is omitted): the operator's own
    /// when it is named `feast-<store>`.
    Deployment(&'a str),
    /// Anything else (a StatefulSet, another custom resource, a malformed reference).
    Other,
}

/// The target of a ScaledObject. KEDA defaults `apiVersion` to `apps/v1` and `kind` to
/// `Deployment`.
pub fn target(so: &Value) -> Target<'_> {
    let Some(name) = lookup(so, "spec.scaleTargetRef.name").and_then(Value::as_str) else {
        return Target::Other;
    };
    let kind = lookup(so, "spec.scaleTargetRef.kind").and_then(Value::as_str);
    let api_version = lookup(so, "spec.scaleTargetRef.apiVersion").and_then(Value::as_str);
    match (kind.unwrap_or("Deployment"), api_version) {
        (KIND, v) if v.is_none_or(|v| v.starts_with("feast.dev/")) => Target::FeatureStore(name),
        ("Deployment", v) if v.is_none_or(|v| v == "apps/v1") => Target::Deployment(name),
        _ => Target::Other,
    }
}

/// The store a ScaledObject is meant to scale, if it is `store_name`: it targets the
/// FeatureStore, or the operator's Deployment `feast-<store_name>` (the anti-pattern).
pub fn aims_at(so: &Value, store_name: &str) -> bool {
    match target(so) {
        Target::FeatureStore(n) => n == store_name,
        Target::Deployment(d) => d.strip_prefix("feast-") == Some(store_name),
        Target::Other => false,
    }
}

/// Whether a ScaledObject targets the operator's Deployment of `store_name`.
pub fn targets_operator_deployment(so: &Value, store_name: &str) -> bool {
    matches!(target(so), Target::Deployment(d) if d.strip_prefix("feast-") == Some(store_name))
}

/// The `scaleTargetRef` that points KEDA at the FeatureStore's scale subresource.
pub fn fixed_target_ref(store_name: &str) -> Value {
    json!({"apiVersion": API_VERSION, "kind": KIND, "name": store_name})
}

pub fn name(so: &Value) -> &str {
    lookup(so, "metadata.name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn namespace(so: &Value) -> Option<&str> {
    lookup(so, "metadata.namespace").and_then(Value::as_str)
}

/// Whether two objects can be in the same namespace: equal namespaces, or a manifest that
/// leaves its namespace to `kubectl apply -n` (absent) on either side.
pub fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    match (a.filter(|s| !s.is_empty()), b.filter(|s| !s.is_empty())) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// `maxReplicaCount`, with KEDA's default of 100.
pub fn max_replica_count(so: &Value) -> i64 {
    spec(so)
        .max_replica_count
        .unwrap_or(DEFAULT_MAX_REPLICA_COUNT)
}

/// The fields of a ScaledObject's spec the rules read, typed (KEDA's `ScaledObjectSpec`, in
/// part). A spec that does not read as these types (KEDA's own CRD refuses it) reads as empty.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    min_replica_count: Option<i64>,
    max_replica_count: Option<i64>,
    idle_replica_count: Option<i64>,
    #[serde(default)]
    triggers: Vec<SpecTrigger>,
}

/// One entry of `spec.triggers`, as the rules read it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecTrigger {
    #[serde(rename = "type")]
    type_: Option<String>,
    metric_type: Option<String>,
}

impl SpecTrigger {
    /// The `cpu` and `memory` scalers: HPA Resource metrics, never idle.
    fn resource(&self) -> Option<&str> {
        self.type_
            .as_deref()
            .filter(|t| matches!(*t, "cpu" | "memory"))
    }
}

/// The part of a ScaledObject's status read here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    hpa_name: Option<String>,
}

/// The HPA KEDA made for a ScaledObject: the name its status records, else KEDA's default,
/// `keda-hpa-<name>`.
pub fn hpa_name(so: &Value) -> String {
    so.get("status")
        .and_then(|s| Status::deserialize(s).ok())
        .and_then(|s| s.hpa_name)
        .unwrap_or_else(|| format!("keda-hpa-{}", name(so)))
}

fn spec(so: &Value) -> Spec {
    so.get("spec")
        .and_then(|s| Spec::deserialize(s).ok())
        .unwrap_or_default()
}

/// The pause annotation in force, as `annotation: value`, if any.
pub fn paused(so: &Value) -> Option<String> {
    let annotations = lookup(so, "metadata.annotations")?.as_object()?;
    if let Some(n) = annotations.get(PAUSED_REPLICAS).and_then(Value::as_str) {
        return Some(format!("{PAUSED_REPLICAS}: {n:?}"));
    }
    annotations
        .get(PAUSED)
        .and_then(Value::as_str)
        .filter(|v| v.eq_ignore_ascii_case("true"))
        .map(|v| format!("{PAUSED}: {v:?}"))
}

/// A one-line warning for `scale`, `autoscale`, `pdb` and `status` when a ScaledObject aims at
/// the operator's Deployment.
pub fn deployment_target_warning(so_name: &str, store_name: &str) -> String {
    format!(
        "KEDA ScaledObject {so_name:?} targets Deployment feast-{store_name}, which the Feast Operator \
         owns and resets to spec.replicas on every reconcile: KEDA's HPA and the operator fight over \
         the replica count. Point its scaleTargetRef at the FeatureStore (apiVersion: {API_VERSION}, \
         kind: {KIND}, name: {store_name})"
    )
}

/// Where a finding's object is checked against its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Manifests: `spec.replicas` there is a count someone wrote, which every apply resets.
    Manifest,
    /// Live objects: `spec.replicas` is what KEDA itself last wrote through the scale
    /// subresource, so only the operator's autoscaling makes a second owner.
    Live,
}

/// Checks one ScaledObject against the FeatureStore it aims at (see [`aims_at`]).
pub fn check(so: &Value, store: &Value, source: Source) -> Vec<Finding> {
    let mut out = Findings::default();
    let fs = FeatureStore::new(store);
    let store_name = fs.name();
    let so_name = name(so);
    if targets_operator_deployment(so, store_name) {
        targets_deployment(&mut out, so_name, store_name);
    }
    two_owners(&mut out, so_name, &fs, source);
    unsafe_persistence(&mut out, so, store, store_name);
    missing_requests(&mut out, so, &fs);
    scale_to_zero(&mut out, so, so_name, store_name);
    paused_note(&mut out, so, so_name);
    let mut findings = out.0;
    findings.sort_by_key(|f| f.severity);
    findings
}

/// `keda/targets-deployment`: aimed at the Deployment the operator owns.
fn targets_deployment(out: &mut Findings, so_name: &str, store_name: &str) {
    let fixed = fixed_target_ref(store_name);
    out.operator(
        Severity::Error,
        RuleId::KedaTargetsDeployment,
        "spec.scaleTargetRef",
        format!(
            "ScaledObject {so_name} targets Deployment feast-{store_name}, which the Feast Operator \
             owns: the operator resets its replicas to the FeatureStore's spec.replicas on every \
             reconcile, so KEDA's HPA and the operator fight over the count"
        ),
        format!(
            "Target the FeatureStore's scale subresource instead: scaleTargetRef: {fixed} \
             (the operator then carries KEDA's count to the Deployment, and the CRD's rules check it)."
        ),
    );
}

/// `keda/two-owners`: the operator's HPA, or a manifest's spec.replicas, beside KEDA.
fn two_owners(out: &mut Findings, so_name: &str, fs: &FeatureStore, source: Source) {
    let store_name = fs.name();
    let static_count = fs.replicas() > 1 && source == Source::Manifest;
    if fs.autoscaling().is_some() || static_count {
        let other = if fs.autoscaling().is_some() {
            format!("spec.services.scaling.autoscaling (the operator's HPA feast-{store_name})")
        } else {
            format!(
                "spec.replicas: {} in the manifest (every apply resets the count KEDA chose)",
                fs.replicas()
            )
        };
        let fix = if fs.autoscaling().is_some() {
            format!(
                "Keep one autoscaler: remove the operator's (`kubectl feast autoscale {} --off`) to \
                 let KEDA scale, or delete this ScaledObject.",
                fs.target()
            )
        } else {
            "Remove spec.replicas from the FeatureStore's manifest: KEDA owns the count."
                .to_string()
        };
        out.operator(
            Severity::Error,
            RuleId::KedaTwoOwners,
            "spec.scaleTargetRef",
            format!(
                "ScaledObject {so_name} and FeatureStore {store_name}'s {other} both set the replica \
                 count: two owners undo each other's decisions"
            ),
            fix,
        );
    }
}

/// `keda/unsafe-persistence`: KEDA may scale a store whose persistence cannot scale.
fn unsafe_persistence(out: &mut Findings, so: &Value, store: &Value, store_name: &str) {
    let max = max_replica_count(so);
    let unsafe_services: Vec<String> = super::persistence_table(store)
        .into_iter()
        .filter(|p| !p.scalable)
        .map(|p| format!("{}: {}", p.service, p.backend))
        .collect();
    if max > 1 && !unsafe_services.is_empty() {
        let explicit = lookup(so, "spec.maxReplicaCount").is_some();
        out.operator(
            Severity::Error,
            RuleId::KedaUnsafePersistence,
            if explicit { "spec.maxReplicaCount" } else { "spec" },
            format!(
                "maxReplicaCount is {max}{} but the persistence of FeatureStore {store_name} is not \
                 safe to scale ({}): the API server rejects every write of more than 1 replica that KEDA \
                 makes through the scale subresource",
                if explicit { "" } else { " (KEDA's default)" },
                unsafe_services.join("; ")
            ),
            "Move the store's persistence to shared databases first (see the persistence table of \
             `kubectl feast validate`), or set maxReplicaCount: 1.",
        );
    }
}

/// `keda/missing-resource-request`: KEDA's cpu and memory scalers are HPA Resource metrics.
fn missing_requests(out: &mut Findings, so: &Value, fs: &FeatureStore) {
    let store_name = fs.name();
    // KEDA's cpu and memory scalers are HPA Resource metrics (Utilization by default): the
    // HPA cannot compute a utilisation for pods whose containers request none.
    for (i, trigger) in spec(so).triggers.iter().enumerate() {
        let Some(resource) = trigger.resource() else {
            continue;
        };
        if trigger.metric_type.as_deref().unwrap_or("Utilization") != "Utilization" {
            continue;
        }
        let without: Vec<&str> = fs
            .servers()
            .into_iter()
            .filter(|server| !server.requests(resource))
            .map(|server| server.container)
            .collect();
        if !without.is_empty() {
            out.operator(
                Severity::Warning,
                RuleId::KedaMissingResourceRequest,
                &format!("spec.triggers[{i}]"),
                format!(
                    "the {resource} trigger scales on utilization, but FeatureStore {store_name}'s \
                     container(s) {} set no {resource} request: KEDA's HPA cannot compute it",
                    without.join(", ")
                ),
                format!(
                    "Set resources.requests.{resource} on the store's servers (e.g. \
                     spec.services.onlineStore.server.resources.requests.{resource}), or use \
                     metricType: AverageValue."
                ),
            );
        }
    }
}

/// `keda/scale-to-zero`: KEDA writes 0 through /scale when the triggers go idle, and the CRD's
/// minimum for `spec.replicas` is 1. A scaler of `cpu` or `memory` alone never goes idle.
fn scale_to_zero(out: &mut Findings, so: &Value, so_name: &str, store_name: &str) {
    let spec = spec(so);
    // A trigger that can go idle (anything but the cpu and memory scalers).
    let can_idle = spec.triggers.iter().any(|t| t.resource().is_none());
    let (path, what) = if spec.idle_replica_count == Some(0) {
        ("spec.idleReplicaCount", "idleReplicaCount is 0")
    } else if spec.min_replica_count == Some(0) {
        ("spec.minReplicaCount", "minReplicaCount is 0")
    } else if spec.min_replica_count.is_none() && can_idle {
        ("spec", "minReplicaCount is not set (KEDA's default is 0)")
    } else {
        return;
    };
    out.operator(
        Severity::Error,
        RuleId::KedaScaleToZero,
        path,
        format!(
            "ScaledObject {so_name}: {what}, so KEDA scales FeatureStore {store_name} to 0 when its \
             triggers go idle, but the CRD's minimum for spec.replicas is 1: the API server refuses \
             that write (spec.replicas in body should be greater than or equal to 1) and KEDA's HPA \
             reports FailedUpdateScale"
        ),
        "Set minReplicaCount: 1 (or more) and remove idleReplicaCount: a FeatureStore cannot scale \
         to zero.",
    );
}

/// `keda/target-not-found`: a ScaledObject aimed at a FeatureStore the input does not hold
/// (a typo in `scaleTargetRef.name`, or the store lives elsewhere), with the nearest name.
pub fn target_not_found(so: &Value, target: &str, names: &[&str]) -> Finding {
    let nearest = crate::suggest::nearest(target, names.iter().copied());
    Finding {
        severity: Severity::Warning,
        rule: RuleId::KedaTargetNotFound,
        path: "spec.scaleTargetRef.name".into(),
        message: format!(
            "ScaledObject {} targets FeatureStore {target}, which is not {}{}",
            name(so),
            match namespace(so).filter(|n| !n.is_empty()) {
                Some(ns) => format!("in namespace {ns}"),
                None => "in the input".into(),
            },
            nearest
                .map(|n| format!(": did you mean {n}?"))
                .unwrap_or_default()
        ),
        hint: match nearest {
            Some(n) => format!(
                "Set spec.scaleTargetRef.name: {n}, or add FeatureStore {target} to what is checked."
            ),
            None => format!(
                "Add FeatureStore {target} to what is checked, or fix spec.scaleTargetRef.name."
            ),
        }
        .into(),
        origin: super::Origin::Operator,
    }
}

/// `keda/paused`.
fn paused_note(out: &mut Findings, so: &Value, so_name: &str) {
    if let Some(annotation) = paused(so) {
        out.operator(
            Severity::Info,
            RuleId::KedaPaused,
            "metadata.annotations",
            format!(
                "ScaledObject {so_name} is paused ({annotation}): KEDA does not change the replica \
                 count until the annotation is removed"
            ),
            format!(
                "Remove the annotation to resume autoscaling: `kubectl annotate scaledobject {}{} {}-`.",
                crate::suggest::shell_quote(so_name),
                namespace(so).filter(|n| !n.is_empty()).map(|n| format!(" -n {}", crate::suggest::shell_quote(n))).unwrap_or_default(),
                if annotation.starts_with(PAUSED_REPLICAS) { PAUSED_REPLICAS } else { PAUSED }
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The ScaledObject `kubectl feast autoscale NAME --keda` writes: aimed at the FeatureStore.

/// A KEDA trigger as `--trigger` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// `cpu=70%`: average CPU utilisation of the store's pods.
    Cpu(i64),
    /// `memory=80%`: average memory utilisation.
    Memory(i64),
    /// `prometheus=SERVER|QUERY|THRESHOLD`.
    Prometheus {
        server: String,
        query: String,
        threshold: String,
    },
}

fn percent(value: &str, flag: &str) -> Result<i64, String> {
    let digits = value
        .strip_suffix('%')
        .ok_or_else(|| format!("{flag}={value}: give a utilisation percentage, e.g. {flag}=70%"))?;
    match digits.parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "{flag}={value}: the utilisation must be a whole percentage of 1% or more, e.g. {flag}=70%"
        )),
    }
}

/// Parses `--trigger`: `cpu=70%`, `memory=80%`, or `prometheus=SERVER|QUERY|THRESHOLD` (split at
/// the first and the last `|`, so a query may hold `|` itself).
pub fn parse_trigger(s: &str) -> Result<Trigger, String> {
    let (kind, value) = s.split_once('=').ok_or_else(|| {
        format!(
            "invalid trigger {s:?}: use cpu=70%, memory=80% or 'prometheus=SERVER|QUERY|THRESHOLD'"
        )
    })?;
    match kind {
        "cpu" => percent(value, "cpu").map(Trigger::Cpu),
        "memory" => percent(value, "memory").map(Trigger::Memory),
        "prometheus" => {
            let usage = "use 'prometheus=SERVER|QUERY|THRESHOLD', e.g.                          'prometheus=http://prometheus.monitoring:9090|sum(rate(feast_requests_total[2m]))|100'";
            let (server, rest) = value
                .split_once('|')
                .ok_or_else(|| format!("invalid prometheus trigger {value:?}: {usage}"))?;
            let (query, threshold) = rest
                .rsplit_once('|')
                .ok_or_else(|| format!("invalid prometheus trigger {value:?}: {usage}"))?;
            if !(server.starts_with("http://") || server.starts_with("https://")) {
                return Err(format!(
                    "invalid prometheus trigger: the server {server:?} is not an http(s) URL: {usage}"
                ));
            }
            if query.trim().is_empty() {
                return Err(format!(
                    "invalid prometheus trigger: the query is empty: {usage}"
                ));
            }
            if !threshold
                .trim()
                .parse::<f64>()
                .is_ok_and(|t| t.is_finite() && t > 0.0)
            {
                return Err(format!(
                    "invalid prometheus trigger: the threshold {threshold:?} is not a number above 0: {usage}"
                ));
            }
            Ok(Trigger::Prometheus {
                server: server.to_string(),
                query: query.to_string(),
                threshold: threshold.trim().to_string(),
            })
        }
        other => Err(format!(
            "unknown trigger type {other:?}: use cpu=70%, memory=80% or 'prometheus=SERVER|QUERY|THRESHOLD' \
             (other KEDA scalers: write the ScaledObject from the printed one)"
        )),
    }
}

impl Trigger {
    /// The trigger as KEDA's `spec.triggers[]` item.
    pub fn spec(&self) -> Value {
        match self {
            Trigger::Cpu(p) => {
                json!({"type": "cpu", "metricType": "Utilization", "metadata": {"value": p.to_string()}})
            }
            Trigger::Memory(p) => {
                json!({"type": "memory", "metricType": "Utilization", "metadata": {"value": p.to_string()}})
            }
            Trigger::Prometheus {
                server,
                query,
                threshold,
            } => json!({"type": "prometheus", "metadata": {
                "serverAddress": server, "query": query, "threshold": threshold}}),
        }
    }
}

/// The ScaledObject that scales FeatureStore `store` through its scale subresource, named as
/// the store (KEDA then names its HPA `keda-hpa-<store>`).
pub fn scaled_object(
    namespace: &str,
    store: &str,
    min: i64,
    max: i64,
    triggers: &[Trigger],
) -> Value {
    json!({
        "apiVersion": format!("{API_GROUP}/v1alpha1"),
        "kind": SCALED_OBJECT,
        "metadata": {
            "name": store,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kubectl-feast"},
        },
        "spec": {
            "scaleTargetRef": fixed_target_ref(store),
            "minReplicaCount": min,
            "maxReplicaCount": max,
            "triggers": triggers.iter().map(Trigger::spec).collect::<Vec<_>>(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn so(target: Value) -> Value {
        json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "orders-so", "namespace": "feast"},
            "spec": {"scaleTargetRef": target, "minReplicaCount": 2, "maxReplicaCount": 6}})
    }

    fn scalable_store(extra: Value) -> Value {
        let mut spec = json!({"feastProject": "orders", "services": {
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
            "registry": {"remote": {"hostname": "registry.feast:80"}}}});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "orders", "namespace": "feast"}, "spec": spec})
    }

    fn rules(findings: &[Finding]) -> Vec<RuleId> {
        findings.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn scaling_a_featurestore_to_zero_is_refused_by_the_crd() {
        let fs = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "orders"});
        let store = scalable_store(json!({}));
        for (field, value, path) in [
            ("minReplicaCount", 0, "spec.minReplicaCount"),
            ("idleReplicaCount", 0, "spec.idleReplicaCount"),
        ] {
            let mut s = so(fs.clone());
            s["spec"][field] = json!(value);
            let f = check(&s, &store, Source::Manifest);
            assert_eq!(rules(&f), [RuleId::KedaScaleToZero], "{field}");
            assert_eq!(f[0].path, path);
            assert!(
                f[0].message.contains("greater than or equal to 1"),
                "{}",
                f[0].message
            );
        }
        // KEDA's default minimum (0) matters only for a trigger that can go idle.
        let mut s = so(fs.clone());
        s["spec"]
            .as_object_mut()
            .map(|o| o.remove("minReplicaCount"));
        s["spec"]["triggers"] = json!([{"type": "prometheus", "metadata": {"threshold": "10"}}]);
        let f = check(&s, &store, Source::Manifest);
        assert_eq!(rules(&f), [RuleId::KedaScaleToZero]);
        assert_eq!(f[0].path, "spec");
        s["spec"]["triggers"] =
            json!([{"type": "cpu", "metricType": "AverageValue", "metadata": {"value": "100m"}}]);
        assert!(check(&s, &store, Source::Manifest).is_empty());
        // A minimum of 1 or more is what the CRD allows.
        assert!(check(&so(fs), &store, Source::Manifest).is_empty());
    }

    #[test]
    fn a_target_that_is_not_in_the_input_names_the_nearest_store() {
        let s = so(json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "order"}));
        let f = target_not_found(&s, "order", &["orders", "pricing"]);
        assert_eq!(f.rule, RuleId::KedaTargetNotFound);
        assert_eq!(f.path, "spec.scaleTargetRef.name");
        assert!(
            f.message.contains(
                "targets FeatureStore order, which is not in namespace feast: did you mean orders?"
            ),
            "{}",
            f.message
        );
        assert!(
            f.hint.contains("spec.scaleTargetRef.name: orders"),
            "{}",
            f.hint
        );
        let f = target_not_found(&s, "order", &["pricing"]);
        assert!(!f.message.contains("did you mean"), "{}", f.message);
    }

    #[test]
    fn a_kindless_target_is_keda_s_default_deployment() {
        let s = so(json!({"name": "feast-orders"}));
        assert_eq!(target(&s), Target::Deployment("feast-orders"));
        assert!(targets_operator_deployment(&s, "orders"));
        assert!(aims_at(&s, "orders"));
        assert!(!aims_at(&s, "feast-orders"));
    }

    #[test]
    fn a_deployment_target_is_an_error_with_the_fixed_reference() {
        let s = so(json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "feast-orders"}));
        let f = check(&s, &scalable_store(json!({})), Source::Manifest);
        assert_eq!(rules(&f), [RuleId::KedaTargetsDeployment]);
        assert!(
            f[0].hint.contains(r#""kind":"FeatureStore""#),
            "{}",
            f[0].hint
        );
        assert!(f[0].message.contains("orders-so"));
    }

    #[test]
    fn a_featurestore_target_on_a_scalable_store_is_clean() {
        let s = so(json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "orders"}));
        assert!(check(&s, &scalable_store(json!({})), Source::Manifest).is_empty());
    }

    #[test]
    fn operator_autoscaling_beside_keda_is_two_owners() {
        let s = so(json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "orders"}));
        let store = scalable_store(json!({"services": {
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
            "registry": {"remote": {"hostname": "r:80"}},
            "scaling": {"autoscaling": {"maxReplicas": 4}}}}));
        let f = check(&s, &store, Source::Live);
        assert_eq!(rules(&f), [RuleId::KedaTwoOwners]);
        assert!(
            f[0].hint.contains("autoscale orders -n feast --off"),
            "{}",
            f[0].hint
        );
    }

    #[test]
    fn static_replicas_are_a_second_owner_in_manifests_only() {
        let s = so(json!({"kind": "FeatureStore", "name": "orders"}));
        let store = scalable_store(json!({"replicas": 3}));
        assert_eq!(
            rules(&check(&s, &store, Source::Manifest)),
            [RuleId::KedaTwoOwners]
        );
        // Live, spec.replicas is what KEDA wrote.
        assert!(check(&s, &store, Source::Live).is_empty());
    }

    #[test]
    fn unsafe_persistence_with_a_max_above_one_is_an_error_also_by_default() {
        let mut s = so(json!({"kind": "FeatureStore", "name": "orders"}));
        let store = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "orders"}, "spec": {"feastProject": "orders"}});
        let f = check(&s, &store, Source::Manifest);
        assert_eq!(rules(&f), [RuleId::KedaUnsafePersistence]);
        assert_eq!(f[0].path, "spec.maxReplicaCount");
        s["spec"]
            .as_object_mut()
            .map(|m| m.remove("maxReplicaCount"));
        let f = check(&s, &store, Source::Manifest);
        assert!(
            f[0].message.contains("100 (KEDA's default)"),
            "{}",
            f[0].message
        );
        s["spec"]["maxReplicaCount"] = json!(1);
        assert!(check(&s, &store, Source::Manifest).is_empty());
    }

    #[test]
    fn a_paused_scaled_object_is_noted() {
        let mut s = so(json!({"kind": "FeatureStore", "name": "orders"}));
        s["metadata"]["annotations"] = json!({PAUSED_REPLICAS: "2"});
        let f = check(&s, &scalable_store(json!({})), Source::Live);
        assert_eq!(rules(&f), [RuleId::KedaPaused]);
        assert_eq!(f[0].severity, Severity::Info);
        s["metadata"]["annotations"] = json!({PAUSED: "false"});
        assert!(check(&s, &scalable_store(json!({})), Source::Live).is_empty());
    }

    #[test]
    fn other_targets_are_not_ours() {
        let s = so(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "feast-orders"}));
        assert_eq!(target(&s), Target::Other);
        assert!(!aims_at(&s, "orders"));
        assert!(is_scaled_object(&s));
        assert!(!is_scaled_object(
            &json!({"apiVersion": "v1", "kind": "ScaledObject"})
        ));
    }

    #[test]
    fn triggers_parse_from_the_flag() {
        assert_eq!(parse_trigger("cpu=70%"), Ok(Trigger::Cpu(70)));
        assert_eq!(parse_trigger("memory=80%"), Ok(Trigger::Memory(80)));
        assert!(parse_trigger("cpu=70").unwrap_err().contains("cpu=70%"));
        assert!(parse_trigger("cpu=0%").is_err());
        assert!(
            parse_trigger("kafka=x")
                .unwrap_err()
                .contains("unknown trigger type")
        );
        let p = parse_trigger(r#"prometheus=http://p:9090|sum(rate(x{a=~"b|c"}[2m]))|100"#)
            .expect("a prometheus trigger");
        assert_eq!(
            p.spec()["metadata"],
            json!({"serverAddress": "http://p:9090", "query": r#"sum(rate(x{a=~"b|c"}[2m]))"#, "threshold": "100"})
        );
        assert!(parse_trigger("prometheus=http://p:9090|q|many").is_err());
        assert!(parse_trigger("prometheus=p:9090|q|1").is_err());
    }

    #[test]
    fn the_written_scaled_object_passes_its_own_checks() {
        let so = scaled_object("feast", "orders", 2, 6, &[Trigger::Cpu(70)]);
        assert_eq!(target(&so), Target::FeatureStore("orders"));
        assert!(is_scaled_object(&so));
        let mut store = scalable_store(json!({}));
        store["spec"]["services"]["onlineStore"]["server"] =
            json!({"resources": {"requests": {"cpu": "200m"}}});
        assert!(check(&so, &store, Source::Live).is_empty());
    }

    #[test]
    fn a_utilization_trigger_without_requests_is_a_warning() {
        let so = scaled_object("feast", "orders", 2, 6, &[Trigger::Memory(80)]);
        let f = check(&so, &scalable_store(json!({})), Source::Live);
        assert_eq!(rules(&f), [RuleId::KedaMissingResourceRequest]);
        assert_eq!(
            (f[0].severity, f[0].path.as_str()),
            (Severity::Warning, "spec.triggers[0]")
        );
        assert!(f[0].message.contains("online"), "{}", f[0].message);
        let mut value = so.clone();
        value["spec"]["triggers"][0]["metricType"] = json!("AverageValue");
        assert!(check(&value, &scalable_store(json!({})), Source::Live).is_empty());
    }

    #[test]
    fn namespaces_match_when_either_is_left_to_apply() {
        assert!(same_namespace(None, Some("a")));
        assert!(same_namespace(Some("a"), Some("a")));
        assert!(!same_namespace(Some("a"), Some("b")));
    }

    #[test]
    fn kedas_hpa_is_the_one_its_status_names_else_its_default() {
        let so = json!({"metadata": {"name": "orders"}, "status": {"hpaName": "custom"}});
        assert_eq!(hpa_name(&so), "custom");
        let fresh = json!({"metadata": {"name": "orders"}});
        assert_eq!(hpa_name(&fresh), "keda-hpa-orders");
    }
}
