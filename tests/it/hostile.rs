//! Hostile servers: a loopback "API server" of the test's own that answers too slowly, too
//! much, or forever, and what the plugin does about it (issue 21): `--request-timeout` is a
//! deadline for the whole request as kubectl's is, and no answer may fill memory. No cluster
//! is needed: nothing here is a Kubernetes API server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How the hostile server answers every request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// A 200 with a large Content-Length, then one byte every 200 ms.
    Trickle,
    /// A 200 claiming 50 GB, then spaces as fast as the client takes them.
    Endless,
    /// A chunked 200 whose chunks of spaces never end.
    EndlessChunked,
}

/// A running hostile server and a kubeconfig whose only context points at it.
pub struct Hostile {
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Hostile {
    pub fn start(answer: Answer) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream, answer));
            }
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: hostile\nclusters:\n- name: h\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: hostile\n  context: {{cluster: h, user: u, namespace: ns}}\nusers:\n- name: u\n  user: {{}}\n"
            ),
        )
        .expect("write the kubeconfig");
        Hostile {
            kubeconfig,
            _dir: dir,
        }
    }
}

fn serve(mut stream: TcpStream, answer: Answer) {
    // Read the request head; the body (if any) is of no interest.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let spaces = vec![b' '; 64 * 1024];
    let result = match answer {
        Answer::Trickle => (|| {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
            )?;
            loop {
                stream.write_all(b" ")?;
                stream.flush()?;
                std::thread::sleep(Duration::from_millis(200));
            }
        })(),
        Answer::Endless => (|| {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50000000000\r\n\r\n",
            )?;
            loop {
                stream.write_all(&spaces)?;
            }
        })(),
        Answer::EndlessChunked => (|| {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            )?;
            loop {
                stream.write_all(format!("{:x}\r\n", spaces.len()).as_bytes())?;
                stream.write_all(&spaces)?;
                stream.write_all(b"\r\n")?;
            }
        })(),
    };
    let _: std::io::Result<()> = result;
}

/// What a run of the plugin did: exit code, stderr, how long it took and its peak memory.
pub struct Run {
    pub code: Option<i32>,
    pub stderr: String,
    pub took: Duration,
    pub max_rss_mib: u64,
}

/// Runs the plugin to its end (killed after `limit`, which a fixed plugin never reaches) and
/// measures its peak resident memory from the kernel's accounting of the child.
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which reports its rusage"
)]
pub fn run_plugin(kubeconfig: &std::path::Path, args: &[&str], limit: Duration) -> Run {
    run_plugin_with(kubeconfig, args, &[], limit)
}

