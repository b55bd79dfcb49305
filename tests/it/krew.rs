//! The release archives and the krew manifest, held to the real tools: krew v0.4.3 and its
//! `validate-krew-manifest` (built from the Go module proxy by `scripts/build-tools krew`) and
//! the real kubectl, which must find the installed plugin on PATH.
//!
//! Archives are made by `scripts/package`, exactly as the release workflow makes them, and
//! served from a loopback HTTP server, so krew downloads and checks them as it would from a
//! GitHub release.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{cluster, repo_root};

/// Runs `command`, panicking with its output unless it succeeds; returns stdout.
fn ok(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

fn last_line(text: &str) -> PathBuf {
    PathBuf::from(text.lines().last().unwrap_or_default().trim())
}

/// The directory with `krew` and `validate-krew-manifest`, built on first use.
fn krew_tools() -> PathBuf {
    last_line(&ok(
        Command::new(repo_root().join("scripts/build-tools")).arg("krew")
    ))
}

/// `scripts/package ARGS...`; the path it printed last.
fn package(args: &[&str]) -> PathBuf {
    last_line(&ok(
        Command::new(repo_root().join("scripts/package")).args(args)
    ))
}

/// Serves the files of `dir` over HTTP on loopback until the test process ends; the base URL.
fn serve(dir: &Path) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // The headers are not needed; read them to the blank line.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let name = path.trim_start_matches('/');
            let mut stream = &stream;
            match (name.contains(".."), std::fs::read(dir.join(name))) {
                (false, Ok(body)) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                }
                _ => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// A KREW_ROOT and a PATH holding only kubectl, `kubectl-krew`, KREW_ROOT/bin and the system
/// directories (for sh and git), so that what `kubectl plugin list` finds is what krew put there.
struct Krew {
    _dir: tempfile::TempDir,
    root: PathBuf,
    path: std::ffi::OsString,
    tools: PathBuf,
}

impl Krew {
    fn new() -> Krew {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("krew-root");
        let bin = dir.path().join("tools");
        std::fs::create_dir_all(&bin).expect("tools dir");
        let tools = krew_tools();
        symlink(&tools.join("krew"), &bin.join("kubectl-krew"));
        symlink(cluster().kubectl_path(), &bin.join("kubectl"));
        let path = std::env::join_paths([
            bin.clone(),
            root.join("bin"),
            PathBuf::from("/usr/local/bin"),
            PathBuf::from("/usr/bin"),
            PathBuf::from("/bin"),
        ])
        .expect("PATH");
        Krew {
            _dir: dir,
            root,
            path,
            tools,
        }
    }

    /// `kubectl ARGS...` with this KREW_ROOT and PATH (no kubeconfig needed).
    fn kubectl(&self, args: &[&str]) -> Command {
        let mut command = Command::new(cluster().kubectl_path());
        command
            .args(args)
            .env("PATH", &self.path)
            .env("KREW_ROOT", &self.root)
            .env("KREW_NO_UPGRADE_CHECK", "1")
            .env("KUBECONFIG", cluster().kubeconfig())
            .env_remove("KREW_DEFAULT_INDEX_URI");
        command
    }

    fn validate(&self, manifest: &Path) -> Command {
        let mut command = Command::new(self.tools.join("validate-krew-manifest"));
        command
            .arg("-manifest")
            .arg(manifest)
            .env("PATH", &self.path);
        command
    }

    fn plugin_list(&self) -> String {
        // `kubectl plugin list` exits 1 when it finds no plugin at all.
        let output = run(&mut self.kubectl(&["plugin", "list"]));
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

fn symlink(from: &Path, to: &Path) {
    std::os::unix::fs::symlink(from, to)
        .unwrap_or_else(|e| panic!("symlink {} -> {}: {e}", to.display(), from.display()));
}

/// The plugin under test, without its debug info (the archive stays small; krew does not care).
fn stripped_plugin(dir: &Path) -> PathBuf {
    let copy = dir.join("kubectl-feast");
    std::fs::copy(env!("CARGO_BIN_EXE_kubectl-feast"), &copy).expect("copying the plugin");
    // Without `strip` on the machine the archive is only larger.
    let _ = Command::new("strip")
        .arg("--strip-debug")
        .arg(&copy)
        .status();
    copy
}

const SIX_TARGETS: [&str; 6] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
];

/// The committed template, filled for all six platforms, passes krew's validator in full: its
/// structure, that every platform is used and none overlaps, and that krew installs each one
/// (downloading the archive, checking its sha256, finding LICENSE). The archives hold a stand-in
/// executable: a validator installs, it never runs the binary, and the real one is tested below.
#[test]
fn every_platform_of_the_manifest_passes_krews_validator() {
    let krew = Krew::new();
    let work = tempfile::tempdir().expect("temp dir");
    let stand_in = work.path().join("stand-in");
    std::fs::write(&stand_in, "#!/bin/sh\necho stand-in\n").expect("stand-in");
    let dist = work.path().join("dist");
    let dist_arg = dist.to_str().expect("UTF-8 temp path");
    let stand_in_arg = stand_in.to_str().expect("UTF-8 temp path");
    let mut archives = Vec::new();
    for target in SIX_TARGETS {
        let archive = package(&[
            "--target",
            target,
            "--binary",
            stand_in_arg,
            "--out",
            dist_arg,
        ]);
        archives.push(
            archive
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
        );
    }
    let version = env!("CARGO_PKG_VERSION");
    for (os, arch) in [
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
    ] {
        let name = format!("kubectl-feast_{version}_{os}_{arch}.tar.gz");
        assert!(
            archives.contains(&Some(name.clone())),
            "{name} not in {archives:?}"
        );
    }
    for arch in ["amd64", "arm64"] {
        let name = format!("kubectl-feast_{version}_windows_{arch}.zip");
        assert!(
            archives.contains(&Some(name.clone())),
            "{name} not in {archives:?}"
        );
    }

    let base = serve(&dist);
    let manifest = package(&["--manifest", "--out", dist_arg, "--base-uri", &base]);
    assert_eq!(manifest, dist.join("feast.yaml"));
    let text = std::fs::read_to_string(&manifest).expect("reading the manifest");
    assert!(!text.contains("{{"), "placeholders left:\n{text}");
    assert!(text.contains(&format!("version: \"v{version}\"")), "{text}");
    assert_eq!(text.matches("sha256: ").count(), 6, "{text}");
    for line in text
        .lines()
        .filter(|l| l.trim_start().starts_with("sha256:"))
    {
        let sum = line.trim().trim_start_matches("sha256: ").trim_matches('"');
        assert!(
            sum.len() == 64
                && sum
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "not a lowercase sha256: {line}"
        );
    }

    // What krew's validator leaves to the krew-index reviewers: a short description that fits
    // `kubectl krew search`, the operator version in the caveats, the bin name per OS.
    let m: serde_json::Value = serde_saphyr::from_str(&text).expect("the manifest is YAML");
    assert_eq!(m["metadata"]["name"], "feast");
    let short = m["spec"]["shortDescription"].as_str().unwrap_or_default();
    assert!(
        !short.is_empty() && short.len() <= 50,
        "shortDescription: {short:?}"
    );
    let caveats = m["spec"]["caveats"].as_str().unwrap_or_default();
    assert!(caveats.contains("0.61"), "caveats: {caveats}");
    for p in m["spec"]["platforms"].as_array().into_iter().flatten() {
        let os = p["selector"]["matchLabels"]["os"]
            .as_str()
            .unwrap_or_default();
        let want = if os == "windows" {
            "kubectl-feast.exe"
        } else {
            "kubectl-feast"
        };
        assert_eq!(p["bin"], want, "{p}");
    }

    let output = run(&mut krew.validate(&manifest));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "validate-krew-manifest failed:\n{log}"
    );
    assert!(log.contains("all 6 spec.platforms installed fine"), "{log}");
}

/// Without all six archives, `--manifest` refuses and names the missing one.
#[test]
fn the_manifest_needs_every_archive_unless_told_otherwise() {
    let work = tempfile::tempdir().expect("temp dir");
    let stand_in = work.path().join("stand-in");
    std::fs::write(&stand_in, "#!/bin/sh\n").expect("stand-in");
    let dist = work.path().join("dist");
    let dist_arg = dist.to_str().expect("UTF-8 temp path");
    let stand_in_arg = stand_in.to_str().expect("UTF-8 temp path");
    package(&[
        "--target",
        "x86_64-unknown-linux-gnu",
        "--binary",
        stand_in_arg,
        "--out",
        dist_arg,
    ]);
    let output = run(Command::new(repo_root().join("scripts/package")).args([
        "--manifest",
        "--out",
        dist_arg,
    ]));
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        err.contains(&format!(
            "no archive kubectl-feast_{version}_linux_arm64.tar.gz"
        )),
        "{err}"
    );
    assert!(err.contains("--available"), "{err}");

    let manifest = package(&["--manifest", "--available", "--out", dist_arg]);
    let text = std::fs::read_to_string(&manifest).expect("reading the manifest");
    assert_eq!(text.matches("- selector:").count(), 1, "{text}");
    assert!(
        text.contains(&format!(
            "uri: \"https://github.com/kubectl-feast/kubectl-feast/releases/download/v{version}/kubectl-feast_{version}_linux_amd64.tar.gz\""
        )),
        "{text}"
    );
}

