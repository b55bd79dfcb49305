//! The outcome of validating objects: per object its findings (with lines where the source is
//! a file) and persistence table, plus a summary. Built purely from documents and findings;
//! `render` turns it into text or the JSON that CI systems gate on.

use serde::Serialize;
use serde_json::Value;

use crate::featurestore::FeatureStore;
use crate::rules::{self, Finding, PersistenceVerdict, Severity};

#[derive(Debug, Clone, Serialize)]
pub struct LocatedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectResult {
    /// Over several clusters: the context the object was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub source: String,
    pub line: Option<usize>,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub valid: bool,
    pub findings: Vec<LocatedFinding>,
    pub persistence: Vec<PersistenceVerdict>,
    /// The kustomization that uses this document as a patch: it was checked as the partial
    /// object it is (types and field names, not what a whole store needs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_of: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub objects: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
    pub skipped: usize,
    /// Inputs that could not be read or parsed (each listed under `unreadable`).
    pub unreadable: usize,
    /// Of `objects`, the KEDA ScaledObjects checked against their FeatureStore (absent when 0).
    #[serde(rename = "scaledObjects", skip_serializing_if = "is_zero")]
    pub scaled_objects: usize,
    /// Of `objects`, kustomize patches checked as the partial objects they are.
    #[serde(skip_serializing_if = "is_zero")]
    pub patches: usize,
    /// Helm chart templates, not checkable until rendered (each listed under `templates`).
    #[serde(skip_serializing_if = "is_zero")]
    pub templates: usize,
    /// Files left out by `--exclude`.
    #[serde(skip_serializing_if = "is_zero")]
    pub excluded: usize,
}

/// A Helm chart template met in the input, with the command that renders it for checking.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateNote {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    pub command: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// An input that could not be read or parsed; the other inputs were checked all the same.
#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    pub source: String,
    pub line: Option<usize>,
    pub message: String,
    pub hint: Option<crate::hint::Hint>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub results: Vec<ObjectResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<TemplateNote>,
    pub summary: Summary,
}

/// How a validation run ends, worst first: what decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Some input could not be read or parsed (exit 3).
    Unreadable,
    /// No FeatureStore in the input at all: a gate that checked nothing (exit 3).
    Empty,
    /// Some object is invalid, or has warnings under `--strict` (exit 1).
    Failed,
    Passed,
}

/// Whether a document is a FeatureStore the plugin checks (any served feast.dev version).
pub fn is_featurestore(object: &Value) -> bool {
    let fs = FeatureStore::new(object);
    fs.kind() == crate::featurestore::KIND && fs.api_version().starts_with("feast.dev/")
}

impl ObjectResult {
    /// `line_of` maps a field path to its line; `None` for live objects.
    pub fn new(
        source: &str,
        line: Option<usize>,
        object: &Value,
        findings: Vec<Finding>,
        line_of: &dyn Fn(&str) -> Option<usize>,
    ) -> ObjectResult {
        let fs = FeatureStore::new(object);
        ObjectResult {
            context: None,
            source: source.to_string(),
            line,
            api_version: fs.api_version().to_string(),
            kind: fs.kind().to_string(),
            namespace: fs.namespace().map(str::to_string),
            name: fs.name().to_string(),
            valid: rules::is_valid(&findings),
            findings: findings
                .into_iter()
                .map(|f| LocatedFinding {
                    line: line_of(&f.path),
                    finding: f,
                })
                .collect(),
            // The persistence table is a FeatureStore's; a ScaledObject has none.
            persistence: if is_featurestore(object) {
                rules::persistence_table(object)
            } else {
                Vec::new()
            },
            patch_of: None,
        }
    }
}

