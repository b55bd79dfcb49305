//! `kubectl feast scale`: set a fixed replica count (`spec.replicas`) on FeatureStores, checked
//! first with the same rules as `validate`, and optionally wait until the pods are ready.

use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::change::{self, ChangeOptions, Lookups, Target};
use crate::cli::{GlobalArgs, parse_duration};
use crate::cluster::Cluster;
use crate::cluster::Failure;
use crate::error::{Error, Result};
use crate::featurestore::RESOURCE;
use crate::plan::{self, Answers, Plan, ScaleRequest, Surroundings};
use crate::rollout;
use crate::status::NAME_LABEL;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # 3 replicas (needs DB-backed stores)
  kubectl feast scale my-feast --replicas 3
  # ... and wait until 3 pods are ready
  kubectl feast scale my-feast --replicas 3 --wait
  # back to one pod, without asking
  kubectl feast scale my-feast --replicas 1 --yes
  kubectl feast scale my-feast --replicas 4 --current-replicas 3
  kubectl feast scale my-feast --replicas 2 --replace-autoscaling --diff
  kubectl feast scale -l team=ml --replicas 2 --dry-run=server

Exit codes: 0 done; 1 refused (rules, preconditions, no confirmation,
--wait timed out); 2 bad usage; 3 not found, forbidden, CRD missing or
cluster unreachable.")]
pub struct ScaleArgs {
    #[command(flatten)]
    pub target: Target,
    /// The number of replicas (1 or more: the CRD's minimum; a FeatureStore cannot scale to zero)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub replicas: i64,
    /// Precondition: only scale if spec.replicas is this now
    #[arg(long, value_name = "M")]
    pub current_replicas: Option<i64>,
    /// Precondition: only scale if the store is at this resourceVersion (a conflict is not retried)
    #[arg(long, value_name = "RV")]
    pub resource_version: Option<String>,
    /// On an autoscaled store, drop the HPA configuration in the same patch
    #[arg(long)]
    pub replace_autoscaling: bool,
    /// Wait until the FeatureStore's status shows N ready replicas
    #[arg(long, conflicts_with = "local")]
    pub wait: bool,
    /// How long --wait waits (e.g. 90s, 5m)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub change: ChangeOptions,
}

impl ScaleArgs {
    /// The request, free of its flags.
    pub fn request(&self) -> ScaleRequest {
        ScaleRequest {
            replicas: self.replicas,
            current_replicas: self.current_replicas,
            resource_version: self.resource_version.clone(),
            replace_autoscaling: self.replace_autoscaling,
        }
    }
}

pub async fn run(args: &ScaleArgs, global: &GlobalArgs) -> Result<()> {
    check_replicas(args.replicas)?;
    let request = args.request();
    let planner = |live: &Value, _: &Surroundings, _: &Answers| {
        plan::plan_scale(&request, live).map(Plan::Ready)
    };
    let Some((cluster, outcomes)) = change::run_or_local(
        change::Request {
            command: "scale",
            target: &args.target,
            options: &args.change,
            // The Deployment's count, for "from N" in what the operator does next.
            lookups: Lookups {
                autoscalers: true,
                deployment: true,
                misaimed_keda: true,
                ..Lookups::default()
            },
            resource_version: args.resource_version.clone(),
            plan: &planner,
            secret: None,
        },
        global,
    )
    .await?
    else {
        return Ok(());
    };
    if !args.wait {
        return Ok(());
    }
    if args.change.dry_run != change::DryRunArg::None {
        eprintln!("note: --wait has nothing to wait for on a dry run");
        return Ok(());
    }
    let api = cluster.featurestores(Some(&cluster.namespace));
    for outcome in &outcomes {
        wait_ready(&cluster, &api, &outcome.name, args.replicas, args.timeout).await?;
    }
    Ok(())
}

/// The CRD's `minimum: 1` on spec.replicas, said before anything is read (§2.1).
fn check_replicas(n: i64) -> Result<()> {
    if n < 1 {
        return Err(Error::refused(format!(
            "--replicas {n} is below the CRD's minimum of 1: spec.replicas must be 1 or more, a FeatureStore cannot be scaled to zero"
        ))
        .with_hint("use --replicas 1 for a single pod; to stop serving, delete or disable the store instead"));
    }
    if n > i64::from(i32::MAX) {
        return Err(Error::refused(format!(
            "--replicas {n} does not fit spec.replicas (an int32)"
        )));
    }
    Ok(())
}

fn progress_bar(name: &str, target: i64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(target).unwrap_or(0)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ready ({elapsed})")
    {
        bar.set_style(style);
    }
    bar.set_message(format!("{RESOURCE}/{name}"));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The API server was still gone when --timeout ran out.
fn server_lost_at_timeout(err: &Error, name: &str, timeout: Duration, ns: &str) -> Error {
    Error::incomplete(format!(
        "{}; stopped waiting after {}s: the change itself was stored, how far the rollout got is unknown",
        err.message,
        timeout.as_secs()
    ))
    .with_hint(format!(
        "once the API server answers, follow it with `kubectl feast status {name} -n {ns}`"
    ))
}

/// What `--wait` waited for, to say where it got when time ran out.
struct Waited<'a> {
    name: &'a str,
    target: i64,
    timeout: Duration,
    namespace: &'a str,
}

