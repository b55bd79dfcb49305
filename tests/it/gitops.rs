//! GitOps-safe changes against the real API server (the shared plain cluster, namespaced): a
//! store labelled as Argo CD's or Flux's needs `--yes` for a live write and is named with who
//! reverts it; `-o patch` sends nothing and its patch, applied with `kubectl apply -k`, gives
//! the same object as the live command; `--local -f` changes a file with the same pre-flight
//! and no cluster at all.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use support::cluster;

fn feast(ns: &str, args: &[&str]) -> Output {
    cluster()
        .plugin()
        .args(["-n", ns])
        .args(args)
        .output()
        .expect("run kubectl-feast")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn kubectl(args: &[&str]) -> Output {
    let out = cluster()
        .kubectl()
        .args(args)
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        text(&out.stderr)
    );
    out
}

fn get(ns: &str, name: &str) -> Value {
    cluster().featurestore(ns, name)
}

/// A DB-backed store with `metadata` merged in (labels, annotations) and `extra` in its spec.
fn manifest(ns: &str, name: &str, metadata: Value, extra: Value) -> Value {
    let mut spec = json!({"feastProject": "p", "services": {
        "onlineStore": {
            "persistence": {"store": {"type": "redis", "secretRef": {"name": "feast-data-stores"}}},
            "server": {"resources": {"requests": {"cpu": "200m"}}}},
        "registry": {"remote": {"hostname": "registry.feast.svc.cluster.local:80"}}}});
    kubectl_feast::plan::merge_patch(&mut spec, &extra);
    let mut meta = json!({"name": name, "namespace": ns});
    kubectl_feast::plan::merge_patch(&mut meta, &metadata);
    json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": meta, "spec": spec})
}

fn apply(object: &Value) {
    let out = support::with_stdin(
        cluster().kubectl().args(["apply", "-f", "-"]),
        &object.to_string(),
    );
    assert!(out.status.success(), "kubectl apply: {}", text(&out.stderr));
}

