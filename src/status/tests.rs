use crate::rules::RuleId;
use serde_json::json;

use super::fixtures::{self, Objects};
use super::*;

fn derive_one(o: &Objects) -> StoreStatus {
    let mut r = derive(&o.inventory());
    assert_eq!(r.stores.len(), 1);
    r.stores.remove(0)
}

fn with_nodes(mut o: Objects) -> Objects {
    o.nodes = fixtures::nodes("ns", 4);
    o
}

fn scenario(which: &str) -> Objects {
    with_nodes(fixtures::scenario("ns", which))
}

#[test]
fn each_seeded_scenario_gets_its_mode() {
    for (scenario_name, mode) in [
        ("single", Mode::Single),
        ("static", Mode::Static),
        ("hpa", Mode::Hpa),
        ("keda", Mode::External),
        ("conflict", Mode::Conflict),
    ] {
        let s = derive_one(&scenario(scenario_name));
        assert_eq!(s.mode, mode, "{scenario_name}: {}", s.mode_reason);
    }
}

#[test]
fn a_keda_hpa_behind_its_scaled_object_counts_once() {
    let s = derive_one(&scenario("keda"));
    assert_eq!(
        s.replica_owners,
        vec![ReplicaOwner {
            kind: OwnerKind::ScaledObject,
            name: "keda".into()
        }]
    );
    let a = s.autoscaler.expect("the KEDA HPA is shown");
    assert_eq!(
        (a.kind, a.scaled_object.as_deref()),
        (AutoscalerKind::External, Some("keda"))
    );
    assert_eq!(a.metrics[0].current.as_deref(), Some("70%"));
}

#[test]
fn a_scaled_object_without_its_hpa_still_makes_the_mode_external() {
    let mut o = scenario("keda");
    o.hpas.clear();
    let s = derive_one(&o);
    assert_eq!(s.mode, Mode::External);
    let a = s.autoscaler.expect("the ScaledObject is shown");
    assert_eq!((a.min_replicas, a.max_replicas), (2, Some(6)));
}

#[test]
fn an_hpa_on_the_deployment_that_the_operator_does_not_own_conflicts_with_static_replicas() {
    let mut o = scenario("static");
    let mut foreign = fixtures::hpa("ns", "static", 2, 6, 3, 50);
    foreign["metadata"]["name"] = json!("my-own-hpa");
    foreign["metadata"]["ownerReferences"] = json!([]);
    o.hpas.push(foreign);
    let s = derive_one(&o);
    assert_eq!(s.mode, Mode::Conflict);
    assert!(s.mode_reason.contains("my-own-hpa"), "{}", s.mode_reason);
}

#[test]
fn two_external_autoscalers_conflict() {
    let mut o = scenario("keda");
    let mut second = fixtures::keda_hpa("ns", "keda", "other", 1, 3, 1);
    second["metadata"]["ownerReferences"] = json!([]);
    o.hpas.push(second);
    assert_eq!(derive_one(&o).mode, Mode::Conflict);
}

#[test]
fn owned_objects_are_matched_by_name_and_controller_uid_not_by_label() {
    let mut o = scenario("static");
    for d in &mut o.deployments {
        d["metadata"]["labels"] = json!({});
    }
    let s = derive_one(&o);
    assert_eq!(s.deployment.ownership, Ownership::Owned);
    assert_eq!(s.replicas.source, ReplicasSource::Deployment);

    let mut o = scenario("static");
    o.deployments[0]["metadata"]["ownerReferences"][0]["uid"] = json!("someone-else");
    o.pdbs[0]["metadata"]["ownerReferences"][0]["uid"] = json!("someone-else");
    let s = derive_one(&o);
    assert_eq!(s.deployment.ownership, Ownership::NotOwned);
    assert_eq!(s.replicas.source, ReplicasSource::FeatureStore);
    assert_eq!(s.disruption_budget.object.ownership, Ownership::NotOwned);
    assert_eq!(s.disruption_budget.verdict.level, Level::Warning);
}

#[test]
fn an_hpa_at_its_maximum_is_flagged() {
    let s = derive_one(&scenario("hpa-at-limit"));
    let a = s.autoscaler.expect("operator HPA");
    assert_eq!(a.at_limit, Some(Limit::Max));
    assert_eq!(a.verdict.level, Level::Warning);
    assert_eq!(a.metrics[0].current.as_deref(), Some("200%"));
    assert_eq!(a.metrics[0].target, "70%");
}

