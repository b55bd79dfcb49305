//! Pure planning: the JSON merge patch a command sends, and the object as it will be once the
//! API server has applied it, so the same rules as `validate` can judge the result first.
//!
//! Patches are `application/merge-patch+json` (custom resources have no strategic merge,
//! operator contract §7): `null` deletes a key and arrays are replaced whole. Empty objects and
//! arrays are written out explicitly, never skipped.

use crate::rules::RuleId;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::featurestore::{DEFAULT_CPU_UTILIZATION, FeatureStore, RESOURCE, ScalingMode, lookup};
use crate::rules;

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

/// What `autoscale` changes in `spec.services.scaling.autoscaling`. Each field given is set;
/// the others keep their current value, unless `replace` asks for exactly this block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AutoscalingRequest {
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// autoscaling/v2 MetricSpecs to set: each replaces the current metric of the same
    /// identity (its type and metric name) and the others stay.
    pub metrics: Vec<Value>,
    /// Merged into the current behaviour (RFC 7386), so `scaleUp` alone keeps `scaleDown`.
    pub behavior: Option<Value>,
    /// Replace the whole block: fields the request leaves out are removed.
    pub replace: bool,
}

/// The autoscaling block as it will be once `request` is applied to `current`.
pub fn autoscaling_block(
    request: &AutoscalingRequest,
    current: Option<&Value>,
) -> Result<Value, String> {
    let base = current
        .filter(|_| !request.replace)
        .filter(|c| c.is_object());
    let mut block = base.cloned().unwrap_or_else(|| json!({}));
    if let Some(min) = request.min {
        block["minReplicas"] = json!(min);
    }
    if let Some(max) = request.max {
        block["maxReplicas"] = json!(max);
    }
    if block.get("maxReplicas").is_none() {
        return Err(if base.is_some() {
            "the current autoscaling block has no maxReplicas: give --max".to_string()
        } else {
            "--max is required to turn autoscaling on (there is no HPA configuration to change yet)"
                .to_string()
        });
    }
    if !request.metrics.is_empty() {
        let mut metrics: Vec<Value> = block
            .get("metrics")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for m in &request.metrics {
            match metrics
                .iter_mut()
                .find(|have| metric_identity(have) == metric_identity(m))
            {
                Some(have) => *have = m.clone(),
                None => metrics.push(m.clone()),
            }
        }
        block["metrics"] = Value::Array(metrics);
    }
    if let Some(behavior) = &request.behavior {
        let mut merged = block.get("behavior").cloned().unwrap_or_else(|| json!({}));
        merge_patch(&mut merged, behavior);
        block["behavior"] = merged;
    }
    Ok(block)
}

/// What makes two MetricSpecs the same metric: the type and the metric's name (the resource,
/// the container, the described object).
fn metric_identity(metric: &Value) -> (String, String) {
    let kind = metric
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = [
        "/resource/name",
        "/containerResource/name",
        "/containerResource/container",
        "/pods/metric/name",
        "/object/metric/name",
        "/object/describedObject/name",
        "/external/metric/name",
    ]
    .iter()
    .filter_map(|p| metric.pointer(p).and_then(Value::as_str))
    .collect::<Vec<_>>()
    .join("/");
    (kind, name)
}

/// What the store's disruption budget means at its replica count, or at both ends of the HPA's
/// range: how many pods a node drain leaves running. When it lets a scaled store drop to one
/// pod, the combination that keeps two up, as commands. None without a budget or scaling.
pub fn budget_meaning(object: &Value) -> Option<String> {
    let fs = FeatureStore::new(object);
    let (field, value) = fs.budget()?;
    let counts: Vec<(&str, i64)> = match fs.scaling_mode() {
        ScalingMode::Single => return None,
        ScalingMode::Static { replicas } => vec![("", replicas)],
        ScalingMode::Autoscaled { min, max } => match max.filter(|m| *m > min) {
            Some(max) => vec![("min ", min), ("max ", max)],
            None => vec![("", min)],
        },
    };
    let at: Vec<String> = counts
        .iter()
        .map(|(which, r)| {
            let keeps = value.drain_keeps(field, *r);
            if keeps >= *r {
                format!("at {which}{r} replica(s) it allows no eviction (drains stall)")
            } else {
                format!("at {which}{r} replica(s) a drain leaves {keeps} running")
            }
        })
        .collect();
    let mut text = format!("disruption budget {field} {value}: {}", at.join("; "));
    let (_, lowest) = counts[0];
    if value.drain_keeps(field, lowest) < 2 && lowest >= 2 {
        text.push_str(". To keep 2 running through drains: ");
        text.push_str(&keep_running(&fs, 2));
    }
    Some(text)
}

/// The commands that keep `n` pods running through node drains: a budget of `minAvailable n`,
/// and at least `n + 1` replicas (the HPA's min, or the static count) so that one pod may
/// still be evicted.
pub fn keep_running(fs: &FeatureStore, n: i64) -> String {
    let t = fs.target();
    let pdb = format!("`kubectl feast pdb {t} --min-available {n}`");
    if fs.scaling_mode().minimum_replicas() > n {
        return pdb;
    }
    let more = if let ScalingMode::Autoscaled { max, .. } = fs.scaling_mode() {
        // The HPA API refuses a min above the max: raise both when it must.
        match max.filter(|m| *m < n + 1) {
            Some(_) => format!(
                "`kubectl feast autoscale {t} --min {m} --max {m}`",
                m = n + 1
            ),
            None => format!("`kubectl feast autoscale {t} --min {}`", n + 1),
        }
    } else {
        format!("`kubectl feast scale {t} --replicas {}`", n + 1)
    };
    format!("run at least {} ({more}) with {pdb}", n + 1)
}

/// A request a person may start from, for the hints: `200m` of CPU, `256Mi` of memory.
pub fn example_request(resource: &str) -> &'static str {
    if resource == "memory" {
        "256Mi"
    } else {
        "200m"
    }
}

/// `autoscale --cpu-request Q` (or memory): `Q` set as the request of every serving container
/// that sets none of that resource, which a Utilization metric needs, as a merge patch; with
/// the containers it sets it on. A container with a request of its own keeps it.
pub fn requests_patch(live: &Value, requests: &[(&str, &str)]) -> (Value, Vec<String>) {
    let fs = FeatureStore::new(live);
    let mut patch = json!({});
    let mut set = Vec::new();
    for server in fs.servers() {
        for (resource, quantity) in requests {
            if server.requests(resource) {
                continue;
            }
            let mut at = &mut patch;
            for key in server.path.split('.').chain(["resources", "requests"]) {
                at = &mut at[key];
            }
            at[*resource] = json!(quantity);
            set.push(format!("{} {resource} {quantity}", server.container));
        }
    }
    (patch, set)
}

