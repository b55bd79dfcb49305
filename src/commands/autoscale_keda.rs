//! `kubectl feast autoscale NAME --keda`: the KEDA ScaledObject that scales a FeatureStore the
//! right way, through the FeatureStore's scale subresource (never the operator's Deployment),
//! after the pre-flight `validate` makes for ScaledObjects (keda/* rules) plus what only the live
//! namespace shows: another ScaledObject or HPA already setting the count. Printed by default;
//! created or updated (server-side apply) with `--apply`.

use crate::hint::Hint;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::Value;

use super::autoscale::AutoscaleArgs;
use super::change::{DryRunArg, FIELD_MANAGER};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::Failure;
use crate::cluster::{Cluster, scaled_object_resource};
use crate::error::{Error, Result};
use crate::featurestore::{FeatureStore, RESOURCE, resource_name};
use crate::operator::Liveness;
use crate::plan::{Risk, RiskKind};
use crate::render;
use crate::rules::{Severity, keda};

const SO_RESOURCE: &str = "scaledobject.keda.sh";

pub async fn run(args: &AutoscaleArgs, global: &GlobalArgs) -> Result<()> {
    let output = global.output_in(
        "autoscale --keda",
        &[OutputFormat::Yaml, OutputFormat::Json, OutputFormat::Patch],
    )?;
    let (min, max) = check_flags(args, global)?;
    let name = resource_name(&args.target.names[0]).map_err(Error::usage)?;

    let cluster = Cluster::connect(global).await?;
    let ns = cluster.namespace.clone();
    let store = get_store(&cluster, &ns, name).await?;
    let wanted = keda::scaled_object(&ns, name, min, max, &args.triggers);
    let existing = list_scaled_objects(&cluster, args.apply).await?;
    let hpas = list_hpas(&cluster).await?;
    preflight(
        &store,
        &wanted,
        existing.as_deref().unwrap_or_default(),
        &hpas,
    )?;

    if output == Some(OutputFormat::Patch) {
        // For a store synced from Git: the ScaledObject to commit beside it, nothing sent.
        print!("{}", commit_file(&wanted)?);
        for owner in crate::gitops::owners(&store) {
            eprintln!(
                "note: {RESOURCE}/{name} is synced by {}: commit this ScaledObject to its Git source",
                owner.describe()
            );
        }
        return Ok(());
    }
    if !args.apply {
        print!("{}", manifest(&wanted, output)?);
        eprintln!(
            "note: nothing was sent: re-run with --apply to create {SO_RESOURCE}/{name}, or apply the manifest above"
        );
        return Ok(());
    }
    let before = existing
        .iter()
        .flatten()
        .find(|so| keda::name(so) == name)
        .cloned();
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), &ns, &scaled_object_resource());
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    let server_dry_run = args.change.dry_run == DryRunArg::Server;
    if args.change.dry_run == DryRunArg::Client {
        print!("{}", manifest(&wanted, output)?);
        eprintln!("note: --dry-run=client: nothing was sent");
        return Ok(());
    }
    params.dry_run = server_dry_run;
    // The change flow's risks and confirmation, as for every other write.
    let risks = risks(&cluster, &store).await?;
    if server_dry_run {
        for r in &risks {
            eprintln!("note: {SO_RESOURCE}/{name}: would ask for confirmation: {r}");
        }
    } else if !risks.is_empty() {
        super::change::confirm_risks(
            global,
            output,
            "autoscale --keda",
            name,
            &risks,
            args.change.yes,
        )?;
    }
    let stored = api
        .patch(name, &params, &Patch::Apply(&wanted))
        .await
        .map_err(|e| {
            cluster.api_error(
                e,
                &format!("apply {SO_RESOURCE} {name:?} in namespace {ns:?}"),
            )
        })?;
    let stored = serde_json::to_value(stored)
        .map_err(|e| Error::incomplete(format!("cannot read the server's answer: {e}")))?;
    match output {
        Some(_) => print!("{}", manifest(&stored, output)?),
        None => {
            let verb = match &before {
                None => "created",
                Some(b) if b.get("spec") == stored.get("spec") => "unchanged",
                Some(_) => "configured",
            };
            let dry = if server_dry_run {
                " (server dry run)"
            } else {
                ""
            };
            println!("{SO_RESOURCE}/{name} {verb}{dry}");
            println!(
                "  next, KEDA will: create HPA keda-hpa-{name} (min {min}, max {max}) on {RESOURCE}/{name}'s scale subresource; the Feast Operator carries each count it writes to Deployment feast-{name}"
            );
        }
    }
    Ok(())
}

