//! `kubectl feast <TAB>` as a user gets it: the real kubectl's `__complete` (what its bash, zsh,
//! fish and PowerShell scripts call) finds `kubectl_complete-feast` on PATH, as written by
//! `kubectl feast completion --install`, and offers what it prints, here with names from the
//! test control plane.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{cluster, repo_root};

/// A PATH directory holding `kubectl-feast` (the binary under test) and the completer that
/// `completion --install --dir` writes beside it.
struct PluginPath {
    _dir: tempfile::TempDir,
    bin: PathBuf,
}

impl PluginPath {
    fn new() -> PluginPath {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().to_path_buf();
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_kubectl-feast"),
            bin.join("kubectl-feast"),
        )
        .expect("linking the plugin");
        let out = Command::new(bin.join("kubectl-feast"))
            .args(["completion", "--install", "--dir"])
            .arg(&bin)
            .output()
            .expect("running completion --install");
        assert!(out.status.success(), "{out:?}");
        let completer = bin.join("kubectl_complete-feast");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("wrote {}", completer.display())
        );
        PluginPath { _dir: dir, bin }
    }

    /// `kubectl __complete feast WORDS...` with this PATH (and the system's, for sh) and
    /// `kubeconfig`; the offered values (descriptions dropped) and kubectl's directive line.
    fn complete_with(&self, kubeconfig: &Path, words: &[&str]) -> (Vec<String>, String) {
        self.complete_in(&repo_root(), kubeconfig, words)
    }

    /// The same, run in the working directory `cwd`.
    fn complete_in(&self, cwd: &Path, kubeconfig: &Path, words: &[&str]) -> (Vec<String>, String) {
        let path = std::env::join_paths([
            self.bin.clone(),
            PathBuf::from("/usr/bin"),
            PathBuf::from("/bin"),
        ])
        .expect("PATH");
        let out = Command::new(cluster().kubectl_path())
            .arg("__complete")
            .arg("feast")
            .args(words)
            .env("PATH", path)
            .env("KUBECONFIG", kubeconfig)
            .current_dir(cwd)
            .output()
            .expect("running kubectl __complete");
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut lines: Vec<String> = stdout.lines().map(str::to_string).collect();
        let directive = lines.pop().unwrap_or_default();
        let values = lines
            .iter()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .collect();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // kubectl's own debug lines only: the completer itself writes nothing to stderr.
        for line in stderr.lines() {
            assert!(
                line.starts_with("[Debug]") || line.starts_with("Completion ended with directive"),
                "unexpected stderr from completion: {line}"
            );
        }
        (values, directive)
    }

    fn complete(&self, words: &[&str]) -> Vec<String> {
        let (values, directive) = self.complete_with(cluster().kubeconfig(), words);
        assert_eq!(directive, ":4", "kubectl's directive line (NoFileComp)");
        values
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn featurestore_names_come_from_the_cluster() {
    let ns = cluster().namespace("completion-names").await;
    cluster().seed(&ns, &["static", "hpa", "single"]);
    let path = PluginPath::new();

    assert_eq!(
        sorted(path.complete(&["scale", "-n", &ns, ""])),
        ["hpa", "single", "static"]
    );
    assert_eq!(
        path.complete(&["scale", "-n", &ns, "s"]),
        ["single", "static"]
    );
    assert_eq!(
        path.complete(&["autoscale", &format!("--namespace={ns}"), "h"]),
        ["hpa"]
    );
    // Names already on the line are not offered again.
    assert_eq!(
        sorted(path.complete(&["status", "-n", &ns, "hpa", ""])),
        ["single", "static"]
    );
    // The context's namespace is the default: another namespace's stores are not offered.
    let other = cluster().namespace("completion-other").await;
    assert!(path.complete(&["scale", "-n", &other, ""]).is_empty());
    // As another kubeconfig user (the operator's featurestore-editor-role may list them).
    assert_eq!(
        sorted(path.complete(&["pdb", "--context", "editor", "-n", &ns, ""])),
        ["hpa", "single", "static"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn namespaces_and_contexts_come_from_the_cluster_and_kubeconfig() {
    let ns = cluster().namespace("completion-ns").await;
    let path = PluginPath::new();
    let namespaces = path.complete(&["scale", "-n", ""]);
    assert!(namespaces.contains(&ns), "{ns} not in {namespaces:?}");
    assert!(
        namespaces.contains(&"default".to_string()),
        "{namespaces:?}"
    );
    let prefix = &ns[..ns.len() - 1];
    assert!(
        path.complete(&["status", "--namespace", prefix])
            .contains(&ns)
    );
    assert_eq!(
        path.complete(&["status", "--context", ""]),
        ["admin", "editor", "viewer", "exec"]
    );
    assert_eq!(
        path.complete(&["status", "--context", "e"]),
        ["editor", "exec"]
    );
    // Several contexts: after a comma, the names not listed yet; and for the regex.
    assert_eq!(
        path.complete(&["status", "--context", "admin,e"]),
        ["admin,editor", "admin,exec"]
    );
    assert_eq!(
        path.complete(&["doctor", "--contexts-matching", "v"]),
        ["viewer"]
    );
}

#[test]
fn subcommands_flags_and_flag_values_are_offered() {
    let path = PluginPath::new();
    assert_eq!(path.complete(&["sc"]), ["scale"]);
    assert_eq!(
        path.complete(&["scale", "--rep"]),
        ["--replicas", "--replace-autoscaling"]
    );
    assert_eq!(
        path.complete(&["status", "-o", ""]),
        ["wide", "json", "yaml", "name"]
    );
    assert_eq!(
        path.complete(&["scale", "--dry-run="]),
        ["--dry-run=none", "--dry-run=client", "--dry-run=server"]
    );
    assert_eq!(
        path.complete(&["pdb", "--color", ""]),
        ["auto", "always", "never"]
    );
    assert_eq!(
        path.complete(&["completion", ""]),
        ["bash", "elvish", "fish", "powershell", "zsh"]
    );
}

/// File arguments complete to the files and directories of the working directory, with no
/// space after a directory so the path can go on.
#[test]
fn file_arguments_complete_to_paths() {
    let path = PluginPath::new();
    let kubeconfig = cluster().kubeconfig();
    let cwd = tempfile::tempdir().expect("temp dir");
    let stores = cwd.path().join("stores");
    std::fs::create_dir_all(stores.join("staging")).expect("dirs");
    for file in ["prod.yaml", "pricing.yaml", "orders.yaml"] {
        std::fs::write(stores.join(file), "").expect("file");
    }
    let complete = |words: &[&str]| path.complete_in(cwd.path(), kubeconfig, words);
    assert_eq!(
        complete(&["validate", "-f", "st"]),
        (vec!["stores/".to_string()], ":6".to_string())
    );
    let (files, directive) = complete(&["validate", "-f", "stores/p"]);
    assert_eq!(sorted(files), ["stores/pricing.yaml", "stores/prod.yaml"]);
    assert_eq!(directive, ":4");
    assert_eq!(
        complete(&["autoscale", "x", "--metrics-file", "stores/o"]).0,
        ["stores/orders.yaml"]
    );
    // --dir takes directories only.
    assert_eq!(
        complete(&["completion", "--install", "--dir", "stores/"]).0,
        ["stores/staging/"]
    );
}

/// An unreachable cluster, or no kubeconfig at all, offers no names and prints nothing else:
/// no error text in the shell, no prompt. The subcommands still complete.
#[test]
fn an_unreachable_cluster_offers_nothing_and_says_nothing() {
    let path = PluginPath::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n\
         clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         users: [{name: u, user: {token: t}}]\n\
         contexts: [{name: gone, context: {cluster: gone, user: u, namespace: x}}]\n",
    )
    .expect("writing the kubeconfig");
    let (values, directive) = path.complete_with(&kubeconfig, &["scale", ""]);
    assert!(values.is_empty(), "{values:?}");
    assert_eq!(directive, ":4");
    let (values, _) = path.complete_with(&kubeconfig, &["scale", "-n", ""]);
    assert!(values.is_empty(), "{values:?}");
    let (values, _) = path.complete_with(&dir.path().join("missing"), &["scale", ""]);
    assert!(values.is_empty(), "{values:?}");
    let (values, _) = path.complete_with(&kubeconfig, &["stat"]);
    assert_eq!(values, ["status"]);
}

/// A server that accepts connections and never answers (a hung API server, a black-holing
/// proxy): the look-up gives up on its own (completion::LOOKUP_TIMEOUT) and offers nothing.
#[test]
fn a_server_that_never_answers_offers_nothing() {
    let path = PluginPath::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        // Hold every connection open, unanswered, until the test process ends.
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: hung\n\
             clusters: [{{name: hung, cluster: {{server: 'https://127.0.0.1:{port}'}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\n\
             contexts: [{{name: hung, context: {{cluster: hung, user: u, namespace: x}}}}]\n"
        ),
    )
    .expect("writing the kubeconfig");
    let (values, directive) = path.complete_with(&kubeconfig, &["scale", ""]);
    assert!(values.is_empty(), "{values:?}");
    assert_eq!(directive, ":4");
}

/// The static script for `kubectl-feast` typed directly, run by the real bash: the subcommand's
/// flags and the values of `-o` complete (clap_complete's own bash script did not, see
/// `fix_bash_case_labels`).
#[test]
fn the_bash_script_completes_subcommand_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-feast"))
        .args(["completion", "bash"])
        .output()
        .expect("completion bash");
    assert!(out.status.success());
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("kubectl-feast.bash");
    std::fs::write(&script, &out.stdout).expect("writing the script");
    let probe = r#"source "$1"
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
  _kubectl__feast kubectl-feast "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "${COMPREPLY[*]}"; }
comp kubectl-feast sc
comp kubectl-feast scale --rep
comp kubectl-feast status -o ''"#;
    let out = Command::new("bash")
        .args(["-c", probe, "probe"])
        .arg(&script)
        .output()
        .expect("running bash");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "scale",
            "--replicas --replace-autoscaling",
            "wide json yaml name"
        ],
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
