//! `kubectl feast doctor`'s checks: what will stop scaling or high availability from working,
//! said before anything fails, each with a fix.
//!
//! Pure: the shell (`commands::doctor`) gathers plain data into [`Facts`] (what it could read,
//! and why not where it could not), and [`diagnose`] turns it into a checklist. The cluster's
//! checks are made here; each store's checks are its verdicts as `crate::status` derives them
//! (from the same reads), so nothing here re-derives what `status` already decides.

use k8s_openapi::api::core::v1::Node;
use serde::Serialize;
use serde_json::Value;

use crate::featurestore::{FeatureStore, KIND, lookup};
use crate::operator::UPGRADE;
use crate::status::Area;
use crate::status::ZONE_LABEL;
use crate::status::placement::NodeCount;

/// One look-up's outcome: what was found, that nothing is there, or why it is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe<T> {
    Found(T),
    /// The object or API does not exist in this cluster.
    Missing,
    /// The look-up failed (forbidden, say): the check says so instead of guessing.
    Unreadable(String),
}

impl<T: Clone> Probe<Vec<T>> {
    /// The look-up as `status` reads a kind: not served, or refused with its reason.
    pub fn source(&self) -> crate::status::Source<T> {
        use crate::status::Source;
        match self {
            Probe::Found(items) => Source::listed(items.clone()),
            Probe::Missing => Source::NotServed,
            Probe::Unreadable(why) => Source::Unreadable(why.clone()),
        }
    }
}

impl<T> Probe<T> {
    pub fn as_ref(&self) -> Probe<&T> {
        match self {
            Probe::Found(t) => Probe::Found(t),
            Probe::Missing => Probe::Missing,
            Probe::Unreadable(why) => Probe::Unreadable(why.clone()),
        }
    }

    pub fn found(&self) -> Option<&T> {
        match self {
            Probe::Found(t) => Some(t),
            _ => None,
        }
    }
}

/// A controller's Deployment (the Feast Operator's, KEDA's) as far as readiness goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    pub desired: i64,
    pub ready: i64,
}

/// The `Available` condition of an APIService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAvailability {
    pub available: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// One SelfSubjectAccessReview: may the caller do `verb` on `resource` (in `namespace`)?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub verb: &'static str,
    /// `featurestores.feast.dev`, `pods`, ...
    pub resource: &'static str,
    /// None for cluster-scoped resources or every namespace.
    pub namespace: Option<String>,
    /// The kubectl-feast commands that need it.
    pub needed_by: &'static str,
    /// Whether the commands fail without it (a patch) or only show less (a list).
    pub required: bool,
    pub allowed: Probe<bool>,
}

/// Everything `doctor` looks at, read by the shell.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The namespace looked at, or None for every namespace.
    pub namespace: Option<String>,
    /// The FeatureStore CRD `featurestores.feast.dev` as JSON.
    pub crd: Probe<Value>,
    /// Deployments that look like the Feast Operator's (`feast-operator-controller-manager`).
    pub operator: Probe<Vec<Workload>>,
    /// The operator's leader-election Leases (`66483dbd.feast.dev`), in every namespace.
    pub leases: Probe<Vec<k8s_openapi::api::coordination::v1::Lease>>,
    /// When the facts were read: a Lease's age is measured against it.
    pub now: k8s_openapi::jiff::Timestamp,
    /// The FeatureStores in scope as JSON; Unreadable when they could not be listed.
    pub stores: Probe<Vec<Value>>,
    /// APIService `v1beta1.metrics.k8s.io`.
    pub metrics_api: Probe<ApiAvailability>,
    /// KEDA's CRD `scaledobjects.keda.sh` exists.
    pub keda_crd: Probe<()>,
    /// Deployments that look like KEDA's operator.
    pub keda_operator: Probe<Vec<Workload>>,
    /// ScaledObjects in scope as JSON.
    pub scaled_objects: Probe<Vec<Value>>,
    pub nodes: Probe<Vec<Node>>,
    pub access: Vec<Access>,
    /// What `status` derives for the stores in scope, from the same reads: each store's
    /// verdicts are its checks here (`store/<area>`).
    pub status: Vec<crate::status::StoreStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Blocking,
    Warning,
    /// The check could not be made (a look-up was refused); the message says why.
    Unknown,
    /// Worth knowing, nothing to fix now (a single-replica store not yet safe to scale).
    Info,
    Ok,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Blocking => "blocking",
            Level::Unknown => "unknown",
            Level::Info => "info",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable id: `operator/crd`, `store/persistence`, ...
    pub id: &'static str,
    /// `cluster`, `namespace/name` of a FeatureStore.
    pub subject: String,
    pub level: Level,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<crate::hint::Hint>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub warning: usize,
    pub blocking: usize,
    pub unknown: usize,
    pub info: usize,
    pub stores: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Over several clusters: the context this checklist is of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub checks: Vec<Check>,
    pub summary: Summary,
}

