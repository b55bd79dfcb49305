//! The flow `scale`, `autoscale` and `pdb` share: find the FeatureStores, look around them,
//! plan one merge patch each, judge the patched object with the same rules as `validate`, ask
//! before risky changes, send each patch once with the checked `resourceVersion` (re-reading and
//! re-checking on a conflict), and say what happened and what the operator will do next.
//!
//! What to change is each command's business (a pure planner over the live object, see
//! [`crate::plan::Plan`]); this module only does the I/O around it, in three phases: prepare
//! every store (nothing sent), confirm once, send. [`lookups`] reads what a change must know
//! besides the store, [`send`] writes one patch, [`ask`] asks the user, [`out`] prints.

mod ask;
mod lookups;
mod out;
mod send;

use std::collections::BTreeSet;

use clap::{Args, ValueEnum};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::Cluster;
use crate::cluster::Failure;
use crate::error::{Error, Result};
use crate::featurestore::{FeatureStore, RESOURCE, resource_name};
use crate::plan::{self, Answers, Plan, Risk, Surroundings};
use crate::render::change::{self as text, DryRun};
use crate::rules::{self, Severity};

pub use crate::plan::{Planned, Verb};
use lookups::AroundCache;
use out::Out;
pub use send::{Sent, Write, send};

/// The field manager the API server records for this plugin's writes.
pub const FIELD_MANAGER: &str = "kubectl-feast";
/// How many times a patch is re-planned after a conflict (409) before giving up.
pub const MAX_ATTEMPTS: u32 = 5;

/// Which FeatureStores to change, as kubectl selects them.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// FeatureStore(s) to change: NAME, featurestore/NAME or feast/NAME
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Change every FeatureStore in the namespace matching this label selector (e.g. team=ml)
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Change every FeatureStore in the namespace
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DryRunArg {
    /// Send the change
    #[default]
    None,
    /// Check and print the change locally; send nothing
    Client,
    /// Ask the API server to run the change without storing it (runs the CRD's CEL rules too)
    Server,
}

/// How a change is sent and confirmed.
#[derive(Debug, Clone, Args)]
pub struct ChangeOptions {
    /// none: send the change; client: check it locally and send nothing; server: the API
    /// server's own dry run (admission and the CRD's CEL rules), nothing stored
    #[arg(
        long = "dry-run",
        value_enum,
        value_name = "MODE",
        default_value = "none",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "client"
    )]
    pub dry_run: DryRunArg,
    /// Print the change to the spec (before → after) before sending it
    #[arg(long)]
    pub diff: bool,
    /// Confirm risky changes without asking (needed when there is no terminal), including a
    /// live write to a store that Argo CD or Flux syncs from Git, e.g. `--replicas 3 --yes`
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Change a manifest file instead of the cluster, as kubectl's --local: nothing is read
    /// from or sent to a cluster, the changed FeatureStores are printed (with -f FILE), e.g.
    /// `kubectl feast scale my-feast --replicas 3 --local -f store.yaml > new.yaml`
    #[arg(long, requires = "filename")]
    pub local: bool,
    /// With --local: the manifest file (YAML or JSON, several documents allowed; - for stdin),
    /// e.g. `--local -f deploy/feast.yaml`
    #[arg(short = 'f', long, value_name = "FILE", requires = "local")]
    pub filename: Option<String>,
    /// With --local: rewrite FILE instead of printing, keeping its comments, key order and
    /// other documents, e.g. `--local -f deploy/feast.yaml --in-place`
    #[arg(long, requires = "local")]
    pub in_place: bool,
}

impl ChangeOptions {
    pub fn dry_run(&self) -> DryRun {
        match self.dry_run {
            DryRunArg::None => DryRun::None,
            DryRunArg::Client => DryRun::Client,
            DryRunArg::Server => DryRun::Server,
        }
    }
}

/// The cluster objects besides the FeatureStore that a command wants to know about.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lookups {
    /// HPAs and KEDA ScaledObjects whose target is the FeatureStore.
    pub autoscalers: bool,
    /// The operator's Deployment, for its replica count.
    pub deployment: bool,
    /// The operator's HPA's last decision: its replicas and each metric's current value
    /// against its target (what a change away from the HPA leaves the pods to carry).
    pub hpa_load: bool,
    /// KEDA ScaledObjects aimed at the operator's Deployment instead of the FeatureStore, to
    /// warn of them (also read with `autoscalers`).
    pub misaimed_keda: bool,
    /// The Secrets the changed store's database stores read, each with its key (a missing one
    /// refuses the change).
    pub secrets: bool,
}