/// [`run_plugin`] with environment variables of its own (`HTTP_PROXY`, say).
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which reports its rusage"
)]
pub fn run_plugin_with(
    kubeconfig: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> Run {
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", kubeconfig)
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .envs(env.iter().copied())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the plugin");
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let killer = std::thread::spawn(move || {
        std::thread::sleep(limit);
        // SAFETY: sending a signal to a pid; at worst it has exited already.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    drop(killer);
    let mut status = 0;
    // SAFETY: rusage is plain data the kernel fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child with valid pointers.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 on the plugin");
    let took = started.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Run {
        code,
        stderr: reader.join().unwrap_or_default(),
        took,
        max_rss_mib: (usage.ru_maxrss as u64) / 1024,
    }
}

#[test]
fn request_timeout_is_a_deadline_for_the_whole_answer() {
    let server = Hostile::start(Answer::Trickle);
    for args in [
        &["status", "--request-timeout", "2s"][..],
        &[
            "scale",
            "a",
            "--replicas",
            "2",
            "--yes",
            "--request-timeout",
            "2s",
        ][..],
    ] {
        let run = run_plugin(&server.kubeconfig, args, Duration::from_secs(60));
        assert_eq!(
            run.code,
            Some(3),
            "{args:?}: exit 3 (incomplete), not killed; stderr:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("did not answer in time")
                && run.stderr.contains("--request-timeout 2s"),
            "{args:?}: the timeout is named:\n{}",
            run.stderr
        );
        // A byte every 200 ms would keep an idle timeout alive forever; kubectl's deadline
        // ends the request after 2 s. Retries of a timed-out read are not made.
        assert!(
            run.took < Duration::from_secs(20),
            "{args:?}: ended by the deadline, took {:?}",
            run.took
        );
    }
}

#[test]
fn an_endless_answer_is_cut_off_before_it_fills_memory() {
    for answer in [Answer::Endless, Answer::EndlessChunked] {
        let server = Hostile::start(answer);
        let run = run_plugin(
            &server.kubeconfig,
            &["status", "-A"],
            Duration::from_secs(120),
        );
        assert_eq!(
            run.code,
            Some(3),
            "{answer:?}: exit 3, not killed; stderr:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("was too large") && run.stderr.contains("256 MiB"),
            "{answer:?}: the size bound is named:\n{}",
            run.stderr
        );
        eprintln!("{answer:?}: {} MiB peak, {:?}", run.max_rss_mib, run.took);
        // The bound is 256 MiB for all the answers being read at once (status reads seven lists
        // at once); the process holds little more.
        assert!(
            run.max_rss_mib < 512,
            "{answer:?}: peak memory {} MiB",
            run.max_rss_mib
        );
    }
}

/// A kubeconfig for `server` whose user is the exec plugin `script` with `VAULT_TOKEN` in its
/// environment, and a proxy with a password in its URL when `proxy` is set.
fn kubeconfig_with(
    dir: &std::path::Path,
    server: &str,
    script: &str,
    proxy: Option<&str>,
) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let plugin = dir.join("plugin");
    std::fs::write(&plugin, script).expect("write the plugin");
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let proxy = proxy
        .map(|p| format!("    proxy-url: {p}\n"))
        .unwrap_or_default();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: h\n  cluster:\n    server: {server}\n{proxy}contexts:\n- name: c\n  context: {{cluster: h, user: u, namespace: ns}}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n      env:\n      - name: VAULT_TOKEN\n        value: hvs.VAULT-SECRET-0001\n",
            plugin.display()
        ),
    )
    .expect("write the kubeconfig");
    kubeconfig
}

/// A plugin whose first answer has expired already (so the first request runs it again) and
/// whose second run fails in the way given, printing its token on stdout either way.
fn refresh_fails(dir: &std::path::Path, second: &str) -> String {
    format!(
        "#!/bin/sh\nif [ ! -e {count} ]; then\n  touch {count}\n  echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"tok-FIRST-0001\",\"expirationTimestamp\":\"2020-01-01T00:00:00Z\"}}}}'\n  exit 0\nfi\n{second}\n",
        count = dir.join("ran").display()
    )
}

