//! Objects as the operator, the kubelet and the controllers would write them, for unit tests,
//! snapshot tests and the benchmark of the pure derivation. The scenarios (`single`, `static`,
//! `hpa`, …) come from `scenarios/scenarios.json`, the file `scripts/seed-scenarios` seeds the
//! test cluster from and `scripts/living-scenarios` gives the living cluster, so the three
//! never drift apart. Fixed timestamps, so that ages rendered against [`NOW`] are stable.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Inventory, Source};

/// The "now" the snapshot tests render against.
pub const NOW: &str = "2026-11-25T12:00:00Z";
/// When every fixture store was created: 5 days before [`NOW`].
pub const CREATED: &str = "2026-11-20T12:00:00Z";
/// When every fixture pod was created: 2 hours before [`NOW`].
pub const POD_CREATED: &str = "2026-11-25T10:00:00Z";

fn typed<T: DeserializeOwned>(v: Value) -> T {
    match serde_json::from_value(v) {
        Ok(t) => t,
        Err(e) => panic!("fixture does not match its type: {e}"),
    }
}

pub fn uid(ns: &str, name: &str) -> String {
    format!("uid-{ns}-{name}")
}

/// A spec that may scale: redis online store and a remote registry.
pub fn db_backed(extra: Value) -> Value {
    let mut spec = json!({
        "feastProject": "demo",
        "services": {
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "redis"}}}},
            "registry": {"remote": {"hostname": "registry.feast:80"}}
        }
    });
    merge(&mut spec, extra);
    spec
}

/// A JSON merge patch, for building variants.
pub fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// A FeatureStore with `spec`, and a status as the operator writes it after catching up.
pub fn store(ns: &str, name: &str, spec: Value, ready: i64, desired: i64) -> Value {
    let scaling = spec.get("replicas").and_then(Value::as_i64).unwrap_or(1) > 1
        || spec.pointer("/services/scaling/autoscaling").is_some();
    let mut applied = spec.clone();
    merge(
        &mut applied,
        json!({"replicas": spec.get("replicas").cloned().unwrap_or(json!(1))}),
    );
    let mut status = json!({
        "applied": applied,
        "phase": "Ready",
        "feastVersion": "0.66.0",
        "replicas": ready,
        "selector": format!("feast.dev/name={name}"),
        "conditions": [
            {"type": "FeatureStore", "status": "True", "reason": "Ready", "message": "FeatureStore installation complete", "lastTransitionTime": CREATED},
            {"type": "OnlineStore", "status": "True", "reason": "Ready", "message": "Online Store installation complete", "lastTransitionTime": CREATED}
        ]
    });
    if scaling {
        status["scalingStatus"] = json!({"currentReplicas": ready, "desiredReplicas": desired});
    }
    json!({
        "apiVersion": "feast.dev/v1",
        "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns, "uid": uid(ns, name), "creationTimestamp": CREATED, "generation": 1},
        "spec": spec,
        "status": status
    })
}

fn owner(ns: &str, name: &str) -> Value {
    json!([{"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": name, "uid": uid(ns, name), "controller": true, "blockOwnerDeletion": true}])
}

/// The Deployment `feast-<name>` with the operator's template for the store's scaling state.
pub fn deployment(ns: &str, name: &str, replicas: i64, ready: i64, scaling: bool) -> Value {
    let mut template =
        json!({"containers": [{"name": "online", "image": "feastdev/feature-server:0.66.0"}]});
    if scaling {
        template["topologySpreadConstraints"] = json!([{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"feast.dev/name": name}}
        }]);
        template["affinity"] = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"feast.dev/name": name}}}
        }]}});
    }
    let strategy = if scaling {
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    } else {
        json!({"type": "Recreate"})
    };
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("feast-{name}"), "namespace": ns, "generation": 2,
                     "labels": {"feast.dev/name": name, "app.kubernetes.io/managed-by": "feast-operator"},
                     "ownerReferences": owner(ns, name)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"feast.dev/name": name}},
            "strategy": strategy,
            "template": {"metadata": {"labels": {"feast.dev/name": name}}, "spec": template}
        },
        "status": {"observedGeneration": 2, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready}
    })
}

