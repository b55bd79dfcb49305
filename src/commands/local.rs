//! The change commands without the cluster: `-o patch` (the planned change as a kustomize
//! patch file, from the live object, nothing sent) and `--local -f FILE` (the change applied to
//! a manifest file, kubectl's `--local` convention: nothing sent, the result printed). Both run
//! the same planner and pre-flight as a live change (`change::prepare`); a refusal is the same
//! refusal, exit 1.

use serde_json::Value;

use super::change::{Prepared, Request, prepare};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::featurestore::{FeatureStore, KIND, RESOURCE, resource_name};
use crate::manifests;
use crate::plan::{self, Surroundings};
use crate::plan::{Answers, RiskKind};
use crate::render;

/// Where `-o patch` read the stores from: the cluster (under this `--context`), or files.
#[derive(Clone, Copy)]
pub(crate) enum PatchSource<'a> {
    Live { context: Option<&'a str> },
    Files,
}

/// `-o patch`: one kustomize patch per store that changes, on stdout; the warnings, who syncs
/// each store from Git, and (for live stores) the removals a rendered manifest cannot carry,
/// on stderr.
pub(crate) fn print_patches(
    command: &str,
    prepared: &[Prepared],
    source: PatchSource<'_>,
) -> Result<()> {
    let mut patches = Vec::new();
    for p in prepared {
        let live = &p.live;
        let name = p.name.as_str();
        for f in &p.warnings {
            eprintln!("warning: {RESOURCE}/{name}: {} ({})", f.message, f.rule);
        }
        // What a live write would ask about, said here too; who syncs from Git is said below.
        for r in p.risks.iter().filter(|r| r.kind != RiskKind::GitOpsOwned) {
            eprintln!("warning: {RESOURCE}/{name}: {r}");
        }
        if p.changes.is_empty() {
            eprintln!("note: {RESOURCE}/{name} already is as asked; no patch for it");
            continue;
        }
        for owner in crate::gitops::owners(live) {
            eprintln!(
                "note: {RESOURCE}/{name} is synced by {}: commit this patch to its Git source",
                owner.describe()
            );
        }
        let removals = match source {
            PatchSource::Live { context } => {
                render::patch::live_only_removals(live, &p.planned.patch)
                    .into_iter()
                    .map(|r| (r, context))
                    .collect()
            }
            // A file is the Git source itself: a field removed from it is gone.
            PatchSource::Files => Vec::new(),
        };
        for ((field, pointer), context) in removals {
            let fs = FeatureStore::new(live);
            let removal = format!(r#"[{{"op":"remove","path":"{pointer}"}}]"#);
            let note = format!(
                "note: {RESOURCE}/{name}: the patch removes {field}, but the live store got it outside Git: a rendered manifest cannot remove it (`kubectl apply -k` leaves it in place), so remove it live once the patch is merged: `kubectl patch {RESOURCE} {} --type=json -p {}`",
                fs.target(),
                crate::suggest::shell_quote(&removal)
            );
            eprintln!("{}", crate::hint::Hint::new(note).in_context(context));
        }
        patches.push(render::patch::kustomize_patch(live, &p.planned.patch));
    }
    if !patches.is_empty() {
        print!("{}", render::patch::file(command, &patches)?);
    }
    Ok(())
}

/// `--local -f FILE`: plans and checks the change on each named FeatureStore of the file (all
/// of them with `--all`) and prints the result; nothing is read from or sent to a cluster.
pub(crate) fn run(req: &Request<'_>, global: &GlobalArgs) -> Result<()> {
    let output = global.output_in(req.command, super::change::OUTPUTS)?;
    let file = check_flags(req, output)?;
    let mut names = Vec::new();
    for arg in &req.target.names {
        names.push(resource_name(arg).map_err(Error::usage)?.to_string());
    }
    // With --in-place the file is read once: the plan, the pre-flight and the edit all see the
    // same text, and the write refuses a file changed since (src/safe_write.rs).
    let snapshot = match req.options.in_place {
        true => {
            let snapshot =
                crate::safe_write::Snapshot::read(std::path::Path::new(file)).map_err(refusal)?;
            snapshot.check_writable().map_err(refusal)?;
            Some(snapshot)
        }
        false => None,
    };
    let docs = match &snapshot {
        Some(s) => manifests::parse_documents(file, &s.text)?,
        None => manifests::read_paths(&[file.to_string()], &mut std::io::stdin())?,
    };
    let stores = select(req, file, &names, &docs)?;
    let mut failures = Vec::new();
    let mut results = Vec::new();
    for d in &stores {
        let name = FeatureStore::new(&d.value).name().to_string();
        // A manifest has no surroundings to look at: no autoscaler or Deployment is known.
        match prepare(
            req,
            &d.value,
            &Surroundings::default(),
            &mut Answers::default(),
        ) {
            Ok(p) => {
                for f in &p.warnings {
                    eprintln!("warning: {RESOURCE}/{name}: {} ({})", f.message, f.rule);
                }
                // Their change commands change this file, as this one does.
                let in_file = |text: &str| {
                    let mut hint = crate::hint::Hint::new(text);
                    if file != "-" {
                        hint.set_file(file);
                    }
                    hint
                };
                for note in &p.planned.notes {
                    eprintln!("note: {RESOURCE}/{name}: {}", in_file(note));
                }
                // Who syncs the store from Git matters to a live write only.
                for r in p.risks.iter().filter(|r| r.kind != RiskKind::GitOpsOwned) {
                    eprintln!("warning: {RESOURCE}/{name}: {}", in_file(&r.to_string()));
                }
                results.push((*d, p));
            }
            Err(e) => failures.push(e),
        }
    }
    if !failures.is_empty() {
        return Err(Error::combine(failures));
    }
    if let Some(snapshot) = &snapshot {
        return in_place(snapshot, &results);
    }
    print_results(req.command, output, results)
}

/// The flags `--local` refuses, said before the file is read.
fn check_flags<'a>(req: &'a Request<'_>, output: Option<OutputFormat>) -> Result<&'a str> {
    let file = req.options.filename.as_deref().ok_or_else(|| {
        Error::usage("--local needs the manifest file: -f FILE").with_hint(format!(
            "e.g. `kubectl feast {} my-feast ... --local -f store.yaml`",
            req.command
        ))
    })?;
    if req.target.selector.is_some() {
        return Err(Error::usage("-l/--selector is not supported with --local")
            .with_hint("name the FeatureStores of the file, or give --all"));
    }
    if req.target.names.is_empty() && !req.target.all {
        return Err(Error::usage(format!(
            "`kubectl feast {} --local` needs a FeatureStore",
            req.command
        ))
        .with_hint("name the FeatureStores of the file to change, or give --all"));
    }
    if req.options.in_place && (file == "-" || output.is_some()) {
        return Err(
            Error::usage("--in-place rewrites a file: it takes no -o and no stdin (-f -)")
                .with_hint("give -f FILE, or drop --in-place to print the result"),
        );
    }
    if req.options.dry_run == super::change::DryRunArg::Server {
        return Err(
            Error::usage("--dry-run=server needs a cluster; --local sends nothing")
                .with_hint("drop --dry-run=server (--local is already a dry run)"),
        );
    }
    Ok(file)
}

/// The FeatureStores of the file the command names (all with `--all`).
fn select<'d>(
    req: &Request<'_>,
    file: &str,
    names: &[String],
    docs: &'d [manifests::Document],
) -> Result<Vec<&'d manifests::Document>> {
    let stores: Vec<&manifests::Document> = docs
        .iter()
        .filter(|d| FeatureStore::new(&d.value).kind() == KIND)
        .filter(|d| {
            req.target.all
                || names
                    .iter()
                    .any(|n| n == FeatureStore::new(&d.value).name())
        })
        .collect();
    for n in names {
        if !stores
            .iter()
            .any(|d| FeatureStore::new(&d.value).name() == n)
        {
            return Err(
                Error::incomplete(format!("{RESOURCE} {n:?} not found in {file}"))
                    .with_hint(format!("the FeatureStores in it: {}", found_names(docs))),
            );
        }
    }
    if stores.is_empty() {
        return Err(Error::incomplete(format!("no FeatureStore in {file}")));
    }
    Ok(stores)
}

