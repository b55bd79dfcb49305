//! The layers every request passes through: bounded retries and the `-v` request log.

use std::time::Duration;

/// Retries on 429, 503 and 504 (honouring Retry-After, capped): at most 3 more attempts within
/// a few seconds. Writes are safe to retry: every patch carries its resourceVersion.
pub(super) fn retry_policy() -> kube::client::retry::RetryPolicy {
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
pub(super) struct RequestLog {
    /// The server's URL when logging is on.
    pub(super) base: Option<String>,
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
pub(super) struct Logged<S> {
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
