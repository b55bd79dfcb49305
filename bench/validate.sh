#!/usr/bin/env bash
# Times `kubectl feast validate` on 2,000 FeatureStores (one multi-document file built from the
# bundled examples) with the release binary, and reports its peak memory. No cluster needed.
# The in-process split (parse / rules / report) is `cargo bench --bench validate`.
#
#   bench/validate.sh [COUNT]     COUNT defaults to 2000; results go to stdout
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-2000}
runs=${RUNS:-10}

cargo build --release --quiet
bin=target/release/kubectl-feast
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One FeatureStore per example, renamed per copy so each object is distinct.
python3 - "$count" "$work/stores.yaml" <<'PY'
import sys, pathlib
count, out = int(sys.argv[1]), sys.argv[2]
examples = sorted(pathlib.Path("examples").rglob("*.yaml"))
docs = []
for p in examples:
    for d in p.read_text().split("\n---\n"):
        if "kind: FeatureStore" in d:
            docs.append(d)
with open(out, "w") as f:
    f.write("\n---\n".join(docs[i % len(docs)].replace("  name: ", f"  name: s{i}-", 1) for i in range(count)))
PY
size=$(du -h "$work/stores.yaml" | cut -f1)

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "input:   $count FeatureStores, $size"
for format in text json; do
  args=(validate -f "$work/stores.yaml")
  [ "$format" = json ] && args+=(-o json)
  best=""
  total=0
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$bin" "${args[@]}" >/dev/null || true   # the corpus holds invalid stores: exit 1 is expected
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    total=$((total + ms))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  # GNU time writes the peak RSS (KiB) as the last line of its output file.
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" "${args[@]}" >/dev/null 2>&1 || true
  rss=$(tail -1 "$work/rss")
  echo "validate -o $format: best ${best} ms, mean $((total / runs)) ms over $runs runs; peak RSS $((rss / 1024)) MiB"
done
