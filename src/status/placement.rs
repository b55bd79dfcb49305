//! The placement section: which pods run where, on how many nodes and zones, and why the
//! others are not ready.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ContainerState, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::index::Index;
use super::scaling::Replicas;
use super::{Level, NAME_LABEL, Verdict, ZONE_LABEL, verdict};
use crate::featurestore::{FeatureStore, ScalingMode};

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

/// RESTARTS as kubectl's pod printer counts it: while an init container has not succeeded (and
/// the pod is not yet Initialized), the init containers' restarts up to that one, the ones
/// that decide whether the pod starts at all; once initialized, the app containers'.
fn kubectl_restarts<'a>(
    init: impl IntoIterator<Item = (i32, Option<&'a ContainerState>)>,
    containers: impl IntoIterator<Item = i32>,
    initialized: bool,
) -> i64 {
    let mut init_restarts = 0;
    let mut initializing = false;
    for (restarts, state) in init {
        init_restarts += i64::from(restarts);
        let succeeded = state
            .and_then(|s| s.terminated.as_ref())
            .is_some_and(|t| t.exit_code == 0);
        if !succeeded {
            initializing = true;
            break;
        }
    }
    if initializing && !initialized {
        init_restarts
    } else {
        containers.into_iter().map(i64::from).sum()
    }
}

impl PodInfo {
    /// The one place a Pod's facts become a `PodInfo`, whichever shape they were read in (a
    /// k8s-openapi Pod here, the slim wire shape in the shell). `conditions` are (type, status);
    /// `init` the init containers' (restarts, state), `restarts` the app containers'.
    pub fn from_parts<'a>(
        metadata: &ObjectMeta,
        node: Option<String>,
        phase: Option<String>,
        conditions: impl IntoIterator<Item = (&'a str, &'a str)>,
        init: impl IntoIterator<Item = (i32, Option<&'a ContainerState>)>,
        restarts: impl IntoIterator<Item = i32>,
        not_ready: Option<String>,
    ) -> Self {
        let conditions: Vec<(&str, &str)> = conditions.into_iter().collect();
        let is_true = |type_: &str| conditions.iter().any(|(t, s)| *t == type_ && *s == "True");
        PodInfo {
            namespace: metadata.namespace.clone().unwrap_or_default(),
            name: metadata.name.clone().unwrap_or_default(),
            store: metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(NAME_LABEL))
                .cloned(),
            node,
            ready: is_true("Ready"),
            phase,
            restarts: kubectl_restarts(init, restarts, is_true("Initialized")),
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
                .and_then(|s| s.init_container_statuses.as_deref())
                .unwrap_or_default()
                .iter()
                .map(|c| (c.restart_count, c.state.as_ref())),
            status
                .and_then(|s| s.container_statuses.as_deref())
                .unwrap_or_default()
                .iter()
                .map(|c| c.restart_count),
            crate::rollout::pod_reason(p),
        )
    }
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
    /// Whether the schedulable nodes can hold the most replicas the store may run; absent
    /// when they can, when nodes could not be read, or when the store runs one replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Verdict>,
    pub verdict: Verdict,
}

