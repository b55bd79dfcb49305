//! The derived scaling picture of each FeatureStore, for `kubectl feast status`.
//!
//! The operator writes no scaling condition and no observedGeneration (operator contract §5),
//! so the picture is put together here from plain data: the FeatureStores as JSON and the
//! objects the operator owns as k8s-openapi types, each kind listed once ([`Inventory`]).
//! Owned objects are matched by name `feast-<name>` and by the controller owner UID, never by
//! the managed-by label (absent before operator 0.63, §4). A kind that could not be read is
//! carried as [`Source::Unreadable`] and every field that depends on it says so instead of
//! guessing. Pure: no client, no clock (the caller passes `now` to the renderers), no terminal.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus,
};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::Value;

use crate::featurestore::{FeatureStore, IntOrPercent, KIND, lookup, without_nulls};
use crate::rules::{self, Finding, PersistenceVerdict, keda};

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

    fn items(&self) -> &[Arc<T>] {
        match self {
            Source::Listed(items) => items,
            _ => &[],
        }
    }

    fn unreadable(&self) -> Option<&str> {
        match self {
            Source::Unreadable(why) => Some(why),
            _ => None,
        }
    }

    fn state(&self, kind: &'static str) -> SourceState {
        match self {
            Source::Listed(items) => SourceState {
                kind,
                state: "listed",
                count: Some(items.len()),
                reason: None,
            },
            Source::NotServed => SourceState {
                kind,
                state: "notServed",
                count: None,
                reason: Some("the API is not served by this cluster".into()),
            },
            Source::Unreadable(why) => SourceState {
                kind,
                state: "unreadable",
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

/// What placement reads of a Pod. The shell reduces each Pod to this as its page arrives:
/// 6,000 k8s-openapi Pods take about 30 MB, these a tenth of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    /// The `feast.dev/name` label: the store the pod belongs to.
    pub store: Option<String>,
    pub node: Option<String>,
    /// The `Ready` condition is True.
    pub ready: bool,
    pub phase: Option<String>,
    /// The sum of the containers' restart counts.
    pub restarts: i64,
    pub creation_timestamp: Option<String>,
    /// Why it is not ready (the scheduler's or the kubelet's words), when it is not.
    pub not_ready: Option<String>,
}

impl PodInfo {
    /// The one place a Pod's facts become a `PodInfo`, whichever shape they were read in (a
    /// k8s-openapi Pod here, the slim wire shape in the shell). `conditions` are (type, status).
    pub fn from_parts<'a>(
        metadata: &ObjectMeta,
        node: Option<String>,
        phase: Option<String>,
        conditions: impl IntoIterator<Item = (&'a str, &'a str)>,
        restarts: impl IntoIterator<Item = i32>,
        not_ready: Option<String>,
    ) -> Self {
        PodInfo {
            namespace: metadata.namespace.clone().unwrap_or_default(),
            name: metadata.name.clone().unwrap_or_default(),
            store: metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(NAME_LABEL))
                .cloned(),
            node,
            ready: conditions
                .into_iter()
                .any(|(t, status)| t == "Ready" && status == "True"),
            phase,
            restarts: restarts.into_iter().map(i64::from).sum(),
            creation_timestamp: metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
            not_ready,
        }
    }

    pub fn from_pod(p: &Pod) -> Self {
        let status = p.status.as_ref();
        PodInfo::from_parts(
            &p.metadata,
            p.spec.as_ref().and_then(|s| s.node_name.clone()),
            status.and_then(|s| s.phase.clone()),
            status
                .and_then(|s| s.conditions.as_deref())
                .unwrap_or_default()
                .iter()
                .map(|c| (c.type_.as_str(), c.status.as_str())),
            status
                .and_then(|s| s.container_statuses.as_deref())
                .unwrap_or_default()
                .iter()
                .map(|c| c.restart_count),
            crate::rollout::pod_reason(p),
        )
    }
}

/// How each kind was read, for the report and for "unknown because" notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceState {
    pub kind: &'static str,
    /// `listed`, `notServed` or `unreadable`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The whole answer: how each kind was read, and one status per FeatureStore.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub sources: Vec<SourceState>,
    pub stores: Vec<StoreStatus>,
}

/// Who decides the replica count (issue 5, operator contract §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One replica, scaling off.
    Single,
    /// `spec.replicas` > 1.
    Static,
    /// `spec.services.scaling.autoscaling`: the operator's HPA.
    Hpa,
    /// A KEDA ScaledObject or another HPA targets the FeatureStore's scale subresource.
    External,
    /// Several owners claim the replica count.
    Conflict,
    /// HPAs or ScaledObjects could not be read, so who owns the count cannot be told.
    Unknown,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Static => "static",
            Mode::Hpa => "hpa",
            Mode::External => "external",
            Mode::Conflict => "conflict",
            Mode::Unknown => "unknown",
        }
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub level: Level,
    pub message: String,
}