impl Report {
    pub fn blocking(&self) -> bool {
        self.summary.blocking > 0
    }

    /// Every check's suggested commands with the `--context` they must carry, before any
    /// format renders the report.
    pub fn with_context(mut self, context: Option<&str>) -> Report {
        for fix in self.checks.iter_mut().filter_map(|c| c.fix.as_mut()) {
            fix.set_context(context);
        }
        self
    }
}

pub const CLUSTER: &str = "cluster";

fn check(id: &'static str, subject: &str, level: Level, message: String) -> Check {
    Check {
        id,
        subject: subject.to_string(),
        level,
        message,
        fix: None,
    }
}

impl Check {
    fn fix(mut self, fix: impl Into<crate::hint::Hint>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// The checklist for everything in `facts`: the cluster's checks first, then each store's.
pub fn diagnose(facts: &Facts) -> Report {
    let stores: &[Value] = facts.stores.found().map_or(&[], Vec::as_slice);
    let mut checks = vec![
        crd_check(&facts.crd),
        operator_check(facts, stores),
        stores_check(facts),
        metrics_check(&facts.metrics_api, stores),
    ];
    checks.extend(keda_checks(facts, stores));
    checks.push(zones_check(&facts.nodes, stores));
    checks.extend(facts.access.iter().map(access_check));
    for store in &facts.status {
        checks.extend(store_checks(store));
    }
    let mut summary = Summary {
        stores: stores.len(),
        ..Summary::default()
    };
    for c in &checks {
        match c.level {
            Level::Ok => summary.ok += 1,
            Level::Warning => summary.warning += 1,
            Level::Blocking => summary.blocking += 1,
            Level::Unknown => summary.unknown += 1,
            Level::Info => summary.info += 1,
        }
    }
    Report {
        context: None,
        checks,
        summary,
    }
}

// ---------------------------------------------------------------------------------------------
// The operator

/// What an installed FeatureStore CRD offers for scaling: the v1 scale subresource and the
/// scaling fields of the v1 schema (both first released in 0.61, §0 and §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdScaling {
    pub scale_subresource: bool,
    /// The scaling fields the v1 schema lacks, as spec paths.
    pub missing_fields: Vec<&'static str>,
}

pub fn crd_scaling(crd: &Value) -> CrdScaling {
    let versions = lookup(crd, "spec.versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let v1 = versions
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some("v1"));
    let scale_subresource = v1.is_some_and(|v| lookup(v, "subresources.scale").is_some());
    let spec = v1.and_then(|v| lookup(v, "schema.openAPIV3Schema.properties.spec.properties"));
    let missing_fields = [
        ("spec.replicas", "replicas"),
        ("spec.services.scaling", "services.properties.scaling"),
        (
            "spec.services.podDisruptionBudgets",
            "services.properties.podDisruptionBudgets",
        ),
    ]
    .into_iter()
    .filter(|(_, schema_path)| spec.and_then(|s| lookup(s, schema_path)).is_none())
    .map(|(path, _)| path)
    .collect();
    CrdScaling {
        scale_subresource,
        missing_fields,
    }
}

fn crd_check(crd: &Probe<Value>) -> Check {
    let id = "operator/crd";
    match crd {
        Probe::Missing => check(
            id,
            CLUSTER,
            Level::Blocking,
            "the FeatureStore CRD featurestores.feast.dev is not installed: the Feast Operator is missing".into(),
        )
        .fix("install the Feast Operator 0.61 or later (see docs/guide.md)"),
        Probe::Unreadable(why) => check(
            id,
            CLUSTER,
            Level::Unknown,
            format!("could not read CRD featurestores.feast.dev ({why}); the stores' feastVersion is checked instead"),
        ),
        Probe::Found(crd) => {
            let s = crd_scaling(crd);
            if s.scale_subresource && s.missing_fields.is_empty() {
                check(
                    id,
                    CLUSTER,
                    Level::Ok,
                    "CRD featurestores.feast.dev has the scale subresource and the scaling fields (operator 0.61 or later)".into(),
                )
            } else {
                let mut lacks = s.missing_fields.clone();
                if !s.scale_subresource {
                    lacks.insert(0, "the scale subresource");
                }
                check(
                    id,
                    CLUSTER,
                    Level::Blocking,
                    format!(
                        "CRD featurestores.feast.dev predates scaling (operator older than 0.61): its v1 version lacks {}; the API server prunes the scaling fields and KEDA cannot scale a FeatureStore",
                        lacks.join(", ")
                    ),
                )
                .fix(UPGRADE)
            }
        }
    }
}

/// The operator's liveness ([`crate::operator::liveness`]), as the first check: no change to
/// replicas, HPA or PDB takes effect without it, and nothing here says ok without evidence.
fn operator_check(facts: &Facts, stores: &[Value]) -> Check {
    use crate::operator::{Evidence, Liveness, liveness};
    let id = "operator/deployment";
    let lagging = stores
        .iter()
        .filter(|s| !FeatureStore::new(s).sync().synced)
        .count();
    let state = liveness(&Evidence {
        leases: &facts.leases,
        deployments: Some(&facts.operator),
        lagging_stores: lagging,
        now: facts.now,
    });
    let (level, message) = match state.liveness {
        Liveness::Alive => (
            Level::Ok,
            format!("the Feast Operator runs: {}", state.evidence),
        ),
        Liveness::Stopped => (
            Level::Blocking,
            format!(
                "the Feast Operator is not running: {}; nothing reconciles FeatureStores, so no change to replicas, HPA or PDB takes effect",
                state.evidence
            ),
        ),
        // Stores behind their spec with no sign of an operator: nothing is acting on them.
        Liveness::Unknown if lagging > 0 => (Level::Blocking, state.evidence.clone()),
        Liveness::Unknown => (Level::Unknown, state.evidence.clone()),
    };
    let c = check(id, CLUSTER, level, message);
    match state.fix {
        Some(fix) => c.fix(fix),
        None => c,
    }
}

fn stores_check(facts: &Facts) -> Check {
    let id = "featurestores/list";
    let scope = match &facts.namespace {
        Some(ns) => format!("namespace {ns:?}"),
        None => "all namespaces".to_string(),
    };
    match &facts.stores {
        Probe::Found(stores) => check(
            id,
            CLUSTER,
            Level::Ok,
            format!("{} FeatureStore(s) in {scope}", stores.len()),
        ),
        Probe::Missing => check(
            id,
            CLUSTER,
            Level::Blocking,
            format!("FeatureStores cannot be listed in {scope}: the API server does not serve featurestores.feast.dev"),
        )
        .fix("install the Feast Operator 0.61 or later"),
        Probe::Unreadable(why) => check(
            id,
            CLUSTER,
            Level::Blocking,
            format!("FeatureStores cannot be listed in {scope}: {why}"),
        )
        .fix("ask a cluster admin for read access to featurestores.feast.dev (e.g. the operator's featurestore-viewer-role)"),
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics and KEDA

fn autoscaled(store: &Value) -> bool {
    FeatureStore::new(store).autoscaling().is_some()
}

fn metrics_check(api: &Probe<ApiAvailability>, stores: &[Value]) -> Check {
    let id = "metrics/resource-api";
    let hpa: Vec<String> = stores
        .iter()
        .filter(|s| autoscaled(s))
        .map(|s| FeatureStore::new(s).name().to_string())
        .collect();
    // Without an autoscaled store nothing fails yet; the first `autoscale` would.
    let broken_level = if hpa.is_empty() {
        Level::Warning
    } else {
        Level::Blocking
    };
    let who = if hpa.is_empty() {
        "an HPA that `feast autoscale` configures could not read CPU or memory".to_string()
    } else {
        format!(
            "the HPA of {} cannot read CPU or memory and does not scale",
            hpa.join(", ")
        )
    };
    match api {
        Probe::Found(a) if a.available => check(
            id,
            CLUSTER,
            Level::Ok,
            "the resource metrics API (APIService v1beta1.metrics.k8s.io) is Available for HPA mode".into(),
        ),
        Probe::Found(a) => check(
            id,
            CLUSTER,
            broken_level,
            format!(
                "APIService v1beta1.metrics.k8s.io is not Available ({}: {}): {who}",
                a.reason.as_deref().unwrap_or("no reason given"),
                a.message.as_deref().unwrap_or("no message")
            ),
        )
        .fix("check metrics-server: `kubectl get apiservice v1beta1.metrics.k8s.io -o yaml` and `kubectl -n kube-system get pods -l k8s-app=metrics-server`"),
        Probe::Missing => check(
            id,
            CLUSTER,
            broken_level,
            format!("the resource metrics API (APIService v1beta1.metrics.k8s.io) is not installed: {who}"),
        )
        .fix("install metrics-server (https://github.com/kubernetes-sigs/metrics-server)"),
        Probe::Unreadable(why) => check(
            id,
            CLUSTER,
            Level::Unknown,
            format!("could not read APIService v1beta1.metrics.k8s.io ({why})"),
        ),
    }
}

/// ScaledObjects whose `scaleTargetRef` is a FeatureStore in scope.
fn keda_targets<'a>(facts: &'a Facts, stores: &[Value]) -> Vec<&'a Value> {
    let names: Vec<(Option<&str>, &str)> = stores
        .iter()
        .map(|s| {
            let fs = FeatureStore::new(s);
            (fs.namespace(), fs.name())
        })
        .collect();
    facts
        .scaled_objects
        .found()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter(|so| {
            let kind = lookup(so, "spec.scaleTargetRef.kind").and_then(Value::as_str);
            let name = lookup(so, "spec.scaleTargetRef.name").and_then(Value::as_str);
            let ns = lookup(so, "metadata.namespace").and_then(Value::as_str);
            kind == Some(KIND) && names.iter().any(|(n, s)| *n == ns && Some(*s) == name)
        })
        .collect()
}

fn so_name(so: &Value) -> String {
    crate::featurestore::display_name(
        lookup(so, "metadata.namespace").and_then(Value::as_str),
        lookup(so, "metadata.name")
            .and_then(Value::as_str)
            .unwrap_or(""),
    )
}

fn keda_checks(facts: &Facts, stores: &[Value]) -> Vec<Check> {
    let targets = keda_targets(facts, stores);
    if targets.is_empty() {
        // KEDA matters only where ScaledObjects target FeatureStores; say what is known.
        let message = match (&facts.keda_crd, &facts.scaled_objects) {
            (Probe::Unreadable(why), _) | (_, Probe::Unreadable(why)) => {
                return vec![check(
                    "keda/operator",
                    CLUSTER,
                    Level::Unknown,
                    format!("could not look for KEDA ScaledObjects ({why})"),
                )];
            }
            (Probe::Missing, _) => {
                "KEDA is not installed and no ScaledObject is used: nothing to check"
            }
            _ => "no KEDA ScaledObject targets a FeatureStore here: nothing to check",
        };
        return vec![check("keda/operator", CLUSTER, Level::Ok, message.into())];
    }
    let names: Vec<String> = targets.iter().map(|so| so_name(so)).collect();
    let used = format!("ScaledObject(s) {} target FeatureStores", names.join(", "));
    vec![
        keda_crd_check(&facts.keda_crd, &used),
        keda_operator_check(facts, &targets, &names, &used),
    ]
}

fn keda_crd_check(crd: &Probe<()>, used: &str) -> Check {
    match crd {
        Probe::Found(()) => check(
            "keda/crd",
            CLUSTER,
            Level::Ok,
            "KEDA's CRD scaledobjects.keda.sh is installed".into(),
        ),
        Probe::Missing => check(
            "keda/crd",
            CLUSTER,
            Level::Blocking,
            format!("{used}, but KEDA's CRD scaledobjects.keda.sh is missing"),
        )
        .fix("install KEDA (https://keda.sh/docs/latest/deploy/)"),
        Probe::Unreadable(why) => check(
            "keda/crd",
            CLUSTER,
            Level::Unknown,
            format!("could not read CRD scaledobjects.keda.sh ({why})"),
        ),
    }
}

fn keda_operator_check(facts: &Facts, targets: &[&Value], names: &[String], used: &str) -> Check {
    // KEDA's operator writes a Ready condition on each ScaledObject it handles: one that has
    // none has never been seen by a running KEDA, whatever Deployments are visible.
    let unhandled: Vec<String> = targets
        .iter()
        .filter(|so| condition(so, "Ready").is_none())
        .map(|so| so_name(so))
        .collect();
    let not_ready: Vec<String> = targets
        .iter()
        .filter(|so| condition(so, "Ready").is_some_and(|c| c.0 != "True"))
        .map(|so| {
            let (_, reason, message) = condition(so, "Ready").unwrap_or_default();
            format!("{} ({reason}: {message})", so_name(so))
        })
        .collect();
    let deployment = match &facts.keda_operator {
        Probe::Found(ws) if !ws.is_empty() => {
            let ready = ws.iter().any(|w| w.ready > 0);
            Some((ready, format!("{}/{}", ws[0].namespace, ws[0].name)))
        }
        _ => None,
    };
    let fix = "check KEDA's operator: `kubectl get pods -n keda` and its logs";
    match (deployment, unhandled.is_empty()) {
        (Some((false, name)), _) => check(
            "keda/operator",
            CLUSTER,
            Level::Blocking,
            format!("{used}, but KEDA's operator Deployment {name} has no ready pod: nothing scales them"),
        )
        .fix(fix),
        (_, false) => check(
            "keda/operator",
            CLUSTER,
            Level::Blocking,
            format!(
                "{used}, but no KEDA operator has handled {} (no Ready condition): nothing scales them",
                unhandled.join(", ")
            ),
        )
        .fix(fix),
        _ if !not_ready.is_empty() => check(
            "keda/operator",
            CLUSTER,
            Level::Warning,
            format!("KEDA reports ScaledObject(s) not ready: {}", not_ready.join("; ")),
        )
        .fix("`kubectl describe scaledobject NAME` shows KEDA's events"),
        (Some((true, name)), _) => check(
            "keda/operator",
            CLUSTER,
            Level::Ok,
            format!("KEDA's operator ({name}) runs and handles {}", names.join(", ")),
        ),
        (None, _) => check(
            "keda/operator",
            CLUSTER,
            Level::Ok,
            format!("KEDA's operator handles {} (Ready)", names.join(", ")),
        ),
    }
}

/// (status, reason, message) of a condition in `status.conditions`.
fn condition(obj: &Value, type_: &str) -> Option<(String, String, String)> {
    let list = lookup(obj, "status.conditions")?.as_array()?;
    let c = list
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))?;
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Some((s("status"), s("reason"), s("message")))
}

