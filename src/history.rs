//! A store's history: one timeline of what happened to it, newest last, each entry with its
//! time, what happened, who did it and why. Pure: the objects `kubectl feast history` read
//! in, the timeline out.
//!
//! Sources and how far back each reaches:
//! - Events (events.k8s.io/v1) of the store, its Deployment, HPA and PDB (all `feast-<name>`),
//!   its ReplicaSets and their pods, KEDA's ScaledObjects aimed at it and their HPAs: the API server keeps them for its `--event-ttl`, one hour
//!   by default. The HPA's rescales, the Deployment's ReplicaSet scaling, the scheduler's
//!   failures, the ReplicaSets' pod creations and deletions, KEDA's and the operator's events.
//! - ReplicaSets: one per pod template the Deployment kept (`revisionHistoryLimit`), with the
//!   time its rollout began.
//! - Conditions (the store's, the Deployment's, the HPA's): their last transition only.
//! - managedFields of the store: each manager's last write of it.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::featurestore::FeatureStore;

text_enum! {
    /// What an entry tells.
    pub enum EntryKind {
        /// The replica count changed, and who decided it (`from`, `to`).
        Rescale = "rescale",
        /// A ReplicaSet scaled by the Deployment controller: a rollout step or a rescale.
        ReplicaSet = "replicaset",
        /// A new pod template began rolling out.
        Rollout = "rollout",
        /// A write to the store (its spec, its status), by its manager: the last of each.
        Write = "write",
        /// A pod could not be placed, or was placed.
        Scheduling = "scheduling",
        /// A pod that went without its ReplicaSet deleting it: evicted (a drain), or deleted.
        Eviction = "eviction",
        /// A pod created or deleted by its ReplicaSet.
        Pod = "pod",
        /// A condition's last transition.
        Condition = "condition",
        /// Any other event.
        Event = "event",
    }
}

/// What `history` read for one store.
#[derive(Debug, Default)]
pub struct Record {
    pub store: Value,
    pub deployment: Option<Deployment>,
    pub hpa: Option<HorizontalPodAutoscaler>,
    pub replica_sets: Vec<ReplicaSet>,
    pub events: Vec<Event>,
    /// The names of the store's pods that exist now; `None` when they could not be read.
    pub pods: Option<Vec<String>>,
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// RFC 3339.
    pub time: String,
    pub kind: EntryKind,
    /// `Kind/name` of the object it is about.
    pub object: String,
    pub reason: String,
    pub message: String,
    /// Who: the controller that reported it, or the manager that wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// `Warning` events.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
}

/// How far back a source reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reach {
    pub source: &'static str,
    pub reaches: &'static str,
}

/// The timeline of one store.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub name: String,
    pub namespace: String,
    /// The start of the window (RFC 3339).
    pub since: String,
    pub sources: Vec<Reach>,
    pub events: Vec<Entry>,
    /// With Prometheus: the store's record over the window, one series per measure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<crate::record::Series>,
    /// With Prometheus: where the record came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<String>,
}

/// What a Prometheus record adds to a history.
pub const PROMETHEUS_REACH: Reach = Reach {
    source: "prometheus",
    reaches: "its retention (15 days by default): kube-state-metrics' series of the HPA and the Deployment, KEDA's scaler metrics",
};

impl History {
    /// The store's record from `prometheus` (how it is named): its series, and the rescales it
    /// shows from before the oldest event still held (the events tell the later ones better,
    /// with their reasons).
    pub fn with_record(mut self, prometheus: &str, series: Vec<crate::record::Series>) -> History {
        let since = self
            .since
            .parse::<Timestamp>()
            .map_or(i64::MIN, |t| t.as_second());
        let oldest_event = self
            .events
            .iter()
            .filter(|e| e.kind == EntryKind::Rescale || e.kind == EntryKind::Event)
            .filter_map(|e| e.time.parse::<Timestamp>().ok())
            .map(|t| t.as_second())
            .min()
            .unwrap_or(i64::MAX);
        if let Some(desired) = crate::record::series(&series, "desiredReplicas") {
            for (time, from, to) in crate::record::changes(&desired.points) {
                if time >= since && time < oldest_event {
                    self.events.push(Entry {
                        time: crate::record::show_time(time),
                        kind: EntryKind::Rescale,
                        object: format!("FeatureStore/{}", self.name),
                        reason: "Recorded".into(),
                        message: format!(
                            "desired replicas {from} → {to} in the Prometheus record (its events are gone)"
                        ),
                        by: Some("horizontal-pod-autoscaler".into()),
                        warning: false,
                        from: Some(from),
                        to: Some(to),
                    });
                }
            }
            self.events
                .sort_by_cached_key(|e| (e.time.parse::<Timestamp>().ok(), e.kind));
        }
        self.sources.push(PROMETHEUS_REACH);
        self.prometheus = Some(prometheus.to_string());
        self.series = series;
        self
    }
}

