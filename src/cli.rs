//! The command line: kubectl's global flags and the top-level parser.
//!
//! kubectl hands every argument to a plugin unparsed, so the plugin implements kubectl's
//! conventions itself (`-n`, `-A`, `--context`, `--kubeconfig`, `--as`, `-o`, `--color`, `-v`).
//! These flags are global: they may stand before or after the subcommand, as with kubectl.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};

use crate::commands::Command;

pub const EXAMPLES_AND_EXIT_CODES: &str = "\
Examples:
  # check manifests before applying them
  kubectl feast validate -f examples/
  # scaling status of every FeatureStore
  kubectl feast status -A
  # run 3 replicas (DB-backed persistence needed)
  kubectl feast scale my-feast --replicas 3
  # let an HPA manage the replica count
  kubectl feast autoscale my-feast --min 2 --max 10
  # keep pods up during node drains
  kubectl feast pdb my-feast --max-unavailable 1
  # every store of every cluster in the kubeconfig
  kubectl feast status -A --all-contexts

Exit codes:
  0  success
  1  the objects are invalid or the change was refused (validation
     errors, pre-flight refusal, server rejection)
  2  bad usage (unknown flag, missing or contradictory arguments)
  3  the command could not complete (unreadable input, cluster
     unreachable, not found, forbidden, any other API error)
  4  partial: over several contexts (status, doctor, validate),
     some clusters answered and are shown, and some failed, each
     named on stderr with its cause";

/// Operate the horizontal scaling and high availability of Feast Operator FeatureStores.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-feast",
    bin_name = "kubectl feast",
    version,
    about = "Operate the horizontal scaling and high availability of Feast Operator FeatureStores (feast.dev/v1)",
    after_help = EXAMPLES_AND_EXIT_CODES,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's conventions, accepted on every command.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "kubectl options")]
pub struct GlobalArgs {
    /// Namespace to use (default: the context's namespace, then "default")
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Act on FeatureStores in every namespace
    #[arg(short = 'A', long = "all-namespaces", global = true)]
    pub all_namespaces: bool,
    /// The kubeconfig context to use; status, doctor and validate take several (repeatable,
    /// or comma-separated: --context prod-eu,prod-us) and show them in one view
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Vec<String>,
    /// Path to the kubeconfig file (default: $KUBECONFIG, a colon-separated list, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Username to impersonate for the operation
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// The deadline for each API request, its whole answer included (e.g. 30s, 1m; 0: none)
    #[arg(long = "request-timeout", global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub request_timeout: Option<Duration>,
    /// The address and port of the Kubernetes API server (overrides the kubeconfig's cluster)
    #[arg(short = 's', long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server (overrides the kubeconfig's user)
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Path to a cert file for the certificate authority
    #[arg(long = "certificate-authority", global = true, value_name = "PATH")]
    pub certificate_authority: Option<PathBuf>,
    /// Path to a client certificate file for TLS
    #[arg(long = "client-certificate", global = true, value_name = "PATH")]
    pub client_certificate: Option<PathBuf>,
    /// Path to a client key file for TLS
    #[arg(long = "client-key", global = true, value_name = "PATH")]
    pub client_key: Option<PathBuf>,
    /// Server name to use for server certificate validation (default: the server's host name)
    #[arg(long = "tls-server-name", global = true, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Don't check the server's certificate: the connection can be intercepted (insecure)
    #[arg(
        long = "insecure-skip-tls-verify",
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub insecure_skip_tls_verify: Option<bool>,
    /// Output format (each command lists the ones it supports)
    #[arg(short = 'o', long, global = true, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// When to colour the output; NO_COLOR in the environment also turns it off
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    /// Log every API request to stderr (-v or -v=6; higher levels add response bodies' sizes)
    #[arg(
        short = 'v',
        long = "v",
        global = true,
        value_name = "LEVEL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "6"
    )]
    pub verbosity: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Yaml,
    Name,
    Wide,
    /// validate only: a SARIF 2.1.0 log for code scanning
    Sarif,
    /// validate only: JUnit XML, one test case per object
    Junit,
    /// validate only: GitHub Actions annotations (::error file=…,line=…::)
    Github,
    /// `scale`, `autoscale`, `pdb`: the change as a kustomize patch file, nothing sent
    Patch,
}

