//! The scaling section: who owns the replica count (the mode), how many replicas there
//! should be and are, and whether the operator has caught up with the spec.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use serde::Serialize;
use serde_json::Value;

use super::conditions;
use super::index::{Index, controller_uid};
use super::{Inventory, Level, Verdict, verdict};
pub use crate::featurestore::Synced;
use crate::featurestore::{FeatureStore, KIND, ScalingMode, lookup};
use crate::rules::keda;

text_enum! {
    /// Who decides the replica count (issue 5, operator contract §7).
    pub enum Mode {
        /// One replica, scaling off.
        Single = "single",
        /// `spec.replicas` > 1.
        Static = "static",
        /// `spec.services.scaling.autoscaling`: the operator's HPA.
        Hpa = "hpa",
        /// A KEDA ScaledObject or another HPA targets the FeatureStore's scale subresource.
        External = "external",
        /// Several owners claim the replica count.
        Conflict = "conflict",
        /// HPAs or ScaledObjects could not be read, so who owns the count cannot be told.
        Unknown = "unknown",
    }
}

impl From<&ScalingMode> for Mode {
    /// The mode the spec alone asks for, before anyone else claims the count.
    fn from(spec: &ScalingMode) -> Mode {
        match spec {
            ScalingMode::Single => Mode::Single,
            ScalingMode::Static { .. } => Mode::Static,
            ScalingMode::Autoscaled { .. } => Mode::Hpa,
        }
    }
}

text_enum! {
    /// A party that sets the replica count.
    pub enum OwnerKind {
        /// The operator's HPA, from `spec.services.scaling.autoscaling`.
        OperatorHpa = "operator-hpa",
        /// A KEDA ScaledObject that targets the FeatureStore.
        ScaledObject = "scaledobject",
        /// An HPA, not KEDA's, that targets the FeatureStore's scale subresource.
        ExternalHpa = "external-hpa",
        /// An HPA on the Deployment that the operator does not own.
        ForeignHpa = "foreign-hpa",
        /// A KEDA ScaledObject aimed at the operator's Deployment: it fights the operator.
        ScaledObjectOnDeployment = "scaledobject-on-deployment",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaOwner {
    pub kind: OwnerKind,
    pub name: String,
}

text_enum! {
    /// Where the live replica numbers come from.
    pub enum ReplicasSource {
        Deployment = "deployment",
        FeatureStore = "featurestore",
    }
}

/// Everything that claims one store's replica count, found once and shared by the mode and
/// the autoscaler sections.
pub(super) struct Claims<'a> {
    /// ScaledObjects that target the FeatureStore, then those aimed at its Deployment
    /// `feast-<name>` (the anti-pattern).
    pub scaled_objects: Vec<&'a Value>,
    /// HPAs that target the FeatureStore (KEDA's among them).
    pub external_hpas: Vec<&'a HorizontalPodAutoscaler>,
    /// HPAs on the Deployment that are not the operator's.
    pub foreign_hpas: Vec<&'a HorizontalPodAutoscaler>,
    /// Every owner, a KEDA HPA counted once with its ScaledObject.
    pub owners: Vec<ReplicaOwner>,
}

impl<'a> Claims<'a> {
    pub fn find(
        fs: &FeatureStore,
        ix: &Index<'a>,
        operator_hpa: Option<&'a HorizontalPodAutoscaler>,
    ) -> Claims<'a> {
        let ns = fs.namespace().unwrap_or("");
        let name = fs.name();
        let owned_name = format!("feast-{name}");
        let uid = fs.uid();
        let scaled_objects = ix
            .scaled_objects
            .get(&(ns, name))
            .cloned()
            .unwrap_or_default();
        let external_hpas: Vec<&HorizontalPodAutoscaler> = ix
            .hpas_by_target
            .get(&(ns, KIND, name))
            .map(|v| v.iter().copied().filter(|h| is_feast_target(h)).collect())
            .unwrap_or_default();
        let foreign_hpas: Vec<&HorizontalPodAutoscaler> = ix
            .hpas_by_target
            .get(&(ns, "Deployment", owned_name.as_str()))
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|h| operator_hpa.is_none_or(|op| !std::ptr::eq(*h, op)))
                    .filter(|h| !(uid.is_some() && controller_uid(&h.metadata) == uid))
                    .collect()
            })
            .unwrap_or_default();
        let misaimed: Vec<&Value> = ix
            .scaled_objects_on_deployment
            .get(&(ns, owned_name.as_str()))
            .cloned()
            .unwrap_or_default();
        let owners = owners(
            fs,
            &owned_name,
            (&scaled_objects, &misaimed),
            &external_hpas,
            &foreign_hpas,
        );
        Claims {
            scaled_objects: scaled_objects.into_iter().chain(misaimed).collect(),
            external_hpas,
            foreign_hpas,
            owners,
        }
    }
}

