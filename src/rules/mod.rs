//! Pure checks over a FeatureStore's JSON: the CRD's own rules mirrored in our code, and the
//! checks the CRD does not make but the operator's reconcile (or the HPA and PDB APIs behind
//! it) would trip over.
//!
//! Each finding has a stable rule id, a field path, the message as the API server words it
//! (so users can search for it), and a hint that says what to change. Nothing here does I/O;
//! `crd` evaluates a CRD's own CEL rules for parity, also without I/O.

mod advisory;
pub mod crd;
pub mod keda;
mod metadata;
mod persistence;
pub mod scaling;
mod schema;
mod structural;
pub mod table;
mod verdict;

use serde::Serialize;
use serde_json::Value;

use crate::featurestore::FeatureStore;
use crate::hint::Hint;
use crate::model::ApiVersion;

pub use table::RuleId;
pub use verdict::{PersistenceVerdict, persistence_table};

/// How serious a finding is. Only errors make an object invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Where a rule comes from: the CRD (its CEL rules or its OpenAPI schema), or the operator's
/// behaviour beyond the CRD. CEL-mirrored rules are compared with a CRD's own evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cel,
    Schema,
    Operator,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub rule: RuleId,
    pub path: String,
    pub message: String,
    pub hint: Hint,
    #[serde(skip)]
    pub origin: Origin,
}

impl Finding {
    /// Its suggested commands with the `--context` they must carry.
    pub fn apply_context(&mut self, context: Option<&str>) {
        self.hint.set_context(context);
    }
}

/// Runs every rule on one FeatureStore object and returns the findings, errors first.
pub fn check(object: &Value) -> Vec<Finding> {
    let object = &*crate::featurestore::pruned(object);
    let fs = FeatureStore::new(object);
    let mut out = Findings::default();
    if let Some(version) = ApiVersion::of(fs.api_version()) {
        out.0
            .extend(structural::check(object, crate::model::schema(version)));
    }
    metadata::check(object, &mut out);
    schema::check(&fs, &mut out);
    if fs.is_v1() {
        scaling::check(&fs, &mut out);
    }
    persistence::check(&fs, &mut out);
    advisory::check(&fs, &mut out);
    let mut findings = out.0;
    drop_consequences_of_unknown_fields(&mut findings);
    findings.sort_by_key(|f| f.severity);
    findings
}

/// Adds what a CRD's own schema (`openAPIV3Schema`) finds beyond the model's: unknown
/// fields and wrong types in the blocks the model keeps open.
pub fn add_structural(findings: &mut Vec<Finding>, object: &Value, schema: &Value) {
    let object = &*crate::featurestore::pruned(object);
    for f in structural::check(object, schema) {
        if !findings
            .iter()
            .any(|have| have.rule == f.rule && have.path == f.path)
        {
            findings.push(f);
        }
    }
    drop_consequences_of_unknown_fields(findings);
    findings.sort_by_key(|f| f.severity);
}

/// A block under a misspelt or mis-indented key is not where the rules look, so "no online
/// store" would be a consequence of the typo, not a second problem: the API server refuses
/// the unknown field and never gets to its CEL rules. Say the cause once.
fn drop_consequences_of_unknown_fields(findings: &mut Vec<Finding>) {
    const CONSEQUENCES: &[(RuleId, &str)] = &[
        (RuleId::ScalingOnlineStoreDb, "spec.services.onlineStore"),
        (RuleId::ScalingOfflineStoreDb, "spec.services.offlineStore"),
        (RuleId::ScalingRegistryDbOrRemote, "spec.services.registry"),
    ];
    let unknown: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == RuleId::SchemaUnknownField)
        .map(|f| f.path.clone())
        .collect();
    findings.retain(|f| {
        !CONSEQUENCES.iter().any(|(rule, block)| {
            f.rule == *rule && unknown.iter().any(|u| u.starts_with(&format!("{block}.")))
        })
    });
}

/// True when no finding is an error.
pub fn is_valid(findings: &[Finding]) -> bool {
    !findings.iter().any(|f| f.severity == Severity::Error)
}

/// The findings collected by the rule modules.
#[derive(Debug, Default)]
pub(crate) struct Findings(pub Vec<Finding>);

impl Findings {
    fn push(
        &mut self,
        severity: Severity,
        origin: Origin,
        rule: RuleId,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.0.push(Finding {
            severity,
            rule,
            path: path.into(),
            message: message.into(),
            hint: Hint::new(hint),
            origin,
        });
    }

    /// A failed CEL rule, worded as the API server words it as kube-apiserver v1.35 does (`spec: Invalid value: …`).
    fn cel(&mut self, rule: RuleId, path: &str, message: &str, hint: impl Into<String>) {
        self.push(
            Severity::Error,
            Origin::Cel,
            rule,
            path,
            format!("Invalid value: {message}"),
            hint,
        );
    }

    /// A failed CEL rule, or, when the rule reads a key the object lacks, the evaluation error
    /// the API server reports instead (`Invalid value: "object": no such key: k evaluating
    /// rule: …`): both reject the object.
    fn cel_or_missing_key(
        &mut self,
        rule: RuleId,
        path: &str,
        missing: Option<&str>,
        message: &str,
        hint: impl Into<String>,
    ) {
        match missing {
            None => self.cel(rule, path, message, hint),
            Some(key) => self.push(
                Severity::Error,
                Origin::Cel,
                rule,
                path,
                format!("Invalid value: \"object\": no such key: {key} evaluating rule: {message}"),
                hint,
            ),
        }
    }

    fn schema(&mut self, rule: RuleId, path: &str, message: String, hint: impl Into<String>) {
        self.push(Severity::Error, Origin::Schema, rule, path, message, hint);
    }

    fn operator(
        &mut self,
        severity: Severity,
        rule: RuleId,
        path: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(severity, Origin::Operator, rule, path, message, hint);
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// The rule ids of the error-level findings, for terse assertions.
    pub fn errors(object: &Value) -> Vec<RuleId> {
        check(object)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.rule)
            .collect()
    }

    pub fn rules_with(object: &Value, severity: Severity) -> Vec<RuleId> {
        check(object)
            .into_iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.rule)
            .collect()
    }

    pub fn finding(object: &Value, rule: RuleId) -> Finding {
        check(object)
            .into_iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("no finding {rule} in {:#?}", check(object)))
    }
}
