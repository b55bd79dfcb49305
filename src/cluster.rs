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
        let options = KubeConfigOptions {
            context: global.context.clone(),
            cluster: global.cluster.clone(),
            user: global.user.clone(),
        };
        let kubeconfig = load_kubeconfig(global)?;
        let (mut config, context) = match kubeconfig {
            Some(kc) => {
                let context = global
                    .context
                    .clone()
                    .or_else(|| kc.current_context.clone())
                    .unwrap_or_default();
                let config = Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| {
                        Error::incomplete(format!("cannot use kubeconfig context {context:?}: {e}"))
                            .with_hint("check --context/--cluster/--user against `kubectl config get-contexts`")
                    })?;
                (config, context)
            }
            None => {
                let config = Config::incluster().map_err(|e| {
                    Error::incomplete(format!(
                        "no kubeconfig found and not running in a cluster: {e}"
                    ))
                    .with_hint("set KUBECONFIG or pass --kubeconfig")
                })?;
                (config, String::new())
            }
        };
        check_exec_plugin(&config.auth_info, &context)?;
        if let Some(user) = &global.as_user {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !global.as_group.is_empty() {
            config.auth_info.impersonate_groups = Some(global.as_group.clone());
        }
        if let Some(t) = global.request_timeout.filter(|t| !t.is_zero()) {
            config.connect_timeout = Some(t);
            config.read_timeout = Some(t);
            config.write_timeout = Some(t);
        }
        let namespace = global
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let server = config.cluster_url.to_string();
        // kube's default retry backs off for up to 15 attempts (minutes against a server that
        // keeps answering 503): a command-line tool retries a few times, briefly, then says why.
        config.default_retry = false;
        let builder = ClientBuilder::try_from(config).map_err(|e| {
            Error::incomplete(format!(
                "cannot build a client for {server} (context {context:?}): {e}"
            ))
        })?;
        let verbose = global.verbosity.unwrap_or(0) > 0;
        // The layer sees the path only; the base URL is added below it.
        let log = RequestLog {
            base: verbose.then(|| server.trim_end_matches('/').to_string()),
        };
        let client = builder
            .with_layer(&log)
            // The retry layer clones the service it retries; a buffer makes it cloneable.
            .with_layer(&tower::buffer::BufferLayer::new(64))
            .with_layer(&tower::retry::RetryLayer::new(retry_policy()))
            .build();
        Ok(Cluster {
            client,
            namespace,
            context,
            server,
            timeout: global.request_timeout.filter(|t| !t.is_zero()),
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

    /// Turns an API failure into an actionable error. `doing` says what was attempted, e.g.
    /// `get featurestore.feast.dev "a" in namespace "b"`.
    pub fn api_error(&self, err: kube::Error, doing: &str) -> Error {
        let error = match &err {
            kube::Error::Api(status) => match status.code {
                404 if is_unserved_resource(&status.message) => {
                    Error::incomplete(format!(
                        "cannot {doing}: the server has no {RESOURCE} resource ({}): is the Feast Operator installed?",
                        self.server
                    ))
                    .with_hint("install the Feast Operator (0.61 or later for scaling) in this cluster, or pick another --context")
                }
                404 => Error::incomplete(format!("cannot {doing}: {}", status.message)),
                403 if status.message.contains("cannot impersonate") => Error::incomplete(format!(
                    "cannot {doing}: {}",
                    status.message
                ))
                .with_hint(
                    "your own user may not impersonate (--as/--as-group): ask a cluster admin for the \
                     `impersonate` verb on users/groups, or run without --as",
                ),
                403 => Error::incomplete(format!("cannot {doing}: {}", status.message)).with_hint(
                    "ask a cluster admin for a role that grants this verb on featurestores.feast.dev, \
                     such as the Feast Operator's featurestore-editor-role",
                ),
                401 => Error::incomplete(format!(
                    "cannot {doing}: the API server did not accept the credentials of context {:?}: {}",
                    self.context, status.message
                ))
                .with_hint("refresh your credentials, e.g. log in again"),
                400 | 409 | 422 => {
                    Error::refused(format!("the API server rejected the change ({doing}): {}", status.message))
                }
                code => Error::incomplete(format!("cannot {doing}: HTTP {code}: {}", status.message)),
            },
            other => self.transport_error(other, doing),
        };
        // Kept, so the cause chain can still be walked (and tested) above this message.
        error.with_source(err)
    }

    /// A failure below HTTP, named by its real cause (walking the error's sources): a
    /// timeout, TLS, a refused connection, DNS, a credential plugin; "unreachable" only when
    /// nothing more precise is known.
    fn transport_error(&self, err: &kube::Error, doing: &str) -> Error {
        let (cause, detail) = Cause::of(err);
        let (server, context) = (&self.server, &self.context);
        match cause {
            Cause::Timeout => Error::incomplete(format!(
                "cannot {doing}: the API server {server} did not answer in time{} ({detail})",
                self.timeout.map(|t| format!(" (--request-timeout {})", crate::cli::show_duration(t))).unwrap_or_default()
            ))
            .with_hint("raise --request-timeout, or check the API server's load and the network to it"),
            Cause::Tls => Error::incomplete(format!(
                "cannot {doing}: TLS with the API server {server} failed: {detail}"
            ))
            .with_hint(format!(
                "the server's certificate is not trusted by the certificate-authority of context {context:?}: fix certificate-authority(-data) in the kubeconfig, or pick the right --context"
            )),
            Cause::Refused => Error::incomplete(format!(
                "cannot {doing}: the API server {server} (context {context:?}) refused the connection ({detail})"
            ))
            .with_hint("check that the cluster is up and that --context/KUBECONFIG point at it"),
            Cause::Dns => Error::incomplete(format!(
                "cannot {doing}: the API server's host in {server} cannot be resolved ({detail})"
            ))
            .with_hint(format!("check the server address of context {context:?} in the kubeconfig, and your DNS or VPN")),
            Cause::Credentials => Error::incomplete(format!(
                "cannot {doing}: the credentials of context {context:?} could not be obtained: {detail}"
            ))
            .with_hint("check the user's exec plugin or token in the kubeconfig (`kubectl config view --minify`)"),
            Cause::Other => Error::incomplete(format!(
                "cannot {doing}: the API server {server} (context {context:?}) is unreachable: {detail}"
            ))
            .with_hint("check that the cluster is up and that --context/KUBECONFIG point at it"),
        }
    }
}

/// What really went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Timeout,
    Tls,
    Refused,
    Dns,
    Credentials,
    Other,
}

impl Cause {
    /// The cause of a transport error and its most specific message, from the chain of
    /// sources (the outermost messages, such as `ServiceError: client error (Connect)`, say
    /// little).
    pub fn of(err: &(dyn std::error::Error + 'static)) -> (Cause, String) {
        let mut chain: Vec<&(dyn std::error::Error + 'static)> = vec![err];
        while let Some(next) = chain.last().and_then(|e| e.source()) {
            chain.push(next);
        }
        let kind = chain.iter().find_map(|e| {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::TimedOut => return Some(Cause::Timeout),
                    std::io::ErrorKind::ConnectionRefused => return Some(Cause::Refused),
                    _ => {}
                }
            }
            if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
                return Some(Cause::Timeout);
            }
            if e.downcast_ref::<kube::client::AuthError>().is_some() {
                return Some(Cause::Credentials);
            }
            let text = e.to_string().to_lowercase();
            if text.contains("timed out") || text.contains("deadline has elapsed") {
                Some(Cause::Timeout)
            } else if text.contains("certificate")
                || text.contains("tls")
                || text.contains("handshake")
            {
                Some(Cause::Tls)
            } else if text.contains("connection refused") {
                Some(Cause::Refused)
            } else if text.contains("dns error") || text.contains("failed to lookup address") {
                Some(Cause::Dns)
            } else {
                None
            }
        });
        let detail = chain.last().map(|e| e.to_string()).unwrap_or_default();
        (kind.unwrap_or(Cause::Other), detail)
    }
}

