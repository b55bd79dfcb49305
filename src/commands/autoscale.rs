//! `kubectl feast autoscale`: configure the operator-managed HPA
//! (`spec.services.scaling.autoscaling`), or turn it off while keeping the current replica count.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use super::change::{self, ChangeOptions, Lookups, Target};
use crate::cli::{GlobalArgs, parse_duration};
use crate::error::{Error, Result};
use crate::featurestore::{DEFAULT_CPU_UTILIZATION, FeatureStore, RESOURCE};
use crate::manifests;
use crate::plan::{self, Answers, AutoscalingRequest, Plan, Planned, Question, Surroundings, Verb};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # HPA on the default 80% CPU
  kubectl feast autoscale my-feast --min 2 --max 10
  # raise the max; the rest stays
  kubectl feast autoscale my-feast --max 20
  kubectl feast autoscale my-feast --min 2 --max 10 --cpu 70% --memory \\
      80%
  # ... and the CPU request it needs
  kubectl feast autoscale my-feast --max 10 --cpu 70% --cpu-request 200m
  # custom or external metrics, from a file
  kubectl feast autoscale my-feast --max 20 --metrics-file rps.yaml
  kubectl feast autoscale my-feast --max 10 --scale-down-stabilization \\
      10m
  # exactly this HPA, nothing else
  kubectl feast autoscale my-feast --replace --max 6 --cpu 60%
  # keep today's count, drop the HPA
  kubectl feast autoscale my-feast --off
  kubectl feast autoscale my-feast --off --replicas 3 --yes
  # print a ScaledObject
  kubectl feast autoscale my-feast --keda --min 2 --max 10 --trigger \\
      cpu=70%
  # ... and create it
  kubectl feast autoscale my-feast --keda --max 10 --trigger cpu=70% \\
      --apply

Exit codes: 0 done; 1 refused (rules, bounds, no confirmation); 2 bad
usage; 3 not found, forbidden, CRD missing or cluster unreachable.")]
pub struct AutoscaleArgs {
    #[command(flatten)]
    pub target: Target,
    /// The HPA's maximum replicas (required when the store has no HPA configuration yet)
    #[arg(
        long,
        value_name = "B",
        conflicts_with = "off",
        allow_negative_numbers = true
    )]
    pub max: Option<i64>,
    /// The HPA's minimum replicas (the operator uses 1 when unset)
    #[arg(
        long,
        value_name = "A",
        conflicts_with = "off",
        allow_negative_numbers = true
    )]
    pub min: Option<i64>,
    /// Target average CPU utilisation, e.g. 70%
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, conflicts_with = "off", allow_hyphen_values = true)]
    pub cpu: Option<i64>,
    /// Target average memory utilisation, e.g. 80%
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, conflicts_with = "off", allow_hyphen_values = true)]
    pub memory: Option<i64>,
    /// A CPU request (e.g. 200m) for every server container that sets none, in the same
    /// patch: what a CPU Utilization metric (the default one included) needs to be computed
    #[arg(long, value_name = "QUANTITY", value_parser = parse_quantity, conflicts_with = "off")]
    pub cpu_request: Option<String>,
    /// A memory request (e.g. 256Mi) for every server container that sets none, in the same
    /// patch: what a memory Utilization metric needs
    #[arg(long, value_name = "QUANTITY", value_parser = parse_quantity, conflicts_with = "off")]
    pub memory_request: Option<String>,
    /// A YAML list of autoscaling/v2 MetricSpecs (custom, external, ... metrics)
    #[arg(long, value_name = "FILE", conflicts_with = "off")]
    pub metrics_file: Option<PathBuf>,
    /// The HPA's scale-down stabilisation window (e.g. 5m; at most 1h)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "off")]
    pub scale_down_stabilization: Option<Duration>,
    /// A YAML autoscaling/v2 HorizontalPodAutoscalerBehavior (scaleUp, scaleDown)
    #[arg(long, value_name = "FILE", conflicts_with = "off")]
    pub behavior_file: Option<PathBuf>,
    /// Replace the whole HPA configuration with exactly these flags (by default the flags
    /// change only their own fields and the rest is kept)
    #[arg(long, conflicts_with = "off")]
    pub replace: bool,
    /// Turn autoscaling off: drop the HPA configuration and set spec.replicas in the same patch
    #[arg(long)]
    pub off: bool,
    /// With --off: the fixed count (default: the count the HPA runs now)
    #[arg(long, value_name = "N", conflicts_with_all = ["max", "min"], allow_negative_numbers = true)]
    pub replicas: Option<i64>,
    /// Autoscale with KEDA instead of the operator's HPA: print a ScaledObject that targets the
    /// FeatureStore's scale subresource (never the Deployment), after the same pre-flight;
    /// e.g. --keda --min 2 --max 10 --trigger cpu=70%
    #[arg(
        long,
        requires = "max",
        conflicts_with_all = ["off", "cpu", "memory", "metrics_file", "scale_down_stabilization", "behavior_file", "replace", "cpu_request", "memory_request"]
    )]
    pub keda: bool,
    /// With --keda, repeatable: cpu=70%, memory=80%, or 'prometheus=SERVER|QUERY|THRESHOLD',
    /// e.g. --trigger 'prometheus=http://prometheus.monitoring:9090|sum(rate(feast_requests_total[2m]))|100'
    #[arg(long = "trigger", value_name = "TYPE=VALUE", requires = "keda", value_parser = crate::rules::keda::parse_trigger)]
    pub triggers: Vec<crate::rules::keda::Trigger>,
    /// With --keda: create or update the ScaledObject (server-side apply) instead of only
    /// printing it; e.g. --keda --max 10 --trigger cpu=70% --apply
    #[arg(long, requires = "keda")]
    pub apply: bool,
    #[command(flatten)]
    pub change: ChangeOptions,
}

