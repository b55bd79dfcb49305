//! Several clusters in one view (`--context a,b`, `--all-contexts`): three real control planes
//! started by the harness (the shared plain one as admin, a private plain one, and the living
//! cluster as `viewer`, a role that cannot list nodes), a context whose server refuses the
//! connection, and one whose server accepts it and never answers.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{self, cluster, living};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One context of the merged kubeconfig: its name, the kubeconfig it comes from, and the user
/// of that kubeconfig it takes.
struct Part<'a> {
    name: &'a str,
    kubeconfig: &'a Path,
    user: &'a str,
}

/// A kubeconfig as a user who works with several clusters has one: each cluster and user of
/// `parts` under a name of its own (the harness's kubeconfigs all call theirs the same), and
/// `servers`, contexts of clusters that are not there (name, URL).
fn merged(dir: &Path, parts: &[Part], servers: &[(&str, String)]) -> PathBuf {
    let mut config = json!({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
        "contexts": [], "current-context": parts[0].name});
    let mut push = |key: &str, item: Value| {
        if let Some(list) = config[key].as_array_mut() {
            list.push(item);
        }
    };
    for part in parts {
        let out = Command::new(cluster().kubectl_path())
            .args([
                "config",
                "view",
                "--flatten",
                "--raw",
                "-o",
                "json",
                "--kubeconfig",
            ])
            .arg(part.kubeconfig)
            .output()
            .expect("kubectl config view");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let view: Value = serde_json::from_slice(&out.stdout).expect("kubeconfig JSON");
        let mut c = view["clusters"][0].clone();
        c["name"] = json!(format!("{}-cluster", part.name));
        push("clusters", c);
        let mut u = view["users"]
            .as_array()
            .and_then(|users| users.iter().find(|u| u["name"] == part.user))
            .cloned()
            .unwrap_or_else(|| panic!("user {} in {}", part.user, part.kubeconfig.display()));
        u["name"] = json!(format!("{}-user", part.name));
        push("users", u);
        push(
            "contexts",
            json!({"name": part.name, "context": {"cluster": format!("{}-cluster", part.name), "user": format!("{}-user", part.name)}}),
        );
    }
    for (name, server) in servers {
        push(
            "clusters",
            json!({"name": format!("{name}-cluster"), "cluster": {"server": server, "insecure-skip-tls-verify": true}}),
        );
        push(
            "users",
            json!({"name": format!("{name}-user"), "user": {"token": "t"}}),
        );
        push(
            "contexts",
            json!({"name": name, "context": {"cluster": format!("{name}-cluster"), "user": format!("{name}-user")}}),
        );
    }
    let path = dir.join("kubeconfig");
    std::fs::write(&path, config.to_string()).expect("write the kubeconfig");
    path
}

/// A port where nothing listens: the connection is refused.
fn refused_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("https://127.0.0.1:{port}")
}

/// A server that accepts connections and never says a word: only a deadline ends a request.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    format!("https://127.0.0.1:{port}")
}

fn store(ns: &str, name: &str, replicas: i64) -> Value {
    json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"feastProject": "p", "replicas": replicas, "services": {
            "onlineStore": {
                "persistence": {"store": {"type": "redis", "secretRef": {"name": "feast-data-stores"}}},
                "server": {"resources": {"requests": {"cpu": "200m"}}}},
            "registry": {"remote": {"hostname": "registry.feast.svc.cluster.local:80"}}}}})
}

