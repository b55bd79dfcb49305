//! The derived scaling picture of each FeatureStore, for `kubectl feast status`.
//!
//! The operator writes no scaling condition and no observedGeneration (operator contract §5),
//! so the picture is put together here from plain data: the FeatureStores as JSON and the
//! objects the operator owns as k8s-openapi types, each kind listed once ([`Inventory`]).
//! Owned objects are matched by name `feast-<name>` and by the controller owner UID, never by
//! the managed-by label (absent before operator 0.63, §4). A kind that could not be read is
//! carried as [`Source::Unreadable`] and every field that depends on it says so instead of
//! guessing. Pure: no client, no clock (the caller passes `now` to the renderers), no terminal.
//!
//! One submodule per section of the detail view, each with its types and its derivation:
//! [`scaling`] (who owns the count, the mode, replicas, operator sync), [`autoscaler`],
//! [`budget`], [`placement`], [`strategy`] (rollout strategy and the injected spread and
//! anti-affinity) and [`conditions`]; [`index`] looks the owned objects up. This module ties
//! them together per store.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::Value;

use crate::featurestore::FeatureStore;
use crate::rules::{self, Finding, PersistenceVerdict};

pub mod autoscaler;
pub mod budget;
pub mod conditions;
pub mod decision;
pub mod edits;
mod index;
pub mod placement;
pub mod scaling;
pub mod strategy;
pub mod verdicts;

pub use autoscaler::{Autoscaler, AutoscalerKind, Limit, MetricSummary};
pub use budget::DisruptionBudget;
pub use conditions::Condition;
pub use placement::{Placement, PodInfo, PodPlacement};
pub use scaling::{Mode, OwnerKind, ReplicaOwner, Replicas, ReplicasSource, ScalingStatus, Synced};
pub use strategy::{Injection, InjectionState, Strategy, StrategyOrigin, StrategySource};
pub use verdicts::{Area, StoreVerdict};

use index::{Index, owned};

/// The label the operator puts on the Deployment, its pods, the HPA and the PDB (§4.3).
pub const NAME_LABEL: &str = "feast.dev/name";
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
const LEGACY_ZONE_LABEL: &str = "failure-domain.beta.kubernetes.io/zone";

/// What one LIST of a kind gave: the objects, or why there are none to look at.
#[derive(Debug, Clone)]
pub enum Source<T> {
    Listed(Vec<Arc<T>>),
    /// The API is not served by this cluster (KEDA not installed, say).
    NotServed,
    /// The list failed (forbidden, say): what is known is shown, the rest is marked unknown.
    Unreadable(String),
}

impl<T> Source<T> {
    pub fn listed(items: Vec<T>) -> Self {
        Source::Listed(items.into_iter().map(Arc::new).collect())
    }

    pub(crate) fn items(&self) -> &[Arc<T>] {
        match self {
            Source::Listed(items) => items,
            _ => &[],
        }
    }

    pub(crate) fn unreadable(&self) -> Option<&str> {
        match self {
            Source::Unreadable(why) => Some(why),
            _ => None,
        }
    }

    fn state(&self, kind: Resource) -> SourceState {
        match self {
            Source::Listed(items) => SourceState {
                context: None,
                kind,
                state: SourceRead::Listed,
                count: Some(items.len()),
                reason: None,
            },
            Source::NotServed => SourceState {
                context: None,
                kind,
                state: SourceRead::NotServed,
                count: None,
                reason: Some("the API is not served by this cluster".into()),
            },
            Source::Unreadable(why) => SourceState {
                context: None,
                kind,
                state: SourceRead::Unreadable,
                count: None,
                reason: Some(why.clone()),
            },
        }
    }
}

/// Everything `status` reads, one LIST per kind.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// FeatureStore objects as JSON text (`apiVersion`, `kind`, `metadata`, `spec`, `status`).
    /// Text, not trees: each is parsed only while it is derived, since a serde_json tree takes
    /// about ten times the memory of its text, and at 2,000 stores that is most of the RSS.
    pub stores: Vec<String>,
    pub deployments: Source<Deployment>,
    pub hpas: Source<HorizontalPodAutoscaler>,
    pub pdbs: Source<PodDisruptionBudget>,
    /// Pods reduced to what placement reads ([`PodInfo`]).
    pub pods: Source<PodInfo>,
    pub nodes: Source<Node>,
    /// KEDA `ScaledObject`s (keda.sh/v1alpha1) as JSON.
    pub scaled_objects: Source<Value>,
}