pub async fn run(args: &AutoscaleArgs, global: &GlobalArgs) -> Result<()> {
    if args.keda {
        return super::autoscale_keda::run(args, global).await;
    }
    if args.off {
        return run_off(args, global).await;
    }
    let request = request(args, read_metrics(args)?, read_behavior(args)?)?;
    if !args.change_requested() {
        return Err(
            Error::usage("`kubectl feast autoscale` needs a change").with_hint(
                "give --max (and --min, --cpu, ...) to configure the HPA, or --off to turn it off",
            ),
        );
    }
    let requests: Vec<(&str, &str)> =
        [("cpu", &args.cpu_request), ("memory", &args.memory_request)]
            .into_iter()
            .filter_map(|(resource, q)| q.as_deref().map(|q| (resource, q)))
            .collect();
    let planner = |live: &Value, around: &Surroundings, _: &Answers| {
        refuse_second_owner(live, around)?;
        plan_autoscale(&request, &requests, live).map(Plan::Ready)
    };
    change::run_or_local(
        change::Request {
            command: "autoscale",
            target: &args.target,
            options: &args.change,
            lookups: Lookups {
                autoscalers: true,
                misaimed_keda: true,
                ..Lookups::default()
            },
            resource_version: None,
            plan: &planner,
            secret: None,
        },
        global,
    )
    .await
    .map(|_| ())
}

async fn run_off(args: &AutoscaleArgs, global: &GlobalArgs) -> Result<()> {
    if let Some(n) = args.replicas
        && n < 1
    {
        return Err(Error::refused(format!(
            "--replicas {n} is below the CRD's minimum of 1 (spec.replicas)"
        ))
        .with_hint("give --replicas 1 or more"));
    }
    let planner = |live: &Value, around: &Surroundings, answers: &Answers| {
        Ok(plan_off(live, around, args.replicas.or(answers.replicas)))
    };
    change::run_or_local(
        change::Request {
            command: "autoscale",
            target: &args.target,
            options: &args.change,
            lookups: Lookups {
                autoscalers: false,
                // For "from N", and the count to keep when --replicas is not given.
                deployment: true,
                hpa_load: true,
                misaimed_keda: true,
                secrets: false,
            },
            resource_version: None,
            plan: &planner,
            secret: None,
        },
        global,
    )
    .await
    .map(|_| ())
}

