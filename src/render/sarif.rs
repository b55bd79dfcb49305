//! `validate -o sarif`: the report as a SARIF 2.1.0 log, for GitHub code scanning and other
//! SARIF readers. The run's rules are the rules table (src/rules/table.rs, docs/rules.md) with
//! its text as each rule's help; each finding is a result with its rule, level, file and line.
//! Live objects (and stdin) have no file: their results carry a logical location only. Pure.

use serde_json::{Value, json};

use crate::report::{ObjectResult, Report};
use crate::rules::{Severity, table};

/// The schema the log declares: SARIF 2.1.0's, as published by OASIS.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where each rule's documentation is.
fn rules_uri() -> String {
    format!("{}/blob/main/docs/rules.md", env!("CARGO_PKG_REPOSITORY"))
}

/// SARIF's levels: `note` is its word for information.
fn level(severity: &str) -> &'static str {
    match severity {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

fn severity_level(s: Severity) -> &'static str {
    level(s.as_str())
}

/// The rules table's markdown as plain text: backticks dropped.
fn plain(markdown: &str) -> String {
    markdown.replace('`', "")
}

/// A source path as a SARIF `uri-reference`: relative paths stay relative (to the directory
/// the command ran in, usually the repository's root, as code scanning expects), absolute ones
/// become `file://` URIs; anything outside RFC 3986's unreserved set is percent-encoded.
pub fn uri(source: &str) -> String {
    let path = source.replace('\\', "/");
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a source is a file (not the cluster, not stdin).
pub fn is_file(source: &str) -> bool {
    source != "cluster" && source != "<stdin>"
}

fn rules() -> Vec<Value> {
    table::RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": {"text": plain(r.catches)},
                "help": {
                    "text": format!("{} ({}). See docs/rules.md.", plain(r.catches), r.origin),
                    "markdown": format!("{} (origin: {}). See [docs/rules.md]({}).", r.catches, r.origin, rules_uri()),
                },
                "helpUri": rules_uri(),
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"origin": r.origin},
            })
        })
        .collect()
}

fn object_name(r: &ObjectResult) -> String {
    match r.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(ns) => format!("{}/{ns}/{}", r.kind, r.name),
        None => format!("{}/{}", r.kind, r.name),
    }
}

fn results(r: &ObjectResult) -> Vec<Value> {
    r.findings
        .iter()
        .map(|f| {
            let mut location = json!({
                "logicalLocations": [{
                    "fullyQualifiedName": format!("{}.{}", object_name(r), f.finding.path),
                    "kind": "member",
                }],
            });
            if is_file(&r.source) {
                let mut physical = json!({"artifactLocation": {"uri": uri(&r.source)}});
                if let Some(line) = f.line.or(r.line) {
                    physical["region"] = json!({"startLine": line});
                }
                location["physicalLocation"] = physical;
            }
            let mut result = json!({
                "ruleId": f.finding.rule,
                "level": severity_level(f.finding.severity),
                "message": {"text": format!("{}\nfix: {}", f.finding.message, f.finding.hint)},
                "locations": [location],
                "properties": {
                    "object": object_name(r),
                    "path": f.finding.path,
                    "hint": f.finding.hint,
                },
            });
            if let Some(i) = table::RULES
                .iter()
                .position(|d| d.id == f.finding.rule.as_str())
            {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect()
}

/// The SARIF log of a validation report.
pub fn sarif(report: &Report) -> crate::error::Result<String> {
    let notifications: Vec<Value> = report
        .unreadable
        .iter()
        .map(|u| {
            let mut n = json!({
                "level": "error",
                "message": {"text": match &u.hint {
                    Some(h) => format!("{}\nhint: {h}", u.message),
                    None => u.message.clone(),
                }},
            });
            if is_file(&u.source) {
                let mut physical = json!({"artifactLocation": {"uri": uri(&u.source)}});
                if let Some(line) = u.line {
                    physical["region"] = json!({"startLine": line});
                }
                n["locations"] = json!([{"physicalLocation": physical}]);
            }
            n
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kubectl-feast",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules(),
            }},
            "invocations": [{
                "executionSuccessful": report.unreadable.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": report.results.iter().flat_map(results).collect::<Vec<_>>(),
        }],
    });
    super::json(&log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("examples/a b.yaml"), "examples/a%20b.yaml");
        assert_eq!(uri("/abs/x.yaml"), "file:///abs/x.yaml");
        assert_eq!(uri(r"dir\x.yaml"), "dir/x.yaml");
    }

    #[test]
    fn every_rule_of_the_table_is_a_sarif_rule_in_its_order() {
        let ids: Vec<Value> = rules().iter().map(|r| r["id"].clone()).collect();
        let table: Vec<Value> = table::RULES.iter().map(|r| json!(r.id)).collect();
        assert_eq!(ids, table);
    }
}
