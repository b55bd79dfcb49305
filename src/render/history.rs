//! `history`'s text view: where each source reaches, then the timeline, oldest first, in
//! kubectl events' columns. Cluster text in it is made terminal-safe by the caller, as a
//! whole (`render::term::safe`).

use comfy_table::{Cell, Color};

use super::status::{finish, plain_table};
use super::style::Style;
use crate::history::History;

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
    t.set_header(["TIME", "WHAT", "OBJECT", "REASON", "BY", "MESSAGE"]);
    for e in &h.events {
        let what = match (e.from, e.to) {
            (Some(from), Some(to)) => format!("{} {from}→{to}", e.kind),
            (None, Some(to)) => format!("{} →{to}", e.kind),
            _ => e.kind.to_string(),
        };
        let reason = Cell::new(&e.reason);
        let reason = if e.warning && style.color {
            reason.fg(Color::Yellow)
        } else {
            reason
        };
        t.add_row(vec![
            Cell::new(&e.time),
            Cell::new(what),
            Cell::new(&e.object),
            reason,
            Cell::new(e.by.as_deref().unwrap_or("-")),
            // One line per entry: a message's own line breaks would split the row.
            Cell::new(e.message.replace(['\n', '\r'], " ")),
        ]);
    }
    out.push_str(&finish(t, ""));
    out
}
