//! Slim shapes of the objects `status` lists, for reading 2,000 stores and 6,000 pods in little
//! memory: serde reads only the fields the derivation uses and skips the rest of each object
//! (managedFields alone are about half of every object) without building it. Each shape is a
//! `kube::Resource`, so it is listed and watched through kube's own `Api` like any type, and it
//! converts into the k8s-openapi type (or JSON, for FeatureStores) that `crate::status` takes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy,
};
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, HorizontalPodAutoscalerStatus,
};
use k8s_openapi::api::core::v1::{
    Affinity, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus, PodTemplateSpec,
    TopologySpreadConstraint,
};
use k8s_openapi::api::policy::v1::{
    PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::featurestore::{API_VERSION, GROUP, KIND, PLURAL, VERSION};

/// The metadata fields the derivation reads; managedFields, annotations and the rest are skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    generation: Option<i64>,
    creation_timestamp: Option<Time>,
    labels: Option<BTreeMap<String, String>>,
    owner_references: Option<Vec<OwnerReference>>,
}

fn slim_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = Meta::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        generation: m.generation,
        creation_timestamp: m.creation_timestamp,
        labels: m.labels,
        owner_references: m.owner_references,
        ..ObjectMeta::default()
    })
}

/// Implements `kube::Resource` for a slim shape of a namespaced kind.
macro_rules! resource {
    ($ty:ty, $group:expr, $version:expr, $kind:expr, $plural:expr) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = NamespaceResourceScope;
            fn kind(_: &()) -> Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> Cow<'_, str> {
                $group.into()
            }
            fn version(_: &()) -> Cow<'_, str> {
                $version.into()
            }
            fn plural(_: &()) -> Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// A FeatureStore: its spec and status whole (the rules read any field), slim metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct WireStore {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Value,
    #[serde(default)]
    pub status: Value,
}
resource!(WireStore, GROUP, VERSION, KIND, PLURAL);