// ---------------------------------------------------------------------------------------------
// Nodes and zones

fn zones_check(nodes: &Probe<Vec<Node>>, stores: &[Value]) -> Check {
    let id = "nodes/zones";
    let spreading: Vec<&str> = stores
        .iter()
        .map(FeatureStore::new)
        .filter(|fs| fs.injects_zone_spread())
        .map(|fs| fs.name())
        .collect();
    match nodes {
        Probe::Unreadable(why) => check(
            id,
            CLUSTER,
            Level::Unknown,
            format!("could not list nodes ({why}): zones and node counts not checked"),
        )
        .fix("ask for `list` on nodes (a ClusterRole) to have them checked"),
        Probe::Missing => check(id, CLUSTER, Level::Unknown, "nodes are not served".into()),
        Probe::Found(list) => {
            let n = NodeCount::of(list);
            let counts = format!(
                "{} schedulable node(s) of {} in {} zone(s)",
                n.schedulable, n.total, n.zones
            );
            let spread_note = if spreading.is_empty() {
                String::new()
            } else {
                format!(
                    ": the zone spread the operator injects for {} does nothing",
                    spreading.join(", ")
                )
            };
            if n.schedulable == 0 {
                check(
                    id,
                    CLUSTER,
                    Level::Blocking,
                    format!(
                        "no schedulable node ({} node(s), none Ready, uncordoned and free of NoSchedule/NoExecute taints): no pod can start",
                        n.total
                    ),
                )
                .fix("`kubectl get nodes`: uncordon nodes or add capacity")
            } else if n.zones == 0 {
                check(
                    id,
                    CLUSTER,
                    Level::Warning,
                    format!("{counts}: no node carries {ZONE_LABEL}{spread_note}"),
                )
                .fix(format!(
                    "label the nodes with their zone (`kubectl label node NODE {ZONE_LABEL}=ZONE`; cloud providers set it)"
                ))
            } else if !n.unzoned.is_empty() {
                check(
                    id,
                    CLUSTER,
                    Level::Warning,
                    format!(
                        "{counts}; {} schedulable node(s) lack {ZONE_LABEL} ({}): the zone spread ignores them",
                        n.unzoned.len(),
                        n.unzoned.join(", ")
                    ),
                )
                .fix(format!("`kubectl label node NODE {ZONE_LABEL}=ZONE`"))
            } else {
                check(
                    id,
                    CLUSTER,
                    Level::Ok,
                    format!("{counts}, every one labelled with {ZONE_LABEL}"),
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The caller's RBAC

fn access_check(a: &Access) -> Check {
    let id = "rbac/access";
    let where_ = match &a.namespace {
        Some(ns) => format!(" in namespace {ns:?}"),
        None => String::new(),
    };
    let what = format!("{} {}{where_}", a.verb, a.resource);
    match &a.allowed {
        Probe::Found(true) => check(
            id,
            CLUSTER,
            Level::Ok,
            format!("you may {what} ({})", a.needed_by),
        ),
        // Your own permissions never block: they stop your commands, not scaling or HA, and
        // a read-only job (a viewer in CI) must be able to pass.
        Probe::Found(false) => check(
            id,
            CLUSTER,
            Level::Warning,
            if a.required {
                format!("you may not {what}: {} will be refused (403)", a.needed_by)
            } else {
                format!("you may not {what}: {} show it as unknown", a.needed_by)
            },
        )
        .fix(format!(
            "ask a cluster admin to grant {what}{}",
            if a.resource == "featurestores.feast.dev" {
                " (the Feast Operator's featurestore-editor-role grants it)"
            } else {
                ""
            }
        )),
        Probe::Missing | Probe::Unreadable(_) => check(
            id,
            CLUSTER,
            Level::Unknown,
            format!(
                "could not ask whether you may {what}{}",
                match &a.allowed {
                    Probe::Unreadable(why) => format!(" ({why})"),
                    _ => String::new(),
                }
            ),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Each store

/// A store's checks are its verdicts as `status` derives them, one per area that needs
/// attention (and one `ok` when none does): CRITICAL blocks, WARNING warns, each with its fix.
/// So doctor never says ok for what status marks CRITICAL or WARNING, and the two say it in
/// the same words.
fn store_checks(s: &crate::status::StoreStatus) -> Vec<Check> {
    use crate::status::Level as StatusLevel;
    let subject = crate::featurestore::display_name(Some(s.namespace.as_str()), &s.name);
    let mut out: Vec<Check> = s
        .verdicts
        .iter()
        .filter_map(|v| {
            let level = match v.level {
                StatusLevel::Critical => Level::Blocking,
                StatusLevel::Warning => Level::Warning,
                StatusLevel::Unknown => Level::Unknown,
                StatusLevel::Info => Level::Info,
                StatusLevel::Ok => return None,
            };
            let mut c = check(store_id(v.area), &subject, level, v.message.clone());
            c.fix = v.fix.clone();
            Some(c)
        })
        .collect();
    if !out.iter().any(|c| c.level < Level::Info) {
        out.insert(
            0,
            check(
                "store/verdicts",
                &subject,
                Level::Ok,
                "status shows nothing that needs attention".into(),
            ),
        );
    }
    out
}

/// The check id of a verdict's area: `store/<area>`.
fn store_id(area: Area) -> &'static str {
    match area {
        Area::Mode => "store/mode",
        Area::Replicas => "store/replicas",
        Area::Autoscaler => "store/autoscaler",
        Area::Budget => "store/budget",
        Area::Placement => "store/placement",
        Area::Safety => "store/safety",
        Area::Phase => "store/phase",
        Area::Sync => "store/sync",
        Area::Deployment => "store/deployment",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use serde_json::json;

    fn node(name: &str, zone: Option<&str>, ready: bool) -> Node {
        let mut labels = serde_json::Map::new();
        if let Some(z) = zone {
            labels.insert(ZONE_LABEL.into(), json!(z));
        }
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
        }))
        .expect("node")
    }

    fn db_store(name: &str, extra: Value) -> Value {
        let mut spec = json!({"feastProject": "p", "services": {
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}},
                "server": {"resources": {"requests": {"cpu": "100m"}}}},
            "registry": {"remote": {"hostname": "r:80"}}}});
        crate::plan::merge_patch(&mut spec, &extra);
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}")},
            "spec": spec.clone(),
            "status": {"feastVersion": "0.66.0", "phase": "Ready", "applied": spec}})
    }

    /// The operator's Deployment of store `name`, every replica ready.
    fn deployment(name: &str, replicas: i32) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": format!("feast-{name}"), "namespace": "ns",
              "ownerReferences": [{"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": name,
                "uid": format!("uid-{name}"), "controller": true}]},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": {"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas,
              "availableReplicas": replicas}
        }))
        .expect("deployment")
    }

    fn facts(stores: Vec<Value>) -> Facts {
        Facts {
            namespace: Some("ns".into()),
            crd: Probe::Found(json!({"spec": {"versions": [{"name": "v1",
                "subresources": {"scale": {}}, "schema": {"openAPIV3Schema": {"properties": {"spec": {"properties": {
                    "replicas": {}, "services": {"properties": {"scaling": {}, "podDisruptionBudgets": {}}}}}}}}}]}})),
            operator: Probe::Found(vec![Workload {
                namespace: "feast-operator-system".into(),
                name: "feast-operator-controller-manager".into(),
                desired: 1,
                ready: 1,
            }]),
            leases: Probe::Found(vec![]),
            now: "2026-12-05T12:00:00Z".parse().expect("a time"),
            status: Vec::new(),
            stores: Probe::Found(stores),
            metrics_api: Probe::Found(ApiAvailability {
                available: true,
                reason: None,
                message: None,
            }),
            keda_crd: Probe::Missing,
            keda_operator: Probe::Missing,
            scaled_objects: Probe::Missing,
            nodes: Probe::Found(vec![
                node("a", Some("z1"), true),
                node("b", Some("z2"), true),
                node("c", Some("z3"), true),
            ]),
            access: vec![],
        }
    }

    /// The checklist, the store checks derived as `status` derives them from the same facts;
    /// what a test does not set (HPAs, PDBs, pods) is not read.
    fn diagnose(f: &Facts) -> Report {
        with_deployments(f, Probe::Found(vec![]))
    }

    fn with_deployments(f: &Facts, deployments: Probe<Vec<Deployment>>) -> Report {
        fn not_read<T>() -> crate::status::Source<T> {
            crate::status::Source::Unreadable("not read in this test".into())
        }
        let inventory = crate::status::Inventory {
            stores: f
                .stores
                .found()
                .map_or(vec![], |s| s.iter().map(Value::to_string).collect()),
            deployments: deployments.source(),
            hpas: not_read(),
            pdbs: not_read(),
            pods: not_read(),
            nodes: f.nodes.source(),
            scaled_objects: not_read(),
        };
        let mut f = f.clone();
        f.status = crate::status::derive(&inventory).stores;
        super::diagnose(&f)
    }

    fn level_of(r: &Report, id: &str) -> Level {
        r.checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no check {id} in {:#?}", r.checks))
            .level
    }

    #[test]
    fn a_healthy_cluster_has_nothing_blocking() {
        let f = facts(vec![db_store(
            "a",
            json!({"replicas": 3, "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}),
        )]);
        let r = with_deployments(&f, Probe::Found(vec![deployment("a", 3)]));
        assert!(!r.blocking(), "{:#?}", r.checks);
        assert_eq!(r.summary.warning, 0, "{:#?}", r.checks);
    }

    #[test]
    fn a_crd_without_the_scale_subresource_blocks() {
        let mut f = facts(vec![]);
        f.crd = Probe::Found(
            json!({"spec": {"versions": [{"name": "v1", "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"properties": {"spec": {"properties": {"services": {"properties": {}}}}}}}}]}}),
        );
        let r = diagnose(&f);
        let c = r
            .checks
            .iter()
            .find(|c| c.id == "operator/crd")
            .expect("crd");
        assert_eq!(c.level, Level::Blocking);
        assert!(
            c.message.contains("the scale subresource, spec.replicas"),
            "{}",
            c.message
        );
    }

    #[test]
    fn an_old_operator_version_on_a_store_blocks() {
        let mut s = db_store("a", json!({}));
        s["status"]["feastVersion"] = json!("0.58.0");
        let r = diagnose(&facts(vec![s]));
        assert_eq!(level_of(&r, "store/phase"), Level::Blocking);
    }

    #[test]
    fn an_unavailable_metrics_api_blocks_only_when_a_store_autoscales() {
        let mut f = facts(vec![db_store("a", json!({}))]);
        f.metrics_api = Probe::Found(ApiAvailability {
            available: false,
            reason: Some("FailedDiscoveryCheck".into()),
            message: Some("connection refused".into()),
        });
        assert_eq!(
            level_of(&diagnose(&f), "metrics/resource-api"),
            Level::Warning
        );
        f.stores = Probe::Found(vec![db_store(
            "a",
            json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 4}}}}),
        )]);
        let r = diagnose(&f);
        let c = r
            .checks
            .iter()
            .find(|c| c.id == "metrics/resource-api")
            .expect("metrics");
        assert_eq!(c.level, Level::Blocking);
        assert!(c.message.contains("FailedDiscoveryCheck") && c.message.contains("HPA of a"));
    }

    #[test]
    fn nodes_without_zone_labels_make_the_injected_spread_useless() {
        let mut f = facts(vec![db_store("a", json!({"replicas": 2}))]);
        f.nodes = Probe::Found(vec![
            node("a", None, true),
            node("b", None, true),
            node("c", None, false),
        ]);
        let r = diagnose(&f);
        let c = r
            .checks
            .iter()
            .find(|c| c.id == "nodes/zones")
            .expect("zones");
        assert_eq!(c.level, Level::Warning);
        assert!(
            c.message
                .contains("2 schedulable node(s) of 3 in 0 zone(s)"),
            "{}",
            c.message
        );
        assert!(c.message.contains("does nothing"), "{}", c.message);
        assert_eq!(level_of(&r, "store/placement"), Level::Warning);
    }

    #[test]
    fn more_replicas_than_schedulable_nodes_is_a_warning() {
        let r = diagnose(&facts(vec![db_store("a", json!({"replicas": 5}))]));
        let c = r
            .checks
            .iter()
            .find(|c| c.id == "store/placement")
            .expect("placement");
        assert_eq!(c.level, Level::Warning);
        assert!(c.message.contains("5 replicas on 3 schedulable node(s)"));
    }

    #[test]
    fn a_denied_patch_blocks_and_a_denied_list_warns() {
        let mut f = facts(vec![]);
        let access = |verb, resource, required, allowed| Access {
            verb,
            resource,
            namespace: Some("ns".into()),
            needed_by: "x",
            required,
            allowed: Probe::Found(allowed),
        };
        f.access = vec![
            access("patch", "featurestores.feast.dev", true, false),
            access("list", "pods", false, false),
        ];
        let r = diagnose(&f);
        let levels: Vec<Level> = r
            .checks
            .iter()
            .filter(|c| c.id == "rbac/access")
            .map(|c| c.level)
            .collect();
        // Your own permissions warn, never block (a read-only CI job must pass).
        assert_eq!(levels, vec![Level::Warning, Level::Warning]);
    }

    #[test]
    fn missing_cpu_requests_block_an_hpa_store() {
        let s = db_store(
            "a",
            json!({"services": {"onlineStore": {"server": {"resources": null}},
            "scaling": {"autoscaling": {"maxReplicas": 4}}}}),
        );
        assert_eq!(
            level_of(&diagnose(&facts(vec![s])), "store/autoscaler"),
            Level::Blocking
        );
    }

    #[test]
    fn a_file_backed_single_store_is_information_and_a_pdb_that_blocks_drains_warns() {
        let file = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "f", "namespace": "ns"}, "spec": {"feastProject": "p"},
            "status": {"feastVersion": "0.66.0"}});
        assert_eq!(
            level_of(&diagnose(&facts(vec![file])), "store/safety"),
            Level::Info
        );
        let tight = db_store(
            "a",
            json!({"replicas": 2, "services": {"podDisruptionBudgets": {"minAvailable": 2}}}),
        );
        assert_eq!(
            level_of(&diagnose(&facts(vec![tight])), "store/budget"),
            Level::Warning
        );
    }

    #[test]
    fn a_hand_scaled_deployment_is_named_with_its_editor() {
        let store = db_store("a", json!({"replicas": 2}));
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "feast-a", "namespace": "ns",
              "ownerReferences": [{"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "a",
                "uid": "uid-a", "controller": true}],
              "managedFields": [
                {"manager": "feast-operator", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:ownerReferences": {}}, "f:spec": {"f:replicas": {}}}},
                {"manager": "kubectl", "operation": "Update", "subresource": "scale", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {"replicas": 5, "selector": {}, "template": {}, "strategy": {"type": "RollingUpdate"}}
        }))
        .expect("deployment");
        let r = with_deployments(&facts(vec![store]), Probe::Found(vec![d]));
        let c = r
            .checks
            .iter()
            .find(|c| c.id == "store/deployment")
            .expect("edits");
        assert_eq!(c.level, Level::Warning);
        assert!(
            c.message
                .contains("runs 5 replica(s) where the FeatureStore says 2"),
            "{}",
            c.message
        );
        assert!(c.message.contains("kubectl via /scale"), "{}", c.message);
    }

    #[test]
    fn a_scaled_object_that_no_keda_handled_blocks() {
        let mut f = facts(vec![db_store("a", json!({}))]);
        f.keda_crd = Probe::Found(());
        f.scaled_objects = Probe::Found(vec![
            json!({"metadata": {"name": "so", "namespace": "ns"},
            "spec": {"scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "a"}}}),
        ]);
        let r = diagnose(&f);
        assert_eq!(level_of(&r, "keda/operator"), Level::Blocking);
    }
}