/// Whether a 404's message says the resource itself is not served (its CRD is not installed),
/// rather than that one object is missing. A list answers with a Status ("the server could not
/// find the requested resource"); a get by name gets a bare "404 page not found" body.
pub fn is_unserved_resource(message: &str) -> bool {
    message.contains("could not find the requested resource")
        || message.trim() == "404 page not found"
}

/// An exec credential plugin that is not installed is named, as kubectl names it, before any
/// request fails with a bare "No such file or directory".
fn check_exec_plugin(auth: &kube::config::AuthInfo, context: &str) -> Result<()> {
    let Some(command) = auth.exec.as_ref().and_then(|e| e.command.as_deref()) else {
        return Ok(());
    };
    let found = if command.contains('/') {
        std::path::Path::new(command).is_file()
    } else {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(command).is_file()))
            .unwrap_or(false)
    };
    if found {
        return Ok(());
    }
    let install = auth
        .exec
        .as_ref()
        .and_then(|e| e.install_hint.clone())
        .unwrap_or_else(|| {
            format!("install {command:?}, or fix users[].user.exec.command of context {context:?} in the kubeconfig")
        });
    Err(Error::incomplete(format!(
        "the credential plugin of context {context:?} cannot run: executable {command:?} not found{}",
        if command.contains('/') { "" } else { " on PATH" }
    ))
    .with_hint(install))
}