/// The changed stores as `-o` asks: patches, names, or the objects (the default, YAML).
fn print_results(
    command: &str,
    output: Option<OutputFormat>,
    results: Vec<(&manifests::Document, Prepared)>,
) -> Result<()> {
    match output {
        Some(OutputFormat::Patch) => {
            let prepared: Vec<Prepared> = results.into_iter().map(|(_, p)| p).collect();
            print_patches(command, &prepared, PatchSource::Files)?;
        }
        Some(OutputFormat::Name) => {
            for (d, _) in &results {
                print!(
                    "{}",
                    render::change::name_line(FeatureStore::new(&d.value).name())
                );
            }
        }
        other => {
            // The file's object with the patch merged in: unlike a live object, a manifest keeps
            // a removed `replicas` absent (the API server's default is not written into Git).
            let objects: Vec<Value> = results
                .iter()
                .map(|(d, p)| {
                    let mut v = d.value.clone();
                    plan::merge_patch(&mut v, &p.planned.patch);
                    v
                })
                .collect();
            print!(
                "{}",
                render::change::objects(&objects, other == Some(OutputFormat::Json))?
            );
            for (d, p) in &results {
                let verb = if p.changes.is_empty() {
                    "unchanged"
                } else {
                    p.planned.verb.as_str()
                };
                eprintln!(
                    "{RESOURCE}/{} {verb} (local, from {}:{}; nothing sent)",
                    FeatureStore::new(&d.value).name(),
                    d.source,
                    d.line
                );
            }
        }
    }
    Ok(())
}