impl Report {
    pub fn new(results: Vec<ObjectResult>, skipped: usize) -> Report {
        let count = |s: Severity| {
            results
                .iter()
                .flat_map(|r| &r.findings)
                .filter(|f| f.finding.severity == s)
                .count()
        };
        let summary = Summary {
            objects: results.len(),
            valid: results.iter().filter(|r| r.valid).count(),
            invalid: results.iter().filter(|r| !r.valid).count(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            skipped,
            unreadable: 0,
            scaled_objects: results
                .iter()
                .filter(|r| r.kind == crate::rules::keda::SCALED_OBJECT)
                .count(),
            patches: results.iter().filter(|r| r.patch_of.is_some()).count(),
            templates: 0,
            excluded: 0,
        };
        Report {
            results,
            unreadable: Vec::new(),
            templates: Vec::new(),
            summary,
        }
    }

    /// Adds the Helm templates met (with the command that renders each chart) and the count of
    /// files `--exclude` left out.
    pub fn with_templates(
        mut self,
        templates: Vec<crate::manifests::Template>,
        excluded: usize,
    ) -> Report {
        self.summary.templates = templates.len();
        self.summary.excluded = excluded;
        self.templates = templates
            .into_iter()
            .map(|t| TemplateNote {
                command: t.command(),
                source: t.source,
                chart: t.chart,
            })
            .collect();
        self
    }

    /// Adds the inputs that could not be read.
    /// The suggested commands of every hint with the `--context` they must carry
    /// ([`crate::hint::Hint::set_context`]), before any format renders the report.
    pub fn with_context(mut self, context: Option<&str>) -> Report {
        if context.is_none_or(str::is_empty) {
            return self;
        }
        for r in &mut self.results {
            for f in &mut r.findings {
                f.finding.apply_context(context);
            }
        }
        for u in &mut self.unreadable {
            if let Some(h) = &mut u.hint {
                h.set_context(context);
            }
        }
        self
    }

    /// In file mode, the change commands of every hint change the file the store was read
    /// from ([`crate::hint::Hint::set_file`]); standard input has no file to change.
    pub fn for_files(mut self) -> Report {
        for r in self.results.iter_mut().filter(|r| r.source != "<stdin>") {
            for f in &mut r.findings {
                f.finding.hint.set_file(&r.source);
            }
        }
        self
    }

    pub fn with_unreadable(mut self, unreadable: Vec<Unreadable>) -> Report {
        self.summary.unreadable = unreadable.len();
        self.unreadable = unreadable;
        self
    }

    /// The worst outcome: unreadable input, then an empty input (unless `allow_empty`), then
    /// invalid objects (with `strict`, warnings too).
    pub fn outcome(&self, strict: bool, allow_empty: bool) -> Outcome {
        if !self.unreadable.is_empty() {
            Outcome::Unreadable
        } else if self.results.is_empty() && self.templates.is_empty() && !allow_empty {
            Outcome::Empty
        } else if self.passes(strict) {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }

    /// Exit status: invalid objects fail; with `strict`, warnings do too.
    pub fn passes(&self, strict: bool) -> bool {
        self.summary.invalid == 0 && !(strict && self.summary.warnings > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_shape_matches_the_documented_contract() {
        let obj = json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "a", "namespace": "ns"}, "spec": {"feastProject": "p", "replicas": 2}});
        let r = ObjectResult::new("f.yaml", Some(3), &obj, rules::check(&obj), &|_| Some(7));
        let report = Report::new(vec![r], 1);
        let v = serde_json::to_value(&report).unwrap();
        let res = &v["results"][0];
        for key in [
            "source",
            "line",
            "apiVersion",
            "kind",
            "namespace",
            "name",
            "valid",
            "findings",
            "persistence",
        ] {
            assert!(res.get(key).is_some(), "missing {key}");
        }
        let f = &res["findings"][0];
        for key in ["severity", "rule", "path", "message", "hint", "line"] {
            assert!(f.get(key).is_some(), "missing finding {key}");
        }
        assert_eq!(f["severity"], json!("error"));
        assert_eq!(res["valid"], json!(false));
        assert_eq!(
            v["summary"],
            json!({"objects": 1, "valid": 0, "invalid": 1, "errors": 2, "warnings": 0, "skipped": 1, "unreadable": 0})
        );
        let p = &res["persistence"][0];
        for key in ["service", "backend", "scalable", "reason"] {
            assert!(p.get(key).is_some(), "missing persistence {key}");
        }
    }

    #[test]
    fn strict_fails_on_warnings() {
        let obj = json!({"apiVersion": "feast.dev/v1alpha1", "kind": "FeatureStore", "metadata": {"name": "a"}, "spec": {"feastProject": "p"}});
        let report = Report::new(
            vec![ObjectResult::new(
                "x",
                None,
                &obj,
                rules::check(&obj),
                &|_| None,
            )],
            0,
        );
        assert!(report.passes(false));
        assert!(!report.passes(true));
    }
}
