//! The fast paths, and a switch that takes the simple path each one duplicates instead, so
//! that `bench/run` measures the two side by side (docs/performance.md). A fast path stays only
//! while those figures show a goal needs it.
//!
//! `KUBECTL_FEAST_SIMPLE` is a comma-separated list (or `all`):
//! - `json`: one JSON value read by the hand-written reader (`manifests::json`) → by the YAML
//!   parser, as any other text;
//! - `cut`: a large YAML text cut at document or List item starts and parsed on every core →
//!   parsed in one piece;
//! - `protobuf`: `status`'s pods listed as protobuf (`commands::status::proto`) → as JSON;
//! - `slim`: `status`'s slim shapes of each kind (`commands::status::wire`) → kube's and
//!   k8s-openapi's full types.
//!
//! The outcome never depends on the switch (the tests compare the two where a cluster or a
//! text can tell), only the time and memory it takes.

use std::sync::OnceLock;

/// One fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fast {
    Json,
    Cut,
    Protobuf,
    Slim,
}

impl Fast {
    fn name(self) -> &'static str {
        match self {
            Fast::Json => "json",
            Fast::Cut => "cut",
            Fast::Protobuf => "protobuf",
            Fast::Slim => "slim",
        }
    }

    /// Whether this fast path is taken (it is, unless `KUBECTL_FEAST_SIMPLE` names it).
    pub fn on(self) -> bool {
        static SIMPLE: OnceLock<Vec<String>> = OnceLock::new();
        let simple = SIMPLE.get_or_init(|| {
            std::env::var("KUBECTL_FEAST_SIMPLE")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        });
        !simple.iter().any(|s| s == "all" || s == self.name())
    }
}
