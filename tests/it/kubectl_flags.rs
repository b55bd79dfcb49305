//! kubectl's conventions on a cluster command, through the real binary against the real API
//! server: namespace from the context, `--kubeconfig`, a colon-separated `KUBECONFIG`,
//! `--context`, `--user`, `--cluster`, `--as`/`--as-group`, `-v` request logging, the exec
//! credential plugin, and the messages for an unreachable server. `validate NAME` is the vehicle:
//! it only reads.

use crate::support;

use std::path::{Path, PathBuf};

use kube::api::{Api, DynamicObject, PostParams};
use kubectl_feast::cluster::featurestore_resource;
use predicates::prelude::*;
use serde_json::{Value, json};

async fn store_in(ns: &str, name: &str) {
    let api: Api<DynamicObject> = Api::namespaced_with(
        support::cluster().client("admin").await,
        ns,
        &featurestore_resource(),
    );
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": ns}, "spec": {"feastProject": "p"}
    }))
    .expect("object");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("created");
}

fn kubeconfig() -> Value {
    let text = std::fs::read_to_string(support::cluster().kubeconfig()).expect("kubeconfig");
    serde_saphyr::from_str(&text).expect("kubeconfig parses")
}

/// Writes a kubeconfig (JSON is YAML) into a temp dir and returns its path.
fn write(dir: &Path, name: &str, config: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(config).expect("json")).expect("write");
    path
}

fn with_context_namespace(mut config: Value, context: &str, ns: &str) -> Value {
    for c in config["contexts"].as_array_mut().expect("contexts") {
        if c["name"] == context {
            c["context"]["namespace"] = json!(ns);
        }
    }
    config
}

