//! `kubectl feast doctor` against real API servers: the healthy verdict on the living cluster
//! (the real Feast Operator, metrics-server, kwok nodes in three zones), the RBAC and hand-edit
//! verdicts on the shared plain cluster (namespaced, nothing cluster-wide is touched), and every
//! cluster-wide breakage (no metrics API, metrics-server gone, nodes without zones, an operator
//! that is not ready, an old CRD without the scale subresource) on a private plain cluster
//! this test binary starts for itself.

use crate::support;

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::TestCluster;

fn run(c: &TestCluster, args: &[&str]) -> Output {
    c.plugin().args(args).output().expect("run kubectl-feast")
}

/// `doctor ... -o json`: the exit code and the report.
fn doctor_json(c: &TestCluster, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["doctor", "-o", "json"];
    all.extend_from_slice(args);
    let out = run(c, &all);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// The checks of one id (and subject, when given).
fn checks<'a>(report: &'a Value, id: &str, subject: Option<&str>) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["id"] == id && subject.is_none_or(|s| c["subject"] == s))
        .collect()
}

/// The one check of an id (and subject), with its level and message.
fn one<'a>(report: &'a Value, id: &str, subject: Option<&str>) -> (&'a str, &'a str) {
    let found = checks(report, id, subject);
    assert_eq!(found.len(), 1, "{id} {subject:?} in {report:#}");
    (
        found[0]["level"].as_str().expect("level"),
        found[0]["message"].as_str().expect("message"),
    )
}

/// The checks about one subject that need attention (blocking, warning, unknown).
fn attention<'a>(report: &'a Value, subject: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["subject"] == subject && c["level"] != "ok" && c["level"] != "info")
        .collect()
}

/// `doctor -n NS` once the stores named by `subjects` need no attention (within two minutes).
fn settled(c: &TestCluster, ns: &str, subjects: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, report) = doctor_json(c, &["-n", ns]);
        let open: Vec<&Value> = subjects
            .iter()
            .flat_map(|s| attention(&report, s))
            .collect();
        if open.is_empty() {
            for s in subjects {
                assert_eq!(one(&report, "store/verdicts", Some(s)).0, "ok");
            }
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "still needing attention: {open:#?}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn kubectl(c: &TestCluster, args: &[&str]) -> String {
    let out = c.kubectl().args(args).output().expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn apply(c: &TestCluster, object: &Value) {
    c.apply_object(object, "doctor-test");
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "timed out after {}s waiting for {what}",
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A DB-backed store whose online server requests CPU; `extra` is merged into its spec.
fn store(ns: &str, name: &str, extra: Value) -> Value {
    let mut spec = json!({"feastProject": name.replace('-', "_"), "services": {
        "onlineStore": {
            "persistence": {"store": {"type": "redis", "secretRef": {"name": "feast-data-stores"}}},
            "server": {"resources": {"requests": {"cpu": "200m", "memory": "256Mi"}}}},
        "registry": {"remote": {"hostname": "registry.feast.svc.cluster.local:80"}}}});
    kubectl_feast::plan::merge_patch(&mut spec, &extra);
    json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn secret(ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "feast-data-stores", "namespace": ns},
        "stringData": {"redis": format!("connection_string: redis.{ns}.svc.cluster.local:6379")}})
}

// ---------------------------------------------------------------------------------------------
// The living cluster: everything in place

