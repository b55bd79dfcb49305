//! A store's verdicts: every part of its status that needs a person's attention, with its
//! level, in words. Defined once, here: `status` colours its cells by them and `doctor`'s store
//! checks are them, so the two never disagree (a store `status` marks CRITICAL is never `ok` in
//! `doctor`). Pure.

use serde::Serialize;

use super::{Level, Mode, Ownership, StoreStatus};
use crate::rules::{RuleId, Severity};

text_enum! {
    /// The part of a store's status a verdict is about: a column of `status`, a check of
    /// `doctor` (`store/<area>`).
    pub enum Area {
        Mode = "mode",
        Replicas = "replicas",
        Autoscaler = "autoscaler",
        Budget = "budget",
        Placement = "placement",
        Safety = "safety",
        Phase = "phase",
        Sync = "sync",
        Deployment = "deployment",
    }
}

/// One verdict on one area of a store, with what to do about it where something can be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreVerdict {
    pub area: Area,
    pub level: Level,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<crate::hint::Hint>,
}

fn v(area: Area, level: Level, message: impl Into<String>) -> StoreVerdict {
    StoreVerdict {
        area,
        level,
        message: message.into(),
        fix: None,
    }
}

impl StoreVerdict {
    /// A section's verdict as the area's, with its fix.
    fn of(area: Area, section: &super::Verdict) -> StoreVerdict {
        StoreVerdict {
            area,
            level: section.level,
            message: section.message.clone(),
            fix: section.fix.clone(),
        }
    }

    fn fix(mut self, fix: impl Into<crate::hint::Hint>) -> StoreVerdict {
        self.fix = Some(fix.into());
        self
    }

    /// The worse of two verdicts on one area (the first on a tie).
    fn or_worse(self, other: Option<StoreVerdict>) -> StoreVerdict {
        match other {
            Some(o) if o.level.worse_than(self.level) => o,
            _ => self,
        }
    }
}

impl StoreStatus {
    /// The verdict on every area, in the order of `status`'s columns (kept in `verdicts` once
    /// the store is derived).
    pub(super) fn judge(&self) -> Vec<StoreVerdict> {
        vec![
            self.mode_verdict(),
            self.replicas_verdict(),
            self.autoscaler_verdict(),
            self.budget_verdict(),
            self.placement_verdict(),
            self.safety_verdict(),
            self.phase_verdict(),
            self.sync_verdict(),
            self.deployment_verdict(),
        ]
    }

    /// `NAME -n NAMESPACE`, shell-quoted, for the fixes' commands.
    fn target(&self) -> String {
        use crate::suggest::shell_quote;
        format!(
            "{} -n {}",
            shell_quote(&self.name),
            shell_quote(&self.namespace)
        )
    }

    /// The first finding of `validate`'s rules on the stored object that `pick` keeps.
    fn finding(
        &self,
        pick: impl Fn(&crate::rules::Finding) -> bool,
    ) -> Option<&crate::rules::Finding> {
        self.warnings.iter().find(|f| pick(f))
    }

    /// The level of one area.
    pub fn level(&self, area: Area) -> Level {
        self.verdicts
            .iter()
            .find(|v| v.area == area)
            .map_or(Level::Ok, |v| v.level)
    }

    fn mode_verdict(&self) -> StoreVerdict {
        let level = match self.mode {
            Mode::Conflict => Level::Critical,
            Mode::Unknown => Level::Unknown,
            _ => Level::Ok,
        };
        let verdict = v(
            Area::Mode,
            level,
            format!("{}: {}", self.mode, self.mode_reason),
        );
        if self.mode == Mode::Conflict {
            verdict.fix(format!(
                "keep one owner of the replica count: `kubectl feast validate {}` names them and which to remove",
                self.target()
            ))
        } else {
            verdict
        }
    }

    /// Where to read why pods are not ready: the kubelet's and the scheduler's words.
    fn pods_fix(&self) -> String {
        format!(
            "see why under Placement, or `kubectl describe pods -l feast.dev/name={} -n {}`",
            crate::suggest::shell_quote(&self.name),
            crate::suggest::shell_quote(&self.namespace)
        )
    }

