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
            context: global.context.clone(),
            cluster: global.cluster.clone(),
            user: global.user.clone(),
        };
        let kubeconfig = match load_kubeconfig(global)? {
            Some(kc) => Some(kc),
            // As kubectl: --server (and the other connection flags) work without any kubeconfig.
            None if global.server.is_some() => Some(Kubeconfig::default()),
            None => None,
        };
        let (mut config, context, proxy_url) = match kubeconfig {
            Some(mut kc) => {
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

    /// Turns an API failure into an actionable error. `doing` says what was attempted, e.g.
    /// `get featurestore.feast.dev "a" in namespace "b"`.
    /// A failed read (GET, LIST): as [`Cluster::api_error`], except that a LIST or GET the
    /// server refuses as malformed (400) is bad usage (exit 2), a `-l` selector it could not
    /// parse, in every command alike.
    pub fn read_error(&self, err: kube::Error, doing: &str) -> Error {
        if Failure::of(&err) == Failure::Rejected
            && let kube::Error::Api(s) = &err
        {
            let message = format!("cannot {doing}: {}", s.message);
            return Error::usage(message)
                .with_hint("check -l SELECTOR, e.g. team=ml,tier!=dev or 'env in (prod,staging)'")
                .with_source(err);
        }
        self.api_error(err, doing)
    }

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
                403 if status.message.contains("feast.dev") => Error::incomplete(format!("cannot {doing}: {}", status.message)).with_hint(
                    "ask a cluster admin for a role that grants this verb on featurestores.feast.dev, \
                     such as the Feast Operator's featurestore-editor-role",
                ),
                // Another resource (a KEDA ScaledObject, say): name no FeatureStore role.
                403 => Error::incomplete(format!("cannot {doing}: {}", status.message)).with_hint(
                    "ask a cluster admin for a role that grants this verb on that resource; \
                     docs/rbac.yaml lists what each kubectl feast command needs",
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
        let server = match &self.proxy {
            Some(proxy) => format!("{} (through the proxy {proxy})", self.server),
            None => self.server.clone(),
        };
        let context = &self.context;
        match cause {
            Cause::Timeout => Error::incomplete(format!(
                "cannot {doing}: the API server {server} did not answer in time{} ({detail})",
                self.timeout.map(|t| format!(" (--request-timeout {})", crate::cli::show_duration(t))).unwrap_or_default()
            ))
            .with_hint("raise --request-timeout, or check the API server's load and the network to it"),
            Cause::CutOff => Error::incomplete(format!(
                "cannot {doing}: the answer of the API server {server} (context {context:?}) was cut off before its end ({detail})"
            ))
            .with_hint("retry; if it keeps happening, look at the proxy or load balancer in front of the API server, or its load"),
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

/// What the flags and the environment add to a loaded config, as kubectl applies them: TLS
/// sanity, the proxy (proxy-url, HTTPS_PROXY/NO_PROXY), impersonation and timeouts.
fn apply_connection(
    config: &mut Config,
    global: &GlobalArgs,
    context: &str,
    proxy_url: Option<&str>,
) -> Result<()> {
    if config.accept_invalid_certs && config.root_cert.is_some() {
        // kubectl refuses this pair rather than silently dropping one of them.
        return Err(Error::incomplete(format!(
            "context {context:?} sets both a certificate-authority and insecure-skip-tls-verify: \
             specifying a root certificates file with the insecure flag is not allowed"
        ))
        .with_hint("remove one of the two from the kubeconfig, or pass --certificate-authority or --insecure-skip-tls-verify to choose"));
    }
    config.proxy_url = proxy_for(proxy_url, &config.cluster_url, &|name| {
        std::env::var(name).ok()
    })
    .map_err(|e| {
        Error::incomplete(format!("cannot use the proxy of context {context:?}: {e}"))
            .with_hint("fix proxy-url in the kubeconfig's cluster, or HTTPS_PROXY/NO_PROXY")
    })?;
    if config.accept_invalid_certs {
        eprintln!(
            "warning: insecure-skip-tls-verify is set: the certificate of {} is not checked, \
             so the connection (and your credentials) can be intercepted",
            config.cluster_url
        );
    }
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
    Ok(())
}

/// What really went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Timeout,
    /// The answer began but ended early (a truncated body, a connection closed mid-answer).
    CutOff,
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
            } else if text.contains("end of file before message length reached")
                || text.contains("connection closed before message completed")
            {
                Some(Cause::CutOff)
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

/// What an API call's failure means, whatever command made it: the one classification every
/// command branches on (nothing else matches `kube::Error::Api`), so the same answer is the
/// same verdict and exit code everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 404 for the resource type itself: the API is not served (KEDA or the CRD not installed).
    NotServed,
    /// 404 for one object.
    NotFound,
    /// 403: this user may not.
    Forbidden,
    /// 401: the credentials were not accepted.
    Unauthorized,
    /// 409: the object changed since it was read.
    Conflict,
    /// 400 or 422: the request itself was refused (a write's content, a read's selector).
    Rejected,
    /// 429 or 5xx (after kube's bounded retries): the server may answer next time; a write may
    /// have been stored before it.
    Transient,
    /// Any other HTTP answer.
    OtherStatus,
    /// No HTTP answer at all: connection, TLS, timeout, credentials plugin.
    Transport,
}

impl Failure {
    pub fn of(err: &kube::Error) -> Failure {
        let kube::Error::Api(s) = err else {
            return Failure::Transport;
        };
        match s.code {
            404 if is_unserved_resource(&s.message) => Failure::NotServed,
            404 => Failure::NotFound,
            403 => Failure::Forbidden,
            401 => Failure::Unauthorized,
            409 => Failure::Conflict,
            400 | 422 => Failure::Rejected,
            429 | 500..=599 => Failure::Transient,
            _ => Failure::OtherStatus,
        }
    }

    /// Whether the API server answered (with an error status) at all.
    pub fn answered(self) -> bool {
        self != Failure::Transport
    }
}

/// Why a call failed, as the API server said it (`message (code)`), or the transport error.
pub fn reason(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => other.to_string(),
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
/// request fails with a bare "No such file or directory". Its `interactiveMode` is honoured as
/// client-go does: `IfAvailable` is interactive only when stdin is a terminal, `Always` without
/// one is refused.
fn check_exec_plugin(auth: &mut kube::config::AuthInfo, context: &str) -> Result<()> {
    use kube::config::ExecInteractiveMode;
    use std::io::IsTerminal;
    let Some(exec) = auth.exec.as_mut() else {
        return Ok(());
    };
    let Some(command) = exec.command.clone() else {
        return Err(Error::incomplete(format!(
            "the credential plugin of context {context:?} has no command: command must be specified to use exec authentication plugin"
        ))
        .with_hint("set users[].user.exec.command in the kubeconfig"));
    };
    let terminal = std::io::stdin().is_terminal();
    match exec.interactive_mode {
        Some(ExecInteractiveMode::Always) if !terminal => {
            return Err(Error::incomplete(format!(
                "the credential plugin {command:?} of context {context:?} cannot run: \
                 exec plugin cannot support interactive mode: standard input is not a terminal"
            ))
            .with_hint("run the command from a terminal, or log in first so that the plugin needs no input"));
        }
        // kube treats anything but Never as interactive; client-go asks the terminal.
        None | Some(ExecInteractiveMode::IfAvailable) if !terminal => {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
        _ => {}
    }
    let found = if command.contains('/') {
        std::path::Path::new(&command).is_file()
    } else {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(&command).is_file()))
            .unwrap_or(false)
    };
    if found {
        return Ok(());
    }
    let install = exec.install_hint.clone().unwrap_or_else(|| {
        format!("install {command:?}, or fix users[].user.exec.command of context {context:?} in the kubeconfig")
    });
    Err(Error::incomplete(format!(
        "the credential plugin of context {context:?} cannot run: executable {command:?} not found{}",
        if command.contains('/') { "" } else { " on PATH" }
    ))
    .with_hint(install))
}

/// kubectl (since 1.26) no longer carries the gcp and azure auth-providers: it names their
/// replacement. Only `oidc` is left (its `id-token` is sent as a bearer token).
fn check_auth_provider(auth: &kube::config::AuthInfo, context: &str) -> Result<()> {
    let Some(provider) = &auth.auth_provider else {
        return Ok(());
    };
    let (message, hint) = match provider.name.as_str() {
        "oidc" => return Ok(()),
        "gcp" => (
            "the gcp auth plugin has been removed",
            "use the \"gke-gcloud-auth-plugin\" kubectl/client-go credential plugin instead; see \
             https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke",
        ),
        "azure" => (
            "the azure auth plugin has been removed",
            "use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead \
             (`kubelogin convert-kubeconfig`)",
        ),
        other => {
            return Err(Error::incomplete(format!(
                "the user of context {context:?} uses the auth-provider {other:?}: no Auth Provider found for name {other:?}"
            ))
            .with_hint("use an exec credential plugin (users[].user.exec) instead"));
        }
    };
    Err(Error::incomplete(format!(
        "the user of context {context:?} uses the auth-provider {:?}: {message}",
        provider.name
    ))
    .with_hint(hint))
}

/// A credential that could not be obtained (an exec plugin that failed, a token file that
/// cannot be read), in words, with the plugin's own stderr; `None` for any other failure.
fn credential_failure(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    use kube::client::AuthError;
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(auth) = e.downcast_ref::<AuthError>() {
            return Some(match auth {
                AuthError::AuthExecRun { out, .. } => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    let stderr = stderr.trim();
                    if stderr.is_empty() {
                        format!("the credential plugin failed ({})", out.status)
                    } else {
                        format!("the credential plugin failed ({}): {stderr}", out.status)
                    }
                }
                other => other.to_string(),
            });
        }
        next = e.source();
    }
    None
}

/// The context the options select, with the cluster and user names it resolves to.
fn selected_names(
    kc: &Kubeconfig,
    options: &KubeConfigOptions,
) -> (Option<String>, Option<String>) {
    let context = options
        .context
        .as_ref()
        .or(kc.current_context.as_ref())
        .and_then(|name| kc.contexts.iter().find(|c| &c.name == name))
        .and_then(|c| c.context.clone());
    let cluster = options
        .cluster
        .clone()
        .or_else(|| context.as_ref().map(|c| c.cluster.clone()));
    let user = options
        .user
        .clone()
        .or_else(|| context.and_then(|c| c.user));
    (cluster, user)
}

fn selected_cluster(kc: &Kubeconfig, options: &KubeConfigOptions) -> Option<kube::config::Cluster> {
    let (name, _) = selected_names(kc, options);
    kc.clusters
        .iter()
        .find(|c| Some(&c.name) == name.as_ref())
        .and_then(|c| c.cluster.clone())
}

fn selected_user(kc: &Kubeconfig, options: &KubeConfigOptions) -> Option<kube::config::AuthInfo> {
    let (_, name) = selected_names(kc, options);
    kc.auth_infos
        .iter()
        .find(|u| Some(&u.name) == name.as_ref())
        .and_then(|u| u.auth_info.clone())
}

/// kubectl's connection flags (`--server`, `--certificate-authority`,
/// `--insecure-skip-tls-verify`, `--tls-server-name`, `--token`, `--client-certificate`,
/// `--client-key`), written into the selected cluster and user as client-go's clientcmd merges
/// its overrides: a CA or insecure flag replaces all three TLS trust settings, `--server`
/// clears the kubeconfig's tls-server-name, a file flag drops the inline data it replaces.
/// With no context at all (flags only), one is made up.
fn apply_connection_flags(
    kc: &mut Kubeconfig,
    global: &GlobalArgs,
    options: &mut KubeConfigOptions,
) {
    use kube::config::{Context, NamedAuthInfo, NamedCluster, NamedContext};
    let insecure = global.insecure_skip_tls_verify == Some(true);
    let cluster_flags = global.server.is_some()
        || global.certificate_authority.is_some()
        || insecure
        || global.tls_server_name.is_some();
    let user_flags = global.token.is_some()
        || global.client_certificate.is_some()
        || global.client_key.is_some();
    if !cluster_flags && !user_flags {
        return;
    }
    const FLAGS: &str = "command-line";
    let context_known = options
        .context
        .as_ref()
        .or(kc.current_context.as_ref())
        .is_some_and(|name| kc.contexts.iter().any(|c| &c.name == name));
    if !context_known && options.context.is_none() {
        kc.contexts.push(NamedContext {
            name: FLAGS.into(),
            context: Some(Context {
                cluster: options.cluster.clone().unwrap_or_else(|| FLAGS.into()),
                user: Some(options.user.clone().unwrap_or_else(|| FLAGS.into())),
                ..Context::default()
            }),
            ..NamedContext::default()
        });
        options.context = Some(FLAGS.into());
    }
    let (cluster_name, user_name) = selected_names(kc, options);
    if cluster_flags {
        let name = cluster_name.unwrap_or_else(|| FLAGS.into());
        if !kc.clusters.iter().any(|c| c.name == name) {
            kc.clusters.push(NamedCluster {
                name: name.clone(),
                ..NamedCluster::default()
            });
        }
        if let Some(entry) = kc.clusters.iter_mut().find(|c| c.name == name) {
            let cluster = entry.cluster.get_or_insert_with(Default::default);
            if let Some(server) = &global.server {
                cluster.server = Some(if server.contains("://") {
                    server.clone()
                } else {
                    format!("https://{server}")
                });
            }
            if insecure || global.certificate_authority.is_some() {
                cluster.insecure_skip_tls_verify = Some(insecure);
                cluster.certificate_authority = global
                    .certificate_authority
                    .as_ref()
                    .map(|p| p.display().to_string());
                cluster.certificate_authority_data = None;
            }
            if global.tls_server_name.is_some() || global.server.is_some() {
                cluster.tls_server_name = global.tls_server_name.clone();
            }
        }
    }
    if user_flags {
        let name = user_name.unwrap_or_else(|| FLAGS.into());
        if !kc.auth_infos.iter().any(|u| u.name == name) {
            kc.auth_infos.push(NamedAuthInfo {
                name: name.clone(),
                ..NamedAuthInfo::default()
            });
        }
        if let Some(entry) = kc.auth_infos.iter_mut().find(|u| u.name == name) {
            let user = entry.auth_info.get_or_insert_with(Default::default);
            if let Some(token) = &global.token {
                user.token = Some(token.clone().into());
                user.token_file = None;
            }
            if let Some(path) = &global.client_certificate {
                user.client_certificate = Some(path.display().to_string());
                user.client_certificate_data = None;
            }
            if let Some(path) = &global.client_key {
                user.client_key = Some(path.display().to_string());
                user.client_key_data = None;
            }
        }
    }
}

/// The proxy to reach `server` through, as kubectl picks it: the cluster's `proxy-url` if set
/// (always used), else `HTTPS_PROXY` (`HTTP_PROXY` for an http server) unless `NO_PROXY`
/// matches the host or the host is loopback (Go's `http.ProxyFromEnvironment`). http, https and
/// socks5 proxies are supported; an environment value without a scheme means http.
pub fn proxy_for(
    proxy_url: Option<&str>,
    server: &http::Uri,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<Option<http::Uri>, String> {
    let parse = |raw: &str, from: &str| -> std::result::Result<http::Uri, String> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let uri: http::Uri = with_scheme
            .parse()
            .map_err(|e| format!("{from} {raw:?} is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http" | "https" | "socks5") => Ok(uri),
            // socks5h (names resolved by the proxy) is what kube's socks5 does anyway.
            Some("socks5h") => with_scheme
                .replacen("socks5h://", "socks5://", 1)
                .parse()
                .map_err(|e| format!("{from} {raw:?} is not a URL: {e}")),
            other => Err(format!(
                "{from} {raw:?} has the scheme {:?}: use http, https or socks5",
                other.unwrap_or("")
            )),
        }
    };
    if let Some(raw) = proxy_url.filter(|p| !p.trim().is_empty()) {
        return parse(raw, "proxy-url").map(Some);
    }
    let any = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    let (value, name) = if server.scheme_str() == Some("http") {
        (any(["HTTP_PROXY", "http_proxy"]), "HTTP_PROXY")
    } else {
        (any(["HTTPS_PROXY", "https_proxy"]), "HTTPS_PROXY")
    };
    let Some(value) = value else {
        return Ok(None);
    };
    let host = server.host().unwrap_or_default();
    let port = server
        .port_u16()
        .unwrap_or(if server.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    if !uses_proxy(host, port, any(["NO_PROXY", "no_proxy"]).as_deref()) {
        return Ok(None);
    }
    parse(&value, name).map(Some)
}

/// Go's `httpproxy` rule: loopback and `localhost` never go through a proxy; `NO_PROXY` lists
/// `*`, IPs, CIDRs and domains (`example.com` covers its subdomains, `.example.com` only
/// them), each optionally with `:port`.
fn uses_proxy(host: &str, port: u16, no_proxy: Option<&str>) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host == "localhost" {
        return false;
    }
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    let Some(no_proxy) = no_proxy else {
        return true;
    };
    for entry in no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()) {
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return false;
        }
        if let Some((net, bits)) = entry.split_once('/') {
            if let (Some(ip), Ok(net), Ok(bits)) =
                (ip, net.parse::<std::net::IpAddr>(), bits.parse::<u32>())
                && in_cidr(ip, net, bits)
            {
                return false;
            }
            continue;
        }
        if let Ok(entry_ip) = entry
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
        {
            if ip == Some(entry_ip) {
                return false;
            }
            continue;
        }
        // host, host:port, .domain, *.domain
        let (name, entry_port) = match entry.rsplit_once(':') {
            Some((n, p)) if p.parse::<u16>().is_ok() => (n.to_string(), p.parse::<u16>().ok()),
            _ => (entry.clone(), None),
        };
        if let Some((n, _)) = entry.rsplit_once(':')
            && let Ok(entry_ip) = n
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
        {
            if ip == Some(entry_ip) && entry_port == Some(port) {
                return false;
            }
            continue;
        }
        let name = name.strip_prefix('*').unwrap_or(&name);
        let (suffix, whole) = match name.strip_prefix('.') {
            Some(rest) => (format!(".{rest}"), false),
            None => (format!(".{name}"), true),
        };
        let matches = host.ends_with(&suffix) || (whole && host == suffix[1..]);
        if matches && entry_port.is_none_or(|p| p == port) {
            return false;
        }
    }
    true
}

