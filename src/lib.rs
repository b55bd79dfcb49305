//! kubectl-feast: a kubectl plugin for the horizontal scaling and high availability of the
//! Feast Operator's FeatureStore (`feast.dev/v1`).
//!
//! The core (`featurestore`, `rules`, `plan`, `status`, `doctor`, `gitops`, `manifest_edit`,
//! `rollout`, `report`, `render`, `suggest`, `hint`) is pure: plain data in, plain data out, no client,
//! clock or terminal. The shell (`cli`, `cluster`, `manifests`, `commands`) reads files, talks
//! to the API server, asks the user and writes to the terminal. The core never imports the shell; `error` and
//! `parallel` (work over many items on every core) are shared.
//!
//! Each piece of the operator's behaviour has one home: `featurestore` (the model, and what the
//! operator does with it: effective strategy, injected spread and anti-affinity, the active
//! PDB, int-or-percent budgets), `rules` (what the API server and the operator reject, listed
//! in `rules::table`), `plan` (the patch, its risks, and what the operator does next),
//! `status` (what the cluster shows, one submodule per section). `commands::change` is the one
//! flow that writes; `main` is the one place that prints an error.

/// A closed set of words: an enum for the code, the word for JSON and text. Renderers match
/// the variant, never the word.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod doctor;
pub mod error;
pub mod fast;
pub mod featurestore;
pub mod gitops;
pub mod hint;
pub mod history;
pub mod manifest_edit;
pub mod manifests;
pub mod model;
pub mod operator;
pub mod parallel;
pub mod plan;
pub mod prometheus;
pub mod recommend;
pub mod record;
pub mod redact;
pub mod render;
pub mod report;
pub mod rollout;
pub mod rules;
pub mod safe_write;
pub mod status;
pub mod suggest;

use cli::Cli;
use error::Result;

/// Runs a parsed command line on a fresh tokio runtime, on this one thread: a command is a few
/// concurrent requests and the work on their answers, and handing each answer between threads
/// cost a fifth of `status -A`'s time (docs/performance.md). Blocking work (an exec credential
/// plugin, completion's look-ups) goes to tokio's blocking threads.
///
/// SIGPIPE stays ignored (Rust's default), so a socket whose peer went away is an error the
/// client reports, never a silent death; the binary turns a write to a closed stdout into the
/// quiet end kubectl's users expect (src/main.rs).
pub fn run(cli: &Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| error::Error::incomplete(format!("cannot start the async runtime: {e}")))?;
    if cli.global.color_enabled() {
        // The tables colour their cells through crossterm, which would otherwise honour
        // NO_COLOR on its own and leave bare reset codes behind under --color always.
        crossterm::style::force_color_output(true);
    }
    runtime.block_on(commands::run(&cli.command, &cli.global))
}

/// Prints an error and the ones it carries on stderr as `error: …` and `hint: …` lines, secrets
/// out (src/redact.rs) once more, since a message may have been built from data read after the
/// error was made, and terminal controls out. With `context`, every hint's commands carry it;
/// without, each keeps its own (a view over several contexts gave each its context).
pub fn print_error(e: &error::Error, context: Option<&str>) {
    let shown = |t: &str| {
        let t = redact::text(t);
        render::term::safe(&t, false).into_owned()
    };
    for e in e.all().filter(|e| !e.reported) {
        eprintln!("error: {}", shown(&e.message));
        for hint in &e.hints {
            let hint = match context {
                Some(_) => hint.clone().in_context(context),
                None => hint.clone(),
            };
            eprintln!("hint: {}", shown(&hint.to_string()));
        }
    }
}
