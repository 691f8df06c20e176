//! The bad-input corpus (`tests/bad-input/`): every malformed snapshot, policy file or flag
//! exits 2 with a message naming the file and the field or line, writes no report, and
//! never panics.

mod common;
use common::{driftmux, driftmux_env};

/// (file in tests/bad-input, fragments the error message must contain)
const SNAPSHOT_CASES: &[(&str, &[&str])] = &[
    ("snapshot-empty.json", &["EOF while parsing", "line 1"]),
    (
        "snapshot-garbage.json",
        &["expected value", "line 1, column 1"],
    ),
    ("snapshot-not-object.json", &["must be a JSON object"]),
    (
        "snapshot-missing-rules.json",
        &["missing field `security_group_rules`"],
    ),
    (
        "snapshot-rules-not-list.json",
        &["`security_group_rules`", "expected a sequence"],
    ),
    (
        "snapshot-port-as-string.json",
        &["`security_group_rules[0].port_range_min`", "line 9"],
    ),
    (
        "snapshot-rule-missing-id.json",
        &["`security_group_rules[0]`", "missing field `id`"],
    ),
    (
        "snapshot-bad-cidr.json",
        &[
            "`security_group_rules[0].remote_ip_prefix`",
            "(id r1)",
            "300.1.2.3/8",
        ],
    ),
    (
        "snapshot-cidr-too-long.json",
        &["`security_group_rules[0].remote_ip_prefix`", "10.0.0.0/33"],
    ),
    (
        "snapshot-reversed-ports.json",
        &["`security_group_rules[0].port_range_min`", "greater than"],
    ),
    (
        "snapshot-port-too-big.json",
        &["`security_group_rules[0].port_range_max`", "70000"],
    ),
    (
        "snapshot-negative-port.json",
        &["`security_group_rules[0].port_range_min`", "-1"],
    ),
    (
        "snapshot-enormous-port.json",
        &["`security_group_rules[0].port_range_min`", "out of range"],
    ),
    (
        "snapshot-bad-protocol.json",
        &["`security_group_rules[0].protocol`", "carrier-pigeon"],
    ),
    (
        "snapshot-protocol-number-too-big.json",
        &["`security_group_rules[0].protocol`", "300"],
    ),
    (
        "snapshot-protocol-bool.json",
        &["`security_group_rules[0].protocol`", "boolean"],
    ),
    (
        "snapshot-bad-direction.json",
        &["`security_group_rules[0].direction`", "inbound"],
    ),
    (
        "snapshot-missing-direction.json",
        &["`security_group_rules[0].direction`", "missing"],
    ),
    (
        "snapshot-bad-ethertype.json",
        &["`security_group_rules[0].ethertype`", "IPv5"],
    ),
    (
        "snapshot-unknown-version.json",
        &["`driftmux_snapshot`", "version 99"],
    ),
    (
        "snapshot-unknown-top-key.json",
        &["unknown field `security_group_rule`"],
    ),
    (
        "snapshot-bad-collected-at.json",
        &["`collected_at`", "RFC 3339"],
    ),
    ("snapshot-truncated.json", &["EOF while parsing", "line 3"]),
    (
        "snapshot-truncated-before-key.json",
        &[
            "field `security_group_rules[0]`: EOF while parsing",
            "line 2",
        ],
    ),
    (
        "snapshot-trailing-garbage.json",
        &["trailing characters", "line 2"],
    ),
    (
        "snapshot-duplicate-key.json",
        &["duplicate field `security_group_rules`"],
    ),
    (
        "snapshot-ports-groups-not-list.json",
        &["`ports[0].security_groups`"],
    ),
    (
        "snapshot-bad-fixed-ip.json",
        &["`ports[0].fixed_ips[0].ip_address`", "999.1.1.1"],
    ),
    (
        "snapshot-bad-floating-ip.json",
        &["`floatingips[0].floating_ip_address`"],
    ),
    (
        "snapshot-bad-address-group.json",
        &["`address_groups[0].addresses[0]`"],
    ),
    (
        "snapshot-empty-group-id.json",
        &["`security_group_rules[0].security_group_id`"],
    ),
    (
        "snapshot-server-without-id.json",
        &["`servers[0]`", "missing field `id`"],
    ),
];

