//! The detail view of one store (`kubectl feast status NAME`): a header, then one section per
//! part of the derivation (scaling, autoscaler, disruption budget, placement, strategy,
//! persistence, conditions, warnings, unknown), each drawn by its own function.

use comfy_table::Cell;
use k8s_openapi::jiff::Timestamp;

use super::{age, cell, field, finish, plain_table, ready_field};
use crate::render::style::Style;
use crate::rollout::RolloutState;
use crate::status::autoscaler::Limit;
use crate::status::decision::Decision;
use crate::status::{
    Autoscaler, AutoscalerKind, Condition, DisruptionBudget, Injection, InjectionState, Level,
    Mode, Ownership, Placement, ReplicasSource, Resource, SourceRead, SourceState, StoreStatus,
    StrategySource, Verdict,
};

/// The detail view of one store, in sections.
pub fn detail(s: &StoreStatus, sources: &[SourceState], now: Timestamp, style: Style) -> String {
    let nodes_unreadable = sources
        .iter()
        .any(|x| x.kind == Resource::Nodes && x.state == SourceRead::Unreadable);
    let mut out = header(s, now, style);
    for section in [
        attention(s, style),
        scaling(s, style),
        autoscaler(s, now, style),
        budget(&s.disruption_budget, style),
        placement(&s.placement, nodes_unreadable, now, style),
        strategy(s, style),
        persistence(s, style),
        conditions(s, now, style),
        warnings(s, style),
        unknown(s, style),
    ] {
        out.push_str(&section);
    }
    // One blank line between sections, none at the end.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
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
    width: Option<usize>,
}

const KEY_WIDTH: usize = 22;

/// A table of the detail view: as wide as its content, or, on a terminal narrower than that,
/// with its cells wrapped to fit (the indent of two columns included).
fn fitted_table(style: Style) -> comfy_table::Table {
    let mut t = plain_table(style);
    if let Some(w) = style.width {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        t.set_width(u16::try_from(w.saturating_sub(2)).unwrap_or(u16::MAX));
    }
    t
}

impl Section {
    fn new(title: &str, style: Style) -> Self {
        Section {
            out: format!("{}\n", style.bold(title)),
            indent: "  ",
            width: style.width,
        }
    }
    /// `key: value`, the value wrapped under itself when the terminal is narrower than the line.
    fn kv(&mut self, key: &str, value: impl AsRef<str>) {
        let lead = self.indent.len() + KEY_WIDTH;
        let lines = match self.width {
            Some(w) => crate::render::term::wrap(value.as_ref(), w.saturating_sub(lead).max(20)),
            None => vec![value.as_ref().to_string()],
        };
        for (i, line) in lines.iter().enumerate() {
            let key = if i == 0 {
                format!("{key}:")
            } else {
                String::new()
            };
            self.out.push_str(&format!(
                "{}{:<width$}{line}\n",
                self.indent,
                key,
                width = KEY_WIDTH
            ));
        }
    }
    /// `lead` then `text`, wrapped on a narrow terminal with its later lines under the text.
    fn line(&mut self, lead: &str, text: &str) {
        let at = crate::render::term::visible_width(lead);
        let lines = match self.width {
            Some(w) => crate::render::term::wrap(text, w.saturating_sub(at).max(20)),
            None => vec![text.to_string()],
        };
        for (i, l) in lines.iter().enumerate() {
            if i == 0 {
                self.out.push_str(lead);
            } else {
                self.out.push_str(&" ".repeat(at));
            }
            self.out.push_str(l);
            self.out.push('\n');
        }
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
    let mut t = fitted_table(style);
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
        InjectionState::Injected => "injected by the operator (scaling, nothing set in the spec)",
        InjectionState::Custom => "custom, from the spec (replaces the operator's default)",
        InjectionState::Disabled => "disabled explicitly in the spec (nothing injected)",
        InjectionState::None => "none (scaling off)",
    };
    match &i.effective {
        Some(e) => format!("{why}; Deployment: {e}"),
        None => why.to_string(),
    }
}

