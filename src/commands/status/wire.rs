//! Slim shapes of the objects `status` lists, for reading 2,000 stores and 6,000 pods in little
//! memory: serde reads only the fields the derivation uses and skips the rest of each object
//! (managedFields alone are about half of every object) without building it. Each shape is a
//! `kube::Resource`, so it is listed and watched through kube's own `Api` like any type, and it
//! converts into the k8s-openapi type (or JSON, for FeatureStores) that `crate::status` takes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy,
};
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, HorizontalPodAutoscalerStatus,
};
use k8s_openapi::api::core::v1::{
    Affinity, ContainerState, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus,
    Node, NodeCondition, NodeSpec, NodeStatus, PodCondition, PodSpec, PodTemplateSpec, Taint,
    TopologySpreadConstraint,
};
use k8s_openapi::api::policy::v1::{
    PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::featurestore::{API_VERSION, GROUP, KIND, PLURAL, VERSION};
use crate::status::PodInfo;

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

/// Implements `kube::Resource` for a slim shape of a kind (namespaced unless a scope is given).
macro_rules! resource {
    ($ty:ty, $group:expr, $version:expr, $kind:expr, $plural:expr) => {
        resource!(
            $ty,
            NamespaceResourceScope,
            $group,
            $version,
            $kind,
            $plural
        );
    };
    ($ty:ty, $scope:ty, $group:expr, $version:expr, $kind:expr, $plural:expr) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = $scope;
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

/// The part of `status.applied` that the sync check compares with the spec (§5, §7): the
/// rest is a defaulted copy of the spec, as large as the spec itself.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AppliedServices {
    #[serde(skip_serializing_if = "Option::is_none")]
    scaling: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod_disruption_budgets: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_strategy: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topology_spread_constraints: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    affinity: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
struct Applied {
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    services: Option<AppliedServices>,
}

/// The status fields `status` reads; serviceHostnames and most of `applied` are skipped.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StoreStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    applied: Option<Applied>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feast_version: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scaling_status: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conditions: Option<Value>,
}

/// A FeatureStore: its spec whole (the rules read any field), the status fields `status`
/// reads, slim metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct WireStore {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Value,
    status: Option<StoreStatus>,
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
        if let Some(status) = &self.status {
            object["status"] = serde_json::to_value(status).unwrap_or(Value::Null);
        }
        object
    }
}

/// A FeatureStore from a LIST as `status` keeps it: the JSON text of
/// [`WireStore::to_value`], made as each item is decoded. A whole list of 2,000 stores is read
/// in one request (docs/performance.md); holding every decoded spec until the list ends would
/// cost tens of MB more.
#[derive(Debug, Clone)]
pub struct StoreText {
    /// Always empty: the text has the metadata `status` reads.
    metadata: ObjectMeta,
    pub text: String,
}
resource!(StoreText, GROUP, VERSION, KIND, PLURAL);

impl<'de> Deserialize<'de> for StoreText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let store = WireStore::deserialize(d)?;
        Ok(StoreText {
            metadata: ObjectMeta::default(),
            text: store.to_value().to_string(),
        })
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

/// A Node: its name and labels (the zone), whether it takes pods (`spec.unschedulable`, the
/// taints) and its `Ready` condition. Its status' images, addresses and capacity, most of a
/// Node, are skipped.
#[derive(Debug, Clone, Deserialize)]
pub struct WireNode {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    spec: Option<WireNodeSpec>,
    status: Option<WireNodeStatus>,
}

#[derive(Debug, Clone, Deserialize)]
struct WireNodeSpec {
    unschedulable: Option<bool>,
    taints: Option<Vec<Taint>>,
}

#[derive(Debug, Clone, Deserialize)]
struct WireNodeStatus {
    conditions: Option<Vec<WireCondition>>,
}

resource!(WireNode, ClusterResourceScope, "", "v1", "Node", "nodes");