fn verdict(level: Level, message: impl Into<String>) -> Verdict {
    Verdict {
        level,
        message: message.into(),
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaOwner {
    /// `featurestore` (spec.replicas), `operator-hpa`, `external-hpa`, `scaledobject`,
    /// or `foreign-hpa` (an HPA on the Deployment that the operator does not own).
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnedRef {
    pub name: String,
    pub ownership: Ownership,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replicas {
    /// `spec.replicas` (1 when absent, §2.1).
    pub spec: i64,
    /// The count the store should run: `spec.replicas`, or in `hpa` and `conflict` modes the
    /// Deployment's count (the HPA's choice), else `status.scalingStatus.desiredReplicas`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<i64>,
    /// The Deployment's `spec.replicas`, when the Deployment was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<i64>,
    /// Ready pods: the Deployment's `status.readyReplicas`, else `status.replicas`.
    pub ready: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
    /// `deployment` when the live numbers come from the Deployment, else `featurestore`.
    pub source: &'static str,
    /// `status.scalingStatus` as the operator last wrote it (absent when scaling is off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_status: Option<ScalingStatus>,
    /// The Deployment controller has seen the latest template (`observedGeneration`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_observed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Synced {
    /// `status.applied` holds the spec's scaling and HA fields: the operator has caught up.
    pub synced: bool,
    /// What differs, as `field: spec X, applied Y`.
    pub differences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaler {
    /// `operator` (feast-<name>, owned), `external` (targets the FeatureStore), `foreign`
    /// (targets the Deployment but is not the operator's).
    pub kind: &'static str,
    pub name: String,
    pub min_replicas: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i64>,
    pub metrics: Vec<MetricSummary>,
    pub conditions: Vec<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_scale_time: Option<String>,
    /// `max` when it cannot add replicas, `min` when it cannot remove any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_limit: Option<&'static str>,
    /// The KEDA ScaledObject behind it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaled_object: Option<String>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSummary {
    /// `cpu`, `memory`, a pods/object/external metric name, or `cpu(container)`.
    pub name: String,
    /// The current value, in the target's unit (`45%`, `250m`); absent until measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisruptionBudget {
    /// `spec.services.podDisruptionBudgets` as a policy (`maxUnavailable 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configured: Option<String>,
    pub object: OwnedRef,
    /// The PDB object's own policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_healthy: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_healthy: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disruptions_allowed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_pods: Option<i64>,
    /// Whether an eviction (a node drain) would be refused now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks_drains: Option<bool>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodPlacement {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    pub restarts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// Why the pod is not ready: the scheduler's or the kubelet's reason and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// Unknown when pods could not be listed.
    pub pods_known: bool,
    pub pods: Vec<PodPlacement>,
    /// Distinct nodes the ready pods run on.
    pub nodes: usize,
    /// Distinct zones of those nodes; absent when nodes could not be read or lack zone labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zones: Option<usize>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Strategy {
    /// `RollingUpdate` or `Recreate`, with rolling parameters when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    /// `deployment` (read from the Deployment) or `spec` (derived, the Deployment unknown).
    pub source: &'static str,
    /// `explicit` or `operator default`.
    pub origin: &'static str,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injection {
    /// `injected` (the operator's default), `custom` (from the spec), `disabled` (explicitly
    /// empty in the spec) or `none` (scaling off).
    pub state: &'static str,
    /// What the Deployment's pod template actually carries, when it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

/// Derives the status of every FeatureStore in the inventory, sorted by namespace and name.
pub fn derive(inv: &Inventory) -> StatusReport {
    let index = Index::new(inv);
    // The text is what the shell serialised from a parsed object, so it always parses.
    let mut stores: Vec<StoreStatus> = inv
        .stores
        .iter()
        .filter_map(|text| serde_json::from_str::<Value>(text).ok())
        .map(|s| store(&s, &index))
        .collect();
    stores.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    StatusReport {
        sources: vec![
            SourceState {
                kind: "featurestores",
                state: "listed",
                count: Some(inv.stores.len()),
                reason: None,
            },
            inv.deployments.state("deployments"),
            inv.hpas.state("horizontalpodautoscalers"),
            inv.pdbs.state("poddisruptionbudgets"),
            inv.pods.state("pods"),
            inv.nodes.state("nodes"),
            inv.scaled_objects.state("scaledobjects.keda.sh"),
        ],
        stores,
    }
}

type Key<'a> = (&'a str, &'a str);

/// The inventory indexed once, so that deriving 2,000 stores stays linear.
struct Index<'a> {
    inv: &'a Inventory,
    deployments: HashMap<Key<'a>, &'a Deployment>,
    pdbs: HashMap<Key<'a>, &'a PodDisruptionBudget>,
    hpas_by_name: HashMap<Key<'a>, &'a HorizontalPodAutoscaler>,
    /// HPAs by (namespace, target kind, target name).
    hpas_by_target: HashMap<(&'a str, &'a str, &'a str), Vec<&'a HorizontalPodAutoscaler>>,
    scaled_objects: HashMap<Key<'a>, Vec<&'a Value>>,
    /// ScaledObjects by (namespace, Deployment name): aimed at a Deployment, which for the
    /// operator's `feast-<name>` is the anti-pattern that fights the operator.
    scaled_objects_on_deployment: HashMap<Key<'a>, Vec<&'a Value>>,
    pods: HashMap<Key<'a>, Vec<&'a PodInfo>>,
    zones: HashMap<&'a str, Option<&'a str>>,
}

fn meta_key(meta: &ObjectMeta) -> Key<'_> {
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

impl<'a> Index<'a> {
    fn new(inv: &'a Inventory) -> Self {
        let deployments = inv
            .deployments
            .items()
            .iter()
            .map(|d| (meta_key(&d.metadata), d.as_ref()))
            .collect();
        let pdbs = inv
            .pdbs
            .items()
            .iter()
            .map(|p| (meta_key(&p.metadata), p.as_ref()))
            .collect();
        let mut hpas_by_name = HashMap::new();
        let mut hpas_by_target: HashMap<_, Vec<_>> = HashMap::new();
        for h in inv.hpas.items() {
            hpas_by_name.insert(meta_key(&h.metadata), h.as_ref());
            if let Some(spec) = &h.spec {
                let ns = h.metadata.namespace.as_deref().unwrap_or("");
                let target = &spec.scale_target_ref;
                hpas_by_target
                    .entry((ns, target.kind.as_str(), target.name.as_str()))
                    .or_default()
                    .push(h.as_ref());
            }
        }
        let mut scaled_objects: HashMap<_, Vec<_>> = HashMap::new();
        let mut scaled_objects_on_deployment: HashMap<_, Vec<_>> = HashMap::new();
        for so in inv.scaled_objects.items() {
            let kind = lookup(so, "spec.scaleTargetRef.kind").and_then(Value::as_str);
            let name = lookup(so, "spec.scaleTargetRef.name").and_then(Value::as_str);
            let ns = lookup(so, "metadata.namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            if let (Some(KIND), Some(name)) = (kind, name) {
                scaled_objects
                    .entry((ns, name))
                    .or_default()
                    .push(so.as_ref());
            } else if let keda::Target::Deployment(name) = keda::target(so) {
                scaled_objects_on_deployment
                    .entry((ns, name))
                    .or_default()
                    .push(so.as_ref());
            }
        }
        let mut pods: HashMap<_, Vec<_>> = HashMap::new();
        for p in inv.pods.items() {
            if let Some(store) = &p.store {
                pods.entry((p.namespace.as_str(), store.as_str()))
                    .or_default()
                    .push(p.as_ref());
            }
        }
        let zones = inv
            .nodes
            .items()
            .iter()
            .map(|n| {
                let labels = n.metadata.labels.as_ref();
                let zone = labels
                    .and_then(|l| l.get(ZONE_LABEL).or_else(|| l.get(LEGACY_ZONE_LABEL)))
                    .map(String::as_str);
                (n.metadata.name.as_deref().unwrap_or(""), zone)
            })
            .collect();
        Index {
            inv,
            deployments,
            pdbs,
            hpas_by_name,
            hpas_by_target,
            scaled_objects,
            scaled_objects_on_deployment,
            pods,
            zones,
        }
    }
}

/// The controller ownerReference's UID, if any.
fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|r: &&OwnerReference| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// Looks up `feast-<name>` of one kind and checks it is controlled by this store's UID.
fn owned<'a, T>(
    source: &Source<T>,
    map: &HashMap<Key<'a>, &'a T>,
    ns: &str,
    object_name: &str,
    uid: Option<&str>,
    meta: impl Fn(&T) -> &ObjectMeta,
) -> (Ownership, Option<&'a T>) {
    if source.unreadable().is_some() {
        return (Ownership::Unknown, None);
    }
    match map.get(&(ns, object_name)) {
        None => (Ownership::Missing, None),
        Some(obj) => match (controller_uid(meta(obj)), uid) {
            (Some(owner), Some(uid)) if owner == uid => (Ownership::Owned, Some(*obj)),
            _ => (Ownership::NotOwned, None),
        },
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_i64)
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn store(object: &Value, ix: &Index) -> StoreStatus {
    let fs = FeatureStore::new(object);
    let ns = fs.namespace().unwrap_or("");
    let name = fs.name();
    let uid = fs.get("metadata.uid").and_then(Value::as_str);
    let owned_name = format!("feast-{name}");
    let mut unknown = Vec::new();
    for (kind, src) in [
        ("deployments", ix.inv.deployments.unreadable()),
        ("horizontalpodautoscalers", ix.inv.hpas.unreadable()),
        ("poddisruptionbudgets", ix.inv.pdbs.unreadable()),
        ("pods", ix.inv.pods.unreadable()),
        ("nodes", ix.inv.nodes.unreadable()),
        ("scaledobjects.keda.sh", ix.inv.scaled_objects.unreadable()),
    ] {
        if let Some(why) = src {
            unknown.push(format!("{kind}: {why}"));
        }
    }

    let (dep_ownership, deployment) = owned(
        &ix.inv.deployments,
        &ix.deployments,
        ns,
        &owned_name,
        uid,
        |d| &d.metadata,
    );
    let (hpa_ownership, operator_hpa) =
        owned(&ix.inv.hpas, &ix.hpas_by_name, ns, &owned_name, uid, |h| {
            &h.metadata
        });
    let (pdb_ownership, pdb) = owned(&ix.inv.pdbs, &ix.pdbs, ns, &owned_name, uid, |p| {
        &p.metadata
    });

    // Everyone who claims the replica count.
    let scaled_objects = ix
        .scaled_objects
        .get(&(ns, name))
        .cloned()
        .unwrap_or_default();
    let so_names: BTreeSet<&str> = scaled_objects
        .iter()
        .filter_map(|so| lookup(so, "metadata.name").and_then(Value::as_str))
        .collect();
    let external_hpas: Vec<&HorizontalPodAutoscaler> = ix
        .hpas_by_target
        .get(&(ns, KIND, name))
        .map(|v| v.iter().copied().filter(|h| is_feast_target(h)).collect())
        .unwrap_or_default();
    let foreign_hpas: Vec<&HorizontalPodAutoscaler> = ix
        .hpas_by_target
        .get(&(ns, "Deployment", owned_name.as_str()))
        .map(|v| {
            v.iter()
                .copied()
                .filter(|h| operator_hpa.is_none_or(|op| !std::ptr::eq(*h, op)))
                .filter(|h| !(uid.is_some() && controller_uid(&h.metadata) == uid))
                .collect()
        })
        .unwrap_or_default();

    // KEDA aimed at the operator's Deployment: its HPA (keda-hpa-<so>, when KEDA runs) is one of
    // the foreign HPAs, counted once under the ScaledObject's name.
    let misaimed: Vec<&Value> = ix
        .scaled_objects_on_deployment
        .get(&(ns, owned_name.as_str()))
        .cloned()
        .unwrap_or_default();
    let misaimed_names: BTreeSet<&str> = misaimed.iter().map(|so| keda::name(so)).collect();
    let behind_misaimed = |h: &HorizontalPodAutoscaler| {
        h.metadata
            .owner_references
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .any(|r| r.kind == keda::SCALED_OBJECT && misaimed_names.contains(r.name.as_str()))
    };

    let spec_autoscaling = fs.autoscaling().is_some();
    let mut owners = Vec::new();
    if spec_autoscaling {
        owners.push(ReplicaOwner {
            kind: "operator-hpa",
            name: owned_name.clone(),
        });
    }
    for so in &so_names {
        owners.push(ReplicaOwner {
            kind: "scaledobject",
            name: (*so).to_string(),
        });
    }
    for h in &external_hpas {
        let behind_so = h
            .metadata
            .owner_references
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .any(|r| r.kind == "ScaledObject" && so_names.contains(r.name.as_str()));
        if !behind_so {
            owners.push(ReplicaOwner {
                kind: "external-hpa",
                name: h.metadata.name.clone().unwrap_or_default(),
            });
        }
    }
    for so in &misaimed_names {
        owners.push(ReplicaOwner {
            kind: "scaledobject-on-deployment",
            name: (*so).to_string(),
        });
    }
    for h in foreign_hpas.iter().filter(|h| !behind_misaimed(h)) {
        owners.push(ReplicaOwner {
            kind: "foreign-hpa",
            name: h.metadata.name.clone().unwrap_or_default(),
        });
    }
    let externals = owners.iter().filter(|o| o.kind != "operator-hpa").count();
    let (mode, mode_reason) = if let Some(so) = misaimed_names.first() {
        // Even alone it fights: the operator resets the Deployment KEDA's HPA scales (§7).
        let mut reason = keda::deployment_target_warning(so, name);
        if owners.len() > 1 {
            let list = owners
                .iter()
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect::<Vec<_>>()
                .join(", ");
            reason.push_str(&format!("; every owner of the count: {list}"));
        }
        (Mode::Conflict, reason)
    } else if owners.len() > 1 {
        let list = owners
            .iter()
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect::<Vec<_>>()
            .join(", ");
        (
            Mode::Conflict,
            format!("several owners set the replica count: {list}"),
        )
    } else if externals == 1 && !foreign_hpas.is_empty() {
        // An HPA on the Deployment fights the operator, which resets the Deployment's
        // replicas to spec.replicas on every reconcile outside HPA mode (§4.2).
        (
            Mode::Conflict,
            format!(
                "HPA {} scales Deployment {owned_name}, which the operator resets to spec.replicas",
                owners[0].name
            ),
        )
    } else if externals == 1 {
        (
            Mode::External,
            format!(
                "{} {} writes spec.replicas through the scale subresource",
                owners[0].kind, owners[0].name
            ),
        )
    } else if spec_autoscaling {
        (
            Mode::Hpa,
            "spec.services.scaling.autoscaling: the operator's HPA sets the count".into(),
        )
    } else if fs.replicas() > 1 {
        (Mode::Static, format!("spec.replicas is {}", fs.replicas()))
    } else {
        (Mode::Single, "spec.replicas is 1 and no autoscaling".into())
    };
    // Without the autoscalers, the mode is a guess: say so in the row, never the guess.
    let blind: Vec<&str> = [
        ("HPAs", ix.inv.hpas.unreadable()),
        ("KEDA ScaledObjects", ix.inv.scaled_objects.unreadable()),
    ]
    .into_iter()
    .filter_map(|(kind, why)| why.map(|_| kind))
    .collect();
    let (shown_mode, mode_reason) = if !blind.is_empty() && mode != Mode::Conflict {
        unknown.push(format!(
            "mode: {} could not be read, an autoscaler may own the replica count",
            blind.join(" and ")
        ));
        (
            Mode::Unknown,
            format!(
                "{} could not be read, so an autoscaler this user cannot see may own the replica count (the spec alone says {}: {mode_reason})",
                blind.join(" and "),
                mode.as_str()
            ),
        )
    } else {
        (mode, mode_reason)
    };

    let replicas = replicas(&fs, mode, deployment);
    let scaled_objects: Vec<&Value> = scaled_objects.into_iter().chain(misaimed).collect();
    let autoscaler = autoscaler(
        &fs,
        mode,
        operator_hpa,
        hpa_ownership,
        &external_hpas,
        &foreign_hpas,
        &scaled_objects,
        &owned_name,
    );
    let others = if mode == Mode::Conflict {
        other_autoscalers(
            autoscaler.as_ref(),
            operator_hpa,
            &external_hpas,
            &foreign_hpas,
            &scaled_objects,
        )
    } else {
        Vec::new()
    };
    let disruption_budget = disruption_budget(&fs, pdb, pdb_ownership, &owned_name, &replicas);
    let placement = placement(
        ix.pods.get(&(ns, name)).map(Vec::as_slice).unwrap_or(&[]),
        ix,
        &replicas,
    );
    let persistence = rules::persistence_table(object);
    let safe_to_scale = persistence.iter().all(|p| p.scalable);

    StoreStatus {
        namespace: ns.to_string(),
        name: name.to_string(),
        uid: uid.map(str::to_string),
        creation_timestamp: text(fs.get("metadata.creationTimestamp")),
        phase: text(fs.get("status.phase")),
        feast_version: text(fs.get("status.feastVersion")),
        mode: shown_mode,
        mode_reason,
        replica_owners: owners,
        operator_synced: synced(&fs),
        deployment: OwnedRef {
            name: owned_name.clone(),
            ownership: dep_ownership,
        },
        strategy: strategy(&fs, deployment),
        topology_spread: topology_spread(&fs, deployment),
        affinity: affinity(&fs, deployment),
        rollout: deployment.and_then(crate::rollout::of_deployment),
        replicas,
        autoscaler,
        other_autoscalers: others,
        disruption_budget,
        placement,
        persistence,
        safe_to_scale,
        conditions: conditions(fs.get("status.conditions")),
        warnings: rules::check(object),
        unknown,
    }
}

fn is_feast_target(h: &HorizontalPodAutoscaler) -> bool {
    h.spec
        .as_ref()
        .and_then(|s| s.scale_target_ref.api_version.as_deref())
        .is_none_or(|v| v.starts_with("feast.dev/"))
}

fn replicas(fs: &FeatureStore, mode: Mode, deployment: Option<&Deployment>) -> Replicas {
    let scaling_status = fs.get("status.scalingStatus").filter(|v| v.is_object());
    let scaling_status = scaling_status.map(|s| ScalingStatus {
        current_replicas: int(s.get("currentReplicas")),
        desired_replicas: int(s.get("desiredReplicas")),
    });
    let status = deployment.and_then(|d| d.status.as_ref());
    // The API server defaults a Deployment's replicas to 1 (§4.3).
    let deployment_replicas =
        deployment.map(|d| i64::from(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)));
    let rollout_observed = deployment.and_then(|d| {
        match (
            d.metadata.generation,
            status.and_then(|s| s.observed_generation),
        ) {
            (Some(g), Some(o)) => Some(o >= g),
            (Some(_), None) => Some(false),
            _ => None,
        }
    });
    // What the count should be: spec.replicas unless an HPA on the Deployment decides it (KEDA
    // writes spec.replicas itself). Then the Deployment's count, or failing that what the
    // operator last saw (§7).
    let desired = match mode {
        Mode::Single | Mode::Static | Mode::External => Some(fs.replicas()),
        Mode::Hpa | Mode::Conflict | Mode::Unknown => {
            deployment_replicas.or_else(|| scaling_status.as_ref().and_then(|s| s.desired_replicas))
        }
    };
    match status.filter(|_| deployment.is_some()) {
        Some(st) => Replicas {
            spec: fs.replicas(),
            desired,
            deployment: deployment_replicas,
            ready: i64::from(st.ready_replicas.unwrap_or(0)),
            updated: st.updated_replicas.map(i64::from),
            available: st.available_replicas.map(i64::from),
            source: "deployment",
            scaling_status,
            rollout_observed,
        },
        None => Replicas {
            spec: fs.replicas(),
            desired,
            deployment: deployment_replicas,
            // status.replicas counts ready pods; absent means 0 (§5).
            ready: int(fs.get("status.replicas")).unwrap_or(0),
            updated: None,
            available: None,
            source: "featurestore",
            scaling_status,
            rollout_observed,
        },
    }
}

/// Compares the spec's scaling and HA fields with `status.applied`: the only signal that the
/// operator has processed a spec (§5, §7), since it writes no observedGeneration.
fn synced(fs: &FeatureStore) -> Synced {
    let Some(applied) = fs.get("status.applied").filter(|v| v.is_object()) else {
        return Synced {
            synced: false,
            differences: vec![
                "status.applied is absent: the operator has not reconciled this store yet".into(),
            ],
        };
    };
    let mut differences = Vec::new();
    let spec_replicas = fs.replicas();
    let applied_replicas = int(applied.get("replicas")).unwrap_or(1);
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
        let spec = fs.get(&format!("spec.{path}")).map(without_nulls);
        let app = lookup(applied, path).map(without_nulls);
        if spec != app {
            differences.push(format!(
                "{path}: spec {}, applied {}",
                short_json(spec.as_ref()),
                short_json(app.as_ref())
            ));
        }
    }
    Synced {
        synced: differences.is_empty(),
        differences,
    }
}

/// An object the spec asks the operator for that does not exist: why, in the order a person
/// on call needs it. Never reconciled: is the operator running? Not caught up yet: pending.
/// Caught up: the reconcile error from the conditions, or, when there is none, where to look.
fn missing_owned(fs: &FeatureStore, kind: &str, owned_name: &str) -> Verdict {
    if fs.get("status.applied").is_none_or(|a| !a.is_object()) {
        return verdict(
            Level::Warning,
            format!(
                "{kind} {owned_name} does not exist: the operator has never reconciled this store (no status.applied); check that the Feast Operator is running and watches namespace {}",
                fs.namespace().unwrap_or("default")
            ),
        );
    }
    if !synced(fs).synced {
        return verdict(
            Level::Info,
            format!(
                "{kind} {owned_name} does not exist yet: pending, the operator has not reconciled the latest spec change"
            ),
        );
    }
    let failing = conditions(fs.get("status.conditions"))
        .into_iter()
        .find(|c| c.status == "False" && c.message.as_deref().is_some_and(|m| !m.is_empty()));
    match failing {
        Some(c) => verdict(
            Level::Critical,
            format!("{kind} {owned_name} does not exist: {}", c.summary()),
        ),
        None => verdict(
            Level::Critical,
            format!(
                "{kind} {owned_name} does not exist although the operator reconciled this spec, and no condition says why: check the Feast Operator's log"
            ),
        ),
    }
}

fn short_json(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(59).collect::<String>())
            } else {
                s
            }
        }
    }
}