#[tokio::test]
async fn the_living_cluster_is_healthy_for_scaled_and_autoscaled_stores() {
    let c = support::living();
    let ns = c.namespace("doctor-healthy").await;
    apply(c, &secret(&ns));
    apply(
        c,
        &store(
            &ns,
            "web",
            json!({"replicas": 3, "services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}),
        ),
    );
    apply(
        c,
        &store(
            &ns,
            "auto",
            json!({"services": {"scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 4}},
                "podDisruptionBudgets": {"maxUnavailable": 1}}}),
        ),
    );
    for name in ["web", "auto"] {
        wait_for(
            &format!("{name} to be Ready"),
            Duration::from_secs(120),
            || {
                let out = kubectl(
                    c,
                    &[
                        "get",
                        "featurestores.feast.dev",
                        name,
                        "-n",
                        &ns,
                        "-o",
                        "json",
                    ],
                );
                let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                v["status"]["phase"] == "Ready" && v["status"]["feastVersion"].is_string()
            },
        );
    }
    let (code, report) = doctor_json(c, &["-n", &ns]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["blocking"], 0, "{report:#}");
    assert_eq!(report["summary"]["stores"], 2);
    assert_eq!(one(&report, "operator/crd", None).0, "ok");
    // The living cluster runs the operator as a process with leader election on: no
    // Deployment, but its Lease, renewed every few seconds, says it runs.
    let (level, message) = one(&report, "operator/deployment", None);
    assert_eq!(level, "ok", "{message}");
    assert!(
        message.contains("renewed Lease feast-operator-system/66483dbd.feast.dev"),
        "{message}"
    );
    assert_eq!(one(&report, "metrics/resource-api", None).0, "ok");
    let (level, message) = one(&report, "nodes/zones", None);
    assert_eq!(level, "ok", "{message}");
    assert!(message.contains("in 3 zone(s)"), "{message}");
    for c in checks(&report, "rbac/access", None) {
        assert_eq!(c["level"], "ok", "admin may do everything: {c}");
    }
    // Each store's checks are its status verdicts: none needs attention once every replica is
    // ready (the operator's Ready phase comes before the pods are).
    let report = settled(c, &ns, &[&format!("{ns}/web"), &format!("{ns}/auto")]);
    assert_eq!(report["summary"]["warning"], 0, "{report:#}");
    // The text checklist says the same in words, not colour.
    let out = run(c, &["doctor", "-n", &ns, "--color", "never"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Cluster\n"), "{text}");
    assert!(text.contains(&format!("FeatureStore {ns}/web\n")), "{text}");
    assert!(text.contains("\n0 blocking, "), "{text}");
}

// ---------------------------------------------------------------------------------------------
// The shared plain cluster: the caller's RBAC, and a Deployment edited by hand (namespaced)

/// The operator process crashes (SIGKILL, as an OOM kill would): its Lease stops being renewed.
/// doctor then says it is not running (exit 1), and a change is a risk to confirm, sent only
/// with --yes and said to wait for the operator. A cluster of this test's own: the shared
/// living cluster keeps its operator.
#[tokio::test]
async fn a_stopped_operator_is_blocking_in_doctor_and_a_risk_for_every_change() {
    let c = support::private_full("kubectl-feast-operator-stopped");
    let ns = c.namespace("operator-stopped").await;
    apply(&c, &secret(&ns));
    apply(&c, &store(&ns, "web", json!({})));
    // The living twin of the seeded `lagging` scenario: its spec at 2 replicas, then 4 sent
    // while the operator is stopped.
    let scenario = crate::fixtures::scenarios_file()["scenarios"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "lagging"))
        .expect("the lagging scenario")
        .clone();
    let applied = scenario["seeded"]["appliedReplicas"].clone();
    let applied_text = applied.as_i64().expect("appliedReplicas").to_string();
    let mut spec = scenario["spec"].clone();
    spec["replicas"] = applied.clone();
    apply(
        &c,
        &json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "lagging", "namespace": ns}, "spec": spec}),
    );
    let field = |path: &str| {
        kubectl(
            &c,
            &[
                "get",
                "featurestores.feast.dev",
                "web",
                "-n",
                &ns,
                "-o",
                &format!("jsonpath={{{path}}}"),
            ],
        )
    };
    wait_for(
        "the operator to reconcile web",
        Duration::from_secs(90),
        || !field(".status.applied").is_empty(),
    );
    wait_for(
        "lagging's pods to be ready",
        Duration::from_secs(120),
        || {
            // Not there yet is "not ready yet": the operator makes it after reconciling web.
            let out = c
                .kubectl()
                .args([
                    "get",
                    "deployment",
                    "feast-lagging",
                    "-n",
                    &ns,
                    "-o",
                    "jsonpath={.status.readyReplicas}",
                ])
                .output()
                .expect("run kubectl");
            String::from_utf8_lossy(&out.stdout) == applied_text
        },
    );
    // ...and the operator to have written what it saw of them (its scalingStatus follows the
    // Deployment's status one reconcile later), before it is stopped.
    wait_for(
        "the operator to record lagging's current replicas",
        Duration::from_secs(60),
        || {
            kubectl(
                &c,
                &[
                    "get",
                    "featurestores.feast.dev",
                    "lagging",
                    "-n",
                    &ns,
                    "-o",
                    "jsonpath={.status.scalingStatus.currentReplicas}",
                ],
            ) == applied_text
        },
    );
    let (_, report) = doctor_json(&c, &["-n", &ns]);
    let (level, message) = one(&report, "operator/deployment", None);
    assert_eq!(level, "ok", "{message}");
    assert!(message.contains("renewed Lease"), "{message}");

    c.kill_component("feast-operator");
    // The Lease lasts 15 s, and a holder counts as alive 5 s past that.
    std::thread::sleep(Duration::from_secs(22));
    let (code, report) = doctor_json(&c, &["-n", &ns]);
    assert_eq!(code, 1, "{report:#}");
    let (level, message) = one(&report, "operator/deployment", None);
    assert_eq!(level, "blocking", "{message}");
    assert!(
        message.contains("the Feast Operator is not running: its Lease feast-operator-system/66483dbd.feast.dev was last renewed"),
        "{message}"
    );

    // Without --yes (no terminal to ask on) nothing is sent.
    let refused = run(&c, &["-n", &ns, "scale", "web", "--replicas", "2"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the Feast Operator is not running"),
        "{stderr}"
    );
    let spec = field(".spec.replicas");
    assert!(spec.is_empty() || spec == "1", "nothing was sent: {spec}");

    // With --yes the change is stored, and said to wait for the operator.
    let sent = run(&c, &["-n", &ns, "scale", "web", "--replicas", "2", "--yes"]);
    let stdout = String::from_utf8_lossy(&sent.stdout);
    assert_eq!(
        sent.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(
        stdout.contains(
            "the Feast Operator is not running: nothing acts on this until it runs again"
        ),
        "{stdout}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let web_applied = field(".status.applied.replicas");
    assert_ne!(web_applied, "2", "nothing acted on the change");

    // lagging, sent its spec's count with nothing to act on it, shows what the seeded
    // scenario shows (names, times and uids aside).
    let wanted = scenario["spec"]["replicas"].to_string();
    let sent = run(
        &c,
        &[
            "-n",
            &ns,
            "scale",
            "lagging",
            "--replicas",
            &wanted,
            "--yes",
        ],
    );
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let plain = support::cluster();
    let seeded_ns = plain.namespace("twin-lagging").await;
    plain.seed(&seeded_ns, &["lagging"]);
    let status = |c: &support::TestCluster, ns: &str| -> Value {
        let out = c
            .plugin()
            .args(["status", "lagging", "-n", ns, "-o", "json"])
            .output()
            .expect("run status");
        let v: Value = serde_json::from_slice(&out.stdout).expect("status -o json");
        match v["stores"].as_array() {
            Some(stores) => stores
                .iter()
                .find(|s| s["name"] == "lagging")
                .cloned()
                .unwrap_or(v.clone()),
            None => v,
        }
    };
    support::assert_twins(
        &status(plain, &seeded_ns),
        &seeded_ns,
        &status(&c, &ns),
        &ns,
    );
}

/// One truth: on every seeded scenario, each verdict `status` gives a store (CRITICAL, WARNING)
/// is a `doctor` check of that store with the same words, blocking for a critical one; doctor
/// never says ok for what status marks (it said "ok" beside a Failed store, a store with all
/// replicas on one node, a budget that blocks drains).
#[tokio::test]
async fn doctor_and_status_give_every_seeded_store_the_same_verdicts() {
    let c = support::cluster();
    let ns = c.namespace("doctor-status-agree").await;
    c.seed(&ns, &crate::fixtures::seeded_scenarios());
    let out = run(c, &["status", "-n", &ns, "-o", "json"]);
    let status: Value = serde_json::from_slice(&out.stdout).expect("status -o json");
    let (code, report) = doctor_json(c, &["-n", &ns]);
    let mut critical = 0;
    for store in status["stores"].as_array().expect("stores") {
        let subject = format!("{ns}/{}", store["name"].as_str().expect("name"));
        for v in store["verdicts"].as_array().expect("verdicts") {
            let expected = match v["level"].as_str() {
                Some("critical") => "blocking",
                Some("warning") => "warning",
                Some("unknown") => "unknown",
                Some("info") => "info",
                _ => continue,
            };
            if expected == "blocking" {
                critical += 1;
            }
            let id = format!("store/{}", v["area"].as_str().expect("area"));
            let found = checks(&report, &id, Some(&subject));
            assert_eq!(found.len(), 1, "{id} {subject}: {v} in {report:#}");
            assert_eq!(found[0]["level"], expected, "{id} {subject}: {v}");
            assert_eq!(found[0]["message"], v["message"], "{id} {subject}");
            assert_eq!(found[0]["fix"], v["fix"], "{id} {subject}");
        }
        if store["verdicts"].as_array().is_some_and(|vs| {
            vs.iter()
                .all(|v| v["level"] == "ok" || v["level"] == "info")
        }) {
            assert_eq!(one(&report, "store/verdicts", Some(&subject)).0, "ok");
        } else {
            assert!(checks(&report, "store/verdicts", Some(&subject)).is_empty());
        }
    }
    assert!(critical > 0, "the scenarios include critical stores");
    assert_eq!(code, 1, "a critical store blocks: {report:#}");
}

/// Every command a store check's fix suggests (the verdicts' fixes, the same in `status`) runs
/// as pasted through the real kubectl, under a context name that needs quoting: the change
/// commands with `--dry-run=server`, the others as they are.
#[tokio::test]
async fn every_fix_command_runs_as_pasted() {
    let c = support::cluster();
    let ns = c.namespace("doctor-fixes").await;
    c.seed(&ns, &crate::fixtures::seeded_scenarios());
    let (_, report) = doctor_json(c, &["-n", &ns]);
    let mut ran = 0;
    for check in report["checks"].as_array().expect("checks") {
        let Some(fix) = check["fix"].as_str() else {
            continue;
        };
        if !check["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("store/"))
        {
            continue;
        }
        for mut words in support::suggested_commands(fix) {
            if words.get(1).is_some_and(|w| w == "feast")
                && words
                    .iter()
                    .any(|w| ["scale", "autoscale", "pdb"].contains(&w.as_str()))
            {
                if words.iter().any(|w| w == "N") {
                    // A template for the user's own count, not a command as it stands.
                    continue;
                }
                words.push("--dry-run=server".into());
            }
            let out = support::run_pasted(&words, c.kubeconfig());
            assert!(
                out.status.success() || out.status.code() == Some(1),
                "{words:?} from {check}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("unknown flag") && !stderr.contains("not found in namespace"),
                "{words:?}: {stderr}"
            );
            ran += 1;
        }
    }
    assert!(
        ran >= 5,
        "the seeded scenarios have fixes to run: {report:#}"
    );
}

#[tokio::test]
async fn a_viewer_is_told_what_it_may_not_do_and_still_passes() {
    let c = support::cluster();
    let ns = c.namespace("doctor-viewer").await;
    c.seed(&ns, &["static"]);
    let (code, report) = doctor_json(c, &["--context", "viewer", "-n", &ns]);
    // Nothing blocks scaling here: the viewer's own missing rights are warnings, so a
    // read-only CI job can pass (it exited 1 on the patch review before).
    assert_eq!(code, 0, "{report:#}");
    let rbac = checks(&report, "rbac/access", None);
    let patch = rbac
        .iter()
        .find(|c| {
            c["message"]
                .as_str()
                .is_some_and(|m| m.contains("patch featurestores.feast.dev"))
        })
        .expect("the patch review");
    assert_eq!(patch["level"], "warning", "{patch}");
    assert!(
        patch["message"]
            .as_str()
            .is_some_and(|m| m.contains("scale, autoscale and pdb will be refused"))
    );
    let nodes = rbac
        .iter()
        .find(|c| {
            c["message"]
                .as_str()
                .is_some_and(|m| m.contains("list nodes"))
        })
        .expect("the nodes review");
    assert_eq!(nodes["level"], "warning", "{nodes}");
    // What the viewer may not read is unknown, not a guess.
    assert_eq!(one(&report, "operator/crd", None).0, "unknown");
    assert_eq!(one(&report, "nodes/zones", None).0, "unknown");
    // The stores it may read are still checked: what it may not read (HPAs) is unknown,
    // what it may is judged (its persistence is safe, so no store/safety check).
    let subject = format!("{ns}/static");
    assert_eq!(
        one(&report, "store/autoscaler", Some(&subject)),
        ("unknown", "the HPAs could not be read"),
        "{report:#}"
    );
    assert!(checks(&report, "store/safety", Some(&subject)).is_empty());

    let (_, admin) = doctor_json(c, &["--context", "admin", "-n", &ns]);
    for check in checks(&admin, "rbac/access", None) {
        assert_eq!(check["level"], "ok", "{check}");
    }
}

#[tokio::test]
async fn a_deployment_scaled_by_hand_is_named_with_who_did_it() {
    let c = support::cluster();
    let ns = c.namespace("doctor-hand-edit").await;
    c.seed(&ns, &["static"]);
    let subject = format!("{ns}/static");
    let (_, before) = doctor_json(c, &["-n", &ns, "static"]);
    assert!(
        checks(&before, "store/deployment", Some(&subject)).is_empty(),
        "{before:#}"
    );
    kubectl(
        c,
        &[
            "scale",
            "deployment",
            "feast-static",
            "-n",
            &ns,
            "--replicas",
            "7",
        ],
    );
    let (_, after) = doctor_json(c, &["-n", &ns, "static"]);
    let (level, message) = one(&after, "store/deployment", Some(&subject));
    assert_eq!(level, "warning", "{message}");
    assert!(
        message.contains("runs 7 replica(s) where the FeatureStore says 3"),
        "{message}"
    );
    assert!(
        message.contains("kubectl") && message.contains("/scale"),
        "{message}"
    );
    assert!(message.contains("the operator reverts it"), "{message}");
}

#[tokio::test]
async fn a_named_store_that_does_not_exist_is_exit_3() {
    let c = support::cluster();
    let ns = c.namespace("doctor-missing").await;
    let out = run(c, &["doctor", "-n", &ns, "nope"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"nope\" not found"));
}

// ---------------------------------------------------------------------------------------------
// A private plain cluster: each piece broken on purpose, in sequence

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn node(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}})
}

#[tokio::test]
async fn each_broken_piece_gets_its_verdict() {
    let c = support::private("kubectl-feast-doctor");
    let ns = c.namespace("doctor-broken").await;
    apply(&c, &secret(&ns));
    apply(
        &c,
        &store(
            &ns,
            "auto",
            json!({"services": {"scaling": {"autoscaling": {"minReplicas": 2, "maxReplicas": 3}}}}),
        ),
    );
    let subject = format!("{ns}/auto");

    // 1. No operator anywhere, no metrics API, no nodes.
    let (code, report) = doctor_json(&c, &["-n", &ns]);
    assert_eq!(code, 1, "{report:#}");
    let (level, message) = one(&report, "operator/deployment", None);
    assert_eq!(level, "blocking", "{message}");
    assert!(
        message.contains("no sign of a running Feast Operator: no Lease 66483dbd.feast.dev exists")
            && message.contains("1 FeatureStore(s) are behind their spec"),
        "{message}"
    );
    let (level, message) = one(&report, "metrics/resource-api", None);
    assert_eq!(level, "blocking", "{message}");
    assert!(
        message.contains("is not installed") && message.contains("HPA of auto"),
        "{message}"
    );
    assert_eq!(one(&report, "nodes/zones", None).0, "blocking");
    let (level, message) = one(&report, "store/phase", Some(&subject));
    assert_eq!(level, "warning", "{message}");
    assert!(
        message.contains("the operator has not reconciled it"),
        "{message}"
    );

    // 2. metrics-server stopped: the APIService is registered as scripts/dev-cluster does it,
    // but nothing answers behind it.
    let port = free_port();
    apply(
        &c,
        &json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "metrics-server", "namespace": "kube-system"},
            "spec": {"type": "ExternalName", "externalName": "localhost",
                "ports": [{"name": "https", "port": port}]}}),
    );
    apply(
        &c,
        &json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
                "versionPriority": 100, "insecureSkipTLSVerify": true,
                "service": {"name": "metrics-server", "namespace": "kube-system", "port": port}}}),
    );
    wait_for(
        "the APIService to be judged",
        Duration::from_secs(60),
        || {
            kubectl(
                &c,
                &[
                    "get",
                    "apiservice",
                    "v1beta1.metrics.k8s.io",
                    "-o",
                    "jsonpath={.status.conditions[?(@.type==\"Available\")].status}",
                ],
            ) == "False"
        },
    );
    let (_, report) = doctor_json(&c, &["-n", &ns]);
    let (level, message) = one(&report, "metrics/resource-api", None);
    assert_eq!(level, "blocking", "{message}");
    assert!(message.contains("is not Available ("), "{message}");
    assert!(
        message.contains("the HPA of auto cannot read CPU"),
        "{message}"
    );

    // 3. Nodes without zone labels: Ready, schedulable, but the injected spread does nothing.
    for n in ["bare-1", "bare-2", "bare-3"] {
        apply(&c, &node(n));
        kubectl(
            &c,
            &[
                "patch",
                "node",
                n,
                "--subresource=status",
                "--type=merge",
                "-p",
                r#"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"test"}]}}"#,
            ],
        );
    }
    // The TaintNodesByCondition admission put node.kubernetes.io/not-ready on each new node,
    // and no node controller runs here to lift it: still nothing schedulable.
    let (_, report) = doctor_json(&c, &["-n", &ns]);
    let (level, message) = one(&report, "nodes/zones", None);
    assert_eq!(level, "blocking", "{message}");
    assert!(
        message.contains("free of NoSchedule/NoExecute taints"),
        "{message}"
    );
    for n in ["bare-1", "bare-2", "bare-3"] {
        kubectl(
            &c,
            &[
                "taint",
                "node",
                n,
                "node.kubernetes.io/not-ready:NoSchedule-",
            ],
        );
    }
    let (_, report) = doctor_json(&c, &["-n", &ns]);
    let (level, message) = one(&report, "nodes/zones", None);
    assert_eq!(level, "warning", "{message}");
    assert!(
        message.contains("3 schedulable node(s) of 3 in 0 zone(s)"),
        "{message}"
    );
    assert!(
        message.contains("the zone spread the operator injects for auto does nothing"),
        "{message}"
    );
    let (level, message) = one(&report, "store/placement", Some(&subject));
    assert_eq!(level, "warning", "{message}");
    // With zones, the same nodes are fine.
    for (n, z) in [("bare-1", "a"), ("bare-2", "b"), ("bare-3", "c")] {
        kubectl(
            &c,
            &[
                "label",
                "node",
                n,
                &format!("topology.kubernetes.io/zone={z}"),
            ],
        );
    }
    let (_, report) = doctor_json(&c, &["-n", &ns]);
    assert_eq!(one(&report, "nodes/zones", None).0, "ok");
    assert!(
        checks(&report, "store/placement", Some(&subject))
            .iter()
            .all(|c| c["level"] == "info"),
        "{report:#}"
    );

    // 4. An operator Deployment with no ready pod, and a store last reconciled by 0.58.
    kubectl(&c, &["create", "namespace", "feast-operator-system"]);
    apply(
        &c,
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "feast-operator-controller-manager", "namespace": "feast-operator-system",
                "labels": {"control-plane": "controller-manager", "app.kubernetes.io/name": "feast-operator"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"control-plane": "controller-manager"}},
                "template": {"metadata": {"labels": {"control-plane": "controller-manager"}},
                    "spec": {"containers": [{"name": "manager", "image": "feast-operator:0.66.0"}]}}}}),
    );
    kubectl(
        &c,
        &[
            "patch",
            "featurestores.feast.dev",
            "auto",
            "-n",
            &ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"feastVersion":"0.58.0","phase":"Ready"}}"#,
        ],
    );
    let (_, report) = doctor_json(&c, &["-n", &ns]);
    let (level, message) = one(&report, "operator/deployment", None);
    assert_eq!(level, "blocking", "{message}");
    assert!(
        message.contains("feast-operator-system/feast-operator-controller-manager (0/1 ready)"),
        "{message}"
    );
    let (level, message) = one(&report, "store/phase", Some(&subject));
    assert_eq!(level, "blocking", "{message}");
    assert!(message.contains("0.58.0, older than 0.61"), "{message}");

    // 5. An old CRD: v1 without the scale subresource and the scaling fields (as before 0.61).
    assert_eq!(one(&report, "operator/crd", None).0, "ok");
    let crd: Value = serde_json::from_str(&kubectl(
        &c,
        &["get", "crd", "featurestores.feast.dev", "-o", "json"],
    ))
    .expect("CRD JSON");
    let mut old = crd.clone();
    for v in old["spec"]["versions"].as_array_mut().expect("versions") {
        if v["name"] == "v1" {
            v["subresources"]
                .as_object_mut()
                .expect("subresources")
                .remove("scale");
            let spec = &mut v["schema"]["openAPIV3Schema"]["properties"]["spec"];
            spec["properties"]
                .as_object_mut()
                .expect("spec properties")
                .remove("replicas");
            // The CEL rules read the fields just removed: an old CRD has none of them either.
            spec.as_object_mut()
                .expect("spec")
                .remove("x-kubernetes-validations");
        }
    }
    let out = support::with_stdin(c.kubectl().args(["replace", "-f", "-"]), &old.to_string());
    assert!(
        out.status.success(),
        "replace CRD: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, report) = doctor_json(&c, &["-n", &ns]);
    assert_eq!(code, 1);
    let (level, message) = one(&report, "operator/crd", None);
    assert_eq!(level, "blocking", "{message}");
    assert!(
        message.contains("lacks the scale subresource, spec.replicas"),
        "{message}"
    );
    let fix = checks(&report, "operator/crd", None)[0]["fix"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(fix.contains("0.61 or later"), "{fix}");
}
