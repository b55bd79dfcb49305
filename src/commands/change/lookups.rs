//! What a change must know besides the store: the autoscalers that target it and the
//! Deployment's replica count. A look-up that fails for any reason but "not served" or
//! "forbidden" fails the whole command before anything is sent (fail closed).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::Api;
use serde_json::Value;

use super::Lookups;
use super::out::Out;
use crate::cluster::Cluster;
use crate::cluster::Failure;
use crate::error::{Error, Result};
use crate::featurestore::{RESOURCE, lookup};
use crate::operator::{Liveness, OperatorState};
use crate::plan::{ExternalAutoscaler, Surroundings};
use crate::rules::keda;

/// The namespace's autoscalers, read once for all stores; per-store Deployments.
#[derive(Default)]
pub(super) struct AroundCache {
    autoscalers: Option<Vec<(ExternalAutoscaler, Value)>>,
    /// The namespace's KEDA ScaledObjects (empty when KEDA is not installed or not readable).
    scaled_objects: Option<Vec<Value>>,
    /// Whether the Feast Operator runs, read once per command.
    operator: Option<OperatorState>,
}

impl AroundCache {
    /// What a change must know besides the store. A look-up that fails for any reason but
    /// "not served" or "forbidden" fails the whole command before anything is sent: a safety
    /// check that could not run must not let the change through as if it had passed.
    pub(super) async fn for_store(
        &mut self,
        out: &Out,
        cluster: &Cluster,
        name: &str,
        lookups: Lookups,
    ) -> Result<Surroundings> {
        let mut around = Surroundings::default();
        // One after the other, on the connection the store's GET left open. Sent together,
        // each extra one opened a connection of its own (kube speaks HTTP/1.1): a TCP and TLS
        // handshake each, and on loopback one of them stalled for 40 ms, the delayed ACK
        // that Nagle's algorithm waits for (kube does not set TCP_NODELAY). Three small
        // requests in a row take 5-15 ms (docs/performance.md, `scale`).
        if lookups.autoscalers && self.autoscalers.is_none() {
            let scaled_objects = list_scaled_objects(out, cluster).await?;
            let hpas = list_external_hpas(out, cluster).await?;
            self.autoscalers = Some(autoscalers(&scaled_objects, hpas));
            self.scaled_objects = Some(scaled_objects);
        }
        if lookups.misaimed_keda && self.scaled_objects.is_none() {
            self.scaled_objects = Some(list_scaled_objects(out, cluster).await?);
        }
        if self.operator.is_none() {
            let state = super::super::operator_evidence::for_a_change(cluster).await?;
            if state.liveness == Liveness::Unknown {
                out.note(format!(
                    "{}: a change is stored, but may not take effect",
                    state.evidence
                ));
            }
            self.operator = Some(state);
        }
        around.operator = self.operator.clone();
        let deployment = match lookups.deployment {
            true => deployment_replicas(out, cluster, name).await,
            false => Ok(None),
        };
        if lookups.autoscalers {
            around.external_autoscalers = self
                .autoscalers
                .iter()
                .flatten()
                .filter(|(_, target)| targets(target, name))
                .map(|(label, _)| label.clone())
                .collect();
        }
        around.deployment_replicas = deployment?;
        if lookups.hpa_load {
            around.hpa_load = hpa_load(out, cluster, name).await?;
        }
        Ok(around)
    }

    /// The ScaledObjects (names) that target the operator's Deployment `feast-<name>`.
    pub(super) fn misaimed_keda(&self, name: &str) -> Vec<String> {
        self.scaled_objects
            .iter()
            .flatten()
            .filter(|so| keda::targets_operator_deployment(so, name))
            .map(|so| keda::name(so).to_string())
            .collect()
    }
}

