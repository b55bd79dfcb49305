//! The rules against the real API server: a corpus of FeatureStores (the operator's samples,
//! our examples, each also what-if scaled, and hand-made edge cases for every CRD rule) is sent
//! to kube-apiserver as a server-side dry-run create, and kubectl-feast's verdict on the CRD's
//! rules must be the server's on every one. Where the server rejects, each of our CRD-mirrored
//! messages must be in its answer. The CRD's own rules evaluated by kube-cel (what `--crd` and
//! live validation use) are held to the same server.

use crate::support;

use kube::api::{Api, DynamicObject, PostParams};
use kubectl_feast::cluster::featurestore_resource;
use kubectl_feast::manifests;
use kubectl_feast::plan::{self, AutoscalingRequest};
use kubectl_feast::report::is_featurestore;
use kubectl_feast::rules::crd::CrdRules;
use kubectl_feast::rules::{self, Origin, Severity};
use serde_json::{Value, json};

fn corpus_from_files() -> Vec<(String, Value)> {
    let shared = support::shared_dir().join("feast-operator/samples");
    let examples = support::repo_root().join("examples");
    let paths = [shared.display().to_string(), examples.display().to_string()];
    let docs = manifests::read_paths(&paths, &mut std::io::empty()).expect("corpus reads");
    let mut out = Vec::new();
    for doc in docs
        .into_iter()
        .filter(|d| is_featurestore(&d.value) && d.value["apiVersion"] == "feast.dev/v1")
    {
        let label = format!("{}:{}", doc.source, doc.line);
        out.push((label.clone(), doc.value.clone()));
        out.push((
            format!("{label} replicas=3"),
            plan::patched(&doc.value, &plan::scale_patch(3, false)),
        ));
        let hpa = plan::autoscale_patch(
            &AutoscalingRequest {
                min: Some(2),
                max: Some(4),
                ..Default::default()
            },
            &doc.value,
        )
        .expect("an autoscale patch with --max");
        out.push((
            format!("{label} autoscale"),
            plan::patched(&doc.value, &hpa),
        ));
    }
    out
}

