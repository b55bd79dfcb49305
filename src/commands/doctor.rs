//! `kubectl feast doctor`: what will stop scaling or high availability from working, before
//! anything fails. The shell: it reads the cluster into `crate::doctor::Facts` (every look-up
//! at once, a refused one recorded with its reason), lets `crate::doctor::diagnose` judge it,
//! and prints `crate::render::doctor`'s checklist or JSON/YAML.

use clap::Args;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::api::{Api, ListParams, PostParams};
use serde_json::Value;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::{Cluster, scaled_object_resource, scoped, scoped_dynamic};
use crate::cluster::{Failure, PAGE, list_pages};
use crate::commands::fleet::{self, FleetArgs};
use crate::doctor::{self, Access, ApiAvailability, Facts, Probe, Workload};
use crate::error::{Error, ErrorKind, Result};
use crate::featurestore::{FeatureStore, RESOURCE, resource_name};
use crate::render::{self, style::Style};
use crate::status::{Inventory, NAME_LABEL, PodInfo};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # the cluster, and every FeatureStore in the namespace
  kubectl feast doctor
  # the cluster, and one store
  kubectl feast doctor my-feast -n ml
  # every namespace
  kubectl feast doctor -A
  # the same checklist, structured (for CI)
  kubectl feast doctor -A -o json
  # one checklist per cluster of the kubeconfig
  kubectl feast doctor -A --all-contexts

Each check is ok, WARNING, BLOCKING or unknown (a look-up you may not
make), with a fix.

Exit codes: 0 nothing blocks (warnings allowed); 1 something blocks
scaling or HA; 2 bad usage; 3 the cluster could not be reached, or a
named store does not exist; 4 over several contexts, some could not be
checked (each named on stderr) and the others are shown.")]
pub struct DoctorArgs {
    /// FeatureStores to check (NAME, featurestore/NAME or feast/NAME); none checks every one
    /// in the namespace (or in all with -A), e.g. `kubectl feast doctor my-feast`
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `doctor -o json` over several clusters: one checklist per context, or its failure.
#[derive(serde::Serialize)]
struct FleetReport<'a> {
    contexts: &'a [ContextReport],
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum ContextReport {
    Checked(doctor::Report),
    Failed(fleet::ContextFailure),
}

pub async fn run(args: &DoctorArgs, global: &GlobalArgs) -> Result<()> {
    let output = global.output_in("doctor", &[OutputFormat::Json, OutputFormat::Yaml])?;
    if global.all_namespaces && !args.names.is_empty() {
        return Err(
            Error::usage("a FeatureStore cannot be named across all namespaces")
                .with_hint("drop -A and give the namespace with -n NAMESPACE"),
        );
    }
    let names = args
        .names
        .iter()
        .map(|n| resource_name(n).map(str::to_string))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::usage(e).with_hint(
                "give NAME, featurestore/NAME or feast/NAME, as `kubectl get feast` lists them",
            )
        })?;
    let check = |g: GlobalArgs| {
        let names = names.clone();
        async move {
            let cluster = Cluster::connect(&g).await?;
            let namespace = (!g.all_namespaces).then(|| cluster.namespace.clone());
            let facts = gather(&cluster, namespace, &names).await?;
            Ok::<_, Error>(doctor::diagnose(&facts).with_context(g.context()))
        }
    };
    let color = global.color_enabled();
    let text_of = |report: &doctor::Report| {
        let text = render::doctor::text(report, Style::colored(color));
        render::term::safe(&text, color).into_owned()
    };
    let Some(fleet) = fleet::resolve(global, &args.fleet)? else {
        let report = check(global.clone()).await?;
        let text = match output {
            Some(OutputFormat::Json) => render::json(&report)?,
            Some(OutputFormat::Yaml) => render::yaml(&report)?,
            _ => text_of(&report),
        };
        print!("{text}");
        return verdict([&report]);
    };
    // Several clusters: one checklist per context, in order, under its name.
    let answers = fleet.ask(global, |_, g| check(g)).await;
    let mut contexts = Vec::new();
    let mut failures = Vec::new();
    for answer in answers {
        match answer.result {
            Ok(mut report) => {
                report.context = Some(answer.context);
                contexts.push(ContextReport::Checked(report));
            }
            Err(e) => {
                let e = fleet::failed(&answer.context, e);
                contexts.push(ContextReport::Failed(fleet::ContextFailure::of(
                    &answer.context,
                    &e,
                )));
                failures.push(e);
            }
        }
    }
    let reports: Vec<&doctor::Report> = contexts
        .iter()
        .filter_map(|c| match c {
            ContextReport::Checked(r) => Some(r),
            ContextReport::Failed(_) => None,
        })
        .collect();
    if reports.is_empty() {
        return fleet::outcome(failures, 0, Ok(()));
    }
    let text = match output {
        Some(OutputFormat::Json) => render::json(&FleetReport {
            contexts: &contexts,
        })?,
        Some(OutputFormat::Yaml) => render::yaml(&FleetReport {
            contexts: &contexts,
        })?,
        _ => {
            let mut out = String::new();
            for (i, report) in reports.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let heading = format!("Context {}", report.context.as_deref().unwrap_or(""));
                out.push_str(&render::term::safe(
                    &Style::colored(color).bold(&heading),
                    color,
                ));
                out.push_str("\n\n");
                out.push_str(&text_of(report));
            }
            out
        }
    };
    print!("{text}");
    fleet::say(&failures);
    let answered = reports.len();
    fleet::outcome(failures, answered, verdict(reports))
}

