//! `recommend`'s reasoning: from a store's record (its HPA's desired replicas, the time held at
//! max, the utilization at those counts), a min, max, target and disruption budget, each with
//! the evidence behind it. Pure: the record comes from `crate::record`'s series.

use std::time::Duration;

use serde::Serialize;

use crate::record::{Series, percentile, series, span};

/// The HPA as it is now (from the store's spec or the HPA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Current {
    pub min: i64,
    pub max: i64,
    /// The CPU utilization target, percent of request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_target: Option<i64>,
}

/// The facts of the record the advice rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// Seconds from the record's first sample to its last.
    pub span_seconds: u64,
    pub samples: usize,
    pub peak_desired: i64,
    pub p95_desired: i64,
    pub p5_desired: i64,
    /// Of the samples, how many had the HPA held at its max.
    pub samples_at_max: usize,
    /// The mean CPU utilization (percent of request) while at the peak count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_at_peak: Option<f64>,
    /// What the peak would have asked for without the max: ceil(peak × utilization / target).
    pub wanted_at_peak: i64,
}

/// One suggested value and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub field: &'static str,
    pub current: String,
    pub suggested: String,
    pub evidence: String,
}

/// The advice, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Advice {
    pub current: Current,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// Set when the record cannot carry advice: it says why, plainly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_short: Option<String>,
    pub suggestions: Vec<Suggestion>,
    /// The values suggested, as `autoscale` and `pdb` take them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_target: Option<i64>,
}

/// Head room over what the peak wanted: a quarter.
const HEADROOM: f64 = 1.25;
/// The CPU target when the HPA has none on CPU.
const DEFAULT_CPU_TARGET: i64 = 70;

