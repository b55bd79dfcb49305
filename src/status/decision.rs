//! The HPA controller's decision now, by its documented algorithm (Kubernetes, "Horizontal Pod
//! Autoscaling": algorithm details, scaling policies, stabilization): per metric the proposal
//! `ceil(currentReplicas × current / target)`, or no change inside the tolerance band (the
//! HPA's own `behavior` tolerance, else the controller's 10 % default); the largest proposal
//! wins; then the min/max clamp and the rate of `behavior`'s policies, and for a scale-down the
//! stabilization window after the last scale. Pure: the HPA's spec and status in, numbers out.
//!
//! What the controller keeps to itself is not guessed: the recommendations it saw during the
//! stabilization window, and the ready-pod count it uses for resource metrics (the current
//! count here). At a steady state the two agree with what it does.

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingRules, HorizontalPodAutoscaler, MetricTarget, MetricValueStatus,
};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::autoscaler::Limit;

/// The controller's tolerance when the HPA sets none (kube-controller-manager's
/// `--horizontal-pod-autoscaler-tolerance` default).
const DEFAULT_TOLERANCE: f64 = 0.1;
/// `behavior.scaleDown.stabilizationWindowSeconds` when unset.
const DEFAULT_DOWN_WINDOW_SECONDS: i64 = 300;

/// What the HPA does next and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The count the controller sets next: the metrics' wish, clamped to min/max and held to
    /// the rate of its policies.
    pub proposed_replicas: i64,
    /// What the metrics alone ask for: the largest proposal.
    pub wanted_replicas: i64,
    /// The bound that holds the count, when the metrics ask for more than max or less than min.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited_by: Option<Limit>,
    /// A `behavior` rule that holds this step back (a rate policy, a disabled direction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
    /// The tolerance band, e.g. `10%`.
    pub tolerance: String,
    /// Each metric with a current value, and what it proposes.
    pub metrics: Vec<Proposal>,
    /// For a scale-down: the earliest time it may come, the last scale plus the scale-down
    /// stabilization window (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down_not_before: Option<String>,
}

/// One metric's proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    pub name: String,
    /// The current value in the target's unit (`138%`, `250m`).
    pub current: String,
    pub target: String,
    /// The replicas this metric asks for.
    pub replicas: i64,
    /// Inside the tolerance band: no change asked.
    pub within_tolerance: bool,
}

/// One metric as the decision reads it: its name, the current value and the target in one
/// unit, and how both are written.
pub(super) struct Reading {
    pub name: String,
    pub current: f64,
    pub target: f64,
    pub current_text: String,
    pub target_text: String,
}

impl Reading {
    /// A metric's target and current value as numbers of one unit: percent for Utilization,
    /// else the quantities. `None` when there is no current value yet or a quantity is not one.
    pub(super) fn of(
        name: String,
        target: &MetricTarget,
        current: &MetricValueStatus,
        current_text: String,
        target_text: String,
    ) -> Option<Reading> {
        let (current, target) = if let Some(t) = target.average_utilization {
            (f64::from(current.average_utilization?), f64::from(t))
        } else if let Some(t) = &target.average_value {
            (
                quantity(&current.average_value.as_ref()?.0)?,
                quantity(&t.0)?,
            )
        } else {
            let t = target.value.as_ref()?;
            (quantity(&current.value.as_ref()?.0)?, quantity(&t.0)?)
        };
        (target > 0.0).then_some(Reading {
            name,
            current,
            target,
            current_text,
            target_text,
        })
    }
}