/// Whether a `scaleTargetRef` names this FeatureStore.
fn targets(target: &Value, name: &str) -> bool {
    let kind = lookup(target, "kind").and_then(Value::as_str);
    let target_name = lookup(target, "name").and_then(Value::as_str);
    let api_version = lookup(target, "apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("feast.dev/");
    kind == Some("FeatureStore")
        && target_name == Some(name)
        && api_version.starts_with("feast.dev/")
}

/// The namespace's KEDA ScaledObjects as JSON, from the watch cache. Not installed: none;
/// forbidden: a note; any other failure is an error.
async fn list_scaled_objects(out: &Out, cluster: &Cluster) -> Result<Vec<Value>> {
    let ns = Some(cluster.namespace.as_str());
    match crate::cluster::list_scaled_objects(&cluster.client, ns, &crate::cluster::lookup_params())
        .await
    {
        Ok(items) => Ok(items),
        Err(e) => {
            lookup_failed(out, cluster, "scaledobjects.keda.sh", e, "KEDA autoscalers")?;
            Ok(Vec::new())
        }
    }
}

/// The namespace's HPAs other than the operator's own; forbidden: a note, none.
async fn list_external_hpas(out: &Out, cluster: &Cluster) -> Result<Vec<HorizontalPodAutoscaler>> {
    let hpas: Api<HorizontalPodAutoscaler> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match hpas.list(&crate::cluster::external_hpa_params()).await {
        Ok(list) => Ok(list.items),
        Err(e) => {
            lookup_failed(
                out,
                cluster,
                "horizontalpodautoscalers.autoscaling",
                e,
                "HPAs targeting the FeatureStore",
            )?;
            Ok(Vec::new())
        }
    }
}

/// KEDA ScaledObjects and HPAs with their `scaleTargetRef`. An HPA that KEDA made for a listed
/// ScaledObject is folded into it.
fn autoscalers(
    scaled_objects: &[Value],
    hpas: Vec<HorizontalPodAutoscaler>,
) -> Vec<(ExternalAutoscaler, Value)> {
    let mut found = Vec::new();
    let mut keda_names = Vec::new();
    for so in scaled_objects {
        let name = keda::name(so).to_string();
        let target = so
            .pointer("/spec/scaleTargetRef")
            .cloned()
            .unwrap_or(Value::Null);
        found.push((ExternalAutoscaler::ScaledObject(name.clone()), target));
        keda_names.push(name);
    }
    for hpa in hpas {
        let name = hpa.metadata.name.clone().unwrap_or_default();
        let by_keda = hpa
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("scaledobject.keda.sh/name"))
            .is_some_and(|so| keda_names.contains(so));
        if by_keda {
            continue;
        }
        let target = hpa
            .spec
            .map(|s| serde_json::to_value(s.scale_target_ref).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        found.push((ExternalAutoscaler::Hpa(name), target));
    }
    found
}

async fn hpa_load(
    out: &Out,
    cluster: &Cluster,
    name: &str,
) -> Result<Option<crate::plan::HpaLoad>> {
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    let api: Api<HorizontalPodAutoscaler> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.get(&format!("feast-{name}")).await {
        Ok(h) => Ok(crate::plan::HpaLoad::of(&h)),
        Err(e) if Failure::of(&e) == Failure::NotFound => Ok(None),
        Err(e) => {
            lookup_failed(
                out,
                cluster,
                "horizontalpodautoscalers.autoscaling",
                e,
                "the load the HPA's pods carry",
            )?;
            Ok(None)
        }
    }
}

async fn deployment_replicas(out: &Out, cluster: &Cluster, name: &str) -> Result<Option<i64>> {
    let api: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.get(&format!("feast-{name}")).await {
        Ok(d) => Ok(d.spec.and_then(|s| s.replicas).map(i64::from)),
        Err(e) if Failure::of(&e) == Failure::NotFound => Ok(None),
        Err(e) => {
            lookup_failed(
                out,
                cluster,
                "deployments.apps",
                e,
                "the Deployment's replica count",
            )?;
            Ok(None)
        }
    }
}

/// The Secrets the changed store's database persistence reads must exist and hold their
/// keys: the operator fails the store's reconcile without them (the `failed-secret` scenario),
/// so a change that points a store at a missing one is refused before it is sent, with the
/// command that creates it. Forbidden to read Secrets: a note, not checked.
pub(super) async fn check_secrets(
    out: &Out,
    cluster: &Cluster,
    name: &str,
    after: &Value,
    written: Option<&super::SecretData>,
) -> Result<()> {
    use k8s_openapi::api::core::v1::Secret;
    let ns = &cluster.namespace;
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
    let uses = crate::featurestore::FeatureStore::new(after).db_secrets();
    let secrets: std::collections::BTreeSet<&str> =
        uses.iter().map(|u| u.secret.as_str()).collect();
    let mut problems = Vec::new();
    let mut hints = Vec::new();
    for secret in secrets {
        let wanted: Vec<_> = uses.iter().filter(|u| u.secret == secret).collect();
        if secret.is_empty() {
            // `secretRef: {}`: the CRD defaults the name to "", which names no Secret.
            for u in &wanted {
                problems.push(format!("the {}'s secretRef names no Secret", u.service));
            }
            hints.push(
                "name the Secret in the store's secretRef (`kubectl feast persistence NAME ... --secret SECRET` sets it)"
                    .into(),
            );
            continue;
        }
        // The keys this command writes itself count as there.
        let own: Vec<String> = written
            .filter(|w| w.name == secret)
            .map(|w| w.data.keys().cloned().collect())
            .unwrap_or_default();
        if !own.is_empty() && wanted.iter().all(|u| own.contains(&u.key)) {
            continue;
        }
        let keys: Option<Vec<String>> = match api.get_opt(secret).await {
            Ok(Some(s)) => Some(
                s.data
                    .iter()
                    .flat_map(|d| d.keys().cloned())
                    .chain(s.string_data.iter().flat_map(|d| d.keys().cloned()))
                    .collect(),
            ),
            Ok(None) => None,
            Err(e) => {
                lookup_failed(out, cluster, &format!("secret {secret:?}"), e, "its keys")?;
                continue;
            }
        };
        let missing: Vec<_> = wanted
            .iter()
            .filter(|u| !own.contains(&u.key))
            .filter(|u| keys.as_ref().is_none_or(|k| !k.contains(&u.key)))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let what = missing
            .iter()
            .map(|u| format!("key {:?} for the {} ({})", u.key, u.service, u.store_type))
            .collect::<Vec<_>>()
            .join(", ");
        problems.push(match &keys {
            None => {
                format!("Secret {secret:?} does not exist in namespace {ns:?}; it needs {what}")
            }
            Some(k) if k.is_empty() => format!("Secret {secret:?} has no keys; it needs {what}"),
            Some(k) => format!(
                "Secret {secret:?} has no {what} (its keys: {})",
                k.join(", ")
            ),
        });
        let literals: Vec<(String, String)> = missing
            .iter()
            .map(|u| {
                (
                    u.key.clone(),
                    crate::rules::scaling::example_settings(&u.store_type),
                )
            })
            .collect();
        hints.push(
            crate::rules::scaling::secret_hint(secret, Some(ns), keys.is_some(), &literals).into(),
        );
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::refused(format!(
        "{RESOURCE}/{name}: {}; the operator fails the store's reconcile without it, so nothing was sent",
        problems.join("; ")
    ))
    .with_hints(hints))
}

/// A look-up this user may not make never blocks the change: one line says what was not
/// checked. Any other failure (a timeout, a 500, a broken connection) stops the command with
/// nothing sent.
fn lookup_failed(
    out: &Out,
    cluster: &Cluster,
    resource: &str,
    err: kube::Error,
    unchecked: &str,
) -> Result<()> {
    let ns = &cluster.namespace;
    if Failure::of(&err) == Failure::Forbidden {
        out.note(format!(
            "could not read {resource} in namespace {ns:?} (forbidden for this user); {unchecked} not checked"
        ));
        return Ok(());
    }
    let e = cluster.read_error(err, &format!("read {resource} in namespace {ns:?}"));
    Err(Error::incomplete(format!(
        "{}; {unchecked} could not be checked, so nothing was sent",
        e.message
    ))
    .with_hints(if e.hints.is_empty() {
        vec!["retry once the API server answers".into()]
    } else {
        e.hints
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_featurestore_target_of_that_name_counts() {
        let t =
            serde_json::json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore", "name": "a"});
        assert!(targets(&t, "a"));
        assert!(!targets(&t, "b"));
        let d = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"});
        assert!(!targets(&d, "a"));
    }
}
