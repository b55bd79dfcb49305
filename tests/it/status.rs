//! `kubectl feast status` against the real kube-apiserver, with the operator's objects seeded as
//! `scripts/seed-scenarios` writes them: each mode, an HPA at its limit, a PDB that blocks
//! drains, all replicas on one node, an operator that has not caught up, a Failed store, a
//! viewer without Node access, exit codes, one LIST per kind, and `--watch` seeing a change.

use crate::support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};

use support::{cluster, seeded};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the plugin with these arguments.
fn status(args: &[&str]) -> Run {
    let out = cluster()
        .plugin()
        .arg("status")
        .args(args)
        .output()
        .expect("the plugin runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `status -n NS -o json` (plus `extra`), parsed; asserts exit 0.
fn status_json(ns: &str, extra: &[&str]) -> Value {
    let mut args = vec!["-n", ns, "-o", "json"];
    args.extend_from_slice(extra);
    let r = status(&args);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.stdout))
}

fn store<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["stores"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no store {name} in {report:#}"))
}

/// The table line of one store (its NAME is the first column without -A).
fn line<'a>(table: &'a str, name: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{table}"))
}

/// A key-value line of the detail view: the key and its colon padded to 22 columns.
fn kv(key: &str, value: &str) -> String {
    format!("{:<22}{value}", format!("{key}:"))
}

fn featurestores(client: kube::Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("feast.dev", "v1", "FeatureStore"),
        "featurestores",
    );
    Api::namespaced_with(client, ns, &ar)
}

#[tokio::test]
async fn each_mode_is_recognised() {
    let ns = seeded(
        "status-modes",
        &["single", "static", "hpa", "keda", "conflict"],
    )
    .await;
    let report = status_json(&ns, &[]);
    for (name, mode) in [
        ("single", "single"),
        ("static", "static"),
        ("hpa", "hpa"),
        ("keda", "external"),
        ("conflict", "conflict"),
    ] {
        assert_eq!(store(&report, name)["mode"], mode, "{name}");
    }
    let keda = store(&report, "keda");
    assert_eq!(keda["autoscaler"]["kind"], "external");
    assert_eq!(keda["autoscaler"]["scaledObject"], "keda");
    let owners: Vec<&str> = store(&report, "conflict")["replicaOwners"]
        .as_array()
        .expect("owners")
        .iter()
        .filter_map(|o| o["kind"].as_str())
        .collect();
    assert_eq!(owners, ["operator-hpa", "scaledobject"]);
    // KEDA's HPA in the conflict cannot write /scale (the CEL rule refuses replicas > 1 with
    // autoscaling): shown beside the operator's, with its verdict.
    let other = &store(&report, "conflict")["otherAutoscalers"][0];
    assert_eq!(other["name"], "keda-hpa-conflict");
    assert_eq!(other["scaledObject"], "conflict");
    assert_eq!(other["verdict"]["level"], "critical", "{other:#}");

    let table = status(&["-n", &ns]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let header: Vec<&str> = table
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME", "MODE", "READY", "HPA", "PDB", "SPREAD", "SCALABLE", "PHASE", "AGE"
        ]
    );
    assert!(line(&table.stdout, "static").contains("3/3"));
    assert!(line(&table.stdout, "static").contains("maxUnavailable 1 (1 allowed)"));
    assert!(line(&table.stdout, "static").contains("3 nodes/3 zones"));
    assert!(line(&table.stdout, "keda").contains("external"));
    assert!(line(&table.stdout, "conflict").contains("conflict"));
}

