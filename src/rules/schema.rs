//! The CRD's constraints that the structural check (`structural`, which walks the model's
//! schema for types, ranges, enums and required fields at any depth) does not express: an
//! object without `spec`, and `feastProject`'s pattern. Worded as the API server words them.

use crate::rules::RuleId;
use serde_json::Value;

use super::Findings;
use crate::featurestore::FeatureStore;

pub(super) fn check(fs: &FeatureStore, out: &mut Findings) {
    if fs.get("spec").is_none() {
        out.schema(
            RuleId::SchemaRequired,
            "spec",
            "Required value".into(),
            "Set spec, e.g. spec: {feastProject: my_project}.",
        );
        return;
    }
    if let Some(p) = fs.get("spec.feastProject").and_then(Value::as_str)
        && !feast_project_ok(p)
    {
        out.schema(
            RuleId::SchemaPattern,
            "spec.feastProject",
            format!(
                "Invalid value: \"{p}\": spec.feastProject in body should match '^[A-Za-z0-9][A-Za-z0-9_-]*$'"
            ),
            "Use letters, digits, '_' and '-', starting with a letter or digit.".to_string(),
        );
    }
}

fn feast_project_ok(p: &str) -> bool {
    let mut chars = p.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use crate::rules::RuleId;
    use crate::rules::testing::{errors, finding};
    use serde_json::{Value, json};

    fn spec(spec: Value) -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "metadata": {"name": "fs"}, "spec": spec})
    }

    #[test]
    fn zero_replicas_is_below_the_minimum() {
        let obj = spec(json!({"feastProject": "p", "replicas": 0}));
        assert_eq!(errors(&obj), vec![RuleId::SchemaMinimum]);
        assert_eq!(
            finding(&obj, RuleId::SchemaMinimum).message,
            "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"
        );
    }

    #[test]
    fn wrong_types_are_reported_not_panicked_on() {
        let obj = spec(
            json!({"feastProject": 7, "replicas": "three", "services": {"scaling": {"autoscaling": {"maxReplicas": "x", "metrics": {}}}, "podDisruptionBudgets": {"maxUnavailable": true}}}),
        );
        let errs = errors(&obj);
        assert!(
            errs.iter().filter(|r| **r == RuleId::SchemaType).count() >= 4,
            "{errs:?}"
        );
        let f = finding(&obj, RuleId::SchemaType);
        assert!(f.message.contains("must be of type"), "{}", f.message);
    }

    #[test]
    fn max_replicas_is_required() {
        let obj = spec(
            json!({"feastProject": "p", "services": {"scaling": {"autoscaling": {"minReplicas": 2}}}}),
        );
        let f = finding(&obj, RuleId::SchemaRequired);
        assert_eq!(f.path, "spec.services.scaling.autoscaling.maxReplicas");
        assert_eq!(f.message, "Required value");
    }

    #[test]
    fn store_types_are_checked_against_the_enum() {
        let obj = spec(
            json!({"feastProject": "p", "services": {"onlineStore": {"persistence": {"store": {"type": "sqlite", "secretRef": {"name": "s"}}}}}}),
        );
        let f = finding(&obj, RuleId::SchemaEnum);
        assert!(
            f.message.starts_with(
                "Unsupported value: \"sqlite\": supported values: \"snowflake.online\", \"redis\""
            ),
            "{}",
            f.message
        );
    }

    #[test]
    fn store_needs_type_and_secret_ref() {
        let obj = spec(
            json!({"feastProject": "p", "services": {"registry": {"local": {"persistence": {"store": {}}}}}}),
        );
        assert_eq!(
            errors(&obj),
            vec![RuleId::SchemaRequired, RuleId::SchemaRequired]
        );
    }

    #[test]
    fn feast_project_is_required_and_patterned() {
        assert_eq!(errors(&spec(json!({}))), vec![RuleId::SchemaRequired]);
        assert_eq!(
            errors(&spec(json!({"feastProject": "-bad"}))),
            vec![RuleId::SchemaPattern]
        );
    }

    #[test]
    fn oracle_is_only_an_offline_type_in_v1() {
        let mut obj = spec(
            json!({"feastProject": "p", "services": {"offlineStore": {"persistence": {"store": {"type": "oracle", "secretRef": {"name": "s"}}}}}}),
        );
        assert!(errors(&obj).is_empty());
        obj["apiVersion"] = json!("feast.dev/v1alpha1");
        assert_eq!(errors(&obj), vec![RuleId::SchemaEnum]);
    }
}
