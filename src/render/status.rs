//! The text of `kubectl feast status`: the list table (and `-o wide`), the detail view of one
//! store, and the plain lines of `--watch` when stdout is not a terminal.
//!
//! Pure: a [`StatusReport`] and the current time in, a `String` out. Colour marks what needs
//! attention, and the words always say the same (`blocks drains`, `all on 1 node`, `at max`,
//! `CRITICAL:`), so nothing depends on colour alone.

use comfy_table::presets::NOTHING;
use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table};
use k8s_openapi::jiff::Timestamp;

use super::style::Style;
use crate::status::{
    Autoscaler, Condition, Injection, Level, Mode, Ownership, SourceState, StatusReport,
    StoreStatus, Verdict,
};

/// Which columns the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    /// `-A`: a NAMESPACE column first.
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

fn field(text: impl Into<String>, level: Level) -> Field {
    Field {
        text: text.into(),
        level,
    }
}

pub fn headers(cols: Columns) -> Vec<&'static str> {
    let mut h = Vec::new();
    if cols.namespace {
        h.push("NAMESPACE");
    }
    h.extend([
        "NAME", "MODE", "READY", "HPA", "PDB", "SPREAD", "SAFE", "PHASE", "AGE",
    ]);
    if cols.wide {
        h.extend(["STRATEGY", "AFFINITY", "TOPOLOGY", "SYNCED", "VERSION"]);
    }
    h
}

/// The cells of one store's row, in [`headers`] order.
pub fn row(s: &StoreStatus, cols: Columns, now: Timestamp) -> Vec<Field> {
    let mut r = Vec::new();
    if cols.namespace {
        r.push(field(&s.namespace, Level::Ok));
    }
    let mode_level = match s.mode {
        Mode::Conflict => Level::Critical,
        Mode::Unknown => Level::Unknown,
        _ => Level::Ok,
    };
    r.push(field(&s.name, Level::Ok));
    r.push(field(s.mode.as_str(), mode_level));
    r.push(ready_field(s));
    r.push(if s.mode == Mode::Unknown && s.autoscaler.is_none() {
        // No HPA known, but the HPAs could not be read: not "-".
        field("unknown", Level::Unknown)
    } else {
        hpa_field(s.autoscaler.as_ref())
    });
    r.push(pdb_field(s));
    r.push(spread_field(s));
    r.push(if s.safe_to_scale {
        field("yes", Level::Ok)
    } else if s.mode == Mode::Single {
        field("no", Level::Ok)
    } else {
        field("no", Level::Critical)
    });
    r.push(match s.phase.as_deref() {
        Some("Failed") => field("Failed", Level::Critical),
        Some("Ready") => field("Ready", Level::Ok),
        Some(p) => field(p, Level::Warning),
        None => field("-", Level::Warning),
    });
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
                let origin = if s.strategy.origin == "explicit" {
                    "explicit"
                } else {
                    "default"
                };
                format!("{ty} ({origin})")
            }
            None => "?".into(),
        };
        r.push(field(strategy, Level::Ok));
        r.push(field(s.affinity.state, Level::Ok));
        r.push(field(s.topology_spread.state, Level::Ok));
        r.push(if s.operator_synced.synced {
            field("yes", Level::Ok)
        } else {
            field("no", Level::Warning)
        });
        r.push(field(s.feast_version.as_deref().unwrap_or("-"), Level::Ok));
    }
    r
}

