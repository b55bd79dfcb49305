//! Is the Feast Operator alive? One verdict, from evidence in the order it is trusted:
//!
//! 1. its leader-election Lease (`66483dbd.feast.dev`, the operator's `LeaderElectionID`): the
//!    leader renews it every few seconds while it runs, so a Lease renewed within its duration
//!    is a live operator and one left to expire is a stopped one, whatever else is visible;
//! 2. its Deployment's readiness, where one is visible (an operator run without leader
//!    election has no Lease);
//! 3. with neither, nothing says it runs: stores whose spec it has not caught up with say it may
//!    well not.
//!
//! `doctor`, `status` and the change commands read the verdict from here; none says "ok"
//! without evidence. Pure: the caller passes the look-ups and `now`.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::doctor::{Probe, Workload};

/// The first operator release with the scaling fields and the scale subresource (§0).
pub const MIN_OPERATOR: (u64, u64) = (0, 61);

pub const UPGRADE: &str = "upgrade the Feast Operator to 0.61 or later (its CRD adds spec.replicas, spec.services.scaling, podDisruptionBudgets and the scale subresource)";

/// `0.66.0` → (0, 66); `v0.61.0-rc1` → (0, 61).
pub fn parse_version(v: &str) -> Option<(u64, u64)> {
    let mut parts = v.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The operator's `LeaderElectionID` (cmd/main.go), the name of its Lease.
pub const LEASE_NAME: &str = "66483dbd.feast.dev";

/// How long past a Lease's duration its holder still counts as alive: controller-runtime
/// retries a renewal every 2 s and gives up after 10 s, and clocks differ a little.
const GRACE_SECONDS: i64 = 5;

text_enum! {
    /// The verdict.
    pub enum Liveness {
        /// Evidence that an operator runs and leads.
        Alive = "alive",
        /// Evidence that none does: an expired Lease, a Deployment without a ready pod.
        Stopped = "stopped",
        /// No evidence either way.
        Unknown = "unknown",
    }
}

/// The verdict and the evidence behind it, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorState {
    pub liveness: Liveness,
    pub evidence: String,
    /// Where to look next (its pods, its logs), when it is not alive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<crate::hint::Hint>,
}

impl OperatorState {
    fn new(liveness: Liveness, evidence: String, fix: Option<crate::hint::Hint>) -> OperatorState {
        OperatorState {
            liveness,
            evidence,
            fix,
        }
    }

    pub fn is_alive(&self) -> bool {
        self.liveness == Liveness::Alive
    }
}

/// What was read: the operator's Leases (every namespace, by name), its Deployments (None when
/// not looked for: the change commands read the Lease alone), and how many stores in scope it
/// has not caught up with.
pub struct Evidence<'a> {
    pub leases: &'a Probe<Vec<Lease>>,
    pub deployments: Option<&'a Probe<Vec<Workload>>>,
    pub lagging_stores: usize,
    pub now: Timestamp,
}

