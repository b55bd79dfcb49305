//! `kubectl feast validate`: would the API server accept these FeatureStores, and are they
//! safe to run with more than one replica? From files (`-f`) with no cluster, or from live
//! objects (`NAME...`, `-A`) together with the installed CRD's own rules.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::Cluster;
use crate::cluster::Failure;
use crate::commands::fleet::{self, FleetArgs};
use crate::error::{Error, ErrorKind, Result};
use crate::featurestore::FeatureStore;
use crate::manifests::{self, Document};
use crate::plan::{self, AutoscalingRequest};
use crate::render::{self, style::Style};
use crate::report::{ObjectResult, Outcome, Report, Unreadable, is_featurestore};
use crate::rules::{self, crd::CrdRules, keda};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # every manifest under a directory
  kubectl feast validate -f examples/
  # would it be safe with 3 replicas?
  kubectl feast validate -f store.yaml --replicas 3
  kubectl feast validate -f store.yaml --autoscale --min 2 --max 8
  kubectl feast validate -f store.yaml --crd \\
      feast.dev_featurestores.yaml
  # live FeatureStores, with the cluster's CRD
  kubectl feast validate -A
  # every FeatureStore in one namespace
  kubectl feast validate -n feast
  # live FeatureStores of two clusters
  kubectl feast validate -A --context prod-eu,prod-us
  kubectl get feast -o yaml | kubectl feast validate -f - -o json
  # SARIF 2.1.0 for code scanning
  kubectl feast validate -f deploy/ -o sarif > feast.sarif
  # JUnit XML: a test case per object
  kubectl feast validate -f deploy/ -o junit > feast.xml
  # annotations in a GitHub Actions job
  kubectl feast validate -f deploy/ -o github

