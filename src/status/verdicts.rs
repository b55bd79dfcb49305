//! A store's verdicts: every part of its status that needs a person's attention, with its
//! level, in words. Defined once, here: `status` colours its cells by them and `doctor`'s store
//! checks are them, so the two never disagree (a store `status` marks CRITICAL is never `ok` in
//! `doctor`). Pure.

use serde::Serialize;

use super::{Level, Mode, StoreStatus};

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
    }
}

/// One verdict on one area of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreVerdict {
    pub area: Area,
    pub level: Level,
    pub message: String,
}

fn v(area: Area, level: Level, message: impl Into<String>) -> StoreVerdict {
    StoreVerdict {
        area,
        level,
        message: message.into(),
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
        ]
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
        v(
            Area::Mode,
            level,
            format!("{}: {}", self.mode, self.mode_reason),
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
        let stuck = self
            .rollout
            .as_ref()
            .filter(|r| r.state == crate::rollout::RolloutState::Stuck);
        if let Some(r) = stuck {
            return v(
                Area::Replicas,
                Level::Critical,
                format!("rollout {}", r.message),
            );
        }
        let (level, what) = if ready == 0 && desired > 0 {
            (Level::Critical, "no replica is ready")
        } else if ready < desired {
            (Level::Warning, "not every replica is ready")
        } else {
            (Level::Ok, "every replica is ready")
        };
        v(
            Area::Replicas,
            level,
            format!("{ready} of {desired} ready: {what}"),
        )
    }

    fn autoscaler_verdict(&self) -> StoreVerdict {
        match &self.autoscaler {
            Some(a) => v(Area::Autoscaler, a.verdict.level, a.verdict.message.clone()),
            None if self.mode == Mode::Unknown => v(
                Area::Autoscaler,
                Level::Unknown,
                "the HPAs could not be read",
            ),
            None => v(Area::Autoscaler, Level::Ok, "no autoscaler"),
        }
    }

    fn budget_verdict(&self) -> StoreVerdict {
        let d = &self.disruption_budget;
        if d.blocks_drains == Some(true) {
            return v(
                Area::Budget,
                Level::Critical,
                format!(
                    "the disruption budget {} blocks every eviction: node drains stall",
                    d.policy.as_deref().unwrap_or("")
                ),
            );
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
        if !p.pods_known {
            return v(Area::Placement, Level::Unknown, p.verdict.message.clone());
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
            );
        }
        let level = match p.verdict.level {
            Level::Info => Level::Ok,
            l => l,
        };
        v(Area::Placement, level, p.verdict.message.clone())
    }

    fn safety_verdict(&self) -> StoreVerdict {
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
        let level = if self.mode == Mode::Single {
            Level::Ok
        } else {
            Level::Critical
        };
        v(
            Area::Safety,
            level,
            format!("not safe to scale: {}", unsafe_services.join(", ")),
        )
    }

    fn phase_verdict(&self) -> StoreVerdict {
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
            ),
            Some(p) => v(Area::Phase, Level::Warning, format!("phase {p}")),
            None => v(
                Area::Phase,
                Level::Warning,
                "no phase yet: the operator has not reconciled it",
            ),
        }
    }

    fn sync_verdict(&self) -> StoreVerdict {
        if self.operator_synced.synced {
            v(
                Area::Sync,
                Level::Ok,
                "the operator has caught up with the spec",
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
        }
    }
}
