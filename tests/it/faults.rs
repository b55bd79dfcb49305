//! Faults across several objects and across the API server's own life: a failure on one store
//! of `-l`/`--all` is reported for that store while the others go through (or, before anything
//! is sent, none is touched), with an exit code that says which; and the API server killed
//! and restarted under `scale --wait` and `status --watch` (a private cluster: never the
//! shared one). The fault proxy is tests/support/proxy.rs.

use crate::support;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kubectl_feast::cluster::featurestore_resource;
use predicates::str::contains;
use serde_json::{Value, json};
use support::proxy::{Fault, Rule};

/// A store that may run several replicas (DB-backed online store and registry).
fn scalable(ns: &str, name: &str, labels: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"feastProject": name, "replicas": 3, "services": {
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
            "registry": {"local": {"persistence": {"store": {"type": "sql", "secretRef": {"name": "s"}}}}}
        }}
    }))
    .expect("object")
}

async fn stores(
    cluster: &support::TestCluster,
    ns: &str,
    names: &[(&str, Value)],
) -> Api<DynamicObject> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, ns, &featurestore_resource());
    for (name, labels) in names {
        api.create(&PostParams::default(), &scalable(ns, name, labels.clone()))
            .await
            .expect("created");
    }
    api
}

async fn replicas(api: &Api<DynamicObject>, name: &str) -> Value {
    api.get(name).await.expect("read back").data["spec"]["replicas"].clone()
}

fn through(
    proxy: &support::proxy::FaultProxy,
    ns: &str,
    args: &[&str],
) -> assert_cmd::assert::Assert {
    support::cluster()
        .plugin()
        .env("KUBECONFIG", &proxy.kubeconfig)
        .args(["-n", ns, "--request-timeout", "10s"])
        .args(args)
        .assert()
}

#[tokio::test]
async fn one_store_failing_under_all_is_reported_alone_and_the_others_go_through() {
    let cluster = support::cluster();
    let ns = cluster.namespace("faults-all").await;
    let api = stores(
        cluster,
        &ns,
        &[("a", json!({})), ("b", json!({})), ("c", json!({}))],
    )
    .await;

    // The write to b fails with a server error: a re-read says it was not stored; a and c are.
    let proxy = cluster.proxy(vec![Rule::new(
        Some("PATCH"),
        "/featurestores/b?",
        Fault::Status(500),
    )]);
    let run = through(&proxy, &ns, &["scale", "--all", "--replicas", "4", "--yes"])
        .code(3)
        .stdout(contains("featurestore.feast.dev/a scaled"))
        .stdout(contains("featurestore.feast.dev/c scaled"))
        .stderr(contains("2 of 3 FeatureStores went through (a, c)"))
        .stderr(contains("patch featurestore.feast.dev \"b\""))
        .stderr(contains("the change was not stored"));
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    assert!(!stdout.contains("/b scaled"), "{stdout}");
    assert_eq!(replicas(&api, "a").await, json!(4));
    assert_eq!(replicas(&api, "b").await, json!(3));
    assert_eq!(replicas(&api, "c").await, json!(4));

    // The server refuses b's change (422): a refusal alone is exit 1, the others go through.
    let proxy = cluster.proxy(vec![Rule::new(
        Some("PATCH"),
        "/featurestores/b?",
        Fault::Status(422),
    )]);
    through(&proxy, &ns, &["scale", "--all", "--replicas", "5", "--yes"])
        .code(1)
        .stderr(contains("2 of 3 FeatureStores went through (a, c)"))
        .stderr(contains("rejected the change"));
    assert_eq!(replicas(&api, "b").await, json!(3));
    assert_eq!(replicas(&api, "c").await, json!(5));

    // A refusal and an unknown outcome together: the worse one decides, exit 3.
    let proxy = cluster.proxy(vec![
        Rule::new(Some("PATCH"), "/featurestores/a?", Fault::Status(422)),
        Rule::new(Some("PATCH"), "/featurestores/b?", Fault::Status(500)),
    ]);
    through(&proxy, &ns, &["scale", "--all", "--replicas", "6", "--yes"])
        .code(3)
        .stderr(contains("1 of 3 FeatureStores went through (c)"));
    assert_eq!(replicas(&api, "a").await, json!(5));
    assert_eq!(replicas(&api, "c").await, json!(6));

    // Reading b fails before anything is sent: nothing is sent to any store.
    let proxy = cluster.proxy(vec![Rule::new(
        Some("GET"),
        "/featurestores/b",
        Fault::Status(500),
    )]);
    through(&proxy, &ns, &["scale", "--all", "--replicas", "7", "--yes"])
        .code(3)
        .stderr(contains("nothing was sent to any of the 3 FeatureStores"));
    assert!(
        proxy.requests("PATCH").is_empty(),
        "{:?}",
        proxy.requests("")
    );
    assert_eq!(replicas(&api, "a").await, json!(5));
    assert_eq!(replicas(&api, "c").await, json!(6));
}

