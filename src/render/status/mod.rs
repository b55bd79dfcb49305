//! The text of `kubectl feast status`: the list table (and `-o wide`), the detail view of one
//! store ([`detail`], one function per section), and the plain lines of `--watch` when stdout
//! is not a terminal.
//!
//! Pure: a [`StatusReport`] and the current time in, a `String` out. Colour marks what needs
//! attention, and the words always say the same (`blocks drains`, `all on 1 node`, `at max`,
//! `CRITICAL:`), so nothing depends on colour alone.

use comfy_table::presets::NOTHING;
use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table};
use k8s_openapi::jiff::Timestamp;

use super::style::Style;
use crate::status::{
    Area, Autoscaler, Level, Limit, Mode, Ownership, SourceRead, SourceState, StatusReport,
    StoreStatus, StrategyOrigin,
};

/// Which columns the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    /// Several contexts: a CONTEXT column first.
    pub context: bool,
    /// `-A`: a NAMESPACE column first (after CONTEXT).
    pub namespace: bool,
    /// `-o wide`: strategy, affinity, topology, operator synced, Feast version.
    pub wide: bool,
    /// `--no-headers`: rows only.
    pub no_headers: bool,
}

/// A cell's text and how much it needs attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub text: String,
    pub level: Level,
}

pub(crate) fn field(text: impl Into<String>, level: Level) -> Field {
    Field {
        text: text.into(),
        level,
    }
}

pub fn headers(cols: Columns) -> Vec<&'static str> {
    let mut h = Vec::new();
    if cols.context {
        h.push("CONTEXT");
    }
    if cols.namespace {
        h.push("NAMESPACE");
    }
    h.extend([
        "NAME", "MODE", "READY", "HPA", "PDB", "SPREAD", "SCALABLE", "PHASE", "AGE",
    ]);
    if cols.wide {
        h.extend(["STRATEGY", "AFFINITY", "TOPOLOGY", "SYNCED", "VERSION"]);
    }
    h
}

/// The cells of one store's row, in [`headers`] order.
pub fn row(s: &StoreStatus, cols: Columns, now: Timestamp) -> Vec<Field> {
    let mut r = Vec::new();
    if cols.context {
        r.push(field(s.context.as_deref().unwrap_or(""), Level::Ok));
    }
    if cols.namespace {
        r.push(field(&s.namespace, Level::Ok));
    }
    r.push(field(&s.name, Level::Ok));
    r.push(field(s.mode.as_str(), s.level(Area::Mode)));
    r.push(ready_field(s));
    r.push(if s.mode == Mode::Unknown && s.autoscaler.is_none() {
        // No HPA known, but the HPAs could not be read: not "-".
        field("unknown", Level::Unknown)
    } else {
        hpa_field(s.autoscaler.as_ref())
    });
    r.push(pdb_field(s));
    r.push(spread_field(s));
    r.push(field(
        if s.safe_to_scale { "yes" } else { "no" },
        s.level(Area::Safety),
    ));
    r.push(field(
        s.phase.as_deref().unwrap_or("-"),
        s.level(Area::Phase),
    ));
    r.push(field(
        s.creation_timestamp
            .as_deref()
            .map_or("-".into(), |t| age(t, now)),
        Level::Ok,
    ));
    if cols.wide {
        let strategy = match &s.strategy.effective {
            Some(e) => {
                let ty = e.split(' ').next().unwrap_or(e);
                let origin = if s.strategy.origin == StrategyOrigin::Explicit {
                    "explicit"
                } else {
                    "default"
                };
                format!("{ty} ({origin})")
            }
            None => "?".into(),
        };
        r.push(field(strategy, Level::Ok));
        r.push(field(s.affinity.state.as_str(), Level::Ok));
        r.push(field(s.topology_spread.state.as_str(), Level::Ok));
        r.push(field(
            if s.operator_synced.synced {
                "yes"
            } else {
                "no"
            },
            s.level(Area::Sync),
        ));
        r.push(field(s.feast_version.as_deref().unwrap_or("-"), Level::Ok));
    }
    r
}

