//! The flow `scale`, `autoscale` and `pdb` share: find the FeatureStores, look around them,
//! plan one merge patch each, judge the patched object with the same rules as `validate`, ask
//! before risky changes, send each patch once with the checked `resourceVersion` (re-reading and
//! re-checking on a conflict), and say what happened and what the operator will do next.
//!
//! What to change is each command's business (a planning closure over the live object); this
//! module only does the I/O around it. Every decision it takes is made by `plan` and `rules`.

use std::collections::BTreeSet;
use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, ValidationDirective};
use serde_json::Value;

use crate::cli::{ColorChoice, GlobalArgs, OutputFormat};
use crate::cluster::Cluster;
use crate::error::{Error, ErrorKind, Result};
use crate::featurestore::{FeatureStore, RESOURCE, lookup, resource_name};
use crate::plan::{self, Surroundings};
use crate::render;
use crate::render::change::{self as out, DryRun};
use crate::render::style::Style;
use crate::rules::{self, Severity};

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
    /// Confirm risky changes without asking (needed when there is no terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
}

impl ChangeOptions {
    fn dry_run(&self) -> DryRun {
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
}

/// What a command wants done to one store.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub patch: Value,
    /// kubectl's past tense for the result line: `scaled`, `autoscaled`, `configured`.
    pub verb: &'static str,
    /// Information for the user (stderr), e.g. the operator's default metric.
    pub notes: Vec<String>,
}

/// The planning closure of a command: the patch for one live object, or why not.
pub type Planner<'a> = dyn Fn(&Value, &Surroundings) -> Result<Planned> + 'a;

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
}

