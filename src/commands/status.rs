//! `kubectl feast status`: is each FeatureStore scaled the way its owner thinks, is it highly
//! available, and if not, why?
//!
//! The shell around `crate::status` (the derivation) and `crate::render::status` (the text):
//! one LIST per kind, all at once, whatever the number of stores; a kind the user may not read
//! becomes "unknown, because …" rather than a failure. `--watch` keeps one reflector per kind
//! and redraws, at most four times a second, when any of them changes.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::pin::Pin;
use std::time::Duration;

use clap::Args;
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};

use crate::cluster::PAGE;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cli::{GlobalArgs, OutputFormat, parse_duration};
use crate::cluster::Cluster;
use crate::cluster::Failure;
use crate::commands::fleet::{self, FleetArgs};
use crate::error::{Error, Result};
use crate::featurestore::{RESOURCE, resource_name};
use crate::render::status::{self as text, Columns};
use crate::render::{self, style::Style};
use crate::status::{self, Inventory, NAME_LABEL, PodInfo, Source, StatusReport};

mod proto;
mod wire;
use wire::{StoreText, WireDeployment, WireHpa, WireNode, WirePdb, WirePod, WireStore};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # every FeatureStore in the current namespace
  kubectl feast status
  # every namespace, with strategy, affinity, sync, version
  kubectl feast status -A -o wide
  # the detail view: scaling, HPA, PDB, placement, ...
  kubectl feast status my-feast
  # the same data, structured (see docs/status.md)
  kubectl feast status -l team=ml -o json
  # redraw on every change until Ctrl-C
  kubectl feast status -A --watch
  # several clusters in one table, a CONTEXT column first
  kubectl feast status -A --context prod-eu,prod-us
  kubectl feast status -A --all-contexts --contexts-matching '^prod-'