fn owners(
    fs: &FeatureStore,
    owned_name: &str,
    (scaled_objects, misaimed): (&[&Value], &[&Value]),
    external_hpas: &[&HorizontalPodAutoscaler],
    foreign_hpas: &[&HorizontalPodAutoscaler],
) -> Vec<ReplicaOwner> {
    // KEDA aimed at the operator's Deployment: its HPA (keda-hpa-<so>, when KEDA runs) is one
    // of the foreign HPAs, counted once under the ScaledObject's name.
    let misaimed_names: BTreeSet<&str> = misaimed.iter().map(|so| keda::name(so)).collect();
    let behind_misaimed = |h: &HorizontalPodAutoscaler| {
        h.metadata
            .owner_references
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .any(|r| r.kind == keda::SCALED_OBJECT && misaimed_names.contains(r.name.as_str()))
    };
    let so_names: BTreeSet<&str> = scaled_objects
        .iter()
        .filter_map(|so| lookup(so, "metadata.name").and_then(Value::as_str))
        .collect();
    let owner = |kind, name: &str| ReplicaOwner {
        kind,
        name: name.to_string(),
    };
    let hpa_name = |h: &HorizontalPodAutoscaler| h.metadata.name.clone().unwrap_or_default();
    let mut owners = Vec::new();
    if fs.autoscaling().is_some() {
        owners.push(owner(OwnerKind::OperatorHpa, owned_name));
    }
    owners.extend(so_names.iter().map(|so| owner(OwnerKind::ScaledObject, so)));
    for h in external_hpas {
        let behind_so = h
            .metadata
            .owner_references
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .any(|r| r.kind == "ScaledObject" && so_names.contains(r.name.as_str()));
        if !behind_so {
            owners.push(owner(OwnerKind::ExternalHpa, &hpa_name(h)));
        }
    }
    owners.extend(
        misaimed_names
            .iter()
            .map(|so| owner(OwnerKind::ScaledObjectOnDeployment, so)),
    );
    owners.extend(
        foreign_hpas
            .iter()
            .filter(|h| !behind_misaimed(h))
            .map(|h| owner(OwnerKind::ForeignHpa, &hpa_name(h))),
    );
    owners
}