pub const REACHES: [Reach; 4] = [
    Reach {
        source: "events",
        reaches: "the API server's --event-ttl, one hour by default",
    },
    Reach {
        source: "replicasets",
        reaches: "the Deployment's revisionHistoryLimit (10 by default) pod templates",
    },
    Reach {
        source: "conditions",
        reaches: "the last transition of each",
    },
    Reach {
        source: "managedFields",
        reaches: "each manager's last write",
    },
];

/// The timeline of `record` from `since` on, oldest first.
pub fn timeline(record: &Record, since: Timestamp) -> History {
    let fs = FeatureStore::new(&record.store);
    let mut entries = Vec::new();
    entries.extend(events(&record.events));
    // Which pods are gone is known only when the pods there now could be read.
    if let Some(pods) = &record.pods {
        entries.extend(evictions(&record.events, pods));
    }
    entries.extend(rollouts(&record.replica_sets));
    entries.extend(writes(&fs));
    entries.extend(conditions(record, &fs));
    entries.retain(|e| e.time.parse::<Timestamp>().is_ok_and(|t| t >= since));
    // Oldest first (by time, not by text: `08:00:00.5Z` is after `08:00:00Z`); at one time, a
    // rescale before the ReplicaSet steps it causes.
    entries.sort_by_cached_key(|e| (e.time.parse::<Timestamp>().ok(), e.kind));
    History {
        name: fs.name().to_string(),
        namespace: fs.namespace().unwrap_or_default().to_string(),
        since: since.to_string(),
        sources: REACHES.to_vec(),
        events: entries,
        series: Vec::new(),
        prometheus: None,
    }
}

