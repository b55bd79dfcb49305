//! Checks the CRD does not make, where the operator's reconcile would fail (the HPA and PDB
//! APIs reject what the operator applies) or where the result would surprise (operator
//! contract §2.2–§2.4, §4.3, §4.5, §4.6, §7). Reconcile failures are errors; the rest are
//! warnings or information.

use k8s_openapi::api::autoscaling::v2::{HPAScalingRules, MetricSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Findings, Severity};
use crate::featurestore::{DEFAULT_CPU_UTILIZATION, FeatureStore, IntOrPercent, ScalingMode};
use crate::model::{AutoscalingConfig, PdbConfig};
use crate::rules::RuleId;

const HPA: &str = "spec.services.scaling.autoscaling";
const PDB: &str = "spec.services.podDisruptionBudgets";

pub(super) fn check(fs: &FeatureStore, out: &mut Findings) {
    if !fs.is_v1() {
        v1alpha1(out);
        return;
    }
    let mode = fs.scaling_mode();
    if let ScalingMode::Autoscaled {
        min,
        max: Some(max),
    } = mode
        && min > max
    {
        out.operator(
            Severity::Error,
            RuleId::AutoscalingMinExceedsMax,
            &format!("{HPA}.minReplicas"),
            format!(
                "minReplicas ({min}) is greater than maxReplicas ({max}): the HPA API rejects it \
                 (maxReplicas must be greater than or equal to minReplicas), so the operator's \
                 reconcile fails"
            ),
            format!("Lower minReplicas to {max} or less, or raise maxReplicas to {min} or more."),
        );
    }
    // Read as the model's types: a block of the wrong shape is the structural check's
    // finding, and these checks have nothing to add to it.
    if let Some(hpa) = fs.autoscaling_config() {
        metrics(fs, &hpa, out);
        behavior(&hpa, out);
    }
    if let Some(pdb) = fs.typed::<PdbConfig>(PDB) {
        pdb_checks(fs, &pdb, &mode, out);
    }
    if mode.is_scaling() {
        scaled_surprises(fs, &mode, out);
    }
}

/// A v1alpha1 object: deprecated, and without the scaling fields (the structural check refuses
/// each one it carries, as the API server's strict decoding does).
fn v1alpha1(out: &mut Findings) {
    out.operator(
        Severity::Warning,
        RuleId::VersionV1alpha1,
        "apiVersion",
        "feast.dev/v1alpha1 is deprecated and has no scaling fields, no scale subresource and no \
         scaling rules.",
        "Change apiVersion to feast.dev/v1 (the fields are the same; conversion is None).",
    );
}

/// A Kubernetes int-or-percent value as the PDB API accepts it.
/// Whether a PDB with this field and value lets no pod be evicted at `replicas` pods.
pub(crate) fn blocks_all_evictions(field: &str, value: IntOrPercent, replicas: i64) -> bool {
    value.drain_keeps(field, replicas) >= replicas
}

fn pdb_checks(fs: &FeatureStore, pdb: &PdbConfig, mode: &ScalingMode, out: &mut Findings) {
    let mut parsed = None;
    for (field, v) in [
        ("minAvailable", &pdb.min_available),
        ("maxUnavailable", &pdb.max_unavailable),
    ] {
        let Some(v) = v else {
            continue;
        };
        match IntOrPercent::of(v) {
            Some(p) => parsed = Some((field, p)),
            None => out.operator(
                Severity::Error,
                RuleId::PdbMalformedValue,
                &format!("{PDB}.{field}"),
                format!(
                    "Invalid value: {}: must be a non-negative integer or a percentage from 0% \
                     to 100% (e.g. \"50%\"); the PDB API rejects it, so the operator's reconcile \
                     fails",
                    match v {
                        IntOrString::Int(i) => i.to_string(),
                        IntOrString::String(s) => format!("{s:?}"),
                    }
                ),
                format!(
                    "Use e.g. `kubectl feast pdb {} --{} 1`.",
                    fs.target(),
                    kebab(field)
                ),
            ),
        }
    }
    if !mode.is_scaling() {
        out.operator(
            Severity::Warning,
            RuleId::PdbInactive,
            PDB,
            "a disruption budget is configured but scaling is off (1 replica, no autoscaling): \
             the operator creates no PDB until the store scales",
            format!(
                "Scale the store (`kubectl feast scale {t} --replicas 2`) or remove the block \
                 (`kubectl feast pdb {t} --off`).",
                t = fs.target()
            ),
        );
        return;
    }
    if let Some((field, value)) = parsed {
        let replicas = mode.minimum_replicas();
        if blocks_all_evictions(field, value, replicas) {
            out.operator(
                Severity::Warning,
                RuleId::PdbBlocksEvictions,
                &format!("{PDB}.{field}"),
                format!(
                    "{field} {} with {replicas} replica(s) allows no voluntary eviction: node \
                     drains and cluster upgrades will stall on this store",
                    value
                ),
                format!(
                    "Allow at least one disruption, e.g. `kubectl feast pdb {} --max-unavailable 1`.",
                    fs.target()
                ),
            );
        }
    }
}

