#!/usr/bin/env bash
# `status -A` over 2,000 FeatureStores against `kubectl get featurestores -A`: now one part of
# bench/run, which starts the control plane, seeds it and measures (docs/performance.md).
#
# Usage: bench/status-scale.sh [--stores N] [--runs R] [--keep]   (as bench/run --only status)
exec "$(dirname "$0")/run" --only status "$@"
