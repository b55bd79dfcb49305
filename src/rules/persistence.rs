//! The CRD's persistence, PVC and registry one-of rules (operator contract §3.3), mirrored
//! from their CEL text. They hold with or without scaling, in v1 and v1alpha1 alike.

use crate::rules::RuleId;
use serde_json::Value;

use super::Findings;
use crate::featurestore::{FeatureStore, lookup};

const SERVICES: [&str; 3] = [
    "spec.services.onlineStore",
    "spec.services.offlineStore",
    "spec.services.registry.local",
];

pub(super) fn check(fs: &FeatureStore, out: &mut Findings) {
    for service in SERVICES {
        let path = format!("{service}.persistence");
        if let Some(p) = fs.get(&path).and_then(Value::as_object) {
            if p.contains_key("file") == p.contains_key("store") {
                out.cel(
                    RuleId::PersistenceFileOrStore,
                    &path,
                    "One selection required between file or store.",
                    format!("Keep exactly one of {path}.file or {path}.store."),
                );
            }
            let pvc_path = format!("{path}.file.pvc");
            if let Some(pvc) = fs.get(&pvc_path) {
                check_pvc(&pvc_path, pvc, out);
            }
        }
    }
    if let Some(file) = fs.get("spec.services.onlineStore.persistence.file") {
        online_file(file, out);
    }
    if let Some(file) = fs.get("spec.services.registry.local.persistence.file") {
        registry_file(file, out);
    }
    registry_choices(fs, out);
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    lookup(v, key).and_then(Value::as_str)
}

fn is_object_store(path: &str) -> bool {
    path.starts_with("s3://") || path.starts_with("gs://")
}

fn online_file(file: &Value, out: &mut Findings) {
    const AT: &str = "spec.services.onlineStore.persistence.file";
    let has_pvc = lookup(file, "pvc").is_some();
    let Some(path) = str_at(file, "path") else {
        return;
    };
    if !has_pvc && !path.starts_with('/') {
        out.cel(
            RuleId::PersistenceEphemeralAbsolutePath,
            AT,
            "Ephemeral stores must have absolute paths.",
            format!(
                "Without a PVC, {AT}.path must start with '/', e.g. /feast-data/online_store.db."
            ),
        );
    }
    pvc_relative_path(AT, has_pvc, path, out);
    if is_object_store(path) {
        out.cel(
            RuleId::PersistenceOnlineObjectStore,
            AT,
            "Online store does not support S3 or GS buckets.",
            "Use a DB store for the online store: spec.services.onlineStore.persistence.store.",
        );
    }
}

/// Both file stores' rule: on a PVC, the path is a file name relative to the mount path.
fn pvc_relative_path(at: &str, has_pvc: bool, path: &str, out: &mut Findings) {
    if has_pvc && path.starts_with('/') {
        out.cel(
            RuleId::PersistencePvcRelativePath,
            at,
            "PVC path must be a file name only, with no slashes.",
            format!("With a PVC, {at}.path is relative to pvc.mountPath: drop the leading '/'."),
        );
    }
}

fn registry_file(file: &Value, out: &mut Findings) {
    const AT: &str = "spec.services.registry.local.persistence.file";
    let has_pvc = lookup(file, "pvc").is_some();
    let Some(path) = str_at(file, "path") else {
        return;
    };
    if !(has_pvc || path.starts_with('/') || is_object_store(path)) {
        out.cel(
            RuleId::PersistenceRegistryPath,
            AT,
            "Registry files must use absolute paths or be S3 ('s3://') or GS ('gs://') object store URIs.",
            format!("Set {AT}.path to an absolute path or an s3:// or gs:// URI (lower case)."),
        );
    }
    pvc_relative_path(AT, has_pvc, path, out);
    if has_pvc && is_object_store(path) {
        out.cel(
            RuleId::PersistencePvcObjectStore,
            AT,
            "PVC persistence does not support S3 or GS object store URIs.",
            format!("Remove {AT}.pvc to use the object store, or use a file name on the PVC."),
        );
    }
    if lookup(file, "s3_additional_kwargs").is_some() && !path.starts_with("s3://") {
        out.cel(
            RuleId::PersistenceS3Kwargs,
            AT,
            "Additional S3 settings are available only for S3 object store URIs.",
            format!("Remove {AT}.s3_additional_kwargs, or use an s3:// path."),
        );
    }
}

