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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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
        }
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