Columns:
  MODE      who sets the replica count: single (1), static
            (spec.replicas), hpa (the operator's HPA), external (KEDA or
            your own HPA), conflict (more than one of them), unknown
  READY     ready pods / desired; `rolling` mid-rollout, `stuck` or
            `failing` when the rollout cannot finish
  HPA       min-max, the first metric current/target, `at max`; `(no
            HPA)` when it should exist
  PDB       the budget and how many evictions it allows now; `(blocks
            drains)` when none
  SPREAD    the nodes and zones the ready pods run on
  SCALABLE  whether every service's storage is shared, so that more than
            one replica is safe; not the pods' health (READY, PHASE)
  -o wide:  STRATEGY (RollingUpdate or Recreate, and whether you set
            it), AFFINITY and TOPOLOGY (injected: the operator's
            defaults while scaling; custom: yours), SYNCED (the operator
            has applied the spec's scaling fields), VERSION (the
            operator's)
  The detail view (status NAME) says what needs attention first, with
  fixes.

Exit codes: 0 shown (even when some kinds could not be read: they are
marked unknown); 2 bad usage; 3 the FeatureStores could not be read, or
a named one does not exist; 4 over several contexts, some failed (each
named on stderr) and the others are shown.")]
pub struct StatusArgs {
    /// FeatureStores to show in detail (NAME, featurestore/NAME or feast/NAME); none lists all
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Only FeatureStores matching this label selector (e.g. team=ml,tier!=dev)
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Keep watching and redraw when anything changes (until Ctrl-C or --timeout)
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// With --watch: stop after this long (e.g. 30s, 5m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "watch")]
    pub timeout: Option<Duration>,
    /// Print the list without its header row, as kubectl get does
    #[arg(long)]
    pub no_headers: bool,
    /// Sort the list by a JSONPath of the FeatureStore, as kubectl get does
    /// (e.g. .metadata.creationTimestamp, '{.spec.replicas}', .status.phase)
    #[arg(long, value_name = "JSONPATH", value_parser = parse_sort_by)]
    pub sort_by: Option<SortBy>,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `--sort-by`: a JSONPath of plain field names and `[n]` indexes.
#[derive(Debug, Clone)]
pub struct SortBy(Vec<String>);

fn parse_sort_by(s: &str) -> std::result::Result<SortBy, String> {
    let inner = s
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    let inner = inner.strip_prefix('.').unwrap_or(inner);
    let mut parts = Vec::new();
    for piece in inner.split('.') {
        let (name, rest) = piece.split_once('[').unwrap_or((piece, ""));
        if !name.is_empty() {
            parts.push(name.to_string());
        }
        for idx in rest.split('[').filter(|x| !x.is_empty()) {
            let idx = idx.trim_end_matches(']');
            if idx.parse::<usize>().is_err() {
                return Err(format!(
                    "{s:?}: only field names and [N] indexes are supported, e.g. .metadata.name"
                ));
            }
            parts.push(idx.to_string());
        }
    }
    if parts.is_empty()
        || parts
            .iter()
            .any(|p| p.is_empty() || p.contains(['*', '?', '@', '(']))
    {
        return Err(format!(
            "{s:?} is not a JSONPath of the FeatureStore: use e.g. .metadata.creationTimestamp or .spec.replicas"
        ));
    }
    Ok(SortBy(parts))
}

impl SortBy {
    /// The sort key of one store's JSON: numbers before strings, missing values first.
    fn key(&self, store: &Value) -> (u8, f64, String) {
        let mut v = store;
        for p in &self.0 {
            v = match (v, p.parse::<usize>()) {
                (Value::Array(a), Ok(i)) => a.get(i).unwrap_or(&Value::Null),
                (Value::Object(m), _) => m.get(p).unwrap_or(&Value::Null),
                _ => &Value::Null,
            };
        }
        match v {
            Value::Null => (0, 0.0, String::new()),
            Value::Number(n) => (1, n.as_f64().unwrap_or(0.0), String::new()),
            Value::String(s) => (2, 0.0, s.clone()),
            other => (3, 0.0, other.to_string()),
        }
    }
}

/// What to read: the namespace (None for all) and the stores' filters.
struct Scope {
    namespace: Option<String>,
    names: Vec<String>,
    selector: Option<String>,
}

impl Scope {
    fn where_(&self) -> String {
        self.namespace
            .as_ref()
            .map_or("all namespaces".into(), |n| format!("namespace {n:?}"))
    }

    fn stores_params(&self) -> ListParams {
        let mut lp = ListParams::default();
        if let Some(sel) = &self.selector {
            lp = lp.labels(sel);
        }
        if let [one] = self.names.as_slice() {
            lp = lp.fields(&format!("metadata.name={one}"));
        }
        lp
    }

    /// Pods and Deployments carry `feast.dev/name` in every operator version (§0, §4.3): the
    /// label narrows the list; ownership is still decided by name and owner UID.
    fn owned_selector(&self) -> String {
        match self.names.as_slice() {
            [] => NAME_LABEL.to_string(),
            names => format!("{NAME_LABEL} in ({})", names.join(",")),
        }
    }

    fn api<K>(&self, client: &kube::Client) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        crate::cluster::scoped(client, self.namespace.as_deref())
    }

    fn dynamic_api(&self, client: &kube::Client, ar: &ApiResource) -> Api<DynamicObject> {
        crate::cluster::scoped_dynamic(client, self.namespace.as_deref(), ar)
    }
}

pub async fn run(args: &StatusArgs, global: &GlobalArgs) -> Result<()> {
    let output = global.output_in(
        "status",
        &[
            OutputFormat::Wide,
            OutputFormat::Json,
            OutputFormat::Yaml,
            OutputFormat::Name,
        ],
    )?;
    if global.all_namespaces && !args.names.is_empty() {
        return Err(
            Error::usage("a FeatureStore cannot be shown by name across all namespaces")
                .with_hint("drop -A and give the namespace with -n NAMESPACE"),
        );
    }
    let names = args
        .names
        .iter()
        .map(|n| resource_name(n).map(str::to_string))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::usage)?;
    let view = |context_column: bool| View {
        output,
        columns: Columns {
            context: context_column,
            namespace: global.all_namespaces,
            wide: output == Some(OutputFormat::Wide),
            no_headers: args.no_headers,
        },
        style: Style {
            color: global.color_enabled(),
            width: crate::render::term::stdout_width(),
        },
        names: names.clone(),
        context: global.context().map(str::to_string),
        contexts: Vec::new(),
    };
    match fleet::resolve(global, &args.fleet)? {
        None => run_one(args, global, view(false)).await,
        Some(fleet) => run_fleet(args, global, view(true), &fleet).await,
    }
}

/// One cluster: kubectl's usual context.
async fn run_one(args: &StatusArgs, global: &GlobalArgs, view: View) -> Result<()> {
    let cluster = Cluster::connect(global).await?;
    let scope = Scope {
        namespace: (!global.all_namespaces).then(|| cluster.namespace.clone()),
        names: view.names.clone(),
        selector: args.selector.clone(),
    };
    let inventory = fetch(&cluster, &scope).await?;
    let mut report = status::derive(&inventory).with_context(view.context.as_deref());
    if let Some(sort) = &args.sort_by {
        sort_report(&mut report, &sort_keys(&inventory, sort, ""));
    }
    // `-o json` of every store is written as it is serialised: at 2,000 stores it is 13.8 MB,
    // and held whole it took the peak from 92 to 106 MB (docs/performance.md). Not with names
    // (a subset) or --watch (drawings compared): those render.
    if view.output == Some(OutputFormat::Json) && !args.watch && view.names.is_empty() {
        if !emit_json(&report)? {
            return Ok(());
        }
        let found = view.check_found(&cluster, &report, &scope).await;
        leave_to_the_os((inventory, report));
        return found;
    }
    let first = view.render(&report, Timestamp::now())?;
    if view.is_list() && report.stores.is_empty() && !args.watch {
        eprintln!("{}", no_stores(scope.namespace.as_deref()));
    }
    if !emit(&view.terminal_safe(&first.text))? {
        return Ok(());
    }
    let member = Member {
        cluster,
        scope,
        context: None,
    };
    if args.watch {
        watch(std::slice::from_ref(&member), &view, first, args.timeout).await?;
    } else {
        leave_to_the_os(first);
    }
    let found = view
        .check_found(&member.cluster, &report, &member.scope)
        .await;
    leave_to_the_os((inventory, report));
    found
}