/// When an event happened: its last sighting, as `kubectl events` orders them.
fn event_time(e: &Event) -> Option<Timestamp> {
    e.series
        .as_ref()
        .map(|s| s.last_observed_time.0)
        .or(e.deprecated_last_timestamp.as_ref().map(|t| t.0))
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.deprecated_first_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn events(events: &[Event]) -> Vec<Entry> {
    let mut out: Vec<Entry> = events
        .iter()
        .filter_map(|e| {
            let time = event_time(e)?;
            let reason = e.reason.clone().unwrap_or_default();
            let message = e.note.clone().unwrap_or_default();
            let regarding = e.regarding.as_ref();
            let kind_of = regarding.and_then(|r| r.kind.clone()).unwrap_or_default();
            let name = regarding.and_then(|r| r.name.clone()).unwrap_or_default();
            let (kind, from, to) = classify(&kind_of, &reason, &message);
            let by = e
                .reporting_controller
                .clone()
                .or_else(|| {
                    e.deprecated_source
                        .as_ref()
                        .and_then(|s| s.component.clone())
                })
                .filter(|s| !s.is_empty());
            Some(Entry {
                time: time.to_string(),
                kind,
                object: format!("{kind_of}/{name}"),
                reason,
                message,
                by,
                warning: e.type_.as_deref() == Some("Warning"),
                from,
                to,
            })
        })
        .collect();
    // An HPA's rescale says only the new size. The count it came from is the Deployment's
    // then: the sum over its ReplicaSets of each one's count before that second, replayed
    // from the Deployment controller's steps ("Scaled up replica set X from 2 to 4"); a
    // ReplicaSet whose first step in the record comes later had that step's `from`.
    let steps: Vec<(Timestamp, String, i64, i64)> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
        .filter_map(|e| {
            let note = e.note.as_deref()?;
            let words: Vec<&str> = note.split_whitespace().collect();
            let rs = words.get(words.iter().position(|w| *w == "set")? + 1)?;
            let (_, from, to) = classify("Deployment", "ScalingReplicaSet", note);
            Some((event_time(e)?, rs.to_string(), from?, to?))
        })
        .collect();
    for e in out.iter_mut().filter(|e| e.kind == EntryKind::Rescale) {
        let Ok(at) = e.time.parse::<Timestamp>() else {
            continue;
        };
        let mut sets: Vec<&str> = steps.iter().map(|s| s.1.as_str()).collect();
        sets.sort();
        sets.dedup();
        let before = |rs: &str| {
            let mine = steps.iter().filter(|s| s.1 == rs);
            let earlier = mine.clone().filter(|s| s.0 < at).max_by_key(|s| s.0);
            match earlier {
                Some(s) => s.3,
                None => mine
                    .filter(|s| s.0 >= at)
                    .min_by_key(|s| s.0)
                    .map_or(0, |s| s.2),
            }
        };
        if !sets.is_empty() {
            e.from = Some(sets.iter().map(|rs| before(rs)).sum());
        }
    }
    out
}

/// The pods the ReplicaSets created that are gone although no ReplicaSet deleted them: an
/// eviction (a drain, the eviction API) or a delete by hand; the events do not say which. Each
/// at the time its ReplicaSet made its replacement, and with the node its Scheduled event
/// named.
fn evictions(events: &[Event], pods_now: &[String]) -> Vec<Entry> {
    let note = |e: &Event| e.note.clone().unwrap_or_default();
    let about = |e: &Event| {
        e.regarding
            .as_ref()
            .and_then(|r| r.name.clone())
            .unwrap_or_default()
    };
    let rs_events: Vec<&Event> = events
        .iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("ReplicaSet"))
        .collect();
    let deleted: Vec<String> = rs_events
        .iter()
        .filter_map(|e| note(e).strip_prefix("Deleted pod: ").map(str::to_string))
        .collect();
    // The Deployment's steps up: a pod created then is a scale-up's, not a replacement.
    let steps_up: Vec<Timestamp> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
        .filter(|e| note(e).starts_with("Scaled up"))
        .filter_map(event_time)
        .collect();
    let mut replacements: Vec<(Timestamp, String, String)> = rs_events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("SuccessfulCreate"))
        .filter_map(|e| {
            let t = event_time(e)?;
            let pod = note(e).strip_prefix("Created pod: ")?.trim().to_string();
            (!steps_up.contains(&t)).then(|| (t, about(e), pod))
        })
        .collect();
    replacements.sort();
    let mut out = Vec::new();
    for created in rs_events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("SuccessfulCreate"))
    {
        let Some(pod) = note(created)
            .strip_prefix("Created pod: ")
            .map(|p| p.trim().to_string())
        else {
            continue;
        };
        if pods_now.contains(&pod) || deleted.contains(&pod) {
            continue;
        }
        let rs = about(created);
        let own: Vec<&Event> = events.iter().filter(|e| about(e) == pod).collect();
        let last_seen = own
            .iter()
            .filter_map(|e| event_time(e))
            .max()
            .or(event_time(created));
        let node = own
            .iter()
            .filter(|e| e.reason.as_deref() == Some("Scheduled"))
            .find_map(|e| note(e).rsplit(" to ").next().map(str::to_string));
        let replacement = replacements
            .iter()
            .position(|(t, r, p)| *r == rs && *p != pod && last_seen.is_some_and(|s| *t > s));
        let (time, by) = match replacement.map(|i| replacements.remove(i)) {
            Some((t, _, p)) => (t, format!("; {rs} replaced it with {p}")),
            None => match last_seen {
                Some(t) => (t, String::new()),
                None => continue,
            },
        };
        out.push(Entry {
            time: time.to_string(),
            kind: EntryKind::Eviction,
            object: format!("Pod/{pod}"),
            reason: "Gone".into(),
            message: format!(
                "pod {pod}{} is gone and no ReplicaSet deleted it: evicted (a node drain) or deleted{by}",
                node.map(|n| format!(" (on {n})")).unwrap_or_default()
            ),
            by: None,
            warning: true,
            from: None,
            to: None,
        });
    }
    out
}

