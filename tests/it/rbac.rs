//! docs/rbac.yaml is what each command needs, no more: every command runs as a user bound to
//! exactly its role (no request is refused, none touches a Secret), every rule of a role is
//! needed (without it some request of the command gets 403), and a user bound to nothing gets
//! a clear "forbidden" with what to ask for.

use crate::support;

use std::collections::BTreeMap;

use serde_json::{Value, json};

fn roles() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(support::repo_root().join("docs/rbac.yaml"))
        .expect("docs/rbac.yaml");
    text.split("\n---\n")
        .filter(|doc| doc.contains("kind: ClusterRole"))
        .map(|doc| {
            let v: Value = serde_saphyr::from_str(doc).expect("a role parses");
            (v["metadata"]["name"].as_str().expect("name").to_string(), v)
        })
        .collect()
}

fn apply(objects: &[Value]) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    let out = support::with_stdin(
        support::cluster().kubectl().args(["apply", "-f", "-"]),
        &list.to_string(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until RBAC's cache grants `user` every rule of `role` in `ns` (a role just created or
/// updated takes a moment to reach the authorizer).
fn wait_granted(role: &Value, user: &str, ns: &str) {
    let started = std::time::Instant::now();
    for rule in role["rules"].as_array().into_iter().flatten() {
        let group = rule["apiGroups"][0].as_str().unwrap_or("");
        for resource in rule["resources"].as_array().into_iter().flatten() {
            let resource = resource.as_str().unwrap_or("");
            let what = if group.is_empty() {
                resource.to_string()
            } else {
                format!("{resource}.{group}")
            };
            for verb in rule["verbs"].as_array().into_iter().flatten() {
                let verb = verb.as_str().unwrap_or("");
                loop {
                    let out = support::cluster()
                        .kubectl()
                        .args(["auth", "can-i", verb, &what, "-n", ns, "--as", user])
                        .output()
                        .expect("kubectl auth can-i");
                    if String::from_utf8_lossy(&out.stdout).trim() == "yes" {
                        break;
                    }
                    assert!(
                        started.elapsed() < std::time::Duration::from_secs(30),
                        "{user} is still not allowed to {verb} {what} in {ns}"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            }
        }
    }
}

fn binding(kind: &str, ns: Option<&str>, name: &str, role: &str, user: &str) -> Value {
    let mut b = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    });
    if let Some(ns) = ns {
        b["metadata"]["namespace"] = json!(ns);
    }
    b
}

/// Each command with the arguments it is tried with, its role, and its optional cluster role.
fn commands(
    ns: &str,
) -> Vec<(
    &'static str,
    Vec<String>,
    &'static str,
    Option<&'static str>,
)> {
    let args = |a: &[&str]| {
        a.iter()
            .map(|s| s.to_string())
            .chain(["-n".into(), ns.into()])
            .collect::<Vec<_>>()
    };
    vec![
        (
            "validate NAME",
            args(&["validate", "static"]),
            "kubectl-feast-validate",
            Some("kubectl-feast-validate-cluster"),
        ),
        (
            "validate (namespace)",
            args(&["validate"]),
            "kubectl-feast-validate",
            Some("kubectl-feast-validate-cluster"),
        ),
        (
            "status",
            args(&["status"]),
            "kubectl-feast-status",
            Some("kubectl-feast-status-cluster"),
        ),
        (
            "status NAME",
            args(&["status", "static"]),
            "kubectl-feast-status",
            Some("kubectl-feast-status-cluster"),
        ),
        (
            "status --watch",
            args(&["status", "--watch", "--timeout", "3s"]),
            "kubectl-feast-status",
            Some("kubectl-feast-status-cluster"),
        ),
        (
            "scale",
            args(&["scale", "static", "--replicas", "4", "--yes"]),
            "kubectl-feast-scale",
            Some("kubectl-feast-operator"),
        ),
        (
            "scale --all",
            args(&[
                "scale",
                "--all",
                "--replicas",
                "4",
                "--yes",
                "--replace-autoscaling",
            ]),
            "kubectl-feast-scale",
            Some("kubectl-feast-operator"),
        ),
        (
            "scale --wait",
            args(&[
                "scale",
                "static",
                "--replicas",
                "4",
                "--yes",
                "--wait",
                "--timeout",
                "2s",
            ]),
            "kubectl-feast-scale",
            Some("kubectl-feast-operator"),
        ),
        (
            "autoscale",
            args(&["autoscale", "hpa", "--max", "6", "--yes"]),
            "kubectl-feast-autoscale",
            Some("kubectl-feast-operator"),
        ),
        // --off keeps the count the Deployment runs: it reads the Deployment.
        (
            "autoscale --off",
            args(&["autoscale", "hpa", "--off", "--yes"]),
            "kubectl-feast-autoscale",
            Some("kubectl-feast-operator"),
        ),
        (
            "pdb",
            args(&["pdb", "static", "--min-available", "1", "--yes"]),
            "kubectl-feast-pdb",
            Some("kubectl-feast-operator"),
        ),
        // The plain cluster runs no operator: doctor says so (exit 1), for any user.
        (
            "doctor",
            args(&["doctor"]),
            "kubectl-feast-doctor",
            Some("kubectl-feast-doctor-cluster"),
        ),
        (
            "doctor NAME",
            args(&["doctor", "static"]),
            "kubectl-feast-doctor",
            Some("kubectl-feast-doctor-cluster"),
        ),
        (
            "autoscale --keda --apply",
            args(&[
                "autoscale",
                "static",
                "--keda",
                "--max",
                "4",
                "--trigger",
                "cpu=70%",
                "--apply",
            ]),
            "kubectl-feast-autoscale-keda",
            Some("kubectl-feast-operator"),
        ),
    ]
}

struct Run {
    code: Option<i32>,
    stderr: String,
    refused: Vec<String>,
}

fn run_as(user: &str, args: &[String]) -> Run {
    let out = support::cluster()
        .plugin()
        .args(["--as", user, "-v"])
        .args(args)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("/secrets"),
        "{user} {args:?} touched a Secret:\n{stderr}"
    );
    let refused = stderr
        .lines()
        .filter(|l| l.contains(" 403 "))
        .map(String::from)
        .collect();
    Run {
        code: out.status.code(),
        stderr,
        refused,
    }
}

#[tokio::test]
async fn every_command_works_with_exactly_its_role_and_every_rule_is_needed() {
    let cluster = support::cluster();
    let ns = cluster.namespace("rbac").await;
    cluster.seed(&ns, &["static", "hpa"]);
    let roles = roles();
    apply(&roles.values().cloned().collect::<Vec<_>>());
    let pid = std::process::id();
    let mut report = Vec::new();
    // For each role, the rules some variant of its command was refused without.
    let mut needed: BTreeMap<&str, std::collections::BTreeSet<usize>> = BTreeMap::new();
    for (i, (what, args, role, cluster_role)) in commands(&ns).into_iter().enumerate() {
        // Exactly the role: nothing refused, and the command does its job (a --wait with
        // nothing to wait for ends at its timeout, exit 1, as for any user).
        let user = format!("rbac-{i}-{pid}");
        let mut bindings = vec![binding(
            "RoleBinding",
            Some(&ns),
            &format!("{user}-ns"),
            role,
            &user,
        )];
        if let Some(cr) = cluster_role {
            bindings.push(binding(
                "ClusterRoleBinding",
                None,
                &format!("{user}-cluster"),
                cr,
                &user,
            ));
        }
        apply(&bindings);
        wait_granted(&roles[role], &user, &ns);
        let run = run_as(&user, &args);
        let expected = if what == "scale --wait" || what.starts_with("doctor") {
            Some(1)
        } else {
            Some(0)
        };
        assert_eq!(run.code, expected, "{what} as {role}:\n{}", run.stderr);
        assert!(
            run.refused.is_empty(),
            "{what} as {role} was refused:\n{}",
            run.refused.join("\n")
        );
        report.push(format!(
            "{what}: works with {role}{}",
            cluster_role.map(|c| format!(" + {c}")).unwrap_or_default()
        ));

        // Every rule is needed: without it, some request of the command is refused.
        let rules = roles[role]["rules"].as_array().expect("rules").clone();
        for (j, _) in rules.iter().enumerate() {
            let fewer: Vec<Value> = rules
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != j)
                .map(|(_, r)| r.clone())
                .collect();
            let name = format!("rbac-minus-{i}-{j}-{pid}");
            let user = format!("{name}-user");
            let mut objects = vec![
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": name}, "rules": fewer}),
                binding("RoleBinding", Some(&ns), &name, &name, &user),
            ];
            if let Some(cr) = cluster_role {
                objects.push(binding(
                    "ClusterRoleBinding",
                    None,
                    &format!("{name}-cluster"),
                    cr,
                    &user,
                ));
            }
            apply(&objects);
            // Granted what is left first, so a 403 below is the missing rule, not a cache lag.
            wait_granted(&objects[0], &user, &ns);
            let run = run_as(&user, &args);
            let set = needed.entry(role).or_default();
            if !run.refused.is_empty() {
                set.insert(j);
            }
        }
    }

    // Bound to nothing: a clear refusal naming what was refused and what to ask for.
    let nobody = format!("rbac-nobody-{pid}");
    for (what, args, _, _) in commands(&ns) {
        if what == "status --watch" {
            continue;
        }
        let run = run_as(&nobody, &args);
        if what.starts_with("doctor") {
            // doctor's job is to say what this user may not do: a checklist (exit 1 for what
            // blocks), each look-up it was refused marked unknown, never a failed command.
            assert_eq!(run.code, Some(1), "{what} as nobody:\n{}", run.stderr);
            assert!(!run.refused.is_empty(), "{what} as nobody:\n{}", run.stderr);
            report.push(format!(
                "{what} without a role: exit 1, {} look-ups refused and reported",
                run.refused.len()
            ));
            continue;
        }
        assert_eq!(run.code, Some(3), "{what} as nobody:\n{}", run.stderr);
        assert!(
            run.stderr.contains("forbidden"),
            "{what} as nobody:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: ask a cluster admin"),
            "{what} as nobody:\n{}",
            run.stderr
        );
        let said = run
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("")
            .to_string();
        report.push(format!("{what} without a role: {said}"));
    }
    println!("{}", report.join("\n"));
    for (role, set) in &needed {
        let rules = roles[*role]["rules"].as_array().expect("rules");
        let unused: Vec<String> = (0..rules.len())
            .filter(|j| !set.contains(j))
            .map(|j| rules[j].to_string())
            .collect();
        assert!(
            unused.is_empty(),
            "{role}: no command needs {}",
            unused.join(", ")
        );
    }
}

