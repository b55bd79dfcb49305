//! End to end against the LIVING cluster (`scripts/dev-cluster up --full`, see
//! docs/control-plane.md): the real Feast Operator writes the Deployment, HPA and PDB,
//! kube-controller-manager rolls the Deployment, runs the HPA and the disruption controller,
//! kube-scheduler places the pods on kwok's six nodes in three zones, and metrics-server serves
//! the CPU use that kwok reports from the pod annotation `kwok.x-k8s.io/usage-cpu`.
//!
//! Each test drives the real `kubectl-feast` binary through a transition of operator-contract
//! §4.8 and checks what the chain then did: the objects the operator wrote, where the pods went,
//! and that every "next, the Feast Operator will" line the command printed happened, and that
//! nothing changed that no line announced.

use crate::support;

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::living;

/// Generous: the machine may be busy, and a rollout waits for the scheduler, kwok and the
/// Deployment controller in turn. Only a deadline, never a timing claim.
const SETTLE: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------------------------
// helpers

fn kubectl(args: &[&str]) -> Output {
    living().kubectl().args(args).output().expect("run kubectl")
}

fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An object as JSON, or None when it does not exist.
fn get(ns: &str, kind: &str, name: &str) -> Option<Value> {
    let out = kubectl(&["get", kind, name, "-n", ns, "-o", "json"]);
    if out.status.success() {
        return Some(serde_json::from_slice(&out.stdout).expect("kubectl prints JSON"));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NotFound") || stderr.contains("not found"),
        "kubectl get {kind} {name} -n {ns} failed: {stderr}"
    );
    None
}

fn store(ns: &str, name: &str) -> Value {
    get(ns, "featurestores.feast.dev", name).expect("the FeatureStore exists")
}

fn pods(ns: &str, name: &str) -> Vec<Value> {
    let out = kubectl_ok(&[
        "get",
        "pods",
        "-n",
        ns,
        "-l",
        &format!("feast.dev/name={name}"),
        "-o",
        "json",
    ]);
    let list: Value = serde_json::from_str(&out).expect("kubectl prints JSON");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn apply(object: &Value) {
    living().apply_object(object, "living-test");
}

/// Polls `probe` every half second until it returns Some, or panics after `timeout` with the
/// last state `describe` gives.
fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {}s waiting for {what}; last state:\n{}",
                timeout.as_secs(),
                describe()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The Secret the DB-backed stores reference (the operator only checks that it exists and has the key).
fn data_store_secret(ns: &str) {
    apply(&json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "feast-data-stores", "namespace": ns},
        "stringData": {"redis": format!("connection_string: redis.{ns}.svc.cluster.local:6379")}
    }));
}

/// A DB-backed store (online on redis, remote registry) whose online server asks for 200m CPU
/// and, through kwok, uses `cpu` of it; `services` adds fields under spec.services.
fn create_store(ns: &str, name: &str, replicas: Option<i64>, services: Value, cpu: &str) {
    data_store_secret(ns);
    let mut spec = json!({
        "feastProject": name.replace('-', "_"),
        "services": {
            "podAnnotations": {"kwok.x-k8s.io/usage-cpu": cpu},
            "onlineStore": {
                "persistence": {"store": {"type": "redis", "secretRef": {"name": "feast-data-stores"}}},
                "server": {"resources": {"requests": {"cpu": "200m", "memory": "256Mi"}}}
            },
            "registry": {"remote": {"hostname": "feast-registry.feast-system.svc.cluster.local:80"}}
        }
    });
    if let Some(r) = replicas {
        spec["replicas"] = json!(r);
    }
    if let (Some(into), Some(extra)) = (spec["services"].as_object_mut(), services.as_object()) {
        for (k, v) in extra {
            into.insert(k.clone(), v.clone());
        }
    }
    apply(&json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec
    }));
}

