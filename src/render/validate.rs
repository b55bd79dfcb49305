//! The human report of `validate`: objects grouped with their findings, a persistence table
//! each, and a summary line.

use comfy_table::{Cell, Color, Table, presets::UTF8_FULL_CONDENSED};

use super::style::Style;
use crate::featurestore::display_name;
use crate::report::{ObjectResult, Report};

/// `-o json`: exactly what [`super::json`] prints for the report, with the objects serialised
/// on every core (one thread took 20 ms for 10,000 objects, docs/performance.md).
pub fn json(report: &Report) -> String {
    let whole = || super::json(report);
    let objects: Option<Vec<String>> = crate::parallel::map(&report.results, 256, |r| {
        // Each object sits two levels deep in the report. JSON strings hold no line breaks,
        // so every line break is one of the layout's.
        serde_json::to_string_pretty(r)
            .ok()
            .map(|text| text.replace('\n', "\n    "))
    })
    .into_iter()
    .collect();
    let rest = Report {
        results: Vec::new(),
        unreadable: report.unreadable.clone(),
        summary: report.summary.clone(),
    };
    let shell = super::json(&rest);
    let (Some(objects), Some(after)) = (objects, shell.strip_prefix("{\n  \"results\": []")) else {
        return whole();
    };
    if objects.is_empty() {
        return shell;
    }
    let mut out =
        String::with_capacity(objects.iter().map(|o| o.len() + 6).sum::<usize>() + shell.len());
    out.push_str("{\n  \"results\": [");
    for (i, object) in objects.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(object);
    }
    out.push_str("\n  ]");
    out.push_str(after);
    out
}

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
    out.push_str(&summary_line(report, style));
    out.push('\n');
    out
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::report::{ObjectResult, Report, Unreadable};

    fn report(count: usize, unreadable: bool) -> Report {
        let results = (0..count)
            .map(|i| {
                let store = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
                    "metadata": {"name": format!("s{i}"), "namespace": "a\"b"},
                    "spec": {"feastProject": "p", "replicas": i % 3 + 1}});
                let findings = crate::rules::check(&store);
                ObjectResult::new("in.yaml", Some(i * 10 + 1), &store, findings, &|_| Some(i))
            })
            .collect();
        let mut report = Report::new(results, 2);
        if unreadable {
            report.unreadable.push(Unreadable {
                source: "bad.yaml".into(),
                line: Some(3),
                message: "cannot parse".into(),
                hint: None,
            });
        }
        report
    }

    #[test]
    fn the_json_report_is_what_serde_json_prints_whole() {
        for count in [0, 1, 2, 700] {
            for unreadable in [false, true] {
                let r = report(count, unreadable);
                assert!(
                    super::json(&r) == super::super::json(&r),
                    "{count} objects, unreadable {unreadable}"
                );
            }
        }
    }
}
