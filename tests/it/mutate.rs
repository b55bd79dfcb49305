//! `scale`, `autoscale` and `pdb` against the real kube-apiserver with the real FeatureStore CRD
//! (see tests/it/support): the real binary's output and exit codes, what it stored, every refusal,
//! dry runs, conflicts and concurrent writers, the test users' roles, and `--wait` following a
//! status that the test writes as the operator would.

use crate::support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::{Value, json};

use kubectl_feast::cluster::Cluster;
use kubectl_feast::commands::change::{self, Planned, Verb};
use kubectl_feast::plan;
use support::proxy::{Fault, Rule};
use support::{cluster, feast, feast_as, seeded};

// ---------------------------------------------------------------------------------------------
// helpers

fn kubectl(args: &[&str]) -> Output {
    let out = cluster()
        .kubectl()
        .args(args)
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The stored FeatureStore as JSON.
fn get(ns: &str, name: &str) -> Value {
    cluster().featurestore(ns, name)
}

fn spec(ns: &str, name: &str) -> Value {
    get(ns, name)["spec"].clone()
}

fn resource_version(ns: &str, name: &str) -> String {
    get(ns, name)["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_string()
}

fn apply(ns: &str, object: &Value) {
    let out = support::with_stdin(
        cluster().kubectl().args(["apply", "-n", ns, "-f", "-"]),
        &object.to_string(),
    );
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A DB-backed store (may scale) with extra spec fields, created as a user would.
fn create_store(ns: &str, name: &str, extra_spec: Value) {
    let mut spec = json!({"feastProject": "p", "services": {
        "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "feast-data-stores"}}}},
        "registry": {"remote": {"hostname": "registry.feast.svc.cluster.local:80"}}}});
    plan::merge_patch(&mut spec, &extra_spec);
    apply(
        ns,
        &json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}),
    );
}

/// Writes the status subresource, as the operator does.
fn patch_status(ns: &str, name: &str, status: Value) {
    kubectl(&[
        "patch",
        "featurestores.feast.dev",
        name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        &json!({ "status": status }).to_string(),
    ]);
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

// ---------------------------------------------------------------------------------------------
// scale

#[tokio::test]
async fn scale_sets_spec_replicas_and_says_what_the_operator_does() {
    let ns = seeded("scale-up", &["static"]).await;
    feast(&ns, &["scale", "static", "--replicas", "5"])
        .success()
        .stdout(contains("featurestore.feast.dev/static scaled\n"))
        .stdout(contains(
            "set Deployment feast-static to 5 replica(s) (from 3)",
        ));
    let out = kubectl(&[
        "get",
        "featurestores.feast.dev",
        "static",
        "-n",
        &ns,
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let stored: Value = serde_json::from_slice(&out.stdout).expect("kubectl prints JSON");
    assert_eq!(stored["spec"]["replicas"], json!(5));
    let managers: Vec<&str> = stored["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl-feast"), "{managers:?}");
}

#[tokio::test]
async fn suggested_commands_carry_the_namespace_and_context() {
    let ns = seeded("hints-ns", &["static"]).await;
    feast_as("admin", &ns, &["scale", "static", "--replicas", "1"])
        .code(1)
        .stderr(contains(format!(
            "`kubectl feast --context admin scale static -n {ns} --replicas 2`"
        )))
        .stderr(contains(format!(
            "`kubectl feast --context admin pdb static -n {ns} --off`"
        )));
    // Without --context, the namespace alone.
    feast(&ns, &["scale", "static", "--replicas", "1"])
        .code(1)
        .stderr(contains(format!(
            "`kubectl feast pdb static -n {ns} --off`"
        )));
}

/// Each suggested command, pasted into the real kubectl, runs: kubectl 1.35 refuses a flag
/// before a plugin's name (`kubectl --context X feast ...`), and a context name with quotes
/// must survive the shell and every output format.
#[tokio::test]
async fn suggested_commands_run_through_the_real_kubectl_under_any_context_name() {
    let ns = seeded("hints-pasted", &["static"]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::copy(cluster().kubeconfig(), &kubeconfig).expect("copy kubeconfig");
    let odd = "it's \"prod\" eu";
    let admin = |field: &str| {
        let path = format!("jsonpath={{.contexts[?(@.name==\"admin\")].context.{field}}}");
        cluster()
            .kubectl_ok(&["config", "view", "-o", &path])
            .trim()
            .to_string()
    };
    let set = Command::new(cluster().kubectl_path())
        .args(["config", "set-context", odd, "--cluster"])
        .arg(admin("cluster"))
        .arg("--user")
        .arg(admin("user"))
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .expect("kubectl config set-context");
    assert!(set.status.success(), "{set:?}");
    for context in ["admin", odd] {
        let out = cluster()
            .plugin()
            .env("KUBECONFIG", &kubeconfig)
            .args([
                "--context",
                context,
                "-n",
                &ns,
                "scale",
                "static",
                "--replicas",
                "1",
            ])
            .output()
            .expect("run the plugin");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The commands that name this store (a hint may also mention a verb in passing).
        let commands: Vec<Vec<String>> = support::suggested_commands(&stderr)
            .into_iter()
            .filter(|words| words.iter().any(|w| w == "static"))
            .collect();
        assert!(commands.len() >= 2, "{stderr}");
        for mut words in commands {
            assert_eq!(words[1], "feast", "{words:?}");
            assert_eq!(&words[2..4], ["--context", context], "{words:?}");
            words.push("--dry-run=server".into());
            let run = support::run_pasted(&words, &kubeconfig);
            assert!(
                run.status.success(),
                "{words:?}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
        }
    }
    // validate -o json with that context name is one valid JSON document whose hints carry it.
    let out = cluster()
        .plugin()
        .env("KUBECONFIG", &kubeconfig)
        .args(["--context", odd, "validate", "-f"])
        .arg(support::repo_root().join("examples/unsafe/hpa-mistakes.yaml"))
        .args(["-o", "json"])
        .output()
        .expect("run validate");
    let report: Value = serde_json::from_slice(&out.stdout).expect("validate -o json is JSON");
    let hints: Vec<&str> = report["results"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["hint"].as_str())
        .collect();
    assert!(
        hints
            .iter()
            .any(|h| h.contains("`kubectl feast --context 'it'\\''s \"prod\" eu' pdb pricing")),
        "{hints:?}"
    );
}

#[tokio::test]
async fn from_n_is_what_the_deployment_runs_not_the_old_spec() {
    // lagging: spec.replicas is 4, the operator has not caught up and the Deployment runs 2.
    let ns = seeded("scale-from-deployment", &["lagging"]).await;
    feast(&ns, &["scale", "lagging", "--replicas", "3", "--dry-run"])
        .success()
        .stdout(contains(
            "set Deployment feast-lagging to 3 replica(s) (from 2)",
        ))
        .stdout(contains("(from 4)").not());
    // The editor may not read Deployments: then no "from" is claimed at all.
    feast_as(
        "editor",
        &ns,
        &["scale", "lagging", "--replicas", "3", "--dry-run"],
    )
    .success()
    .stdout(contains("set Deployment feast-lagging to 3 replica(s)\n"));
}

#[tokio::test]
async fn scale_from_one_switches_strategy_injects_placement_and_creates_the_pdb() {
    let ns = cluster().namespace("scale-1-to-n").await;
    create_store(
        &ns,
        "fs",
        json!({"services": {"podDisruptionBudgets": {"maxUnavailable": 1}}}),
    );
    feast(&ns, &["scale", "feast/fs", "--replicas", "3"])
        .success()
        .stdout(contains("featurestore.feast.dev/fs scaled"))
        // No operator ran here, so there is no Deployment to say "from N" of.
        .stdout(contains("set Deployment feast-fs to 3 replica(s)\n"))
        .stdout(contains(
            "switch the Deployment strategy Recreate → RollingUpdate",
        ))
        .stdout(contains("inject the zone spread constraint"))
        .stdout(contains("inject soft pod anti-affinity"))
        .stdout(contains("roll every pod"))
        .stdout(contains(
            "create PodDisruptionBudget feast-fs (maxUnavailable: 1)",
        ));
    assert_eq!(spec(&ns, "fs")["replicas"], json!(3));
}

#[tokio::test]
async fn scale_to_one_from_more_needs_confirmation_then_undoes_ha() {
    let ns = seeded("scale-n-to-1", &["static"]).await;
    let rv = resource_version(&ns, "static");
    feast(&ns, &["scale", "static", "--replicas", "1"])
        .code(1)
        .stderr(contains("static goes down to 1 replica"))
        .stderr(contains("--yes"));
    assert_eq!(resource_version(&ns, "static"), rv, "nothing was sent");

    feast(&ns, &["scale", "static", "--replicas", "1", "--yes"])
        .success()
        .stdout(contains(
            "set Deployment feast-static to 1 replica(s) (from 3)",
        ))
        .stdout(contains(
            "switch the Deployment strategy RollingUpdate → Recreate",
        ))
        .stdout(contains(
            "every old pod stops before the new one starts, so static serves nothing until the new pod is ready",
        ))
        .stdout(contains("remove the injected zone spread constraint"))
        .stdout(contains("remove the injected pod anti-affinity"))
        .stdout(contains("delete PodDisruptionBudget feast-static"))
        .stderr(contains("pdb/inactive"));
    assert_eq!(spec(&ns, "static")["replicas"], json!(1));
}

/// The confirmation prompt on a real terminal: Ctrl-C and Ctrl-D at `[y/N]` cancel with nothing
/// sent and the terminal left as it was (the cursor was hidden and never shown again after a
/// Ctrl-C, and Ctrl-D was ignored); `y` sends.
#[tokio::test]
async fn the_prompt_on_a_terminal_takes_y_and_cancels_on_ctrl_c_and_ctrl_d() {
    let ns = seeded("prompt-pty", &["static"]).await;
    let prompt = "Apply this change to featurestore.feast.dev/static? [y/N]";
    for (key, sent) in [("\u{3}", false), ("\u{4}", false), ("y", true)] {
        let rv = resource_version(&ns, "static");
        let (status, screen) = on_terminal(
            &ns,
            &["scale", "static", "--replicas", "1"],
            &[(prompt, key)],
        );
        let hidden = screen.matches("\x1b[?25l").count();
        let shown = screen.matches("\x1b[?25h").count();
        assert!(
            hidden <= shown,
            "the cursor is left hidden after {key:?}: {screen:?}"
        );
        if sent {
            assert_eq!(status.code(), Some(0), "{screen}");
            assert_eq!(spec(&ns, "static")["replicas"], json!(1));
            continue;
        }
        assert_eq!(
            resource_version(&ns, "static"),
            rv,
            "nothing was sent after {key:?}"
        );
        assert_eq!(status.code(), Some(1), "{key:?}: {screen}");
        assert!(
            screen.contains("cancelled at the prompt"),
            "{key:?}: {screen}"
        );
    }
}

#[tokio::test]
async fn scaling_an_unsafe_store_is_refused_with_the_rules_message_and_nothing_sent() {
    let ns = seeded("scale-unsafe", &["single"]).await;
    let rv = resource_version(&ns, "single");
    feast(&ns, &["scale", "single", "--replicas", "3"])
        .code(1)
        .stderr(contains("featurestore.feast.dev/single in namespace"))
        .stderr(contains("nothing was sent"))
        .stderr(contains(
            "Scaling requires DB-backed persistence for the online store",
        ))
        .stderr(contains("Scaling requires DB-backed or remote registry"))
        .stderr(contains("fix: "));
    assert_eq!(resource_version(&ns, "single"), rv);
}

/// From the default store (sqlite, file registry) to one that scales, by what the refusals
/// say, each suggested command pasted into the real kubectl: the scale refusal names the
/// `persistence` command; that is refused while the Secret is missing, then while a key is,
/// and each time its hint (`kubectl create secret`, `kubectl patch secret`) makes it right;
/// then it goes through, and so does the scale. Nothing is sent while refused.
#[tokio::test]
async fn the_refusals_lead_from_the_default_store_to_one_that_scales() {
    let ns = seeded("persistence", &["single"]).await;
    kubectl(&["-n", &ns, "delete", "secret", "feast-data-stores"]);
    let kubeconfig = cluster().kubeconfig().to_path_buf();
    let refusal = stderr_of(&feast(&ns, &["scale", "single", "--replicas", "3"]).code(1));
    let persistence = support::suggested_commands(&refusal)
        .into_iter()
        .find(|w| w.get(2).map(String::as_str) == Some("persistence"))
        .unwrap_or_else(|| panic!("a persistence command in {refusal}"));
    assert_eq!(
        persistence[3..],
        [
            "single",
            "-n",
            &ns,
            "--online",
            "redis",
            "--registry",
            "sql"
        ],
        "{persistence:?}"
    );
    let mut persist = persistence.clone();
    persist.push("--yes".into());
    let rv = resource_version(&ns, "single");
    // Refused, and the hint's command is pasted into kubectl; `expect` says what refused.
    let refused_then_fixed = |expect: &str| {
        let run = support::run_pasted(&persist, &kubeconfig);
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        assert_eq!(run.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expect), "{expect} in {stderr}");
        assert!(stderr.contains("nothing was sent"), "{stderr}");
        assert_eq!(resource_version(&ns, "single"), rv, "nothing sent");
        let fix = support::suggested_commands(&stderr);
        assert_eq!(fix.len(), 1, "{stderr}");
        let run = support::run_pasted(&fix[0], &kubeconfig);
        assert!(
            run.status.success(),
            "{:?}: {}",
            fix[0],
            String::from_utf8_lossy(&run.stderr)
        );
    };
    // For Git (`-o patch`), where the Secret may come from too: said, not refused.
    let patch = feast(
        &ns,
        &[
            "persistence",
            "single",
            "--online",
            "redis",
            "--registry",
            "sql",
            "-o",
            "patch",
        ],
    )
    .success();
    assert!(
        stdout_of(&patch).contains("type: redis"),
        "{}",
        stdout_of(&patch)
    );
    assert!(
        stderr_of(&patch).contains("does not exist"),
        "{}",
        stderr_of(&patch)
    );
    assert_eq!(resource_version(&ns, "single"), rv, "nothing sent");
    refused_then_fixed("Secret \"feast-data-stores\" does not exist");
    kubectl(&[
        "-n",
        &ns,
        "patch",
        "secret",
        "feast-data-stores",
        "--type=json",
        "-p",
        r#"[{"op": "remove", "path": "/data/sql"}]"#,
    ]);
    refused_then_fixed("has no key \"sql\" for the registry (sql) (its keys: redis)");
    let secret = cluster().kubectl_ok(&[
        "-n",
        &ns,
        "get",
        "secret",
        "feast-data-stores",
        "-o",
        "jsonpath={.data}",
    ]);
    assert!(
        secret.contains("redis") && secret.contains("sql"),
        "{secret}"
    );

    let run = support::run_pasted(&persist, &kubeconfig);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("start empty"), "{stderr}");
    let services = &spec(&ns, "single")["services"];
    assert_eq!(
        services["onlineStore"]["persistence"]["store"],
        json!({"type": "redis", "secretRef": {"name": "feast-data-stores"}})
    );
    assert_eq!(
        services["registry"]["local"]["persistence"]["store"],
        json!({"type": "sql", "secretRef": {"name": "feast-data-stores"}})
    );
    feast(&ns, &["scale", "single", "--replicas", "3", "--yes"]).success();
    assert_eq!(spec(&ns, "single")["replicas"], 3);
}

/// `persistence --secret-from-file` writes the Secret from files, never printing them; a
/// server dry run writes neither it nor the store; `--local` and an unreadable file are bad
/// usage before anything is sent.
#[tokio::test]
async fn persistence_writes_the_secret_from_files() {
    let ns = seeded("persistence-files", &["single"]).await;
    kubectl(&["-n", &ns, "delete", "secret", "feast-data-stores"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("redis.yaml");
    std::fs::write(&file, "connection_string: redis.secret.host:6379\n").expect("write");
    let from = format!("redis={}", file.display());
    let args = |extra: &[&str]| {
        let mut a = vec![
            "persistence",
            "single",
            "--online",
            "redis",
            "--secret-from-file",
        ];
        a.push(&from);
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let rv = resource_version(&ns, "single");
    let run = |extra: &[&str]| {
        let a = args(extra);
        let words: Vec<&str> = a.iter().map(String::as_str).collect();
        feast(&ns, &words)
    };
    run(&["--dry-run=server", "--yes"]).success();
    assert_eq!(
        resource_version(&ns, "single"),
        rv,
        "a dry run stores nothing"
    );
    let missing = cluster()
        .kubectl()
        .args(["-n", &ns, "get", "secret", "feast-data-stores"])
        .output()
        .expect("kubectl");
    assert!(!missing.status.success(), "no Secret after a dry run");
    run(&["--local", "-f", "x.yaml"])
        .code(2)
        .stderr(contains("--local changes a file only"));
    feast(
        &ns,
        &[
            "persistence",
            "single",
            "--online",
            "redis",
            "--secret-from-file",
            "redis=/no/such/file",
        ],
    )
    .code(2)
    .stderr(contains("/no/such/file"));
    let done = run(&["--yes"]).success();
    let said = format!("{}{}", stdout_of(&done), stderr_of(&done));
    assert!(
        said.contains("secret/feast-data-stores written (keys: redis)"),
        "{said}"
    );
    assert!(
        !said.contains("secret.host"),
        "the settings are never printed: {said}"
    );
    let data = cluster().kubectl_ok(&[
        "-n",
        &ns,
        "get",
        "secret",
        "feast-data-stores",
        "-o",
        "jsonpath={.data.redis}",
    ]);
    assert!(!data.trim().is_empty(), "the key is written");
    assert_eq!(
        spec(&ns, "single")["services"]["onlineStore"]["persistence"]["store"]["type"],
        "redis"
    );
}

#[tokio::test]
async fn scale_to_zero_is_refused_with_the_crd_minimum() {
    let ns = seeded("scale-zero", &["static"]).await;
    feast(&ns, &["scale", "static", "--replicas", "0"])
        .code(1)
        .stderr(contains("below the CRD's minimum of 1"));
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));
}

#[tokio::test]
async fn scaling_an_autoscaled_store_is_refused_unless_autoscaling_is_replaced() {
    let ns = seeded("scale-hpa", &["hpa"]).await;
    feast(&ns, &["scale", "hpa", "--replicas", "4"])
        .code(1)
        .stderr(contains("featurestore.feast.dev/hpa is autoscaled"))
        .stderr(contains(format!(
            "kubectl feast autoscale hpa -n {ns} --off --replicas 4"
        )))
        .stderr(contains("--replace-autoscaling"));
    assert!(spec(&ns, "hpa")["services"]["scaling"]["autoscaling"].is_object());

    feast(
        &ns,
        &[
            "scale",
            "hpa",
            "--replicas",
            "4",
            "--replace-autoscaling",
            "--yes",
        ],
    )
    .success()
    .stdout(contains("delete HorizontalPodAutoscaler feast-hpa"))
    .stdout(contains("set Deployment feast-hpa to 4 replica(s)"))
    .stderr(contains("autoscaling is dropped"));
    let after = spec(&ns, "hpa");
    assert_eq!(after["replicas"], json!(4));
    assert_eq!(after["services"]["scaling"], json!({}));
}

#[tokio::test]
async fn scaling_a_keda_target_warns_that_keda_owns_the_count_and_asks() {
    let ns = seeded("scale-keda", &["keda"]).await;
    feast(&ns, &["scale", "keda", "--replicas", "4"])
        .code(1)
        .stderr(contains(
            "KEDA ScaledObject \"keda\" targets this FeatureStore",
        ))
        .stderr(contains("--yes"));
    assert_eq!(spec(&ns, "keda")["replicas"], json!(2));
    feast(&ns, &["scale", "keda", "--replicas", "4", "--yes"]).success();
    assert_eq!(spec(&ns, "keda")["replicas"], json!(4));
}

#[tokio::test]
async fn a_plain_hpa_targeting_the_featurestore_also_counts_as_an_external_autoscaler() {
    let ns = seeded("scale-ext-hpa", &["static"]).await;
    apply(
        &ns,
        &json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "custom", "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "static"},
                "minReplicas": 2, "maxReplicas": 4,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}}),
    );
    feast(&ns, &["scale", "static", "--replicas", "4"])
        .code(1)
        .stderr(contains("HorizontalPodAutoscaler \"custom\" targets"));
}

#[tokio::test]
async fn scale_preconditions_refuse_like_kubectl_scale() {
    let ns = seeded("scale-precond", &["static"]).await;
    feast(
        &ns,
        &[
            "scale",
            "static",
            "--replicas",
            "4",
            "--current-replicas",
            "2",
        ],
    )
    .code(1)
    .stderr(contains("has spec.replicas 3, not 2 (--current-replicas)"));
    feast(
        &ns,
        &[
            "scale",
            "static",
            "--replicas",
            "4",
            "--resource-version",
            "1",
        ],
    )
    .code(1)
    .stderr(contains("(--resource-version)"));
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));

    let rv = resource_version(&ns, "static");
    feast(
        &ns,
        &[
            "scale",
            "static",
            "--replicas",
            "4",
            "--current-replicas",
            "3",
            "--resource-version",
            &rv,
        ],
    )
    .success();
    assert_eq!(spec(&ns, "static")["replicas"], json!(4));
}