fn refusal(r: crate::safe_write::Refusal) -> Error {
    Error::incomplete(r.message).with_hint(r.hint)
}

/// `--in-place`: the file rewritten with the changes, its layout kept (src/manifest_edit.rs),
/// replaced whole and only if unchanged since it was read (src/safe_write.rs).
fn in_place(
    snapshot: &crate::safe_write::Snapshot,
    results: &[(&manifests::Document, Prepared)],
) -> Result<()> {
    let file = snapshot.shown.as_str();
    let text = &snapshot.text;
    let edits: Vec<crate::manifest_edit::Edit> = results
        .iter()
        .filter(|(_, p)| !p.changes.is_empty())
        .map(|(d, p)| {
            let fs = FeatureStore::new(&d.value);
            crate::manifest_edit::Edit {
                name: fs.name(),
                namespace: fs.namespace(),
                patch: &p.planned.patch,
            }
        })
        .collect();
    if !edits.is_empty() {
        let out = crate::manifest_edit::edit(file, text, &edits).map_err(|e| {
            Error::incomplete(e).with_hint(
                "drop --in-place and redirect the printed result, or commit `-o patch` instead",
            )
        })?;
        snapshot.replace(&out).map_err(refusal)?;
    }
    for (d, p) in results {
        let verb = if p.changes.is_empty() {
            "unchanged"
        } else {
            p.planned.verb.as_str()
        };
        println!(
            "{RESOURCE}/{} {verb} (in {file}; nothing sent)",
            FeatureStore::new(&d.value).name()
        );
    }
    Ok(())
}

fn found_names(docs: &[manifests::Document]) -> String {
    let names: Vec<&str> = docs
        .iter()
        .map(|d| FeatureStore::new(&d.value))
        .filter(|fs| fs.kind() == KIND)
        .map(|fs| fs.name())
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}
