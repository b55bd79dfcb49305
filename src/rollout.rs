//! Where a store's Deployment is in its rollout, and why a pod is not ready: the two things a
//! living cluster shows that the FeatureStore's own status does not. `status.replicas` and
//! `scalingStatus.currentReplicas` are the Deployment's `readyReplicas` (operator
//! `scaling.go` `updateScalingStatus`), which counts old and new pods alike: three ready pods
//! of the old template read as "3 ready" while both pods of the new one are Pending.
//!
//! Pure: plain data in (k8s-openapi types, or the few facts of a pod), words out. `status` and
//! `scale --wait` both use it.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};
use serde::Serialize;

/// The rollout of the Deployment's current template, from its status (the Deployment
/// controller's own counts and its `Progressing` condition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub state: RolloutState,
    /// `spec.replicas` (1 when unset, as the API server defaults it).
    pub desired: i64,
    /// Pods of the current template.
    pub updated: i64,
    /// Pods of all templates, old ones included.
    pub total: i64,
    /// Ready pods of all templates.
    pub ready: i64,
    /// The Deployment controller has seen the latest spec (`observedGeneration`).
    pub observed: bool,
    /// In words, for the detail view and `scale --wait`.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RolloutState {
    /// Every pod runs the current template and is ready, and no old pod is left.
    Complete,
    /// The controller is still replacing or adding pods.
    Progressing,
    /// `Progressing` is False with `ProgressDeadlineExceeded`: the controller gave up waiting.
    Stuck,
    /// Still progressing by the controller's count, but pods cannot start (a crash loop, an
    /// image that cannot be pulled, a missing Secret): waiting will not finish it.
    Failing,
}

/// Kubelet reasons that a pod will not get past by waiting.
const CANNOT_START: [&str; 7] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

impl Rollout {
    pub fn complete(&self) -> bool {
        self.state == RolloutState::Complete
    }

    /// A rollout in progress whose pods cannot start (their not-ready reasons, as
    /// [`not_ready_reason`] words them) is failing, whatever the controller's count says.
    pub fn with_pods<'a>(mut self, reasons: impl IntoIterator<Item = &'a str>) -> Rollout {
        if self.state != RolloutState::Progressing {
            return self;
        }
        let failing: Vec<&str> = reasons
            .into_iter()
            .filter(|r| {
                CANNOT_START
                    .iter()
                    .any(|k| r.split(": ").any(|part| part.starts_with(k)))
            })
            .collect();
        if failing.is_empty() {
            return self;
        }
        self.state = RolloutState::Failing;
        self.message = format!(
            "failing: {} of {} pods on the new template, {} ready in all; pods cannot start ({}), and waiting will not change that",
            self.updated,
            self.desired,
            self.ready,
            summary(failing).join("; ")
        );
        self
    }
}

/// The rollout state of a Deployment; None when it has no status yet.
pub fn of_deployment(d: &Deployment) -> Option<Rollout> {
    let status = d.status.as_ref()?;
    let desired = i64::from(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1));
    let updated = i64::from(status.updated_replicas.unwrap_or(0));
    let total = i64::from(status.replicas.unwrap_or(0));
    let ready = i64::from(status.ready_replicas.unwrap_or(0));
    let available = i64::from(status.available_replicas.unwrap_or(0));
    let observed = match (d.metadata.generation, status.observed_generation) {
        (Some(g), Some(o)) => o >= g,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let progressing = status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == "Progressing");
    let deadline = progressing
        .filter(|c| c.status == "False" && c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
    let old = (total - updated).max(0);
    let (state, message) = if let Some(c) = deadline {
        (
            RolloutState::Stuck,
            format!(
                "stuck: {updated} of {desired} pods on the new template, {ready} ready in all; ProgressDeadlineExceeded: {}",
                c.message.as_deref().unwrap_or("")
            ),
        )
    } else if !observed {
        (
            RolloutState::Progressing,
            "the Deployment controller has not yet observed the latest template".to_string(),
        )
    } else if updated == desired && total == desired && ready == desired && available == desired {
        (
            RolloutState::Complete,
            format!("complete: {desired} of {desired} pods on the current template, all ready"),
        )
    } else {
        let mut m = format!(
            "in progress: {updated} of {desired} pods on the new template, {ready} ready in all"
        );
        if old > 0 {
            m.push_str(&format!(
                "; {old} old pod{} still running",
                if old == 1 { "" } else { "s" }
            ));
        }
        (RolloutState::Progressing, m)
    };
    Some(Rollout {
        state,
        desired,
        updated,
        total,
        ready,
        observed,
        message,
    })
}