#[tokio::test]
async fn dry_runs_change_nothing_and_say_so() {
    let ns = seeded("scale-dry", &["static"]).await;
    let rv = resource_version(&ns, "static");
    feast(&ns, &["scale", "static", "--replicas", "4", "--dry-run"])
        .success()
        .stdout(contains("featurestore.feast.dev/static scaled (dry run)"))
        .stdout(contains("if sent, the Feast Operator would:"));
    let server = feast(
        &ns,
        &[
            "scale",
            "static",
            "--replicas",
            "4",
            "--dry-run=server",
            "-o",
            "json",
        ],
    )
    .success();
    let answered: Value = serde_json::from_str(&stdout_of(&server)).expect("-o json");
    assert_eq!(
        answered["spec"]["replicas"],
        json!(4),
        "the server's dry-run answer"
    );
    assert_eq!(resource_version(&ns, "static"), rv);
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));

    // A risky dry run only notes the confirmation it would ask for.
    feast(
        &ns,
        &["scale", "static", "--replicas", "1", "--dry-run=server"],
    )
    .success()
    .stdout(contains("(server dry run)"))
    .stderr(contains("would ask for confirmation"));
    assert_eq!(resource_version(&ns, "static"), rv);
}

#[tokio::test]
async fn diff_shows_the_spec_change_before_sending() {
    let ns = seeded("scale-diff", &["static"]).await;
    let out = feast(
        &ns,
        &["scale", "static", "--replicas", "4", "--diff", "--dry-run"],
    )
    .success();
    let text = stdout_of(&out);
    let diff_at = text
        .find("- spec.replicas: 3\n+ spec.replicas: 4")
        .expect(&text);
    let result_at = text.find("scaled (dry run)").expect(&text);
    assert!(diff_at < result_at, "the diff comes first:\n{text}");
}