impl Waited<'_> {
    fn timed_out(&self, r: &plan::Readiness, rollout: Option<&RolloutView>, obj: &Value) -> Error {
        let Waited {
            name,
            target,
            timeout,
            namespace: ns,
        } = *self;
        let lag = if r.caught_up {
            String::new()
        } else {
            " (the operator has not applied the new count yet: status.applied differs)".into()
        };
        let rollout = match rollout {
            Some(ro) => format!("; rollout {}{}", ro.state.message, ro.pods),
            None => String::new(),
        };
        Error::refused(format!(
            "timed out after {}s waiting for {RESOURCE}/{name}: {} of {target} replicas ready{lag}; {}{rollout}",
            timeout.as_secs(),
            r.ready,
            plan::stuck_reason(obj)
        ))
        .with_hint(format!(
            "look at the pods (`kubectl get pods -n {ns} -l feast.dev/name={name}`) and `kubectl feast status {name} -n {ns}`; the change itself was stored"
        ))
    }
}

/// Follows the store's status until it shows `target` ready replicas, with a progress bar on
/// a terminal; on timeout, refuses with what was reached and the operator's condition.
async fn wait_ready(
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    name: &str,
    target: i64,
    timeout: Duration,
) -> Result<()> {
    let bar = progress_bar(name, target);
    let started = Instant::now();
    let doing = format!(
        "get {RESOURCE} {name:?} in namespace {:?}",
        cluster.namespace
    );
    let mut lost = false;
    loop {
        // The API server may go away while we wait (a restart, a network blip): keep asking
        // until --timeout, say so once, and never block past the timeout on one request.
        let remaining = timeout.saturating_sub(started.elapsed());
        let answer = match tokio::time::timeout(
            remaining.max(Duration::from_secs(1)),
            api.get(name),
        )
        .await
        {
            Ok(answer) => answer,
            Err(_) => Err(kube::Error::Service(Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer before --timeout",
            )))),
        };
        let obj = match answer {
            Ok(obj) => {
                if lost {
                    bar.suspend(|| eprintln!("note: the API server answers again; still waiting"));
                    lost = false;
                }
                obj
            }
            // An answer that will not change by asking again ends the wait; a transient one
            // (a 5xx, a 429) or none at all is retried until --timeout.
            Err(e) if !matches!(Failure::of(&e), Failure::Transient | Failure::Transport) => {
                return Err(cluster.read_error(e, &doing));
            }
            Err(e) => {
                let err = cluster.read_error(e, &doing);
                if started.elapsed() >= timeout {
                    bar.abandon();
                    return Err(server_lost_at_timeout(
                        &err,
                        name,
                        timeout,
                        &cluster.namespace,
                    ));
                }
                if !lost {
                    bar.suspend(|| {
                        eprintln!(
                            "note: lost the API server while waiting ({}); retrying until --timeout",
                            err.message
                        )
                    });
                    lost = true;
                }
                tokio::time::sleep(
                    Duration::from_secs(1).min(timeout - started.elapsed().min(timeout)),
                )
                .await;
                continue;
            }
        };
        let obj = serde_json::to_value(obj).map_err(|e| {
            Error::incomplete(format!(
                "cannot read the server's answer for {RESOURCE} {name:?}: {e}"
            ))
        })?;
        let r = plan::readiness(&obj, target);
        bar.set_position(u64::try_from(r.ready).unwrap_or(0));
        // The store's ready count includes old pods during a rollout: done only once the
        // Deployment's rollout of the new template is complete too (when it can be read).
        let remaining = timeout.saturating_sub(started.elapsed());
        let seen = rollout_of(cluster, name, remaining.max(Duration::from_secs(1))).await;
        let rollout = match &seen {
            DeploymentRead::Seen(view) => Some(view),
            _ => None,
        };
        if r.done() && seen.complete() {
            bar.finish_and_clear();
            println!("{RESOURCE}/{name}: {}/{target} replicas ready", r.ready);
            return Ok(());
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            bar.abandon();
            let waited = Waited {
                name,
                target,
                timeout,
                namespace: &cluster.namespace,
            };
            return Err(waited.timed_out(&r, rollout, &obj));
        }
        tokio::time::sleep((timeout - elapsed).min(Duration::from_millis(500))).await;
    }
}

/// The Deployment's rollout and why its pods are not ready.
struct RolloutView {
    state: rollout::Rollout,
    /// "; not ready: 2 pods: Unschedulable: ..." or empty.
    pods: String,
}

/// What `--wait` learnt of Deployment `feast-<name>`.
enum DeploymentRead {
    Seen(RolloutView),
    /// Not created (yet): the store cannot be serving at its new count.
    Absent,
    /// The caller may not read Deployments (the editor role reads FeatureStores only): `--wait`
    /// follows the store's status alone.
    Forbidden,
    /// The read failed (a 5xx, a timeout): nothing is known, so the wait goes on.
    Failed,
}

