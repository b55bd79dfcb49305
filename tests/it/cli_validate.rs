//! `kubectl feast validate` on files, driven through the real binary: output, JSON shape and
//! exit codes, including hostile input. No cluster needed.

use std::io::Write;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn plugin() -> Command {
    let mut cmd = Command::cargo_bin("kubectl-feast").expect("binary built");
    cmd.env_remove("KUBECONFIG").env("NO_COLOR", "1");
    cmd
}

fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .display()
        .to_string()
}

fn shared(path: &str) -> String {
    let base = std::env::var("FEAST_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    base.join(path).display().to_string()
}

fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn help_lists_every_subcommand_with_an_example_and_the_exit_codes() {
    let out = plugin().arg("--help").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for sub in ["scale", "autoscale", "pdb", "validate", "status", "version"] {
        assert!(
            text.contains(&format!("  {sub}")),
            "{sub} missing from:\n{text}"
        );
    }
    for example in [
        "scale my-feast --replicas 3",
        "autoscale my-feast --min 2 --max 10",
        "pdb my-feast --max-unavailable 1",
        "validate -f examples/",
        "status -A",
    ] {
        assert!(text.contains(example), "example {example:?} missing");
    }
    assert!(text.contains("Exit codes:"));
    assert!(text.contains("3  the command could not complete"));
}

#[test]
fn version_prints_the_crate_version() {
    let v = env!("CARGO_PKG_VERSION");
    plugin()
        .arg("version")
        .assert()
        .success()
        .stdout(format!("kubectl-feast {v}\n"));
    plugin()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(v));
}

#[test]
fn bundled_examples_are_valid() {
    let files: Vec<String> = [
        "static-redis",
        "hpa-remote-registry",
        "s3-registry",
        "single-default",
        "pdb-needs-attention",
    ]
    .iter()
    .map(|f| repo(&format!("examples/{f}.yaml")))
    .collect();
    plugin()
        .arg("validate")
        .arg("-f")
        .args(&files)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "5 FeatureStores: 5 valid, 0 invalid",
        ))
        .stdout(predicate::str::contains(
            "1 document of other kinds skipped",
        ));
}

#[test]
fn unsafe_examples_fail_with_exit_1_and_name_the_rules_and_lines() {
    plugin()
        .args(["validate", "-f", &repo("examples/unsafe")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "FeatureStore feast/churn  INVALID",
        ))
        .stdout(predicate::str::contains(
            "scaling/online-store-db  spec (line 8)",
        ))
        .stdout(predicate::str::contains(
            "Scaling requires DB-backed persistence for the online store.",
        ))
        .stdout(predicate::str::contains("fix: "))
        .stdout(predicate::str::contains("case-sensitive"));
}

#[test]
fn json_output_has_the_documented_shape() {
    let v = json_of(plugin().args([
        "validate",
        "-o",
        "json",
        "-f",
        &repo("examples/unsafe/hpa-mistakes.yaml"),
    ]));
    let r = &v["results"][0];
    assert_eq!(r["name"], "pricing");
    assert_eq!(r["namespace"], "feast");
    assert_eq!(r["apiVersion"], "feast.dev/v1");
    assert_eq!(r["kind"], "FeatureStore");
    assert_eq!(r["valid"], false);
    assert!(
        r["source"]
            .as_str()
            .unwrap_or("")
            .ends_with("hpa-mistakes.yaml")
    );
    assert_eq!(r["line"], 4);
    let rules: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"scaling/mutual-exclusion"));
    assert!(rules.contains(&"autoscaling/min-exceeds-max"));
    assert!(rules.contains(&"pdb/malformed-value"));
    let malformed = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "pdb/malformed-value")
        .unwrap();
    assert_eq!(
        malformed["path"],
        "spec.services.podDisruptionBudgets.maxUnavailable"
    );
    assert_eq!(malformed["line"], 18);
    assert_eq!(malformed["severity"], "error");
    assert_eq!(r["persistence"].as_array().unwrap().len(), 3);
    assert_eq!(v["summary"]["invalid"], 1);
}

