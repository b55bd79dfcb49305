//! Hand edits of the operator's Deployment `feast-<name>`: who changed its spec besides the
//! operator and the controllers, and where it differs from what the operator writes for the
//! store now. The operator rebuilds the spec at every reconcile (§4.3), so either is reverted;
//! said so that nobody takes a hand edit for a fix. Pure.

use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;

use crate::featurestore::{FeatureStore, lookup};

/// What was changed on the Deployment by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Edits {
    /// The managers that changed its spec, with the subresource and time (`kubectl via /scale
    /// at ...`): neither the operator nor a Kubernetes controller.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub editors: Vec<String>,
    /// Where it differs from what the operator writes for the store now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
}

impl Edits {
    /// `caught_up`: the operator has applied the spec (`FeatureStore::sync`); a Deployment
    /// behind a spec it has not applied is lag, not drift.
    pub fn of(fs: &FeatureStore, d: &Deployment, caught_up: bool) -> Edits {
        Edits {
            editors: hand_editors(d),
            drift: drift(fs, d, caught_up),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.editors.is_empty() && self.drift.is_empty()
    }
}

/// Managers of Deployment fields that are neither the operator nor a Kubernetes controller.
fn hand_editors(d: &Deployment) -> Vec<String> {
    let fields = d.metadata.managed_fields.as_deref().unwrap_or(&[]);
    // The operator is whoever set the owner reference: it writes the whole object, with it,
    // at every reconcile (§4.3); its manager name differs by build.
    let operator: Vec<&str> = fields
        .iter()
        .filter(|f| {
            f.fields_v1
                .as_ref()
                .is_some_and(|v| lookup(&v.0, "f:metadata.f:ownerReferences").is_some())
        })
        .filter_map(|f| f.manager.as_deref())
        .collect();
    let mut out: Vec<String> = fields
        .iter()
        .filter(|f| {
            let m = f.manager.as_deref().unwrap_or("");
            !operator.contains(&m) && m != "kube-controller-manager"
        })
        .filter(|f| {
            // Only changes to what the operator writes: the spec (directly or via /scale).
            f.subresource.as_deref() == Some("scale")
                || f.fields_v1
                    .as_ref()
                    .is_some_and(|v| v.0.get("f:spec").is_some())
        })
        .map(|f| {
            let mut s = f
                .manager
                .clone()
                .unwrap_or_else(|| "an unnamed manager".into());
            if let Some(sub) = &f.subresource {
                s.push_str(&format!(" via /{sub}"));
            }
            if let Some(t) = &f.time {
                s.push_str(&format!(" at {}", t.0));
            }
            s
        })
        .collect();
    out.dedup();
    out
}

/// Where the Deployment differs from what the operator writes for the store now.
fn drift(fs: &FeatureStore, d: &Deployment, caught_up: bool) -> Vec<String> {
    let mut drift = Vec::new();
    let spec = d.spec.as_ref();
    let running = spec.and_then(|s| s.replicas).map(i64::from).unwrap_or(1);
    // In HPA mode the HPA owns the Deployment's count (§4.3): only static counts are the
    // operator's. A store the operator has not caught up with is not drift but lag.
    if fs.autoscaling().is_none() && caught_up && running != fs.replicas() {
        drift.push(format!(
            "it runs {running} replica(s) where the FeatureStore says {}",
            fs.replicas()
        ));
    }
    let strategy = spec
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref());
    if caught_up
        && let Some(t) = strategy
        && t != fs.effective_strategy()
    {
        drift.push(format!(
            "its strategy is {t} where the operator sets {}",
            fs.effective_strategy()
        ));
    }
    drift
}
