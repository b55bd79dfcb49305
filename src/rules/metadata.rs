//! `metadata` as the API server checks it for every object (apimachinery's ObjectMeta
//! validation): the types kubectl's decoder needs, the name, the namespace, label and
//! annotation keys and values. Worded as kubectl 1.35 and the API server word them.

use serde_json::Value;

use super::Findings;
use crate::featurestore::{is_dns_label as is_label, is_subdomain};
use crate::rules::RuleId;

const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
/// The API server's limit on all of an object's annotations together.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

pub(super) fn check(object: &Value, out: &mut Findings) {
    let Some(meta) = object.get("metadata") else {
        out.schema(
            RuleId::MetadataName,
            "metadata.name",
            "Required value: name or generateName is required".into(),
            "Set metadata.name: a lowercase name such as my-feast.",
        );
        return;
    };
    let Some(meta) = meta.as_object() else {
        out.schema(
            RuleId::MetadataType,
            "metadata",
            format!(
                "json: cannot unmarshal {} into Go struct field metadataOnlyObject.metadata of type v1.ObjectMeta",
                go_kind(meta)
            ),
            "metadata is a mapping: metadata: {name: my-feast}.",
        );
        return;
    };
    for (field, go) in [
        ("name", "name"),
        ("namespace", "namespace"),
        ("generateName", "generateName"),
    ] {
        if let Some(v) = meta.get(field).filter(|v| !v.is_string() && !v.is_null()) {
            out.schema(
                RuleId::MetadataType,
                &format!("metadata.{field}"),
                format!(
                    "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{go} of type string",
                    go_kind(v)
                ),
                format!("Quote it: metadata.{field} is a string."),
            );
        }
    }
    match meta.get("name").and_then(Value::as_str) {
        Some(name) if !is_subdomain(name) => out.schema(
            RuleId::MetadataName,
            "metadata.name",
            format!("Invalid value: {}: {SUBDOMAIN}", quoted(name)),
            "Use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (at most 253 characters).",
        ),
        None if meta.get("generateName").and_then(Value::as_str).is_none()
            && meta.get("name").is_none_or(Value::is_null) =>
        {
            out.schema(
                RuleId::MetadataName,
                "metadata.name",
                "Required value: name or generateName is required".into(),
                "Set metadata.name: a lowercase name such as my-feast.",
            )
        }
        _ => {}
    }
    if let Some(ns) = meta.get("namespace").and_then(Value::as_str)
        && !is_label(ns)
    {
        out.schema(
            RuleId::MetadataNamespace,
            "metadata.namespace",
            format!("Invalid value: {}: {LABEL}", quoted(ns)),
            "Use lower-case letters, digits and '-' (at most 63 characters), or leave it out and pass -n.",
        );
    }
    check_map(meta, "labels", RuleId::MetadataLabels, out);
    check_map(meta, "annotations", RuleId::MetadataAnnotations, out);
}

fn check_map(meta: &serde_json::Map<String, Value>, field: &str, rule: RuleId, out: &mut Findings) {
    let path = format!("metadata.{field}");
    let Some(map) = meta.get(field).filter(|v| !v.is_null()) else {
        return;
    };
    let Some(map) = map.as_object() else {
        out.schema(
            RuleId::MetadataType,
            &path,
            format!(
                "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{field} of type map[string]string",
                go_kind(map)
            ),
            format!("{field} is a mapping of strings: {field}: {{team: ml}}."),
        );
        return;
    };
    let mut size = 0;
    for (key, value) in map {
        let Some(value) = value.as_str() else {
            out.schema(
                RuleId::MetadataType,
                &format!("{path}.{key}"),
                format!(
                    "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{field} of type string",
                    go_kind(value)
                ),
                "Quote the value: labels and annotations are strings (\"3\", \"true\").",
            );
            continue;
        };
        size += key.len() + value.len();
        if let Some(why) = qualified_name_problem(key) {
            out.schema(
                rule,
                &path,
                format!("Invalid value: {}: {why}", quoted(key)),
                "Keys are [prefix/]name: a DNS subdomain prefix, and a name of letters, digits, '-', '_' and '.' (at most 63), starting and ending with a letter or digit.",
            );
        }
        if field == "labels" {
            if value.len() > 63 {
                out.schema(
                    rule,
                    &path,
                    format!(
                        "Invalid value: {}: must be no more than 63 bytes",
                        quoted(value)
                    ),
                    "Shorten the label's value to 63 bytes, or keep it as an annotation.",
                );
            } else if !is_label_value(value) {
                out.schema(
                    rule,
                    &path,
                    format!("Invalid value: {}: {LABEL_VALUE}", quoted(value)),
                    "Label values use letters, digits, '-', '_' and '.'; anything else belongs in an annotation.",
                );
            }
        }
    }
    if field == "annotations" && size > ANNOTATIONS_MAX_BYTES {
        out.schema(
            rule,
            &path,
            format!("Too long: may not be more than {ANNOTATIONS_MAX_BYTES} bytes"),
            "Keep large data out of annotations (a ConfigMap holds up to 1 MiB).",
        );
    }
}