/// An event's kind of entry, and for a count change its from and to.
fn classify(
    object_kind: &str,
    reason: &str,
    message: &str,
) -> (EntryKind, Option<i64>, Option<i64>) {
    match (object_kind, reason) {
        ("HorizontalPodAutoscaler", "SuccessfulRescale") => {
            // "New size: 5; reason: cpu resource utilization (percentage of request) above target"
            let to = message
                .strip_prefix("New size: ")
                .and_then(|rest| rest.split(';').next())
                .and_then(|n| n.trim().parse().ok());
            (EntryKind::Rescale, None, to)
        }
        ("Deployment", "ScalingReplicaSet") => {
            // "Scaled up replica set feast-x-5d8 from 2 to 4"
            let words: Vec<&str> = message.split_whitespace().collect();
            let after = |w: &str| {
                words
                    .iter()
                    .position(|x| *x == w)
                    .and_then(|i| words.get(i + 1))
                    .and_then(|n| n.parse().ok())
            };
            (EntryKind::ReplicaSet, after("from"), after("to"))
        }
        (_, "FailedScheduling" | "Scheduled") => (EntryKind::Scheduling, None, None),
        ("ReplicaSet", "SuccessfulCreate" | "SuccessfulDelete") => (EntryKind::Pod, None, None),
        ("Pod", "Evicted" | "Killing" | "Preempted" | "TaintManagerEviction") => {
            (EntryKind::Pod, None, None)
        }
        _ => (EntryKind::Event, None, None),
    }
}

/// Each ReplicaSet the Deployment kept: its rollout's start.
fn rollouts(replica_sets: &[ReplicaSet]) -> Vec<Entry> {
    replica_sets
        .iter()
        .filter_map(|rs| {
            let time = rs.metadata.creation_timestamp.as_ref()?.0;
            let revision = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("deployment.kubernetes.io/revision"))
                .cloned()
                .unwrap_or_else(|| "?".into());
            let name = rs.metadata.name.clone().unwrap_or_default();
            let now = rs.status.as_ref().map_or(0, |s| s.replicas);
            Some(Entry {
                time: time.to_string(),
                kind: EntryKind::Rollout,
                object: format!("ReplicaSet/{name}"),
                reason: "NewPodTemplate".into(),
                message: format!(
                    "revision {revision} began rolling out (its pod template is new); {now} pod(s) on it now"
                ),
                by: Some("deployment-controller".into()),
                warning: false,
                from: None,
                to: None,
            })
        })
        .collect()
}

/// Each manager's last write of the store, from its managedFields.
fn writes(fs: &FeatureStore) -> Vec<Entry> {
    let meta: ObjectMeta = fs.metadata();
    let generation = meta.generation.unwrap_or(0);
    meta.managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| {
            let time = m.time?.0;
            let manager = m.manager.unwrap_or_else(|| "unknown".into());
            let what = match m.subresource.as_deref() {
                Some("status") => "status".to_string(),
                Some(sub) => format!("{sub} subresource"),
                None => fields_written(m.fields_v1.as_ref().map(|f| &f.0)),
            };
            Some(Entry {
                time: time.to_string(),
                kind: EntryKind::Write,
                object: format!("FeatureStore/{}", fs.name()),
                reason: m.operation.unwrap_or_default(),
                message: format!(
                    "{manager} last wrote {what} (the store is at generation {generation})"
                ),
                by: Some(manager),
                warning: false,
                from: None,
                to: None,
            })
        })
        .collect()
}

