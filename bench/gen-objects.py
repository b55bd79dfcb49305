#!/usr/bin/env python3
"""Writes the objects of the `status -A` scale benchmark as kubectl `List` files.

    gen-objects.py stores  OUT_DIR STORES NAMESPACES NODES CHUNKS
    gen-objects.py owned   OUT_DIR UIDS_JSON NODES CHUNKS

`stores` writes namespaces.json, nodes.json, stores-N.json (the FeatureStores, HPA mode with a
PDB, as a user would create them) and stores-status-N.json (the same objects with the status the
operator writes, for `kubectl replace --subresource=status`). `owned` reads the stores' UIDs
(`kubectl get featurestores -A -o json`) and writes, per chunk, owned-N.json (Deployment, HPA and
PDB `feast-<name>` controller-owned by the store, 3 Pods labelled `feast.dev/name=<name>`) and
owned-status-N.json (their status, as the controllers and the kubelet write it). Each chunk is
loaded by its own kubectl process, so loading runs in parallel.
"""

import json
import os
import sys

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
IMAGE = "quay.io/feastdev/feature-server:0.66.0"
CREATED = "2026-11-20T12:00:00Z"
PODS_PER_STORE = 3


def write(path, items):
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)


def chunks(items, n):
    size = (len(items) + n - 1) // n
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def spec(i):
    return {
        "feastProject": f"bench{i}",
        "services": {
            "onlineStore": {
                "persistence": {"store": {"type": "redis", "secretRef": {"name": "feast-data-stores"}}},
                "server": {"resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}},
            },
            "registry": {"remote": {"hostname": "feast-registry.feast-system.svc.cluster.local:80"}},
            "scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 6, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}},
            "podDisruptionBudgets": {"maxUnavailable": 1},
        },
    }


def status(name, s):
    applied = json.loads(json.dumps(s))
    applied["replicas"] = 1
    applied["services"]["runFeastApplyOnInit"] = True
    applied["authz"] = {"kubernetes": {}}
    applied["feastProjectDir"] = {"init": {}}
    applied["services"]["onlineStore"]["server"]["image"] = IMAGE
    cond = lambda t, m: {"type": t, "status": "True", "reason": "Ready", "message": m, "lastTransitionTime": CREATED}
    return {
        "applied": applied,
        "phase": "Ready",
        "feastVersion": "0.66.0",
        "replicas": PODS_PER_STORE,
        "selector": f"feast.dev/name={name}",
        "scalingStatus": {"currentReplicas": PODS_PER_STORE, "desiredReplicas": PODS_PER_STORE},
        "clientConfigMap": f"feast-{name}-client",
        "cronJob": f"feast-{name}",
        "serviceHostnames": {"onlineStore": f"feast-{name}-online.svc.cluster.local:80"},
        "conditions": [
            cond("FeatureStore", "FeatureStore installation complete"),
            cond("OnlineStore", "Online Store installation complete"),
            cond("Client", "Client installation complete"),
            cond("CronJob", "CronJob installation complete"),
            cond("Authorization", "Kubernetes authorization installation complete"),
        ],
    }


def stores(out, n_stores, n_ns, n_nodes, n_chunks):
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"bench-{k}"}} for k in range(n_ns)]
    write(os.path.join(out, "namespaces.json"), namespaces)
    nodes = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": f"bench-node-{k}", "labels": {"kubernetes.io/hostname": f"bench-node-{k}", "topology.kubernetes.io/zone": ZONES[k % 3]}},
        }
        for k in range(n_nodes)
    ]
    write(os.path.join(out, "nodes.json"), nodes)
    items, with_status = [], []
    for i in range(n_stores):
        name, ns = f"store-{i:05d}", f"bench-{i % n_ns}"
        s = spec(i)
        obj = {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": name, "namespace": ns, "labels": {"team": f"team-{i % 7}"}}, "spec": s}
        items.append(obj)
        with_status.append(dict(obj, status=status(name, s)))
    for k, c in enumerate(chunks(items, n_chunks)):
        write(os.path.join(out, f"stores-{k}.json"), c)
    for k, c in enumerate(chunks(with_status, n_chunks)):
        write(os.path.join(out, f"stores-status-{k}.json"), c)


def owner(name, uid):
    return [{"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": name, "uid": uid, "controller": True, "blockOwnerDeletion": True}]


def labels(name):
    return {"feast.dev/name": name, "app.kubernetes.io/managed-by": "feast-operator"}


def pod_spec(name, node=None):
    container = {
        "name": "online",
        "image": IMAGE,
        "command": ["feast", "serve", "-h", "0.0.0.0", "-p", "6566"],
        "ports": [{"name": "online", "containerPort": 6566, "protocol": "TCP"}],
        "env": [{"name": "FEATURE_STORE_YAML_BASE64", "value": "cHJvamVjdDogYmVuY2gKcmVnaXN0cnk6IHJlbW90ZQo="}],
        "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "readinessProbe": {"tcpSocket": {"port": "online"}, "initialDelaySeconds": 5, "periodSeconds": 10},
        "volumeMounts": [{"name": "feast-data", "mountPath": "/feast-data"}],
    }
    init = [
        {"name": "feast-init", "image": IMAGE, "command": ["bash", "-c", "feast init bench"], "volumeMounts": [{"name": "feast-data", "mountPath": "/feast-data"}]},
        {"name": "feast-apply", "image": IMAGE, "command": ["bash", "-c", "feast apply"], "volumeMounts": [{"name": "feast-data", "mountPath": "/feast-data"}]},
    ]
    s = {
        "serviceAccountName": f"feast-{name}",
        "initContainers": init,
        "containers": [container],
        "volumes": [{"name": "feast-data", "emptyDir": {}}],
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"feast.dev/name": name}}}],
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"feast.dev/name": name}}}}]}},
    }
    if node:
        s["nodeName"] = node
    return s