fn conditions(v: Option<&Value>) -> Vec<Condition> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|c| Condition {
                    type_: text(c.get("type")).unwrap_or_default(),
                    status: text(c.get("status")).unwrap_or_default(),
                    reason: text(c.get("reason")).filter(|s| !s.is_empty()),
                    message: text(c.get("message")).filter(|s| !s.is_empty()),
                    last_transition_time: text(c.get("lastTransitionTime")),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn autoscaler(
    fs: &FeatureStore,
    mode: Mode,
    operator_hpa: Option<&HorizontalPodAutoscaler>,
    hpa_ownership: Ownership,
    external_hpas: &[&HorizontalPodAutoscaler],
    foreign_hpas: &[&HorizontalPodAutoscaler],
    scaled_objects: &[&Value],
    owned_name: &str,
) -> Option<Autoscaler> {
    // The HPA that decides the count: the operator's in hpa mode, else the external one.
    let (kind, hpa) = if let Some(h) = operator_hpa.filter(|_| fs.autoscaling().is_some()) {
        ("operator", Some(h))
    } else if let Some(h) = external_hpas.first() {
        ("external", Some(*h))
    } else if let Some(h) = foreign_hpas.first() {
        ("foreign", Some(*h))
    } else {
        ("operator", None)
    };
    let scaled_object = scaled_objects
        .first()
        .and_then(|so| text(lookup(so, "metadata.name")));
    match hpa {
        Some(h) => Some(from_hpa(kind, h, scaled_object_behind(h, scaled_objects))),
        None if fs.autoscaling().is_some() => {
            // The spec asks for an HPA that is not (or not visibly) there.
            let spec = fs.autoscaling();
            let min = spec.and_then(|a| int(a.get("minReplicas"))).unwrap_or(1);
            let max = spec.and_then(|a| int(a.get("maxReplicas")));
            let v = match hpa_ownership {
                Ownership::Unknown => verdict(Level::Unknown, "HPAs could not be read"),
                Ownership::NotOwned => verdict(
                    Level::Critical,
                    format!("HPA {owned_name} exists but is not controlled by this FeatureStore"),
                ),
                _ => missing_owned(fs, "HPA", owned_name),
            };
            Some(Autoscaler {
                kind: "operator",
                name: owned_name.to_string(),
                min_replicas: min,
                max_replicas: max,
                current_replicas: None,
                desired_replicas: None,
                metrics: Vec::new(),
                conditions: Vec::new(),
                last_scale_time: None,
                at_limit: None,
                scaled_object: None,
                verdict: v,
            })
        }
        None if mode == Mode::External || mode == Mode::Conflict => {
            let so = scaled_objects.first()?;
            // KEDA's own defaults: minReplicaCount 0, maxReplicaCount 100.
            let min = int(lookup(so, "spec.minReplicaCount")).unwrap_or(0);
            let max = int(lookup(so, "spec.maxReplicaCount")).unwrap_or(100);
            let on_deployment = keda::targets_operator_deployment(so, fs.name());
            Some(Autoscaler {
                kind: if on_deployment { "foreign" } else { "external" },
                name: scaled_object.clone().unwrap_or_default(),
                min_replicas: min,
                max_replicas: Some(max),
                current_replicas: None,
                desired_replicas: None,
                metrics: Vec::new(),
                conditions: conditions(lookup(so, "status.conditions")),
                last_scale_time: None,
                at_limit: None,
                verdict: if on_deployment {
                    verdict(
                        Level::Critical,
                        keda::deployment_target_warning(
                            scaled_object.as_deref().unwrap_or_default(),
                            fs.name(),
                        ),
                    )
                } else {
                    verdict(
                        Level::Info,
                        "KEDA ScaledObject: its HPA was not found among the HPAs listed",
                    )
                },
                scaled_object,
            })
        }
        None => None,
    }
}

/// The ScaledObject behind a KEDA HPA: its controller owner, when that ScaledObject was listed.
fn scaled_object_behind(h: &HorizontalPodAutoscaler, scaled_objects: &[&Value]) -> Option<String> {
    let behind = h
        .metadata
        .owner_references
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|r| r.kind == "ScaledObject")?;
    scaled_objects
        .iter()
        .any(|so| lookup(so, "metadata.name").and_then(Value::as_str) == Some(&behind.name))
        .then(|| behind.name.clone())
}