/// `autoscale`: write the HPA configuration and remove `spec.replicas` in the same patch, so
/// the default of 1 satisfies the mutual-exclusion rule (R1). Only what changes in the block
/// is sent, so a concurrent writer's other fields are not overwritten.
pub fn autoscale_patch(request: &AutoscalingRequest, live: &Value) -> Result<Value, String> {
    let current = FeatureStore::new(live).autoscaling();
    let block = autoscaling_block(request, current)?;
    let change = match current {
        Some(c) if c.is_object() => merge_patch_between(c, &block),
        _ => block,
    };
    Ok(json!({"spec": {"replicas": null, "services": {"scaling": {"autoscaling": change}}}}))
}

/// The RFC 7386 merge patch that turns `before` into `after`: changed keys, and `null` for
/// every key `after` drops.
pub fn merge_patch_between(before: &Value, after: &Value) -> Value {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut patch = Map::new();
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            for (key, value) in a {
                match b.get(key) {
                    Some(old) if old == value => {}
                    Some(old) if old.is_object() && value.is_object() => {
                        patch.insert(key.clone(), merge_patch_between(old, value));
                    }
                    _ => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(patch)
        }
        _ => after.clone(),
    }
}

/// What a change of the HPA configuration takes away: each field it removes and each number
/// it lowers, `before → after`, so that "raise the max" can be told from "reset the HPA".
pub fn autoscaling_reductions(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    reductions("", before, after, &mut out);
    out
}

fn reductions(path: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
    let child = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (key, old) in b {
                match a.get(key) {
                    None => out.push(format!(
                        "{} {} → removed{}",
                        child(key),
                        compact(old),
                        default_of(&child(key))
                    )),
                    Some(new) => reductions(&child(key), old, new, out),
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if path == "metrics" => {
            for old in b {
                let id = metric_identity(old);
                match a.iter().find(|m| metric_identity(m) == id) {
                    None => out.push(format!(
                        "metric {} → removed",
                        metrics_summary(&json!({"metrics": [old]}))
                    )),
                    Some(new) => reductions(&format!("metrics[{}]", id.1), old, new, out),
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if b.iter().any(|x| !a.contains(x)) => {
            out.push(format!("{path} {} → {}", compact(before), compact(after)));
        }
        (Value::Number(b), Value::Number(a)) if a.as_f64() < b.as_f64() => {
            out.push(format!("{path} {b} → {a}"));
        }
        _ => {}
    }
}

fn default_of(path: &str) -> &'static str {
    match path {
        "minReplicas" => " (the HPA's default, 1)",
        "metrics" => " (the operator's default, 80% CPU)",
        _ => "",
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
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

/// The database persistence `persistence` sets: per service, a store of that type reading
/// the Secret `secret` under the key named as the type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersistenceChoice {
    pub online: Option<String>,
    pub offline: Option<String>,
    pub registry: Option<String>,
    pub secret: String,
}

/// `persistence`: each chosen service gets `persistence.store`, and loses what CEL allows only
/// one of (`file`; for the registry, `remote`) and a `secretKeyName` that would point the
/// operator at another key than the one the type names.
pub fn persistence_patch(choice: &PersistenceChoice) -> Value {
    let store = |ty: &str| {
        json!({"file": null, "store": {
            "type": ty, "secretRef": {"name": choice.secret}, "secretKeyName": null}})
    };
    let mut services = serde_json::Map::new();
    if let Some(ty) = &choice.online {
        services.insert("onlineStore".into(), json!({"persistence": store(ty)}));
    }
    if let Some(ty) = &choice.offline {
        services.insert("offlineStore".into(), json!({"persistence": store(ty)}));
    }
    if let Some(ty) = &choice.registry {
        services.insert(
            "registry".into(),
            json!({"remote": null, "local": {"persistence": store(ty)}}),
        );
    }
    json!({"spec": {"services": services}})
}

/// Adds `metadata.resourceVersion` so the API server refuses the patch (409) when the object
/// changed since it was checked.
pub fn with_resource_version(mut patch: Value, resource_version: &str) -> Value {
    patch["metadata"] = json!({"resourceVersion": resource_version});
    patch
}

/// One spec field that a change adds, removes or alters (objects are walked; arrays and
/// scalars compare whole, as a merge patch replaces them whole).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What `--diff` shows: the fields of `spec` that differ between two objects, in path order.
pub fn spec_changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_values(
        "spec",
        before.get("spec").filter(|v| !v.is_null()),
        after.get("spec").filter(|v| !v.is_null()),
        &mut out,
    );
    out
}

fn diff_values(
    path: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                diff_values(&format!("{path}.{key}"), b.get(key), a.get(key), out);
            }
        }
        (b, a) if b == a => {}
        (b, a) => out.push(FieldChange {
            path: path.to_string(),
            before: b.cloned(),
            after: a.cloned(),
        }),
    }
}

/// What the shell learnt about a store's surroundings before planning. Every look-up may have
/// been refused to the user (the editor role reads only FeatureStores): then its field is empty
/// and the shell has said so in a note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Surroundings {
    /// Autoscalers other than the operator's own HPA whose target is this FeatureStore (a KEDA
    /// ScaledObject, an HPA of the user's): they own `spec.replicas` (§7).
    pub external_autoscalers: Vec<ExternalAutoscaler>,
    /// The operator's Deployment `feast-<name>`'s `spec.replicas`, when it could be read.
    pub deployment_replicas: Option<i64>,
    /// Whether the Feast Operator runs ([`crate::operator::liveness`]); None when not looked at.
    pub operator: Option<crate::operator::OperatorState>,
    /// The operator's HPA `feast-<name>` as it last decided; None when not looked at or absent.
    pub hpa_load: Option<HpaLoad>,
}

/// What the operator's HPA last saw: the replicas it ran, and per Utilization metric its
/// current value against its target (percent of the pods' requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaLoad {
    pub replicas: i64,
    pub utilization: Vec<(String, i64, i64)>,
}

impl HpaLoad {
    /// From an HPA object (autoscaling/v2).
    pub fn of(hpa: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler) -> Option<HpaLoad> {
        let status = hpa.status.as_ref()?;
        let targets: Vec<(String, i64)> = hpa
            .spec
            .iter()
            .flat_map(|s| s.metrics.iter().flatten())
            .filter_map(|m| {
                let r = m.resource.as_ref()?;
                Some((r.name.clone(), i64::from(r.target.average_utilization?)))
            })
            .collect();
        let utilization = status
            .current_metrics
            .iter()
            .flatten()
            .filter_map(|m| {
                let r = m.resource.as_ref()?;
                let now = i64::from(r.current.average_utilization?);
                let target = targets.iter().find(|(n, _)| *n == r.name)?.1;
                Some((r.name.clone(), now, target))
            })
            .collect();
        Some(HpaLoad {
            replicas: i64::from(status.current_replicas.unwrap_or(0)),
            utilization,
        })
    }

