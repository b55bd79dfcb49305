//! KEDA pointed at the right target (issue 11), against the real API server: a ScaledObject on
//! the operator's Deployment is seen by `validate`, `status`, `scale`, `autoscale` and `pdb`;
//! `autoscale --keda` writes a ScaledObject that the API server accepts and refuses what would
//! fight. The plain cluster serves the repository's minimal ScaledObject CRD; the living cluster
//! has KEDA's real CRDs and operator, where the scale-up KEDA causes under CPU load is checked.

use crate::support;

use std::process::Output;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use predicates::str::contains;
use serde_json::{Value, json};
use support::TestCluster;

const SETTLE: Duration = Duration::from_secs(240);

fn apply(cluster: &TestCluster, object: &Value) {
    cluster.apply_object(object, "keda-test");
}

fn get(cluster: &TestCluster, ns: &str, kind: &str, name: &str) -> Option<Value> {
    let out = cluster
        .kubectl()
        .args(["get", kind, name, "-n", ns, "-o", "json"])
        .output()
        .expect("run kubectl");
    if out.status.success() {
        return Some(serde_json::from_slice(&out.stdout).expect("kubectl prints JSON"));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NotFound"),
        "kubectl get {kind} {name}: {stderr}"
    );
    None
}

fn feast(cluster: &TestCluster, ns: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    cluster.plugin().args(["-n", ns]).args(args).assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// A DB-backed store (safe to scale) whose online server asks for 200m CPU and, through kwok on
/// the living cluster, uses `cpu` of it.
fn scalable_store(ns: &str, name: &str, extra_spec: Value, cpu: &str) -> Value {
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
    if let (Some(into), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        into.extend(extra.clone());
    }
    json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn secret(ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "feast-data-stores", "namespace": ns},
        "stringData": {"redis": format!("connection_string: redis.{ns}.svc.cluster.local:6379")}})
}

