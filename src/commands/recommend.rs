//! `kubectl feast recommend NAME`: a min, max, CPU target and disruption budget for a store's
//! HPA, from what Prometheus recorded of it (`crate::recommend`), each with its evidence and
//! the command that applies it; `--apply` runs that command through the normal change flow.

use std::time::Duration;

use clap::Args;
use k8s_openapi::api::autoscaling::v2::MetricSpec;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::featurestore::FeatureStore;
use crate::hint::Hint;
use crate::prometheus::{Prometheus, PrometheusArgs};
use crate::recommend::{Advice, Current, advise};
use crate::record::{self, Subject};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # advice from the last week of the store's record
  kubectl feast recommend my-feast -n prod
  # from a Prometheus at a URL, as JSON
  kubectl feast recommend my-feast --prometheus \\
      http://prometheus.monitoring:9090 -o json
  # apply it (the normal change flow: diff, checks, confirmation)
  kubectl feast recommend my-feast --apply

The record: kube-state-metrics' series of the store's HPA (desired
replicas, ScalingLimited, the utilization against its target), read
from Prometheus (--prometheus, KUBECTL_FEAST_PROMETHEUS, else a Service
labelled app.kubernetes.io/name=prometheus, through the API server).

Exit codes: 0 advice given (or the record too short to advise, said
plainly); 1 --apply refused; 2 bad usage; 3 no Prometheus, the store
not found, or the cluster or Prometheus unreachable.")]
pub struct RecommendArgs {
    /// The FeatureStore: NAME, featurestore/NAME or feast/NAME
    #[arg(id = "names", value_name = "NAME", value_parser = super::history::parse_name)]
    pub name: String,
    /// How much of the record to read (e.g. 7d, 24h)
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = super::history::parse_since)]
    pub since: Duration,
    /// The least record to advise from: a shorter one may have missed the peak
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = super::history::parse_since)]
    pub min_record: Duration,
    /// Apply the suggested min, max and CPU target with `autoscale` (then the budget with
    /// `pdb`), each through the normal change flow
    #[arg(long)]
    pub apply: bool,
    /// With --apply: don't ask
    #[arg(short = 'y', long, requires = "apply")]
    pub yes: bool,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

/// `-o json`: the advice, where it came from, and its commands.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    name: &'a str,
    namespace: &'a str,
    prometheus: &'a str,
    since: String,
    #[serde(flatten)]
    advice: &'a Advice,
    commands: Vec<String>,
}

pub async fn run(args: &RecommendArgs, global: &GlobalArgs) -> Result<()> {
    let output = global.output_in("recommend", &[OutputFormat::Json, OutputFormat::Yaml])?;
    if global.all_namespaces {
        return Err(Error::usage(
            "`kubectl feast recommend` advises on one FeatureStore; -A is not supported",
        )
        .with_hint("pick the namespace with -n NAMESPACE"));
    }
    let cluster = Cluster::connect(global).await?;
    let ns = cluster.namespace.clone();
    let api = cluster.featurestores(Some(&ns));
    let store = super::change::get(&cluster, &api, &args.name).await?;
    let fs = FeatureStore::new(&store);
    let prometheus =
        match Prometheus::find(&args.prometheus, &cluster, global.request_timeout).await? {
            Ok(prometheus) => prometheus,
            Err(why) => {
                return Err(Error::incomplete(format!(
                    "no Prometheus to read the store's record from: none given, and {why}"
                ))
                .with_hint("pass --prometheus URL (or set KUBECTL_FEAST_PROMETHEUS)"));
            }
        };
    let config = fs.autoscaling_config();
    let autoscalers = super::history::autoscalers(&cluster, &args.name).await?;
    let now = Timestamp::now();
    let since = record::window_start(now, args.since);
    let queries = record::queries(&Subject {
        namespace: &ns,
        name: &args.name,
        hpas: &autoscalers.hpas,
        scaled_objects: &autoscalers.scaled_objects,
    });
    let series = prometheus
        .ranges(&queries, since, now, record::step_for(args.since))
        .await?;
    let last = |name: &str| {
        record::series(&series, name)
            .and_then(|s| s.points.last())
            .map(|p| p.value.round() as i64)
    };
    let current = Current {
        min: config
            .as_ref()
            .map(|c| c.min_replicas.map_or(1, i64::from))
            .or_else(|| last("minReplicas"))
            .unwrap_or(1),
        max: config
            .as_ref()
            .map(|c| i64::from(c.max_replicas))
            .or_else(|| last("maxReplicas"))
            .unwrap_or(1),
        cpu_target: config
            .as_ref()
            .and_then(|c| cpu_target(c.metrics.as_deref().unwrap_or_default()))
            .or_else(|| {
                series
                    .iter()
                    .find(|s| {
                        s.name == "target"
                            && s.labels.get("metric_name").map(String::as_str) == Some("cpu")
                    })
                    .and_then(|s| s.points.last())
                    .map(|p| p.value.round() as i64)
            }),
    };
    let advice = advise(&series, current, args.min_record);
    // A store KEDA scales takes its bounds from its ScaledObject: no `autoscale` for it.
    let keda = config.is_none() && !autoscalers.scaled_objects.is_empty();
    let commands = if keda {
        Vec::new()
    } else {
        commands(&advice, &args.name, &ns, global.context())
    };
    let report = Report {
        name: &args.name,
        namespace: &ns,
        prometheus: &prometheus.shown,
        since: since.to_string(),
        advice: &advice,
        commands: commands.iter().map(ToString::to_string).collect(),
    };
    let text = match output {
        Some(OutputFormat::Json) => crate::render::json(&report)?,
        Some(OutputFormat::Yaml) => crate::render::yaml(&report)?,
        _ => crate::render::term::safe(&text(&report, &commands), global.color_enabled())
            .into_owned(),
    };
    print!("{text}");
    if !args.apply {
        return Ok(());
    }
    if advice.too_short.is_some() {
        return Err(Error::refused("nothing applied: the record is too short to advise")
            .with_hint("read a longer window with --since, or lower --min-record if the record is known to hold the peaks"));
    }
    if config.is_none() {
        return Err(Error::refused(format!(
            "nothing applied: featurestore {:?} has no operator-managed HPA (spec.services.scaling.autoscaling)",
            args.name
        ))
        .with_hint("run the suggested `kubectl feast autoscale` yourself to make one, or `--keda` for a ScaledObject"));
    }
    for command in &commands {
        let mut words: Vec<String> = command.argv().split_off(2);
        if args.yes {
            words.push("--yes".into());
        }
        apply(&words, global).await?;
    }
    Ok(())
}