#[tokio::test]
async fn an_hpa_at_its_limit_is_flagged() {
    let ns = seeded("status-hpa-limit", &["hpa-at-limit", "hpa"]).await;
    let report = status_json(&ns, &[]);
    assert_eq!(
        store(&report, "hpa-at-limit")["autoscaler"]["atLimit"],
        "max"
    );
    assert_eq!(store(&report, "hpa")["autoscaler"].get("atLimit"), None);

    let table = status(&["-n", &ns]).stdout;
    assert!(
        line(&table, "hpa-at-limit").contains("2-5 cpu 200%/70% at max"),
        "{table}"
    );
    let detail = status(&["-n", &ns, "hpa-at-limit"]).stdout;
    assert!(detail.contains("WARNING: at its maximum (5)"), "{detail}");
    assert!(
        detail.contains("ScalingLimited   True     TooManyReplicas"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_pdb_that_blocks_drains_is_flagged() {
    let ns = seeded("status-pdb", &["pdb-blocks-drain", "static"]).await;
    let report = status_json(&ns, &[]);
    let pdb = &store(&report, "pdb-blocks-drain")["disruptionBudget"];
    assert_eq!(pdb["blocksDrains"], true);
    assert_eq!(pdb["disruptionsAllowed"], 0);
    assert_eq!(
        store(&report, "static")["disruptionBudget"]["blocksDrains"],
        false
    );

    let table = status(&["-n", &ns]).stdout;
    assert!(line(&table, "pdb-blocks-drain").contains("minAvailable 3 (blocks drains)"));
    let detail = status(&["-n", &ns, "pdb-blocks-drain"]).stdout;
    assert!(detail.contains(&kv("Node drains", "BLOCKED")), "{detail}");
}

#[tokio::test]
async fn all_replicas_on_one_node_is_called_out() {
    let ns = seeded("status-one-node", &["one-node"]).await;
    let report = status_json(&ns, &[]);
    let placement = &store(&report, "one-node")["placement"];
    assert_eq!(placement["nodes"], 1);
    assert_eq!(placement["verdict"]["level"], "critical");

    let table = status(&["-n", &ns]).stdout;
    assert!(
        line(&table, "one-node").contains("all on 1 node"),
        "{table}"
    );
    let detail = status(&["-n", &ns, "one-node"]).stdout;
    assert!(
        detail
            .contains("CRITICAL: all 3 replicas on one node: a node failure takes the store down"),
        "{detail}"
    );
    // Every pod is listed on its node.
    assert_eq!(
        detail
            .lines()
            .filter(|l| l.contains(&format!("{ns}-node-1")))
            .count(),
        3,
        "{detail}"
    );
}

#[tokio::test]
async fn an_operator_that_has_not_caught_up_is_reported() {
    let ns = seeded("status-lagging", &["lagging"]).await;
    let report = status_json(&ns, &[]);
    let s = store(&report, "lagging");
    assert_eq!(s["operatorSynced"]["synced"], false);
    assert_eq!(
        s["operatorSynced"]["differences"],
        json!(["replicas: spec 4, applied 2"])
    );
    let wide = status(&["-n", &ns, "-o", "wide"]).stdout;
    let row = line(&wide, "lagging");
    assert!(row.contains("2/4"), "{wide}");
    assert!(row.contains(" no "), "SYNCED column: {wide}");
    let detail = status(&["-n", &ns, "lagging"]).stdout;
    assert!(
        detail.contains("NO: the operator has not caught up with the spec"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_failed_store_shows_its_condition_message() {
    let ns = seeded("status-failed", &["failed"]).await;
    let detail = status(&["-n", &ns, "featurestore/failed"]);
    assert_eq!(detail.code, 0, "{}", detail.stderr);
    let reason = detail
        .stdout
        .lines()
        .find(|l| l.starts_with("Reason:"))
        .unwrap_or_else(|| panic!("no Reason line:\n{}", detail.stdout));
    assert!(
        reason.contains("FeatureStoreFailed: Error: HorizontalPodAutoscaler.autoscaling \"feast-failed\" is invalid"),
        "{reason}"
    );
    assert!(detail.stdout.contains(&kv("Phase", "Failed")));
    assert!(
        detail
            .stdout
            .contains("ERROR    autoscaling/min-exceeds-max"),
        "the Warnings section runs validate's rules on the live object:\n{}",
        detail.stdout
    );
    let table = status(&["-n", &ns]).stdout;
    assert!(line(&table, "failed").contains("Failed"));
}

#[tokio::test]
async fn a_viewer_without_node_access_still_gets_the_rest() {
    let ns = seeded("status-viewer", &["static", "hpa"]).await;
    let r = status(&["-n", &ns, "--context", "viewer"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        line(&r.stdout, "static").contains("3 nodes/? zones"),
        "{}",
        r.stdout
    );
    assert!(
        line(&r.stdout, "hpa").contains("2-5 cpu 70%/70%"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("note: nodes could not be read (nodes is forbidden"),
        "{}",
        r.stdout
    );

    let report = status_json(&ns, &["--context", "viewer"]);
    let nodes = report["sources"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["kind"] == "nodes"))
        .expect("nodes source");
    assert_eq!(nodes["state"], "unreadable");
    let s = store(&report, "static");
    assert_eq!(s["placement"]["nodes"], 3);
    assert_eq!(s["placement"].get("zones"), None);

    let detail = status(&["-n", &ns, "--context", "viewer", "static"]).stdout;
    assert!(
        detail.contains("zones unknown (nodes could not be read"),
        "{detail}"
    );
}

#[tokio::test]
async fn featurestores_that_cannot_be_read_or_do_not_exist_exit_3() {
    let ns = seeded("status-exit", &["single"]).await;
    let r = status(&["-n", &ns, "--as", "nobody"]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("cannot list featurestore.feast.dev"),
        "{}",
        r.stderr
    );

    let r = status(&["-n", &ns, "single", "absent"]);
    assert_eq!(r.code, 3);
    assert!(
        r.stdout.contains(&kv("Name", "single")),
        "the found one is shown"
    );
    assert!(
        r.stderr.contains(&format!(
            "featurestore.feast.dev \"absent\" not found in namespace \"{ns}\""
        )),
        "{}",
        r.stderr
    );
    let r = status(&["-A", "single"]);
    assert_eq!(r.code, 2, "a name with -A is bad usage");
    let r = status(&["-n", &ns, "-l", "team in (ml"]);
    assert_eq!(
        r.code, 2,
        "a selector the server cannot parse is bad usage: {}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: check -l SELECTOR"), "{}", r.stderr);
    let r = status(&["-n", &ns, "-o", "sarif"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[tokio::test]
async fn one_list_per_kind_whatever_the_number_of_stores() {
    let ns = seeded(
        "status-lists",
        &[
            "single",
            "static",
            "hpa",
            "hpa-at-limit",
            "keda",
            "conflict",
        ],
    )
    .await;
    let r = status(&["-n", &ns, "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The first page of each kind: the cluster-wide nodes (six per seeded namespace) may
    // run to more pages, each a `continue` of the same LIST.
    let requests: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("GET ") && !l.contains("continue="))
        .collect();
    assert_eq!(requests.len(), 7, "{requests:#?}");
    for kind in [
        "/featurestores",
        "/deployments?",
        "/horizontalpodautoscalers",
        "/poddisruptionbudgets",
        "/pods?",
        "/api/v1/nodes",
        "/scaledobjects",
    ] {
        assert_eq!(
            requests.iter().filter(|r| r.contains(kind)).count(),
            1,
            "{kind} in {requests:#?}"
        );
    }
}

/// Pods are read as protobuf (a third of the bytes of JSON); what `status` derives from them
/// is what it derived from JSON (`KUBECTL_FEAST_SIMPLE=protobuf`), and from kube's full types
/// (`KUBECTL_FEAST_SIMPLE=slim`): nodes, restarts, why a pod is not ready, and each slim
/// Deployment's strategy, spread, affinity and rollout, over stores scaled, static and single
/// (`Recreate`, no injection). The seed writes running pods only; the not-ready ones are
/// written here, as the kubelet would report them, since the living cluster's crash-looping
/// pods change (their restart counts) between two runs.
#[tokio::test]
async fn pods_read_as_protobuf_tell_the_same_story_as_json() {
    let ns = seeded("status-protobuf", &["hpa", "one-node", "static", "single"]).await;
    let pods = cluster().kubectl_ok(&[
        "-n",
        &ns,
        "get",
        "pods",
        "-l",
        "feast.dev/name=hpa",
        "-o",
        "name",
    ]);
    let pods: Vec<&str> = pods.lines().collect();
    assert!(pods.len() >= 2, "{pods:?}");
    let not_ready = [
        r#"{"status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}]}}"#,
        r#"{"status": {"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
            "initContainerStatuses": [{"name": "feast-apply", "image": "i", "imageID": "", "ready": false, "restartCount": 4, "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}],
            "containerStatuses": [{"name": "online", "image": "i", "imageID": "", "ready": false, "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}}]}}"#,
    ];
    for (pod, patch) in pods.iter().zip(not_ready) {
        let args = [
            "-n",
            &ns,
            "patch",
            pod,
            "--subresource=status",
            "--type=merge",
            "-p",
            patch,
        ];
        cluster().kubectl_ok(&args);
    }
    let run = |simple: &str| {
        let out = cluster()
            .plugin()
            .env("KUBECTL_FEAST_SIMPLE", simple)
            .args(["-n", &ns, "status", "-o", "json", "-v"])
            .output()
            .expect("the plugin runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let list = |kind: &str| {
            stderr
                .lines()
                .find(|l| l.contains(kind))
                .map(str::to_string)
                .unwrap_or_else(|| panic!("a {kind} LIST in {stderr}"))
        };
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            list("/pods?"),
        )
    };
    // The fast paths and the simple ones they stand in for (crate::fast): protobuf pods and
    // slim shapes, against JSON pods and kube's full types.
    let (protobuf, json, full) = (run(""), run("protobuf"), run("protobuf,slim"));
    assert!(protobuf.1.ends_with("(protobuf)"), "{}", protobuf.1);
    assert!(!json.1.ends_with("(protobuf)"), "{}", json.1);
    // The same report, but for the count of the cluster's nodes, which other tests add to
    // between the two runs.
    let report = |text: &str| {
        let mut v: Value = serde_json::from_str(text).expect("status -o json");
        if let Some(sources) = v["sources"].as_array_mut() {
            sources.retain(|s| s["kind"] != "nodes");
        }
        v
    };
    assert_eq!(report(&protobuf.0), report(&json.0));
    assert_eq!(report(&protobuf.0), report(&full.0));
    let text = protobuf.0;
    for fact in [
        "Unschedulable: 0/3 nodes are available",
        "init container feast-apply: Error (exit code 2)",
        // Initializing (its init container failed): the init container's restarts, as
        // kubectl's RESTARTS column counts them, not the app container's 7.
        "\"restarts\": 4",
    ] {
        assert!(text.contains(fact), "{fact} in {text}");
    }
    // The same number as kubectl's own column for that pod.
    let row = cluster().kubectl_ok(&["-n", &ns, "get", pods[1], "--no-headers"]);
    let restarts = row.split_whitespace().nth(3).unwrap_or_default();
    assert_eq!(restarts, "4", "kubectl: {row}");
}

#[tokio::test]
async fn a_label_selector_picks_the_stores() {
    let ns = seeded("status-selector", &["single", "static"]).await;
    let fs = featurestores(cluster().client("admin").await, &ns);
    fs.patch(
        "static",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"team": "ml"}}})),
    )
    .await
    .expect("label the store");
    let report = status_json(&ns, &["-l", "team=ml"]);
    let names: Vec<&str> = report["stores"]
        .as_array()
        .expect("stores")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["static"]);
}

#[tokio::test]
async fn watch_picks_up_a_change() {
    let ns = seeded("status-watch", &["static"]).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", cluster().kubeconfig())
        .args(["status", "-n", &ns, "--watch", "--timeout", "10s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start status --watch");
    let stdout = child.stdout.take().expect("stdout is piped");
    let rx = support::lines_of(stdout);
    let started = Instant::now();
    let mut seen = Vec::new();
    // The first drawing: header and the static row at 3/3.
    loop {
        let l = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("no first drawing ({e}); saw {seen:#?}"));
        seen.push(l.clone());
        if l.starts_with("static") {
            assert!(l.contains("3/3"), "{l}");
            break;
        }
    }
    // Give the watchers a moment to start, then ask for 5 replicas.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    featurestores(cluster().client("admin").await, &ns)
        .patch(
            "static",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .expect("scale the store");
    let changed = loop {
        match rx.recv_timeout(Duration::from_secs(8)) {
            Ok(l) => {
                seen.push(l.clone());
                if l.starts_with("static") && l.contains("3/5") {
                    break l;
                }
            }
            Err(e) => panic!("the change never showed ({e}); saw {seen:#?}"),
        }
    };
    assert!(changed.contains("static"), "{changed}");
    let status = child.wait().expect("status --watch ends");
    assert!(status.success(), "exit {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "--timeout 10s ends the watch"
    );
}

#[tokio::test]
async fn as_the_editor_a_mode_that_depends_on_unreadable_autoscalers_says_unknown() {
    // The editor role reads FeatureStores only: no HPAs, no ScaledObjects.
    let ns = seeded("status-editor", &["keda", "conflict", "static"]).await;
    let r = status(&["-n", &ns, "--context", "editor"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in ["keda", "conflict", "static"] {
        let row = line(&r.stdout, name);
        assert_eq!(row.split_whitespace().nth(1), Some("unknown"), "{row}");
    }
    let report = status_json(&ns, &["--context", "editor"]);
    assert_eq!(store(&report, "keda")["mode"], "unknown");
}

#[tokio::test]
async fn kubectl_get_habits_no_headers_sort_by_and_the_empty_message() {
    let ns = seeded("status-habits", &["single", "static", "hpa-at-limit"]).await;
    let r = status(&["-n", &ns, "--no-headers", "--sort-by", "{.spec.replicas}"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // hpa-at-limit has no spec.replicas (first, as kubectl puts missing values), single 1, static 3.
    assert_eq!(
        names,
        vec!["hpa-at-limit", "single", "static"],
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("NAME"), "{}", r.stdout);
    let r = status(&["-n", &ns, "--sort-by", ".metadata.name"]);
    assert!(r.stdout.starts_with("NAME"), "{}", r.stdout);
    let bad = status(&["-n", &ns, "--sort-by", ".items[*].x"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let empty = cluster().namespace("status-empty").await;
    let r = status(&["-n", &empty]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!("No FeatureStores found in {empty} namespace.\n")
    );
}

#[tokio::test]
async fn a_misspelt_or_misplaced_name_gets_a_suggestion() {
    let ns = seeded("status-typo", &["static"]).await;
    let r = status(&["-n", &ns, "statc"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("did you mean static?"), "{}", r.stderr);
    let other = cluster().namespace("status-other").await;
    let r = status(&["-n", &other, "static"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    // (Other tests' namespaces may have a "static" too: ours must be among those named.)
    assert!(
        r.stderr
            .contains("a FeatureStore \"static\" exists in namespace")
            && r.stderr.contains(&ns)
            && r.stderr.contains("add -n "),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn color_always_beats_no_color_without_empty_escape_codes() {
    let ns = seeded("status-colour", &["conflict", "static"]).await;
    let out = cluster()
        .plugin()
        .env("NO_COLOR", "1")
        .args(["--color", "always", "status", "-n", &ns])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\u{1b}[38;5;9mconflict"), "{text:?}");
    // Every reset closes a colour that was opened: no bare resets.
    assert_eq!(
        text.matches("\u{1b}[39m").count(),
        text.matches("\u{1b}[38;5;").count(),
        "{text:?}"
    );
    assert!(!text.contains("\u{1b}[m"), "{text:?}");
}

/// The unit fixtures and the seeded cluster come from one file (`scenarios/scenarios.json`):
/// what `status` derives from the live objects must be what the pure derivation gives for the
/// fixtures built from the same facts, field for field, except what only the cluster knows
/// (uids, timestamps, generated pod names, KEDA's metric value).
#[tokio::test]
async fn the_seeded_cluster_and_the_unit_fixtures_tell_the_same_story() {
    let scenarios = crate::fixtures::seeded_scenarios();
    let ns = seeded("same-story", &scenarios).await;
    let live = status_json(&ns, &[]);
    let fixtures = crate::fixtures::all(&ns);
    let derived = serde_json::to_value(kubectl_feast::status::derive(&fixtures.inventory()))
        .expect("the report serialises");
    /// The facts both sides must agree on.
    fn facts(s: &Value) -> Value {
        let pick = |v: &Value, keys: &[&str]| -> Vec<Value> {
            keys.iter().map(|k| v[*k].clone()).collect()
        };
        let autoscaler = &s["autoscaler"];
        let metrics: Vec<Value> = autoscaler["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| json!([m["name"], m["target"]]))
            .collect();
        json!({
            "mode": s["mode"], "modeReason": s["modeReason"], "owners": s["replicaOwners"],
            "phase": s["phase"], "synced": s["operatorSynced"]["synced"],
            "replicas": pick(&s["replicas"], &["spec", "desired", "deployment", "ready", "source"]),
            "autoscaler": pick(autoscaler, &["kind", "name", "minReplicas", "maxReplicas", "currentReplicas", "atLimit"]),
            "metrics": metrics,
            "budget": pick(&s["disruptionBudget"], &["configured", "policy", "disruptionsAllowed", "blocksDrains"]),
            "placement": [s["placement"]["nodes"], s["placement"]["zones"], s["placement"]["verdict"]["level"]],
            "strategy": s["strategy"]["effective"], "spread": s["topologySpread"]["state"],
            "affinity": s["affinity"]["state"], "safe": s["safeToScale"],
            "persistence": s["persistence"],
        })
    }
    for name in &scenarios {
        assert_eq!(
            facts(store(&live, name)),
            facts(store(&derived, name)),
            "scenario {name}: the seeded cluster (left) and the unit fixtures (right) differ"
        );
    }
}

#[tokio::test]
async fn o_name_prints_what_kubectl_takes_back() {
    let ns = seeded("status-name", &["static", "hpa"]).await;
    let r = status(&["-n", &ns, "-o", "name"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        names,
        vec![
            "featurestore.feast.dev/hpa",
            "featurestore.feast.dev/static"
        ],
        "{}",
        r.stdout
    );
    // The consumer: kubectl reads each name back.
    let mut args = vec!["get", "-n", ns.as_str(), "-o", "name"];
    args.extend(names.iter().copied());
    let back = support::cluster().kubectl_ok(&args);
    assert_eq!(back.lines().collect::<Vec<_>>(), names);
    let one = status(&["-n", &ns, "static", "-o", "name"]);
    assert_eq!(
        one.stdout, "featurestore.feast.dev/static\n",
        "{}",
        one.stderr
    );
}

/// Every fix `status` gives for a CRITICAL or WARNING verdict, over every seeded scenario, is
/// pasted into the real kubectl: each command parses and runs (changes as server dry runs), so
/// no fix suggests a flag, a verb or an order kubectl refuses (issue 23).
#[tokio::test]
async fn every_fix_status_suggests_runs_through_the_real_kubectl() {
    let ns = seeded("fixes-pasted", &[]).await;
    let report = status_json(&ns, &[]);
    let mut ran = 0;
    for s in report["stores"].as_array().expect("stores") {
        for v in s["verdicts"].as_array().into_iter().flatten() {
            if !matches!(v["level"].as_str(), Some("critical" | "warning")) {
                continue;
            }
            let fix = v["fix"].as_str().unwrap_or_else(|| panic!("no fix: {v}"));
            for mut words in support::suggested_commands(fix) {
                // A placeholder (NAME, N, NODE=ZONE) is for a person to fill in.
                if words.iter().any(|w| {
                    w.chars().any(|c| c.is_ascii_uppercase())
                        && w.chars()
                            .all(|c| c.is_ascii_uppercase() || "=_.-/".contains(c))
                }) {
                    continue;
                }
                let verb = |i: usize| words.get(i).cloned().unwrap_or_default();
                let plugin = verb(1) == "feast";
                let sub = if plugin { verb(2) } else { verb(1) };
                let sub = sub.as_str();
                let changes = matches!(
                    sub,
                    "scale" | "autoscale" | "pdb" | "uncordon" | "label" | "annotate" | "delete"
                );
                // (`rollout restart` has no dry run: it runs, on this test's own Deployment.)
                if changes {
                    words.push("--dry-run=server".into());
                }
                if plugin && changes {
                    words.push("--yes".into());
                }
                let run = support::run_pasted(&words, cluster().kubeconfig());
                let stderr = String::from_utf8_lossy(&run.stderr);
                // validate and doctor exit 1 when they find what the verdict found.
                let findings =
                    plugin && matches!(sub, "validate" | "doctor") && run.status.code() == Some(1);
                assert!(
                    run.status.success() || findings,
                    "{}: {words:?}: {stderr}",
                    s["name"]
                );
                for refused in [
                    "unknown flag",
                    "unknown command",
                    "flags cannot be placed",
                    "unexpected argument",
                ] {
                    assert!(!stderr.contains(refused), "{words:?}: {stderr}");
                }
                ran += 1;
            }
        }
    }
    assert!(ran >= 8, "only {ran} commands ran");
}

/// `history` on the seeded plane (no controllers, so no events): each manager's last write and
/// the conditions' transitions, as JSON with RFC 3339 times, oldest first; and its refusals,
/// each with kubectl's exit code.
#[tokio::test]
async fn history_reads_writes_and_conditions_and_refuses_like_kubectl() {
    let ns = seeded("history", &["hpa"]).await;
    let out = support::feast(&ns, &["history", "hpa", "--since", "2d", "-o", "json"]).success();
    let h: Value = serde_json::from_slice(&out.get_output().stdout).expect("history -o json");
    assert_eq!(
        (h["name"].as_str(), h["namespace"].as_str()),
        (Some("hpa"), Some(ns.as_str()))
    );
    assert_eq!(h["sources"].as_array().map(Vec::len), Some(4), "{h:#}");
    let entries = h["events"].as_array().expect("events");
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "write" && e["object"] == "FeatureStore/hpa"),
        "the seed's write of the store: {h:#}"
    );
    let times: Vec<k8s_openapi::jiff::Timestamp> = entries
        .iter()
        .map(|e| {
            e["time"]
                .as_str()
                .expect("a time")
                .parse()
                .expect("RFC 3339")
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {h:#}"
    );
    let text = support::feast(&ns, &["history", "feast/hpa"]).success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
    assert!(
        text.contains("History of featurestore.feast.dev/hpa"),
        "{text}"
    );

    support::feast(&ns, &["history", "nope"])
        .code(3)
        .stderr(predicates::str::contains("not found"));
    for (args, says) in [
        (&["history", "hpa", "-A"][..], "-A is not supported"),
        (
            &["history", "hpa", "--since", "soon"][..],
            "invalid duration",
        ),
        (&["history", "hpa", "-o", "wide"][..], "wide"),
        (&["history", "deployment/hpa"][..], "is not a FeatureStore"),
    ] {
        support::feast(&ns, args)
            .code(2)
            .stderr(predicates::str::contains(says));
    }
}

/// Without a Prometheus, `history` says why there is no record (none labelled, or Services not
/// listable) and shows the events; one asked for by URL that does not answer is an error with
/// its real cause (exit 3), and `recommend` without one says so.
#[tokio::test]
async fn history_without_a_prometheus_says_why_and_a_dead_one_is_named_with_its_cause() {
    let ns = seeded("history-no-prometheus", &["hpa"]).await;
    let out = support::feast(&ns, &["history", "hpa"]).success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "note: no Prometheus: no Service is labelled app.kubernetes.io/name=prometheus"
        ),
        "{stderr}"
    );
    let out = support::feast_as("viewer", &ns, &["history", "hpa"]).success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("services could not be listed to find one") && stderr.contains("403"),
        "{stderr}"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let url = format!("http://127.0.0.1:{port}");
    let out = support::feast(&ns, &["history", "hpa", "--prometheus", &url]).code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("Prometheus at {url}: it refused the connection")),
        "{stderr}"
    );
    let out = support::feast(&ns, &["recommend", "hpa"]).code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no Prometheus to read the store's record from"),
        "{stderr}"
    );
    // A URL that is not one: bad usage.
    support::feast(
        &ns,
        &["recommend", "hpa", "--prometheus", "prometheus:9090"],
    )
    .code(2);
}
