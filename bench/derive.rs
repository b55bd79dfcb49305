//! The pure part of `status -A` at scale: deriving and rendering 2,000 synthetic stores (the
//! seeded scenarios, repeated), without a cluster. `cargo bench --bench status-derive`.
//!
//! A plain timing loop (no benchmark framework, to keep the build lean): it prints the best and
//! the mean of several runs for each step.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kubectl_feast::render::status::{Columns, list};
use kubectl_feast::render::style::Style;
use kubectl_feast::status::derive;
// What the fixtures build on (they reach it as `super::`), from the library's public API.
use kubectl_feast::featurestore::FeatureStore;
use kubectl_feast::status::{Inventory, PodInfo, Source};
#[path = "../tests/fixtures/status.rs"]
mod fixtures;
use fixtures::Objects;

const STORES: usize = 2000;
const RUNS: u32 = 10;

fn time(what: &str, mut f: impl FnMut()) {
    f(); // warm-up
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    for _ in 0..RUNS {
        let start = Instant::now();
        f();
        let took = start.elapsed();
        best = best.min(took);
        total += took;
    }
    println!(
        "{what:<40} best {:>8.2} ms   mean {:>8.2} ms   ({RUNS} runs)",
        best.as_secs_f64() * 1e3,
        (total / RUNS).as_secs_f64() * 1e3
    );
}

fn main() {
    let scenarios = fixtures::seeded_scenarios();
    let mut objects = Objects::default();
    for ns in 0..20 {
        objects
            .nodes
            .extend(fixtures::nodes(&format!("bench-{ns}"), 4));
    }
    for i in 0..STORES {
        let ns = format!("bench-{}", i % 20);
        let scenario = scenarios[i % scenarios.len()];
        objects.extend(fixtures::scenario_named(
            &ns,
            scenario,
            &format!("store-{i:05}"),
        ));
    }
    let inventory = objects.inventory();
    println!(
        "{} stores, {} deployments, {} hpas, {} pdbs, {} pods",
        objects.stores.len(),
        objects.deployments.len(),
        objects.hpas.len(),
        objects.pdbs.len(),
        objects.pods.len()
    );
    time("derive", || {
        black_box(derive(black_box(&inventory)));
    });
    let report = derive(&inventory);
    let now = fixtures::NOW.parse().expect("valid timestamp");
    let cols = Columns {
        namespace: true,
        ..Columns::default()
    };
    time("render list -A", || {
        black_box(list(black_box(&report), cols, now, Style::PLAIN));
    });
    time("render list -A -o wide", || {
        black_box(list(
            black_box(&report),
            Columns { wide: true, ..cols },
            now,
            Style::PLAIN,
        ));
    });
    time("render -o json", || {
        let _ = black_box(kubectl_feast::render::json(black_box(&report)));
    });
}