/// The anti-pattern: a ScaledObject on Deployment `feast-<store>`, `kind` left to KEDA's default.
fn misaimed(ns: &str, so: &str, store: &str) -> Value {
    json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": so, "namespace": ns},
        "spec": {"scaleTargetRef": {"name": format!("feast-{store}")},
            "minReplicaCount": 2, "maxReplicaCount": 6,
            "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}]}})
}

fn wait_for<T>(
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + SETTLE;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {}s waiting for {what}; last state:\n{}",
            SETTLE.as_secs(),
            describe()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------------------------
// The plain cluster: the API server with the minimal ScaledObject CRD.

#[tokio::test]
async fn a_scaled_object_on_the_operator_deployment_is_seen_by_every_command() {
    let c = support::cluster();
    let ns = c.namespace("keda-misaimed").await;
    apply(
        c,
        &scalable_store(&ns, "orders-live", json!({"replicas": 2}), "100m"),
    );
    apply(c, &misaimed(&ns, "orders-cpu", "orders-live"));

    // validate, live: the ScaledObject is an object of its own, invalid, with the fixed target.
    feast(c, &ns, &["validate", "orders-live"])
        .code(1)
        .stdout(contains(format!("FeatureStore {ns}/orders-live  VALID")))
        .stdout(contains(format!("ScaledObject {ns}/orders-cpu  INVALID")))
        .stdout(contains("keda/targets-deployment  spec.scaleTargetRef"))
        .stdout(contains(
            r#"scaleTargetRef: {"apiVersion":"feast.dev/v1","kind":"FeatureStore","name":"orders-live"}"#,
        ))
        .stdout(contains("1 FeatureStore and 1 ScaledObject: 1 valid, 1 invalid"));

    // status: conflict, naming the ScaledObject, in the table, the detail and the JSON.
    let listing = stdout(&feast(c, &ns, &["status"]).success());
    let row = listing
        .lines()
        .find(|l| l.starts_with("orders-live "))
        .unwrap_or_else(|| panic!("no row for orders-live:\n{listing}"));
    assert!(row.contains(" conflict "), "{row}");
    feast(c, &ns, &["status", "orders-live"])
        .success()
        .stdout(contains("conflict"))
        .stdout(contains(
            "KEDA ScaledObject \"orders-cpu\" targets Deployment feast-orders-live",
        ));
    let v: Value = serde_json::from_str(&stdout(
        &feast(c, &ns, &["status", "orders-live", "-o", "json"]).success(),
    ))
    .expect("JSON");
    let s = v["stores"]
        .as_array()
        .and_then(|s| s.first())
        .cloned()
        .or_else(|| (v["name"] == "orders-live").then(|| v.clone()))
        .expect("the store's status");
    assert_eq!(s["mode"], "conflict", "{s}");
    assert!(
        s["replicaOwners"]
            .as_array()
            .is_some_and(|o| o
                .contains(&json!({"kind": "scaledobject-on-deployment", "name": "orders-cpu"}))),
        "{s}"
    );

    // scale, autoscale, pdb: a warning naming it; the change itself still goes through.
    let warning = "warning: featurestore.feast.dev/orders-live: KEDA ScaledObject \"orders-cpu\" targets Deployment feast-orders-live";
    feast(c, &ns, &["scale", "orders-live", "--replicas", "3"])
        .success()
        .stderr(contains(warning));
    feast(c, &ns, &["pdb", "orders-live", "--max-unavailable", "1"])
        .success()
        .stderr(contains(warning));
    feast(c, &ns, &["autoscale", "orders-live", "--max", "5", "--yes"])
        .success()
        .stderr(contains(warning));
    // Now two owners as well: validate says so too.
    feast(c, &ns, &["validate", "orders-live"])
        .code(1)
        .stdout(contains("keda/two-owners"));
}

#[tokio::test]
async fn validate_reads_scaled_objects_from_files_beside_their_stores() {
    let c = support::cluster();
    let ns = c.namespace("keda-files").await;
    // The files as they are applied: the API server accepts both; validate refuses the pair.
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("orders.yaml");
    let docs = [
        scalable_store(&ns, "orders", json!({"replicas": 3}), "100m"),
        json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "orders", "namespace": ns,
                "annotations": {"autoscaling.keda.sh/paused-replicas": "2"}},
            "spec": {"scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "orders"},
                "maxReplicaCount": 4}}),
    ];
    let yaml: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    std::fs::write(&path, yaml.join("\n---\n")).expect("write");
    let out = c
        .kubectl()
        .args(["apply", "--dry-run=server", "-f"])
        .arg(&path)
        .output()
        .expect("kubectl");
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(
        &c.plugin()
            .args(["validate", "-o", "json", "-f"])
            .arg(&path)
            .assert()
            .code(1)
            .get_output()
            .stdout,
    )
    .expect("JSON");
    let so = &v["results"][1];
    assert_eq!(so["kind"], "ScaledObject");
    let rules: Vec<&str> = so["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules, ["keda/two-owners", "keda/paused"], "{so}");
    assert_eq!(v["summary"]["scaledObjects"], 1);
}