const POLICY_CASES: &[(&str, &[&str])] = &[
    (
        "policy-unknown-key.yaml",
        &["unknown field `report_webb`", "line 1"],
    ),
    (
        "policy-bad-port.yaml",
        &["critical_ports[0].ports", "70000"],
    ),
    (
        "policy-reversed-range.yaml",
        &["critical_ports[0].ports", "reversed"],
    ),
    (
        "policy-empty-service.yaml",
        &["critical_ports[0].service", "empty"],
    ),
    (
        "policy-missing-service.yaml",
        &["missing field `service`", "line 2"],
    ),
    ("policy-not-a-map.yaml", &["line 1"]),
    ("policy-bad-bool.yaml", &["report_web: sometimes", "line 1"]),
    ("policy-bad-ignore.yaml", &["ignore_ports[0]", "ssh"]),
    ("policy-invalid-yaml.yaml", &["line 2"]),
    ("policy-duplicate-key.yaml", &["duplicate", "report_web"]),
    ("policy-garbage.yaml", &["UTF-8"]),
];

const BASELINE_CASES: &[(&str, &[&str])] = &[
    ("baseline-empty.json", &["invalid JSON", "line 1"]),
    ("baseline-garbage.json", &["UTF-8"]),
    ("baseline-unknown-version.json", &["`version`", "version 7"]),
    (
        "baseline-missing-version.json",
        &["missing field `version`"],
    ),
    (
        "baseline-missing-findings.json",
        &["baseline-missing-findings.json: missing field `findings`"],
    ),
    (
        "baseline-bad-severity.json",
        &["`findings[0].severity`", "severe"],
    ),
    (
        "baseline-duplicate-fingerprint.json",
        &["`findings[1].fingerprint`", "duplicate"],
    ),
    (
        "baseline-bad-first-seen.json",
        &["`findings[0].first_seen`", "2026-13-01"],
    ),
    (
        "baseline-unknown-field.json",
        &["`findings[0].approved_by`"],
    ),
    (
        "baseline-findings-not-list.json",
        &["`findings`", "expected a sequence"],
    ),
    (
        "baseline-missing-fingerprint.json",
        &["`findings[0]`", "missing field `fingerprint`"],
    ),
    ("baseline-truncated.json", &["invalid JSON", "line 2"]),
];

const SUPPRESSION_CASES: &[(&str, &[&str])] = &[
    ("suppressions-empty.yaml", &["empty"]),
    ("suppressions-garbage.yaml", &["UTF-8"]),
    (
        "suppressions-no-reason.yaml",
        &["suppressions[0].reason", "required"],
    ),
    (
        "suppressions-unknown-key.yaml",
        &["unknown field `expiry`", "line 5"],
    ),
    (
        "suppressions-bad-date.yaml",
        &["suppressions[0].expires", "31/03/2027"],
    ),
    (
        "suppressions-bad-source.yaml",
        &["suppressions[0].source", "everywhere"],
    ),
    (
        "suppressions-bad-fingerprint.yaml",
        &[
            "suppressions[0].fingerprint",
            "4a55522390b5736a55df01bd21e71d4",
            "32 hexadecimal digits",
        ],
    ),
    (
        "suppressions-private-source.yaml",
        &[
            "suppressions[0].source",
            "192.168.0.0/16",
            "not a public source",
        ],
    ),
    (
        "suppressions-no-matcher.yaml",
        &["suppressions[0]", "suppress everything"],
    ),
    (
        "suppressions-unknown-version.yaml",
        &["`version`", "version 3"],
    ),
    (
        "suppressions-missing-version.yaml",
        &["missing field `version`"],
    ),
    (
        "suppressions-duplicate-key.yaml",
        &["duplicate", "reason", "line 4"],
    ),
    ("suppressions-not-a-list.yaml", &["line 3"]),
    (
        "suppressions-enormous-version.yaml",
        &["line 1", "99999999999999999999999"],
    ),
];