fn check_pvc(at: &str, pvc: &Value, out: &mut Findings) {
    let Some(map) = pvc.as_object() else {
        return;
    };
    if map.contains_key("ref") == map.contains_key("create") {
        out.cel(
            RuleId::PvcRefOrCreate,
            at,
            "One selection is required between ref and create.",
            format!("Set exactly one of {at}.ref (an existing PVC) or {at}.create."),
        );
    }
    // A missing mountPath is the structural check's (a required field of the model).
    if let Some(Value::String(m)) = map.get("mountPath")
        && (!m.starts_with('/') || m.contains(':'))
    {
        out.cel(
            RuleId::PvcMountPath,
            at,
            "Mount path must start with '/' and must not contain ':'",
            format!("Set {at}.mountPath to an absolute path without ':', e.g. /data."),
        );
    }
}

fn registry_choices(fs: &FeatureStore, out: &mut Findings) {
    if let Some(reg) = fs.get("spec.services.registry").and_then(Value::as_object)
        && reg.contains_key("local") == reg.contains_key("remote")
    {
        out.cel(
            RuleId::RegistryLocalOrRemote,
            "spec.services.registry",
            "One selection required.",
            "Set exactly one of spec.services.registry.local or spec.services.registry.remote.",
        );
    }
    if let Some(remote) = fs
        .get("spec.services.registry.remote")
        .and_then(Value::as_object)
        && remote.contains_key("hostname") == remote.contains_key("feastRef")
    {
        out.cel(
            RuleId::RegistryRemoteOneOf,
            "spec.services.registry.remote",
            "One selection required.",
            "Set exactly one of registry.remote.hostname (host:port) or registry.remote.feastRef.",
        );
    }
    if let Some(server) = fs.get("spec.services.registry.local.server") {
        const AT: &str = "spec.services.registry.local.server";
        let flag = |k: &str| lookup(server, k).and_then(Value::as_bool);
        let grpc_present = lookup(server, "grpc").is_some();
        // The rule reads restAPI once grpc is false: without the key its evaluation fails,
        // and the server says so in its own words.
        let rest_missing = lookup(server, "restAPI").is_none();
        if !(flag("restAPI") == Some(true) || flag("grpc") == Some(true) || !grpc_present) {
            out.cel_or_missing_key(
                RuleId::RegistryServerProtocol,
                AT,
                rest_missing.then_some("restAPI"),
                "At least one of restAPI or grpc must be true",
                format!("Set {AT}.grpc or {AT}.restAPI to true."),
            );
        }
        let mcp_enabled = lookup(server, "mcp.enabled").and_then(Value::as_bool) == Some(true);
        if fs.is_v1() && mcp_enabled && flag("restAPI") != Some(true) {
            out.cel(
                RuleId::RegistryMcpNeedsRest,
                AT,
                "MCP requires restAPI to be true",
                format!("Set {AT}.restAPI: true, or disable {AT}.mcp."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::RuleId;
    use crate::rules::testing::errors;
    use serde_json::{Value, json};

    fn with_services(services: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "fs"},
               "spec": {"feastProject": "p", "services": services}})
    }

    #[test]
    fn persistence_needs_exactly_one_of_file_or_store() {
        let obj = with_services(json!({"onlineStore": {"persistence": {}}}));
        assert_eq!(errors(&obj), vec![RuleId::PersistenceFileOrStore]);
    }

    #[test]
    fn ephemeral_online_path_must_be_absolute() {
        let obj =
            with_services(json!({"onlineStore": {"persistence": {"file": {"path": "online.db"}}}}));
        assert_eq!(errors(&obj), vec![RuleId::PersistenceEphemeralAbsolutePath]);
    }

    #[test]
    fn online_path_on_a_pvc_must_be_relative() {
        let obj = with_services(
            json!({"onlineStore": {"persistence": {"file": {"path": "/x/online.db",
            "pvc": {"ref": {"name": "p"}, "mountPath": "/data"}}}}}),
        );
        assert_eq!(errors(&obj), vec![RuleId::PersistencePvcRelativePath]);
    }

    #[test]
    fn online_store_cannot_use_buckets() {
        let obj = with_services(
            json!({"onlineStore": {"persistence": {"file": {"path": "s3://b/o.db"}}}}),
        );
        // s3:// does not start with '/', so the absolute-path rule fails as well, as on the server.
        assert_eq!(
            errors(&obj),
            vec![
                RuleId::PersistenceEphemeralAbsolutePath,
                RuleId::PersistenceOnlineObjectStore
            ]
        );
    }

    #[test]
    fn registry_file_rules() {
        let rel = with_services(
            json!({"registry": {"local": {"persistence": {"file": {"path": "reg.db"}}}}}),
        );
        assert_eq!(errors(&rel), vec![RuleId::PersistenceRegistryPath]);
        let pvc_s3 = with_services(
            json!({"registry": {"local": {"persistence": {"file": {"path": "s3://b/r.db",
            "pvc": {"create": {}, "mountPath": "/data"}}}}}}),
        );
        assert_eq!(errors(&pvc_s3), vec![RuleId::PersistencePvcObjectStore]);
        let kwargs = with_services(
            json!({"registry": {"local": {"persistence": {"file": {"path": "gs://b/r.db",
            "s3_additional_kwargs": {"a": "b"}}}}}}),
        );
        assert_eq!(errors(&kwargs), vec![RuleId::PersistenceS3Kwargs]);
    }

    #[test]
    fn pvc_rules() {
        let both = with_services(json!({"offlineStore": {"persistence": {"file": {
            "pvc": {"ref": {"name": "a"}, "create": {}, "mountPath": "/d"}}}}}));
        assert_eq!(errors(&both), vec![RuleId::PvcRefOrCreate]);
        let colon = with_services(json!({"offlineStore": {"persistence": {"file": {
            "pvc": {"ref": {"name": "a"}, "mountPath": "/d:x"}}}}}));
        assert_eq!(errors(&colon), vec![RuleId::PvcMountPath]);
        let missing = with_services(
            json!({"offlineStore": {"persistence": {"file": {"pvc": {"ref": {"name": "a"}}}}}}),
        );
        assert_eq!(errors(&missing), vec![RuleId::SchemaRequired]);
    }

    #[test]
    fn registry_one_of_rules() {
        assert_eq!(
            errors(&with_services(json!({"registry": {}}))),
            vec![RuleId::RegistryLocalOrRemote]
        );
        assert_eq!(
            errors(&with_services(
                json!({"registry": {"remote": {"hostname": "h:1", "feastRef": {"name": "x"}}}})
            )),
            vec![RuleId::RegistryRemoteOneOf]
        );
    }

    #[test]
    fn registry_server_needs_a_protocol() {
        let off = with_services(json!({"registry": {"local": {"server": {"grpc": false}}}}));
        assert_eq!(errors(&off), vec![RuleId::RegistryServerProtocol]);
        let default = with_services(json!({"registry": {"local": {"server": {}}}}));
        assert!(errors(&default).is_empty());
        let mcp =
            with_services(json!({"registry": {"local": {"server": {"mcp": {"enabled": true}}}}}));
        assert_eq!(errors(&mcp), vec![RuleId::RegistryMcpNeedsRest]);
    }
}
