//! Proves, against the real kube-apiserver with the real FeatureStore CRD, the API semantics
//! kubectl-feast relies on: schema defaulting, CEL validation (422), the scale subresource,
//! optimistic concurrency (409), RBAC (403) for the test users, exec credential plugins, and
//! that the seeded scenarios are accepted as the operator and controllers would write them.

use crate::support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use support::cluster;

fn featurestore_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("feast.dev", "v1", "FeatureStore"),
        "featurestores",
    )
}

fn featurestores(client: Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client, namespace, &featurestore_resource())
}

fn featurestore(name: &str, spec: Value) -> DynamicObject {
    DynamicObject::new(name, &featurestore_resource()).data(json!({ "spec": spec }))
}

/// A spec that may scale: DB-backed online store and a remote registry, no offline store.
fn db_backed_spec(project: &str) -> Value {
    json!({
        "feastProject": project,
        "services": {
            "onlineStore": {
                "persistence": {
                    "store": { "type": "redis", "secretRef": { "name": "feast-data-stores" } }
                }
            },
            "registry": { "remote": { "hostname": "registry.feast.svc.cluster.local:80" } }
        }
    })
}

fn spec_replicas(object: &DynamicObject) -> Option<i64> {
    object.data["spec"]["replicas"].as_i64()
}

/// The API error's HTTP code and message; panics if the result is not an API error.
fn api_error<T: std::fmt::Debug>(result: kube::Result<T>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn spec_replicas_defaults_to_one() {
    let cluster = cluster();
    let ns = cluster.namespace("defaulting").await;
    let api = featurestores(cluster.client("admin").await, &ns);

    let created = api
        .create(
            &PostParams::default(),
            &featurestore("plain", json!({ "feastProject": "plain" })),
        )
        .await
        .expect("create a FeatureStore without replicas");
    assert_eq!(
        spec_replicas(&created),
        Some(1),
        "create response: {created:?}"
    );

    let read = api.get("plain").await.expect("get it back");
    assert_eq!(spec_replicas(&read), Some(1));

    // A merge patch with null removes the key; the schema default puts 1 back.
    api.patch(
        "plain",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "replicas": null } })),
    )
    .await
    .expect("null out replicas");
    assert_eq!(spec_replicas(&api.get("plain").await.unwrap()), Some(1));
}

#[tokio::test]
async fn cel_rejects_scaling_with_file_persistence() {
    let cluster = cluster();
    let ns = cluster.namespace("cel").await;
    let api = featurestores(cluster.client("admin").await, &ns);

    // Creating a scaled store without DB-backed persistence: 422 from the CRD's CEL rules.
    let (code, message) = api_error(
        api.create(
            &PostParams::default(),
            &featurestore(
                "filebacked",
                json!({ "feastProject": "filebacked", "replicas": 3 }),
            ),
        )
        .await,
    );
    assert_eq!(code, 422, "{message}");
    assert!(message.contains("DB-backed persistence"), "{message}");
    assert!(
        message.contains("registry"),
        "every failing rule is reported: {message}"
    );

    // The same rules guard updates: an accepted single-replica store cannot be patched to 2.
    api.create(
        &PostParams::default(),
        &featurestore("single", json!({ "feastProject": "single" })),
    )
    .await
    .expect("a single-replica file-backed store is valid");
    let (code, message) = api_error(
        api.patch(
            "single",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 2 } })),
        )
        .await,
    );
    assert_eq!(code, 422, "{message}");
    assert!(message.contains("DB-backed persistence"), "{message}");

    // And the mutual-exclusion rule: replicas > 1 together with autoscaling.
    let mut spec = db_backed_spec("both");
    spec["replicas"] = json!(3);
    spec["services"]["scaling"] = json!({ "autoscaling": { "maxReplicas": 5 } });
    let (code, message) = api_error(
        api.create(&PostParams::default(), &featurestore("both", spec))
            .await,
    );
    assert_eq!(code, 422, "{message}");
    assert!(message.contains("mutually exclusive"), "{message}");
}

