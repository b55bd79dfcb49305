//! The CRD's four scaling rules (R1–R4, on `spec`) and the PDB exactly-one rule, mirrored from
//! the operator contract §3.1, §3.2 and §3.4. Presence means the key exists (CEL `has()`),
//! whatever its value; a missing `spec.replicas` is the schema default, 1.

use crate::rules::RuleId;
use serde_json::Value;

use super::Findings;
use crate::featurestore::FeatureStore;

pub const MUTUAL_EXCLUSION: &str =
    "replicas > 1 and services.scaling.autoscaling are mutually exclusive.";
pub const ONLINE_DB: &str = "Scaling requires DB-backed persistence for the online store. Configure services.onlineStore.persistence.store when using replicas > 1 or autoscaling.";
pub const OFFLINE_DB: &str = "Scaling requires DB-backed persistence for the offline store. Configure services.offlineStore.persistence.store when using replicas > 1 or autoscaling.";
pub const REGISTRY_DB: &str = "Scaling requires DB-backed or remote registry. Configure registry.local.persistence.store or use a remote registry when using replicas > 1 or autoscaling. S3/GCS-backed registry is also allowed.";
pub const PDB_EXACTLY_ONE: &str = "Exactly one of minAvailable or maxUnavailable must be set.";

pub(super) fn check(fs: &FeatureStore, out: &mut Findings) {
    let replicas = fs.replicas();
    let autoscaling = fs.has("spec.services.scaling.autoscaling");
    if replicas > 1 && autoscaling {
        out.cel(
            RuleId::ScalingMutualExclusion,
            "spec",
            MUTUAL_EXCLUSION,
            format!(
                "Choose one: remove spec.replicas ({replicas}) to keep the HPA \
                 (`kubectl feast autoscale {n} --max N`), or drop the HPA and scale statically \
                 (`kubectl feast autoscale {n} --off --replicas {replicas}`).",
                n = fs.target()
            ),
        );
    }
    if replicas > 1 || autoscaling {
        scaled_persistence(fs, out);
    }
    pdb_exactly_one(fs, out);
}

fn scaled_persistence(fs: &FeatureStore, out: &mut Findings) {
    // The stores to move, each with the type the hints suggest: one Secret with every key,
    // and one `persistence` command, whichever finding is read first.
    let online = !fs.has("spec.services.onlineStore.persistence.store");
    let offline = fs.has("spec.services.offlineStore")
        && !fs.has("spec.services.offlineStore.persistence.store");
    let registry = !registry_scalable(fs);
    let moves: Vec<(&str, &str)> = [
        (online, "--online", "redis"),
        (registry, "--registry", "sql"),
        (offline, "--offline", "postgres"),
    ]
    .into_iter()
    .filter(|(missing, _, _)| *missing)
    .map(|(_, flag, ty)| (flag, ty))
    .collect();
    let keys: Vec<&str> = moves.iter().map(|(_, ty)| *ty).collect();
    let secret = secret_command(fs, &keys);
    let flags: Vec<String> = moves.iter().map(|(f, ty)| format!("{f} {ty}")).collect();
    let plugin = format!(
        " With that Secret, the plugin makes the change: `kubectl feast persistence {} {}`.",
        fs.target(),
        flags.join(" ")
    );
    if online {
        let disabled = fs
            .get("spec.services.onlineStore.disabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let why = if disabled {
            " The CRD asks for it even though the online store is disabled."
        } else {
            " A sqlite file lives in each pod, so replicas would each serve their own copy."
        };
        out.cel(
            RuleId::ScalingOnlineStoreDb,
            "spec",
            ONLINE_DB,
            format!(
                "Set spec.services.onlineStore.persistence.store with a type and a secretRef, \
                 e.g. {{onlineStore: {{persistence: {{store: {{type: redis, secretRef: {{name: {SECRET}}}}}}}}}}}, \
                 and a Secret whose key is the type, holding the store's online_store settings as \
                 YAML: {secret}.{why}{plugin}",
            ),
        );
    }
    if offline {
        out.cel(
            RuleId::ScalingOfflineStoreDb,
            "spec",
            OFFLINE_DB,
            format!(
                "Set spec.services.offlineStore.persistence.store with a type and a secretRef, \
                 e.g. {{offlineStore: {{persistence: {{store: {{type: postgres, secretRef: {{name: {SECRET}}}}}}}}}}} \
                 with a Secret whose key is the type: {secret}; or remove spec.services.offlineStore if \
                 this store needs no offline server.{plugin}",
            ),
        );
    }
    if registry {
        let path = fs
            .get("spec.services.registry.local.persistence.file.path")
            .and_then(Value::as_str)
            .unwrap_or("");
        let lower = path.to_ascii_lowercase();
        let case_hint = if lower.starts_with("s3://") || lower.starts_with("gs://") {
            format!(
                " The scheme is case-sensitive: write \"{}\" in lower case.",
                &path[..5]
            )
        } else {
            String::new()
        };
        out.cel(
            RuleId::ScalingRegistryDbOrRemote,
            "spec",
            REGISTRY_DB,
            format!(
                "Use spec.services.registry.remote (hostname or feastRef), a database, e.g. \
                 {{registry: {{local: {{persistence: {{store: {{type: sql, secretRef: {{name: {SECRET}}}}}}}}}}}}} \
                 with a Secret whose key is the type: {secret}, or a registry file path that \
                 starts with s3:// or gs://.{case_hint}{plugin}",
            ),
        );
    }
}