Files and live objects: KEDA ScaledObjects (keda.sh/v1alpha1) next to
the FeatureStores are checked against the store they scale (keda/* rules
in docs/rules.md).

Exit codes: 0 all valid; 1 some object invalid (or warnings with
--strict); 2 bad usage; 3 some input unreadable (the others are still
checked), no FeatureStore in the input (unless --allow-empty), or the
cluster unreachable; 4 over several contexts, some could not be read
(each named on stderr) and the others were checked.")]
pub struct ValidateArgs {
    /// Live FeatureStores to validate (with no -f; -A for every namespace)
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Manifest files or directories (recursive: .yaml, .yml, .json); - reads stdin.
    /// Repeatable, comma-separated, or several paths after one -f
    #[arg(short = 'f', long = "filename", value_name = "PATH", num_args = 1.., value_delimiter = ',')]
    pub filenames: Vec<String>,
    /// A kustomization directory, rendered as `kubectl apply -k` renders it (through
    /// `kubectl kustomize DIR`) and checked; repeatable
    #[arg(short = 'k', long = "kustomize", value_name = "DIR")]
    pub kustomize: Vec<PathBuf>,
    /// Leave out the files under -f whose path matches GLOB (`*` within a directory, `**`
    /// across directories, `?` one character; matched against every tail of the path, so
    /// `charts/**` and `*.tmpl.yaml` work); repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Check each store as if scaled to N static replicas
    #[arg(long, value_name = "N", conflicts_with = "autoscale")]
    pub replicas: Option<i64>,
    /// Check each store as if autoscaled (with --max, and --min)
    #[arg(long, requires = "max")]
    pub autoscale: bool,
    /// With --autoscale: the HPA's minimum replicas
    #[arg(long, value_name = "A", requires = "autoscale")]
    pub min: Option<i64>,
    /// With --autoscale: the HPA's maximum replicas
    #[arg(long, value_name = "B", requires = "autoscale")]
    pub max: Option<i64>,
    /// Also evaluate this FeatureStore CRD's own CEL rules (live objects use the cluster's CRD)
    #[arg(long, value_name = "FILE")]
    pub crd: Option<PathBuf>,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    pub strict: bool,
    /// Succeed when the input holds no FeatureStore (by default that fails with exit 3, so
    /// that a CI gate fed by a failed `kubectl get` cannot pass by checking nothing)
    #[arg(long)]
    pub allow_empty: bool,
    /// With -o github: also the INFO findings, as ::notice annotations (left out by default:
    /// every scaled store has one, and annotations are for what to change)
    #[arg(long)]
    pub notices: bool,
    /// Print what a rule means and how to fix it (its section of the guide), e.g.
    /// --explain scaling/online-store-db; nothing is validated
    #[arg(long, value_name = "RULE", conflicts_with_all = ["names", "filenames", "kustomize"])]
    pub explain: Option<String>,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `--explain RULE`: the rule's row of the table and its section of the guide.
fn explain(id: &str) -> Result<()> {
    let Some(rule) = crate::rules::RuleId::parse(id.trim()) else {
        let ids = crate::rules::RuleId::ALL.iter().map(|r| r.as_str());
        let hint = match crate::suggest::nearest(id.trim(), ids) {
            Some(near) => format!("did you mean {near}? Every rule is listed in docs/rules.md"),
            None => {
                "every rule is listed in docs/rules.md (the rule ids of validate's findings)".into()
            }
        };
        return Err(Error::usage(format!("--explain: no rule {id:?}")).with_hint(hint));
    };
    let doc = rule.doc();
    println!(
        "{rule}: {} ({}); catches {}\n",
        doc.severity, doc.origin, doc.catches
    );
    if let Some(text) = rule.explain() {
        println!("{text}");
    }
    Ok(())
}

pub async fn run(args: &ValidateArgs, global: &GlobalArgs) -> Result<()> {
    if let Some(id) = &args.explain {
        return explain(id);
    }
    let output = global.output_in(
        "validate",
        &[
            OutputFormat::Json,
            OutputFormat::Yaml,
            OutputFormat::Sarif,
            OutputFormat::Junit,
            OutputFormat::Github,
        ],
    )?;
    let live = !args.names.is_empty() || global.all_namespaces;
    // `-n NS` alone validates every FeatureStore of that namespace, as `kubectl get` lists
    // them; with no flag at all, a usage error serves better than a connection attempt.
    let files = !args.filenames.is_empty() || !args.kustomize.is_empty();
    let whole_namespace = !files && !live && global.namespace.is_some();
    if !files && !live && !whole_namespace {
        return Err(Error::usage("nothing to validate").with_hint(
            "give -f PATH for manifests, or NAME..., -n NAMESPACE or -A for FeatureStores in the cluster",
        ));
    }
    if files && live {
        return Err(Error::usage("-f and -k cannot be combined with NAME or -A")
            .with_hint("validate files or live objects, one at a time"));
    }
    let what_if = WhatIf::from_args(args);
    // The documents and the report live until the process ends, and are not freed: freeing
    // 10,000 parsed documents node by node took a third of the time left after parsing
    // (docs/performance.md), and the OS takes the memory back at exit all at once.
    // Over several clusters, the contexts that failed: said beside the report of the others.
    let mut failed = None;
    let report = if !files {
        match fleet::resolve(global, &args.fleet)? {
            None => live_report(args, global, what_if.as_ref(), "")
                .await?
                .with_context(global.context()),
            Some(fleet) => {
                let (report, failures) =
                    fleet_report(args, global, what_if.as_ref(), &fleet).await?;
                failed = Some((failures, fleet.contexts.len()));
                report
            }
        }
    } else {
        let crd = args.crd.as_deref().map(load_crd_file).transpose()?;
        let opts = manifests::ReadOptions {
            exclude: args.exclude.clone(),
        };
        let manifests::Inputs {
            mut docs,
            mut failures,
            templates,
            excluded,
        } = manifests::read_inputs_with(&args.filenames, &mut std::io::stdin().lock(), &opts);
        for dir in &args.kustomize {
            let source = format!("kustomize {}", dir.display());
            match kustomize(dir, &source) {
                Ok(mut rendered) => docs.append(&mut rendered),
                Err(error) => failures.push(manifests::InputFailure {
                    source,
                    line: None,
                    error,
                }),
            }
        }
        let docs = std::mem::ManuallyDrop::new(docs);
        files_report(&docs, what_if.as_ref(), crd.as_ref())
            .with_templates(templates, excluded)
            .with_unreadable(
                failures
                    .into_iter()
                    .map(|f| Unreadable {
                        source: f.source,
                        line: f.line,
                        message: f.error.message,
                        hint: f.error.hints.into_iter().next(),
                    })
                    .collect(),
            )
            .for_files()
            .with_context(global.context())
    };
    let kept = std::mem::ManuallyDrop::new(report);
    let report: &Report = &kept;
    let text = match output {
        Some(OutputFormat::Json) => render::json(report)?,
        Some(OutputFormat::Sarif) => render::sarif::sarif(report)?,
        Some(OutputFormat::Junit) => render::junit::junit(report, args.strict),
        Some(OutputFormat::Github) => render::github::github(report, args.notices),
        Some(_) => render::yaml(report)?,
        None => {
            let color = global.color_enabled();
            let text = render::validate::text(report, Style::colored(color));
            render::term::safe(&text, color).into_owned()
        }
    };
    print!("{text}");
    let live_or_namespace = live || whole_namespace;
    if let Some((failures, asked)) = failed {
        // What answered is judged as one cluster's report is; the failures make it partial.
        let answered = asked - failures.len();
        fleet::say(&failures);
        let shown = if report.passes(args.strict) {
            Ok(())
        } else {
            Err(Error::already_reported(ErrorKind::Refused))
        };
        return fleet::outcome(failures, answered, shown);
    }
    match report.outcome(args.strict, args.allow_empty || live_or_namespace) {
        Outcome::Passed => {
            if report.results.is_empty() {
                eprintln!("{}", no_featurestores(global));
            }
            Ok(())
        }
        Outcome::Failed => Err(Error::already_reported(ErrorKind::Refused)),
        // Each unreadable input is an error (main prints them all on stderr, as kubectl reports
        // a bad file), while the report on stdout still has every object the others held.
        Outcome::Unreadable => Err(Error::combine(
            report
                .unreadable
                .iter()
                .map(|u| Error::incomplete(&u.message).with_hints(u.hint.clone()))
                .collect(),
        )),
        Outcome::Empty => Err(Error::incomplete(format!(
            "no FeatureStore in the input ({}): nothing was validated",
            if report.summary.skipped > 0 {
                format!("{} document(s) of other kinds", report.summary.skipped)
            } else {
                "it is empty".to_string()
            }
        ))
        .with_hint(
            "check the command that produced the input (a failed `kubectl get` prints nothing), or pass --allow-empty if no FeatureStore is fine",
        )),
    }
}

/// `kubectl kustomize DIR`, as `kubectl apply -k DIR` renders it, read as documents named
/// `kustomize DIR`. kubectl is the one on PATH (the one that runs this plugin); its failure
/// (a bad kustomization) is an input that could not be read, with kubectl's own words.
fn kustomize(dir: &std::path::Path, source: &str) -> Result<Vec<Document>> {
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::incomplete(format!("cannot run `kubectl kustomize {}`: {e}", dir.display()))
                .with_hint("-k renders through kubectl: put kubectl on PATH, or pipe `kustomize build DIR` into `kubectl feast validate -f -`")
        })?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        return Err(Error::incomplete(format!(
            "`kubectl kustomize {}` failed: {}",
            dir.display(),
            said.trim()
        ))
        .with_hint("check the kustomization; `kubectl kustomize DIR` shows the same error"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    manifests::parse_documents(source, &text)
}

/// kubectl's wording when a live listing finds nothing.
fn no_featurestores(global: &GlobalArgs) -> String {
    match (&global.namespace, global.all_namespaces) {
        (_, true) | (None, false) => "No FeatureStores found".to_string(),
        (Some(ns), false) => format!("No FeatureStores found in {ns} namespace."),
    }
}

/// What the what-if flags would change: the patch `scale` or `autoscale` would send.
#[derive(Debug, Clone)]
pub enum WhatIf {
    Scale(i64),
    Autoscale(AutoscalingRequest),
}

impl WhatIf {
    fn from_args(args: &ValidateArgs) -> Option<WhatIf> {
        if let Some(n) = args.replicas {
            return Some(WhatIf::Scale(n));
        }
        args.autoscale.then(|| {
            WhatIf::Autoscale(AutoscalingRequest {
                min: args.min,
                max: args.max,
                ..Default::default()
            })
        })
    }

    /// The object as the command would leave it.
    pub fn apply(&self, object: &Value) -> Value {
        let patch = match self {
            WhatIf::Scale(n) => plan::scale_patch(*n, false),
            // --autoscale requires --max, so the block always has one.
            WhatIf::Autoscale(request) => {
                plan::autoscale_patch(request, object).unwrap_or_else(|_| json!({}))
            }
        };
        plan::patched(object, &patch)
    }
}

/// Checks one object (after the what-if patch) with our rules and, if given, the CRD's own.
/// The object is borrowed as it is unless the what-if changes it.
fn evaluate<'a>(
    object: &'a Value,
    what_if: Option<&WhatIf>,
    crd: Option<&CrdRules>,
) -> (Cow<'a, Value>, Vec<rules::Finding>) {
    let object = match what_if {
        Some(w) => Cow::Owned(w.apply(object)),
        None => Cow::Borrowed(object),
    };
    let mut findings = rules::check(&object);
    if let Some(crd) = crd {
        let errors = crd.evaluate(&crate::featurestore::pruned(&object));
        rules::crd::reconcile(&mut findings, &errors, &crd.source);
        if let Some(schema) = crd.schema_for(&object) {
            rules::add_structural(&mut findings, &object, schema);
        }
    }
    (object, findings)
}

/// A FeatureStore a kustomization uses as a patch: a partial object, checked for what a part
/// can be wrong about (field names, types, ranges, metadata), not for what only a whole store
/// has (required fields, persistence, the scaling rules); no persistence table.
fn patch_result(d: &Document) -> ObjectResult {
    let findings: Vec<rules::Finding> = rules::check(&d.value)
        .into_iter()
        .filter(|f| f.rule.judges_a_part())
        .collect();
    let line_of = |path: &str| Some(d.line_of(path));
    let mut result = ObjectResult::new(&d.source, Some(d.line), &d.value, findings, &line_of);
    result.persistence.clear();
    result.patch_of.clone_from(&d.patch_of);
    result
}

pub fn files_report(docs: &[Document], what_if: Option<&WhatIf>, crd: Option<&CrdRules>) -> Report {
    // Each FeatureStore is checked once, as the what-if would leave it, on every core
    // (checking and locating the findings of 10,000 documents takes 0.3 s of CPU); each
    // ScaledObject is then checked against the store it aims at, found by name.
    let (objects, mut checked): (Vec<Option<Cow<Value>>>, Vec<Option<ObjectResult>>) =
        crate::parallel::map(docs, 256, |d| match is_featurestore(&d.value) {
            true if d.patch_of.is_some() => (None, Some(patch_result(d))),
            true => {
                let (object, findings) = evaluate(&d.value, what_if, crd);
                let line_of = |path: &str| Some(d.line_of(path));
                let result =
                    ObjectResult::new(&d.source, Some(d.line), &object, findings, &line_of);
                (Some(object), Some(result))
            }
            false => (None, None),
        })
        .into_iter()
        .unzip();
    let stores = Stores::new(objects.iter().flatten().map(|o| o.as_ref()));
    let mut results = Vec::with_capacity(docs.len());
    let mut skipped = 0;
    for (doc, checked) in docs.iter().zip(checked.iter_mut()) {
        if let Some(result) = checked.take() {
            results.push(result);
        } else if let Some(findings) = keda::is_scaled_object(&doc.value)
            .then(|| scaled_object_findings(&doc.value, &stores, keda::Source::Manifest))
            .flatten()
        {
            let line_of = |path: &str| Some(doc.line_of(path));
            results.push(ObjectResult::new(
                &doc.source,
                Some(doc.line),
                &doc.value,
                findings,
                &line_of,
            ));
        } else {
            skipped += 1;
        }
    }
    Report::new(results, skipped)
}

/// The FeatureStores that ScaledObjects may aim at, by name: one look-up per ScaledObject
/// (a scan of every store for each took 8 s on 9,000 stores and 1,000 ScaledObjects).
struct Stores<'a> {
    by_name: HashMap<&'a str, Vec<&'a Value>>,
}

impl<'a> Stores<'a> {
    fn new(stores: impl Iterator<Item = &'a Value>) -> Self {
        let mut by_name: HashMap<&str, Vec<&Value>> = HashMap::new();
        for store in stores {
            by_name
                .entry(FeatureStore::new(store).name())
                .or_default()
                .push(store);
        }
        Stores { by_name }
    }

    /// The first store (in input order) of that name that can share the namespace.
    fn find(&self, name: &str, namespace: Option<&str>) -> Option<&'a Value> {
        self.by_name
            .get(name)?
            .iter()
            .find(|fs| keda::same_namespace(namespace, FeatureStore::new(fs).namespace()))
            .copied()
    }
}

/// A ScaledObject's findings against the FeatureStore it aims at (by its target and namespace),
/// or `None` when it scales none of `stores`: then it is not this plugin's business. One whose
/// target names a FeatureStore that is not there gets `keda/target-not-found`.
fn scaled_object_findings(
    so: &Value,
    stores: &Stores<'_>,
    source: keda::Source,
) -> Option<Vec<rules::Finding>> {
    Some(match scaled_object_result(so, stores, source) {
        Some((findings, _)) => findings,
        None => match keda::target(so) {
            keda::Target::FeatureStore(target) => {
                let names: Vec<&str> = stores.by_name.keys().copied().collect();
                vec![keda::target_not_found(so, target, &names)]
            }
            _ => return None,
        },
    })
}

/// A ScaledObject's findings against the FeatureStore it aims at (by its target and namespace),
/// or `None` when it scales none of `stores`: then it is not this plugin's business.
fn scaled_object_result<'a>(
    so: &Value,
    stores: &Stores<'a>,
    source: keda::Source,
) -> Option<(Vec<rules::Finding>, &'a Value)> {
    let wanted = match keda::target(so) {
        keda::Target::FeatureStore(n) => n,
        keda::Target::Deployment(d) => d.strip_prefix("feast-")?,
        keda::Target::Other => return None,
    };
    let store = stores.find(wanted, keda::namespace(so))?;
    Some((keda::check(so, store, source), store))
}

fn load_crd_file(path: &std::path::Path) -> Result<CrdRules> {
    let shown = path.display().to_string();
    let docs = manifests::read_paths(std::slice::from_ref(&shown), &mut std::io::empty())?;
    let doc = docs.first().ok_or_else(|| {
        Error::incomplete(format!("--crd {shown} holds no document"))
            .with_hint("pass the FeatureStore CRD, e.g. feast.dev_featurestores.yaml")
    })?;
    CrdRules::from_crd(&doc.value, &shown).map_err(|e| {
        Error::incomplete(format!("--crd: {e}"))
            .with_hint("pass the FeatureStore CRD, e.g. feast.dev_featurestores.yaml")
    })
}

/// `in_context` names the cluster in the notes of a view over several (" in context \"a\"").
async fn live_report(
    args: &ValidateArgs,
    global: &GlobalArgs,
    what_if: Option<&WhatIf>,
    in_context: &str,
) -> Result<Report> {
    let cluster = Cluster::connect(global).await?;
    let objects = fetch(&cluster, &args.names, global.all_namespaces).await?;
    let crd = match &args.crd {
        Some(path) => Some(load_crd_file(path)?),
        None => installed_crd(&cluster, in_context).await,
    };
    let mut results: Vec<ObjectResult> = Vec::new();
    let mut stores = Vec::new();
    for obj in &objects {
        let (object, findings) = evaluate(obj, what_if, crd.as_ref());
        results.push(ObjectResult::new(
            "cluster",
            None,
            &object,
            findings,
            &|_| None,
        ));
        stores.push(object);
    }
    if !stores.is_empty() {
        let stores = Stores::new(stores.iter().map(|o| o.as_ref()));
        // Every store of the scope was read when none is named: a ScaledObject aimed at a
        // FeatureStore that is not there is then worth a word.
        let whole = args.names.is_empty();
        for so in scaled_objects(&cluster, global.all_namespaces, in_context).await? {
            let findings = if whole {
                scaled_object_findings(&so, &stores, keda::Source::Live)
            } else {
                scaled_object_result(&so, &stores, keda::Source::Live).map(|(f, _)| f)
            };
            if let Some(findings) = findings {
                results.push(ObjectResult::new("cluster", None, &so, findings, &|_| None));
            }
        }
    }
    Ok(Report::new(results, 0))
}

/// Live validation over several clusters: each context's report as one cluster's, merged, with
/// each object's context; the contexts that failed are in the report as unreadable inputs, and
/// returned to be said.
async fn fleet_report(
    args: &ValidateArgs,
    global: &GlobalArgs,
    what_if: Option<&WhatIf>,
    fleet: &fleet::Fleet,
) -> Result<(Report, Vec<Error>)> {
    let answers = fleet
        .ask(global, |context, g| async move {
            let in_context = format!(" in context {context:?}");
            let report = live_report(args, &g, what_if, &in_context).await?;
            Ok(report.with_context(Some(&context)))
        })
        .await;
    let mut results = Vec::new();
    let mut unreadable = Vec::new();
    let mut failures = Vec::new();
    for answer in answers {
        match answer.result {
            Ok(report) => results.extend(report.results.into_iter().map(|mut r| {
                r.source = format!("cluster (context {})", answer.context);
                r.context = Some(answer.context.clone());
                r
            })),
            Err(e) => {
                let e = fleet::failed(&answer.context, e);
                unreadable.push(Unreadable {
                    source: format!("context {}", answer.context),
                    line: None,
                    message: e.message.clone(),
                    hint: e.hints.first().cloned(),
                });
                failures.push(e);
            }
        }
    }
    if failures.len() == fleet.contexts.len() {
        return Err(Error::combine(failures));
    }
    Ok((
        Report::new(results, 0).with_unreadable(unreadable),
        failures,
    ))
}

/// KEDA's ScaledObjects of the namespace (or all): none when KEDA's CRD is not installed; a
/// refusal is a note, as the KEDA checks are a bonus to the FeatureStore's own; any other
/// failure stops the command (a check that could not run must not pass as if it had).
async fn scaled_objects(cluster: &Cluster, all: bool, in_context: &str) -> Result<Vec<Value>> {
    let ns = (!all).then_some(cluster.namespace.as_str());
    let where_ = ns.map_or("all namespaces".into(), |n| format!("namespace {n:?}"));
    match crate::cluster::list_scaled_objects(&cluster.client, ns, &ListParams::default()).await {
        Ok(items) => Ok(items),
        Err(e) if Failure::of(&e) == Failure::Forbidden => {
            eprintln!(
                "note: could not read scaledobjects.keda.sh in {where_}{in_context} (forbidden for this user); KEDA ScaledObjects not checked"
            );
            Ok(Vec::new())
        }
        Err(e) => Err(cluster.read_error(e, &format!("list scaledobjects.keda.sh in {where_}"))),
    }
}

async fn fetch(cluster: &Cluster, names: &[String], all: bool) -> Result<Vec<Value>> {
    let to_value = |o| {
        serde_json::to_value(o)
            .map_err(|e| Error::incomplete(format!("cannot read the server's answer: {e}")))
    };
    if names.is_empty() {
        let ns = (!all).then_some(cluster.namespace.as_str());
        let api = cluster.featurestores(ns);
        let where_ = ns.map_or("all namespaces".into(), |n| format!("namespace {n:?}"));
        let list = api.list(&ListParams::default()).await.map_err(|e| {
            cluster.read_error(e, &format!("list featurestores.feast.dev in {where_}"))
        })?;
        return list.items.into_iter().map(to_value).collect();
    }
    let api = cluster.featurestores(Some(&cluster.namespace));
    let mut out = Vec::new();
    for name in names {
        let name = crate::featurestore::resource_name(name).map_err(Error::usage)?;
        let obj = api.get(name).await.map_err(|e| {
            cluster.read_error(
                e,
                &format!(
                    "get featurestore.feast.dev {name:?} in namespace {:?}",
                    cluster.namespace
                ),
            )
        })?;
        out.push(to_value(obj)?);
    }
    Ok(out)
}

/// The cluster's installed FeatureStore CRD, when this user may read it; parity is a bonus,
/// so a refusal only costs that and a note on stderr.
async fn installed_crd(cluster: &Cluster, in_context: &str) -> Option<CrdRules> {
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client.clone());
    match api.get("featurestores.feast.dev").await {
        Ok(crd) => {
            let value = serde_json::to_value(crd).ok()?;
            match CrdRules::from_crd(&value, "cluster") {
                Ok(rules) => Some(rules),
                Err(e) => {
                    eprintln!(
                        "note: the installed CRD's own rules were not evaluated{in_context}: {e}"
                    );
                    None
                }
            }
        }
        Err(e) => {
            eprintln!(
                "note: the installed CRD's own rules were not evaluated{in_context} (cannot read customresourcedefinitions: {})",
                crate::cluster::reason(&e)
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleId;
    use serde_json::json;

    fn doc(value: Value) -> Document {
        Document::new("t.yaml", 1, value)
    }

    #[test]
    fn other_kinds_are_skipped_and_counted() {
        let docs = vec![
            doc(json!({"apiVersion": "v1", "kind": "Secret"})),
            doc(
                json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "a"}, "spec": {"feastProject": "p"}}),
            ),
        ];
        let r = files_report(&docs, None, None);
        assert_eq!(r.summary.objects, 1);
        assert_eq!(r.summary.skipped, 1);
        assert!(r.passes(false));
    }

    #[test]
    fn a_scaled_object_on_the_operator_deployment_is_an_object_of_its_own() {
        let docs = vec![
            doc(
                json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "a"}, "spec": {"feastProject": "p"}}),
            ),
            doc(
                json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so"}, "spec": {"scaleTargetRef": {"name": "feast-a"}, "maxReplicaCount": 1}}),
            ),
            // Scales something else: not ours, skipped.
            doc(
                json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"name": "web"}}}),
            ),
        ];
        let r = files_report(&docs, None, None);
        assert_eq!(
            (
                r.summary.objects,
                r.summary.scaled_objects,
                r.summary.skipped
            ),
            (2, 1, 1)
        );
        let so = &r.results[1];
        assert_eq!((so.kind.as_str(), so.valid), ("ScaledObject", false));
        assert_eq!(so.findings[0].finding.rule, RuleId::KedaTargetsDeployment);
        assert!(so.persistence.is_empty());
    }

    #[test]
    fn a_scaled_object_aimed_at_a_featurestore_not_in_the_input_is_not_skipped() {
        let docs = vec![
            doc(
                json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "orders"}, "spec": {"feastProject": "p"}}),
            ),
            doc(
                json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so"}, "spec": {"scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "order"}, "minReplicaCount": 1}}),
            ),
        ];
        let r = files_report(&docs, None, None);
        assert_eq!((r.summary.scaled_objects, r.summary.skipped), (1, 0));
        let so = &r.results[1];
        assert_eq!(so.findings[0].finding.rule, RuleId::KedaTargetNotFound);
        assert!(
            so.findings[0]
                .finding
                .message
                .contains("did you mean orders?"),
            "{}",
            so.findings[0].finding.message
        );
    }

    #[test]
    fn what_if_replicas_judges_the_scaled_object() {
        let docs = vec![doc(
            json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "a"}, "spec": {"feastProject": "p"}}),
        )];
        let r = files_report(&docs, Some(&WhatIf::Scale(3)), None);
        assert!(!r.passes(false));
        assert!(
            r.results[0]
                .findings
                .iter()
                .any(|f| f.finding.rule == RuleId::ScalingOnlineStoreDb)
        );
    }
}