    fn replicas_verdict(&self) -> StoreVerdict {
        let ready = self.replicas.ready;
        let Some(desired) = self.replicas.desired else {
            return v(
                Area::Replicas,
                Level::Unknown,
                format!("{ready} ready of an unknown desired count"),
            );
        };
        let stuck = self.rollout.as_ref().filter(|r| {
            matches!(
                r.state,
                crate::rollout::RolloutState::Stuck | crate::rollout::RolloutState::Failing
            )
        });
        if let Some(r) = stuck {
            return v(
                Area::Replicas,
                Level::Critical,
                format!("rollout {}", r.message),
            )
            .fix(self.pods_fix());
        }
        let (level, what) = if ready == 0 && desired > 0 {
            (Level::Critical, "no replica is ready")
        } else if ready < desired {
            (Level::Warning, "not every replica is ready")
        } else {
            (Level::Ok, "every replica is ready")
        };
        let verdict = v(
            Area::Replicas,
            level,
            format!("{ready} of {desired} ready: {what}"),
        );
        if level == Level::Ok {
            verdict
        } else {
            verdict.fix(self.pods_fix())
        }
    }

    fn autoscaler_verdict(&self) -> StoreVerdict {
        // A Utilization metric on a container without the request: the HPA cannot compute it,
        // whatever it reports yet.
        let no_request = self
            .finding(|f| f.rule == RuleId::AutoscalingMissingResourceRequest)
            .map(|f| {
                v(
                    Area::Autoscaler,
                    Level::Critical,
                    format!(
                        "{}: the HPA cannot compute utilisation and does not scale",
                        f.message
                    ),
                )
                .fix(f.hint.clone())
            });
        let found = match &self.autoscaler {
            Some(a) => {
                let found = StoreVerdict::of(Area::Autoscaler, &a.verdict);
                match (found.fix.is_none(), found.level, a.at_limit) {
                    (true, Level::Warning, Some(super::autoscaler::Limit::Max)) => {
                        let max = a.max_replicas.unwrap_or(a.min_replicas);
                        // What the metrics ask for now, by the controller's arithmetic; else
                        // room to double.
                        let wanted = a
                            .decision
                            .as_ref()
                            .map(|d| d.wanted_replicas)
                            .filter(|w| *w > max);
                        found.fix(format!(
                            "if the load is real, raise the max to what the metrics ask for (`kubectl feast autoscale {} --max {}`) once the nodes have room for more pods",
                            self.target(),
                            wanted.unwrap_or(max * 2)
                        ))
                    }
                    (true, Level::Critical, _) if a.current_replicas.is_none() => found.fix(format!(
                        "the operator could not make the HPA: fix what the message names (`kubectl feast validate {}` checks the spec); the operator retries on its own",
                        self.target()
                    )),
                    _ => found,
                }
            }
            None if self.mode == Mode::Unknown => v(
                Area::Autoscaler,
                Level::Unknown,
                "the HPAs could not be read",
            ),
            None => v(Area::Autoscaler, Level::Ok, "no autoscaler"),
        };
        found.or_worse(no_request)
    }

    fn budget_verdict(&self) -> StoreVerdict {
        let d = &self.disruption_budget;
        let relax = format!("`kubectl feast pdb {} --max-unavailable 1`", self.target());
        if d.blocks_drains == Some(true) {
            return v(
                Area::Budget,
                Level::Critical,
                format!(
                    "the disruption budget {} blocks every eviction: node drains stall",
                    d.policy.as_deref().unwrap_or("")
                ),
            )
            .fix(relax);
        }
        // Spec-level: a budget that will block drains once the PDB exists.
        if let Some(f) = self.finding(|f| f.rule == RuleId::PdbBlocksEvictions) {
            return v(Area::Budget, Level::Warning, f.message.clone()).fix(f.hint.clone());
        }
        if self.scaling_enabled && d.configured.is_none() {
            return v(
                Area::Budget,
                Level::Warning,
                "no disruption budget: a node drain or upgrade may evict every replica at once",
            )
            .fix(relax);
        }
        let level = match d.verdict.level {
            // An inactive budget (scaling off) is information, not a problem.
            Level::Info => Level::Ok,
            l => l,
        };
        v(Area::Budget, level, d.verdict.message.clone())
    }