/// Several clusters (`--context a,b`, `--all-contexts`): each asked as [`run_one`] asks its
/// one, at most `--max-concurrent` at once, into one view with a CONTEXT column in which every
/// store says its context. A context that failed is one error naming it; the rest is shown,
/// and the exit code is 4 (partial).
async fn run_fleet(
    args: &StatusArgs,
    global: &GlobalArgs,
    mut view: View,
    fleet: &fleet::Fleet,
) -> Result<()> {
    let answers = fleet
        .ask(global, |context, g| {
            let names = view.names.clone();
            async move {
                let cluster = Cluster::connect(&g).await?;
                let scope = Scope {
                    namespace: (!g.all_namespaces).then(|| cluster.namespace.clone()),
                    names,
                    selector: args.selector.clone(),
                };
                let inventory = fetch(&cluster, &scope).await?;
                let report = status::derive(&inventory).of_context(&context);
                let keys = args
                    .sort_by
                    .as_ref()
                    .map(|sort| sort_keys(&inventory, sort, &context));
                // Each cluster's objects are freed once derived: memory holds the stores
                // shown, not every cluster's whole inventory at once.
                drop(inventory);
                let member = Member {
                    cluster,
                    scope,
                    context: Some(context),
                };
                Ok((member, report, keys))
            }
        })
        .await;
    let mut members = Vec::new();
    let mut parts = Vec::new();
    let mut keys = BTreeMap::new();
    let mut failures = Vec::new();
    for answer in answers {
        match answer.result {
            Ok((member, report, sort_keys)) => {
                view.contexts.push(status::ContextState {
                    context: answer.context,
                    state: "read",
                    error: None,
                    hints: Vec::new(),
                });
                members.push(member);
                parts.push(report);
                keys.extend(sort_keys.into_iter().flatten());
            }
            Err(e) => {
                let e = fleet::failed(&answer.context, e);
                // The same entry as doctor's for a failed context.
                let failure = fleet::ContextFailure::of(&answer.context, &e);
                view.contexts.push(status::ContextState {
                    context: failure.context,
                    state: failure.state,
                    error: Some(failure.error),
                    hints: failure.hints,
                });
                failures.push(e);
            }
        }
    }
    if members.is_empty() {
        return fleet::outcome(failures, 0, Ok(()));
    }
    let mut report = StatusReport::merge(parts, view.contexts.clone());
    if args.sort_by.is_some() {
        sort_report(&mut report, &keys);
    }
    let first = view.render(&report, Timestamp::now())?;
    if view.is_list() && report.stores.is_empty() && !args.watch {
        eprintln!("No FeatureStores found in {} context(s)", members.len());
    }
    if !emit(&view.terminal_safe(&first.text))? {
        return Ok(());
    }
    fleet::say(&failures);
    let found = view.check_found_in_any(&report, &members);
    if args.watch {
        watch(&members, &view, first, args.timeout).await?;
    }
    fleet::outcome(failures, members.len(), found)
}

fn leave_to_the_os<T>(read: T) {
    std::mem::forget(read);
}

/// kubectl's words for an empty list.
fn no_stores(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("No FeatureStores found in {ns} namespace."),
        None => "No FeatureStores found".to_string(),
    }
}

/// Orders the stores by `--sort-by` over their JSON, keeping namespace/name order for ties.
/// A store's key: its context ("" for one cluster), namespace and name.
type StoreKey = (String, String, String);

fn store_key(s: &status::StoreStatus) -> StoreKey {
    (
        s.context.clone().unwrap_or_default(),
        s.namespace.clone(),
        s.name.clone(),
    )
}

type SortKey = (u8, f64, String);

/// Each store's `--sort-by` value, read from the object as the cluster gave it.
fn sort_keys(inventory: &Inventory, sort: &SortBy, context: &str) -> BTreeMap<StoreKey, SortKey> {
    inventory
        .stores
        .iter()
        .filter_map(|text| {
            let v: Value = serde_json::from_str(text).ok()?;
            let ns = v
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)?
                .to_string();
            Some(((context.to_string(), ns, name), sort.key(&v)))
        })
        .collect()
}