def owned(out, uids_path, n_nodes, n_chunks):
    with open(uids_path) as f:
        stores = json.load(f)["items"]
    groups = chunks(stores, n_chunks)
    for k, group in enumerate(groups):
        objs, stats = [], []
        for st in group:
            name, ns, uid = st["metadata"]["name"], st["metadata"]["namespace"], st["metadata"]["uid"]
            i = int(name.split("-")[1])
            meta = lambda n, kind_labels=True: {"name": n, "namespace": ns, "labels": labels(name), "ownerReferences": owner(name, uid)}
            dep = {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": meta(f"feast-{name}"),
                "spec": {
                    "replicas": PODS_PER_STORE,
                    "selector": {"matchLabels": {"feast.dev/name": name}},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                    "template": {"metadata": {"labels": labels(name)}, "spec": pod_spec(name)},
                },
            }
            hpa = {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": meta(f"feast-{name}"),
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"feast-{name}"},
                    "minReplicas": 2,
                    "maxReplicas": 6,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
                },
            }
            pdb = {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": meta(f"feast-{name}"),
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"feast.dev/name": name}}},
            }
            pods = []
            for p in range(PODS_PER_STORE):
                node = f"bench-node-{(i * PODS_PER_STORE + p) % n_nodes}"
                pods.append({
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"feast-{name}-6d9f7c5b8-{p:05d}", "namespace": ns, "labels": labels(name)},
                    "spec": pod_spec(name, node),
                })
            objs += [dep, hpa, pdb] + pods
            cpu = 30 + i % 60
            stats.append(dict(dep, status={"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                                           "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."}]}))
            stats.append(dict(hpa, status={"currentReplicas": 3, "desiredReplicas": 3,
                                           "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cpu, "averageValue": f"{2 * cpu}m"}}}],
                                           "conditions": [
                                               {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "message": "recommended size matches current size", "lastTransitionTime": CREATED},
                                               {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound", "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)", "lastTransitionTime": CREATED},
                                               {"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange", "message": "the desired count is within the acceptable range", "lastTransitionTime": CREATED}]}))
            stats.append(dict(pdb, status={"observedGeneration": 1, "currentHealthy": 3, "desiredHealthy": 2, "disruptionsAllowed": 1, "expectedPods": 3}))
            for pod in pods:
                stats.append(dict(pod, status={
                    "phase": "Running",
                    "startTime": CREATED,
                    "podIP": "10.1.0.1",
                    "conditions": [{"type": t, "status": "True", "lastTransitionTime": CREATED} for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                    "containerStatuses": [{"name": "online", "ready": True, "started": True, "restartCount": 0, "image": IMAGE, "imageID": IMAGE + "@sha256:0000",
                                           "state": {"running": {"startedAt": CREATED}}}],
                }))
        write(os.path.join(out, f"owned-{k}.json"), objs)
        write(os.path.join(out, f"owned-status-{k}.json"), stats)


def events(out, n_stores, per_store, n_chunks):
    """Core v1 Events for the first namespace's stores, as the HPA and Deployment controllers
    write them: `per_store` on each store's `feast-<name>` objects, for `history`'s field
    selectors to pick from."""
    items = []
    for i in range(n_stores):
        name, ns = f"store-{i:05d}", "bench-0"
        for k in range(per_store):
            kind, reason, message, component = [
                ("HorizontalPodAutoscaler", "SuccessfulRescale", f"New size: {3 + k}; reason: cpu resource utilization (percentage of request) above target", "horizontal-pod-autoscaler"),
                ("Deployment", "ScalingReplicaSet", f"Scaled up replica set feast-{name}-6d9f7c5b8 from {2 + k} to {3 + k}", "deployment-controller"),
            ][k % 2]
            t = f"2026-01-01T00:{k:02d}:00Z"
            items.append({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"feast-{name}.{k:04d}", "namespace": ns},
                "involvedObject": {"apiVersion": "apps/v1" if kind == "Deployment" else "autoscaling/v2", "kind": kind, "name": f"feast-{name}", "namespace": ns},
                "reason": reason, "message": message, "type": "Normal", "count": 1,
                "firstTimestamp": t, "lastTimestamp": t, "source": {"component": component},
            })
    for k, c in enumerate(chunks(items, n_chunks)):
        write(os.path.join(out, f"events-{k}.json"), c)


if __name__ == "__main__":
    what, out = sys.argv[1], sys.argv[2]
    if what == "stores":
        stores(out, *(int(a) for a in sys.argv[3:7]))
    elif what == "owned":
        owned(out, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif what == "events":
        events(out, *(int(a) for a in sys.argv[3:6]))
    else:
        sys.exit(f"unknown: {what}")