#[test]
fn no_secret_of_a_credential_plugin_or_a_proxy_is_printed() {
    let server = Hostile::start(Answer::Trickle);
    let url = std::fs::read_to_string(&server.kubeconfig)
        .ok()
        .and_then(|k| {
            k.lines()
                .find_map(|l| l.trim().strip_prefix("server: ").map(str::to_string))
        })
        .expect("the server's URL");
    let secrets = [
        "VAULT-SECRET-0001",
        "tok-FIRST-0001",
        "tok-LEAKED-0002",
        "PROXY-PASSWORD-0003",
    ];
    let cases = [
        (
            "refresh fails, token on stdout",
            r#"echo '{"kind":"ExecCredential","status":{"token":"tok-LEAKED-0002"}}'; echo 'denied' >&2; exit 1"#,
            None,
        ),
        (
            "refresh answers malformed JSON with the token in it",
            r#"echo '{"kind":"ExecCredential","status":{"token":"tok-LEAKED-0002"'"#,
            None,
        ),
        (
            "a proxy with a password refuses",
            r#"echo '{"kind":"ExecCredential","status":{"token":"tok-LEAKED-0002"}}'"#,
            Some("http://alice:PROXY-PASSWORD-0003@127.0.0.1:9"),
        ),
    ];
    for (what, second, proxy) in cases {
        for verbosity in [&[][..], &["-v", "6"][..]] {
            let dir = tempfile::tempdir().expect("tempdir");
            let kubeconfig =
                kubeconfig_with(dir.path(), &url, &refresh_fails(dir.path(), second), proxy);
            let mut args = vec!["status", "--request-timeout", "2s"];
            args.extend_from_slice(verbosity);
            let run = run_plugin(&kubeconfig, &args, Duration::from_secs(60));
            assert_ne!(run.code, Some(0), "{what}: fails\n{}", run.stderr);
            assert!(run.stderr.contains("error: "), "{what}: {}", run.stderr);
            for secret in secrets {
                assert!(
                    !run.stderr.contains(secret),
                    "{what} {verbosity:?}: {secret} printed:\n{}",
                    run.stderr
                );
            }
            if proxy.is_none() {
                assert!(
                    run.stderr.contains("could not be obtained")
                        && run.stderr.contains("credential plugin"),
                    "{what}: the plugin is named as the cause:\n{}",
                    run.stderr
                );
            } else {
                assert!(
                    run.stderr.contains("alice:<redacted>@"),
                    "{what}: the proxy is named, its password not:\n{}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn the_credential_plugin_runs_once_per_command() {
    let cluster = crate::support::cluster();
    let kubeconfig = std::fs::read_to_string(cluster.kubeconfig()).expect("kubeconfig");
    let dir = tempfile::tempdir().expect("tempdir");
    let count = dir.path().join("count");
    let original = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("command: ").map(str::to_string))
        .expect("the exec user's plugin");
    let wrapper = dir.path().join("counting-plugin");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> {}\nexec {original}\n",
            count.display()
        ),
    )
    .expect("write the wrapper");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        kubeconfig.replace(&original, &wrapper.display().to_string()),
    )
    .expect("write the kubeconfig");
    for args in [
        &["--context", "exec", "status", "-A"][..],
        &["--context", "exec", "doctor"][..],
    ] {
        let _ = std::fs::remove_file(&count);
        let run = run_plugin(&path, args, Duration::from_secs(120));
        let runs = std::fs::read_to_string(&count)
            .unwrap_or_default()
            .lines()
            .count();
        assert_eq!(
            runs, 1,
            "{args:?}: the plugin ran {runs} times (exit {:?}):\n{}",
            run.code, run.stderr
        );
    }
}

// Hostile files: --in-place, -f DIR and completion --install on disk.

/// Two DB-backed stores in one file, each scalable.
fn two_stores() -> String {
    let store = |name: &str| {
        format!(
            "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n  feastProject: {name}\n  services:\n    onlineStore:\n      persistence:\n        store:\n          type: redis\n          secretRef:\n            name: s\n    registry:\n      local:\n        persistence:\n          store:\n            type: sql\n            secretRef:\n              name: s\n"
        )
    };
    format!("# two stores\n{}---\n{}", store("one"), store("two"))
}

