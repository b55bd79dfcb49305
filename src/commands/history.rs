//! `kubectl feast history NAME`: one timeline of a store, newest last (`crate::history`), from
//! what the API server still holds. Every read is narrowed to the store: Events by field
//! selector (`regarding.name`), ReplicaSets by its label, never every event of the namespace.

use std::time::Duration;

use clap::Args;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::{Cluster, Failure};
use crate::error::{Error, Result};
use crate::featurestore::{RESOURCE, resource_name};
use crate::history::{Record, pods_named, timeline};
use crate::prometheus::{Prometheus, PrometheusArgs};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # what happened to my-feast in the last hour
  kubectl feast history my-feast -n prod
  # the last 30 minutes, as JSON
  kubectl feast history my-feast --since 30m -o json

Sources: the Events of the store, its Deployment, HPA, PDB,
ReplicaSets and their pods, KEDA ScaledObjects aimed at it and their
HPAs (the API server keeps Events one hour by default); the
ReplicaSets' revisions; conditions' last transitions; each manager's
last write of the store (managedFields).

Exit codes: 0 shown; 2 bad usage; 3 not found, forbidden, CRD missing
or cluster unreachable.")]
pub struct HistoryArgs {
    /// The FeatureStore: NAME, featurestore/NAME or feast/NAME
    // `names`, as every command's store argument: completion offers the stores for it.
    #[arg(id = "names", value_name = "NAME", value_parser = parse_name)]
    pub name: String,
    /// How far back (e.g. 30m, 1h, 2d); Events reach back one hour by default
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_since)]
    pub since: Duration,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

/// kubectl's durations (`30m`, `1h`), and days (`2d`), which a history reaches for.
pub(crate) fn parse_since(s: &str) -> std::result::Result<Duration, String> {
    match s.trim().strip_suffix('d') {
        Some(days) => days
            .parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d >= 0.0)
            .map(|d| Duration::from_secs_f64(d * 86_400.0))
            .ok_or_else(|| format!("invalid duration {s:?}: use e.g. 30m, 1h or 2d")),
        None => crate::cli::parse_duration(s),
    }
}

pub(crate) fn parse_name(s: &str) -> std::result::Result<String, String> {
    resource_name(s).map(str::to_string)
}

pub async fn run(args: &HistoryArgs, global: &GlobalArgs) -> Result<()> {
    let output = global.output_in("history", &[OutputFormat::Json, OutputFormat::Yaml])?;
    if global.all_namespaces {
        return Err(Error::usage(
            "`kubectl feast history` shows one FeatureStore; -A is not supported",
        )
        .with_hint("pick the namespace with -n NAMESPACE"));
    }
    let cluster = Cluster::connect(global).await?;
    let (record, autoscalers) = read(&cluster, &args.name).await?;
    let now = Timestamp::now();
    let since = crate::record::window_start(now, args.since);
    let mut history = timeline(&record, since);
    match Prometheus::find(&args.prometheus, &cluster, global.request_timeout).await? {
        Ok(prometheus) => {
            let subject = crate::record::Subject {
                namespace: &cluster.namespace,
                name: &args.name,
                hpas: &autoscalers.hpas,
                scaled_objects: &autoscalers.scaled_objects,
            };
            let queries = crate::record::queries(&subject);
            let series = prometheus
                .ranges(&queries, since, now, crate::record::step_for(args.since))
                .await;
            match series {
                Ok(series) => history = history.with_record(&prometheus.shown, series),
                // One asked for by URL must answer; one found in the cluster that does not is
                // said, and the events are shown.
                Err(e) if args.prometheus.prometheus.is_some() => return Err(e),
                Err(e) => eprintln!(
                    "note: {}; the history reaches as far back as the events",
                    crate::render::term::safe(&e.message, false)
                ),
            }
        }
        Err(why) if output.is_none() => eprintln!(
            "note: no Prometheus: {why}; the history reaches as far back as the events; pass --prometheus URL (or set KUBECTL_FEAST_PROMETHEUS) for the record"
        ),
        Err(_) => {}
    }
    let text = match output {
        Some(OutputFormat::Json) => crate::render::json(&history)?,
        Some(OutputFormat::Yaml) => crate::render::yaml(&history)?,
        _ => {
            let color = global.color_enabled();
            let style = crate::render::style::Style {
                color,
                width: crate::render::term::stdout_width(),
            };
            let text = crate::render::history::text(&history, style);
            crate::render::term::safe(&text, color).into_owned()
        }
    };
    print!("{text}");
    Ok(())
}

/// The autoscalers of a store, by name, as its record in Prometheus knows them.
pub(crate) struct Autoscalers {
    /// The operator's HPA (`feast-<name>`) and those KEDA made for its ScaledObjects.
    pub hpas: Vec<String>,
    pub scaled_objects: Vec<String>,
}