/// A command's planner: the change for one live object given what surrounds it and the
/// user's answers so far, or the question to ask first, or why not. Pure.
pub type Planner<'a> = dyn Fn(&Value, &Surroundings, &Answers) -> Result<Plan> + 'a;

/// One store's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    /// The object as stored (or as it would be, on a dry run).
    pub object: Value,
    /// Whether a change was stored (false for dry runs and for no-op changes).
    pub changed: bool,
}

pub struct Request<'a> {
    /// The subcommand, for messages: `scale`.
    pub command: &'static str,
    pub target: &'a Target,
    pub options: &'a ChangeOptions,
    pub lookups: Lookups,
    /// `--resource-version`: send this instead of the live one, and never retry a conflict.
    pub resource_version: Option<String>,
    pub plan: &'a Planner<'a>,
    /// A Secret the command writes before the stores' patches (`persistence
    /// --secret-from-file`): its keys count as present in the Secret check, and it is written
    /// once everything is checked and confirmed, so the operator finds it.
    pub secret: Option<&'a SecretData>,
}

/// A Secret's name and its keys' contents.
#[derive(Debug, Clone)]
pub struct SecretData {
    pub name: String,
    pub data: std::collections::BTreeMap<String, String>,
}

/// A planned and checked change to one store, with what it was checked against.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) name: String,
    pub(crate) live: Value,
    around: Surroundings,
    answers: Answers,
    pub(crate) planned: Planned,
    after: Value,
    pub(crate) changes: Vec<plan::FieldChange>,
    pub(crate) warnings: Vec<rules::Finding>,
    pub(crate) risks: Vec<Risk>,
}

/// `--local -f FILE` (commands/local.rs: no cluster at all) or the live change ([`run`]);
/// `None` when nothing was sent to a cluster.
pub async fn run_or_local(
    req: Request<'_>,
    global: &GlobalArgs,
) -> Result<Option<(Cluster, Vec<Outcome>)>> {
    if req.options.local {
        super::local::run(&req, global)?;
        return Ok(None);
    }
    run(req, global).await.map(Some)
}

/// The `-o` values the change commands take, live or `--local`.
pub(crate) const OUTPUTS: &[OutputFormat] = &[
    OutputFormat::Yaml,
    OutputFormat::Json,
    OutputFormat::Name,
    OutputFormat::Patch,
];

/// Runs a change end to end. Returns the cluster (for follow-ups such as `--wait`) and the
/// outcome per store.
pub async fn run(req: Request<'_>, global: &GlobalArgs) -> Result<(Cluster, Vec<Outcome>)> {
    let output = global.output_in(req.command, OUTPUTS)?;
    check_target(req.command, req.target, global)?;
    let out = Out::new(global, output);
    let cluster = Cluster::connect(global).await?;
    let api = cluster.featurestores(Some(&cluster.namespace));
    let names = resolve_names(&cluster, &api, req.target).await?;

    let prepared = prepare_all(&req, &out, &cluster, &api, &names).await?;
    if output == Some(OutputFormat::Patch) {
        if let Some(secret) = req.secret {
            out.note(format!(
                "secret/{} is not written with -o patch: commit it the way your repository keeps Secrets (sealed, external)",
                secret.name
            ));
        }
        // `-o patch`: the checked change goes to Git, not to the cluster (commands/local.rs).
        super::local::print_patches(
            req.command,
            &prepared,
            super::local::PatchSource::Live {
                context: global.context(),
            },
        )?;
        return Ok((cluster, Vec::new()));
    }
    if req.options.diff {
        for p in &prepared {
            out.diff(&cluster.namespace, &p.name, &p.changes);
        }
    }
    let confirmed = confirm_all(&req, &out, &prepared)?;
    if let Some(secret) = req.secret {
        send::write_secret(&out, &cluster, secret, req.options.dry_run()).await?;
    }
    let (outcomes, failures) = send_all(&req, &out, &cluster, &api, prepared, &confirmed).await;
    let objects: Vec<Value> = outcomes.iter().map(|o| o.object.clone()).collect();
    let mut failures = failures;
    if let Err(e) = out.objects(&objects) {
        // The changes were sent all the same: said with the other failures, never instead.
        failures.push(e);
    }
    if !failures.is_empty() {
        if !outcomes.is_empty() {
            let done: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
            out.note(format!(
                "{} of {} FeatureStores went through ({}); the ones that did not are below",
                outcomes.len(),
                outcomes.len() + failures.len(),
                done.join(", ")
            ));
        }
        return Err(Error::combine(failures));
    }
    Ok((cluster, outcomes))
}

