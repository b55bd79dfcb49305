//! What the change commands (`scale`, `autoscale`, `pdb`) print: the spec diff, the kubectl-style
//! result line, the operator's next steps, and the findings that refuse or warn. Pure: data in,
//! strings out; the shell decides where each string goes.

use serde_json::Value;

use super::style::Style;
use crate::featurestore::RESOURCE;
use crate::plan::{Effect, FieldChange, Verb};
use crate::rules::{Finding, Severity};

/// How a change was (or was not) sent, for the suffix kubectl puts on its result line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    None,
    Client,
    Server,
}

impl DryRun {
    pub fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

/// `featurestore.feast.dev/NAME scaled (dry run)`, as kubectl words it.
/// No verb: there was nothing to change (`unchanged`).
pub fn result_line(name: &str, verb: Option<Verb>, dry_run: DryRun) -> String {
    let verb = verb.map_or("unchanged", Verb::as_str);
    format!("{RESOURCE}/{name} {verb}{}\n", dry_run.suffix())
}

/// `-o name`.
pub fn name_line(name: &str) -> String {
    format!("{RESOURCE}/{name}\n")
}

/// The spec fields a change touches, `-` what goes and `+` what comes, one leaf per line, values
/// as YAML writes them inline.
pub fn diff(namespace: &str, name: &str, changes: &[FieldChange], style: Style) -> String {
    let mut out = format!(
        "{}\n",
        style.bold(&format!("diff {RESOURCE}/{name} (namespace {namespace}):"))
    );
    if changes.is_empty() {
        out.push_str("  (no change to spec)\n");
    }
    for c in changes {
        for (sign, value) in [("-", &c.before), ("+", &c.after)] {
            let Some(v) = value else { continue };
            for (path, shown) in crate::render::value::leaves(&c.path, v) {
                let line = format!("{sign} {path}: {shown}");
                out.push_str(&if sign == "-" {
                    style.red(&line)
                } else {
                    style.green(&line)
                });
                out.push('\n');
            }
        }
    }
    out
}

/// The operator's next steps, one per line under the result line; with no operator running,
/// said as what waits for it.
pub fn effects(name: &str, effects: &[Effect], dry_run: DryRun, operator_stopped: bool) -> String {
    if effects.is_empty() {
        return String::new();
    }
    let lead = match (dry_run == DryRun::None, operator_stopped) {
        (true, false) => "next, the Feast Operator will:",
        (true, true) => {
            "the Feast Operator is not running: nothing acts on this until it runs again; then it will:"
        }
        (false, false) => "if sent, the Feast Operator would:",
        (false, true) => "if sent, once the Feast Operator runs again, it would:",
    };
    let mut out = format!("  {lead}\n");
    for e in effects {
        out.push_str("  - ");
        out.push_str(&effect(name, e));
        out.push('\n');
    }
    out
}

fn bounds(min: i64, max: Option<i64>) -> String {
    match max {
        Some(max) => format!("min {min}, max {max}"),
        None => format!("min {min}"),
    }
}

pub fn effect(name: &str, e: &Effect) -> String {
    let deploy = format!("Deployment feast-{name}");
    match e {
        Effect::DeploymentReplicas {
            from: Some(from),
            to,
            ..
        } if from == to => {
            format!("keep {deploy} at {to} replica(s) (it runs {from} already)")
        }
        Effect::DeploymentReplicas {
            from,
            to,
            hpa_before,
        } => {
            let from = match (from, hpa_before) {
                (Some(n), false) => format!(" (from {n})"),
                (Some(n), true) => format!(" (from {n}, the HPA's count until now)"),
                (None, true) => " (the HPA decided the count until now)".into(),
                (None, false) => String::new(),
            };
            let drop = if *to == 1 && *hpa_before {
                ": the workload drops to one pod at once"
            } else {
                ""
            };
            format!("set {deploy} to {to} replica(s){from}{drop}")
        }
        Effect::DeploymentKeepsCount { current, min, max } => format!(
            "leave {deploy} at its current count ({current} as configured) until the HPA clamps it into [{}]",
            bounds(*min, *max)
        ),
        Effect::Strategy { from, to } if to == "Recreate" => format!(
            "switch the Deployment strategy {from} → {to} (this rollout already uses it: \
             every old pod stops before the new one starts, so {name} serves nothing until the new pod is ready)"
        ),
        Effect::Strategy { from, to } => format!(
            "switch the Deployment strategy {from} → {to} (this rollout already uses {to}: new pods start before old ones stop)"
        ),
        Effect::ZoneSpread { injected: true } => {
            "inject the zone spread constraint (topology.kubernetes.io/zone, ScheduleAnyway)".into()
        }
        Effect::ZoneSpread { injected: false } => {
            "remove the injected zone spread constraint".into()
        }
        Effect::AntiAffinity { injected: true } => {
            "inject soft pod anti-affinity (one pod per node where possible)".into()
        }
        Effect::AntiAffinity { injected: false } => "remove the injected pod anti-affinity".into(),
        Effect::PodsRoll => "roll every pod, because the pod template changes".into(),
        Effect::HpaCreated { min, max, metrics } => format!(
            "create HorizontalPodAutoscaler feast-{name} ({}; {metrics})",
            bounds(*min, *max)
        ),
        Effect::HpaUpdated { min, max, metrics } => format!(
            "update HorizontalPodAutoscaler feast-{name} ({}; {metrics})",
            bounds(*min, *max)
        ),
        Effect::HpaDeleted => format!("delete HorizontalPodAutoscaler feast-{name}"),
        Effect::PdbCreated { budget } => {
            format!("create PodDisruptionBudget feast-{name} ({budget})")
        }
        Effect::PdbUpdated { budget } => {
            format!("update PodDisruptionBudget feast-{name} ({budget})")
        }
        Effect::PdbDeleted => format!("delete PodDisruptionBudget feast-{name}"),
        Effect::PdbInactive => format!(
            "create no PodDisruptionBudget yet: scaling is off (1 replica), the budget applies once {name} scales"
        ),
    }
}

/// Why a change is refused: each error finding with its field, message and fix.
pub fn refusal(namespace: &str, name: &str, findings: &[Finding]) -> String {
    let mut out = format!(
        "{RESOURCE}/{name} in namespace {namespace} would be invalid after this change; nothing was sent:\n"
    );
    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
        out.push_str(&format!("  {} ({}): {}\n", f.path, f.rule, f.message));
        out.push_str(&format!("    fix: {}\n", f.hint));
    }
    out
}

