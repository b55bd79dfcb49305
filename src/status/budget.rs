//! The disruption-budget section: the PDB the spec asks for, the one that exists, and whether
//! it blocks node drains.

use crate::model::PdbConfig;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::scaling::{Replicas, missing_owned};
use super::{Level, OwnedRef, Ownership, Verdict, int_or_string, verdict};
use crate::featurestore::{FeatureStore, IntOrPercent};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisruptionBudget {
    /// `spec.services.podDisruptionBudgets` as a policy (`maxUnavailable 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configured: Option<String>,
    pub object: OwnedRef,
    /// The PDB object's own policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_healthy: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_healthy: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disruptions_allowed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_pods: Option<i64>,
    /// Whether an eviction (a node drain) would be refused now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks_drains: Option<bool>,
    pub verdict: Verdict,
}

fn policy_of_spec(pdb: &PdbConfig) -> Option<String> {
    match (&pdb.min_available, &pdb.max_unavailable) {
        (Some(m), None) => Some(format!("minAvailable {}", int_or_string(m))),
        (None, Some(m)) => Some(format!("maxUnavailable {}", int_or_string(m))),
        (Some(a), Some(b)) => Some(format!(
            "minAvailable {} and maxUnavailable {}",
            int_or_string(a),
            int_or_string(b)
        )),
        (None, None) => None,
    }
}

/// Resolves an int-or-percent against a pod count, rounding up as the disruption controller
/// does for percentages.
fn scaled(v: &IntOrString, total: i64) -> Option<i64> {
    IntOrPercent::of(v).map(|b| b.scaled(total))
}

pub(super) fn disruption_budget(
    fs: &FeatureStore,
    pdb: Option<&PodDisruptionBudget>,
    ownership: Ownership,
    replicas: &Replicas,
) -> DisruptionBudget {
    let owned_name = &format!("feast-{}", fs.name());
    let configured = fs.pdb().map(|_| {
        fs.typed::<PdbConfig>("spec.services.podDisruptionBudgets")
            .and_then(|p| policy_of_spec(&p))
            .unwrap_or_else(|| "{}".into())
    });
    let object = OwnedRef {
        name: owned_name.to_string(),
        ownership,
    };
    let Some(pdb) = pdb else {
        let v = without_pdb(fs, configured.is_some(), ownership, owned_name);
        return DisruptionBudget {
            configured,
            object,
            policy: None,
            current_healthy: None,
            desired_healthy: None,
            disruptions_allowed: None,
            expected_pods: None,
            blocks_drains: None,
            verdict: v,
        };
    };
    let spec = pdb.spec.as_ref();
    let min = spec.and_then(|s| s.min_available.as_ref());
    let max = spec.and_then(|s| s.max_unavailable.as_ref());
    let policy = match (min, max) {
        (Some(m), _) => Some(format!("minAvailable {}", int_or_string(m))),
        (None, Some(m)) => Some(format!("maxUnavailable {}", int_or_string(m))),
        _ => None,
    };
    let status = pdb.status.as_ref();
    let expected = status
        .map(|s| i64::from(s.expected_pods))
        .or(replicas.desired)
        .unwrap_or(0);
    // A budget that can never allow an eviction, whatever the health of the pods.
    let by_design = match (min, max) {
        (Some(m), _) => scaled(m, expected).is_some_and(|n| expected > 0 && n >= expected),
        (None, Some(m)) => scaled(m, expected) == Some(0),
        _ => false,
    };
    let allowed = status.map(|s| i64::from(s.disruptions_allowed));
    let blocks = match allowed {
        Some(a) => Some(a <= 0),
        None if by_design => Some(true),
        None => None,
    };
    let v = match (blocks, by_design) {
        (Some(true), true) => verdict(
            Level::Critical,
            format!(
                "blocks node drains: {} leaves no disruption allowed with {expected} pods",
                policy.as_deref().unwrap_or("the budget")
            ),
        ),
        (Some(true), false) => verdict(
            Level::Critical,
            format!(
                "blocks node drains now: 0 disruptions allowed ({} healthy, {} needed)",
                status.map_or(0, |s| s.current_healthy),
                status.map_or(0, |s| s.desired_healthy)
            ),
        ),
        (Some(false), _) => verdict(
            Level::Ok,
            format!(
                "allows {} disruption{}",
                allowed.unwrap_or(0),
                if allowed == Some(1) { "" } else { "s" }
            ),
        ),
        (None, _) => verdict(
            Level::Unknown,
            "no status yet: the disruption controller has not evaluated it",
        ),
    };
    DisruptionBudget {
        configured,
        object,
        policy,
        current_healthy: status.map(|s| i64::from(s.current_healthy)),
        desired_healthy: status.map(|s| i64::from(s.desired_healthy)),
        disruptions_allowed: allowed,
        expected_pods: status.map(|s| i64::from(s.expected_pods)),
        blocks_drains: blocks,
        verdict: v,
    }
}

/// The verdict when no PDB object is there (or it could not be read).
fn without_pdb(
    fs: &FeatureStore,
    configured: bool,
    ownership: Ownership,
    owned_name: &str,
) -> Verdict {
    match (configured, ownership, fs.scaling_enabled()) {
        (_, Ownership::Unknown, _) => verdict(Level::Unknown, "PDBs could not be read"),
        (true, Ownership::NotOwned, _) => verdict(
            Level::Warning,
            format!("PDB {owned_name} exists but is not controlled by this FeatureStore"),
        ),
        (true, _, false) => verdict(
            Level::Info,
            "configured, but the operator only creates the PDB while scaling (§4.6)",
        ),
        (true, _, true) => missing_owned(fs, "PDB", owned_name),
        (false, _, true) => verdict(
            Level::Info,
            "no disruption budget: a drain may evict every replica at once",
        ),
        (false, _, false) => verdict(Level::Ok, "none (single replica)"),
    }
}