/// `kubectl apply` of `objects` (a namespace first) to the cluster of `kubeconfig`, as admin.
fn apply(kubeconfig: &Path, objects: &[Value]) {
    for object in objects {
        let out = support::with_stdin(
            Command::new(cluster().kubectl_path())
                .arg("--kubeconfig")
                .arg(kubeconfig)
                .args(["apply", "-f", "-"]),
            &object.to_string(),
        );
        assert!(out.status.success(), "kubectl apply: {}", text(&out.stderr));
    }
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn plugin(kubeconfig: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", kubeconfig)
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("run the plugin")
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "one JSON document expected ({e}):\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// The table, the JSON, the partial exit code, suggested commands that reach their row's
/// cluster, doctor and validate over the same contexts, and the watch: one private control
/// plane started once, the cases in sequence.
#[tokio::test]
async fn three_clusters_and_an_unreachable_one_in_one_view() {
    let dir = tempfile::tempdir().expect("temp dir");
    let second = support::private("kubectl-feast-fleet");
    let ns = cluster().namespace("fleet").await;
    let kubeconfig = merged(
        dir.path(),
        &[
            Part {
                name: "a",
                kubeconfig: cluster().kubeconfig(),
                user: "admin",
            },
            Part {
                name: "b",
                kubeconfig: second.kubeconfig(),
                user: "admin",
            },
            Part {
                name: "c",
                kubeconfig: living().kubeconfig(),
                user: "viewer",
            },
        ],
        &[("down", refused_server())],
    );
    // The same namespace in each cluster: orders in a and b, pricing in c (which the real
    // operator reconciles there).
    apply(cluster().kubeconfig(), &[store(&ns, "orders", 2)]);
    apply(
        second.kubeconfig(),
        &[namespace(&ns), store(&ns, "orders", 2)],
    );
    apply(
        living().kubeconfig(),
        &[namespace(&ns), store(&ns, "pricing", 1)],
    );

    // The table: a CONTEXT column first, every store of every cluster that answered; the
    // unreachable one named on stderr with its cause; exit 4.
    let out = plugin(
        &kubeconfig,
        &[
            "status",
            "-n",
            &ns,
            "--context",
            "a,b",
            "--context",
            "c,down",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..3], ["CONTEXT", "NAME", "MODE"], "{stdout}");
    let named: Vec<(&str, &str)> = rows[1..]
        .iter()
        .filter(|r| r.len() > 3 && r[0] != "note:")
        .map(|r| (r[0], r[1]))
        .collect();
    assert_eq!(
        named,
        [("a", "orders"), ("b", "orders"), ("c", "pricing")],
        "{stdout}"
    );
    assert!(
        stdout.contains("note: nodes could not be read in context \"c\""),
        "{stdout}"
    );
    let failure: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(failure.len(), 1, "{stderr}");
    assert!(
        failure[0].starts_with("error: context \"down\": ")
            && failure[0].contains("refused the connection"),
        "{stderr}"
    );

    // The JSON: one document; every store carries its context, every context its state.
    let out = plugin(
        &kubeconfig,
        &["status", "-n", &ns, "--all-contexts", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let report = json_of(&out);
    let states: Vec<(String, String)> = report["contexts"]
        .as_array()
        .expect("contexts")
        .iter()
        .map(|c| {
            (
                c["context"].as_str().unwrap_or("").into(),
                c["state"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("a", "read"),
            ("b", "read"),
            ("c", "read"),
            ("down", "failed")
        ]
        .map(|(c, s)| (c.to_string(), s.to_string()))
    );
    assert!(
        report["contexts"][3]["error"]
            .as_str()
            .is_some_and(|e| e.contains("refused the connection") && !e.starts_with("context")),
        "{report:#}"
    );
    assert!(
        report["contexts"][3]["hints"]
            .as_array()
            .is_some_and(|h| !h.is_empty()),
        "{report:#}"
    );
    let stores = report["stores"].as_array().expect("stores");
    assert_eq!(
        stores
            .iter()
            .map(|s| (
                s["context"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or("")
            ))
            .collect::<Vec<_>>(),
        [("a", "orders"), ("b", "orders"), ("c", "pricing")]
    );
    // c's placement is unknown (its user may not list nodes); a's is not.
    let nodes_of = |context: &str| {
        report["sources"]
            .as_array()
            .and_then(|s| {
                s.iter()
                    .find(|x| x["context"] == context && x["kind"] == "nodes")
                    .map(|x| x["state"].clone())
            })
            .unwrap_or_default()
    };
    assert_eq!(
        (nodes_of("a"), nodes_of("c")),
        (json!("listed"), json!("unreadable"))
    );

    // Suggested commands carry their row's context: b's budget fix, pasted into the real
    // kubectl with the merged kubeconfig, changes b's store and not a's.
    let fix = stores[1]["verdicts"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["area"] == "budget"))
        .and_then(|v| v["fix"].as_str())
        .expect("b's budget fix")
        .to_string();
    let words = support::suggested_commands(&fix)
        .into_iter()
        .next()
        .expect("a command in the fix");
    assert_eq!(words[..4], ["kubectl", "feast", "--context", "b"], "{fix}");
    let pasted = support::run_pasted(&words, &kubeconfig);
    assert!(
        pasted.status.success(),
        "{words:?}: {}",
        text(&pasted.stderr)
    );
    let budget = |kc: &Path| {
        let out = Command::new(cluster().kubectl_path())
            .arg("--kubeconfig")
            .arg(kc)
            .args([
                "get",
                "featurestore",
                "orders",
                "-n",
                &ns,
                "-o",
                "jsonpath={.spec.services.podDisruptionBudgets}",
            ])
            .output()
            .expect("kubectl get");
        text(&out.stdout)
    };
    assert_eq!(budget(second.kubeconfig()), r#"{"maxUnavailable":1}"#);
    assert_eq!(budget(cluster().kubeconfig()), "");

    // `status NAME` shows the store from each context that has it, under its context.
    let out = plugin(
        &kubeconfig,
        &["status", "orders", "-n", &ns, "--context", "a,b,c"],
    );
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}\n{}", text(&out.stderr));
    let contexts: Vec<&str> = shown
        .lines()
        .filter_map(|l| l.strip_prefix("Context:"))
        .map(str::trim)
        .collect();
    assert_eq!(contexts, ["a", "b"], "{shown}");
    // In none of them: not found, exit 3.
    let out = plugin(
        &kubeconfig,
        &["status", "nothing", "-n", &ns, "--context", "a,b"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));

    // --contexts-matching narrows every context to those it matches.
    let out = plugin(
        &kubeconfig,
        &[
            "status",
            "-n",
            &ns,
            "--contexts-matching",
            "^[ab]$",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(json_of(&out)["contexts"].as_array().map(Vec::len), Some(2));

    // doctor: one checklist per context, in one JSON document, the failure among them.
    let out = plugin(
        &kubeconfig,
        &["doctor", "-n", &ns, "--all-contexts", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let doctor = json_of(&out);
    let checked: Vec<(&str, bool)> = doctor["contexts"]
        .as_array()
        .expect("contexts")
        .iter()
        .map(|c| (c["context"].as_str().unwrap_or(""), c["checks"].is_array()))
        .collect();
    assert_eq!(
        checked,
        [("a", true), ("b", true), ("c", true), ("down", false)]
    );
    assert!(doctor["contexts"][3]["error"].is_string(), "{doctor:#}");
    // A failed context reads the same in doctor's JSON as in status's: state, error, hints.
    assert_eq!(doctor["contexts"][3]["state"], "failed", "{doctor:#}");
    assert!(doctor["contexts"][3]["hints"].is_array(), "{doctor:#}");
    // The viewer may not list nodes in c: unknown there, and only there.
    let zones = |i: usize| {
        doctor["contexts"][i]["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == "nodes/zones"))
            .map(|c| c["level"].clone())
            .unwrap_or_default()
    };
    assert_eq!(zones(2), json!("unknown"));
    assert_ne!(zones(0), json!("unknown"));

    // Live validate: each object with its context; the unreachable one is unreadable; exit 4.
    let out = plugin(
        &kubeconfig,
        &[
            "validate",
            "-n",
            &ns,
            "--context",
            "a,b,c,down",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let validated = json_of(&out);
    let objects: Vec<(&str, &str)> = validated["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["context"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        objects,
        [("a", "orders"), ("b", "orders"), ("c", "pricing")]
    );
    assert_eq!(validated["summary"]["unreadable"], 1, "{validated:#}");
    // Without the unreachable one, every store is valid: exit 0.
    let out = plugin(&kubeconfig, &["validate", "-n", &ns, "--context", "a,b,c"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The watch redraws the one table when any cluster changes: b's replicas, changed by
    // kubectl, arrive as b's row.
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "status",
            "-n",
            &ns,
            "--context",
            "a,b",
            "--watch",
            "--timeout",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the watch");
    let lines = support::lines_of(child.stdout.take().expect("stdout"));
    let first: Vec<String> = (0..3)
        .map(|_| {
            lines
                .recv_timeout(Duration::from_secs(30))
                .expect("the first table")
        })
        .collect();
    assert!(first[0].starts_with("CONTEXT"), "{first:?}");
    let patched = Command::new(cluster().kubectl_path())
        .arg("--kubeconfig")
        .arg(second.kubeconfig())
        .args([
            "patch",
            "featurestore",
            "orders",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ])
        .output()
        .expect("kubectl patch");
    assert!(patched.status.success(), "{}", text(&patched.stderr));
    let changed = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("a changed row from b");
        if line.contains("/3") {
            break line;
        }
    };
    assert!(changed.starts_with("b "), "{changed}");
    let _ = child.kill();
    let _ = child.wait();
}

/// A cluster that accepts the connection and never answers holds nothing up: the per-request
/// deadline ends it, the other is shown, exit 4. Ctrl-C stops every request at once.
#[tokio::test]
async fn a_silent_cluster_ends_at_its_deadline_and_ctrl_c_ends_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ns = cluster().namespace("fleet-silent").await;
    apply(cluster().kubeconfig(), &[store(&ns, "orders", 1)]);
    let kubeconfig = merged(
        dir.path(),
        &[Part {
            name: "a",
            kubeconfig: cluster().kubeconfig(),
            user: "admin",
        }],
        &[("silent", silent_server())],
    );
    let out = plugin(
        &kubeconfig,
        &[
            "status",
            "-n",
            &ns,
            "--all-contexts",
            "--request-timeout",
            "2s",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("a ") && l.contains("orders")),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: context \"silent\": ") && stderr.contains("2s"),
        "{stderr}"
    );

    // Interrupted while the silent one has 30 s left on its default deadline: gone at once,
    // as a signal ends kubectl.
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-feast"));
    command
        .env("KUBECONFIG", &kubeconfig)
        .args(["status", "-n", &ns, "--context", "a,silent"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // As a shell on a terminal starts it: SIGINT at its default. (A test run in the
    // background inherits it ignored, as every background job of a shell does.)
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn");
    std::thread::sleep(Duration::from_secs(1));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let since = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "still running after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    let mut rest = String::new();
    let _ = child.stdout.take().map(|mut o| o.read_to_string(&mut rest));
    assert!(
        rest.is_empty(),
        "nothing drawn before the interrupt: {rest}"
    );
}

/// The changes act on one cluster: several contexts are bad usage, before anything is read.
#[test]
fn a_change_refuses_several_contexts() {
    let out = plugin(
        cluster().kubeconfig(),
        &[
            "scale",
            "orders",
            "--replicas",
            "2",
            "--context",
            "admin,viewer",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("acts on one cluster"),
        "{}",
        text(&out.stderr)
    );
    // A misspelt context among several: bad usage with the nearest name, nothing asked.
    let out = plugin(
        cluster().kubeconfig(),
        &["status", "--context", "admin,viewr"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean \"viewer\""),
        "{}",
        text(&out.stderr)
    );
}
