//! Exec credential plugins, run once per command as kubectl runs them.
//!
//! kube runs a kubeconfig's `exec` plugin each time it builds a piece of its client (three
//! times per command: an MFA plugin prompted three times), and when one fails its message
//! carries the plugin's whole stdout (the token it printed) and the command's environment
//! (`VAULT_TOKEN="..."`). So the plugin is run here instead: once when the client is built,
//! again only when its token is about to expire (client-go's rule: a minute before), and a
//! failure says what the plugin wrote on stderr, never what it wrote on stdout. A token is
//! sent by [`ExecAuth`], a layer of the client; a client certificate goes into the TLS config.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::config::{ExecConfig, ExecInteractiveMode};
use serde::{Deserialize, Serialize};

/// Why a plugin gave no credential: which plugin, and what went wrong in words. Never its
/// stdout, never its environment.
#[derive(Debug)]
pub struct PluginError {
    pub command: String,
    pub what: String,
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the credential plugin {:?} {}", self.command, self.what)
    }
}

impl std::error::Error for PluginError {}

type Result<T> = std::result::Result<T, PluginError>;

/// What a plugin answered.
pub(super) enum Credential {
    Token {
        token: String,
        expiry: Option<Timestamp>,
    },
    Certificate {
        certificate_pem: String,
        key_pem: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<ExecCredentialSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<ExecCredentialStatus>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialSpec {
    interactive: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster: Option<kube::config::ExecAuthCluster>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    expiration_timestamp: Option<String>,
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    client_key_data: Option<String>,
}

/// Runs the plugin once and reads its answer. Blocking (an interactive plugin may wait for
/// the user); errors name the plugin and carry its stderr, never its stdout or environment.
pub(super) fn run(exec: &ExecConfig) -> Result<Credential> {
    let command = exec.command.as_deref().unwrap_or_default();
    let failed = |what: String| PluginError {
        command: command.to_string(),
        what,
    };
    let mut cmd = std::process::Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (pair.get("name"), pair.get("value")) {
            crate::redact::register(value);
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    let interactive = exec.interactive_mode != Some(ExecInteractiveMode::Never);
    let spec = ExecCredentialSpec {
        interactive,
        cluster: exec.cluster.clone().filter(|_| exec.provide_cluster_info),
    };
    let info = ExecCredential {
        api_version: exec.api_version.clone(),
        kind: "ExecCredential".into(),
        spec: Some(spec),
        status: None,
    };
    cmd.env(
        "KUBERNETES_EXEC_INFO",
        serde_json::to_string(&info).unwrap_or_default(),
    );
    // As client-go: the plugin's stderr is the user's (an MFA prompt, a login URL); stdin is
    // the user's only when the plugin may interact.
    cmd.stderr(std::process::Stdio::inherit());
    cmd.stdin(if interactive {
        std::process::Stdio::inherit()
    } else {
        std::process::Stdio::null()
    });
    let out = cmd
        .output()
        .map_err(|e| failed(format!("could not be started: {e}")))?;
    if !out.status.success() {
        return Err(failed(format!(
            "failed ({}); its own message is above",
            out.status
        )));
    }
    let answer: ExecCredential = serde_json::from_slice(&out.stdout).map_err(|e| {
        // serde_json's message has the line and column, not the text around them.
        failed(format!(
            "printed something that is not an ExecCredential: {e}"
        ))
    })?;
    if answer.kind != "ExecCredential" {
        return Err(failed(format!(
            "printed a {:?}, not an ExecCredential",
            answer.kind
        )));
    }
    let Some(status) = answer.status else {
        return Err(failed("printed an ExecCredential without a status".into()));
    };
    if let (Some(certificate_pem), Some(key_pem)) = (
        status.client_certificate_data.clone(),
        status.client_key_data.clone(),
    ) {
        crate::redact::register(&key_pem);
        return Ok(Credential::Certificate {
            certificate_pem,
            key_pem,
        });
    }
    if let Some(token) = status.token.filter(|t| !t.is_empty()) {
        crate::redact::register(&token);
        let expiry = match status.expiration_timestamp {
            None => None,
            Some(t) => Some(t.parse::<Timestamp>().map_err(|e| {
                failed(format!(
                    "printed an expirationTimestamp that is not RFC 3339: {e}"
                ))
            })?),
        };
        return Ok(Credential::Token { token, expiry });
    }
    Err(failed(
        "printed an ExecCredential with neither a token nor a client certificate and key".into(),
    ))
}

/// Takes the exec plugin out of the config and runs it, once (kube would run it three times):
/// a token is then sent by the [`ExecAuth`] layer this returns, a client certificate goes into
/// the config's TLS identity. A token, token file, basic auth or auth-provider wins over the
/// plugin, which then never runs (kube's order and client-go's).
pub(super) async fn take_plugin(
    config: &mut kube::Config,
    context: &str,
) -> crate::error::Result<ExecAuth> {
    use crate::error::Error;
    let auth = &config.auth_info;
    let other_credential = auth.auth_provider.is_some()
        || (auth.username.is_some() && auth.password.is_some())
        || auth.token.is_some()
        || auth.token_file.is_some();
    let exec = match other_credential {
        true => None,
        false => config.auth_info.exec.take(),
    };
    let Some(exec) = exec else {
        return Ok(ExecAuth::default());
    };
    let ran = {
        let exec = exec.clone();
        tokio::task::spawn_blocking(move || run(&exec)).await
    };
    let credential = ran
        .map_err(|e| Error::incomplete(format!("the credential plugin did not finish: {e}")))?
        .map_err(|e| {
            Error::incomplete(format!(
                "the credentials of context {context:?} could not be obtained: {e}"
            ))
            .with_hint(format!(
                "run {:?} yourself to see why, or log in again",
                e.command
            ))
        })?;
    Ok(match credential {
        Credential::Token { token, expiry } => ExecAuth::new(exec, token, expiry),
        Credential::Certificate {
            certificate_pem,
            key_pem,
        } => {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD;
            config.auth_info.client_certificate_data = Some(b64.encode(certificate_pem));
            config.auth_info.client_key_data = Some(b64.encode(key_pem).into());
            ExecAuth::default()
        }
    })
}

/// The current token of a plugin and when it expires; refreshed by running the plugin again a
/// minute before.
struct TokenState {
    token: String,
    expiry: Option<Timestamp>,
    /// A refresh that failed: every later request fails with it rather than running the
    /// plugin again (an MFA prompt once, not once per request).
    failed: Option<String>,
}

/// Sends the plugin's token with every request, refreshing it once it is about to expire;
/// without a plugin, a layer that does nothing.
#[derive(Clone, Default)]
pub(super) struct ExecAuth(Option<Plugin>);

#[derive(Clone)]
struct Plugin {
    exec: Arc<ExecConfig>,
    state: Arc<tokio::sync::Mutex<TokenState>>,
}

impl ExecAuth {
    pub(super) fn new(exec: ExecConfig, token: String, expiry: Option<Timestamp>) -> ExecAuth {
        ExecAuth(Some(Plugin {
            exec: Arc::new(exec),
            state: Arc::new(tokio::sync::Mutex::new(TokenState {
                token,
                expiry,
                failed: None,
            })),
        }))
    }
}

impl Plugin {
    /// The header value to send now, running the plugin again if the token expires within a
    /// minute.
    async fn header(&self) -> Result<http::HeaderValue> {
        let mut state = self.state.lock().await;
        let soon = Timestamp::now()
            .checked_add(Duration::from_secs(60))
            .unwrap_or(Timestamp::MAX);
        let command = self.exec.command.clone().unwrap_or_default();
        if let Some(what) = &state.failed {
            return Err(PluginError {
                command,
                what: what.clone(),
            });
        }
        if state.expiry.is_some_and(|e| e <= soon) {
            let exec = Arc::clone(&self.exec);
            let ran = tokio::task::spawn_blocking(move || run(&exec))
                .await
                .map_err(|e| PluginError {
                    command,
                    what: format!("did not finish: {e}"),
                })
                .and_then(|r| r);
            let fresh = match ran {
                Ok(fresh) => fresh,
                Err(e) => {
                    state.failed = Some(e.what.clone());
                    return Err(e);
                }
            };
            match fresh {
                Credential::Token { token, expiry } => {
                    *state = TokenState {
                        token,
                        expiry,
                        failed: None,
                    }
                }
                Credential::Certificate { .. } => {
                    return Err(PluginError {
                        command: self.exec.command.clone().unwrap_or_default(),
                        what: "answered a refresh with a client certificate where it gave a token before".into(),
                    });
                }
            }
        }
        let mut value =
            http::HeaderValue::try_from(format!("Bearer {}", state.token)).map_err(|_| {
                PluginError {
                    command: self.exec.command.clone().unwrap_or_default(),
                    what: "printed a token that cannot be sent in a header".into(),
                }
            })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl<S> tower::Layer<S> for ExecAuth {
    type Service = WithExecAuth<S>;
    fn layer(&self, inner: S) -> WithExecAuth<S> {
        WithExecAuth {
            inner,
            auth: self.clone(),
        }
    }
}

#[derive(Clone)]
pub(super) struct WithExecAuth<S> {
    inner: S,
    auth: ExecAuth,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> tower::Service<http::Request<B>> for WithExecAuth<S>
where
    S: tower::Service<http::Request<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<S::Response, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The ready service is the one to call (tower's rule); a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.0.clone();
        Box::pin(async move {
            if let Some(plugin) = auth {
                let value = plugin.header().await.map_err(|e| Box::new(e) as BoxError)?;
                req.headers_mut().insert(http::header::AUTHORIZATION, value);
            }
            inner.call(req).await
        })
    }
}
