//! A store's record in Prometheus: which series tell its scaling (kube-state-metrics' HPA and
//! Deployment series, KEDA's scaler metrics), the step that keeps each query to a few hundred
//! points, the rescales a record shows, and the figures `recommend` reasons from. Pure: the
//! queries go out and the series come back through `crate::prometheus`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// One query of the record: its name in the output, what it measures, its PromQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub name: &'static str,
    pub about: &'static str,
    pub promql: String,
}

/// A series as Prometheus gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: &'static str,
    pub about: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    pub points: Vec<Point>,
}

/// One sample: Unix seconds and the value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    #[serde(serialize_with = "rfc3339")]
    pub time: i64,
    pub value: f64,
}

fn rfc3339<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&show_time(*t))
}

/// Unix seconds as RFC 3339.
pub fn show_time(t: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(t)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// Points per series a query aims at: enough for a sparkline and percentiles, few enough that
/// a week stays one small answer.
pub const POINTS: u64 = 300;

/// The query step for a window: the window over [`POINTS`], never below 5 s (the scrape
/// interval of the test cluster, finer than any real one), in whole seconds.
pub fn step_for(window: Duration) -> Duration {
    Duration::from_secs((window.as_secs() / POINTS).max(5))
}

/// The start of a window reaching `back` from `now`; a window longer than time itself starts
/// at the Unix epoch (nothing a cluster or Prometheus holds is older).
pub fn window_start(
    now: k8s_openapi::jiff::Timestamp,
    back: Duration,
) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::SignedDuration::try_from(back)
        .ok()
        .and_then(|d| now.checked_sub(d).ok())
        .map_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH, |t| {
            t.max(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
        })
}

/// What the record is read for: the store, its HPAs (the operator's, KEDA's) and KEDA's
/// ScaledObjects aimed at it.
pub struct Subject<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub hpas: &'a [String],
    pub scaled_objects: &'a [String],
}

fn any_of(names: &[String]) -> String {
    names.join("|")
}

/// The queries of a store's record. Names are DNS labels, safe inside PromQL strings.
pub fn queries(s: &Subject) -> Vec<Query> {
    let ns = s.namespace;
    let deployment = format!("feast-{}", s.name);
    let mut out = vec![
        Query {
            name: "readyReplicas",
            about: "ready pods (the Deployment's status.readyReplicas)",
            promql: format!(
                r#"max(kube_deployment_status_replicas_ready{{namespace="{ns}",deployment="{deployment}"}})"#
            ),
        },
        Query {
            name: "specReplicas",
            about: "the Deployment's spec.replicas",
            promql: format!(
                r#"max(kube_deployment_spec_replicas{{namespace="{ns}",deployment="{deployment}"}})"#
            ),
        },
    ];
    if !s.hpas.is_empty() {
        let hpa = format!(
            r#"namespace="{ns}",horizontalpodautoscaler=~"{}""#,
            any_of(s.hpas)
        );
        let one = |metric: &str| format!("max(kube_horizontalpodautoscaler_{metric}{{{hpa}}})");
        out.extend([
            Query {
                name: "desiredReplicas",
                about: "the HPA's desired replicas",
                promql: one("status_desired_replicas"),
            },
            Query {
                name: "currentReplicas",
                about: "the HPA's current replicas",
                promql: one("status_current_replicas"),
            },
            Query {
                name: "minReplicas",
                about: "the HPA's minReplicas",
                promql: one("spec_min_replicas"),
            },
            Query {
                name: "maxReplicas",
                about: "the HPA's maxReplicas",
                promql: one("spec_max_replicas"),
            },
            Query {
                name: "scalingLimited",
                about: "1 while the HPA's ScalingLimited condition is true (held at min or max)",
                promql: format!(
                    r#"max(kube_horizontalpodautoscaler_status_condition{{{hpa},condition="ScalingLimited",status="true"}})"#
                ),
            },
            Query {
                name: "metric",
                about: "each utilization metric's current value (percent of request)",
                promql: format!(
                    r#"max by (metric_name) (kube_horizontalpodautoscaler_status_target_metric{{{hpa},metric_target_type="utilization"}})"#
                ),
            },
            Query {
                name: "target",
                about: "each utilization metric's target (percent of request)",
                promql: format!(
                    r#"max by (metric_name) (kube_horizontalpodautoscaler_spec_target_metric{{{hpa},metric_target_type="utilization"}})"#
                ),
            },
        ]);
    }
    if !s.scaled_objects.is_empty() {
        out.push(Query {
            name: "kedaMetric",
            about: "each KEDA scaler's metric value",
            promql: format!(
                r#"max by (scaler, metric) (keda_scaler_metrics_value{{namespace="{ns}",scaledObject=~"{}"}})"#,
                any_of(s.scaled_objects)
            ),
        });
    }
    out
}