#[tokio::test]
async fn an_argo_cd_store_needs_yes_and_names_the_application() {
    let ns = cluster().namespace("gitops-argo").await;
    let tracking = format!("shop:feast.dev/FeatureStore:{ns}/web");
    apply(&manifest(
        &ns,
        "web",
        json!({"annotations": {"argocd.argoproj.io/tracking-id": tracking}}),
        json!({"replicas": 2}),
    ));
    let out = feast(&ns, &["scale", "web", "--replicas", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("Argo CD Application \"shop\""), "{err}");
    assert!(
        err.contains("reverts a live change at its next sync"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(get(&ns, "web")["spec"]["replicas"], 2, "nothing was sent");

    // -o patch is the way around it: nothing sent, no confirmation needed.
    let out = feast(&ns, &["scale", "web", "--replicas", "3", "-o", "patch"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("replicas: 3"));
    assert!(text(&out.stderr).contains("commit this patch to its Git source"));
    assert_eq!(get(&ns, "web")["spec"]["replicas"], 2);

    let out = feast(&ns, &["scale", "web", "--replicas", "3", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(get(&ns, "web")["spec"]["replicas"], 3);

    // Argo's older label tracking counts too.
    apply(&manifest(
        &ns,
        "labelled",
        json!({"labels": {"app.kubernetes.io/instance": "shop"}}),
        json!({"replicas": 2}),
    ));
    let out = feast(&ns, &["pdb", "labelled", "--max-unavailable", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("app.kubernetes.io/instance marker"));
}

#[tokio::test]
async fn a_flux_store_needs_yes_and_names_the_kustomization_or_helm_release() {
    let ns = cluster().namespace("gitops-flux").await;
    apply(&manifest(
        &ns,
        "kust",
        json!({"labels": {"kustomize.toolkit.fluxcd.io/name": "apps",
            "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}}),
        json!({"replicas": 2}),
    ));
    apply(&manifest(
        &ns,
        "helm",
        json!({"labels": {"helm.toolkit.fluxcd.io/name": "feast",
            "helm.toolkit.fluxcd.io/namespace": "flux-system"}}),
        json!({"replicas": 2}),
    ));
    let out = feast(&ns, &["pdb", "kust", "--max-unavailable", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("Flux Kustomization flux-system/apps"), "{err}");
    assert!(err.contains("re-applies the manifest from Git"), "{err}");
    assert!(
        get(&ns, "kust")["spec"]["services"]
            .get("podDisruptionBudgets")
            .is_none()
    );

    let out = feast(&ns, &["autoscale", "helm", "--min", "2", "--max", "4"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Flux HelmRelease flux-system/feast"));

    let out = feast(
        &ns,
        &["autoscale", "helm", "--min", "2", "--max", "4", "--yes"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        get(&ns, "helm")["spec"]["services"]["scaling"]["autoscaling"]["maxReplicas"],
        4
    );

    // An unmarked store changes without confirmation, as before.
    apply(&manifest(&ns, "plain", json!({}), json!({"replicas": 2})));
    let out = feast(&ns, &["scale", "plain", "--replicas", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Argo CD's recommended instance label, and stores applied from Git with no marker at all: the
/// API server records the tool's field manager in managedFields (server-side apply with the
/// manager name each tool uses), and that is enough to name the tool.
#[tokio::test]
async fn argo_cds_instance_label_and_the_tools_field_managers_are_recognised() {
    let ns = cluster().namespace("gitops-managers").await;
    apply(&manifest(
        &ns,
        "labelled",
        json!({"labels": {"argocd.argoproj.io/instance": "shop"}}),
        json!({"replicas": 2}),
    ));
    let out = feast(&ns, &["scale", "labelled", "--replicas", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("Argo CD Application \"shop\" (by its argocd.argoproj.io/instance marker)"),
        "{}",
        text(&out.stderr)
    );
    for (name, manager, named) in [
        (
            "by-argo",
            "argocd-controller",
            "Argo CD (its field manager argocd-controller",
        ),
        (
            "by-flux",
            "kustomize-controller",
            "Flux's kustomize-controller (its field manager kustomize-controller",
        ),
        (
            "by-helm",
            "helm-controller",
            "Flux's helm-controller (its field manager helm-controller",
        ),
    ] {
        let out = support::with_stdin(
            cluster().kubectl().args([
                "apply",
                "--server-side",
                &format!("--field-manager={manager}"),
                "-f",
                "-",
            ]),
            &manifest(&ns, name, json!({}), json!({"replicas": 2})).to_string(),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = feast(&ns, &["pdb", name, "--max-unavailable", "1"]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(named),
            "{name}: {}",
            text(&out.stderr)
        );
        assert!(
            get(&ns, name)["spec"]["services"]
                .get("podDisruptionBudgets")
                .is_none(),
            "nothing was sent"
        );
    }
    // kubectl's own client-side apply is nobody's GitOps.
    apply(&manifest(&ns, "by-hand", json!({}), json!({"replicas": 2})));
    let out = feast(&ns, &["pdb", "by-hand", "--max-unavailable", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn write(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create the directory");
    }
    std::fs::write(path, content).expect("write file");
}

/// The spec as the API server stores it, without what only differs by namespace.
fn spec_of(ns: &str, name: &str) -> Value {
    get(ns, name)["spec"].clone()
}

#[tokio::test]
async fn the_patch_applies_with_kustomize_and_gives_the_live_result() {
    let git = cluster().namespace("gitops-kustomize").await;
    let live = cluster().namespace("gitops-live").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let base = manifest(
        &git,
        "orders",
        json!({"labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}}),
        json!({"replicas": 3, "services": {"podDisruptionBudgets": {"minAvailable": 2}}}),
    );
    write(dir.path(), "store.yaml", &base.to_string());
    kubectl(&[
        "apply",
        "-f",
        &dir.path().join("store.yaml").to_string_lossy(),
    ]);
    let mut twin = base.clone();
    twin["metadata"]["namespace"] = json!(live);
    apply(&twin);

    // Each change in turn: the patch goes to Git (kustomize), the same flags go live.
    let steps: [&[&str]; 3] = [
        &["scale", "orders", "--replicas", "4"],
        &[
            "autoscale",
            "orders",
            "--min",
            "2",
            "--max",
            "6",
            "--cpu",
            "70%",
        ],
        &["pdb", "orders", "--max-unavailable", "1"],
    ];
    let mut patches = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let mut args = step.to_vec();
        args.extend(["-o", "patch"]);
        let out = feast(&git, &args);
        assert!(out.status.success(), "{step:?}: {}", text(&out.stderr));
        let patch = text(&out.stdout);
        assert!(
            patch.contains("kind: FeatureStore") && patch.contains("name: orders"),
            "{patch}"
        );
        assert!(!patch.contains("resourceVersion"), "{patch}");
        let file = format!("patch-{i}.yaml");
        write(dir.path(), &file, &patch);
        patches.push(file);
        // Listed as the file's header says: with a target, as the base names a namespace.
        let list: String = patches
            .iter()
            .map(|p| {
                format!("- path: {p}\n  target:\n    group: feast.dev\n    kind: FeatureStore\n    name: orders\n")
            })
            .collect();
        write(
            dir.path(),
            "kustomization.yaml",
            &format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- store.yaml\npatches:\n{list}"
            ),
        );
        kubectl(&["apply", "-k", &dir.path().to_string_lossy()]);

        let mut args = step.to_vec();
        args.push("--yes");
        let out = feast(&live, &args);
        assert!(out.status.success(), "{step:?} live: {}", text(&out.stderr));
        assert_eq!(
            spec_of(&git, "orders"),
            spec_of(&live, "orders"),
            "after {step:?}, the kustomized store differs from the live one"
        );
    }
    let done = spec_of(&git, "orders");
    assert_eq!(
        done["replicas"], 1,
        "autoscale removed the static count: {done}"
    );
    assert_eq!(done["services"]["scaling"]["autoscaling"]["maxReplicas"], 6);
    assert_eq!(
        done["services"]["podDisruptionBudgets"],
        json!({"maxUnavailable": 1})
    );
}

#[test]
fn local_changes_a_file_with_the_same_preflight_and_no_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("stores.yaml");
    let db = manifest("ml", "db", json!({}), json!({}));
    let sqlite = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": "files", "namespace": "ml"}, "spec": {"feastProject": "p"}});
    std::fs::write(&file, format!("# two stores\n{}\n---\n{}\n", db, sqlite)).expect("write");
    let plugin = || {
        let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"));
        // Nothing may be contacted: no kubeconfig exists.
        c.env("KUBECONFIG", dir.path().join("no-such-kubeconfig"));
        c
    };
    let f = file.to_string_lossy().to_string();
    let out = plugin()
        .args([
            "scale",
            "db",
            "--replicas",
            "3",
            "--local",
            "-f",
            &f,
            "-o",
            "json",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let changed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(changed["spec"]["replicas"], 3);
    assert_eq!(changed["metadata"]["name"], "db");
    assert!(text(&out.stderr).contains("featurestore.feast.dev/db scaled (local"));

    // The same refusal as a live change: file persistence cannot scale.
    let out = plugin()
        .args(["scale", "files", "--replicas", "3", "--local", "-f", &f])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("scaling/online-store-db")
            || text(&out.stderr).contains("onlineStore"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    // -o patch from a file; a missing store is named with what the file has.
    let out = plugin()
        .args([
            "pdb",
            "db",
            "--max-unavailable",
            "1",
            "--local",
            "-f",
            &f,
            "-o",
            "patch",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("maxUnavailable: 1"));
    let out = plugin()
        .args(["scale", "nope", "--replicas", "2", "--local", "-f", &f])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("the FeatureStores in it: db, files"));
    // --in-place rewrites the file, keeping its comment and the other store as they were.
    let out = plugin()
        .args([
            "scale",
            "db",
            "--replicas",
            "4",
            "--local",
            "-f",
            &f,
            "--in-place",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("featurestore.feast.dev/db scaled (in "));
    let rewritten = std::fs::read_to_string(&file).expect("read back");
    assert!(rewritten.starts_with("# two stores\n"), "{rewritten}");
    assert!(
        rewritten.contains(&sqlite.to_string()),
        "the other store is untouched: {rewritten}"
    );
    let docs: Vec<Value> = rewritten
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str(d).expect("yaml"))
        .collect();
    assert_eq!(docs[0]["spec"]["replicas"], 4, "{rewritten}");
    // -f without --local is a usage error.
    let out = plugin()
        .args(["scale", "db", "--replicas", "2", "-f", &f])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// In file mode, a fix hint's change command changes the file: pasted into the real kubectl, it
/// runs, rewrites the file, and the finding is gone. The cluster is never asked.
#[test]
fn file_mode_fix_hints_change_the_file_when_pasted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("store.yaml");
    std::fs::write(
        &file,
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: a\n  namespace: ns\nspec:\n  feastProject: p\n  replicas: 2\n  services:\n    podDisruptionBudgets:\n      minAvailable: 2\n    onlineStore:\n      persistence:\n        store: {type: redis, secretRef: {name: s}}\n    registry:\n      remote: {hostname: \"r:80\"}\n",
    )
    .expect("write");
    let f = file.display().to_string();
    let report = |f: &str| -> Value {
        let out = cluster()
            .plugin()
            .args(["validate", "-f", f, "-o", "json"])
            .output()
            .expect("run");
        serde_json::from_slice(&out.stdout).expect("JSON report")
    };
    let before = report(&f);
    let finding = before["results"][0]["findings"]
        .as_array()
        .and_then(|fs| {
            fs.iter()
                .find(|x| x["rule"] == "pdb/blocks-evictions")
                .cloned()
        })
        .expect("the budget blocks evictions");
    let commands = support::suggested_commands(finding["hint"].as_str().unwrap_or_default());
    assert_eq!(commands.len(), 1, "{finding}");
    // No cluster: a kubeconfig that points nowhere.
    let pasted = support::run_pasted(&commands[0], Path::new("/nonexistent"));
    assert!(
        pasted.status.success(),
        "{:?}: {}",
        commands[0],
        text(&pasted.stderr)
    );
    let after = report(&f);
    assert!(
        after["results"][0]["findings"]
            .as_array()
            .is_some_and(|fs| !fs.iter().any(|x| x["rule"] == "pdb/blocks-evictions")),
        "{after:#}"
    );
}

/// A repository as it is: a Helm chart, a kustomize base with an overlay that patches it, and
/// plain manifests, validated in one command: the templates named with the command that renders
/// them (never exit 3), the overlay's patch checked as the partial object it is, `--exclude`
/// leaving a path out, and `-k` checking what the real `kubectl kustomize` renders.
#[test]
fn a_repository_with_a_chart_a_kustomize_overlay_and_plain_manifests_validates_as_it_is() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let repo = dir.path().join("repo");
    let store = |name: &str| {
        let mut m = manifest("", name, json!({}), json!({}));
        m["metadata"].as_object_mut().map(|o| o.remove("namespace"));
        serde_json::to_string_pretty(&m).expect("JSON")
    };
    write(
        &repo,
        "charts/feast/Chart.yaml",
        "apiVersion: v2\nname: feast\nversion: 0.1.0\n",
    );
    write(&repo, "charts/feast/values.yaml", "replicas: 2\n");
    write(
        &repo,
        "charts/feast/templates/featurestore.yaml",
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  feastProject: {{ .Values.project | quote }}\n  replicas: {{ .Values.replicas }}\n",
    );
    write(&repo, "base/store.json", &store("orders"));
    write(
        &repo,
        "base/kustomization.yaml",
        "resources:\n- store.json\n",
    );
    write(
        &repo,
        "overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\nnamespace: prod\npatches:\n- path: replicas.yaml\n  target:\n    kind: FeatureStore\n    name: orders\n",
    );
    write(
        &repo,
        "overlays/prod/replicas.yaml",
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: orders\nspec:\n  replicas: 3\n",
    );
    write(&repo, "plain/pricing.json", &store("pricing"));
    let repo_arg = repo.display().to_string();
    let validate = |args: &[&str]| {
        let kubectl_dir = cluster()
            .kubectl_path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = format!(
            "{}:{}",
            kubectl_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = cluster()
            .plugin()
            .env("PATH", path)
            .args(["validate", "-o", "json"])
            .args(args)
            .output()
            .expect("run validate");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("no JSON ({e}): {}{}", text(&out.stdout), text(&out.stderr))
        });
        (out.status.code(), report, text(&out.stderr))
    };

    let (code, report, stderr) = validate(&["-f", &repo_arg]);
    assert_eq!(code, Some(0), "{report:#}\n{stderr}");
    let s = &report["summary"];
    assert_eq!(
        (&s["objects"], &s["valid"], &s["patches"], &s["templates"]),
        (&json!(3), &json!(3), &json!(1), &json!(1)),
        "{report:#}"
    );
    let chart = repo.join("charts/feast").display().to_string();
    assert_eq!(report["templates"][0]["chart"], json!(chart));
    assert_eq!(
        report["templates"][0]["command"],
        json!(format!(
            "helm template {chart} | kubectl feast validate -f -"
        ))
    );
    let patch = report["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["patchOf"].is_string()))
        .expect("the overlay's patch")
        .clone();
    assert!(
        patch["patchOf"]
            .as_str()
            .is_some_and(|k| k.ends_with("overlays/prod/kustomization.yaml")),
        "{patch}"
    );
    assert_eq!(patch["findings"], json!([]), "{patch}");
    assert_eq!(patch["persistence"], json!([]), "{patch}");

    // The text says what was not checked, and how to check it.
    let out = cluster()
        .plugin()
        .args(["validate", "-f", &repo_arg])
        .output()
        .expect("run validate");
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&format!(
            "Helm template (1 file): not checkable as written; render it: `helm template {chart} | kubectl feast validate -f -`"
        )),
        "{shown}"
    );
    assert!(
        shown.contains("1 kustomize patch checked as a part"),
        "{shown}"
    );

    // A patch with a type the API server refuses is an error at its line.
    write(
        &repo,
        "overlays/prod/replicas.yaml",
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: orders\nspec:\n  replicas: \"3\"\n",
    );
    let (code, report, _) = validate(&["-f", &repo_arg]);
    assert_eq!(code, Some(1), "{report:#}");
    let bad = report["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["patchOf"].is_string()))
        .expect("the patch")
        .clone();
    assert_eq!(bad["findings"][0]["rule"], "schema/type", "{bad}");
    assert_eq!(bad["findings"][0]["line"], 6, "{bad}");

    // --exclude leaves the chart out.
    let (code, report, _) = validate(&[
        "-f",
        &repo_arg,
        "--exclude",
        "charts/**",
        "--exclude",
        "overlays/*/replicas.yaml",
    ]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["summary"]["excluded"], 4, "{report:#}");
    assert!(report["summary"].get("templates").is_none(), "{report:#}");

    // -k: what `kubectl apply -k` would apply, rendered by the real kubectl kustomize: the
    // string replicas reach the store, in namespace prod.
    let overlay = repo.join("overlays/prod").display().to_string();
    let (code, report, stderr) = validate(&["-k", &overlay]);
    assert_eq!(code, Some(1), "{report:#}\n{stderr}");
    let rendered = &report["results"][0];
    assert_eq!(rendered["source"], json!(format!("kustomize {overlay}")));
    assert_eq!(rendered["namespace"], "prod", "{rendered}");
    assert!(
        rendered["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["rule"] == "schema/type")),
        "{rendered}"
    );
    // Fixed, the rendered overlay is valid; a broken kustomization is unreadable, exit 3.
    write(
        &repo,
        "overlays/prod/replicas.yaml",
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: orders\nspec:\n  replicas: 3\n",
    );
    let (code, report, _) = validate(&["-k", &overlay]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["results"][0]["valid"], true);
    let (code, _, stderr) = validate(&["-k", &repo.join("nowhere").display().to_string()]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("kubectl kustomize"), "{stderr}");
}

/// `-o patch` in the layouts people use, rendered by the real `kubectl kustomize` and applied to
/// the real API server: a base without a namespace and the namespace set in an overlay, a base
/// with one, each with the `patches:` entry (and target) the file's header gives, and the plain
/// `- path:` where that works. A removal the rendered manifest cannot carry (a `spec.replicas`
/// set by a live scale, outside Git) is said, with the command that removes it; run through the
/// real kubectl, it lets the overlay apply.
#[tokio::test]
async fn o_patch_renders_and_applies_in_each_kustomize_layout() {
    let ns = cluster().namespace("gitops-layouts").await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Git holds the store without replicas; a live scale then set spec.replicas: 3.
    let git_store = manifest(&ns, "orders", json!({}), json!({}));
    write(dir.path(), "live.json", &git_store.to_string());
    kubectl(&[
        "apply",
        "-f",
        &dir.path().join("live.json").to_string_lossy(),
    ]);
    let out = feast(&ns, &["scale", "orders", "--replicas", "3", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = feast(
        &ns,
        &[
            "autoscale",
            "orders",
            "--min",
            "2",
            "--max",
            "5",
            "-o",
            "patch",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let patch = text(&out.stdout);
    let note = text(&out.stderr);
    assert!(
        !patch.contains("namespace:"),
        "the patch names no namespace: {patch}"
    );
    assert!(
        patch.contains("#     target: {group: feast.dev, kind: FeatureStore, name: orders}"),
        "{patch}"
    );
    assert!(patch.contains("replicas: null"), "{patch}");
    assert!(
        note.contains("the patch removes spec.replicas, but the live store got it outside Git"),
        "{note}"
    );
    let command = note
        .rsplit('`')
        .nth(1)
        .expect("the suggested command between backticks")
        .to_string();
    assert!(
        command.starts_with("kubectl patch featurestore.feast.dev orders -n "),
        "{command}"
    );

    let mut base_plain = git_store.clone();
    base_plain["metadata"]
        .as_object_mut()
        .map(|m| m.remove("namespace"));
    let with_target = "patches:\n- path: patch.yaml\n  target:\n    group: feast.dev\n    kind: FeatureStore\n    name: orders\n";
    let layouts = [
        (
            "base-without-namespace",
            &base_plain,
            format!("namespace: {ns}\n{with_target}"),
        ),
        ("base-with-namespace", &git_store, with_target.to_string()),
        (
            "plain-path",
            &base_plain,
            format!("namespace: {ns}\npatches:\n- path: patch.yaml\n"),
        ),
    ];
    for (name, base, entries) in &layouts {
        let layout = dir.path().join(name);
        write(&layout, "base/store.json", &base.to_string());
        write(
            &layout,
            "base/kustomization.yaml",
            "resources:\n- store.json\n",
        );
        write(&layout, "overlay/patch.yaml", &patch);
        write(
            &layout,
            "overlay/kustomization.yaml",
            &format!("resources:\n- ../base\n{entries}"),
        );
        let overlay = layout.join("overlay").to_string_lossy().into_owned();
        let rendered = text(&kubectl(&["kustomize", &overlay]).stdout);
        assert!(
            rendered.contains(&format!("namespace: {ns}")),
            "{name}: {rendered}"
        );
        assert!(rendered.contains("maxReplicas: 5"), "{name}: {rendered}");
        assert!(!rendered.contains("replicas: 3"), "{name}: {rendered}");
    }

    // The live-only field is still there: applying the overlay is refused by the CRD's rule.
    let overlay = dir.path().join("base-without-namespace/overlay");
    let refused = cluster()
        .kubectl()
        .args(["apply", "-k", &overlay.to_string_lossy()])
        .output()
        .expect("kubectl apply -k");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("mutually exclusive"),
        "{}",
        text(&refused.stderr)
    );
    // The suggested command, run as a user pastes it, removes it; then the overlay applies.
    let kubectl_dir = cluster()
        .kubectl_path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let ran = Command::new("sh")
        .args(["-c", &command])
        .env(
            "PATH",
            format!(
                "{}:{}",
                kubectl_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("KUBECONFIG", cluster().kubeconfig())
        .output()
        .expect("sh");
    assert!(ran.status.success(), "{command}: {}", text(&ran.stderr));
    // Each layout applies, and gives the store the change.
    for (name, _, _) in &layouts {
        let overlay = dir.path().join(name).join("overlay");
        kubectl(&["apply", "-k", &overlay.to_string_lossy()]);
        let spec = get(&ns, "orders")["spec"].clone();
        assert_eq!(
            spec["services"]["scaling"]["autoscaling"]["maxReplicas"], 5,
            "{name}: {spec}"
        );
        assert!(
            spec.get("replicas").is_none_or(|r| r == 1),
            "{name}: {spec}"
        );
    }
}
