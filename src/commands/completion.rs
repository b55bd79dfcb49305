//! `kubectl feast completion`: shell completion, in the two ways a kubectl plugin is completed.
//!
//! - `completion bash|zsh|fish|powershell` prints a static script (clap_complete) for the
//!   `kubectl-feast` binary typed directly.
//! - `kubectl feast <TAB>` goes through kubectl's own completion: kubectl 1.26+ runs
//!   `kubectl_complete-feast` from PATH with the words typed after `kubectl feast`
//!   (k8s.io/kubectl `pkg/cmd/plugin/plugin_completion.go`). That script (in `share/`, shipped in
//!   the archives, written next to the plugin by `completion --install`) runs the hidden
//!   `__complete` subcommand, which completes with clap_complete's engine over the same clap
//!   definitions as `--help`, plus namespaces, contexts and FeatureStore names from the cluster.
//!
//! The cluster look-ups are bounded by [`LOOKUP_TIMEOUT`] and silent: any failure (no
//! kubeconfig, unreachable, forbidden, no CRD) offers nothing rather than an error, because a
//! shell prints whatever a completer writes. The script runs it with stdin from /dev/null, so a
//! credential plugin can never prompt.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use clap_complete::Shell;
use clap_complete::engine::{
    ArgValueCandidates, ArgValueCompleter, CompletionCandidate, PathCompleter,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use crate::cli::GlobalArgs;
use crate::cluster::{self, Cluster};
use crate::error::{Error, Result};

/// The longest a completion waits for the cluster: a shell user is waiting on it.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// The completer kubectl runs on Unix (sh), shipped as `share/kubectl_complete-feast`.
pub const COMPLETER_SH: &str = include_str!("../../share/kubectl_complete-feast");
/// The completer kubectl runs on Windows, shipped as `share/kubectl_complete-feast.cmd`.
pub const COMPLETER_CMD: &str = include_str!("../../share/kubectl_complete-feast.cmd");

/// Cobra's ShellCompDirectiveNoFileComp: the candidates are the whole answer, no file names.
const NO_FILE_COMP: u32 = 4;
/// Cobra's ShellCompDirectiveNoSpace: no space after the word (a directory, to go on typing).
const NO_SPACE: u32 = 2;

#[derive(Debug, Args)]
#[command(after_help = "\
Completing `kubectl feast ...` (kubectl 1.26 or later, with kubectl's
own completion loaded, e.g. `source <(kubectl completion bash)`):
kubectl runs `kubectl_complete-feast` from PATH. The release archives
contain it; with krew, run once:
  # writes it next to kubectl-feast on PATH
  kubectl feast completion --install
  # removes it (before `kubectl krew uninstall feast`)
  kubectl feast completion --uninstall

Completing the `kubectl-feast` binary typed directly:
  source <(kubectl-feast completion bash)     bash (add it to ~/.bashrc)
  kubectl-feast completion zsh > \"${fpath[1]}/_kubectl-feast\"
  kubectl-feast completion fish > \\
      ~/.config/fish/completions/kubectl-feast.fish
  kubectl-feast completion powershell | Out-String | Invoke-Expression")]
pub struct CompletionArgs {
    /// The shell to print a completion script for
    #[arg(
        value_enum,
        required_unless_present_any = ["install", "uninstall"],
        conflicts_with_all = ["install", "uninstall"]
    )]
    pub shell: Option<Shell>,
    /// Write kubectl_complete-feast (the completer kubectl runs for `kubectl feast <TAB>`) next
    /// to the kubectl-feast that PATH finds, or into --dir
    #[arg(long, conflicts_with = "uninstall")]
    pub install: bool,
    /// Remove the kubectl_complete-feast that --install wrote (before `kubectl krew uninstall
    /// feast`: krew does not know the file)
    #[arg(long)]
    pub uninstall: bool,
    /// The directory to write kubectl_complete-feast into, or remove it from (one on PATH)
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

/// The hidden `__complete` subcommand the completer script runs.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words after `kubectl feast`, the last one being completed (empty for a new word)
    #[arg(raw = true, value_name = "WORD")]
    pub words: Vec<OsString>,
}

