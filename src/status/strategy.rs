//! The strategy section: the Deployment's rollout strategy and the operator's injected zone
//! spread and pod anti-affinity (§2.5, §2.6).

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodSpec;
use serde::Serialize;
use serde_json::Value;

use super::int_or_string;
use crate::featurestore::FeatureStore;

text_enum! {
    /// Where the effective strategy was read.
    pub enum StrategySource {
        /// From the Deployment.
        Deployment = "deployment",
        /// Derived from the spec, the Deployment unknown.
        Spec = "spec",
    }
}

text_enum! {
    /// Who chose the strategy.
    pub enum StrategyOrigin {
        Explicit = "explicit",
        OperatorDefault = "operator default",
    }
}

text_enum! {
    /// The meaningful states of `topologySpreadConstraints` and `affinity` (§2.5, §2.6).
    pub enum InjectionState {
        /// The operator's default, injected while scaling.
        Injected = "injected",
        /// From the spec.
        Custom = "custom",
        /// Explicitly empty in the spec.
        Disabled = "disabled",
        /// Scaling off: nothing injected.
        None = "none",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Strategy {
    /// `RollingUpdate` or `Recreate`, with rolling parameters when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    pub source: StrategySource,
    pub origin: StrategyOrigin,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injection {
    pub state: InjectionState,
    /// What the Deployment's pod template actually carries, when it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

pub(super) fn strategy(fs: &FeatureStore, deployment: Option<&Deployment>) -> Strategy {
    let explicit = fs.user_strategy();
    let scaling = fs.scaling_enabled();
    let (origin, why) = match explicit {
        Some(_) => (
            StrategyOrigin::Explicit,
            "spec.services.deploymentStrategy is set; the operator uses it unchanged".to_string(),
        ),
        None if scaling => (
            StrategyOrigin::OperatorDefault,
            "scaling is on, so RollingUpdate: replicas keep serving during a rollout".into(),
        ),
        None => (
            StrategyOrigin::OperatorDefault,
            "scaling is off, so Recreate: the old pod stops before the new one starts".into(),
        ),
    };
    match deployment.and_then(|d| d.spec.as_ref()) {
        Some(spec) => {
            let s = spec.strategy.as_ref();
            let ty = s
                .and_then(|s| s.type_.clone())
                .unwrap_or_else(|| "RollingUpdate".into());
            let effective = match s.and_then(|s| s.rolling_update.as_ref()) {
                Some(r) if ty == "RollingUpdate" => format!(
                    "RollingUpdate (maxSurge {}, maxUnavailable {})",
                    r.max_surge.as_ref().map_or("25%".into(), int_or_string),
                    r.max_unavailable
                        .as_ref()
                        .map_or("25%".into(), int_or_string)
                ),
                _ => ty.clone(),
            };
            // The Deployment may not have what the operator sets yet (the reconcile has not
            // run, or failed) or any more (an edit): said, never beside a reason that
            // contradicts it.
            let wanted = fs.effective_strategy();
            let why = if ty == wanted {
                why
            } else {
                format!(
                    "the operator sets {wanted} ({why}), but the Deployment still has {ty}: the operator has not applied it (see Operator synced and the phase), or it was changed by hand"
                )
            };
            Strategy {
                effective: Some(effective),
                source: StrategySource::Deployment,
                origin,
                why,
            }
        }
        None => {
            let effective = Some(fs.effective_strategy().to_string());
            Strategy {
                effective,
                source: StrategySource::Spec,
                origin,
                why,
            }
        }
    }
}

fn injection_state(spec: Option<&Value>, injected: bool, empty: bool) -> InjectionState {
    match spec {
        Some(_) if empty => InjectionState::Disabled,
        Some(_) => InjectionState::Custom,
        None if injected => InjectionState::Injected,
        None => InjectionState::None,
    }
}

pub(super) fn topology_spread(fs: &FeatureStore, deployment: Option<&Deployment>) -> Injection {
    let spec = fs.user_spread();
    let empty = fs
        .typed::<Vec<k8s_openapi::api::core::v1::TopologySpreadConstraint>>(
            "spec.services.topologySpreadConstraints",
        )
        .is_some_and(|c| c.is_empty());
    let effective = template(deployment).map(|t| {
        let cs = t.topology_spread_constraints.as_deref().unwrap_or(&[]);
        if cs.is_empty() {
            "none".to_string()
        } else {
            cs.iter()
                .map(|c| {
                    format!(
                        "{} maxSkew {} {}",
                        c.topology_key, c.max_skew, c.when_unsatisfiable
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
    });
    Injection {
        state: injection_state(spec, fs.injects_zone_spread(), empty),
        effective,
    }
}

pub(super) fn affinity(fs: &FeatureStore, deployment: Option<&Deployment>) -> Injection {
    let spec = fs.user_affinity();
    let empty = fs
        .typed::<k8s_openapi::api::core::v1::Affinity>("spec.services.affinity")
        .is_some_and(|a| {
            a.node_affinity.is_none() && a.pod_affinity.is_none() && a.pod_anti_affinity.is_none()
        });
    let effective = template(deployment).map(|t| match &t.affinity {
        None => "none".to_string(),
        Some(a) => {
            let mut parts = Vec::new();
            if a.node_affinity.is_some() {
                parts.push("nodeAffinity".to_string());
            }
            if a.pod_affinity.is_some() {
                parts.push("podAffinity".to_string());
            }
            if let Some(anti) = &a.pod_anti_affinity {
                let hard = anti
                    .required_during_scheduling_ignored_during_execution
                    .as_ref()
                    .is_some_and(|v| !v.is_empty());
                let keys: BTreeSet<&str> = anti
                    .preferred_during_scheduling_ignored_during_execution
                    .iter()
                    .flatten()
                    .map(|w| w.pod_affinity_term.topology_key.as_str())
                    .chain(
                        anti.required_during_scheduling_ignored_during_execution
                            .iter()
                            .flatten()
                            .map(|t| t.topology_key.as_str()),
                    )
                    .collect();
                parts.push(format!(
                    "podAntiAffinity ({} by {})",
                    if hard { "required" } else { "preferred" },
                    keys.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            }
        }
    });
    Injection {
        state: injection_state(spec, fs.injects_anti_affinity(), empty),
        effective,
    }
}

fn template(deployment: Option<&Deployment>) -> Option<&PodSpec> {
    deployment?.spec.as_ref()?.template.spec.as_ref()
}
