//! Several clusters in one view: `--context a,b`, `--all-contexts`, `--contexts-matching`.
//!
//! `status`, `doctor` and live `validate` resolve the contexts here, ask each cluster with
//! the same per-context code a single context runs (at most `--max-concurrent` at once, each
//! request bounded by `--request-timeout`), and get back one answer per context, in the order
//! the contexts were named (the kubeconfig's order for `--all-contexts`). A context that fails
//! does not hide the others: its failure is one error naming the context, and the command's
//! exit code is 4, "partial" ([`outcome`]).
//!
//! The change commands act on one cluster at a time: [`single`] refuses several contexts there.

use std::time::Duration;

use clap::Args;
use futures::StreamExt;

use crate::cli::GlobalArgs;
use crate::error::{Error, ErrorKind, Result};

/// The flags that choose several clusters, beside kubectl's `--context` (which, repeated or
/// comma-separated, names several).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Several clusters")]
pub struct FleetArgs {
    /// Every context of the kubeconfig (the merged $KUBECONFIG list): one view, a CONTEXT
    /// column first
    #[arg(long)]
    pub all_contexts: bool,
    /// Only the contexts whose name matches this regular expression: of those --context
    /// names, else of every context (e.g. '^prod-')
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub contexts_matching: Option<regex::Regex>,
    /// With several contexts: ask at most N clusters at once
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent: u16,
}

fn parse_regex(s: &str) -> std::result::Result<regex::Regex, String> {
    regex::Regex::new(s).map_err(|e| format!("not a regular expression: {e}"))
}

/// With several contexts and no `--request-timeout`, each request ends after this long, so
/// that one cluster that never answers does not hold the view of the others.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The clusters a command asks, when it asks more than one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    pub contexts: Vec<String>,
    pub max_concurrent: usize,
}

/// What the flags choose: `None` for the one cluster of kubectl's usual rules (no context
/// flag, or one `--context` naming one context), else the contexts to ask. Names are checked
/// against the kubeconfig before any cluster is asked: a misspelt one is bad usage (exit 2),
/// with the nearest name.
pub fn resolve(global: &GlobalArgs, args: &FleetArgs) -> Result<Option<Fleet>> {
    let several_flags = args.all_contexts || args.contexts_matching.is_some();
    if global.context.len() <= 1
        && !several_flags
        && !global.context.iter().any(|c| c.contains(','))
    {
        return Ok(None);
    }
    let known = crate::cluster::kubeconfig_contexts(global)?;
    let contexts = choose(&global.context, args, &known)?;
    if contexts.len() == 1 && !several_flags {
        // `--context a,` or a name with a comma that exists: one cluster, as usual.
        return Ok(None);
    }
    Ok(Some(Fleet {
        contexts,
        max_concurrent: usize::from(args.max_concurrent.max(1)),
    }))
}

/// The pure part of [`resolve`]: the contexts named (each `--context` value is one context
/// when the kubeconfig has it whole, else its comma-separated names), or all of `known`, then
/// narrowed by the regular expression; duplicates dropped, order kept.
pub fn choose(named: &[String], args: &FleetArgs, known: &[String]) -> Result<Vec<String>> {
    if args.all_contexts && !named.is_empty() {
        return Err(Error::usage("--all-contexts and --context cannot be combined")
            .with_hint("name the contexts with --context a,b, or take every one with --all-contexts (narrowed with --contexts-matching)"));
    }
    let mut chosen: Vec<String> = Vec::new();
    let mut push = |c: &str| {
        if !chosen.iter().any(|k| k == c) {
            chosen.push(c.to_string());
        }
    };
    if named.is_empty() {
        known.iter().for_each(|c| push(c));
    } else {
        for value in named {
            if known.iter().any(|k| k == value) {
                push(value);
                continue;
            }
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if !known.iter().any(|k| k == name) {
                    let nearest = crate::suggest::nearest(name, known.iter().map(String::as_str));
                    return Err(Error::usage(format!(
                        "context {name:?} is not in the kubeconfig"
                    ))
                    .with_hint(match nearest {
                        Some(n) => format!("did you mean {n:?}? `kubectl config get-contexts -o name` lists them"),
                        None => "`kubectl config get-contexts -o name` lists them".to_string(),
                    }));
                }
                push(name);
            }
        }
    }
    if let Some(re) = &args.contexts_matching {
        chosen.retain(|c| re.is_match(c));
        if chosen.is_empty() {
            return Err(Error::usage(format!(
                "no context matches --contexts-matching {:?}",
                re.as_str()
            ))
            .with_hint("`kubectl config get-contexts -o name` lists them"));
        }
    }
    if chosen.is_empty() {
        return Err(Error::usage("the kubeconfig has no context").with_hint(
            "add one with `kubectl config set-context`, or point --kubeconfig at another file",
        ));
    }
    Ok(chosen)
}

