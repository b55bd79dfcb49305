#!/usr/bin/env bash
# Does validate's cost per document stay flat as the input grows? Times the release binary on
# FeatureStores as one `kind: List` (what `kubectl get feast -A -o yaml|json` prints) and as
# multi-document YAML, at 1k, 2k, 4k and 8k documents, and fails (exit 1) when the time per
# document at the largest size is more than GROWTH (default 1.5) times that at the smallest:
# a List was once split in quadratic time (20 s at 10,000 items), and ScaledObjects were matched
# to their stores in quadratic time (8 s at 10,000 documents); every other store has one here.
#
#   bench/validate-growth.sh [SIZES...]    RUNS=3 best-of runs, GROWTH=1.5, BIN=another build to time
#                                          (an older commit's, for a before/after)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 2000 4000 8000)
runs=${RUNS:-3}
growth=${GROWTH:-1.5}

bin=${BIN:-target/release/kubectl-feast}
[ -n "${BIN:-}" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
failed=0
for shape in list-yaml list-json multi-yaml; do
  first=""
  for n in "${sizes[@]}"; do
    python3 - "$n" "$shape" "$work/in" <<'PY'
import json, sys
n, shape, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def store(i):
    return {"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": f"s{i}", "namespace": f"ns{i % 20}"},
            "spec": {"feastProject": f"p{i}", "replicas": 2, "services": {
                "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
                "registry": {"remote": {"hostname": "registry:80"}},
                "podDisruptionBudgets": {"maxUnavailable": 1}}}}
def scaled_object(i):
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": f"so{i}", "namespace": f"ns{i % 20}"},
            "spec": {"scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": f"s{i}"},
                     "minReplicaCount": 2, "maxReplicaCount": 4,
                     "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}]}}
# One ScaledObject for every other store: each is matched to its store by name (a scan of every
# store per ScaledObject once made this quadratic).
items = [x for i in range(n) for x in ([store(i), scaled_object(i)] if i % 2 == 0 else [store(i)])]
def yaml(v, ind=0):
    pad = "  " * ind
    if isinstance(v, dict):
        return "".join(f"{pad}{k}:\n{yaml(x, ind + 1)}" if isinstance(x, (dict, list)) else f"{pad}{k}: {json.dumps(x)}\n" for k, x in v.items())
    return "".join(f"{pad}-\n{yaml(x, ind + 1)}" for x in v)
with open(out, "w") as f:
    if shape == "list-json":
        # Indented as `kubectl get -o json` prints it (the layout whose items are read in parts).
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f, indent=4)
    elif shape == "list-yaml":
        f.write(yaml({"apiVersion": "v1", "kind": "List", "items": items}))
    else:
        f.write("---\n".join(yaml(s) for s in items))
PY
    best=""
    for _ in $(seq "$runs"); do
      start=$(date +%s%N)
      "$bin" validate -f "$work/in" -o json >/dev/null || [ $? -eq 1 ]   # 1: findings, as expected
      ms=$(( ($(date +%s%N) - start) / 1000000 ))
      if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    done
    per=$(( best * 1000000 / n ))   # nanoseconds per document
    [ -n "$first" ] || first=$per
    echo "$shape $n documents: best ${best} ms, $((per / 1000)) µs/document"
    last=$per
  done
  if awk -v a="$first" -v b="$last" -v g="$growth" 'BEGIN { exit !(b > a * g) }'; then
    echo "FAIL: $shape: the time per document grew from $((first / 1000)) to $((last / 1000)) µs (more than ${growth}x)"
    failed=1
  fi
done
exit "$failed"