impl WireNode {
    pub fn to_node(&self) -> Node {
        Node {
            metadata: self.metadata.clone(),
            spec: self.spec.as_ref().map(|s| NodeSpec {
                unschedulable: s.unschedulable,
                taints: s.taints.clone(),
                ..NodeSpec::default()
            }),
            status: self.status.as_ref().map(|s| NodeStatus {
                conditions: s.conditions.as_ref().map(|cs| {
                    cs.iter()
                        .filter(|c| c.type_ == "Ready")
                        .map(|c| NodeCondition {
                            type_: c.type_.clone(),
                            status: c.status.clone(),
                            reason: c.reason.clone(),
                            message: c.message.clone(),
                            ..NodeCondition::default()
                        })
                        .collect()
                }),
                ..NodeStatus::default()
            }),
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
    reason: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireContainerStatus {
    #[serde(default)]
    name: String,
    #[serde(default)]
    restart_count: i32,
    /// Only for a not-ready pod's reason (waiting or terminated).
    state: Option<ContainerState>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePodStatus {
    phase: Option<String>,
    conditions: Option<Vec<WireCondition>>,
    container_statuses: Option<Vec<WireContainerStatus>>,
    init_container_statuses: Option<Vec<WireContainerStatus>>,
}

impl WirePodStatus {
    /// Why the pod is not ready, from the same facts as a whole Pod gives (crate::rollout).
    fn not_ready(&self) -> Option<String> {
        let conditions: Vec<PodCondition> = self
            .conditions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|c| PodCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                ..PodCondition::default()
            })
            .collect();
        let containers = |list: &Option<Vec<WireContainerStatus>>| -> Vec<ContainerStatus> {
            list.as_deref()
                .unwrap_or_default()
                .iter()
                .map(|c| ContainerStatus {
                    name: c.name.clone(),
                    state: c.state.clone(),
                    ..ContainerStatus::default()
                })
                .collect()
        };
        crate::rollout::not_ready_reason(
            self.phase.as_deref(),
            &conditions,
            &containers(&self.init_container_statuses),
            &containers(&self.container_statuses),
        )
    }
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
    pub fn to_pod_info(&self) -> PodInfo {
        let status = self.status.as_ref();
        PodInfo::from_parts(
            &self.metadata,
            self.spec.as_ref().and_then(|s| s.node_name.clone()),
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
            status.and_then(WirePodStatus::not_ready),
        )
    }
}

impl From<super::proto::Pod> for WirePod {
    /// A pod read as protobuf, in the shape a JSON one is read into: one conversion to
    /// [`PodInfo`] for both encodings.
    fn from(p: super::proto::Pod) -> Self {
        let text = |s: Option<String>| s.unwrap_or_default();
        let m = p.metadata.unwrap_or_default();
        let metadata = ObjectMeta {
            name: m.name,
            namespace: m.namespace,
            creation_timestamp: m.creation_timestamp.and_then(|t| {
                let ts = Timestamp::new(t.seconds.unwrap_or(0), t.nanos.unwrap_or(0)).ok()?;
                Some(Time(ts))
            }),
            labels: (!m.labels.is_empty()).then_some(m.labels),
            ..ObjectMeta::default()
        };
        let containers = |list: Vec<super::proto::ContainerStatus>| {
            (!list.is_empty()).then(|| {
                list.into_iter()
                    .map(|c| WireContainerStatus {
                        name: text(c.name),
                        restart_count: c.restart_count.unwrap_or(0),
                        state: c.state.map(|s| ContainerState {
                            waiting: s.waiting.map(|w| ContainerStateWaiting {
                                reason: w.reason,
                                message: w.message,
                            }),
                            terminated: s.terminated.map(|t| ContainerStateTerminated {
                                exit_code: t.exit_code.unwrap_or(0),
                                reason: t.reason,
                                message: t.message,
                                ..ContainerStateTerminated::default()
                            }),
                            running: None,
                        }),
                    })
                    .collect()
            })
        };
        WirePod {
            metadata,
            spec: p.spec.map(|s| WirePodSpec {
                node_name: s.node_name,
            }),
            status: p.status.map(|s| WirePodStatus {
                phase: s.phase,
                conditions: (!s.conditions.is_empty()).then(|| {
                    s.conditions
                        .into_iter()
                        .map(|c| WireCondition {
                            type_: text(c.type_),
                            status: text(c.status),
                            reason: c.reason,
                            message: c.message,
                        })
                        .collect()
                }),
                container_statuses: containers(s.container_statuses),
                init_container_statuses: containers(s.init_container_statuses),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::fixtures;

    #[test]
    fn a_slim_pod_reads_as_the_full_one() {
        for ready in [true, false] {
            let mut v = fixtures::pod("ns", "s", 1, "node-a", ready);
            v["metadata"]["managedFields"] =
                json!([{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]);
            let wire: WirePod = serde_json::from_value(v.clone()).expect("a pod");
            let full: k8s_openapi::api::core::v1::Pod = serde_json::from_value(v).expect("a pod");
            let info = wire.to_pod_info();
            assert_eq!(info, PodInfo::from_pod(&full));
            assert_eq!((info.store.as_deref(), info.ready), (Some("s"), ready));
        }
    }

    #[test]
    fn restarts_count_as_kubectl_counts_them() {
        // Both readers, the slim wire pod and the full one, on each case of kubectl's printer.
        let both = |v: Value| {
            let wire: WirePod = serde_json::from_value(v.clone()).expect("a pod");
            let full: k8s_openapi::api::core::v1::Pod = serde_json::from_value(v).expect("a pod");
            let (a, b) = (
                wire.to_pod_info().restarts,
                PodInfo::from_pod(&full).restarts,
            );
            assert_eq!(a, b);
            a
        };
        let mut v = fixtures::pod_with_restarts("ns", "s", 1, "node-a", true, 2);
        // An init container that failed and retried 5 times: the pod is initializing.
        v["status"]["initContainerStatuses"] = json!([{"name": "feast-apply", "ready": false,
            "restartCount": 5, "image": "x", "imageID": "",
            "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]);
        assert_eq!(
            both(v.clone()),
            5,
            "initializing: the init container's restarts"
        );
        // It succeeded in the end: the app containers' restarts.
        v["status"]["initContainerStatuses"][0]["state"] =
            json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
        assert_eq!(both(v), 2, "initialized: the app container's");
    }

    #[test]
    fn a_store_keeps_what_the_core_reads() {
        let mut v = fixtures::scenario("ns", "hpa").stores.remove(0);
        v["status"]["serviceHostnames"] = json!({"onlineStore": "x:80"});
        v["status"]["applied"]["feastProject"] = json!("p");
        let wire: WireStore = serde_json::from_value(v.clone()).expect("a store");
        let slim = wire.to_value();
        assert_eq!(slim["spec"], v["spec"]);
        assert_eq!(slim["metadata"], v["metadata"]);
        assert_eq!(slim["status"].get("serviceHostnames"), None);
        assert_eq!(slim["status"]["applied"].get("feastProject"), None);
        for key in [
            "phase",
            "feastVersion",
            "replicas",
            "scalingStatus",
            "conditions",
        ] {
            assert_eq!(slim["status"][key], v["status"][key], "{key}");
        }
        assert_eq!(
            slim["status"]["applied"]["services"]["scaling"],
            v["status"]["applied"]["services"]["scaling"]
        );
    }

    #[test]
    fn slim_stores_derive_the_same_status_as_full_ones() {
        let mut full = fixtures::all("ns");
        for s in &mut full.stores {
            s["status"]["serviceHostnames"] = json!({"onlineStore": "x:80"});
        }
        let mut slim = full.clone();
        slim.stores = slim
            .stores
            .into_iter()
            .map(|v| {
                let w: WireStore = serde_json::from_value(v).expect("a store");
                w.to_value()
            })
            .collect();
        let a = crate::render::json(&crate::status::derive(&full.inventory())).expect("JSON");
        let b = crate::render::json(&crate::status::derive(&slim.inventory())).expect("JSON");
        assert_eq!(a, b);
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