fn kebab(field: &str) -> &'static str {
    if field == "minAvailable" {
        "min-available"
    } else {
        "max-unavailable"
    }
}

/// Metric shapes the HPA API rejects, and Utilization targets the HPA can't compute because a
/// serving container has no matching resource request.
fn metrics(fs: &FeatureStore, hpa: &AutoscalingConfig, out: &mut Findings) {
    let list = hpa.metrics.as_deref().filter(|l| !l.is_empty());
    let mut utilization: Vec<Utilization> = Vec::new();
    match list {
        Some(list) => {
            for (i, m) in list.iter().enumerate() {
                if let Some(u) = metric(m, &format!("{HPA}.metrics[{i}]"), out) {
                    utilization.push(u);
                }
            }
        }
        None => utilization.push(Utilization {
            resource: "cpu".into(),
            container: None,
            at: HPA.to_string(),
        }),
    }
    for u in utilization {
        missing_requests(fs, &u, list.is_none(), out);
    }
}

/// A Utilization target on a resource: the HPA needs that resource's request on the
/// container(s) it measures.
struct Utilization {
    resource: String,
    /// A ContainerResource metric measures this container only.
    container: Option<String>,
    at: String,
}

/// Checks one metric's shape as the HPA API does; returns its Utilization target, if any.
fn metric(m: &MetricSpec, at: &str, out: &mut Findings) -> Option<Utilization> {
    let ty = m.type_.as_str();
    // The source block the type names, as (its field, its name, its container, its target).
    let source = match ty {
        "Resource" => Some((
            "resource",
            m.resource
                .as_ref()
                .map(|r| (Some(r.name.as_str()), None, &r.target)),
        )),
        "ContainerResource" => Some((
            "containerResource",
            m.container_resource
                .as_ref()
                .map(|r| (Some(r.name.as_str()), Some(r.container.as_str()), &r.target)),
        )),
        "Pods" => Some(("pods", m.pods.as_ref().map(|p| (None, None, &p.target)))),
        "Object" => Some(("object", m.object.as_ref().map(|o| (None, None, &o.target)))),
        "External" => Some((
            "external",
            m.external.as_ref().map(|e| (None, None, &e.target)),
        )),
        _ => None,
    };
    let Some((field, source)) = source else {
        metric_error(
            out,
            &format!("{at}.type"),
            format!(
                "Unsupported value: \"{ty}\": supported values: \"ContainerResource\", \
                 \"External\", \"Object\", \"Pods\", \"Resource\""
            ),
        );
        return None;
    };
    let Some((name, container, target)) = source else {
        metric_error(
            out,
            &format!("{at}.{field}"),
            format!("Required value: must populate information for the given metric source ({ty})"),
        );
        return None;
    };
    let mut utilization = None;
    let t = target.type_.as_str();
    if t == "Utilization" {
        if !matches!(ty, "Resource" | "ContainerResource") {
            metric_error(
                out,
                &format!("{at}.{field}.target.type"),
                format!(
                    "Invalid value: \"Utilization\": Utilization targets are only for Resource and ContainerResource metrics, not {ty}"
                ),
            );
        } else if let Some(resource) = name {
            utilization = Some(Utilization {
                resource: resource.to_string(),
                container: container.map(str::to_string),
                at: at.to_string(),
            });
        }
    }
    let (needed, set) = match t {
        "Utilization" => ("averageUtilization", target.average_utilization.is_some()),
        "Value" => ("value", target.value.is_some()),
        "AverageValue" => ("averageValue", target.average_value.is_some()),
        other => {
            metric_error(
                out,
                &format!("{at}.{field}.target.type"),
                format!(
                    "Unsupported value: \"{other}\": supported values: \"AverageValue\", \"Utilization\", \"Value\""
                ),
            );
            return utilization;
        }
    };
    if !set {
        metric_error(
            out,
            &format!("{at}.{field}.target.{needed}"),
            format!("Required value: must set {needed} when target.type is {t}"),
        );
    }
    utilization
}