/// The server stores a patch, then a gateway answers 504; the client retries the same patch
/// (kube's retry of 504s), whose resourceVersion is now stale: 409. Under --resource-version
/// that was reported as "no longer at resourceVersion ...; nothing was changed" while the change
/// had been made. The store is re-read: it holds the change, so the command succeeds and says
/// how it went; the change is stored once.
#[tokio::test]
async fn a_patch_stored_then_answered_504_is_not_reported_as_a_conflict() {
    let cluster = support::cluster();
    let ns = cluster.namespace("faults-504").await;
    let api = stores(cluster, &ns, &[("a", json!({}))]).await;
    let rv = api
        .get("a")
        .await
        .expect("read")
        .metadata
        .resource_version
        .expect("a resourceVersion");
    for fixed in [true, false] {
        let target = if fixed { "4" } else { "5" };
        let proxy = cluster.proxy(vec![
            Rule::new(
                Some("PATCH"),
                "/featurestores/a?",
                Fault::ForwardThenStatus(504),
            )
            .once(),
        ]);
        let mut args = vec!["scale", "a", "--replicas", target, "--yes"];
        if fixed {
            args.extend(["--resource-version", rv.as_str()]);
        }
        let run = through(&proxy, &ns, &args).code(0);
        let out = run.get_output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("featurestore.feast.dev/a scaled"),
            "{stderr}"
        );
        assert!(
            stderr.contains("a re-read shows the change stored"),
            "{stderr}"
        );
        assert!(!stderr.contains("nothing was changed"), "{stderr}");
        assert_eq!(
            replicas(&api, "a").await,
            json!(target.parse::<i64>().expect("n"))
        );
        assert!(
            proxy.requests("PATCH").len() >= 2,
            "{:?}",
            proxy.requests("")
        );
    }
}

/// A watch refused after its LIST was allowed (RBAC without `watch`, credentials that expire):
/// `status --watch` used to keep the first screen, stale, with no word until --timeout. It stops
/// with the refusal named (exit 3), the first screen printed before it.
#[tokio::test]
async fn a_watch_refused_after_the_list_stops_status_watch_with_the_reason() {
    let cluster = support::cluster();
    let ns = cluster.namespace("faults-watch-403").await;
    stores(cluster, &ns, &[("a", json!({}))]).await;
    let proxy = cluster.proxy(vec![Rule::new(
        Some("GET"),
        "watch=true",
        Fault::Status(403),
    )]);
    // Reaching --timeout would be exit 0: exit 3 is the refusal.
    let run = through(&proxy, &ns, &["status", "--watch", "--timeout", "60s"]).code(3);
    let out = run.get_output();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stdout.contains("a "),
        "the first screen was drawn: {stdout}"
    );
    assert!(stderr.contains("cannot watch"), "{stderr}");
    assert!(stderr.contains("stopped updating"), "{stderr}");
}

