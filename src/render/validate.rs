//! The human report of `validate`: objects grouped with their findings, a persistence table
//! each, and a summary line.

use comfy_table::{Cell, Color, Table, presets::UTF8_FULL_CONDENSED};

use super::style::Style;
use crate::featurestore::display_name;
use crate::report::{ObjectResult, Report};

pub fn text(report: &Report, style: Style) -> String {
    // Each object's section on every core: a persistence table each makes this the largest
    // part of the text report's cost (docs/performance.md).
    let sections = crate::parallel::map(&report.results, 256, |r| {
        let mut out = String::new();
        object(&mut out, r, style);
        out.push('\n');
        out
    });
    let mut out = String::with_capacity(sections.iter().map(String::len).sum::<usize>() + 256);
    for section in &sections {
        out.push_str(section);
    }
    out.push_str(&templates(report, style));
    out.push_str(&summary_line(report, style));
    out.push('\n');
    out
}

/// The Helm templates met, one line per chart, with the command that renders it.
fn templates(report: &Report, style: Style) -> String {
    let mut charts: Vec<(&str, usize, &str)> = Vec::new();
    for t in &report.templates {
        let chart = t.chart.as_deref().unwrap_or(t.source.as_str());
        match charts.iter_mut().find(|(c, _, _)| *c == chart) {
            Some(entry) => entry.1 += 1,
            None => charts.push((chart, 1, t.command.as_str())),
        }
    }
    charts
        .iter()
        .map(|(chart, n, command)| {
            format!(
                "{}  Helm template{} ({n} file{}): not checkable as written; render it: `{command}`\n\n",
                style.bold(chart),
                if *n == 1 { "" } else { "s" },
                if *n == 1 { "" } else { "s" },
            )
        })
        .collect()
}

fn location(source: &str, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{source}:{l}"),
        None => source.to_string(),
    }
}

fn object(out: &mut String, r: &ObjectResult, style: Style) {
    let verdict = if r.valid {
        style.green("VALID")
    } else {
        style.red("INVALID")
    };
    out.push_str(&format!(
        "{}  {} {}  {}\n",
        style.bold(&location(&r.source, r.line)),
        r.kind,
        display_name(r.namespace.as_deref(), &r.name),
        verdict
    ));
    if let Some(k) = &r.patch_of {
        out.push_str(&format!(
            "  {}\n",
            style.dim(&format!(
                "a patch of {k}: checked as the partial object it is (field names and types); `kubectl feast validate -k DIR` checks what the kustomization renders"
            ))
        ));
    }
    for f in &r.findings {
        // Padded before it is coloured: escape codes must not count as width.
        let sev = format!("{:<8}", f.finding.severity.as_str().to_uppercase());
        out.push_str(&format!(
            "  {} {}  {}{}\n",
            style.severity(f.finding.severity, &sev),
            f.finding.rule,
            f.finding.path,
            f.line.map(|l| format!(" (line {l})")).unwrap_or_default(),
        ));
        out.push_str(&format!("           {}\n", f.finding.message));
        out.push_str(&format!(
            "           {} {}\n",
            style.dim("fix:"),
            f.finding.hint
        ));
    }
    if r.persistence.is_empty() {
        return;
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    // The table colours its own cells, so that escape codes never count as column width.
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(vec!["SERVICE", "BACKEND", "SAFE TO SCALE", "WHY"]);
    for p in &r.persistence {
        let (safe, colour) = if p.scalable {
            ("yes", Color::Green)
        } else {
            ("no", Color::Yellow)
        };
        let safe = Cell::new(safe);
        table.add_row(vec![
            Cell::new(p.service),
            Cell::new(&p.backend),
            if style.color { safe.fg(colour) } else { safe },
            Cell::new(&p.reason),
        ]);
    }
    for line in table.to_string().lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
}

pub fn summary_line(report: &Report, style: Style) -> String {
    let s = &report.summary;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let objects = if s.scaled_objects > 0 {
        format!(
            "{} and {}",
            plural(s.objects - s.scaled_objects, "FeatureStore"),
            plural(s.scaled_objects, "ScaledObject")
        )
    } else {
        plural(s.objects, "FeatureStore")
    };
    let mut line = format!(
        "{objects}: {} valid, {} invalid; {}, {}",
        s.valid,
        s.invalid,
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
    );
    if s.skipped > 0 {
        line.push_str(&format!(
            "; {} of other kinds skipped",
            plural(s.skipped, "document")
        ));
    }
    if s.patches > 0 {
        line.push_str(&if s.patches == 1 {
            "; 1 kustomize patch checked as a part".to_string()
        } else {
            format!("; {} kustomize patches checked as parts", s.patches)
        });
    }
    if s.templates > 0 {
        line.push_str(&format!(
            "; {} not checked (render first)",
            plural(s.templates, "Helm template")
        ));
    }
    if s.excluded > 0 {
        line.push_str(&format!("; {} excluded", plural(s.excluded, "file")));
    }
    if s.unreadable > 0 {
        line.push_str(&format!("; {} unreadable", plural(s.unreadable, "input")));
    }
    if s.invalid > 0 || s.unreadable > 0 {
        style.red(&line)
    } else if s.warnings > 0 {
        style.yellow(&line)
    } else {
        style.green(&line)
    }
}