fn in_cidr(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(ip), V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (V6(ip), V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
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
                    Ok(res) => {
                        // Most answers are JSON; say so when one is not (`status` reads pods
                        // as protobuf).
                        let protobuf =
                            res.headers()
                                .get(http::header::CONTENT_TYPE)
                                .is_some_and(|v| {
                                    v.as_bytes()
                                        .starts_with(b"application/vnd.kubernetes.protobuf")
                                });
                        let encoding = if protobuf { " (protobuf)" } else { "" };
                        eprintln!("{line} {} in {ms} ms{encoding}", res.status())
                    }
                    Err(e) => eprintln!("{line} failed after {ms} ms: {e}"),
                }
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(
        proxy_url: Option<&str>,
        server: &str,
        env: &[(&str, &str)],
    ) -> std::result::Result<Option<String>, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        proxy_for(proxy_url, &server.parse().expect("uri"), &lookup)
            .map(|p| p.map(|u| u.to_string()))
    }

    #[test]
    fn proxy_url_wins_and_is_always_used() {
        let env = [("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "*")];
        assert_eq!(
            proxy(Some("socks5://p:1080"), "https://10.0.0.1:6443", &env),
            Ok(Some("socks5://p:1080/".into()))
        );
        assert_eq!(
            proxy(Some("https://p:3128"), "https://127.0.0.1:6443", &[]),
            Ok(Some("https://p:3128/".into()))
        );
        assert_eq!(
            proxy(Some("socks5h://p:1080"), "https://a:1", &[]),
            Ok(Some("socks5://p:1080/".into()))
        );
        let bad = proxy(Some("ftp://p:21"), "https://a:1", &[]).unwrap_err();
        assert!(
            bad.contains("ftp") && bad.contains("http, https or socks5"),
            "{bad}"
        );
    }

    #[test]
    fn environment_proxies_follow_go_rules() {
        let server = "https://api.example.com:6443";
        assert_eq!(
            proxy(None, server, &[("HTTPS_PROXY", "p:3128")]),
            Ok(Some("http://p:3128/".into()))
        );
        assert_eq!(
            proxy(None, server, &[("https_proxy", "http://p:1")]),
            Ok(Some("http://p:1/".into()))
        );
        // HTTP_PROXY is for http servers only.
        assert_eq!(
            proxy(None, server, &[("HTTP_PROXY", "http://p:1")]),
            Ok(None)
        );
        assert_eq!(
            proxy(
                None,
                "http://api.example.com",
                &[("HTTP_PROXY", "http://p:1")]
            ),
            Ok(Some("http://p:1/".into()))
        );
        for loopback in [
            "https://127.0.0.1:6443",
            "https://localhost:6443",
            "https://[::1]:6443",
        ] {
            assert_eq!(
                proxy(None, loopback, &[("HTTPS_PROXY", "http://p:1")]),
                Ok(None),
                "{loopback}"
            );
        }
        let with = |no: &str| {
            proxy(
                None,
                server,
                &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)],
            )
        };
        for skipped in [
            "*",
            "example.com",
            ".example.com",
            "*.example.com",
            "api.example.com",
            "other, api.example.com:6443",
        ] {
            assert_eq!(with(skipped), Ok(None), "NO_PROXY={skipped}");
        }
        for kept in [
            "example.org",
            "api.example.com:443",
            "xample.com",
            "10.0.0.0/8",
        ] {
            assert!(with(kept).is_ok_and(|p| p.is_some()), "NO_PROXY={kept}");
        }
        let ip = |no: &str| {
            proxy(
                None,
                "https://10.1.2.3:6443",
                &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)],
            )
        };
        assert_eq!(ip("10.0.0.0/8"), Ok(None));
        assert_eq!(ip("10.1.2.3"), Ok(None));
        assert_eq!(ip("10.1.2.3:6443"), Ok(None));
        assert!(ip("10.1.2.4").is_ok_and(|p| p.is_some()));
        assert!(ip("11.0.0.0/8").is_ok_and(|p| p.is_some()));
    }

    #[test]
    fn connection_flags_merge_like_clientcmd() {
        let mut kc: Kubeconfig = serde_saphyr::from_str(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster: {server: 'https://a:1', certificate-authority-data: Zm9v, tls-server-name: a.example}\nusers:\n- name: u\n  user: {tokenFile: /t, client-certificate-data: Zm9v}\n",
        )
        .expect("kubeconfig");
        let global = GlobalArgs {
            server: Some("b:2".into()),
            insecure_skip_tls_verify: Some(true),
            token: Some("secret".into()),
            ..GlobalArgs::default()
        };
        let mut options = KubeConfigOptions::default();
        apply_connection_flags(&mut kc, &global, &mut options);
        let cluster = selected_cluster(&kc, &options).expect("cluster");
        assert_eq!(cluster.server.as_deref(), Some("https://b:2"));
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert_eq!(cluster.certificate_authority_data, None);
        assert_eq!(
            cluster.tls_server_name, None,
            "--server clears tls-server-name"
        );
        let user = selected_user(&kc, &options).expect("user");
        assert!(user.token.is_some() && user.token_file.is_none());
        assert!(user.client_certificate_data.is_some(), "untouched");

        // Flags alone, without any kubeconfig.
        let mut empty = Kubeconfig::default();
        let mut options = KubeConfigOptions::default();
        apply_connection_flags(&mut empty, &global, &mut options);
        assert_eq!(options.context.as_deref(), Some("command-line"));
        assert_eq!(
            selected_cluster(&empty, &options)
                .and_then(|c| c.server)
                .as_deref(),
            Some("https://b:2")
        );
    }

    #[test]
    fn removed_auth_providers_name_their_replacement() {
        let with = |name: &str| kube::config::AuthInfo {
            auth_provider: Some(kube::config::AuthProviderConfig {
                name: name.into(),
                config: Default::default(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let gcp = check_auth_provider(&with("gcp"), "c").unwrap_err();
        assert!(
            gcp.message.contains("gcp auth plugin has been removed"),
            "{}",
            gcp.message
        );
        assert!(
            gcp.hint()
                .is_some_and(|h| h.contains("gke-gcloud-auth-plugin"))
        );
        let azure = check_auth_provider(&with("azure"), "c").unwrap_err();
        assert!(azure.hint().is_some_and(|h| h.contains("kubelogin")));
        let other = check_auth_provider(&with("openstack"), "c").unwrap_err();
        assert!(
            other
                .message
                .contains("no Auth Provider found for name \"openstack\"")
        );
        assert!(check_auth_provider(&with("oidc"), "c").is_ok());
    }
}