/// What a live ScaledObject puts at risk: a store synced from Git (the ScaledObject lives
/// outside it, and the count KEDA writes shows as drift), a Feast Operator that is not running
/// (KEDA writes the store's count; nothing carries it to the Deployment).
async fn risks(cluster: &Cluster, store: &Value) -> Result<Vec<Risk>> {
    let mut out = Vec::new();
    if let Some(message) = crate::gitops::risk(store) {
        out.push(Risk {
            kind: RiskKind::GitOpsOwned,
            message,
            finding: None,
        });
    }
    let state = super::operator_evidence::for_a_change(cluster).await?;
    match state.liveness {
        Liveness::Stopped => out.push(Risk {
            kind: RiskKind::OperatorStopped,
            message: format!(
                "the Feast Operator is not running ({}): KEDA will set the store's count, but nothing carries it to the Deployment until the operator runs again",
                state.evidence
            ),
            finding: None,
        }),
        Liveness::Unknown => eprintln!("note: {}", state.evidence),
        Liveness::Alive => {}
    }
    Ok(out)
}

/// `-o patch`: the ScaledObject as a file to commit beside the FeatureStore's manifest.
fn commit_file(object: &Value) -> Result<String> {
    Ok(format!(
        "# kubectl feast autoscale --keda: commit this ScaledObject beside the FeatureStore's manifest\n# and list it under `resources:` in its kustomization.yaml.\n{}",
        render::yaml(object)?
    ))
}

/// The flags `--keda` needs, before any request: one store, a trigger, a minimum of at least 1.
fn check_flags(args: &AutoscaleArgs, global: &GlobalArgs) -> Result<(i64, i64)> {
    if global.all_namespaces || args.target.all || args.target.selector.is_some() {
        return Err(Error::usage("--keda writes one ScaledObject for one FeatureStore")
            .with_hint("give one NAME (and -n NAMESPACE), e.g. `kubectl feast autoscale my-feast --keda --max 10 --trigger cpu=70%`"));
    }
    if args.target.names.len() != 1 {
        return Err(Error::usage(format!(
            "--keda needs exactly one FeatureStore, got {}",
            args.target.names.len()
        ))
        .with_hint("e.g. `kubectl feast autoscale my-feast --keda --max 10 --trigger cpu=70%`"));
    }
    if args.change.diff {
        return Err(Error::usage("--diff is not supported with --keda")
            .with_hint("without --apply the ScaledObject is printed and nothing is sent"));
    }
    if args.triggers.is_empty() {
        return Err(Error::usage("--keda needs at least one --trigger").with_hint(
            "e.g. --trigger cpu=70%, --trigger memory=80% or --trigger 'prometheus=SERVER|QUERY|THRESHOLD'",
        ));
    }
    let min = args.min.unwrap_or(1);
    // Validated after the usage errors: clap's `requires = "max"` guarantees it.
    let max = args.max.unwrap_or(min);
    if min < 1 {
        return Err(Error::refused(format!(
            "--min {min}: KEDA would scale the FeatureStore to {min} replicas, below the CRD's minimum of 1 (spec.replicas), so the API server rejects that write"
        ))
        .with_hint("give --min 1 or more (scale to zero is not possible for a FeatureStore)"));
    }
    if max < min {
        return Err(Error::refused(format!(
            "--max {max} is below --min {min}: KEDA's maxReplicaCount must be at least its minReplicaCount"
        ))
        .with_hint(format!("raise --max to {min} or more")));
    }
    Ok((min, max))
}

async fn get_store(cluster: &Cluster, ns: &str, name: &str) -> Result<Value> {
    match cluster.featurestores(Some(ns)).get(name).await {
        Ok(obj) => serde_json::to_value(obj)
            .map_err(|e| Error::incomplete(format!("cannot read the server's answer: {e}"))),
        Err(e) if Failure::of(&e) == Failure::NotFound => {
            Err(cluster.featurestore_not_found(ns, name).await)
        }
        Err(e) => {
            Err(cluster.read_error(e, &format!("get {RESOURCE} {name:?} in namespace {ns:?}")))
        }
    }
}

/// The namespace's ScaledObjects; `None` when KEDA's CRD is not installed (then `--apply` cannot
/// work: an error). Forbidden: a note, the check is skipped. Other failures stop the command.
async fn list_scaled_objects(cluster: &Cluster, apply: bool) -> Result<Option<Vec<Value>>> {
    let ns = &cluster.namespace;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), ns, &scaled_object_resource());
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(Some(
            list.items
                .into_iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect(),
        )),
        Err(e) if Failure::of(&e) == Failure::NotServed => {
            if apply {
                return Err(Error::incomplete(
                    "KEDA is not installed in this cluster: the API server does not serve scaledobjects.keda.sh",
                )
                .with_hint("install KEDA first (its CRDs and operator), or drop --apply to print the ScaledObject"));
            }
            eprintln!(
                "note: KEDA's ScaledObject CRD is not installed in this cluster; install KEDA before applying this"
            );
            Ok(None)
        }
        Err(e) if Failure::of(&e) == Failure::Forbidden => {
            eprintln!(
                "note: could not read scaledobjects.keda.sh in namespace {ns:?} (forbidden for this user); other ScaledObjects not checked"
            );
            Ok(None)
        }
        Err(e) => Err(cluster.read_error(
            e,
            &format!("list scaledobjects.keda.sh in namespace {ns:?}"),
        )),
    }
}

