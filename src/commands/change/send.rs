//! Sending one merge patch: with the checked `resourceVersion`, re-planned after a conflict,
//! re-read when the answer is lost, and verified against what the server kept.

use kube::api::{Api, DynamicObject, Patch, PatchParams, ValidationDirective};
use serde_json::Value;

use super::{FIELD_MANAGER, MAX_ATTEMPTS, get};
use crate::cluster::Cluster;
use crate::cluster::Failure;
use crate::error::{Error, Result};
use crate::featurestore::{RESOURCE, lookup};
use crate::plan::{self, Planned, Verb};

/// The result of sending one patch.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The live object the sent patch was checked against.
    pub before: Value,
    /// The object as the server stored it (or would, on a server dry run).
    pub object: Value,
    /// What was done, for the result line; `None` when there was nothing to change.
    pub verb: Option<Verb>,
    /// How many patches were sent (more than 1 after conflicts).
    pub attempts: u32,
    /// What the user should know about how it went (a lost answer found stored).
    pub notes: Vec<String>,
}

/// Where and how one patch is written.
pub struct Write<'a> {
    pub cluster: &'a Cluster,
    pub api: &'a Api<DynamicObject>,
    pub name: &'a str,
    /// `--dry-run=server`: the API server runs the change without storing it.
    pub server_dry_run: bool,
    /// `--resource-version`: send this instead of the live one, and never retry a conflict.
    pub fixed_resource_version: Option<&'a str>,
}

/// Sends one merge patch carrying the checked object's `resourceVersion`. On a conflict (409)
/// it re-reads the object and calls `replan` (which re-checks it) before trying again, up to
/// [`MAX_ATTEMPTS`] times. With `fixed_resource_version` (`--resource-version`) a conflict is a
/// failed precondition and is not retried.
pub async fn send(
    w: &Write<'_>,
    checked: &Value,
    planned: Planned,
    replan: &(dyn Fn(&Value) -> Result<Planned> + '_),
) -> Result<Sent> {
    let Write {
        cluster,
        api,
        name,
        server_dry_run,
        fixed_resource_version,
    } = *w;
    let ns = &cluster.namespace;
    let params = PatchParams {
        dry_run: server_dry_run,
        force: false,
        field_manager: Some(FIELD_MANAGER.to_string()),
        field_validation: Some(ValidationDirective::Strict),
    };
    let mut before = checked.clone();
    let mut planned = planned;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let rv = match fixed_resource_version {
            Some(rv) => rv.to_string(),
            // Without it the patch would overwrite concurrent changes unseen: never send one.
            None => lookup(&before, "metadata.resourceVersion")
                .and_then(Value::as_str)
                .filter(|rv| !rv.is_empty())
                .ok_or_else(|| {
                    Error::incomplete(format!(
                        "the server's copy of {RESOURCE}/{name} has no metadata.resourceVersion; nothing was sent"
                    ))
                    .with_hint("retry; if it persists, the API server or a proxy in front of it is dropping metadata")
                })?
                .to_string(),
        };
        let patch = plan::with_resource_version(planned.patch.clone(), &rv);
        match api.patch(name, &params, &Patch::Merge(&patch)).await {
            Ok(obj) => {
                let object = serde_json::to_value(obj).map_err(|e| {
                    Error::incomplete(format!(
                        "cannot read the server's answer for {RESOURCE} {name:?}: {e}"
                    ))
                })?;
                verify_kept(name, &before, &planned.patch, &object)?;
                return Ok(Sent {
                    before,
                    object,
                    verb: Some(planned.verb),
                    attempts,
                    notes: Vec::new(),
                });
            }
            Err(e) if Failure::of(&e) == Failure::Conflict => {
                let now = get(cluster, api, name).await?;
                // The store moved on and holds this very change: an earlier try of this patch
                // was stored and its answer lost (a 504 after the write, which the client then
                // retried into this 409). That is success, not "nothing was changed".
                if !server_dry_run
                    && version(&now) != version(&before)
                    && kept(&before, &planned.patch, &now)
                {
                    return Ok(Sent {
                        before,
                        object: now,
                        verb: Some(planned.verb),
                        attempts,
                        notes: vec![format!(
                            "the API server's answer to the patch of {RESOURCE}/{name} was lost and the retry met a conflict; a re-read shows the change stored"
                        )],
                    });
                }
                give_up_on_conflict(w, attempts)?;
                before = now;
                planned = replan(&before)?;
            }
            // A server error (after the bounded retries of 429/503/504) may come after the
            // write was stored, as may a lost answer: both are settled by a re-read.
            Err(e) if !matches!(Failure::of(&e), Failure::Transient | Failure::Transport) => {
                return Err(
                    cluster.api_error(e, &format!("patch {RESOURCE} {name:?} in namespace {ns:?}"))
                );
            }
            // The patch went out but no answer came back: it may or may not be stored.
            Err(e) => {
                let cause =
                    cluster.api_error(e, &format!("patch {RESOURCE} {name:?} in namespace {ns:?}"));
                return after_lost_answer(
                    cluster,
                    api,
                    name,
                    &before,
                    &planned,
                    server_dry_run,
                    cause,
                )
                .await
                .map(|(object, note)| Sent {
                    before,
                    object,
                    verb: Some(planned.verb),
                    attempts,
                    notes: vec![note],
                });
            }
        }
    }
}