    fn placement_verdict(&self) -> StoreVerdict {
        let p = &self.placement;
        let capacity = p
            .capacity
            .as_ref()
            .map(|c| StoreVerdict::of(Area::Placement, c));
        if !p.pods_known {
            return v(Area::Placement, Level::Unknown, p.verdict.message.clone())
                .or_worse(capacity);
        }
        let ready = p
            .pods
            .iter()
            .filter(|p| p.ready && p.node.is_some())
            .count();
        if ready > 1 && p.nodes == 1 {
            return v(
                Area::Placement,
                Level::Critical,
                format!(
                    "all {ready} ready pods run on one node: one node failure takes the store down"
                ),
            )
            .fix(format!(
                "the operator's anti-affinity is only preferred: when other nodes are cordoned, tainted or full, the scheduler packs the pods together; free other nodes (`kubectl get nodes`), then spread the pods again with `kubectl rollout restart deployment {} -n {}`",
                self.deployment.name, self.namespace
            ));
        }
        let level = match p.verdict.level {
            Level::Info => Level::Ok,
            l => l,
        };
        let mut verdict = v(Area::Placement, level, p.verdict.message.clone());
        if level == Level::Warning && p.zones == Some(1) {
            verdict = verdict.fix(
                "add schedulable nodes in a second zone (`kubectl get nodes -L topology.kubernetes.io/zone` shows each node's); the operator's zone spread then places replicas across zones",
            );
        } else if matches!(level, Level::Warning | Level::Critical) {
            // Fewer ready than desired, or one pod left: the pods say why.
            verdict = verdict.fix(self.pods_fix());
        }
        verdict.or_worse(capacity)
    }

    fn safety_verdict(&self) -> StoreVerdict {
        // A stored object the CRD's scaling rules refuse (written before the rule existed, or
        // past it): the operator reconciles it as it is.
        if let Some(f) = self.finding(|f| f.severity == Severity::Error && f.rule.is_scaling_rule())
        {
            return v(
                Area::Safety,
                Level::Critical,
                format!("{} ({}): {}", f.rule, f.path, f.message),
            )
            .fix(f.hint.clone());
        }
        if self.safe_to_scale {
            return v(
                Area::Safety,
                Level::Ok,
                "every service's persistence is safe with more than one replica",
            );
        }
        let unsafe_services: Vec<String> = self
            .persistence
            .iter()
            .filter(|p| !p.scalable)
            .map(|p| format!("{} ({})", p.service, p.reason))
            .collect();
        // One replica: nothing is wrong today, but the first scale-up will be refused.
        let level = if !self.scaling_enabled {
            Level::Info
        } else {
            Level::Critical
        };
        v(
            Area::Safety,
            level,
            format!("not safe to scale: {}", unsafe_services.join(", ")),
        )
        .fix(format!(
            "move these services to DB-backed persistence before scaling: `kubectl feast validate {}` says how",
            self.target()
        ))
    }

    fn phase_verdict(&self) -> StoreVerdict {
        use crate::operator::{MIN_OPERATOR, UPGRADE, parse_version};
        let old = self
            .feast_version
            .as_deref()
            .filter(|v| parse_version(v).is_some_and(|found| found < MIN_OPERATOR))
            .map(|version| {
                v(
                    Area::Phase,
                    Level::Critical,
                    format!("reconciled by operator {version}, older than 0.61: it ignores spec.replicas, scaling and podDisruptionBudgets"),
                )
                .fix(UPGRADE)
            });
        self.phase_only().or_worse(old)
    }

