//! `validate -o sarif|junit|github`: each read back by its schema or its reader (SARIF 2.1.0's
//! JSON schema, an XML parser, the workflow-command syntax GitHub's runner parses), each with
//! exactly the findings of `-o json`; from files, and from live objects on the real API server.

use crate::support;

use std::collections::BTreeSet;

use serde_json::Value;

fn repo(path: &str) -> String {
    support::repo_root().join(path).display().to_string()
}

/// The plugin with no cluster at all (files only).
fn plugin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_kubectl-feast"));
    c.env("KUBECONFIG", "/nonexistent").env_remove("NO_COLOR");
    c
}

/// The inputs of the file tests: every example, safe and unsafe (KEDA's included), relative to
/// the repository's root, as a CI job names them.
fn inputs() -> Vec<String> {
    vec!["examples".to_string()]
}

fn run(mut cmd: assert_cmd::Command, format: &str) -> (String, i32) {
    let out = cmd.args(["-o", format]).output().expect("run the plugin");
    (
        String::from_utf8(out.stdout).expect("UTF-8 output"),
        out.status.code().unwrap_or(-1),
    )
}

fn validate_files(extra: &[String], format: &str) -> (String, i32) {
    let mut c = plugin();
    c.current_dir(support::repo_root())
        .arg("validate")
        .arg("-f")
        .args(extra);
    run(c, format)
}

/// One finding as every format can state it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    source: String,
    line: Option<u64>,
    rule: String,
    severity: String,
    message: String,
}

fn from_json(report: &Value) -> BTreeSet<Seen> {
    let mut out = BTreeSet::new();
    for r in report["results"].as_array().expect("results") {
        for f in r["findings"].as_array().expect("findings") {
            out.insert(Seen {
                source: r["source"].as_str().unwrap_or_default().to_string(),
                line: f["line"].as_u64().or(r["line"].as_u64()),
                rule: f["rule"].as_str().unwrap_or_default().to_string(),
                severity: f["severity"].as_str().unwrap_or_default().to_string(),
                message: f["message"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    out
}

fn sarif_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo("tests/it/data/sarif-schema-2.1.0.json"))
        .expect("the vendored SARIF 2.1.0 schema");
    // The schema's pattern for `language` (of a run and of a tool component) has a stray `]`,
    // which ECMA-262 (Annex B) reads as a literal and the crate's strict regex check of the
    // schema refuses; escaped, it means the same to both. Nothing else is changed.
    const STRAY: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(STRAY).count(), 2, "the schema changed");
    let text = text.replace(STRAY, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_schema_valid(log: &Value) {
    let errors: Vec<String> = sarif_schema()
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not valid SARIF 2.1.0: {errors:#?}");
}

/// A SARIF log's results as findings; `source` is the artifact's uri (decoded back), or
/// `cluster` for results with a logical location only.
fn from_sarif(log: &Value, live_source: &str) -> BTreeSet<Seen> {
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let mut out = BTreeSet::new();
    for r in run["results"].as_array().expect("results") {
        let rule = r["ruleId"].as_str().expect("ruleId").to_string();
        // ruleIndex points at that rule, which carries the rules table's help text.
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], rule.as_str());
        let help = rules[index]["help"]["text"].as_str().expect("help text");
        let documented = kubectl_feast::rules::table::RULES
            .iter()
            .find(|d| d.id == rule)
            .expect("a documented rule");
        assert!(
            help.starts_with(&documented.catches.replace('`', "")),
            "{help}"
        );
        let severity = match r["level"].as_str().expect("level") {
            "note" => "info",
            other => other,
        };
        let message = r["message"]["text"].as_str().expect("message");
        let message = message.split("\nfix: ").next().unwrap_or_default();
        let physical = &r["locations"][0]["physicalLocation"];
        let source = match physical["artifactLocation"]["uri"].as_str() {
            Some(uri) => uri.replace("%20", " "),
            None => live_source.to_string(),
        };
        out.insert(Seen {
            source,
            line: physical["region"]["startLine"].as_u64(),
            rule,
            severity: severity.to_string(),
            message: message.to_string(),
        });
    }
    out
}

/// Reads workflow commands back as GitHub's runner does: `::NAME k=v,...::DATA`, values
/// unescaped (`%25`, `%0D`, `%0A`, and in properties `%3A`, `%2C`).
/// A workflow command read back: its name, its properties, its data.
type WorkflowCommand = (String, Vec<(String, String)>, String);

fn parse_workflow_command(line: &str) -> Option<WorkflowCommand> {
    let rest = line.strip_prefix("::")?;
    let (head, data) = rest.split_once("::")?;
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').expect("key=value");
            (k.to_string(), unescape(v))
        })
        .collect();
    let data = data
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%");
    Some((name.to_string(), props, data))
}

fn from_github(text: &str, live_source: &str) -> BTreeSet<Seen> {
    let mut out = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with("::")) {
        let (name, props, data) = parse_workflow_command(line).expect("a workflow command");
        let prop = |k: &str| {
            props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let severity = match name.as_str() {
            "error" => "error",
            "warning" => "warning",
            "notice" => "info",
            other => panic!("unexpected command {other}"),
        };
        let title = prop("title").expect("a title");
        let rule = title.split(' ').next().unwrap_or_default().to_string();
        // DATA is `PATH: MESSAGE\nfix: HINT`.
        let first = data.split("\nfix: ").next().unwrap_or_default();
        let message = first.split_once(": ").map(|(_, m)| m).unwrap_or(first);
        out.insert(Seen {
            source: prop("file").unwrap_or_else(|| live_source.to_string()),
            line: prop("line").and_then(|l| l.parse().ok()),
            rule,
            severity: severity.to_string(),
            message: message.to_string(),
        });
    }
    out
}

#[test]
fn sarif_is_valid_sarif_2_1_0_with_the_findings_of_json() {
    let (json, json_code) = validate_files(&inputs(), "json");
    let (sarif, sarif_code) = validate_files(&inputs(), "sarif");
    assert_eq!(
        (json_code, sarif_code),
        (1, 1),
        "invalid examples exit 1 in every format"
    );
    let json: Value = serde_json::from_str(&json).expect("JSON");
    let log: Value = serde_json::from_str(&sarif).expect("-o sarif prints JSON");
    assert_schema_valid(&log);
    assert_eq!(log["version"], "2.1.0");
    let expected = from_json(&json);
    assert!(
        expected.iter().any(|s| s.rule == "keda/targets-deployment"),
        "{expected:#?}"
    );
    assert_eq!(from_sarif(&log, "cluster"), expected);
    // Every rule of docs/rules.md is declared, in the table's order.
    let ids: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let table: Vec<&str> = kubectl_feast::rules::table::RULES
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, table);
}