/// Phase 1: read, look around, plan and check every store before anything is sent.
async fn prepare_all(
    req: &Request<'_>,
    out: &Out,
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    names: &[String],
) -> Result<Vec<Prepared>> {
    let mut around_all = AroundCache::default();
    let mut prepared = Vec::new();
    let mut failures = Vec::new();
    for name in names {
        let live = match get(cluster, api, name).await {
            Ok(v) => v,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        // A failed look-up stops here: the autoscaler list is the namespace's, so it would
        // fail (and be asked for again) for every other store too.
        let around = around_all
            .for_store(out, cluster, name, req.lookups)
            .await?;
        for so in around_all.misaimed_keda(name) {
            out.risk(name, &rules::keda::deployment_target_warning(&so, name));
        }
        // What status would say of the store itself, said before anything is sent: a Failed
        // store (a missing Secret, a rejected HPA) stays failed whatever this change does.
        let seen = crate::status::derive(&crate::status::Inventory::of_store(&live));
        for s in &seen.stores {
            for v in s.verdicts.iter().filter(|v| {
                v.area == crate::status::Area::Phase && v.level == crate::status::Level::Critical
            }) {
                out.risk(
                    name,
                    &format!(
                        "{}: fix that first (`kubectl feast status {name} -n {}`); this change is stored, but the operator's reconcile keeps failing until then",
                        v.message, cluster.namespace
                    ),
                );
            }
        }
        let mut answers = Answers::default();
        let checked = match prepare(req, &live, &around, &mut answers) {
            Ok(p) if req.lookups.secrets && !p.changes.is_empty() => {
                match lookups::check_secrets(out, cluster, name, &p.after, req.secret).await {
                    // `-o patch` goes to Git, where the Secret may come from too (a sealed
                    // or external secret): said, not refused.
                    Err(e) if out.output == Some(crate::cli::OutputFormat::Patch) => {
                        out.note(e.message.replace(", so nothing was sent", ""));
                        Ok(p)
                    }
                    checked => checked.map(|()| p),
                }
            }
            other => other,
        };
        match checked {
            Ok(p) => {
                for note in &p.planned.notes {
                    out.store_note(name, note);
                }
                for f in &p.warnings {
                    out.warning(name, f);
                }
                prepared.push(p);
            }
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        return Ok(prepared);
    }
    if names.len() > 1 {
        out.note(format!(
            "nothing was sent to any of the {} FeatureStores: every store is checked before any is changed",
            names.len()
        ));
    }
    Err(Error::combine(failures))
}

/// The confirmation of the change flow for a write that is not a FeatureStore patch (the
/// ScaledObject of `autoscale --keda`): the same warnings, the same prompt, the same `--yes`.
pub(crate) fn confirm_risks(
    global: &GlobalArgs,
    output: Option<OutputFormat>,
    command: &str,
    name: &str,
    risks: &[Risk],
    yes: bool,
) -> Result<()> {
    let out = Out::new(global, output);
    let risky: Vec<(String, Risk)> = risks
        .iter()
        .map(|r| (name.to_string(), r.clone()))
        .collect();
    ask::confirm(&out, command, &risky, yes)
}

/// Phase 2: one confirmation for every risk of every store. Returns the risks confirmed.
fn confirm_all(req: &Request<'_>, out: &Out, prepared: &[Prepared]) -> Result<BTreeSet<Risk>> {
    let risky: Vec<(String, Risk)> = prepared
        .iter()
        .filter(|p| !p.changes.is_empty())
        .flat_map(|p| p.risks.iter().map(|r| (p.name.clone(), r.clone())))
        .collect();
    if risky.is_empty() {
        return Ok(BTreeSet::new());
    }
    if req.options.dry_run() == DryRun::None {
        ask::confirm(out, req.command, &risky, req.options.yes)?;
    } else {
        for (name, risk) in &risky {
            out.store_note(name, &format!("would ask for confirmation: {risk}"));
        }
    }
    Ok(risky.into_iter().map(|(_, r)| r).collect())
}

/// Phase 3: send each store's patch; a failure on one does not stop the others.
async fn send_all(
    req: &Request<'_>,
    out: &Out,
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    prepared: Vec<Prepared>,
    confirmed: &BTreeSet<Risk>,
) -> (Vec<Outcome>, Vec<Error>) {
    let dry_run = req.options.dry_run();
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for p in prepared {
        match send_one(req, out, cluster, api, &p, confirmed).await {
            Ok(sent) => {
                if sent.attempts > 1 {
                    out.note(format!(
                        "{RESOURCE}/{} changed while this command ran; re-read and re-checked it ({} attempts)",
                        p.name, sent.attempts
                    ));
                }
                for note in &sent.notes {
                    out.note(note);
                }
                let effects = match sent.verb {
                    Some(_) => {
                        plan::effects(&sent.before, &sent.object, p.around.deployment_replicas)
                    }
                    None => Vec::new(),
                };
                let stopped = p
                    .around
                    .operator
                    .as_ref()
                    .is_some_and(|o| o.liveness == crate::operator::Liveness::Stopped);
                out.result(&p.name, sent.verb, dry_run, &effects, stopped);
                outcomes.push(Outcome {
                    changed: dry_run == DryRun::None && sent.verb.is_some(),
                    name: p.name,
                    object: sent.object,
                });
            }
            Err(e) => failures.push(e),
        }
    }
    (outcomes, failures)
}

async fn send_one(
    req: &Request<'_>,
    out: &Out,
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    p: &Prepared,
    confirmed: &BTreeSet<Risk>,
) -> Result<Sent> {
    let dry_run = req.options.dry_run();
    let unsent = |object: &Value, verb| Sent {
        before: p.live.clone(),
        object: object.clone(),
        verb,
        attempts: 0,
        notes: Vec::new(),
    };
    if p.changes.is_empty() {
        return Ok(unsent(&p.live, None));
    }
    if dry_run == DryRun::Client {
        return Ok(unsent(&p.after, Some(p.planned.verb)));
    }
    // After a conflict: plan and check again on the fresh object; a risk not yet confirmed
    // is asked for.
    let replan = |fresh: &Value| -> Result<Planned> {
        let mut answers = p.answers.clone();
        let again = prepare(req, fresh, &p.around, &mut answers)?;
        let new: Vec<(String, Risk)> = again
            .risks
            .iter()
            .filter(|r| !confirmed.contains(*r))
            .map(|r| (p.name.clone(), r.clone()))
            .collect();
        if !new.is_empty() && dry_run == DryRun::None {
            ask::confirm(out, req.command, &new, req.options.yes)?;
        }
        Ok(again.planned)
    };
    let write = Write {
        cluster,
        api,
        name: &p.name,
        server_dry_run: dry_run == DryRun::Server,
        fixed_resource_version: req.resource_version.as_deref(),
    };
    send(&write, &p.live, p.planned.clone(), &replan).await
}

/// Plans a change (asking the planner's questions on the way) and judges the result with the
/// rules: errors refuse (exit 1, nothing sent).
pub(crate) fn prepare(
    req: &Request<'_>,
    live: &Value,
    around: &Surroundings,
    answers: &mut Answers,
) -> Result<Prepared> {
    let mut planned = loop {
        match (req.plan)(live, around, answers)? {
            Plan::Ready(planned) => break planned,
            Plan::Ask(question) => ask::answer(&question, answers)?,
        }
    };
    let after = plan::patched(live, &planned.patch);
    // What the budget means at the new count or range, whenever that changes: a goal ("keep 2
    // up through drains") is seen, not a field.
    if let Some(meaning) = plan::budget_meaning(&after)
        && plan::budget_meaning(live).as_ref() != Some(&meaning)
    {
        planned.notes.push(meaning);
    }
    let findings = rules::check(&after);
    let fs = FeatureStore::new(live);
    let blocking = blocking_errors(&rules::check(live), &findings);
    if !blocking.is_empty() {
        let ns = fs.namespace().unwrap_or_default();
        return Err(Error::refused(
            text::refusal(ns, fs.name(), &blocking)
                .trim_end()
                .to_string(),
        ));
    }
    let changes = plan::spec_changes(live, &after);
    let risks = plan::risks(live, &after, around);
    Ok(Prepared {
        name: fs.name().to_string(),
        live: live.clone(),
        around: around.clone(),
        answers: answers.clone(),
        planned,
        changes,
        // A warning that is also a risk is said once, with the risks.
        // Errors left here were there before and the CRD does not enforce them: they don't
        // block this change, but they are said.
        warnings: findings
            .into_iter()
            .filter(|f| f.severity != Severity::Info)
            .filter(|f| !risks.iter().any(|r| r.covers(f)))
            .collect(),
        risks,
        after,
    })
}

/// The errors that refuse a change: every one the CRD enforces (any spec change makes the API
/// server re-check them all), and operator-level errors the change introduces. An operator-level
/// error the store already had does not stop an unrelated change (e.g. `pdb --off` on a store
/// whose HPA has min > max); it is reported as a warning instead.
fn blocking_errors(before: &[rules::Finding], after: &[rules::Finding]) -> Vec<rules::Finding> {
    after
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .filter(|f| {
            f.origin != rules::Origin::Operator
                || !before.iter().any(|b| b.rule == f.rule && b.path == f.path)
        })
        .cloned()
        .collect()
}

fn check_target(command: &str, target: &Target, global: &GlobalArgs) -> Result<()> {
    if global.all_namespaces {
        return Err(Error::usage(format!(
            "`kubectl feast {command}` changes FeatureStores in one namespace; -A is not supported"
        ))
        .with_hint("pick the namespace with -n NAMESPACE, as with kubectl scale"));
    }
    let selecting = target.selector.is_some() || target.all;
    if !target.names.is_empty() && selecting {
        return Err(
            Error::usage("give FeatureStore names, or -l SELECTOR / --all, not both")
                .with_hint(format!("e.g. `kubectl feast {command} NAME ...` or `kubectl feast {command} -l team=ml ...`")),
        );
    }
    for name in &target.names {
        resource_name(name).map_err(|e| {
            Error::usage(e).with_hint(
                "give NAME, featurestore/NAME or feast/NAME, as `kubectl get feast` lists them",
            )
        })?;
    }
    if target.names.is_empty() && !selecting {
        return Err(Error::usage(format!("`kubectl feast {command}` needs a FeatureStore"))
            .with_hint(format!(
                "give NAME (see `kubectl get feast`), -l SELECTOR or --all: e.g. `kubectl feast {command} my-feast ...`"
            )));
    }
    Ok(())
}

async fn resolve_names(
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    target: &Target,
) -> Result<Vec<String>> {
    if !target.names.is_empty() {
        let mut names = Vec::new();
        for arg in &target.names {
            let name = resource_name(arg).map_err(Error::usage)?;
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        return Ok(names);
    }
    let mut params = ListParams::default();
    if let Some(sel) = &target.selector {
        params = params.labels(sel);
    }
    let what = match &target.selector {
        Some(sel) => format!("matching -l {sel}"),
        None => "at all".to_string(),
    };
    let list = api.list(&params).await.map_err(|e| {
        cluster.read_error(
            e,
            &format!("list {RESOURCE} in namespace {:?}", cluster.namespace),
        )
    })?;
    let names: Vec<String> = list
        .items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    if names.is_empty() {
        return Err(Error::incomplete(format!(
            "no FeatureStores {what} in namespace {:?}",
            cluster.namespace
        ))
        .with_hint(
            "check the namespace (-n) and the selector with `kubectl get feast --show-labels`",
        ));
    }
    Ok(names)
}

/// Reads one FeatureStore as JSON; a missing one is reported with similarly named stores.
pub(crate) async fn get(cluster: &Cluster, api: &Api<DynamicObject>, name: &str) -> Result<Value> {
    let ns = &cluster.namespace;
    match api.get(name).await {
        Ok(obj) => serde_json::to_value(obj).map_err(|e| {
            Error::incomplete(format!(
                "cannot read {RESOURCE} {name:?} from the server's answer: {e}"
            ))
        }),
        Err(e) if Failure::of(&e) == Failure::NotFound => {
            Err(cluster.featurestore_not_found(ns, name).await)
        }
        Err(e) => {
            Err(cluster.read_error(e, &format!("get {RESOURCE} {name:?} in namespace {ns:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_reference_names_every_flag() {
        use clap::CommandFactory;
        let docs = include_str!("../../../docs/commands.md");
        let commands = [
            (
                "scale",
                crate::cli::Cli::command().find_subcommand("scale").cloned(),
            ),
            (
                "autoscale",
                crate::cli::Cli::command()
                    .find_subcommand("autoscale")
                    .cloned(),
            ),
            (
                "pdb",
                crate::cli::Cli::command().find_subcommand("pdb").cloned(),
            ),
        ];
        for (name, command) in commands {
            let command = command.unwrap_or_else(|| panic!("no subcommand {name}"));
            assert!(
                docs.contains(&format!("## `kubectl feast {name}")),
                "{name}"
            );
            for arg in command.get_arguments().filter(|a| !a.is_global_set()) {
                if let Some(long) = arg.get_long().filter(|l| !matches!(*l, "help" | "version")) {
                    assert!(
                        docs.contains(&format!("--{long}")),
                        "docs/commands.md does not mention {name} --{long}"
                    );
                }
            }
        }
    }
}
