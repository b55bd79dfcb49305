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
        let line = self.base.as_ref().map(|base| {
            crate::redact::text(&format!("{} {base}{}", req.method(), req.uri())).into_owned()
        });
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
                    Err(e) => eprintln!(
                        "{line} failed after {ms} ms: {}",
                        crate::redact::text(&e.to_string())
                    ),
                }
            }
            result
        })
    }
}

/// The most bytes the answers being read at once may hold together (of a watch, its current
/// event), far above any real total: a LIST page of 500 pods is a few MB, every FeatureStore
/// of a 10,000-store cluster read whole about 60 MB. A server that sends more (a broken proxy,
/// an endless body) is cut off with [`Exceeded::Size`] instead of filling memory until the
/// kernel kills the process; shared, so that `status`'s seven lists at once are bounded as
/// one.
pub const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// Why a request was cut off by [`Bounds`]: the one place such errors are made, and the types
/// [`super::Cause::of`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// `--request-timeout` passed before the whole answer arrived.
    Deadline(Duration),
    /// The answers being read (a watch: its event) grew past [`MAX_ANSWER_BYTES`].
    Size(u64),
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::Deadline(t) => write!(
                f,
                "the whole answer did not arrive within --request-timeout {}",
                crate::cli::show_duration(*t)
            ),
            Exceeded::Size(limit) => write!(
                f,
                "the answer grew past {} MiB, far beyond any real one, and was cut off",
                limit >> 20
            ),
        }
    }
}

impl std::error::Error for Exceeded {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxBody = Box<dyn http_body::Body<Data = bytes::Bytes, Error = BoxError> + Send + Unpin>;

/// `--request-timeout` as kubectl means it: a deadline for the whole request, from sending it
/// to the last byte of its answer (an idle timeout lets a server that sends a byte a second
/// hold the command forever), and a bound on the answer's size. A watch has no deadline (it
/// lasts as long as the command watches) and its bound is per event.
#[derive(Clone)]
pub(super) struct Bounds {
    pub(super) deadline: Option<Duration>,
    pub(super) max_bytes: u64,
    /// The bytes the unfinished answers hold now, together.
    pub(super) held: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<S> tower::Layer<S> for Bounds {
    type Service = Bounded<S>;
    fn layer(&self, inner: S) -> Bounded<S> {
        Bounded {
            inner,
            bounds: self.clone(),
        }
    }
}

#[derive(Clone)]
pub(super) struct Bounded<S> {
    inner: S,
    bounds: Bounds,
}

impl<S, B, R> tower::Service<http::Request<B>> for Bounded<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>, Error = BoxError>,
    S::Future: Send + 'static,
    R: http_body::Body<Data = bytes::Bytes, Error = BoxError> + Send + Unpin + 'static,
{
    type Response = http::Response<BoxBody>;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Self::Response, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let watch = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
        let timeout = self.bounds.deadline.filter(|_| !watch);
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let max_bytes = self.bounds.max_bytes;
        let all_held = std::sync::Arc::clone(&self.bounds.held);
        let answer = self.inner.call(req);
        Box::pin(async move {
            let response = match (deadline, timeout) {
                (Some(at), Some(t)) => tokio::time::timeout_at(at, answer)
                    .await
                    .map_err(|_| Box::new(Exceeded::Deadline(t)) as BoxError)??,
                _ => answer.await?,
            };
            Ok(response.map(|body| {
                Box::new(BoundedBody {
                    inner: body,
                    deadline: deadline
                        .zip(timeout)
                        .map(|(at, t)| (Box::pin(tokio::time::sleep_until(at)), t)),
                    max_bytes,
                    held: 0,
                    all_held,
                    per_event: watch,
                }) as BoxBody
            }))
        })
    }
}

/// An answer's body that fails once its deadline passes or it grows too large.
struct BoundedBody<R> {
    inner: R,
    deadline: Option<(std::pin::Pin<Box<tokio::time::Sleep>>, Duration)>,
    max_bytes: u64,
    /// The bytes this body counts in `all_held`: all of it so far, or of a watch, the current
    /// event's (since its last newline).
    held: u64,
    all_held: std::sync::Arc<std::sync::atomic::AtomicU64>,
    per_event: bool,
}

impl<R> Drop for BoundedBody<R> {
    fn drop(&mut self) {
        self.all_held
            .fetch_sub(self.held, std::sync::atomic::Ordering::Relaxed);
    }
}

impl<R> http_body::Body for BoundedBody<R>
where
    R: http_body::Body<Data = bytes::Bytes, Error = BoxError> + Unpin,
{
    type Data = bytes::Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::result::Result<http_body::Frame<bytes::Bytes>, BoxError>>>
    {
        use std::task::Poll;
        let this = &mut *self;
        if let Some((sleep, t)) = this.deadline.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(Box::new(Exceeded::Deadline(*t)))));
        }
        let frame = match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            // Trailers: nothing to count.
            Err(frame) => return Poll::Ready(Some(Ok(frame))),
        };
        let held = match (this.per_event, data.iter().rposition(|b| *b == b'\n')) {
            (true, Some(last)) => (data.len() - last - 1) as u64,
            _ => this.held.saturating_add(data.len() as u64),
        };
        use std::sync::atomic::Ordering::Relaxed;
        let all = if held >= this.held {
            this.all_held.fetch_add(held - this.held, Relaxed) + (held - this.held)
        } else {
            this.all_held.fetch_sub(this.held - held, Relaxed) - (this.held - held)
        };
        this.held = held;
        if all > this.max_bytes {
            return Poll::Ready(Some(Err(Box::new(Exceeded::Size(this.max_bytes)))));
        }
        Poll::Ready(Some(Ok(http_body::Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