/// A 429 with Retry-After is waited out and retried (kube's bounded retries); a truncated
/// answer is a clear error naming the store and what was being done, never a panic, and a
/// truncated answer to a read sends nothing.
#[tokio::test]
async fn a_429_is_retried_and_a_truncated_body_is_a_clear_error() {
    let cluster = support::cluster();
    let ns = cluster.namespace("faults-429").await;
    let api = stores(cluster, &ns, &[("a", json!({}))]).await;

    // Throttled once: the read is retried after Retry-After and the change goes through.
    let proxy = cluster.proxy(vec![
        Rule::new(Some("GET"), "/featurestores/a", Fault::Status(429)).once(),
    ]);
    through(&proxy, &ns, &["scale", "a", "--replicas", "4", "--yes"])
        .code(0)
        .stdout(contains("featurestore.feast.dev/a scaled"));
    assert_eq!(replicas(&api, "a").await, json!(4));
    let gets = proxy.requests("GET");
    assert!(
        gets.iter()
            .filter(|r| r.contains("/featurestores/a"))
            .count()
            >= 2,
        "the throttled read was retried: {gets:?}"
    );

    // The read's answer is cut in half: exit 3, the store and the read named, nothing sent.
    let proxy = cluster.proxy(vec![Rule::new(
        Some("GET"),
        "/featurestores/a",
        Fault::Truncate,
    )]);
    let run = through(&proxy, &ns, &["scale", "a", "--replicas", "5", "--yes"]).code(3);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("\"a\""), "{stderr}");
    assert!(stderr.contains("was cut off before its end"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        proxy.requests("PATCH").is_empty(),
        "{:?}",
        proxy.requests("")
    );
    assert_eq!(replicas(&api, "a").await, json!(4));

    // status, whose lists are cut: exit 3 and a message, never a panic.
    let proxy = cluster.proxy(vec![Rule::new(
        Some("GET"),
        "/featurestores",
        Fault::Truncate,
    )]);
    let run = through(&proxy, &ns, &["status"]).code(3);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("was cut off before its end"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn one_store_failing_under_a_selector_leaves_the_unselected_untouched() {
    let cluster = support::cluster();
    let ns = cluster.namespace("faults-selector").await;
    let tier = json!({"tier": "serving"});
    let api = stores(
        cluster,
        &ns,
        &[("a", tier.clone()), ("b", tier), ("c", json!({}))],
    )
    .await;
    let proxy = cluster.proxy(vec![Rule::new(
        Some("PATCH"),
        "/featurestores/b?",
        Fault::Reset,
    )]);
    through(
        &proxy,
        &ns,
        &[
            "pdb",
            "-l",
            "tier=serving",
            "--max-unavailable",
            "1",
            "--yes",
        ],
    )
    .code(3)
    .stderr(contains("1 of 2 FeatureStores went through (a)"))
    .stderr(contains("the change was not stored"));
    let pdb = |o: DynamicObject| o.data["spec"]["services"]["podDisruptionBudgets"].clone();
    assert_eq!(
        pdb(api.get("a").await.expect("a")),
        json!({"maxUnavailable": 1})
    );
    assert_eq!(pdb(api.get("b").await.expect("b")), Value::Null);
    assert_eq!(pdb(api.get("c").await.expect("c")), Value::Null);
    assert!(
        proxy.requests("/featurestores/c?").is_empty(),
        "c was not selected"
    );
}

/// Marks the store's pods ready as the operator would, through its status subresource.
async fn report_ready(api: &Api<DynamicObject>, name: &str, n: i64) {
    let current = api.get(name).await.expect("read");
    let spec = current.data["spec"].clone();
    let status = json!({"status": {
        "applied": spec,
        "replicas": n, "readyReplicas": n, "selector": format!("feast.dev/name={name}"),
        "phase": "Ready",
        "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status written");
}

/// Writes Deployment `feast-<name>` with a finished rollout of `n` pods, as the operator and the
/// Deployment controller would (this plain cluster runs neither): `--wait` ends only once the
/// Deployment's rollout is complete.
async fn rolled_out(cluster: &support::TestCluster, ns: &str, name: &str, n: i32) {
    use k8s_openapi::api::apps::v1::Deployment;
    let api: Api<Deployment> = Api::namespaced(cluster.client("admin").await, ns);
    let labels = json!({"feast.dev/name": name});
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": format!("feast-{name}"), "namespace": ns},
        "spec": {"replicas": n, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                "spec": {"containers": [{"name": "online", "image": "feastdev/feature-server:0.66.0"}]}}}
    }))
    .expect("a Deployment");
    let created = api
        .create(&PostParams::default(), &d)
        .await
        .expect("Deployment created");
    let status = json!({"status": {
        "observedGeneration": created.metadata.generation,
        "replicas": n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n
    }});
    api.patch_status(
        &format!("feast-{name}"),
        &PatchParams::default(),
        &Patch::Merge(&status),
    )
    .await
    .expect("Deployment status written");
}