/// A conflict (409) is retried unless the resourceVersion was fixed by the user (a failed
/// precondition) or the store kept changing for [`MAX_ATTEMPTS`] writes.
fn give_up_on_conflict(w: &Write<'_>, attempts: u32) -> Result<()> {
    let (name, ns) = (w.name, &w.cluster.namespace);
    if let Some(rv) = w.fixed_resource_version {
        return Err(Error::refused(format!(
            "{RESOURCE}/{name} in namespace {ns:?} is no longer at resourceVersion {rv} (--resource-version); nothing was changed"
        ))
        .with_hint(format!("read the store again (`kubectl get feast {name} -n {ns} -o yaml`) and decide anew")));
    }
    if attempts >= MAX_ATTEMPTS {
        return Err(Error::refused(format!(
            "{RESOURCE}/{name} in namespace {ns:?} kept changing while this command ran ({attempts} conflicting writes); nothing was changed"
        ))
        .with_hint(format!("another writer (a GitOps tool, KEDA, a colleague) is updating it: find it with `kubectl get feast {name} -n {ns} -o yaml --show-managed-fields`, then retry")));
    }
    Ok(())
}

/// A patch whose answer never came: re-reads the store to find out whether it was stored, and
/// says which. Stored: the object and a note (the command goes on as if the answer had come).
/// Not stored, or not knowable: an error that says so.
async fn after_lost_answer(
    cluster: &Cluster,
    api: &Api<DynamicObject>,
    name: &str,
    checked: &Value,
    planned: &Planned,
    server_dry_run: bool,
    cause: Error,
) -> Result<(Value, String)> {
    let ns = &cluster.namespace;
    let check = format!(
        "check with `kubectl get featurestore {name} -n {ns} -o yaml`, then re-run if needed"
    );
    if server_dry_run {
        return Err(Error::incomplete(format!(
            "{}; it was a server dry run, so nothing was stored either way",
            cause.message
        ))
        .with_hints(if cause.hints.is_empty() {
            vec![check.into()]
        } else {
            cause.hints
        }));
    }
    let rv = |v: &Value| {
        lookup(v, "metadata.resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match get(cluster, api, name).await {
        Ok(now) if rv(&now) == rv(checked) => Err(Error::incomplete(format!(
            "{}; a re-read shows {RESOURCE}/{name} unchanged (still at resourceVersion {}): the change was not stored",
            cause.message,
            rv(&now).unwrap_or_default()
        ))
        .with_hint("retry once the API server answers")),
        Ok(now) if kept(checked, &planned.patch, &now) => Ok((
            now,
            format!(
                "the API server's answer to the patch of {RESOURCE}/{name} was lost ({}); a re-read shows the change stored",
                cause.message
            ),
        )),
        Ok(_) => Err(Error::incomplete(format!(
            "{}; a re-read shows {RESOURCE}/{name} changed by another writer since it was checked, without this change: the change was not stored",
            cause.message
        ))
        .with_hint(check)),
        Err(again) => Err(Error::incomplete(format!(
            "{}; the outcome is unknown: the patch may or may not have been stored, and re-reading the store failed too ({})",
            cause.message, again.message
        ))
        .with_hint(check)),
    }
}

/// Whether `stored` holds every spec value that `patch` sets on `before`.
/// An object's `metadata.resourceVersion`.
fn version(v: &Value) -> Option<&str> {
    lookup(v, "metadata.resourceVersion").and_then(Value::as_str)
}

fn kept(before: &Value, patch: &Value, stored: &Value) -> bool {
    let expected = plan::patched(before, patch);
    plan::spec_changes(before, &expected)
        .into_iter()
        .all(|change| match change.after {
            Some(want) => lookup(stored, &change.path).is_some_and(|have| holds(have, &want)),
            None => lookup(stored, &change.path).is_none(),
        })
}

/// The API server answered with the stored object: every value the patch set must be there,
/// or the installed CRD pruned it (an operator before 0.61 has no scaling fields, §7).
fn verify_kept(name: &str, before: &Value, patch: &Value, stored: &Value) -> Result<()> {
    let expected = plan::patched(before, patch);
    for change in plan::spec_changes(before, &expected) {
        let Some(want) = change.after else { continue };
        if !lookup(stored, &change.path).is_some_and(|have| holds(have, &want)) {
            return Err(Error::refused(format!(
                "the API server accepted the change to {RESOURCE}/{name} but did not keep {}: the installed FeatureStore CRD predates scaling",
                change.path
            ))
            .with_hint("upgrade the Feast Operator to 0.61 or later (its CRD adds spec.replicas, scaling and podDisruptionBudgets)"));
        }
    }
    Ok(())
}

/// Whether `have` holds every value of `want` (the server may add defaults beside them).
fn holds(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| holds(hv, v))),
        _ => have == want,
    }
}