pub fn run(args: &CompletionArgs) -> Result<()> {
    if args.dir.is_some() && !args.install && !args.uninstall {
        return Err(
            Error::usage("--dir only goes with --install or --uninstall")
                .with_hint("e.g. `kubectl feast completion --install --dir ~/.local/bin`"),
        );
    }
    if args.install || args.uninstall {
        let dir = match args.dir.as_deref() {
            Some(dir) => dir.to_path_buf(),
            None => plugin_dir()?,
        };
        let path = dir.join(completer_name());
        if args.uninstall {
            match std::fs::remove_file(&path) {
                Ok(()) => println!("removed {}", path.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    println!("{} was not there", path.display())
                }
                Err(e) => {
                    return Err(Error::incomplete(format!(
                        "cannot remove {}: {e}",
                        path.display()
                    ))
                    .with_hint(
                        "remove it by hand, or give the directory it is in with --dir DIR",
                    ));
                }
            }
            return Ok(());
        }
        install(&path)?;
        println!("wrote {}", path.display());
        if is_krew_bin(&dir) {
            eprintln!(
                "note: krew does not track {}: run `kubectl feast completion --uninstall` before `kubectl krew uninstall feast`",
                completer_name()
            );
        }
        return Ok(());
    }
    let Some(shell) = args.shell else {
        return Err(Error::usage("give a shell or --install").with_hint(
            "e.g. `kubectl feast completion bash` or `kubectl feast completion --install`",
        ));
    };
    std::io::stdout()
        .write_all(&script(shell))
        .map_err(|e| Error::incomplete(format!("cannot write the completion script: {e}")))
}

/// The static completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut script_command(), "kubectl-feast", &mut out);
    if shell == Shell::Bash {
        out = fix_bash_case_labels(&out);
    }
    out
}

/// The command the static scripts complete: the binary `kubectl-feast`. The parser's own bin
/// name is `kubectl feast` (for usage lines), and clap_complete derives the subcommands' shell
/// function names from it, so with the space left in, bash never matches a subcommand.
fn script_command() -> clap::Command {
    crate::cli::command().bin_name("kubectl-feast")
}

/// clap_complete 4.6's bash script names each subcommand's case `kubectl__feast__subcmd__scale`
/// where it sets `cmd`, but `kubectl__subcmd__feast__subcmd__scale` where it matches it (it turns
/// the binary's `-` into `__` in one place and into `__subcmd__` in the other), so no subcommand's
/// flags would ever complete. One spelling for both.
fn fix_bash_case_labels(script: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(script)
        .replace("kubectl__subcmd__feast", "kubectl__feast")
        .into_bytes()
}

fn completer_name() -> &'static str {
    if cfg!(windows) {
        "kubectl_complete-feast.cmd"
    } else {
        "kubectl_complete-feast"
    }
}

/// Whether `dir` is krew's bin directory (`$KREW_ROOT/bin`, by default ~/.krew/bin), where krew
/// links the plugins it installs: krew treats files there without a receipt as its own.
fn is_krew_bin(dir: &Path) -> bool {
    let root = std::env::var_os("KREW_ROOT")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".krew")));
    root.is_some_and(|root| dir == root.join("bin"))
}

/// Writes the completer to `path` and makes it executable.
fn install(path: &Path) -> Result<()> {
    let text = if cfg!(windows) {
        COMPLETER_CMD
    } else {
        COMPLETER_SH
    };
    // Whole or not at all, never through a planted link (src/safe_write.rs).
    crate::safe_write::install(path, text, 0o755)
        .map_err(|r| Error::incomplete(r.message).with_hint(r.hint))
}

/// The directory of the first `kubectl-feast` on PATH (as kubectl finds plugins: with krew,
/// `$KREW_ROOT/bin`), else the directory of this binary.
fn plugin_dir() -> Result<PathBuf> {
    let exe = if cfg!(windows) {
        "kubectl-feast.exe"
    } else {
        "kubectl-feast"
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join(exe).is_file() {
                return Ok(dir);
            }
        }
    }
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .ok_or_else(|| {
            Error::incomplete("cannot tell which directory kubectl-feast is in")
                .with_hint("give the directory with --dir DIR (one on PATH)")
        })
}