pub(super) fn placement(pods: &[&PodInfo], ix: &Index, replicas: &Replicas) -> Placement {
    if let Some(why) = ix.inv.pods.unreadable() {
        return Placement {
            pods_known: false,
            pods: Vec::new(),
            nodes: 0,
            zones: None,
            capacity: None,
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
    let desired = replicas.desired.unwrap_or(0);
    let spread = spread_verdict(
        ready.len(),
        desired,
        &nodes,
        zones.as_ref(),
        nodes_why,
        &list,
    );
    let v = match drained(&ready, ix) {
        Some(d) if d.level.worse_than(spread.level) => d,
        _ => spread,
    };
    Placement {
        pods_known: true,
        nodes: nodes.len(),
        zones: zones.map(|z| z.len()),
        capacity: None,
        pods: list,
        verdict: v,
    }
}

/// Ready pods on nodes that take no new pods (a drain under way: cordoned, or tainted), or in
/// a zone where no node does: the next eviction or failure there has nowhere in that zone to
/// go. None when neither.
fn drained(ready: &[&PodPlacement], ix: &Index) -> Option<Verdict> {
    // The distinct values of one field of the ready pods that `keep` keeps, sorted.
    let distinct = |field: fn(&PodPlacement) -> Option<&str>, keep: &dyn Fn(&str) -> bool| {
        let mut v: Vec<&str> = ready
            .iter()
            .filter_map(|p| field(p))
            .filter(|x| keep(x))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let on = distinct(|p| p.node.as_deref(), &|n| ix.unschedulable.contains(n));
    let zones = distinct(|p| p.zone.as_deref(), &|z| ix.lost_zones.contains(z));
    let mut what = Vec::new();
    if !on.is_empty() {
        let n = ready
            .iter()
            .filter(|p| p.node.as_deref().is_some_and(|n| on.contains(&n)))
            .count();
        what.push(format!(
            "{n} of {} ready pods run on node(s) that take no new pods ({}: cordoned, tainted or not Ready): a drain evicts them",
            ready.len(),
            on.join(", ")
        ));
    }
    if !zones.is_empty() {
        what.push(format!(
            "no node of zone(s) {} takes new pods: replicas evicted there cannot come back in that zone",
            zones.join(", ")
        ));
    }
    let fix = if on.is_empty() {
        "let the maintenance finish, or make the zone's nodes schedulable again".to_string()
    } else {
        format!(
            "let the drain finish; once the maintenance is done, `kubectl uncordon {}`",
            on.join(" ")
        )
    };
    (!what.is_empty()).then(|| verdict(Level::Warning, what.join("; ")).fix(fix))
}

/// How exposed the ready pods are to a pod, node or zone failure, with why the others are not
/// ready; never OK while fewer are ready than desired.
fn spread_verdict(
    n: usize,
    desired: i64,
    nodes: &BTreeSet<&str>,
    zones: Option<&BTreeSet<&str>>,
    nodes_why: Option<&str>,
    list: &[PodPlacement],
) -> Verdict {
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
        match zones {
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
    if v.level == Level::Ok && n < usize::try_from(desired).unwrap_or(0) {
        verdict(
            Level::Warning,
            format!("only {n} of {desired} replicas ready: {}{why}", v.message),
        )
    } else {
        v
    }
}

/// Whether the schedulable nodes can hold the most replicas the store may run (an HPA's max,
/// else its count): None when they can. The anti-affinity the operator injects is only
/// preferred, so more replicas than nodes share nodes; its zone spread needs two zones.
pub(super) fn capacity(fs: &FeatureStore, nodes: &NodeCount) -> Option<Verdict> {
    let mode = fs.scaling_mode();
    if !mode.is_scaling() {
        return None;
    }
    let (most, what) = match &mode {
        ScalingMode::Autoscaled { min, max } => {
            let most = max.unwrap_or(*min);
            (most, format!("up to {most} replicas (HPA max)"))
        }
        other => {
            let most = other.minimum_replicas();
            (most, format!("{most} replicas"))
        }
    };
    if nodes.schedulable == 0 {
        Some(
            verdict(
                Level::Critical,
                format!("{what}, but no node is schedulable"),
            )
            .fix("uncordon a node, or add nodes the pods tolerate"),
        )
    } else if usize::try_from(most).unwrap_or(0) > nodes.schedulable {
        // A static count is what runs now; an HPA's max is what may run at a peak.
        let level = if matches!(mode, ScalingMode::Autoscaled { .. }) {
            Level::Info
        } else {
            Level::Warning
        };
        Some(verdict(
            level,
            format!(
                "{what} on {} schedulable node(s): the anti-affinity is only preferred, so pods share nodes and one node failure takes down several",
                nodes.schedulable
            ),
        ).fix("add nodes, or accept that pods share nodes"))
    } else if fs.injects_zone_spread() && nodes.zones < 2 {
        Some(verdict(
            Level::Warning,
            format!(
                "{what}, but the schedulable nodes are in {} zone(s): a zone outage takes down every replica",
                nodes.zones
            ),
        ).fix(format!("run nodes in several zones, labelled {ZONE_LABEL}")))
    } else {
        None
    }
}

/// The schedulable nodes and their zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCount {
    pub schedulable: usize,
    pub total: usize,
    /// Distinct zones of the schedulable nodes.
    pub zones: usize,
    /// Schedulable nodes without a zone label.
    pub unzoned: Vec<String>,
}

impl NodeCount {
    pub fn of<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> NodeCount {
        let mut total = 0;
        let schedulable: Vec<&Node> = nodes
            .into_iter()
            .inspect(|_| total += 1)
            .filter(|n| schedulable(n))
            .collect();
        let mut zones: Vec<&str> = schedulable.iter().filter_map(|n| zone(n)).collect();
        zones.sort_unstable();
        zones.dedup();
        NodeCount {
            schedulable: schedulable.len(),
            total,
            zones: zones.len(),
            unzoned: schedulable
                .iter()
                .filter(|n| zone(n).is_none())
                .filter_map(|n| n.metadata.name.clone())
                .collect(),
        }
    }
}

/// A node's zone label (the legacy `failure-domain.beta.kubernetes.io/zone` where the current
/// one is absent, as the scheduler's spreading reads it).
pub(crate) fn zone(n: &Node) -> Option<&str> {
    let labels = n.metadata.labels.as_ref()?;
    labels
        .get(ZONE_LABEL)
        .or_else(|| labels.get(super::LEGACY_ZONE_LABEL))
        .map(String::as_str)
}

/// Ready, not cordoned, and without a NoSchedule/NoExecute taint the pods do not tolerate (the
/// operator sets no tolerations by default).
pub fn schedulable(n: &Node) -> bool {
    let spec = n.spec.as_ref();
    let cordoned = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    let tainted = spec.and_then(|s| s.taints.as_ref()).is_some_and(|ts| {
        ts.iter()
            .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
    });
    let ready = n
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True");
    ready && !cordoned && !tainted
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_negative_hpa_bound_is_not_read_as_a_huge_count_of_replicas() {
        let store = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "neg", "namespace": "ns"},
            "spec": {"feastProject": "p", "services": {"scaling": {"autoscaling": {"minReplicas": 1, "maxReplicas": -2}}}}});
        let nodes = NodeCount {
            schedulable: 3,
            total: 3,
            zones: 3,
            unzoned: Vec::new(),
        };
        assert_eq!(capacity(&FeatureStore::new(&store), &nodes), None);
        let nodes = NodeCount {
            schedulable: 0,
            ..nodes
        };
        let v = capacity(&FeatureStore::new(&store), &nodes).expect("no schedulable node");
        assert_eq!(v.level, Level::Critical, "{}", v.message);
    }
}