/// The real plugin, packaged by scripts/package: krew installs it from the archive, kubectl
/// finds and runs it, its completer is installed beside it; then krew uninstalls it, installs
/// it from an index, upgrades it to a second version's archive, and uninstalls it again.
#[test]
fn krew_installs_upgrades_and_uninstalls_the_plugin() {
    let krew = Krew::new();
    let work = tempfile::tempdir().expect("temp dir");
    let plugin = stripped_plugin(work.path());
    let plugin_arg = plugin.to_str().expect("UTF-8 temp path");
    let version = env!("CARGO_PKG_VERSION");
    let next = next_version(version);

    let serve_root = work.path().join("www");
    let base = serve(&serve_root);
    let mut manifests = Vec::new();
    let mut archives = Vec::new();
    for v in [version, next.as_str()] {
        let dist = serve_root.join(v);
        let dist_arg = dist.to_str().expect("UTF-8 temp path");
        let mut args = vec!["--binary", plugin_arg, "--out", dist_arg];
        if v != version {
            args.extend(["--as-version", v]);
        }
        archives.push(package(&args));
        let mut args = vec!["--manifest", "--available", "--out", dist_arg];
        let uri = format!("{base}/{v}");
        args.extend(["--base-uri", &uri]);
        if v != version {
            args.extend(["--as-version", v]);
        }
        manifests.push(package(&args));
    }
    let archive = archives[0].to_str().expect("UTF-8 temp path");
    let listing = ok(Command::new("tar").arg("tzf").arg(archive));
    for file in [
        "kubectl-feast",
        "kubectl_complete-feast",
        "LICENSE",
        "README.md",
    ] {
        assert!(
            listing.lines().any(|l| l.trim_start_matches("./") == file),
            "{file} not in the archive:\n{listing}"
        );
    }

    // krew's validator installs it from the (loopback) URI and finds the LICENSE.
    let output = run(&mut krew.validate(&manifests[0]));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "validate-krew-manifest failed:\n{log}"
    );

    // A krew set up as users have it: an index (a local git repository standing in for
    // krew-index, at first with the first version), cloned by `kubectl krew update`.
    let index = work.path().join("index");
    std::fs::create_dir_all(index.join("plugins")).expect("index dir");
    let git = |args: &[&str]| {
        ok(Command::new("git")
            .arg("-C")
            .arg(&index)
            .args([
                "-c",
                "user.name=test",
                "-c",
                "user.email=test@example.invalid",
            ])
            .args(args))
    };
    git(&["init", "-q", "-b", "master"]);
    std::fs::copy(&manifests[0], index.join("plugins/feast.yaml")).expect("index manifest");
    git(&["add", "."]);
    git(&["commit", "-qm", "feast"]);
    let index_uri = index.display().to_string();
    let with_index = |args: &[&str]| {
        let mut command = krew.kubectl(args);
        command.env("KREW_DEFAULT_INDEX_URI", &index_uri);
        command
    };
    ok(&mut with_index(&["krew", "update"]));

    // kubectl krew install --manifest=... --archive=...
    let manifest = format!("--manifest={}", manifests[0].display());
    let archive_flag = format!("--archive={archive}");
    ok(&mut with_index(&[
        "krew",
        "install",
        &manifest,
        &archive_flag,
    ]));
    let out = ok(&mut with_index(&["feast", "version"]));
    assert_eq!(out.trim(), format!("kubectl-feast {version}"));
    let list = krew.plugin_list();
    let linked = krew.root.join("bin").join("kubectl-feast");
    assert!(list.contains(&linked.display().to_string()), "{list}");
    assert!(!list.contains("warning"), "{list}");

    // The completer: written next to the plugin on PATH, then run by kubectl's own completion.
    let output = run(&mut with_index(&["feast", "completion", "--install"]));
    assert!(output.status.success(), "{output:?}");
    let completer = krew.root.join("bin").join("kubectl_complete-feast");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("wrote {}", completer.display())
    );
    // In krew's bin directory it says how to remove the file krew does not track.
    let note = String::from_utf8_lossy(&output.stderr);
    assert!(
        note.contains("kubectl feast completion --uninstall"),
        "{note}"
    );
    let offered = ok(&mut with_index(&["__complete", "feast", "sc"]));
    assert!(offered.lines().any(|l| l.starts_with("scale")), "{offered}");
    // krew does not know the file: it goes before krew uninstalls the plugin (with no receipt
    // left and a file in its bin, krew would call its home outdated and refuse every command).
    let out = ok(&mut with_index(&["feast", "completion", "--uninstall"]));
    assert_eq!(out.trim(), format!("removed {}", completer.display()));
    assert!(!completer.exists());

    ok(&mut with_index(&["krew", "uninstall", "feast"]));
    assert!(!krew.plugin_list().contains("kubectl-feast"));
    assert!(!run(&mut with_index(&["feast", "version"])).status.success());

    // Installed from the index, then upgraded when the index gains the next version, as users
    // get releases.
    ok(&mut with_index(&["krew", "install", "feast"]));
    let out = ok(&mut with_index(&["feast", "version"]));
    assert_eq!(out.trim(), format!("kubectl-feast {version}"));
    assert!(
        krew.root
            .join("store/feast")
            .join(format!("v{version}"))
            .is_dir()
    );

    std::fs::copy(&manifests[1], index.join("plugins/feast.yaml")).expect("index manifest");
    git(&["commit", "-qam", "feast: next"]);
    let out = ok(&mut with_index(&["krew", "upgrade", "feast"]));
    let err_and_out = out.clone();
    let list = ok(&mut with_index(&["krew", "list"]));
    assert!(
        krew.root
            .join("store/feast")
            .join(format!("v{next}"))
            .is_dir(),
        "no v{next} in the store after `krew upgrade` ({err_and_out}); krew list:\n{list}"
    );
    assert!(
        !krew
            .root
            .join("store/feast")
            .join(format!("v{version}"))
            .exists(),
        "v{version} left in the store after the upgrade"
    );
    let receipt = std::fs::read_to_string(krew.root.join("receipts/feast.yaml")).expect("receipt");
    assert!(receipt.contains(&format!("version: v{next}")), "{receipt}");
    // The same binary, so the same version string: what changed is what krew runs from.
    ok(&mut with_index(&["feast", "version"]));
    assert!(krew.plugin_list().contains(&linked.display().to_string()));

    ok(&mut with_index(&["krew", "uninstall", "feast"]));
    assert!(!krew.plugin_list().contains("kubectl-feast"));
    assert!(!krew.root.join("store/feast").exists());
}