/// clouds.yaml (and clouds.json) files, used through OS_CLIENT_CONFIG_FILE with --os-cloud lab.
const CLOUDS_CASES: &[(&str, &[&str])] = &[
    ("clouds-no-auth-url.yaml", &["missing auth.auth_url"]),
    ("clouds-not-a-map.yaml", &["mapping with a `clouds` key"]),
    (
        "clouds-clouds-not-a-map.yaml",
        &["`clouds` must be a mapping"],
    ),
    ("clouds-invalid-yaml.yaml", &["invalid YAML", "line 4"]),
    (
        "clouds-unknown-auth-type.yaml",
        &["auth_type", "v3oidcpassword"],
    ),
    ("clouds-identity-v2.yaml", &["identity_api_version 2"]),
    ("clouds-no-password.yaml", &["missing auth.password"]),
    (
        "clouds-no-user-domain.yaml",
        &["missing auth.user_domain_name"],
    ),
    (
        "clouds-project-name-without-domain.yaml",
        &["missing auth.project_domain_name"],
    ),
    ("clouds-truncated.json", &["invalid JSON", "line 1"]),
    ("clouds-garbage.yaml", &["UTF-8"]),
    (
        "clouds-no-such-cloud.yaml",
        &["cloud \"lab\" is not in", "other"],
    ),
    // Found by fuzzing: the YAML error quoted the duplicated key.
    (
        "clouds-duplicate-key.yaml",
        &["invalid YAML at line 5", "duplicate mapping key"],
    ),
];

fn assert_input_error(args: &[&str], file: &str, fragments: &[&str]) -> common::Run {
    assert_input_error_env(args, &[], file, fragments)
}