/// Why a pod is not ready, in the words of whoever knows: the scheduler (`PodScheduled` False,
/// its message), the kubelet (a container's waiting or terminated reason: `CrashLoopBackOff`,
/// `ImagePullBackOff`, an init container such as `feast-apply` failing), or the pod's phase.
/// None when the pod is ready.
pub fn not_ready_reason(
    phase: Option<&str>,
    conditions: &[PodCondition],
    init_containers: &[ContainerStatus],
    containers: &[ContainerStatus],
) -> Option<String> {
    let condition = |t: &str| conditions.iter().find(|c| c.type_ == t);
    if condition("Ready").is_some_and(|c| c.status == "True") {
        return None;
    }
    if let Some(c) = condition("PodScheduled").filter(|c| c.status == "False") {
        let reason = c.reason.as_deref().unwrap_or("not scheduled");
        return Some(match c.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("{reason}: {m}"),
            None => reason.to_string(),
        });
    }
    for (kind, list) in [
        ("init container", init_containers),
        ("container", containers),
    ] {
        for cs in list {
            if let Some(why) = container_reason(cs) {
                return Some(format!("{kind} {}: {why}", cs.name));
            }
        }
    }
    if let Some(c) = condition("Ready").and_then(|c| c.reason.as_deref().map(|r| (r, c))) {
        let (reason, c) = c;
        return Some(match c.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("{reason}: {m}"),
            None => reason.to_string(),
        });
    }
    Some(match phase {
        Some(p) => format!("{p}, not ready"),
        None => "not ready".to_string(),
    })
}

/// A container's waiting reason, or a terminated one that is not a success.
fn container_reason(cs: &ContainerStatus) -> Option<String> {
    let state = cs.state.as_ref()?;
    if let Some(w) = &state.waiting {
        let reason = w.reason.as_deref().unwrap_or("waiting");
        return Some(match w.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("{reason}: {m}"),
            None => reason.to_string(),
        });
    }
    if let Some(t) = state.terminated.as_ref().filter(|t| t.exit_code != 0) {
        return Some(format!(
            "{} (exit code {})",
            t.reason.as_deref().unwrap_or("terminated"),
            t.exit_code
        ));
    }
    None
}

/// [`not_ready_reason`] of a whole Pod.
pub fn pod_reason(pod: &Pod) -> Option<String> {
    let st = pod.status.as_ref();
    not_ready_reason(
        st.and_then(|s| s.phase.as_deref()),
        st.and_then(|s| s.conditions.as_deref()).unwrap_or_default(),
        st.and_then(|s| s.init_container_statuses.as_deref())
            .unwrap_or_default(),
        st.and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default(),
    )
}

