#!/usr/bin/env bash
# The scale goal of `kubectl feast status` (issue 5): `status -A` over 2,000 FeatureStores, each
# with its Deployment, HPA and PDB and 3 pods (6,000 pods), no slower than
# `kubectl get featurestores -A` on the same server, and under 100 MB of memory.
#
# Usage: bench/status-scale.sh [--stores N] [--runs R] [--keep]
#   Starts its own control plane (scripts/dev-cluster, state in /tmp/kubectl-feast-bench) unless
#   BENCH_KUBECONFIG names one already loaded by an earlier `--keep` run; loads the objects with
#   a few parallel kubectl processes over large List files; builds the release binary if needed;
#   then times both commands with hyperfine (a plain loop if hyperfine is missing) and measures
#   peak RSS with /usr/bin/time -v. --keep leaves the control plane up (its kubeconfig is printed).
set -euo pipefail

STORES=2000
RUNS=10
KEEP=0
NAMESPACES=20
NODES=60
CHUNKS=4
while (($#)); do
  case "$1" in
    --stores) STORES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--stores N] [--runs R] [--keep]" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE=/tmp/kubectl-feast-bench
WORK="$(mktemp -d)"
STARTED=0
cleanup() {
  rm -rf "$WORK"
  if ((STARTED && !KEEP)); then "$ROOT/scripts/dev-cluster" down --state-dir "$STATE" >&2 || true; fi
}
trap cleanup EXIT

KUBECTL="$("$ROOT/scripts/dev-cluster" bin-dir)/kubectl"
PLUGIN="$ROOT/target/release/kubectl-feast"
[[ -x "$PLUGIN" ]] || (cd "$ROOT" && cargo build --release --locked)

if [[ -n "${BENCH_KUBECONFIG:-}" ]]; then
  export KUBECONFIG="$BENCH_KUBECONFIG"
  LOADED=1
else
  export KUBECONFIG
  KUBECONFIG="$("$ROOT/scripts/dev-cluster" up --state-dir "$STATE" | tail -n 1)"
  STARTED=1
  LOADED=0
fi
kc() { "$KUBECTL" "$@"; }

# Loads files "$1-0.json" … in parallel, one kubectl per chunk: `create`, or `replace` of the
# status subresource (what the operator, the controllers and the kubelet would write).
load() {
  local prefix="$1" verb="$2" pids=() f
  for f in "$WORK/$prefix"-[0-9]*.json; do
    if [[ "$verb" == status ]]; then
      kc replace --subresource=status -f "$f" >/dev/null &
    else
      kc create -f "$f" >/dev/null &
    fi
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
}

if ((!LOADED)); then
  t0=$SECONDS
  python3 "$ROOT/bench/gen-objects.py" stores "$WORK" "$STORES" "$NAMESPACES" "$NODES" "$CHUNKS"
  kc create -f "$WORK/namespaces.json" >/dev/null
  kc create -f "$WORK/nodes.json" >/dev/null
  load stores create
  load stores-status status
  kc get featurestores -A -o json >"$WORK/uids.json"
  python3 "$ROOT/bench/gen-objects.py" owned "$WORK" "$WORK/uids.json" "$NODES" $((CHUNKS * 2))
  load owned create
  load owned-status status
  echo "loaded in $((SECONDS - t0)) s" >&2
fi
printf 'objects: %s featurestores, %s deployments, %s hpas, %s pdbs, %s pods, %s nodes\n' \
  "$(kc get featurestores -A --no-headers | wc -l)" \
  "$(kc get deployments -A --no-headers | wc -l)" \
  "$(kc get hpa -A --no-headers | wc -l)" \
  "$(kc get pdb -A --no-headers | wc -l)" \
  "$(kc get pods -A --no-headers | wc -l)" \
  "$(kc get nodes --no-headers | wc -l)"

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
# The plugin ends quietly (SIGPIPE) when head closes the pipe; under pipefail that is not a
# failure of this script.
"$PLUGIN" status -A | head -n 3 || { rc=("${PIPESTATUS[@]}"); [ "${rc[0]}" -eq 141 ] || exit "${rc[0]}"; }
"$PLUGIN" status -A | tail -n +2 | wc -l | sed 's/^/status -A rows: /'

get_cmd="$KUBECTL get featurestores -A"
status_cmd="$PLUGIN status -A"
json_cmd="$PLUGIN status -A -o json"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 2 --runs "$RUNS" --style basic --export-markdown "$WORK/times.md" \
    -n 'kubectl get featurestores -A' "$get_cmd >/dev/null" \
    -n 'kubectl-feast status -A' "$status_cmd >/dev/null" \
    -n 'kubectl-feast status -A -o json' "$json_cmd >/dev/null"
  cat "$WORK/times.md"
else
  for c in "$get_cmd" "$status_cmd" "$json_cmd"; do
    start=$(date +%s%N)
    for ((i = 0; i < RUNS; i++)); do $c >/dev/null; done
    echo "$c: mean $(( ($(date +%s%N) - start) / RUNS / 1000000 )) ms over $RUNS runs"
  done
fi

for c in "$get_cmd" "$status_cmd" "$json_cmd"; do
  # shellcheck disable=SC2086 # the command is split on purpose
  rss=$(/usr/bin/time -v $c 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}')
  echo "peak RSS $((rss / 1024)) MB: $c"
done
if ((KEEP && STARTED)); then echo "control plane kept: BENCH_KUBECONFIG=$KUBECONFIG"; fi