#[tokio::test]
async fn output_formats_print_the_resulting_object_like_kubectl() {
    let ns = seeded("scale-output", &["static"]).await;
    feast(&ns, &["scale", "static", "--replicas", "4", "-o", "name"])
        .success()
        .stdout("featurestore.feast.dev/static\n");
    let yaml = feast(&ns, &["scale", "static", "--replicas", "5", "-o", "yaml"]).success();
    let text = stdout_of(&yaml);
    assert!(text.starts_with("apiVersion: feast.dev/v1"), "{text}");
    assert!(text.contains("replicas: 5"), "{text}");
    // As `kubectl scale -o yaml`: no managedFields.
    assert!(!text.contains("managedFields"), "{text}");
    // With -o the diff goes to stderr, so stdout stays the object alone.
    let json_out = feast(
        &ns,
        &["scale", "static", "--replicas", "6", "--diff", "-o", "json"],
    )
    .success()
    .stderr(contains("+ spec.replicas: 6"));
    let object: Value = serde_json::from_str(&stdout_of(&json_out)).expect("stdout is JSON");
    assert_eq!(object["spec"]["replicas"], json!(6));
    feast(&ns, &["scale", "static", "--replicas", "5", "-o", "wide"])
        .code(2)
        .stderr(contains("invalid value 'wide' for '--output <FORMAT>'"))
        .stderr(contains("[possible values: yaml, json, name, patch]"));
}

#[tokio::test]
async fn the_same_count_again_is_unchanged_and_sends_nothing() {
    let ns = seeded("scale-same", &["static"]).await;
    let rv = resource_version(&ns, "static");
    feast(&ns, &["scale", "static", "--replicas", "3"])
        .success()
        .stdout("featurestore.feast.dev/static unchanged\n");
    assert_eq!(resource_version(&ns, "static"), rv);
}

#[tokio::test]
async fn a_missing_store_is_not_found_with_similar_names() {
    let ns = seeded("scale-missing", &["static"]).await;
    feast(&ns, &["scale", "statc", "--replicas", "2"])
        .code(3)
        .stderr(contains(
            "featurestore.feast.dev \"statc\" not found in namespace",
        ))
        .stderr(contains("did you mean static?"));
    feast(&ns, &["scale", "deployment/static", "--replicas", "2"]).code(2);
}