/// Exit 1 when any checklist has a blocking check.
fn verdict<'a>(reports: impl IntoIterator<Item = &'a doctor::Report>) -> Result<()> {
    if reports.into_iter().any(doctor::Report::blocking) {
        return Err(Error::already_reported(ErrorKind::Refused));
    }
    Ok(())
}

/// A failure that is not the API server's answer (unreachable, timeout) stops `doctor`: every
/// other look-up would fail the same way, and a checklist of "unknown" helps nobody.
pub(crate) fn probe<T>(
    cluster: &Cluster,
    doing: &str,
    r: kube::Result<Option<T>>,
) -> Result<Probe<T>> {
    match r {
        Ok(Some(t)) => Ok(Probe::Found(t)),
        Ok(None) => Ok(Probe::Missing),
        Err(e) if matches!(Failure::of(&e), Failure::NotFound | Failure::NotServed) => {
            Ok(Probe::Missing)
        }
        Err(e) if Failure::of(&e).answered() => Ok(Probe::Unreadable(crate::cluster::reason(&e))),
        Err(e) => Err(cluster.read_error(e, doing)),
    }
}

fn workload(d: &Deployment) -> Workload {
    Workload {
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        name: d.metadata.name.clone().unwrap_or_default(),
        desired: d
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .map_or(1, i64::from),
        ready: d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .map_or(0, i64::from),
    }
}

/// A controller's Deployment, looked for by label in every namespace, else by its usual name
/// (a user who may not list Deployments cluster-wide may still read that one).
pub(crate) async fn controller(
    cluster: &Cluster,
    selector: &str,
    keep: impl Fn(&Deployment) -> bool,
    usual: (&str, &str),
) -> Result<Probe<Vec<Workload>>> {
    let all: Api<Deployment> = Api::all(cluster.client.clone());
    match all.list(&ListParams::default().labels(selector)).await {
        Ok(list) => {
            let found: Vec<Workload> = list
                .items
                .iter()
                .filter(|d| keep(d))
                .map(workload)
                .collect();
            if !found.is_empty() {
                return Ok(Probe::Found(found));
            }
        }
        Err(e) if Failure::of(&e).answered() => {
            let one: Api<Deployment> = Api::namespaced(cluster.client.clone(), usual.0);
            let got = one.get_opt(usual.1).await;
            return Ok(match probe(cluster, "read a Deployment", got)? {
                Probe::Found(d) => Probe::Found(vec![workload(&d)]),
                Probe::Missing => Probe::Unreadable(crate::cluster::reason(&e)),
                Probe::Unreadable(_) => Probe::Unreadable(crate::cluster::reason(&e)),
            });
        }
        Err(e) => return Err(cluster.read_error(e, "list Deployments in all namespaces")),
    }
    Ok(Probe::Missing)
}