/// In a conflict, the HPAs other than the one shown as the autoscaler: each one fights it.
fn other_autoscalers(
    shown: Option<&Autoscaler>,
    operator_hpa: Option<&HorizontalPodAutoscaler>,
    external_hpas: &[&HorizontalPodAutoscaler],
    foreign_hpas: &[&HorizontalPodAutoscaler],
    scaled_objects: &[&Value],
) -> Vec<Autoscaler> {
    let shown = shown.map(|a| a.name.as_str());
    let all = operator_hpa
        .map(|h| ("operator", h))
        .into_iter()
        .chain(external_hpas.iter().map(|h| ("external", *h)))
        .chain(foreign_hpas.iter().map(|h| ("foreign", *h)));
    all.filter(|(_, h)| h.metadata.name.as_deref() != shown)
        .map(|(kind, h)| from_hpa(kind, h, scaled_object_behind(h, scaled_objects)))
        .collect()
}

fn from_hpa(
    kind: &'static str,
    h: &HorizontalPodAutoscaler,
    scaled_object: Option<String>,
) -> Autoscaler {
    let spec = h.spec.as_ref();
    let status = h.status.as_ref();
    let min = i64::from(spec.and_then(|s| s.min_replicas).unwrap_or(1));
    let max = spec.map(|s| i64::from(s.max_replicas));
    let current = status.and_then(|s| s.current_replicas).map(i64::from);
    let desired = status.map(|s| i64::from(s.desired_replicas));
    let conds: Vec<Condition> = status
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| Condition {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone().filter(|s| !s.is_empty()),
                    message: c.message.clone().filter(|s| !s.is_empty()),
                    last_transition_time: c.last_transition_time.as_ref().map(|t| t.0.to_string()),
                })
                .collect()
        })
        .unwrap_or_default();
    let limited = conds
        .iter()
        .find(|c| c.type_ == "ScalingLimited" && c.status == "True");
    let at_limit = match (limited.and_then(|c| c.reason.as_deref()), current, max) {
        (Some("TooFewReplicas"), _, _) => Some("min"),
        (Some(_), _, _) => Some("max"),
        (None, Some(c), Some(m)) if c >= m => Some("max"),
        _ => None,
    };
    let metrics = metrics(
        spec.and_then(|s| s.metrics.as_deref()).unwrap_or(&[]),
        status
            .and_then(|s| s.current_metrics.as_deref())
            .unwrap_or(&[]),
    );
    let inactive = conds
        .iter()
        .find(|c| c.type_ == "ScalingActive" && c.status == "False");
    let unable = conds
        .iter()
        .find(|c| c.type_ == "AbleToScale" && c.status == "False");
    let verdict = if let Some(c) = unable {
        verdict(Level::Critical, format!("cannot scale: {}", c.summary()))
    } else if let Some(c) = inactive {
        verdict(Level::Critical, format!("not scaling: {}", c.summary()))
    } else if at_limit == Some("max") {
        verdict(
            Level::Warning,
            format!(
                "at its maximum ({}): it cannot add replicas if the load grows",
                max.unwrap_or_default()
            ),
        )
    } else if status.is_none() {
        verdict(
            Level::Unknown,
            "no status yet: the HPA controller has not evaluated it",
        )
    } else {
        verdict(Level::Ok, "scaling within its range")
    };
    Autoscaler {
        kind,
        name: h.metadata.name.clone().unwrap_or_default(),
        min_replicas: min,
        max_replicas: max,
        current_replicas: current,
        desired_replicas: desired,
        metrics,
        conditions: conds,
        last_scale_time: status
            .and_then(|s| s.last_scale_time.as_ref())
            .map(|t| t.0.to_string()),
        at_limit,
        scaled_object,
        verdict,
    }
}