/// Runs a change end to end. Returns the cluster (for follow-ups such as `--wait`) and the
/// outcome per store.
pub async fn run(req: Request<'_>, global: &GlobalArgs) -> Result<(Cluster, Vec<Outcome>)> {
    let output = global.output_in(
        req.command,
        &[OutputFormat::Yaml, OutputFormat::Json, OutputFormat::Name],
    )?;
    check_target(req.command, req.target, global)?;
    let style = Style {
        color: global.color_enabled(),
    };
    let err_style = Style {
        color: style.color
            && (global.color == ColorChoice::Always || std::io::stderr().is_terminal()),
    };
    let cluster = Cluster::connect(global).await?;
    let ns = cluster.namespace.clone();
    let api = cluster.featurestores(Some(&ns));
    let names = resolve_names(&cluster, &api, req.target).await?;

    // Phase 1: read, look around, plan and check every store before anything is sent.
    let mut around_all = AroundCache::default();
    let mut prepared = Vec::new();
    let mut failures = Vec::new();
    for name in &names {
        let live = match get(&cluster, &api, name).await {
            Ok(v) => v,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        // A failed look-up stops here: the autoscaler list is the namespace's, so it would
        // fail (and be asked for again) for every other store too.
        let around = around_all.for_store(&cluster, name, req.lookups).await?;
        match prepare(&req, &live, &around) {
            Ok(p) => {
                for note in &p.planned.notes {
                    eprintln!("note: {RESOURCE}/{name}: {note}");
                }
                for f in &p.warnings {
                    let text = out::warning(name, f, err_style);
                    eprint!("{}", render::with_context(&text, global.context.as_deref()));
                }
                prepared.push((name.clone(), live, around, p));
            }
            Err(e) => failures.push(e),
        }
    }
    if !failures.is_empty() {
        if names.len() > 1 {
            eprintln!(
                "note: nothing was sent to any of the {} FeatureStores: every store is checked before any is changed",
                names.len()
            );
        }
        return Err(combine(failures, global));
    }

    let dry_run = req.options.dry_run();
    let to_stdout = output.is_none();
    if req.options.diff {
        for (name, _, _, p) in &prepared {
            let text = out::diff(
                &ns,
                name,
                &p.changes,
                if to_stdout { style } else { err_style },
            );
            if to_stdout {
                print!("{text}");
            } else {
                eprint!("{text}");
            }
        }
    }

    // Phase 2: one confirmation for every risk of every store.
    let mut confirmed: BTreeSet<String> = BTreeSet::new();
    let risky: Vec<(String, String)> = prepared
        .iter()
        .filter(|(_, _, _, p)| !p.changes.is_empty())
        .flat_map(|(name, _, _, p)| p.risks.iter().map(|r| (name.clone(), r.clone())))
        .collect();
    if !risky.is_empty() {
        if dry_run == DryRun::None {
            confirm(req.command, &risky, req.options.yes, err_style)?;
        } else {
            for (name, risk) in &risky {
                eprintln!("note: {RESOURCE}/{name}: would ask for confirmation: {risk}");
            }
        }
        confirmed.extend(risky.into_iter().map(|(_, r)| r));
    }

    // Phase 3: send.
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for (name, live, around, p) in prepared {
        let result = if p.changes.is_empty() {
            Ok(Sent {
                before: live.clone(),
                object: live,
                verb: "unchanged",
                attempts: 0,
            })
        } else if dry_run == DryRun::Client {
            Ok(Sent {
                before: live,
                object: p.after,
                verb: p.planned.verb,
                attempts: 0,
            })
        } else {
            let replan = |fresh: &Value| -> Result<Planned> {
                let again = prepare(&req, fresh, &around)?;
                let new: Vec<String> = again
                    .risks
                    .iter()
                    .filter(|r| !confirmed.contains(*r))
                    .cloned()
                    .collect();
                if !new.is_empty() && dry_run == DryRun::None {
                    let pairs: Vec<_> = new.into_iter().map(|r| (name.clone(), r)).collect();
                    confirm(req.command, &pairs, req.options.yes, err_style)?;
                }
                Ok(again.planned)
            };
            send(
                &cluster,
                &api,
                &name,
                &live,
                p.planned.clone(),
                dry_run == DryRun::Server,
                req.resource_version.as_deref(),
                &replan,
            )
            .await
        };
        match result {
            Ok(sent) => {
                if sent.attempts > 1 {
                    eprintln!(
                        "note: {RESOURCE}/{name} changed while this command ran; re-read and re-checked it ({} attempts)",
                        sent.attempts
                    );
                }
                if to_stdout {
                    print!("{}", out::result_line(&name, sent.verb, dry_run));
                    if sent.verb != "unchanged" {
                        print!(
                            "{}",
                            out::effects(
                                &name,
                                &plan::effects(
                                    &sent.before,
                                    &sent.object,
                                    around.deployment_replicas
                                ),
                                dry_run
                            )
                        );
                    }
                } else if output == Some(OutputFormat::Name) {
                    print!("{}", out::name_line(&name));
                }
                outcomes.push(Outcome {
                    name,
                    changed: dry_run == DryRun::None && sent.verb != "unchanged",
                    object: sent.object,
                });
            }
            Err(e) => failures.push(e),
        }
    }
    match output {
        Some(OutputFormat::Json) | Some(OutputFormat::Yaml) if !outcomes.is_empty() => {
            let objects: Vec<Value> = outcomes.iter().map(|o| o.object.clone()).collect();
            print!(
                "{}",
                out::objects(&objects, output == Some(OutputFormat::Json))
            );
        }
        _ => {}
    }
    if !failures.is_empty() {
        if !outcomes.is_empty() {
            let done: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
            eprintln!(
                "note: {} of {} FeatureStores went through ({}); the ones that did not are below",
                outcomes.len(),
                outcomes.len() + failures.len(),
                done.join(", ")
            );
        }
        return Err(combine(failures, global));
    }
    Ok((cluster, outcomes))
}

/// A planned and checked change to one store.
#[derive(Debug, Clone)]
struct Prepared {
    planned: Planned,
    after: Value,
    changes: Vec<plan::FieldChange>,
    warnings: Vec<rules::Finding>,
    risks: Vec<String>,
}

/// Plans a change and judges the result with the rules: errors refuse (exit 1, nothing sent).
fn prepare(req: &Request<'_>, live: &Value, around: &Surroundings) -> Result<Prepared> {
    let planned = (req.plan)(live, around)?;
    let after = plan::patched(live, &planned.patch);
    let findings = rules::check(&after);
    let fs = FeatureStore::new(live);
    let blocking = blocking_errors(&rules::check(live), &findings);
    if !blocking.is_empty() {
        let ns = fs.namespace().unwrap_or_default();
        return Err(Error::refused(
            out::refusal(ns, fs.name(), &blocking)
                .trim_end()
                .to_string(),
        ));
    }
    let changes = plan::spec_changes(live, &after);
    let risks = plan::risks(live, &after, around);
    Ok(Prepared {
        planned,
        changes,
        // A warning that is also a risk is said once, with the risks.
        // Errors left here were there before and the CRD does not enforce them: they don't
        // block this change, but they are said.
        warnings: findings
            .into_iter()
            .filter(|f| f.severity != Severity::Info)
            .filter(|f| !risks.iter().any(|r| r.contains(&f.message)))
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
        cluster.api_error(
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
async fn get(cluster: &Cluster, api: &Api<DynamicObject>, name: &str) -> Result<Value> {
    let ns = &cluster.namespace;
    match api.get(name).await {
        Ok(obj) => serde_json::to_value(obj).map_err(|e| {
            Error::incomplete(format!(
                "cannot read {RESOURCE} {name:?} from the server's answer: {e}"
            ))
        }),
        Err(kube::Error::Api(status))
            if status.code == 404 && !crate::cluster::is_unserved_resource(&status.message) =>
        {
            Err(cluster.featurestore_not_found(ns, name).await)
        }
        Err(e) => {
            Err(cluster.api_error(e, &format!("get {RESOURCE} {name:?} in namespace {ns:?}")))
        }
    }
}

/// The namespace's autoscalers, read once for all stores; per-store Deployments.
#[derive(Default)]
struct AroundCache {
    autoscalers: Option<Vec<(String, Value)>>,
}

impl AroundCache {
    /// What a change must know besides the store. A look-up that fails for any reason but
    /// "not served" or "forbidden" fails the whole command before anything is sent: a safety
    /// check that could not run must not let the change through as if it had passed.
    async fn for_store(
        &mut self,
        cluster: &Cluster,
        name: &str,
        lookups: Lookups,
    ) -> Result<Surroundings> {
        let mut around = Surroundings::default();
        if lookups.autoscalers {
            if self.autoscalers.is_none() {
                self.autoscalers = Some(list_autoscalers(cluster).await?);
            }
            around.external_autoscalers = self
                .autoscalers
                .iter()
                .flatten()
                .filter(|(_, target)| targets(target, name))
                .map(|(label, _)| label.clone())
                .collect();
        }
        if lookups.deployment {
            around.deployment_replicas = deployment_replicas(cluster, name).await?;
        }
        Ok(around)
    }
}

/// Whether a `scaleTargetRef` names this FeatureStore.
fn targets(target: &Value, name: &str) -> bool {
    let kind = lookup(target, "kind").and_then(Value::as_str);
    let target_name = lookup(target, "name").and_then(Value::as_str);
    let api_version = lookup(target, "apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("feast.dev/");
    kind == Some("FeatureStore")
        && target_name == Some(name)
        && api_version.starts_with("feast.dev/")
}

/// KEDA ScaledObjects and HPAs of the namespace with their `scaleTargetRef`. An HPA that KEDA
/// made for a listed ScaledObject is folded into it. Forbidden look-ups become a note; any
/// other failure is an error.
async fn list_autoscalers(cluster: &Cluster) -> Result<Vec<(String, Value)>> {
    let ns = &cluster.namespace;
    let mut out = Vec::new();
    let scaled_objects: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        ns,
        &crate::cluster::scaled_object_resource(),
    );
    let mut keda_names = Vec::new();
    match scaled_objects.list(&ListParams::default()).await {
        Ok(list) => {
            for so in list.items {
                let name = so.metadata.name.clone().unwrap_or_default();
                let target = so
                    .data
                    .pointer("/spec/scaleTargetRef")
                    .cloned()
                    .unwrap_or(Value::Null);
                out.push((format!("KEDA ScaledObject {name:?}"), target));
                keda_names.push(name);
            }
        }
        // No KEDA in this cluster: nothing to find.
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => lookup_failed(cluster, "scaledobjects.keda.sh", e, "KEDA autoscalers")?,
    }
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(cluster.client.clone(), ns);
    match hpas.list(&ListParams::default()).await {
        Ok(list) => {
            for hpa in list.items {
                let name = hpa.metadata.name.clone().unwrap_or_default();
                let by_keda = hpa
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("scaledobject.keda.sh/name"))
                    .is_some_and(|so| keda_names.contains(so));
                if by_keda {
                    continue;
                }
                let target = hpa
                    .spec
                    .map(|s| serde_json::to_value(s.scale_target_ref).unwrap_or(Value::Null))
                    .unwrap_or(Value::Null);
                out.push((format!("HorizontalPodAutoscaler {name:?}"), target));
            }
        }
        Err(e) => lookup_failed(
            cluster,
            "horizontalpodautoscalers.autoscaling",
            e,
            "HPAs targeting the FeatureStore",
        )?,
    }
    Ok(out)
}

async fn deployment_replicas(cluster: &Cluster, name: &str) -> Result<Option<i64>> {
    let api: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.get(&format!("feast-{name}")).await {
        Ok(d) => Ok(d.spec.and_then(|s| s.replicas).map(i64::from)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => {
            lookup_failed(
                cluster,
                "deployments.apps",
                e,
                "the Deployment's replica count",
            )?;
            Ok(None)
        }
    }
}

/// A look-up this user may not make never blocks the change: one line says what was not
/// checked. Any other failure (a timeout, a 500, a broken connection) stops the command with
/// nothing sent.
fn lookup_failed(
    cluster: &Cluster,
    resource: &str,
    err: kube::Error,
    unchecked: &str,
) -> Result<()> {
    let ns = &cluster.namespace;
    if let kube::Error::Api(s) = &err
        && s.code == 403
    {
        eprintln!(
            "note: could not read {resource} in namespace {ns:?} (forbidden for this user); {unchecked} not checked"
        );
        return Ok(());
    }
    let e = cluster.api_error(err, &format!("read {resource} in namespace {ns:?}"));
    Err(Error::incomplete(format!(
        "{}; {unchecked} could not be checked, so nothing was sent",
        e.message
    ))
    .with_hint(
        e.hint
            .unwrap_or_else(|| "retry once the API server answers".to_string()),
    ))
}

/// Asks once for every risk on a terminal; without one, `--yes` is required.
fn confirm(command: &str, risks: &[(String, String)], yes: bool, style: Style) -> Result<()> {
    for (name, risk) in risks {
        eprintln!("{} {RESOURCE}/{name}: {risk}", style.yellow("warning:"));
    }
    if yes {
        return Ok(());
    }
    let mut stores: Vec<String> = risks
        .iter()
        .map(|(name, _)| format!("{RESOURCE}/{name}"))
        .collect();
    stores.dedup();
    let stores = stores.join(", ");
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::refused(format!(
            "the change to {stores} needs confirmation and there is no terminal to ask on; nothing was sent"
        ))
        .with_hint(format!(
            "read the warnings above, then re-run `kubectl feast {command}` with --yes to confirm"
        )));
    }
    let go = dialoguer::Confirm::new()
        .with_prompt(format!("Apply this change to {stores}?"))
        .default(false)
        .interact()
        .map_err(|e| {
            Error::incomplete(format!(
                "cannot ask for confirmation of the change to {stores}: {e}"
            ))
            .with_hint(format!(
                "re-run `kubectl feast {command}` with --yes to confirm without a prompt"
            ))
        })?;
    if go {
        Ok(())
    } else {
        Err(Error::refused(format!(
            "cancelled at the prompt; nothing was sent to {stores}"
        )))
    }
}

/// The result of sending one patch.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The live object the sent patch was checked against.
    pub before: Value,
    /// The object as the server stored it (or would, on a server dry run).
    pub object: Value,
    pub verb: &'static str,
    /// How many patches were sent (more than 1 after conflicts).
    pub attempts: u32,
}

/// Sends one merge patch carrying the checked object's `resourceVersion`. On a conflict (409)
/// it re-reads the object and calls `replan` (which re-checks it) before trying again, up to
/// [`MAX_ATTEMPTS`] times. With `fixed_resource_version` (`--resource-version`) a conflict is a
/// failed precondition and is not retried.
#[allow(clippy::too_many_arguments)]
pub async fn send(
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    name: &str,
    checked: &Value,
    planned: Planned,
    server_dry_run: bool,
    fixed_resource_version: Option<&str>,
    replan: &(dyn Fn(&Value) -> Result<Planned> + '_),
) -> Result<Sent> {
    let ns = &cluster.namespace;
    let params = PatchParams {
        dry_run: server_dry_run,
        force: false,
        field_manager: Some(FIELD_MANAGER.to_string()),
        field_validation: Some(ValidationDirective::Strict),
    };
    let mut before = checked.clone();
    let mut planned = planned;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let rv = match fixed_resource_version {
            Some(rv) => rv.to_string(),
            // Without it the patch would overwrite concurrent changes unseen: never send one.
            None => lookup(&before, "metadata.resourceVersion")
                .and_then(Value::as_str)
                .filter(|rv| !rv.is_empty())
                .ok_or_else(|| {
                    Error::incomplete(format!(
                        "the server's copy of {RESOURCE}/{name} has no metadata.resourceVersion; nothing was sent"
                    ))
                    .with_hint("retry; if it persists, the API server or a proxy in front of it is dropping metadata")
                })?
                .to_string(),
        };
        let patch = plan::with_resource_version(planned.patch.clone(), &rv);
        match api.patch(name, &params, &Patch::Merge(&patch)).await {
            Ok(obj) => {
                let object = serde_json::to_value(obj).map_err(|e| {
                    Error::incomplete(format!(
                        "cannot read the server's answer for {RESOURCE} {name:?}: {e}"
                    ))
                })?;
                verify_kept(name, &before, &planned.patch, &object)?;
                return Ok(Sent {
                    before,
                    object,
                    verb: planned.verb,
                    attempts,
                });
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                if let Some(rv) = fixed_resource_version {
                    return Err(Error::refused(format!(
                        "{RESOURCE}/{name} in namespace {ns:?} is no longer at resourceVersion {rv} (--resource-version); nothing was changed"
                    ))
                    .with_hint(format!("read the store again (`kubectl get feast {name} -n {ns} -o yaml`) and decide anew")));
                }
                if attempts >= MAX_ATTEMPTS {
                    return Err(Error::refused(format!(
                        "{RESOURCE}/{name} in namespace {ns:?} kept changing while this command ran ({attempts} conflicting writes); nothing was changed"
                    ))
                    .with_hint(format!("another writer (a GitOps tool, KEDA, a colleague) is updating it: find it with `kubectl get feast {name} -n {ns} -o yaml --show-managed-fields`, then retry")));
                }
                before = get(cluster, api, name).await?;
                planned = replan(&before)?;
            }
            // A server error (after the bounded retries of 429/503/504) may come after the
            // write was stored, as may a lost answer: both are settled by a re-read.
            Err(e @ kube::Error::Api(_)) if !matches!(&e, kube::Error::Api(s) if s.code >= 500 || s.code == 429) =>
            {
                return Err(
                    cluster.api_error(e, &format!("patch {RESOURCE} {name:?} in namespace {ns:?}"))
                );
            }
            // The patch went out but no answer came back: it may or may not be stored.
            Err(e) => {
                let cause =
                    cluster.api_error(e, &format!("patch {RESOURCE} {name:?} in namespace {ns:?}"));
                return after_lost_answer(
                    cluster,
                    api,
                    name,
                    &before,
                    &planned,
                    server_dry_run,
                    cause,
                )
                .await
                .map(|object| Sent {
                    before,
                    object,
                    verb: planned.verb,
                    attempts,
                });
            }
        }
    }
}

/// A patch whose answer never came: re-reads the store to find out whether it was stored, and
/// says which. Stored: the object (the command goes on as if the answer had come). Not stored,
/// or not knowable: an error that says so.
async fn after_lost_answer(
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    name: &str,
    checked: &Value,
    planned: &Planned,
    server_dry_run: bool,
    cause: Error,
) -> Result<Value> {
    let ns = &cluster.namespace;
    let check = format!(
        "check with `kubectl get featurestore {name} -n {ns} -o yaml`, then re-run if needed"
    );
    if server_dry_run {
        return Err(Error::incomplete(format!(
            "{}; it was a server dry run, so nothing was stored either way",
            cause.message
        ))
        .with_hint(cause.hint.unwrap_or(check)));
    }
    let rv = |v: &Value| {
        lookup(v, "metadata.resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match get(cluster, api, name).await {
        Ok(now) if rv(&now) == rv(checked) => Err(Error::incomplete(format!(
            "{}; a re-read shows {RESOURCE}/{name} unchanged (still at resourceVersion {}): the change was not stored",
            cause.message,
            rv(&now).unwrap_or_default()
        ))
        .with_hint("retry once the API server answers")),
        Ok(now) if kept(checked, &planned.patch, &now) => {
            eprintln!(
                "note: the API server's answer to the patch of {RESOURCE}/{name} was lost ({}); a re-read shows the change stored",
                cause.message
            );
            Ok(now)
        }
        Ok(_) => Err(Error::incomplete(format!(
            "{}; a re-read shows {RESOURCE}/{name} changed by another writer since it was checked, without this change: the change was not stored",
            cause.message
        ))
        .with_hint(check)),
        Err(again) => Err(Error::incomplete(format!(
            "{}; the outcome is unknown: the patch may or may not have been stored, and re-reading the store failed too ({})",
            cause.message, again.message
        ))
        .with_hint(check)),
    }
}

/// Whether `stored` holds every spec value that `patch` sets on `before`.
fn kept(before: &Value, patch: &Value, stored: &Value) -> bool {
    let expected = plan::patched(before, patch);
    plan::spec_changes(before, &expected)
        .into_iter()
        .all(|change| match change.after {
            Some(want) => lookup(stored, &change.path).is_some_and(|have| holds(have, &want)),
            None => lookup(stored, &change.path).is_none(),
        })
}

/// The API server answered with the stored object: every value the patch set must be there,
/// or the installed CRD pruned it (an operator before 0.61 has no scaling fields, §7).
fn verify_kept(name: &str, before: &Value, patch: &Value, stored: &Value) -> Result<()> {
    let expected = plan::patched(before, patch);
    for change in plan::spec_changes(before, &expected) {
        let Some(want) = change.after else { continue };
        if !lookup(stored, &change.path).is_some_and(|have| holds(have, &want)) {
            return Err(Error::refused(format!(
                "the API server accepted the change to {RESOURCE}/{name} but did not keep {}: the installed FeatureStore CRD predates scaling",
                change.path
            ))
            .with_hint("upgrade the Feast Operator to 0.61 or later (its CRD adds spec.replicas, scaling and podDisruptionBudgets)"));
        }
    }
    Ok(())
}

/// Whether `have` holds every value of `want` (the server may add defaults beside them).
fn holds(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| holds(hv, v))),
        _ => have == want,
    }
}