/// The access reviews: what each command needs, in the namespace looked at.
fn reviews(namespace: Option<&str>) -> Vec<(Access, ResourceAttributes)> {
    let ns = namespace.map(str::to_string);
    let item = |verb: &'static str,
                group: &str,
                resource: &str,
                shown: &'static str,
                needed_by: &'static str,
                required: bool,
                namespaced: bool| {
        (
            Access {
                verb,
                resource: shown,
                namespace: if namespaced { ns.clone() } else { None },
                needed_by,
                required,
                allowed: Probe::Missing,
            },
            ResourceAttributes {
                verb: Some(verb.to_string()),
                group: Some(group.to_string()),
                resource: Some(resource.to_string()),
                namespace: if namespaced { ns.clone() } else { None },
                ..ResourceAttributes::default()
            },
        )
    };
    vec![
        item(
            "patch",
            "feast.dev",
            "featurestores",
            "featurestores.feast.dev",
            "scale, autoscale and pdb",
            true,
            true,
        ),
        item(
            "list",
            "feast.dev",
            "featurestores",
            "featurestores.feast.dev",
            "status, validate (live) and doctor",
            true,
            true,
        ),
        item(
            "list",
            "apps",
            "deployments",
            "deployments.apps",
            "status and scale --wait",
            false,
            true,
        ),
        item(
            "list",
            "autoscaling",
            "horizontalpodautoscalers",
            "horizontalpodautoscalers.autoscaling",
            "status and the autoscaler pre-flight of scale/autoscale",
            false,
            true,
        ),
        item(
            "list",
            "policy",
            "poddisruptionbudgets",
            "poddisruptionbudgets.policy",
            "status",
            false,
            true,
        ),
        item(
            "list",
            "",
            "pods",
            "pods",
            "status (placement) and scale --wait",
            false,
            true,
        ),
        item(
            "list",
            "",
            "nodes",
            "nodes",
            "status (zones) and doctor",
            false,
            false,
        ),
    ]
}

async fn review(cluster: &Cluster, attrs: ResourceAttributes) -> Result<Probe<bool>> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let ssar = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(attrs),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let got = api
        .create(&PostParams::default(), &ssar)
        .await
        .map(|r| Some(r.status.is_some_and(|s| s.allowed)));
    probe(cluster, "create a SelfSubjectAccessReview", got)
}

async fn gather(cluster: &Cluster, namespace: Option<String>, names: &[String]) -> Result<Facts> {
    let client = &cluster.client;
    let ns = namespace.as_deref();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let apiservices: Api<APIService> = Api::all(client.clone());
    let nodes: Api<Node> = Api::all(client.clone());
    let deployments: Api<Deployment> = scoped(client, ns);
    let hpas: Api<HorizontalPodAutoscaler> = scoped(client, ns);
    let pdbs: Api<PodDisruptionBudget> = scoped(client, ns);
    let pods: Api<Pod> = scoped(client, ns);
    let stores_api = cluster.featurestores(ns);
    let so_api = scoped_dynamic(client, ns, &scaled_object_resource());
    let owned = ListParams::default().labels(NAME_LABEL);
    let all = ListParams::default();
    let plan = reviews(ns);
    let (
        crd,
        keda_crd,
        metrics,
        node_list,
        deployment_list,
        store_list,
        so_list,
        operator,
        leases,
        keda_operator,
        allowed,
        (hpa_list, pdb_list, pod_list),
    ) = tokio::join!(
        crds.get_opt("featurestores.feast.dev"),
        crds.get_opt("scaledobjects.keda.sh"),
        apiservices.get_opt("v1beta1.metrics.k8s.io"),
        list_pages(&nodes, &all, Some(PAGE), |n| n),
        list_pages(&deployments, &owned, Some(PAGE), |d| d),
        list_pages(&stores_api, &all, Some(PAGE), |s| s),
        list_pages(&so_api, &all, Some(PAGE), |o| o),
        super::operator_evidence::deployments(cluster),
        super::operator_evidence::leases(cluster),
        controller(
            cluster,
            "app.kubernetes.io/name=keda-operator",
            |_| true,
            ("keda", "keda-operator"),
        ),
        futures::future::join_all(plan.iter().map(|(_, attrs)| review(cluster, attrs.clone()))),
        // What status reads besides: the store verdicts are its own.
        async {
            tokio::join!(
                list_pages(&hpas, &all, Some(PAGE), |h| h),
                list_pages(&pdbs, &all, Some(PAGE), |p| p),
                list_pages(&pods, &owned, Some(PAGE), |p| PodInfo::from_pod(&p)),
            )
        },
    );
    let crd = probe(cluster, "read CRD featurestores.feast.dev", crd)?
        .as_ref()
        .map_found(json);
    let stores = stores_probe(cluster, store_list, ns, names).await?;
    let scaled_objects = listed(cluster, so_list, "list KEDA ScaledObjects")?
        .map_found(|items| items.iter().map(json).collect());
    // Whoever may list ScaledObjects knows their CRD exists, even without reading CRDs.
    let keda_crd = match (
        probe(cluster, "read CRD scaledobjects.keda.sh", keda_crd)?,
        &scaled_objects,
    ) {
        (_, Probe::Found(_)) => Probe::Found(()),
        (Probe::Found(_), _) => Probe::Found(()),
        (Probe::Missing, _) => Probe::Missing,
        (Probe::Unreadable(why), _) => Probe::Unreadable(why),
    };
    let metrics_api = probe(cluster, "read APIService v1beta1.metrics.k8s.io", metrics)?
        .as_ref()
        .map_found(availability);
    let nodes = listed(cluster, node_list, "list nodes")?;
    let deployments = listed(cluster, deployment_list, "list Deployments")?;
    let mut access = Vec::new();
    for ((mut a, _), allowed) in plan.into_iter().zip(allowed) {
        a.allowed = allowed?;
        access.push(a);
    }
    let status = match &stores {
        Probe::Found(found) => {
            let inventory = Inventory {
                stores: found.iter().map(Value::to_string).collect(),
                deployments: deployments.source(),
                hpas: listed(cluster, hpa_list, "list HPAs")?.source(),
                pdbs: listed(cluster, pdb_list, "list PodDisruptionBudgets")?.source(),
                pods: listed(cluster, pod_list, "list pods")?.source(),
                nodes: nodes.source(),
                scaled_objects: scaled_objects.source(),
            };
            crate::status::derive(&inventory).stores
        }
        _ => Vec::new(),
    };
    Ok(Facts {
        namespace,
        crd,
        operator: operator?,
        leases: leases?,
        now: k8s_openapi::jiff::Timestamp::now(),
        stores,
        metrics_api,
        keda_crd,
        keda_operator: keda_operator?,
        scaled_objects,
        nodes,
        access,
        status,
    })
}