/// The top-level spec fields a managedFields entry owns: `spec (replicas, services)`.
fn fields_written(fields: Option<&Value>) -> String {
    let spec: Vec<String> = fields
        .and_then(|f| f.get("f:spec"))
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.strip_prefix("f:"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if spec.is_empty() {
        "its metadata".into()
    } else {
        format!("spec ({})", spec.join(", "))
    }
}

/// The last transition of each condition of the store, its Deployment and its HPA.
fn conditions(record: &Record, fs: &FeatureStore) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut push = |object: String,
                    type_: &str,
                    status: &str,
                    reason: Option<&str>,
                    message: Option<&str>,
                    time: Option<Timestamp>| {
        if let Some(time) = time {
            out.push(Entry {
                time: time.to_string(),
                kind: EntryKind::Condition,
                object,
                reason: reason.unwrap_or_default().to_string(),
                message: format!(
                    "{type_} became {status}{}",
                    message.map(|m| format!(": {m}")).unwrap_or_default()
                ),
                by: None,
                warning: matches!(
                    (type_, status),
                    ("ScalingLimited", "True")
                        | ("ScalingActive" | "AbleToScale" | "Available", "False")
                ) || (type_ == "FeatureStore" && status == "False"),
                from: None,
                to: None,
            });
        }
    };
    let store_conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> =
        fs.typed("status.conditions").unwrap_or_default();
    for c in &store_conditions {
        push(
            format!("FeatureStore/{}", fs.name()),
            &c.type_,
            &c.status,
            Some(&c.reason),
            Some(&c.message),
            Some(c.last_transition_time.0),
        );
    }
    if let Some(d) = &record.deployment {
        let name = d.metadata.name.clone().unwrap_or_default();
        for c in d.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
            push(
                format!("Deployment/{name}"),
                &c.type_,
                &c.status,
                c.reason.as_deref(),
                c.message.as_deref(),
                c.last_transition_time.as_ref().map(|t| t.0),
            );
        }
    }
    if let Some(h) = &record.hpa {
        let name = h.metadata.name.clone().unwrap_or_default();
        for c in h.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
            push(
                format!("HorizontalPodAutoscaler/{name}"),
                &c.type_,
                &c.status,
                c.reason.as_deref(),
                c.message.as_deref(),
                c.last_transition_time.as_ref().map(|t| t.0),
            );
        }
    }
    out
}

