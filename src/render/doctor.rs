//! `kubectl feast doctor`'s checklist as text: one line per check with its level in words
//! (`ok`, `WARNING`, `BLOCKING`, `unknown`; colour only repeats them), the fix under it, the
//! cluster's checks first and then each store's, and a closing verdict. Pure.

use super::style::Style;
use crate::doctor::{CLUSTER, Check, Level, Report};

fn label(level: Level) -> &'static str {
    match level {
        Level::Ok => "ok",
        Level::Warning => "WARNING",
        Level::Blocking => "BLOCKING",
        Level::Unknown => "unknown",
        Level::Info => "info",
    }
}

fn painted(level: Level, style: Style) -> String {
    let text = format!("{:<8}", label(level));
    match level {
        Level::Ok => style.green(&text),
        Level::Warning => style.yellow(&text),
        Level::Blocking => style.red(&text),
        Level::Unknown | Level::Info => style.dim(&text),
    }
}

fn line(c: &Check, width: usize, style: Style) -> String {
    let mut out = format!(
        "  {}  {:<width$}  {}\n",
        painted(c.level, style),
        c.id,
        c.message
    );
    if let Some(fix) = &c.fix {
        out.push_str(&format!("  {:8}  {:<width$}  fix: {fix}\n", "", ""));
    }
    out
}

/// The whole checklist.
pub fn text(report: &Report, style: Style) -> String {
    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    let mut subject: Option<&str> = None;
    for c in &report.checks {
        if subject != Some(c.subject.as_str()) {
            if subject.is_some() {
                out.push('\n');
            }
            let heading = if c.subject == CLUSTER {
                "Cluster".to_string()
            } else {
                format!("FeatureStore {}", c.subject)
            };
            out.push_str(&style.bold(&heading));
            out.push('\n');
            subject = Some(c.subject.as_str());
        }
        out.push_str(&line(c, width, style));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} blocking, {} warning(s), {} unknown, {} ok ({} FeatureStore(s) checked): {}\n",
        s.blocking,
        s.warning,
        s.unknown,
        s.ok,
        s.stores,
        if s.blocking > 0 {
            "scaling or high availability will not work until the BLOCKING items are fixed"
        } else if s.warning > 0 {
            "nothing blocks scaling; the warnings weaken high availability"
        } else {
            "nothing stands in the way of scaling and high availability"
        }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Summary;

    #[test]
    fn levels_are_words_and_fixes_sit_under_their_check() {
        let report = Report {
            context: None,
            checks: vec![
                Check {
                    id: "nodes/zones",
                    subject: CLUSTER.into(),
                    level: Level::Warning,
                    message: "no zones".into(),
                    fix: Some("label the nodes".into()),
                },
                Check {
                    id: "store/persistence",
                    subject: "ns/a".into(),
                    level: Level::Blocking,
                    message: "file".into(),
                    fix: None,
                },
            ],
            summary: Summary {
                warning: 1,
                blocking: 1,
                stores: 1,
                ..Summary::default()
            },
        };
        let t = text(&report, Style::PLAIN);
        assert!(
            t.starts_with("Cluster\n  WARNING   nodes/zones        no zones\n"),
            "{t}"
        );
        assert!(t.contains("fix: label the nodes"));
        assert!(
            t.contains("FeatureStore ns/a\n  BLOCKING  store/persistence  file\n"),
            "{t}"
        );
        assert!(t.contains("1 blocking, 1 warning(s)"));
    }
}
