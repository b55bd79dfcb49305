//! Shared support for the cluster tests: one real control plane (etcd + kube-apiserver with the
//! FeatureStore CRD, see docs/control-plane.md) started on first use, or the one named by
//! `KUBECTL_FEAST_TEST_KUBECONFIG` (as `scripts/test` does).
//!
//! Declared once, in `tests/it/main.rs`; every test module uses it. Each test takes its own
//! namespace from [`TestCluster::namespace`], so tests run in parallel without seeing each other.

pub mod proxy;
pub mod tunnel;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;

/// Names the kubeconfig of an already running control plane to use instead of starting one.
pub const KUBECONFIG_ENV: &str = "KUBECTL_FEAST_TEST_KUBECONFIG";
/// Optionally names the kubectl binary to use (otherwise the one `scripts/dev-cluster` built).
pub const KUBECTL_ENV: &str = "KUBECTL_FEAST_TEST_KUBECTL";

/// The control plane the tests of this binary run against.
pub struct TestCluster {
    kubeconfig: PathBuf,
    kubectl: PathBuf,
}

static CLUSTER: OnceLock<Result<TestCluster, String>> = OnceLock::new();
static NAMESPACE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// The control plane for this test binary, started on first use.
///
/// With `KUBECTL_FEAST_TEST_KUBECONFIG` set, that cluster is used as is. Otherwise this runs
/// `scripts/dev-cluster up` on a private state dir with `--owner-pid` set to this process, so the
/// control plane is torn down by its reaper when the test binary exits, however it exits.
pub fn cluster() -> &'static TestCluster {
    match CLUSTER.get_or_init(start) {
        Ok(cluster) => cluster,
        Err(message) => panic!("{message}"),
    }
}

/// The repository's root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared folder with the operator's CRD and samples: `$FEAST_SHARED_DIR`, or `../shared`
/// beside the repository.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("FEAST_SHARED_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join("..").join("shared"),
    }
}

fn dev_cluster_script() -> PathBuf {
    repo_root().join("scripts").join("dev-cluster")
}

fn start() -> Result<TestCluster, String> {
    let kubeconfig = match std::env::var_os(KUBECONFIG_ENV) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(format!(
                    "{KUBECONFIG_ENV}={} does not name a kubeconfig file",
                    path.display()
                ));
            }
            path
        }
        _ => start_own_control_plane()?,
    };
    let kubectl = kubectl_binary()?;
    if !kubectl.is_file() {
        return Err(format!(
            "kubectl not found at {} (run scripts/dev-cluster build)",
            kubectl.display()
        ));
    }
    Ok(TestCluster {
        kubeconfig,
        kubectl,
    })
}

fn start_own_control_plane() -> Result<PathBuf, String> {
    start_private("kubectl-feast-test", &[])
}

/// Starts a control plane of this test binary's own (`up` with `extra` flags, e.g. `--full`)
/// that its reaper stops once this process is gone; returns its kubeconfig.
fn start_private(prefix: &str, extra: &[&str]) -> Result<PathBuf, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let state_dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos:x}", std::process::id()));
    let out = run(Command::new(dev_cluster_script())
        .arg("up")
        .args(extra)
        .arg("--state-dir")
        .arg(&state_dir)
        .arg("--owner-pid")
        .arg(std::process::id().to_string()))?;
    let last = out.lines().last().unwrap_or_default().trim();
    if last.is_empty() {
        return Err(format!(
            "scripts/dev-cluster up {} printed no kubeconfig path",
            extra.join(" ")
        ));
    }
    Ok(PathBuf::from(last))
}

/// A plain control plane of the calling test's own (etcd, kube-apiserver, the CRDs and users),
/// for a test that breaks something cluster-wide (a CRD, an APIService, the nodes), which must
/// never happen on the shared clusters. Started on each call, so one test starts one and runs
/// its cases in sequence; its reaper stops it once this process exits.
pub fn private(prefix: &str) -> TestCluster {
    let kubeconfig = start_private(prefix, &[]).unwrap_or_else(|e| panic!("{e}"));
    let kubectl = kubectl_binary().unwrap_or_else(|e| panic!("{e}"));
    TestCluster {
        kubeconfig,
        kubectl,
    }
}

/// A living cluster of the calling test's own (`up --full`: the real operator, controllers,
/// kwok nodes), for a test that stops one of its components, which must never happen on the
/// shared one. Its state directory (the components' pid files) is the kubeconfig's.
pub fn private_full(prefix: &str) -> TestCluster {
    let kubeconfig = start_private(prefix, &["--full"]).unwrap_or_else(|e| panic!("{e}"));
    let kubectl = kubectl_binary().unwrap_or_else(|e| panic!("{e}"));
    TestCluster {
        kubeconfig,
        kubectl,
    }
}