fn owner_list(owners: &[ReplicaOwner]) -> String {
    owners
        .iter()
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The mode: who owns the count, as derived, and as shown (`unknown` when the autoscalers
/// could not be read and nothing proves a conflict).
pub(super) struct ModeVerdict {
    pub mode: Mode,
    pub shown: Mode,
    pub reason: String,
}

pub(super) fn mode(
    fs: &FeatureStore,
    claims: &Claims,
    inv: &Inventory,
    unknown: &mut Vec<String>,
) -> ModeVerdict {
    let owned_name = format!("feast-{}", fs.name());
    let owners = &claims.owners;
    let externals = owners
        .iter()
        .filter(|o| o.kind != OwnerKind::OperatorHpa)
        .count();
    let misaimed = owners
        .iter()
        .find(|o| o.kind == OwnerKind::ScaledObjectOnDeployment);
    let (mode, reason) = if let Some(so) = misaimed {
        // Even alone it fights: the operator resets the Deployment KEDA's HPA scales (§7).
        let mut reason = keda::deployment_target_warning(&so.name, fs.name());
        if owners.len() > 1 {
            reason.push_str(&format!(
                "; every owner of the count: {}",
                owner_list(owners)
            ));
        }
        (Mode::Conflict, reason)
    } else if owners.len() > 1 {
        (
            Mode::Conflict,
            format!(
                "several owners set the replica count: {}",
                owner_list(owners)
            ),
        )
    } else if externals == 1 && !claims.foreign_hpas.is_empty() {
        // An HPA on the Deployment fights the operator, which resets the Deployment's
        // replicas to spec.replicas on every reconcile outside HPA mode (§4.2).
        (
            Mode::Conflict,
            format!(
                "HPA {} scales Deployment {owned_name}, which the operator resets to spec.replicas",
                owners[0].name
            ),
        )
    } else if externals == 1 {
        (
            Mode::External,
            format!(
                "{} {} writes spec.replicas through the scale subresource",
                owners[0].kind, owners[0].name
            ),
        )
    } else {
        let spec = fs.scaling_mode();
        let reason = match spec {
            ScalingMode::Autoscaled { .. } => {
                "spec.services.scaling.autoscaling: the operator's HPA sets the count".into()
            }
            ScalingMode::Static { replicas } => format!("spec.replicas is {replicas}"),
            ScalingMode::Single => "spec.replicas is 1 and no autoscaling".into(),
        };
        (Mode::from(&spec), reason)
    };
    // Without the autoscalers, the mode is a guess: say so in the row, never the guess.
    let blind: Vec<&str> = [
        ("HPAs", inv.hpas.unreadable()),
        ("KEDA ScaledObjects", inv.scaled_objects.unreadable()),
    ]
    .into_iter()
    .filter_map(|(kind, why)| why.map(|_| kind))
    .collect();
    if blind.is_empty() || mode == Mode::Conflict {
        return ModeVerdict {
            mode,
            shown: mode,
            reason,
        };
    }
    unknown.push(format!(
        "mode: {} could not be read, an autoscaler may own the replica count",
        blind.join(" and ")
    ));
    ModeVerdict {
        mode,
        shown: Mode::Unknown,
        reason: format!(
            "{} could not be read, so an autoscaler this user cannot see may own the replica count (the spec alone says {mode}: {reason})",
            blind.join(" and "),
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replicas {
    /// `spec.replicas` (1 when absent, §2.1).
    pub spec: i64,
    /// The count the store should run: `spec.replicas`, or in `hpa` and `conflict` modes the
    /// Deployment's count (the HPA's choice), else `status.scalingStatus.desiredReplicas`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<i64>,
    /// The Deployment's `spec.replicas`, when the Deployment was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<i64>,
    /// Ready pods: the Deployment's `status.readyReplicas`, else `status.replicas`.
    pub ready: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
    /// `deployment` when the live numbers come from the Deployment, else `featurestore`.
    pub source: ReplicasSource,
    /// `status.scalingStatus` as the operator last wrote it (absent when scaling is off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_status: Option<ScalingStatus>,
    /// The Deployment controller has seen the latest template (`observedGeneration`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_observed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i64>,
}

fn is_feast_target(h: &HorizontalPodAutoscaler) -> bool {
    h.spec
        .as_ref()
        .and_then(|s| s.scale_target_ref.api_version.as_deref())
        .is_none_or(|v| v.starts_with("feast.dev/"))
}

pub(super) fn replicas(fs: &FeatureStore, mode: Mode, deployment: Option<&Deployment>) -> Replicas {
    let scaling_status = fs.scaling_status().map(|s| ScalingStatus {
        current_replicas: s.current_replicas.map(i64::from),
        desired_replicas: s.desired_replicas.map(i64::from),
    });
    let status = deployment.and_then(|d| d.status.as_ref());
    // The API server defaults a Deployment's replicas to 1 (§4.3).
    let deployment_replicas =
        deployment.map(|d| i64::from(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)));
    let rollout_observed = deployment.and_then(|d| {
        match (
            d.metadata.generation,
            status.and_then(|s| s.observed_generation),
        ) {
            (Some(g), Some(o)) => Some(o >= g),
            (Some(_), None) => Some(false),
            _ => None,
        }
    });
    // What the count should be: spec.replicas unless an HPA on the Deployment decides it (KEDA
    // writes spec.replicas itself). Then the Deployment's count, or failing that what the
    // operator last saw (§7).
    let desired = match mode {
        Mode::Single | Mode::Static | Mode::External => Some(fs.replicas()),
        Mode::Hpa | Mode::Conflict | Mode::Unknown => {
            deployment_replicas.or_else(|| scaling_status.as_ref().and_then(|s| s.desired_replicas))
        }
    };
    match status.filter(|_| deployment.is_some()) {
        Some(st) => Replicas {
            spec: fs.replicas(),
            desired,
            deployment: deployment_replicas,
            ready: i64::from(st.ready_replicas.unwrap_or(0)),
            // Zero counts are omitted by the Deployment controller (omitempty): 0, as kubectl
            // shows them, not unknown.
            updated: Some(i64::from(st.updated_replicas.unwrap_or(0))),
            available: Some(i64::from(st.available_replicas.unwrap_or(0))),
            source: ReplicasSource::Deployment,
            scaling_status,
            rollout_observed,
        },
        None => Replicas {
            spec: fs.replicas(),
            desired,
            deployment: deployment_replicas,
            // status.replicas counts ready pods; absent means 0 (§5).
            ready: fs.status_replicas().unwrap_or(0),
            updated: None,
            available: None,
            source: ReplicasSource::FeatureStore,
            scaling_status,
            rollout_observed,
        },
    }
}

/// An object the spec asks the operator for that does not exist: why, in the order a person
/// on call needs it. Never reconciled: is the operator running? Not caught up yet: pending.
/// Caught up: the reconcile error from the conditions, or, when there is none, where to look.
pub(super) fn missing_owned(fs: &FeatureStore, kind: &str, owned_name: &str) -> Verdict {
    if !fs.reconciled() {
        return verdict(
            Level::Warning,
            format!(
                "{kind} {owned_name} does not exist: the operator has never reconciled this store (no status.applied); check that the Feast Operator is running and watches namespace {}",
                fs.namespace().unwrap_or("default")
            ),
        );
    }
    // A failed reconcile is not pending: it says why below.
    if !fs.sync().synced && !fs.reconcile_failed() {
        return verdict(
            Level::Info,
            format!(
                "{kind} {owned_name} does not exist yet: pending, the operator has not reconciled the latest spec change"
            ),
        );
    }
    let failing = conditions::of_store(fs)
        .into_iter()
        .find(|c| c.status == "False" && c.message.as_deref().is_some_and(|m| !m.is_empty()));
    match failing {
        Some(c) => verdict(
            Level::Critical,
            format!("{kind} {owned_name} does not exist: {}", c.summary()),
        ),
        None => verdict(
            Level::Critical,
            format!(
                "{kind} {owned_name} does not exist although the operator reconciled this spec, and no condition says why: check the Feast Operator's log"
            ),
        ),
    }
}