    /// What the same load does to `to` pods, when that is fewer than the HPA ran: the
    /// utilisation each then carries against its target, said as a warning.
    pub fn overload(&self, to: i64) -> Option<String> {
        if to <= 0 || to >= self.replicas {
            return None;
        }
        let each: Vec<String> = self
            .utilization
            .iter()
            .map(|(name, now, target)| {
                format!(
                    "{name} {now}% of requests on {} becomes about {}% on {to} (target {target}%)",
                    self.replicas,
                    now * self.replicas / to
                )
            })
            .collect();
        Some(format!(
            "the HPA runs {} replica(s) now; {to} will carry their load{}: unless the load has dropped, they will be overloaded. Keep --replicas near {}, or lower the load first",
            self.replicas,
            if each.is_empty() {
                String::new()
            } else {
                format!(" ({})", each.join("; "))
            },
            self.replicas
        ))
    }
}

/// An autoscaler other than the operator's own HPA that targets a FeatureStore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalAutoscaler {
    ScaledObject(String),
    Hpa(String),
}

impl ExternalAutoscaler {
    /// The command that removes it, so that another owner can take the count.
    pub fn delete_command(&self, namespace: &str) -> String {
        let ns = crate::suggest::shell_quote(namespace);
        match self {
            ExternalAutoscaler::ScaledObject(n) => format!(
                "kubectl delete scaledobject {} -n {ns}",
                crate::suggest::shell_quote(n)
            ),
            ExternalAutoscaler::Hpa(n) => format!(
                "kubectl delete hpa {} -n {ns}",
                crate::suggest::shell_quote(n)
            ),
        }
    }
}

impl std::fmt::Display for ExternalAutoscaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExternalAutoscaler::ScaledObject(n) => write!(f, "KEDA ScaledObject {n:?}"),
            ExternalAutoscaler::Hpa(n) => write!(f, "HorizontalPodAutoscaler {n:?}"),
        }
    }
}

text_enum! {
    /// What a change that needs confirmation puts at risk.
    pub enum RiskKind {
        /// Another autoscaler owns the replica count and will fight a manual one.
        OtherAutoscalers = "other-autoscalers",
        /// The HPA configuration loses settings (a metric, a bound, a behaviour).
        HpaSettingsLost = "hpa-settings-lost",
        /// Autoscaling is turned off.
        AutoscalingDropped = "autoscaling-dropped",
        /// Scaling goes off: no PDB, no spread, Recreate rollouts.
        HighAvailabilityLost = "high-availability-lost",
        /// The disruption budget will refuse every eviction.
        BlocksEvictions = "blocks-evictions",
        /// The HPA this change configures cannot compute its metric, so it will not scale.
        MetricUnavailable = "metric-unavailable",
        /// Argo CD or Flux syncs the store from Git and will revert a live change.
        GitOpsOwned = "gitops-owned",
        /// No operator runs: the change is stored and nothing acts on it.
        OperatorStopped = "operator-stopped",
    }
}

/// Why a change needs the user's confirmation (a prompt on a terminal, `--yes` otherwise).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Risk {
    pub kind: RiskKind,
    pub message: String,
    /// The rule finding this risk already says (rule id, message), so it is not said twice.
    pub finding: Option<(rules::RuleId, String)>,
}

impl Risk {
    fn new(kind: RiskKind, message: String) -> Self {
        Risk {
            kind,
            message,
            finding: None,
        }
    }

    /// Whether this risk already says what `finding` says.
    pub fn covers(&self, finding: &rules::Finding) -> bool {
        self.finding
            .as_ref()
            .is_some_and(|(rule, message)| *rule == finding.rule && *message == finding.message)
    }
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The risks of a change. Pure: judged from the object before and after the patch, and its
/// surroundings.
pub fn risks(before: &Value, after: &Value, around: &Surroundings) -> Vec<Risk> {
    let (b, a) = (FeatureStore::new(before), FeatureStore::new(after));
    let name = a.name();
    let mut out = Vec::new();
    let replicas_touched = b.replicas() != a.replicas() || b.autoscaling() != a.autoscaling();
    if replicas_touched && !around.external_autoscalers.is_empty() {
        let one = around.external_autoscalers.len() == 1;
        out.push(Risk::new(
            RiskKind::OtherAutoscalers,
            format!(
                "{} target{} this FeatureStore and own{} its replica count: {} undo a manual count \
                 at the next evaluation and fight a second autoscaler (change {} instead, or remove {} first)",
                around
                    .external_autoscalers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" and "),
                if one { "s" } else { "" },
                if one { "s" } else { "" },
                if one { "it will" } else { "they will" },
                if one { "it" } else { "them" },
                if one { "it" } else { "them" },
            ),
        ));
    }
    if let (Some(old), Some(new)) = (b.autoscaling(), a.autoscaling()) {
        let taken = autoscaling_reductions(old, new);
        if !taken.is_empty() {
            out.push(Risk::new(
                RiskKind::HpaSettingsLost,
                format!(
                    "the HPA configuration of {name} loses settings: {} (spec.services.scaling.autoscaling)",
                    taken.join("; ")
                ),
            ));
        }
    }
    if b.autoscaling().is_some() && a.autoscaling().is_none() {
        out.push(Risk::new(
            RiskKind::AutoscalingDropped,
            format!(
                "autoscaling is dropped: the operator deletes HPA feast-{name} and fixes the count at {} \
                 replica(s)",
                a.replicas()
            ),
        ));
    }
    if b.scaling_enabled() && !a.scaling_enabled() {
        out.push(Risk::new(
            RiskKind::HighAvailabilityLost,
            format!(
                "{name} goes down to 1 replica: high availability goes away (no PDB, no spread, strategy \
                 back to Recreate, so the next rollout has downtime)"
            ),
        ));
    }
    // The rules on the changed store, run once for the risks that are findings too.
    let after_findings = rules::check(after);
    let before_blocking: Vec<String> = rules::check(before)
        .into_iter()
        .filter(|f| f.rule == RuleId::PdbBlocksEvictions)
        .map(|f| f.message)
        .collect();
    for f in after_findings
        .iter()
        .filter(|f| f.rule == RuleId::PdbBlocksEvictions)
    {
        if !before_blocking.contains(&f.message) {
            let keep = a
                .budget()
                .filter(|(field, _)| *field == "minAvailable")
                .map(|(field, v)| v.drain_keeps(field, a.scaling_mode().minimum_replicas()))
                .filter(|n| *n >= 1);
            out.push(Risk {
                kind: RiskKind::BlocksEvictions,
                message: match keep {
                    Some(n) => format!(
                        "the disruption budget blocks every eviction: {}; to keep {n} running through drains, {}",
                        f.message,
                        keep_running(&a, n)
                    ),
                    None => format!("the disruption budget blocks every eviction: {}", f.message),
                },
                finding: Some((f.rule, f.message.clone())),
            });
        }
    }
    // An HPA configured by this change that cannot compute its metric does not do what was
    // asked: it sits at `<unknown>` (FailedGetResourceMetric) and never scales.
    if b.autoscaling() != a.autoscaling() && a.autoscaling().is_some() {
        for f in after_findings
            .iter()
            .filter(|f| f.rule == RuleId::AutoscalingMissingResourceRequest)
        {
            // The flag and value the finding's own fix command gives.
            let flag = f.hint.commands().find_map(|c| {
                let argv = c.argv();
                let i = argv.iter().position(|w| w.ends_with("-request"))?;
                Some(
                    argv[i..]
                        .iter()
                        .take(2)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            });
            out.push(Risk {
                kind: RiskKind::MetricUnavailable,
                message: match flag {
                    Some(flag) => format!(
                        "the HPA will not scale: {}; add {flag} (or another quantity) to this \
                         command to set it on every server container without one",
                        f.message
                    ),
                    None => format!("the HPA will not scale: {}", f.message),
                },
                finding: Some((f.rule, f.message.clone())),
            });
        }
    }
    // Who syncs the store from Git reverts a live write, whatever it changes (issue 11).
    if let Some(message) = crate::gitops::risk(before) {
        out.push(Risk::new(RiskKind::GitOpsOwned, message));
    }
    if let Some(op) = &around.operator
        && op.liveness == crate::operator::Liveness::Stopped
    {
        out.push(Risk::new(
            RiskKind::OperatorStopped,
            format!(
                "the Feast Operator is not running ({}): the change will be stored, but nothing \
                 acts on it until the operator runs again",
                op.evidence
            ),
        ));
    }
    out
}

text_enum! {
    /// kubectl's past tense for the result line.
    pub enum Verb {
        Scaled = "scaled",
        Autoscaled = "autoscaled",
        Configured = "configured",
    }
}

/// What a command wants done to one store.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub patch: Value,
    pub verb: Verb,
    /// Information for the user (stderr), e.g. the operator's default metric.
    pub notes: Vec<String>,
}