/// Prints the candidates for the last of `words`, one per line as `value<TAB>help`, then
/// cobra's `:directive` line, which kubectl reads (`getPluginCompletions`).
pub async fn complete(args: &CompleteArgs) -> Result<()> {
    let words = args.words.clone();
    // The look-ups block on the runtime, so they run on a blocking thread while this one
    // drives their I/O.
    let lines = tokio::task::spawn_blocking(move || candidates(words))
        .await
        .unwrap_or_default();
    let mut directive = NO_FILE_COMP;
    let mut out = String::new();
    for line in lines {
        if line.split('\t').next().is_some_and(|v| v.ends_with('/')) {
            directive |= NO_SPACE;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    // A closed pipe is the shell giving up; nothing to report to anyone.
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}

/// The completion lines for `words` (the last one is being completed). Blocking: runs the
/// cluster look-ups on the current tokio runtime.
pub fn candidates(mut words: Vec<OsString>) -> Vec<String> {
    if words.is_empty() {
        words.push(OsString::new());
    }
    let current = words
        .last()
        .map(|w| w.to_string_lossy().into_owned())
        .unwrap_or_default();
    let typed = &words[..words.len() - 1];
    let global = Arc::new(global_flags(typed));
    let named: Arc<Vec<String>> = Arc::new(
        typed
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect(),
    );
    let mut command = with_cluster_completers(crate::cli::command(), &global, &named);
    let mut argv = vec![OsString::from("kubectl-feast")];
    argv.extend(words);
    let index = argv.len() - 1;
    let cwd = std::env::current_dir().ok();
    let found = clap_complete::engine::complete(&mut command, argv, index, cwd.as_deref())
        .unwrap_or_default();
    // As cobra does: on an empty word offer the arguments (names, subcommands, values), and
    // flags only once a `-` is typed.
    found
        .into_iter()
        .filter(|c| !c.is_hide_set())
        .filter(|c| !(current.is_empty() && c.get_value().to_string_lossy().starts_with('-')))
        .map(|c| line(&c))
        .collect()
}

fn line(candidate: &CompletionCandidate) -> String {
    let value = candidate.get_value().to_string_lossy();
    let help = candidate
        .get_help()
        .map(|h| h.to_string())
        .and_then(|h| h.lines().next().map(|l| l.trim().to_string()))
        .filter(|h| !h.is_empty());
    match help {
        Some(help) => format!("{value}\t{help}"),
        None => value.into_owned(),
    }
}

/// Attaches the cluster-backed candidates: `-n`, `--context`, and the `NAME` arguments of every
/// subcommand that takes FeatureStore names (less those already typed, as kubectl does).
fn with_cluster_completers(
    command: clap::Command,
    global: &Arc<GlobalArgs>,
    typed: &Arc<Vec<String>>,
) -> clap::Command {
    let namespaces = {
        let global = Arc::clone(global);
        ArgValueCandidates::new(move || namespace_names(&global))
    };
    // `--context a,b`: the names after the last comma, each after what is typed before it.
    let contexts = {
        let global = Arc::clone(global);
        ArgValueCompleter::new(move |current: &std::ffi::OsStr| {
            context_list_candidates(&current.to_string_lossy(), &context_names(&global))
        })
    };
    let mut command = command
        .mut_arg("namespace", |a| a.add(namespaces))
        .mut_arg("context", |a| a.add(contexts));
    // Files and directories for the FILE/PATH/DIR values clap cannot tell are paths (`-f PATH`
    // takes `-` and is a string); PathBuf values get paths from the engine already.
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subcommands {
        command = command.mut_subcommand(name, |mut sub| {
            let paths: Vec<(String, bool)> = sub
                .get_arguments()
                .filter(|a| a.get_value_hint() == clap::ValueHint::Unknown)
                .filter_map(|a| {
                    let names = a.get_value_names()?;
                    let dir = names.iter().any(|n| n.as_str() == "DIR");
                    let path = dir || names.iter().any(|n| matches!(n.as_str(), "PATH" | "FILE"));
                    path.then(|| (a.get_id().to_string(), dir))
                })
                .collect();
            for (id, dir) in paths {
                let completer = if dir {
                    PathCompleter::dir()
                } else {
                    PathCompleter::any()
                };
                sub = sub.mut_arg(id, |a| a.add(ArgValueCompleter::new(completer)));
            }
            sub
        });
    }
    // `--contexts-matching`: the context names, a start for the expression.
    let fleet: Vec<String> = command
        .get_subcommands()
        .filter(|s| s.get_arguments().any(|a| a.get_id() == "contexts_matching"))
        .map(|s| s.get_name().to_string())
        .collect();
    for name in fleet {
        let global = Arc::clone(global);
        let names = ArgValueCandidates::new(move || context_names(&global));
        command =
            command.mut_subcommand(name, |s| s.mut_arg("contexts_matching", |a| a.add(names)));
    }
    let with_names: Vec<String> = command
        .get_subcommands()
        .filter(|s| s.get_arguments().any(|a| a.get_id() == "names"))
        .map(|s| s.get_name().to_string())
        .collect();
    for name in with_names {
        let global = Arc::clone(global);
        let typed = Arc::clone(typed);
        let stores = ArgValueCandidates::new(move || {
            featurestore_names(&global)
                .into_iter()
                .filter(|c| !typed.iter().any(|t| c.get_value() == t.as_str()))
                .collect::<Vec<_>>()
        });
        command = command.mut_subcommand(name, |s| s.mut_arg("names", |a| a.add(stores)));
    }
    command
}

/// kubectl's connection flags among the words typed so far, so the look-ups ask the cluster,
/// context and namespace the command will run against. Unknown words are ignored.
fn global_flags(words: &[OsString]) -> GlobalArgs {
    let mut global = GlobalArgs {
        request_timeout: Some(LOOKUP_TIMEOUT),
        ..GlobalArgs::default()
    };
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        if word == "--" {
            break;
        }
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => match word
                .strip_prefix("-n")
                .filter(|v| !v.is_empty() && !word.starts_with("--"))
            {
                Some(v) => ("-n", Some(v.to_string())),
                None => (word, None),
            },
        };
        let takes_value = matches!(
            flag,
            "-n" | "--namespace" | "--context" | "--kubeconfig" | "--cluster" | "--user" | "--as"
        );
        if flag == "-A" || flag == "--all-namespaces" {
            global.all_namespaces = true;
        }
        if !takes_value {
            i += 1;
            continue;
        }
        let value = match inline {
            Some(v) => Some(v),
            None => {
                i += 1;
                words.get(i).cloned()
            }
        };
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            match flag {
                "-n" | "--namespace" => global.namespace = Some(value),
                "--context" => global.context.push(value),
                "--kubeconfig" => global.kubeconfig = Some(PathBuf::from(value)),
                "--cluster" => global.cluster = Some(value),
                "--user" => global.user = Some(value),
                _ => global.as_user = Some(value),
            }
        }
        i += 1;
    }
    global
}