/// The store and what surrounds it, read at once; a kind the caller may not read is left out
/// (its entries missing), any other failure is an error.
async fn read(cluster: &Cluster, name: &str) -> Result<(Record, Autoscalers)> {
    let ns = cluster.namespace.as_str();
    let api = cluster.featurestores(Some(ns));
    let owned = format!("feast-{name}");
    let by_name = |n: &str| ListParams::default().fields(&format!("regarding.name={n}"));
    let selector = ListParams::default().labels(&format!("feast.dev/name={name}"));
    let (store, deployment, hpa, replica_sets, pods, store_events, owned_events, keda) = tokio::join!(
        super::change::get(cluster, &api, name),
        get_opt::<Deployment>(cluster, &owned),
        get_opt::<HorizontalPodAutoscaler>(cluster, &owned),
        list::<ReplicaSet>(cluster, selector.clone()),
        pod_names(cluster, &selector),
        list::<Event>(cluster, by_name(name)),
        // The Deployment, the HPA and the PDB are all `feast-<name>`.
        list::<Event>(cluster, by_name(&owned)),
        autoscalers(cluster, name),
    );
    let store = store?;
    let replica_sets = replica_sets?;
    let pods_now = pods?;
    let mut events = store_events?;
    events.extend(owned_events?);
    // KEDA's ScaledObjects aimed at the store, and the HPAs they made.
    let autoscalers = keda?;
    let keda: Vec<String> = autoscalers
        .scaled_objects
        .iter()
        .chain(autoscalers.hpas.iter().skip(1))
        .cloned()
        .collect();
    // Their events and the ReplicaSets', then the pods the ReplicaSets name, gone ones
    // included.
    let keda_events =
        futures::future::try_join_all(keda.iter().map(|n| list::<Event>(cluster, by_name(n))));
    let rs_names: Vec<String> = replica_sets
        .iter()
        .filter_map(|rs| rs.metadata.name.clone())
        .collect();
    let rs_events =
        futures::future::try_join_all(rs_names.iter().map(|n| list::<Event>(cluster, by_name(n))));
    let (keda_events, rs_events) = tokio::join!(keda_events, rs_events);
    events.extend(keda_events?.into_iter().flatten());
    let rs_events = rs_events?;
    let rs_events: Vec<Event> = rs_events.into_iter().flatten().collect();
    let pods = pods_named(&rs_events);
    let pod_events =
        futures::future::try_join_all(pods.iter().map(|n| list::<Event>(cluster, by_name(n))))
            .await?;
    events.extend(rs_events);
    events.extend(pod_events.into_iter().flatten());
    let record = Record {
        store,
        deployment: deployment?,
        hpa: hpa?,
        replica_sets,
        events,
        pods: pods_now,
    };
    Ok((record, autoscalers))
}

/// The store's autoscalers: the operator's HPA, and KEDA's ScaledObjects aimed at it with the
/// HPAs they made; no KEDA ones when KEDA is not installed or the caller may not read them
/// (their entries are then missing, as for any kind).
pub(crate) async fn autoscalers(cluster: &Cluster, name: &str) -> Result<Autoscalers> {
    let ns = cluster.namespace.as_str();
    let aimed = match crate::cluster::list_scaled_objects(
        &cluster.client,
        Some(ns),
        &ListParams::default(),
    )
    .await
    {
        Ok(items) => items
            .into_iter()
            .filter(|so| crate::rules::keda::aims_at(so, name))
            .collect(),
        Err(e) if Failure::of(&e) == Failure::Forbidden => Vec::new(),
        Err(e) => {
            return Err(cluster.read_error(
                e,
                &format!("list scaledobjects.keda.sh in namespace {ns:?}"),
            ));
        }
    };
    let aimed: Vec<serde_json::Value> = aimed;
    Ok(Autoscalers {
        hpas: std::iter::once(format!("feast-{name}"))
            .chain(aimed.iter().map(crate::rules::keda::hpa_name))
            .collect(),
        scaled_objects: aimed
            .iter()
            .map(|so| crate::rules::keda::name(so).to_string())
            .collect(),
    })
}

/// The names of the store's pods now, read as metadata only; `None` when the caller may not
/// list pods (then no pod can be told gone).
async fn pod_names(cluster: &Cluster, lp: &ListParams) -> Result<Option<Vec<String>>> {
    let api: Api<k8s_openapi::api::core::v1::Pod> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.list_metadata(lp).await {
        Ok(list) => Ok(Some(
            list.items
                .into_iter()
                .filter_map(|p| p.metadata.name)
                .collect(),
        )),
        Err(e) if Failure::of(&e) == Failure::Forbidden => Ok(None),
        Err(e) => Err(cluster.read_error(
            e,
            &format!(
                "list pods in namespace {:?} for {RESOURCE}",
                cluster.namespace
            ),
        )),
    }
}

/// A namespaced built-in kind, read whole.
trait Namespaced:
    kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> Namespaced for K where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
{
}

async fn get_opt<K: Namespaced>(cluster: &Cluster, name: &str) -> Result<Option<K>> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.get_opt(name).await {
        Ok(found) => Ok(found),
        Err(e) if Failure::of(&e) == Failure::Forbidden => Ok(None),
        Err(e) => Err(cluster.read_error(
            e,
            &format!(
                "get {} {name:?} in namespace {:?}",
                K::kind(&()),
                cluster.namespace
            ),
        )),
    }
}

async fn list<K: Namespaced>(cluster: &Cluster, lp: ListParams) -> Result<Vec<K>> {
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.list(&lp).await {
        Ok(list) => Ok(list.items),
        Err(e) if Failure::of(&e) == Failure::Forbidden => Ok(Vec::new()),
        Err(e) => Err(cluster.read_error(
            e,
            &format!(
                "list {} in namespace {:?} for {RESOURCE}",
                K::plural(&()),
                cluster.namespace
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_kubectls_durations_and_days() {
        assert_eq!(parse_since("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_since("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["d", "-1d", "xd", "3w"] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }
}
