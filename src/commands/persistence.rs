//! `kubectl feast persistence`: point a store's online store, registry and offline store at
//! databases (`…persistence.store`), which the CRD asks for before a store may scale (§3.1).
//! The settings stay in a Secret the user makes (credentials never go on a command line); the
//! change is refused while that Secret or one of its keys is missing, since the operator would
//! fail the store without it.

use clap::{ArgGroup, Args};
use serde_json::Value;

use super::change::{self, ChangeOptions, Lookups, Target};
use crate::cli::GlobalArgs;
use crate::error::Result;
use crate::featurestore::FeatureStore;
use crate::model::{OFFLINE_STORE_TYPES, ONLINE_STORE_TYPES, REGISTRY_STORE_TYPES};
use crate::plan::{self, Answers, PersistenceChoice, Plan, Planned, Surroundings, Verb};

/// The Secret the persistence hints and this command use unless told otherwise.
pub const DEFAULT_SECRET: &str = "feast-data-stores";

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("stores").required(true).multiple(true).args(["online", "registry", "offline"])),
    after_help = "\
Examples:
  # the Secret first: one key per store type, its settings as YAML
  kubectl create secret generic feast-data-stores \\
    --from-literal=redis='connection_string: redis:6379' \\
    --from-literal=sql='path: postgresql+psycopg://u:p@pg/feast'
  # then the store: online on Redis, registry in SQL
  kubectl feast persistence my-feast --online redis --registry sql

Each chosen store reads the key named as its type from the Secret
(--secret, default feast-data-stores); the change is refused while the
Secret or a key is missing. The new stores start empty: run `feast
apply` and materialize again.

Exit codes: 0 done; 1 refused (rules, a missing Secret or key, no
confirmation); 2 bad usage; 3 not found, forbidden, CRD missing or
cluster unreachable."
)]
pub struct PersistenceArgs {
    #[command(flatten)]
    pub target: Target,
    /// Online store database type (e.g. redis, postgres)
    #[arg(long, value_name = "TYPE", value_parser = clap::builder::PossibleValuesParser::new(ONLINE_STORE_TYPES))]
    pub online: Option<String>,
    /// Registry database type
    #[arg(long, value_name = "TYPE", value_parser = clap::builder::PossibleValuesParser::new(REGISTRY_STORE_TYPES))]
    pub registry: Option<String>,
    /// Offline store database type (e.g. postgres, bigquery)
    #[arg(long, value_name = "TYPE", value_parser = clap::builder::PossibleValuesParser::new(OFFLINE_STORE_TYPES))]
    pub offline: Option<String>,
    /// The Secret holding each store's settings under a key named as its type
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SECRET)]
    pub secret: String,
    #[command(flatten)]
    pub change: ChangeOptions,
}

pub async fn run(args: &PersistenceArgs, global: &GlobalArgs) -> Result<()> {
    let choice = PersistenceChoice {
        online: args.online.clone(),
        offline: args.offline.clone(),
        registry: args.registry.clone(),
        secret: args.secret.clone(),
    };
    let planner = |live: &Value, _: &Surroundings, _: &Answers| {
        Ok(Plan::Ready(plan_persistence(&choice, live)))
    };
    change::run_or_local(
        change::Request {
            command: "persistence",
            target: &args.target,
            options: &args.change,
            lookups: Lookups {
                secrets: true,
                ..Lookups::default()
            },
            resource_version: None,
            plan: &planner,
        },
        global,
    )
    .await
    .map(|_| ())
}

fn plan_persistence(choice: &PersistenceChoice, live: &Value) -> Planned {
    let fs = FeatureStore::new(live);
    let mut notes = Vec::new();
    let mut moved = Vec::new();
    if choice.online.is_some() {
        moved.push("online features");
    }
    if choice.registry.is_some() {
        moved.push("feature definitions");
    }
    if choice.offline.is_some() {
        moved.push("offline data");
    }
    notes.push(format!(
        "{}'s new stores start empty: nothing is copied from the old ones ({}); run `feast apply` and materialize again once the pods are up",
        fs.name(),
        moved.join(", ")
    ));
    Planned {
        patch: plan::persistence_patch(choice),
        verb: Verb::Configured,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(line: &[&str]) -> std::result::Result<PersistenceArgs, clap::Error> {
        crate::commands::parse_args(&[&["persistence", "fs"], line].concat())
    }

    #[test]
    fn at_least_one_store_and_only_the_crds_types() {
        assert!(parse(&[]).is_err(), "no store chosen");
        assert!(
            parse(&["--online", "sqlite"]).is_err(),
            "sqlite is the file default"
        );
        assert!(parse(&["--registry", "redis"]).is_err());
        let args = parse(&["--online", "redis", "--registry", "sql"]).expect("args");
        assert_eq!(args.secret, DEFAULT_SECRET);
    }

    #[test]
    fn a_default_store_becomes_one_that_may_scale() {
        let choice = PersistenceChoice {
            online: Some("redis".into()),
            registry: Some("sql".into()),
            offline: None,
            secret: "s".into(),
        };
        let live = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "fs"}, "spec": {"feastProject": "p", "replicas": 3,
            "services": {"registry": {"remote": {"hostname": "r:80"}},
                "onlineStore": {"persistence": {"file": {"path": "/data/online.db"}}}}}});
        let planned = plan_persistence(&choice, &live);
        let after = plan::patched(&live, &planned.patch);
        let fs = FeatureStore::new(&after);
        assert!(!fs.has("spec.services.onlineStore.persistence.file"));
        assert!(
            !fs.has("spec.services.registry.remote"),
            "one of local or remote"
        );
        let secrets: Vec<(String, String)> = fs
            .db_secrets()
            .into_iter()
            .map(|d| (d.secret, d.key))
            .collect();
        assert_eq!(
            secrets,
            [("s".into(), "redis".into()), ("s".into(), "sql".into())]
        );
        // The scaling rules pass now: 3 replicas are allowed.
        let errors: Vec<_> = crate::rules::check(&after)
            .into_iter()
            .filter(|f| f.severity == crate::rules::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_key_name_that_would_point_elsewhere_is_dropped() {
        let choice = PersistenceChoice {
            online: Some("postgres".into()),
            secret: "s".into(),
            ..PersistenceChoice::default()
        };
        let live = json!({"metadata": {"name": "fs"}, "spec": {"services": {"onlineStore":
            {"persistence": {"store": {"type": "redis", "secretRef": {"name": "old"}, "secretKeyName": "k"}}}}}});
        let after = plan::patched(&live, &plan_persistence(&choice, &live).patch);
        assert_eq!(
            after["spec"]["services"]["onlineStore"]["persistence"]["store"],
            json!({"type": "postgres", "secretRef": {"name": "s"}})
        );
    }
}