#[test]
fn the_schema_check_rejects_a_broken_log() {
    // The check above can fail: a result without its message is not SARIF.
    let (sarif, _) = validate_files(&inputs(), "sarif");
    let mut log: Value = serde_json::from_str(&sarif).expect("JSON");
    log["runs"][0]["results"][0]
        .as_object_mut()
        .expect("a result")
        .remove("message");
    assert!(sarif_schema().validate(&log).is_err());
}

#[test]
fn junit_parses_with_one_test_case_per_object_failing_exactly_the_invalid_ones() {
    let (json, _) = validate_files(&inputs(), "json");
    let (xml, code) = validate_files(&inputs(), "junit");
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&json).expect("JSON");
    let doc = roxmltree::Document::parse(&xml).expect("-o junit is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<roxmltree::Node> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let results = json["results"].as_array().expect("results");
    assert_eq!(cases.len(), results.len(), "one test case per object");
    assert_eq!(
        root.attribute("tests"),
        Some(results.len().to_string().as_str())
    );
    let invalid = results.iter().filter(|r| r["valid"] == false).count();
    assert_eq!(
        root.attribute("failures"),
        Some(invalid.to_string().as_str())
    );
    for (case, r) in cases.iter().zip(results) {
        let ns = r["namespace"]
            .as_str()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        assert_eq!(
            case.attribute("name"),
            Some(
                format!(
                    "{} {ns}{}",
                    r["kind"].as_str().unwrap_or_default(),
                    r["name"].as_str().unwrap_or_default()
                )
                .as_str()
            )
        );
        assert_eq!(case.attribute("file"), r["source"].as_str());
        assert_eq!(
            case.attribute("line").map(str::to_string),
            r["line"].as_u64().map(|l| l.to_string())
        );
        let failure = case.children().find(|n| n.has_tag_name("failure"));
        assert_eq!(failure.is_some(), r["valid"] == false, "{r}");
        let text: String = case
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("");
        for f in r["findings"].as_array().expect("findings") {
            let line = format!(
                "{} {}",
                f["severity"].as_str().unwrap_or_default().to_uppercase(),
                f["rule"].as_str().unwrap_or_default()
            );
            assert!(text.contains(&line), "{line} missing from {text}");
            assert!(text.contains(f["message"].as_str().unwrap_or_default()));
            if f["severity"] == "error" {
                let failure_text = failure.and_then(|n| n.text()).unwrap_or_default();
                assert!(failure_text.contains(&line), "{line} not in the failure");
            }
        }
    }
}

#[test]
fn junit_under_strict_fails_objects_with_warnings() {
    let input = vec!["examples/pdb-needs-attention.yaml".to_string()];
    let (json, _) = validate_files(&input, "json");
    let json: Value = serde_json::from_str(&json).expect("JSON");
    assert!(json["summary"]["warnings"].as_u64() > Some(0), "{json}");
    let mut strict = input.clone();
    strict.push("--strict".into());
    let (xml, code) = validate_files(&strict, "junit");
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    assert!(doc.descendants().any(|n| n.has_tag_name("failure")));
    let (xml, code) = validate_files(&input, "junit");
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));
    assert!(doc.descendants().any(|n| n.has_tag_name("system-out")));
}

