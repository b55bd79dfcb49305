//! Who else owns a FeatureStore: the GitOps tools that sync it from Git and will revert a live
//! change (or keep showing it as drift). Pure: read from the live object's labels, annotations
//! and `managedFields`.
//!
//! The markers are the ones these tools write themselves:
//! - Argo CD: the annotation `argocd.argoproj.io/tracking-id` (`<app>:<group>/<kind>:<ns>/<name>`,
//!   annotation tracking, the default since Argo CD 2.x for new installs), or its label tracking:
//!   the label named by `application.instanceLabelKey`, `argocd.argoproj.io/instance` as Argo
//!   CD's docs recommend, or `app.kubernetes.io/instance` (the older default) when no Helm
//!   release claims it (Helm sets the same label, with the annotation
//!   `meta.helm.sh/release-name`).
//! - Flux: the labels `kustomize.toolkit.fluxcd.io/name`/`namespace` (a Kustomization) and
//!   `helm.toolkit.fluxcd.io/name`/`namespace` (a HelmRelease).
//!
//! Beyond markers, a store synced without them (a tracking method or label key of one's own) is
//! still seen by the field managers these tools apply with, in `metadata.managedFields`: Argo
//! CD's server-side apply (`argocd-controller`, its `ArgoCDSSAManager`) and its application
//! controller's other writes (`argocd-application-controller`), and Flux's
//! `kustomize-controller` and `helm-controller`.

use serde_json::Value;

use crate::featurestore::FeatureStore;

pub const ARGO_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
pub const ARGO_INSTANCE_LABEL: &str = "argocd.argoproj.io/instance";
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
pub const HELM_RELEASE_ANNOTATION: &str = "meta.helm.sh/release-name";
pub const FLUX_KUSTOMIZE_NAME: &str = "kustomize.toolkit.fluxcd.io/name";
pub const FLUX_KUSTOMIZE_NAMESPACE: &str = "kustomize.toolkit.fluxcd.io/namespace";
pub const FLUX_HELM_NAME: &str = "helm.toolkit.fluxcd.io/name";
pub const FLUX_HELM_NAMESPACE: &str = "helm.toolkit.fluxcd.io/namespace";

/// The GitOps tool that syncs an object, and what it is called there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// An Argo CD Application; `marker` is the annotation or label that says so.
    ArgoCd { app: String, marker: &'static str },
    /// A Flux Kustomization (`namespace/name`).
    FluxKustomization { name: String, namespace: String },
    /// A Flux HelmRelease (`namespace/name`).
    FluxHelmRelease { name: String, namespace: String },
    /// A tool seen only by the field manager it applies with (no marker says which of its
    /// Applications, Kustomizations or releases).
    Manager { tool: Tool, manager: String },
}

/// The GitOps tools, for an owner seen by its field manager only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    ArgoCd,
    FluxKustomize,
    FluxHelm,
}

/// The field managers the tools apply with by default (their source: Argo CD's
/// `common.ArgoCDSSAManager`, Flux's controller names).
const MANAGERS: [(&str, Tool); 4] = [
    ("argocd-controller", Tool::ArgoCd),
    ("argocd-application-controller", Tool::ArgoCd),
    ("kustomize-controller", Tool::FluxKustomize),
    ("helm-controller", Tool::FluxHelm),
];

impl Owner {
    fn tool(&self) -> Tool {
        match self {
            Owner::ArgoCd { .. } => Tool::ArgoCd,
            Owner::FluxKustomization { .. } => Tool::FluxKustomize,
            Owner::FluxHelmRelease { .. } => Tool::FluxHelm,
            Owner::Manager { tool, .. } => *tool,
        }
    }
}

/// A label's or annotation's value, when set and not empty.
fn non_empty<'a>(
    map: &'a Option<std::collections::BTreeMap<String, String>>,
    key: &str,
) -> Option<&'a str> {
    map.as_ref()?
        .get(key)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

