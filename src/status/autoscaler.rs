//! The autoscaler section: the HPA that decides the count (the operator's, an external one
//! or KEDA's), its metrics, limits and verdict, and in a conflict the others.

use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus,
};
use serde::Serialize;
use serde_json::Value;

use super::conditions::{Condition, conditions};
use super::decision::{Decision, Reading, decide};
use super::scaling::{Claims, Mode, missing_owned};
use super::{Level, Ownership, Verdict, int, text, verdict};
use crate::featurestore::{FeatureStore, ScalingMode, lookup};
use crate::rules::keda;

text_enum! {
    /// Whose HPA it is.
    pub enum AutoscalerKind {
        /// `feast-<name>`, owned by the FeatureStore.
        Operator = "operator",
        /// Targets the FeatureStore's scale subresource (KEDA's, or another).
        External = "external",
        /// Targets the Deployment but is not the operator's.
        Foreign = "foreign",
    }
}

text_enum! {
    /// The bound an HPA is held at.
    pub enum Limit {
        /// It cannot remove replicas.
        Min = "min",
        /// It cannot add replicas.
        Max = "max",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaler {
    pub kind: AutoscalerKind,
    pub name: String,
    pub min_replicas: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i64>,
    pub metrics: Vec<MetricSummary>,
    pub conditions: Vec<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_scale_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_limit: Option<Limit>,
    /// The KEDA ScaledObject behind it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaled_object: Option<String>,
    /// What the HPA controller does next and why, by its own arithmetic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSummary {
    /// `cpu`, `memory`, a pods/object/external metric name, or `cpu(container)`.
    pub name: String,
    /// The current value, in the target's unit (`45%`, `250m`); absent until measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    pub target: String,
}

/// The HPAs one store's section is drawn from.
pub(super) struct Autoscalers<'a, 'c> {
    /// `feast-<name>`, when it is the operator's.
    pub operator: Option<&'a HorizontalPodAutoscaler>,
    pub operator_ownership: Ownership,
    pub claims: &'c Claims<'a>,
    /// The count an HPA's next decision starts from, its target's `spec.replicas` (the
    /// controller reads the scale subresource at each sync; the HPA's own `currentReplicas`
    /// lags one sync behind): the Deployment's for HPAs on it, the store's for HPAs on the
    /// FeatureStore.
    pub deployment_replicas: Option<i64>,
    pub store_replicas: i64,
}

impl Autoscalers<'_, '_> {
    /// The HPA that decides the count: the operator's in hpa mode, else the external one.
    pub fn deciding(&self, fs: &FeatureStore, mode: Mode) -> Option<Autoscaler> {
        let claims = self.claims;
        let hpa = if let Some(h) = self.operator.filter(|_| fs.autoscaling().is_some()) {
            Some((AutoscalerKind::Operator, h))
        } else if let Some(h) = claims.external_hpas.first() {
            Some((AutoscalerKind::External, *h))
        } else {
            claims
                .foreign_hpas
                .first()
                .map(|h| (AutoscalerKind::Foreign, *h))
        };
        match hpa {
            Some((kind, h)) => Some(from_hpa(
                kind,
                h,
                scaled_object_behind(h, &claims.scaled_objects),
                self.target_replicas(kind),
            )),
            None if fs.autoscaling().is_some() => Some(self.missing_operator_hpa(fs)),
            None if mode == Mode::External || mode == Mode::Conflict => claims
                .scaled_objects
                .first()
                .map(|so| keda_without_hpa(so, fs.name())),
            None => None,
        }
    }

    /// The spec asks for an HPA that is not (or not visibly) there.
    fn missing_operator_hpa(&self, fs: &FeatureStore) -> Autoscaler {
        let owned_name = format!("feast-{}", fs.name());
        let (min, max) = match fs.scaling_mode() {
            ScalingMode::Autoscaled { min, max } => (min, max),
            other => (other.minimum_replicas(), None),
        };
        let v = match self.operator_ownership {
            Ownership::Unknown => verdict(Level::Unknown, "HPAs could not be read"),
            Ownership::NotOwned => verdict(
                Level::Critical,
                format!("HPA {owned_name} exists but is not controlled by this FeatureStore"),
            ),
            _ => missing_owned(fs, "HPA", &owned_name),
        };
        Autoscaler {
            kind: AutoscalerKind::Operator,
            name: owned_name,
            min_replicas: min,
            max_replicas: max,
            current_replicas: None,
            desired_replicas: None,
            metrics: Vec::new(),
            conditions: Vec::new(),
            last_scale_time: None,
            at_limit: None,
            scaled_object: None,
            decision: None,
            verdict: v,
        }
    }

    /// In a conflict, the HPAs other than the one shown as the autoscaler: each one fights it.
    pub fn others(&self, shown: Option<&Autoscaler>) -> Vec<Autoscaler> {
        let shown = shown.map(|a| a.name.as_str());
        let claims = self.claims;
        let all = self
            .operator
            .map(|h| (AutoscalerKind::Operator, h))
            .into_iter()
            .chain(
                claims
                    .external_hpas
                    .iter()
                    .map(|h| (AutoscalerKind::External, *h)),
            )
            .chain(
                claims
                    .foreign_hpas
                    .iter()
                    .map(|h| (AutoscalerKind::Foreign, *h)),
            );
        all.filter(|(_, h)| h.metadata.name.as_deref() != shown)
            .map(|(kind, h)| {
                from_hpa(
                    kind,
                    h,
                    scaled_object_behind(h, &claims.scaled_objects),
                    self.target_replicas(kind),
                )
            })
            .collect()
    }

    /// The replicas of what an HPA of this kind scales.
    fn target_replicas(&self, kind: AutoscalerKind) -> Option<i64> {
        match kind {
            AutoscalerKind::External => Some(self.store_replicas),
            AutoscalerKind::Operator | AutoscalerKind::Foreign => self.deployment_replicas,
        }
    }
}

/// A ScaledObject whose HPA was not listed: what its own spec says. Aimed at the operator's
/// Deployment, it is a foreign autoscaler that fights the operator.
fn keda_without_hpa(so: &Value, store: &str) -> Autoscaler {
    let on_deployment = keda::targets_operator_deployment(so, store);
    let scaled_object = text(lookup(so, "metadata.name"));
    // KEDA's own defaults: minReplicaCount 0, maxReplicaCount 100.
    let min = int(lookup(so, "spec.minReplicaCount")).unwrap_or(0);
    let max = int(lookup(so, "spec.maxReplicaCount")).unwrap_or(100);
    let verdict = if on_deployment {
        verdict(
            Level::Critical,
            keda::deployment_target_warning(scaled_object.as_deref().unwrap_or_default(), store),
        )
    } else {
        verdict(
            Level::Info,
            "KEDA ScaledObject: its HPA was not found among the HPAs listed",
        )
    };
    Autoscaler {
        kind: if on_deployment {
            AutoscalerKind::Foreign
        } else {
            AutoscalerKind::External
        },
        name: scaled_object.clone().unwrap_or_default(),
        min_replicas: min,
        max_replicas: Some(max),
        current_replicas: None,
        desired_replicas: None,
        metrics: Vec::new(),
        conditions: conditions(lookup(so, "status.conditions")),
        last_scale_time: None,
        at_limit: None,
        scaled_object,
        decision: None,
        verdict,
    }
}

/// The ScaledObject behind a KEDA HPA: its controller owner, when that ScaledObject was listed.
fn scaled_object_behind(h: &HorizontalPodAutoscaler, scaled_objects: &[&Value]) -> Option<String> {
    let behind = h
        .metadata
        .owner_references
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|r| r.kind == "ScaledObject")?;
    scaled_objects
        .iter()
        .any(|so| lookup(so, "metadata.name").and_then(Value::as_str) == Some(&behind.name))
        .then(|| behind.name.clone())
}

fn from_hpa(
    kind: AutoscalerKind,
    h: &HorizontalPodAutoscaler,
    scaled_object: Option<String>,
    target_replicas: Option<i64>,
) -> Autoscaler {
    let spec = h.spec.as_ref();
    let status = h.status.as_ref();
    let min = i64::from(spec.and_then(|s| s.min_replicas).unwrap_or(1));
    let max = spec.map(|s| i64::from(s.max_replicas));
    // The controllers omit zero counts (Go's omitempty): absent in a written status is 0, as
    // kubectl shows it.
    let current = status.map(|s| i64::from(s.current_replicas.unwrap_or(0)));
    let desired = status.map(|s| i64::from(s.desired_replicas));
    let conds: Vec<Condition> = status
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| Condition {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone().filter(|s| !s.is_empty()),
                    message: c.message.clone().filter(|s| !s.is_empty()),
                    last_transition_time: c.last_transition_time.as_ref().map(|t| t.0.to_string()),
                })
                .collect()
        })
        .unwrap_or_default();
    let limited = conds
        .iter()
        .find(|c| c.type_ == "ScalingLimited" && c.status == "True");
    let at_limit = match (limited.and_then(|c| c.reason.as_deref()), current, max) {
        (Some("TooFewReplicas"), _, _) => Some(Limit::Min),
        (Some(_), _, _) => Some(Limit::Max),
        (None, Some(c), Some(m)) if c >= m => Some(Limit::Max),
        _ => None,
    };
    let spec_metrics = spec.and_then(|s| s.metrics.as_deref()).unwrap_or(&[]);
    let current_metrics = status
        .and_then(|s| s.current_metrics.as_deref())
        .unwrap_or(&[]);
    let metrics = metrics(spec_metrics, current_metrics);
    let decision = decide(h, &readings(spec_metrics, current_metrics), target_replicas);
    let inactive = conds
        .iter()
        .find(|c| c.type_ == "ScalingActive" && c.status == "False");
    let unable = conds
        .iter()
        .find(|c| c.type_ == "AbleToScale" && c.status == "False");
    let verdict = if let Some(c) = unable {
        verdict(Level::Critical, format!("cannot scale: {}", c.summary()))
    } else if let Some(c) = inactive {
        verdict(Level::Critical, format!("not scaling: {}", c.summary()))
    } else if at_limit == Some(Limit::Max) {
        verdict(
            Level::Warning,
            format!(
                "at its maximum ({}): it cannot add replicas if the load grows",
                max.unwrap_or_default()
            ),
        )
    } else if status.is_none() {
        verdict(
            Level::Unknown,
            "no status yet: the HPA controller has not evaluated it",
        )
    } else if at_limit == Some(Limit::Min) {
        verdict(
            Level::Ok,
            format!(
                "at its minimum ({min}): the load would need fewer replicas, and it does not go lower"
            ),
        )
    } else {
        verdict(Level::Ok, "scaling within its range")
    };
    Autoscaler {
        kind,
        name: h.metadata.name.clone().unwrap_or_default(),
        min_replicas: min,
        max_replicas: max,
        current_replicas: current,
        desired_replicas: desired,
        metrics,
        conditions: conds,
        last_scale_time: status
            .and_then(|s| s.last_scale_time.as_ref())
            .map(|t| t.0.to_string()),
        at_limit,
        scaled_object,
        decision,
        verdict,
    }
}

