//! Where the change flow's words go: results on stdout (or, with `-o yaml|json`, the objects),
//! notes, warnings and diffs on stderr, each suggested command carrying the user's
//! `--context`. The one place the change commands print.

use std::io::IsTerminal;

use serde_json::Value;

use crate::cli::{ColorChoice, GlobalArgs, OutputFormat};
use crate::featurestore::RESOURCE;
use crate::hint::Hint;
use crate::plan::{Effect, FieldChange, Verb};
use crate::render::change::{self as text, DryRun};
use crate::render::style::Style;
use crate::rules::Finding;

pub struct Out {
    /// `-o`: `None` for kubectl's result lines.
    pub output: Option<OutputFormat>,
    /// For stdout.
    pub style: Style,
    /// For stderr, coloured only when it is a terminal (or --color always).
    pub err_style: Style,
    context: Option<String>,
}

impl Out {
    pub fn new(global: &GlobalArgs, output: Option<OutputFormat>) -> Self {
        let style = Style::colored(global.color_enabled());
        let err_style = Style::colored(
            style.color && (global.color == ColorChoice::Always || std::io::stderr().is_terminal()),
        );
        Out {
            output,
            style,
            err_style,
            context: global.context().map(str::to_string),
        }
    }

    /// Stderr text with data's control characters escaped.
    fn shown(&self, text: &str) -> String {
        crate::render::term::safe(text, self.err_style.color).into_owned()
    }

    /// `note: TEXT` on stderr, its commands reaching the context asked about.
    pub fn note(&self, text: impl Into<Hint>) {
        let text = text.into().in_context(self.context.as_deref());
        eprintln!("note: {}", self.shown(&text.to_string()));
    }

    /// A store's note: `note: featurestore.feast.dev/NAME: TEXT`.
    pub fn store_note(&self, name: &str, text: &str) {
        self.note(format!("{RESOURCE}/{name}: {text}"));
    }

    pub fn warning(&self, name: &str, finding: &Finding) {
        let mut finding = finding.clone();
        finding.apply_context(self.context.as_deref());
        eprint!(
            "{}",
            self.shown(&text::warning(name, &finding, self.err_style))
        );
    }

    /// `warning: featurestore.feast.dev/NAME: TEXT`, for a risk before its confirmation.
    pub fn risk(&self, name: &str, risk: &str) {
        let risk = Hint::new(risk).in_context(self.context.as_deref());
        eprintln!(
            "{} {RESOURCE}/{name}: {}",
            self.err_style.yellow("warning:"),
            crate::render::term::safe(&risk.to_string(), false)
        );
    }

    /// `--diff`: on stdout with kubectl's result lines, on stderr beside `-o`.
    pub fn diff(&self, namespace: &str, name: &str, changes: &[FieldChange]) {
        if self.output.is_none() {
            print!("{}", text::diff(namespace, name, changes, self.style));
        } else {
            eprint!("{}", text::diff(namespace, name, changes, self.err_style));
        }
    }

    /// kubectl's result line and, when something changed, what the operator does next; or
    /// the name alone with `-o name`.
    /// `operator_stopped`: no operator runs, so its next steps wait for it.
    pub fn result(
        &self,
        name: &str,
        verb: Option<Verb>,
        dry_run: DryRun,
        effects: &[Effect],
        operator_stopped: bool,
    ) {
        match self.output {
            None => {
                print!("{}", text::result_line(name, verb, dry_run));
                if verb.is_some() {
                    print!(
                        "{}",
                        text::effects(name, effects, dry_run, operator_stopped)
                    );
                }
            }
            Some(OutputFormat::Name) => print!("{}", text::name_line(name)),
            Some(_) => {}
        }
    }

    /// `-o yaml|json`: the objects as stored, in one document or List.
    pub fn objects(&self, objects: &[Value]) -> crate::error::Result<()> {
        if matches!(self.output, Some(OutputFormat::Json | OutputFormat::Yaml))
            && !objects.is_empty()
        {
            print!(
                "{}",
                text::objects(objects, self.output == Some(OutputFormat::Json))?
            );
        }
        Ok(())
    }
}
