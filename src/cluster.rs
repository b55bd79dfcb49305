//! The thin shell around the Kubernetes API: builds the kube `Client` from kubectl's global
//! flags (the only place that reads kubeconfig), and turns API failures into messages a person
//! can act on. It decides no policy: what to send and whether to send it is the commands'
//! business, judged by the pure core.

use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
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
}

/// The FeatureStore resource, always `feast.dev/v1` (operator contract §6).
pub fn featurestore_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, VERSION, KIND), PLURAL)
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
        let builder = ClientBuilder::try_from(config).map_err(|e| {
            Error::incomplete(format!(
                "cannot build a client for {server} (context {context:?}): {e}"
            ))
        })?;
        let client = if global.verbosity.unwrap_or(0) > 0 {
            // The layer sees the path only; the base URL is added below it.
            let base = server.trim_end_matches('/').to_string();
            let log = tower_http::trace::TraceLayer::new_for_http()
                .on_request(
                    move |req: &http::Request<kube::client::Body>, _: &tracing::Span| {
                        eprintln!("{} {base}{}", req.method(), req.uri());
                    },
                )
                .on_response(log_response);
            builder.with_layer(&log).build()
        } else {
            builder.build()
        };
        Ok(Cluster {
            client,
            namespace,
            context,
            server,
        })
    }

    /// The FeatureStores API in one namespace, or in all with `None`.
    pub fn featurestores(&self, namespace: Option<&str>) -> Api<DynamicObject> {
        let ar = featurestore_resource();
        match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        }
    }

    /// Turns an API failure into an actionable error. `doing` says what was attempted, e.g.
    /// `get featurestore.feast.dev "a" in namespace "b"`.
    pub fn api_error(&self, err: kube::Error, doing: &str) -> Error {
        match err {
            kube::Error::Api(status) => match status.code {
                404 if is_unserved_resource(&status.message) => {
                    Error::incomplete(format!(
                        "cannot {doing}: the server has no {RESOURCE} resource ({}): is the Feast Operator installed?",
                        self.server
                    ))
                    .with_hint("install the Feast Operator (0.61 or later for scaling) in this cluster, or pick another --context")
                }
                404 => Error::incomplete(format!("cannot {doing}: {}", status.message)),
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
            other => Error::incomplete(format!(
                "cannot {doing}: the API server {} (context {:?}) is unreachable: {other}",
                self.server, self.context
            ))
            .with_hint("check that the cluster is up and that --context/KUBECONFIG point at it"),
        }
    }
}

/// Whether a 404's message says the resource itself is not served (its CRD is not installed),
/// rather than that one object is missing. A list answers with a Status ("the server could not
/// find the requested resource"); a get by name gets a bare "404 page not found" body.
pub fn is_unserved_resource(message: &str) -> bool {
    message.contains("could not find the requested resource")
        || message.trim() == "404 page not found"
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

/// `-v`: one stderr line per response, after the request line.
fn log_response<B>(res: &http::Response<B>, latency: Duration, _: &tracing::Span) {
    eprintln!("  -> {} in {} ms", res.status(), latency.as_millis());
}
