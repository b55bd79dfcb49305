//! The conditions section: the FeatureStore's and the HPA's status conditions.

use serde::Serialize;
use serde_json::Value;

use super::text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

pub(super) fn conditions(v: Option<&Value>) -> Vec<Condition> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|c| Condition {
                    type_: text(c.get("type")).unwrap_or_default(),
                    status: text(c.get("status")).unwrap_or_default(),
                    reason: text(c.get("reason")).filter(|s| !s.is_empty()),
                    message: text(c.get("message")).filter(|s| !s.is_empty()),
                    last_transition_time: text(c.get("lastTransitionTime")),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A FeatureStore's conditions, read through its typed model.
pub(super) fn of_store(fs: &crate::featurestore::FeatureStore) -> Vec<Condition> {
    fs.conditions()
        .into_iter()
        .map(|c| Condition {
            type_: c.type_,
            status: c.status,
            reason: Some(c.reason).filter(|s| !s.is_empty()),
            message: Some(c.message).filter(|s| !s.is_empty()),
            last_transition_time: Some(c.last_transition_time.0.to_string()),
        })
        .collect()
}

impl Condition {
    /// `Reason: message`, or whichever of the two is set.
    pub fn summary(&self) -> String {
        match (&self.reason, &self.message) {
            (Some(r), Some(m)) => format!("{r}: {m}"),
            (Some(r), None) => r.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => format!("{}={}", self.type_, self.status),
        }
    }
}