/// The pod names a ReplicaSet's events name ("Created pod: NAME"), for their own events: a
/// pod a drain evicted is gone, its events are not.
pub fn pods_named(events: &[Event]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("ReplicaSet"))
        .filter_map(|e| {
            let note = e.note.as_deref()?;
            note.strip_prefix("Created pod: ")
                .or_else(|| note.strip_prefix("Deleted pod: "))
                .map(|n| n.trim().to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, name: &str, reason: &str, note: &str, time: &str) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": format!("{name}.{reason}")},
            "eventTime": null,
            "deprecatedLastTimestamp": time,
            "regarding": {"kind": kind, "name": name},
            "reason": reason, "note": note, "type": "Normal",
            "reportingController": "ctl"
        }))
        .expect("an event")
    }

    fn store() -> Value {
        json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
            "metadata": {"name": "s", "namespace": "ns", "generation": 3, "managedFields": [
                {"manager": "kubectl-feast", "operation": "Update", "time": "2026-12-06T08:02:00Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:services": {}}}},
                {"manager": "feast-operator", "operation": "Update", "subresource": "status",
                 "time": "2026-12-06T08:02:05Z", "fieldsType": "FieldsV1", "fieldsV1": {}}]},
            "spec": {"feastProject": "p"},
            "status": {"conditions": [{"type": "FeatureStore", "status": "True", "reason": "Ready",
                "message": "done", "lastTransitionTime": "2026-12-06T07:00:00Z"}]}})
    }

    #[test]
    fn a_rescale_gets_its_from_and_to_and_the_timeline_is_in_order() {
        let record = Record {
            store: store(),
            events: vec![
                event(
                    "Deployment",
                    "feast-s",
                    "ScalingReplicaSet",
                    "Scaled up replica set feast-s-5d8 from 2 to 5",
                    "2026-12-06T08:05:01Z",
                ),
                event(
                    "HorizontalPodAutoscaler",
                    "feast-s",
                    "SuccessfulRescale",
                    "New size: 5; reason: cpu resource utilization (percentage of request) above target",
                    "2026-12-06T08:05:00Z",
                ),
                event(
                    "Pod",
                    "feast-s-5d8-x",
                    "FailedScheduling",
                    "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector.",
                    "2026-12-06T08:06:00Z",
                ),
            ],
            ..Record::default()
        };
        let since: Timestamp = "2026-12-06T08:00:00Z".parse().expect("time");
        let h = timeline(&record, since);
        let kinds: Vec<EntryKind> = h.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EntryKind::Write,
                EntryKind::Write,
                EntryKind::Rescale,
                EntryKind::ReplicaSet,
                EntryKind::Scheduling
            ],
            "{h:#?}"
        );
        let rescale = &h.events[2];
        assert_eq!((rescale.from, rescale.to), (Some(2), Some(5)));
        assert!(rescale.message.contains("above target"));
        assert!(
            h.events[0]
                .message
                .contains("kubectl-feast last wrote spec (replicas, services)")
        );
        assert!(h.events[1].message.contains("status"));
        // The condition from 07:00 is before the window.
        assert!(h.events.iter().all(|e| e.kind != EntryKind::Condition));
        let json = serde_json::to_value(&h).expect("JSON");
        assert_eq!(json["events"][2]["kind"], "rescale");
        assert_eq!(json["events"][2]["time"], "2026-12-06T08:05:00Z");
    }

    #[test]
    fn a_pod_gone_without_its_replicaset_deleting_it_is_an_eviction() {
        let record = Record {
            store: store(),
            events: vec![
                event(
                    "ReplicaSet",
                    "feast-s-5d8",
                    "SuccessfulCreate",
                    "Created pod: feast-s-5d8-a",
                    "2026-12-06T08:01:00Z",
                ),
                event(
                    "Pod",
                    "feast-s-5d8-a",
                    "Scheduled",
                    "Successfully assigned ns/feast-s-5d8-a to node-3",
                    "2026-12-06T08:01:00Z",
                ),
                event(
                    "ReplicaSet",
                    "feast-s-5d8",
                    "SuccessfulCreate",
                    "Created pod: feast-s-5d8-b",
                    "2026-12-06T08:09:00Z",
                ),
                // Scaled down by its ReplicaSet: not an eviction.
                event(
                    "ReplicaSet",
                    "feast-s-5d8",
                    "SuccessfulCreate",
                    "Created pod: feast-s-5d8-c",
                    "2026-12-06T08:01:00Z",
                ),
                event(
                    "ReplicaSet",
                    "feast-s-5d8",
                    "SuccessfulDelete",
                    "Deleted pod: feast-s-5d8-c",
                    "2026-12-06T08:05:00Z",
                ),
            ],
            pods: Some(vec!["feast-s-5d8-b".into()]),
            ..Record::default()
        };
        let h = timeline(&record, "2026-12-06T08:00:00Z".parse().expect("time"));
        let gone: Vec<&Entry> = h
            .events
            .iter()
            .filter(|e| e.kind == EntryKind::Eviction)
            .collect();
        assert_eq!(gone.len(), 1, "{h:#?}");
        assert_eq!(gone[0].object, "Pod/feast-s-5d8-a");
        assert_eq!(
            gone[0].time, "2026-12-06T08:09:00Z",
            "when its replacement came"
        );
        assert!(
            gone[0].message.contains("(on node-3)"),
            "{}",
            gone[0].message
        );
        assert!(
            gone[0].message.contains("replaced it with feast-s-5d8-b"),
            "{}",
            gone[0].message
        );
        // Pods that could not be read tell nothing gone.
        let unread = Record {
            pods: None,
            ..record
        };
        let h = timeline(&unread, "2026-12-06T08:00:00Z".parse().expect("time"));
        assert!(
            h.events.iter().all(|e| e.kind != EntryKind::Eviction),
            "{h:#?}"
        );
    }

    #[test]
    fn a_replicasets_events_name_its_pods_even_gone_ones() {
        let evs = vec![
            event(
                "ReplicaSet",
                "feast-s-5d8",
                "SuccessfulCreate",
                "Created pod: feast-s-5d8-a",
                "2026-12-06T08:05:00Z",
            ),
            event(
                "ReplicaSet",
                "feast-s-5d8",
                "SuccessfulDelete",
                "Deleted pod: feast-s-5d8-b",
                "2026-12-06T08:05:00Z",
            ),
            event(
                "Deployment",
                "feast-s",
                "ScalingReplicaSet",
                "Created pod: not-a-pod",
                "2026-12-06T08:05:00Z",
            ),
        ];
        assert_eq!(pods_named(&evs), ["feast-s-5d8-a", "feast-s-5d8-b"]);
    }
}