impl AutoscaleArgs {
    /// Whether any flag asks for a change of the HPA configuration.
    fn change_requested(&self) -> bool {
        self.max.is_some()
            || self.min.is_some()
            || self.cpu.is_some()
            || self.memory.is_some()
            || self.metrics_file.is_some()
            || self.scale_down_stabilization.is_some()
            || self.behavior_file.is_some()
            || self.cpu_request.is_some()
            || self.memory_request.is_some()
    }
}

/// A resource quantity as Kubernetes writes one (`200m`, `0.5`, `1`, `256Mi`, `1G`, `1e3`),
/// more than zero.
pub fn parse_quantity(s: &str) -> std::result::Result<String, String> {
    const SUFFIXES: [&str; 14] = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let exponent = suffix.strip_prefix(['e', 'E']).is_some_and(|e| {
        !e.is_empty()
            && e.trim_start_matches(['+', '-'])
                .chars()
                .all(|c| c.is_ascii_digit())
    });
    let positive = number.parse::<f64>().is_ok_and(|n| n > 0.0);
    if positive && (SUFFIXES.contains(&suffix) || exponent) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a resource quantity above 0: e.g. 200m or 0.5 (CPU), 256Mi or 1Gi (memory)"
        ))
    }
}

/// `70%` or `70`: a utilisation target, more than 0.
pub fn parse_percent(s: &str) -> std::result::Result<i64, String> {
    let digits = s.trim().strip_suffix('%').unwrap_or(s.trim());
    match digits.parse::<i64>() {
        Ok(p) if p > 0 && p <= i64::from(i32::MAX) => Ok(p),
        _ => Err(format!(
            "{s:?} is not a utilisation target: use a whole percentage above 0, e.g. 70%"
        )),
    }
}

fn utilization(resource: &str, percent: i64) -> Value {
    json!({"type": "Resource", "resource": {"name": resource,
        "target": {"type": "Utilization", "averageUtilization": percent}}})
}

/// The HPA configuration the flags ask for, with the bounds the CRD and the HPA API demand.
fn request(
    args: &AutoscaleArgs,
    file_metrics: Option<Vec<Value>>,
    file_behavior: Option<Value>,
) -> Result<AutoscalingRequest> {
    if let Some(min) = args.min
        && min < 1
    {
        return Err(Error::refused(format!(
            "--min {min} is below the CRD's minimum of 1 (autoscaling.minReplicas)"
        ))
        .with_hint("use --min 1 or more; a FeatureStore cannot scale to zero"));
    }
    if let Some(max) = args.max
        && max < 1
    {
        return Err(Error::refused(format!(
            "--max {max} is below the CRD's minimum of 1 (autoscaling.maxReplicas)"
        ))
        .with_hint("use --max 1 or more"));
    }
    if let (Some(max), Some(min)) = (args.max, args.min)
        && max < min
    {
        return Err(Error::refused(format!(
            "--max {max} is below --min {min}: the HPA API rejects maxReplicas < minReplicas, so the operator's reconcile would fail"
        ))
        .with_hint(format!("raise --max to {min} or more, or lower --min")));
    }
    let mut metrics = Vec::new();
    if let Some(p) = args.cpu {
        metrics.push(utilization("cpu", p));
    }
    if let Some(p) = args.memory {
        metrics.push(utilization("memory", p));
    }
    metrics.extend(file_metrics.unwrap_or_default());
    let mut behavior = file_behavior;
    if let Some(window) = args.scale_down_stabilization {
        let secs = window.as_secs();
        if secs > 3600 {
            return Err(Error::refused(format!(
                "--scale-down-stabilization {secs}s is over the HPA API's limit of 3600s (1h)"
            ))
            .with_hint("use 1h or less"));
        }
        let b = behavior.get_or_insert_with(|| json!({}));
        b["scaleDown"]["stabilizationWindowSeconds"] = json!(secs);
    }
    Ok(AutoscalingRequest {
        min: args.min,
        max: args.max,
        metrics,
        behavior,
        replace: args.replace,
    })
}