    fn phase_only(&self) -> StoreVerdict {
        let condition = self
            .conditions
            .iter()
            .find(|c| c.status != "True" && c.message.as_deref().is_some_and(|m| !m.is_empty()))
            .and_then(|c| c.message.clone());
        match self.phase.as_deref() {
            Some("Ready") => v(Area::Phase, Level::Ok, "phase Ready"),
            Some("Failed") => v(
                Area::Phase,
                Level::Critical,
                match condition {
                    Some(m) => format!("phase Failed: {m}"),
                    None => "phase Failed".into(),
                },
            )
            .fix(format!(
                "the operator refused what the message names; `kubectl feast validate {}` checks the spec",
                self.target()
            )),
            Some(p) => v(Area::Phase, Level::Warning, format!("phase {p}")),
            None => v(
                Area::Phase,
                Level::Warning,
                "no phase yet: the operator has not reconciled it",
            ),
        }
    }

    fn sync_verdict(&self) -> StoreVerdict {
        if self.operator_synced.synced && self.deployment.ownership == Ownership::Missing {
            return v(
                Area::Sync,
                Level::Warning,
                format!(
                    "status.applied holds the spec, but Deployment {} does not exist: the operator has not made it (see the phase and conditions)",
                    self.deployment.name
                ),
            )
            .fix(format!(
                "`kubectl feast doctor {}` says whether the operator runs; its log names what it could not create",
                self.target()
            ));
        }
        if self.operator_synced.synced {
            v(
                Area::Sync,
                Level::Ok,
                "the operator has caught up with the spec",
            )
        } else if self.phase.as_deref() == Some("Failed") {
            // The phase verdict says why; this is its consequence, not a second problem.
            v(
                Area::Sync,
                Level::Info,
                "the operator recorded this spec, and its reconcile of it failed (see the phase)",
            )
        } else {
            v(
                Area::Sync,
                Level::Warning,
                format!(
                    "the operator has not caught up with the spec: {}",
                    self.operator_synced.differences.join("; ")
                ),
            )
            .fix(format!(
                "a running operator applies a change within seconds: `kubectl feast doctor {}` says whether it runs and watches this namespace",
                self.target()
            ))
        }
    }

    fn deployment_verdict(&self) -> StoreVerdict {
        let name = &self.deployment.name;
        match self.deployment.ownership {
            Ownership::Unknown => v(
                Area::Deployment,
                Level::Unknown,
                "Deployments could not be read: hand edits not checked",
            ),
            Ownership::Missing => v(
                Area::Deployment,
                Level::Ok,
                format!("no Deployment {name} yet"),
            ),
            Ownership::NotOwned => v(
                Area::Deployment,
                Level::Warning,
                format!("Deployment {name} exists but is not controlled by this FeatureStore"),
            )
            .fix(format!(
                "find out who made it: `kubectl get deployment {name} -n {} -o yaml`",
                crate::suggest::shell_quote(&self.namespace)
            )),
            Ownership::Owned => {
                let Some(e) = &self.edits else {
                    return v(
                        Area::Deployment,
                        Level::Ok,
                        format!("Deployment {name} is as the operator wrote it"),
                    );
                };
                let by = if e.editors.is_empty() {
                    String::new()
                } else {
                    format!(" (edited by {})", e.editors.join(", "))
                };
                let message = if e.drift.is_empty() {
                    format!(
                        "Deployment {name}'s spec was edited by hand{by}: the operator rebuilds the spec at every reconcile and reverts such edits"
                    )
                } else {
                    format!(
                        "Deployment {name} was changed by hand{by}: {}; the operator reverts it at its next reconcile",
                        e.drift.join("; ")
                    )
                };
                v(Area::Deployment, Level::Warning, message).fix(format!(
                    "change the FeatureStore instead (`kubectl feast scale {} --replicas N`, `kubectl feast autoscale`, `kubectl feast pdb`); the operator rebuilds the Deployment from it",
                    self.target()
                ))
            }
        }
    }
}
