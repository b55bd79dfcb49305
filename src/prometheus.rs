//! The Prometheus HTTP API, as `history` and `recommend` read a store's record from it: at a
//! URL (`--prometheus`, `KUBECTL_FEAST_PROMETHEUS`), or found in the cluster and reached through
//! the API server's service proxy (the caller's credentials, nothing exposed). Only
//! `/api/v1/query_range`, one bounded query per series ([`crate::record::step_for`]).

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Args;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use serde::Deserialize;

use crate::cluster::{Cluster, Failure};
use crate::error::{Error, Result};
use crate::record::{Point, Query, Series};

/// Where the record is.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Prometheus")]
pub struct PrometheusArgs {
    /// The Prometheus to read the store's record from (e.g. http://prometheus.monitoring:9090);
    /// default: a Service labelled app.kubernetes.io/name=prometheus, through the API server
    #[arg(long, value_name = "URL", env = "KUBECTL_FEAST_PROMETHEUS")]
    pub prometheus: Option<String>,
}

/// One series of an answer: its labels and its points.
type Labelled = (BTreeMap<String, String>, Vec<Point>);

/// A Prometheus to ask.
pub struct Prometheus {
    client: kube::Client,
    /// The path before `/api/v1/...`: the URL's own path, or the service proxy's.
    base: String,
    /// How it is named in messages: the URL, or `service NS/NAME (through the API server)`.
    pub shown: String,
}

impl Prometheus {
    /// The Prometheus at `url` (http or https; a path prefix is kept), each request bounded by
    /// `timeout`.
    pub fn at(url: &str, timeout: Duration) -> Result<Prometheus> {
        let bad = |why: String| {
            Error::usage(format!(
                "--prometheus {url:?} is not a URL Prometheus answers at: {why}"
            ))
            .with_hint("give the base URL, e.g. --prometheus http://prometheus.monitoring:9090")
        };
        let uri: http::Uri = url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| bad(format!("{e}")))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(bad("it needs a scheme and a host (http://HOST:PORT)".into()));
        };
        if !matches!(scheme, "http" | "https") {
            return Err(bad(format!("the scheme is {scheme:?}, not http or https")));
        }
        let root: http::Uri = format!("{scheme}://{authority}")
            .parse()
            .map_err(|e| bad(format!("{e}")))?;
        let mut config = kube::Config::new(root);
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        let client = kube::Client::try_from(config)
            .map_err(|e| Error::incomplete(format!("cannot make a client for {url}: {e}")))?;
        Ok(Prometheus {
            client,
            base: uri.path().trim_end_matches('/').to_string(),
            shown: url.to_string(),
        })
    }

    /// A Prometheus Service of the cluster, reached through the API server's service proxy.
    pub fn through(cluster: &Cluster, namespace: &str, name: &str, port: &str) -> Prometheus {
        Prometheus {
            client: cluster.client.clone(),
            base: format!("/api/v1/namespaces/{namespace}/services/{name}:{port}/proxy"),
            shown: format!("service {namespace}/{name} (through the API server)"),
        }
    }

    /// The URL given, else a Service the cluster has labelled `app.kubernetes.io/name=prometheus`
    /// (the label the Prometheus Operator and the community chart put on theirs), the one in
    /// the store's namespace first; `Err` with why when there is none, or Services may not be
    /// listed (the API server's answer). A URL's requests end at `timeout` (`--request-timeout`),
    /// else after 30 s; the service proxy's are the cluster client's.
    pub async fn find(
        args: &PrometheusArgs,
        cluster: &Cluster,
        timeout: Option<Duration>,
    ) -> Result<std::result::Result<Prometheus, String>> {
        if let Some(url) = &args.prometheus {
            let timeout = timeout.unwrap_or(Duration::from_secs(30));
            return Prometheus::at(url, timeout).map(Ok);
        }
        let api: Api<Service> = Api::all(cluster.client.clone());
        let lp = ListParams::default().labels("app.kubernetes.io/name=prometheus");
        let services = match api.list(&lp).await {
            Ok(list) => list.items,
            Err(e) if Failure::of(&e).answered() => {
                return Ok(Err(format!(
                    "services could not be listed to find one ({})",
                    crate::cluster::reason(&e)
                )));
            }
            Err(e) => {
                return Err(cluster.read_error(
                    e,
                    "list services labelled app.kubernetes.io/name=prometheus",
                ));
            }
        };
        let mut found: Vec<(bool, String, String, String)> = services
            .iter()
            .filter_map(|s| {
                let ns = s.metadata.namespace.clone()?;
                let name = s.metadata.name.clone()?;
                let ports = s.spec.as_ref()?.ports.as_ref()?;
                let port = ports
                    .iter()
                    .find(|p| p.name.as_deref() == Some("web") || p.port == 9090)
                    .or(ports.first())?;
                let port = port.name.clone().unwrap_or_else(|| port.port.to_string());
                Some((ns != cluster.namespace, ns, name, port))
            })
            .collect();
        found.sort();
        Ok(found
            .first()
            .map(|(_, ns, name, port)| Prometheus::through(cluster, ns, name, port))
            .ok_or_else(|| "no Service is labelled app.kubernetes.io/name=prometheus".to_string()))
    }

    /// Each query over `[start, end]` at `step`: the series it gave (their labels, their
    /// points), in the order asked. A query Prometheus refuses is an error naming it.
    pub async fn ranges(
        &self,
        queries: &[Query],
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<Series>> {
        let answers = futures::future::join_all(
            queries
                .iter()
                .map(|q| self.range(&q.promql, start, end, step)),
        )
        .await;
        let mut out = Vec::new();
        for (q, answer) in queries.iter().zip(answers) {
            for (labels, points) in answer? {
                out.push(Series {
                    name: q.name,
                    about: q.about.to_string(),
                    labels,
                    points,
                });
            }
        }
        Ok(out)
    }

    async fn range(
        &self,
        promql: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<Labelled>> {
        let query = form(&[
            ("query", promql),
            ("start", &start.as_second().to_string()),
            ("end", &end.as_second().to_string()),
            ("step", &format!("{}s", step.as_secs().max(1))),
        ]);
        let path = format!("{}/api/v1/query_range?{query}", self.base);
        let request = http::Request::get(&path)
            .body(Vec::new())
            .map_err(|e| Error::incomplete(format!("cannot ask {}: {e}", self.shown)))?;
        let text = self.client.request_text(request).await.map_err(|e| {
            Error::incomplete(format!(
                "cannot read the record from Prometheus at {}: {}",
                self.shown,
                why(&e)
            ))
            .with_hint("check the URL with `curl URL/api/v1/status/buildinfo`, or pass another with --prometheus")
        })?;
        parse(&text).map_err(|why| {
            Error::incomplete(format!(
                "Prometheus at {} did not answer the query {promql:?} as its API does: {why}",
                self.shown
            ))
        })
    }
}

/// What went wrong, by its real cause: an answer (its status), or below HTTP (refused, timed
/// out, TLS, DNS), with the most specific message of the chain.
fn why(e: &kube::Error) -> String {
    use crate::cluster::Cause;
    if let kube::Error::Api(s) = e {
        return format!("it answered {} ({})", s.message, s.code);
    }
    let (cause, detail) = Cause::of(e);
    let said = match cause {
        Cause::Refused => format!("it refused the connection ({detail})"),
        Cause::Timeout => format!("it did not answer in time ({detail})"),
        Cause::Tls => format!("the TLS connection failed ({detail})"),
        Cause::Dns => format!("its host name did not resolve ({detail})"),
        _ => detail,
    };
    crate::redact::text(&said).into_owned()
}

/// `application/x-www-form-urlencoded`, as a query string.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: Vec<Matrix>,
}