/// The operator's HPA beside another autoscaler of the same store (a KEDA ScaledObject, an HPA
/// of the user's) would be two owners of one replica count: each undoes the other's writes, and
/// `validate` calls it `keda/two-owners`. Refused, with the order of steps that moves the store
/// from the one to the other; `--yes` does not override it.
fn refuse_second_owner(live: &Value, around: &Surroundings) -> Result<()> {
    let fs = FeatureStore::new(live);
    if around.external_autoscalers.is_empty() || fs.autoscaling().is_some() {
        // Already two owners (status calls it a conflict): changing the HPA's settings does
        // not add one, and `validate` says how to resolve it.
        return Ok(());
    }
    let ns = fs.namespace().unwrap_or("default");
    let owners: Vec<String> = around
        .external_autoscalers
        .iter()
        .map(ToString::to_string)
        .collect();
    let removals: Vec<String> = around
        .external_autoscalers
        .iter()
        .map(|a| format!("`{}`", a.delete_command(ns)))
        .collect();
    Err(Error::refused(format!(
        "{RESOURCE}/{} is already scaled by {}: the operator's HPA would be a second owner of its replica count (keda/two-owners), each undoing the other's writes; nothing was sent",
        fs.name(),
        owners.join(" and ")
    ))
    .with_hint(format!(
        "to move it to the operator's HPA: first {} (KEDA then deletes the HPA it made), then run this command again; to keep the current autoscaler, change it instead",
        removals.join(" and ")
    )))
}

/// The patch for one store: the fields the flags set (all of the block with `--replace`), and
/// `spec.replicas` removed (R1).
fn plan_autoscale(
    request: &AutoscalingRequest,
    requests: &[(&str, &str)],
    live: &Value,
) -> Result<Planned> {
    let fs = FeatureStore::new(live);
    let mut patch = plan::autoscale_patch(request, live).map_err(|why| {
        Error::usage(format!("{RESOURCE}/{}: {why}", fs.name()))
            .with_hint("e.g. `kubectl feast autoscale NAME --min 2 --max 10`")
    })?;
    let mut notes = Vec::new();
    if !requests.is_empty() {
        let (set, on) = plan::requests_patch(live, requests);
        plan::merge_patch(&mut patch, &set);
        notes.push(if on.is_empty() {
            "every server container already sets the requests given; none changed".to_string()
        } else {
            format!(
                "requests set where none was (container resource quantity): {}",
                on.join(", ")
            )
        });
    }
    let after = plan::patched(live, &patch);
    let metrics_after = FeatureStore::new(&after)
        .autoscaling()
        .and_then(|a| a.get("metrics"))
        .and_then(Value::as_array)
        .is_some_and(|m| !m.is_empty());
    if !metrics_after {
        notes.push(format!(
            "no metric is set: the operator's default applies, {DEFAULT_CPU_UTILIZATION}% average CPU utilisation (choose with --cpu, --memory or --metrics-file)"
        ));
    }
    Ok(Planned {
        patch,
        verb: Verb::Autoscaled,
        notes,
    })
}

/// The count to keep when autoscaling is turned off: what the HPA asked for last
/// (`status.scalingStatus.desiredReplicas`), else the Deployment's count. Never a silent 1.
fn off_replicas(live: &Value, around: &Surroundings) -> Option<i64> {
    FeatureStore::new(live)
        .get("status.scalingStatus.desiredReplicas")
        .and_then(Value::as_i64)
        .filter(|n| *n >= 1)
        .or(around.deployment_replicas.filter(|n| *n >= 1))
}

/// Turning autoscaling off at `replicas` (the flag or the user's answer), else at the count
/// the store runs now; when nothing says how many that is, the question to ask.
fn plan_off(live: &Value, around: &Surroundings, replicas: Option<i64>) -> Plan {
    let fs = FeatureStore::new(live);
    if fs.autoscaling().is_none() {
        return Plan::Ready(Planned {
            patch: json!({}),
            verb: Verb::Configured,
            notes: vec![format!(
                "{} is not autoscaled; nothing to turn off (change its count with `kubectl feast scale`)",
                fs.name()
            )],
        });
    }
    match replicas.or_else(|| off_replicas(live, around)) {
        Some(n) => Plan::Ready(Planned {
            patch: plan::autoscale_off_patch(n),
            verb: Verb::Configured,
            notes: around
                .hpa_load
                .as_ref()
                .and_then(|load| load.overload(n))
                .into_iter()
                .collect(),
        }),
        None => Plan::Ask(Question::ReplicasAfterAutoscaling {
            store: fs.name().to_string(),
        }),
    }
}