#[tokio::test]
async fn scale_wait_rides_out_an_api_server_restart() {
    let cluster = support::private("kubectl-feast-restart-wait");
    let ns = cluster.namespace("restart-wait").await;
    let api = stores(&cluster, &ns, &[("s", json!({}))]).await;
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", cluster.kubeconfig())
        .args([
            "scale",
            "s",
            "-n",
            &ns,
            "--replicas",
            "4",
            "--yes",
            "--wait",
            "--timeout",
            "120s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("scale --wait runs");
    // Let it send the change and start waiting, then take the API server away for a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(replicas(&api, "s").await, json!(4), "the change was sent");
    let argv = cluster.kill_api_server();
    tokio::time::sleep(Duration::from_secs(4)).await;
    cluster.restart_api_server(&argv);
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, &ns, &featurestore_resource());
    report_ready(&api, "s", 4).await;
    rolled_out(&cluster, &ns, "s", 4).await;
    let out = child.wait_with_output().expect("scale --wait ends");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("lost the API server while waiting"),
        "{stderr}"
    );
    assert!(stderr.contains("the API server answers again"), "{stderr}");
    assert!(stdout.contains("4/4 replicas ready"), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(100),
        "{:?}",
        started.elapsed()
    );

    // Gone for good: it ends at --timeout with what is known, never hangs.
    let argv = cluster.kill_api_server();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", cluster.kubeconfig())
        .args([
            "scale",
            "s",
            "-n",
            &ns,
            "--replicas",
            "5",
            "--yes",
            "--wait",
            "--timeout",
            "5s",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("refused the connection") || stderr.contains("is unreachable"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    cluster.restart_api_server(&argv);
}

#[tokio::test]
async fn status_watch_resumes_after_an_api_server_restart() {
    let cluster = support::private("kubectl-feast-restart-watch");
    let ns = cluster.namespace("restart-watch").await;
    let _api = stores(&cluster, &ns, &[("w", json!({}))]).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", cluster.kubeconfig())
        .args(["status", "-n", &ns, "--watch", "--timeout", "90s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("status --watch runs");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen_by_reader = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
            let line = String::from_utf8_lossy(&buf).to_string();
            buf.clear();
            if let Ok(mut s) = seen_by_reader.lock() {
                s.push_str(&line);
            }
            let _ = lines_tx.send(line);
        }
    });
    let wait_for = |what: &str, within: Duration| -> bool {
        let until = Instant::now() + within;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match lines_rx.recv_timeout(left) {
                Ok(line) if line.contains(what) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    };
    assert!(
        wait_for("w", Duration::from_secs(20)),
        "the first drawing shows w"
    );
    // Once a change shows, the watches are up (not only the first drawing).
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, &ns, &featurestore_resource());
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"replicas": 4}})),
    )
    .await
    .expect("patched");
    assert!(
        wait_for("0/4", Duration::from_secs(30)),
        "the watch shows w at 0/4"
    );
    let argv = cluster.kill_api_server();
    tokio::time::sleep(Duration::from_secs(4)).await;
    cluster.restart_api_server(&argv);
    // A change made after the restart reaches the watch.
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, &ns, &featurestore_resource());
    api.create(
        &PostParams::default(),
        &scalable(&ns, "after-restart", json!({})),
    )
    .await
    .expect("created after the restart");
    let resumed = wait_for("after-restart", Duration::from_secs(60));
    let _ = child.kill();
    let out = child.wait_with_output().expect("status --watch ends");
    assert!(
        resumed,
        "status --watch did not show a store created after the restart ({:?}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        seen.lock().map(|s| s.clone()).unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr)
    );
}