fn ready_field(s: &StoreStatus) -> Field {
    let ready = s.replicas.ready;
    match s.replicas.desired {
        Some(d) => {
            let level = if ready == 0 && d > 0 {
                Level::Critical
            } else if ready < d {
                Level::Warning
            } else {
                Level::Ok
            };
            // Mid-rollout, the ready count includes the old template's pods: say so.
            let rollout = match &s.rollout {
                Some(r) if r.state == crate::rollout::RolloutState::Stuck => " stuck",
                Some(r) if r.total > r.updated => " rolling",
                _ => "",
            };
            field(format!("{ready}/{d}{rollout}"), level)
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
        Some("max") => text.push_str(" at max"),
        Some(l) => text.push_str(&format!(" at {l}")),
        None => {}
    }
    if a.verdict.level == Level::Critical && a.current_replicas.is_none() {
        text.push_str(" (missing)");
    }
    field(text, a.verdict.level)
}

fn pdb_field(s: &StoreStatus) -> Field {
    let d = &s.disruption_budget;
    match (&d.policy, &d.configured, d.object.ownership) {
        (Some(policy), _, _) => match (d.blocks_drains, d.disruptions_allowed) {
            (Some(true), _) => field(format!("{policy} (blocks drains)"), Level::Critical),
            (_, Some(a)) => field(format!("{policy} ({a} allowed)"), Level::Ok),
            _ => field(policy.clone(), d.verdict.level),
        },
        (None, _, Ownership::Unknown) => field("unknown", Level::Unknown),
        (None, Some(c), _) if d.verdict.level == Level::Info => {
            field(format!("{c} (inactive)"), Level::Ok)
        }
        (None, Some(c), _) => field(format!("{c} (missing)"), d.verdict.level),
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
        return field("all on 1 node", Level::Critical);
    }
    let zones = p.zones.map_or("? zones".into(), |z| plural(z, "zone"));
    let level = match p.verdict.level {
        Level::Info => Level::Ok,
        l => l,
    };
    field(format!("{}/{zones}", plural(p.nodes, "node")), level)
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
fn plain_table(style: Style) -> Table {
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

fn cell(f: &Field, style: Style) -> Cell {
    let c = Cell::new(&f.text);
    match color(f.level).filter(|_| style.color) {
        Some(col) => c.fg(col),
        None => c,
    }
}

/// Renders a table with kubectl's spacing, trailing blanks removed, each line indented.
fn finish(mut t: Table, indent: &str) -> String {
    let n = t.column_count();
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i + 1 == n { 0 } else { 3 }));
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
        if !cols.no_headers {
            t.set_header(headers(cols));
        }
        for s in &report.stores {
            t.add_row(row(s, cols, now).iter().map(|f| cell(f, style)));
        }
        out.push_str(&finish(t, ""));
    }
    out.push_str(&source_notes(&report.sources, style));
    out
}