/// The kubectl the tests run: `KUBECTL_FEAST_TEST_KUBECTL`, else the one scripts/dev-cluster built.
fn kubectl_binary() -> Result<PathBuf, String> {
    match std::env::var_os(KUBECTL_ENV) {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => {
            let out = run(Command::new(dev_cluster_script()).arg("bin-dir"))?;
            Ok(PathBuf::from(out.trim()).join("kubectl"))
        }
    }
}

/// Runs a command with `input` on its stdin (kubectl apply -f -, say) and returns its output.
pub fn with_stdin(command: &mut Command, input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for the command")
}

/// Runs a command to completion; stdout on success, a message with its stderr otherwise.
fn run(command: &mut Command) -> Result<String, String> {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{shown} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("{shown} printed non-UTF-8: {e}"))
}

impl TestCluster {
    /// The kubeconfig with the contexts `admin` (current), `editor`, `viewer` and `exec`.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The cluster's pki directory (CA, serving and client certificates, tokens.csv), beside
    /// its kubeconfig as `scripts/dev-cluster` writes them.
    pub fn pki(&self) -> PathBuf {
        self.kubeconfig
            .parent()
            .map(|d| d.join("pki"))
            .unwrap_or_else(|| PathBuf::from("pki"))
    }

    /// A new client for one of the kubeconfig's contexts: "admin", "editor", "viewer", "exec".
    /// Built fresh on each call, so that no client crosses tokio runtimes (each test has its own).
    pub async fn client(&self, context: &str) -> Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.kubeconfig.display()));
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..KubeConfigOptions::default()
        };
        let config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .unwrap_or_else(|e| panic!("kubeconfig context {context}: {e}"));
        Client::try_from(config).unwrap_or_else(|e| panic!("client for context {context}: {e}"))
    }

    /// Creates a namespace with a unique name starting with `prefix` (as admin) and returns it.
    /// The name includes this process's id, so test binaries sharing one cluster never collide.
    pub async fn namespace(&self, prefix: &str) -> String {
        let mut clean: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        clean.truncate(40);
        let clean = clean.trim_matches('-');
        let clean = if clean.is_empty() { "test" } else { clean };
        let n = NAMESPACE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{clean}-{}-{n}", std::process::id());
        let namespaces: Api<Namespace> = Api::all(self.client("admin").await);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("kubectl-feast.dev/test".to_string(), "true".to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        name
    }

    /// Stops a component of this cluster (`feast-operator`, ...) at once, as a crash would
    /// (SIGKILL: nothing is released on the way out); it stays stopped.
    pub fn kill_component(&self, name: &str) {
        let dir = self.kubeconfig.parent().expect("the state directory");
        let pid = std::fs::read_to_string(dir.join(format!("{name}.pid")))
            .unwrap_or_else(|e| panic!("{name}'s pid file: {e}"));
        let status = Command::new("kill")
            .args(["-KILL", pid.trim()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {name} ({})", pid.trim());
    }

    /// The Prometheus of a living cluster (`scripts/dev-cluster up --full` writes its URL beside
    /// the kubeconfig).
    pub fn prometheus_url(&self) -> String {
        let file = self
            .kubeconfig
            .parent()
            .map(|d| d.join("prometheus.url"))
            .unwrap_or_default();
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (is Prometheus started by up --full?)",
                    file.display()
                )
            })
            .trim()
            .to_string()
    }

    /// The kubectl binary itself, for commands that take no flags before their plugin name
    /// (`kubectl feast ...`, `kubectl __complete feast ...`, `kubectl krew ...`).
    pub fn kubectl_path(&self) -> &Path {
        &self.kubectl
    }

    /// The kubectl built with the control plane, with `--kubeconfig` set (context admin).
    pub fn kubectl(&self) -> Command {
        let mut command = Command::new(&self.kubectl);
        command.arg("--kubeconfig").arg(&self.kubeconfig);
        command
    }

    /// Runs kubectl (context admin) with `args`; its stdout, or a panic with its stderr.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl().args(args).output().expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Seeds FeatureStore scenarios (and what the operator and controllers would have written
    /// for them) into `namespace` with `scripts/seed-scenarios`; panics with its stderr on failure.
    pub fn seed(&self, namespace: &str, scenarios: &[&str]) {
        let mut command = Command::new(repo_root().join("scripts").join("seed-scenarios"));
        command
            .arg(namespace)
            .args(scenarios)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECTL", &self.kubectl);
        if let Err(message) = run(&mut command) {
            panic!("seeding {scenarios:?} into {namespace}: {message}");
        }
    }

    /// A fault-injecting proxy in front of this cluster, as admin (see [`proxy`]).
    pub fn proxy(&self, rules: Vec<proxy::Rule>) -> proxy::FaultProxy {
        proxy::FaultProxy::start(&self.kubeconfig, rules)
    }

    /// The kubectl-feast binary under test, with `KUBECONFIG` set to this cluster's kubeconfig.
    pub fn plugin(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"));
        command.env("KUBECONFIG", &self.kubeconfig);
        command
    }
}

