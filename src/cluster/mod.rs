//! The thin shell around the Kubernetes API: builds the kube `Client` from kubectl's global
//! flags (the only place that reads kubeconfig), and turns API failures into messages a person
//! can act on. It decides no policy: what to send and whether to send it is the commands'
//! business, judged by the pure core.

use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::featurestore::{GROUP, KIND, PLURAL, RESOURCE, VERSION};

mod credentials;
mod failure;
mod kubeconfig;
mod layers;

use failure::credential_failure;
pub use failure::{Cause, Failure, is_unserved_resource, reason};
use kubeconfig::{
    apply_connection, apply_connection_flags, check_auth_provider, check_exec_plugin,
    load_kubeconfig, selected_cluster, selected_user,
};
pub use kubeconfig::{kubeconfig_contexts, proxy_for};
use layers::{Bounds, RequestLog, retry_policy};
pub use layers::{Exceeded, MAX_ANSWER_BYTES};

/// A connected client and where it points, for messages.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The namespace from `-n`, else the context's, else `default`.
    pub namespace: String,
    /// The kubeconfig context in use (empty in-cluster).
    pub context: String,
    /// The API server's URL.
    pub server: String,
    /// `--request-timeout`, for messages.
    pub timeout: Option<Duration>,
    /// The proxy the connection goes through (proxy-url or HTTPS_PROXY), for messages.
    pub proxy: Option<String>,
}

/// The FeatureStore resource, always `feast.dev/v1` (operator contract §6).
pub fn featurestore_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, VERSION, KIND), PLURAL)
}

/// KEDA's ScaledObject (`keda.sh/v1alpha1`), read only to learn who else sets a store's
/// replica count.
pub fn scaled_object_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledObject"),
        "scaledobjects",
    )
}