/// Several failures: each printed, then one exit code, the worst: 3 when any store could not
/// be completed (its state may need a look), else 1.
fn combine(mut failures: Vec<Error>, global: &GlobalArgs) -> Error {
    if failures.len() == 1 {
        return failures.remove(0);
    }
    let kind: ErrorKind = failures
        .iter()
        .map(|e| e.kind)
        .max_by_key(|k| k.exit_code())
        .unwrap_or(ErrorKind::Incomplete);
    let shown = |t: &str| render::with_context(t, global.context.as_deref());
    for e in &failures {
        eprintln!("error: {}", shown(&e.message));
        if let Some(h) = &e.hint {
            eprintln!("hint: {}", shown(h));
        }
    }
    Error::already_reported(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_featurestore_target_of_that_name_counts() {
        let t =
            serde_json::json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "a"});
        assert!(targets(&t, "a"));
        assert!(!targets(&t, "b"));
        let d = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"});
        assert!(!targets(&d, "a"));
    }

    #[test]
    fn a_value_the_server_dropped_is_reported() {
        let before = serde_json::json!({"spec": {"feastProject": "p"}});
        let patch = plan::pdb_patch(&plan::PdbPolicy::MaxUnavailable(serde_json::json!(1)));
        let pruned = serde_json::json!({"spec": {"feastProject": "p", "replicas": 1}});
        let err = verify_kept("a", &before, &patch, &pruned).expect_err("pruned");
        assert!(err.message.contains("did not keep spec.services"));
        let defaulted = serde_json::json!({"spec": {"feastProject": "p", "replicas": 1,
            "services": {"podDisruptionBudgets": {"maxUnavailable": 1}, "runFeastApplyOnInit": true}}});
        assert!(verify_kept("a", &before, &patch, &defaulted).is_ok());
        let kept = plan::patched(&before, &patch);
        assert!(verify_kept("a", &before, &patch, &kept).is_ok());
    }

    #[test]
    fn the_command_reference_names_every_flag() {
        use clap::CommandFactory;
        let docs = include_str!("../../docs/commands.md");
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