/// The commands a hint suggests (each between backticks), split into words as a POSIX shell
/// would read them when pasted (single quotes, and `'\''` inside them).
pub fn suggested_commands(hint: &str) -> Vec<Vec<String>> {
    hint.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("kubectl "))
        .map(shell_words)
        .collect()
}

fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' if !quoted => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// A pasted `kubectl ...` command run by the real kubectl, with the plugin under test on PATH
/// (as krew or `cargo install` puts it) and `kubeconfig`: kubectl's own rules apply (no flag
/// before a plugin's name).
pub fn run_pasted(words: &[String], kubeconfig: &Path) -> std::process::Output {
    assert_eq!(
        words.first().map(String::as_str),
        Some("kubectl"),
        "{words:?}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kubectl-feast"),
        dir.path().join("kubectl-feast"),
    )
    .expect("linking the plugin");
    let path = std::env::join_paths([
        dir.path().to_path_buf(),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ])
    .expect("PATH");
    Command::new(cluster().kubectl_path())
        .args(&words[1..])
        .env("PATH", path)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run kubectl")
}

/// The plugin in a namespace of the plain cluster, as the admin user.
pub fn feast(ns: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    cluster().plugin().args(["-n", ns]).args(args).assert()
}

/// The plugin as another kubeconfig context (`editor`, `viewer`, `exec`).
pub fn feast_as(context: &str, ns: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    cluster()
        .plugin()
        .args(["--context", context, "-n", ns])
        .args(args)
        .assert()
}

/// A fresh namespace of the plain cluster with these seeded scenarios.
pub async fn seeded(prefix: &str, scenarios: &[&str]) -> String {
    let ns = cluster().namespace(prefix).await;
    cluster().seed(&ns, scenarios);
    ns
}

/// The lines a child writes, as they come, from a thread of their own.
pub fn lines_of(out: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Names the kubeconfig of an already running LIVING cluster (`scripts/dev-cluster up --full`)
/// to use instead of starting one, as `scripts/test` sets it.
pub const LIVING_KUBECONFIG_ENV: &str = "KUBECTL_FEAST_TEST_LIVING_KUBECONFIG";

static LIVING: OnceLock<Result<TestCluster, String>> = OnceLock::new();

/// The living cluster for this test binary: the real Feast Operator, kube-controller-manager,
/// kube-scheduler, six kwok nodes in three zones (`node-1`..`node-6`) and metrics-server, on top
/// of the same API server and users as [`cluster`]. Started on first use with
/// `scripts/dev-cluster up --full --owner-pid <this process>`, unless
/// `KUBECTL_FEAST_TEST_LIVING_KUBECONFIG` names one that runs.
pub fn living() -> &'static TestCluster {
    match LIVING.get_or_init(start_living) {
        Ok(cluster) => cluster,
        Err(message) => panic!("{message}"),
    }
}

fn start_living() -> Result<TestCluster, String> {
    let kubeconfig = match std::env::var_os(LIVING_KUBECONFIG_ENV) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(format!(
                    "{LIVING_KUBECONFIG_ENV}={} does not name a kubeconfig file",
                    path.display()
                ));
            }
            path
        }
        _ => start_private("kubectl-feast-living", &["--full"])?,
    };
    let out = run(Command::new(dev_cluster_script()).arg("bin-dir"))?;
    let kubectl = match std::env::var_os(KUBECTL_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(out.trim()).join("kubectl"),
    };
    Ok(TestCluster {
        kubeconfig,
        kubectl,
    })
}

impl TestCluster {
    /// A FeatureStore as the API server stores it, read with kubectl; panics if it cannot be read.
    pub fn featurestore(&self, ns: &str, name: &str) -> serde_json::Value {
        let out = self
            .kubectl()
            .args([
                "get",
                "featurestores.feast.dev",
                name,
                "-n",
                ns,
                "-o",
                "json",
            ])
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl get featurestore {name} -n {ns} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("kubectl prints JSON")
    }

