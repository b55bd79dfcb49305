//! The per-object persistence table: for each service, what backs it and whether that is safe
//! with more than one replica (the same reasoning as the scaling rules R2–R4, §2.8).

use serde::Serialize;
use serde_json::Value;

use crate::featurestore::{FeatureStore, lookup};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersistenceVerdict {
    pub service: &'static str,
    pub backend: String,
    pub scalable: bool,
    pub reason: String,
}

fn verdict(
    service: &'static str,
    backend: String,
    scalable: bool,
    reason: &str,
) -> PersistenceVerdict {
    PersistenceVerdict {
        service,
        backend,
        scalable,
        reason: reason.to_string(),
    }
}

fn store_type(p: &Value) -> String {
    lookup(p, "store.type")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

fn file_backend(file: &Value, default_path: &str) -> String {
    let path = lookup(file, "path").and_then(Value::as_str);
    match (lookup(file, "pvc"), path) {
        (Some(_), p) => format!("file on PVC: {}", p.unwrap_or("(default name)")),
        (None, Some(p)) => format!("file: {p}"),
        (None, None) => format!("file: {default_path}"),
    }
}

pub fn persistence_table(object: &Value) -> Vec<PersistenceVerdict> {
    let fs = FeatureStore::new(object);
    vec![online(&fs), offline(&fs), registry(&fs)]
}

fn online(fs: &FeatureStore) -> PersistenceVerdict {
    const S: &str = "onlineStore";
    let disabled = fs
        .get("spec.services.onlineStore.disabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match fs.get("spec.services.onlineStore.persistence") {
        Some(p) if lookup(p, "store").is_some() => {
            let b = format!("store: {}", store_type(p));
            verdict(S, b, true, "shared database")
        }
        Some(p) if lookup(p, "file").is_some() => verdict(
            S,
            format!(
                "sqlite {}",
                file_backend(&p["file"], "/feast-data/online_store.db")
            ),
            false,
            "sqlite file per pod: replicas would serve different data",
        ),
        _ if disabled => verdict(
            S,
            "disabled".into(),
            false,
            "the CRD still requires persistence.store to scale",
        ),
        _ => verdict(
            S,
            "sqlite file: /feast-data/online_store.db (default)".into(),
            false,
            "default sqlite file per pod",
        ),
    }
}

fn offline(fs: &FeatureStore) -> PersistenceVerdict {
    const S: &str = "offlineStore";
    let Some(off) = fs.get("spec.services.offlineStore") else {
        return verdict(S, "none".into(), true, "no offline store configured");
    };
    match lookup(off, "persistence") {
        Some(p) if lookup(p, "store").is_some() => verdict(
            S,
            format!("store: {}", store_type(p)),
            true,
            "shared database",
        ),
        Some(p) if lookup(p, "file").is_some() => {
            let ty = lookup(p, "file.type")
                .and_then(Value::as_str)
                .unwrap_or("dask");
            let on = if lookup(p, "file.pvc").is_some() {
                " on PVC"
            } else {
                ""
            };
            verdict(S, format!("file ({ty}){on}"), false, "file store per pod")
        }
        _ => verdict(
            S,
            "file (dask, default)".into(),
            false,
            "default file store per pod",
        ),
    }
}

fn registry(fs: &FeatureStore) -> PersistenceVerdict {
    const S: &str = "registry";
    let Some(reg) = fs.get("spec.services.registry") else {
        return verdict(
            S,
            "file: /feast-data/registry.db (default)".into(),
            false,
            "implicit file registry per pod",
        );
    };
    if let Some(remote) = lookup(reg, "remote") {
        let target = match (lookup(remote, "hostname"), lookup(remote, "feastRef")) {
            (Some(h), _) => h.as_str().unwrap_or("?").to_string(),
            (None, Some(r)) => {
                let name = lookup(r, "name").and_then(Value::as_str).unwrap_or("?");
                match lookup(r, "namespace").and_then(Value::as_str) {
                    Some(ns) => format!("feastRef {ns}/{name}"),
                    None => format!("feastRef {name}"),
                }
            }
            _ => "?".into(),
        };
        return verdict(
            S,
            format!("remote: {target}"),
            true,
            "served by another registry",
        );
    }
    match lookup(reg, "local.persistence") {
        Some(p) if lookup(p, "store").is_some() => verdict(
            S,
            format!("store: {}", store_type(p)),
            true,
            "shared database",
        ),
        Some(p) if lookup(p, "file").is_some() => {
            let path = lookup(p, "file.path").and_then(Value::as_str).unwrap_or("");
            if path.starts_with("s3://") {
                verdict(S, format!("S3: {path}"), true, "shared object store")
            } else if path.starts_with("gs://") {
                verdict(S, format!("GCS: {path}"), true, "shared object store")
            } else {
                let reason = if path.to_ascii_lowercase().starts_with("s3://")
                    || path.to_ascii_lowercase().starts_with("gs://")
                {
                    "the scheme must be lower case (s3://, gs://)"
                } else {
                    "file per pod"
                };
                verdict(
                    S,
                    file_backend(&p["file"], "/feast-data/registry.db"),
                    false,
                    reason,
                )
            }
        }
        _ => verdict(
            S,
            "file: /feast-data/registry.db (default)".into(),
            false,
            "default file registry per pod",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(spec: Value) -> Vec<(String, bool)> {
        persistence_table(&json!({"spec": spec}))
            .into_iter()
            .map(|v| (v.backend, v.scalable))
            .collect()
    }

    #[test]
    fn bare_store_is_unsafe_to_scale_except_offline() {
        let t = table(json!({"feastProject": "p"}));
        assert!(!t[0].1);
        assert_eq!(t[1], ("none".to_string(), true));
        assert!(!t[2].1);
    }

    #[test]
    fn db_remote_and_object_store_backends_are_safe() {
        let t = table(json!({"services": {
            "onlineStore": {"persistence": {"store": {"type": "redis"}}},
            "offlineStore": {"persistence": {"store": {"type": "postgres"}}},
            "registry": {"local": {"persistence": {"file": {"path": "s3://b/r.db"}}}}}}));
        assert_eq!(
            t,
            vec![
                ("store: redis".into(), true),
                ("store: postgres".into(), true),
                ("S3: s3://b/r.db".into(), true)
            ]
        );
        let remote = table(
            json!({"services": {"registry": {"remote": {"feastRef": {"name": "core", "namespace": "shared"}}}}}),
        );
        assert_eq!(remote[2], ("remote: feastRef shared/core".into(), true));
    }

    #[test]
    fn upper_case_bucket_scheme_is_explained() {
        let v = &persistence_table(
            &json!({"spec": {"services": {"registry": {"local": {"persistence": {"file": {"path": "GS://b/r.db"}}}}}}}),
        )[2];
        assert!(!v.scalable);
        assert!(v.reason.contains("lower case"));
    }
}