#[tokio::test]
async fn namespace_comes_from_the_context_unless_n_is_given() {
    let ns = support::cluster().namespace("flags-ns").await;
    store_in(&ns, "from-context").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = write(
        dir.path(),
        "kc.json",
        &with_context_namespace(kubeconfig(), "admin", &ns),
    );
    support::cluster()
        .plugin()
        .env_remove("KUBECONFIG")
        .args(["validate", "from-context", "--kubeconfig"])
        .arg(&kc)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "FeatureStore {ns}/from-context  VALID"
        )));
    support::cluster()
        .plugin()
        .args(["validate", "from-context", "-n", "default"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not found"));
}

#[tokio::test]
async fn kubeconfig_env_is_a_merged_list_that_skips_missing_files() {
    let ns = support::cluster().namespace("flags-env").await;
    store_in(&ns, "merged").await;
    let full = with_context_namespace(kubeconfig(), "viewer", &ns);
    let dir = tempfile::tempdir().expect("tempdir");
    let contexts = write(
        dir.path(),
        "contexts.json",
        &json!({
            "apiVersion": "v1", "kind": "Config", "current-context": "viewer", "contexts": full["contexts"]
        }),
    );
    let creds = write(
        dir.path(),
        "creds.json",
        &json!({
            "apiVersion": "v1", "kind": "Config", "clusters": full["clusters"], "users": full["users"]
        }),
    );
    let list =
        std::env::join_paths([dir.path().join("missing.yaml"), contexts, creds]).expect("paths");
    support::cluster()
        .plugin()
        .env("KUBECONFIG", list)
        .args(["validate", "merged"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{ns}/merged")));
}

#[tokio::test]
async fn context_user_and_impersonation_decide_who_asks() {
    let ns = support::cluster().namespace("flags-who").await;
    store_in(&ns, "who").await;
    for context in ["viewer", "editor", "exec"] {
        support::cluster()
            .plugin()
            .args(["--context", context, "validate", "who", "-n", &ns])
            .assert()
            .success();
    }
    support::cluster()
        .plugin()
        .args(["validate", "who", "-n", &ns, "--as", "nobody"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("forbidden"))
        .stderr(predicate::str::contains("\"nobody\""))
        .stderr(predicate::str::contains("hint:"));
    support::cluster()
        .plugin()
        .args([
            "validate",
            "who",
            "-n",
            &ns,
            "--as",
            "somebody",
            "--as-group",
            "system:masters",
        ])
        .assert()
        .success();
    support::cluster()
        .plugin()
        .args([
            "validate",
            "who",
            "-n",
            &ns,
            "--context",
            "admin",
            "--user",
            "viewer",
        ])
        .assert()
        .success();
    support::cluster()
        .plugin()
        .args(["validate", "who", "-n", &ns, "--cluster", "no-such-cluster"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no-such-cluster"));
}

#[tokio::test]
async fn v_logs_every_request_to_stderr() {
    let ns = support::cluster().namespace("flags-v").await;
    store_in(&ns, "logged").await;
    support::cluster()
        .plugin()
        .args(["validate", "logged", "-n", &ns, "-v"])
        .assert()
        .success()
        // One line per request: method, URL, status and time together.
        .stderr(predicate::str::is_match(format!(
            "(?m)^GET https://127\\.0\\.0\\.1:[0-9]+/apis/feast\\.dev/v1/namespaces/{ns}/featurestores/logged 200 OK in [0-9]+ ms$"
        )).expect("regex"));
    // A refused request is told apart from its neighbours on its own line.
    support::cluster()
        .plugin()
        .args([
            "validate",
            "logged",
            "-n",
            &ns,
            "-v",
            "--context",
            "viewer",
            "--as",
            "admin",
        ])
        .assert()
        .code(3)
        .stderr(
            predicate::str::is_match(
                "(?m)^GET https://.*/featurestores/logged 403 Forbidden in [0-9]+ ms$",
            )
            .expect("regex"),
        )
        // The viewer lacks the impersonate permission: that is the cause, not the editor role.
        .stderr(predicate::str::contains("cannot impersonate"))
        .stderr(predicate::str::contains("impersonate` verb"))
        .stderr(predicate::str::contains("featurestore-editor-role").not());
}

#[test]
fn a_missing_credential_plugin_is_named() {
    let mut config = kubeconfig();
    for u in config["users"].as_array_mut().expect("users") {
        if u["name"] == "exec" {
            u["user"]["exec"]["command"] = json!("kubectl-feast-no-such-credential-helper");
            u["user"]["exec"]["installHint"] = json!("install it from the internal wiki");
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = write(dir.path(), "exec.json", &config);
    support::cluster()
        .plugin()
        .env("KUBECONFIG", &kc)
        .args(["validate", "-A", "--context", "exec"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "executable \"kubectl-feast-no-such-credential-helper\" not found on PATH",
        ))
        .stderr(predicate::str::contains(
            "install it from the internal wiki",
        ));
}

#[test]
fn an_unreachable_server_names_the_context_and_the_server() {
    let mut config = kubeconfig();
    for c in config["clusters"].as_array_mut().expect("clusters") {
        c["cluster"]["server"] = json!("https://127.0.0.1:1");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = write(dir.path(), "down.json", &config);
    support::cluster()
        .plugin()
        .env("KUBECONFIG", &kc)
        .args(["validate", "-A", "--request-timeout", "5s"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("https://127.0.0.1:1"))
        .stderr(predicate::str::contains("context \"admin\""))
        .stderr(predicate::str::contains("refused the connection"));
    support::cluster()
        .plugin()
        .args(["validate", "-A", "--request-timeout", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid duration"));
}

#[test]
fn a_broken_kubeconfig_is_reported_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad-kubeconfig");
    std::fs::write(&bad, "clusters: [\n").expect("write");
    support::cluster()
        .plugin()
        .args(["validate", "-A", "--kubeconfig"])
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("bad-kubeconfig"));
}

#[test]
fn a_certificate_authority_that_is_not_the_servers_is_named_as_tls() {
    // A CA of its own: valid, but not the one that signed the API server's certificate.
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, cert) = (dir.path().join("other.key"), dir.path().join("other.crt"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other-ca",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (scripts/dev-cluster installs it) runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut config = kubeconfig();
    for c in config["clusters"].as_array_mut().expect("clusters") {
        c["cluster"]
            .as_object_mut()
            .expect("cluster")
            .remove("certificate-authority-data");
        c["cluster"]["certificate-authority"] = json!(cert.display().to_string());
    }
    let kc = write(dir.path(), "wrong-ca.json", &config);
    support::cluster()
        .plugin()
        .env("KUBECONFIG", &kc)
        .args(["validate", "-A", "--request-timeout", "10s"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("TLS with the API server"))
        .stderr(predicate::str::contains(
            "not trusted by the certificate-authority",
        ))
        .stderr(predicate::str::contains("unreachable").not());
}

#[tokio::test]
async fn request_logs_never_show_credentials() {
    let ns = support::cluster().namespace("flags-secrets").await;
    store_in(&ns, "quiet").await;
    let config = kubeconfig();
    // What must never be printed: the client keys and certificates, and the exec user's token.
    let mut secrets: Vec<String> = Vec::new();
    for u in config["users"].as_array().expect("users") {
        for field in ["client-key-data", "client-certificate-data", "token"] {
            if let Some(v) = u["user"][field].as_str() {
                secrets.push(v.to_string());
            }
        }
        if let Some(cmd) = u["user"]["exec"]["command"].as_str() {
            let out = std::process::Command::new(cmd)
                .output()
                .expect("the exec plugin runs");
            let cred: Value = serde_json::from_slice(&out.stdout).expect("an ExecCredential");
            secrets.push(
                cred["status"]["token"]
                    .as_str()
                    .expect("a token")
                    .to_string(),
            );
        }
    }
    assert!(secrets.len() >= 4, "{secrets:?}");
    for context in ["admin", "exec", "viewer"] {
        for v in ["-v", "-v=6", "-v=9"] {
            let out = support::cluster()
                .plugin()
                .args([
                    "validate",
                    "quiet",
                    "-n",
                    &ns,
                    "--context",
                    context,
                    v,
                    "--as",
                    "someone",
                ])
                .output()
                .expect("runs");
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                all.contains("GET https://"),
                "{context} {v}: no request log in {all}"
            );
            for s in &secrets {
                // Base64 data is long; any 24-character piece of it would be a leak.
                let piece = &s[..s.len().min(24)];
                assert!(!all.contains(piece), "{context} {v} printed a credential");
            }
            assert!(
                !all.to_lowercase().contains("authorization"),
                "{context} {v}: {all}"
            );
            assert!(!all.contains("Impersonate-"), "{context} {v}: {all}");
        }
    }
}