/// A string as the API server quotes it in `Invalid value: "..."`.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// encoding/json's word for a JSON value's kind in "cannot unmarshal X".
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_name_part(s)
}

/// Why a label or annotation key is not a qualified name (`[prefix/]name`), in the API
/// server's words; `None` when it is one.
fn qualified_name_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if name.contains('/') {
        return Some("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into());
    }
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Some("prefix part must be non-empty".into());
        }
        if !is_subdomain(prefix) {
            return Some(format!("prefix part {SUBDOMAIN}"));
        }
    }
    if name.is_empty() {
        return Some("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 bytes".into());
    }
    (!is_name_part(name)).then(|| NAME_PART.to_string())
}

#[cfg(test)]
mod tests {
    use crate::rules::RuleId;
    use crate::rules::testing::{errors, finding};
    use serde_json::{Value, json};

    fn with_metadata(metadata: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": metadata, "spec": {"feastProject": "p"}})
    }

    #[test]
    fn names_are_checked_as_the_api_server_checks_them() {
        let obj = with_metadata(json!({"name": "x; curl | sh; #"}));
        assert_eq!(errors(&obj), vec![RuleId::MetadataName]);
        // The API server's own words (kube-apiserver 1.35, `kubectl create --dry-run=server`).
        assert_eq!(
            finding(&obj, RuleId::MetadataName).message,
            "Invalid value: \"x; curl | sh; #\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
        for ok in ["a", "my-feast", "a.b-c.d", &"a".repeat(253)] {
            assert!(
                errors(&with_metadata(json!({"name": ok}))).is_empty(),
                "{ok}"
            );
        }
        assert_eq!(
            errors(&with_metadata(json!({"name": "a".repeat(254)}))),
            vec![RuleId::MetadataName]
        );
        assert_eq!(
            errors(&with_metadata(json!({}))),
            vec![RuleId::MetadataName]
        );
        assert!(errors(&with_metadata(json!({"generateName": "fs-"}))).is_empty());
    }

    #[test]
    fn types_are_checked_as_kubectl_decodes_them() {
        let f = finding(&with_metadata(json!({"name": 12})), RuleId::MetadataType);
        assert_eq!(
            f.message,
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string"
        );
        let f = finding(&with_metadata(json!([])), RuleId::MetadataType);
        assert!(
            f.message.contains("cannot unmarshal array"),
            "{}",
            f.message
        );
        let f = finding(
            &with_metadata(json!({"name": "a", "labels": {"n": 3}})),
            RuleId::MetadataType,
        );
        assert!(
            f.message.contains("metadata.labels of type string"),
            "{}",
            f.message
        );
    }

    #[test]
    fn label_and_annotation_keys_and_values_are_checked() {
        let obj = with_metadata(json!({"name": "a", "namespace": "Bad_NS",
            "labels": {"bad key": "v", "ok": "bad value!", "k": "a".repeat(64), "example.com/fine": "yes"},
            "annotations": {"-bad": "v", "example.com/ok": "any text at all: fine"}}));
        let errs = errors(&obj);
        assert_eq!(
            errs.iter()
                .filter(|r| **r == RuleId::MetadataLabels)
                .count(),
            3,
            "{errs:?}"
        );
        assert_eq!(
            errs.iter()
                .filter(|r| **r == RuleId::MetadataAnnotations)
                .count(),
            1,
            "{errs:?}"
        );
        assert_eq!(
            errs.iter()
                .filter(|r| **r == RuleId::MetadataNamespace)
                .count(),
            1,
            "{errs:?}"
        );
        let big = with_metadata(json!({"name": "a", "annotations": {"k": "x".repeat(300 * 1024)}}));
        assert_eq!(errors(&big), vec![RuleId::MetadataAnnotations]);
    }
}