/// Refuses several contexts for a command that acts on one cluster (a change, `history`).
pub fn single(global: &GlobalArgs, command: &str) -> Result<()> {
    let several = match global.context.as_slice() {
        [] => false,
        [one] if one.contains(',') => {
            !crate::cluster::kubeconfig_contexts(global).is_ok_and(|known| known.contains(one))
        }
        [_] => false,
        _ => true,
    };
    if several {
        return Err(Error::usage(format!(
            "`kubectl feast {command}` acts on one cluster: give one --context"
        ))
        .with_hint("status, doctor and validate take several (--context a,b or --all-contexts)"));
    }
    Ok(())
}

/// One context's answer.
pub struct Answer<T> {
    pub context: String,
    pub result: Result<T>,
}

impl Fleet {
    /// Runs `job` once per context, each with the global flags aimed at that context (and a
    /// request timeout, [`DEFAULT_REQUEST_TIMEOUT`] unless one was given), at most
    /// `max_concurrent` at once; the answers come back in the contexts' order. Interrupted
    /// (Ctrl-C), the process ends with every request at once, as kubectl does.
    pub async fn ask<T, F, Fut>(&self, global: &GlobalArgs, job: F) -> Vec<Answer<T>>
    where
        F: Fn(String, GlobalArgs) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let job = &job;
        futures::stream::iter(self.contexts.iter().cloned())
            .map(|context| {
                let mut g = global.for_context(&context);
                g.request_timeout = g.request_timeout.or(Some(DEFAULT_REQUEST_TIMEOUT));
                async move {
                    let result = job(context.clone(), g).await;
                    Answer { context, result }
                }
            })
            .buffered(self.max_concurrent)
            .collect()
            .await
    }
}

/// A failed context's error as the fleet reports it: the context first in its message, and its
/// hints' commands aimed at that context.
pub fn failed(context: &str, e: Error) -> Error {
    let mut e = e;
    // The message may name the context already, as a single cluster's does: once is enough.
    let named = format!(" (context {context:?})");
    e.message = format!("context {context:?}: {}", e.message.replace(&named, ""));
    for h in &mut e.hints {
        h.set_context(Some(context));
    }
    for m in &mut e.more {
        m.message = format!("context {context:?}: {}", m.message.replace(&named, ""));
        for h in &mut m.hints {
            h.set_context(Some(context));
        }
    }
    e
}

/// Says each failed context on stderr, as `main` says an error, while the view of the others
/// is shown (or kept up to date, with `--watch`).
pub fn say(failures: &[Error]) {
    for e in failures {
        crate::print_error(e, None);
    }
}

/// The outcome of a view over several clusters, once what answered is shown: `Ok` when every
/// context answered (and `shown` is the command's own verdict on them), else the failures,
/// each naming its context: exit 4 ("partial") when some answered, else their own codes.
pub fn outcome(failures: Vec<Error>, answered: usize, shown: Result<()>) -> Result<()> {
    if failures.is_empty() {
        return shown;
    }
    if answered == 0 {
        return Err(Error::combine(failures));
    }
    // Each was said with the view ([`say`]): only the exit code is left.
    Err(Error::already_reported(ErrorKind::Partial))
}