fn sort_report(report: &mut StatusReport, keys: &BTreeMap<StoreKey, SortKey>) {
    report.stores.sort_by(|a, b| {
        let ka = keys.get(&store_key(a));
        let kb = keys.get(&store_key(b));
        ka.partial_cmp(&kb).unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// One cluster a view reads: its client, what is read there, and its context when the view
/// has several.
struct Member {
    cluster: Cluster,
    scope: Scope,
    context: Option<String>,
}

struct View {
    output: Option<OutputFormat>,
    columns: Columns,
    style: Style,
    names: Vec<String>,
    /// kubectl's one `--context`, for the suggested commands in the report's hints.
    context: Option<String>,
    /// Several contexts: each one asked, and whether it answered.
    contexts: Vec<status::ContextState>,
}

/// One drawing, and its rows for the line-by-line watch output: (what identifies a change,
/// the cells to print).
struct Drawing {
    text: String,
    rows: BTreeMap<StoreKey, (String, Vec<String>)>,
}

impl View {
    /// Text formats with cluster data's control characters escaped (render::term); JSON and
    /// YAML escape their own.
    fn terminal_safe<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        match self.output {
            Some(OutputFormat::Json | OutputFormat::Yaml) => std::borrow::Cow::Borrowed(text),
            _ => crate::render::term::safe(text, self.style.color),
        }
    }

    fn render(&self, report: &StatusReport, now: Timestamp) -> Result<Drawing> {
        let selected: Vec<&status::StoreStatus> = report
            .stores
            .iter()
            .filter(|s| self.names.is_empty() || self.names.contains(&s.name))
            .collect();
        let rows = selected
            .iter()
            .map(|s| {
                (
                    store_key(s),
                    (
                        text::change_key(s, self.columns, now),
                        text::plain_cells(s, self.columns, now),
                    ),
                )
            })
            .collect();
        // With NAMEs, only those; without, the report as it is (no copy of 2,000 stores).
        let named;
        let structured = if self.names.is_empty() {
            report
        } else {
            named = StatusReport {
                contexts: report.contexts.clone(),
                sources: report.sources.clone(),
                stores: selected.iter().map(|s| (*s).clone()).collect(),
            };
            &named
        };
        let text = match self.output {
            Some(OutputFormat::Json) => render::json(structured)?,
            Some(OutputFormat::Yaml) => render::yaml(structured)?,
            // As `kubectl get -o name`: one `featurestore.feast.dev/NAME` per store.
            Some(OutputFormat::Name) => selected
                .iter()
                .map(|s| render::change::name_line(&s.name))
                .collect(),
            _ if !self.names.is_empty() => {
                let mut out = String::new();
                for (i, s) in selected.iter().enumerate() {
                    if i > 0 {
                        out.push_str("\n\n");
                    }
                    let sources: Vec<status::SourceState> = report
                        .sources
                        .iter()
                        .filter(|x| x.context == s.context)
                        .cloned()
                        .collect();
                    out.push_str(&text::detail(s, &sources, now, self.style));
                }
                if !out.is_empty() {
                    out.push('\n');
                }
                out
            }
            _ => text::list(report, self.columns, now, self.style),
        };
        Ok(Drawing { text, rows })
    }

    /// The list table (not the detail view, nor JSON or YAML).
    /// The report of what the watchers hold now: one cluster's, or every context's merged.
    fn derive(&self, members: &[Member], lives: &[Option<Live>]) -> StatusReport {
        let mut parts = members
            .iter()
            .zip(lives)
            .filter_map(|(m, live)| {
                let report = status::derive(&live.as_ref()?.inventory());
                Some(match &m.context {
                    Some(context) => report.of_context(context),
                    None => report.with_context(self.context.as_deref()),
                })
            })
            .collect::<Vec<_>>();
        match (members, parts.len()) {
            ([one], 1) if one.context.is_none() => parts.remove(0),
            _ => StatusReport::merge(parts, self.contexts.clone()),
        }
    }

    fn is_list(&self) -> bool {
        self.output.is_none_or(|o| o == OutputFormat::Wide) && self.names.is_empty()
    }

    /// Over several clusters, a named store is shown from every context that has it; one
    /// that none has is not found (exit 3, or 4 beside a context that failed).
    fn check_found_in_any(&self, report: &StatusReport, members: &[Member]) -> Result<()> {
        let missing: Vec<String> = self
            .names
            .iter()
            .filter(|n| !report.stores.iter().any(|s| &s.name == *n))
            .map(|n| format!("{n:?}"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let contexts: Vec<String> = members
            .iter()
            .filter_map(|m| m.context.as_ref())
            .map(|c| format!("{c:?}"))
            .collect();
        Err(Error::incomplete(format!(
            "{RESOURCE} {} not found in context(s) {}",
            missing.join(", "),
            contexts.join(", ")
        ))
        .with_hint("list them with `kubectl feast status -A --all-contexts`"))
    }

    /// Named stores that do not exist are an error (exit 3), after the others were shown.
    async fn check_found(
        &self,
        cluster: &Cluster,
        report: &StatusReport,
        scope: &Scope,
    ) -> Result<()> {
        let missing: Vec<&String> = self
            .names
            .iter()
            .filter(|n| !report.stores.iter().any(|s| &s.name == *n))
            .collect();
        match (missing.as_slice(), &scope.namespace, &scope.selector) {
            ([], _, _) => Ok(()),
            // One name in one namespace: say what is near, as `scale` does.
            ([name], Some(ns), None) => Err(cluster.featurestore_not_found(ns, name).await),
            (names, _, _) => {
                let list = names
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(Error::incomplete(format!(
                    "{RESOURCE} {list} not found in {}{}",
                    scope.where_(),
                    scope
                        .selector
                        .as_ref()
                        .map_or(String::new(), |s| format!(" with labels {s:?}"))
                ))
                .with_hint("list them with `kubectl feast status`, or pick the namespace with -n"))
            }
        }
    }
}

/// Writes the report as `-o json` (what `render::json` prints) to stdout as it is serialised;
/// `false` when the reader has gone away, as [`emit`].
fn emit_json(report: &StatusReport) -> Result<bool> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    written(
        serde_json::to_writer_pretty(&mut out, report)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush()),
    )
}

/// Writes to stdout; `false` when the reader has gone away (a pipe to `head`), which ends the
/// command quietly, as kubectl does.
fn emit(text: &str) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    written(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// A write to stdout: done (`true`), the reader gone away (`false`), or an error.
fn written(result: std::io::Result<()>) -> Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Error::incomplete(format!("cannot write the output: {e}"))),
    }
}