#[tokio::test]
async fn no_command_reads_secrets_even_for_stores_that_name_one() {
    // The stores of "static" name a Secret (secretRef) for their online store and registry;
    // the user may read everything the plugin needs but no Secret.
    let cluster = support::cluster();
    let ns = cluster.namespace("rbac-secrets").await;
    cluster.seed(&ns, &["static", "hpa", "keda"]);
    apply(&roles().values().cloned().collect::<Vec<_>>());
    let user = format!("rbac-no-secrets-{}", std::process::id());
    let mut bindings = Vec::new();
    for role in [
        "kubectl-feast-status",
        "kubectl-feast-scale",
        "kubectl-feast-autoscale",
        "kubectl-feast-pdb",
        "kubectl-feast-validate",
    ] {
        bindings.push(binding(
            "RoleBinding",
            Some(&ns),
            &format!("{user}-{role}"),
            role,
            &user,
        ));
    }
    for role in [
        "kubectl-feast-status-cluster",
        "kubectl-feast-validate-cluster",
        "kubectl-feast-operator",
    ] {
        bindings.push(binding(
            "ClusterRoleBinding",
            None,
            &format!("{user}-{role}"),
            role,
            &user,
        ));
    }
    apply(&bindings);
    let can = cluster
        .kubectl()
        .args(["auth", "can-i", "get", "secrets", "-n", &ns, "--as", &user])
        .output()
        .expect("kubectl auth can-i");
    assert_eq!(String::from_utf8_lossy(&can.stdout).trim(), "no");
    for args in [
        vec!["status", "static"],
        vec!["status", "-o", "json"],
        vec!["validate", "static"],
        vec!["scale", "static", "--replicas", "5", "--yes"],
        vec![
            "scale",
            "keda",
            "--replicas",
            "2",
            "--yes",
            "--dry-run=server",
        ],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|s| s.to_string())
            .chain(["-n".into(), ns.clone()])
            .collect();
        let run = run_as(&user, &args);
        assert!(run.refused.is_empty(), "{args:?}:\n{}", run.stderr);
        assert!(
            matches!(run.code, Some(0) | Some(1)),
            "{args:?}:\n{}",
            run.stderr
        );
    }
}