#[test]
fn an_hpa_that_cannot_read_its_metric_is_critical() {
    let mut o = scenario("hpa");
    o.hpas[0]["status"]["conditions"][1] = json!({"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric", "message": "missing request for cpu"});
    let a = derive_one(&o).autoscaler.expect("operator HPA");
    assert_eq!(a.verdict.level, Level::Critical);
    assert!(a.verdict.message.contains("missing request for cpu"));
}

#[test]
fn a_pdb_with_no_disruption_allowed_blocks_drains() {
    let d = derive_one(&scenario("pdb-blocks-drain")).disruption_budget;
    assert_eq!(d.blocks_drains, Some(true));
    assert_eq!(d.verdict.level, Level::Critical);
    assert!(
        d.verdict.message.contains("minAvailable 3"),
        "{}",
        d.verdict.message
    );
}

#[test]
fn a_pdb_that_blocks_by_design_is_caught_before_its_status_is_filled() {
    let mut o = scenario("pdb-blocks-drain");
    o.pdbs[0].as_object_mut().map(|m| m.remove("status"));
    let d = derive_one(&o).disruption_budget;
    assert_eq!(d.blocks_drains, Some(true));

    let mut o = scenario("static");
    o.pdbs[0].as_object_mut().map(|m| m.remove("status"));
    let d = derive_one(&o).disruption_budget;
    assert_eq!(
        d.blocks_drains, None,
        "maxUnavailable 1 needs a status to judge"
    );
}

#[test]
fn a_configured_pdb_without_scaling_is_inactive_not_missing() {
    let mut o = scenario("single");
    o.stores[0]["spec"]["services"] = json!({"podDisruptionBudgets": {"maxUnavailable": 1}});
    let d = derive_one(&o).disruption_budget;
    assert_eq!(d.verdict.level, Level::Info);
    assert_eq!(d.configured.as_deref(), Some("maxUnavailable 1"));
}

#[test]
fn all_replicas_on_one_node_is_critical() {
    let p = derive_one(&scenario("one-node")).placement;
    assert_eq!((p.nodes, p.zones), (1, Some(1)));
    assert_eq!(p.verdict.level, Level::Critical);
    assert!(p.verdict.message.contains("all 3 replicas on one node"));
}

#[test]
fn replicas_in_one_zone_are_a_warning() {
    let mut o = scenario("static");
    o.nodes = (1..=6)
        .map(|i| fixtures::node(&format!("ns-node-{i}"), "zone-a"))
        .collect();
    let p = derive_one(&o).placement;
    assert_eq!((p.nodes, p.zones), (3, Some(1)));
    assert_eq!(p.verdict.level, Level::Warning);
}

#[test]
fn pods_on_a_cordoned_node_and_a_zone_without_schedulable_nodes_are_warnings() {
    // static runs on nodes 1, 3 and 5, one per zone; node 1 is cordoned (a drain under way).
    let mut o = scenario("static");
    o.nodes = fixtures::seeded_nodes("ns");
    o.nodes[0]["spec"] = serde_json::json!({"unschedulable": true});
    let p = derive_one(&o).placement;
    assert_eq!(p.verdict.level, Level::Warning, "{}", p.verdict.message);
    assert!(
        p.verdict
            .message
            .contains("1 of 3 ready pods run on node(s) that take no new pods (ns-node-1"),
        "{}",
        p.verdict.message
    );
    assert!(
        p.verdict
            .fix
            .as_ref()
            .is_some_and(|f| f.contains("`kubectl uncordon ns-node-1`")),
        "{:?}",
        p.verdict.fix
    );
    // Node 2, the other node of zone us-east-1a, goes too: the zone takes no new pods.
    o.nodes[1]["spec"] =
        serde_json::json!({"taints": [{"key": "maintenance", "effect": "NoSchedule"}]});
    let p = derive_one(&o).placement;
    assert!(
        p.verdict
            .message
            .contains("no node of zone(s) us-east-1a takes new pods"),
        "{}",
        p.verdict.message
    );
    // With every node schedulable again, placement is fine.
    o.nodes[0]["spec"] = serde_json::json!({});
    o.nodes[1]["spec"] = serde_json::json!({});
    assert_eq!(derive_one(&o).placement.verdict.level, Level::Ok);
}

#[test]
fn without_node_access_zones_are_unknown_and_say_why() {
    let mut inv = scenario("static").inventory();
    inv.nodes = Source::Unreadable("forbidden".into());
    let r = derive(&inv);
    let s = &r.stores[0];
    assert_eq!((s.placement.nodes, s.placement.zones), (3, None));
    assert!(s.placement.verdict.message.contains("zones unknown"));
    assert!(s.unknown.iter().any(|u| u.starts_with("nodes: forbidden")));
    assert!(
        r.sources
            .iter()
            .any(|x| x.kind == Resource::Nodes && x.state == SourceRead::Unreadable)
    );
}