#[tokio::test]
async fn an_unreachable_server_is_named_with_exit_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n",
    )
    .expect("write kubeconfig");
    cluster()
        .plugin()
        .env("KUBECONFIG", &kubeconfig)
        .args(["scale", "x", "--replicas", "2", "--request-timeout", "5s"])
        .assert()
        .code(3)
        .stderr(contains("https://127.0.0.1:9"))
        .stderr(contains("refused the connection"));
}

/// Stops a private control plane when the test ends, however it ends.
struct PrivateControlPlane(std::path::PathBuf);

impl Drop for PrivateControlPlane {
    fn drop(&mut self) {
        let _ = Command::new(support::repo_root().join("scripts/dev-cluster"))
            .arg("down")
            .arg("--state-dir")
            .arg(&self.0)
            .output();
    }
}

#[tokio::test]
async fn a_cluster_without_the_crd_asks_whether_the_feast_operator_is_installed() {
    // Its own control plane, so removing the CRD disturbs no other test.
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("control-plane");
    let _down = PrivateControlPlane(state.clone());
    let up = Command::new(support::repo_root().join("scripts/dev-cluster"))
        .arg("up")
        .arg("--state-dir")
        .arg(&state)
        .arg("--owner-pid")
        .arg(std::process::id().to_string())
        .output()
        .expect("run scripts/dev-cluster up");
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let stdout = String::from_utf8_lossy(&up.stdout);
    let kubeconfig = stdout
        .lines()
        .last()
        .expect("kubeconfig path")
        .trim()
        .to_string();
    let deleted = Command::new(cluster().kubectl().get_program())
        .args([
            "--kubeconfig",
            &kubeconfig,
            "delete",
            "crd",
            "featurestores.feast.dev",
        ])
        .output()
        .expect("run kubectl");
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    for command in [
        vec!["scale", "fs", "--replicas", "2"],
        vec!["pdb", "--all", "--off"],
    ] {
        cluster()
            .plugin()
            .env("KUBECONFIG", &kubeconfig)
            .args(&command)
            .assert()
            .code(3)
            .stderr(contains("is the Feast Operator installed?"));
    }
}

#[tokio::test]
async fn selectors_and_all_check_every_store_before_sending_any() {
    let ns = seeded("scale-all", &["static", "single"]).await;
    let static_rv = resource_version(&ns, "static");
    // single cannot scale, so nothing is sent to static either.
    feast(&ns, &["scale", "--all", "--replicas", "4"])
        .code(1)
        .stderr(contains("featurestore.feast.dev/single"));
    assert_eq!(resource_version(&ns, "static"), static_rv);

    feast(
        &ns,
        &[
            "scale",
            "-l",
            "kubectl-feast.dev/scenario=static",
            "--replicas",
            "4",
        ],
    )
    .success()
    .stdout(contains("featurestore.feast.dev/static scaled"))
    .stdout(contains("single").not());
    assert_eq!(spec(&ns, "static")["replicas"], json!(4));
    assert_eq!(spec(&ns, "single")["replicas"], json!(1));

    feast(&ns, &["scale", "-l", "nothing=here", "--replicas", "2"])
        .code(3)
        .stderr(contains("no FeatureStores matching -l nothing=here"));
    // A selector the server cannot parse is bad usage, exit 2, as in status (it was exit 1
    // here: one classification of API errors now).
    feast(
        &ns,
        &["scale", "-l", "team in (ml", "--replicas", "2", "--yes"],
    )
    .code(2)
    .stderr(contains("hint: check -l SELECTOR"));
    feast(&ns, &["scale", "static", "--all", "--replicas", "2"]).code(2);
    feast(&ns, &["scale", "--replicas", "2"]).code(2);
    feast(&ns, &["scale", "static", "-A", "--replicas", "2"]).code(2);
}

// ---------------------------------------------------------------------------------------------
// users and credentials

#[tokio::test]
async fn the_viewer_is_forbidden_with_the_verb_resource_and_role() {
    let ns = seeded("viewer", &["static"]).await;
    feast_as("viewer", &ns, &["scale", "static", "--replicas", "4"])
        .code(3)
        .stderr(contains("cannot patch resource \"featurestores\""))
        .stderr(contains("featurestore-editor-role"));
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));
}

#[tokio::test]
async fn the_editor_scales_without_the_scale_subresource_and_unreadable_lookups_are_notes() {
    let ns = seeded("editor", &["static", "hpa"]).await;
    let out = feast_as("editor", &ns, &["scale", "static", "--replicas", "4"])
        .success()
        .stdout(contains("featurestore.feast.dev/static scaled"))
        .stderr(contains(
            "note: could not read horizontalpodautoscalers.autoscaling",
        ))
        .stderr(contains("not checked"));
    // HPAs, ScaledObjects and the Deployment (for "from N"): each one line, none blocking.
    assert_eq!(stderr_of(&out).matches("note: could not read").count(), 3);
    assert_eq!(spec(&ns, "static")["replicas"], json!(4));

    // autoscale --off reads the count to keep from the status, which the editor may read.
    feast_as("editor", &ns, &["autoscale", "hpa", "--off", "--yes"])
        .success()
        .stdout(contains("set Deployment feast-hpa to 2 replica(s)"));
    assert_eq!(spec(&ns, "hpa")["replicas"], json!(2));
}

#[tokio::test]
async fn the_exec_credential_context_changes_stores() {
    let ns = seeded("exec", &["static"]).await;
    feast_as("exec", &ns, &["scale", "static", "--replicas", "2"])
        .success()
        .stdout(contains("featurestore.feast.dev/static scaled"));
    assert_eq!(spec(&ns, "static")["replicas"], json!(2));
}

// ---------------------------------------------------------------------------------------------
// autoscale

