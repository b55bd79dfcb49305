//! A fault-injecting proxy between the plugin and the real API server: plain HTTP on loopback
//! in front, the admin's kube `Client` behind (TLS and credentials as the test kubeconfig has
//! them). Each request either passes or meets the first [`Rule`] that matches it, so a test
//! can make exactly one look-up fail, stall a call past `--request-timeout`, or let a write
//! through and lose its answer, and then check what the plugin says and what was stored.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What happens to a matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this HTTP status and a Kubernetes `Status` body; nothing is forwarded.
    Status(u16),
    /// Never answer (until the client gives up); nothing is forwarded.
    Stall,
    /// Forward the request (the server acts on it), then close the connection without the
    /// answer: a write whose outcome the client never learns.
    ForwardThenDrop,
    /// Forward the request (the server acts on it), then answer with this HTTP status instead
    /// of the server's answer: a gateway timeout (504) after the write was stored.
    ForwardThenStatus(u16),
    /// Close the connection at once; nothing is forwarded.
    Reset,
    /// Forward the request, then send the answer's headers and only the first half of its
    /// body, and close: a truncated body.
    Truncate,
}

/// A fault for requests whose method and path match.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `GET`, `PATCH`, ...; `None` for any method.
    pub method: Option<&'static str>,
    /// A part of the path (with the query), e.g. `/scaledobjects`.
    pub path_contains: &'static str,
    pub fault: Fault,
    /// How many requests it applies to before it stops matching (`None`: all).
    pub times: Option<u32>,
    /// How many matching requests pass untouched before it applies.
    pub skip: u32,
}

impl Rule {
    pub fn new(method: Option<&'static str>, path_contains: &'static str, fault: Fault) -> Rule {
        Rule {
            method,
            path_contains,
            fault,
            times: None,
            skip: 0,
        }
    }

    pub fn once(mut self) -> Rule {
        self.times = Some(1);
        self
    }

    /// Lets the first `n` matching requests pass.
    pub fn after(mut self, n: u32) -> Rule {
        self.skip = n;
        self
    }
}

/// A running proxy; it lives as long as the test process.
pub struct FaultProxy {
    /// A kubeconfig whose only context, `proxied`, points at the proxy.
    pub kubeconfig: PathBuf,
    /// Every request the proxy saw: `METHOD path`.
    pub seen: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl FaultProxy {
    /// Starts a proxy in front of the cluster behind `kubeconfig` (as its current context).
    pub fn start(kubeconfig: &std::path::Path, rules: Vec<Rule>) -> FaultProxy {
        let kubeconfig = kubeconfig.to_path_buf();
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = std_listener.local_addr().expect("local address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rules = Arc::new(Mutex::new(rules));
        let (seen2, rules2) = (Arc::clone(&seen), Arc::clone(&rules));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let kc = kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig");
                let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                    .await
                    .expect("kube config");
                let client = kube::Client::try_from(config).expect("kube client");
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (client, seen, rules) =
                        (client.clone(), Arc::clone(&seen2), Arc::clone(&rules2));
                    tokio::spawn(async move {
                        let _ = serve(stream, client, seen, rules).await;
                    });
                }
            });
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kubeconfig");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: proxied\nclusters:\n- name: proxy\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: proxied\n  context: {{cluster: proxy, user: anyone}}\nusers:\n- name: anyone\n  user: {{}}\n"
            ),
        )
        .expect("write the proxy kubeconfig");
        FaultProxy {
            kubeconfig: path,
            seen,
            _dir: dir,
        }
    }

    /// The requests seen so far whose line contains `part`.
    pub fn requests(&self, part: &str) -> Vec<String> {
        self.seen
            .lock()
            .map(|s| s.iter().filter(|l| l.contains(part)).cloned().collect())
            .unwrap_or_default()
    }
}

/// Serves one connection: one request, then the connection closes (`Connection: close`), so
/// that every request is looked at on its own.
async fn serve(
    mut stream: TcpStream,
    client: kube::Client,
    seen: Arc<Mutex<Vec<String>>>,
    rules: Arc<Mutex<Vec<Rule>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (
        first.next().unwrap_or_default().to_string(),
        first.next().unwrap_or_default().to_string(),
    );
    let mut headers = Vec::new();
    let mut length = 0usize;
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    if let Ok(mut s) = seen.lock() {
        s.push(format!("{method} {path}"));
    }
    let fault = rules.lock().ok().and_then(|mut rules| {
        let rule = rules.iter_mut().find(|r| {
            r.method.is_none_or(|m| m == method)
                && path.contains(r.path_contains)
                && r.times.is_none_or(|t| t > 0)
        })?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        if let Some(t) = rule.times.as_mut() {
            *t -= 1;
        }
        Some(rule.fault.clone())
    });
    let status_only = |code: u16| {
        let body = format!(
            "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"injected fault: HTTP {code}\",\"code\":{code}}}"
        );
        format!(
            "HTTP/1.1 {code} Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    match fault {
        Some(Fault::Status(code)) => {
            let body = format!(
                "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"injected fault: HTTP {code}\",\"code\":{code}}}"
            );
            let reason = if code == 500 {
                "Internal Server Error"
            } else {
                "Error"
            };
            // A 429 says when to come back, as the API server's priority and fairness does.
            let retry_after = if code == 429 {
                "Retry-After: 1\r\n"
            } else {
                ""
            };
            let out = format!(
                "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n{retry_after}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(out.as_bytes()).await?;
            return stream.shutdown().await;
        }
        Some(Fault::Stall) => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            return Ok(());
        }
        Some(Fault::Reset) => return Ok(()),
        _ => {}
    }
    let mut request = http::Request::builder()
        .method(method.as_str())
        .uri(path.as_str());
    for (k, v) in &headers {
        if !["host", "connection", "content-length"].contains(&k.to_ascii_lowercase().as_str()) {
            request = request.header(k, v);
        }
    }
    let request = request
        .body(kube::client::Body::from(body))
        .map_err(std::io::Error::other)?;
    let response = match client.send(request).await {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("proxy: upstream failed: {e}");
            let out = format!(
                "HTTP/1.1 502 Bad Gateway\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
                msg.len()
            );
            stream.write_all(out.as_bytes()).await?;
            return stream.shutdown().await;
        }
    };
    if matches!(fault, Some(Fault::ForwardThenDrop)) {
        // The server has acted; the client never hears of it.
        return Ok(());
    }
    if let Some(Fault::ForwardThenStatus(code)) = fault {
        // The server has acted; the client hears a failure.
        stream.write_all(status_only(code).as_bytes()).await?;
        return stream.shutdown().await;
    }
    if matches!(fault, Some(Fault::Truncate)) {
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            parts.status.as_u16(),
            parts.status.canonical_reason().unwrap_or(""),
            bytes.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&bytes[..bytes.len() / 2]).await?;
        return stream.shutdown().await;
    }
    let (parts, mut body) = response.into_parts();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("")
    );
    for (k, v) in &parts.headers {
        let k = k.as_str();
        if !["connection", "content-length", "transfer-encoding"].contains(&k) {
            out.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap_or_default()));
        }
    }
    out.push_str("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    stream.write_all(out.as_bytes()).await?;
    // Streamed chunk by chunk, so that watches work through the proxy too.
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            stream
                .write_all(format!("{:x}\r\n", data.len()).as_bytes())
                .await?;
            stream.write_all(&data).await?;
            stream.write_all(b"\r\n").await?;
            stream.flush().await?;
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.shutdown().await
}