/// A failed context as the structured outputs carry it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContextFailure {
    pub context: String,
    /// `failed`, as status's `contexts` say it.
    pub state: &'static str,
    pub error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

impl ContextFailure {
    pub fn of(context: &str, e: &Error) -> ContextFailure {
        // The context is a field of its own here: the message need not start with it.
        let prefix = format!("context {context:?}: ");
        ContextFailure {
            context: context.to_string(),
            state: "failed",
            error: e
                .message
                .strip_prefix(&prefix)
                .unwrap_or(&e.message)
                .to_string(),
            hints: e.hints.iter().map(ToString::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["prod-eu", "prod-us", "staging", "dev,local"]
            .map(String::from)
            .to_vec()
    }

    fn args(all: bool, matching: Option<&str>) -> FleetArgs {
        FleetArgs {
            all_contexts: all,
            contexts_matching: matching.map(|m| regex::Regex::new(m).expect("regex")),
            max_concurrent: 8,
        }
    }

    #[test]
    fn named_contexts_split_at_commas_unless_the_whole_name_exists() {
        let named = [
            "prod-eu,staging".to_string(),
            "dev,local".to_string(),
            "prod-eu".to_string(),
        ];
        let got = choose(&named, &args(false, None), &known()).expect("chosen");
        assert_eq!(got, ["prod-eu", "staging", "dev,local"]);
    }

    #[test]
    fn all_contexts_keep_the_kubeconfig_order_and_the_regex_narrows() {
        assert_eq!(
            choose(&[], &args(true, None), &known()).expect("all"),
            known()
        );
        let got = choose(&[], &args(false, Some("^prod-")), &known()).expect("matching");
        assert_eq!(got, ["prod-eu", "prod-us"]);
        let named = ["prod-eu,staging".to_string()];
        let got = choose(&named, &args(false, Some("stag")), &known()).expect("narrowed");
        assert_eq!(got, ["staging"]);
    }

    #[test]
    fn a_misspelt_context_is_bad_usage_with_the_nearest_name() {
        let e =
            choose(&["prod-eu,prd-us".into()], &args(false, None), &known()).expect_err("unknown");
        assert_eq!(e.kind, ErrorKind::Usage);
        assert!(e.message.contains("\"prd-us\""), "{}", e.message);
        assert!(
            e.hint().is_some_and(|h| h.contains("\"prod-us\"")),
            "{:?}",
            e.hint()
        );
        let e = choose(&[], &args(false, Some("^nothing")), &known()).expect_err("none");
        assert_eq!(e.kind, ErrorKind::Usage);
        let e = choose(&["staging".into()], &args(true, None), &known()).expect_err("both");
        assert_eq!(e.kind, ErrorKind::Usage);
    }

    #[test]
    fn failures_beside_answers_are_partial_and_alone_keep_their_codes() {
        let down = || failed("down", Error::incomplete("cannot connect"));
        assert_eq!(down().message, "context \"down\": cannot connect");
        let e = outcome(vec![down()], 2, Ok(())).expect_err("partial");
        assert_eq!(e.exit_code(), 4);
        let e = outcome(vec![down(), down()], 0, Ok(())).expect_err("none answered");
        assert_eq!(e.exit_code(), 3);
        let refused = Err(Error::already_reported(ErrorKind::Refused));
        assert_eq!(
            outcome(vec![], 2, refused)
                .expect_err("refused")
                .exit_code(),
            1
        );
        // Partial beats a refusal of what answered: the view is incomplete.
        let e = outcome(
            vec![down()],
            1,
            Err(Error::already_reported(ErrorKind::Refused)),
        );
        assert_eq!(e.expect_err("partial").exit_code(), 4);
    }
}