/// The namespace's HPAs; a refusal is a note (the check is skipped), any other failure an error.
async fn list_hpas(cluster: &Cluster) -> Result<Vec<HorizontalPodAutoscaler>> {
    let ns = &cluster.namespace;
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(cluster.client.clone(), ns);
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(list.items),
        Err(e) if Failure::of(&e) == Failure::Forbidden => {
            eprintln!(
                "note: could not read horizontalpodautoscalers.autoscaling in namespace {ns:?} (forbidden for this user); other HPAs not checked"
            );
            Ok(Vec::new())
        }
        Err(e) => Err(cluster.read_error(
            e,
            &format!("list horizontalpodautoscalers.autoscaling in namespace {ns:?}"),
        )),
    }
}

/// Refuses (exit 1, nothing sent) what would leave two owners of the count or a store KEDA
/// cannot scale: the keda/* rules on the ScaledObject to be written, then every other
/// ScaledObject or HPA that already sets this store's count.
fn preflight(
    store: &Value,
    wanted: &Value,
    existing: &[Value],
    hpas: &[HorizontalPodAutoscaler],
) -> Result<()> {
    let fs = FeatureStore::new(store);
    let name = fs.name();
    let findings = keda::check(wanted, store, keda::Source::Live);
    for f in findings.iter().filter(|f| f.severity == Severity::Warning) {
        eprintln!(
            "warning: {SO_RESOURCE}/{name}: {} ({}): {}\n  fix: {}",
            f.path, f.rule, f.message, f.hint
        );
    }
    let mut problems: Vec<(String, Hint)> = findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| (format!("{}: {}", f.rule, f.message), f.hint))
        .collect();
    for so in existing {
        let so_name = keda::name(so);
        if so_name == name {
            // The one --apply updates; a Deployment target there is what this fixes.
            if keda::targets_operator_deployment(so, name) {
                eprintln!(
                    "note: {SO_RESOURCE}/{so_name} targets Deployment feast-{name} today; --apply points it at the FeatureStore"
                );
            }
            continue;
        }
        if keda::aims_at(so, name) {
            problems.push((
                format!(
                    "ScaledObject {so_name} already scales {name}{}: a second ScaledObject would make two owners of the count",
                    if keda::targets_operator_deployment(so, name) {
                        format!(" through Deployment feast-{name} (which fights the operator)")
                    } else {
                        String::new()
                    }
                ),
                format!(
                    "Delete it first (`kubectl delete scaledobject {so_name} -n {}`), or change it instead of writing a new one.",
                    fs.namespace().unwrap_or("default")
                )
                .into(),
            ));
        }
    }
    for h in hpas {
        let Some(spec) = &h.spec else { continue };
        let target = &spec.scale_target_ref;
        let hpa_name = h.metadata.name.as_deref().unwrap_or_default();
        let on_store = target.kind == crate::featurestore::KIND && target.name == name;
        let by_keda = h
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|r| r.kind == keda::SCALED_OBJECT);
        // The operator's own HPA is covered by keda/two-owners; KEDA's HPAs by their
        // ScaledObject above.
        if on_store && !by_keda {
            problems.push((
                format!("HPA {hpa_name} already scales FeatureStore {name}: KEDA's HPA would be a second owner of the count"),
                format!("Delete HPA {hpa_name} first, or keep it and drop --keda.").into(),
            ));
        }
    }
    if fs.replicas() > 1 && fs.autoscaling().is_none() {
        eprintln!(
            "note: {RESOURCE}/{name} runs spec.replicas {} today: KEDA takes over spec.replicas from here; remove it from any manifest that sets it (GitOps), or every sync resets KEDA's count",
            fs.replicas()
        );
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut message =
        format!("autoscaling {RESOURCE}/{name} with KEDA was refused; nothing was sent:");
    let mut hints = Vec::new();
    for (problem, hint) in problems {
        message.push_str(&format!("\n  - {problem}"));
        hints.push(hint);
    }
    Err(Error::refused(message).with_hints(hints))
}

fn manifest(object: &Value, output: Option<OutputFormat>) -> Result<String> {
    match output {
        Some(OutputFormat::Json) => render::json(object),
        _ => render::yaml(object),
    }
}