/// One line per kind that could not be read: shown below the table, so that "unknown" cells
/// say why.
pub fn source_notes(sources: &[SourceState], style: Style) -> String {
    sources
        .iter()
        .filter(|s| s.state == "unreadable")
        .map(|s| {
            style.yellow(&format!(
                "note: {} could not be read ({}); what depends on them is shown as unknown\n",
                s.kind,
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

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Ok => "OK",
        Level::Info => "NOTE",
        Level::Warning => "WARNING",
        Level::Critical => "CRITICAL",
        Level::Unknown => "UNKNOWN",
    }
}

fn paint(level: Level, s: &str, style: Style) -> String {
    match level {
        Level::Critical => style.red(s),
        Level::Warning => style.yellow(s),
        Level::Unknown => style.dim(s),
        Level::Ok => style.green(s),
        Level::Info => s.to_string(),
    }
}

fn verdict_text(v: &Verdict, style: Style) -> String {
    paint(
        v.level,
        &format!("{}: {}", level_word(v.level), v.message),
        style,
    )
}

/// Key-value lines with the values aligned.
struct Section {
    out: String,
    indent: &'static str,
}

const KEY_WIDTH: usize = 22;

impl Section {
    fn new(title: &str, style: Style) -> Self {
        Section {
            out: format!("{}\n", style.bold(title)),
            indent: "  ",
        }
    }
    fn kv(&mut self, key: &str, value: impl AsRef<str>) {
        self.out.push_str(&format!(
            "{}{:<width$}{}\n",
            self.indent,
            format!("{key}:"),
            value.as_ref(),
            width = KEY_WIDTH
        ));
    }
    fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn end(mut self) -> String {
        self.out.push('\n');
        self.out
    }
}

fn ownership_words(o: Ownership) -> &'static str {
    match o {
        Ownership::Owned => "controlled by this FeatureStore",
        Ownership::Missing => "does not exist",
        Ownership::NotOwned => "exists but is NOT controlled by this FeatureStore",
        Ownership::Unknown => "unknown (could not be read)",
    }
}

fn opt(v: Option<i64>) -> String {
    v.map_or("?".into(), |v| v.to_string())
}

fn conditions_table(conds: &[Condition], now: Timestamp, style: Style, indent: &str) -> String {
    if conds.is_empty() {
        return format!("{indent}(none)\n");
    }
    let mut t = plain_table(style);
    t.set_header(vec!["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"]);
    for c in conds {
        let level = match (c.type_.as_str(), c.status.as_str()) {
            ("ScalingLimited", "True") => Level::Warning,
            ("ScalingLimited", _) => Level::Ok,
            (_, "True") => Level::Ok,
            (_, "False") => Level::Critical,
            _ => Level::Warning,
        };
        t.add_row(vec![
            Cell::new(&c.type_),
            cell(&field(&c.status, level), style),
            Cell::new(c.reason.as_deref().unwrap_or("")),
            Cell::new(
                c.last_transition_time
                    .as_deref()
                    .map_or("-".into(), |ts| age(ts, now)),
            ),
            Cell::new(c.message.as_deref().unwrap_or("")),
        ]);
    }
    finish(t, indent)
}

fn injection_text(i: &Injection) -> String {
    let why = match i.state {
        "injected" => "injected by the operator (scaling, nothing set in the spec)",
        "custom" => "custom, from the spec (replaces the operator's default)",
        "disabled" => "disabled explicitly in the spec (nothing injected)",
        _ => "none (scaling off)",
    };
    match &i.effective {
        Some(e) => format!("{why}; Deployment: {e}"),
        None => why.to_string(),
    }
}

/// One HPA's lines in the Autoscaler section.
fn autoscaler_lines(sec: &mut Section, a: &Autoscaler, now: Timestamp, style: Style) {
    let whose = match a.kind {
        "operator" => "the operator's",
        "external" => "external: targets the FeatureStore's scale subresource",
        _ => "foreign: targets the Deployment, not the operator's",
    };
    sec.kv("HPA", format!("{} ({whose})", a.name));
    if let Some(so) = &a.scaled_object {
        sec.kv("ScaledObject", format!("{so} (keda.sh)"));
    }
    sec.kv(
        "Min/max",
        format!(
            "{} / {}",
            a.min_replicas,
            a.max_replicas.map_or("?".into(), |m| m.to_string())
        ),
    );
    // An HPA that is not there has no numbers to show, only its verdict.
    let seen = a.current_replicas.is_some()
        || a.desired_replicas.is_some()
        || !a.metrics.is_empty()
        || !a.conditions.is_empty();
    if seen {
        sec.kv(
            "Replicas",
            format!(
                "current {}, desired {}",
                opt(a.current_replicas),
                opt(a.desired_replicas)
            ),
        );
    }
    if seen && a.metrics.is_empty() {
        sec.kv("Metrics", "-");
    }
    for (i, m) in a.metrics.iter().enumerate() {
        sec.kv(
            if i == 0 { "Metrics" } else { "" },
            format!(
                "{} {} / {} (current / target)",
                m.name,
                m.current.as_deref().unwrap_or("<unknown>"),
                m.target
            ),
        );
    }
    if seen {
        sec.kv(
            "Last scale",
            a.last_scale_time
                .as_deref()
                .map_or("-".into(), |t| format!("{t} ({} ago)", age(t, now))),
        );
    }
    sec.kv("Verdict", verdict_text(&a.verdict, style));
    if !a.conditions.is_empty() {
        sec.raw(&conditions_table(&a.conditions, now, style, "  "));
    }
}

/// The detail view of one store, in sections.
pub fn detail(s: &StoreStatus, sources: &[SourceState], now: Timestamp, style: Style) -> String {
    let mut out = String::new();
    let mut head = Section {
        out: String::new(),
        indent: "",
    };
    head.kv("Name", &s.name);
    head.kv("Namespace", &s.namespace);
    let phase = s.phase.as_deref().unwrap_or("-");
    let phase_level = match phase {
        "Ready" => Level::Ok,
        "Failed" => Level::Critical,
        _ => Level::Warning,
    };
    head.kv("Phase", paint(phase_level, phase, style));
    head.kv(
        "Age",
        s.creation_timestamp
            .as_deref()
            .map_or("-".into(), |t| age(t, now)),
    );
    head.kv("Feast version", s.feast_version.as_deref().unwrap_or("-"));
    // Reconcile errors (a failed HPA or PDB apply) appear only in this condition (§5).
    if let Some(c) = s
        .conditions
        .iter()
        .find(|c| c.type_ == "FeatureStore" && c.status != "True")
    {
        let level = if c.status == "False" {
            Level::Critical
        } else {
            Level::Warning
        };
        head.kv("Reason", paint(level, &c.summary(), style));
    }
    out.push_str(&head.end());

    // Scaling
    let mut sec = Section::new("Scaling", style);
    let mode_level = match s.mode {
        Mode::Conflict => Level::Critical,
        Mode::Unknown => Level::Unknown,
        _ => Level::Ok,
    };
    sec.kv(
        "Mode",
        paint(
            mode_level,
            &format!("{} ({})", s.mode.as_str(), s.mode_reason),
            style,
        ),
    );
    let r = &s.replicas;
    let ready = ready_field(s);
    let live = match r.source {
        "deployment" => format!(
            "Deployment {}: {} replicas, {} updated, {} available",
            s.deployment.name,
            opt(r.deployment),
            opt(r.updated),
            opt(r.available)
        ),
        _ => format!(
            "from the FeatureStore's status; Deployment {} {}",
            s.deployment.name,
            ownership_words(s.deployment.ownership)
        ),
    };
    sec.kv(
        "Ready/desired",
        format!("{} ({live})", paint(ready.level, &ready.text, style)),
    );
    sec.kv("spec.replicas", r.spec.to_string());
    sec.kv(
        "scalingStatus",
        match &r.scaling_status {
            Some(ss) => format!(
                "current {}, desired {}",
                opt(ss.current_replicas),
                opt(ss.desired_replicas)
            ),
            None => "absent (the operator sets it only while scaling)".into(),
        },
    );
    if let Some(ro) = &s.rollout {
        let level = match ro.state {
            crate::rollout::RolloutState::Complete => Level::Ok,
            crate::rollout::RolloutState::Progressing => Level::Warning,
            crate::rollout::RolloutState::Stuck => Level::Critical,
        };
        sec.kv("Rollout", paint(level, &ro.message, style));
    } else if let Some(observed) = r.rollout_observed {
        sec.kv(
            "Rollout",
            if observed {
                "the Deployment controller has seen the latest template".to_string()
            } else {
                paint(
                    Level::Warning,
                    "the Deployment controller has not yet observed the latest template",
                    style,
                )
            },
        );
    }
    if s.operator_synced.synced {
        sec.kv(
            "Operator synced",
            paint(
                Level::Ok,
                "yes (status.applied matches the spec's scaling and HA fields)",
                style,
            ),
        );
    } else {
        sec.kv(
            "Operator synced",
            paint(
                Level::Warning,
                "NO: the operator has not caught up with the spec",
                style,
            ),
        );
        for d in &s.operator_synced.differences {
            sec.raw(&format!("  {:KEY_WIDTH$}- {d}\n", ""));
        }
    }
    if s.replica_owners.len() > 1 || s.mode == Mode::External {
        let owners = s
            .replica_owners
            .iter()
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect::<Vec<_>>()
            .join(", ");
        sec.kv("Replica owners", owners);
    }
    out.push_str(&sec.end());

    // Autoscaler
    let mut sec = Section::new("Autoscaler", style);
    match &s.autoscaler {
        None => sec.raw("  none: the replica count is spec.replicas\n"),
        Some(a) => autoscaler_lines(&mut sec, a, now, style),
    }
    for a in &s.other_autoscalers {
        sec.raw(&format!(
            "  {}\n",
            paint(
                Level::Critical,
                "Also setting the replica count (conflict):",
                style
            )
        ));
        autoscaler_lines(&mut sec, a, now, style);
    }
    out.push_str(&sec.end());

    // Disruption budget
    let d = &s.disruption_budget;
    let mut sec = Section::new("Disruption budget", style);
    sec.kv(
        "Configured",
        d.configured
            .as_deref()
            .unwrap_or("no (spec.services.podDisruptionBudgets unset)"),
    );
    sec.kv(
        "PDB",
        format!("{} {}", d.object.name, ownership_words(d.object.ownership)),
    );
    if let Some(p) = &d.policy {
        sec.kv("Policy", p);
        sec.kv(
            "Healthy",
            format!(
                "{} current, {} desired, {} expected pods",
                opt(d.current_healthy),
                opt(d.desired_healthy),
                opt(d.expected_pods)
            ),
        );
        sec.kv("Disruptions allowed", opt(d.disruptions_allowed));
        sec.kv(
            "Node drains",
            match d.blocks_drains {
                Some(true) => paint(Level::Critical, "BLOCKED", style),
                Some(false) => paint(Level::Ok, "allowed", style),
                None => paint(Level::Unknown, "unknown", style),
            },
        );
    }
    sec.kv("Verdict", verdict_text(&d.verdict, style));
    out.push_str(&sec.end());

    // Placement
    let p = &s.placement;
    let mut sec = Section::new("Placement", style);
    if p.pods_known && !p.pods.is_empty() {
        let mut t = plain_table(style);
        t.set_header(vec!["POD", "NODE", "ZONE", "READY", "RESTARTS", "AGE"]);
        let nodes_unreadable = sources
            .iter()
            .any(|x| x.kind == "nodes" && x.state == "unreadable");
        for pod in &p.pods {
            let zone = match (&pod.zone, &pod.node) {
                (Some(z), _) => z.clone(),
                (None, None) => "-".into(),
                (None, Some(_)) if nodes_unreadable => "unknown".into(),
                (None, Some(_)) => "-".into(),
            };
            let ready = if pod.ready {
                field("yes", Level::Ok)
            } else {
                field(
                    format!("no ({})", pod.phase.as_deref().unwrap_or("?")),
                    Level::Warning,
                )
            };
            t.add_row(vec![
                Cell::new(&pod.name),
                Cell::new(pod.node.as_deref().unwrap_or("-")),
                Cell::new(zone),
                cell(&ready, style),
                Cell::new(pod.restarts),
                Cell::new(
                    pod.creation_timestamp
                        .as_deref()
                        .map_or("-".into(), |t| age(t, now)),
                ),
            ]);
        }
        sec.raw(&finish(t, "  "));
        for pod in p.pods.iter().filter(|p| !p.ready) {
            if let Some(why) = &pod.reason {
                sec.kv(
                    "Not ready",
                    paint(Level::Warning, &format!("{}: {why}", pod.name), style),
                );
            }
        }
    }
    sec.kv("Verdict", verdict_text(&p.verdict, style));
    out.push_str(&sec.end());

    // Strategy
    let st = &s.strategy;
    let mut sec = Section::new("Strategy", style);
    sec.kv(
        "Effective",
        format!(
            "{} ({})",
            st.effective.as_deref().unwrap_or("?"),
            if st.source == "deployment" {
                "read from the Deployment"
            } else {
                "derived from the spec: the Deployment is unknown"
            }
        ),
    );
    sec.kv("Why", format!("{}: {}", st.origin, st.why));
    sec.kv("Topology spread", injection_text(&s.topology_spread));
    sec.kv("Affinity", injection_text(&s.affinity));
    out.push_str(&sec.end());

    // Persistence
    let mut sec = Section::new("Persistence", style);
    let mut t = plain_table(style);
    t.set_header(vec!["SERVICE", "BACKEND", "SAFE TO SCALE", "WHY"]);
    for v in &s.persistence {
        let safe = if v.scalable {
            field("yes", Level::Ok)
        } else if s.mode == Mode::Single {
            field("no", Level::Ok)
        } else {
            field("no", Level::Critical)
        };
        t.add_row(vec![
            Cell::new(v.service),
            Cell::new(&v.backend),
            cell(&safe, style),
            Cell::new(&v.reason),
        ]);
    }
    sec.raw(&finish(t, "  "));
    out.push_str(&sec.end());

    // Conditions
    let mut sec = Section::new("Conditions", style);
    sec.raw(&conditions_table(&s.conditions, now, style, "  "));
    out.push_str(&sec.end());

    // Warnings
    let mut sec = Section::new("Warnings", style);
    if s.warnings.is_empty() {
        sec.raw("  (none)\n");
    }
    for f in &s.warnings {
        let sev = f.severity.as_str().to_uppercase();
        sec.raw(&format!(
            "  {:<8} {}  {}\n",
            style.severity(f.severity, &sev),
            f.rule,
            f.path
        ));
        sec.raw(&format!("           {}\n", f.message));
        if !f.hint.is_empty() {
            sec.raw(&format!("           {} {}\n", style.dim("fix:"), f.hint));
        }
    }
    out.push_str(&sec.end());

    if !s.unknown.is_empty() {
        let mut sec = Section::new("Unknown", style);
        for u in &s.unknown {
            sec.raw(&format!("  {}\n", paint(Level::Unknown, u, style)));
        }
        out.push_str(&sec.end());
    }
    // One blank line between sections, none at the end.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests;