/// The CPU utilization target of an HPA's metrics, if one is set.
fn cpu_target(metrics: &[MetricSpec]) -> Option<i64> {
    metrics
        .iter()
        .filter_map(|m| m.resource.as_ref())
        .find(|r| r.name == "cpu")
        .and_then(|r| r.target.average_utilization)
        .map(i64::from)
}

/// The commands that apply the advice: `autoscale` for min, max and target, `pdb` for the
/// budget.
fn commands(
    advice: &Advice,
    name: &str,
    ns: &str,
    context: Option<&str>,
) -> Vec<crate::hint::Command> {
    let (Some(min), Some(max), Some(cpu)) = (advice.min, advice.max, advice.cpu_target) else {
        return Vec::new();
    };
    let (min, max, cpu) = (min.to_string(), max.to_string(), cpu.to_string());
    [
        crate::hint::Command::feast([
            "autoscale",
            name,
            "-n",
            ns,
            "--min",
            &min,
            "--max",
            &max,
            "--cpu",
            &cpu,
        ]),
        crate::hint::Command::feast(["pdb", name, "-n", ns, "--max-unavailable", "1"]),
    ]
    .into_iter()
    .flat_map(|c| {
        Hint::from(c)
            .in_context(context)
            .commands()
            .cloned()
            .collect::<Vec<_>>()
    })
    .collect()
}

/// Runs one of the commands through the command line's own parser and the change flow, with
/// the caller's global flags.
async fn apply(words: &[String], global: &GlobalArgs) -> Result<()> {
    use clap::FromArgMatches;
    let argv = std::iter::once("kubectl-feast".to_string()).chain(words.iter().cloned());
    let mut matches = crate::cli::command()
        .try_get_matches_from(argv)
        .map_err(|e| Error::incomplete(format!("the suggested command did not parse: {e}")))?;
    let cli = crate::cli::Cli::from_arg_matches_mut(&mut matches)
        .map_err(|e| Error::incomplete(format!("the suggested command did not parse: {e}")))?;
    Box::pin(super::run(&cli.command, global)).await
}

fn text(r: &Report, commands: &[crate::hint::Command]) -> String {
    let a = r.advice;
    let mut out = format!(
        "Recommendation for featurestore.feast.dev/{} in namespace {}, from Prometheus at {} since {}\n",
        r.name, r.namespace, r.prometheus, r.since
    );
    out.push_str(&format!(
        "  now: min {}, max {}, cpu target {}\n\n",
        a.current.min,
        a.current.max,
        a.current
            .cpu_target
            .map_or("none".into(), |t| format!("{t}%"))
    ));
    if let Some(why) = &a.too_short {
        out.push_str(&format!("No advice: {why}.\n"));
        return out;
    }
    if let Some(f) = &a.facts {
        out.push_str(&format!(
            "The record: {} samples over {}; desired replicas peak {}, p95 {}, p5 {}; held at max in {} sample(s){}\n\n",
            f.samples,
            crate::recommend::show(Duration::from_secs(f.span_seconds)),
            f.peak_desired,
            f.p95_desired,
            f.p5_desired,
            f.samples_at_max,
            f.cpu_at_peak
                .map_or(String::new(), |u| format!("; cpu {u:.0}% at the peak"))
        ));
    }
    let width = a
        .suggestions
        .iter()
        .map(|s| s.field.len())
        .max()
        .unwrap_or(0);
    for s in &a.suggestions {
        out.push_str(&format!(
            "  {:width$}  {} → {}\n  {:width$}  {}\n",
            s.field, s.current, s.suggested, "", s.evidence
        ));
    }
    if commands.is_empty() && a.min.is_some() {
        out.push_str("\nKEDA scales this store: set minReplicaCount and maxReplicaCount in its ScaledObject.\n");
    }
    if !commands.is_empty() {
        out.push_str("\nTo apply (or run with --apply):\n");
        for c in commands {
            out.push_str(&format!("  {c}\n"));
        }
    }
    out
}
