//! How fast `validate` works through a large manifest set: parsing 2,000 FeatureStores of
//! multi-document YAML and the same as one JSON `kind: List` (both with line tracking), running
//! every rule on them, and the whole report. Run with `cargo bench --bench validate`; figures
//! are recorded in docs/performance.md.

use criterion::{Criterion, criterion_group, criterion_main};
use kubectl_feast::manifests::parse_documents;
use kubectl_feast::{commands::validate::files_report, rules};

/// 2,000 FeatureStores cycling through the bundled examples, renamed so each is distinct.
fn corpus() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut sources = Vec::new();
    for name in [
        "static-redis",
        "hpa-remote-registry",
        "s3-registry",
        "single-default",
        "pdb-needs-attention",
        "unsafe/hpa-mistakes",
        "unsafe/file-persistence-scaled",
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{name}.yaml")).expect("example");
        let fs_doc = text
            .split("\n---\n")
            .find(|d| d.contains("kind: FeatureStore"))
            .expect("a FeatureStore")
            .to_string();
        sources.push(fs_doc);
    }
    (0..2000)
        .map(|i| {
            let doc = &sources[i % sources.len()];
            doc.replacen("  name: ", &format!("  name: s{i}-"), 1)
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn bench(c: &mut Criterion) {
    let text = corpus();
    let docs = parse_documents("bench.yaml", &text).expect("parses");
    assert_eq!(docs.len(), 2000);
    // What `kubectl get feast -A -o json` prints: one List, indented by 4 as kubectl does.
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": docs.iter().map(|d| d.value.clone()).collect::<Vec<_>>(),
    });
    let mut json = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut json,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    serde::Serialize::serialize(&list, &mut ser).expect("serialises");
    let json = String::from_utf8(json).expect("UTF-8");
    assert_eq!(
        parse_documents("bench.json", &json).expect("parses").len(),
        2000
    );
    let mut group = c.benchmark_group("validate-2000-featurestores");
    group.sample_size(20);
    group.bench_function("parse", |b| {
        b.iter(|| parse_documents("bench.yaml", &text).map(|d| d.len()))
    });
    group.bench_function("parse-json", |b| {
        b.iter(|| parse_documents("bench.json", &json).map(|d| d.len()))
    });
    group.bench_function("rules", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| rules::check(&d.value).len())
                .sum::<usize>()
        })
    });
    group.bench_function("report", |b| {
        b.iter(|| files_report(&docs, None, None).summary.invalid)
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