#[test]
fn unreadable_hpas_leave_the_autoscaler_unknown() {
    let mut inv = scenario("hpa").inventory();
    inv.hpas = Source::Unreadable("forbidden".into());
    let s = derive(&inv).stores.remove(0);
    let a = s.autoscaler.expect("spec asks for an HPA");
    assert_eq!(a.verdict.level, Level::Unknown);
    // An HPA this user cannot see may fight the operator's: the mode is not stated as a fact.
    assert_eq!(s.mode, Mode::Unknown);
    assert!(
        s.mode_reason.contains("HPAs could not be read"),
        "{}",
        s.mode_reason
    );
}

#[test]
fn without_the_autoscalers_no_mode_is_guessed() {
    // As the editor role sees it: HPAs and ScaledObjects unreadable.
    let mut inv = fixtures::all("demo").inventory();
    inv.hpas = Source::Unreadable("forbidden".into());
    inv.scaled_objects = Source::Unreadable("forbidden".into());
    let r = derive(&inv);
    for s in &r.stores {
        assert_eq!(s.mode, Mode::Unknown, "{}: {}", s.name, s.mode_reason);
    }
    let table = crate::render::status::list(
        &r,
        crate::render::status::Columns::default(),
        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        crate::render::style::Style::PLAIN,
    );
    for line in table
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("keda ") || l.starts_with("conflict "))
    {
        assert!(line.contains(" unknown "), "{line}");
        assert!(
            !line.contains(" static ") && !line.contains(" hpa "),
            "{line}"
        );
    }
}

#[test]
fn an_operator_that_has_not_caught_up_is_reported_with_the_difference() {
    let s = derive_one(&scenario("lagging"));
    assert!(!s.operator_synced.synced);
    assert_eq!(
        s.operator_synced.differences,
        vec!["replicas: spec 4, applied 2"]
    );
    assert_eq!((s.replicas.ready, s.replicas.desired), (2, Some(4)));
}

#[test]
fn a_store_never_reconciled_is_not_synced() {
    let mut o = scenario("single");
    o.stores[0].as_object_mut().map(|m| m.remove("status"));
    o.deployments.clear();
    o.pods.clear();
    let s = derive_one(&o);
    assert!(!s.operator_synced.synced);
    assert_eq!(s.deployment.ownership, Ownership::Missing);
    assert_eq!((s.replicas.ready, s.replicas.desired), (0, Some(1)));
    assert_eq!(s.placement.verdict.level, Level::Critical);
}

#[test]
fn every_scenario_but_lagging_and_failed_is_synced() {
    let r = derive(&fixtures::all("ns").inventory());
    for s in &r.stores {
        // failed: the operator recorded the spec, and its reconcile of it failed.
        assert_eq!(
            s.operator_synced.synced,
            s.name != "lagging" && s.name != "failed",
            "{}: {:?}",
            s.name,
            s.operator_synced.differences
        );
    }
}

#[test]
fn a_failed_store_keeps_its_condition_message() {
    let s = derive_one(&scenario("failed"));
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    let c = &s.conditions[0];
    assert_eq!(
        (c.type_.as_str(), c.status.as_str()),
        ("FeatureStore", "False")
    );
    assert!(
        c.summary()
            .contains("must be greater than or equal to `minReplicas`")
    );
    assert!(
        s.warnings
            .iter()
            .any(|f| f.rule == RuleId::AutoscalingMinExceedsMax)
    );
    assert_eq!(
        s.autoscaler.expect("spec asks for an HPA").verdict.level,
        Level::Critical
    );
}

#[test]
fn injection_states_follow_the_spec() {
    let mut o = scenario("static");
    o.stores[0]["spec"]["services"]["affinity"] = json!({});
    o.stores[0]["spec"]["services"]["topologySpreadConstraints"] = json!([]);
    let s = derive_one(&o);
    assert_eq!(
        (s.affinity.state, s.topology_spread.state),
        (InjectionState::Disabled, InjectionState::Disabled)
    );

    o.stores[0]["spec"]["services"]["affinity"] = json!({"nodeAffinity": {}});
    o.stores[0]["spec"]["services"]["topologySpreadConstraints"] = json!([{"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"}]);
    let s = derive_one(&o);
    assert_eq!(
        (s.affinity.state, s.topology_spread.state),
        (InjectionState::Custom, InjectionState::Custom)
    );

    let s = derive_one(&scenario("static"));
    assert_eq!(
        (s.affinity.state, s.topology_spread.state),
        (InjectionState::Injected, InjectionState::Injected)
    );
    assert_eq!(
        s.affinity.effective.as_deref(),
        Some("podAntiAffinity (preferred by kubernetes.io/hostname)")
    );
    let s = derive_one(&scenario("single"));
    assert_eq!(
        (s.affinity.state, s.topology_spread.state),
        (InjectionState::None, InjectionState::None)
    );
}