/// Ready pods of the Deployment's current template (the new ReplicaSet's), by pod-template-hash.
fn ready_current_pods(ns: &str, name: &str) -> Vec<Value> {
    let Some(deploy) = get(ns, "deployment", &format!("feast-{name}")) else {
        return Vec::new();
    };
    let Some(hash) = current_template_hash(ns, &deploy) else {
        return Vec::new();
    };
    pods(ns, name)
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["pod-template-hash"].as_str() == Some(hash.as_str()))
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(is_ready)
        .collect()
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// The pod-template-hash of the ReplicaSet that carries the Deployment's current revision.
fn current_template_hash(ns: &str, deploy: &Value) -> Option<String> {
    let revision =
        deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"].as_str()?;
    let name = deploy["metadata"]["name"].as_str()?;
    let out = kubectl_ok(&["get", "replicasets", "-n", ns, "-o", "json"]);
    let list: Value = serde_json::from_str(&out).expect("kubectl prints JSON");
    list["items"].as_array()?.iter().find_map(|rs| {
        let owned = rs["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o["name"] == name));
        let same = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"].as_str()
            == Some(revision);
        if owned && same {
            rs["metadata"]["labels"]["pod-template-hash"]
                .as_str()
                .map(str::to_string)
        } else {
            None
        }
    })
}

/// Waits until the operator has processed the current spec (status.applied follows it, phase
/// Ready) and the Deployment's rollout of it is complete with `replicas` ready pods.
fn wait_rolled_out(ns: &str, name: &str, replicas: usize) {
    wait_for(
        &format!("{name} rolled out to {replicas} ready pods"),
        SETTLE,
        || {
            let fs = store(ns, name);
            let deploy = get(ns, "deployment", &format!("feast-{name}"))?;
            let done = fs["status"]["phase"] == "Ready"
                && deploy["status"]["observedGeneration"] == deploy["metadata"]["generation"]
                && deploy["status"]["updatedReplicas"] == json!(replicas)
                && deploy["status"]["readyReplicas"] == json!(replicas)
                && deploy["status"]["replicas"] == json!(replicas)
                && ready_current_pods(ns, name).len() == replicas
                && pods(ns, name).len() == replicas;
            done.then_some(())
        },
        || describe(ns, name),
    );
}

fn describe(ns: &str, name: &str) -> String {
    let fs = get(ns, "featurestores.feast.dev", name);
    let deploy = get(ns, "deployment", &format!("feast-{name}"));
    let pods: Vec<String> = pods(ns, name)
        .iter()
        .map(|p| {
            format!(
                "{} node={} phase={} ready={}",
                p["metadata"]["name"].as_str().unwrap_or("?"),
                p["spec"]["nodeName"].as_str().unwrap_or("-"),
                p["status"]["phase"].as_str().unwrap_or("?"),
                is_ready(p)
            )
        })
        .collect();
    format!(
        "store status: {}\ndeployment status: {}\npods:\n  {}",
        fs.map(|f| f["status"].to_string()).unwrap_or_default(),
        deploy.map(|d| d["status"].to_string()).unwrap_or_default(),
        pods.join("\n  ")
    )
}

/// What the operator is responsible for, at one moment: the Deployment's spec, HPA and PDB.
#[derive(Debug, Clone)]
struct Snapshot {
    deployment: Option<Value>,
    hpa: Option<Value>,
    pdb: Option<Value>,
}

fn snapshot(ns: &str, name: &str) -> Snapshot {
    let object = format!("feast-{name}");
    Snapshot {
        deployment: get(ns, "deployment", &object).map(|d| d["spec"].clone()),
        hpa: get(ns, "horizontalpodautoscalers.autoscaling", &object).map(|h| h["spec"].clone()),
        pdb: get(ns, "poddisruptionbudgets.policy", &object).map(|p| p["spec"].clone()),
    }
}

/// Waits until the operator has reconciled the store's current generation (it writes the status
/// at the end of each reconcile, after the Deployment, HPA and PDB), then snapshots.
fn snapshot_after_reconcile(ns: &str, name: &str, check: impl Fn(&Value) -> bool) -> Snapshot {
    wait_for(
        &format!("the operator to reconcile {name}"),
        SETTLE,
        || {
            let fs = store(ns, name);
            check(&fs["status"]["applied"]).then_some(())
        },
        || describe(ns, name),
    );
    snapshot(ns, name)
}

/// Classifies a "next, the Feast Operator will" line into the change it announces.
fn announced(line: &str) -> Option<String> {
    let l = line.trim_start_matches("- ").trim();
    if let Some(rest) = l.strip_prefix("set Deployment ") {
        // "set Deployment feast-x to N replica(s) ..." / "... to 1 replica: ..."
        let n = rest.split(" to ").nth(1)?.split(' ').next()?;
        return Some(format!("replicas={n}"));
    }
    if l.starts_with("leave Deployment ") {
        return None; // announces that the count does not change
    }
    if let Some(rest) = l.strip_prefix("switch the Deployment strategy ") {
        // "A → B (…)" or "A → B, and …": B is the word after the arrow.
        let to: String = rest
            .split(" → ")
            .nth(1)?
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        return Some(format!("strategy={to}"));
    }
    let fixed = [
        ("inject the zone spread", "spread=on"),
        ("remove the injected zone spread", "spread=off"),
        ("inject soft pod anti-affinity", "anti-affinity=on"),
        ("remove the injected pod anti-affinity", "anti-affinity=off"),
        ("roll every pod", "template"),
        ("create HorizontalPodAutoscaler", "hpa=created"),
        ("update HorizontalPodAutoscaler", "hpa=updated"),
        ("delete HorizontalPodAutoscaler", "hpa=deleted"),
        ("create PodDisruptionBudget", "pdb=created"),
        ("update PodDisruptionBudget", "pdb=updated"),
        ("delete PodDisruptionBudget", "pdb=deleted"),
        ("create no PodDisruptionBudget", ""),
    ];
    for (prefix, key) in fixed {
        if l.starts_with(prefix) {
            return (!key.is_empty()).then(|| key.to_string());
        }
    }
    panic!("a \"next\" line this test does not know: {line}")
}

/// The changes between two snapshots, in the same keys as `announced`.
fn observed(before: &Snapshot, after: &Snapshot) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let (Some(b), Some(a)) = (&before.deployment, &after.deployment) else {
        panic!("a Deployment before and after: {before:?} / {after:?}");
    };
    if b["replicas"] != a["replicas"] {
        out.insert(format!("replicas={}", a["replicas"]));
    }
    if b["strategy"]["type"] != a["strategy"]["type"] {
        out.insert(format!(
            "strategy={}",
            a["strategy"]["type"].as_str().unwrap_or("?")
        ));
    }
    let spread = |d: &Value| {
        d["template"]["spec"]["topologySpreadConstraints"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    };
    if spread(b) != spread(a) {
        out.insert(format!("spread={}", if spread(a) { "on" } else { "off" }));
    }
    let anti = |d: &Value| !d["template"]["spec"]["affinity"]["podAntiAffinity"].is_null();
    if anti(b) != anti(a) {
        out.insert(format!(
            "anti-affinity={}",
            if anti(a) { "on" } else { "off" }
        ));
    }
    if b["template"] != a["template"] {
        out.insert("template".to_string());
    }
    for (kind, b, a) in [
        ("hpa", &before.hpa, &after.hpa),
        ("pdb", &before.pdb, &after.pdb),
    ] {
        match (b, a) {
            (None, Some(_)) => out.insert(format!("{kind}=created")),
            (Some(_), None) => out.insert(format!("{kind}=deleted")),
            (Some(b), Some(a)) if b != a => out.insert(format!("{kind}=updated")),
            _ => false,
        };
    }
    out
}

/// The plugin's "next" lines from a command's stdout, as change keys.
fn announcements(stdout: &str) -> BTreeSet<String> {
    let mut in_list = false;
    let mut out = BTreeSet::new();
    for line in stdout.lines() {
        if line.contains("next, the Feast Operator will:") {
            in_list = true;
            continue;
        }
        if in_list {
            if let Some(item) = line.trim_start().strip_prefix("- ") {
                if let Some(key) = announced(item) {
                    out.insert(key);
                }
            } else {
                in_list = false;
            }
        }
    }
    out
}

/// Runs the plugin as admin in `ns`; asserts success and returns stdout.
fn feast(ns: &str, args: &[&str]) -> String {
    let out = living()
        .plugin()
        .args(["-n", ns])
        .args(args)
        .output()
        .expect("run kubectl-feast");
    assert!(
        out.status.success(),
        "kubectl feast {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Checks that what the command announced is exactly what changed.
fn assert_announced(stdout: &str, before: &Snapshot, after: &Snapshot) {
    let said = announcements(stdout);
    let done = observed(before, after);
    assert_eq!(
        said, done,
        "the \"next\" lines and the operator's changes differ\ncommand output:\n{stdout}\nbefore: {before:?}\nafter: {after:?}"
    );
}

/// `history NAME -o json` on the living cluster, with `extra` flags.
fn history(ns: &str, name: &str, extra: &[&str]) -> Value {
    let out = living()
        .plugin()
        .args(["-n", ns, "history", name, "-o", "json"])
        .args(extra)
        .output()
        .expect("run kubectl-feast history");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("history JSON")
}

/// The entries of a history of one kind.
fn entries<'a>(h: &'a Value, kind: &str) -> Vec<&'a Value> {
    h["events"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["kind"] == kind).collect())
        .unwrap_or_default()
}

/// An entry's time, read.
fn entry_time(e: &Value) -> k8s_openapi::jiff::Timestamp {
    e["time"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("an RFC 3339 time: {e}"))
}

fn nodes_of(ns: &str, name: &str) -> BTreeSet<String> {
    ready_current_pods(ns, name)
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
        .collect()
}

fn status_json(ns: &str, name: &str) -> Value {
    let out = feast(ns, &["status", name, "-o", "json"]);
    let v: Value = serde_json::from_str(&out).expect("status -o json prints JSON");
    match v.get("stores").and_then(Value::as_array) {
        Some(stores) => stores
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("status -o json has no store {name}: {out}")),
        None => v,
    }
}

// ---------------------------------------------------------------------------------------------
// §4.8 transitions, driven by our commands