fn assert_input_error_env(
    args: &[&str],
    env: &[(&str, &str)],
    file: &str,
    fragments: &[&str],
) -> common::Run {
    let run = common::driftmux_env(args, env);
    assert_eq!(run.code, 2, "{file}: expected exit 2\n{}", run.stderr);
    assert!(
        !run.stderr.contains("panicked"),
        "{file} panicked:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(file),
        "{file}: message does not name the file:\n{}",
        run.stderr
    );
    for fragment in fragments {
        assert!(
            run.stderr.contains(fragment),
            "{file}: message lacks {fragment:?}:\n{}",
            run.stderr
        );
    }
    assert_eq!(
        run.stderr.matches("error:").count(),
        1,
        "{file}: one error, said once:\n{}",
        run.stderr
    );
    // Neither the top level (`.`) nor a key the input ended before (`?`) is a field.
    for unnamed in ["field `.`", "?`"] {
        assert!(
            !run.stderr.contains(unnamed),
            "{file}: names no field by {unnamed:?}:\n{}",
            run.stderr
        );
    }
    assert!(
        !run.stderr.contains("<input>"),
        "{file}: quoted lines name the file:\n{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "{file}: nothing on stdout");
    let written = std::fs::read_dir(run.out_dir.path()).unwrap().count();
    assert_eq!(written, 0, "{file}: no report may be written on bad input");
    run
}

/// The error is followed by the hint for its kind of file.
fn assert_help(run: &common::Run, file: &str, help: &str) {
    assert!(
        run.stderr.contains(&format!("\n  help: {help}")),
        "{file}: no hint {help:?}:\n{}",
        run.stderr
    );
}

#[test]
fn every_bad_snapshot_exits_2_naming_file_and_field() {
    for (file, fragments) in SNAPSHOT_CASES {
        let path = format!("tests/bad-input/{file}");
        let run = assert_input_error(&["--snapshot", &path], file, fragments);
        assert_help(&run, file, "a snapshot is one JSON object");
    }
}

#[test]
fn every_bad_policy_exits_2_naming_file_and_key() {
    for (file, fragments) in POLICY_CASES {
        let path = format!("tests/bad-input/{file}");
        let run = assert_input_error(
            &["--snapshot", "examples/demo-cloud.json", "--policy", &path],
            file,
            fragments,
        );
        assert_help(&run, file, "policy keys are critical_ports");
    }
}

#[test]
fn every_bad_baseline_exits_2_naming_file_and_field() {
    for (file, fragments) in BASELINE_CASES {
        let path = format!("tests/bad-input/{file}");
        let run = assert_input_error(
            &[
                "--snapshot",
                "examples/demo-cloud.json",
                "--baseline",
                &path,
            ],
            file,
            fragments,
        );
        assert_help(&run, file, "regenerate the baseline with --update-baseline");
        // Not even --update-baseline overwrites a baseline it cannot read.
        let before = std::fs::read(common::repo_path(&path)).unwrap();
        assert_input_error(
            &[
                "--snapshot",
                "examples/demo-cloud.json",
                "--baseline",
                &path,
                "--update-baseline",
            ],
            file,
            fragments,
        );
        assert_eq!(std::fs::read(common::repo_path(&path)).unwrap(), before);
    }
}

#[test]
fn every_bad_suppression_file_exits_2_naming_file_and_entry() {
    for (file, fragments) in SUPPRESSION_CASES {
        let path = format!("tests/bad-input/{file}");
        let run = assert_input_error(
            &[
                "--snapshot",
                "examples/demo-cloud.json",
                "--suppressions",
                &path,
            ],
            file,
            fragments,
        );
        assert_help(&run, file, "each suppression needs a reason");
    }
}

#[test]
fn every_bad_clouds_yaml_exits_2_naming_file_and_key_without_secrets() {
    for (file, fragments) in CLOUDS_CASES {
        let path = common::repo_path(&format!("tests/bad-input/{file}"));
        let path = path.to_str().unwrap();
        let run = assert_input_error_env(
            &["--openstack-sg-audit", "--os-cloud", "lab"],
            &[("OS_CLIENT_CONFIG_FILE", path)],
            file,
            fragments,
        );
        assert_help(&run, file, "pass --os-cloud NAME with a clouds.yaml");
        let run = common::driftmux_env(&["--os-cloud", "lab"], &[("OS_CLIENT_CONFIG_FILE", path)]);
        assert!(!run.stderr.contains("canary"), "{file}: {}", run.stderr);
    }
}

#[test]
fn the_corpus_has_no_untested_file() {
    let mut listed: Vec<&str> = SNAPSHOT_CASES
        .iter()
        .chain(POLICY_CASES)
        .chain(BASELINE_CASES)
        .chain(SUPPRESSION_CASES)
        .chain(CLOUDS_CASES)
        .map(|(f, _)| *f)
        .collect();
    listed.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(common::repo_path("tests/bad-input"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    assert_eq!(listed, on_disk);
}

#[test]
fn missing_and_unreadable_files() {
    assert_input_error(
        &["--snapshot", "tests/bad-input/no-such-file.json"],
        "no-such-file.json",
        &["cannot read snapshot file", "No such file"],
    );
    assert_input_error(
        &["--snapshot", "tests/bad-input"],
        "tests/bad-input",
        &["cannot read"],
    );
    assert_input_error(
        &[
            "--snapshot",
            "examples/demo-cloud.json",
            "--policy",
            "nope.yaml",
        ],
        "nope.yaml",
        &["cannot read"],
    );
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["--snapshot", "examples/demo-cloud.json", "--format", "pdf"][..],
        &[
            "--snapshot",
            "examples/demo-cloud.json",
            "--fail-on",
            "severe",
        ],
        &["--snapshot", "examples/demo-cloud.json", "--no-such-flag"],
        &["--snapshot"],
        &["unexpected-positional"],
        &[
            "--snapshot",
            "examples/demo-cloud.json",
            "--warn-expiring",
            "two weeks",
        ],
        &[
            "--snapshot",
            "examples/demo-cloud.json",
            "--update-baseline",
        ],
    ] {
        let run = driftmux(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
    }
    let run = driftmux(&["--snapshot", "examples/demo-cloud.json", "--format", "pdf"]);
    assert!(
        run.stderr.contains("pdf") && run.stderr.contains("markdown"),
        "{}",
        run.stderr
    );
}

/// `--os-cloud` on the command line with `--snapshot`: which to audit would be a guess,
/// and a job meant to read the cloud would pass on the snapshot's old data. `OS_CLOUD` in
/// the environment is no conflict (a snapshot audit does not read it).
#[test]
fn os_cloud_and_snapshot_together_exit_2() {
    let demo = [
        "--snapshot",
        "examples/demo-cloud.json",
        "--fail-on",
        "none",
        "-q",
    ];
    let both: Vec<&str> = demo.iter().copied().chain(["--os-cloud", "prod"]).collect();
    let run = driftmux(&both);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let said = "the argument '--os-cloud <NAME>' cannot be used with '--snapshot <FILE>'";
    assert!(run.stderr.contains(said), "{}", run.stderr);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args: Vec<&str> = demo.iter().copied().chain(["--output-dir", out]).collect();
    let run = driftmux_env(&args, &[("OS_CLOUD", "prod")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn live_mode_without_credentials_is_a_clear_usage_error() {
    // The seed's invocation, on a machine with no clouds.yaml and no OS_* variables.
    let run = driftmux(&[
        "--openstack-sg-audit",
        "--os-cloud",
        "openstack",
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("\"openstack\""), "{}", run.stderr);
    assert!(
        run.stderr.contains("no clouds.yaml was found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("OS_CLIENT_CONFIG_FILE"),
        "{}",
        run.stderr
    );
    let run = driftmux(&["--openstack-sg-audit"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no OpenStack credentials"),
        "{}",
        run.stderr
    );
}

#[test]
fn unwritable_output_dir_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let run = driftmux(&[
        "--snapshot",
        "examples/demo-cloud.json",
        "--fail-on",
        "none",
        "--output-dir",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let said = format!(
        "cannot write {}: it exists and is not a directory",
        file.display()
    );
    assert!(run.stderr.contains(&said), "{}", run.stderr);
    // Below that file: the system's own reason (the directory does not exist).
    let below = file.join("reports");
    let args = [
        "--snapshot",
        "examples/demo-cloud.json",
        "--fail-on",
        "none",
    ];
    let run = driftmux(&[&args[..], &["--output-dir", below.to_str().unwrap()]].concat());
    assert_eq!(run.code, 2, "{}", run.stderr);
    let said = format!("cannot write {}: Not a directory", below.display());
    assert!(run.stderr.contains(&said), "{}", run.stderr);
    assert_help(&run, "reports", "check that the directory is writable");
}

/// The formats are written side by side: one that cannot be written fails the run, naming
/// the first such file in format order whatever the threads' timing, and every other
/// report is whole.
#[test]
fn one_unwritable_report_fails_the_run_and_the_others_are_whole() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir
        .path()
        .join("driftmux-openstack-neutron-security-groups");
    // A directory where a report should go: renaming a file over it fails.
    for ext in ["md", "junit.xml"] {
        std::fs::create_dir(stem.with_extension(ext)).unwrap();
        std::fs::write(stem.with_extension(ext).join("keep"), "").unwrap();
    }
    let run = driftmux(&[
        "--snapshot",
        "examples/demo-cloud.json",
        "--fail-on",
        "none",
        "--format",
        "junit,json,markdown,csv",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write") && run.stderr.contains("groups.md"),
        "the markdown report comes first in format order: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("junit.xml"), "{}", run.stderr);
    let json = std::fs::read_to_string(stem.with_extension("json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(!report["findings"].as_array().unwrap().is_empty());
    let csv = std::fs::read_to_string(stem.with_extension("csv")).unwrap();
    assert!(csv.lines().count() > 1, "{csv}");
    // Nothing half-written is left beside them.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

/// A snapshot through a pipe (`--snapshot <(...)`) can be read only once: a good one is
/// audited, a bad one is explained like a file, and neither hangs.
#[cfg(unix)]
#[test]
fn snapshots_through_a_pipe() {
    for (source, expected_code, fragment) in [
        ("examples/demo-cloud.json", 0, ""),
        ("tests/bad-input/snapshot-bad-cidr.json", 2, "300.1.2.3/8"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("snapshot.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let contents = std::fs::read(source).unwrap();
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, contents))
        };
        let output = assert_cmd::Command::cargo_bin("driftmux")
            .unwrap()
            .env_clear()
            .env("HOME", dir.path())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["--fail-on", "none", "--quiet", "--output-dir"])
            .arg(dir.path().join("out"))
            .arg("--snapshot")
            .arg(&fifo)
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(expected_code),
            "{source}: {stderr}"
        );
        assert!(stderr.contains(fragment), "{source}: {stderr}");
        writer.join().unwrap().unwrap();
    }
}