impl WireStore {
    /// The object as JSON, as `crate::featurestore` reads it.
    pub fn to_value(&self) -> Value {
        let m = &self.metadata;
        let mut metadata = json!({"name": m.name, "namespace": m.namespace});
        let put = |key: &str, v: Value, metadata: &mut Value| {
            if !v.is_null() {
                metadata[key] = v;
            }
        };
        put("uid", json!(m.uid), &mut metadata);
        put("generation", json!(m.generation), &mut metadata);
        put(
            "creationTimestamp",
            json!(m.creation_timestamp.as_ref().map(|t| t.0.to_string())),
            &mut metadata,
        );
        put("labels", json!(m.labels), &mut metadata);
        let mut object = json!({
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": metadata,
            "spec": self.spec,
        });
        if !self.status.is_null() {
            object["status"] = self.status.clone();
        }
        object
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireTemplateSpec {
    affinity: Option<Affinity>,
    topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WireTemplate {
    spec: Option<WireTemplateSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WireDeploymentSpec {
    replicas: Option<i32>,
    strategy: Option<DeploymentStrategy>,
    template: Option<WireTemplate>,
}

/// A Deployment: replicas, strategy, the template's spread and affinity, and its status.
#[derive(Debug, Clone, Deserialize)]
pub struct WireDeployment {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    spec: Option<WireDeploymentSpec>,
    status: Option<DeploymentStatus>,
}
resource!(WireDeployment, "apps", "v1", "Deployment", "deployments");

impl WireDeployment {
    pub fn to_deployment(&self) -> Deployment {
        let spec = self.spec.as_ref().map(|s| {
            let tpl = s.template.as_ref().and_then(|t| t.spec.as_ref());
            DeploymentSpec {
                replicas: s.replicas,
                strategy: s.strategy.clone(),
                template: PodTemplateSpec {
                    metadata: None,
                    spec: tpl.map(|t| PodSpec {
                        affinity: t.affinity.clone(),
                        topology_spread_constraints: t.topology_spread_constraints.clone(),
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            }
        });
        Deployment {
            metadata: self.metadata.clone(),
            spec,
            status: self.status.clone(),
        }
    }
}

/// An HPA: spec and status are small, only the metadata is slimmed.
#[derive(Debug, Clone, Deserialize)]
pub struct WireHpa {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    spec: Option<HorizontalPodAutoscalerSpec>,
    status: Option<HorizontalPodAutoscalerStatus>,
}
resource!(
    WireHpa,
    "autoscaling",
    "v2",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers"
);

impl WireHpa {
    pub fn to_hpa(&self) -> HorizontalPodAutoscaler {
        HorizontalPodAutoscaler {
            metadata: self.metadata.clone(),
            spec: self.spec.clone(),
            status: self.status.clone(),
        }
    }
}

/// A PDB: spec and status, slim metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct WirePdb {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    spec: Option<PodDisruptionBudgetSpec>,
    status: Option<PodDisruptionBudgetStatus>,
}
resource!(
    WirePdb,
    "policy",
    "v1",
    "PodDisruptionBudget",
    "poddisruptionbudgets"
);

impl WirePdb {
    pub fn to_pdb(&self) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: self.metadata.clone(),
            spec: self.spec.clone(),
            status: self.status.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePodSpec {
    node_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct WireCondition {
    #[serde(rename = "type")]
    type_: String,
    status: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireContainerStatus {
    name: String,
    #[serde(default)]
    restart_count: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePodStatus {
    phase: Option<String>,
    conditions: Option<Vec<WireCondition>>,
    container_statuses: Option<Vec<WireContainerStatus>>,
}

/// A Pod: its node, phase, conditions and restart counts.
#[derive(Debug, Clone, Deserialize)]
pub struct WirePod {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    spec: Option<WirePodSpec>,
    status: Option<WirePodStatus>,
}
resource!(WirePod, "", "v1", "Pod", "pods");

impl WirePod {
    pub fn to_pod(&self) -> Pod {
        Pod {
            metadata: self.metadata.clone(),
            spec: self.spec.as_ref().map(|s| PodSpec {
                node_name: s.node_name.clone(),
                ..PodSpec::default()
            }),
            status: self.status.as_ref().map(|s| PodStatus {
                phase: s.phase.clone(),
                conditions: s.conditions.as_ref().map(|cs| {
                    cs.iter()
                        .map(|c| PodCondition {
                            type_: c.type_.clone(),
                            status: c.status.clone(),
                            ..PodCondition::default()
                        })
                        .collect()
                }),
                container_statuses: s.container_statuses.as_ref().map(|cs| {
                    cs.iter()
                        .map(|c| ContainerStatus {
                            name: c.name.clone(),
                            restart_count: c.restart_count,
                            ..ContainerStatus::default()
                        })
                        .collect()
                }),
                ..PodStatus::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::fixtures;

    #[test]
    fn a_pod_keeps_what_placement_reads_and_drops_managed_fields() {
        let mut v = fixtures::pod("ns", "s", 1, "node-a", false);
        v["metadata"]["managedFields"] =
            json!([{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]);
        let wire: WirePod = serde_json::from_value(v.clone()).expect("a pod");
        let pod = wire.to_pod();
        assert_eq!(pod.metadata.managed_fields, None);
        assert_eq!(
            pod.metadata
                .labels
                .as_ref()
                .map(|l| l["feast.dev/name"].as_str()),
            Some("s")
        );
        let full: Pod = serde_json::from_value(v).expect("a pod");
        assert_eq!(
            pod.spec.and_then(|s| s.node_name),
            full.spec.and_then(|s| s.node_name)
        );
        let (a, b) = (pod.status.expect("status"), full.status.expect("status"));
        assert_eq!(a.phase, b.phase);
        assert_eq!(a.container_statuses.expect("cs")[0].restart_count, 3);
        assert_eq!(a.conditions.expect("c")[0].status, "False");
    }

    #[test]
    fn a_store_round_trips_to_the_json_the_core_reads() {
        let v = fixtures::scenario("ns", "hpa").stores.remove(0);
        let wire: WireStore = serde_json::from_value(v.clone()).expect("a store");
        assert_eq!(wire.to_value(), v);
    }

    #[test]
    fn a_deployment_keeps_replicas_strategy_spread_and_affinity() {
        let v = fixtures::deployment("ns", "s", 3, 2, true);
        let wire: WireDeployment = serde_json::from_value(v.clone()).expect("a deployment");
        let slim = wire.to_deployment();
        let full: Deployment = serde_json::from_value(v).expect("a deployment");
        let (s, f) = (slim.spec.expect("spec"), full.spec.expect("spec"));
        assert_eq!((s.replicas, &s.strategy), (f.replicas, &f.strategy));
        let (st, ft) = (s.template.spec.expect("tpl"), f.template.spec.expect("tpl"));
        assert_eq!(st.affinity, ft.affinity);
        assert_eq!(
            st.topology_spread_constraints,
            ft.topology_spread_constraints
        );
        assert_eq!(slim.status, full.status);
        assert_eq!(
            slim.metadata.owner_references,
            full.metadata.owner_references
        );
    }
}