/// One HPA's lines in the Autoscaler section.
fn autoscaler_lines(sec: &mut Section, a: &Autoscaler, now: Timestamp, style: Style) {
    let whose = match a.kind {
        AutoscalerKind::Operator => "the operator's",
        AutoscalerKind::External => "external: targets the FeatureStore's scale subresource",
        AutoscalerKind::Foreign => "foreign: targets the Deployment, not the operator's",
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
            match a.desired_replicas {
                // The HPA reports 0 while it cannot compute a count (a metric it cannot read):
                // never a wish for no pods, which its min forbids.
                Some(0) => format!(
                    "current {}, desired none yet (the HPA has not computed a count; see its conditions)",
                    opt(a.current_replicas)
                ),
                desired => format!("current {}, desired {}", opt(a.current_replicas), opt(desired)),
            },
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
    if let Some(d) = &a.decision {
        sec.kv("Decision", decision_text(a, d, now));
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

/// The HPA controller's next step in a line: what each metric asks for, then the bound or
/// policy that holds it, e.g. `cpu 200% of 70% wants 9; capped at max 6 for 3m: next 6`.
fn decision_text(a: &Autoscaler, d: &Decision, now: Timestamp) -> String {
    let wants: Vec<String> = d
        .metrics
        .iter()
        .map(|m| {
            if m.within_tolerance {
                format!(
                    "{} {} of {} is within the {} tolerance",
                    m.name, m.current, m.target, d.tolerance
                )
            } else {
                format!(
                    "{} {} of {} wants {}",
                    m.name, m.current, m.target, m.replicas
                )
            }
        })
        .collect();
    let mut text = wants.join(", ");
    let since = |type_: &str| {
        a.conditions
            .iter()
            .find(|c| c.type_ == type_ && c.status == "True")
            .and_then(|c| c.last_transition_time.as_deref())
            .map(|t| format!(" for {}", age(t, now)))
            .unwrap_or_default()
    };
    match d.limited_by {
        Some(Limit::Max) => text.push_str(&format!(
            "; capped at max {}{}",
            a.max_replicas.unwrap_or_default(),
            since("ScalingLimited")
        )),
        Some(Limit::Min) => text.push_str(&format!("; held at min {}", a.min_replicas)),
        None => {}
    }
    if let Some(held) = &d.held_by {
        text.push_str(&format!("; {held}"));
    }
    if let Some(t) = &d.scale_down_not_before
        && t.parse::<Timestamp>().is_ok_and(|t| t > now)
    {
        text.push_str(&format!(
            "; no scale-down before {t} (the stabilization window)"
        ));
    }
    text.push_str(&format!(": next {}", d.proposed_replicas));
    text
}

fn header(s: &StoreStatus, now: Timestamp, style: Style) -> String {
    let mut head = Section {
        out: String::new(),
        indent: "",
        width: style.width,
    };
    if let Some(context) = &s.context {
        head.kv("Context", context);
    }
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
    head.end()
}

fn scaling(s: &StoreStatus, style: Style) -> String {
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
            &format!("{} ({})", s.mode, s.mode_reason),
            style,
        ),
    );
    let r = &s.replicas;
    let ready = ready_field(s);
    let live = match r.source {
        ReplicasSource::Deployment => format!(
            "Deployment {}: {} replicas, {} updated, {} available",
            s.deployment.name,
            opt(r.deployment),
            opt(r.updated),
            opt(r.available)
        ),
        ReplicasSource::FeatureStore => format!(
            "from the FeatureStore's status; Deployment {} {}",
            s.deployment.name,
            ownership_words(s.deployment.ownership)
        ),
    };
    sec.kv(
        "Ready/desired",
        format!("{} ({live})", paint(ready.level, &ready.text, style)),
    );
    sec.kv(
        "spec.replicas",
        if s.mode == Mode::Hpa {
            // Removed by autoscale (the CRD forbids both): the default is not a count anyone set.
            format!("{} (not used: the HPA sets the count)", r.spec)
        } else {
            r.spec.to_string()
        },
    );
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
    rollout_line(&mut sec, s, style);
    synced_lines(&mut sec, s, style);
    if s.replica_owners.len() > 1 || s.mode == Mode::External {
        let owners = s
            .replica_owners
            .iter()
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect::<Vec<_>>()
            .join(", ");
        sec.kv("Replica owners", owners);
    }
    sec.end()
}

fn rollout_line(sec: &mut Section, s: &StoreStatus, style: Style) {
    if let Some(ro) = &s.rollout {
        let level = match ro.state {
            RolloutState::Complete => Level::Ok,
            RolloutState::Progressing => Level::Warning,
            RolloutState::Stuck | RolloutState::Failing => Level::Critical,
        };
        sec.kv("Rollout", paint(level, &ro.message, style));
    } else if let Some(observed) = s.replicas.rollout_observed {
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
}

fn synced_lines(sec: &mut Section, s: &StoreStatus, style: Style) {
    if s.operator_synced.synced && s.deployment.ownership == Ownership::Missing {
        // status.applied holds the spec, yet what it asks for was not made: not "yes".
        sec.kv(
            "Operator synced",
            paint(
                Level::Warning,
                &format!(
                    "recorded, not done: status.applied holds the spec, but Deployment {} does not exist",
                    s.deployment.name
                ),
                style,
            ),
        );
        return;
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
        return;
    }
    sec.kv(
        "Operator synced",
        paint(
            Level::Warning,
            "NO: the operator has not caught up with the spec",
            style,
        ),
    );
    for d in &s.operator_synced.differences {
        sec.line(&format!("  {:KEY_WIDTH$}- ", ""), d);
    }
}

fn autoscaler(s: &StoreStatus, now: Timestamp, style: Style) -> String {
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
    sec.end()
}

fn budget(d: &DisruptionBudget, style: Style) -> String {
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
    sec.end()
}

fn placement(p: &Placement, nodes_unreadable: bool, now: Timestamp, style: Style) -> String {
    let mut sec = Section::new("Placement", style);
    if p.pods_known && !p.pods.is_empty() {
        let mut t = fitted_table(style);
        t.set_header(vec!["POD", "NODE", "ZONE", "READY", "RESTARTS", "AGE"]);
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
        // One line per reason, however many pods share it.
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for pod in p.pods.iter().filter(|p| !p.ready) {
            if let Some(why) = pod.reason.as_deref() {
                match reasons.iter_mut().find(|(r, _)| *r == why) {
                    Some((_, pods)) => pods.push(&pod.name),
                    None => reasons.push((why, vec![&pod.name])),
                }
            }
        }
        for (why, pods) in reasons {
            let who = match pods.as_slice() {
                [one] => one.to_string(),
                [first, second] => format!("2 pods ({first}, {second})"),
                [first, rest @ ..] => {
                    format!("{} pods ({first} and {} more)", rest.len() + 1, rest.len())
                }
                [] => continue,
            };
            sec.kv(
                "Not ready",
                paint(Level::Warning, &format!("{who}: {why}"), style),
            );
        }
    }
    sec.kv("Verdict", verdict_text(&p.verdict, style));
    sec.end()
}

fn strategy(s: &StoreStatus, style: Style) -> String {
    let st = &s.strategy;
    let mut sec = Section::new("Strategy", style);
    sec.kv(
        "Effective",
        format!(
            "{} ({})",
            st.effective.as_deref().unwrap_or("?"),
            match st.source {
                StrategySource::Deployment => "read from the Deployment",
                StrategySource::Spec => "derived from the spec: the Deployment is unknown",
            }
        ),
    );
    sec.kv("Why", format!("{}: {}", st.origin, st.why));
    sec.kv("Topology spread", injection_text(&s.topology_spread));
    sec.kv("Affinity", injection_text(&s.affinity));
    sec.end()
}

fn persistence(s: &StoreStatus, style: Style) -> String {
    let mut sec = Section::new("Persistence", style);
    let mut t = fitted_table(style);
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
    sec.end()
}

/// The verdicts that need a person (critical, warning, unknown), worst first, each with its
/// fix: the same words `doctor` checks. Nothing when none does.
fn attention(s: &StoreStatus, style: Style) -> String {
    let mut open: Vec<&crate::status::StoreVerdict> = s
        .verdicts
        .iter()
        .filter(|v| matches!(v.level, Level::Critical | Level::Warning | Level::Unknown))
        .collect();
    if open.is_empty() {
        return String::new();
    }
    open.sort_by_key(|v| match v.level {
        Level::Critical => 0,
        Level::Warning => 1,
        _ => 2,
    });
    let mut sec = Section::new("Needs attention", style);
    for v in open {
        let word = format!("{:<8}", level_word(v.level));
        sec.line(
            &format!(
                "  {} {:<10} ",
                paint(v.level, &word, style),
                v.area.as_str()
            ),
            &v.message,
        );
        if let Some(fix) = &v.fix {
            sec.line(
                &format!("  {:8} {:<10} {} ", "", "", style.dim("fix:")),
                &fix.to_string(),
            );
        }
    }
    sec.end()
}

fn conditions(s: &StoreStatus, now: Timestamp, style: Style) -> String {
    let mut sec = Section::new("Conditions", style);
    sec.raw(&conditions_table(&s.conditions, now, style, "  "));
    sec.end()
}

fn warnings(s: &StoreStatus, style: Style) -> String {
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
        sec.line("           ", &f.message);
        if !f.hint.is_empty() {
            sec.line(
                &format!("           {} ", style.dim("fix:")),
                &f.hint.to_string(),
            );
        }
    }
    sec.end()
}

fn unknown(s: &StoreStatus, style: Style) -> String {
    if s.unknown.is_empty() {
        return String::new();
    }
    let mut sec = Section::new("Unknown", style);
    for u in &s.unknown {
        sec.raw(&format!("  {}\n", paint(Level::Unknown, u, style)));
    }
    sec.end()
}
