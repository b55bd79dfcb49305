//! Every way kubectl 1.35 reads credentials and connections, tried on the real API server by
//! the real kubectl and by the plugin with the same kubeconfig, environment and flags: both
//! must connect, or both must fail, and the plugin's message must name the cause. The proxies
//! are real ones on loopback (tests/support/tunnel.rs). docs/reliability.md has the table.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use kube::api::{Api, DynamicObject, PostParams};
use kubectl_feast::cluster::featurestore_resource;
use serde_json::{Value, json};
use support::tunnel::{Protocol, Tunnel};

/// What the cluster's kubeconfig and pki directory give to build kubeconfigs from.
struct Parts {
    port: u16,
    ca_data: String,
    pki: PathBuf,
    admin_cert_data: String,
    admin_key_data: String,
    token: String,
    exec_plugin: String,
}

fn parts() -> Parts {
    let cluster = support::cluster();
    let text = std::fs::read_to_string(cluster.kubeconfig()).expect("kubeconfig");
    let kc: Value = serde_saphyr::from_str(&text).expect("kubeconfig parses");
    let server = kc["clusters"][0]["cluster"]["server"]
        .as_str()
        .expect("server")
        .to_string();
    let port = server
        .rsplit_once(':')
        .and_then(|(_, p)| p.trim_end_matches('/').parse().ok())
        .expect("server port");
    let user = |name: &str| {
        kc["users"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["name"] == name)
            .map(|u| u["user"].clone())
            .expect("user")
    };
    let admin = user("admin");
    let pki = cluster.pki();
    let tokens = std::fs::read_to_string(pki.join("tokens.csv")).expect("tokens.csv");
    Parts {
        port,
        ca_data: kc["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .expect("ca data")
            .to_string(),
        admin_cert_data: admin["client-certificate-data"]
            .as_str()
            .expect("cert")
            .into(),
        admin_key_data: admin["client-key-data"].as_str().expect("key").into(),
        token: tokens.split(',').next().expect("token").trim().to_string(),
        exec_plugin: user("exec")["exec"]["command"]
            .as_str()
            .expect("exec command")
            .into(),
        pki,
    }
}

/// One kubeconfig, one environment, one set of flags, and what must come of it.
struct Case {
    name: &'static str,
    /// The kubeconfig's cluster and user (`None`: no kubeconfig at all).
    kubeconfig: Option<(Value, Value)>,
    env: Vec<(&'static str, String)>,
    args: Vec<String>,
    /// Whether both connect.
    works: bool,
    /// What the plugin's stderr must say (a part of it), when set.
    says: Option<&'static str>,
    /// The proxy that must have carried the requests, and the target it must have seen.
    through: Option<(usize, String)>,
}

fn case(name: &'static str, cluster: Value, user: Value, works: bool) -> Case {
    Case {
        name,
        kubeconfig: Some((cluster, user)),
        env: Vec::new(),
        args: Vec::new(),
        works,
        says: None,
        through: None,
    }
}

impl Case {
    fn says(mut self, text: &'static str) -> Case {
        self.says = Some(text);
        self
    }
    fn env(mut self, name: &'static str, value: impl Into<String>) -> Case {
        self.env.push((name, value.into()));
        self
    }
    fn args(mut self, args: &[&str]) -> Case {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }
    fn through(mut self, proxy: usize, target: String) -> Case {
        self.through = Some((proxy, target));
        self
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = write(dir, name, &format!("#!/bin/sh\n{body}\n"));
    let made = std::process::Command::new("chmod")
        .arg("755")
        .arg(&path)
        .status()
        .expect("chmod");
    assert!(made.success());
    path.display().to_string()
}

fn openssl_ca(dir: &Path) -> PathBuf {
    let (key, cert) = (dir.join("other-ca.key"), dir.join("other-ca.crt"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=other-ca", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    cert
}

fn run(
    mut command: std::process::Command,
    case: &Case,
    kubeconfig: Option<&Path>,
    home: &Path,
) -> Output {
    for name in [
        "KUBECONFIG",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(name);
    }
    command.env("HOME", home);
    if let Some(kc) = kubeconfig {
        command.arg("--kubeconfig").arg(kc);
    }
    command.args(&case.args).args(["--request-timeout", "10s"]);
    for (k, v) in &case.env {
        command.env(k, v);
    }
    command
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs")
}

#[tokio::test]
async fn every_kubeconfig_kubectl_accepts_works_the_same_in_the_plugin() {
    let cluster = support::cluster();
    let ns = cluster.namespace("kubeconfigs").await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client("admin").await, &ns, &featurestore_resource());
    let store: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": "reached", "namespace": ns}, "spec": {"feastProject": "p"}
    }))
    .expect("object");
    api.create(&PostParams::default(), &store)
        .await
        .expect("created");

    let p = parts();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let proxies = [
        Tunnel::start(Protocol::Http, &p.pki),
        Tunnel::start(Protocol::Https, &p.pki),
        Tunnel::start(Protocol::Socks5, &p.pki),
    ];
    let (http, https, socks) = (0, 1, 2);

    let loopback = format!("https://127.0.0.1:{}", p.port);
    // A name only the proxies resolve (to loopback); the serving certificate carries it.
    let hidden_host = format!("kubernetes.default.svc:{}", p.port);
    let hidden = format!("https://{hidden_host}");
    let ca_file = p.pki.join("ca.crt").display().to_string();
    let other_ca = openssl_ca(d).display().to_string();
    let with_ca = |server: &str| json!({"server": server, "certificate-authority-data": p.ca_data});
    let admin =
        json!({"client-certificate-data": p.admin_cert_data, "client-key-data": p.admin_key_data});
    let token_file = write(d, "token", &p.token).display().to_string();
    let exec = |command: &str, mode: &str| json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "interactiveMode": mode}});
    let recording = script(
        d,
        "recording-plugin",
        &format!(
            "printf '%s\\n' \"$KUBERNETES_EXEC_INFO\" >> {}/exec-info\nexec {}",
            d.display(),
            p.exec_plugin
        ),
    );
    let failing = script(
        d,
        "failing-plugin",
        "echo 'your session expired: run `corp-login` again' >&2\nexit 1",
    );
    let provider =
        |name: &str| json!({"auth-provider": {"name": name, "config": {"access-token": "x"}}});

    let cases = vec![
        case("client certificate and key data, CA data", with_ca(&loopback), admin.clone(), true),
        case(
            "client certificate and key files, CA file",
            json!({"server": loopback, "certificate-authority": ca_file}),
            json!({"client-certificate": p.pki.join("admin.crt"), "client-key": p.pki.join("admin.key")}),
            true,
        ),
        case("token", with_ca(&loopback), json!({"token": p.token}), true),
        case("tokenFile", with_ca(&loopback), json!({"tokenFile": token_file}), true),
        case("wrong token", with_ca(&loopback), json!({"token": "not-a-token"}), false)
            .says("did not accept the credentials"),
        case("exec plugin, interactiveMode Never", with_ca(&loopback), exec(&recording, "Never"), true),
        case(
            "exec plugin, interactiveMode IfAvailable (no terminal)",
            with_ca(&loopback),
            exec(&recording, "IfAvailable"),
            true,
        ),
        case(
            "exec plugin, interactiveMode Always (no terminal)",
            with_ca(&loopback),
            exec(&recording, "Always"),
            false,
        )
        .says("standard input is not a terminal"),
        case("exec plugin that fails", with_ca(&loopback), exec(&failing, "Never"), false)
            .says("your session expired: run `corp-login` again"),
        case("auth-provider gcp (removed)", with_ca(&loopback), provider("gcp"), false)
            .says("gke-gcloud-auth-plugin"),
        case("auth-provider azure (removed)", with_ca(&loopback), provider("azure"), false)
            .says("kubelogin"),
        case("no certificate-authority", json!({"server": loopback}), admin.clone(), false)
            .says("TLS"),
        case(
            "certificate-authority that did not sign the server",
            json!({"server": loopback, "certificate-authority": other_ca}),
            admin.clone(),
            false,
        )
        .says("TLS"),
        case(
            "insecure-skip-tls-verify",
            json!({"server": loopback, "insecure-skip-tls-verify": true}),
            admin.clone(),
            true,
        )
        .says("warning: insecure-skip-tls-verify"),
        case(
            "insecure-skip-tls-verify and a CA",
            json!({"server": loopback, "insecure-skip-tls-verify": true, "certificate-authority-data": p.ca_data}),
            admin.clone(),
            false,
        )
        .says("not allowed"),
        case(
            "tls-server-name on the certificate",
            json!({"server": loopback, "certificate-authority-data": p.ca_data, "tls-server-name": "kubernetes.default.svc"}),
            admin.clone(),
            true,
        ),
        case(
            "tls-server-name not on the certificate",
            json!({"server": loopback, "certificate-authority-data": p.ca_data, "tls-server-name": "elsewhere.example"}),
            admin.clone(),
            false,
        )
        .says("TLS"),
        case("a server name only a proxy resolves, no proxy", with_ca(&hidden), admin.clone(), false)
            .says("cannot be resolved"),
        case(
            "proxy-url http",
            json!({"server": hidden, "certificate-authority-data": p.ca_data, "proxy-url": proxies[http].url()}),
            admin.clone(),
            true,
        )
        .through(http, hidden_host.clone()),
        case(
            "proxy-url http with credentials",
            json!({"server": hidden, "certificate-authority-data": p.ca_data,
                   "proxy-url": proxies[http].url().replace("://", "://bastion:s3cret@")}),
            admin.clone(),
            true,
        )
        // base64("bastion:s3cret")
        .through(http, format!("{hidden_host} auth=Basic YmFzdGlvbjpzM2NyZXQ=")),
        case(
            "proxy-url https",
            json!({"server": hidden, "certificate-authority-data": p.ca_data, "proxy-url": proxies[https].url()}),
            admin.clone(),
            true,
        )
        .through(https, hidden_host.clone()),
        case(
            "proxy-url socks5",
            json!({"server": hidden, "certificate-authority-data": p.ca_data, "proxy-url": proxies[socks].url()}),
            admin.clone(),
            true,
        )
        .through(socks, hidden_host.clone()),
        case(
            "proxy-url wins over NO_PROXY",
            json!({"server": hidden, "certificate-authority-data": p.ca_data, "proxy-url": proxies[socks].url()}),
            admin.clone(),
            true,
        )
        .env("NO_PROXY", "*")
        .through(socks, hidden_host.clone()),
        case(
            "proxy-url that refuses connections",
            json!({"server": hidden, "certificate-authority-data": p.ca_data, "proxy-url": "http://127.0.0.1:9"}),
            admin.clone(),
            false,
        )
        .says("through the proxy http://127.0.0.1:9"),
        case("HTTPS_PROXY", with_ca(&hidden), admin.clone(), true)
            .env("HTTPS_PROXY", proxies[http].url())
            .through(http, hidden_host.clone()),
        case("https_proxy socks5", with_ca(&hidden), admin.clone(), true)
            .env("https_proxy", proxies[socks].url())
            .through(socks, hidden_host.clone()),
        case("HTTPS_PROXY without a scheme", with_ca(&hidden), admin.clone(), true)
            .env("HTTPS_PROXY", proxies[http].url().trim_start_matches("http://").to_string())
            .through(http, hidden_host.clone()),
        case("HTTPS_PROXY with NO_PROXY naming the server", with_ca(&hidden), admin.clone(), false)
            .env("HTTPS_PROXY", proxies[http].url())
            .env("NO_PROXY", "example.com,.svc")
            .says("cannot be resolved"),
        case("HTTPS_PROXY is never used for loopback", with_ca(&loopback), admin.clone(), true)
            .env("HTTPS_PROXY", "http://127.0.0.1:9"),
        case("HTTP_PROXY is not used for https", with_ca(&hidden), admin.clone(), false)
            .env("HTTP_PROXY", proxies[http].url())
            .says("cannot be resolved"),
        case("--token", with_ca(&loopback), json!({}), true).args(&["--token", &p.token]),
        case("--token over an exec plugin", with_ca(&loopback), exec(&failing, "Never"), true)
            .args(&["--token", &p.token]),
        case("--server", with_ca("https://unused.example:1"), admin.clone(), true)
            .args(&["--server", &format!("https://localhost:{}", p.port)]),
        case("--certificate-authority", json!({"server": loopback}), admin.clone(), true)
            .args(&["--certificate-authority", &ca_file]),
        case("--certificate-authority that did not sign the server", with_ca(&loopback), admin.clone(), false)
            .args(&["--certificate-authority", &other_ca])
            .says("TLS"),
        case("--insecure-skip-tls-verify over a CA", with_ca(&loopback), admin.clone(), true)
            .args(&["--insecure-skip-tls-verify"])
            .says("warning: insecure-skip-tls-verify"),
        case("--tls-server-name", with_ca(&loopback), admin.clone(), true)
            .args(&["--tls-server-name", "kubernetes.default.svc"]),
        Case {
            name: "no kubeconfig: --server, --certificate-authority, --token",
            kubeconfig: None,
            env: Vec::new(),
            args: ["--server", &loopback, "--certificate-authority", &ca_file, "--token", &p.token]
                .map(String::from)
                .to_vec(),
            works: true,
            says: None,
            through: None,
        },
    ];

    let home = d.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let mut failures = Vec::new();
    let mut table = String::new();
    for (i, case) in cases.iter().enumerate() {
        let kubeconfig = case.kubeconfig.as_ref().map(|(cluster, user)| {
            let config = json!({
                "apiVersion": "v1", "kind": "Config", "current-context": "c",
                "clusters": [{"name": "k", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u", "namespace": ns}}],
            });
            write(d, &format!("case-{i}.json"), &config.to_string())
        });
        let before = case
            .through
            .as_ref()
            .map(|(proxy, _)| proxies[*proxy].targets().len());
        let mut kubectl = std::process::Command::new(cluster.kubectl_path());
        kubectl.args(["get", "featurestores.feast.dev", "-n", &ns]);
        let kubectl = run(kubectl, case, kubeconfig.as_deref(), &home);
        let kubectl_targets = case
            .through
            .as_ref()
            .map(|(proxy, _)| proxies[*proxy].targets().len());
        let mut plugin = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"));
        plugin.args(["status", "-n", &ns]);
        let plugin = run(plugin, case, kubeconfig.as_deref(), &home);
        let (kout, kerr) = (
            String::from_utf8_lossy(&kubectl.stdout),
            String::from_utf8_lossy(&kubectl.stderr),
        );
        let (pout, perr) = (
            String::from_utf8_lossy(&plugin.stdout),
            String::from_utf8_lossy(&plugin.stderr),
        );
        let kubectl_ok = kubectl.status.success() && kout.contains("reached");
        let plugin_ok = plugin.status.success() && pout.contains("reached");
        let mut wrong = Vec::new();
        if kubectl_ok != case.works {
            wrong.push(format!(
                "kubectl {}",
                if kubectl_ok { "connected" } else { "failed" }
            ));
        }
        if plugin_ok != case.works {
            wrong.push(format!(
                "plugin {}",
                if plugin_ok { "connected" } else { "failed" }
            ));
        }
        if !case.works && plugin.status.code() != Some(3) {
            wrong.push(format!("plugin exit {:?}, not 3", plugin.status.code()));
        }
        if let Some(text) = case.says
            && !perr.contains(text)
        {
            wrong.push(format!("plugin's stderr lacks {text:?}"));
        }
        if perr.contains("panicked") {
            wrong.push("plugin panicked".into());
        }
        if let (Some((proxy, target)), Some(before), Some(mid)) =
            (&case.through, before, kubectl_targets)
        {
            let seen = proxies[*proxy].targets();
            if !seen[before..mid].iter().any(|t| t == target) {
                wrong.push(format!(
                    "kubectl did not go through the proxy to {target}: {:?}",
                    &seen[before..mid]
                ));
            }
            if !seen[mid..].iter().any(|t| t == target) {
                wrong.push(format!(
                    "the plugin did not go through the proxy to {target}: {:?}",
                    &seen[mid..]
                ));
            }
        }
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            case.name,
            if kubectl_ok { "connects" } else { "fails" },
            if plugin_ok {
                "connects".to_string()
            } else {
                format!("fails: {}", perr.lines().next().unwrap_or("").trim())
            },
        ));
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n  kubectl: {}\n  plugin: {}",
                case.name,
                wrong.join("; "),
                kerr.trim(),
                perr.trim()
            ));
        }
    }
    println!("{table}");
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // Both ran the recording plugin twice (Never, IfAvailable) and told it it was not
    // interactive, as stdin was no terminal.
    let info = std::fs::read_to_string(d.join("exec-info")).expect("the plugin ran");
    let runs: Vec<&str> = info.lines().filter(|l| !l.is_empty()).collect();
    assert!(runs.len() >= 4, "{info}");
    assert!(
        runs.iter().all(|l| l.contains("\"interactive\":false")),
        "{info}"
    );
}