/// The first series of that name.
pub fn series<'a>(all: &'a [Series], name: &str) -> Option<&'a Series> {
    all.iter().find(|s| s.name == name)
}

/// Each change of a count series: (time, from, to).
pub fn changes(points: &[Point]) -> Vec<(i64, i64, i64)> {
    points
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (w[0].value.round() as i64, w[1].value.round() as i64);
            (a != b).then_some((w[1].time, a, b))
        })
        .collect()
}

/// The `p`-th percentile (0–100) of the values, nearest rank; `None` for none.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v.get(rank.clamp(1, v.len()) - 1).copied()
}

/// How long the record covers: from its first point to its last, over every series.
pub fn span(all: &[Series]) -> Duration {
    let times = all.iter().flat_map(|s| s.points.iter().map(|p| p.time));
    let (first, last) = times.fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    Duration::from_secs(u64::try_from(last.saturating_sub(first)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                time: 1_000 + 5 * i as i64,
                value: *v,
            })
            .collect()
    }

    #[test]
    fn the_step_keeps_a_query_to_a_few_hundred_points() {
        assert_eq!(step_for(Duration::from_secs(600)), Duration::from_secs(5));
        let week = Duration::from_secs(7 * 86_400);
        assert_eq!(step_for(week), Duration::from_secs(2016));
        assert!(week.as_secs() / step_for(week).as_secs() <= POINTS);
    }

    #[test]
    fn queries_name_the_store_its_hpas_and_scaled_objects() {
        let hpas = ["feast-orders".to_string(), "keda-hpa-orders".to_string()];
        let q = queries(&Subject {
            namespace: "ml",
            name: "orders",
            hpas: &hpas,
            scaled_objects: &["orders".to_string()],
        });
        let names: Vec<&str> = q.iter().map(|q| q.name).collect();
        assert_eq!(
            names[..3],
            ["readyReplicas", "specReplicas", "desiredReplicas"]
        );
        assert!(q[0].promql.contains(r#"deployment="feast-orders""#));
        assert!(
            q[2].promql
                .contains(r#"horizontalpodautoscaler=~"feast-orders|keda-hpa-orders""#)
        );
        assert!(
            q.last()
                .is_some_and(|q| q.promql.contains(r#"scaledObject=~"orders""#))
        );
        let plain = queries(&Subject {
            namespace: "ml",
            name: "orders",
            hpas: &[],
            scaled_objects: &[],
        });
        assert_eq!(plain.len(), 2);
    }

    #[test]
    fn a_window_longer_than_time_starts_at_the_epoch() {
        use k8s_openapi::jiff::Timestamp;
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        let day = window_start(now, Duration::from_secs(86_400));
        assert_eq!(day.as_second(), 1_800_000_000 - 86_400);
        assert_eq!(
            window_start(now, Duration::from_secs(u64::MAX)),
            Timestamp::UNIX_EPOCH
        );
        let ages = Duration::from_secs(100 * 365 * 86_400);
        assert_eq!(window_start(now, ages), Timestamp::UNIX_EPOCH);
    }

    #[test]
    fn changes_percentiles_and_span() {
        let p = points(&[2.0, 2.0, 3.0, 5.0, 5.0, 2.0]);
        assert_eq!(changes(&p), [(1_010, 2, 3), (1_015, 3, 5), (1_025, 5, 2)]);
        let v: Vec<f64> = p.iter().map(|p| p.value).collect();
        assert_eq!(percentile(&v, 95.0), Some(5.0));
        assert_eq!(percentile(&v, 50.0), Some(2.0));
        assert_eq!(percentile(&[], 50.0), None);
        let s = Series {
            name: "x",
            about: String::new(),
            labels: BTreeMap::new(),
            points: p,
        };
        assert_eq!(span(&[s]), Duration::from_secs(25));
    }
}