text_enum! {
    /// The kinds `status` lists, by their resource names.
    pub enum Resource {
        FeatureStores = "featurestores",
        Deployments = "deployments",
        Hpas = "horizontalpodautoscalers",
        Pdbs = "poddisruptionbudgets",
        Pods = "pods",
        Nodes = "nodes",
        ScaledObjects = "scaledobjects.keda.sh",
    }
}

text_enum! {
    /// How one kind was read.
    pub enum SourceRead {
        Listed = "listed",
        NotServed = "notServed",
        Unreadable = "unreadable",
    }
}

/// How each kind was read, for the report and for "unknown because" notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceState {
    /// Over several clusters: the context whose cluster was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub kind: Resource,
    pub state: SourceRead,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The whole answer: how each kind was read, and one status per FeatureStore.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// Over several clusters: each context asked, and whether it answered (empty for one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<ContextState>,
    pub sources: Vec<SourceState>,
    pub stores: Vec<StoreStatus>,
}

/// One cluster of a view over several: its context, and its failure when it did not answer.
#[derive(Debug, Clone, Serialize)]
pub struct ContextState {
    pub context: String,
    /// `read`, or `failed` with the error.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `failed`: what to do, as the error's hints say it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

impl StatusReport {
    /// Every store's suggested commands with the `--context` they must carry, before any
    /// format renders the report.
    /// One cluster's report as a part of a view over several: each store and source says
    /// its context (the suggested commands carry it too, [`StatusReport::with_context`]).
    pub fn of_context(self, context: &str) -> StatusReport {
        let mut report = self.with_context(Some(context));
        for s in &mut report.stores {
            s.context = Some(context.to_string());
        }
        for s in &mut report.sources {
            s.context = Some(context.to_string());
        }
        report
    }

    /// The reports of several clusters as one, in the order given, with what each context did.
    pub fn merge(parts: Vec<StatusReport>, contexts: Vec<ContextState>) -> StatusReport {
        let mut merged = StatusReport {
            contexts,
            sources: Vec::new(),
            stores: Vec::new(),
        };
        for mut part in parts {
            merged.sources.append(&mut part.sources);
            merged.stores.append(&mut part.stores);
        }
        merged
    }

    pub fn with_context(mut self, context: Option<&str>) -> StatusReport {
        if context.is_none_or(str::is_empty) {
            return self;
        }
        for store in &mut self.stores {
            for w in &mut store.warnings {
                w.apply_context(context);
            }
            for fix in store.verdicts.iter_mut().filter_map(|v| v.fix.as_mut()) {
                fix.set_context(context);
            }
        }
        self
    }
}

/// How much a derived fact needs a person's attention; renderers colour by it, and the text
/// always says the same in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Info,
    Warning,
    Critical,
    Unknown,
}