#[tokio::test]
async fn autoscale_replaces_static_replicas_in_the_same_patch() {
    let ns = seeded("autoscale-static", &["static"]).await;
    feast(
        &ns,
        &[
            "autoscale",
            "static",
            "--min",
            "2",
            "--max",
            "6",
            "--cpu",
            "70%",
        ],
    )
    .success()
    .stdout(contains("featurestore.feast.dev/static autoscaled"))
    .stdout(contains(
        "leave Deployment feast-static at its current count (3",
    ))
    .stdout(contains(
        "create HorizontalPodAutoscaler feast-static (min 2, max 6; cpu 70%)",
    ));
    let after = spec(&ns, "static");
    assert_eq!(after["replicas"], json!(1));
    assert_eq!(
        after["services"]["scaling"]["autoscaling"],
        json!({"minReplicas": 2, "maxReplicas": 6, "metrics": [{"type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]})
    );
}

#[tokio::test]
async fn raising_the_max_changes_only_the_max() {
    let ns = seeded("autoscale-merge", &["hpa-at-limit"]).await;
    let before = spec(&ns, "hpa-at-limit")["services"]["scaling"]["autoscaling"].clone();
    assert_eq!(before["minReplicas"], json!(2), "{before}");
    // No terminal and no --yes: raising the max is not risky, so it goes through.
    feast(&ns, &["autoscale", "hpa-at-limit", "--max", "10"])
        .success()
        .stdout(contains("featurestore.feast.dev/hpa-at-limit autoscaled"))
        .stderr(contains("default").not());
    let mut expected = before.clone();
    expected["maxReplicas"] = json!(10);
    assert_eq!(
        spec(&ns, "hpa-at-limit")["services"]["scaling"]["autoscaling"],
        expected
    );
    // Lowering the max takes something away: it is named and needs confirmation.
    feast(&ns, &["autoscale", "hpa-at-limit", "--max", "4"])
        .code(1)
        .stderr(contains("maxReplicas 10 → 4"))
        .stderr(contains("needs confirmation"));
    assert_eq!(
        spec(&ns, "hpa-at-limit")["services"]["scaling"]["autoscaling"]["maxReplicas"],
        json!(10)
    );
    // --replace asks for exactly the flags: what it removes is named, before → after.
    feast(
        &ns,
        &["autoscale", "hpa-at-limit", "--replace", "--max", "12"],
    )
    .code(1)
    .stderr(contains("minReplicas 2 → removed (the HPA's default, 1)"))
    .stderr(contains("metrics"));
    feast(
        &ns,
        &[
            "autoscale",
            "hpa-at-limit",
            "--replace",
            "--max",
            "12",
            "--yes",
        ],
    )
    .success();
    assert_eq!(
        spec(&ns, "hpa-at-limit")["services"]["scaling"]["autoscaling"],
        json!({"maxReplicas": 12})
    );
    // A store without an HPA configuration needs --max to get one.
    create_store(&ns, "plain", json!({"replicas": 2}));
    feast(&ns, &["autoscale", "plain", "--min", "2"])
        .code(2)
        .stderr(contains("--max is required to turn autoscaling on"));
}

#[tokio::test]
async fn autoscale_without_metrics_names_the_operator_default() {
    let ns = seeded("autoscale-default", &["static"]).await;
    feast(&ns, &["autoscale", "static", "--max", "4"])
        .success()
        .stderr(contains("the operator's default applies, 80% average CPU"));
    assert!(
        spec(&ns, "static")["services"]["scaling"]["autoscaling"]
            .get("metrics")
            .is_none()
    );
}

/// `autoscale --off --replicas N` below what the HPA runs: the count it leaves ("from 5") and
/// the load the fewer pods will carry, from the HPA's own last measurement.
#[tokio::test]
async fn autoscale_off_below_the_hpas_count_says_the_load_the_pods_will_carry() {
    let ns = seeded("autoscale-off-load", &["hpa-at-limit"]).await;
    feast(&ns, &["autoscale", "hpa-at-limit", "--off", "--replicas", "2", "--yes"])
        .success()
        .stdout(contains(
            "set Deployment feast-hpa-at-limit to 2 replica(s) (from 5, the HPA's count until now)",
        ))
        .stderr(contains(
            "the HPA runs 5 replica(s) now; 2 will carry their load (cpu 200% of requests on 5 becomes about 500% on 2 (target 70%))",
        ));
    assert_eq!(spec(&ns, "hpa-at-limit")["replicas"], json!(2));
}

#[tokio::test]
async fn autoscale_off_keeps_the_hpas_desired_count() {
    let ns = seeded("autoscale-off", &["hpa"]).await;
    feast(&ns, &["autoscale", "hpa", "--off"])
        .code(1)
        .stderr(contains("autoscaling is dropped"))
        .stderr(contains("--yes"));
    feast(&ns, &["autoscale", "hpa", "--off", "--yes"])
        .success()
        .stdout(contains("featurestore.feast.dev/hpa configured"))
        .stdout(contains(
            "keep Deployment feast-hpa at 2 replica(s) (it runs 2 already)",
        ))
        .stdout(contains("delete HorizontalPodAutoscaler feast-hpa"));
    let after = spec(&ns, "hpa");
    assert_eq!(after["replicas"], json!(2));
    assert_eq!(after["services"]["scaling"], json!({}));
    assert_eq!(
        after["services"]["podDisruptionBudgets"],
        json!({"minAvailable": 1})
    );
}

#[tokio::test]
async fn autoscale_off_never_drops_silently_to_one() {
    let ns = cluster().namespace("autoscale-off-unknown").await;
    // No status and no Deployment: nothing says how many pods run.
    create_store(
        &ns,
        "fs",
        json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}),
    );
    feast(&ns, &["autoscale", "fs", "--off", "--yes"])
        .code(1)
        .stderr(contains("cannot tell how many replicas"))
        .stderr(contains("--replicas N"));
    assert!(spec(&ns, "fs")["services"]["scaling"]["autoscaling"].is_object());
    feast(
        &ns,
        &["autoscale", "fs", "--off", "--replicas", "2", "--yes"],
    )
    .success();
    assert_eq!(spec(&ns, "fs")["replicas"], json!(2));
}

#[tokio::test]
async fn autoscale_on_the_default_metric_without_a_cpu_request_needs_yes() {
    let ns = cluster().namespace("autoscale-default-request").await;
    create_store(&ns, "fs", json!({}));
    feast(&ns, &["autoscale", "fs", "--max", "3"])
        .code(1)
        .stderr(contains("the HPA will not scale"))
        .stderr(contains(
            "the operator's default metric (cpu at 80% utilization)",
        ));
    assert!(spec(&ns, "fs")["services"].get("scaling").is_none());
    // Confirmed, it goes through as asked, the risk said once.
    let sent = feast(&ns, &["autoscale", "fs", "--max", "3", "--yes"]).success();
    assert_eq!(stderr_of(&sent).matches("can't compute cpu").count(), 1);
    assert_eq!(
        spec(&ns, "fs")["services"]["scaling"]["autoscaling"]["maxReplicas"],
        json!(3)
    );
}

#[tokio::test]
async fn autoscale_bounds_and_unsafe_stores_are_refused() {
    let ns = seeded("autoscale-refused", &["single", "static"]).await;
    feast(&ns, &["autoscale", "static", "--min", "5", "--max", "3"])
        .code(1)
        .stderr(contains("--max 3 is below --min 5"));
    feast(&ns, &["autoscale", "static", "--min", "0", "--max", "3"])
        .code(1)
        .stderr(contains("--min 0 is below the CRD's minimum"));
    feast(&ns, &["autoscale", "single", "--max", "3"])
        .code(1)
        .stderr(contains(
            "Scaling requires DB-backed persistence for the online store",
        ));
    feast(&ns, &["autoscale", "static", "--off", "--max", "3"]).code(2);
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));
    assert_eq!(spec(&ns, "single")["replicas"], json!(1));
}

#[tokio::test]
async fn autoscaling_a_keda_target_asks_first() {
    let ns = seeded("autoscale-keda", &["keda"]).await;
    feast(&ns, &["autoscale", "keda", "--max", "5"])
        .code(1)
        .stderr(contains("KEDA ScaledObject \"keda\""));
    assert!(spec(&ns, "keda")["services"].get("scaling").is_none());
}