/// A planner's answer: the change, or the one thing the user must be asked first. Planners
/// never ask themselves: the shell asks, records the answer and plans again.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Ready(Planned),
    Ask(Question),
}

/// What a planner needs from the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// How many replicas to keep once autoscaling is off, when nothing in the cluster says
    /// how many run now.
    ReplicasAfterAutoscaling { store: String },
}

/// The user's answers for one store, kept for the re-plans after a conflict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    pub replicas: Option<i64>,
}

/// `kubectl feast scale`'s request, free of its flags' parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleRequest {
    pub replicas: i64,
    /// Precondition: spec.replicas is this now.
    pub current_replicas: Option<i64>,
    /// Precondition: the store is at this resourceVersion.
    pub resource_version: Option<String>,
    /// On an autoscaled store, drop the HPA configuration in the same patch.
    pub replace_autoscaling: bool,
}

/// The scale patch for one live store, or why it is refused.
pub fn plan_scale(request: &ScaleRequest, live: &Value) -> Result<Planned> {
    let fs = FeatureStore::new(live);
    let name = fs.name();
    if let Some(rv) = &request.resource_version {
        let now = lookup(live, "metadata.resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        if now != rv {
            return Err(Error::refused(format!(
                "{RESOURCE}/{name} is at resourceVersion {now}, not {rv} (--resource-version); nothing was sent"
            ))
            .with_hint("someone changed it since you read it: look again, then retry with the new resourceVersion"));
        }
    }
    if let Some(expected) = request.current_replicas
        && fs.replicas() != expected
    {
        return Err(Error::refused(format!(
            "{RESOURCE}/{name} has spec.replicas {}, not {expected} (--current-replicas); nothing was sent",
            fs.replicas()
        ))
        .with_hint("someone changed it since you looked: check `kubectl feast status`, then retry"));
    }
    let autoscaled = matches!(fs.scaling_mode(), ScalingMode::Autoscaled { .. });
    if autoscaled && !request.replace_autoscaling {
        let n = request.replicas;
        return Err(Error::refused(format!(
            "{RESOURCE}/{name} is autoscaled (spec.services.scaling.autoscaling is set): its HPA owns the replica count, and the CRD forbids replicas > 1 beside it"
        ))
        .with_hint(format!(
            "switch to a fixed count with `kubectl feast autoscale {} --off --replicas {n}`, \
             or re-run with --replace-autoscaling to drop the HPA configuration in the same patch",
            fs.target()
        )));
    }
    Ok(Planned {
        patch: scale_patch(request.replicas, autoscaled),
        verb: Verb::Scaled,
        notes: Vec::new(),
    })
}

/// Something the operator does after a change, in the order it does it (§4.3–§4.6, §4.8).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The Deployment's replica count is set from `spec.replicas`. `from` is what the
    /// Deployment runs now, when it could be read (never the old spec: the two differ while
    /// a rollout lags); `hpa_before` when an HPA decided the count until now.
    DeploymentReplicas {
        from: Option<i64>,
        to: i64,
        hpa_before: bool,
    },
    /// Static → HPA: the Deployment keeps its count until the HPA clamps it into [min, max].
    DeploymentKeepsCount {
        current: i64,
        min: i64,
        max: Option<i64>,
    },
    Strategy {
        from: String,
        to: String,
    },
    ZoneSpread {
        injected: bool,
    },
    AntiAffinity {
        injected: bool,
    },
    /// The pod template changes, so every pod is replaced.
    PodsRoll,
    HpaCreated {
        min: i64,
        max: Option<i64>,
        metrics: String,
    },
    HpaUpdated {
        min: i64,
        max: Option<i64>,
        metrics: String,
    },
    HpaDeleted,
    PdbCreated {
        budget: String,
    },
    PdbUpdated {
        budget: String,
    },
    PdbDeleted,
    /// A budget is configured but scaling is off: no PDB exists until the store scales.
    PdbInactive,
}

