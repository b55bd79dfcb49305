//! `validate -o github`: the report as GitHub Actions workflow commands, so each finding is an
//! annotation on its file and line in the pull request: `::error file=F,line=L,title=T::MESSAGE`
//! for errors, `::warning` for warnings, `::notice` for information (with `--notices`). Values
//! are escaped as the
//! Actions runner reads them back (`%`, CR and LF everywhere; `:` and `,` in properties too).
//! A plain summary line ends the output for the log. Pure.

use crate::featurestore::display_name;
use crate::report::Report;
use crate::rules::Severity;

/// The escaping of a command's message (the runner's `escapeData`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The escaping of a property value (the runner's `escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// One workflow command; `file` only for inputs that are files.
fn annotation(
    kind: &str,
    file: Option<&str>,
    line: Option<usize>,
    title: &str,
    message: &str,
) -> String {
    let mut props = Vec::new();
    if let Some(f) = file {
        props.push(format!("file={}", escape_property(f)));
        if let Some(l) = line {
            props.push(format!("line={l}"));
        }
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::{kind} {}::{}\n", props.join(","), escape_data(message))
}

/// The workflow commands of a validation report; INFO findings only with `notices` (every
/// scaled store has one, and a pull request's annotations are for what to change).
pub fn github(report: &Report, notices: bool) -> String {
    let mut out = String::new();
    for r in &report.results {
        let file = super::sarif::is_file(&r.source).then_some(r.source.as_str());
        for f in r
            .findings
            .iter()
            .filter(|f| notices || f.finding.severity != Severity::Info)
        {
            out.push_str(&annotation(
                command(f.finding.severity),
                file,
                f.line.or(r.line),
                &format!(
                    "{} ({} {})",
                    f.finding.rule,
                    r.kind,
                    display_name(r.namespace.as_deref(), &r.name)
                ),
                &format!(
                    "{}: {}\nfix: {}",
                    f.finding.path, f.finding.message, f.finding.hint
                ),
            ));
        }
    }
    for u in &report.unreadable {
        let file = super::sarif::is_file(&u.source).then_some(u.source.as_str());
        let message = match &u.hint {
            Some(h) => format!("{}\nhint: {h}", u.message),
            None => u.message.clone(),
        };
        out.push_str(&annotation(
            "error",
            file,
            u.line,
            "unreadable input",
            &message,
        ));
    }
    out.push_str(&super::validate::summary_line(
        report,
        super::style::Style::PLAIN,
    ));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_the_runner_reads_them() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(
            annotation("error", Some("x,y.yaml"), Some(3), "t", "m"),
            "::error file=x%2Cy.yaml,line=3,title=t::m\n"
        );
        assert_eq!(
            annotation("notice", None, Some(3), "t", "m"),
            "::notice title=t::m\n"
        );
    }
}