#[tokio::test]
async fn scale_subresource_writes_spec_replicas() {
    let cluster = cluster();
    let ns = cluster.namespace("scale").await;
    let api = featurestores(cluster.client("admin").await, &ns);
    api.create(
        &PostParams::default(),
        &featurestore("scalable", db_backed_spec("scalable")),
    )
    .await
    .expect("create a DB-backed store");

    let scale = api
        .patch_scale(
            "scalable",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 3 } })),
        )
        .await
        .expect("patch /scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(spec_replicas(&api.get("scalable").await.unwrap()), Some(3));

    // replace_scale (PUT) with the current object, as `kubectl scale` and KEDA do.
    let mut current = api.get_scale("scalable").await.expect("get /scale");
    current.spec.get_or_insert_with(Default::default).replicas = Some(2);
    let replaced = api
        .replace_scale("scalable", &PostParams::default(), &current)
        .await
        .expect("put /scale");
    assert_eq!(replaced.spec.as_ref().and_then(|s| s.replicas), Some(2));
    assert_eq!(spec_replicas(&api.get("scalable").await.unwrap()), Some(2));

    // The scale subresource reads status.replicas and status.selector (labelSelectorPath).
    api.patch_status(
        "scalable",
        &PatchParams::default(),
        &Patch::Merge(
            json!({ "status": { "replicas": 2, "selector": "feast.dev/name=scalable" } }),
        ),
    )
    .await
    .expect("patch status");
    let scale = api.get_scale("scalable").await.unwrap();
    let status = scale.status.expect("scale status");
    assert_eq!(status.replicas, 2);
    assert_eq!(status.selector.as_deref(), Some("feast.dev/name=scalable"));

    // The CEL rules run on /scale writes too: a file-backed store cannot be scaled there.
    api.create(
        &PostParams::default(),
        &featurestore("filebacked", json!({ "feastProject": "filebacked" })),
    )
    .await
    .unwrap();
    let (code, message) = api_error(
        api.patch_scale(
            "filebacked",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 2 } })),
        )
        .await,
    );
    assert_eq!(code, 422, "{message}");
    assert!(message.contains("DB-backed persistence"), "{message}");
}

#[tokio::test]
async fn stale_resource_version_is_a_conflict() {
    let cluster = cluster();
    let ns = cluster.namespace("conflict").await;
    let api = featurestores(cluster.client("admin").await, &ns);
    let original = api
        .create(
            &PostParams::default(),
            &featurestore("store", db_backed_spec("store")),
        )
        .await
        .unwrap();
    assert!(original.resource_version().is_some());

    api.patch(
        "store",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "replicas": 2 } })),
    )
    .await
    .expect("a concurrent writer changes the store");

    let mut stale = original.clone();
    stale.data["spec"]["replicas"] = json!(4);
    let (code, message) = api_error(api.replace("store", &PostParams::default(), &stale).await);
    assert_eq!(code, 409, "{message}");

    // A merge patch that carries the stale resourceVersion is refused the same way.
    let (code, message) = api_error(
        api.patch(
            "store",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "metadata": { "resourceVersion": original.resource_version() },
                "spec": { "replicas": 4 }
            })),
        )
        .await,
    );
    assert_eq!(code, 409, "{message}");
    assert_eq!(spec_replicas(&api.get("store").await.unwrap()), Some(2));
}

#[tokio::test]
async fn viewer_may_read_but_not_patch() {
    let cluster = cluster();
    let ns = cluster.namespace("viewer").await;
    let admin = featurestores(cluster.client("admin").await, &ns);
    admin
        .create(
            &PostParams::default(),
            &featurestore("store", db_backed_spec("store")),
        )
        .await
        .unwrap();

    let viewer = featurestores(cluster.client("viewer").await, &ns);
    viewer.get("store").await.expect("viewer can get");
    viewer
        .list(&ListParams::default())
        .await
        .expect("viewer can list");
    let (code, message) = api_error(
        viewer
            .patch(
                "store",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "replicas": 2 } })),
            )
            .await,
    );
    assert_eq!(code, 403, "{message}");
    assert!(message.contains("\"viewer\""), "{message}");

    // The viewer role deliberately has no access to Nodes.
    let nodes: Api<Node> = Api::all(cluster.client("viewer").await);
    let (code, message) = api_error(nodes.list(&ListParams::default()).await);
    assert_eq!(code, 403, "{message}");
}