/// Runs one cluster look-up on the current runtime, bounded and with every failure silenced.
fn lookup<F, Fut>(global: &GlobalArgs, f: F) -> Vec<CompletionCandidate>
where
    F: FnOnce(Cluster) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return Vec::new();
    };
    let names = handle.block_on(async {
        let work = async {
            match Cluster::connect(global).await {
                Ok(cluster) => f(cluster).await,
                Err(_) => Vec::new(),
            }
        };
        tokio::time::timeout(LOOKUP_TIMEOUT, work)
            .await
            .unwrap_or_default()
    });
    names.into_iter().map(CompletionCandidate::new).collect()
}

fn featurestore_names(global: &GlobalArgs) -> Vec<CompletionCandidate> {
    let all = global.all_namespaces;
    lookup(global, |cluster| async move {
        let api = if all {
            cluster.featurestores(None)
        } else {
            cluster.featurestores(Some(&cluster.namespace))
        };
        let mut names: Vec<String> = match api.list_metadata(&ListParams::default()).await {
            Ok(list) => list
                .items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names.dedup();
        names
    })
}

fn namespace_names(global: &GlobalArgs) -> Vec<CompletionCandidate> {
    // The namespace flag being completed is not a filter on its own look-up.
    let mut global = global.clone();
    global.namespace = None;
    lookup(&global, |cluster| async move {
        let api: Api<Namespace> = Api::all(cluster.client.clone());
        match api.list_metadata(&ListParams::default()).await {
            Ok(list) => list
                .items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect(),
            Err(_) => Vec::new(),
        }
    })
}

fn context_names(global: &GlobalArgs) -> Vec<CompletionCandidate> {
    cluster::kubeconfig_contexts(global)
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// The candidates for a `--context` value being typed: whole names, or for `a,b,c` the names
/// not yet listed that start with `c`, each after `a,b,`.
fn context_list_candidates(
    current: &str,
    names: &[CompletionCandidate],
) -> Vec<CompletionCandidate> {
    let (listed, partial) = match current.rfind(',') {
        Some(i) => (&current[..=i], &current[i + 1..]),
        None => ("", current),
    };
    let taken: Vec<&str> = listed.split(',').filter(|n| !n.is_empty()).collect();
    names
        .iter()
        .filter_map(|c| {
            let name = c.get_value().to_string_lossy();
            (name.starts_with(partial) && !taken.contains(&name.as_ref()))
                .then(|| CompletionCandidate::new(format!("{listed}{name}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_list_completes_after_its_last_comma_without_the_names_listed() {
        let names: Vec<CompletionCandidate> = ["prod-eu", "prod-us", "staging"]
            .into_iter()
            .map(CompletionCandidate::new)
            .collect();
        let values = |current: &str| {
            context_list_candidates(current, &names)
                .iter()
                .map(|c| c.get_value().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(values("pro"), ["prod-eu", "prod-us"]);
        assert_eq!(values("prod-eu,"), ["prod-eu,prod-us", "prod-eu,staging"]);
        assert_eq!(values("prod-eu,st"), ["prod-eu,staging"]);
        assert!(values("x").is_empty());
    }

    fn words(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn values(lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn connection_flags_are_read_from_the_words_typed_so_far() {
        let g = global_flags(&words(&[
            "scale",
            "-n",
            "prod",
            "--context=east",
            "--kubeconfig",
            "/k",
            "--replicas",
            "3",
        ]));
        assert_eq!(g.namespace.as_deref(), Some("prod"));
        assert_eq!(g.context(), Some("east"));
        assert_eq!(g.kubeconfig.as_deref(), Some(Path::new("/k")));
        assert_eq!(g.request_timeout, Some(LOOKUP_TIMEOUT));
        assert_eq!(
            global_flags(&words(&["-nprod"])).namespace.as_deref(),
            Some("prod")
        );
        assert!(global_flags(&words(&["status", "-A"])).all_namespaces);
    }

    // The engine's answers need no cluster for these; the runtime is absent, so the cluster
    // look-ups (not reached here) would offer nothing.
    #[test]
    fn subcommands_are_offered_by_prefix() {
        let got = values(&candidates(words(&["sc"])));
        assert_eq!(got, ["scale"]);
        let all = values(&candidates(words(&[""])));
        for sub in [
            "scale",
            "autoscale",
            "pdb",
            "validate",
            "status",
            "version",
            "completion",
        ] {
            assert!(all.contains(&sub.to_string()), "{sub} missing from {all:?}");
        }
        assert!(!all.iter().any(|c| c == "__complete"), "{all:?}");
    }

    #[test]
    fn flag_values_come_from_the_clap_definitions() {
        assert_eq!(
            values(&candidates(words(&["status", "-o", ""]))),
            ["wide", "json", "yaml", "name"],
            "status's own formats only"
        );
        assert_eq!(
            values(&candidates(words(&["scale", "x", "--dry-run="]))),
            ["--dry-run=none", "--dry-run=client", "--dry-run=server"]
        );
        assert_eq!(
            values(&candidates(words(&["pdb", "--color", "a"]))),
            ["auto", "always"]
        );
    }

    #[test]
    fn flags_are_offered_once_a_dash_is_typed() {
        let got = values(&candidates(words(&["scale", "--rep"])));
        assert_eq!(got, ["--replicas", "--replace-autoscaling"]);
        let global = values(&candidates(words(&["scale", "--kubec"])));
        assert_eq!(global, ["--kubeconfig"]);
    }

    #[test]
    fn completion_shells_are_offered() {
        assert_eq!(
            values(&candidates(words(&["completion", ""]))),
            ["bash", "elvish", "fish", "powershell", "zsh"]
        );
    }

    #[test]
    fn every_static_script_names_the_binary() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let out = script(shell);
            let text = String::from_utf8_lossy(&out);
            assert!(text.contains("kubectl-feast"), "{shell}: {text}");
            assert!(text.contains("replicas"), "{shell} lacks the scale flags");
        }
    }
}