#[tokio::test]
async fn scale_up_from_one_rolls_out_rolling_update_with_spread_and_creates_the_pdb() {
    let ns = living().namespace("living-scale-up").await;
    create_store(
        &ns,
        "web",
        None,
        json!({"podDisruptionBudgets": {"maxUnavailable": 1}}),
        "50m",
    );
    wait_rolled_out(&ns, "web", 1);
    let before = snapshot(&ns, "web");
    assert_eq!(
        before.deployment.as_ref().expect("deployment")["strategy"]["type"],
        "Recreate"
    );
    assert!(
        before.pdb.is_none(),
        "no PDB while scaling is off: {before:?}"
    );

    let stdout = feast(
        &ns,
        &[
            "scale",
            "web",
            "--replicas",
            "3",
            "--wait",
            "--timeout",
            "3m",
        ],
    );
    let after = snapshot_after_reconcile(&ns, "web", |a| a["replicas"] == 3);
    assert_announced(&stdout, &before, &after);

    let d = after.deployment.as_ref().expect("deployment");
    assert_eq!(d["replicas"], 3);
    assert_eq!(d["strategy"]["type"], "RollingUpdate");
    assert_eq!(d["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    let spread = &d["template"]["spec"]["topologySpreadConstraints"][0];
    assert_eq!(spread["topologyKey"], "topology.kubernetes.io/zone");
    assert_eq!(spread["whenUnsatisfiable"], "ScheduleAnyway");
    assert_eq!(
        spread["labelSelector"]["matchLabels"]["feast.dev/name"],
        "web"
    );
    let anti = &d["template"]["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(
        anti["podAffinityTerm"]["topologyKey"],
        "kubernetes.io/hostname"
    );
    let pdb = after.pdb.as_ref().expect("the operator created the PDB");
    assert_eq!(pdb["maxUnavailable"], 1);
    assert_eq!(pdb["selector"]["matchLabels"]["feast.dev/name"], "web");

    // --wait returned only once the rollout was done: at that moment already, 3 ready pods of
    // the new template and no old one, which the soft anti-affinity put on 3 different nodes.
    let deploy = get(&ns, "deployment", "feast-web").expect("the Deployment");
    for field in [
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "replicas",
    ] {
        assert_eq!(
            deploy["status"][field], 3,
            "{field} when --wait returned: {deploy}"
        );
    }
    assert_eq!(
        ready_current_pods(&ns, "web").len(),
        3,
        "{}",
        describe(&ns, "web")
    );
    assert_eq!(nodes_of(&ns, "web").len(), 3, "{}", describe(&ns, "web"));
    let fs = store(&ns, "web");
    assert_eq!(fs["status"]["scalingStatus"]["desiredReplicas"], 3);
}

#[tokio::test]
async fn scale_wait_on_a_stuck_rollout_says_why_the_new_pods_are_not_ready() {
    let ns = living().namespace("living-stuck").await;
    create_store(&ns, "pinned", Some(3), json!({}), "50m");
    wait_rolled_out(&ns, "pinned", 3);
    // The user gives the pods a nodeSelector nothing satisfies: the new template's pods stay
    // Pending while the old ones keep serving, so the store's own count still says 3 ready.
    kubectl_ok(&[
        "patch",
        "featurestores.feast.dev",
        "pinned",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"services":{"nodeSelector":{"topology.kubernetes.io/zone":"eu-west-1a"}}}}"#,
    ]);
    let out = living()
        .plugin()
        .args([
            "-n",
            &ns,
            "scale",
            "pinned",
            "--replicas",
            "4",
            "--wait",
            "--timeout",
            "30s",
        ])
        .output()
        .expect("run kubectl-feast");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a --wait timeout is a refusal: {stderr}"
    );
    assert!(stderr.contains("rollout in progress"), "{stderr}");
    assert!(stderr.contains("old pods still running"), "{stderr}");
    assert!(
        stderr.contains("Unschedulable: 0/6 nodes are available"),
        "the scheduler's reason: {stderr}"
    );
    assert!(
        stderr.contains("didn't match Pod's node affinity/selector"),
        "{stderr}"
    );

    // status says so too: the rollout, each Pending pod's reason, and no "OK" placement.
    let s = status_json(&ns, "pinned");
    assert_eq!(s["rollout"]["state"], "progressing", "{s}");
    let pending: Vec<&Value> = s["placement"]["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .filter(|p| p["ready"] == false)
        .collect();
    assert!(!pending.is_empty(), "{s}");
    for p in pending {
        assert!(
            p["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("Unschedulable: ")),
            "{p}"
        );
    }
    assert_ne!(s["placement"]["verdict"]["level"], "ok", "{s}");
    let listing = feast(&ns, &["status"]);
    assert!(
        listing.contains("3/4 rolling"),
        "the list marks a ready count that includes old pods:\n{listing}"
    );
    let detail = feast(&ns, &["status", "pinned"]);
    assert!(detail.contains("old pods still running"), "{detail}");
    assert!(
        detail.contains("didn't match Pod's node affinity/selector"),
        "{detail}"
    );

    // history tells it from events alone: the new template's rollout, then the scheduler's
    // refusal of its pods, with its reason; each at or after the write that caused it.
    let h = history(&ns, "pinned", &["--since", "30m"]);
    let rollouts = entries(&h, "rollout");
    let newest = rollouts.last().expect("the new template's rollout");
    let failed: Vec<&Value> = entries(&h, "scheduling")
        .into_iter()
        .filter(|e| e["reason"] == "FailedScheduling")
        .collect();
    assert!(!failed.is_empty(), "{h:#}");
    assert!(
        failed.iter().all(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("didn't match Pod's node affinity/selector"))
            && entry_time(e) >= entry_time(newest)),
        "{h:#}"
    );
    assert_eq!(failed[0]["warning"], true, "{h:#}");
    // Who wrote: the user's kubectl patch of the nodeSelector, and the plugin's scale.
    let writers: Vec<&str> = entries(&h, "write")
        .iter()
        .filter_map(|e| e["by"].as_str())
        .collect();
    assert!(writers.contains(&"kubectl-feast"), "{writers:?}");
    assert!(
        writers.iter().any(|w| w.starts_with("kubectl")),
        "{writers:?}"
    );
}

/// `--wait` exists to catch a rollout that did not finish: a Deployment it cannot read (a 500,
/// a timeout) is not a finished rollout, so the wait runs to --timeout instead of claiming
/// success, even once the store's own status says every replica is ready.
#[tokio::test]
async fn scale_wait_never_counts_an_unreadable_deployment_as_rolled_out() {
    use support::proxy::{Fault, Rule};
    let ns = living().namespace("living-wait-500").await;
    create_store(&ns, "blind", None, json!({}), "50m");
    wait_rolled_out(&ns, "blind", 1);
    // The pre-flight's read (the count the change starts from) passes; every read after the
    // change, by --wait, fails.
    let proxy = living().proxy(vec![
        Rule::new(Some("GET"), "/deployments/feast-blind", Fault::Status(500)).after(1),
    ]);
    let out = living()
        .plugin()
        .env("KUBECONFIG", &proxy.kubeconfig)
        .args([
            "-n",
            &ns,
            "scale",
            "blind",
            "--replicas",
            "2",
            "--wait",
            "--timeout",
            "40s",
        ])
        .output()
        .expect("run kubectl-feast");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("2/2 replicas ready"),
        "no success without the Deployment: {stdout}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The store itself did get there: the wait failed for the right reason.
    wait_for(
        "the store to report 2 ready",
        Duration::from_secs(60),
        || (store(&ns, "blind")["status"]["replicas"] == 2).then_some(()),
        || describe(&ns, "blind"),
    );
    assert!(!proxy.requests("GET").is_empty());
}

#[tokio::test]
async fn scale_down_to_one_goes_back_to_recreate_and_deletes_the_pdb() {
    let ns = living().namespace("living-scale-down").await;
    create_store(
        &ns,
        "shop",
        Some(3),
        json!({"podDisruptionBudgets": {"maxUnavailable": 1}}),
        "50m",
    );
    wait_rolled_out(&ns, "shop", 3);
    let before = snapshot(&ns, "shop");
    assert!(
        before.pdb.is_some(),
        "the PDB exists while scaled: {before:?}"
    );

    let stdout = feast(&ns, &["scale", "shop", "--replicas", "1", "--yes"]);
    let after = snapshot_after_reconcile(&ns, "shop", |a| a["replicas"] == 1);
    assert_announced(&stdout, &before, &after);

    let d = after.deployment.as_ref().expect("deployment");
    assert_eq!(d["replicas"], 1);
    assert_eq!(d["strategy"]["type"], "Recreate");
    assert!(d["template"]["spec"]["topologySpreadConstraints"].is_null());
    assert!(d["template"]["spec"]["affinity"].is_null());
    assert!(
        after.pdb.is_none(),
        "the operator deleted the PDB: {after:?}"
    );
    wait_rolled_out(&ns, "shop", 1);
    assert!(store(&ns, "shop")["status"]["scalingStatus"].is_null());
}

