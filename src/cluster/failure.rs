//! One classification of API failures for every command: what a `kube::Error` means
//! ([`Failure`]), its cause below HTTP ([`Cause`]), and the actionable message with its exit
//! code ([`Cluster::api_error`]).

use super::Cluster;
use crate::error::Error;
use crate::featurestore::RESOURCE;

impl Cluster {
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
            Cause::TooLarge => Error::incomplete(format!(
                "cannot {doing}: the answer of the API server {server} (context {context:?}) was too large: {detail}"
            ))
            .with_hint("a real API server never answers this much: look at the proxy or load balancer in front of it, or whether --server/--context point at an API server at all"),
            Cause::CutOff => Error::incomplete(format!(
                "cannot {doing}: the answer of the API server {server} (context {context:?}) was cut off before its end ({detail})"
            ))
            .with_hint("retry; if it keeps happening, look at the proxy or load balancer in front of the API server, or its load"),
            Cause::Tls => Error::incomplete(format!(
                "cannot {doing}: TLS with the API server {server} failed: {detail}"
            ))
            .with_hint(if detail.contains("received corrupt message") {
                // A TLS client reading a plain-HTTP answer: not a certificate matter.
                format!(
                    "{server} answers in plain HTTP, not TLS: check the server's scheme and port in context {context:?} (or --server)"
                )
            } else {
                format!(
                    "the server's certificate is not trusted by the certificate-authority of context {context:?}: fix certificate-authority(-data) in the kubeconfig, or pick the right --context"
                )
            }),
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
    /// The answer grew past [`super::MAX_ANSWER_BYTES`].
    TooLarge,
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
            match e.downcast_ref::<super::Exceeded>() {
                Some(super::Exceeded::Deadline(_)) => return Some(Cause::Timeout),
                Some(super::Exceeded::Size(_)) => return Some(Cause::TooLarge),
                None => {}
            }
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
            if e.downcast_ref::<kube::client::AuthError>().is_some()
                || e.downcast_ref::<super::credentials::PluginError>()
                    .is_some()
            {
                return Some(Cause::Credentials);
            }
            let text = e.to_string().to_lowercase();
            if text.contains("timed out") || text.contains("deadline has elapsed") {
                Some(Cause::Timeout)
            } else if text.contains("certificate")
                || text.contains("tls")
                || text.contains("handshake")
                // rustls reading a plain-HTTP answer where a TLS record was due.
                || text.contains("received corrupt message")
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
        // A credential plugin's failure in its own words, never kube's (which quote the
        // plugin's stdout and environment).
        let detail = chain
            .iter()
            .find_map(|e| e.downcast_ref::<super::credentials::PluginError>())
            .map(|e| e.to_string())
            .or_else(|| credential_failure(err))
            .or_else(|| chain.last().map(|e| e.to_string()))
            .unwrap_or_default();
        let detail = crate::redact::text(&detail).into_owned();
        (kind.unwrap_or(Cause::Other), detail)
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
    let text = match err {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => match Cause::of(other) {
            (Cause::Credentials, detail) => detail,
            _ => other.to_string(),
        },
    };
    crate::redact::text(&text).into_owned()
}

/// Whether a 404's message says the resource itself is not served (its CRD is not installed),
/// rather than that one object is missing. A list answers with a Status ("the server could not
/// find the requested resource"); a get by name gets a bare "404 page not found" body.
pub fn is_unserved_resource(message: &str) -> bool {
    message.contains("could not find the requested resource")
        || message.trim() == "404 page not found"
}

/// A credential that could not be obtained (an exec plugin that failed, a token file that
/// cannot be read), in words, with the plugin's own stderr; `None` for any other failure.
pub(super) fn credential_failure(err: &(dyn std::error::Error + 'static)) -> Option<String> {
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
                // Its text quotes the plugin's answer, token and all.
                AuthError::AuthExecParse(_) => {
                    "the credential plugin printed something that is not an ExecCredential".into()
                }
                other => other.to_string(),
            });
        }
        next = e.source();
    }
    None
}
