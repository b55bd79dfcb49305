//! A KEDA ScaledObject aimed at the operator's Deployment (issue 11): `status` says `conflict`
//! and names it, with and without the HPA that KEDA makes for it.

use serde_json::json;

use super::fixtures::{self, Objects};
use super::*;

fn derive_one(o: &Objects) -> StoreStatus {
    let mut r = derive(&o.inventory());
    assert_eq!(r.stores.len(), 1);
    r.stores.remove(0)
}

/// The `static` scenario plus a ScaledObject on Deployment `feast-static` (`kind` omitted, as
/// KEDA defaults it).
fn static_with_misaimed_keda() -> Objects {
    let mut o = fixtures::scenario("ns", "static");
    o.nodes = fixtures::nodes("ns", 4);
    let mut so = fixtures::scaled_object("ns", "static", "orders-so", 2, 6);
    so["spec"]["scaleTargetRef"] = json!({"name": "feast-static"});
    o.scaled_objects.push(so);
    o
}

#[test]
fn a_scaled_object_on_the_operator_deployment_is_a_conflict_naming_it() {
    let s = derive_one(&static_with_misaimed_keda());
    assert_eq!(s.mode, Mode::Conflict);
    assert!(s.mode_reason.contains("orders-so"), "{}", s.mode_reason);
    assert!(
        s.mode_reason.contains("Deployment feast-static"),
        "{}",
        s.mode_reason
    );
    assert!(
        s.replica_owners.contains(&ReplicaOwner {
            kind: OwnerKind::ScaledObjectOnDeployment,
            name: "orders-so".into()
        }),
        "{:?}",
        s.replica_owners
    );
    let a = s
        .autoscaler
        .expect("the ScaledObject is shown as the autoscaler");
    assert_eq!(
        (a.kind, a.scaled_object.as_deref(), a.verdict.level),
        (AutoscalerKind::Foreign, Some("orders-so"), Level::Critical)
    );
    assert!(
        a.verdict.message.contains("kind: FeatureStore"),
        "{}",
        a.verdict.message
    );
}

#[test]
fn keda_s_hpa_on_the_deployment_counts_once_under_its_scaled_object() {
    let mut o = static_with_misaimed_keda();
    let mut h = fixtures::keda_hpa("ns", "static", "orders-so", 2, 6, 3);
    h["spec"]["scaleTargetRef"] =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "feast-static"});
    o.hpas.push(h);
    let s = derive_one(&o);
    assert_eq!(s.mode, Mode::Conflict);
    let kinds: Vec<OwnerKind> = s.replica_owners.iter().map(|o| o.kind).collect();
    assert!(
        !kinds.contains(&OwnerKind::ForeignHpa),
        "{:?}",
        s.replica_owners
    );
    let a = s.autoscaler.expect("KEDA's HPA is shown");
    assert_eq!(
        (a.kind, a.name.as_str(), a.scaled_object.as_deref()),
        (
            AutoscalerKind::Foreign,
            "keda-hpa-orders-so",
            Some("orders-so")
        )
    );
}

#[test]
fn a_scaled_object_on_another_deployment_is_not_this_store_s() {
    let mut o = fixtures::scenario("ns", "static");
    o.nodes = fixtures::nodes("ns", 4);
    let mut so = fixtures::scaled_object("ns", "static", "web", 2, 6);
    so["spec"]["scaleTargetRef"] = json!({"kind": "Deployment", "name": "web"});
    o.scaled_objects.push(so);
    assert_eq!(derive_one(&o).mode, Mode::Static);
}