/// A cpu or memory Utilization target on a container with no request of that resource.
fn missing_requests(fs: &FeatureStore, u: &Utilization, default_metric: bool, out: &mut Findings) {
    let Utilization {
        resource,
        container: only_container,
        at,
    } = u;
    if resource != "cpu" && resource != "memory" {
        return;
    }
    for server in fs.servers() {
        let container = server.container;
        if only_container.as_deref().is_some_and(|c| c != container) || server.requests(resource) {
            continue;
        }
        let what = if default_metric {
            format!(
                "the operator's default metric ({resource} at {DEFAULT_CPU_UTILIZATION}% utilization)"
            )
        } else {
            format!("a {resource} Utilization metric ({at})")
        };
        out.operator(
            Severity::Warning,
            RuleId::AutoscalingMissingResourceRequest,
            at,
            format!(
                "the HPA can't compute {resource} utilization: {what} needs a {resource} \
                 request on container \"{container}\", which sets none"
            ),
            format!(
                "Set {}.resources.requests.{resource} (with the plugin, e.g. `kubectl feast autoscale {} --{resource}-request {}`, \
                 which sets it on every server container without one), or scale on a Value/AverageValue metric.",
                server.path,
                fs.target(),
                crate::plan::example_request(resource),
            ),
        );
    }
}

fn metric_error(out: &mut Findings, path: &str, message: String) {
    out.operator(
        Severity::Error,
        RuleId::AutoscalingInvalidMetric,
        path,
        format!("{message}; the HPA API rejects it, so the operator's reconcile fails"),
        "Fix the metric to the autoscaling/v2 MetricSpec shape (see `kubectl explain hpa.spec.metrics`).",
    );
}

/// HPA behaviour ranges that the HPA API enforces (autoscaling/v2 validation).
fn behavior(hpa: &AutoscalingConfig, out: &mut Findings) {
    let Some(behavior) = &hpa.behavior else {
        return;
    };
    for (direction, rules) in [
        ("scaleUp", &behavior.scale_up),
        ("scaleDown", &behavior.scale_down),
    ] {
        if let Some(rules) = rules {
            scaling_rules(&format!("{HPA}.behavior.{direction}"), rules, out);
        }
    }
}

fn scaling_rules(at: &str, rules: &HPAScalingRules, out: &mut Findings) {
    let mut bad = |path: String, message: String| {
        out.operator(
            Severity::Error,
            RuleId::AutoscalingInvalidBehavior,
            &path,
            format!("{message}; the HPA API rejects it, so the operator's reconcile fails"),
            "Fix the value into the range the HPA API accepts.",
        )
    };
    if let Some(w) = rules.stabilization_window_seconds
        && !(0..=3600).contains(&w)
    {
        bad(
            format!("{at}.stabilizationWindowSeconds"),
            format!("Invalid value: {w}: must be between 0 and 3600 seconds"),
        );
    }
    if let Some(p) = &rules.select_policy
        && !["Max", "Min", "Disabled"].contains(&p.as_str())
    {
        bad(
            format!("{at}.selectPolicy"),
            format!("Unsupported value: \"{p}\": supported values: \"Disabled\", \"Max\", \"Min\""),
        );
    }
    for (i, policy) in rules.policies.iter().flatten().enumerate() {
        let p = format!("{at}.policies[{i}]");
        if !["Pods", "Percent"].contains(&policy.type_.as_str()) {
            bad(
                format!("{p}.type"),
                format!(
                    "Unsupported value: \"{}\": supported values: \"Percent\", \"Pods\"",
                    policy.type_
                ),
            );
        }
        if policy.value <= 0 {
            bad(
                format!("{p}.value"),
                format!("Invalid value: {}: must be greater than zero", policy.value),
            );
        }
        if !(1..=1800).contains(&policy.period_seconds) {
            bad(
                format!("{p}.periodSeconds"),
                format!(
                    "Invalid value: {}: must be between 1 and 1800 seconds",
                    policy.period_seconds
                ),
            );
        }
    }
}

