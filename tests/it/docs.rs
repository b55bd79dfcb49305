//! The man pages (`docs/man/*.1`, clap_mangen) and the command reference (`docs/reference/`)
//! are generated from the clap definitions, the same source as `--help`. This test fails when
//! the committed files differ from what the definitions generate; `scripts/gen-docs` (which
//! runs it with `KUBECTL_FEAST_UPDATE_DOCS=1`) writes them instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command};

const UPDATE_ENV: &str = "KUBECTL_FEAST_UPDATE_DOCS";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The command as users meet it, built (global flags propagated, bin names set), without the
/// `help` subcommand (every command has `--help`).
fn cli() -> Command {
    let mut cmd = kubectl_feast::cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// Every generated file, by its path relative to the repository.
fn generated() -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let root = cli();
    man_pages(&root, &mut files);
    reference(&root, &mut files);
    files
}

fn man_pages(cmd: &Command, files: &mut BTreeMap<PathBuf, String>) {
    for sub in visible_subcommands(cmd) {
        man_pages(sub, files);
    }
    let man = clap_mangen::Man::new(cmd.clone()).manual("kubectl-feast manual");
    let mut out = Vec::new();
    man.render(&mut out)
        .expect("rendering a man page to memory");
    let page = String::from_utf8(out).expect("man pages are UTF-8");
    files.insert(
        Path::new("docs/man").join(man.get_filename()),
        unfilled_extra(&page),
    );
}

/// The examples and exit codes (clap's after-help, the EXTRA section) as written, line for line:
/// groff would otherwise fill them into paragraphs, and a command and its comment run together.
fn unfilled_extra(page: &str) -> String {
    let Some(at) = page.find("\n.SH EXTRA\n") else {
        return page.to_string();
    };
    let body = at + "\n.SH EXTRA\n".len();
    let end = page[body..]
        .find("\n.SH ")
        .map_or(page.len(), |e| body + e + 1);
    format!(
        "{}.nf\n{}.fi\n{}",
        &page[..body],
        &page[body..end],
        &page[end..]
    )
}

/// Every man page, rendered by the real `man` at 80 columns: no line wider (the examples and
/// exit codes are written to fit, and kept as written).
#[test]
fn man_pages_render_at_80_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, page) in generated()
        .into_iter()
        .filter(|(p, _)| p.starts_with("docs/man"))
    {
        let file = dir.path().join(path.file_name().expect("a file name"));
        std::fs::write(&file, page).expect("write the page");
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .expect("man is installed (apt-get install man-db)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{}: {} columns: {line}",
                path.display(),
                line.chars().count()
            );
        }
    }
}

const HEADER: &str =
    "<!-- Generated from the clap definitions by scripts/gen-docs; do not edit. -->\n\n";

fn reference(root: &Command, files: &mut BTreeMap<PathBuf, String>) {
    let mut index = String::from(HEADER);
    writeln!(index, "# Command reference\n").unwrap();
    writeln!(
        index,
        "{}\n",
        root.get_about().map(|a| a.to_string()).unwrap_or_default()
    )
    .unwrap();
    writeln!(index, "```text\n{}\n```\n", usage(root)).unwrap();
    writeln!(index, "| command | what it does |\n|---|---|").unwrap();
    for sub in visible_subcommands(root) {
        writeln!(
            index,
            "| [`kubectl feast {}`]({}.md) | {} |",
            sub.get_name(),
            sub.get_name(),
            one_line(sub.get_about().map(|a| a.to_string()).unwrap_or_default())
        )
        .unwrap();
    }
    writeln!(
        index,
        "\nHow the change commands work (the check, the patch, confirmation, conflicts), with \
         examples: [commands.md](../commands.md). Installing and troubleshooting: the \
         [user guide](../guide.md)."
    )
    .unwrap();
    writeln!(
        index,
        "\n## kubectl options\n\nAccepted by every command, before or after the subcommand.\n"
    )
    .unwrap();
    options_table(
        &mut index,
        root.get_arguments().filter(|a| a.is_global_set()),
    );
    if let Some(after) = root.get_after_help() {
        writeln!(index, "\n```text\n{after}\n```").unwrap();
    }
    writeln!(
        index,
        "\nMan pages with the same content: `man docs/man/kubectl-feast.1` (and \
         `kubectl-feast-<command>.1`); in the release archives under `man/`."
    )
    .unwrap();
    files.insert(PathBuf::from("docs/reference/README.md"), index);

    for sub in visible_subcommands(root) {
        let mut page = String::from(HEADER);
        writeln!(page, "# kubectl feast {}\n", sub.get_name()).unwrap();
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        writeln!(page, "{about}\n").unwrap();
        writeln!(page, "```text\n{}\n```\n", usage(sub)).unwrap();
        let positionals: Vec<&Arg> = sub.get_positionals().filter(|a| !a.is_hide_set()).collect();
        if !positionals.is_empty() {
            writeln!(page, "## Arguments\n").unwrap();
            options_table(&mut page, positionals.into_iter());
            writeln!(page).unwrap();
        }
        let own: Vec<&Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_positional() && !a.is_global_set())
            .collect();
        if !own.is_empty() {
            writeln!(page, "## Options\n").unwrap();
            options_table(&mut page, own.into_iter());
            writeln!(page).unwrap();
        }
        writeln!(
            page,
            "The [kubectl options](README.md#kubectl-options) (`-n`, `-A`, `--context`, `-o`, ...) \
             apply too.\n"
        )
        .unwrap();
        if let Some(after) = sub.get_after_help() {
            writeln!(page, "```text\n{after}\n```").unwrap();
        }
        files.insert(
            Path::new("docs/reference").join(format!("{}.md", sub.get_name())),
            page,
        );
    }
}