fn ready_field(s: &StoreStatus) -> Field {
    let ready = s.replicas.ready;
    match s.replicas.desired {
        Some(d) => {
            let level = s.level(Area::Replicas);
            // Mid-rollout, the ready count includes the old template's pods: say so.
            let rollout = match &s.rollout {
                Some(r) if r.state == crate::rollout::RolloutState::Stuck => " stuck",
                Some(r) if r.state == crate::rollout::RolloutState::Failing => " failing",
                Some(r) if r.total > r.updated => " rolling",
                _ => "",
            };
            // More ready than desired (a scale-down whose pods are still terminating, a
            // rollout's surge): never `4/3`, the extra pods said as such.
            let shown = if ready > d {
                format!("{d}/{d} +{} extra", ready - d)
            } else {
                format!("{ready}/{d}")
            };
            field(format!("{shown}{rollout}"), level)
        }
        None => field(format!("{ready}/?"), Level::Unknown),
    }
}

fn hpa_field(a: Option<&Autoscaler>) -> Field {
    let Some(a) = a else {
        return field("-", Level::Ok);
    };
    if a.verdict.level == Level::Unknown && a.current_replicas.is_none() && a.metrics.is_empty() {
        return field("unknown", Level::Unknown);
    }
    let range = match a.max_replicas {
        // Read as a range, `5-3` passed for one; the HPA API refuses min above max.
        Some(max) if a.min_replicas > max => format!("min {} > max {max}", a.min_replicas),
        Some(max) => format!("{}-{max}", a.min_replicas),
        None => format!("{}-?", a.min_replicas),
    };
    let mut text = if a.scaled_object.is_some() {
        format!("keda {range}")
    } else {
        range
    };
    if let Some(m) = a.metrics.first() {
        text.push_str(&format!(
            " {} {}/{}",
            m.name,
            m.current.as_deref().unwrap_or("<unknown>"),
            m.target
        ));
        if a.metrics.len() > 1 {
            text.push_str(&format!(" +{}", a.metrics.len() - 1));
        }
    }
    match a.at_limit {
        Some(Limit::Max) => text.push_str(" at max"),
        Some(l) => text.push_str(&format!(" at {l}")),
        None => {}
    }
    if a.verdict.level == Level::Critical && a.current_replicas.is_none() {
        text.push_str(" (no HPA)");
    }
    field(text, a.verdict.level)
}