fn edge_cases() -> Vec<(String, Value)> {
    let db = json!({"onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
                    "registry": {"remote": {"hostname": "reg:80"}}});
    let with = |services: Value, replicas: i64| {
        let mut spec = json!({"feastProject": "p", "replicas": replicas, "services": db.clone()});
        plan::merge_patch(&mut spec["services"], &services);
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "x"}, "spec": spec})
    };
    let cases = [
        ("pdb-empty", with(json!({"podDisruptionBudgets": {}}), 2)),
        (
            "pdb-both",
            with(
                json!({"podDisruptionBudgets": {"minAvailable": 1, "maxUnavailable": 1}}),
                2,
            ),
        ),
        (
            "pdb-malformed-accepted-by-crd",
            with(
                json!({"podDisruptionBudgets": {"maxUnavailable": "one"}}),
                2,
            ),
        ),
        (
            "min-over-max-accepted-by-crd",
            with(
                json!({"scaling": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}),
                1,
            ),
        ),
        (
            "replicas-and-hpa",
            with(json!({"scaling": {"autoscaling": {"maxReplicas": 4}}}), 3),
        ),
        (
            "hpa-max-one",
            with(json!({"scaling": {"autoscaling": {"maxReplicas": 1}}}), 1),
        ),
        (
            "hpa-no-max",
            with(json!({"scaling": {"autoscaling": {"minReplicas": 2}}}), 1),
        ),
        (
            "hpa-max-zero",
            with(json!({"scaling": {"autoscaling": {"maxReplicas": 0}}}), 1),
        ),
        ("replicas-zero", with(json!({}), 0)),
        (
            "online-disabled-no-store",
            with(
                json!({"onlineStore": {"disabled": true, "persistence": null}, "registry": {"remote": null, "local": {"server": {}, "persistence": {"store": {"type": "sql", "secretRef": {"name": "s"}}}}}}),
                2,
            ),
        ),
        (
            "online-file-scaled",
            with(
                json!({"onlineStore": {"persistence": {"store": null, "file": {"path": "/data/o.db"}}}}),
                2,
            ),
        ),
        (
            "offline-server-only",
            with(json!({"offlineStore": {"server": {}}}), 2),
        ),
        (
            "offline-db",
            with(
                json!({"offlineStore": {"persistence": {"store": {"type": "postgres", "secretRef": {"name": "s"}}}}}),
                2,
            ),
        ),
        ("registry-absent", with(json!({"registry": null}), 2)),
        (
            "registry-upper-s3",
            with(
                json!({"registry": {"remote": null, "local": {"persistence": {"file": {"path": "S3://b/r.db"}}}}}),
                2,
            ),
        ),
        (
            "registry-gs",
            with(
                json!({"registry": {"remote": null, "local": {"persistence": {"file": {"path": "gs://b/r.db"}}}}}),
                2,
            ),
        ),
        (
            "registry-local-and-remote",
            with(
                json!({"registry": {"local": {"persistence": {"store": {"type": "sql", "secretRef": {"name": "s"}}}}}}),
                1,
            ),
        ),
        (
            "registry-remote-both",
            with(
                json!({"registry": {"remote": {"feastRef": {"name": "y"}}}}),
                1,
            ),
        ),
        (
            "registry-relative-path",
            with(
                json!({"registry": {"remote": null, "local": {"persistence": {"file": {"path": "r.db"}}}}}),
                1,
            ),
        ),
        (
            "registry-pvc-s3",
            with(
                json!({"registry": {"remote": null, "local": {"persistence": {"file": {"path": "s3://b/r.db", "pvc": {"ref": {"name": "p"}, "mountPath": "/d"}}}}}}),
                1,
            ),
        ),
        (
            "registry-kwargs-gs",
            with(
                json!({"registry": {"remote": null, "local": {"persistence": {"file": {"path": "gs://b/r.db", "s3_additional_kwargs": {"a": "b"}}}}}}),
                1,
            ),
        ),
        (
            "registry-grpc-off",
            with(
                json!({"registry": {"remote": null, "local": {"server": {"grpc": false}}}}),
                1,
            ),
        ),
        (
            "registry-mcp-no-rest",
            with(
                json!({"registry": {"remote": null, "local": {"server": {"mcp": {"enabled": true}}}}}),
                1,
            ),
        ),
        (
            "online-relative-path",
            with(
                json!({"onlineStore": {"persistence": {"store": null, "file": {"path": "o.db"}}}}),
                1,
            ),
        ),
        (
            "online-pvc-absolute",
            with(
                json!({"onlineStore": {"persistence": {"store": null, "file": {"path": "/o.db", "pvc": {"ref": {"name": "p"}, "mountPath": "/d"}}}}}),
                1,
            ),
        ),
        (
            "online-bucket",
            with(
                json!({"onlineStore": {"persistence": {"store": null, "file": {"path": "s3://b/o.db"}}}}),
                1,
            ),
        ),
        (
            "persistence-both",
            with(json!({"onlineStore": {"persistence": {"file": {}}}}), 1),
        ),
        (
            "pvc-both",
            with(
                json!({"offlineStore": {"persistence": {"file": {"pvc": {"ref": {"name": "a"}, "create": {}, "mountPath": "/d"}}}}}),
                1,
            ),
        ),
        (
            "pvc-colon",
            with(
                json!({"offlineStore": {"persistence": {"file": {"pvc": {"ref": {"name": "a"}, "mountPath": "/d:x"}}}}}),
                1,
            ),
        ),
        (
            "store-type-enum",
            with(
                json!({"onlineStore": {"persistence": {"store": {"type": "sqlite"}}}}),
                1,
            ),
        ),
        (
            "store-no-secret",
            with(
                json!({"onlineStore": {"persistence": {"store": {"secretRef": null}}}}),
                1,
            ),
        ),
        (
            "offline-oracle",
            with(
                json!({"offlineStore": {"persistence": {"store": {"type": "oracle", "secretRef": {"name": "s"}}}}}),
                2,
            ),
        ),
        (
            "cache-mode-enum",
            with(
                json!({"registry": {"remote": null, "local": {"persistence": {"file": {"path": "/r.db", "cache_mode": "always"}}}}}),
                1,
            ),
        ),
        (
            "cache-ttl-negative",
            with(
                json!({"registry": {"remote": null, "local": {"persistence": {"file": {"path": "/r.db", "cache_ttl_seconds": -1}}}}}),
                1,
            ),
        ),
        ("replicas-string", {
            let mut o = with(json!({}), 1);
            o["spec"]["replicas"] = json!("three");
            o
        }),
        // Wrong types deep in the k8s types the CRD embeds, int-or-string, int32 and required
        // fields of list items: the typed model's schema must say what the server says.
        (
            "metric-target-quoted",
            with(
                json!({"scaling": {"autoscaling": {"maxReplicas": 4, "metrics": [{"type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": "60"}}}]}}}),
                1,
            ),
        ),
        (
            "behavior-quoted-and-missing",
            with(
                json!({"scaling": {"autoscaling": {"maxReplicas": 4, "behavior": {"scaleDown": {
                    "stabilizationWindowSeconds": "300",
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": "60"}, {"type": "Percent", "value": 10}]}}}}}),
                1,
            ),
        ),
        (
            "pdb-boolean",
            with(json!({"podDisruptionBudgets": {"maxUnavailable": true}}), 2),
        ),
        (
            "strategy-surge-fraction",
            with(
                json!({"deploymentStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1.5}}}),
                2,
            ),
        ),
        (
            "spread-missing-when",
            with(
                json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone"}]}),
                2,
            ),
        ),
        (
            "affinity-weight-quoted",
            with(
                json!({"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": "100", "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}}),
                2,
            ),
        ),
        (
            "server-request-boolean",
            with(
                json!({"onlineStore": {"server": {"resources": {"requests": {"cpu": true}}}}}),
                1,
            ),
        ),
        ("replicas-beyond-int32", {
            let mut o = with(json!({}), 1);
            o["spec"]["replicas"] = json!(2_147_483_648_i64);
            o
        }),
        ("feast-project-pattern", {
            let mut o = with(json!({}), 1);
            o["spec"]["feastProject"] = json!("-bad");
            o
        }),
    ];
    cases.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

/// Where kube-cel, evaluating the CRD's own rules, knowingly differs from the API server (see
/// docs/rules.md and the pinned unit test in src/rules/crd.rs). Our own mirror must still match
/// the server on these.
const KNOWN_KUBE_CEL_DIFFERENCES: &[(&str, &str)] = &[(
    "registry-kwargs-gs",
    "kube-cel 0.8 escapes every `_` in property names, so `has(self.s3_additional_kwargs)` is false",
)];

/// Our verdict on what the CRD enforces: errors from CEL-mirrored and schema rules.
fn crd_errors(object: &Value) -> Vec<rules::Finding> {
    rules::check(object)
        .into_iter()
        .filter(|f| {
            f.severity == Severity::Error && matches!(f.origin, Origin::Cel | Origin::Schema)
        })
        .collect()
}

#[tokio::test]
async fn validate_agrees_with_the_api_server_on_every_object_of_the_corpus() {
    let cluster = support::cluster();
    let ns = cluster.namespace("parity").await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, &ns, &featurestore_resource());
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let mut corpus = corpus_from_files();
    corpus.extend(edge_cases());
    assert!(corpus.len() > 100, "corpus has {} objects", corpus.len());
    let crd_text = std::fs::read_to_string(
        support::shared_dir().join("feast-operator/feast.dev_featurestores.yaml"),
    )
    .expect("CRD");
    let crd_value: Value = serde_saphyr::from_str(&crd_text).expect("CRD parses");
    let crd = CrdRules::from_crd(&crd_value, "the real CRD").expect("CRD compiles");
    let mut disagreements = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for (i, (label, mut object)) in corpus.into_iter().enumerate() {
        object["metadata"] = json!({"name": format!("parity-{i}"), "namespace": ns});
        let ours = crd_errors(&object);
        let typed: DynamicObject = match serde_json::from_value(object.clone()) {
            Ok(t) => t,
            Err(e) => panic!("{label}: not an object: {e}"),
        };
        let server = api.create(&dry_run, &typed).await;
        // kube-cel on the CRD's own rules must agree with the server's CEL verdict too: every
        // rule it fails must be in the server's answer, and it must fail one whenever we
        // report a CEL-mirrored error (schema errors are outside CEL).
        let cel = crd.evaluate(&kubectl_feast::featurestore::without_nulls(&object));
        let ours_cel = ours.iter().any(|f| f.origin == Origin::Cel);
        let known = KNOWN_KUBE_CEL_DIFFERENCES.iter().find(|(l, _)| *l == label);
        if let Some((_, why)) = known {
            if ours_cel != cel.is_empty() {
                disagreements.push(format!(
                    "{label}: the known kube-cel difference ({why}) is gone: update the notes"
                ));
            }
        } else if ours_cel == cel.is_empty() {
            disagreements.push(format!(
                "{label}: kube-cel fails {:?}, our CEL mirror fails {:?}",
                cel.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
                ours.iter()
                    .filter(|f| f.origin == Origin::Cel)
                    .map(|f| f.rule)
                    .collect::<Vec<_>>()
            ));
        }
        if let Err(kube::Error::Api(status)) = &server {
            for e in &cel {
                // kube-cel words an evaluation failure "rule evaluation error: No such key: x",
                // the server "no such key: x evaluating rule: ..."; both reject.
                let said = e
                    .message
                    .trim_start_matches("rule evaluation error: ")
                    .to_lowercase();
                if !status.message.to_lowercase().contains(&said) {
                    disagreements.push(format!(
                        "{label}: kube-cel's {:?} is not in the server's answer: {}",
                        e.message, status.message
                    ));
                }
            }
        }
        match (server, ours.is_empty()) {
            (Ok(_), true) => accepted += 1,
            (Err(kube::Error::Api(status)), false) if status.code == 422 => {
                rejected += 1;
                for f in &ours {
                    // The server's own line for the field, to the letter: `path: message`.
                    let line = format!("{}: {}", f.path, f.message);
                    if !status.message.contains(&line) {
                        disagreements.push(format!(
                            "{label}: our {} line {line:?} not in the server's: {}",
                            f.rule, status.message
                        ));
                    }
                }
            }
            (Ok(_), false) => disagreements.push(format!(
                "{label}: the server accepted it, we report {:?}",
                ours.iter().map(|f| f.rule).collect::<Vec<_>>()
            )),
            (Err(e), _) => disagreements.push(format!(
                "{label}: the server rejected it and we did not: {e}"
            )),
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // The corpus must exercise both verdicts, or agreement would prove little.
    assert!(
        accepted >= 30 && rejected >= 40,
        "accepted {accepted}, rejected {rejected}"
    );
}

/// `metadata` as every object's is checked: our `path: message` lines are the API server's, to
/// the letter, for a name a shell would run, and bad label and annotation keys and values.
#[tokio::test]
async fn validate_agrees_with_the_api_server_on_metadata() {
    let cluster = support::cluster();
    let ns = cluster.namespace("parity-meta").await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, &ns, &featurestore_resource());
    let cases = [
        json!({"name": "x; curl | sh; #"}),
        json!({"name": "Upper"}),
        json!({"name": "a", "labels": {"bad key": "v"}}),
        json!({"name": "a", "labels": {"ok": "bad value!"}}),
        json!({"name": "a", "labels": {"k": "a".repeat(64)}}),
        json!({"name": "a", "labels": {"-x/y": "v"}}),
        json!({"name": "a", "annotations": {"-bad": "v"}}),
    ];
    for mut metadata in cases {
        metadata["namespace"] = json!(ns);
        let object = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": metadata, "spec": {"feastProject": "p"}});
        let ours: Vec<rules::Finding> = rules::check(&object)
            .into_iter()
            .filter(|f| f.path.starts_with("metadata"))
            .collect();
        assert!(!ours.is_empty(), "we find nothing in {metadata}");
        let typed: DynamicObject = serde_json::from_value(object.clone()).expect("object");
        let dry = PostParams {
            dry_run: true,
            ..Default::default()
        };
        let err = api
            .create(&dry, &typed)
            .await
            .expect_err("the API server refuses it too");
        let kube::Error::Api(status) = err else {
            panic!("{metadata}: not an API answer: {err}")
        };
        for f in ours {
            let line = format!("{}: {}", f.path, f.message);
            assert!(
                status.message.contains(&line),
                "{metadata}: {} says\n  {line}\nthe server says\n  {}",
                f.rule,
                status.message
            );
        }
    }
}