impl Condition {
    /// `Reason: message`, or whichever of the two is set.
    pub fn summary(&self) -> String {
        match (&self.reason, &self.message) {
            (Some(r), Some(m)) => format!("{r}: {m}"),
            (Some(r), None) => r.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => format!("{}={}", self.type_, self.status),
        }
    }
}

/// Pairs each metric of the spec with its current value, as `kubectl get hpa` does.
fn metrics(spec: &[MetricSpec], current: &[MetricStatus]) -> Vec<MetricSummary> {
    spec.iter()
        .map(|m| {
            let (name, target) = metric_spec(m);
            let cur = current
                .iter()
                .find(|c| c.type_ == m.type_ && metric_status(c).0 == name)
                .and_then(|c| metric_status(c).1)
                .map(|v| value_like(v, target));
            MetricSummary {
                name,
                current: cur,
                target: target_text(target),
            }
        })
        .collect()
}

fn metric_spec(m: &MetricSpec) -> (String, Option<&MetricTarget>) {
    if let Some(r) = &m.resource {
        (r.name.clone(), Some(&r.target))
    } else if let Some(r) = &m.container_resource {
        (format!("{}({})", r.name, r.container), Some(&r.target))
    } else if let Some(p) = &m.pods {
        (p.metric.name.clone(), Some(&p.target))
    } else if let Some(o) = &m.object {
        (o.metric.name.clone(), Some(&o.target))
    } else if let Some(e) = &m.external {
        (e.metric.name.clone(), Some(&e.target))
    } else {
        (m.type_.clone(), None)
    }
}