/// One LIST of a kind that may be refused: a refusal becomes `Unreadable`, not a failure.
async fn list_kind<K, T>(api: Api<K>, lp: ListParams, convert: impl Fn(K) -> T) -> Source<T>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match crate::cluster::list_pages(&api, &lp, Some(PAGE), convert).await {
        Ok(items) => Source::listed(items),
        Err(e) => Source::Unreadable(crate::cluster::reason(&e)),
    }
}

/// The pods as protobuf (a third of the bytes of JSON, and far less work for the server), or
/// as JSON when the server does not answer protobuf or answers an error.
async fn list_pods(
    client: &kube::Client,
    scope: &Scope,
    lp: &ListParams,
    slim: bool,
) -> Source<PodInfo> {
    if proto::enabled()
        && let Some(pods) = proto::list_pods(client, scope.namespace.as_deref(), lp, PAGE).await
    {
        return Source::listed(
            pods.into_iter()
                .map(|p| WirePod::from(p).to_pod_info())
                .collect(),
        );
    }
    if slim {
        list_kind(scope.api(client), lp.clone(), |p: WirePod| p.to_pod_info()).await
    } else {
        list_kind(scope.api(client), lp.clone(), |p: Pod| {
            PodInfo::from_pod(&p)
        })
        .await
    }
}

/// Nodes are read for their zone label and whether they take pods (cordoned, tainted, not
/// Ready), in a slim shape.
async fn list_nodes(client: &kube::Client) -> Source<Node> {
    let api: Api<WireNode> = Api::all(client.clone());
    list_kind(api, ListParams::default(), |n: WireNode| n.to_node()).await
}

fn value_of(obj: &DynamicObject) -> Option<Value> {
    serde_json::to_value(obj).ok()
}