#[tokio::test]
async fn autoscale_takes_metrics_and_behavior_files() {
    let ns = seeded("autoscale-files", &["static"]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics = dir.path().join("metrics.yaml");
    std::fs::write(
        &metrics,
        "- type: Pods\n  pods:\n    metric:\n      name: feast_requests_per_second\n    target:\n      type: AverageValue\n      averageValue: \"100\"\n",
    )
    .expect("write metrics");
    let behavior = dir.path().join("behavior.yaml");
    std::fs::write(
        &behavior,
        "scaleUp:\n  policies:\n  - type: Pods\n    value: 2\n    periodSeconds: 60\n",
    )
    .expect("write behavior");
    let (m, b) = (metrics.to_string_lossy(), behavior.to_string_lossy());
    feast(
        &ns,
        &[
            "autoscale",
            "static",
            "--min",
            "2",
            "--max",
            "8",
            "--metrics-file",
            &m,
            "--behavior-file",
            &b,
            "--scale-down-stabilization",
            "10m",
        ],
    )
    .success()
    .stdout(contains("a Pods metric"));
    let hpa = spec(&ns, "static")["services"]["scaling"]["autoscaling"].clone();
    assert_eq!(
        hpa["metrics"][0]["pods"]["metric"]["name"],
        json!("feast_requests_per_second")
    );
    assert_eq!(
        hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
        json!(600)
    );
    assert_eq!(hpa["behavior"]["scaleUp"]["policies"][0]["value"], json!(2));
}

// ---------------------------------------------------------------------------------------------
// pdb

#[tokio::test]
async fn pdb_switches_fields_in_one_patch() {
    let ns = seeded("pdb-switch", &["static"]).await;
    feast(&ns, &["pdb", "static", "--min-available", "50%"])
        .success()
        .stdout(contains("featurestore.feast.dev/static configured"))
        .stdout(contains(
            "update PodDisruptionBudget feast-static (minAvailable: \"50%\")",
        ));
    assert_eq!(
        spec(&ns, "static")["services"]["podDisruptionBudgets"],
        json!({"minAvailable": "50%"})
    );
    feast(&ns, &["pdb", "static", "--off"])
        .success()
        .stdout(contains("delete PodDisruptionBudget feast-static"));
    assert!(
        spec(&ns, "static")["services"]
            .get("podDisruptionBudgets")
            .is_none()
    );
}

#[tokio::test]
async fn pdb_on_an_unscaled_store_warns_that_no_pdb_exists_yet() {
    let ns = seeded("pdb-single", &["single"]).await;
    feast(&ns, &["pdb", "single", "--max-unavailable", "1"])
        .success()
        .stdout(contains("create no PodDisruptionBudget yet"))
        .stderr(contains("pdb/inactive"));
    assert_eq!(
        spec(&ns, "single")["services"]["podDisruptionBudgets"],
        json!({"maxUnavailable": 1})
    );
}

#[tokio::test]
async fn a_budget_that_blocks_every_eviction_needs_confirmation() {
    let ns = seeded("pdb-blocking", &["static"]).await;
    feast(&ns, &["pdb", "static", "--max-unavailable", "0"])
        .code(1)
        .stderr(contains("blocks every eviction"))
        .stderr(contains("--yes"));
    assert_eq!(
        spec(&ns, "static")["services"]["podDisruptionBudgets"],
        json!({"maxUnavailable": 1})
    );
    feast(&ns, &["pdb", "static", "--max-unavailable", "0", "--yes"]).success();
    assert_eq!(
        spec(&ns, "static")["services"]["podDisruptionBudgets"],
        json!({"maxUnavailable": 0})
    );
}

#[tokio::test]
async fn scaling_down_into_a_blocking_budget_needs_confirmation() {
    // minAvailable 3 blocks evictions at 3 replicas already; scaling to 2 keeps it blocking
    // with a new count, which is a new risk.
    let ns = seeded("pdb-scale-blocking", &["pdb-blocks-drain"]).await;
    feast(&ns, &["scale", "pdb-blocks-drain", "--replicas", "2"])
        .code(1)
        .stderr(contains(
            "minAvailable 3 with 2 replica(s) allows no voluntary eviction",
        ));
    feast(&ns, &["scale", "pdb-blocks-drain", "--replicas", "4"]).success();
}

#[tokio::test]
async fn an_existing_reconcile_error_does_not_block_an_unrelated_change_but_a_new_one_does() {
    // `failed` already has minReplicas 5 > maxReplicas 3: the CRD accepts it, the reconcile fails.
    let ns = seeded("preexisting", &["failed"]).await;
    feast(&ns, &["pdb", "failed", "--max-unavailable", "1"])
        .success()
        .stderr(contains("minReplicas (5) is greater than maxReplicas (3)"));
    assert_eq!(
        spec(&ns, "failed")["services"]["podDisruptionBudgets"],
        json!({"maxUnavailable": 1})
    );
    // The fix goes through too; then introducing the same mistake again is refused.
    // Lowering minReplicas 5 → 2 takes something away, so it is confirmed with --yes.
    feast(
        &ns,
        &["autoscale", "failed", "--min", "2", "--max", "3", "--yes"],
    )
    .success();
    let rv = resource_version(&ns, "failed");
    let dir = tempfile::tempdir().expect("tempdir");
    let behavior = dir.path().join("behavior.yaml");
    std::fs::write(
        &behavior,
        "scaleDown:\n  stabilizationWindowSeconds: 7200\n",
    )
    .expect("write");
    let behavior = behavior.display().to_string();
    feast(
        &ns,
        &[
            "autoscale",
            "failed",
            "--min",
            "2",
            "--max",
            "3",
            "--behavior-file",
            &behavior,
        ],
    )
    .code(1)
    .stderr(
        contains("autoscaling/invalid-behavior").or(contains("must be between 0 and 3600 seconds")),
    );
    assert_eq!(resource_version(&ns, "failed"), rv, "nothing was sent");
}

#[tokio::test]
async fn bad_budgets_are_usage_errors() {
    let ns = seeded("pdb-bad", &["static"]).await;
    feast(&ns, &["pdb", "static", "--min-available", "150%"])
        .code(2)
        .stderr(contains("percentage from 0% to 100%"));
    feast(
        &ns,
        &[
            "pdb",
            "static",
            "--min-available",
            "1",
            "--max-unavailable",
            "1",
        ],
    )
    .code(2);
}

// ---------------------------------------------------------------------------------------------
// conflicts and concurrent writers

fn featurestore_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("feast.dev", "v1", "FeatureStore"),
        "featurestores",
    )
}

async fn admin_cluster(ns: &str) -> (Cluster, Api<DynamicObject>) {
    let client = cluster().client("admin").await;
    let api = Api::namespaced_with(client.clone(), ns, &featurestore_resource());
    let c = Cluster {
        client,
        namespace: ns.to_string(),
        context: "admin".into(),
        server: "test".into(),
        timeout: None,
        proxy: None,
    };
    (c, api)
}

#[tokio::test]
async fn a_conflict_rereads_rechecks_and_retries() {
    let ns = seeded("conflict-retry", &["static"]).await;
    let (c, api) = admin_cluster(&ns).await;
    let stale = get(&ns, "static");
    // Another writer changes the store after it was checked.
    kubectl(&[
        "label",
        "featurestores.feast.dev",
        "static",
        "-n",
        &ns,
        "writer=other",
    ]);
    let replans = std::cell::Cell::new(0);
    let replan = |fresh: &Value| {
        replans.set(replans.get() + 1);
        assert_eq!(fresh["metadata"]["labels"]["writer"], json!("other"));
        Ok(scale_to(5))
    };
    let planned = scale_to(5);
    let sent = change::send(&write(&c, &api, None), &stale, planned, &replan)
        .await
        .expect("sent after one retry");
    assert_eq!(sent.attempts, 2);
    assert_eq!(replans.get(), 1);
    assert_eq!(spec(&ns, "static")["replicas"], json!(5));
}

#[tokio::test]
async fn a_recheck_after_a_conflict_can_refuse() {
    let ns = seeded("conflict-recheck", &["static"]).await;
    let (c, api) = admin_cluster(&ns).await;
    let stale = get(&ns, "static");
    kubectl(&[
        "label",
        "featurestores.feast.dev",
        "static",
        "-n",
        &ns,
        "writer=other",
    ]);
    let replan = |_: &Value| -> kubectl_feast::error::Result<Planned> {
        Err(kubectl_feast::error::Error::refused("now unsafe"))
    };
    let planned = scale_to(5);
    let e = change::send(&write(&c, &api, None), &stale, planned, &replan)
        .await
        .expect_err("the re-check refuses");
    assert_eq!(e.message, "now unsafe");
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));
}

#[tokio::test]
async fn endless_conflicts_give_up_after_a_handful_of_attempts() {
    let ns = seeded("conflict-endless", &["static"]).await;
    let (c, api) = admin_cluster(&ns).await;
    let stale = get(&ns, "static");
    kubectl(&[
        "label",
        "featurestores.feast.dev",
        "static",
        "-n",
        &ns,
        "bump=0",
    ]);
    let bumps = std::cell::Cell::new(0);
    // Every re-read is followed by yet another write before the retry lands.
    let replan = |_: &Value| {
        bumps.set(bumps.get() + 1);
        kubectl(&[
            "label",
            "--overwrite",
            "featurestores.feast.dev",
            "static",
            "-n",
            &ns,
            &format!("bump={}", bumps.get()),
        ]);
        Ok(scale_to(5))
    };
    let planned = scale_to(5);
    let e = change::send(&write(&c, &api, None), &stale, planned, &replan)
        .await
        .expect_err("gives up");
    assert_eq!(e.exit_code(), 1);
    assert!(e.message.contains("kept changing"), "{}", e.message);
    assert!(
        e.message
            .contains(&format!("{} conflicting writes", change::MAX_ATTEMPTS))
    );
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));
}

#[tokio::test]
async fn a_conflict_on_a_fixed_resource_version_is_not_retried() {
    let ns = seeded("conflict-fixed", &["static"]).await;
    let (c, api) = admin_cluster(&ns).await;
    let stale = get(&ns, "static");
    let rv = stale["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    kubectl(&[
        "label",
        "featurestores.feast.dev",
        "static",
        "-n",
        &ns,
        "writer=other",
    ]);
    let replan = |_: &Value| -> kubectl_feast::error::Result<Planned> {
        panic!("a fixed resourceVersion is never re-planned")
    };
    let planned = scale_to(5);
    let e = change::send(&write(&c, &api, Some(&rv)), &stale, planned, &replan)
        .await
        .expect_err("precondition failed");
    assert!(
        e.message
            .contains(&format!("no longer at resourceVersion {rv}"))
    );
}

/// `scale --replicas n` as planned for a static store.
fn scale_to(n: i64) -> Planned {
    Planned {
        patch: plan::scale_patch(n, false),
        verb: Verb::Scaled,
        notes: vec![],
    }
}

/// The write of the `static` store these tests make, as `scale` would.
fn write<'a>(
    c: &'a Cluster,
    api: &'a Api<DynamicObject>,
    rv: Option<&'a str>,
) -> change::Write<'a> {
    change::Write {
        cluster: c,
        api,
        name: "static",
        server_dry_run: false,
        fixed_resource_version: rv,
    }
}

fn spawn_plugin(ns: &str, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", cluster().kubeconfig())
        .args(["-n", ns])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubectl-feast")
}