fn metric_status(m: &MetricStatus) -> (String, Option<&MetricValueStatus>) {
    if let Some(r) = &m.resource {
        (r.name.clone(), Some(&r.current))
    } else if let Some(r) = &m.container_resource {
        (format!("{}({})", r.name, r.container), Some(&r.current))
    } else if let Some(p) = &m.pods {
        (p.metric.name.clone(), Some(&p.current))
    } else if let Some(o) = &m.object {
        (o.metric.name.clone(), Some(&o.current))
    } else if let Some(e) = &m.external {
        (e.metric.name.clone(), Some(&e.current))
    } else {
        (m.type_.clone(), None)
    }
}

fn target_text(t: Option<&MetricTarget>) -> String {
    match t {
        Some(t) => match (&t.average_utilization, &t.average_value, &t.value) {
            (Some(u), _, _) => format!("{u}%"),
            (None, Some(q), _) => q.0.clone(),
            (None, None, Some(q)) => q.0.clone(),
            _ => "?".into(),
        },
        None => "?".into(),
    }
}

/// The current value in the target's unit: a percentage for Utilization targets.
fn value_like(v: &MetricValueStatus, target: Option<&MetricTarget>) -> String {
    let utilization = target.is_some_and(|t| t.average_utilization.is_some());
    match (&v.average_utilization, &v.average_value, &v.value) {
        (Some(u), _, _) if utilization => format!("{u}%"),
        (_, Some(q), _) => q.0.clone(),
        (_, None, Some(q)) => q.0.clone(),
        (Some(u), _, _) => format!("{u}%"),
        _ => "?".into(),
    }
}

fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

fn policy_of_spec(v: &Value) -> Option<String> {
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (v.get("minAvailable"), v.get("maxUnavailable")) {
        (Some(m), None) => Some(format!("minAvailable {}", show(m))),
        (None, Some(m)) => Some(format!("maxUnavailable {}", show(m))),
        (Some(a), Some(b)) => Some(format!(
            "minAvailable {} and maxUnavailable {}",
            show(a),
            show(b)
        )),
        (None, None) => None,
    }
}

/// Resolves an int-or-percent against a pod count, rounding up as the disruption controller
/// does for percentages.
fn scaled(v: &IntOrString, total: i64) -> Option<i64> {
    let value = match v {
        IntOrString::Int(i) => Value::from(*i),
        IntOrString::String(s) => Value::from(s.as_str()),
    };
    IntOrPercent::parse(&value).map(|b| b.scaled(total))
}

fn disruption_budget(
    fs: &FeatureStore,
    pdb: Option<&PodDisruptionBudget>,
    ownership: Ownership,
    owned_name: &str,
    replicas: &Replicas,
) -> DisruptionBudget {
    let configured = fs
        .pdb()
        .map(|v| policy_of_spec(v).unwrap_or_else(|| "{}".into()));
    let object = OwnedRef {
        name: owned_name.to_string(),
        ownership,
    };
    let Some(pdb) = pdb else {
        let v = match (&configured, ownership, fs.scaling_enabled()) {
            (_, Ownership::Unknown, _) => verdict(Level::Unknown, "PDBs could not be read"),
            (Some(_), Ownership::NotOwned, _) => verdict(
                Level::Warning,
                format!("PDB {owned_name} exists but is not controlled by this FeatureStore"),
            ),
            (Some(_), _, false) => verdict(
                Level::Info,
                "configured, but the operator only creates the PDB while scaling (§4.6)",
            ),
            (Some(_), _, true) => missing_owned(fs, "PDB", owned_name),
            (None, _, true) => verdict(
                Level::Info,
                "no disruption budget: a drain may evict every replica at once",
            ),
            (None, _, false) => verdict(Level::Ok, "none (single replica)"),
        };
        return DisruptionBudget {
            configured,
            object,
            policy: None,
            current_healthy: None,
            desired_healthy: None,
            disruptions_allowed: None,
            expected_pods: None,
            blocks_drains: None,
            verdict: v,
        };
    };
    let spec = pdb.spec.as_ref();
    let min = spec.and_then(|s| s.min_available.as_ref());
    let max = spec.and_then(|s| s.max_unavailable.as_ref());
    let policy = match (min, max) {
        (Some(m), _) => Some(format!("minAvailable {}", int_or_string(m))),
        (None, Some(m)) => Some(format!("maxUnavailable {}", int_or_string(m))),
        _ => None,
    };
    let status = pdb.status.as_ref();
    let expected = status
        .map(|s| i64::from(s.expected_pods))
        .or(replicas.desired)
        .unwrap_or(0);
    // A budget that can never allow an eviction, whatever the health of the pods.
    let by_design = match (min, max) {
        (Some(m), _) => scaled(m, expected).is_some_and(|n| expected > 0 && n >= expected),
        (None, Some(m)) => scaled(m, expected) == Some(0),
        _ => false,
    };
    let allowed = status.map(|s| i64::from(s.disruptions_allowed));
    let blocks = match allowed {
        Some(a) => Some(a <= 0),
        None if by_design => Some(true),
        None => None,
    };
    let v = match (blocks, by_design) {
        (Some(true), true) => verdict(
            Level::Critical,
            format!(
                "blocks node drains: {} leaves no disruption allowed with {expected} pods",
                policy.as_deref().unwrap_or("the budget")
            ),
        ),
        (Some(true), false) => verdict(
            Level::Critical,
            format!(
                "blocks node drains now: 0 disruptions allowed ({} healthy, {} needed)",
                status.map_or(0, |s| s.current_healthy),
                status.map_or(0, |s| s.desired_healthy)
            ),
        ),
        (Some(false), _) => verdict(
            Level::Ok,
            format!(
                "allows {} disruption{}",
                allowed.unwrap_or(0),
                if allowed == Some(1) { "" } else { "s" }
            ),
        ),
        (None, _) => verdict(
            Level::Unknown,
            "no status yet: the disruption controller has not evaluated it",
        ),
    };
    DisruptionBudget {
        configured,
        object,
        policy,
        current_healthy: status.map(|s| i64::from(s.current_healthy)),
        desired_healthy: status.map(|s| i64::from(s.desired_healthy)),
        disruptions_allowed: allowed,
        expected_pods: status.map(|s| i64::from(s.expected_pods)),
        blocks_drains: blocks,
        verdict: v,
    }
}