fn plugin(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .env("KUBECONFIG", "/nonexistent")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the plugin")
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

#[test]
fn in_place_keeps_the_mode_refuses_read_only_files_and_ignores_planted_links() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("stores.yaml");
    std::fs::write(&file, two_stores()).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // The temporary name the plugin once used, planted as a link to a file elsewhere.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me").expect("write");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::symlink(&victim, dir.path().join(".stores.yaml.kubectl-feast.tmp"))
        .expect("plant");
    let f = file.display().to_string();
    let out = plugin(&[
        "scale",
        "one",
        "--replicas",
        "3",
        "--local",
        "-f",
        &f,
        "--in-place",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).expect("read back");
    assert!(
        text.contains("replicas: 3") && text.starts_with("# two stores"),
        "{text}"
    );
    assert_eq!(mode(&file), 0o600, "the mode is kept");
    assert_eq!(
        std::fs::read_to_string(&victim).ok().as_deref(),
        Some("keep me")
    );
    assert_eq!(mode(&victim), 0o600);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 3, "no temporary file is left: {left:?}");

    // A symlinked FILE is written through: the link stays, its target changes.
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(&file, &link).expect("symlink");
    let l = link.display().to_string();
    let out = plugin(&[
        "scale",
        "two",
        "--replicas",
        "2",
        "--local",
        "-f",
        &l,
        "--in-place",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .contains("replicas: 2")
    );

    // A read-only file is refused, unchanged, exit 3.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let before = std::fs::read_to_string(&file).expect("read");
    let out = plugin(&[
        "scale",
        "one",
        "--replicas",
        "5",
        "--local",
        "-f",
        &f,
        "--in-place",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("is read-only"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), before);
}

#[test]
fn concurrent_in_place_runs_never_lose_a_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("stores.yaml");
    let f = file.display().to_string();
    for round in 0..10 {
        std::fs::write(&file, two_stores()).expect("write");
        let spawn = |name: &str, replicas: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
                .env("KUBECONFIG", "/nonexistent")
                .args([
                    "scale",
                    name,
                    "--replicas",
                    replicas,
                    "--local",
                    "-f",
                    &f,
                    "--in-place",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (a, b) = (spawn("one", "3"), spawn("two", "4"));
        let (a, b) = (
            a.wait_with_output().expect("wait"),
            b.wait_with_output().expect("wait"),
        );
        let text = std::fs::read_to_string(&file).expect("read back");
        for (out, line) in [(&a, "replicas: 3"), (&b, "replicas: 4")] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                assert!(
                    text.contains(line),
                    "round {round}: a reported change is in the file:\n{text}"
                );
            } else {
                assert!(
                    stderr.contains("changed since it was read"),
                    "round {round}: the loser says why: {stderr}"
                );
            }
        }
        assert!(
            a.status.success() || b.status.success(),
            "round {round}: one wins"
        );
    }
}

#[test]
fn a_directory_walk_survives_symlink_loops_and_reads_each_file_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stores.yaml"), two_stores()).expect("write");
    std::os::unix::fs::symlink(".", dir.path().join("a")).expect("a -> .");
    std::os::unix::fs::symlink(".", dir.path().join("b")).expect("b -> .");
    std::fs::create_dir(dir.path().join("sub")).expect("sub");
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).expect("sub/up -> ..");
    let run = run_plugin(
        std::path::Path::new("/nonexistent"),
        &[
            "validate",
            "-f",
            &dir.path().display().to_string(),
            "-o",
            "json",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let out = plugin(&[
        "validate",
        "-f",
        &dir.path().display().to_string(),
        "-o",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let objects = report["results"].as_array().map(Vec::len);
    assert_eq!(objects, Some(2), "each store once: {report:#}");
}

#[test]
fn completion_install_is_whole_and_never_through_a_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me").expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    std::os::unix::fs::symlink(&victim, dir.path().join("kubectl_complete-feast")).expect("plant");
    let d = dir.path().display().to_string();
    let out = plugin(&["completion", "--install", "--dir", &d]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    assert_eq!(
        std::fs::read_to_string(&victim).ok().as_deref(),
        Some("keep me")
    );
    assert_eq!(mode(&victim), 0o600);
}

// Terminal escapes from file and cluster data.

const HOSTILE_TEXT: &str = "x\u{1b}]0;owned\u{07}\u{1b}[2J\rmore";

fn assert_no_raw_controls(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(
        raw.is_empty(),
        "{what}: raw control characters {raw:?} in:\n{text}"
    );
}

#[test]
fn control_characters_from_a_file_are_escaped_in_terminal_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("store.yaml");
    let store = serde_json::json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": "a", "namespace": "ns"},
        "spec": {"feastProject": "a", "replicas": 2, "services": {
            "onlineStore": {"persistence": {"file": {"path": format!("/data/{HOSTILE_TEXT}.db")}}}
        }}
    });
    std::fs::write(&file, serde_json::to_string(&store).expect("json")).expect("write");
    let f = file.display().to_string();
    let out = plugin(&["validate", "-f", &f]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_no_raw_controls("validate", &text);
    assert!(text.contains("\\e]0;owned\\x07"), "shown escaped:\n{text}");
    // JSON keeps the value exactly, escaped JSON's way.
    let out = plugin(&["validate", "-f", &f, "-o", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        report.to_string().contains("\\u001b]0;owned\\u0007"),
        "{report}"
    );
    let out = plugin(&["scale", "a", "--replicas", "3", "--local", "-f", &f]);
    assert_no_raw_controls(
        "scale --local stderr",
        &String::from_utf8_lossy(&out.stderr),
    );
}

#[tokio::test]
async fn control_characters_from_the_cluster_are_escaped_in_terminal_text() {
    use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
    let cluster = crate::support::cluster();
    let ns = cluster.namespace("hostile-escapes").await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client("admin").await,
        &ns,
        &kubectl_feast::cluster::featurestore_resource(),
    );
    let store: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": "a", "namespace": ns},
        "spec": {"feastProject": "a"}
    }))
    .expect("object");
    api.create(&PostParams::default(), &store)
        .await
        .expect("created");
    let status = serde_json::json!({"status": {
        "phase": "Failed",
        "conditions": [{"type": "FeatureStore", "status": "False", "reason": "Failed",
            "message": HOSTILE_TEXT, "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    }});
    api.patch_status("a", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status written");
    for args in [&["status"][..], &["status", "a"][..], &["doctor"][..]] {
        let out = cluster
            .plugin()
            .args(["-n", &ns])
            .args(args)
            .output()
            .expect("run");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_no_raw_controls(&format!("{args:?} stdout"), &stdout);
        assert_no_raw_controls(&format!("{args:?} stderr"), &stderr);
    }
    let out = cluster
        .plugin()
        .args(["-n", &ns, "status", "a"])
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\\e]0;owned\\x07"),
        "the message is shown, escaped:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_name_a_shell_would_run_is_invalid_and_quoted_in_every_hint() {
    let name = "x; touch /tmp/kubectl-feast-pwned; #";
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("store.yaml");
    let store = serde_json::json!({
        "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
        "metadata": {"name": name, "namespace": "it's"},
        "spec": {"feastProject": "p", "replicas": 3, "services": {
            "scaling": {"autoscaling": {"maxReplicas": 5}},
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
            "registry": {"remote": {"hostname": "r:80"}}}}
    });
    std::fs::write(&file, serde_json::to_string(&store).expect("json")).expect("write");
    let out = plugin(&["validate", "-f", &file.display().to_string(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "INVALID");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = report["results"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        findings.iter().any(|f| f["rule"] == "metadata/name"),
        "the name is refused: {findings:#?}"
    );
    let mut commands = 0;
    for f in &findings {
        for command in crate::support::suggested_commands(f["hint"].as_str().unwrap_or_default()) {
            commands += 1;
            // Pasted into a POSIX shell, the name and namespace are one word each.
            assert!(command.iter().any(|w| w == name), "{command:?}");
            assert!(command.iter().any(|w| w == "it's"), "{command:?}");
        }
    }
    assert!(commands > 0, "some hint suggests a command: {findings:#?}");
}

#[test]
fn an_environment_proxy_password_is_not_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not loopback, so that HTTP_PROXY applies (Go's rule); the proxy refuses.
    let kubeconfig = kubeconfig_with(
        dir.path(),
        "http://api.example.invalid",
        r#"#!/bin/sh
echo '{"kind":"ExecCredential","status":{"token":"tok-LEAKED-0002"}}'"#,
        None,
    );
    for args in [&["status"][..], &["status", "-v", "6"][..]] {
        let run = run_plugin_with(
            &kubeconfig,
            args,
            &[("HTTP_PROXY", "http://alice:ENV-PASSWORD-0004@127.0.0.1:9")],
            Duration::from_secs(60),
        );
        assert_eq!(run.code, Some(3), "{}", run.stderr);
        assert!(
            !run.stderr.contains("ENV-PASSWORD-0004") && !run.stderr.contains("tok-LEAKED-0002"),
            "{args:?}:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("alice:<redacted>@127.0.0.1:9"),
            "{}",
            run.stderr
        );
    }
}

/// A plain-HTTP server behind an https URL is named as such, not as a certificate to trust:
/// for the API server and for a Prometheus alike.
#[test]
fn plain_http_behind_an_https_url_is_said_to_be_plain_http() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            r#"{{"apiVersion":"v1","kind":"Config","current-context":"c",
            "clusters":[{{"name":"c","cluster":{{"server":"https://127.0.0.1:{port}","insecure-skip-tls-verify":true}}}}],
            "users":[{{"name":"u","user":{{"token":"t"}}}}],
            "contexts":[{{"name":"c","context":{{"cluster":"c","user":"u"}}}}]}}"#
        ),
    )
    .expect("write the kubeconfig");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("status")
        .output()
        .expect("run the plugin");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("answers in plain HTTP, not TLS"),
        "{stderr}"
    );
}
