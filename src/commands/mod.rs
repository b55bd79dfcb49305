//! One module per subcommand, each with its arguments and one `run` function. This list is the
//! whole CLI at a glance.

pub mod autoscale;
pub mod autoscale_keda;
pub mod change;
pub mod completion;
pub mod doctor;
pub mod fleet;
pub mod history;
pub mod local;
pub(crate) mod operator_evidence;
pub mod pdb;
pub mod persistence;
pub mod recommend;
pub mod scale;
pub mod status;
pub mod validate;
pub mod version;

use clap::Subcommand;

use crate::cli::GlobalArgs;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set a fixed replica count (spec.replicas)
    Scale(scale::ScaleArgs),
    /// Configure the operator-managed HPA (spec.services.scaling.autoscaling)
    Autoscale(autoscale::AutoscaleArgs),
    /// Configure the PodDisruptionBudget (spec.services.podDisruptionBudgets)
    Pdb(pdb::PdbArgs),
    /// Put the online store, registry or offline store in a database (…persistence.store)
    Persistence(persistence::PersistenceArgs),
    /// Check persistence safety and every scaling rule, from files or live objects
    Validate(validate::ValidateArgs),
    /// Show scaling status: mode, ready/desired replicas, HPA, PDB, spread, safety
    Status(status::StatusArgs),
    /// Say what will stop scaling or HA from working: operator, metrics, KEDA, nodes, RBAC, stores
    Doctor(doctor::DoctorArgs),
    /// One timeline of a store: rescales and who decided them, rollouts, scheduling, writes
    History(history::HistoryArgs),
    /// Suggest an HPA's min, max, CPU target and budget from the store's Prometheus record
    Recommend(recommend::RecommendArgs),
    /// Print the plugin's version
    Version,
    /// Print a shell completion script, or install kubectl's completer for `kubectl feast`
    Completion(completion::CompletionArgs),
    /// What kubectl_complete-feast runs: the candidates for the words after `kubectl feast`
    #[command(name = "__complete", hide = true)]
    Complete(completion::CompleteArgs),
}

/// A subcommand's arguments as clap reads them from `words` (the subcommand's name, then its
/// arguments), for the commands' unit tests.
#[cfg(test)]
pub(crate) fn parse_args<A: clap::Args + clap::FromArgMatches>(
    words: &[&str],
) -> std::result::Result<A, clap::Error> {
    let matches =
        A::augment_args(clap::Command::new("kubectl-feast")).try_get_matches_from(words)?;
    A::from_arg_matches(&matches)
}

pub async fn run(command: &Command, global: &GlobalArgs) -> Result<()> {
    // The changes and `history` act on one cluster: several contexts are refused there.
    let one = |name| fleet::single(global, name);
    match command {
        Command::Scale(args) => {
            one("scale")?;
            scale::run(args, global).await
        }
        Command::Autoscale(args) => {
            one("autoscale")?;
            autoscale::run(args, global).await
        }
        Command::Pdb(args) => {
            one("pdb")?;
            pdb::run(args, global).await
        }
        Command::Persistence(args) => {
            one("persistence")?;
            persistence::run(args, global).await
        }
        Command::History(args) => {
            one("history")?;
            history::run(args, global).await
        }
        Command::Recommend(args) => {
            one("recommend")?;
            recommend::run(args, global).await
        }
        Command::Validate(args) => validate::run(args, global).await,
        Command::Status(args) => status::run(args, global).await,
        Command::Doctor(args) => doctor::run(args, global).await,
        Command::Version => version::run(global),
        Command::Completion(args) => completion::run(args),
        Command::Complete(args) => completion::complete(args).await,
    }
}