impl OutputFormat {
    /// The `-o` values each subcommand takes: its help lists these and clap refuses the rest
    /// ([`command`]); the commands read them from here too ([`GlobalArgs::output_in`]).
    pub fn of(subcommand: &str) -> &'static [OutputFormat] {
        use OutputFormat::*;
        match subcommand {
            "scale" | "pdb" | "persistence" => &[Yaml, Json, Name, Patch],
            // With --keda: yaml, json, patch; without: as scale.
            "autoscale" => &[Yaml, Json, Name, Patch],
            "validate" => &[Json, Yaml, Sarif, Junit, Github],
            "status" => &[Wide, Json, Yaml, Name],
            "doctor" | "version" | "history" | "recommend" => &[Json, Yaml],
            _ => &[],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Json => "json",
            OutputFormat::Yaml => "yaml",
            OutputFormat::Name => "name",
            OutputFormat::Wide => "wide",
            OutputFormat::Sarif => "sarif",
            OutputFormat::Junit => "junit",
            OutputFormat::Github => "github",
            OutputFormat::Patch => "patch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    /// The one context a single-cluster command uses: the last `--context` given (as kubectl,
    /// where a repeated flag's last value wins); none when the kubeconfig's current one is meant.
    /// Commands that take several contexts read them through `commands::fleet`.
    pub fn context(&self) -> Option<&str> {
        self.context.last().map(String::as_str)
    }

    /// These arguments aimed at one context.
    pub fn for_context(&self, context: &str) -> GlobalArgs {
        GlobalArgs {
            context: vec![context.to_string()],
            ..self.clone()
        }
    }

    /// Whether to colour stdout: `--color`, then NO_COLOR, then whether stdout is a terminal.
    pub fn color_enabled(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }

    /// The output format, refused with exit 2 unless the command supports it. The parser has
    /// already refused what the subcommand never takes ([`command`]); this refuses what one
    /// mode of it does not (`autoscale --keda -o name`).
    pub fn output_in(
        &self,
        command: &str,
        allowed: &[OutputFormat],
    ) -> crate::error::Result<Option<OutputFormat>> {
        match self.output {
            Some(o) if !allowed.contains(&o) => {
                let list = allowed
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(crate::error::Error::usage(format!(
                    "-o {} is not supported by `kubectl feast {command}`",
                    o.as_str()
                ))
                .with_hint(format!("use one of: {list}")))
            }
            other => Ok(other),
        }
    }
}

/// Parses a kubectl-style duration: `30s`, `5m`, `1h`, `500ms`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, ""), |i| s.split_at(i));
    let n: f64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use e.g. 30s, 5m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration {s:?}: unknown unit {unit:?} (use ms, s, m or h)"
            ));
        }
    };
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("invalid duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration as the user would type it back: `6ms`, `2s`, `1.5s`, `5m`.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// The command line as parsed and documented: the derive's, with each subcommand's `-o`
/// narrowed to the formats it takes ([`OutputFormat::of`]), so that `validate --help` lists
/// only validate's and `validate -o wide` is refused by the parser, as kubectl does.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    use clap::builder::TypedValueParser;
    let mut cmd = Cli::command();
    let Some(output) = cmd
        .get_arguments()
        .find(|a| a.get_id() == "output")
        .cloned()
    else {
        return cmd;
    };
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        let values: Vec<clap::builder::PossibleValue> = OutputFormat::of(&name)
            .iter()
            .filter_map(|f| f.to_possible_value())
            .collect();
        // A subcommand's own `output` takes the place of the global one there (clap does not
        // propagate a global argument over one of the same id); its value still reaches the
        // top-level field, as a global's does.
        let narrowed = output.clone().value_parser(
            clap::builder::PossibleValuesParser::new(values)
                .try_map(|s| OutputFormat::from_str(&s, false)),
        );
        cmd = cmd.mut_subcommand(&name, |sub| sub.arg(narrowed));
    }
    cmd
}

impl Cli {
    /// Parses the process's arguments with [`command`]'s narrowed `-o`; a bad command line
    /// exits as clap does (exit 2, its message).
    pub fn parse_args() -> Cli {
        use clap::FromArgMatches;
        let mut matches = command().get_matches();
        Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.exit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
        command().debug_assert();
    }

    #[test]
    fn each_subcommand_takes_only_its_own_output_formats() {
        let parse = |args: &[&str]| {
            command()
                .try_get_matches_from(args)
                .map(|mut m| Cli::from_arg_matches_mut(&mut m))
        };
        use clap::FromArgMatches;
        assert!(parse(&["kubectl-feast", "validate", "-f", "x", "-o", "sarif"]).is_ok());
        for (sub, bad) in [
            ("validate", "wide"),
            ("validate", "patch"),
            ("doctor", "name"),
            ("status", "sarif"),
        ] {
            let err = parse(&["kubectl-feast", sub, "-o", bad]).expect_err(bad);
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::InvalidValue,
                "{sub} -o {bad}"
            );
        }
        let help = command()
            .find_subcommand_mut("validate")
            .map(|c| c.render_long_help().to_string())
            .unwrap_or_default();
        assert!(
            help.contains("sarif") && !help.contains("- wide") && !help.contains("- patch"),
            "{help}"
        );
        // A format given before the subcommand is checked by the command itself.
        let cli = parse(&["kubectl-feast", "-o", "json", "version"]).expect("parses");
        assert!(cli.is_ok());
    }

    #[test]
    fn durations_parse_like_kubectl() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "kubectl-feast",
            "status",
            "-n",
            "prod",
            "--context",
            "c",
            "-v",
        ])
        .unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("prod"));
        assert_eq!(cli.global.context(), Some("c"));
        assert_eq!(cli.global.verbosity, Some(6));
    }
}