/// The operator's HPA `feast-<name>` on the default CPU metric (80 %).
pub fn hpa(ns: &str, name: &str, min: i64, max: i64, current: i64, cpu: i64) -> Value {
    hpa_targeting(ns, name, (min, max), current, cpu, 80)
}

/// The operator's HPA `feast-<name>` on a CPU utilisation `target`.
pub fn hpa_targeting(
    ns: &str,
    name: &str,
    (min, max): (i64, i64),
    current: i64,
    cpu: i64,
    target: i64,
) -> Value {
    let limited = current >= max;
    json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": format!("feast-{name}"), "namespace": ns,
                     "labels": {"feast.dev/name": name}, "ownerReferences": owner(ns, name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("feast-{name}")},
            "minReplicas": min, "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]
        },
        "status": {
            "currentReplicas": current, "desiredReplicas": current,
            "lastScaleTime": "2026-11-25T11:30:00Z",
            "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cpu, "averageValue": "400m"}}}],
            "conditions": [
                {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "message": "recommended size matches current size"},
                {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound", "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
                if limited {
                    json!({"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas", "message": "the desired replica count is more than the maximum replica count"})
                } else {
                    json!({"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange", "message": "the desired count is within the acceptable range"})
                }
            ]
        }
    })
}

/// An HPA that targets the FeatureStore's scale subresource, as KEDA creates for a ScaledObject.
pub fn keda_hpa(ns: &str, name: &str, so: &str, min: i64, max: i64, current: i64) -> Value {
    json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": format!("keda-hpa-{so}"), "namespace": ns,
                     "labels": {"scaledobject.keda.sh/name": so},
                     "ownerReferences": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": so, "uid": format!("uid-so-{so}"), "controller": true}]},
        "spec": {
            "scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": name},
            "minReplicas": min, "maxReplicas": max,
            "metrics": [{"type": "External", "external": {"metric": {"name": "s0-prometheus"}, "target": {"type": "AverageValue", "averageValue": "100"}}}]
        },
        "status": {
            "currentReplicas": current, "desiredReplicas": current,
            "currentMetrics": [{"type": "External", "external": {"metric": {"name": "s0-prometheus"}, "current": {"averageValue": "42"}}}],
            "conditions": [
                {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"},
                {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}
            ]
        }
    })
}

pub fn scaled_object(ns: &str, name: &str, so: &str, min: i64, max: i64) -> Value {
    json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": so, "namespace": ns, "uid": format!("uid-so-{so}")},
        "spec": {"scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": name},
                 "minReplicaCount": min, "maxReplicaCount": max,
                 "triggers": [{"type": "prometheus", "metadata": {"query": "sum(rate(feast_requests[1m]))", "threshold": "100"}}]}
    })
}

/// The operator's PDB `feast-<name>` with its controller-filled status.
pub fn pdb(
    ns: &str,
    name: &str,
    policy: Value,
    healthy: i64,
    desired_healthy: i64,
    allowed: i64,
) -> Value {
    let mut spec = json!({"selector": {"matchLabels": {"feast.dev/name": name}}});
    merge(&mut spec, policy);
    json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": format!("feast-{name}"), "namespace": ns, "generation": 1,
                     "labels": {"feast.dev/name": name}, "ownerReferences": owner(ns, name)},
        "spec": spec,
        "status": {"observedGeneration": 1, "currentHealthy": healthy, "desiredHealthy": desired_healthy,
                   "disruptionsAllowed": allowed, "expectedPods": healthy}
    })
}

pub fn pod(ns: &str, name: &str, i: usize, node: &str, ready: bool) -> Value {
    pod_with_restarts(ns, name, i, node, ready, i64::from(!ready) * 3)
}