/// The reasons of the pods that are not ready, most common first, each with its count:
/// "2 pods: Unschedulable: 0/6 nodes are available: ...".
pub fn summary<'a>(reasons: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for r in reasons {
        match counts.iter_mut().find(|(x, _)| *x == r) {
            Some((_, n)) => *n += 1,
            None => counts.push((r, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .into_iter()
        .map(|(r, n)| {
            if n == 1 {
                format!("1 pod: {r}")
            } else {
                format!("{n} pods: {r}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(v: serde_json::Value) -> Deployment {
        serde_json::from_value(v).expect("a Deployment")
    }

    #[test]
    fn old_ready_pods_do_not_make_a_rollout_complete() {
        let d = deployment(json!({
            "metadata": {"name": "feast-x", "generation": 2},
            "spec": {"replicas": 4, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "replicas": 5, "updatedReplicas": 2,
                       "readyReplicas": 3, "availableReplicas": 3}
        }));
        let r = of_deployment(&d).expect("a status");
        assert_eq!(r.state, RolloutState::Progressing);
        assert_eq!(
            r.message,
            "in progress: 2 of 4 pods on the new template, 3 ready in all; 3 old pods still running"
        );
    }

    #[test]
    fn pods_that_cannot_start_make_a_rollout_in_progress_failing() {
        let d = deployment(json!({
            "metadata": {"name": "feast-x", "generation": 2},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2}
        }));
        let r = of_deployment(&d).expect("a status");
        let crash = "container online: CrashLoopBackOff: back-off 40s restarting failed container";
        let failing = r.clone().with_pods([crash, crash]);
        assert_eq!(failing.state, RolloutState::Failing);
        assert_eq!(
            failing.message,
            format!(
                "failing: 2 of 2 pods on the new template, 0 ready in all; pods cannot start (2 pods: {crash}), and waiting will not change that"
            )
        );
        let secret = "container online: CreateContainerConfigError: secret \"s\" not found";
        assert_eq!(r.clone().with_pods([secret]).state, RolloutState::Failing);
        // Waiting for a node, or a pod starting: still in progress.
        let pending = r.clone().with_pods([
            "Unschedulable: 0/3 nodes are available",
            "ContainerCreating",
        ]);
        assert_eq!(pending.state, RolloutState::Progressing);
        assert_eq!(pending.message, r.message);
    }

    #[test]
    fn a_rollout_is_complete_when_every_pod_is_new_and_ready() {
        let d = deployment(json!({
            "metadata": {"name": "feast-x", "generation": 3},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3,
                       "readyReplicas": 3, "availableReplicas": 3}
        }));
        assert!(of_deployment(&d).expect("a status").complete());
    }

    #[test]
    fn progress_deadline_exceeded_is_stuck() {
        let d = deployment(json!({
            "metadata": {"name": "feast-x", "generation": 1},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                       "conditions": [{"type": "Progressing", "status": "False",
                                       "reason": "ProgressDeadlineExceeded",
                                       "message": "ReplicaSet \"feast-x-1\" has timed out progressing."}]}
        }));
        let r = of_deployment(&d).expect("a status");
        assert_eq!(r.state, RolloutState::Stuck);
        assert!(
            r.message.contains("has timed out progressing"),
            "{}",
            r.message
        );
    }

    #[test]
    fn an_unobserved_generation_is_still_progressing() {
        let d = deployment(json!({
            "metadata": {"name": "feast-x", "generation": 5},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": {"observedGeneration": 4, "replicas": 1, "updatedReplicas": 1,
                       "readyReplicas": 1, "availableReplicas": 1}
        }));
        assert_eq!(
            of_deployment(&d).expect("a status").state,
            RolloutState::Progressing
        );
    }

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).expect("a Pod")
    }

    #[test]
    fn an_unschedulable_pod_gives_the_schedulers_message() {
        let p = pod(json!({"status": {"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector."}]}}));
        assert_eq!(
            pod_reason(&p).as_deref(),
            Some(
                "Unschedulable: 0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector."
            )
        );
    }

    #[test]
    fn a_failing_init_container_is_named() {
        let p = pod(json!({"status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True"},
                           {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
            "initContainerStatuses": [
                {"name": "feast-init", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "feast-apply", "image": "i", "imageID": "", "ready": false, "restartCount": 3,
                 "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}}]}}));
        assert_eq!(
            pod_reason(&p).as_deref(),
            Some("init container feast-apply: CrashLoopBackOff: back-off 40s")
        );
    }

    #[test]
    fn an_image_pull_failure_is_named() {
        let p = pod(json!({"status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": "online", "image": "i", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}));
        assert_eq!(
            pod_reason(&p).as_deref(),
            Some("container online: ImagePullBackOff")
        );
    }

    #[test]
    fn a_ready_pod_has_no_reason() {
        let p = pod(json!({"status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}}));
        assert_eq!(pod_reason(&p), None);
    }

    #[test]
    fn reasons_are_counted_most_common_first() {
        assert_eq!(
            summary(["b", "a", "b"]),
            vec!["2 pods: b".to_string(), "1 pod: a".to_string()]
        );
    }
}
