//! `kubectl feast persistence`: point a store's online store, registry and offline store at
//! databases (`…persistence.store`), which the CRD asks for before a store may scale (§3.1).
//! The settings live in a Secret, made by the user or by `--secret-from-file` from files
//! (credentials never go on a command line); the change is refused while that Secret or one
//! of its keys is missing, since the operator would fail the store without it.

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
  # online on Redis, registry in SQL: each store's settings as YAML
  # in a file, written to the Secret under the store's type
  kubectl feast persistence my-feast --online redis --registry sql \\
    --secret-from-file redis=redis.yaml --secret-from-file sql=sql.yaml
  # with a Secret that is already there
  kubectl feast persistence my-feast --online redis --registry sql

Each chosen store reads the key named as its type from the Secret
(--secret, default feast-data-stores); the change is refused while the
Secret or a key is missing. --secret-from-file writes it first, once
the change is checked and confirmed. The new stores start empty: run
`feast apply` and materialize again.

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
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SECRET, value_parser = parse_secret_name)]
    pub secret: String,
    /// Write the Secret too: key KEY holds FILE's content (a store's settings as YAML);
    /// repeatable. Credentials stay in files, off the command line
    #[arg(long, value_name = "KEY=FILE", value_parser = parse_key_file)]
    pub secret_from_file: Vec<(String, std::path::PathBuf)>,
    #[command(flatten)]
    pub change: ChangeOptions,
}

/// `KEY=FILE`: a Secret key (letters, digits, `-`, `_`, `.`) and the file that holds its value.
fn parse_key_file(s: &str) -> std::result::Result<(String, std::path::PathBuf), String> {
    let (key, file) = s
        .split_once('=')
        .filter(|(k, f)| !k.is_empty() && !f.is_empty())
        .ok_or_else(|| format!("{s:?} is not KEY=FILE, e.g. redis=./redis.yaml"))?;
    if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "{key:?} is not a Secret key: letters, digits, '-', '_' and '.'"
        ));
    }
    Ok((key.to_string(), std::path::PathBuf::from(file)))
}

/// The Secret `--secret-from-file` writes, its files read; an unreadable one is bad usage.
fn secret_data(args: &PersistenceArgs) -> Result<Option<change::SecretData>> {
    if args.secret_from_file.is_empty() {
        return Ok(None);
    }
    if args.change.local {
        return Err(crate::error::Error::usage(
            "--secret-from-file writes a Secret to the cluster; --local changes a file only",
        )
        .with_hint("commit the Secret the way your repository keeps Secrets, or drop --local"));
    }
    let mut data = std::collections::BTreeMap::new();
    for (key, file) in &args.secret_from_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            crate::error::Error::usage(format!(
                "--secret-from-file {key}={}: cannot read it: {e}",
                file.display()
            ))
        })?;
        data.insert(key.clone(), text);
    }
    Ok(Some(change::SecretData {
        name: args.secret.clone(),
        data,
    }))
}

pub async fn run(args: &PersistenceArgs, global: &GlobalArgs) -> Result<()> {
    let secret = secret_data(args)?;
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
            secret: secret.as_ref(),
        },
        global,
    )
    .await
    .map(|_| ())
}

/// A Secret's name as the API server takes it: a DNS subdomain (lower-case letters, digits,
/// `-` and `.`, starting and ending with a letter or digit, at most 253 characters).
fn parse_secret_name(s: &str) -> std::result::Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a Secret name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
        ))
    }
}

fn plan_persistence(choice: &PersistenceChoice, live: &Value) -> Planned {
    let fs = FeatureStore::new(live);
    // A store whose type changes starts empty; the same type with another Secret is the same
    // database, reached with other settings.
    let now = |path: &str| {
        fs.typed::<crate::model::DbStore<String>>(path)
            .map(|s| s.type_)
    };
    let mut moved = Vec::new();
    for (chosen, path, what) in [
        (
            &choice.online,
            "spec.services.onlineStore.persistence.store",
            "online features",
        ),
        (
            &choice.registry,
            "spec.services.registry.local.persistence.store",
            "feature definitions",
        ),
        (
            &choice.offline,
            "spec.services.offlineStore.persistence.store",
            "offline data",
        ),
    ] {
        if chosen.is_some() && now(path).as_ref() != chosen.as_ref() {
            moved.push(what);
        }
    }
    let mut notes = Vec::new();
    if !moved.is_empty() {
        notes.push(format!(
            "{}'s new stores start empty: nothing is copied from the old ones ({}); run `feast apply` and materialize again once the pods are up",
            fs.name(),
            moved.join(", ")
        ));
    }
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
        for bad in ["", "Data", "-x", "x-", "a b", "a_b"] {
            assert!(
                parse(&["--online", "redis", "--secret", bad]).is_err(),
                "{bad:?}"
            );
        }
        assert!(parse(&["--online", "redis", "--secret", "db.creds-1"]).is_ok());
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
        let planned = plan_persistence(&choice, &live);
        let after = plan::patched(&live, &planned.patch);
        assert_eq!(
            after["spec"]["services"]["onlineStore"]["persistence"]["store"],
            json!({"type": "postgres", "secretRef": {"name": "s"}})
        );
        assert!(
            planned.notes[0].contains("online features"),
            "redis to postgres"
        );
        // The same type again, with another Secret: the same database, nothing to re-apply.
        let again = PersistenceChoice {
            online: Some("postgres".into()),
            secret: "t".into(),
            ..PersistenceChoice::default()
        };
        assert!(plan_persistence(&again, &after).notes.is_empty());
    }
}