fn placement(pods: &[&PodInfo], ix: &Index, replicas: &Replicas) -> Placement {
    if let Some(why) = ix.inv.pods.unreadable() {
        return Placement {
            pods_known: false,
            pods: Vec::new(),
            nodes: 0,
            zones: None,
            verdict: verdict(Level::Unknown, format!("pods could not be read: {why}")),
        };
    }
    let nodes_why = ix.inv.nodes.unreadable();
    let mut list: Vec<PodPlacement> = pods
        .iter()
        .map(|p| PodPlacement {
            name: p.name.clone(),
            node: p.node.clone(),
            zone: p
                .node
                .as_deref()
                .and_then(|n| ix.zones.get(n).copied().flatten())
                .map(str::to_string),
            ready: p.ready,
            phase: p.phase.clone(),
            restarts: p.restarts,
            creation_timestamp: p.creation_timestamp.clone(),
            reason: p.not_ready.clone(),
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    let ready: Vec<&PodPlacement> = list
        .iter()
        .filter(|p| p.ready && p.node.is_some())
        .collect();
    let nodes: BTreeSet<&str> = ready.iter().filter_map(|p| p.node.as_deref()).collect();
    let zones: Option<BTreeSet<&str>> = if nodes_why.is_some() {
        None
    } else {
        ready.iter().map(|p| p.zone.as_deref()).collect()
    };
    let n = ready.len();
    let desired = replicas.desired.unwrap_or(0);
    // Why the others are not ready, in the scheduler's or the kubelet's words.
    let why = crate::rollout::summary(list.iter().filter_map(|p| p.reason.as_deref()));
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" (not ready: {})", why.join("; "))
    };
    let v = if n == 0 {
        if desired > 0 {
            verdict(
                Level::Critical,
                format!("no ready pods: the store is not serving{why}"),
            )
        } else {
            verdict(Level::Info, "no pods")
        }
    } else if n == 1 {
        if desired > 1 {
            verdict(
                Level::Warning,
                format!(
                    "only 1 of {desired} replicas ready: a pod or node failure takes the store down{why}"
                ),
            )
        } else {
            verdict(
                Level::Info,
                "a single replica: a pod or node failure takes the store down",
            )
        }
    } else if nodes.len() == 1 {
        verdict(
            Level::Critical,
            format!("all {n} replicas on one node: a node failure takes the store down"),
        )
    } else {
        match &zones {
            Some(z) if z.len() == 1 => verdict(
                Level::Warning,
                format!(
                    "{n} replicas on {} nodes in one zone: a zone failure takes the store down",
                    nodes.len()
                ),
            ),
            Some(z) => verdict(
                Level::Ok,
                format!("{n} replicas on {} nodes in {} zones", nodes.len(), z.len()),
            ),
            None => verdict(
                Level::Ok,
                format!(
                    "{n} replicas on {} nodes; zones unknown ({})",
                    nodes.len(),
                    nodes_why.map_or("nodes without a zone label".to_string(), |w| format!(
                        "nodes could not be read: {w}"
                    ))
                ),
            ),
        }
    };
    // Never "OK" while the store is not where its spec says: fewer ready than desired.
    let v = if v.level == Level::Ok && n < usize::try_from(desired).unwrap_or(0) {
        verdict(
            Level::Warning,
            format!("only {n} of {desired} replicas ready: {}{why}", v.message),
        )
    } else {
        v
    };
    Placement {
        pods_known: true,
        nodes: nodes.len(),
        zones: zones.map(|z| z.len()),
        pods: list,
        verdict: v,
    }
}

fn strategy(fs: &FeatureStore, deployment: Option<&Deployment>) -> Strategy {
    let explicit = fs.user_strategy();
    let scaling = fs.scaling_enabled();
    let (origin, why) = match explicit {
        Some(_) => (
            "explicit",
            "spec.services.deploymentStrategy is set; the operator uses it unchanged".to_string(),
        ),
        None if scaling => (
            "operator default",
            "scaling is on, so RollingUpdate: replicas keep serving during a rollout".into(),
        ),
        None => (
            "operator default",
            "scaling is off, so Recreate: the old pod stops before the new one starts".into(),
        ),
    };
    match deployment.and_then(|d| d.spec.as_ref()) {
        Some(spec) => {
            let s = spec.strategy.as_ref();
            let ty = s
                .and_then(|s| s.type_.clone())
                .unwrap_or_else(|| "RollingUpdate".into());
            let effective = match s.and_then(|s| s.rolling_update.as_ref()) {
                Some(r) if ty == "RollingUpdate" => format!(
                    "RollingUpdate (maxSurge {}, maxUnavailable {})",
                    r.max_surge.as_ref().map_or("25%".into(), int_or_string),
                    r.max_unavailable
                        .as_ref()
                        .map_or("25%".into(), int_or_string)
                ),
                _ => ty,
            };
            Strategy {
                effective: Some(effective),
                source: "deployment",
                origin,
                why,
            }
        }
        None => {
            let effective = Some(fs.effective_strategy().to_string());
            Strategy {
                effective,
                source: "spec",
                origin,
                why,
            }
        }
    }
}

/// The three meaningful states of `topologySpreadConstraints` and `affinity` (§2.5, §2.6).
fn injection_state(spec: Option<&Value>, injected: bool, empty: bool) -> &'static str {
    match spec {
        Some(_) if empty => "disabled",
        Some(_) => "custom",
        None if injected => "injected",
        None => "none",
    }
}

fn topology_spread(fs: &FeatureStore, deployment: Option<&Deployment>) -> Injection {
    let spec = fs.user_spread();
    let empty = spec.and_then(Value::as_array).is_some_and(Vec::is_empty);
    let effective = template(deployment).map(|t| {
        let cs = t.topology_spread_constraints.as_deref().unwrap_or(&[]);
        if cs.is_empty() {
            "none".to_string()
        } else {
            cs.iter()
                .map(|c| {
                    format!(
                        "{} maxSkew {} {}",
                        c.topology_key, c.max_skew, c.when_unsatisfiable
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
    });
    Injection {
        state: injection_state(spec, fs.injects_zone_spread(), empty),
        effective,
    }
}

fn affinity(fs: &FeatureStore, deployment: Option<&Deployment>) -> Injection {
    let spec = fs.user_affinity();
    let empty = spec
        .and_then(Value::as_object)
        .is_some_and(|m| m.values().all(Value::is_null));
    let effective = template(deployment).map(|t| match &t.affinity {
        None => "none".to_string(),
        Some(a) => {
            let mut parts = Vec::new();
            if a.node_affinity.is_some() {
                parts.push("nodeAffinity".to_string());
            }
            if a.pod_affinity.is_some() {
                parts.push("podAffinity".to_string());
            }
            if let Some(anti) = &a.pod_anti_affinity {
                let hard = anti
                    .required_during_scheduling_ignored_during_execution
                    .as_ref()
                    .is_some_and(|v| !v.is_empty());
                let keys: BTreeSet<&str> = anti
                    .preferred_during_scheduling_ignored_during_execution
                    .iter()
                    .flatten()
                    .map(|w| w.pod_affinity_term.topology_key.as_str())
                    .chain(
                        anti.required_during_scheduling_ignored_during_execution
                            .iter()
                            .flatten()
                            .map(|t| t.topology_key.as_str()),
                    )
                    .collect();
                parts.push(format!(
                    "podAntiAffinity ({} by {})",
                    if hard { "required" } else { "preferred" },
                    keys.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            }
        }
    });
    Injection {
        state: injection_state(spec, fs.injects_anti_affinity(), empty),
        effective,
    }
}

fn template(deployment: Option<&Deployment>) -> Option<&k8s_openapi::api::core::v1::PodSpec> {
    deployment?.spec.as_ref()?.template.spec.as_ref()
}

#[doc(hidden)]
pub mod fixtures;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod keda_tests;
