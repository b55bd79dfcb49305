use super::fixtures::{self, Objects};
use super::*;

fn one(o: &Objects) -> StoreStatus {
    let mut r = derive(&o.inventory());
    assert_eq!(r.stores.len(), 1);
    r.stores.remove(0)
}

fn with_nodes(mut o: Objects) -> Objects {
    o.nodes = fixtures::nodes("ns", 4);
    o
}

#[test]
fn each_seeded_scenario_gets_its_mode() {
    for (scenario, mode) in [
        ("single", Mode::Single),
        ("static", Mode::Static),
        ("hpa", Mode::Hpa),
        ("keda", Mode::External),
        ("conflict", Mode::Conflict),
    ] {
        let s = one(&with_nodes(fixtures::scenario("ns", scenario)));
        assert_eq!(s.mode, mode, "{scenario}: {}", s.mode_reason);
    }
}
