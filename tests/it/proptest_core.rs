//! Property tests of the pure core: the manifest reader, the rules and the patch planner, on
//! generated input. The normal test run tries 256 cases per property; the long run sets
//! `PROPTEST_CASES` (its figures are in docs/reliability.md):
//!
//!     PROPTEST_CASES=10000 cargo test --test it proptest_core
//!
//! A failing case proptest finds is shrunk and saved under `tests/it/proptest_core.proptest-regressions`
//! (kept in git and replayed first on every run); the crash it exposed also becomes a named test
//! below.

use kubectl_feast::manifests::parse_documents;
use kubectl_feast::plan::{self, AutoscalingRequest, PdbPolicy};
use kubectl_feast::rules;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

/// Keys a FeatureStore has, and some it doesn't, so generated objects reach the rules' paths.
const KEYS: &[&str] = &[
    "spec",
    "services",
    "scaling",
    "autoscaling",
    "minReplicas",
    "maxReplicas",
    "metrics",
    "behavior",
    "replicas",
    "podDisruptionBudgets",
    "minAvailable",
    "maxUnavailable",
    "onlineStore",
    "offlineStore",
    "registry",
    "local",
    "remote",
    "persistence",
    "file",
    "store",
    "type",
    "secretRef",
    "name",
    "path",
    "server",
    "deploymentStrategy",
    "feastProject",
    "topologySpreadConstraints",
    "affinity",
    "resources",
    "requests",
    "cpu",
    "x",
    "",
];

/// Any JSON value: scalars of every type (numbers at the edges, strings that look like
/// numbers, percentages and YAML's special words), arrays and objects over the keys above.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-3i64..12).prop_map(Value::from),
        prop_oneof![Just(f64::MAX), Just(-0.5), Just(1.5), Just(1e300)].prop_map(|f| json!(f)),
        prop_oneof![
            Just("50%".to_string()),
            Just("150%".to_string()),
            Just("-1%".to_string()),
            Just("%".to_string()),
            Just("3".to_string()),
            Just("Recreate".to_string()),
            Just("RollingUpdate".to_string()),
            Just("sql".to_string()),
            Just("redis".to_string()),
            Just("postgres".to_string()),
            Just("snowflake.offline".to_string()),
            Just("null".to_string()),
            Just("~".to_string()),
            "\\PC{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A FeatureStore whose spec is shaped like the real one, with any value in any field.
fn any_featurestore() -> impl Strategy<Value = Value> {
    (
        any_value(),
        any_value(),
        any_value(),
        any_value(),
        any_value(),
        prop::option::of(0i64..6),
    )
        .prop_map(|(autoscaling, pdb, online, registry, extra, replicas)| {
            let mut spec = json!({
                "feastProject": "p",
                "services": {
                    "scaling": {"autoscaling": autoscaling},
                    "podDisruptionBudgets": pdb,
                    "onlineStore": online,
                    "registry": registry,
                },
                "extra": extra,
            });
            if let Some(r) = replicas {
                spec["replicas"] = json!(r);
            }
            json!({"apiVersion": "feast.dev/v1", "kind": "FeatureStore",
                   "metadata": {"name": "f", "namespace": "n"}, "spec": spec})
        })
}

/// JSON without nulls and floats, which a merge patch and YAML keep exactly.
fn plain_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..5).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn plain_object() -> impl Strategy<Value = Value> {
    object_of(0..6)
}

fn object_of(size: std::ops::Range<usize>) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(prop::sample::select(KEYS), plain_value(), size)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

