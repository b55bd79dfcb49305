//! `validate NAME...` / `-A` against live FeatureStores on the real kube-apiserver with the real
//! CRD: the same report as for files, the what-if flags, parity with the API server's own CEL
//! messages, the installed CRD's rules, and the read-only users.

use crate::support;

use serde_json::{Value, json};

use predicates::prelude::*;
use predicates::str::contains;
use support::{cluster, feast, feast_as, seeded};

fn json_of(assert: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&assert.get_output().stdout).expect("-o json prints JSON")
}

fn rules_of(result: &Value) -> Vec<String> {
    result["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn live_stores_get_the_same_report_as_files() {
    let ns = seeded("validate-live", &["static", "failed"]).await;
    feast(&ns, &["validate", "static", "featurestore/failed"])
        .code(1)
        .stdout(contains(format!("FeatureStore {ns}/static  VALID")))
        .stdout(contains(format!("FeatureStore {ns}/failed  INVALID")))
        .stdout(contains("autoscaling/min-exceeds-max"))
        .stdout(contains("2 FeatureStores: 1 valid, 1 invalid"));
    feast(&ns, &["validate", "static"])
        .success()
        .stdout(contains("1 FeatureStore: 1 valid, 0 invalid"));
}

#[tokio::test]
async fn a_namespace_alone_validates_every_store_in_it() {
    let ns = seeded("validate-ns", &["static", "single"]).await;
    let out = feast(&ns, &["validate", "-o", "json"]).success();
    let v = json_of(&out);
    let mut names: Vec<&str> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["single", "static"]);
    assert!(
        v["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["namespace"] == json!(ns))
    );
}

#[tokio::test]
async fn all_namespaces_includes_every_seeded_store() {
    let ns = seeded("validate-all", &["static", "single", "failed"]).await;
    let out = cluster()
        .plugin()
        .args(["validate", "-A", "-o", "json"])
        .assert()
        .code(1);
    let report = json_of(&out);
    let ours: Vec<(String, bool)> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["namespace"] == json!(ns))
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r["valid"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    let mut ours = ours;
    ours.sort();
    assert_eq!(
        ours,
        vec![
            ("failed".to_string(), false),
            ("single".to_string(), true),
            ("static".to_string(), true)
        ]
    );
}

#[tokio::test]
async fn nothing_named_is_a_usage_error_and_a_missing_store_is_not_found() {
    let ns = seeded("validate-usage", &["static"]).await;
    cluster()
        .plugin()
        .args(["validate"])
        .assert()
        .code(2)
        .stderr(contains("-n NAMESPACE"));
    feast(&ns, &["validate", "nope"])
        .code(3)
        .stderr(contains("nope"));
}

/// The API server's own answer to scaling `name` to `replicas`, from a server-side dry run.
fn server_rejection(ns: &str, name: &str, replicas: i64) -> String {
    let out = cluster()
        .kubectl()
        .args([
            "patch",
            "featurestores.feast.dev",
            name,
            "-n",
            ns,
            "--type=merge",
            "--dry-run=server",
            "-p",
            &json!({"spec": {"replicas": replicas}}).to_string(),
        ])
        .output()
        .expect("run kubectl");
    assert!(
        !out.status.success(),
        "the API server accepted the scale-up"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn what_if_findings_quote_what_the_api_server_says() {
    let ns = seeded("validate-what-if", &["single"]).await;
    let out = feast(
        &ns,
        &["validate", "single", "--replicas", "3", "-o", "json"],
    )
    .code(1);
    let report = json_of(&out);
    let result = &report["results"][0];
    assert_eq!(result["valid"], json!(false));
    let server = server_rejection(&ns, "single", 3);
    let cel: Vec<&Value> = result["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("scaling/"))
        })
        .collect();
    assert_eq!(cel.len(), 2, "{result}");
    for f in cel {
        let message = f["message"].as_str().expect("message");
        let text = message.trim_start_matches("Invalid value: ");
        assert!(
            server.contains(text),
            "the API server said:\n{server}\nkubectl-feast said:\n{message}"
        );
    }
    // The same store, autoscaled in the what-if.
    feast(&ns, &["validate", "single", "--autoscale", "--max", "4"])
        .code(1)
        .stdout(contains("scaling/online-store-db"));
}

#[tokio::test]
async fn the_installed_crd_is_read_when_the_user_may_read_it() {
    let ns = seeded("validate-crd", &["static"]).await;
    feast(&ns, &["validate", "static"])
        .success()
        .stderr(contains("rules were not evaluated").not());
    feast_as("viewer", &ns, &["validate", "static"])
        .success()
        .stderr(contains(
            "note: the installed CRD's own rules were not evaluated",
        ))
        .stderr(contains("customresourcedefinitions"));
}

#[tokio::test]
async fn a_crd_file_that_disagrees_is_reported_on_live_objects() {
    let ns = seeded("validate-crd-file", &["single"]).await;
    let crd = std::fs::read_to_string(
        support::shared_dir().join("feast-operator/feast.dev_featurestores.yaml"),
    )
    .expect("the shared CRD");
    let original = "Scaling requires DB-backed persistence for the online store.";
    assert!(crd.contains(original));
    // A CRD whose online-store rule words its message differently: its failure no longer
    // matches ours, so both sides show.
    let changed = crd.replace(original, "Online store must be shared.");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crd.yaml");
    std::fs::write(&path, changed).expect("write the CRD");
    let out = feast(
        &ns,
        &[
            "validate",
            "single",
            "--replicas",
            "3",
            "--crd",
            &path.to_string_lossy(),
            "-o",
            "json",
        ],
    )
    .code(1);
    let rules = rules_of(&json_of(&out)["results"][0]);
    assert!(rules.contains(&"crd/rule".to_string()), "{rules:?}");
    assert!(rules.contains(&"crd/disagreement".to_string()), "{rules:?}");
}

#[tokio::test]
async fn read_only_and_exec_users_can_validate() {
    let ns = seeded("validate-users", &["static", "hpa"]).await;
    feast_as("viewer", &ns, &["validate", "static", "hpa"])
        .success()
        .stdout(contains("2 FeatureStores: 2 valid, 0 invalid"));
    feast_as("editor", &ns, &["validate", "static"]).success();
    feast_as("exec", &ns, &["validate", "hpa"])
        .success()
        .stdout(contains(format!("FeatureStore {ns}/hpa  VALID")));
}