#[derive(Deserialize)]
struct Matrix {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

/// A `query_range` answer: its matrix, each value read as a number (`NaN` and infinities are
/// left out: they are no measurement).
fn parse(text: &str) -> std::result::Result<Vec<Labelled>, String> {
    let answer: Answer = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if answer.status != "success" {
        return Err(answer
            .error
            .unwrap_or_else(|| format!("status {}", answer.status)));
    }
    let data = answer.data.ok_or("no data")?;
    if data.result_type != "matrix" {
        return Err(format!(
            "a {} where a matrix was asked for",
            data.result_type
        ));
    }
    Ok(data
        .result
        .into_iter()
        .map(|m| {
            let points = m
                .values
                .into_iter()
                .filter_map(|(t, v)| {
                    let value: f64 = v.parse().ok().filter(|v: &f64| v.is_finite())?;
                    Some(Point {
                        time: t as i64,
                        value,
                    })
                })
                .collect();
            (m.metric, points)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_reads_with_its_labels_and_no_nan() {
        let text = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"horizontalpodautoscaler":"feast-a"},"values":[[1700000000,"2"],[1700000005,"NaN"],[1700000010,"3"]]}]}}"#;
        let got = parse(text).expect("parsed");
        assert_eq!(got[0].0["horizontalpodautoscaler"], "feast-a");
        assert_eq!(
            got[0].1,
            [
                Point {
                    time: 1_700_000_000,
                    value: 2.0
                },
                Point {
                    time: 1_700_000_010,
                    value: 3.0
                }
            ]
        );
        let refused =
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        assert_eq!(
            parse(refused).expect_err("refused"),
            "parse error at char 3"
        );
        assert!(parse("<html>").is_err());
    }

    #[test]
    fn the_query_string_is_form_encoded() {
        assert_eq!(
            form(&[("query", r#"up{job="k s"}"#), ("step", "5s")]),
            "query=up%7Bjob%3D%22k%20s%22%7D&step=5s"
        );
    }

    #[test]
    fn a_url_needs_a_scheme_and_a_host() {
        assert!(Prometheus::at("prometheus:9090", Duration::from_secs(1)).is_err());
        assert!(Prometheus::at("ftp://p:21", Duration::from_secs(1)).is_err());
    }
}