impl DeploymentRead {
    /// Whether the Deployment's side of the wait is over: its rollout of the new template is
    /// complete, or it cannot be read by this caller at all. A failed read is never success.
    fn complete(&self) -> bool {
        match self {
            DeploymentRead::Seen(view) => view.state.complete(),
            DeploymentRead::Forbidden => true,
            DeploymentRead::Absent | DeploymentRead::Failed => false,
        }
    }
}

/// Reads Deployment `feast-<name>` and its pods, each read bounded by what is left of
/// `--timeout`.
async fn rollout_of(cluster: &Cluster, name: &str, within: Duration) -> DeploymentRead {
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let read = tokio::time::timeout(within, deployments.get_opt(&format!("feast-{name}"))).await;
    let d = match read {
        Ok(Ok(Some(d))) => d,
        Ok(Ok(None)) => return DeploymentRead::Absent,
        Ok(Err(e)) if Failure::of(&e) == Failure::Forbidden => return DeploymentRead::Forbidden,
        Ok(Err(_)) | Err(_) => return DeploymentRead::Failed,
    };
    let Some(state) = rollout::of_deployment(&d) else {
        // No status yet: the Deployment controller has not looked at it.
        return DeploymentRead::Failed;
    };
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let params = ListParams::default().labels(&format!("{NAME_LABEL}={name}"));
    let reasons: Vec<String> = match tokio::time::timeout(within, pods.list(&params)).await {
        Ok(Ok(list)) => list.items.iter().filter_map(rollout::pod_reason).collect(),
        _ => Vec::new(),
    };
    let pods = if reasons.is_empty() {
        String::new()
    } else {
        format!(
            "; not ready: {}",
            rollout::summary(reasons.iter().map(String::as_str)).join("; ")
        )
    };
    DeploymentRead::Seen(RolloutView { state, pods })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(line: &[&str]) -> ScaleArgs {
        crate::commands::parse_args(&[&["scale"], line].concat()).expect("valid arguments")
    }

    fn store(spec: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "fs", "namespace": "ns", "resourceVersion": "5"}, "spec": spec})
    }

    #[test]
    fn zero_replicas_is_refused_with_the_crd_minimum() {
        let e = check_replicas(0).expect_err("zero");
        assert_eq!(e.exit_code(), 1);
        assert!(e.message.contains("minimum of 1"));
        assert!(check_replicas(1).is_ok());
    }

    #[test]
    fn scale_sets_spec_replicas_only() {
        let p = plan::plan_scale(
            &args(&["fs", "--replicas", "3"]).request(),
            &store(json!({"replicas": 1})),
        )
        .expect("planned");
        assert_eq!(p.patch, json!({"spec": {"replicas": 3}}));
        assert_eq!(p.verb, plan::Verb::Scaled);
    }

    #[test]
    fn an_autoscaled_store_is_refused_unless_autoscaling_is_replaced() {
        let hpa = store(json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}));
        let e = plan::plan_scale(&args(&["fs", "--replicas", "3"]).request(), &hpa)
            .expect_err("refused");
        assert!(e.message.contains("is autoscaled"));
        let hint = e.hint().unwrap_or_default();
        assert!(
            hint.contains("autoscale fs -n ns --off --replicas 3")
                && hint.contains("--replace-autoscaling")
        );
        let p = plan::plan_scale(
            &args(&["fs", "--replicas", "3", "--replace-autoscaling"]).request(),
            &hpa,
        )
        .expect("planned");
        assert_eq!(
            p.patch,
            json!({"spec": {"replicas": 3, "services": {"scaling": {"autoscaling": null}}}})
        );
    }

    #[test]
    fn current_replicas_precondition_is_checked_against_the_live_spec() {
        let live = store(json!({"replicas": 2}));
        let e = plan::plan_scale(
            &args(&["fs", "--replicas", "3", "--current-replicas", "4"]).request(),
            &live,
        )
        .expect_err("refused");
        assert!(e.message.contains("has spec.replicas 2, not 4"));
        assert!(
            plan::plan_scale(
                &args(&["fs", "--replicas", "3", "--current-replicas", "2"]).request(),
                &live
            )
            .is_ok()
        );
    }

    #[test]
    fn resource_version_precondition_is_checked_before_sending() {
        let live = store(json!({}));
        let e = plan::plan_scale(
            &args(&["fs", "--replicas", "2", "--resource-version", "4"]).request(),
            &live,
        )
        .expect_err("refused");
        assert!(e.message.contains("is at resourceVersion 5, not 4"));
    }

    #[test]
    fn dry_run_alone_means_client() {
        let a = args(&["fs", "--replicas", "2", "--dry-run"]);
        assert_eq!(a.change.dry_run, change::DryRunArg::Client);
        let a = args(&["fs", "--replicas", "2", "--dry-run=server"]);
        assert_eq!(a.change.dry_run, change::DryRunArg::Server);
    }
}
