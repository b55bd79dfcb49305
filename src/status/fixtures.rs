//! Hand-built objects as the operator, the kubelet and the controllers would write them, for
//! unit tests, snapshot tests and the benchmark of the pure derivation. One function per
//! scenario, named like the control plane's seeded scenarios (`single`, `static`, `hpa`, …).
//! Fixed timestamps, so that ages rendered against [`NOW`] are stable.

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

/// The operator's HPA `feast-<name>` on the default CPU metric.
pub fn hpa(ns: &str, name: &str, min: i64, max: i64, current: i64, cpu: i64) -> Value {
    let limited = current >= max;
    json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": format!("feast-{name}"), "namespace": ns,
                     "labels": {"feast.dev/name": name}, "ownerReferences": owner(ns, name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("feast-{name}")},
            "minReplicas": min, "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
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
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("feast-{name}-7c9d8-{i:05}"), "namespace": ns, "creationTimestamp": POD_CREATED,
                     "labels": {"feast.dev/name": name, "app.kubernetes.io/managed-by": "feast-operator"}},
        "spec": {"nodeName": node, "containers": [{"name": "online", "image": "feastdev/feature-server:0.66.0"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": "online", "ready": ready, "restartCount": i64::from(!ready) * 3, "image": "feastdev/feature-server:0.66.0", "imageID": "", "started": true}]
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

fn pods_on(ns: &str, name: &str, nodes: &[usize], ready: usize) -> Vec<Value> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| pod(ns, name, i, &format!("{ns}-node-{n}"), i < ready))
        .collect()
}

/// One of the seeded scenarios, the store named after it (see the control plane's
/// `scripts/seed-scenarios`).
pub fn scenario(ns: &str, which: &str) -> Objects {
    scenario_named(ns, which, which)
}

/// A scenario's objects under another store name (for many stores of one kind).
pub fn scenario_named(ns: &str, which: &str, name: &str) -> Objects {
    let mut o = Objects::default();
    match which {
        "single" => {
            o.stores
                .push(store(ns, name, json!({"feastProject": "demo"}), 1, 1));
            o.deployments.push(deployment(ns, name, 1, 1, false));
            o.pods = pods_on(ns, name, &[1], 1);
        }
        "static" => {
            let spec = db_backed(
                json!({"replicas": 3, "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}),
            );
            o.stores.push(store(ns, name, spec, 3, 3));
            o.deployments.push(deployment(ns, name, 3, 3, true));
            o.pdbs
                .push(pdb(ns, name, json!({"maxUnavailable": 1}), 3, 2, 1));
            o.pods = pods_on(ns, name, &[1, 2, 3], 3);
        }
        "hpa" => {
            let spec = db_backed(
                json!({"services": {"scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 5}}, "podDisruptionBudgets": {"maxUnavailable": 1}}}),
            );
            o.stores.push(store(ns, name, spec, 2, 2));
            o.deployments.push(deployment(ns, name, 2, 2, true));
            o.hpas.push(hpa(ns, name, 2, 5, 2, 35));
            o.pdbs
                .push(pdb(ns, name, json!({"maxUnavailable": 1}), 2, 1, 1));
            o.pods = pods_on(ns, name, &[1, 2], 2);
        }
        "hpa-at-limit" => {
            let spec = db_backed(
                json!({"services": {"scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 4}}}}),
            );
            o.stores.push(store(ns, name, spec, 4, 4));
            o.deployments.push(deployment(ns, name, 4, 4, true));
            o.hpas.push(hpa(ns, name, 2, 4, 4, 135));
            o.pods = pods_on(ns, name, &[1, 2, 3, 4], 4);
        }
        "keda" => {
            let spec = db_backed(json!({"replicas": 2}));
            o.stores.push(store(ns, name, spec, 2, 2));
            o.deployments.push(deployment(ns, name, 2, 2, true));
            o.hpas.push(keda_hpa(ns, name, name, 1, 6, 2));
            o.scaled_objects.push(scaled_object(ns, name, name, 1, 6));
            o.pods = pods_on(ns, name, &[1, 2], 2);
        }
        "conflict" => {
            let spec =
                db_backed(json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 3}}}}));
            o.stores.push(store(ns, name, spec, 2, 2));
            o.deployments.push(deployment(ns, name, 2, 2, true));
            o.hpas.push(hpa(ns, name, 1, 3, 2, 60));
            o.hpas
                .push(keda_hpa(ns, name, &format!("{name}-so"), 2, 8, 2));
            o.pods = pods_on(ns, name, &[1, 2], 2);
        }
        "pdb-blocks-drain" => {
            let spec = db_backed(
                json!({"replicas": 2, "services": {"podDisruptionBudgets": {"minAvailable": 2}}}),
            );
            o.stores.push(store(ns, name, spec, 2, 2));
            o.deployments.push(deployment(ns, name, 2, 2, true));
            o.pdbs
                .push(pdb(ns, name, json!({"minAvailable": 2}), 2, 2, 0));
            o.pods = pods_on(ns, name, &[1, 2], 2);
        }
        "one-node" => {
            let spec = db_backed(json!({"replicas": 3}));
            o.stores.push(store(ns, name, spec, 3, 3));
            o.deployments.push(deployment(ns, name, 3, 3, true));
            o.pods = pods_on(ns, name, &[1, 1, 1], 3);
        }
        "lagging" => {
            // spec says 4; the operator last applied 2 and has not reconciled since.
            let spec = db_backed(json!({"replicas": 4}));
            let mut s = store(ns, name, spec, 2, 2);
            s["status"]["applied"]["replicas"] = json!(2);
            o.stores.push(s);
            o.deployments.push(deployment(ns, name, 2, 2, true));
            o.pods = pods_on(ns, name, &[1, 2], 2);
        }
        "failed" => {
            // The HPA apply failed (min > max reaches the HPA API, §2.2).
            let spec = db_backed(
                json!({"services": {"scaling": {"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}}}),
            );
            let mut s = store(ns, name, spec, 1, 1);
            s["status"]["phase"] = json!("Failed");
            s["status"]["conditions"][0] = json!({
                "type": "FeatureStore", "status": "False", "reason": "FeatureStoreFailed",
                "message": format!("Error: HorizontalPodAutoscaler.autoscaling \"feast-{name}\" is invalid: spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"),
                "lastTransitionTime": "2026-11-25T11:00:00Z"
            });
            o.stores.push(s);
            o.deployments.push(deployment(ns, name, 1, 1, true));
            o.pods = pods_on(ns, name, &[1], 1);
        }
        other => panic!("no fixture scenario {other:?}"),
    }
    o
}

pub const SCENARIOS: &[&str] = &[
    "single",
    "static",
    "hpa",
    "hpa-at-limit",
    "keda",
    "conflict",
    "pdb-blocks-drain",
    "one-node",
    "lagging",
    "failed",
];

/// Every scenario in one namespace, with 4 nodes over 2 zones.
pub fn all(ns: &str) -> Objects {
    let mut o = Objects {
        nodes: nodes(ns, 4),
        ..Default::default()
    };
    for s in SCENARIOS {
        o.extend(scenario(ns, s));
    }
    o
}
