#!/usr/bin/env python3
"""Writes a week of one store's record as OpenMetrics, for `promtool tsdb
create-blocks-from openmetrics`: what kube-state-metrics would have exposed for store NAME in
NAMESPACE, its operator HPA `feast-NAME` (min 2, max 8, CPU target 70%) following a daily load
that holds it at max for an hour each afternoon, every STEP seconds, ending at END (Unix s).

    gen-record.py NAMESPACE NAME END DAYS STEP > record.om
"""

import math
import sys

ns, name, end, days, step = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
start = end - int(days * 86400)
hpa = f'namespace="{ns}",horizontalpodautoscaler="feast-{name}"'
deployment = f'namespace="{ns}",deployment="feast-{name}"'
families = {
    "kube_horizontalpodautoscaler_status_desired_replicas": [],
    "kube_horizontalpodautoscaler_status_current_replicas": [],
    "kube_horizontalpodautoscaler_spec_min_replicas": [],
    "kube_horizontalpodautoscaler_spec_max_replicas": [],
    "kube_horizontalpodautoscaler_status_condition": [],
    "kube_horizontalpodautoscaler_status_target_metric": [],
    "kube_horizontalpodautoscaler_spec_target_metric": [],
    "kube_deployment_status_replicas_ready": [],
    "kube_deployment_spec_replicas": [],
}
for t in range(start, end, step):
    hour = (t % 86400) / 3600
    # Load in pods' worth of 70% CPU: 2 at night, up to 11 at 15:00 (the max holds it at 8).
    load = 2 + 9 * max(0.0, math.sin(math.pi * (hour - 7) / 16)) ** 3
    desired = min(8, max(2, math.ceil(load)))
    cpu = 70 * load / desired
    limited = 1 if desired == 8 and load > 8 else 0
    f = families
    f["kube_horizontalpodautoscaler_status_desired_replicas"].append(f"{{{hpa}}} {desired} {t}")
    f["kube_horizontalpodautoscaler_status_current_replicas"].append(f"{{{hpa}}} {desired} {t}")
    f["kube_horizontalpodautoscaler_spec_min_replicas"].append(f"{{{hpa}}} 2 {t}")
    f["kube_horizontalpodautoscaler_spec_max_replicas"].append(f"{{{hpa}}} 8 {t}")
    f["kube_horizontalpodautoscaler_status_condition"].append(
        f'{{{hpa},condition="ScalingLimited",status="true"}} {limited} {t}'
    )
    f["kube_horizontalpodautoscaler_status_target_metric"].append(
        f'{{{hpa},metric_name="cpu",metric_target_type="utilization"}} {cpu:.1f} {t}'
    )
    f["kube_horizontalpodautoscaler_spec_target_metric"].append(
        f'{{{hpa},metric_name="cpu",metric_target_type="utilization"}} 70 {t}'
    )
    f["kube_deployment_status_replicas_ready"].append(f"{{{deployment}}} {desired} {t}")
    f["kube_deployment_spec_replicas"].append(f"{{{deployment}}} {desired} {t}")
out = sys.stdout
for family, lines in families.items():
    out.write(f"# TYPE {family} gauge\n")
    for line in lines:
        out.write(f"{family}{line}\n")
out.write("# EOF\n")
