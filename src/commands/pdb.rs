//! `kubectl feast pdb`: set the disruption budget the operator turns into a
//! PodDisruptionBudget (`spec.services.podDisruptionBudgets`), or remove it.

use clap::{ArgGroup, Args};
use serde_json::Value;

use super::change::{self, ChangeOptions, Lookups, Target};
use crate::cli::GlobalArgs;
use crate::error::Result;
use crate::featurestore::{FeatureStore, IntOrPercent};
use crate::plan::{self, Answers, PdbPolicy, Plan, Planned, Surroundings, Verb};

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("budget").required(true).args(["min_available", "max_unavailable", "off"])),
    after_help = "\
Examples:
  # one pod may be evicted at a time
  kubectl feast pdb my-feast --max-unavailable 1
  # keep half the pods through drains
  kubectl feast pdb my-feast --min-available 50%
  # remove the budget (the PDB is deleted)
  kubectl feast pdb my-feast --off

The operator creates the PDB only while the store scales (replicas > 1
or autoscaling).

Exit codes: 0 done; 1 refused (rules, no confirmation); 2 bad usage; 3
not found, forbidden, CRD missing or cluster unreachable."
)]
pub struct PdbArgs {
    #[command(flatten)]
    pub target: Target,
    /// Pods that must stay available: a count (e.g. 2) or a percentage up to 100% (e.g. 50%)
    #[arg(long, value_name = "X", value_parser = parse_budget, allow_hyphen_values = true)]
    pub min_available: Option<Value>,
    /// Pods that may be unavailable: a count (e.g. 1) or a percentage up to 100% (e.g. 25%)
    #[arg(long, value_name = "Y", value_parser = parse_budget, allow_hyphen_values = true)]
    pub max_unavailable: Option<Value>,
    /// Remove the disruption budget
    #[arg(long)]
    pub off: bool,
    #[command(flatten)]
    pub change: ChangeOptions,
}

pub async fn run(args: &PdbArgs, global: &GlobalArgs) -> Result<()> {
    let policy = policy(args);
    let planner =
        |live: &Value, _: &Surroundings, _: &Answers| Ok(Plan::Ready(plan_pdb(&policy, live)));
    change::run_or_local(
        change::Request {
            command: "pdb",
            target: &args.target,
            options: &args.change,
            lookups: Lookups {
                misaimed_keda: true,
                ..Lookups::default()
            },
            resource_version: None,
            plan: &planner,
            secret: None,
        },
        global,
    )
    .await
    .map(|_| ())
}

/// An int-or-percent as the PDB API takes it: an integer ≥ 0, or digits and `%` up to 100%.
pub fn parse_budget(s: &str) -> std::result::Result<Value, String> {
    IntOrPercent::parse_flag(s).map(IntOrPercent::to_value).ok_or_else(|| {
        format!(
            "{:?} is not a disruption budget: use a whole number (e.g. 1) or a percentage from 0% to 100% (e.g. 50%)",
            s.trim()
        )
    })
}

fn policy(args: &PdbArgs) -> PdbPolicy {
    match (&args.min_available, &args.max_unavailable) {
        (Some(v), _) => PdbPolicy::MinAvailable(v.clone()),
        (None, Some(v)) => PdbPolicy::MaxUnavailable(v.clone()),
        (None, None) => PdbPolicy::Off,
    }
}

fn plan_pdb(policy: &PdbPolicy, live: &Value) -> Planned {
    let fs = FeatureStore::new(live);
    let mut notes = Vec::new();
    if *policy == PdbPolicy::Off && fs.pdb().is_none() {
        notes.push(format!(
            "{} has no disruption budget; nothing to remove",
            fs.name()
        ));
    }
    Planned {
        patch: plan::pdb_patch(policy),
        verb: Verb::Configured,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(line: &[&str]) -> std::result::Result<PdbArgs, clap::Error> {
        crate::commands::parse_args(&[&["pdb", "fs"], line].concat())
    }

    #[test]
    fn budgets_are_counts_or_percentages_up_to_100() {
        assert_eq!(parse_budget("0"), Ok(json!(0)));
        assert_eq!(parse_budget("2"), Ok(json!(2)));
        assert_eq!(parse_budget("50%"), Ok(json!("50%")));
        assert_eq!(parse_budget("100%"), Ok(json!("100%")));
        for bad in ["101%", "-1", "abc", "%", "1.5", "", "5 %"] {
            assert!(parse_budget(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exactly_one_of_the_budget_flags_is_required() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--min-available", "1", "--max-unavailable", "1"]).is_err());
        assert!(parse(&["--off", "--max-unavailable", "1"]).is_err());
        assert!(parse(&["--off"]).is_ok());
    }

    #[test]
    fn switching_fields_nulls_the_other_in_the_same_patch() {
        let args = parse(&["--max-unavailable", "25%"]).expect("args");
        let live = json!({"metadata": {"name": "fs"}, "spec": {"services": {"podDisruptionBudgets": {"minAvailable": 2}}}});
        let p = plan_pdb(&policy(&args), &live);
        assert_eq!(
            p.patch,
            json!({"spec": {"services": {"podDisruptionBudgets": {"maxUnavailable": "25%", "minAvailable": null}}}})
        );
        assert!(p.notes.is_empty());
    }

    #[test]
    fn off_without_a_budget_says_there_is_nothing_to_remove() {
        let live = json!({"metadata": {"name": "fs"}, "spec": {}});
        let p = plan_pdb(&PdbPolicy::Off, &live);
        assert!(p.notes[0].contains("nothing to remove"));
    }
}