#[tokio::test]
async fn editor_may_patch_replicas_but_not_scale() {
    let cluster = cluster();
    let ns = cluster.namespace("editor").await;
    let editor = featurestores(cluster.client("editor").await, &ns);
    editor
        .create(
            &PostParams::default(),
            &featurestore("store", db_backed_spec("store")),
        )
        .await
        .expect("editor can create");

    let patched = editor
        .patch(
            "store",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 2 } })),
        )
        .await
        .expect("editor can patch spec.replicas");
    assert_eq!(spec_replicas(&patched), Some(2));

    // featurestore-editor-role has no featurestores/scale.
    let (code, message) = api_error(
        editor
            .patch_scale(
                "store",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "replicas": 3 } })),
            )
            .await,
    );
    assert_eq!(code, 403, "{message}");
    assert!(message.contains("featurestores/scale"), "{message}");
    let (code, _) = api_error(editor.get_scale("store").await);
    assert_eq!(code, 403);

    // Nor may it write status (only get).
    let (code, message) = api_error(
        editor
            .patch_status(
                "store",
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": { "phase": "Ready" } })),
            )
            .await,
    );
    assert_eq!(code, 403, "{message}");
    assert_eq!(spec_replicas(&editor.get("store").await.unwrap()), Some(2));
}

async fn whoami(client: Client) -> (String, Vec<String>) {
    let reviews: Api<SelfSubjectReview> = Api::all(client);
    let review = reviews
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("SelfSubjectReview");
    let user = review.status.and_then(|s| s.user_info).expect("user info");
    (
        user.username.unwrap_or_default(),
        user.groups.unwrap_or_default(),
    )
}

#[tokio::test]
async fn every_context_authenticates_as_its_user() {
    let cluster = cluster();
    // exec: a bearer token from the kubeconfig's exec credential plugin.
    let (user, groups) = whoami(cluster.client("exec").await).await;
    assert_eq!(user, "exec-user");
    assert!(
        groups.contains(&"kubectl-feast:exec".to_string()),
        "{groups:?}"
    );
    // exec-user is bound to cluster-admin: it can list across namespaces.
    let all: Api<DynamicObject> =
        Api::all_with(cluster.client("exec").await, &featurestore_resource());
    all.list(&ListParams::default())
        .await
        .expect("exec-user lists FeatureStores");

    // The client certificates.
    let (user, groups) = whoami(cluster.client("admin").await).await;
    assert_eq!(user, "admin");
    assert!(groups.contains(&"system:masters".to_string()), "{groups:?}");
    assert_eq!(whoami(cluster.client("editor").await).await.0, "editor");
    assert_eq!(whoami(cluster.client("viewer").await).await.0, "viewer");
}