/// The stores in scope (the named ones only, when names are given); a named store that does
/// not exist is "not found" (exit 3), as everywhere else.
async fn stores_probe(
    cluster: &Cluster,
    store_list: kube::Result<Vec<kube::api::DynamicObject>>,
    ns: Option<&str>,
    names: &[String],
) -> Result<Probe<Vec<Value>>> {
    let stores = match store_list {
        Ok(list) => {
            let mut items: Vec<Value> = list.iter().map(json).collect();
            if !names.is_empty() {
                items.retain(|s| names.iter().any(|n| n == FeatureStore::new(s).name()));
            }
            Probe::Found(items)
        }
        Err(e) if Failure::of(&e) == Failure::NotServed => Probe::Missing,
        Err(e) if Failure::of(&e).answered() => Probe::Unreadable(crate::cluster::reason(&e)),
        Err(e) => return Err(cluster.read_error(e, &format!("list {RESOURCE}"))),
    };
    if let (Probe::Found(found), Some(ns)) = (&stores, ns) {
        for name in names {
            if !found.iter().any(|s| FeatureStore::new(s).name() == name) {
                return Err(cluster.featurestore_not_found(ns, name).await);
            }
        }
    }
    Ok(stores)
}

/// A LIST's items; refused or not served becomes what the check says instead.
fn listed<T: Clone>(
    cluster: &Cluster,
    r: kube::Result<Vec<T>>,
    doing: &str,
) -> Result<Probe<Vec<T>>> {
    probe(cluster, doing, r.map(Some))
}

/// The `Available` condition of an APIService.
fn availability(a: &APIService) -> ApiAvailability {
    let c = a
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Available"));
    ApiAvailability {
        available: c.is_some_and(|c| c.status == "True"),
        reason: c.and_then(|c| c.reason.clone()),
        message: c.and_then(|c| c.message.clone()),
    }
}

fn json(v: &impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

trait MapFound<T> {
    fn map_found<U>(self, f: impl FnOnce(T) -> U) -> Probe<U>;
}

impl<T> MapFound<T> for Probe<T> {
    fn map_found<U>(self, f: impl FnOnce(T) -> U) -> Probe<U> {
        match self {
            Probe::Found(t) => Probe::Found(f(t)),
            Probe::Missing => Probe::Missing,
            Probe::Unreadable(why) => Probe::Unreadable(why),
        }
    }
}
