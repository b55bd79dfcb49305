//! Real forward proxies on loopback, as a user's bastion or corporate proxy would be: an HTTP
//! CONNECT proxy, the same behind TLS (an `https://` proxy-url), and a SOCKS5 proxy. Each tunnel
//! it opens goes to 127.0.0.1 on the port asked for, whatever host name was asked for, so a
//! kubeconfig can name the API server by a host name only the proxy "resolves"
//! (`kubernetes.default.svc`, one of the serving certificate's names): a request that bypasses
//! the proxy fails on DNS, so the test knows the proxy was really used. Every target asked for
//! is recorded.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which protocol the proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `CONNECT host:port` over plain TCP (`http://` proxy-url).
    Http,
    /// `CONNECT` inside TLS (`https://` proxy-url), served with the API server's own
    /// certificate, so that the cluster's CA (which clients also use for the proxy) trusts it.
    Https,
    /// SOCKS5, no authentication, names resolved by the proxy (`socks5://` proxy-url).
    Socks5,
}

/// A running proxy; it lives as long as the test process.
pub struct Tunnel {
    pub protocol: Protocol,
    pub port: u16,
    /// `host:port` of every tunnel asked for, in order, with `Proxy-Authorization` noted.
    pub targets: Arc<Mutex<Vec<String>>>,
}

impl Tunnel {
    /// Starts a proxy; `pki` is the cluster's pki directory (for the https proxy's certificate).
    pub fn start(protocol: Protocol, pki: &Path) -> Tunnel {
        let tls = (protocol == Protocol::Https).then(|| acceptor(pki));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("local address").port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&targets);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("tunnel runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("tokio listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (seen, tls) = (Arc::clone(&seen), tls.clone());
                    tokio::spawn(async move {
                        let _ = match (protocol, tls) {
                            (Protocol::Https, Some(tls)) => match tls.accept(stream).await {
                                Ok(stream) => connect(stream, seen).await,
                                Err(e) => Err(e),
                            },
                            (Protocol::Socks5, _) => socks5(stream, seen).await,
                            _ => connect(stream, seen).await,
                        };
                    });
                }
            });
        });
        Tunnel {
            protocol,
            port,
            targets,
        }
    }

    /// The proxy's URL, for a kubeconfig's proxy-url or HTTPS_PROXY.
    pub fn url(&self) -> String {
        let scheme = match self.protocol {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Socks5 => "socks5",
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The targets asked for so far.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

fn acceptor(pki: &Path) -> tokio_rustls::TlsAcceptor {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki.join("apiserver.crt"))
            .expect("apiserver.crt")
            .collect::<Result<_, _>>()
            .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(pki.join("apiserver.key")).expect("apiserver.key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Every tunnel ends at loopback: the proxy never reaches beyond this machine.
async fn open(port: u16) -> std::io::Result<TcpStream> {
    TcpStream::connect(("127.0.0.1", port)).await
}

async fn connect<S>(mut stream: S, seen: Arc<Mutex<Vec<String>>>) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await? == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let auth = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
        })
        .map(|(_, v)| format!(" auth={}", v.trim()))
        .unwrap_or_default();
    if let Ok(mut s) = seen.lock() {
        s.push(format!("{target}{auth}"));
    }
    let port = target
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok());
    let (true, Some(port)) = (method == "CONNECT", port) else {
        stream
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return stream.shutdown().await;
    };
    let mut upstream = match open(port).await {
        Ok(u) => u,
        Err(_) => {
            stream
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await?;
            return stream.shutdown().await;
        }
    };
    stream
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    stream.flush().await?;
    tokio::io::copy_bidirectional(&mut stream, &mut upstream).await?;
    Ok(())
}

async fn socks5(mut stream: TcpStream, seen: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut greeting = [0u8; 2];
    stream.read_exact(&mut greeting).await?;
    let mut methods = vec![0u8; greeting[1] as usize];
    stream.read_exact(&mut methods).await?;
    if greeting[0] != 5 || !methods.contains(&0) {
        stream.write_all(&[5, 0xff]).await?;
        return Ok(());
    }
    stream.write_all(&[5, 0]).await?;
    let mut request = [0u8; 4];
    stream.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            stream.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            stream.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).to_string()
        }
        4 => {
            let mut ip = [0u8; 16];
            stream.read_exact(&mut ip).await?;
            std::net::Ipv6Addr::from(ip).to_string()
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    stream.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    if let Ok(mut s) = seen.lock() {
        s.push(format!("{host}:{port}"));
    }
    let mut upstream = match open(port).await {
        Ok(u) => u,
        Err(_) => {
            stream.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            return Ok(());
        }
    };
    stream.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut stream, &mut upstream).await?;
    Ok(())
}
