//! The inventory indexed once by (namespace, name) and by HPA target, so that deriving 2,000
//! stores stays linear; and the operator's ownership test for `feast-<name>` objects.

use std::collections::HashMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::Value;

use super::placement::NodeCount;
use super::{Inventory, Ownership, PodInfo, Source};
use crate::featurestore::{KIND, lookup};
use crate::rules::keda;

pub(super) type Key<'a> = (&'a str, &'a str);

/// The inventory indexed once, so that deriving 2,000 stores stays linear.
pub(super) struct Index<'a> {
    pub inv: &'a Inventory,
    pub deployments: HashMap<Key<'a>, &'a Deployment>,
    pub pdbs: HashMap<Key<'a>, &'a PodDisruptionBudget>,
    pub hpas_by_name: HashMap<Key<'a>, &'a HorizontalPodAutoscaler>,
    /// HPAs by (namespace, target kind, target name).
    pub hpas_by_target: HashMap<(&'a str, &'a str, &'a str), Vec<&'a HorizontalPodAutoscaler>>,
    pub scaled_objects: HashMap<Key<'a>, Vec<&'a Value>>,
    /// ScaledObjects by (namespace, Deployment name): aimed at a Deployment, which for the
    /// operator's `feast-<name>` is the anti-pattern that fights the operator.
    pub scaled_objects_on_deployment: HashMap<Key<'a>, Vec<&'a Value>>,
    pub pods: HashMap<Key<'a>, Vec<&'a PodInfo>>,
    pub zones: HashMap<&'a str, Option<&'a str>>,
    /// The schedulable nodes and their zones; None when nodes could not be read.
    pub capacity: Option<NodeCount>,
    /// The nodes that take no new pods (cordoned, tainted NoSchedule/NoExecute, not Ready).
    pub unschedulable: std::collections::HashSet<&'a str>,
    /// Zones in which no node takes new pods.
    pub lost_zones: std::collections::HashSet<&'a str>,
}

fn meta_key(meta: &ObjectMeta) -> Key<'_> {
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

impl<'a> Index<'a> {
    pub fn new(inv: &'a Inventory) -> Self {
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
        let zones: HashMap<&str, Option<&str>> = inv
            .nodes
            .items()
            .iter()
            .map(|n| {
                (
                    n.metadata.name.as_deref().unwrap_or(""),
                    super::placement::zone(n),
                )
            })
            .collect();
        let unschedulable: std::collections::HashSet<&str> = inv
            .nodes
            .items()
            .iter()
            .filter(|n| !super::placement::schedulable(n))
            .filter_map(|n| n.metadata.name.as_deref())
            .collect();
        let mut lost_zones: std::collections::HashSet<&str> =
            zones.values().filter_map(|z| *z).collect();
        for (node, zone) in &zones {
            if let Some(z) = zone
                && !unschedulable.contains(node)
            {
                lost_zones.remove(z);
            }
        }
        let capacity = match &inv.nodes {
            Source::Listed(nodes) => Some(NodeCount::of(nodes.iter().map(AsRef::as_ref))),
            _ => None,
        };
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
            capacity,
            unschedulable,
            lost_zones,
        }
    }
}

/// The controller ownerReference's UID, if any.
pub(super) fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|r: &&OwnerReference| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// Looks up `feast-<name>` of one kind and checks it is controlled by this store's UID.
pub(super) fn owned<'a, T>(
    source: &Source<T>,
    map: &HashMap<Key<'a>, &'a T>,
    key: Key<'_>,
    uid: Option<&str>,
    meta: impl Fn(&T) -> &ObjectMeta,
) -> (Ownership, Option<&'a T>) {
    if source.unreadable().is_some() {
        return (Ownership::Unknown, None);
    }
    match map.get(&key) {
        None => (Ownership::Missing, None),
        Some(obj) => match (controller_uid(meta(obj)), uid) {
            (Some(owner), Some(uid)) if owner == uid => (Ownership::Owned, Some(*obj)),
            _ => (Ownership::NotOwned, None),
        },
    }
}
