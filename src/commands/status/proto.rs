//! Pods read as protobuf, the API server's native encoding for built-in kinds: for 6,000 pods,
//! 28 MB instead of 86 MB of JSON, and the server encodes them 5 to 15 times faster, which is
//! most of `status -A`'s wait (docs/performance.md). kube-rs speaks JSON only, so the LIST goes
//! out through `Client::send` with protobuf in `Accept`, and the answer is unwrapped here: the
//! `k8s\0` magic, the `runtime.Unknown` envelope, then a `PodList`.
//!
//! The messages declare only the fields the derivation reads, with the tags of
//! k8s.io/api/core/v1/generated.proto; prost skips every other field (managedFields, the
//! containers' specs) without building it. Anything but a protobuf list in answer (an error,
//! a server or proxy that answers JSON) returns `None`, and the caller lists as JSON, where
//! errors are reported as for every other kind.

use std::collections::BTreeMap;

use http_body_util::BodyExt;
use kube::api::ListParams;
use prost::Message;

/// The content type of the API server's protobuf encoding.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
/// Every protobuf answer starts with these four bytes.
const MAGIC: &[u8] = b"k8s\0";

/// `KUBECTL_FEAST_SIMPLE=protobuf` lists pods as JSON, as before this encoding was used
/// (`crate::fast`).
pub fn enabled() -> bool {
    crate::fast::Fast::Protobuf.on()
}