#[tokio::test]
async fn autoscale_keda_prints_a_scaled_object_the_api_server_accepts_and_applies_it() {
    let c = support::cluster();
    let ns = c.namespace("keda-autoscale").await;
    apply(c, &scalable_store(&ns, "orders", json!({}), "100m"));
    let args = [
        "autoscale",
        "orders",
        "--keda",
        "--min",
        "2",
        "--max",
        "6",
        "--trigger",
        "cpu=70%",
        "--trigger",
        "prometheus=http://prometheus.monitoring:9090|sum(rate(feast_requests_total{code=~\"2..|3..\"}[2m]))|100",
    ];
    // Printed only: YAML that names the FeatureStore as its target, nothing created.
    let printed = feast(c, &ns, &args)
        .success()
        .stderr(contains("nothing was sent"));
    let yaml = stdout(&printed);
    let so: Value = serde_saphyr::from_str(&yaml).expect("-o yaml (default) is YAML");
    assert_eq!(
        so["spec"]["scaleTargetRef"],
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "orders"})
    );
    assert_eq!(
        (
            so["spec"]["minReplicaCount"].as_i64(),
            so["spec"]["maxReplicaCount"].as_i64()
        ),
        (Some(2), Some(6))
    );
    assert_eq!(
        so["spec"]["triggers"][1]["metadata"]["query"],
        "sum(rate(feast_requests_total{code=~\"2..|3..\"}[2m]))"
    );
    assert!(get(c, &ns, "scaledobjects.keda.sh", "orders").is_none());
    // The API server accepts it as it is.
    let out = support::with_stdin(
        c.kubectl().args(["apply", "--dry-run=server", "-f", "-"]),
        &yaml,
    );
    assert!(out.status.success(), "{}", text(&out));
    // -o json prints the same object.
    let j: Value = serde_json::from_str(&stdout(
        &feast(c, &ns, &[&args[..], &["-o", "json"]].concat()).success(),
    ))
    .expect("JSON");
    assert_eq!(j, so);

    // --apply creates it; again, it is unchanged; validate finds it right.
    let with_apply = [&args[..], &["--apply"]].concat();
    feast(c, &ns, &with_apply)
        .success()
        .stdout(contains("scaledobject.keda.sh/orders created"))
        .stdout(contains("keda-hpa-orders"));
    let stored = get(c, &ns, "scaledobjects.keda.sh", "orders").expect("created");
    assert_eq!(stored["spec"]["scaleTargetRef"]["kind"], "FeatureStore");
    feast(c, &ns, &with_apply)
        .success()
        .stdout(contains("scaledobject.keda.sh/orders unchanged"));
    feast(c, &ns, &["validate", "orders"])
        .success()
        .stdout(contains(format!("ScaledObject {ns}/orders  VALID")));
    // status now calls the store external, owned by the ScaledObject.
    feast(c, &ns, &["status"])
        .success()
        .stdout(contains("external"));
}

#[tokio::test]
async fn autoscale_keda_fixes_a_misaimed_scaled_object_of_the_same_name() {
    let c = support::cluster();
    let ns = c.namespace("keda-fix").await;
    apply(c, &scalable_store(&ns, "orders", json!({}), "100m"));
    apply(c, &misaimed(&ns, "orders", "orders"));
    feast(
        c,
        &ns,
        &[
            "autoscale",
            "orders",
            "--keda",
            "--max",
            "4",
            "--trigger",
            "cpu=70%",
            "--apply",
        ],
    )
    .success()
    .stdout(contains("scaledobject.keda.sh/orders configured"))
    .stderr(contains("--apply points it at the FeatureStore"));
    let so = get(c, &ns, "scaledobjects.keda.sh", "orders").expect("the ScaledObject");
    assert_eq!(
        so["spec"]["scaleTargetRef"],
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "orders"})
    );
    feast(c, &ns, &["status"])
        .success()
        .stdout(contains("conflict").not());
}