async fn fetch(cluster: &Cluster, scope: &Scope) -> Result<Inventory> {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    // The slim shapes, or (`KUBECTL_FEAST_SIMPLE=slim`, for bench/run) the full types they
    // stand in for.
    let slim = crate::fast::Fast::Slim.on();
    let client = &cluster.client;
    let owned = ListParams::default().labels(&scope.owned_selector());
    let all = ListParams::default();
    let stores_api: Api<StoreText> = scope.api(client);
    let keda_api = scope.dynamic_api(client, &crate::cluster::scaled_object_resource());
    let stores_params = scope.stores_params();
    let (stores, deployments, hpas, pdbs, pods, nodes, scaled_objects) = tokio::join!(
        // The stores in one request: the longest list, and the one the report waits for. Each
        // page after the first (a continue token) took the server three to four times as long
        // as the first: at 2,000 stores, 1.1-1.4 s in pages of 500 against 0.3 s whole
        // (docs/performance.md). Each store is kept as text as soon as it is decoded.
        async {
            if slim {
                crate::cluster::list_pages(&stores_api, &stores_params, None, |s| s.text).await
            } else {
                let full = scope.dynamic_api(client, &crate::cluster::featurestore_resource());
                crate::cluster::list_pages(&full, &stores_params, None, |s| {
                    serde_json::to_string(&s).unwrap_or_default()
                })
                .await
            }
        },
        async {
            if slim {
                list_kind(scope.api(client), owned.clone(), |d: WireDeployment| {
                    d.to_deployment()
                })
                .await
            } else {
                list_kind(scope.api(client), owned.clone(), |d: Deployment| d).await
            }
        },
        async {
            if slim {
                list_kind(scope.api(client), all.clone(), |h: WireHpa| h.to_hpa()).await
            } else {
                list_kind(
                    scope.api(client),
                    all.clone(),
                    |h: HorizontalPodAutoscaler| h,
                )
                .await
            }
        },
        async {
            if slim {
                list_kind(scope.api(client), all.clone(), |p: WirePdb| p.to_pdb()).await
            } else {
                list_kind(scope.api(client), all.clone(), |p: PodDisruptionBudget| p).await
            }
        },
        list_pods(client, scope, &owned, slim),
        async {
            if slim {
                list_nodes(client).await
            } else {
                list_kind(Api::all(client.clone()), all.clone(), |n: Node| n).await
            }
        },
        crate::cluster::list_pages(&keda_api, &all, Some(PAGE), |o| value_of(&o)),
    );
    let stores = stores
        .map_err(|e| cluster.read_error(e, &format!("list {RESOURCE} in {}", scope.where_())))?;
    let scaled_objects = match scaled_objects {
        Ok(items) => Source::listed(items.into_iter().flatten().collect()),
        // No KEDA: the API is not served, which is not a problem.
        Err(e) if Failure::of(&e) == Failure::NotServed => Source::NotServed,
        Err(e) => Source::Unreadable(crate::cluster::reason(&e)),
    };
    Ok(Inventory {
        stores,
        deployments,
        hpas,
        pdbs,
        pods,
        nodes,
        scaled_objects,
    })
}

/// One watch's news: an event of a kind, or a failure of its watch (retried with backoff).
enum Change {
    Event(&'static str),
    Failed(&'static str, watcher::Error),
}

type Changes = Pin<Box<dyn Stream<Item = Change> + Send>>;

fn changes<K>(
    kind: &'static str,
    stream: impl Stream<Item = watcher::Result<K>> + Send + 'static,
) -> Changes {
    stream
        .map(move |r| match r {
            Ok(_) => Change::Event(kind),
            Err(e) => Change::Failed(kind, e),
        })
        .boxed()
}

/// A reflector for one kind, and the stream that feeds it (one item per event).
fn reflect<K>(kind: &'static str, api: Api<K>, config: watcher::Config) -> (Store<K>, Changes)
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, config).default_backoff());
    (reader, changes(kind, stream))
}

/// The API error inside a watch failure, when the server answered one.
fn watch_refusal(e: watcher::Error) -> Option<kube::Error> {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => Some(e),
        watcher::Error::WatchError(status) => Some(kube::Error::Api(status)),
        watcher::Error::NoResourceVersion => None,
    }
}

/// The live inventory behind `--watch`: a store per kind that could be listed at first.
struct Live {
    stores: Store<WireStore>,
    deployments: Option<Store<WireDeployment>>,
    hpas: Option<Store<WireHpa>>,
    pdbs: Option<Store<WirePdb>>,
    pods: Option<Store<WirePod>>,
    nodes: Option<Store<WireNode>>,
    scaled_objects: Option<Store<DynamicObject>>,
    /// How each kind was at the first LIST, kept for the kinds not watched.
    first: Inventory,
}

/// The objects of a watched kind, converted; or what the first LIST said of an unwatched one.
fn kept<W, T>(store: &Option<Store<W>>, first: &Source<T>, convert: impl Fn(&W) -> T) -> Source<T>
where
    W: kube::Resource + Clone + 'static,
    W::DynamicType: Eq + std::hash::Hash + Clone,
    T: Clone,
{
    match store {
        Some(s) => Source::listed(s.state().iter().map(|w| convert(w)).collect()),
        None => first.clone(),
    }
}

impl Live {
    async fn ready(&self) {
        let _ = self.stores.wait_until_ready().await;
        macro_rules! wait {
            ($($s:expr),*) => {$(
                if let Some(s) = &$s { let _ = s.wait_until_ready().await; }
            )*};
        }
        wait!(
            self.deployments,
            self.hpas,
            self.pdbs,
            self.pods,
            self.nodes,
            self.scaled_objects
        );
    }

