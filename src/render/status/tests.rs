use super::*;
use crate::status::fixtures::{self, NOW};
use crate::status::{Source, derive};

fn now() -> Timestamp {
    NOW.parse().expect("NOW is a valid timestamp")
}

fn report() -> StatusReport {
    derive(&fixtures::all("demo").inventory())
}

fn store<'a>(r: &'a StatusReport, name: &str) -> &'a StoreStatus {
    r.stores
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no store {name}"))
}

#[test]
fn list_table() {
    insta::assert_snapshot!(list(&report(), Columns::default(), now(), Style::PLAIN));
}

#[test]
fn list_table_all_namespaces_wide() {
    let cols = Columns {
        namespace: true,
        wide: true,
        ..Columns::default()
    };
    insta::assert_snapshot!(list(&report(), cols, now(), Style::PLAIN));
}

/// On a terminal narrower than the table, phrase columns fold at their spaces: every line
/// fits, names and words stay whole, and each row's cells read as they do unfolded. Where
/// the table fits, the terminal changes nothing.
#[test]
fn the_list_fits_the_terminal_by_folding_phrases() {
    let r = report();
    let plain = list(&r, Columns::default(), now(), Style::PLAIN);
    let at = |width| {
        list(
            &r,
            Columns::default(),
            now(),
            Style {
                color: false,
                width: Some(width),
            },
        )
    };
    let widest = plain.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(
        widest > 100,
        "the fixture is wider than 100 columns: {widest}"
    );
    assert_eq!(at(widest), plain, "a table that fits is unchanged");
    let folded = at(100);
    for line in folded.lines() {
        assert!(line.chars().count() <= 100, "{line:?}\n{folded}");
    }
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let mut unfolded = words(&plain);
    let mut refolded = words(&folded);
    unfolded.sort();
    refolded.sort();
    assert_eq!(unfolded, refolded, "the same words, none split");
    for s in &r.stores {
        assert!(
            folded
                .lines()
                .any(|l| l.starts_with(&format!("{} ", s.name))),
            "{} starts a line:\n{folded}",
            s.name
        );
    }
    // Narrower than the longest words allow: left as it is, not made taller for nothing.
    assert_eq!(at(40), plain);
}

#[test]
fn list_marks_unknown_without_node_access() {
    let mut inv = fixtures::all("demo").inventory();
    inv.nodes = Source::Unreadable(
        "nodes is forbidden: User \"viewer\" cannot list resource \"nodes\"".into(),
    );
    insta::assert_snapshot!(list(&derive(&inv), Columns::default(), now(), Style::PLAIN));
}

#[test]
fn detail_of_each_scenario() {
    let r = report();
    for name in fixtures::seeded_scenarios() {
        insta::assert_snapshot!(
            format!("detail_{name}"),
            detail(store(&r, name), &r.sources, now(), Style::PLAIN)
        );
    }
}

#[test]
fn colour_never_carries_meaning_alone() {
    let r = report();
    let plain = list(&r, Columns::default(), now(), Style::PLAIN);
    let coloured = list(&r, Columns::default(), now(), Style::colored(true));
    assert!(
        coloured.contains('\u{1b}'),
        "colour is applied when enabled"
    );
    let stripped: String = {
        // Drop ANSI escape sequences: ESC [ ... letter.
        let mut out = String::new();
        let mut chars = coloured.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(stripped, plain);
}

#[test]
fn ages_read_like_kubectl() {
    let now = now();
    for (ts, want) in [
        ("2026-11-25T11:59:15Z", "45s"),
        ("2026-11-25T11:54:30Z", "5m30s"),
        ("2026-11-25T10:00:00Z", "120m"),
        ("2026-11-25T07:30:00Z", "4h30m"),
        ("2026-11-24T12:00:00Z", "24h"),
        ("2026-11-22T08:00:00Z", "3d4h"),
        ("2026-07-28T12:00:00Z", "120d"),
        ("2024-11-20T12:00:00Z", "2y5d"),
        ("2026-11-25T12:00:30Z", "0s"),
        ("yesterday", "?"),
    ] {
        assert_eq!(age(ts, now), want, "{ts}");
    }
}

#[test]
fn watch_lines_line_up_with_the_table_header() {
    let r = report();
    let cols = Columns::default();
    let table = list(&r, cols, now(), Style::PLAIN);
    let rows: Vec<Vec<String>> = r
        .stores
        .iter()
        .map(|s| plain_cells(s, cols, now()))
        .collect();
    let w = widths(cols, &rows);
    let line = aligned(&plain_cells(store(&r, "one-node"), cols, now()), &w);
    // The same line the table printed, column for column.
    assert!(
        table.lines().any(|l| l == line),
        "{line:?} not in:\n{table}"
    );
    assert!(line.starts_with("one-node "), "{line}");
}

#[test]
fn the_watch_change_key_ignores_age_only() {
    let r = report();
    let s = store(&r, "static");
    let later: Timestamp = "2026-11-26T12:00:00Z".parse().expect("valid");
    let cols = Columns::default();
    assert_eq!(change_key(s, cols, now()), change_key(s, cols, later));
    assert_ne!(plain_cells(s, cols, now()), plain_cells(s, cols, later));
    assert_ne!(
        change_key(s, cols, now()),
        change_key(store(&r, "one-node"), cols, now())
    );
}

#[test]
fn more_ready_than_desired_is_never_shown_as_a_fraction_above_one() {
    let mut s = store(&report(), "static").clone();
    s.replicas.ready = 4;
    assert_eq!(ready_field(&s).text, "3/3 +1 extra");
    s.replicas.ready = 2;
    assert_eq!(ready_field(&s).text, "2/3");
}

/// On a terminal of 100 columns, no detail line of any scenario is wider: long values wrap
/// under themselves, in colour too (issue 23, item 6). Piped (no width), lines stay whole.
#[test]
fn the_detail_view_fits_a_terminal_of_100_columns() {
    let r = report();
    for colour in [false, true] {
        let style = Style {
            color: colour,
            width: Some(100),
        };
        for name in fixtures::seeded_scenarios() {
            let text = detail(store(&r, name), &r.sources, now(), style);
            for line in text.lines() {
                assert!(
                    crate::render::term::visible_width(line) <= 100,
                    "{name}: {} columns: {line}",
                    crate::render::term::visible_width(line)
                );
            }
        }
    }
    let piped = detail(store(&r, "failed"), &r.sources, now(), Style::PLAIN);
    assert!(
        piped.lines().any(|l| l.len() > 100),
        "piped text is not wrapped"
    );
}

/// Two lines the trial found contradicting the rest (issue 23): an HPA that reports 0 desired
/// (it cannot compute a count) is not a wish for no pods, and a spec recorded in status.applied
/// whose Deployment does not exist is not "synced: yes".
#[test]
fn the_detail_view_says_no_count_and_not_done_rather_than_zero_and_yes() {
    let r = report();
    let mut s = store(&r, "hpa").clone();
    if let Some(a) = s.autoscaler.as_mut() {
        a.desired_replicas = Some(0);
    }
    let text = detail(&s, &r.sources, now(), Style::PLAIN);
    assert!(text.contains("desired none yet"), "{text}");
    assert!(!text.contains("desired 0"), "{text}");

    let mut s = store(&r, "static").clone();
    assert!(s.operator_synced.synced);
    s.deployment.ownership = crate::status::Ownership::Missing;
    let text = detail(&s, &r.sources, now(), Style::PLAIN);
    assert!(
        text.contains("Operator synced:      recorded, not done"),
        "{text}"
    );
    assert!(!text.contains("Operator synced:      yes"), "{text}");
}