    /// `kubectl apply --server-side --force-conflicts` of one object, as `manager`; panics
    /// with kubectl's stderr when it fails.
    pub fn apply_object(&self, object: &serde_json::Value, manager: &str) {
        let out = with_stdin(
            self.kubectl().args([
                "apply",
                "--server-side",
                "--force-conflicts",
                &format!("--field-manager={manager}"),
                "-f",
                "-",
            ]),
            &object.to_string(),
        );
        assert!(
            out.status.success(),
            "kubectl apply failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl TestCluster {
    /// Kills this (private) cluster's API server with SIGKILL and returns how to start it
    /// again: its command line, read from /proc before the kill.
    pub fn kill_api_server(&self) -> Vec<String> {
        let dir = self.kubeconfig.parent().expect("state dir");
        let pid_file = dir.join("kube-apiserver.pid");
        let pid = std::fs::read_to_string(&pid_file)
            .expect("kube-apiserver.pid")
            .trim()
            .to_string();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("its command line");
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let killed = Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .expect("kill");
        assert!(killed.success(), "kill -KILL {pid}");
        argv
    }

    /// Starts the API server again with the command line [`kill_api_server`] returned, records
    /// its pid where the reaper looks, and waits until it is ready.
    pub fn restart_api_server(&self, argv: &[String]) {
        let dir = self.kubeconfig.parent().expect("state dir");
        let log = std::fs::File::create(dir.join("kube-apiserver.restarted.log")).expect("log");
        // Left running on purpose, like the rest of the control plane: the cluster's reaper
        // stops it (by the pid file written below) when the test binary is gone.
        #[allow(clippy::zombie_processes)]
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("restart kube-apiserver");
        std::fs::write(dir.join("kube-apiserver.pid"), child.id().to_string()).expect("pid file");
        // The cluster's reaper stops it (by the pid file) once this process is gone; a thread
        // collects its exit status so it never lingers as a zombie.
        let mut child = child;
        std::thread::spawn(move || child.wait());
        let started = std::time::Instant::now();
        loop {
            let ready = Command::new(&self.kubectl)
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .args(["get", "--raw", "/readyz", "--request-timeout", "2s"])
                .output()
                .is_ok_and(|o| o.status.success());
            if ready {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(90),
                "kube-apiserver did not come back in 90 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }
}

/// One store of `status -o json` as its twin on another cluster must show it: names, times,
/// uids and measured values (an HPA metric's current value, which metrics-server measures a
/// little differently each time) aside. The namespace becomes `NS` wherever it appears; pods lose their names, nodes and
/// zones (how many nodes and zones the ready ones use stays, in `placement`) and are sorted.
pub fn twin_view(store: &Value, namespace: &str) -> Value {
    const ASIDE: [&str; 5] = [
        "uid",
        "creationTimestamp",
        "lastScaleTime",
        "lastTransitionTime",
        "namespace",
    ];
    fn walk(v: &Value, ns: &str) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| !ASIDE.contains(&k.as_str()))
                    .map(|(k, x)| (k.clone(), walk(x, ns)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|x| walk(x, ns)).collect()),
            Value::String(s) => Value::String(s.replace(ns, "NS")),
            other => other.clone(),
        }
    }
    let mut out = walk(store, namespace);
    for autoscaler in ["/autoscaler", "/otherAutoscalers/0"] {
        if let Some(metrics) = out
            .pointer_mut(&format!("{autoscaler}/metrics"))
            .and_then(Value::as_array_mut)
        {
            for m in metrics.iter_mut().filter_map(Value::as_object_mut) {
                m.remove("current");
            }
        }
    }
    if let Some(pods) = out
        .pointer_mut("/placement/pods")
        .and_then(Value::as_array_mut)
    {
        for p in pods.iter_mut() {
            if let Some(p) = p.as_object_mut() {
                for k in ["name", "node", "zone"] {
                    p.remove(k);
                }
            }
        }
        pods.sort_by_key(Value::to_string);
    }
    out
}

/// Holds a seeded store to its living twin: the same report, names, times and uids aside.
pub fn assert_twins(seeded: &Value, seeded_ns: &str, living: &Value, living_ns: &str) {
    let (a, b) = (twin_view(seeded, seeded_ns), twin_view(living, living_ns));
    if a != b {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        let (a, b) = (pretty(&a), pretty(&b));
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!(
            "store {} differs from its living twin from line {}:\nseeded:\n{}\nliving:\n{}",
            seeded["name"],
            first + 1,
            a.lines()
                .skip(first.saturating_sub(5))
                .take(30)
                .collect::<Vec<_>>()
                .join("\n"),
            b.lines()
                .skip(first.saturating_sub(5))
                .take(30)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}
