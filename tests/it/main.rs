//! The one integration-test binary: every test that drives the real `kubectl-feast` binary or
//! talks to a real cluster, one module per area. One binary means one shared
//! [`support::cluster`] (and one living cluster) for a bare `cargo test`, where each test file
//! used to start a control plane of its own; `scripts/test` starts both clusters once and
//! hands them over through `KUBECTL_FEAST_TEST_KUBECONFIG` and
//! `KUBECTL_FEAST_TEST_LIVING_KUBECONFIG`. Each test takes its own namespace.

mod support;

// The unit fixtures (shared with the library's unit tests and the benchmark), and what they
// build on, which they reach as `super::`.
#[path = "../fixtures/status.rs"]
mod fixtures;
use kubectl_feast::featurestore::FeatureStore;
use kubectl_feast::status::{Inventory, PodInfo, Source};

mod ci_formats;
mod cli_validate;
mod completion;
mod control_plane;
mod docs;
mod doctor;
mod faults;
mod fleet;
mod gitops;
mod hostile;
mod keda;
mod krew;
mod kubeconfigs;
mod kubectl_flags;
mod living;
mod mutate;
mod parity;
mod proptest_core;
mod races;
mod rbac;
mod status;
mod validate_live;