/// The patch version after `version` (0.1.0 → 0.1.1).
fn next_version(version: &str) -> String {
    let core = version.split(['-', '+']).next().unwrap_or(version);
    let mut parts: Vec<u64> = core.split('.').filter_map(|p| p.parse().ok()).collect();
    assert_eq!(
        parts.len(),
        3,
        "Cargo.toml's version {version} is not semver"
    );
    parts[2] += 1;
    format!("{}.{}.{}", parts[0], parts[1], parts[2])
}

/// `eval "$(scripts/dev-cluster env)"` puts the plugin built from this checkout on PATH, and
/// nothing else of target/debug: there, kubectl took cargo's `kubectl-feast.d` dep-info file
/// for a plugin and `kubectl plugin list` reported it as not executable (issue 23).
#[test]
fn the_dev_cluster_env_puts_only_the_plugin_on_path() {
    let state = cluster()
        .kubeconfig()
        .parent()
        .expect("the kubeconfig sits in the state dir");
    let script = format!(
        "eval \"$('{}' env --state-dir '{}')\" && kubectl plugin list",
        repo_root().join("scripts/dev-cluster").display(),
        state.display()
    );
    let out = run(Command::new("sh").args(["-c", &script]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.ends_with("/plugin-bin/kubectl-feast")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("kubectl-feast.d") && !stderr.contains("kubectl-feast.d"),
        "{stdout}{stderr}"
    );
}

/// docs/ci/feast-validate.yml, the GitHub Actions job the guide gives: its install step, run by
/// bash as the runner would, downloads a release archive that `scripts/package` made (served on
/// loopback in place of GitHub's releases), verifies its checksum, and puts a working
/// kubectl-feast on the job's PATH; a corrupted archive fails the step. (actionlint checks the
/// file in .ci/run.)
#[test]
fn the_ci_workflow_installs_the_plugin_from_a_release_archive_with_its_checksum() {
    let workflow: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo_root().join("docs/ci/feast-validate.yml"))
            .expect("docs/ci/feast-validate.yml"),
    )
    .expect("the workflow is YAML");
    let job = &workflow["jobs"]["validate"];
    let version = job["env"]["KUBECTL_FEAST_VERSION"]
        .as_str()
        .expect("a pinned version");
    let install = job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with("Install")))
        .and_then(|s| s["run"].as_str())
        .expect("the install step");
    let work = tempfile::tempdir().expect("temp dir");
    let plugin = stripped_plugin(work.path());
    let www = work.path().join("www");
    let dist = www.join(format!("v{version}"));
    package(&[
        "--binary",
        plugin.to_str().expect("UTF-8"),
        "--out",
        dist.to_str().expect("UTF-8"),
        "--as-version",
        version,
    ]);
    let base = serve(&www);
    let step = |runner: &Path| {
        std::fs::create_dir_all(runner).expect("runner temp");
        let github_path = runner.join("GITHUB_PATH");
        let out = run(Command::new("bash")
            .args(["-eo", "pipefail", "-c", install])
            .env("KUBECTL_FEAST_VERSION", version)
            .env("RELEASES", &base)
            .env("RUNNER_TEMP", runner)
            .env("GITHUB_PATH", &github_path));
        (
            out,
            std::fs::read_to_string(&github_path).unwrap_or_default(),
        )
    };
    let (out, path) = step(&work.path().join("runner"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = PathBuf::from(path.trim()).join("kubectl-feast");
    let version_out = ok(Command::new(&bin).arg("version"));
    assert!(version_out.contains(version), "{version_out}");
    // The job's next step, on a bundled example: exit 0 and the summary line.
    let validated = run(Command::new(&bin)
        .args([
            "validate",
            "-f",
            "examples/static-redis.yaml",
            "--strict",
            "-o",
            "github",
        ])
        .current_dir(repo_root()));
    assert!(
        validated.status.success(),
        "{}",
        String::from_utf8_lossy(&validated.stdout)
    );

    // An archive that does not match its checksum stops the step before anything is installed.
    let archive = dist.join(format!("kubectl-feast_{version}_linux_amd64.tar.gz"));
    let mut bytes = std::fs::read(&archive).expect("the archive");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&archive, bytes).expect("corrupt the archive");
    let (out, path) = step(&work.path().join("runner2"));
    assert!(!out.status.success());
    assert!(path.is_empty(), "nothing put on PATH: {path}");
}
