//! Reads the evidence of a live Feast Operator for `crate::operator::liveness` to judge: its
//! Lease, by name in every namespace (one small LIST with a field selector), and its Deployment
//! (`doctor` only). `doctor` and every change command read it here.

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

use super::doctor::{controller, probe};
use crate::cluster::Cluster;
use crate::doctor::{Probe, Workload};
use crate::error::Result;
use crate::operator::{Evidence, LEASE_NAME, OperatorState, liveness};

/// The operator's Leases in every namespace (normally one).
pub(crate) async fn leases(cluster: &Cluster) -> Result<Probe<Vec<Lease>>> {
    let api: Api<Lease> = Api::all(cluster.client.clone());
    // From the watch cache, as the other look-ups of a change: a consistent read of an idle
    // resource waits for the cache to catch up with etcd (75 ms measured here, against 1-2 ms).
    // A renewal every 2 s keeps the cached copy seconds fresh at worst, well inside a Lease's
    // 15 s.
    let params = crate::cluster::lookup_params().fields(&format!("metadata.name={LEASE_NAME}"));
    let got = api.list(&params).await.map(|l| Some(l.items));
    probe(cluster, "list the Feast Operator's Lease", got)
}

/// The operator's liveness as a write judges it: from the Lease alone (one small request, and a
/// role that may read it by name, docs/rbac.yaml's kubectl-feast-operator, rather than every
/// Deployment).
pub(crate) async fn for_a_change(cluster: &Cluster) -> Result<OperatorState> {
    let leases = leases(cluster).await?;
    Ok(liveness(&Evidence {
        leases: &leases,
        deployments: None,
        lagging_stores: 0,
        now: k8s_openapi::jiff::Timestamp::now(),
    }))
}

/// Deployments that look like the Feast Operator's.
pub(crate) async fn deployments(cluster: &Cluster) -> Result<Probe<Vec<Workload>>> {
    controller(
        cluster,
        "control-plane=controller-manager",
        |d| {
            d.metadata.name.as_deref().unwrap_or("").contains("feast")
                || d.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("app.kubernetes.io/name"))
                    .is_some_and(|n| n == "feast-operator")
        },
        ("feast-operator-system", "feast-operator-controller-manager"),
    )
    .await
}