/// YAML-ish text: fragments of the syntax that parsers trip on, in any order.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("---\n"),
        Just("...\n"),
        Just("kind: List\nitems:\n"),
        Just("- "),
        Just("  "),
        Just("apiVersion: feast.dev/v1\nkind: FeatureStore\n"),
        Just("metadata: {name: a}\n"),
        Just("spec:\n  replicas: 3\n"),
        Just("&a "),
        Just("*a"),
        Just("<<: *a\n"),
        Just("!!binary "),
        Just("!custom "),
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(": "),
        Just("? "),
        Just("|\n"),
        Just(">-\n"),
        Just("'"),
        Just("\""),
        Just("\t"),
        Just("#"),
        Just("%YAML 1.2\n"),
        Just("\u{feff}"),
        Just("\n"),
        Just("\r\n"),
        Just("0x1F"),
        Just("1e400"),
        Just("null"),
    ];
    prop::collection::vec(
        prop_oneof![piece.prop_map(String::from), "\\PC{0,6}"],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    /// The reader never panics, whatever the text: it returns documents or an error.
    #[test]
    fn the_reader_survives_any_text(text in prop_oneof![yamlish(), "\\PC{0,200}", any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).to_string())]) {
        let _ = parse_documents("fuzz.yaml", &text);
    }

    /// JSON is YAML: an object written as JSON is read back as the same value, and a
    /// `kind: List` of objects as its items.
    #[test]
    fn json_reads_back_as_itself(objects in prop::collection::vec(object_of(1..6), 1..4)) {
        let one = parse_documents("one.json", &objects[0].to_string()).map_err(|e| TestCaseError::fail(e.message))?;
        prop_assert_eq!(one.len(), 1);
        prop_assert_eq!(&one[0].value, &objects[0]);
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
        let docs = parse_documents("list.json", &serde_json::to_string_pretty(&list).unwrap_or_default())
            .map_err(|e| TestCaseError::fail(e.message))?;
        let values: Vec<Value> = docs.into_iter().map(|d| d.value).collect();
        prop_assert_eq!(values, objects);
    }

    /// The rules never panic on any FeatureStore-shaped object, give the same answer twice,
    /// and every finding names a documented rule and a path in the object's spec or metadata.
    #[test]
    fn the_rules_judge_any_object(object in any_featurestore()) {
        let findings = rules::check(&object);
        prop_assert_eq!(&findings, &rules::check(&object));
        for f in &findings {
            prop_assert!(rules::table::RULES.iter().any(|r| r.id == f.rule.as_str()), "undocumented rule {}", f.rule);
            prop_assert!(!f.message.is_empty(), "{} has no message", f.rule);
        }
    }

    /// The rules survive any value at all, not only FeatureStore-shaped ones.
    #[test]
    fn the_rules_survive_any_value(object in any_value()) {
        let _ = rules::check(&object);
    }

    /// RFC 7386: applying the patch between two objects to the first gives the second.
    #[test]
    fn the_patch_between_two_objects_makes_the_second(before in plain_object(), after in plain_object()) {
        let patch = plan::merge_patch_between(&before, &after);
        let mut applied = before.clone();
        plan::merge_patch(&mut applied, &patch);
        prop_assert_eq!(applied, after);
    }

    /// `autoscale`: the stored object has the asked bounds, no replica count of its own
    /// (R1), and keeps every other field of the live block; when min and max are sane the
    /// rules find no autoscaling error in it.
    #[test]
    fn autoscale_sets_exactly_what_was_asked(
        live in any_featurestore(),
        min in prop::option::of(1i64..20),
        max in prop::option::of(1i64..40),
        replace in any::<bool>(),
    ) {
        let request = AutoscalingRequest { min, max, replace, ..AutoscalingRequest::default() };
        let Ok(patch) = plan::autoscale_patch(&request, &live) else {
            // Refused only when no maxReplicas would be left.
            prop_assert!(max.is_none());
            return Ok(());
        };
        let after = plan::patched(&live, &patch);
        let block = &after["spec"]["services"]["scaling"]["autoscaling"];
        if let Some(max) = max { prop_assert_eq!(&block["maxReplicas"], &json!(max)); }
        if let Some(min) = min { prop_assert_eq!(&block["minReplicas"], &json!(min)); }
        prop_assert_eq!(&after["spec"]["replicas"], &json!(1));
        let live_block = &live["spec"]["services"]["scaling"]["autoscaling"];
        if !replace && let Some(fields) = live_block.as_object() {
            for (k, v) in fields {
                if k != "minReplicas" && k != "maxReplicas" && !v.is_null() {
                    prop_assert_eq!(&block[k], v, "kept {}", k);
                }
            }
        }
        if let (Some(min), Some(max)) = (min, max) && min <= max && replace {
            let errors: Vec<_> = rules::check(&after).into_iter()
                .filter(|f| f.severity == rules::Severity::Error && f.path.starts_with("spec.services.scaling.autoscaling"))
                .map(|f| f.rule).collect();
            prop_assert!(errors.is_empty(), "{:?}", errors);
        }
    }

    /// `pdb`: exactly one of the two budget fields is left, or none with --off.
    #[test]
    fn pdb_leaves_exactly_one_budget(live in any_featurestore(), n in 0i64..10, percent in any::<bool>(), which in 0u8..3) {
        let value = if percent { json!(format!("{}%", n * 10)) } else { json!(n) };
        let policy = match which {
            0 => PdbPolicy::MinAvailable(value.clone()),
            1 => PdbPolicy::MaxUnavailable(value.clone()),
            _ => PdbPolicy::Off,
        };
        let after = plan::patched(&live, &plan::pdb_patch(&policy));
        let pdb = &after["spec"]["services"]["podDisruptionBudgets"];
        match policy {
            PdbPolicy::MinAvailable(_) => {
                prop_assert_eq!(&pdb["minAvailable"], &value);
                prop_assert!(pdb.get("maxUnavailable").is_none());
            }
            PdbPolicy::MaxUnavailable(_) => {
                prop_assert_eq!(&pdb["maxUnavailable"], &value);
                prop_assert!(pdb.get("minAvailable").is_none());
            }
            PdbPolicy::Off => prop_assert!(pdb.is_null()),
        }
    }

    /// `scale`: the count is set; with the autoscaling dropped in the same patch no block is left.
    #[test]
    fn scale_sets_the_count(live in any_featurestore(), n in 1i64..100, drop in any::<bool>()) {
        let after = plan::patched(&live, &plan::scale_patch(n, drop));
        prop_assert_eq!(&after["spec"]["replicas"], &json!(n));
        if drop {
            prop_assert!(after["spec"]["services"]["scaling"].get("autoscaling").is_none());
        }
        // --diff of the change never panics and names spec.replicas when it changed.
        let changes = plan::spec_changes(&live, &after);
        if live["spec"]["replicas"] != json!(n) {
            prop_assert!(changes.iter().any(|c| c.path == "spec.replicas"), "{:?}", changes);
        }
    }
}