fn usage(cmd: &Command) -> String {
    let mut cmd = cmd.clone();
    cmd.render_usage()
        .to_string()
        .trim_start_matches("Usage: ")
        .to_string()
}

fn one_line(text: String) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn options_table<'a>(out: &mut String, args: impl Iterator<Item = &'a Arg>) {
    writeln!(
        out,
        "| option | value | default | meaning |\n|---|---|---|---|"
    )
    .unwrap();
    for arg in args.filter(|a| !a.is_hide_set()) {
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("`-{short}`"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("`--{long}`"));
        }
        let takes_value = !matches!(
            arg.get_action(),
            ArgAction::SetTrue
                | ArgAction::SetFalse
                | ArgAction::Count
                | ArgAction::Help
                | ArgAction::HelpShort
                | ArgAction::HelpLong
                | ArgAction::Version
        );
        let value_name = arg
            .get_value_names()
            .map(|v| {
                v.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
        if names.is_empty() {
            names.push(format!("`{value_name}`"));
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        let value = if !takes_value {
            String::new()
        } else if !values.is_empty() {
            values.join(", ")
        } else if arg.is_positional() {
            String::new()
        } else {
            format!("`{value_name}`")
        };
        let default = if !takes_value {
            String::new()
        } else {
            arg.get_default_values()
                .iter()
                .map(|d| format!("`{}`", d.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| one_line(h.to_string()))
            .unwrap_or_default()
            .replace('|', "\\|");
        writeln!(
            out,
            "| {} | {value} | {default} | {help} |",
            names.join(", ")
        )
        .unwrap();
    }
}

fn committed(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(repo_root().join(dir)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| dir.join(e.file_name())).collect();
    files.sort();
    files
}

#[test]
fn man_pages_and_the_reference_match_the_clap_definitions() {
    let files = generated();
    let update = std::env::var_os(UPDATE_ENV).is_some_and(|v| !v.is_empty());
    let mut stale = Vec::new();
    for dir in ["docs/man", "docs/reference"] {
        for path in committed(Path::new(dir)) {
            if !files.contains_key(&path) {
                if update {
                    std::fs::remove_file(repo_root().join(&path))
                        .unwrap_or_else(|e| panic!("removing {}: {e}", path.display()));
                } else {
                    stale.push(format!(
                        "{} is generated by nothing any more",
                        path.display()
                    ));
                }
            }
        }
    }
    for (path, text) in &files {
        let full = repo_root().join(path);
        let current = std::fs::read_to_string(&full).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if update {
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)
                    .unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
            }
            std::fs::write(&full, text)
                .unwrap_or_else(|e| panic!("writing {}: {e}", full.display()));
        } else if current.is_none() {
            stale.push(format!("{} is missing", path.display()));
        } else {
            stale.push(format!("{} is stale", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "the generated docs differ from the clap definitions:\n  {}\nrun scripts/gen-docs and commit the result",
        stale.join("\n  ")
    );
}

#[test]
fn every_visible_subcommand_has_a_man_page_and_a_reference_page() {
    let files = generated();
    for sub in visible_subcommands(&cli()) {
        let name = sub.get_name();
        assert!(
            files.contains_key(&PathBuf::from(format!("docs/man/kubectl-feast-{name}.1"))),
            "no man page for {name}"
        );
        let page = files
            .get(&PathBuf::from(format!("docs/reference/{name}.md")))
            .unwrap_or_else(|| panic!("no reference page for {name}"));
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
        {
            if let Some(long) = arg.get_long() {
                assert!(
                    page.contains(&format!("`--{long}`")),
                    "{name}: --{long} missing"
                );
            }
        }
    }
    assert!(
        !files
            .keys()
            .any(|p| p.to_string_lossy().contains("__complete"))
    );
}

/// docs/guide.md explains every rule docs/rules.md lists (rules.md itself is checked against the
/// code by `rules::docs_tests`), under a heading of its own, and names no rule that is not there.
#[test]
fn the_guide_troubleshoots_every_rule() {
    let rules = std::fs::read_to_string(repo_root().join("docs/rules.md")).expect("docs/rules.md");
    let guide = std::fs::read_to_string(repo_root().join("docs/guide.md")).expect("docs/guide.md");
    let listed: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|id| id.contains('/'))
        .collect();
    assert!(
        listed.len() > 30,
        "rule table not found in docs/rules.md: {listed:?}"
    );
    let headings: Vec<&str> = guide
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter_map(|l| l.split('`').next())
        .filter(|id| id.contains('/') && !id.contains(' '))
        .collect();
    for id in &listed {
        assert!(
            headings.contains(id),
            "docs/guide.md has no `### `{id}`` section"
        );
    }
    for id in &headings {
        assert!(
            listed.contains(id),
            "docs/guide.md explains {id}, which docs/rules.md does not list"
        );
    }
}