#[tokio::test]
async fn autoscale_keda_refuses_what_would_fight_or_fail_and_sends_nothing() {
    let c = support::cluster();
    let ns = c.namespace("keda-refuse").await;
    // Default sqlite persistence: every scale write above 1 would be rejected.
    apply(
        c,
        &json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": "sqlite", "namespace": ns}, "spec": {"feastProject": "sqlite"}}),
    );
    feast(
        c,
        &ns,
        &[
            "autoscale",
            "sqlite",
            "--keda",
            "--max",
            "4",
            "--trigger",
            "cpu=70%",
            "--apply",
        ],
    )
    .code(1)
    .stderr(contains("keda/unsafe-persistence"))
    .stderr(contains("nothing was sent"));
    // The operator's HPA already scales it: two owners; the hint says how to hand over.
    apply(
        c,
        &scalable_store(
            &ns,
            "hpa",
            json!({"services": {
        "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
        "registry": {"remote": {"hostname": "r:80"}},
        "scaling": {"autoscaling": {"maxReplicas": 4}}}}),
            "100m",
        ),
    );
    feast(
        c,
        &ns,
        &[
            "autoscale",
            "hpa",
            "--keda",
            "--max",
            "4",
            "--trigger",
            "cpu=70%",
            "--apply",
        ],
    )
    .code(1)
    .stderr(contains("keda/two-owners"))
    .stderr(contains(format!(
        "kubectl feast autoscale hpa -n {ns} --off"
    )));
    // Another ScaledObject already aims at it (through the Deployment).
    apply(c, &scalable_store(&ns, "taken", json!({}), "100m"));
    apply(c, &misaimed(&ns, "taken-cpu", "taken"));
    feast(
        c,
        &ns,
        &[
            "autoscale",
            "taken",
            "--keda",
            "--max",
            "4",
            "--trigger",
            "cpu=70%",
            "--apply",
        ],
    )
    .code(1)
    .stderr(contains("ScaledObject taken-cpu already scales"));
    for name in ["sqlite", "hpa", "taken"] {
        assert!(
            get(c, &ns, "scaledobjects.keda.sh", name).is_none(),
            "{name} was created"
        );
    }
    // Bad flags: usage (2) or a bound the CRD would refuse (1), before any request.
    feast(c, &ns, &["autoscale", "taken", "--keda", "--max", "4"])
        .code(2)
        .stderr(contains("--keda needs at least one --trigger"));
    feast(
        c,
        &ns,
        &[
            "autoscale",
            "taken",
            "--keda",
            "--min",
            "0",
            "--max",
            "4",
            "--trigger",
            "cpu=70%",
        ],
    )
    .code(1)
    .stderr(contains("below the CRD's minimum of 1"));
    feast(
        c,
        &ns,
        &[
            "autoscale",
            "taken",
            "--keda",
            "--max",
            "4",
            "--trigger",
            "rps=5",
        ],
    )
    .code(2)
    .stderr(contains("unknown trigger type"));
    feast(
        c,
        &ns,
        &[
            "autoscale",
            "--all",
            "--keda",
            "--max",
            "4",
            "--trigger",
            "cpu=70%",
        ],
    )
    .code(2)
    .stderr(contains("one ScaledObject for one FeatureStore"));
}

// ---------------------------------------------------------------------------------------------
// The living cluster: KEDA's real CRDs and operator, the Feast Operator, metrics-server, kwok.

/// The other way round: an operator HPA on a store a ScaledObject already scales would be a
/// second owner of its count (what validate calls keda/two-owners). `autoscale` refuses it even
/// with --yes, sends nothing, and its hint's steps, pasted into the real kubectl, hand over.
#[tokio::test]
async fn autoscale_refuses_an_operator_hpa_beside_a_scaled_object_and_says_the_order_of_steps() {
    let c = support::cluster();
    let ns = c.namespace("keda-second-owner").await;
    apply(
        c,
        &scalable_store(&ns, "orders", json!({"replicas": 2}), "100m"),
    );
    apply(
        c,
        &json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "orders-cpu", "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "orders"},
                "minReplicaCount": 2, "maxReplicaCount": 6,
                "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}]}}),
    );
    let refused = c
        .plugin()
        .args([
            "-n",
            &ns,
            "autoscale",
            "orders",
            "--min",
            "2",
            "--max",
            "5",
            "--yes",
        ])
        .output()
        .expect("run autoscale");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is already scaled by KEDA ScaledObject \"orders-cpu\"")
            && stderr.contains("second owner")
            && stderr.contains("nothing was sent"),
        "{stderr}"
    );
    let spec = c.kubectl_ok(&[
        "get",
        "featurestores.feast.dev",
        "orders",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec}",
    ]);
    assert!(!spec.contains("autoscaling"), "nothing was sent: {spec}");
    // The hint's first step, pasted as it is, removes the ScaledObject; then the command works.
    let delete = support::suggested_commands(&stderr)
        .into_iter()
        .find(|w| w.get(1).map(String::as_str) == Some("delete"))
        .unwrap_or_else(|| panic!("no delete step in: {stderr}"));
    let run = support::run_pasted(&delete, c.kubeconfig());
    assert!(
        run.status.success(),
        "{delete:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    feast(
        c,
        &ns,
        &["autoscale", "orders", "--min", "2", "--max", "5", "--yes"],
    )
    .success();
}

