//! `history`'s text view: where each source reaches, then the timeline, oldest first, in
//! kubectl events' columns. Cluster text in it is made terminal-safe by the caller, as a
//! whole (`render::term::safe`).

use super::status::{cell, field, finish_spaced, fit_folding, plain_table};
use super::style::Style;
use crate::history::History;
use crate::status::Level;

pub fn text(h: &History, style: Style) -> String {
    let mut out = format!(
        "History of featurestore.feast.dev/{} in namespace {}, since {}\n",
        h.name, h.namespace, h.since
    );
    for r in &h.sources {
        out.push_str(&format!("  {}: {}\n", r.source, r.reaches));
    }
    out.push('\n');
    if h.events.is_empty() {
        out.push_str("Nothing happened in this window that these sources still hold.\n");
        out.push_str(&record(h));
        return out;
    }
    let mut t = plain_table(style);
    let head = ["TIME", "WHAT", "OBJECT", "REASON", "BY", "MESSAGE"];
    let mut rows: Vec<_> = h
        .events
        .iter()
        .map(|e| {
            let what = match (e.from, e.to) {
                (Some(from), Some(to)) => format!("{} {from}→{to}", e.kind),
                (None, Some(to)) => format!("{} →{to}", e.kind),
                _ => e.kind.to_string(),
            };
            let level = if e.warning { Level::Warning } else { Level::Ok };
            vec![
                field(&e.time, Level::Ok),
                field(what, Level::Ok),
                field(&e.object, Level::Ok),
                field(&e.reason, level),
                field(e.by.as_deref().unwrap_or("-"), Level::Ok),
                // One line per entry: a message's own line breaks would split the row.
                field(e.message.replace(['\n', '\r'], " "), Level::Ok),
            ]
        })
        .collect();
    // On a terminal, the messages fold under themselves, as status's phrases do.
    let gap = match style.width {
        Some(width) => fit_folding(&head, &["MESSAGE"], &mut rows, width),
        None => 3,
    };
    t.set_header(head);
    for r in &rows {
        t.add_row(r.iter().map(|f| cell(f, style)));
    }
    out.push_str(&finish_spaced(t, "", gap));
    out.push_str(&record(h));
    out
}

/// The Prometheus record: a sparkline per series over the window, with its range and last
/// value.
fn record(h: &History) -> String {
    let Some(from) = &h.prometheus else {
        return String::new();
    };
    let mut out = format!("\nRecord (Prometheus at {from}):\n");
    if h.series.is_empty() {
        out.push_str("  no series of this store in the window (is kube-state-metrics scraped?)\n");
        return out;
    }
    let label = |s: &crate::record::Series| {
        let extra: Vec<&str> = s.labels.values().map(String::as_str).collect();
        if extra.is_empty() {
            s.name.to_string()
        } else {
            format!("{} {}", s.name, extra.join(" "))
        }
    };
    let width = h
        .series
        .iter()
        .map(|s| label(s).chars().count())
        .max()
        .unwrap_or(0);
    for s in &h.series {
        let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        let last = values.last().copied().unwrap_or(f64::NAN);
        out.push_str(&format!(
            "  {:width$}  {}  {}..{}  now {}\n",
            label(s),
            sparkline(&values, 48),
            number(lo),
            number(hi),
            number(last),
        ));
    }
    out
}