/// One warning finding as a stderr line.
pub fn warning(name: &str, f: &Finding, style: Style) -> String {
    format!(
        "{} {RESOURCE}/{name}: {} ({}): {}\n  fix: {}\n",
        style.yellow("warning:"),
        f.path,
        f.rule,
        f.message,
        f.hint
    )
}

/// The resulting objects for `-o json|yaml`: one object alone, several as a kubectl `List`.
/// The changed objects as `-o yaml|json` prints them: one, or a `List`; without
/// `metadata.managedFields`, as `kubectl scale -o yaml` leaves them out.
pub fn objects(objects: &[Value], json: bool) -> crate::error::Result<String> {
    let shown: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            o
        })
        .collect();
    let value = match shown.as_slice() {
        [one] => one.clone(),
        many => {
            serde_json::json!({"apiVersion": "v1", "kind": "List", "items": many, "metadata": {}})
        }
    };
    if json {
        super::json(&value)
    } else {
        super::yaml(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_line_reads_like_kubectl_and_marks_dry_runs() {
        assert_eq!(
            result_line("a", Some(Verb::Scaled), DryRun::None),
            "featurestore.feast.dev/a scaled\n"
        );
        assert_eq!(
            result_line("a", Some(Verb::Configured), DryRun::Server),
            "featurestore.feast.dev/a configured (server dry run)\n"
        );
    }

    #[test]
    fn diff_shows_removed_and_added_values_per_field() {
        let text = diff(
            "ns",
            "a",
            &[FieldChange {
                path: "spec.replicas".into(),
                before: Some(json!(3)),
                after: Some(json!(1)),
            }],
            Style::PLAIN,
        );
        assert_eq!(
            text,
            "diff featurestore.feast.dev/a (namespace ns):\n- spec.replicas: 3\n+ spec.replicas: 1\n"
        );
    }

    #[test]
    fn effects_name_the_operator_objects() {
        let text = effects(
            "a",
            &[
                Effect::HpaDeleted,
                Effect::DeploymentReplicas {
                    from: None,
                    to: 1,
                    hpa_before: true,
                },
            ],
            DryRun::None,
            false,
        );
        assert!(text.contains("delete HorizontalPodAutoscaler feast-a"));
        assert!(text.contains("drops to one pod"));
        assert!(effects("a", &[], DryRun::None, false).is_empty());
        assert!(effects("a", &[Effect::PodsRoll], DryRun::Client, false).contains("would"));
        assert!(
            effects("a", &[Effect::PodsRoll], DryRun::None, true).contains(
                "the Feast Operator is not running: nothing acts on this until it runs again"
            )
        );
    }

    #[test]
    fn several_objects_print_as_a_list() {
        let out = objects(
            &[
                json!({"kind": "FeatureStore"}),
                json!({"kind": "FeatureStore"}),
            ],
            true,
        )
        .expect("rendered");
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["kind"], "List");
        assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
    }
}