/// Writes the Secret a command carries (server-side apply, as kubectl-feast), or checks it
/// with the API server on `--dry-run=server`; a client dry run writes nothing. Its values are
/// never printed, only its keys.
pub(super) async fn write_secret(
    out: &super::out::Out,
    cluster: &crate::cluster::Cluster,
    secret: &super::SecretData,
    dry_run: crate::render::change::DryRun,
) -> crate::error::Result<()> {
    use crate::render::change::DryRun;
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::Secret;
    if dry_run == DryRun::Client {
        return Ok(());
    }
    let ns = &cluster.namespace;
    let object = Secret {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(secret.name.clone()),
            namespace: Some(ns.clone()),
            ..Default::default()
        },
        data: Some(
            secret
                .data
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes())))
                .collect(),
        ),
        ..Default::default()
    };
    let mut value = serde_json::to_value(&object).map_err(|e| {
        crate::error::Error::incomplete(format!("cannot encode secret/{}: {e}", secret.name))
    })?;
    value["apiVersion"] = "v1".into();
    value["kind"] = "Secret".into();
    let params = PatchParams {
        dry_run: dry_run == DryRun::Server,
        force: true,
        field_manager: Some(FIELD_MANAGER.to_string()),
        field_validation: Some(ValidationDirective::Strict),
    };
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
    api.patch(&secret.name, &params, &Patch::Apply(&value))
        .await
        .map_err(|e| {
            cluster.api_error(
                e,
                &format!("write secret/{} in namespace {ns:?}", secret.name),
            )
        })?;
    let keys: Vec<&str> = secret.data.keys().map(String::as_str).collect();
    out.note(format!(
        "secret/{} {} (keys: {})",
        secret.name,
        if dry_run == DryRun::Server {
            "checked by the server (dry run)"
        } else {
            "written"
        },
        keys.join(", ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_the_server_dropped_is_reported() {
        let before = serde_json::json!({"spec": {"feastProject": "p"}});
        let patch = plan::pdb_patch(&plan::PdbPolicy::MaxUnavailable(serde_json::json!(1)));
        let pruned = serde_json::json!({"spec": {"feastProject": "p", "replicas": 1}});
        let err = verify_kept("a", &before, &patch, &pruned).expect_err("pruned");
        assert!(err.message.contains("did not keep spec.services"));
        let defaulted = serde_json::json!({"spec": {"feastProject": "p", "replicas": 1,
            "services": {"podDisruptionBudgets": {"maxUnavailable": 1}, "runFeastApplyOnInit": true}}});
        assert!(verify_kept("a", &before, &patch, &defaulted).is_ok());
        let kept = plan::patched(&before, &patch);
        assert!(verify_kept("a", &before, &patch, &kept).is_ok());
    }
}