fn read_yaml(path: &Path, flag: &str) -> Result<Vec<Value>> {
    let shown = path.display().to_string();
    let docs = manifests::read_paths(std::slice::from_ref(&shown), &mut std::io::empty()).map_err(
        |e| {
            let hints = e.hints.clone();
            Error::incomplete(format!("{flag}: {e}")).with_hints(hints)
        },
    )?;
    Ok(docs.into_iter().map(|d| d.value).collect())
}

fn read_metrics(args: &AutoscaleArgs) -> Result<Option<Vec<Value>>> {
    let Some(path) = &args.metrics_file else {
        return Ok(None);
    };
    metrics_from(
        read_yaml(path, "--metrics-file")?,
        &path.display().to_string(),
    )
    .map(Some)
}

/// A YAML list of MetricSpecs, a `metrics:` key holding one, or one MetricSpec per document.
fn metrics_from(docs: Vec<Value>, shown: &str) -> Result<Vec<Value>> {
    let bad = || {
        Error::usage(format!(
            "--metrics-file {shown} holds no autoscaling/v2 MetricSpec list"
        ))
        .with_hint("write a YAML list, e.g. `- type: Pods\\n  pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: \"100\"}}`")
    };
    let items: Vec<Value> = match docs.as_slice() {
        [Value::Array(items)] => items.clone(),
        [Value::Object(map)] if map.get("metrics").is_some_and(Value::is_array) => map
            .get("metrics")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        many if many.iter().all(Value::is_object) => many.to_vec(),
        _ => return Err(bad()),
    };
    if items.is_empty()
        || !items
            .iter()
            .all(|m| m.get("type").is_some_and(Value::is_string))
    {
        return Err(bad());
    }
    Ok(items)
}