#[test]
fn github_annotations_read_back_as_the_findings_of_json() {
    let (json, _) = validate_files(&inputs(), "json");
    let mut with_notices = inputs();
    with_notices.push("--notices".into());
    let (text, code) = validate_files(&with_notices, "github");
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(from_github(&text, "cluster"), from_json(&json));
    assert!(text.lines().any(|l| l.starts_with("::error file=")));
    assert!(text.lines().any(|l| l.starts_with("::warning file=")));
    assert!(text.lines().any(|l| l.starts_with("::notice file=")));
    // Without --notices, the same but the INFO findings.
    let (plain, code) = validate_files(&inputs(), "github");
    assert_eq!(code, 1);
    let expected: BTreeSet<Seen> = from_github(&text, "cluster")
        .into_iter()
        .filter(|s| s.severity != "info")
        .collect();
    assert_eq!(from_github(&plain, "cluster"), expected);
    assert!(!plain.lines().any(|l| l.starts_with("::notice")), "{plain}");
    // The log ends with the plain summary, which the runner prints as it is.
    assert!(
        text.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.contains("invalid;")),
        "{text}"
    );
}

#[test]
fn an_unreadable_input_is_reported_in_every_format_and_still_exits_3() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "apiVersion: feast.dev/v1\nkind: [unclosed\n").expect("write");
    let args = vec![
        repo("examples/static-redis.yaml"),
        broken.display().to_string(),
    ];
    let (sarif, code) = validate_files(&args, "sarif");
    assert_eq!(code, 3);
    let log: Value = serde_json::from_str(&sarif).expect("JSON");
    assert_schema_valid(&log);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("broken.yaml"))
    );

    let (xml, code) = validate_files(&args, "junit");
    assert_eq!(code, 3);
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    assert_eq!(doc.root_element().attribute("errors"), Some("1"));
    assert!(doc.descendants().any(|n| n.has_tag_name("error")));

    let (text, code) = validate_files(&args, "github");
    assert_eq!(code, 3);
    let (name, props, _) = text
        .lines()
        .filter_map(parse_workflow_command)
        .find(|(_, props, _)| {
            props
                .iter()
                .any(|(k, v)| k == "file" && v.ends_with("broken.yaml"))
        })
        .expect("an annotation on the broken file");
    assert_eq!(name, "error");
    assert!(props.iter().any(|(k, _)| k == "line"), "{props:?}");
}

#[test]
fn other_commands_refuse_the_ci_formats() {
    for format in ["sarif", "junit", "github"] {
        plugin()
            .args(["status", "-o", format])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "invalid value '{format}' for '--output <FORMAT>'"
            )))
            .stderr(predicates::str::contains(
                "[possible values: wide, json, yaml, name]",
            ));
    }
}

/// Live objects on the real API server: a FeatureStore and a ScaledObject on its Deployment.
#[tokio::test]
async fn live_objects_in_every_format_carry_the_json_findings_without_a_file() {
    let cluster = support::cluster();
    let ns = cluster.namespace("ci-formats-live").await;
    let manifest = std::fs::read_to_string(repo("examples/unsafe/keda-mistakes.yaml"))
        .expect("the KEDA example")
        .replace("namespace: feast", &format!("namespace: {ns}"));
    let applied = support::with_stdin(cluster.kubectl().args(["apply", "-f", "-"]), &manifest);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let live = |format: &str| {
        let mut c = cluster.plugin();
        c.args(["validate", "-n", &ns]);
        run(c, format)
    };
    let (json, code) = live("json");
    assert_eq!(code, 1, "{json}");
    let json: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["summary"]["scaledObjects"], 2, "{json}");
    let expected = from_json(&json);
    assert!(
        expected
            .iter()
            .all(|s| s.source == "cluster" && s.line.is_none())
    );
    assert!(expected.iter().any(|s| s.rule == "keda/targets-deployment"));

    let (sarif, code) = live("sarif");
    assert_eq!(code, 1);
    let log: Value = serde_json::from_str(&sarif).expect("JSON");
    assert_schema_valid(&log);
    assert_eq!(from_sarif(&log, "cluster"), expected);
    let first = &log["runs"][0]["results"][0]["locations"][0];
    assert!(first.get("physicalLocation").is_none(), "{first}");
    assert!(
        first["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .is_some_and(|n| n.contains(&ns))
    );

    let (text, code) = live("github");
    assert_eq!(code, 1);
    let without_info: BTreeSet<Seen> = expected
        .iter()
        .filter(|s| s.severity != "info")
        .cloned()
        .collect();
    assert_eq!(from_github(&text, "cluster"), without_info);

    let (xml, code) = live("junit");
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, json["results"].as_array().map_or(0, Vec::len));
}