/// The operator's next steps when `before` becomes `after` (both full objects); `running` is
/// the Deployment's `spec.replicas` now, when it could be read. Pure.
pub fn effects(before: &Value, after: &Value, running: Option<i64>) -> Vec<Effect> {
    let (b, a) = (FeatureStore::new(before), FeatureStore::new(after));
    let mut out = Vec::new();
    match (b.scaling_mode(), a.scaling_mode()) {
        (_, ScalingMode::Autoscaled { .. }) if b.autoscaling().is_some() => {}
        (before_mode, ScalingMode::Autoscaled { min, max }) => {
            out.push(Effect::DeploymentKeepsCount {
                current: before_mode.minimum_replicas(),
                min,
                max,
            });
        }
        (ScalingMode::Autoscaled { .. }, _) => out.push(Effect::DeploymentReplicas {
            from: running,
            to: a.replicas(),
            hpa_before: true,
        }),
        _ if b.replicas() != a.replicas() => out.push(Effect::DeploymentReplicas {
            from: running,
            to: a.replicas(),
            hpa_before: false,
        }),
        _ => {}
    }
    let (bs, as_) = (b.effective_strategy(), a.effective_strategy());
    if bs != as_ {
        out.push(Effect::Strategy {
            from: bs.to_string(),
            to: as_.to_string(),
        });
    }
    if b.injects_zone_spread() != a.injects_zone_spread() {
        out.push(Effect::ZoneSpread {
            injected: a.injects_zone_spread(),
        });
    }
    if b.injects_anti_affinity() != a.injects_anti_affinity() {
        out.push(Effect::AntiAffinity {
            injected: a.injects_anti_affinity(),
        });
    }
    if pod_placement(&b) != pod_placement(&a) {
        out.push(Effect::PodsRoll);
    }
    match (b.autoscaling(), a.autoscaling()) {
        (None, Some(hpa)) => {
            let (min, max) = bounds(&a);
            out.push(Effect::HpaCreated {
                min,
                max,
                metrics: metrics_summary(hpa),
            });
        }
        (Some(old), Some(new)) if old != new => {
            let (min, max) = bounds(&a);
            out.push(Effect::HpaUpdated {
                min,
                max,
                metrics: metrics_summary(new),
            });
        }
        (Some(_), None) => out.push(Effect::HpaDeleted),
        _ => {}
    }
    match (b.active_pdb(), a.active_pdb()) {
        (None, Some(pdb)) => out.push(Effect::PdbCreated {
            budget: budget(pdb),
        }),
        (Some(old), Some(new)) if old != new => out.push(Effect::PdbUpdated {
            budget: budget(new),
        }),
        (Some(_), None) => out.push(Effect::PdbDeleted),
        _ => {}
    }
    if a.pdb().is_some() && !a.scaling_enabled() && b.pdb() != a.pdb() {
        out.push(Effect::PdbInactive);
    }
    out
}

/// The pod template's spread and affinity as the operator derives them (§4.3): a change here
/// rolls every pod.
fn pod_placement(fs: &FeatureStore) -> (Value, Value) {
    let derived = |user: Option<&Value>, injected: bool| match user {
        Some(v) => v.clone(),
        None if injected => json!("injected"),
        None => Value::Null,
    };
    (
        derived(fs.user_spread(), fs.injects_zone_spread()),
        derived(fs.user_affinity(), fs.injects_anti_affinity()),
    )
}

fn bounds(fs: &FeatureStore) -> (i64, Option<i64>) {
    match fs.scaling_mode() {
        ScalingMode::Autoscaled { min, max } => (min, max),
        other => (other.minimum_replicas(), None),
    }
}