/// The GitOps owners an object carries the markers of (usually one).
pub fn owners(object: &Value) -> Vec<Owner> {
    let meta = FeatureStore::new(object).metadata();
    let label = |k| non_empty(&meta.labels, k);
    let annotation = |k| non_empty(&meta.annotations, k);
    let mut out = Vec::new();
    if let Some(id) = annotation(ARGO_TRACKING_ID) {
        // `<app>:<group>/<kind>:<namespace>/<name>`; the app may be `<namespace>_<app>` when
        // Applications live in several namespaces.
        let app = id.split(':').next().unwrap_or(id).to_string();
        out.push(Owner::ArgoCd {
            app,
            marker: ARGO_TRACKING_ID,
        });
    } else if let Some(app) = label(ARGO_INSTANCE_LABEL) {
        out.push(Owner::ArgoCd {
            app: app.to_string(),
            marker: ARGO_INSTANCE_LABEL,
        });
    } else if let Some(app) = label(INSTANCE_LABEL)
        && annotation(HELM_RELEASE_ANNOTATION).is_none()
        && label(FLUX_HELM_NAME).is_none()
    {
        out.push(Owner::ArgoCd {
            app: app.to_string(),
            marker: INSTANCE_LABEL,
        });
    }
    let own_ns = meta.namespace.as_deref().unwrap_or("");
    if let Some(name) = label(FLUX_KUSTOMIZE_NAME) {
        out.push(Owner::FluxKustomization {
            name: name.to_string(),
            namespace: label(FLUX_KUSTOMIZE_NAMESPACE)
                .unwrap_or(own_ns)
                .to_string(),
        });
    }
    if let Some(name) = label(FLUX_HELM_NAME) {
        out.push(Owner::FluxHelmRelease {
            name: name.to_string(),
            namespace: label(FLUX_HELM_NAMESPACE).unwrap_or(own_ns).to_string(),
        });
    }
    // A tool no marker names, seen by the manager it applied with.
    let managers = meta
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|f| f.manager.as_deref());
    for manager in managers {
        if let Some((_, tool)) = MANAGERS.iter().find(|(m, _)| *m == manager)
            && !out.iter().any(|o| o.tool() == *tool)
        {
            out.push(Owner::Manager {
                tool: *tool,
                manager: manager.to_string(),
            });
        }
    }
    out
}

impl Owner {
    /// `Argo CD Application "shop"`, `Flux Kustomization flux-system/apps`.
    pub fn describe(&self) -> String {
        match self {
            Owner::ArgoCd { app, marker } => {
                format!("Argo CD Application {app:?} (by its {marker} marker)")
            }
            Owner::FluxKustomization { name, namespace } => {
                format!("Flux Kustomization {namespace}/{name}")
            }
            Owner::FluxHelmRelease { name, namespace } => {
                format!("Flux HelmRelease {namespace}/{name}")
            }
            Owner::Manager { tool, manager } => format!(
                "{} (its field manager {manager} applied it; no label or annotation says which {})",
                match tool {
                    Tool::ArgoCd => "Argo CD",
                    Tool::FluxKustomize => "Flux's kustomize-controller",
                    Tool::FluxHelm => "Flux's helm-controller",
                },
                match tool {
                    Tool::ArgoCd => "Application",
                    Tool::FluxKustomize => "Kustomization",
                    Tool::FluxHelm => "HelmRelease",
                }
            ),
        }
    }

    /// Who reverts a live change, and when.
    pub fn consequence(&self) -> &'static str {
        match self.tool() {
            Tool::ArgoCd => {
                "it reverts a live change at its next sync when self-heal is on, and shows the store OutOfSync until then"
            }
            Tool::FluxKustomize => {
                "it re-applies the manifest from Git at its next reconcile (every interval) and reverts a live change"
            }
            Tool::FluxHelm => {
                "its next upgrade or drift correction puts the chart's values back and reverts a live change"
            }
        }
    }
}