#[tokio::test]
async fn seeded_scenarios_are_what_the_operator_would_write() {
    let cluster = cluster();
    let ns = cluster.namespace("seed").await;
    cluster.seed(&ns, &[]);
    let client = cluster.client("admin").await;
    let api = featurestores(client.clone(), &ns);

    let stores = api.list(&ListParams::default()).await.unwrap();
    let mut names: Vec<String> = stores.items.iter().map(|s| s.name_any()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "conflict",
            "failed",
            "hpa",
            "hpa-at-limit",
            "keda",
            "lagging",
            "one-node",
            "pdb-blocks-drain",
            "single",
            "static"
        ]
    );

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    for store in &stores.items {
        let name = store.name_any();
        let status = &store.data["status"];
        assert_eq!(
            status["selector"],
            json!(format!("feast.dev/name={name}")),
            "{name}"
        );
        assert_eq!(status["feastVersion"], json!("0.66.0"), "{name}");
        // The Deployment is controller-owned by the CR's UID.
        let deployment = deployments.get(&format!("feast-{name}")).await.unwrap();
        let owner = &deployment.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(Some(&owner.uid), store.metadata.uid.as_ref(), "{name}");
        assert_eq!(owner.controller, Some(true));
        // status.replicas counts the ready pods the selector finds.
        let selected = pods
            .list(&ListParams::default().labels(&format!("feast.dev/name={name}")))
            .await
            .unwrap();
        let ready = selected
            .items
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        assert_eq!(status["replicas"].as_u64(), Some(ready as u64), "{name}");
        assert!(selected.items.iter().all(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some_and(|n| n.starts_with(&format!("{ns}-node-")))
        }));
    }

    let get = |name: &str| stores.items.iter().find(|s| s.name_any() == name).unwrap();
    assert_eq!(get("single").data["spec"]["replicas"], json!(1));
    assert_eq!(get("single").data["status"]["scalingStatus"], Value::Null);
    assert_eq!(get("lagging").data["spec"]["replicas"], json!(4));
    assert_eq!(
        get("lagging").data["status"]["applied"]["replicas"],
        json!(2)
    );
    assert_eq!(get("failed").data["status"]["phase"], json!("Failed"));
    // The operator's conditions in its order: the failed step is the last one written.
    let failed = get("failed");
    let failed_condition = failed.data["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "FeatureStore"))
        .expect("the FeatureStore condition");
    assert_eq!(failed_condition["reason"], json!("FeatureStoreFailed"));
    assert!(
        failed_condition["message"]
            .as_str()
            .unwrap()
            .starts_with("Error: ")
    );

    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &ns);
    let at_limit = hpas
        .get("feast-hpa-at-limit")
        .await
        .unwrap()
        .status
        .unwrap();
    assert_eq!(at_limit.desired_replicas, 5);
    let limited = at_limit
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "ScalingLimited")
        .unwrap();
    assert_eq!(
        (limited.status.as_str(), limited.reason.as_deref()),
        ("True", Some("TooManyReplicas"))
    );
    let keda = hpas.get("keda-hpa-keda").await.unwrap().spec.unwrap();
    assert_eq!(keda.scale_target_ref.kind, "FeatureStore");
    assert_eq!(
        keda.scale_target_ref.api_version.as_deref(),
        Some("feast.dev/v1")
    );
    assert!(hpas.get("keda-hpa-conflict").await.is_ok());
    assert!(hpas.get("feast-conflict").await.is_ok());

    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), &ns);
    let blocking = pdbs
        .get("feast-pdb-blocks-drain")
        .await
        .unwrap()
        .status
        .unwrap();
    assert_eq!(blocking.disruptions_allowed, 0);
    assert_eq!(blocking.expected_pods, 3);

    // one-node: every replica on one node; static: three zones.
    let nodes_of = |name: &str| {
        let pods = pods.clone();
        let name = name.to_string();
        async move {
            let list = pods
                .list(&ListParams::default().labels(&format!("feast.dev/name={name}")))
                .await
                .unwrap();
            let mut nodes: Vec<String> = list
                .items
                .into_iter()
                .filter_map(|p| p.spec.and_then(|s| s.node_name))
                .collect();
            nodes.sort();
            nodes.dedup();
            nodes
        }
    };
    assert_eq!(nodes_of("one-node").await.len(), 1);
    let static_nodes = nodes_of("static").await;
    let node_api: Api<Node> = Api::all(client);
    let mut zones = Vec::new();
    for node in &static_nodes {
        let node = node_api.get(node).await.unwrap();
        zones.push(node.labels()["topology.kubernetes.io/zone"].clone());
    }
    zones.sort();
    zones.dedup();
    assert_eq!(zones.len(), 3, "{zones:?}");

    // Seeding is repeatable on the same namespace.
    cluster.seed(&ns, &["static"]);
}