/// `--keda --apply` goes through the change flow's confirmation: on a store Argo CD syncs, the
/// live ScaledObject is a risk (asked, or --yes); `-o patch` prints the ScaledObject to commit,
/// which the real API server accepts, and sends nothing.
#[tokio::test]
async fn autoscale_keda_asks_before_writing_beside_a_store_synced_from_git() {
    let c = support::cluster();
    let ns = c.namespace("keda-gitops").await;
    let mut store = scalable_store(&ns, "synced", json!({}), "100m");
    store["metadata"]["annotations"] = json!({"argocd.argoproj.io/tracking-id": format!("feast:feast.dev/FeatureStore:{ns}/synced")});
    apply(c, &store);
    let keda = [
        "autoscale",
        "synced",
        "--keda",
        "--max",
        "4",
        "--trigger",
        "cpu=70%",
    ];
    let with = |more: &[&str]| -> Vec<String> {
        ["-n", ns.as_str()]
            .iter()
            .chain(keda.iter())
            .chain(more.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let args = with(&["--apply"]);
    let refused = c.plugin().args(&args).output().expect("run --keda");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Argo CD") && stderr.contains("needs confirmation"),
        "{stderr}"
    );
    assert!(
        get(c, &ns, "scaledobjects.keda.sh", "synced").is_none(),
        "nothing was sent"
    );

    let patch = c
        .plugin()
        .args(with(&["-o", "patch"]))
        .output()
        .expect("run -o patch");
    assert!(
        patch.status.success(),
        "{}",
        String::from_utf8_lossy(&patch.stderr)
    );
    let file = String::from_utf8_lossy(&patch.stdout).to_string();
    assert!(
        file.starts_with("# kubectl feast autoscale --keda: commit this ScaledObject"),
        "{file}"
    );
    let checked = support::with_stdin(
        c.kubectl().args(["apply", "--dry-run=server", "-f", "-"]),
        &file,
    );
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        get(c, &ns, "scaledobjects.keda.sh", "synced").is_none(),
        "-o patch sends nothing"
    );

    let sent = c
        .plugin()
        .args(with(&["--apply", "--yes"]))
        .output()
        .expect("run --keda --yes");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(get(c, &ns, "scaledobjects.keda.sh", "synced").is_some());
}