#[test]
fn stdin_is_read_with_dash() {
    plugin()
        .args(["validate", "-f", "-"])
        .write_stdin("apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata: {name: a}\nspec:\n  feastProject: p\n  replicas: 0\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("<stdin>:1"))
        .stdout(predicate::str::contains("spec.replicas in body should be greater than or equal to 1"));
}

#[test]
fn what_if_flags_check_the_scaled_object() {
    let sandbox = repo("examples/single-default.yaml");
    plugin()
        .args(["validate", "-f", &sandbox])
        .assert()
        .success();
    plugin()
        .args(["validate", "-f", &sandbox, "--replicas", "3"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("scaling/online-store-db"));
    plugin()
        .args([
            "validate",
            "-f",
            &repo("examples/static-redis.yaml"),
            "--autoscale",
            "--min",
            "2",
            "--max",
            "6",
        ])
        .assert()
        .success();
    plugin()
        .args(["validate", "-f", &sandbox, "--autoscale"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max"));
}

#[test]
fn strict_turns_warnings_into_failure() {
    let f = repo("examples/pdb-needs-attention.yaml");
    plugin().args(["validate", "-f", &f]).assert().success();
    plugin()
        .args(["validate", "--strict", "-f", &f])
        .assert()
        .code(1);
}

#[test]
fn the_real_crd_agrees_on_every_operator_sample_and_example() {
    let crd = shared("feast-operator/feast.dev_featurestores.yaml");
    for what_if in [
        vec![],
        vec!["--replicas", "3"],
        vec!["--autoscale", "--min", "2", "--max", "4"],
    ] {
        let v = json_of(
            plugin()
                .args([
                    "validate",
                    "-o",
                    "json",
                    "--crd",
                    &crd,
                    "-f",
                    &shared("feast-operator/samples"),
                    &repo("examples"),
                ])
                .args(&what_if),
        );
        for r in v["results"].as_array().unwrap() {
            for f in r["findings"].as_array().unwrap() {
                let rule = f["rule"].as_str().unwrap();
                assert!(!rule.starts_with("crd/"), "{what_if:?} {}: {f}", r["name"]);
            }
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    plugin()
        .args(["validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-f PATH"));
    plugin()
        .args(["validate", "-o", "name", "-f", &repo("examples")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid value 'name' for '--output <FORMAT>'",
        ))
        .stderr(predicate::str::contains(
            "[possible values: json, yaml, sarif, junit, github]",
        ));
    plugin().args(["validate", "--bogus"]).assert().code(2);
}

#[test]
fn unreadable_input_exits_3_naming_the_file() {
    plugin()
        .args(["validate", "-f", "/nonexistent/store.yaml"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/store.yaml",
        ));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kind: FeatureStore\nspec: [\n").unwrap();
    plugin()
        .args(["validate", "-f", &bad.display().to_string()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("bad.yaml:"));
    plugin()
        .args([
            "validate",
            "--crd",
            &repo("examples/single-default.yaml"),
            "-f",
            &repo("examples"),
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a CustomResourceDefinition"));
}

#[test]
fn hostile_input_is_bounded_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
        p.display().to_string()
    };
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (prev, c) in ('a'..='i').zip('b'..='j') {
        bomb.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let big = vec![b'#'; 50 * 1024 * 1024];
    let wrong_types = "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata: {name: [1]}\nspec:\n  replicas: {a: b}\n  services: [1, 2]\n";
    let cases = [
        (write("binary.yaml", &binary), "not UTF-8"),
        (write("bomb.yaml", bomb.as_bytes()), "bomb.yaml"),
        (write("deep.yaml", deep.as_bytes()), "deep.yaml"),
        (write("big.yaml", &big), "larger than 16 MiB"),
    ];
    for (path, says) in cases {
        plugin()
            .args(["validate", "-f", &path])
            .timeout(std::time::Duration::from_secs(30))
            .assert()
            .code(3)
            .stderr(predicate::str::contains(says));
    }
    plugin()
        .args([
            "validate",
            "-f",
            &write("types.yaml", wrong_types.as_bytes()),
        ])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("must be of type integer"));
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::Read;
    let big = tempfile::tempdir().unwrap();
    let path = big.path().join("many.yaml");
    let store = std::fs::read_to_string(repo("examples/single-default.yaml")).unwrap();
    let docs: Vec<String> = (0..2000)
        .map(|i| store.replace("name: sandbox", &format!("name: s{i}")))
        .collect();
    std::fs::write(&path, docs.join("\n---\n")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kubectl-feast"))
        .args(["validate", "-f", &path.display().to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe is closed
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // Ended as SIGPIPE ends kubectl (the signal stays ignored inside, so that a socket's
    // closed peer is an error, and the closed stdout is turned into it: src/main.rs).
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
    }
}

#[test]
fn unknown_fields_are_errors_with_the_nearest_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typos.yaml");
    std::fs::write(
        &path,
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata: {name: t, namespace: ns}\nspec:\n  feastProject: p\n  replica: 3\n  services:\n    podDisruptionBudget: {maxUnavailable: 1}\n    scaling:\n      autoscale: {maxReplicas: 3}\n    onlineStore:\n      store: {type: redis, secretRef: {name: s}}\n",
    )
    .unwrap();
    let shown = path.display().to_string();
    for extra in [&[][..], &["--strict"][..]] {
        let out = plugin()
            .args(["validate", "-f", &shown])
            .args(extra)
            .assert()
            .code(1);
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        for (field, line, near) in [
            ("spec.replica", 6, "\"replicas\""),
            (
                "spec.services.podDisruptionBudget",
                8,
                "spec.services.podDisruptionBudgets",
            ),
            (
                "spec.services.scaling.autoscale",
                10,
                "spec.services.scaling.autoscaling",
            ),
            (
                "spec.services.onlineStore.store",
                12,
                "spec.services.onlineStore.persistence.store",
            ),
        ] {
            assert!(
                text.contains(&format!("{} (line {line})", field))
                    && text.contains(&format!("unknown field \"{field}\""))
                    && text.contains(near),
                "{field} at line {line} with {near} missing from:\n{text}"
            );
        }
        // The mis-indented store is the cause, not a second "no online store" problem.
        assert!(!text.contains("scaling/online-store-db"), "{text}");
    }
    // With the real CRD, fields the plugin's own map leaves open are checked too.
    std::fs::write(
        &path,
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata: {name: t}\nspec:\n  feastProject: p\n  services:\n    onlineStore:\n      server: {imagePullPolcy: Always}\n",
    )
    .unwrap();
    plugin().args(["validate", "-f", &shown]).assert().success();
    plugin()
        .args([
            "validate",
            "--crd",
            &shared("feast-operator/feast.dev_featurestores.yaml"),
            "-f",
            &shown,
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "unknown field \"spec.services.onlineStore.server.imagePullPolcy\"",
        ))
        .stdout(predicate::str::contains("imagePullPolicy"));
}

#[test]
fn no_featurestore_in_the_input_fails_unless_allowed() {
    plugin()
        .args(["validate", "-f", "-"])
        .write_stdin("")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no FeatureStore in the input"));
    plugin()
        .args(["validate", "-f", "-"])
        .write_stdin("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("1 document(s) of other kinds"));
    plugin()
        .args(["validate", "-f", "-", "--allow-empty"])
        .write_stdin("")
        .assert()
        .success();
}

#[test]
fn one_unparsable_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["static-redis.yaml", "unsafe/hpa-mistakes.yaml"] {
        let name = f.replace('/', "-");
        std::fs::copy(repo(&format!("examples/{f}")), dir.path().join(name)).unwrap();
    }
    std::fs::write(
        dir.path().join("b-tabs.yaml"),
        "kind: FeatureStore\nspec:\n  a: 1\n\tb: 2\n",
    )
    .unwrap();
    let out = plugin()
        .args([
            "validate",
            "-f",
            &dir.path().display().to_string(),
            "-o",
            "json",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("b-tabs.yaml:3"));
    let report: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(report["summary"]["objects"], 2, "{report}");
    assert_eq!(report["summary"]["invalid"], 1);
    assert_eq!(report["summary"]["unreadable"], 1);
    assert_eq!(report["unreadable"][0]["line"], 3);
    // Without the bad file, the worst outcome is the invalid store: exit 1.
    std::fs::remove_file(dir.path().join("b-tabs.yaml")).unwrap();
    plugin()
        .args(["validate", "-f", &dir.path().display().to_string()])
        .assert()
        .code(1);
}

#[test]
fn colour_keeps_the_severity_column_aligned() {
    let out = plugin()
        .env_remove("NO_COLOR")
        .args([
            "--color",
            "always",
            "validate",
            "-f",
            &repo("examples/unsafe/hpa-mistakes.yaml"),
        ])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains('\u{1b}'), "no colour in:\n{text}");
    let strip = |l: &str| {
        let mut s = String::new();
        let mut esc = false;
        for c in l.chars() {
            match (esc, c) {
                (false, '\u{1b}') => esc = true,
                (true, 'm') => esc = false,
                (false, c) => s.push(c),
                _ => {}
            }
        }
        s
    };
    let plain_out = plugin()
        .args(["validate", "-f", &repo("examples/unsafe/hpa-mistakes.yaml")])
        .output()
        .unwrap();
    let plain = String::from_utf8_lossy(&plain_out.stdout).to_string();
    assert_eq!(
        text.lines().map(strip).collect::<Vec<_>>(),
        plain.lines().map(str::to_string).collect::<Vec<_>>()
    );
}

/// Every command's flags with values they refuse: a usage error (exit 2) or a refusal (exit 1)
/// that names the flag or the object and the accepted form, before any cluster is needed, and
/// never a panic.
#[test]
fn bad_flag_values_are_refused_with_the_flag_and_the_accepted_form() {
    let huge = "99999999999";
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["scale", "x", "--replicas", "-1"],
            1,
            "--replicas -1 is below the CRD's minimum of 1",
        ),
        (
            &["scale", "x", "--replicas", "0"],
            1,
            "--replicas 0 is below the CRD's minimum of 1",
        ),
        (
            &["scale", "x", "--replicas", huge],
            1,
            "does not fit spec.replicas (an int32)",
        ),
        (&["scale", "x", "--replicas", "two"], 2, "'--replicas <N>'"),
        (
            &["scale", "x", "--replicas", "2", "--dry-run=maybe"],
            2,
            "possible values: none, client, server",
        ),
        (
            &[
                "scale",
                "x",
                "--replicas",
                "2",
                "--wait",
                "--timeout",
                "soon",
            ],
            2,
            "use e.g. 30s, 5m or 1h",
        ),
        (
            &["scale", "MyStore", "--replicas", "2"],
            2,
            "not a valid FeatureStore name: use lower-case",
        ),
        (
            &["scale", "deployment/x", "--replicas", "2"],
            2,
            "use NAME, featurestore/NAME or feast/NAME",
        ),
        (&["scale", "feast/", "--replicas", "2"], 2, "has no name"),
        (
            &["scale", "x", "--replicas", "2", "-o", "table"],
            2,
            "possible values: yaml, json, name, patch",
        ),
        (&["scale", "--replicas", "2"], 2, "needs a FeatureStore"),
        (
            &["scale", "x", "-l", "a=b", "--replicas", "2"],
            2,
            "not both",
        ),
        (
            &["autoscale", "x", "--max", "0"],
            1,
            "--max 0 is below the CRD's minimum of 1",
        ),
        (
            &["autoscale", "x", "--max", "-3"],
            1,
            "--max -3 is below the CRD's minimum of 1",
        ),
        (
            &["autoscale", "x", "--max", "3", "--min", "5"],
            1,
            "--max 3 is below --min 5",
        ),
        (
            &["autoscale", "x", "--max", "3", "--min", "0"],
            1,
            "--min 0 is below the CRD's minimum",
        ),
        (
            &["autoscale", "x", "--max", "3", "--cpu", "-1%"],
            2,
            "is not a utilisation target: use a whole percentage above 0",
        ),
        (
            &["autoscale", "x", "--max", "3", "--cpu", "0%"],
            2,
            "is not a utilisation target",
        ),
        (
            &["autoscale", "x", "--max", "3", "--memory", "lots"],
            2,
            "is not a utilisation target",
        ),
        (
            &[
                "autoscale",
                "x",
                "--max",
                "3",
                "--scale-down-stabilization",
                "2h",
            ],
            1,
            "over the HPA API's limit of 3600s",
        ),
        (
            &["autoscale", "x", "--off", "--max", "3"],
            2,
            "'--off' cannot be used with '--max <B>'",
        ),
        (
            &["autoscale", "x", "--off", "--replicas", "0"],
            1,
            "--replicas 0 is below the CRD's minimum of 1",
        ),
        (&["autoscale", "x"], 2, "needs a change"),
        (
            &["pdb", "x", "--max-unavailable", "150%"],
            2,
            "a percentage from 0% to 100%",
        ),
        (
            &["pdb", "x", "--min-available", "-1%"],
            2,
            "a percentage from 0% to 100%",
        ),
        (
            &["pdb", "x", "--min-available", "-1"],
            2,
            "is not a disruption budget",
        ),
        (
            &["pdb", "x", "--max-unavailable", "one"],
            2,
            "is not a disruption budget",
        ),
        (
            &["pdb", "x", "--min-available", "1", "--max-unavailable", "1"],
            2,
            "cannot be used with",
        ),
        (
            &["pdb", "x"],
            2,
            "--min-available <X>|--max-unavailable <Y>|--off",
        ),
        (
            &["status", "--sort-by", "{.items[*].x}"],
            2,
            "only field names and [N] indexes",
        ),
        (&["status", "-o", "xml"], 2, "possible values"),
        (
            &["status", "-o", "sarif"],
            2,
            "possible values: wide, json, yaml, name",
        ),
        (&["status", "MyStore"], 2, "not a valid FeatureStore name"),
        (
            &["status", "x", "-A"],
            2,
            "cannot be shown by name across all namespaces",
        ),
        (&["validate"], 2, "nothing to validate"),
        (
            &["validate", "-f", "x.yaml", "-A"],
            2,
            "-f and -k cannot be combined with NAME or -A",
        ),
        (
            &["validate", "-f", "x.yaml", "--min", "2"],
            2,
            "--autoscale",
        ),
        (
            &["--color", "sometimes", "status"],
            2,
            "possible values: auto, always, never",
        ),
        (
            &["--request-timeout", "soon", "status"],
            2,
            "invalid duration",
        ),
        (&["-v=x", "status"], 2, "'--v[=<LEVEL>]'"),
    ];
    for (args, code, says) in cases {
        let out = plugin()
            .env("HOME", "/nonexistent")
            .args(*args)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {says:?} not in: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// The fast parse paths (the JSON reader, YAML cut into parts on every core) and the simple
/// ones they stand in for (`KUBECTL_FEAST_SIMPLE`, src/fast.rs) give the same report, lines
/// included, on texts large enough to be cut.
#[test]
fn the_fast_parse_paths_report_what_the_simple_ones_do() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut docs = Vec::new();
    for (i, f) in ["hpa-remote-registry", "static-redis", "unsafe/hpa-mistakes"]
        .iter()
        .cycle()
        .take(600)
        .enumerate()
    {
        let text = std::fs::read_to_string(repo(&format!("examples/{f}.yaml"))).expect("example");
        for doc in text
            .split("\n---\n")
            .filter(|d| d.contains("kind: FeatureStore"))
        {
            docs.push(doc.replacen("name: ", &format!("name: n{i}-"), 1));
        }
    }
    let yaml = dir.path().join("stores.yaml");
    std::fs::write(&yaml, docs.join("\n---\n")).expect("write YAML");
    assert!(docs.join("").len() > 256 * 1024, "large enough to be cut");
    // The same stores as one List, as `kubectl get -o json` prints it.
    let list =
        json_of(plugin().args(["validate", "-f", &yaml.display().to_string(), "-o", "json"]));
    assert!(
        list["summary"]["objects"].as_u64().unwrap_or(0) >= 600,
        "{}",
        list["summary"]
    );
    let items: Vec<Value> = docs
        .iter()
        .map(|d| serde_saphyr::from_str::<Value>(d).expect("example YAML"))
        .collect();
    let json = dir.path().join("stores.json");
    std::fs::write(
        &json,
        serde_json::to_string_pretty(
            &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}),
        )
        .expect("JSON"),
    )
    .expect("write JSON");
    for file in [&yaml, &json] {
        let run = |simple: &str| {
            json_of(plugin().env("KUBECTL_FEAST_SIMPLE", simple).args([
                "validate",
                "-f",
                &file.display().to_string(),
                "-o",
                "json",
            ]))
        };
        let fast = run("");
        assert_eq!(fast, run("all"), "{}", file.display());
        assert!(fast["summary"]["invalid"].as_u64().unwrap_or(0) > 0);
    }
}

#[test]
fn explain_prints_a_rules_guide_section_and_names_the_nearest_for_a_typo() {
    let out = plugin()
        .args(["validate", "--explain", "scaling/online-store-db"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("scaling/online-store-db: error (CEL (R2))"),
        "{text}"
    );
    assert!(text.contains("### `scaling/online-store-db`"), "{text}");
    assert!(
        text.contains("--from-literal=redis="),
        "the Secret's shape: {text}"
    );
    assert!(
        !text.contains("### `scaling/offline-store-db`"),
        "one section: {text}"
    );
    plugin()
        .args(["validate", "--explain", "scaling/online-store"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean scaling/online-store-db?",
        ));
    plugin()
        .args(["validate", "--explain", "pdb/inactive", "-f", "x.yaml"])
        .assert()
        .code(2);
}

/// In a file, the scaling refusal's plugin command is the file edit (`--local -f FILE
/// --in-place`), pasted as printed: after it the store validates at 3 replicas, and the
/// Secret the command names is the one the refusal's `kubectl create secret` makes.
#[test]
fn the_persistence_fix_edits_the_file_until_it_scales() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("store.yaml");
    std::fs::write(
        &file,
        "apiVersion: feast.dev/v1\nkind: FeatureStore\nmetadata:\n  name: sample\n  namespace: ml\nspec:\n  feastProject: p\n  # three pods, on the default sqlite store\n  replicas: 3\n",
    )
    .expect("write the manifest");
    let path = file.display().to_string();
    let out = plugin()
        .args(["validate", "-f", &path])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let commands = crate::support::suggested_commands(&stdout);
    let persistence = commands
        .iter()
        .find(|w| w.get(2).map(String::as_str) == Some("persistence"))
        .unwrap_or_else(|| panic!("a persistence command in {stdout}"));
    for word in [
        "--online",
        "redis",
        "--registry",
        "sql",
        "--local",
        "-f",
        "--in-place",
    ] {
        assert!(
            persistence.iter().any(|w| w == word),
            "{word} in {persistence:?}"
        );
    }
    assert!(persistence.contains(&path), "{persistence:?}");
    let create = commands
        .iter()
        .find(|w| w[1..3] == ["create", "secret"])
        .unwrap_or_else(|| panic!("a kubectl create secret command in {stdout}"));
    assert!(
        create.iter().any(|w| w == "feast-data-stores"),
        "{create:?}"
    );
    assert!(
        create
            .iter()
            .any(|w| w.starts_with("--from-literal=redis="))
            && create.iter().any(|w| w.starts_with("--from-literal=sql=")),
        "one Secret with both keys: {create:?}"
    );
    plugin().args(&persistence[2..]).assert().success();
    let edited = std::fs::read_to_string(&file).expect("read back");
    assert!(
        edited.contains("# three pods, on the default sqlite store"),
        "{edited}"
    );
    plugin().args(["validate", "-f", &path]).assert().success();
}