/// The Secret name the persistence hints write (the `persistence` command's default).
const SECRET: &str = crate::commands::persistence::DEFAULT_SECRET;

/// The command that makes the Secret a DB store reads: the operator looks up the key named as
/// the store's `type` (unless `secretKeyName` says another) and reads its value as the YAML
/// settings of that feature_store.yaml section.
fn secret_command(fs: &FeatureStore, keys: &[&str]) -> String {
    let keys: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.to_string(), example_settings(k)))
        .collect();
    secret_hint(SECRET, fs.namespace(), false, &keys)
}

/// Example settings of a database store of this type, as the value of its Secret key: the
/// YAML of its feature_store.yaml section, with what to change marked.
pub fn example_settings(store_type: &str) -> String {
    match store_type {
        "redis" => "connection_string: redis.feast.svc:6379".into(),
        "postgres" => "{host: postgres.feast.svc, port: 5432, database: feast, user: feast, password: CHANGE-ME}".into(),
        "sql" => "{path: \"postgresql+psycopg://feast@postgres.feast.svc:5432/feast\", cache_ttl_seconds: 60}".into(),
        other => format!("CHANGE-ME: the {other} settings of feature_store.yaml, as YAML"),
    }
}

/// The command that gives Secret `secret` these keys: `kubectl create secret generic` when it
/// does not exist, else a merge patch of its `stringData`.
pub fn secret_hint(
    secret: &str,
    namespace: Option<&str>,
    exists: bool,
    keys: &[(String, String)],
) -> String {
    let q = crate::suggest::shell_quote;
    let ns = namespace
        .map(|n| format!(" -n {}", q(n)))
        .unwrap_or_default();
    if exists {
        let data: serde_json::Map<String, Value> = keys
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let patch = serde_json::json!({"stringData": data}).to_string();
        return format!(
            "`kubectl patch secret {}{ns} --type merge -p {}`",
            q(secret),
            q(&patch)
        );
    }
    let literals: Vec<String> = keys
        .iter()
        .map(|(k, v)| format!("--from-literal={}", q(&format!("{k}={v}"))))
        .collect();
    format!(
        "`kubectl create secret generic {}{ns} {}`",
        q(secret),
        literals.join(" ")
    )
}

/// R4's passing forms: remote, a DB store, or an object-store path (case-sensitive).
pub(super) fn registry_scalable(fs: &FeatureStore) -> bool {
    if fs.has("spec.services.registry.remote")
        || fs.has("spec.services.registry.local.persistence.store")
    {
        return true;
    }
    fs.get("spec.services.registry.local.persistence.file.path")
        .and_then(Value::as_str)
        .is_some_and(|p| p.starts_with("s3://") || p.starts_with("gs://"))
}