/// `cpu 70%, memory 80%`, or the operator's default when no metric is set (§2.2).
fn metrics_summary(hpa: &Value) -> String {
    let list = hpa
        .get("metrics")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty());
    let Some(list) = list else {
        return format!("cpu {DEFAULT_CPU_UTILIZATION}% (the operator's default)");
    };
    list.iter()
        .map(|m| {
            let resource = m.get("resource");
            let name = resource.and_then(|r| r.get("name")).and_then(Value::as_str);
            let target = resource
                .and_then(|r| r.pointer("/target/averageUtilization"))
                .and_then(Value::as_i64);
            match (name, target) {
                (Some(n), Some(t)) => format!("{n} {t}%"),
                _ => format!(
                    "a {} metric",
                    m.get("type").and_then(Value::as_str).unwrap_or("custom")
                ),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `maxUnavailable: 1` or `minAvailable: "50%"`.
fn budget(pdb: &Value) -> String {
    ["minAvailable", "maxUnavailable"]
        .iter()
        .filter_map(|f| pdb.get(*f).map(|v| format!("{f}: {v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How far a store is towards `target` ready replicas, from its status (§5): the operator has
/// caught up when its spec is synced ([`FeatureStore::sync`]) at the target count without
/// autoscaling; the ready count
/// is `status.scalingStatus.currentReplicas` while scaling, else `status.replicas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub ready: i64,
    pub target: i64,
    /// `status.scalingStatus.desiredReplicas`, when the status has it.
    pub desired: Option<i64>,
    pub caught_up: bool,
}

impl Readiness {
    pub fn done(&self) -> bool {
        self.caught_up && self.ready == self.target && self.desired.is_none_or(|d| d == self.target)
    }
}

pub fn readiness(object: &Value, target: i64) -> Readiness {
    let fs = FeatureStore::new(object);
    let scaling = fs.scaling_status();
    let ready = match &scaling {
        Some(s) => s.current_replicas.map_or(0, i64::from),
        None => fs.status_replicas().unwrap_or(0),
    };
    let desired = scaling.and_then(|s| s.desired_replicas).map(i64::from);
    let caught_up = fs.sync().synced && fs.replicas() == target && fs.autoscaling().is_none();
    Readiness {
        ready,
        target,
        desired,
        caught_up,
    }
}

/// Why a store may not be ready: its phase and the `FeatureStore` condition, where reconcile
/// errors such as an HPA or PDB apply failure appear (§5).
pub fn stuck_reason(object: &Value) -> String {
    let fs = FeatureStore::new(object);
    let phase = fs
        .get("status.phase")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let condition = fs
        .get("status.conditions")
        .and_then(Value::as_array)
        .and_then(|c| {
            c.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("FeatureStore"))
        });
    match condition {
        Some(c) => {
            let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
            format!(
                "phase {phase}; condition FeatureStore={} ({}): {}",
                field("status"),
                field("reason"),
                field("message")
            )
        }
        None => format!("phase {phase}; no FeatureStore condition yet (has the operator seen it?)"),
    }
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

    /// A DB-backed store whose online server requests CPU and whose registry server does not.
    fn registry_without_request() -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "a", "namespace": "ml"}, "spec": {"feastProject": "p", "services": {
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}},
                "server": {"resources": {"requests": {"cpu": "100m"}}}},
            "registry": {"local": {"persistence": {"store": {"type": "sql", "secretRef": {"name": "s"}}},
                "server": {}}}}}})
    }

    #[test]
    fn requests_go_only_where_none_is_set() {
        let live = registry_without_request();
        let (patch, on) = requests_patch(&live, &[("cpu", "250m"), ("memory", "1Gi")]);
        assert_eq!(
            patch,
            json!({"spec": {"services": {
                "onlineStore": {"server": {"resources": {"requests": {"memory": "1Gi"}}}},
                "registry": {"local": {"server": {"resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}}}}}}})
        );
        assert_eq!(
            on,
            [
                "online memory 1Gi",
                "registry cpu 250m",
                "registry memory 1Gi"
            ]
        );
        let after = patched(&live, &patch);
        assert!(
            rules::check(&after)
                .iter()
                .all(|f| f.rule != RuleId::AutoscalingMissingResourceRequest)
        );
        // Nothing missing: no patch.
        assert_eq!(requests_patch(&after, &[("cpu", "1")]), (json!({}), vec![]));
    }

    #[test]
    fn an_hpa_that_cannot_compute_its_metric_is_a_risk_until_the_request_is_set() {
        let live = registry_without_request();
        let request = AutoscalingRequest {
            max: Some(8),
            ..AutoscalingRequest::default()
        };
        let patch = autoscale_patch(&request, &live).unwrap();
        let r = risks(&live, &patched(&live, &patch), &Surroundings::default());
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].kind, RiskKind::MetricUnavailable);
        assert!(
            r[0].message.contains("container \"registry\""),
            "{}",
            r[0].message
        );
        assert!(
            r[0].message.contains("add --cpu-request 200m"),
            "{}",
            r[0].message
        );
        let mut with_request = patch.clone();
        merge_patch(
            &mut with_request,
            &requests_patch(&live, &[("cpu", "200m")]).0,
        );
        assert!(
            risks(
                &live,
                &patched(&live, &with_request),
                &Surroundings::default()
            )
            .is_empty()
        );
        // A change that leaves the HPA configuration as it is asks nothing new.
        let autoscaled = patched(&live, &patch);
        assert!(risks(&autoscaled, &autoscaled, &Surroundings::default()).is_empty());
    }

    fn budgeted(replicas: Value, budget: Value) -> Value {
        let mut o = registry_without_request();
        o["spec"]["services"]["podDisruptionBudgets"] = budget;
        match replicas {
            Value::Number(_) => o["spec"]["replicas"] = replicas,
            block => o["spec"]["services"]["scaling"] = json!({"autoscaling": block}),
        }
        o
    }

    #[test]
    fn a_budget_is_said_as_the_pods_a_drain_leaves_running() {
        let m = |r, b| budget_meaning(&budgeted(r, b)).unwrap();
        assert_eq!(
            m(json!(2), json!({"maxUnavailable": 1})),
            "disruption budget maxUnavailable 1: at 2 replica(s) a drain leaves 1 running. To keep 2 running through drains: run at least 3 (`kubectl feast scale a -n ml --replicas 3`) with `kubectl feast pdb a -n ml --min-available 2`"
        );
        assert_eq!(
            m(json!(3), json!({"minAvailable": 2})),
            "disruption budget minAvailable 2: at 3 replica(s) a drain leaves 2 running"
        );
        assert_eq!(
            m(json!(2), json!({"minAvailable": 2})),
            "disruption budget minAvailable 2: at 2 replica(s) it allows no eviction (drains stall)"
        );
        // The HPA's range: both ends; percentages round up as the disruption controller does.
        let hpa = m(
            json!({"minReplicas": 2, "maxReplicas": 8}),
            json!({"maxUnavailable": "25%"}),
        );
        assert!(
            hpa.starts_with("disruption budget maxUnavailable 25%: at min 2 replica(s) a drain leaves 1 running; at max 8 replica(s) a drain leaves 6 running. To keep 2 running through drains: run at least 3 (`kubectl feast autoscale a -n ml --min 3`)"),
            "{hpa}"
        );
        // An HPA whose max is below the 3 it takes: both bounds.
        assert!(
            m(
                json!({"minReplicas": 2, "maxReplicas": 2}),
                json!({"maxUnavailable": 1})
            )
            .contains("`kubectl feast autoscale a -n ml --min 3 --max 3`")
        );
        // Already more than 2 at the lowest: the budget alone.
        assert!(m(json!(5), json!({"maxUnavailable": 4})).ends_with(
            "To keep 2 running through drains: `kubectl feast pdb a -n ml --min-available 2`"
        ));
        // No budget, or no scaling: nothing to say.
        let mut single = budgeted(json!(1), json!({"maxUnavailable": 1}));
        assert_eq!(budget_meaning(&single), None);
        single["spec"]["services"]
            .as_object_mut()
            .unwrap()
            .remove("podDisruptionBudgets");
        single["spec"]["replicas"] = json!(3);
        assert_eq!(budget_meaning(&single), None);
    }

    fn hpa_store(block: Value) -> Value {
        json!({"metadata": {"name": "a"}, "spec": {"feastProject": "p",
            "services": {"scaling": {"autoscaling": block}}}})
    }

    #[test]
    fn raising_the_max_changes_only_the_max() {
        let live = hpa_store(json!({"minReplicas": 2, "maxReplicas": 5, "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}));
        let request = AutoscalingRequest {
            max: Some(10),
            ..Default::default()
        };
        let patch = autoscale_patch(&request, &live).expect("patch");
        assert_eq!(
            patch,
            json!({"spec": {"replicas": null, "services": {"scaling": {"autoscaling": {"maxReplicas": 10}}}}})
        );
        let after = patched(&live, &patch);
        let block = &after["spec"]["services"]["scaling"]["autoscaling"];
        assert_eq!(block["minReplicas"], json!(2));
        assert_eq!(
            block["metrics"][0]["resource"]["target"]["averageUtilization"],
            json!(70)
        );
        assert!(risks(&live, &after, &Surroundings::default()).is_empty());
    }

    #[test]
    fn a_metric_flag_replaces_only_its_own_metric() {
        let cpu = |p: i64| json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": p}}});
        let rps = json!({"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "100"}}});
        let live = hpa_store(json!({"maxReplicas": 5, "metrics": [cpu(70), rps.clone()]}));
        let request = AutoscalingRequest {
            metrics: vec![cpu(60)],
            ..Default::default()
        };
        let after = patched(&live, &autoscale_patch(&request, &live).expect("patch"));
        assert_eq!(
            after["spec"]["services"]["scaling"]["autoscaling"]["metrics"],
            json!([cpu(60), rps])
        );
    }

    #[test]
    fn behaviour_merges_and_replace_starts_from_nothing() {
        let live = hpa_store(json!({"minReplicas": 3, "maxReplicas": 8,
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}));
        let request = AutoscalingRequest {
            behavior: Some(json!({"scaleUp": {"stabilizationWindowSeconds": 0}})),
            ..Default::default()
        };
        let block =
            autoscaling_block(&request, FeatureStore::new(&live).autoscaling()).expect("block");
        assert_eq!(
            block["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
            json!(300)
        );
        assert_eq!(
            block["behavior"]["scaleUp"]["stabilizationWindowSeconds"],
            json!(0)
        );
        let replace = AutoscalingRequest {
            max: Some(4),
            replace: true,
            ..Default::default()
        };
        let patch = autoscale_patch(&replace, &live).expect("patch");
        assert_eq!(
            patch["spec"]["services"]["scaling"]["autoscaling"],
            json!({"minReplicas": null, "maxReplicas": 4, "behavior": null})
        );
        let after = patched(&live, &patch);
        let risk = risks(&live, &after, &Surroundings::default());
        assert_eq!(risk.len(), 1, "{risk:?}");
        for said in [
            "maxReplicas 8 → 4",
            "minReplicas 3 → removed (the HPA's default, 1)",
            "behavior",
        ] {
            assert!(risk[0].message.contains(said), "{said} not in {}", risk[0]);
        }
    }

    #[test]
    fn turning_autoscaling_on_needs_a_max() {
        let live = json!({"metadata": {"name": "a"}, "spec": {"feastProject": "p"}});
        let err = autoscale_patch(
            &AutoscalingRequest {
                min: Some(2),
                ..Default::default()
            },
            &live,
        )
        .expect_err("no max");
        assert!(err.contains("--max is required"), "{err}");
    }

    #[test]
    fn autoscale_clears_static_replicas_in_the_same_patch() {
        let obj = json!({"spec": {"feastProject": "p", "replicas": 3}});
        let after = patched(
            &obj,
            &autoscale_patch(
                &AutoscalingRequest {
                    min: Some(2),
                    max: Some(5),
                    ..Default::default()
                },
                &obj,
            )
            .expect("patch"),
        );
        assert_eq!(after["spec"]["replicas"], json!(1));
        assert_eq!(
            after["spec"]["services"]["scaling"]["autoscaling"],
            json!({"minReplicas": 2, "maxReplicas": 5})
        );
    }

    #[test]
    fn fewer_pods_than_the_hpa_ran_are_said_to_carry_its_load() {
        let hpa: k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler =
            serde_json::from_value(json!({"metadata": {"name": "feast-a"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "feast-a"}, "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}}]},
                "status": {"currentReplicas": 10, "desiredReplicas": 10,
                    "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": 150}}}]}}))
            .expect("an HPA");
        let load = HpaLoad::of(&hpa).expect("its load");
        let said = load.overload(2).expect("a warning");
        assert!(
            said.contains("cpu 150% of requests on 10 becomes about 750% on 2 (target 70%)"),
            "{said}"
        );
        assert_eq!(load.overload(10), None);
        assert_eq!(load.overload(12), None);
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

    /// A store that may scale: DB-backed online store and a remote registry.
    fn scalable(extra_spec: Value) -> Value {
        let mut obj = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "fs", "namespace": "ns", "resourceVersion": "7"},
            "spec": {"feastProject": "p", "replicas": 1, "services": {
                "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
                "registry": {"remote": {"hostname": "r:80"}}}}});
        merge_patch(&mut obj, &json!({ "spec": extra_spec }));
        obj
    }

    #[test]
    fn scaling_up_from_one_switches_strategy_injects_placement_and_rolls_pods() {
        let before = scalable(json!({}));
        let after = patched(&before, &scale_patch(3, false));
        assert_eq!(
            effects(&before, &after, Some(1)),
            vec![
                Effect::DeploymentReplicas {
                    from: Some(1),
                    to: 3,
                    hpa_before: false
                },
                Effect::Strategy {
                    from: "Recreate".into(),
                    to: "RollingUpdate".into()
                },
                Effect::ZoneSpread { injected: true },
                Effect::AntiAffinity { injected: true },
                Effect::PodsRoll,
            ]
        );
    }

    #[test]
    fn scaling_down_to_one_removes_injection_and_deletes_the_pdb() {
        let before = scalable(
            json!({"replicas": 3, "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}),
        );
        let after = patched(&before, &scale_patch(1, false));
        let got = effects(&before, &after, Some(3));
        assert_eq!(
            got[0],
            Effect::DeploymentReplicas {
                from: Some(3),
                to: 1,
                hpa_before: false
            }
        );
        assert!(got.contains(&Effect::Strategy {
            from: "RollingUpdate".into(),
            to: "Recreate".into()
        }));
        assert!(got.contains(&Effect::ZoneSpread { injected: false }));
        assert!(got.contains(&Effect::AntiAffinity { injected: false }));
        assert!(got.contains(&Effect::PdbDeleted));
        assert!(
            !got.contains(&Effect::PdbInactive),
            "the block did not change"
        );
    }

    #[test]
    fn scaling_between_counts_above_one_only_changes_the_deployment() {
        let before = scalable(json!({"replicas": 3}));
        let after = patched(&before, &scale_patch(5, false));
        assert_eq!(
            effects(&before, &after, Some(3)),
            vec![Effect::DeploymentReplicas {
                from: Some(3),
                to: 5,
                hpa_before: false
            }]
        );
    }

    #[test]
    fn user_placement_is_not_injected_or_rolled() {
        let before = scalable(
            json!({"services": {"topologySpreadConstraints": [], "affinity": {},
            "deploymentStrategy": {"type": "Recreate"}}}),
        );
        let after = patched(&before, &scale_patch(2, false));
        assert_eq!(
            effects(&before, &after, Some(1)),
            vec![Effect::DeploymentReplicas {
                from: Some(1),
                to: 2,
                hpa_before: false
            }]
        );
    }

    #[test]
    fn static_to_hpa_keeps_the_count_and_creates_the_hpa_with_the_default_metric() {
        let before = scalable(json!({"replicas": 3}));
        let after = patched(
            &before,
            &autoscale_patch(
                &AutoscalingRequest {
                    min: Some(2),
                    max: Some(6),
                    ..Default::default()
                },
                &before,
            )
            .expect("patch"),
        );
        assert_eq!(
            effects(&before, &after, None),
            vec![
                Effect::DeploymentKeepsCount {
                    current: 3,
                    min: 2,
                    max: Some(6)
                },
                Effect::HpaCreated {
                    min: 2,
                    max: Some(6),
                    metrics: "cpu 80% (the operator's default)".into()
                },
            ]
        );
    }

    #[test]
    fn hpa_to_static_deletes_the_hpa_and_sets_the_count() {
        let before =
            scalable(json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}));
        let after = patched(&before, &autoscale_off_patch(4));
        assert_eq!(
            effects(&before, &after, Some(5)),
            vec![
                Effect::DeploymentReplicas {
                    from: Some(5),
                    to: 4,
                    hpa_before: true
                },
                Effect::HpaDeleted
            ]
        );
    }

    #[test]
    fn changing_hpa_bounds_updates_it_and_names_the_metrics() {
        let before =
            scalable(json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}));
        let cpu = json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}});
        let after = patched(
            &before,
            &autoscale_patch(
                &AutoscalingRequest {
                    min: Some(2),
                    max: Some(8),
                    metrics: vec![cpu],
                    ..Default::default()
                },
                &before,
            )
            .expect("patch"),
        );
        assert_eq!(
            effects(&before, &after, None),
            vec![Effect::HpaUpdated {
                min: 2,
                max: Some(8),
                metrics: "cpu 70%".into()
            }]
        );
    }

    #[test]
    fn pdb_is_created_updated_or_inactive_depending_on_scaling() {
        let scaled = scalable(json!({"replicas": 2}));
        let with_pdb = patched(&scaled, &pdb_patch(&PdbPolicy::MaxUnavailable(json!(1))));
        assert_eq!(
            effects(&scaled, &with_pdb, None),
            vec![Effect::PdbCreated {
                budget: "maxUnavailable: 1".into()
            }]
        );
        let switched = patched(
            &with_pdb,
            &pdb_patch(&PdbPolicy::MinAvailable(json!("50%"))),
        );
        assert_eq!(
            effects(&with_pdb, &switched, None),
            vec![Effect::PdbUpdated {
                budget: "minAvailable: \"50%\"".into()
            }]
        );
        let single = scalable(json!({}));
        let inactive = patched(&single, &pdb_patch(&PdbPolicy::MinAvailable(json!(1))));
        assert_eq!(effects(&single, &inactive, None), vec![Effect::PdbInactive]);
        let off = patched(&with_pdb, &pdb_patch(&PdbPolicy::Off));
        assert_eq!(effects(&with_pdb, &off, None), vec![Effect::PdbDeleted]);
    }

    #[test]
    fn diff_lists_only_the_changed_spec_fields() {
        let before = scalable(json!({"replicas": 3}));
        let after = patched(
            &before,
            &autoscale_patch(
                &AutoscalingRequest {
                    max: Some(4),
                    ..Default::default()
                },
                &before,
            )
            .expect("patch"),
        );
        let changes = spec_changes(&before, &after);
        assert_eq!(
            changes,
            vec![
                FieldChange {
                    path: "spec.replicas".into(),
                    before: Some(json!(3)),
                    after: Some(json!(1))
                },
                FieldChange {
                    path: "spec.services.scaling".into(),
                    before: None,
                    after: Some(json!({"autoscaling": {"maxReplicas": 4}})),
                },
            ]
        );
        assert!(spec_changes(&before, &before).is_empty());
    }

    #[test]
    fn scaling_down_to_one_is_a_risk() {
        let before = scalable(json!({"replicas": 3}));
        let after = patched(&before, &scale_patch(1, false));
        let r = risks(&before, &after, &Surroundings::default());
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].message.contains("goes down to 1 replica"));
        let up = patched(&before, &scale_patch(4, false));
        assert!(risks(&before, &up, &Surroundings::default()).is_empty());
    }

    #[test]
    fn dropping_autoscaling_is_a_risk() {
        let before =
            scalable(json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}));
        let after = patched(&before, &autoscale_off_patch(3));
        let r = risks(&before, &after, &Surroundings::default());
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].message.contains("HPA feast-fs"));
    }

    #[test]
    fn a_stopped_operator_is_a_risk_of_every_change_and_an_unknown_one_is_not() {
        use crate::operator::{Liveness, OperatorState};
        let state = |liveness| OperatorState {
            liveness,
            evidence: "its Lease x/y was last renewed 5m ago".into(),
            fix: None,
        };
        let before = scalable(json!({"replicas": 3}));
        let scaled = patched(&before, &scale_patch(4, false));
        let kinds = |liveness| -> Vec<RiskKind> {
            let around = Surroundings {
                operator: Some(state(liveness)),
                ..Surroundings::default()
            };
            risks(&before, &scaled, &around)
                .into_iter()
                .map(|r| r.kind)
                .collect()
        };
        assert_eq!(kinds(Liveness::Stopped), vec![RiskKind::OperatorStopped]);
        assert!(kinds(Liveness::Alive).is_empty());
        assert!(kinds(Liveness::Unknown).is_empty());
    }

    #[test]
    fn an_external_autoscaler_makes_replica_changes_risky_but_not_pdb_changes() {
        let around = Surroundings {
            external_autoscalers: vec![ExternalAutoscaler::ScaledObject("fs".into())],
            ..Surroundings::default()
        };
        let before = scalable(json!({"replicas": 3}));
        let scaled = patched(&before, &scale_patch(4, false));
        assert!(
            risks(&before, &scaled, &around)[0]
                .message
                .contains("KEDA ScaledObject \"fs\" targets")
        );
        let pdb = patched(&before, &pdb_patch(&PdbPolicy::MaxUnavailable(json!(1))));
        assert!(risks(&before, &pdb, &around).is_empty());
    }

    #[test]
    fn a_new_budget_that_blocks_every_eviction_is_a_risk_but_an_old_one_is_not() {
        let before = scalable(json!({"replicas": 3}));
        let blocking = patched(&before, &pdb_patch(&PdbPolicy::MinAvailable(json!(3))));
        let r = risks(&before, &blocking, &Surroundings::default());
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].message.contains("blocks every eviction"));
        let same = patched(&blocking, &json!({"metadata": {"labels": {"a": "b"}}}));
        assert!(risks(&blocking, &same, &Surroundings::default()).is_empty());
    }

    #[test]
    fn readiness_needs_the_operator_to_catch_up_and_the_pods_to_be_ready() {
        let mut obj = scalable(json!({"replicas": 3}));
        obj["status"] = json!({"applied": {"replicas": 1}, "replicas": 1});
        let r = readiness(&obj, 3);
        assert!(!r.caught_up && !r.done());
        obj["status"] = json!({"applied": {"replicas": 3}, "replicas": 2,
            "scalingStatus": {"currentReplicas": 2, "desiredReplicas": 3}});
        let r = readiness(&obj, 3);
        assert_eq!((r.ready, r.caught_up, r.done()), (2, true, false));
        obj["status"]["scalingStatus"]["currentReplicas"] = json!(3);
        assert!(readiness(&obj, 3).done());
    }

    #[test]
    fn readiness_at_one_replica_reads_status_replicas() {
        let mut obj = scalable(json!({}));
        obj["status"] = json!({"applied": {}, "replicas": 1, "scalingStatus": null});
        assert!(readiness(&obj, 1).done());
    }

    #[test]
    fn stuck_reason_quotes_the_featurestore_condition() {
        let mut obj = scalable(json!({}));
        obj["status"] = json!({"phase": "Pending", "conditions": [{"type": "FeatureStore",
            "status": "Unknown", "reason": "DeploymentNotAvailable", "message": "Deployment is not available"}]});
        assert_eq!(
            stuck_reason(&obj),
            "phase Pending; condition FeatureStore=Unknown (DeploymentNotAvailable): Deployment is not available"
        );
    }
}