pub fn pod_with_restarts(
    ns: &str,
    name: &str,
    i: usize,
    node: &str,
    ready: bool,
    restarts: i64,
) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("feast-{name}-7c9d8-{i:05}"), "namespace": ns, "creationTimestamp": POD_CREATED,
                     "labels": {"feast.dev/name": name, "app.kubernetes.io/managed-by": "feast-operator"}},
        "spec": {"nodeName": node, "containers": [{"name": "online", "image": "feastdev/feature-server:0.66.0"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": "online", "ready": ready, "restartCount": restarts, "image": "feastdev/feature-server:0.66.0", "imageID": "", "started": true}]
        }
    })
}

pub fn node(name: &str, zone: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}}})
}

/// The objects of one namespace, by kind, as JSON.
#[derive(Debug, Default, Clone)]
pub struct Objects {
    pub stores: Vec<Value>,
    pub deployments: Vec<Value>,
    pub hpas: Vec<Value>,
    pub pdbs: Vec<Value>,
    pub pods: Vec<Value>,
    pub nodes: Vec<Value>,
    pub scaled_objects: Vec<Value>,
}

impl Objects {
    pub fn extend(&mut self, other: Objects) {
        self.stores.extend(other.stores);
        self.deployments.extend(other.deployments);
        self.hpas.extend(other.hpas);
        self.pdbs.extend(other.pdbs);
        self.pods.extend(other.pods);
        self.nodes.extend(other.nodes);
        self.scaled_objects.extend(other.scaled_objects);
    }

    /// Every kind readable; KEDA served.
    pub fn inventory(&self) -> Inventory {
        Inventory {
            stores: self.stores.iter().map(Value::to_string).collect(),
            deployments: Source::listed(self.deployments.iter().cloned().map(typed).collect()),
            hpas: Source::listed(self.hpas.iter().cloned().map(typed).collect()),
            pdbs: Source::listed(self.pdbs.iter().cloned().map(typed).collect()),
            pods: Source::listed(
                self.pods
                    .iter()
                    .cloned()
                    .map(|p| super::PodInfo::from_pod(&typed(p)))
                    .collect(),
            ),
            nodes: Source::listed(self.nodes.iter().cloned().map(typed).collect()),
            scaled_objects: Source::listed(self.scaled_objects.clone()),
        }
    }
}

/// Nodes `<ns>-node-1..=n`, alternating zones `zone-a`, `zone-b`.
pub fn nodes(ns: &str, n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| {
            node(
                &format!("{ns}-node-{i}"),
                if i % 2 == 1 { "zone-a" } else { "zone-b" },
            )
        })
        .collect()
}

/// The scenarios, shared with `scripts/seed-scenarios` and `scripts/living-scenarios`.
const SCENARIOS_JSON: &str = include_str!("../../scenarios/scenarios.json");

fn scenarios_file() -> &'static Value {
    static FILE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    FILE.get_or_init(|| match serde_json::from_str(SCENARIOS_JSON) {
        Ok(v) => v,
        Err(e) => panic!("scenarios/scenarios.json does not parse: {e}"),
    })
}

/// The scenarios the seeded cluster and these fixtures have, in the file's order.
pub fn seeded_scenarios() -> Vec<&'static str> {
    scenarios_file()["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s.get("seeded").is_some())
        .filter_map(|s| s["name"].as_str())
        .collect()
}

/// One of the seeded scenarios, the store named after it (`scripts/seed-scenarios` writes the
/// same one into the controller-less test cluster, from the same file).
pub fn scenario(ns: &str, which: &str) -> Objects {
    scenario_named(ns, which, which)
}