/// The decision for an HPA whose metrics are `readings`, from `target_replicas` (its target's
/// `spec.replicas`, which the controller starts each sync from; else the HPA's own
/// `currentReplicas`); `None` while there is no count or no metric has a value (the controller
/// then makes no change either).
pub(super) fn decide(
    hpa: &HorizontalPodAutoscaler,
    readings: &[Reading],
    target_replicas: Option<i64>,
) -> Option<Decision> {
    let spec = hpa.spec.as_ref()?;
    let status = hpa.status.as_ref()?;
    let current =
        target_replicas.unwrap_or_else(|| i64::from(status.current_replicas.unwrap_or(0)));
    // Scaled to zero (a KEDA idle state): the HPA is not acting.
    if current == 0 || readings.is_empty() {
        return None;
    }
    let behavior = spec.behavior.as_ref();
    let up = behavior.and_then(|b| b.scale_up.as_ref());
    let down = behavior.and_then(|b| b.scale_down.as_ref());
    let metrics: Vec<Proposal> = readings
        .iter()
        .map(|r| {
            let ratio = r.current / r.target;
            let tolerance = if ratio >= 1.0 {
                tolerance_of(up)
            } else {
                tolerance_of(down)
            };
            let within = (ratio - 1.0).abs() <= tolerance;
            let replicas = if within {
                current
            } else {
                // f64 holds every replica count exactly; the product is rounded up as the
                // controller does (`math.Ceil`).
                (current as f64 * ratio).ceil() as i64
            };
            Proposal {
                name: r.name.clone(),
                current: r.current_text.clone(),
                target: r.target_text.clone(),
                replicas,
                within_tolerance: within,
            }
        })
        .collect();
    let wanted = metrics.iter().map(|m| m.replicas).max().unwrap_or(current);
    let min = i64::from(spec.min_replicas.unwrap_or(1));
    let max = i64::from(spec.max_replicas);
    let (clamped, limited_by) = if wanted > max {
        (max, Some(Limit::Max))
    } else if wanted < min {
        (min, Some(Limit::Min))
    } else {
        (wanted, None)
    };
    let (proposed, held_by) = rate(current, clamped, up, down);
    let scale_down_not_before = (wanted < current)
        .then(|| {
            let last = status.last_scale_time.as_ref()?.0;
            let window = down
                .and_then(|d| d.stabilization_window_seconds)
                .map_or(DEFAULT_DOWN_WINDOW_SECONDS, i64::from);
            last.checked_add(SignedDuration::from_secs(window)).ok()
        })
        .flatten()
        .map(|t: Timestamp| t.to_string());
    let tolerance = tolerance_of(if wanted >= current { up } else { down });
    Some(Decision {
        proposed_replicas: proposed,
        wanted_replicas: wanted,
        limited_by,
        held_by,
        tolerance: format!("{}%", (tolerance * 1000.0).round() / 10.0),
        metrics,
        scale_down_not_before,
    })
}

fn tolerance_of(rules: Option<&HPAScalingRules>) -> f64 {
    rules
        .and_then(|r| r.tolerance.as_ref())
        .and_then(|q| quantity(&q.0))
        .unwrap_or(DEFAULT_TOLERANCE)
}

/// The step the policies allow from `current` towards `to`: scaling up by default the larger
/// of 100 % and 4 pods per 15 s; scaling down by default 100 % per 15 s. `selectPolicy`
/// `Max` (the default) takes the policy that allows the larger change, `Min` the smaller,
/// `Disabled` none.
fn rate(
    current: i64,
    to: i64,
    up: Option<&HPAScalingRules>,
    down: Option<&HPAScalingRules>,
) -> (i64, Option<String>) {
    if to == current {
        return (to, None);
    }
    let scaling_up = to > current;
    let rules = if scaling_up { up } else { down };
    let select = rules
        .and_then(|r| r.select_policy.as_deref())
        .unwrap_or("Max");
    let direction = if scaling_up { "scale-up" } else { "scale-down" };
    if select == "Disabled" {
        return (
            current,
            Some(format!("{direction} is disabled (selectPolicy Disabled)")),
        );
    }
    let defaults: Vec<(String, i64, i64)> = if scaling_up {
        vec![("Percent".into(), 100, 15), ("Pods".into(), 4, 15)]
    } else {
        vec![("Percent".into(), 100, 15)]
    };
    let policies: Vec<(String, i64, i64)> = match rules.and_then(|r| r.policies.as_ref()) {
        Some(p) if !p.is_empty() => p
            .iter()
            .map(|p| {
                (
                    p.type_.clone(),
                    i64::from(p.value),
                    i64::from(p.period_seconds),
                )
            })
            .collect(),
        _ => defaults,
    };
    // How many pods each policy lets this step add or remove.
    let steps: Vec<(i64, &(String, i64, i64))> = policies
        .iter()
        .map(|p| {
            // Percent: up to ceil(current × (1 + v/100)), down to floor(current × (1 - v/100)),
            // which is the same number of pods either way.
            let change = match p.0.as_str() {
                "Percent" => (current as f64 * p.1 as f64 / 100.0).ceil() as i64,
                _ => p.1,
            };
            (change.max(0), p)
        })
        .collect();
    let chosen = if select == "Min" {
        steps.iter().min_by_key(|(c, _)| *c)
    } else {
        steps.iter().max_by_key(|(c, _)| *c)
    };
    let Some((allowed, (ty, value, period))) = chosen else {
        return (to, None);
    };
    let unit = if ty == "Percent" { "%" } else { " pods" };
    let held = |n: i64| {
        (
            n,
            Some(format!(
                "{direction} rate: {value}{unit} per {period} s, at most {allowed} pods this step"
            )),
        )
    };
    if scaling_up && to > current + allowed {
        held(current + allowed)
    } else if !scaling_up && to < current - allowed {
        held(current - allowed)
    } else {
        (to, None)
    }
}