/// The ScaledObjects of `namespace` (all with `None`) as JSON, each with its `apiVersion` and
/// `kind` (a list's items carry none of their own); none when KEDA is not installed (its API
/// is not served). Any other failure is the caller's to weigh: a refusal is a note in some
/// commands and an error in others.
pub async fn list_scaled_objects(
    client: &Client,
    namespace: Option<&str>,
    lp: &ListParams,
) -> std::result::Result<Vec<serde_json::Value>, kube::Error> {
    let api = scoped_dynamic(client, namespace, &scaled_object_resource());
    match api.list(lp).await {
        Ok(list) => Ok(list
            .items
            .into_iter()
            .filter_map(|so| serde_json::to_value(so).ok())
            .map(|mut v| {
                v["apiVersion"] = "keda.sh/v1alpha1".into();
                v["kind"] = crate::rules::keda::SCALED_OBJECT.into();
                v
            })
            .collect()),
        Err(e) if Failure::of(&e) == Failure::NotServed => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The LIST a change makes before it is sent, to learn who else sets a store's replica count
/// (KEDA ScaledObjects, HPAs): answered from the API server's watch cache (`resourceVersion=0`)
/// instead of a consistent read, which on an idle resource waits for the cache to catch up
/// with etcd (84 ms typically, a second after a bulk write: docs/performance.md). The cache
/// lags etcd by the latency of a watch event, a window no wider than the race the check has
/// anyway with an autoscaler created just after it. A failed LIST still stops the change.
pub fn lookup_params() -> ListParams {
    ListParams::default().match_any()
}

/// The HPAs that may target a FeatureStore: all but the Feast Operator's own (labelled
/// `app.kubernetes.io/managed-by=feast-operator`), which target its Deployment (operator
/// contract §4.5). The server filters, so the answer does not grow with the number of stores
/// in the namespace. Operators before 0.63 set no such label: their HPAs are listed and, as
/// they target a Deployment, ignored, as before.
pub fn external_hpa_params() -> ListParams {
    lookup_params().labels(&format!("{MANAGED_BY_LABEL}!={MANAGED_BY_OPERATOR}"))
}

/// The label the Feast Operator puts on everything it creates, and its value.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_OPERATOR: &str = "feast-operator";

/// A namespaced kind's API in one namespace, or in all with `None`.
pub fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A dynamic kind's API in one namespace, or in all with `None`.
pub fn scoped_dynamic(
    client: &Client,
    namespace: Option<&str>,
    ar: &ApiResource,
) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

impl Cluster {
    /// Connects as kubectl would with the same flags: `--kubeconfig`, else `$KUBECONFIG`
    /// (colon-separated, merged), else `~/.kube/config`, else the in-cluster service account.
    pub async fn connect(global: &GlobalArgs) -> Result<Cluster> {
        let mut options = KubeConfigOptions {
            context: global.context().map(str::to_string),
            cluster: global.cluster.clone(),
            user: global.user.clone(),
        };
        let kubeconfig = match load_kubeconfig(global)? {
            Some(kc) => Some(kc),
            // As kubectl: --server (and the other connection flags) work without any kubeconfig.
            None if global.server.is_some() => Some(Kubeconfig::default()),
            None => None,
        };
        if let Some(token) = &global.token {
            crate::redact::register(token);
        }
        let (mut config, context, proxy_url) = match kubeconfig {
            Some(mut kc) => {
                crate::redact::register_kubeconfig(&kc);
                apply_connection_flags(&mut kc, global, &mut options);
                let context = options
                    .context
                    .clone()
                    .or_else(|| kc.current_context.clone())
                    .unwrap_or_default();
                let proxy_url = selected_cluster(&kc, &options).and_then(|c| c.proxy_url);
                if let Some(auth) = selected_user(&kc, &options) {
                    check_auth_provider(&auth, &context)?;
                }
                let config = Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| {
                        let detail = credential_failure(&e).unwrap_or_else(|| e.to_string());
                        Error::incomplete(format!("cannot use kubeconfig context {context:?}: {detail}"))
                            .with_hint("check --context/--cluster/--user against `kubectl config get-contexts`")
                    })?;
                (config, context, proxy_url)
            }
            None => {
                let config = Config::incluster().map_err(|e| {
                    Error::incomplete(format!(
                        "no kubeconfig found and not running in a cluster: {e}"
                    ))
                    .with_hint("set KUBECONFIG or pass --kubeconfig")
                })?;
                (config, String::new(), None)
            }
        };
        check_exec_plugin(&mut config.auth_info, &context)?;
        let exec_auth = credentials::take_plugin(&mut config, &context).await?;
        apply_connection(&mut config, global, &context, proxy_url.as_deref())?;
        let namespace = global
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let server = config.cluster_url.to_string();
        let proxy = config.proxy_url.as_ref().map(|p| p.to_string());
        // kube's default retry backs off for up to 15 attempts (minutes against a server that
        // keeps answering 503): a command-line tool retries a few times, briefly, then says why.
        config.default_retry = false;
        let plugin = config.auth_info.exec.clone();
        let builder = ClientBuilder::try_from(config).map_err(|e| match credential_failure(&e) {
            Some(detail) => Error::incomplete(format!(
                "the credentials of context {context:?} could not be obtained: {detail}"
            ))
            .with_hint(match plugin.and_then(|p| p.command) {
                Some(command) => format!("run the credential plugin {command:?} yourself to see why, or log in again"),
                None => "check the user's token, tokenFile or certificate in the kubeconfig (`kubectl config view --minify`)".into(),
            }),
            None => Error::incomplete(format!(
                "cannot build a client for {server} (context {context:?}): {e}"
            )),
        })?;
        let verbose = global.verbosity.unwrap_or(0) > 0;
        // The layer sees the path only; the base URL is added below it.
        let log = RequestLog {
            base: verbose.then(|| server.trim_end_matches('/').to_string()),
        };
        let bounds = Bounds {
            deadline: global.request_timeout.filter(|t| !t.is_zero()),
            max_bytes: MAX_ANSWER_BYTES,
            held: Default::default(),
        };
        let client = builder
            .with_layer(&bounds)
            .with_layer(&log)
            // The retry layer clones the service it retries; a buffer makes it cloneable.
            .with_layer(&tower::buffer::BufferLayer::new(64))
            .with_layer(&exec_auth)
            .with_layer(&tower::retry::RetryLayer::new(retry_policy()))
            .build();
        Ok(Cluster {
            client,
            namespace,
            context,
            server,
            timeout: global.request_timeout.filter(|t| !t.is_zero()),
            proxy,
        })
    }

    /// The FeatureStores API in one namespace, or in all with `None`.
    pub fn featurestores(&self, namespace: Option<&str>) -> Api<DynamicObject> {
        scoped_dynamic(&self.client, namespace, &featurestore_resource())
    }

    /// "Not found" for a FeatureStore, with what is near: similarly named stores in its
    /// namespace, and the namespaces that have one of exactly that name. Look-ups that fail
    /// only cost the suggestion.
    pub async fn featurestore_not_found(&self, ns: &str, name: &str) -> Error {
        let names = |list: kube::core::ObjectList<kube::core::PartialObjectMeta<DynamicObject>>| {
            list.items
                .into_iter()
                .filter_map(|o| Some((o.metadata.namespace?, o.metadata.name?)))
                .collect::<Vec<_>>()
        };
        let here: Vec<String> = self
            .featurestores(Some(ns))
            .list_metadata(&ListParams::default())
            .await
            .map(names)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        let elsewhere: Vec<String> = self
            .featurestores(None)
            .list_metadata(&ListParams::default().fields(&format!("metadata.name={name}")))
            .await
            .map(names)
            .unwrap_or_default()
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n != ns)
            .collect();
        let similar = crate::suggest::similar_names(name, &here);
        let mut hints = Vec::new();
        if !similar.is_empty() {
            hints.push(format!("did you mean {}?", similar.join(", ")));
        }
        if !elsewhere.is_empty() {
            hints.push(format!(
                "a FeatureStore {name:?} exists in namespace {}: add -n {}",
                elsewhere.join(", "),
                elsewhere[0]
            ));
        }
        if hints.is_empty() {
            hints.push(format!(
                "list the FeatureStores with `kubectl get feast -n {ns}`, or pick another namespace with -n"
            ));
        }
        Error::incomplete(format!("{RESOURCE} {name:?} not found in namespace {ns:?}"))
            .with_hint(hints.join("; "))
    }
}

/// Items per LIST page, kubectl's own chunk size: a page's body is all that is ever held in
/// full. Measured at 2,000 stores and 6,000 pods (docs/status.md): 500 keeps the peak RSS near
/// 80 MB; whole lists are faster but peak above 200 MB, since kube holds each body twice while
/// decoding it. The FeatureStores are the exception, read whole (`status`'s `fetch`).
pub const PAGE: u32 = 500;

/// Every page of one LIST (`page` items each; `None`: the whole list at once), each item
/// converted as soon as its page arrives.
pub async fn list_pages<K, T>(
    api: &Api<K>,
    lp: &ListParams,
    page: Option<u32>,
    convert: impl Fn(K) -> T,
) -> kube::Result<Vec<T>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut lp = lp.clone();
    lp.limit = page;
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await?;
        out.extend(page.items.into_iter().map(&convert));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => lp = lp.continue_token(&token),
            _ => return Ok(out),
        }
    }
}