impl Level {
    /// Whether this level needs more attention than `other`: critical, then warning, then
    /// unknown, then info and ok.
    pub fn worse_than(self, other: Level) -> bool {
        fn rank(l: Level) -> u8 {
            match l {
                Level::Ok => 0,
                Level::Info => 1,
                Level::Unknown => 2,
                Level::Warning => 3,
                Level::Critical => 4,
            }
        }
        rank(self) > rank(other)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub level: Level,
    pub message: String,
    /// What to do about it, where something can be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<crate::hint::Hint>,
}

fn verdict(level: Level, message: impl Into<String>) -> Verdict {
    Verdict {
        level,
        message: message.into(),
        fix: None,
    }
}

impl Verdict {
    fn fix(mut self, fix: impl Into<crate::hint::Hint>) -> Verdict {
        self.fix = Some(fix.into());
        self
    }
}

/// Whether an owned object was found, and whether it is the operator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Ownership {
    /// Named `feast-<name>` and controller-owned by this FeatureStore's UID.
    Owned,
    /// No object of that name.
    Missing,
    /// An object of that name exists but another controller (or none) owns it.
    NotOwned,
    /// The kind could not be read.
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStatus {
    /// Over several clusters: the context the store was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feast_version: Option<String>,
    pub mode: Mode,
    /// The operator runs more than one replica, or an HPA, for the spec: it then creates the
    /// PDB and injects the spread (§4.1).
    pub scaling_enabled: bool,
    /// Why the mode is what it is, in words.
    pub mode_reason: String,
    /// Every party that sets the replica count.
    pub replica_owners: Vec<ReplicaOwner>,
    pub replicas: Replicas,
    /// The Deployment's rollout of its current template; absent without a Deployment status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::rollout::Rollout>,
    pub operator_synced: Synced,
    pub deployment: OwnedRef,
    /// Hand edits of the operator's Deployment (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edits: Option<edits::Edits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<Autoscaler>,
    /// In `conflict` mode, the other HPAs that set the count (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_autoscalers: Vec<Autoscaler>,
    pub disruption_budget: DisruptionBudget,
    pub placement: Placement,
    pub strategy: Strategy,
    pub topology_spread: Injection,
    pub affinity: Injection,
    pub persistence: Vec<PersistenceVerdict>,
    /// Every service's persistence is shared, so more than one replica serves the same data.
    pub safe_to_scale: bool,
    pub conditions: Vec<Condition>,
    pub warnings: Vec<Finding>,
    /// What could not be known for this store, and why.
    pub unknown: Vec<String>,
    /// The verdict on each area (mode, replicas, autoscaler, budget, placement, safety, phase,
    /// sync, deployment) with its fix: what `status` colours and shows, and what `doctor`
    /// checks, derived once.
    pub verdicts: Vec<StoreVerdict>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnedRef {
    pub name: String,
    pub ownership: Ownership,
}

impl Inventory {
    /// One store alone, its other kinds not read (the change commands read the store and its
    /// look-ups, not the whole namespace): what it says of itself (phase, sync, mode, safety) is
    /// derived as for `status`, the rest is unknown.
    pub fn of_store(store: &Value) -> Inventory {
        let not_read = || "not read by this command".to_string();
        Inventory {
            stores: vec![store.to_string()],
            deployments: Source::Unreadable(not_read()),
            hpas: Source::Unreadable(not_read()),
            pdbs: Source::Unreadable(not_read()),
            pods: Source::Unreadable(not_read()),
            nodes: Source::Unreadable(not_read()),
            scaled_objects: Source::Unreadable(not_read()),
        }
    }
}

/// Derives the status of every FeatureStore in the inventory, sorted by namespace and name.
pub fn derive(inv: &Inventory) -> StatusReport {
    let index = Index::new(inv);
    // The text is what the shell serialised from a parsed object, so it parses; one that does
    // not is counted as not read, and said, never dropped in silence.
    let mut unreadable = Vec::new();
    let mut stores: Vec<StoreStatus> = inv
        .stores
        .iter()
        .filter_map(|text| match serde_json::from_str::<Value>(text) {
            Ok(v) => Some(v),
            Err(e) => {
                unreadable.push(e.to_string());
                None
            }
        })
        .map(|s| store(&s, &index))
        .collect();
    stores.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    StatusReport {
        contexts: Vec::new(),
        sources: vec![
            SourceState {
                context: None,
                kind: Resource::FeatureStores,
                state: SourceRead::Listed,
                count: Some(stores.len()),
                reason: (!unreadable.is_empty()).then(|| {
                    format!(
                        "{} FeatureStore(s) could not be read: {}",
                        unreadable.len(),
                        unreadable.join("; ")
                    )
                }),
            },
            inv.deployments.state(Resource::Deployments),
            inv.hpas.state(Resource::Hpas),
            inv.pdbs.state(Resource::Pdbs),
            inv.pods.state(Resource::Pods),
            inv.nodes.state(Resource::Nodes),
            inv.scaled_objects.state(Resource::ScaledObjects),
        ],
        stores,
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_i64)
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Every kind that could not be read, as `kind: why`.
fn unreadable_kinds(inv: &Inventory) -> Vec<String> {
    [
        (Resource::Deployments, inv.deployments.unreadable()),
        (Resource::Hpas, inv.hpas.unreadable()),
        (Resource::Pdbs, inv.pdbs.unreadable()),
        (Resource::Pods, inv.pods.unreadable()),
        (Resource::Nodes, inv.nodes.unreadable()),
        (Resource::ScaledObjects, inv.scaled_objects.unreadable()),
    ]
    .into_iter()
    .filter_map(|(kind, why)| why.map(|why| format!("{kind}: {why}")))
    .collect()
}

/// One store's status: each section derived by its own module from what the index holds.
fn store(object: &Value, ix: &Index) -> StoreStatus {
    let fs = FeatureStore::new(object);
    let ns = fs.namespace().unwrap_or("");
    let name = fs.name();
    let uid = fs.uid();
    let owned_name = format!("feast-{name}");
    let mut unknown = unreadable_kinds(ix.inv);

    let (dep_ownership, deployment) = owned(
        &ix.inv.deployments,
        &ix.deployments,
        (ns, &owned_name),
        uid,
        |d| &d.metadata,
    );
    let (hpa_ownership, operator_hpa) = owned(
        &ix.inv.hpas,
        &ix.hpas_by_name,
        (ns, &owned_name),
        uid,
        |h| &h.metadata,
    );
    let (pdb_ownership, pdb) = owned(&ix.inv.pdbs, &ix.pdbs, (ns, &owned_name), uid, |p| {
        &p.metadata
    });

    let claims = scaling::Claims::find(&fs, ix, operator_hpa);
    let ownership = scaling::mode(&fs, &claims, ix.inv, &mut unknown);
    let replicas = scaling::replicas(&fs, ownership.mode, deployment);
    let autoscalers = autoscaler::Autoscalers {
        operator: operator_hpa,
        operator_ownership: hpa_ownership,
        claims: &claims,
        deployment_replicas: deployment
            .and_then(|d| d.spec.as_ref())
            .and_then(|s| s.replicas)
            .map(i64::from),
        store_replicas: fs.replicas(),
    };
    let autoscaler = autoscalers.deciding(&fs, ownership.mode);
    let others = if ownership.mode == Mode::Conflict {
        autoscalers.others(autoscaler.as_ref())
    } else {
        Vec::new()
    };
    let disruption_budget = budget::disruption_budget(&fs, pdb, pdb_ownership, &replicas);
    let mut placement = placement::placement(
        ix.pods.get(&(ns, name)).map(Vec::as_slice).unwrap_or(&[]),
        ix,
        &replicas,
    );
    placement.capacity = ix
        .capacity
        .as_ref()
        .and_then(|nodes| placement::capacity(&fs, nodes));
    let synced = fs.sync();
    let edits = deployment
        .map(|d| edits::Edits::of(&fs, d, synced.synced))
        .filter(|e| !e.is_empty());
    let persistence = rules::persistence_table(object);

    let mut status = StoreStatus {
        context: None,
        namespace: ns.to_string(),
        name: name.to_string(),
        uid: uid.map(str::to_string),
        creation_timestamp: text(fs.get("metadata.creationTimestamp")),
        phase: fs.phase(),
        feast_version: fs.feast_version(),
        mode: ownership.shown,
        scaling_enabled: fs.scaling_enabled(),
        mode_reason: ownership.reason,
        replica_owners: claims.owners,
        operator_synced: synced,
        deployment: OwnedRef {
            name: owned_name,
            ownership: dep_ownership,
        },
        edits,
        strategy: strategy::strategy(&fs, deployment),
        topology_spread: strategy::topology_spread(&fs, deployment),
        affinity: strategy::affinity(&fs, deployment),
        rollout: deployment
            .and_then(crate::rollout::of_deployment)
            .map(|r| r.with_pods(placement.pods.iter().filter_map(|p| p.reason.as_deref()))),
        replicas,
        autoscaler,
        other_autoscalers: others,
        disruption_budget,
        placement,
        safe_to_scale: persistence.iter().all(|p| p.scalable),
        persistence,
        conditions: conditions::of_store(&fs),
        warnings: rules::check(object),
        unknown,
        verdicts: Vec::new(),
    };
    status.verdicts = status.judge();
    status
}

#[cfg(test)]
#[path = "../../tests/fixtures/status.rs"]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod keda_tests;