    fn inventory(&self) -> Inventory {
        Inventory {
            stores: self
                .stores
                .state()
                .iter()
                .map(|s| s.to_value().to_string())
                .collect(),
            deployments: kept(&self.deployments, &self.first.deployments, |d| {
                d.to_deployment()
            }),
            hpas: kept(&self.hpas, &self.first.hpas, |h| h.to_hpa()),
            pdbs: kept(&self.pdbs, &self.first.pdbs, |p| p.to_pdb()),
            pods: kept(&self.pods, &self.first.pods, |p| p.to_pod_info()),
            nodes: kept(&self.nodes, &self.first.nodes, WireNode::to_node),
            scaled_objects: match &self.scaled_objects {
                Some(s) => Source::listed(s.state().iter().filter_map(|o| value_of(o)).collect()),
                None => self.first.scaled_objects.clone(),
            },
        }
    }
}

/// Starts one watcher per kind that the first LIST could read.
async fn start_watchers(cluster: &Cluster, scope: &Scope) -> Result<(Live, Changes)> {
    let client = &cluster.client;
    let first = fetch(cluster, scope).await?;
    let mut streams: Vec<Changes> = Vec::new();
    let owned = watcher::Config::default().labels(&scope.owned_selector());

    let mut fs_config = watcher::Config::default();
    if let Some(sel) = &scope.selector {
        fs_config = fs_config.labels(sel);
    }
    if let [one] = scope.names.as_slice() {
        fs_config = fs_config.fields(&format!("metadata.name={one}"));
    }
    let (stores, stream) = reflect(RESOURCE, scope.api::<WireStore>(client), fs_config);
    streams.push(stream);

    macro_rules! watch_if_listed {
        ($field:ident, $ty:ty, $config:expr) => {
            match &first.$field {
                Source::Listed(_) => {
                    let (store, stream) =
                        reflect(stringify!($field), scope.api::<$ty>(client), $config);
                    streams.push(stream);
                    Some(store)
                }
                _ => None,
            }
        };
    }
    let deployments = watch_if_listed!(deployments, WireDeployment, owned.clone());
    let hpas = watch_if_listed!(hpas, WireHpa, watcher::Config::default());
    let pdbs = watch_if_listed!(pdbs, WirePdb, watcher::Config::default());
    let pods = watch_if_listed!(pods, WirePod, owned.clone());
    let nodes = match &first.nodes {
        Source::Listed(_) => {
            let api: Api<WireNode> = Api::all(client.clone());
            let (store, stream) = reflect("nodes", api, watcher::Config::default());
            streams.push(stream);
            Some(store)
        }
        _ => None,
    };
    let scaled_objects = match &first.scaled_objects {
        Source::Listed(_) => {
            let ar = crate::cluster::scaled_object_resource();
            let writer = reflector::store::Writer::new(ar.clone());
            let reader = writer.as_reader();
            streams.push(changes(
                "scaledobjects.keda.sh",
                reflector::reflector(
                    writer,
                    watcher(scope.dynamic_api(client, &ar), watcher::Config::default())
                        .default_backoff(),
                ),
            ));
            Some(reader)
        }
        _ => None,
    };
    let live = Live {
        stores,
        deployments,
        hpas,
        pdbs,
        pods,
        nodes,
        scaled_objects,
        first,
    };
    Ok((live, futures::stream::select_all(streams).boxed()))
}

/// At most four redraws a second, however busy the cluster.
const REDRAW_EVERY: Duration = Duration::from_millis(250);