/// A duration as people read it: `45s`, `12m30s`, `5.5h`, `7.0d`.
pub fn show(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 => format!("{:.1}d", s as f64 / 86_400.0),
        s if s >= 3_600 => format!("{:.1}h", s as f64 / 3_600.0),
        s if s >= 60 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// The advice from `record` for an HPA now at `current`; a record shorter than `needed`, or
/// without the HPA's desired replicas, gives none and says why.
pub fn advise(record: &[Series], current: Current, needed: Duration) -> Advice {
    let mut advice = Advice {
        current,
        facts: None,
        too_short: None,
        suggestions: Vec::new(),
        min: None,
        max: None,
        cpu_target: None,
    };
    let desired = series(record, "desiredReplicas").map_or(&[][..], |s| s.points.as_slice());
    let covered = span(record);
    if desired.is_empty() {
        advice.too_short = Some(
            "the record holds no desired replicas of this store's HPA: kube-state-metrics' kube_horizontalpodautoscaler_status_desired_replicas is not scraped, or the store has had no HPA in this window".into(),
        );
        return advice;
    }
    if covered < needed || desired.len() < 2 {
        advice.too_short = Some(format!(
            "the record covers {} of this store, less than the {} needed to advise (--min-record): a peak it has not seen would be missed",
            show(covered),
            show(needed)
        ));
        return advice;
    }
    let values: Vec<f64> = desired.iter().map(|p| p.value).collect();
    let count = |p: f64| percentile(&values, p).map_or(0, |v| v.round() as i64);
    let peak = values.iter().copied().fold(0.0, f64::max).round() as i64;
    let max_at = |t: i64| {
        series(record, "maxReplicas")
            .and_then(|s| s.points.iter().find(|p| p.time == t))
            .map_or(current.max as f64, |p| p.value)
    };
    let limited = series(record, "scalingLimited");
    let at_max: Vec<i64> = desired
        .iter()
        .filter(|p| p.value >= max_at(p.time))
        .filter(|p| {
            limited.is_none_or(|l| l.points.iter().any(|x| x.time == p.time && x.value >= 1.0))
        })
        .map(|p| p.time)
        .collect();
    let cpu = record.iter().find(|s| {
        s.name == "metric" && s.labels.get("metric_name").map(String::as_str) == Some("cpu")
    });
    let at_peak: Vec<f64> = desired
        .iter()
        .filter(|p| p.value.round() as i64 == peak)
        .filter_map(|p| {
            cpu?.points
                .iter()
                .find(|x| x.time == p.time)
                .map(|x| x.value)
        })
        .collect();
    let cpu_at_peak =
        (!at_peak.is_empty()).then(|| at_peak.iter().sum::<f64>() / at_peak.len() as f64);
    let target = current.cpu_target.unwrap_or(DEFAULT_CPU_TARGET);
    let wanted = match cpu_at_peak {
        Some(u) if u > target as f64 => ((peak as f64) * u / target as f64).ceil() as i64,
        _ => peak,
    };
    let facts = Facts {
        span_seconds: covered.as_secs(),
        samples: desired.len(),
        peak_desired: peak,
        p95_desired: count(95.0),
        p5_desired: count(5.0),
        samples_at_max: at_max.len(),
        cpu_at_peak,
        wanted_at_peak: wanted,
    };
    let min = facts.p5_desired.max(2);
    let max = ((wanted as f64 * HEADROOM).ceil() as i64).max(min + 1);
    let share = |n: usize| format!("{:.0}%", 100.0 * n as f64 / desired.len() as f64);
    advice.suggestions.push(Suggestion {
        field: "min",
        current: current.min.to_string(),
        suggested: min.to_string(),
        evidence: format!(
            "95% of the time the HPA wanted {} or more (its p5); never below 2, so that one pod serves while another is drained",
            facts.p5_desired
        ),
    });
    advice.suggestions.push(Suggestion {
        field: "max",
        current: current.max.to_string(),
        suggested: max.to_string(),
        evidence: match (at_max.len(), cpu_at_peak) {
            (0, _) => format!(
                "the peak wanted {peak} (p95 {}), never held at max {}; a quarter over the peak",
                facts.p95_desired, current.max
            ),
            (n, Some(u)) => format!(
                "held at max {} for {} of the record at {u:.0}% cpu against a {target}% target: the peak wanted {wanted}; a quarter over that",
                current.max,
                share(n)
            ),
            (n, None) => format!(
                "held at max {} for {} of the record (no utilization in the record to say how far beyond); a quarter over the peak",
                current.max,
                share(n)
            ),
        },
    });
    advice.suggestions.push(Suggestion {
        field: "cpu target",
        current: current
            .cpu_target
            .map_or("none".into(), |t| format!("{t}%")),
        suggested: format!("{target}%"),
        evidence: match (current.cpu_target, cpu_at_peak) {
            (Some(_), Some(u)) => {
                format!("kept: max and min carry the load; at the peak the pods ran at {u:.0}%")
            }
            (Some(_), None) => "kept: the record has no utilization to move it by".into(),
            (None, _) => {
                format!("the HPA has no CPU target: {DEFAULT_CPU_TARGET}% is the usual start")
            }
        },
    });
    advice.suggestions.push(Suggestion {
        field: "disruption budget",
        current: "-".into(),
        suggested: "maxUnavailable 1".into(),
        evidence: format!(
            "with min {min}, a drain evicts one pod at a time and the others keep serving"
        ),
    });
    advice.facts = Some(facts);
    advice.min = Some(min);
    advice.max = Some(max);
    advice.cpu_target = Some(target);
    advice
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Point;
    use std::collections::BTreeMap;

    fn named(name: &'static str, labels: &[(&str, &str)], values: &[f64]) -> Series {
        Series {
            name,
            about: String::new(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| Point {
                    time: 60 * i as i64,
                    value: *v,
                })
                .collect(),
        }
    }

    const NOW: Current = Current {
        min: 1,
        max: 5,
        cpu_target: Some(70),
    };

    #[test]
    fn held_at_max_under_load_asks_for_what_the_peak_wanted_with_head_room() {
        let desired = [2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 5.0, 3.0, 2.0, 2.0];
        let limited = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        let cpu = [
            50.0, 60.0, 90.0, 140.0, 140.0, 140.0, 140.0, 80.0, 50.0, 50.0,
        ];
        let record = [
            named("desiredReplicas", &[], &desired),
            named("scalingLimited", &[], &limited),
            named("metric", &[("metric_name", "cpu")], &cpu),
        ];
        let a = advise(&record, NOW, Duration::from_secs(60));
        let f = a.facts.clone().expect("facts");
        assert_eq!(
            (f.peak_desired, f.samples_at_max, f.wanted_at_peak),
            (5, 4, 10)
        );
        assert_eq!((a.min, a.max, a.cpu_target), (Some(2), Some(13), Some(70)));
        assert!(
            a.suggestions[1].evidence.contains("held at max 5 for 40%"),
            "{:?}",
            a.suggestions[1]
        );
    }

    #[test]
    fn never_at_max_sizes_from_the_peak() {
        let record = [named("desiredReplicas", &[], &[2.0, 3.0, 4.0, 3.0, 2.0])];
        let a = advise(&record, Current { max: 10, ..NOW }, Duration::from_secs(60));
        assert_eq!((a.min, a.max), (Some(2), Some(5)));
        assert!(a.suggestions[1].evidence.contains("never held at max 10"));
    }

    #[test]
    fn a_short_or_empty_record_says_so_and_advises_nothing() {
        let record = [named("desiredReplicas", &[], &[2.0, 3.0])];
        let a = advise(&record, NOW, Duration::from_secs(86_400));
        assert!(
            a.too_short
                .as_deref()
                .is_some_and(|w| w.contains("covers 1m0s") && w.contains("1.0d")),
            "{a:?}"
        );
        assert!(a.suggestions.is_empty() && a.min.is_none());
        let a = advise(&[], NOW, Duration::from_secs(1));
        assert!(
            a.too_short
                .as_deref()
                .is_some_and(|w| w.contains("no desired replicas"))
        );
    }
}