fn pdb_exactly_one(fs: &FeatureStore, out: &mut Findings) {
    let Some(pdb) = fs.get("spec.services.podDisruptionBudgets") else {
        return;
    };
    let Some(map) = pdb.as_object() else {
        return; // a type error, reported by the schema rules
    };
    let set = ["minAvailable", "maxUnavailable"]
        .iter()
        .filter(|k| map.contains_key(**k))
        .count();
    if set != 1 {
        let what = if set == 0 {
            "neither is set"
        } else {
            "both are set"
        };
        out.cel(
            RuleId::PdbExactlyOne,
            "spec.services.podDisruptionBudgets",
            PDB_EXACTLY_ONE,
            format!(
                "{what}: keep exactly one, e.g. `kubectl feast pdb {} --max-unavailable 1`.",
                fs.target()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::RuleId;
    use crate::rules::testing::{errors, finding};
    use serde_json::{Value, json};

    fn db_backed(extra: Value) -> Value {
        let mut obj = json!({
            "apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "fs"},
            "spec": {"feastProject": "p", "services": {
                "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": "s"}}}},
                "registry": {"remote": {"hostname": "reg:80"}}
            }}
        });
        crate::plan::merge_patch(&mut obj, &extra);
        obj
    }

    fn bare(spec: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "fs"}, "spec": spec})
    }

    /// The `{...}` YAML the hint shows after "e.g.".
    fn shown_yaml(hint: &str) -> Value {
        let start = hint.find("e.g. {").expect("an example") + "e.g. ".len();
        let mut depth = 0;
        let end = hint[start..]
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(start + i + 1)
            })
            .expect("balanced");
        serde_saphyr::from_str(&hint[start..end]).expect("the example is YAML")
    }

    #[test]
    fn the_persistence_hints_show_yaml_that_passes_the_rule() {
        let obj =
            bare(json!({"feastProject": "p", "replicas": 3, "services": {"offlineStore": {}}}));
        let mut fixed = obj.clone();
        for rule in [
            RuleId::ScalingOnlineStoreDb,
            RuleId::ScalingOfflineStoreDb,
            RuleId::ScalingRegistryDbOrRemote,
        ] {
            let hint = finding(&obj, rule).hint.to_string();
            assert!(
                hint.contains("kubectl create secret generic feast-data-stores"),
                "{hint}"
            );
            crate::plan::merge_patch(&mut fixed["spec"]["services"], &shown_yaml(&hint));
        }
        assert_eq!(errors(&fixed), Vec::<RuleId>::new(), "{fixed}");
    }

    #[test]
    fn single_replica_with_file_persistence_is_fine() {
        assert!(errors(&bare(json!({"feastProject": "p"}))).is_empty());
    }

    #[test]
    fn replicas_with_autoscaling_are_mutually_exclusive() {
        let obj = db_backed(
            json!({"spec": {"replicas": 3, "services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}}),
        );
        assert_eq!(errors(&obj), vec![RuleId::ScalingMutualExclusion]);
        let f = finding(&obj, RuleId::ScalingMutualExclusion);
        assert_eq!(f.path, "spec");
        assert!(f.message.contains("mutually exclusive"));
    }

    #[test]
    fn replicas_one_with_autoscaling_is_the_normal_hpa_shape() {
        let obj = db_backed(
            json!({"spec": {"replicas": 1, "services": {"scaling": {"autoscaling": {"maxReplicas": 5}}}}}),
        );
        assert!(errors(&obj).is_empty());
    }

    #[test]
    fn scaling_without_services_fails_online_and_registry_but_not_offline() {
        let obj = bare(json!({"feastProject": "p", "replicas": 2}));
        assert_eq!(
            errors(&obj),
            vec![
                RuleId::ScalingOnlineStoreDb,
                RuleId::ScalingRegistryDbOrRemote
            ]
        );
    }

    #[test]
    fn disabled_online_store_still_needs_a_db_store() {
        let obj = db_backed(
            json!({"spec": {"replicas": 2, "services": {"onlineStore": {"disabled": true, "persistence": null}}}}),
        );
        assert_eq!(errors(&obj), vec![RuleId::ScalingOnlineStoreDb]);
        assert!(
            finding(&obj, RuleId::ScalingOnlineStoreDb)
                .hint
                .contains("disabled")
        );
    }

    #[test]
    fn present_offline_store_without_db_fails_when_scaling() {
        let obj = db_backed(
            json!({"spec": {"replicas": 2, "services": {"offlineStore": {"server": {}}}}}),
        );
        assert_eq!(errors(&obj), vec![RuleId::ScalingOfflineStoreDb]);
    }

    #[test]
    fn registry_object_store_prefix_is_case_sensitive() {
        let upper = db_backed(
            json!({"spec": {"replicas": 2, "services": {"registry": {"remote": null,
            "local": {"persistence": {"file": {"path": "S3://bucket/registry.db"}}}}}}}),
        );
        let errs = errors(&upper);
        assert!(
            errs.contains(&RuleId::ScalingRegistryDbOrRemote),
            "{errs:?}"
        );
        assert!(
            finding(&upper, RuleId::ScalingRegistryDbOrRemote)
                .hint
                .contains("case-sensitive")
        );
        let lower = db_backed(
            json!({"spec": {"replicas": 2, "services": {"registry": {"remote": null,
            "local": {"persistence": {"file": {"path": "gs://bucket/registry.db"}}}}}}}),
        );
        assert!(errors(&lower).is_empty(), "{:?}", errors(&lower));
    }

    #[test]
    fn absent_registry_is_rejected_when_scaling() {
        let obj = db_backed(json!({"spec": {"replicas": 2, "services": {"registry": null}}}));
        assert_eq!(errors(&obj), vec![RuleId::ScalingRegistryDbOrRemote]);
    }

    #[test]
    fn pdb_needs_exactly_one_field() {
        for pdb in [json!({}), json!({"minAvailable": 1, "maxUnavailable": 1})] {
            let obj = db_backed(
                json!({"spec": {"replicas": 2, "services": {"podDisruptionBudgets": pdb}}}),
            );
            assert_eq!(errors(&obj), vec![RuleId::PdbExactlyOne]);
        }
    }
}