fn read_behavior(args: &AutoscaleArgs) -> Result<Option<Value>> {
    let Some(path) = &args.behavior_file else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let docs = read_yaml(path, "--behavior-file")?;
    let behavior = match docs.as_slice() {
        [Value::Object(map)] => match map.get("behavior") {
            Some(b @ Value::Object(_)) => b.clone(),
            _ => Value::Object(map.clone()),
        },
        _ => {
            return Err(Error::usage(format!(
                "--behavior-file {shown} holds no autoscaling/v2 HorizontalPodAutoscalerBehavior"
            ))
            .with_hint("write one YAML object with scaleUp and/or scaleDown"));
        }
    };
    Ok(Some(behavior))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_read_as_kubernetes_writes_them() {
        for ok in ["200m", "0.5", "1", "256Mi", "1Gi", "2G", "1e3", "1.5Ki"] {
            assert_eq!(parse_quantity(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["", "0", "0m", "-1", "1x", "m", "1.2.3", "1e", "ten"] {
            assert!(parse_quantity(bad).is_err(), "{bad}");
        }
    }

    fn args(line: &[&str]) -> AutoscaleArgs {
        crate::commands::parse_args(&[&["autoscale", "fs"], line].concat())
            .expect("valid arguments")
    }

    fn store(spec: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "fs", "namespace": "ns"}, "spec": spec})
    }

    #[test]
    fn percentages_parse_with_or_without_the_sign() {
        assert_eq!(parse_percent("70%"), Ok(70));
        assert_eq!(parse_percent("150"), Ok(150));
        assert!(parse_percent("0%").is_err());
        assert!(parse_percent("seventy").is_err());
    }

    #[test]
    fn cpu_and_memory_flags_become_utilization_metrics() {
        let r = request(
            &args(&["--max", "5", "--cpu", "70%", "--memory", "80%"]),
            None,
            None,
        )
        .expect("request");
        assert_eq!(
            r.metrics,
            vec![utilization("cpu", 70), utilization("memory", 80)]
        );
    }

    #[test]
    fn no_metric_flags_leave_the_operator_default_and_say_so() {
        let r = request(&args(&["--max", "5"]), None, None).expect("request");
        assert!(r.metrics.is_empty());
        let p = plan_autoscale(&r, &[], &store(json!({"replicas": 3}))).expect("plan");
        assert!(p.notes[0].contains("80% average CPU"));
        assert_eq!(p.patch["spec"]["replicas"], Value::Null);
        assert!(
            p.patch["spec"]
                .as_object()
                .is_some_and(|s| s.contains_key("replicas"))
        );
    }

    #[test]
    fn bounds_are_refused_below_one_or_inverted() {
        let e = request(&args(&["--max", "5", "--min", "0"]), None, None).expect_err("min 0");
        assert!(e.message.contains("--min 0"));
        let e = request(&args(&["--max", "2", "--min", "3"]), None, None).expect_err("max < min");
        assert!(e.message.contains("--max 2 is below --min 3"));
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn stabilization_merges_into_the_behavior_file() {
        let file =
            json!({"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]}});
        let r = request(
            &args(&["--max", "5", "--scale-down-stabilization", "5m"]),
            None,
            Some(file),
        )
        .expect("request");
        let b = r.behavior.expect("behavior");
        assert_eq!(b["scaleDown"]["stabilizationWindowSeconds"], json!(300));
        assert_eq!(b["scaleUp"]["policies"][0]["value"], json!(2));
        let e = request(
            &args(&["--max", "5", "--scale-down-stabilization", "2h"]),
            None,
            None,
        )
        .expect_err("over an hour");
        assert!(e.message.contains("3600s"));
    }

    #[test]
    fn metrics_files_may_be_a_list_a_metrics_key_or_documents() {
        let m = json!({"type": "Pods", "pods": {}});
        assert_eq!(
            metrics_from(vec![json!([m.clone()])], "f").expect("list"),
            vec![m.clone()]
        );
        assert_eq!(
            metrics_from(vec![json!({"metrics": [m.clone()]})], "f").expect("key"),
            vec![m.clone()]
        );
        assert_eq!(
            metrics_from(vec![m.clone(), m.clone()], "f")
                .expect("docs")
                .len(),
            2
        );
        assert!(metrics_from(vec![json!([{"pods": {}}])], "f").is_err());
        assert!(metrics_from(vec![json!("text")], "f").is_err());
    }

    #[test]
    fn off_keeps_the_hpas_desired_count_then_the_deployments() {
        let mut live = store(json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}));
        let around = Surroundings {
            deployment_replicas: Some(3),
            ..Default::default()
        };
        assert_eq!(off_replicas(&live, &around), Some(3));
        live["status"] = json!({"scalingStatus": {"desiredReplicas": 4, "currentReplicas": 4}});
        assert_eq!(off_replicas(&live, &around), Some(4));
        assert_eq!(
            off_replicas(&store(json!({})), &Surroundings::default()),
            None
        );
        let Plan::Ready(p) = plan_off(&live, &Surroundings::default(), Some(4)) else {
            panic!("a count was given");
        };
        assert_eq!(
            p.patch,
            json!({"spec": {"replicas": 4, "services": {"scaling": {"autoscaling": null}}}})
        );
    }

    #[test]
    fn off_on_a_store_without_autoscaling_changes_nothing() {
        let Plan::Ready(p) = plan_off(
            &store(json!({"replicas": 2})),
            &Surroundings::default(),
            None,
        ) else {
            panic!("nothing to ask");
        };
        assert_eq!(p.patch, json!({}));
        assert!(p.notes[0].contains("not autoscaled"));
    }

    #[test]
    fn off_without_a_known_count_asks_instead_of_dropping_to_one() {
        let hpa = store(json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}));
        assert_eq!(
            plan_off(&hpa, &Surroundings::default(), None),
            Plan::Ask(Question::ReplicasAfterAutoscaling {
                store: "fs".to_string()
            })
        );
        let around = Surroundings {
            deployment_replicas: Some(3),
            ..Default::default()
        };
        let Plan::Ready(p) = plan_off(&hpa, &around, None) else {
            panic!("the Deployment's count is known");
        };
        assert_eq!(p.patch["spec"]["replicas"], json!(3));
    }

    #[test]
    fn off_conflicts_with_hpa_flags_and_replicas_needs_off() {
        let parse = crate::commands::parse_args::<AutoscaleArgs>;
        assert!(parse(&["autoscale", "fs", "--off", "--max", "3"]).is_err());
        assert!(parse(&["autoscale", "fs", "--max", "3", "--replicas", "2"]).is_err());
    }
}