fn scaled_surprises(fs: &FeatureStore, mode: &ScalingMode, out: &mut Findings) {
    if fs
        .typed::<String>("spec.services.deploymentStrategy.type")
        .as_deref()
        == Some("Recreate")
    {
        out.operator(
            Severity::Warning,
            RuleId::StrategyRecreateWhileScaling,
            "spec.services.deploymentStrategy.type",
            "an explicit Recreate strategy while scaling stops every replica before starting new \
             ones: each rollout is downtime",
            "Remove spec.services.deploymentStrategy (the operator then uses RollingUpdate while \
             scaling) or set type: RollingUpdate.",
        );
    }
    let apply_on_init = fs
        .typed::<bool>("spec.services.runFeastApplyOnInit")
        .unwrap_or(true);
    let no_init = fs
        .typed::<bool>("spec.services.disableInitContainers")
        .unwrap_or(false);
    if apply_on_init && !no_init {
        out.operator(
            Severity::Info,
            RuleId::InitFeastApplyEveryPod,
            "spec.services.runFeastApplyOnInit",
            format!(
                "`feast apply` runs in every pod at every start: up to {} concurrent applies \
                 against the registry during a rollout or scale-up",
                match mode {
                    ScalingMode::Autoscaled { max: Some(m), .. } => *m,
                    other => other.minimum_replicas(),
                }
            ),
            "Set spec.services.runFeastApplyOnInit: false if the registry is applied elsewhere.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{errors, finding, rules_with};
    use serde_json::{Value, json};

    fn scaled(services: Value) -> Value {
        let mut obj = json!({
            "apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "fs"},
            "spec": {"feastProject": "p", "services": {
                "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}},
                                "server": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}},
                "registry": {"remote": {"hostname": "reg:80"}},
                "runFeastApplyOnInit": false
            }}
        });
        crate::plan::merge_patch(&mut obj, &json!({"spec": {"services": services}}));
        obj
    }

    #[test]
    fn min_above_max_is_an_error() {
        let obj = scaled(json!({"scaling": {"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}}));
        assert_eq!(errors(&obj), vec![RuleId::AutoscalingMinExceedsMax]);
    }

    #[test]
    fn pdb_values_must_be_int_or_percent() {
        for bad in [
            json!("abc"),
            json!("150%"),
            json!("5"),
            json!(-1),
            json!("%"),
        ] {
            let obj = scaled(
                json!({"scaling": {"autoscaling": {"maxReplicas": 3}}, "podDisruptionBudgets": {"maxUnavailable": bad}}),
            );
            assert_eq!(errors(&obj), vec![RuleId::PdbMalformedValue], "{bad}");
        }
        for good in [json!(0), json!("0%"), json!("100%"), json!(2)] {
            assert!(IntOrPercent::parse(&good).is_some(), "{good}");
        }
    }

    #[test]
    fn pdb_that_blocks_every_eviction_is_a_warning() {
        let cases = [
            (json!({"maxUnavailable": 0}), true),
            (json!({"minAvailable": 2}), true),
            (json!({"minAvailable": "100%"}), true),
            (json!({"minAvailable": 1}), false),
            (json!({"minAvailable": "50%"}), false),
            (json!({"maxUnavailable": 1}), false),
        ];
        for (pdb, blocks) in cases {
            let obj = scaled(
                json!({"scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 4}}, "podDisruptionBudgets": pdb}),
            );
            let warned = rules_with(&obj, Severity::Warning).contains(&RuleId::PdbBlocksEvictions);
            assert_eq!(warned, blocks, "{pdb}");
        }
    }

    #[test]
    fn pdb_while_scaling_is_off_is_inactive() {
        let obj = scaled(json!({"podDisruptionBudgets": {"maxUnavailable": 1}}));
        assert_eq!(
            rules_with(&obj, Severity::Warning),
            vec![RuleId::PdbInactive]
        );
    }

    #[test]
    fn default_cpu_metric_without_cpu_request_is_a_warning() {
        let mut obj = scaled(json!({"scaling": {"autoscaling": {"maxReplicas": 3}}}));
        assert!(rules_with(&obj, Severity::Warning).is_empty());
        obj["spec"]["services"]["onlineStore"]["server"] = json!({});
        let f = finding(&obj, RuleId::AutoscalingMissingResourceRequest);
        assert!(f.message.contains("default metric"), "{}", f.message);
        assert!(f.message.contains("\"online\""));
    }

    #[test]
    fn memory_metric_checks_memory_requests_only() {
        let obj = scaled(
            json!({"scaling": {"autoscaling": {"maxReplicas": 3, "metrics": [
            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 70}}}]}},
            "onlineStore": {"server": {"resources": {"requests": {"memory": null}}}}}),
        );
        assert_eq!(
            rules_with(&obj, Severity::Warning),
            vec![RuleId::AutoscalingMissingResourceRequest]
        );
    }

    #[test]
    fn malformed_metrics_and_behavior_are_errors() {
        let obj = scaled(json!({"scaling": {"autoscaling": {"maxReplicas": 3,
            "metrics": [{"type": "Bogus"}, {"type": "Pods"}, {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 7200, "selectPolicy": "Sometimes",
                "policies": [{"type": "Pods", "value": 0, "periodSeconds": 60}]}}}}}));
        let errs = errors(&obj);
        assert_eq!(
            errs.iter()
                .filter(|e| **e == RuleId::AutoscalingInvalidMetric)
                .count(),
            3,
            "{errs:?}"
        );
        assert_eq!(
            errs.iter()
                .filter(|e| **e == RuleId::AutoscalingInvalidBehavior)
                .count(),
            3,
            "{errs:?}"
        );
    }

    #[test]
    fn recreate_while_scaling_is_a_warning() {
        let obj = scaled(
            json!({"scaling": {"autoscaling": {"maxReplicas": 3}}, "deploymentStrategy": {"type": "Recreate"}}),
        );
        assert_eq!(
            rules_with(&obj, Severity::Warning),
            vec![RuleId::StrategyRecreateWhileScaling]
        );
    }

    #[test]
    fn v1alpha1_objects_get_a_migration_warning() {
        let obj = json!({"apiVersion": "feast.dev/v1alpha1", "kind": "FeatureStore", "metadata": {"name": "a"},
            "spec": {"feastProject": "p", "replicas": 3}});
        finding(&obj, RuleId::VersionV1alpha1);
        // Strict decoding refuses a field v1alpha1 does not have, as kubectl does.
        assert_eq!(errors(&obj), vec![RuleId::SchemaUnknownField]);
        assert_eq!(
            finding(&obj, RuleId::SchemaUnknownField).message,
            "unknown field \"spec.replicas\""
        );
        let plain = json!({"apiVersion": "feast.dev/v1alpha1", "kind": "FeatureStore", "metadata": {"name": "a"},
            "spec": {"feastProject": "p"}});
        assert!(errors(&plain).is_empty(), "v1alpha1 has no scaling rules");
    }

    #[test]
    fn percent_scales_round_up() {
        assert_eq!(IntOrPercent::Percent(50).scaled(3), 2);
        assert_eq!(IntOrPercent::Percent(10).scaled(3), 1);
        assert!(blocks_all_evictions(
            "minAvailable",
            IntOrPercent::Percent(67),
            2
        ));
    }
}