#[tokio::test]
async fn static_to_hpa_keeps_the_count_then_hpa_to_static_sets_the_replicas() {
    let ns = living().namespace("living-autoscale").await;
    // 140m of 200m: the HPA's 70 % target, so it holds the count it finds.
    create_store(&ns, "api", Some(3), json!({}), "140m");
    wait_rolled_out(&ns, "api", 3);

    let before = snapshot(&ns, "api");
    let stdout = feast(
        &ns,
        &[
            "autoscale",
            "api",
            "--min",
            "2",
            "--max",
            "5",
            "--cpu",
            "70%",
            "--yes",
        ],
    );
    let after = snapshot_after_reconcile(&ns, "api", |a| {
        a["services"]["scaling"]["autoscaling"]["maxReplicas"] == 5
    });
    assert_announced(&stdout, &before, &after);
    let hpa = after.hpa.as_ref().expect("the operator created the HPA");
    assert_eq!(hpa["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["scaleTargetRef"]["name"], "feast-api");
    assert_eq!(hpa["minReplicas"], 2);
    assert_eq!(hpa["maxReplicas"], 5);
    assert_eq!(
        after.deployment.as_ref().expect("deployment")["replicas"],
        3,
        "the Deployment keeps its count in HPA mode"
    );
    assert_eq!(
        store(&ns, "api")["spec"]["replicas"],
        1,
        "the CR stays at 1 in HPA mode"
    );

    // Back to static 2, in one patch: the HPA goes, the Deployment is set to 2, never to 1.
    let before = snapshot(&ns, "api");
    let stdout = feast(
        &ns,
        &["autoscale", "api", "--off", "--replicas", "2", "--yes"],
    );
    let after = snapshot_after_reconcile(&ns, "api", |a| {
        a["services"]["scaling"]["autoscaling"].is_null() && a["replicas"] == 2
    });
    assert_announced(&stdout, &before, &after);
    assert!(
        after.hpa.is_none(),
        "the operator deleted its HPA: {after:?}"
    );
    assert_eq!(
        after.deployment.as_ref().expect("deployment")["replicas"],
        2
    );
    wait_rolled_out(&ns, "api", 2);
}

#[tokio::test]
async fn removing_the_budget_deletes_the_pdb() {
    let ns = living().namespace("living-pdb-off").await;
    create_store(
        &ns,
        "cart",
        Some(2),
        json!({"podDisruptionBudgets": {"minAvailable": 1}}),
        "50m",
    );
    wait_rolled_out(&ns, "cart", 2);
    let before = snapshot(&ns, "cart");
    assert_eq!(before.pdb.as_ref().expect("the PDB")["minAvailable"], 1);

    let stdout = feast(&ns, &["pdb", "cart", "--max-unavailable", "1", "--yes"]);
    let after = snapshot_after_reconcile(&ns, "cart", |a| {
        a["services"]["podDisruptionBudgets"]["maxUnavailable"] == 1
    });
    assert_announced(&stdout, &before, &after);
    let pdb = after.pdb.as_ref().expect("the PDB");
    assert_eq!(pdb["maxUnavailable"], 1);
    assert!(
        pdb["minAvailable"].is_null(),
        "exactly the one field the user set: {pdb}"
    );

    let before = after;
    let stdout = feast(&ns, &["pdb", "cart", "--off", "--yes"]);
    let after = snapshot_after_reconcile(&ns, "cart", |a| {
        a["services"]["podDisruptionBudgets"].is_null()
    });
    assert_announced(&stdout, &before, &after);
    assert!(
        after.pdb.is_none(),
        "the operator deleted the PDB: {after:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The HPA under load, and a drain through the PDB

#[tokio::test]
async fn raising_cpu_load_makes_the_hpa_scale_up_to_its_max_and_status_watch_shows_it() {
    let ns = living().namespace("living-load").await;
    create_store(
        &ns,
        "busy",
        None,
        json!({"scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 4}}}),
        "140m",
    );
    wait_rolled_out(&ns, "busy", 2);
    wait_for(
        "the HPA to read CPU from metrics-server",
        SETTLE,
        || {
            let hpa = get(&ns, "hpa", "feast-busy")?;
            let active = hpa["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "ScalingActive" && c["status"] == "True")
            });
            active.then_some(())
        },
        || format!("{:?}", get(&ns, "hpa", "feast-busy")),
    );

    // `status --watch` runs while the load goes up; its frames must show the scale-up.
    let mut watch = Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", living().kubeconfig())
        .args(["-n", &ns, "status", "busy", "--watch", "--timeout", "4m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run kubectl-feast status --watch");
    let stdout = watch.stdout.take().expect("stdout");
    let rx = support::lines_of(stdout);

    // The user raises the simulated load: 400m of a 200m request is 200 %.
    kubectl_ok(&[
        "patch",
        "featurestores.feast.dev",
        "busy",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"services":{"podAnnotations":{"kwok.x-k8s.io/usage-cpu":"400m"}}}}"#,
    ]);
    let hpa = wait_for(
        "the HPA to reach its max under load",
        Duration::from_secs(240),
        || {
            let hpa = get(&ns, "hpa", "feast-busy")?;
            let limited = hpa["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "ScalingLimited" && c["reason"] == "TooManyReplicas")
            });
            (limited && hpa["status"]["desiredReplicas"] == 4).then_some(hpa)
        },
        || {
            format!(
                "{:?}\n{}",
                get(&ns, "hpa", "feast-busy"),
                describe(&ns, "busy")
            )
        },
    );
    assert!(
        hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
            .as_i64()
            .is_some_and(|u| u > 70),
        "utilisation above target: {hpa}"
    );
    wait_rolled_out(&ns, "busy", 4);

    // The watch saw the store at 2 and then at 4 (its frames print "ready/desired").
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let done = line.contains("4/4");
                seen.push(line);
                if done {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    let text = seen.join("\n");
    let at_two = text.find("2/2");
    let at_four = text.find("4/4");
    assert!(
        matches!((at_two, at_four), (Some(a), Some(b)) if a < b),
        "status --watch showed 2/2 and then 4/4:\n{text}"
    );

    let s = status_json(&ns, "busy");
    assert_eq!(s["autoscaler"]["name"], "feast-busy", "{s}");

    // status gives the controller's own next number, and why: the metric's proposal by
    // ceil(replicas × current / target), capped at max.
    let hpa = get(&ns, "hpa", "feast-busy").expect("the HPA");
    let utilization =
        hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
            .as_i64()
            .expect("a measured utilisation");
    let target = hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]
        .as_i64()
        .expect("a utilisation target");
    // The count the controller's next sync starts from: the Deployment's (the HPA's own
    // currentReplicas lags a sync behind).
    let replicas =
        get(&ns, "deployment", "feast-busy").expect("the Deployment")["spec"]["replicas"]
            .as_i64()
            .expect("a count");
    let decision = &s["autoscaler"]["decision"];
    assert_eq!(decision["limitedBy"], "max", "{s}");
    assert_eq!(
        decision["proposedReplicas"], hpa["status"]["desiredReplicas"],
        "the controller's own next number: {s}\n{hpa}"
    );
    let wanted = (replicas * utilization + target - 1) / target;
    assert_eq!(decision["wantedReplicas"], wanted, "{s}\n{hpa}");
    assert_eq!(decision["metrics"][0]["replicas"], wanted, "{s}");
    let detail = feast(&ns, &["status", "busy"]);
    assert!(
        detail.contains(&format!("wants {wanted}; capped at max 4")),
        "{detail}"
    );
    assert!(
        detail.contains(&format!(
            "kubectl feast autoscale busy -n {ns} --max {wanted}"
        )),
        "{detail}"
    );

    // history: the HPA's rescales up to 4, by the HPA, for CPU above target, the last at the
    // HPA's lastScaleTime.
    let h = history(&ns, "busy", &["--since", "30m"]);
    // (Its first rescale, 1 → 2, is the HPA lifting the Deployment to its min.)
    let rescales: Vec<&Value> = entries(&h, "rescale")
        .into_iter()
        .filter(|e| e["by"] == "horizontal-pod-autoscaler")
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("cpu resource utilization"))
        })
        .collect();
    let last = rescales.last().expect("the HPA's rescales for CPU");
    assert_eq!(
        (&last["to"], &rescales[0]["from"]),
        (&json!(4), &json!(2)),
        "{h:#}"
    );
    assert!(
        last["message"]
            .as_str()
            .is_some_and(|m| m.contains("cpu resource utilization") && m.contains("above target")),
        "{last}"
    );
    let scaled: k8s_openapi::jiff::Timestamp = hpa["status"]["lastScaleTime"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("lastScaleTime");
    let gap = entry_time(last).duration_since(scaled).abs();
    assert!(gap.as_secs() <= 2, "{last} against lastScaleTime {scaled}");

    // With Prometheus, the record Prometheus really scraped: desired replicas from 2 to 4,
    // held at max; recommend advises from it (a record of minutes: --min-record lets it).
    let url = living().prometheus_url();
    let desired_reached_max = || {
        let h = history(&ns, "busy", &["--since", "30m", "--prometheus", &url]);
        let desired: Vec<f64> = h["series"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == "desiredReplicas"))
            .and_then(|s| s["points"].as_array())
            .map(|p| p.iter().filter_map(|p| p["value"].as_f64()).collect())
            .unwrap_or_default();
        (desired.first() == Some(&2.0) && desired.last() == Some(&4.0)).then_some(h)
    };
    let h = wait_for(
        "Prometheus to have scraped the scale-up",
        SETTLE,
        desired_reached_max,
        || {
            format!(
                "{:#}",
                history(&ns, "busy", &["--since", "30m", "--prometheus", &url])
            )
        },
    );
    assert_eq!(h["prometheus"], json!(url));
    let limited = h["series"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "scalingLimited"))
        .and_then(|s| s["points"].as_array())
        .and_then(|p| p.last())
        .map(|p| p["value"].clone());
    assert_eq!(limited, Some(json!(1.0)), "{h:#}");
    let shown = living()
        .plugin()
        .args([
            "-n",
            &ns,
            "history",
            "busy",
            "--since",
            "30m",
            "--prometheus",
            &url,
        ])
        .output()
        .expect("history");
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("desiredReplicas") && shown.contains("2..4  now 4"),
        "{shown}"
    );

    let out = living()
        .plugin()
        .args([
            "-n",
            &ns,
            "recommend",
            "busy",
            "--since",
            "30m",
            "--min-record",
            "30s",
            "-o",
            "json",
        ])
        .env("KUBECTL_FEAST_PROMETHEUS", &url)
        .output()
        .expect("recommend");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let advice: Value = serde_json::from_slice(&out.stdout).expect("recommend JSON");
    assert!(
        advice["facts"]["samplesAtMax"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{advice:#}"
    );
    assert_eq!(advice["facts"]["peakDesired"], 4, "{advice:#}");
    assert!(
        advice["max"].as_i64().is_some_and(|m| m > 4),
        "held at max: more room: {advice:#}"
    );
    let command = advice["commands"][0]
        .as_str()
        .expect("the autoscale command")
        .to_string();
    assert!(
        command.starts_with(&format!("kubectl feast autoscale busy -n {ns} --min")),
        "{command}"
    );
    // With no URL, the Prometheus Service the cluster has is found and read through the API
    // server's service proxy, with the caller's credentials.
    let found = history(&ns, "busy", &["--since", "30m"]);
    assert_eq!(
        found["prometheus"], "service monitoring/prometheus (through the API server)",
        "{found:#}"
    );
    assert!(
        found["series"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["name"] == "desiredReplicas")),
        "{found:#}"
    );
    // Too short a record for the default --min-record: said plainly, no advice.
    let out = living()
        .plugin()
        .args(["-n", &ns, "recommend", "busy", "--prometheus", &url])
        .output()
        .expect("recommend");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("No advice: the record covers"),
        "{text}"
    );
}