/// The context names of the kubeconfig the global flags select (for shell completion), in the
/// file's order; an empty list when there is no kubeconfig.
pub fn kubeconfig_contexts(global: &GlobalArgs) -> Result<Vec<String>> {
    Ok(load_kubeconfig(global)?
        .map(|kc| kc.contexts.into_iter().map(|c| c.name).collect())
        .unwrap_or_default())
}

fn load_kubeconfig(global: &GlobalArgs) -> Result<Option<Kubeconfig>> {
    let bad = |what: String, e: kube::config::KubeconfigError| {
        Error::incomplete(format!("cannot read kubeconfig {what}: {e}"))
            .with_hint("fix the file, or point --kubeconfig/KUBECONFIG at a valid one")
    };
    if let Some(path) = &global.kubeconfig {
        return Kubeconfig::read_from(path)
            .map(Some)
            .map_err(|e| bad(path.display().to_string(), e));
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        // As kubectl does: merge the files in order (the first to set a value wins) and skip
        // the ones that don't exist.
        let mut merged: Option<Kubeconfig> = None;
        for path in std::env::split_paths(&list).filter(|p| p.exists()) {
            let next =
                Kubeconfig::read_from(&path).map_err(|e| bad(path.display().to_string(), e))?;
            merged = Some(match merged {
                None => next,
                Some(kc) => kc
                    .merge(next)
                    .map_err(|e| bad("from $KUBECONFIG".into(), e))?,
            });
        }
        if merged.is_none() {
            return Err(Error::incomplete(format!(
                "none of the files in KUBECONFIG ({}) exists",
                list.to_string_lossy()
            ))
            .with_hint("point KUBECONFIG or --kubeconfig at your kubeconfig file"));
        }
        return Ok(merged);
    }
    let default = std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".kube/config"));
    match default {
        Some(path) if path.exists() => Kubeconfig::read_from(&path)
            .map(Some)
            .map_err(|e| bad(path.display().to_string(), e)),
        _ => Ok(None),
    }
}

/// Retries on 429, 503 and 504 (honouring Retry-After, capped): at most 3 more attempts within
/// a few seconds. Writes are safe to retry: every patch carries its resourceVersion.
fn retry_policy() -> kube::client::retry::RetryPolicy {
    kube::client::retry::RetryPolicy::new(
        Duration::from_millis(200),
        Duration::from_secs(2),
        3,
        true,
    )
    .unwrap_or_default()
}

/// `-v`: one stderr line per request once it is answered, with its status and time, so that
/// a 403 can be told apart from the request next to it.
#[derive(Clone)]
struct RequestLog {
    /// The server's URL when logging is on.
    base: Option<String>,
}

impl<S> tower::Layer<S> for RequestLog {
    type Service = Logged<S>;
    fn layer(&self, inner: S) -> Logged<S> {
        Logged {
            inner,
            base: self.base.clone(),
        }
    }
}

#[derive(Clone)]
struct Logged<S> {
    inner: S,
    base: Option<String>,
}

impl<S, B, R> tower::Service<http::Request<B>> for Logged<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<S::Response, S::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let line = self
            .base
            .as_ref()
            .map(|base| format!("{} {base}{}", req.method(), req.uri()));
        let started = std::time::Instant::now();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let result = answer.await;
            if let Some(line) = line {
                let ms = started.elapsed().as_millis();
                match &result {
                    Ok(res) => eprintln!("{line} {} in {ms} ms", res.status()),
                    Err(e) => eprintln!("{line} failed after {ms} ms: {e}"),
                }
            }
            result
        })
    }
}