/// The current value of a spec's metric, found by type and name, as `kubectl get hpa` pairs them.
fn current_of<'a>(
    m: &MetricSpec,
    name: &str,
    current: &'a [MetricStatus],
) -> Option<&'a MetricValueStatus> {
    current
        .iter()
        .find(|c| c.type_ == m.type_ && metric_status(c).0 == name)
        .and_then(|c| metric_status(c).1)
}

/// The metrics with a current value, as numbers for the controller's arithmetic.
fn readings(spec: &[MetricSpec], current: &[MetricStatus]) -> Vec<Reading> {
    spec.iter()
        .filter_map(|m| {
            let (name, target) = metric_spec(m);
            let target = target?;
            let value = current_of(m, &name, current)?;
            let text = value_like(value, Some(target));
            Reading::of(name, target, value, text, target_text(Some(target)))
        })
        .collect()
}

/// Pairs each metric of the spec with its current value, as `kubectl get hpa` does.
fn metrics(spec: &[MetricSpec], current: &[MetricStatus]) -> Vec<MetricSummary> {
    spec.iter()
        .map(|m| {
            let (name, target) = metric_spec(m);
            let cur = current_of(m, &name, current).map(|v| value_like(v, target));
            MetricSummary {
                name,
                current: cur,
                target: target_text(target),
            }
        })
        .collect()
}