#[tokio::test]
async fn drain_goes_through_the_real_pdb() {
    let ns = living().namespace("living-drain").await;
    create_store(
        &ns,
        "edge",
        Some(3),
        json!({"podDisruptionBudgets": {"minAvailable": 2}}),
        "50m",
    );
    wait_rolled_out(&ns, "edge", 3);
    let allowed = |ns: &str| {
        wait_for(
            "the disruption controller to fill the PDB status",
            SETTLE,
            || {
                let pdb = get(ns, "pdb", "feast-edge")?;
                (pdb["status"]["observedGeneration"] == pdb["metadata"]["generation"]
                    && pdb["status"]["currentHealthy"] == 3)
                    .then(|| pdb["status"]["disruptionsAllowed"].as_i64())
                    .flatten()
            },
            || format!("{:?}", get(ns, "pdb", "feast-edge")),
        )
    };
    assert_eq!(allowed(&ns), 1);
    let s = status_json(&ns, "edge");
    assert_eq!(s["disruptionBudget"]["disruptionsAllowed"], 1, "{s}");

    // Drain the node of one pod (only this store's pods, so other tests keep their nodes).
    let victim = ready_current_pods(&ns, "edge")
        .into_iter()
        .next()
        .expect("a ready pod of edge");
    let node = victim["spec"]["nodeName"]
        .as_str()
        .expect("scheduled")
        .to_string();
    let victim = victim["metadata"]["name"]
        .as_str()
        .expect("named")
        .to_string();
    let selector = "feast.dev/name=edge";
    {
        let _cordoned = Uncordon(node.clone());
        let drain = drain(&node, selector, "120s");
        assert!(
            drain.status.success(),
            "drain through a PDB that allows 1: {}",
            String::from_utf8_lossy(&drain.stderr)
        );
        // Evicted, and replaced by the ReplicaSet on another node (this one is cordoned).
        wait_rolled_out(&ns, "edge", 3);
        let names: Vec<String> = pods(&ns, "edge")
            .iter()
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        assert!(!names.contains(&victim), "{victim} was evicted: {names:?}");
        assert!(
            !nodes_of(&ns, "edge").contains(&node),
            "{}",
            describe(&ns, "edge")
        );
        // history: the drained pod gone without its ReplicaSet deleting it, on that node.
        let h = history(&ns, "edge", &["--since", "30m"]);
        let gone = entries(&h, "eviction");
        assert_eq!(gone.len(), 1, "{h:#}");
        assert_eq!(gone[0]["object"], json!(format!("Pod/{victim}")), "{h:#}");
        assert!(
            gone[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("(on {node})"))),
            "{h:#}"
        );
    }

    // Now a budget of all 3: the eviction API refuses, so the drain cannot finish.
    feast(&ns, &["pdb", "edge", "--min-available", "3", "--yes"]);
    wait_for(
        "the PDB at minAvailable 3 with no disruption allowed",
        SETTLE,
        || {
            let pdb = get(&ns, "pdb", "feast-edge")?;
            (pdb["spec"]["minAvailable"] == 3
                && pdb["status"]["observedGeneration"] == pdb["metadata"]["generation"]
                && pdb["status"]["disruptionsAllowed"] == 0)
                .then_some(())
        },
        || format!("{:?}", get(&ns, "pdb", "feast-edge")),
    );
    let s = status_json(&ns, "edge");
    assert_eq!(s["disruptionBudget"]["disruptionsAllowed"], 0, "{s}");
    let node = nodes_of(&ns, "edge")
        .into_iter()
        .next()
        .expect("a node with a pod of edge");
    let _cordoned = Uncordon(node.clone());
    let drain = drain(&node, selector, "15s");
    assert!(
        !drain.status.success(),
        "the drain must not get through a PDB that allows 0"
    );
    let stderr = String::from_utf8_lossy(&drain.stderr);
    assert!(
        stderr.contains("disruption budget"),
        "the eviction was refused by the PDB: {stderr}"
    );
    assert_eq!(
        ready_current_pods(&ns, "edge").len(),
        3,
        "{}",
        describe(&ns, "edge")
    );
}