/// k8s.io/apimachinery `runtime.Unknown`: the envelope around every protobuf object.
#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
struct ListMeta {
    #[prost(string, optional, tag = "3")]
    continue_: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct PodList {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ListMeta>,
    #[prost(message, repeated, tag = "2")]
    items: Vec<Pod>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Pod {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<PodSpec>,
    #[prost(message, optional, tag = "3")]
    pub status: Option<PodStatus>,
}

/// The metadata `PodInfo` reads: a pod's store is its `feast.dev/name` label.
#[derive(Clone, PartialEq, Message)]
pub struct ObjectMeta {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub namespace: Option<String>,
    #[prost(message, optional, tag = "8")]
    pub creation_timestamp: Option<Time>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Time {
    #[prost(int64, optional, tag = "1")]
    pub seconds: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    pub nanos: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodSpec {
    #[prost(string, optional, tag = "10")]
    pub node_name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodStatus {
    #[prost(string, optional, tag = "1")]
    pub phase: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub conditions: Vec<PodCondition>,
    #[prost(message, repeated, tag = "8")]
    pub container_statuses: Vec<ContainerStatus>,
    #[prost(message, repeated, tag = "10")]
    pub init_container_statuses: Vec<ContainerStatus>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodCondition {
    #[prost(string, optional, tag = "1")]
    pub type_: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub status: Option<String>,
    #[prost(string, optional, tag = "5")]
    pub reason: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub message: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ContainerStatus {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub state: Option<ContainerState>,
    #[prost(int32, optional, tag = "5")]
    pub restart_count: Option<i32>,
}

/// Running (tag 2) is left out: only waiting and terminated explain a pod that is not ready.
#[derive(Clone, PartialEq, Message)]
pub struct ContainerState {
    #[prost(message, optional, tag = "1")]
    pub waiting: Option<Waiting>,
    #[prost(message, optional, tag = "3")]
    pub terminated: Option<Terminated>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Waiting {
    #[prost(string, optional, tag = "1")]
    pub reason: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub message: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Terminated {
    #[prost(int32, optional, tag = "1")]
    pub exit_code: Option<i32>,
    #[prost(string, optional, tag = "3")]
    pub reason: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub message: Option<String>,
}

/// The pods of one protobuf LIST answer, and the token of the next page.
fn decode_page(body: &[u8]) -> Option<(Vec<Pod>, Option<String>)> {
    let envelope = Unknown::decode(body.strip_prefix(MAGIC)?).ok()?;
    let list = PodList::decode(envelope.raw.as_deref().unwrap_or_default()).ok()?;
    let next = list
        .metadata
        .and_then(|m| m.continue_)
        .filter(|t| !t.is_empty());
    Some((list.items, next))
}

/// The next page's token, read from the first bytes of an answer: a list's `ListMeta` is its
/// field 1, encoded before the items, so the next page can be asked for while this one is still
/// arriving. `None`: not enough bytes yet, or not the shape expected (the whole answer then
/// decides); `Some(None)`: this is the last page.
fn next_token_early(prefix: &[u8]) -> Option<Option<String>> {
    use prost::encoding::{WireType, decode_key, decode_varint};
    let mut buf = prefix.strip_prefix(MAGIC)?;
    // runtime.Unknown: typeMeta (1), then raw (2), which holds the list.
    loop {
        let (tag, wire) = decode_key(&mut buf).ok()?;
        if wire != WireType::LengthDelimited {
            return None;
        }
        let len = usize::try_from(decode_varint(&mut buf).ok()?).ok()?;
        if tag == 2 {
            break;
        }
        buf = buf.get(len..)?;
    }
    let (tag, wire) = decode_key(&mut buf).ok()?;
    if tag != 1 || wire != WireType::LengthDelimited {
        return None;
    }
    let len = usize::try_from(decode_varint(&mut buf).ok()?).ok()?;
    let meta = ListMeta::decode(buf.get(..len)?).ok()?;
    Some(meta.continue_.filter(|t| !t.is_empty()))
}

type Answer = tokio::task::JoinHandle<Option<http::Response<kube::client::Body>>>;

/// Sends one page's LIST, asking for protobuf, on its own task: it proceeds while the caller
/// reads the page before it.
fn ask(client: &kube::Client, path: &str, lp: &ListParams) -> Option<Answer> {
    let mut req = kube::core::Request::new(path).list(lp).ok()?;
    let accept = format!("{PROTOBUF}, application/json");
    req.headers_mut()
        .insert(http::header::ACCEPT, accept.parse().ok()?);
    let client = client.clone();
    Some(tokio::spawn(async move {
        client.send(req.map(kube::client::Body::from)).await.ok()
    }))
}

/// Every page of the pods `lp` selects in `namespace` (all with `None`), `page` at a time, as
/// protobuf; `None` if any answer is not a protobuf pod list.
///
/// Pages are pipelined: each answer's token is read from its first bytes, and the next page is
/// asked for then, so the API server prepares it while this one arrives and is decoded; the
/// pods are the longest chain of requests `status` makes (docs/performance.md).
pub async fn list_pods(
    client: &kube::Client,
    namespace: Option<&str>,
    lp: &ListParams,
    page: u32,
) -> Option<Vec<Pod>> {
    let path = <k8s_openapi::api::core::v1::Pod as kube::Resource>::url_path(&(), namespace);
    let lp = lp.clone().limit(page);
    let mut pods = Vec::new();
    let mut pending = ask(client, &path, &lp)?;
    loop {
        let res = pending.await.ok()??;
        let is_protobuf = res
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(PROTOBUF));
        if !res.status().is_success() || !is_protobuf {
            return None;
        }
        let mut body = res.into_body();
        let mut bytes = Vec::new();
        let mut early: Option<(String, Answer)> = None;
        let mut looked = false;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.ok()?.into_data() else {
                continue;
            };
            bytes.extend_from_slice(&data);
            if !looked && let Some(token) = next_token_early(&bytes) {
                looked = true;
                if let Some(token) = token {
                    let next = ask(client, &path, &lp.clone().continue_token(&token))?;
                    early = Some((token, next));
                }
            }
        }
        let (items, next) = decode_page(&bytes)?;
        pods.extend(items);
        pending = match (next, early) {
            (Some(token), Some((asked, answer))) if asked == token => answer,
            (next, early) => {
                if let Some((_, answer)) = early {
                    answer.abort();
                }
                match next {
                    Some(token) => ask(client, &path, &lp.clone().continue_token(&token))?,
                    None => return Some(pods),
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(list: &PodList) -> Vec<u8> {
        let envelope = Unknown {
            raw: Some(list.encode_to_vec()),
        };
        [MAGIC, &envelope.encode_to_vec()].concat()
    }

    #[test]
    fn a_page_is_unwrapped_from_its_envelope() {
        let pod = Pod {
            metadata: Some(ObjectMeta {
                name: Some("p".into()),
                labels: BTreeMap::from([("feast.dev/name".into(), "s".into())]),
                ..ObjectMeta::default()
            }),
            ..Pod::default()
        };
        let list = PodList {
            metadata: Some(ListMeta {
                continue_: Some("next".into()),
            }),
            items: vec![pod.clone(), pod],
        };
        let (pods, next) = decode_page(&answer(&list)).expect("a page");
        assert_eq!(pods.len(), 2);
        assert_eq!(next.as_deref(), Some("next"));
        let last = PodList {
            metadata: Some(ListMeta {
                continue_: Some(String::new()),
            }),
            items: Vec::new(),
        };
        assert_eq!(decode_page(&answer(&last)), Some((Vec::new(), None)));
    }

    #[test]
    fn the_next_token_is_read_from_the_first_bytes() {
        let pod = Pod {
            metadata: Some(ObjectMeta {
                name: Some("p".repeat(100)),
                ..ObjectMeta::default()
            }),
            ..Pod::default()
        };
        let page = |token: &str| {
            answer(&PodList {
                metadata: Some(ListMeta {
                    continue_: Some(token.into()),
                }),
                items: vec![pod.clone(); 50],
            })
        };
        let body = page("next-page");
        // Found well before the items end, and never from too few bytes.
        let first = (0..body.len())
            .find(|&n| next_token_early(&body[..n]).is_some())
            .expect("found in a prefix");
        assert!(first < 40, "read {first} of {} bytes", body.len());
        assert_eq!(
            next_token_early(&body[..first]),
            Some(Some("next-page".into()))
        );
        assert_eq!(next_token_early(&page("")), Some(None), "the last page");
        assert_eq!(next_token_early(b"{\"kind\": \"PodList\"}"), None, "JSON");
        assert_eq!(next_token_early(b"k8s\0\xff\xff"), None, "not the shape");
    }

    #[test]
    fn anything_but_a_protobuf_list_is_declined() {
        assert_eq!(decode_page(b"{\"kind\": \"PodList\"}"), None, "JSON");
        assert_eq!(decode_page(b"k8s\0\xff\xff\xff"), None, "cut short");
        assert_eq!(decode_page(b""), None, "empty");
    }
}