/// The confirmation a live write to a GitOps-owned store needs, naming who reverts it.
pub fn risk(object: &Value) -> Option<String> {
    let owners = owners(object);
    if owners.is_empty() {
        return None;
    }
    let said: Vec<String> = owners
        .iter()
        .map(|o| format!("{}: {}", o.describe(), o.consequence()))
        .collect();
    Some(format!(
        "this FeatureStore is synced from Git by {}; commit the change to Git instead (`-o patch` prints it as a kustomize patch) or confirm the live write",
        said.join("; and by ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value, annotations: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ml", "labels": labels, "annotations": annotations}})
    }

    #[test]
    fn argo_tracking_annotation_names_the_application() {
        let o = obj(
            json!({}),
            json!({ARGO_TRACKING_ID: "shop:feast.dev/FeatureStore:ml/a"}),
        );
        assert_eq!(
            owners(&o),
            vec![Owner::ArgoCd {
                app: "shop".into(),
                marker: ARGO_TRACKING_ID
            }]
        );
        assert!(risk(&o).is_some_and(|r| r.contains("Argo CD Application \"shop\"")));
    }

    #[test]
    fn the_instance_label_is_argo_unless_helm_claims_it() {
        let argo = obj(json!({INSTANCE_LABEL: "shop"}), json!({}));
        assert!(matches!(owners(&argo)[..], [Owner::ArgoCd { .. }]));
        let helm = obj(
            json!({INSTANCE_LABEL: "shop"}),
            json!({HELM_RELEASE_ANNOTATION: "shop"}),
        );
        assert!(owners(&helm).is_empty());
    }

    #[test]
    fn flux_labels_name_the_kustomization_and_the_helm_release() {
        let k = obj(
            json!({FLUX_KUSTOMIZE_NAME: "apps", FLUX_KUSTOMIZE_NAMESPACE: "flux-system"}),
            json!({}),
        );
        assert_eq!(
            owners(&k),
            vec![Owner::FluxKustomization {
                name: "apps".into(),
                namespace: "flux-system".into()
            }]
        );
        let h = obj(
            json!({FLUX_HELM_NAME: "feast", INSTANCE_LABEL: "feast"}),
            json!({}),
        );
        assert_eq!(
            owners(&h),
            vec![Owner::FluxHelmRelease {
                name: "feast".into(),
                namespace: "ml".into()
            }]
        );
        assert!(risk(&h).is_some_and(|r| r.contains("Flux HelmRelease ml/feast")));
    }

    #[test]
    fn argo_cds_recommended_instance_label_names_the_application() {
        let o = obj(json!({ARGO_INSTANCE_LABEL: "shop"}), json!({}));
        assert_eq!(
            owners(&o),
            vec![Owner::ArgoCd {
                app: "shop".into(),
                marker: ARGO_INSTANCE_LABEL
            }]
        );
    }

    #[test]
    fn a_store_without_markers_is_seen_by_the_manager_that_applied_it() {
        for (manager, tool) in MANAGERS {
            let mut o = obj(json!({}), json!({}));
            o["metadata"]["managedFields"] = json!([
                {"manager": "kubectl-client-side-apply", "operation": "Update"},
                {"manager": manager, "operation": "Apply"}
            ]);
            assert_eq!(
                owners(&o),
                vec![Owner::Manager {
                    tool,
                    manager: manager.into()
                }],
                "{manager}"
            );
            assert!(risk(&o).is_some_and(|r| r.contains(manager)), "{manager}");
        }
        // A marker of the same tool says more: the manager adds nothing.
        let mut o = obj(json!({FLUX_KUSTOMIZE_NAME: "apps"}), json!({}));
        o["metadata"]["managedFields"] = json!([{"manager": "kustomize-controller"}]);
        assert_eq!(owners(&o).len(), 1);
    }

    #[test]
    fn an_unmarked_store_has_no_owner() {
        assert!(owners(&obj(json!({"team": "ml"}), json!({}))).is_empty());
        assert_eq!(risk(&json!({"metadata": {"name": "a"}})), None);
    }
}