// ---------------------------------------------------------------------------------------------
// The first hour

/// A new user's first hour, with `kubectl feast` only, on the real chain: from a default
/// FeatureStore (sqlite online store, file registry, no requests) to 3 replicas, an HPA that
/// scales on CPU, and a budget that keeps 2 pods ready while two of their nodes are drained.
/// Each refusal's suggested command is what the user runs next; the stores' settings come from
/// files (`--secret-from-file`). The load (kwok's CPU annotation) and the drain are the
/// world's, not the user's.
#[tokio::test]
async fn first_hour_from_a_default_store_to_ha_with_the_plugin_alone() {
    let ns = living().namespace("living-first-hour").await;
    let name = "first";
    let load = |cpu: &str| json!({"kwok.x-k8s.io/usage-cpu": cpu});
    apply(&json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"feastProject": "first_hour", "services": {"podAnnotations": load("50m")}}
    }));
    wait_rolled_out(&ns, name, 1);
    let run = |args: &[&str]| {
        living()
            .plugin()
            .args(["-n", &ns])
            .args(args)
            .output()
            .expect("run kubectl-feast")
    };
    let kubeconfig = living().kubeconfig().to_path_buf();

    // 1. Three replicas: refused for the sqlite store, with the two commands that fix it.
    let out = run(&["scale", name, "--replicas", "3"]);
    let refusal = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{refusal}");
    let commands = support::suggested_commands(&refusal);
    assert!(
        commands.iter().any(|w| w[1..3] == ["create", "secret"]),
        "the refusal shows the Secret's shape: {refusal}"
    );
    // The refusal's `persistence` command, with the settings from files: the plugin writes
    // the Secret itself, once the change is checked and confirmed.
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = |key: &str, yaml: &str| {
        let file = dir.path().join(format!("{key}.yaml"));
        std::fs::write(&file, yaml).expect("write the settings");
        format!("{key}={}", file.display())
    };
    let mut persistence = commands
        .iter()
        .find(|w| w[2] == "persistence")
        .unwrap_or_else(|| panic!("a persistence command in {refusal}"))
        .clone();
    persistence.extend([
        "--secret-from-file".into(),
        settings(
            "redis",
            &format!("connection_string: redis.{ns}.svc:6379\n"),
        ),
        "--secret-from-file".into(),
        settings(
            "sql",
            "path: postgresql+psycopg://feast@postgres.feast.svc:5432/feast\n",
        ),
        "--yes".into(),
    ]);
    let persisted = support::run_pasted(&persistence, &kubeconfig);
    assert!(persisted.status.success(), "{persisted:?}");
    let secret = get(&ns, "secret", "feast-data-stores").expect("the plugin wrote the Secret");
    assert!(
        secret["data"]["redis"].is_string() && secret["data"]["sql"].is_string(),
        "{secret}"
    );
    assert!(
        !String::from_utf8_lossy(&persisted.stderr).contains("postgresql"),
        "the settings are never printed: {persisted:?}"
    );
    feast(&ns, &["scale", name, "--replicas", "3", "--yes", "--wait"]);
    wait_rolled_out(&ns, name, 3);

    // 2. An HPA on CPU: the default store sets no CPU request, so the same command sets one.
    feast(
        &ns,
        &[
            "autoscale",
            name,
            "--min",
            "3",
            "--max",
            "6",
            "--cpu",
            "70%",
            "--cpu-request",
            "100m",
            "--yes",
        ],
    );
    // 3. Keep 2 up through drains: at 3 replicas, minAvailable 2 lets one pod go at a time.
    feast(&ns, &["pdb", name, "--min-available", "2", "--yes"]);
    wait_rolled_out(&ns, name, 3);
    wait_for(
        "the PDB to allow one disruption of 3 healthy pods",
        SETTLE,
        || {
            let pdb = get(&ns, "pdb", &format!("feast-{name}"))?;
            (pdb["status"]["currentHealthy"] == 3 && pdb["status"]["disruptionsAllowed"] == 1)
                .then_some(())
        },
        || format!("{:?}", get(&ns, "pdb", &format!("feast-{name}"))),
    );

    // The drain of two of the three pods' nodes at once: evictions one by one, never below 2.
    let nodes: Vec<String> = nodes_of(&ns, name).into_iter().take(2).collect();
    assert_eq!(nodes.len(), 2, "{}", describe(&ns, name));
    let _cordoned: Vec<Uncordon> = nodes.iter().cloned().map(Uncordon).collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (ns, done) = (ns.clone(), done.clone());
        std::thread::spawn(move || {
            let (mut fewest, mut samples) = (usize::MAX, 0);
            loop {
                let ready = pods(&ns, name)
                    .iter()
                    .filter(|p| p["metadata"]["deletionTimestamp"].is_null() && is_ready(p))
                    .count();
                fewest = fewest.min(ready);
                samples += 1;
                if done.load(std::sync::atomic::Ordering::Relaxed) {
                    return (fewest, samples);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let mut drain_args = vec!["drain".to_string()];
    drain_args.extend(nodes.iter().cloned());
    drain_args.extend(
        [
            "--pod-selector",
            &format!("feast.dev/name={name}"),
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=180s",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = drain_args.iter().map(String::as_str).collect();
    let drained = kubectl(&args);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (fewest, samples) = watcher.join().expect("the watcher");
    assert!(
        drained.status.success(),
        "the drain: {}",
        String::from_utf8_lossy(&drained.stderr)
    );
    assert!(
        fewest >= 2 && samples > 2,
        "{fewest} ready pods during the drain ({samples} looks)"
    );
    wait_rolled_out(&ns, name, 3);
    let now_on = nodes_of(&ns, name);
    assert!(nodes.iter().all(|n| !now_on.contains(n)), "{now_on:?}");
    drop(_cordoned);

    // 4. Load: 200 m of a 100 m request is 200 % against 70 %, and the HPA scales up.
    kubectl_ok(&[
        "patch",
        "featurestores.feast.dev",
        name,
        "-n",
        &ns,
        "--type=merge",
        "-p",
        &json!({"spec": {"services": {"podAnnotations": load("200m")}}}).to_string(),
    ]);
    let hpa = wait_for(
        "the HPA to scale up under load",
        Duration::from_secs(240),
        || {
            let hpa = get(&ns, "hpa", &format!("feast-{name}"))?;
            (hpa["status"]["desiredReplicas"].as_i64()? > 3).then_some(hpa)
        },
        || {
            format!(
                "{:?}\n{}",
                get(&ns, "hpa", &format!("feast-{name}")),
                describe(&ns, name)
            )
        },
    );
    assert!(
        hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
            .as_i64()
            .is_some_and(|u| u > 70),
        "{hpa}"
    );
    // What status says of it: the HPA, the budget, no CRITICAL verdict.
    let s = status_json(&ns, name);
    assert_eq!(s["mode"], "hpa", "{s}");
    assert_eq!(s["disruptionBudget"]["policy"], "minAvailable 2", "{s}");
    let critical: Vec<&Value> = s["verdicts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["level"] == "critical")
        .collect();
    assert!(critical.is_empty(), "{s}");

    // 5. A rollout that cannot finish: a nodeSelector no node satisfies.
    kubectl_ok(&[
        "patch",
        "featurestores.feast.dev",
        name,
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"services":{"nodeSelector":{"topology.kubernetes.io/zone":"eu-west-1a"}}}}"#,
    ]);
    // `history` tells each, from the API server's events: the scale-up and who decided it, the
    // drain's evictions on the drained nodes, the stuck rollout and the scheduler's reason.
    let history = wait_for(
        "history to show the stuck rollout",
        SETTLE,
        || {
            let out = feast(&ns, &["history", name, "-o", "json"]);
            let h: Value = serde_json::from_str(&out).expect("history -o json");
            let failed = h["events"]
                .as_array()?
                .iter()
                .any(|e| e["kind"] == "scheduling" && e["reason"] == "FailedScheduling");
            failed.then_some(h)
        },
        || describe(&ns, name),
    );
    let entries = history["events"].as_array().expect("events");
    let times: Vec<&str> = entries.iter().filter_map(|e| e["time"].as_str()).collect();
    let parsed: Vec<k8s_openapi::jiff::Timestamp> =
        times.iter().map(|t| t.parse().expect("RFC 3339")).collect();
    assert!(
        parsed.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    let rescale = entries
        .iter()
        .find(|e| e["kind"] == "rescale" && e["to"].as_i64().is_some_and(|to| to > 3))
        .unwrap_or_else(|| panic!("the HPA's scale-up in {history:#}"));
    assert_eq!(rescale["by"], "horizontal-pod-autoscaler", "{rescale}");
    assert!(
        rescale["message"]
            .as_str()
            .is_some_and(|m| m.contains("above target")),
        "{rescale}"
    );
    assert!(
        rescale["from"].as_i64().is_some_and(|f| f >= 3),
        "{rescale}"
    );
    let evicted: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "eviction").collect();
    assert_eq!(evicted.len(), 2, "the two drained pods: {history:#}");
    for e in &evicted {
        let message = e["message"].as_str().unwrap_or_default();
        assert!(
            nodes.iter().any(|n| message.contains(&format!("(on {n})"))),
            "{message} names a drained node of {nodes:?}"
        );
    }
    let rollouts = entries.iter().filter(|e| e["kind"] == "rollout").count();
    assert!(
        rollouts >= 2,
        "the stuck template is a new rollout: {history:#}"
    );
    let failed = entries
        .iter()
        .find(|e| e["reason"] == "FailedScheduling")
        .expect("checked above");
    assert!(
        failed["message"]
            .as_str()
            .is_some_and(|m| m.contains("node affinity/selector")),
        "{failed}"
    );
    let text = feast(&ns, &["history", name]);
    assert!(
        text.contains("events: the API server's --event-ttl"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// The demo's scenarios, made by the chain

#[tokio::test]
async fn the_living_scenarios_come_about_by_real_means() {
    let ns = living().namespace("living-scenarios").await;
    let out = Command::new(
        support::repo_root()
            .join("scripts")
            .join("living-scenarios"),
    )
    .args(["--wait", &ns])
    .env("KUBECONFIG", living().kubeconfig())
    .env("KUBECTL", kubectl_path())
    .env("LIVING_SCENARIOS_TIMEOUT", "300")
    .output()
    .expect("run scripts/living-scenarios");
    assert!(
        out.status.success(),
        "living-scenarios failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Failed by the HPA API's own validation, and by a missing Secret.
    let failed = store(&ns, "failed");
    let message = failed["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "FeatureStore"))
        .map(|c| c["message"].to_string())
        .unwrap_or_default();
    assert!(message.contains("minReplicas"), "{failed}");
    let failed = store(&ns, "failed-secret");
    assert!(failed.to_string().contains("no-such-secret"), "{failed}");
    assert!(get(&ns, "deployment", "feast-failed-secret").is_none());

    // All on one node, by a nodeSelector; and never ready, by one nothing satisfies.
    assert_eq!(
        nodes_of(&ns, "one-node"),
        BTreeSet::from(["node-1".to_string()])
    );
    let pending = pods(&ns, "unschedulable");
    assert!(!pending.is_empty());
    for p in &pending {
        let scheduled = p["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(scheduled["reason"], "Unschedulable", "{p}");
        assert!(
            scheduled["message"]
                .as_str()
                .is_some_and(|m| m.contains("didn't match Pod's node affinity/selector")),
            "{scheduled}"
        );
    }

    // Pods that fail as Feast pods do (kwok stages of ours, asked for by a pod annotation):
    // status names the container and the kubelet's reason for each, and so does the operator.
    for (name, reason) in [
        (
            "init-failing",
            "init container feast-apply: CrashLoopBackOff",
        ),
        ("crashloop", "container online: CrashLoopBackOff"),
    ] {
        let s = status_json(&ns, name);
        let pods = s["placement"]["pods"].as_array().expect("pods");
        assert!(!pods.is_empty(), "{s}");
        for p in pods {
            assert_eq!(p["ready"], false, "{p}");
            assert!(
                p["reason"].as_str().is_some_and(|r| r.starts_with(reason)),
                "{name}: {p}"
            );
        }
        assert_eq!(s["placement"]["verdict"]["level"], "critical", "{s}");
        assert_eq!(store(&ns, name)["status"]["phase"], "Pending");
        // Not "in progress": pods that cannot start do not finish a rollout by waiting.
        assert_eq!(s["rollout"]["state"], "failing", "{name}: {}", s["rollout"]);
    }

    // The HPA at its limit by load, and the PDB that blocks drains.
    let hpa = get(&ns, "hpa", "feast-hpa-at-limit").expect("the operator's HPA");
    assert_eq!(hpa["status"]["desiredReplicas"], 5);
    let pdb = get(&ns, "pdb", "feast-pdb-blocks-drain").expect("the operator's PDB");
    wait_for(
        "the PDB status of pdb-blocks-drain",
        SETTLE,
        || {
            let pdb = get(&ns, "pdb", "feast-pdb-blocks-drain")?;
            (pdb["status"]["currentHealthy"] == 3).then_some(())
        },
        || format!("{pdb}"),
    );
    let pdb = get(&ns, "pdb", "feast-pdb-blocks-drain").expect("the operator's PDB");
    assert_eq!(pdb["status"]["disruptionsAllowed"], 0, "{pdb}");

    // KEDA's operator made its HPA for each ScaledObject; that HPA scales the FeatureStore
    // through /scale, and on the conflict store the CRD's rule refuses those writes.
    let so = get(&ns, "scaledobjects.keda.sh", "keda").expect("the ScaledObject");
    assert_eq!(so["status"]["hpaName"], "keda-hpa-keda", "{so}");
    let keda_hpa = get(&ns, "hpa", "keda-hpa-keda").expect("KEDA made its HPA");
    assert_eq!(
        keda_hpa["metadata"]["ownerReferences"][0]["kind"],
        "ScaledObject"
    );
    assert_eq!(keda_hpa["spec"]["scaleTargetRef"]["kind"], "FeatureStore");
    assert!(
        store(&ns, "keda")["spec"]["replicas"]
            .as_i64()
            .is_some_and(|r| r >= 2)
    );
    // history tells who scaled the keda store: KEDA's HPA, through the scale subresource,
    // and KEDA's own events on its ScaledObject.
    let out = feast(&ns, &["history", "keda", "-o", "json"]);
    let history: Value = serde_json::from_str(&out).expect("history -o json");
    let entries = history["events"].as_array().expect("events");
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "rescale"
                && e["object"] == "HorizontalPodAutoscaler/keda-hpa-keda"),
        "KEDA's HPA rescaled the store: {history:#}"
    );
    assert!(
        entries.iter().any(|e| e["object"] == "ScaledObject/keda"),
        "KEDA's events on its ScaledObject: {history:#}"
    );
    let conflict = get(&ns, "hpa", "keda-hpa-conflict").expect("the KEDA HPA");
    assert!(
        conflict.to_string().contains("mutually exclusive"),
        "{conflict}"
    );

    // Each seeded scenario that has a living twin shows what its twin shows: the seeding
    // writes what the real chain writes (names, times and uids aside).
    let plain = support::cluster();
    let seeded_ns = plain.namespace("twins-seeded").await;
    let twins: Vec<&str> = crate::fixtures::seeded_scenarios()
        .into_iter()
        .filter(|name| {
            crate::fixtures::scenarios_file()["scenarios"]
                .as_array()
                .is_some_and(|all| {
                    all.iter()
                        .any(|s| s["name"] == *name && s["living"] == true)
                })
        })
        .collect();
    assert!(twins.len() >= 9, "{twins:?}");
    plain.seed(&seeded_ns, &twins);
    let seeded = plain
        .plugin()
        .args(["status", "-n", &seeded_ns, "-o", "json"])
        .output()
        .expect("status on the seeded cluster");
    let seeded: Value = serde_json::from_slice(&seeded.stdout).expect("status -o json");
    let living_report: Value =
        serde_json::from_str(&feast(&ns, &["status", "-o", "json"])).expect("status -o json");
    let find = |report: &Value, name: &str| {
        report["stores"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no store {name} in {report}"))
    };
    for name in &twins {
        support::assert_twins(
            &find(&seeded, name),
            &seeded_ns,
            &find(&living_report, name),
            &ns,
        );
    }

    // What `status -A`-style listing shows for the namespace, from the real objects.
    let listing = feast(&ns, &["status"]);
    for name in [
        "single",
        "static",
        "hpa",
        "hpa-at-limit",
        "keda",
        "conflict",
        "failed",
    ] {
        assert!(listing.contains(name), "status lists {name}:\n{listing}");
    }
}

/// `kubectl drain` of this store's pods on `node` (evictions, so the PDB decides).
fn drain(node: &str, selector: &str, timeout: &str) -> Output {
    kubectl(&[
        "drain",
        node,
        "--pod-selector",
        selector,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        &format!("--timeout={timeout}"),
    ])
}

/// Uncordons its node when dropped, so a failed test does not leave a node unschedulable for
/// the others.
struct Uncordon(String);

impl Drop for Uncordon {
    fn drop(&mut self) {
        let _ = kubectl(&["uncordon", &self.0]);
    }
}

fn kubectl_path() -> String {
    let out = Command::new(support::repo_root().join("scripts").join("dev-cluster"))
        .arg("bin-dir")
        .output()
        .expect("scripts/dev-cluster bin-dir");
    format!("{}/kubectl", String::from_utf8_lossy(&out.stdout).trim())
}

/// Beyond the events' hour: the record of three hours ago cannot be produced in a test run, so
/// it is backfilled (promtool, into the living cluster's own Prometheus, as an operator imports
/// history) beside what Prometheus scrapes now; `history` then tells the rescale of then from
/// the record, and today's from the events.
#[tokio::test]
async fn history_reaches_past_the_events_hour_through_the_record() {
    let ns = living().namespace("living-record").await;
    create_store(
        &ns,
        "old",
        None,
        json!({"scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 4}}}),
        "50m",
    );
    wait_rolled_out(&ns, "old", 2);
    // The HPA's desired replicas three to two hours ago: 2, then 3 from 2h30m ago.
    let state = living()
        .kubeconfig()
        .parent()
        .expect("the state directory")
        .to_path_buf();
    let pid = std::fs::read_to_string(state.join("prometheus.pid")).expect("prometheus.pid");
    let promtool = std::fs::read_link(format!("/proc/{}/exe", pid.trim()))
        .expect("the running Prometheus's binary")
        .with_file_name("promtool");
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let (start, change) = (now - 3 * 3600, now - 9000);
    let mut om =
        String::from("# TYPE kube_horizontalpodautoscaler_status_desired_replicas gauge\n");
    for t in (start..now - 7200).step_by(60) {
        let value = if t < change { 2 } else { 3 };
        om.push_str(&format!(
            "kube_horizontalpodautoscaler_status_desired_replicas{{namespace=\"{ns}\",horizontalpodautoscaler=\"feast-old\"}} {value} {t}\n"
        ));
    }
    om.push_str("# EOF\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("record.om");
    std::fs::write(&file, om).expect("write the record");
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(state.join("prometheus").join("data"))
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let url = living().prometheus_url();
    let h = wait_for(
        "Prometheus to load the backfilled block",
        Duration::from_secs(180),
        || {
            let h = history(&ns, "old", &["--since", "4h", "--prometheus", &url]);
            entries(&h, "rescale")
                .iter()
                .any(|e| e["reason"] == "Recorded" && entry_time(e).as_second() < now - 3600)
                .then_some(h)
        },
        || {
            format!(
                "{:#}",
                history(&ns, "old", &["--since", "4h", "--prometheus", &url])
            )
        },
    );
    // (The step from the record's end to the first real scrape may be one too.)
    let recorded: Vec<&Value> = entries(&h, "rescale")
        .into_iter()
        .filter(|e| e["reason"] == "Recorded" && entry_time(e).as_second() < now - 3600)
        .collect();
    assert_eq!(recorded.len(), 1, "{h:#}");
    assert_eq!(
        (&recorded[0]["from"], &recorded[0]["to"]),
        (&json!(2), &json!(3))
    );
    let when = entry_time(recorded[0]).as_second();
    assert!(
        (when - change).abs() <= 60,
        "{} against {change}",
        recorded[0]
    );
    // Today's rescale (the HPA lifting the Deployment to its min) still comes from its event.
    assert!(
        entries(&h, "rescale")
            .iter()
            .any(|e| e["reason"] == "SuccessfulRescale" && entry_time(e).as_second() > now - 3600),
        "{h:#}"
    );
    // The series reach back past the events' hour, and up to now from the real scrapes.
    let desired = h["series"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "desiredReplicas"))
        .and_then(|s| s["points"].as_array())
        .cloned()
        .unwrap_or_default();
    let first = desired.first().map(entry_time).expect("points").as_second();
    assert!(first < now - 2 * 3600, "{first}");
}