#[tokio::test]
async fn two_racing_scales_leave_one_of_the_two_requests() {
    let ns = seeded("race-scale", &["static"]).await;
    for round in 0..4 {
        let a = spawn_plugin(&ns, &["scale", "static", "--replicas", "4"]);
        let b = spawn_plugin(&ns, &["scale", "static", "--replicas", "6"]);
        for child in [a, b] {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let replicas = spec(&ns, "static")["replicas"].clone();
        assert!(
            replicas == json!(4) || replicas == json!(6),
            "round {round}: {replicas}"
        );
    }
}

#[tokio::test]
async fn racing_autoscale_and_scale_never_mix_their_patches() {
    let ns = seeded("race-mix", &["hpa"]).await;
    for round in 0..4 {
        let a = spawn_plugin(
            &ns,
            &[
                "autoscale",
                "hpa",
                "--min",
                "2",
                "--max",
                "8",
                "--cpu",
                "60%",
                "--yes",
            ],
        );
        let b = spawn_plugin(
            &ns,
            &[
                "scale",
                "hpa",
                "--replicas",
                "5",
                "--replace-autoscaling",
                "--yes",
            ],
        );
        let outs: Vec<Output> = [a, b]
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait"))
            .collect();
        let after = spec(&ns, "hpa");
        let autoscaling = &after["services"]["scaling"]["autoscaling"];
        let hpa_won = after["replicas"] == json!(1)
            && autoscaling["minReplicas"] == json!(2)
            && autoscaling["maxReplicas"] == json!(8)
            && autoscaling["metrics"][0]["resource"]["target"]["averageUtilization"] == json!(60);
        let static_won = after["replicas"] == json!(5) && autoscaling.is_null();
        assert!(
            hpa_won ^ static_won,
            "round {round}: {after}\n{}\n{}",
            String::from_utf8_lossy(&outs[0].stderr),
            String::from_utf8_lossy(&outs[1].stderr)
        );
        for out in &outs {
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Put the store back into HPA mode for the next round.
        if static_won {
            feast(
                &ns,
                &["autoscale", "hpa", "--min", "2", "--max", "5", "--yes"],
            )
            .success();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// confirmation on a terminal

/// Runs the plugin on a pseudo-terminal (util-linux `script`), answers each prompt once it
/// shows, and returns the exit status and everything the terminal showed.
fn on_terminal(
    ns: &str,
    args: &[&str],
    answers: &[(&str, &str)],
) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    let mut line = format!(
        "{} --kubeconfig {} -n {ns}",
        env!("CARGO_BIN_EXE_kubectl-feast"),
        cluster().kubeconfig().display()
    );
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("util-linux `script` provides the pseudo-terminal for this test");
    let shown = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = {
        let shown = Arc::clone(&shown);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = shown.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        })
    };
    let mut stdin = child.stdin.take().expect("stdin");
    for (prompt, answer) in answers {
        let started = Instant::now();
        while !shown.lock().map(|s| s.contains(prompt)).unwrap_or(false) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no prompt {prompt:?}; the terminal showed: {}",
                shown.lock().map(|s| s.clone()).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The prompt is printed just before the terminal goes raw: a key typed in between
        // would be read by the line discipline (Ctrl-C as a SIGINT). A person is slower.
        std::thread::sleep(Duration::from_millis(300));
        stdin
            .write_all(answer.as_bytes())
            .expect("answer the prompt");
        stdin.flush().expect("flush");
    }
    let status = child.wait().expect("wait for script");
    drop(stdin);
    reader.join().expect("reader");
    let text = shown.lock().map(|s| s.clone()).unwrap_or_default();
    (status, text)
}

#[tokio::test]
async fn on_a_terminal_a_risky_change_is_asked_for_and_no_cancels_it() {
    let ns = seeded("prompt-no", &["static"]).await;
    let rv = resource_version(&ns, "static");
    let (status, shown) = on_terminal(
        &ns,
        &["scale", "static", "--replicas", "1"],
        &[("Apply this change to featurestore.feast.dev/static?", "n")],
    );
    assert_eq!(status.code(), Some(1), "{shown}");
    assert!(shown.contains("static goes down to 1 replica"), "{shown}");
    assert!(
        shown
            .contains("cancelled at the prompt; nothing was sent to featurestore.feast.dev/static"),
        "{shown}"
    );
    assert_eq!(resource_version(&ns, "static"), rv);
}

#[tokio::test]
async fn on_a_terminal_yes_sends_the_risky_change() {
    let ns = seeded("prompt-yes", &["hpa"]).await;
    let (status, shown) = on_terminal(
        &ns,
        &["autoscale", "hpa", "--off"],
        &[("Apply this change to featurestore.feast.dev/hpa?", "y")],
    );
    assert_eq!(status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("featurestore.feast.dev/hpa configured"),
        "{shown}"
    );
    assert_eq!(spec(&ns, "hpa")["replicas"], json!(2));
}

#[tokio::test]
async fn on_a_terminal_one_prompt_names_every_store_it_changes() {
    let ns = seeded("prompt-many", &["static", "pdb-blocks-drain"]).await;
    let (status, shown) = on_terminal(
        &ns,
        &["scale", "--all", "--replicas", "1"],
        &[(
            "Apply this change to featurestore.feast.dev/pdb-blocks-drain, featurestore.feast.dev/static?",
            "n",
        )],
    );
    assert_eq!(status.code(), Some(1), "{shown}");
    assert!(
        !shown.contains("Apply this change to featurestore.feast.dev/static?"),
        "one prompt for both, not one per store: {shown}"
    );
    assert_eq!(spec(&ns, "static")["replicas"], json!(3));
}

#[tokio::test]
async fn on_a_terminal_autoscale_off_asks_for_the_count_it_cannot_find() {
    let ns = cluster().namespace("prompt-count").await;
    create_store(
        &ns,
        "fs",
        json!({"services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}),
    );
    let (status, shown) = on_terminal(
        &ns,
        &["autoscale", "fs", "--off"],
        &[
            ("How many replicas should fs keep", "4\r"),
            ("Apply this change to featurestore.feast.dev/fs?", "y"),
        ],
    );
    assert_eq!(status.code(), Some(0), "{shown}");
    assert_eq!(spec(&ns, "fs")["replicas"], json!(4));
}

// ---------------------------------------------------------------------------------------------
// --wait

#[tokio::test]
async fn wait_follows_the_status_the_operator_writes() {
    let ns = seeded("wait", &["static"]).await;
    let child = spawn_plugin(
        &ns,
        &[
            "scale",
            "static",
            "--replicas",
            "5",
            "--wait",
            "--timeout",
            "60s",
        ],
    );
    let started = Instant::now();
    while spec(&ns, "static")["replicas"] != json!(5) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the patch never landed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The operator catches up, then the pods become ready one by one.
    let mut applied = get(&ns, "static")["status"]["applied"].clone();
    applied["replicas"] = json!(5);
    patch_status(
        &ns,
        "static",
        json!({"applied": applied, "scalingStatus": {"currentReplicas": 3, "desiredReplicas": 5}}),
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    patch_status(
        &ns,
        "static",
        json!({"replicas": 5, "scalingStatus": {"currentReplicas": 5, "desiredReplicas": 5}}),
    );
    let out = child.wait_with_output().expect("wait for the plugin");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("featurestore.feast.dev/static: 5/5 replicas ready"),
        "{stdout}"
    );
}

#[tokio::test]
async fn wait_times_out_with_what_was_reached_and_the_condition() {
    let ns = seeded("wait-timeout", &["static"]).await;
    feast(
        &ns,
        &[
            "scale",
            "static",
            "--replicas",
            "4",
            "--wait",
            "--timeout",
            "2s",
        ],
    )
    .code(1)
    .stdout(contains("featurestore.feast.dev/static scaled"))
    .stderr(contains("timed out after 2s"))
    .stderr(contains("3 of 4 replicas ready"))
    .stderr(contains("the operator has not applied the new count yet"))
    .stderr(contains("condition FeatureStore=True (Ready)"));
    assert_eq!(
        spec(&ns, "static")["replicas"],
        json!(4),
        "the change itself stays"
    );
}

// ---------------------------------------------------------------------------------------------
// faults between the plugin and the API server (tests/it/support/proxy.rs)

/// The plugin through a fault proxy, in a namespace.
fn through(
    proxy: &support::proxy::FaultProxy,
    ns: &str,
    args: &[&str],
) -> assert_cmd::assert::Assert {
    cluster()
        .plugin()
        .env("KUBECONFIG", &proxy.kubeconfig)
        .args(["-n", ns])
        .args(args)
        .assert()
}

#[tokio::test]
async fn a_safety_look_up_that_fails_refuses_the_change_with_nothing_sent() {
    let ns = seeded("fail-closed", &["keda"]).await;
    let before = spec(&ns, "keda");
    // The ScaledObject list fails with a 500: KEDA could not be checked.
    let proxy = cluster().proxy(vec![Rule::new(
        Some("GET"),
        "/scaledobjects",
        Fault::Status(500),
    )]);
    through(&proxy, &ns, &["scale", "keda", "--replicas", "4"])
        .code(3)
        .stderr(contains("scaledobjects.keda.sh"))
        .stderr(contains("could not be checked, so nothing was sent"));
    assert!(proxy.requests("PATCH").is_empty(), "{:?}", proxy.seen);
    // The look-up stalls past --request-timeout: a timeout, named as one.
    let proxy = cluster().proxy(vec![Rule::new(Some("GET"), "/scaledobjects", Fault::Stall)]);
    through(
        &proxy,
        &ns,
        &[
            "--request-timeout",
            "2s",
            "scale",
            "keda",
            "--replicas",
            "4",
        ],
    )
    .code(3)
    .stderr(contains("did not answer in time (--request-timeout 2s)"))
    .stderr(contains("unreachable").not());
    assert!(proxy.requests("PATCH").is_empty(), "{:?}", proxy.seen);
    assert_eq!(spec(&ns, "keda"), before);
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_re_read_and_reported() {
    let ns = seeded("lost-answer", &["static"]).await;
    // Stored, but the answer never came: the re-read finds it.
    let proxy = cluster().proxy(vec![
        Rule::new(
            Some("PATCH"),
            "/featurestores/static",
            Fault::ForwardThenDrop,
        )
        .once(),
    ]);
    through(&proxy, &ns, &["scale", "static", "--replicas", "5"])
        .success()
        .stdout(contains("featurestore.feast.dev/static scaled"))
        .stderr(contains(
            "answer to the patch of featurestore.feast.dev/static was lost",
        ))
        .stderr(contains("a re-read shows the change stored"));
    assert_eq!(spec(&ns, "static")["replicas"], json!(5));
    // Never sent on: the re-read shows nothing changed, and says so.
    let proxy = cluster().proxy(vec![
        Rule::new(Some("PATCH"), "/featurestores/static", Fault::Reset).once(),
    ]);
    through(&proxy, &ns, &["scale", "static", "--replicas", "6"])
        .code(3)
        .stderr(contains("unchanged"))
        .stderr(contains("the change was not stored"));
    assert_eq!(spec(&ns, "static")["replicas"], json!(5));
    // Neither the answer nor a re-read: the outcome is unknown, and how to check is said.
    let proxy = cluster().proxy(vec![
        Rule::new(
            Some("PATCH"),
            "/featurestores/static",
            Fault::ForwardThenDrop,
        )
        .once(),
        // The first GET reads the store; the re-read after the lost answer fails.
        Rule::new(Some("GET"), "/featurestores/static", Fault::Status(503)).after(1),
    ]);
    through(&proxy, &ns, &["scale", "static", "--replicas", "7"])
        .code(3)
        .stderr(contains("the outcome is unknown"))
        .stderr(contains("kubectl get featurestore static -n"));
}

/// An HPA that could not compute its metric would not scale: `autoscale` asks first (refused
/// without a terminal or --yes, nothing sent), and `--cpu-request` sets the missing request on
/// every server container without one in the same patch, which the API server stores.
#[tokio::test]
async fn autoscale_asks_before_an_hpa_that_cannot_compute_its_metric_and_can_set_the_request() {
    let ns = cluster().namespace("autoscale-cpu-request").await;
    create_store(
        &ns,
        "noreq",
        json!({"services": {
            "onlineStore": {"server": {"resources": {"requests": {"cpu": "100m"}}}},
            "registry": {"remote": null, "local": {
                "persistence": {"store": {"type": "sql", "secretRef": {"name": "feast-data-stores"}}},
                "server": {}}}}}),
    );
    let asked = [
        "autoscale",
        "noreq",
        "--min",
        "2",
        "--max",
        "8",
        "--cpu",
        "70%",
    ];
    let refused = feast(&ns, &asked).code(1);
    let stderr = stderr_of(&refused);
    assert!(
        stderr.contains("the HPA will not scale: the HPA can't compute cpu utilization")
            && stderr.contains("container \"registry\"")
            && stderr.contains("add --cpu-request 200m"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(spec(&ns, "noreq")["services"].get("scaling").is_none());

    let with_request = [&asked[..], &["--cpu-request", "250m", "--diff"]].concat();
    let sent = feast(&ns, &with_request).success();
    let stdout = stdout_of(&sent);
    assert!(
        stdout.contains("+ spec.services.registry.local.server.resources.requests.cpu: 250m\n"),
        "the diff shows the request, one field per line: {stdout}"
    );
    let stderr = stderr_of(&sent);
    assert!(stderr.contains("registry cpu 250m"), "{stderr}");
    assert!(!stderr.contains("will not scale"), "{stderr}");
    let after = spec(&ns, "noreq");
    assert_eq!(
        after["services"]["registry"]["local"]["server"]["resources"]["requests"]["cpu"],
        json!("250m")
    );
    // The online server's own request is kept.
    assert_eq!(
        after["services"]["onlineStore"]["server"]["resources"]["requests"]["cpu"],
        json!("100m")
    );
    assert_eq!(
        after["services"]["scaling"]["autoscaling"]["maxReplicas"],
        json!(8)
    );
}

/// "Keep 2 up during drains" has a right answer: `pdb --max-unavailable 1` at 2 replicas says it
/// lets a drain take the store down to 1 pod, and suggests the combination; the suggested
/// commands, pasted into the real kubectl, get the store there (issue 23, item 2).
#[tokio::test]
async fn a_budget_says_what_a_drain_leaves_and_the_commands_to_keep_two_running() {
    let ns = cluster().namespace("budget-goal").await;
    create_store(&ns, "two", json!({"replicas": 2}));
    let sent = feast(&ns, &["pdb", "two", "--max-unavailable", "1"]).success();
    let stderr = stderr_of(&sent);
    assert!(
        stderr.contains(
            "disruption budget maxUnavailable 1: at 2 replica(s) a drain leaves 1 running"
        ),
        "{stderr}"
    );
    let commands = support::suggested_commands(&stderr);
    assert_eq!(commands.len(), 2, "{stderr}");
    for mut words in commands {
        words.push("--yes".into());
        let run = support::run_pasted(&words, cluster().kubeconfig());
        assert!(
            run.status.success(),
            "{words:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let after = spec(&ns, "two");
    assert_eq!(after["replicas"], json!(3));
    assert_eq!(
        after["services"]["podDisruptionBudgets"],
        json!({"minAvailable": 2})
    );
    // And the store now keeps 2 through a drain.
    let meaning = kubectl_feast::plan::budget_meaning(&get(&ns, "two")).expect("a budget");
    assert_eq!(
        meaning,
        "disruption budget minAvailable 2: at 3 replica(s) a drain leaves 2 running"
    );
}

/// The persistence refusals show the shape to write, the Secret included: the suggested
/// `kubectl create secret` runs through the real kubectl, and makes the key the operator reads
/// (the store's type) holding YAML settings (issue 23, item 7).
#[tokio::test]
async fn persistence_hints_make_the_secret_the_operator_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sandbox.yaml");
    std::fs::write(
        &file,
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata: {name: sandbox, namespace: ml}\nspec:\n  feastProject: sandbox\n  replicas: 3\n",
    )
    .expect("write");
    let out = cluster()
        .plugin()
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .expect("validate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let secrets: Vec<Vec<String>> = support::suggested_commands(&stdout)
        .into_iter()
        .filter(|w| w.get(1).is_some_and(|w| w == "create"))
        .collect();
    assert_eq!(secrets.len(), 2, "online store and registry: {stdout}");
    for (mut words, key) in secrets.into_iter().zip(["redis", "sql"]) {
        words.extend(["--dry-run=client", "-o", "json"].map(String::from));
        let run = support::run_pasted(&words, cluster().kubeconfig());
        assert!(
            run.status.success(),
            "{words:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let secret: Value = serde_json::from_slice(&run.stdout).expect("a Secret as JSON");
        assert_eq!(secret["metadata"]["namespace"], "ml");
        let value = secret["data"][key]
            .as_str()
            .expect("the key is the store's type");
        let settings = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, value)
                .expect("base64"),
        )
        .expect("utf-8");
        let parsed: std::collections::BTreeMap<String, Value> =
            serde_saphyr::from_str(&settings).expect("the value is YAML settings");
        assert!(!parsed.contains_key("type"), "{settings}");
        assert!(!parsed.is_empty(), "{settings}");
    }
}