/// KEDA's real ScaledObject CRD accepts what `--keda` prints, and KEDA's operator then scales
/// the FeatureStore through its scale subresource under CPU load; the operator follows.
#[tokio::test]
async fn with_real_keda_the_scaled_object_scales_the_featurestore_under_load() {
    let c = support::living();
    let ns = c.namespace("keda-living").await;
    apply(c, &secret(&ns));
    // 400m used of 200m requested: 200% against a 70% target.
    apply(c, &scalable_store(&ns, "busy", json!({}), "400m"));
    let args = [
        "autoscale",
        "busy",
        "--keda",
        "--min",
        "1",
        "--max",
        "3",
        "--trigger",
        "cpu=70%",
    ];
    let yaml = stdout(&feast(c, &ns, &args).success());
    let out = support::with_stdin(
        c.kubectl().args(["apply", "--dry-run=server", "-f", "-"]),
        &yaml,
    );
    assert!(
        out.status.success(),
        "KEDA's CRD refuses it: {}",
        text(&out)
    );
    feast(c, &ns, &[&args[..], &["--apply"]].concat())
        .success()
        .stdout(contains("scaledobject.keda.sh/busy created"));

    let describe = || {
        format!(
            "{:?}\n{:?}\n{:?}",
            get(c, &ns, "scaledobjects.keda.sh", "busy").map(|s| s["status"].clone()),
            get(c, &ns, "hpa", "keda-hpa-busy").map(|h| h["status"].clone()),
            get(c, &ns, "featurestores.feast.dev", "busy").map(|f| f["spec"]["replicas"].clone())
        )
    };
    // KEDA made its HPA on the FeatureStore, never on the Deployment.
    let hpa = wait_for(
        "KEDA's HPA",
        || get(c, &ns, "hpa", "keda-hpa-busy"),
        describe,
    );
    assert_eq!(
        hpa["spec"]["scaleTargetRef"],
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "busy"})
    );
    // The scale-up: KEDA's HPA writes spec.replicas, the operator carries it to the Deployment.
    wait_for(
        "spec.replicas above 1 and the Deployment following",
        || {
            let replicas =
                get(c, &ns, "featurestores.feast.dev", "busy")?["spec"]["replicas"].as_i64()?;
            let deploy = get(c, &ns, "deployment", "feast-busy")?;
            (replicas >= 2 && deploy["spec"]["replicas"].as_i64() == Some(replicas)).then_some(())
        },
        describe,
    );
    let v: Value = serde_json::from_str(&stdout(
        &feast(c, &ns, &["status", "busy", "-o", "json"]).success(),
    ))
    .expect("JSON");
    let s = v["stores"]
        .as_array()
        .and_then(|s| s.first())
        .cloned()
        .unwrap_or(v);
    assert_eq!(s["mode"], "external", "{s}");
    feast(c, &ns, &["validate", "busy"]).success();

    // history's record: the desired replicas of KEDA's HPA, as the living cluster's Prometheus
    // scraped them from kube-state-metrics, reach the count KEDA set.
    let url = c.prometheus_url();
    let desired_peak = || {
        let out = feast(
            c,
            &ns,
            &[
                "history",
                "busy",
                "--since",
                "30m",
                "--prometheus",
                &url,
                "-o",
                "json",
            ],
        )
        .success();
        let h: Value = serde_json::from_str(&stdout(&out)).ok()?;
        let peak = h["series"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == "desiredReplicas")?["points"]
            .as_array()?
            .iter()
            .filter_map(|p| p["value"].as_f64())
            .fold(0.0, f64::max);
        (peak >= 2.0).then_some(peak)
    };
    wait_for(
        "Prometheus to record KEDA's HPA at 2 or more",
        desired_peak,
        describe,
    );
}

/// With real KEDA, a ScaledObject on the Deployment gets KEDA's HPA on the Deployment: `status`
/// says conflict and counts that HPA once, under the ScaledObject.
#[tokio::test]
async fn with_real_keda_a_misaimed_scaled_object_is_a_conflict_counted_once() {
    let c = support::living();
    let ns = c.namespace("keda-living-misaimed").await;
    apply(c, &secret(&ns));
    apply(c, &scalable_store(&ns, "orders-live", json!({}), "100m"));
    apply(c, &misaimed(&ns, "orders-cpu", "orders-live"));
    let hpa = wait_for(
        "KEDA's HPA on the Deployment",
        || get(c, &ns, "hpa", "keda-hpa-orders-cpu"),
        || format!("{:?}", get(c, &ns, "scaledobjects.keda.sh", "orders-cpu")),
    );
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    let v: Value = serde_json::from_str(&stdout(
        &feast(c, &ns, &["status", "orders-live", "-o", "json"]).success(),
    ))
    .expect("JSON");
    let s = v["stores"]
        .as_array()
        .and_then(|s| s.first())
        .cloned()
        .unwrap_or(v);
    assert_eq!(s["mode"], "conflict", "{s}");
    assert_eq!(
        s["replicaOwners"],
        json!([{"kind": "scaledobject-on-deployment", "name": "orders-cpu"}]),
        "{s}"
    );
    assert_eq!(s["autoscaler"]["name"], "keda-hpa-orders-cpu", "{s}");
    assert_eq!(s["autoscaler"]["scaledObject"], "orders-cpu", "{s}");
}