/// A scenario's objects under another store name (for many stores of one kind): its spec, and
/// what its "seeded" facts say the operator and the controllers wrote.
pub fn scenario_named(ns: &str, which: &str, name: &str) -> Objects {
    let file = scenarios_file();
    let Some(s) = file["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == which && s.get("seeded").is_some())
    else {
        panic!("no seeded scenario {which:?} in scenarios/scenarios.json");
    };
    let seeded = &s["seeded"];
    let int = |v: &Value| v.as_i64().unwrap_or(0);
    let mut spec = s["spec"].clone();
    if let Some(r) = seeded.get("specReplicas") {
        spec["replicas"] = r.clone();
    }
    let pods: Vec<(usize, bool, i64)> = seeded["pods"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let node = usize::try_from(int(&p[0])).unwrap_or(1);
            (node, p[1].as_bool().unwrap_or(false), int(&p[2]))
        })
        .collect();
    let ready = i64::try_from(pods.iter().filter(|p| p.1).count()).unwrap_or(0);
    let replicas = int(&seeded["deploymentReplicas"]);
    let mut o = Objects::default();
    let mut store = store(ns, name, spec.clone(), ready, replicas);
    if let Some(applied) = seeded.get("appliedReplicas") {
        store["status"]["applied"]["replicas"] = applied.clone();
    }
    if let Some(error) = seeded["failed"].as_str() {
        store["status"]["phase"] = json!("Failed");
        store["status"]["conditions"][0] = json!({
            "type": "FeatureStore", "status": "False", "reason": "FeatureStoreFailed",
            "message": format!("Error: {error}"),
            "lastTransitionTime": "2026-11-25T11:00:00Z"
        });
    }
    // The operator shapes the Deployment from the spec it applied (§4.1).
    let applied = json!({ "spec": store["status"]["applied"].clone() });
    let scaling = crate::featurestore::FeatureStore::new(&applied).scaling_enabled();
    o.stores.push(store);
    o.deployments
        .push(deployment(ns, name, replicas, ready, scaling));
    if let (Some(auto), Some(h)) = (
        spec.pointer("/services/scaling/autoscaling"),
        seeded.get("hpa"),
    ) {
        let bounds = (int(&auto["minReplicas"]).max(1), int(&auto["maxReplicas"]));
        let target = auto
            .pointer("/metrics/0/resource/target/averageUtilization")
            .map_or(80, int);
        o.hpas.push(hpa_targeting(
            ns,
            name,
            bounds,
            replicas,
            int(&h["cpu"]),
            target,
        ));
    }
    if let (Some(policy), Some(b)) = (
        spec.pointer("/services/podDisruptionBudgets"),
        seeded.get("pdb"),
    ) {
        o.pdbs.push(pdb(
            ns,
            name,
            policy.clone(),
            ready,
            int(&b["desiredHealthy"]),
            int(&b["allowed"]),
        ));
    }
    if s["keda"] == true {
        let (min, max) = (
            int(&file["keda"]["minReplicaCount"]),
            int(&file["keda"]["maxReplicaCount"]),
        );
        o.scaled_objects
            .push(scaled_object(ns, name, name, min, max));
        o.hpas.push(keda_hpa(ns, name, name, min, max, replicas));
    }
    o.pods = pods
        .iter()
        .enumerate()
        .map(|(i, (node, ready, restarts))| {
            pod_with_restarts(ns, name, i, &format!("{ns}-node-{node}"), *ready, *restarts)
        })
        .collect();
    o
}

/// The seeded cluster's nodes: `<ns>-node-1..`, one per zone of the scenarios file.
pub fn seeded_nodes(ns: &str) -> Vec<Value> {
    scenarios_file()["seededNodes"]["zones"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .enumerate()
        .map(|(i, zone)| node(&format!("{ns}-node-{}", i + 1), zone))
        .collect()
}

/// Every seeded scenario in one namespace, on the seeded cluster's nodes.
pub fn all(ns: &str) -> Objects {
    let mut o = Objects {
        nodes: seeded_nodes(ns),
        ..Default::default()
    };
    for s in seeded_scenarios() {
        o.extend(scenario(ns, s));
    }
    o
}