fn metric_spec(m: &MetricSpec) -> (String, Option<&MetricTarget>) {
    if let Some(r) = &m.resource {
        (r.name.clone(), Some(&r.target))
    } else if let Some(r) = &m.container_resource {
        (format!("{}({})", r.name, r.container), Some(&r.target))
    } else if let Some(p) = &m.pods {
        (p.metric.name.clone(), Some(&p.target))
    } else if let Some(o) = &m.object {
        (o.metric.name.clone(), Some(&o.target))
    } else if let Some(e) = &m.external {
        (e.metric.name.clone(), Some(&e.target))
    } else {
        (m.type_.clone(), None)
    }
}

fn metric_status(m: &MetricStatus) -> (String, Option<&MetricValueStatus>) {
    if let Some(r) = &m.resource {
        (r.name.clone(), Some(&r.current))
    } else if let Some(r) = &m.container_resource {
        (format!("{}({})", r.name, r.container), Some(&r.current))
    } else if let Some(p) = &m.pods {
        (p.metric.name.clone(), Some(&p.current))
    } else if let Some(o) = &m.object {
        (o.metric.name.clone(), Some(&o.current))
    } else if let Some(e) = &m.external {
        (e.metric.name.clone(), Some(&e.current))
    } else {
        (m.type_.clone(), None)
    }
}

fn target_text(t: Option<&MetricTarget>) -> String {
    match t {
        Some(t) => match (&t.average_utilization, &t.average_value, &t.value) {
            (Some(u), _, _) => format!("{u}%"),
            (None, Some(q), _) => q.0.clone(),
            (None, None, Some(q)) => q.0.clone(),
            _ => "?".into(),
        },
        None => "?".into(),
    }
}

/// The current value in the target's unit: a percentage for Utilization targets.
fn value_like(v: &MetricValueStatus, target: Option<&MetricTarget>) -> String {
    let utilization = target.is_some_and(|t| t.average_utilization.is_some());
    match (&v.average_utilization, &v.average_value, &v.value) {
        (Some(u), _, _) if utilization => format!("{u}%"),
        (_, Some(q), _) => q.0.clone(),
        (_, None, Some(q)) => q.0.clone(),
        (Some(u), _, _) => format!("{u}%"),
        _ => "?".into(),
    }
}