fn pdb_field(s: &StoreStatus) -> Field {
    let d = &s.disruption_budget;
    match (&d.policy, &d.configured, d.object.ownership) {
        (Some(policy), _, _) => match (d.blocks_drains, d.disruptions_allowed) {
            (Some(true), _) => field(format!("{policy} (blocks drains)"), s.level(Area::Budget)),
            (_, Some(a)) => field(format!("{policy} ({a} allowed)"), Level::Ok),
            _ => field(policy.clone(), d.verdict.level),
        },
        (None, _, Ownership::Unknown) => field("unknown", Level::Unknown),
        (None, Some(c), _) if d.verdict.level == Level::Info => {
            field(format!("{c} (inactive)"), Level::Ok)
        }
        (None, Some(c), _) => field(format!("{c} (no PDB)"), d.verdict.level),
        (None, None, _) => field("-", Level::Ok),
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn spread_field(s: &StoreStatus) -> Field {
    let p = &s.placement;
    if !p.pods_known {
        return field("unknown", Level::Unknown);
    }
    let ready = p
        .pods
        .iter()
        .filter(|p| p.ready && p.node.is_some())
        .count();
    if ready == 0 {
        return field("-", p.verdict.level);
    }
    if ready > 1 && p.nodes == 1 {
        return field("all on 1 node", s.level(Area::Placement));
    }
    let zones = p.zones.map_or("? zones".into(), |z| plural(z, "zone"));
    field(
        format!("{}/{zones}", plural(p.nodes, "node")),
        s.level(Area::Placement),
    )
}

fn color(level: Level) -> Option<Color> {
    match level {
        Level::Critical => Some(Color::Red),
        Level::Warning => Some(Color::Yellow),
        Level::Unknown => Some(Color::DarkGrey),
        Level::Ok | Level::Info => None,
    }
}

/// A borderless table like kubectl's: columns three spaces apart, no wrapping.
pub(crate) fn plain_table(style: Style) -> Table {
    let mut t = Table::new();
    t.load_style(NOTHING);
    t.set_content_arrangement(ContentArrangement::Disabled);
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

pub(crate) fn cell(f: &Field, style: Style) -> Cell {
    let c = Cell::new(&f.text);
    match color(f.level).filter(|_| style.color) {
        Some(col) => c.fg(col),
        None => c,
    }
}

/// Renders a table with kubectl's spacing, trailing blanks removed, each line indented.
pub(crate) fn finish(t: Table, indent: &str) -> String {
    finish_spaced(t, indent, 3)
}

/// [`finish`] with `gap` spaces between columns.
pub(crate) fn finish_spaced(mut t: Table, indent: &str, gap: u16) -> String {
    let n = t.column_count();
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i + 1 == n { 0 } else { gap }));
        col.set_cell_alignment(CellAlignment::Left);
    }
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(indent);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The list view: one row per store, then a note per kind that could not be read.
pub fn list(report: &StatusReport, cols: Columns, now: Timestamp, style: Style) -> String {
    let mut out = String::new();
    // An empty list prints nothing here: the shell says "No FeatureStores found" on stderr,
    // as kubectl get does.
    if !report.stores.is_empty() {
        let mut t = plain_table(style);
        let head = headers(cols);
        let mut rows: Vec<Vec<Field>> = report.stores.iter().map(|s| row(s, cols, now)).collect();
        let gap = match style.width {
            Some(width) => fit(&head, &mut rows, width),
            None => 3,
        };
        if !cols.no_headers {
            t.set_header(head);
        }
        for r in &rows {
            t.add_row(r.iter().map(|f| cell(f, style)));
        }
        out.push_str(&finish_spaced(t, "", gap));
    }
    out.push_str(&source_notes(&report.sources, style));
    out
}

/// The columns whose cells are phrases, which may fold onto more lines at their spaces; names,
/// counts, phases and ages never fold.
const FOLDABLE: [&str; 6] = ["HPA", "PDB", "SPREAD", "STRATEGY", "AFFINITY", "TOPOLOGY"];

/// Fits the rows to a terminal `width` columns wide, and says how many spaces go between
/// columns: kubectl's three while the table fits, else two, and while it is still wider, the
/// widest phrase column is narrowed, never below its longest word, and its cells are folded
/// at spaces. A table whose phrases cannot fold enough is left as it is.
fn fit(head: &[&str], rows: &mut [Vec<Field>], width: usize) -> u16 {
    fit_folding(head, &FOLDABLE, rows, width)
}

/// [`fit`] with the columns `foldable` names as the ones that may fold.
pub(crate) fn fit_folding(
    head: &[&str],
    foldable: &[&str],
    rows: &mut [Vec<Field>],
    width: usize,
) -> u16 {
    let chars = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = head.iter().map(|h| chars(h)).collect();
    let mut least = widths.clone();
    for r in rows.iter() {
        for (i, f) in r.iter().enumerate() {
            if let (Some(w), Some(l)) = (widths.get_mut(i), least.get_mut(i)) {
                *w = (*w).max(chars(&f.text));
                let word = f.text.split(' ').map(chars).max().unwrap_or(0);
                *l = (*l).max(if foldable.contains(&head[i]) {
                    word
                } else {
                    *w
                });
            }
        }
    }
    let spaced =
        |w: &[usize], gap: usize| w.iter().sum::<usize>() + gap * w.len().saturating_sub(1);
    if spaced(&widths, 3) <= width {
        return 3;
    }
    const GAP: usize = 2;
    let total = |w: &[usize]| spaced(w, GAP);
    // Folded as far as words allow and still too wide: folding would only make the rows
    // taller, so the table stays as it is.
    if total(&least) > width {
        return 3;
    }
    let natural = widths.clone();
    while total(&widths) > width {
        let widest = (0..widths.len())
            .filter(|&i| widths[i] > least[i])
            .max_by_key(|&i| widths[i]);
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
    for r in rows.iter_mut() {
        for (i, f) in r.iter_mut().enumerate() {
            if widths.get(i) < natural.get(i) {
                f.text = crate::render::term::wrap(&f.text, widths[i]).join("\n");
            }
        }
    }
    GAP as u16
}

/// One line per kind that could not be read: shown below the table, so that "unknown" cells
/// say why.
pub fn source_notes(sources: &[SourceState], style: Style) -> String {
    sources
        .iter()
        .filter(|s| s.state == SourceRead::Unreadable)
        .map(|s| {
            style.yellow(&format!(
                "note: {} could not be read{} ({}); what depends on them is shown as unknown\n",
                s.kind,
                s.context
                    .as_deref()
                    .map_or(String::new(), |c| format!(" in context {c:?}")),
                s.reason.as_deref().unwrap_or("no reason given")
            ))
        })
        .collect()
}

/// The cells of a row as plain text, for `--watch` without a terminal.
pub fn plain_cells(s: &StoreStatus, cols: Columns, now: Timestamp) -> Vec<String> {
    row(s, cols, now).into_iter().map(|f| f.text).collect()
}

/// The column widths of the list table as [`list`] draws it: the widest of the header and
/// the cells, per column.
pub fn widths<'a>(cols: Columns, rows: impl IntoIterator<Item = &'a Vec<String>>) -> Vec<usize> {
    let mut w: Vec<usize> = headers(cols).iter().map(|h| h.chars().count()).collect();
    for cells in rows {
        grow(&mut w, cells);
    }
    w
}

/// Widens `widths` to fit `cells`.
pub fn grow(widths: &mut Vec<usize>, cells: &[String]) {
    for (i, c) in cells.iter().enumerate() {
        let n = c.chars().count();
        match widths.get_mut(i) {
            Some(w) => *w = (*w).max(n),
            None => widths.push(n),
        }
    }
}

/// One row padded to `widths`, three spaces apart like the table, so a line printed by
/// `--watch` stays under the header printed first.
pub fn aligned(cells: &[String], widths: &[usize]) -> String {
    let last = cells.len().saturating_sub(1);
    let mut out = String::new();
    for (i, c) in cells.iter().enumerate() {
        out.push_str(c);
        if i < last {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(c.chars().count())
                + 3;
            out.push_str(&" ".repeat(pad));
        }
    }
    out
}

/// What identifies a change in a row for `--watch`: every cell but AGE, which moves on its own.
pub fn change_key(s: &StoreStatus, cols: Columns, now: Timestamp) -> String {
    headers(cols)
        .into_iter()
        .zip(row(s, cols, now))
        .filter(|(h, _)| *h != "AGE")
        .map(|(_, f)| f.text)
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// kubectl's age format: `45s`, `5m30s`, `2h`, `3d4h`, `120d`, `2y3d`.
pub fn age(timestamp: &str, now: Timestamp) -> String {
    let Ok(t) = timestamp.parse::<Timestamp>() else {
        return "?".into();
    };
    let secs = now.as_second() - t.as_second();
    if secs < 0 {
        return "0s".into();
    }
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => match s % 60 {
            0 => format!("{m}m"),
            r => format!("{m}m{r}s"),
        },
        s if s < 3 * 3600 => format!("{m}m"),
        s if s < 8 * 3600 => match m % 60 {
            0 => format!("{h}h"),
            r => format!("{h}h{r}m"),
        },
        s if s < 2 * 86400 => format!("{h}h"),
        s if s < 8 * 86400 => match h % 24 {
            0 => format!("{d}d"),
            r => format!("{d}d{r}h"),
        },
        s if s < 365 * 2 * 86400 => format!("{d}d"),
        _ => match d % 365 {
            0 => format!("{}y", d / 365),
            r => format!("{}y{r}d", d / 365),
        },
    }
}

mod detail;

pub use detail::detail;

#[cfg(test)]
mod tests;
