//! Races: many `scale`, `autoscale` and `pdb` runs at once on one store. Whatever order the
//! API server takes them in, the stored object must be exactly one requested state (never a
//! mix of two requests, never a lost update that leaves both `replicas` and an HPA block), it
//! must pass the rules, and it must be the state of a run that said it succeeded. Run on the
//! plain cluster and on the living one, where the real operator writes the store's status
//! meanwhile. The number of runs is printed (docs/reliability.md has the figures).

use crate::support;

use std::process::{Child, Command, Stdio};

use kube::api::{Api, DynamicObject, PostParams};
use kubectl_feast::cluster::featurestore_resource;
use kubectl_feast::rules;
use serde_json::{Value, json};

/// Rounds in the normal run; `RACE_ROUNDS` raises it for the long run in docs/reliability.md.
fn rounds() -> usize {
    std::env::var("RACE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(4)
}
const PER_ROUND: usize = 15;

#[derive(Debug, Clone, PartialEq)]
enum Want {
    Replicas(i64),
    Autoscaling(i64, i64),
    Pdb(Value),
}

fn request(i: usize) -> (Vec<String>, Want) {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    match i % 5 {
        0 | 1 => {
            let n = 2 + (i % 4) as i64;
            (
                s(&[
                    "scale",
                    "r",
                    "--replicas",
                    &n.to_string(),
                    "--replace-autoscaling",
                    "--yes",
                ]),
                Want::Replicas(n),
            )
        }
        2 => {
            let (min, max) = (2 + (i % 3) as i64, 6 + (i % 4) as i64);
            (
                s(&[
                    "autoscale",
                    "r",
                    "--min",
                    &min.to_string(),
                    "--max",
                    &max.to_string(),
                    "--replace",
                    "--yes",
                ]),
                Want::Autoscaling(min, max),
            )
        }
        3 => (
            s(&["pdb", "r", "--max-unavailable", "1", "--yes"]),
            Want::Pdb(json!({"maxUnavailable": 1})),
        ),
        _ => {
            let pct = format!("{}%", 25 + (i % 3) * 25);
            (
                s(&["pdb", "r", "--min-available", &pct, "--yes"]),
                Want::Pdb(json!({"minAvailable": pct})),
            )
        }
    }
}

fn scaling_state(spec: &Value) -> Option<Want> {
    let auto = &spec["services"]["scaling"]["autoscaling"];
    if auto.is_object() {
        return Some(Want::Autoscaling(
            auto["minReplicas"].as_i64()?,
            auto["maxReplicas"].as_i64()?,
        ));
    }
    spec["replicas"].as_i64().map(Want::Replicas)
}

async fn race(cluster: &support::TestCluster, prefix: &str) {
    let ns = cluster.namespace(prefix).await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, &ns, &featurestore_resource());
    let store: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": "r", "namespace": ns},
        "spec": {"feastProject": "r", "replicas": 3, "services": {
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
            "registry": {"local": {"persistence": {"store": {"type": "sql", "secretRef": {"name": "s"}}}}}
        }}
    }))
    .expect("object");
    api.create(&PostParams::default(), &store)
        .await
        .expect("created");

    let (mut runs, mut succeeded, mut refused) = (0, 0, 0);
    let rounds = rounds();
    for round in 0..rounds {
        let children: Vec<(Want, Child)> = (0..PER_ROUND)
            .map(|k| {
                let (args, want) = request(round * PER_ROUND + k);
                let child = Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
                    .env("KUBECONFIG", cluster.kubeconfig())
                    .args(["-n", &ns, "-o", "json"])
                    .args(&args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("runs");
                (want, child)
            })
            .collect();
        let mut ok_scaling = Vec::new();
        let mut last_write: Option<(u64, Value)> = None;
        let mut ok_pdb = Vec::new();
        for (want, child) in children {
            let out = child.wait_with_output().expect("ends");
            runs += 1;
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{stderr}");
            match out.status.code() {
                Some(0) => {
                    succeeded += 1;
                    // What the API server answered this run: its own request must hold in it.
                    let answer: Value = serde_json::from_slice(&out.stdout).expect("-o json");
                    let answer = if answer["kind"] == "List" {
                        answer["items"][0].clone()
                    } else {
                        answer
                    };
                    let held = match &want {
                        Want::Pdb(p) => &answer["spec"]["services"]["podDisruptionBudgets"] == p,
                        _ => scaling_state(&answer["spec"]).as_ref() == Some(&want),
                    };
                    assert!(
                        held,
                        "{want:?} succeeded but its answer says {}",
                        answer["spec"]
                    );
                    let rv: u64 = answer["metadata"]["resourceVersion"]
                        .as_str()
                        .and_then(|r| r.parse().ok())
                        .expect("resourceVersion");
                    if last_write.as_ref().is_none_or(|(have, _)| rv > *have) {
                        last_write = Some((rv, answer["spec"].clone()));
                    }
                    match &want {
                        Want::Pdb(_) => ok_pdb.push(want.clone()),
                        _ => ok_scaling.push(want.clone()),
                    }
                }
                // Refused after too many conflicting writes: said so, nothing changed by it.
                Some(1) if stderr.contains("kept changing") => refused += 1,
                other => panic!("{want:?} ended with {other:?}:\n{stderr}"),
            }
        }
        let stored_object = api.get("r").await.expect("read back");
        let stored_rv: Option<u64> = stored_object
            .metadata
            .resource_version
            .as_deref()
            .and_then(|r| r.parse().ok());
        let stored = serde_json::to_value(&stored_object).expect("json");
        // No lost update: nothing was written after the last successful run's write, and the
        // stored spec is exactly what that write left (the operator writes status only).
        if let Some((rv, spec)) = &last_write {
            assert_eq!(
                &stored["spec"], spec,
                "round {round}: the last write (rv {rv}) is not what is stored"
            );
            if stored_rv != Some(*rv) {
                // Only status may have moved on (the living cluster's operator).
                assert!(
                    stored_rv > Some(*rv),
                    "round {round}: stored rv {stored_rv:?} < last write {rv}"
                );
            }
        }
        let spec = &stored["spec"];
        let findings = rules::check(&stored);
        assert!(
            rules::is_valid(&findings),
            "round {round}: invalid: {findings:?}\n{spec}"
        );
        let auto_and_replicas = spec["services"]["scaling"]["autoscaling"].is_object()
            && spec.get("replicas").is_some_and(|r| r != &json!(1));
        assert!(
            !auto_and_replicas,
            "round {round}: both replicas and autoscaling: {spec}"
        );
        let scaling = scaling_state(spec);
        assert!(
            ok_scaling.is_empty() || scaling.as_ref().is_some_and(|s| ok_scaling.contains(s)),
            "round {round}: stored {scaling:?} is no successful request of {ok_scaling:?}"
        );
        let pdb = Want::Pdb(spec["services"]["podDisruptionBudgets"].clone());
        assert!(
            ok_pdb.is_empty() || ok_pdb.contains(&pdb),
            "round {round}: stored {pdb:?} is no successful request of {ok_pdb:?}"
        );
    }
    println!(
        "{prefix}: {runs} concurrent runs in {rounds} rounds of {PER_ROUND}: {succeeded} succeeded, {refused} refused after conflicts; every answer held its own request, the stored spec was always the last successful write's, one requested state, and valid"
    );
}

#[tokio::test]
async fn concurrent_changes_leave_exactly_one_requested_state() {
    race(support::cluster(), "races").await;
}

#[tokio::test]
async fn concurrent_changes_while_the_operator_writes_status() {
    race(support::living(), "races-living").await;
}