#[test]
fn strategy_says_whether_it_is_explicit_or_the_operator_default() {
    let s = derive_one(&scenario("static")).strategy;
    assert_eq!(s.origin, StrategyOrigin::OperatorDefault);
    assert_eq!(
        s.effective.as_deref(),
        Some("RollingUpdate (maxSurge 25%, maxUnavailable 25%)")
    );

    let mut o = scenario("static");
    o.stores[0]["spec"]["services"]["deploymentStrategy"] = json!({"type": "Recreate"});
    o.deployments.clear();
    let s = derive_one(&o).strategy;
    assert_eq!(
        (s.origin, s.source),
        (StrategyOrigin::Explicit, StrategySource::Spec)
    );
    assert_eq!(s.effective.as_deref(), Some("Recreate"));
}

#[test]
fn lineage_and_other_stores_pods_are_not_counted() {
    let mut o = scenario("single");
    let mut lineage = fixtures::pod("ns", "single", 9, "ns-node-2", true);
    lineage["metadata"]["labels"]["feast.dev/name"] = json!("single-lineage");
    o.pods.push(lineage);
    o.pods
        .push(fixtures::pod("other-ns", "single", 8, "ns-node-3", true));
    let p = derive_one(&o).placement;
    assert_eq!(p.pods.len(), 1);
}

