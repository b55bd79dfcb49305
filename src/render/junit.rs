//! `validate -o junit`: the report as JUnit XML, the format CI systems (Jenkins, GitLab, Azure
//! Pipelines, GitHub's test reporters) show as test results. One `<testsuite>` per input, one
//! `<testcase>` per object; an invalid object (with `--strict`, one with warnings too) fails
//! with every error in its `<failure>`, the rest of its findings in `<system-out>`. An input that
//! could not be read is a test case with an `<error>`. Pure.

use std::fmt::Write as _;

use crate::featurestore::display_name;
use crate::report::{LocatedFinding, ObjectResult, Report};
use crate::rules::Severity;

/// Text as XML character data or an attribute value: the five markup characters escaped,
/// characters XML 1.0 cannot hold (most C0 controls) dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn finding_text(f: &LocatedFinding) -> String {
    format!(
        "{} {} {}{}\n  {}\n  fix: {}\n",
        f.finding.severity.as_str().to_uppercase(),
        f.finding.rule,
        f.finding.path,
        f.line.map(|l| format!(" (line {l})")).unwrap_or_default(),
        f.finding.message,
        f.finding.hint
    )
}

/// Whether an object fails as a test: invalid, or with `strict` any warning.
fn fails(r: &ObjectResult, strict: bool) -> bool {
    !r.valid
        || (strict
            && r.findings
                .iter()
                .any(|f| f.finding.severity == Severity::Warning))
}

fn testcase(out: &mut String, r: &ObjectResult, strict: bool) {
    let name = format!(
        "{} {}",
        r.kind,
        display_name(r.namespace.as_deref(), &r.name)
    );
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\"",
        escape(&name),
        escape(&r.source)
    );
    if r.source != "cluster" {
        let _ = write!(out, " file=\"{}\"", escape(&r.source));
    }
    if let Some(line) = r.line {
        let _ = write!(out, " line=\"{line}\"");
    }
    if r.findings.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    let failing = fails(r, strict);
    let (in_failure, rest): (Vec<&LocatedFinding>, Vec<&LocatedFinding>) =
        r.findings.iter().partition(|f| {
            failing
                && (f.finding.severity == Severity::Error
                    || (strict && f.finding.severity == Severity::Warning))
        });
    if !in_failure.is_empty() {
        let errors = in_failure
            .iter()
            .filter(|f| f.finding.severity == Severity::Error)
            .count();
        let warnings = in_failure.len() - errors;
        let mut summary = Vec::new();
        if errors > 0 {
            summary.push(format!(
                "{errors} error{}",
                if errors == 1 { "" } else { "s" }
            ));
        }
        if warnings > 0 {
            summary.push(format!(
                "{warnings} warning{} (--strict)",
                if warnings == 1 { "" } else { "s" }
            ));
        }
        let first = &in_failure[0].finding;
        let _ = write!(
            out,
            "      <failure message=\"{}: {}: {}\" type=\"{}\">",
            escape(&summary.join(", ")),
            escape(first.rule.as_str()),
            escape(&first.message),
            escape(first.rule.as_str())
        );
        for f in &in_failure {
            out.push_str(&escape(&finding_text(f)));
        }
        out.push_str("</failure>\n");
    }
    if !rest.is_empty() {
        out.push_str("      <system-out>");
        for f in &rest {
            out.push_str(&escape(&finding_text(f)));
        }
        out.push_str("</system-out>\n");
    }
    out.push_str("    </testcase>\n");
}

/// The JUnit XML of a validation report.
pub fn junit(report: &Report, strict: bool) -> String {
    // One suite per input, in the order the inputs were read.
    let mut sources: Vec<&str> = Vec::new();
    for s in report
        .results
        .iter()
        .map(|r| r.source.as_str())
        .chain(report.unreadable.iter().map(|u| u.source.as_str()))
    {
        if !sources.contains(&s) {
            sources.push(s);
        }
    }
    let total = report.results.len() + report.unreadable.len();
    let failures = report.results.iter().filter(|r| fails(r, strict)).count();
    let errors = report.unreadable.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kubectl feast validate\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for source in sources {
        let results: Vec<&ObjectResult> = report
            .results
            .iter()
            .filter(|r| r.source == source)
            .collect();
        let unreadable: Vec<_> = report
            .unreadable
            .iter()
            .filter(|u| u.source == source)
            .collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
            escape(source),
            results.len() + unreadable.len(),
            results.iter().filter(|r| fails(r, strict)).count(),
            unreadable.len()
        );
        for r in results {
            testcase(&mut out, r, strict);
        }
        for u in unreadable {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
                escape(&format!("read {}", u.source)),
                escape(&u.source),
                escape(&u.source)
            );
            if let Some(line) = u.line {
                let _ = write!(out, " line=\"{line}\"");
            }
            let _ = writeln!(
                out,
                ">\n      <error message=\"{}\" type=\"unreadable\">{}</error>\n    </testcase>",
                escape(&u.message),
                escape(&match &u.hint {
                    Some(h) => format!("{}\nhint: {h}", u.message),
                    None => u.message.clone(),
                })
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1b}[31m"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;[31m"
        );
    }
}