/// The one verdict on the operator.
pub fn liveness(e: &Evidence) -> OperatorState {
    if let Some(state) = from_lease(e.leases, e.now) {
        return state;
    }
    match e.deployments {
        Some(Probe::Found(found)) if !found.is_empty() => {
            let shown = found
                .iter()
                .map(|w| {
                    format!(
                        "{}/{} ({}/{} ready)",
                        w.namespace, w.name, w.ready, w.desired
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            match found.iter().find(|w| w.ready > 0) {
                Some(_) => OperatorState::new(
                    Liveness::Alive,
                    format!("its Deployment has a ready pod: {shown}"),
                    None,
                ),
                None => {
                    let w = &found[0];
                    OperatorState::new(
                        Liveness::Stopped,
                        format!("its Deployment has no ready pod: {shown}"),
                        Some(format!(
                            "look at its pods: `kubectl get pods -n {}` and `kubectl describe deployment {} -n {}`",
                            w.namespace, w.name, w.namespace
                        ).into()),
                    )
                }
            }
        }
        deployments => {
            let mut why_not = vec![match e.leases {
                Probe::Unreadable(why) => format!("its Lease could not be read ({why})"),
                _ => format!("no Lease {LEASE_NAME} exists"),
            }];
            match deployments {
                Some(Probe::Unreadable(why)) => {
                    why_not.push(format!("its Deployment could not be read ({why})"))
                }
                Some(_) => why_not.push("no Feast Operator Deployment is visible".into()),
                None => {}
            }
            if e.lagging_stores > 0 {
                why_not.push(format!(
                    "{} FeatureStore(s) are behind their spec",
                    e.lagging_stores
                ));
            }
            OperatorState::new(
                Liveness::Unknown,
                format!(
                    "no sign of a running Feast Operator: {}",
                    why_not.join("; ")
                ),
                Some("check that the Feast Operator (0.61 or later) runs, and its logs".into()),
            )
        }
    }
}

/// The freshest Lease's verdict, or None when there is no Lease to judge by.
fn from_lease(leases: &Probe<Vec<Lease>>, now: Timestamp) -> Option<OperatorState> {
    let Probe::Found(leases) = leases else {
        return None;
    };
    let renewed = |l: &Lease| {
        l.spec
            .as_ref()
            .and_then(|s| s.renew_time.as_ref())
            .map(|t| t.0)
    };
    let lease = leases.iter().max_by_key(|l| renewed(l))?;
    let spec = lease.spec.as_ref();
    let at = format!(
        "{}/{}",
        lease.metadata.namespace.as_deref().unwrap_or(""),
        lease.metadata.name.as_deref().unwrap_or(LEASE_NAME)
    );
    let holder = spec
        .and_then(|s| s.holder_identity.as_deref())
        .filter(|h| !h.is_empty());
    let duration = i64::from(spec.and_then(|s| s.lease_duration_seconds).unwrap_or(15));
    let Some(renewed) = renewed(lease) else {
        return Some(OperatorState::new(
            Liveness::Stopped,
            format!("its Lease {at} has never been renewed: no operator leads"),
            Some(start_hint(&at)),
        ));
    };
    let age = now.as_second() - renewed.as_second();
    match holder {
        Some(holder) if age <= duration + GRACE_SECONDS => Some(OperatorState::new(
            Liveness::Alive,
            format!("its leader {holder} renewed Lease {at} {}s ago", age.max(0)),
            None,
        )),
        _ => Some(OperatorState::new(
            Liveness::Stopped,
            format!(
                "its Lease {at} was last renewed {} ago (at {renewed}) and lasts {duration}s: no operator holds it",
                ago(age)
            ),
            Some(start_hint(&at)),
        )),
    }
}

fn start_hint(lease_at: &str) -> crate::hint::Hint {
    let ns = lease_at.split('/').next().unwrap_or("");
    format!(
        "start the Feast Operator again and check its logs: `kubectl get deployments,pods -n {ns}`"
    )
    .into()
}

/// `42s`, `5m`, `3h`, `2d`.
fn ago(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..120 => format!("{s}s"),
        120..7200 => format!("{}m", s / 60),
        7200..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lease(holder: &str, renewed: &str, duration: i32) -> Lease {
        serde_json::from_value(json!({
            "metadata": {"name": LEASE_NAME, "namespace": "feast-operator-system"},
            "spec": {"holderIdentity": holder, "renewTime": renewed, "leaseDurationSeconds": duration}
        }))
        .expect("a Lease")
    }

    fn now() -> Timestamp {
        "2026-12-05T12:00:00Z".parse().expect("time")
    }

    fn workload(ready: i64) -> Workload {
        Workload {
            namespace: "feast-operator-system".into(),
            name: "feast-operator-controller-manager".into(),
            desired: 1,
            ready,
        }
    }

    fn verdict(leases: Probe<Vec<Lease>>, deployments: Probe<Vec<Workload>>) -> OperatorState {
        liveness(&Evidence {
            leases: &leases,
            deployments: Some(&deployments),
            lagging_stores: 2,
            now: now(),
        })
    }

    #[test]
    fn a_freshly_renewed_lease_is_a_live_operator() {
        let v = verdict(
            Probe::Found(vec![lease("op_1", "2026-12-05T11:59:58.000000Z", 15)]),
            Probe::Missing,
        );
        assert_eq!(v.liveness, Liveness::Alive);
        assert!(
            v.evidence
                .contains("op_1 renewed Lease feast-operator-system/66483dbd.feast.dev 2s ago")
        );
    }

    #[test]
    fn an_expired_lease_is_a_stopped_operator_even_beside_a_ready_deployment() {
        let v = verdict(
            Probe::Found(vec![lease("op_1", "2026-12-05T11:55:00.000000Z", 15)]),
            Probe::Found(vec![workload(1)]),
        );
        assert_eq!(v.liveness, Liveness::Stopped);
        assert!(v.evidence.contains("last renewed 5m ago"), "{}", v.evidence);
        assert!(v.fix.is_some());
    }

    #[test]
    fn without_a_lease_the_deployment_decides() {
        assert_eq!(
            verdict(Probe::Missing, Probe::Found(vec![workload(1)])).liveness,
            Liveness::Alive
        );
        assert_eq!(
            verdict(Probe::Found(vec![]), Probe::Found(vec![workload(0)])).liveness,
            Liveness::Stopped
        );
    }

    #[test]
    fn no_evidence_is_never_alive() {
        let v = verdict(Probe::Unreadable("forbidden".into()), Probe::Missing);
        assert_eq!(v.liveness, Liveness::Unknown);
        assert!(
            v.evidence
                .contains("its Lease could not be read (forbidden)")
        );
        assert!(
            v.evidence
                .contains("2 FeatureStore(s) are behind their spec")
        );
    }

    #[test]
    fn ages_read_in_their_largest_unit() {
        assert_eq!(ago(42), "42s");
        assert_eq!(ago(600), "10m");
        assert_eq!(ago(4 * 3600), "4h");
        assert_eq!(ago(3 * 86_400), "3d");
    }
}