#[test]
fn stores_are_sorted_and_sources_reported() {
    let r = derive(&fixtures::all("ns").inventory());
    let names: Vec<_> = r.stores.iter().map(|s| s.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(r.sources.len(), 7);
    assert!(r.sources.iter().all(|s| s.state == SourceRead::Listed));
}

#[test]
fn json_shape_of_one_store() {
    let s = derive_one(&scenario("hpa-at-limit"));
    insta::assert_snapshot!(crate::render::json(&s).expect("JSON"));
}

#[test]
fn in_a_conflict_the_operator_hpa_is_not_labelled_with_the_scaled_object() {
    let mut o = scenario("conflict");
    o.scaled_objects.push(fixtures::scaled_object(
        "ns",
        "conflict",
        "conflict-so",
        2,
        8,
    ));
    let s = derive_one(&o);
    assert_eq!(s.mode, Mode::Conflict);
    let a = s.autoscaler.expect("operator HPA");
    assert_eq!((a.kind, a.scaled_object), (AutoscalerKind::Operator, None));
}

#[test]
fn in_a_conflict_the_other_autoscalers_are_shown_with_their_verdicts() {
    let mut o = scenario("conflict");
    o.hpas[1]["status"]["conditions"][0] = json!({"type": "AbleToScale", "status": "False", "reason": "FailedUpdateScale", "message": "the HPA controller was unable to update the target scale"});
    let s = derive_one(&o);
    assert_eq!(
        s.autoscaler.as_ref().map(|a| a.name.as_str()),
        Some("feast-conflict")
    );
    let others: Vec<(AutoscalerKind, &str, Level)> = s
        .other_autoscalers
        .iter()
        .map(|a| (a.kind, a.name.as_str(), a.verdict.level))
        .collect();
    assert_eq!(
        others,
        [(
            AutoscalerKind::External,
            "keda-hpa-conflict",
            Level::Critical
        )]
    );
    assert!(derive_one(&scenario("hpa")).other_autoscalers.is_empty());
}

#[test]
fn a_missing_hpa_is_pending_or_never_reconciled_not_a_dead_end() {
    let mut inv = scenario("hpa").inventory();
    inv.hpas = Source::listed(Vec::new());
    let mut store: Value = serde_json::from_str(&inv.stores[0]).expect("store JSON");
    // The user just raised the max; the operator has not reconciled it yet.
    store["spec"]["services"]["scaling"]["autoscaling"]["maxReplicas"] = json!(9);
    inv.stores[0] = store.to_string();
    let v = derive(&inv)
        .stores
        .remove(0)
        .autoscaler
        .expect("autoscaler")
        .verdict;
    assert_eq!(v.level, Level::Info, "{}", v.message);
    assert!(v.message.contains("pending"), "{}", v.message);
    // Never reconciled at all: is the operator running?
    store["status"]
        .as_object_mut()
        .expect("status")
        .remove("applied");
    inv.stores[0] = store.to_string();
    let v = derive(&inv)
        .stores
        .remove(0)
        .autoscaler
        .expect("autoscaler")
        .verdict;
    assert_eq!(v.level, Level::Warning, "{}", v.message);
    assert!(v.message.contains("never reconciled"), "{}", v.message);
    assert!(
        v.message.contains("Feast Operator is running"),
        "{}",
        v.message
    );
}

#[test]
fn a_store_that_cannot_be_read_is_said_and_not_counted() {
    let mut inv = fixtures::all("ns").inventory();
    let listed = inv.stores.len();
    inv.stores.push("{not json".into());
    let r = derive(&inv);
    let source = &r.sources[0];
    assert_eq!(source.count, Some(listed));
    assert_eq!(r.stores.len(), listed);
    assert!(
        source
            .reason
            .as_deref()
            .is_some_and(|why| why.starts_with("1 FeatureStore(s) could not be read")),
        "{source:?}"
    );
}

#[test]
fn counts_the_controllers_leave_out_are_zero_as_kubectl_shows_them() {
    // The Deployment and HPA controllers omit zero counts (omitempty), as the living cluster's
    // write a Deployment whose pods are all Pending: absent is 0, not unknown.
    let mut o = scenario("hpa-at-limit");
    for d in &mut o.deployments {
        let status = d["status"].as_object_mut().expect("status");
        status.remove("availableReplicas");
        status.remove("updatedReplicas");
    }
    for h in &mut o.hpas {
        h["status"]
            .as_object_mut()
            .expect("status")
            .remove("currentReplicas");
    }
    let s = derive_one(&o);
    assert_eq!(s.replicas.available, Some(0));
    assert_eq!(s.replicas.updated, Some(0));
    assert_eq!(s.autoscaler.expect("HPA").current_replicas, Some(0));
}

/// A store Failed after the operator recorded its spec (a missing Secret): its Deployment still
/// runs the old count, and that is the failure's doing, not a hand edit (issue 23).
#[test]
fn a_failed_reconcile_is_not_taken_for_a_hand_edit() {
    let mut o = scenario("static");
    let store = &mut o.stores[0];
    store["spec"]["replicas"] = json!(5);
    store["status"]["applied"]["replicas"] = json!(5);
    store["status"]["phase"] = json!("Failed");
    store["status"]["conditions"] = json!([{"type": "FeatureStore", "status": "False",
        "reason": "FailedReconcile", "message": "Secret \"feast-data-stores\" not found",
        "lastTransitionTime": "2026-12-01T00:00:00Z"}]);
    let s = derive_one(&o);
    assert!(!s.operator_synced.synced);
    assert!(s.edits.is_none(), "{:?}", s.edits);
    assert!(
        s.verdicts
            .iter()
            .all(|v| v.area != Area::Deployment || v.level == Level::Ok),
        "{:?}",
        s.verdicts
    );
    let phase = s
        .verdicts
        .iter()
        .find(|v| v.area == Area::Phase)
        .expect("phase verdict");
    assert_eq!(phase.level, Level::Critical);
    assert!(
        phase
            .message
            .contains("Secret \"feast-data-stores\" not found"),
        "{}",
        phase.message
    );
    // The same spec caught up, with the Deployment at the old count, is drift.
    let mut o = scenario("static");
    o.stores[0]["spec"]["replicas"] = json!(5);
    o.stores[0]["status"]["applied"]["replicas"] = json!(5);
    assert!(derive_one(&o).edits.is_some());
}

/// Every CRITICAL and WARNING verdict of every seeded scenario says what to do (issue 23).
#[test]
fn every_critical_and_warning_verdict_carries_its_fix() {
    let r = derive(&with_nodes(fixtures::all("ns")).inventory());
    let missing: Vec<String> = r
        .stores
        .iter()
        .flat_map(|s| {
            s.verdicts
                .iter()
                .filter(|v| matches!(v.level, Level::Critical | Level::Warning) && v.fix.is_none())
                .map(move |v| format!("{}: {:?} {:?}: {}", s.name, v.level, v.area, v.message))
        })
        .collect();
    assert!(missing.is_empty(), "{missing:#?}");
}