async fn watch(
    members: &[Member],
    view: &View,
    first: Drawing,
    timeout: Option<Duration>,
) -> Result<()> {
    let deadline =
        tokio::time::Instant::now() + timeout.unwrap_or(Duration::from_secs(u32::MAX.into()));
    let terminal = std::io::stdout().is_terminal();
    let stop = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = tokio::time::sleep_until(deadline) => {},
        }
    };
    tokio::pin!(stop);

    let started = tokio::select! {
        r = futures::future::join_all(members.iter().map(|m| start_watchers(&m.cluster, &m.scope))) => r,
        _ = &mut stop => return Ok(()),
    };
    // Each member's watchers, or none for a context whose watch could not start (said once;
    // the others go on). With one cluster, that failure ends the command as before.
    let mut lives: Vec<Option<Live>> = Vec::new();
    let mut streams = Vec::new();
    for (i, (member, r)) in members.iter().zip(started).enumerate() {
        match (r, &member.context) {
            (Ok((live, changes)), _) => {
                lives.push(Some(live));
                streams.push(changes.map(move |c| (i, c)).boxed());
            }
            (Err(e), None) => return Err(e),
            (Err(e), Some(context)) => {
                fleet::say(&[fleet::failed(context, e)]);
                lives.push(None);
            }
        }
    }
    let mut changes = futures::stream::select_all(streams);
    let all_ready = futures::future::join_all(lives.iter().flatten().map(Live::ready));
    tokio::pin!(all_ready);
    // Changed rows printed later line up with the header the first drawing printed.
    let mut widths = text::widths(view.columns, first.rows.values().map(|(_, cells)| cells));
    let mut last = first;
    let mut dirty = false;
    let mut ready = false;
    let mut tick = tokio::time::interval(REDRAW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The kinds whose watch is failing now: said once when it starts, and once it recovers.
    let mut failing = std::collections::BTreeSet::new();
    // Contexts whose watch was refused: their last view stays, said once.
    let mut stopped = std::collections::BTreeSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            change = changes.next() => match change {
                Some((i, _)) if stopped.contains(&i) => {}
                Some((i, Change::Event(kind))) => {
                    if failing.remove(&(i, kind)) {
                        eprintln!("note: watching {kind}{} again; the view is current", in_context(&members[i]));
                    }
                    dirty = true;
                }
                Some((i, Change::Failed(kind, e))) => {
                    let member = &members[i];
                    let doing = format!("watch {kind} in {}{}", member.scope.where_(), in_context(member));
                    match watch_refusal(e) {
                        // Refused (the LIST was allowed, the WATCH is not; the credentials
                        // expired): it will not get better by retrying, and the screen would
                        // stay as it is with no word. Stop, and say why.
                        Some(e) if matches!(Failure::of(&e), Failure::Forbidden | Failure::Unauthorized) => {
                            let e = member.cluster.api_error(e, &doing).with_hint(
                                "the view above stopped updating at this point; `kubectl feast status` without --watch needs only list",
                            );
                            match &member.context {
                                None => return Err(e),
                                Some(context) => {
                                    fleet::say(&[fleet::failed(context, e)]);
                                    stopped.insert(i);
                                }
                            }
                        }
                        other => {
                            if failing.insert((i, kind)) {
                                let why = other.map(|e| member.cluster.api_error(e, &doing).message)
                                    .unwrap_or_else(|| format!("cannot {doing}: no resourceVersion in its answer"));
                                eprintln!("warning: {}; the view may be out of date while it retries", crate::render::term::safe(&why, false));
                            }
                        }
                    }
                }
                None => break,
            },
            _ = &mut all_ready, if !ready => { ready = true; dirty = true; },
            _ = tick.tick(), if dirty && ready => {
                dirty = false;
                let report = view.derive(members, &lives);
                let next = view.render(&report, Timestamp::now())?;
                // On a terminal any difference redraws; line by line, only real changes print.
                let changed = if terminal || !view.is_list() {
                    next.text != last.text
                } else {
                    next.rows.iter().map(|(k, v)| (k, &v.0)).ne(last.rows.iter().map(|(k, v)| (k, &v.0)))
                };
                if changed {
                    let drawn = redraw(&last, &next, view, terminal, &mut widths);
                    if !emit(&view.terminal_safe(&drawn))? {
                        break;
                    }
                    last = next;
                }
            }
        }
    }
    if stopped.is_empty() {
        Ok(())
    } else {
        Err(Error::already_reported(crate::error::ErrorKind::Partial))
    }
}

/// " in context \"a\"" for a member of a view over several clusters; nothing for one.
fn in_context(member: &Member) -> String {
    member
        .context
        .as_ref()
        .map_or(String::new(), |c| format!(" in context {c:?}"))
}

/// What to print for a change: the whole view again on a terminal (cleared first); without
/// one, the changed rows only (list view) or the whole view after a separator (detail, JSON).
fn redraw(
    last: &Drawing,
    next: &Drawing,
    view: &View,
    terminal: bool,
    widths: &mut Vec<usize>,
) -> String {
    if terminal {
        return format!("\x1b[H\x1b[2J{}", next.text);
    }
    if !view.is_list() {
        return format!("---\n{}", next.text);
    }
    let mut out = String::new();
    for (key, (change, cells)) in &next.rows {
        if last.rows.get(key).map(|(c, _)| c) != Some(change) {
            text::grow(widths, cells);
            out.push_str(&text::aligned(cells, widths));
            out.push('\n');
        }
    }
    for (context, ns, name) in last.rows.keys().filter(|k| !next.rows.contains_key(*k)) {
        let mut cells = Vec::new();
        if view.columns.context {
            cells.push(context.as_str());
        }
        if view.columns.namespace {
            cells.push(ns);
        }
        cells.extend([name.as_str(), "(deleted)"]);
        out.push_str(&cells.join("   "));
        out.push('\n');
    }
    out
}