fn number(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// The values in at most `width` bars, each the highest of the values it covers, scaled from
/// the lowest to the highest value (a flat series is a flat line).
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let buckets = values.len().min(width);
    (0..buckets)
        .map(|b| {
            let start = b * values.len() / buckets;
            let end = ((b + 1) * values.len() / buckets).max(start + 1);
            let v = values[start..end]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            let level = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
            BARS[((level * 7.0).round() as usize).min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_scales_from_low_to_high_and_keeps_each_buckets_peak() {
        assert_eq!(
            sparkline(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 8),
            "▁▂▃▄▅▆▇█"
        );
        assert_eq!(sparkline(&[2.0, 2.0, 2.0], 10), "▁▁▁");
        // 6 values in 3 bars: each bar the higher of its two.
        assert_eq!(sparkline(&[1.0, 5.0, 1.0, 1.0, 1.0, 3.0], 3), "█▁▅");
        assert_eq!(sparkline(&[], 3), "");
    }
    use crate::history::{Entry, EntryKind, REACHES};

    fn history() -> History {
        let entry = |kind, message: &str| Entry {
            time: "2026-12-06T08:05:00Z".into(),
            kind,
            object: "HorizontalPodAutoscaler/feast-s".into(),
            reason: "SuccessfulRescale".into(),
            message: message.into(),
            by: Some("horizontal-pod-autoscaler".into()),
            warning: false,
            from: Some(3),
            to: Some(6),
        };
        History {
            name: "s".into(),
            namespace: "ns".into(),
            since: "2026-12-06T08:00:00Z".into(),
            sources: REACHES.to_vec(),
            events: vec![entry(
                EntryKind::Rescale,
                "New size: 6; reason: cpu resource utilization (percentage of request) above target",
            )],
            series: Vec::new(),
            prometheus: None,
        }
    }

    #[test]
    fn a_record_adds_its_older_rescales_and_a_sparkline_per_series() {
        use crate::record::{Point, Series};
        // 07:45 to 08:00 each five minutes: 2, 2, 4, 6; the events hold 08:00 on.
        let t0 = "2026-12-06T07:45:00Z"
            .parse::<k8s_openapi::jiff::Timestamp>()
            .expect("time")
            .as_second();
        let mut h = history();
        h.since = "2026-12-06T07:00:00Z".into();
        h.events[0].time = "2026-12-06T08:00:00Z".into();
        let points = [2.0, 2.0, 4.0, 6.0]
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                time: t0 + 300 * i as i64,
                value: *v,
            })
            .collect();
        let desired = Series {
            name: "desiredReplicas",
            about: String::new(),
            labels: Default::default(),
            points,
        };
        let h = h.with_record("http://prometheus:9090", vec![desired]);
        let rescales: Vec<(&str, Option<i64>, Option<i64>)> = h
            .events
            .iter()
            .map(|e| (e.time.as_str(), e.from, e.to))
            .collect();
        // The 4 → 6 at 08:00 is the oldest event's time: the event tells it.
        assert_eq!(
            rescales,
            [
                ("2026-12-06T07:55:00Z", Some(2), Some(4)),
                ("2026-12-06T08:00:00Z", Some(3), Some(6))
            ]
        );
        assert_eq!(h.events[0].reason, "Recorded");
        let shown = text(&h, Style::PLAIN);
        assert!(
            shown.contains("Record (Prometheus at http://prometheus:9090):"),
            "{shown}"
        );
        assert!(
            shown.contains("desiredReplicas  ▁▁▅█  2..6  now 6"),
            "{shown}"
        );
        let json = crate::render::json(&h).expect("json");
        assert!(json.contains(r#""time": "2026-12-06T07:55:00Z""#), "{json}");
    }

    #[test]
    fn a_rescale_reads_from_to_and_its_message_folds_on_a_terminal() {
        let plain = text(&history(), Style::PLAIN);
        assert!(plain.contains("rescale 3→6"), "{plain}");
        assert!(
            plain.contains("events: the API server's --event-ttl"),
            "{plain}"
        );
        let row = plain
            .lines()
            .find(|l| l.contains("rescale"))
            .expect("the row");
        assert!(row.ends_with("above target"), "one line piped: {row}");
        let narrow = text(
            &history(),
            Style {
                color: false,
                width: Some(140),
            },
        );
        let table: Vec<&str> = narrow
            .lines()
            .skip_while(|l| !l.starts_with("TIME"))
            .collect();
        assert!(table.iter().all(|l| l.chars().count() <= 140), "{narrow}");
        assert!(table.len() > 2, "the message folded: {narrow}");
    }
}