/// A Kubernetes quantity as a number (`250m` 0.25, `1Gi`, `2k`, `1e3`); `None` if not one.
fn quantity(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(split);
    let n: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn hpa(spec: Value, status: Value) -> HorizontalPodAutoscaler {
        serde_json::from_value(
            json!({"metadata": {"name": "feast-s"}, "spec": spec, "status": status}),
        )
        .expect("an HPA")
    }

    fn decide_at(h: &HorizontalPodAutoscaler, readings: &[Reading]) -> Option<Decision> {
        decide(h, readings, None)
    }

    fn cpu(current: i32, target: i32) -> Reading {
        Reading {
            name: "cpu".into(),
            current: f64::from(current),
            target: f64::from(target),
            current_text: format!("{current}%"),
            target_text: format!("{target}%"),
        }
    }

    fn spec(min: i64, max: i64) -> Value {
        json!({"minReplicas": min, "maxReplicas": max,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "feast-s"}})
    }

    fn at(current: i64) -> Value {
        json!({"currentReplicas": current, "desiredReplicas": current,
            "lastScaleTime": "2026-12-06T08:00:00Z"})
    }

    #[test]
    fn the_proposal_is_ceil_of_replicas_times_the_ratio_clamped_to_max() {
        let d = decide_at(&hpa(spec(2, 5), at(4)), &[cpu(138, 70)]).expect("a decision");
        // ceil(4 × 138 / 70) = ceil(7.89) = 8, capped at 5.
        assert_eq!(d.wanted_replicas, 8);
        assert_eq!((d.proposed_replicas, d.limited_by), (5, Some(Limit::Max)));
        assert_eq!(d.metrics[0].replicas, 8);
        assert_eq!(d.tolerance, "10%");
        assert_eq!(d.scale_down_not_before, None);
    }

    #[test]
    fn inside_the_tolerance_nothing_changes() {
        let d = decide_at(&hpa(spec(2, 5), at(3)), &[cpu(75, 70)]).expect("a decision");
        assert!(d.metrics[0].within_tolerance, "75/70 is 7% off");
        assert_eq!((d.wanted_replicas, d.proposed_replicas), (3, 3));
        let d = decide_at(&hpa(spec(2, 5), at(3)), &[cpu(80, 70)]).expect("a decision");
        assert!(!d.metrics[0].within_tolerance, "80/70 is 14% off");
        assert_eq!(d.proposed_replicas, 4);
    }

    #[test]
    fn the_largest_metric_wins_and_a_scale_down_waits_for_the_window() {
        let mem = Reading {
            name: "memory".into(),
            current: 100.0 * 1024.0 * 1024.0,
            target: 400.0 * 1024.0 * 1024.0,
            current_text: "100Mi".into(),
            target_text: "400Mi".into(),
        };
        let d = decide_at(&hpa(spec(1, 10), at(6)), &[cpu(35, 70), mem]).expect("a decision");
        // cpu wants ceil(6 × 0.5) = 3, memory ceil(6 × 0.25) = 2: the larger, 3.
        assert_eq!(d.wanted_replicas, 3);
        assert_eq!(d.proposed_replicas, 3);
        assert_eq!(
            d.scale_down_not_before.as_deref(),
            Some("2026-12-06T08:05:00Z"),
            "the last scale plus the default 300 s"
        );
        // At min: held there.
        let d = decide_at(&hpa(spec(4, 10), at(6)), &[cpu(10, 70)]).expect("a decision");
        assert_eq!((d.proposed_replicas, d.limited_by), (4, Some(Limit::Min)));
    }

    #[test]
    fn behavior_policies_hold_the_step_and_set_the_tolerance() {
        let mut s = spec(1, 50);
        s["behavior"] = json!({
            "scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}],
                "tolerance": "0.05"},
            "scaleDown": {"selectPolicy": "Disabled", "stabilizationWindowSeconds": 60}
        });
        let d = decide_at(&hpa(s.clone(), at(4)), &[cpu(140, 70)]).expect("a decision");
        assert_eq!(d.wanted_replicas, 8);
        assert_eq!(d.proposed_replicas, 6, "2 pods per step");
        assert!(
            d.held_by
                .as_deref()
                .is_some_and(|h| h.contains("2 pods per 60 s")),
            "{d:?}"
        );
        assert_eq!(d.tolerance, "5%");
        let d = decide_at(&hpa(s.clone(), at(4)), &[cpu(72, 70)]).expect("a decision");
        assert!(d.metrics[0].within_tolerance, "2.9% is inside 5%");
        let d = decide_at(&hpa(s, at(4)), &[cpu(20, 70)]).expect("a decision");
        assert_eq!(d.proposed_replicas, 4);
        assert!(d.held_by.as_deref().is_some_and(|h| h.contains("disabled")));
        assert_eq!(
            d.scale_down_not_before.as_deref(),
            Some("2026-12-06T08:01:00Z")
        );
    }

    #[test]
    fn the_default_scale_up_is_the_larger_of_double_and_four_pods() {
        let d = decide_at(&hpa(spec(1, 100), at(2)), &[cpu(700, 70)]).expect("a decision");
        // Wants 20; from 2, +4 pods beats +100 % (2): 6 this step.
        assert_eq!((d.wanted_replicas, d.proposed_replicas), (20, 6));
        let d = decide_at(&hpa(spec(1, 100), at(10)), &[cpu(700, 70)]).expect("a decision");
        assert_eq!(d.proposed_replicas, 20, "+100 % of 10");
    }

    #[test]
    fn the_count_is_the_targets_not_the_hpas_lagging_one() {
        // The HPA says 2 (its last sync), the Deployment runs 4: the next sync starts at 4.
        let d = decide(&hpa(spec(2, 20), at(2)), &[cpu(200, 80)], Some(4)).expect("a decision");
        assert_eq!(d.wanted_replicas, 10);
    }

    #[test]
    fn no_decision_without_a_count_or_a_value() {
        assert_eq!(decide_at(&hpa(spec(1, 5), at(0)), &[cpu(50, 70)]), None);
        assert_eq!(decide_at(&hpa(spec(1, 5), at(3)), &[]), None);
    }

    #[test]
    fn quantities_read_as_kubernetes_writes_them() {
        for (text, value) in [
            ("250m", 0.25),
            ("2", 2.0),
            ("1k", 1000.0),
            ("1Ki", 1024.0),
            ("1.5Gi", 1.5 * 1024f64.powi(3)),
            ("1e3", 1000.0),
            ("0.05", 0.05),
        ] {
            assert_eq!(quantity(text), Some(value), "{text}");
        }
        for bad in ["", "m", "1x", "abc"] {
            assert_eq!(quantity(bad), None, "{bad}");
        }
    }
}
