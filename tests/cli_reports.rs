//! End-to-end: the binary on the demo cloud, every format compared with a snapshot, and
//! the exit-code contract.

mod common;
use common::{driftmux, driftmux_stdin, temp_file};
use std::collections::BTreeSet;

const DEMO: &str = "examples/demo-cloud.json";

#[test]
fn demo_cloud_every_format_is_a_golden_file() {
    let run = driftmux(&[
        "--openstack-sg-audit",
        "--snapshot",
        DEMO,
        "--format",
        "markdown,json,csv",
        "--fail-on",
        "none",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("demo_console", run.stdout);
    insta::assert_snapshot!("demo_markdown", run.report("md"));
    insta::assert_snapshot!("demo_json", run.report("json"));
    insta::assert_snapshot!("demo_csv", run.report("csv"));
}

#[test]
fn default_formats_are_markdown_and_json() {
    let run = driftmux(&["--snapshot", DEMO, "--fail-on", "none"]);
    assert_eq!(run.code, 0);
    assert!(run.has_report("md") && run.has_report("json") && !run.has_report("csv"));
    assert!(run.stderr.contains("wrote"), "{}", run.stderr);
}

#[test]
fn fail_on_threshold_sets_the_exit_code() {
    // The demo has critical, high and medium findings.
    assert_eq!(driftmux(&["--snapshot", DEMO]).code, 1);
    assert_eq!(
        driftmux(&["--snapshot", DEMO, "--fail-on", "critical"]).code,
        1
    );
    assert_eq!(driftmux(&["--snapshot", DEMO, "--fail-on", "none"]).code, 0);
    let run = driftmux(&["--snapshot", DEMO, "--fail-on", "high"]);
    assert!(run.stderr.contains("at or above high"), "{}", run.stderr);

    // Only a medium (unused group) finding: fails at medium, passes at high.
    let (_d, snap) = temp_file(
        "s.json",
        br#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "ingress",
            "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
            "remote_ip_prefix": "0.0.0.0/0"}], "ports": []}"#,
    );
    assert_eq!(driftmux(&["--snapshot", &snap]).code, 0);
    assert_eq!(
        driftmux(&["--snapshot", &snap, "--fail-on", "medium"]).code,
        1
    );
    assert_eq!(
        driftmux(&["--snapshot", &snap, "--fail-on", "info"]).code,
        1
    );
}

#[test]
fn clean_cloud_passes_and_says_so() {
    let (_d, snap) = temp_file(
        "s.json",
        br#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "egress"}]}"#,
    );
    let run = driftmux(&["--snapshot", &snap, "--fail-on", "info", "--format", "md"]);
    assert_eq!(run.code, 0);
    assert!(run
        .stdout
        .contains("Checked rules: 1\nFindings: 0\nErrors: 0"));
    assert!(run.report("md").contains("No ingress rule exposes"));
}

/// `--snapshot -` reads the snapshot from standard input (a pipeline's `... | driftmux
/// --snapshot -`): the same reports as from the file; bad input is named as `-`.
#[test]
fn snapshot_from_standard_input() {
    let args = |snapshot: &'static str| {
        [
            "--snapshot",
            snapshot,
            "--format",
            "json,csv",
            "--fail-on",
            "none",
        ]
    };
    let from_file = driftmux(&args(DEMO));
    let demo = std::fs::read(common::repo_path(DEMO)).unwrap();
    let piped = driftmux_stdin(&args("-"), &demo);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stdout, from_file.stdout);
    assert_eq!(piped.report("csv"), from_file.report("csv"));
    let findings = |run: &common::Run| {
        let report: serde_json::Value = serde_json::from_str(&run.report("json")).unwrap();
        report["findings"].clone()
    };
    assert_eq!(findings(&piped), findings(&from_file));
    let bad = driftmux_stdin(&args("-"), b"{\"security_group_rules\": 7}");
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("snapshot file -: field `security_group_rules`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn quiet_prints_nothing_on_stdout() {
    let run = driftmux(&["--snapshot", DEMO, "--quiet", "--fail-on", "none"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "");
    // Warnings still go to stderr (the demo's: a server Nova did not list), nothing else.
    assert!(!run.stderr.is_empty());
    for line in run.stderr.lines() {
        assert!(line.starts_with("driftmux: warning: "), "{}", run.stderr);
    }
    assert!(run.has_report("json"));
}

#[test]
fn output_dir_is_created_and_holds_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/reports");
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--fail-on",
        "none",
        "--format",
        "csv",
        "--output-dir",
        nested.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<_> = std::fs::read_dir(&nested)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["driftmux-openstack-neutron-security-groups.csv"]
    );
}

#[test]
fn missing_ports_list_marks_usage_unknown_and_assumes_active() {
    let (_d, snap) = temp_file(
        "s.json",
        br#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "ingress",
            "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}]}"#,
    );
    let run = driftmux(&["--snapshot", &snap, "--format", "json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("ports were not collected"),
        "{}",
        run.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&run.report("json")).unwrap();
    let f = &json["findings"][0];
    assert_eq!(f["severity"], "high");
    assert_eq!(f["metadata"]["exposure_status"], "unknown");
    assert_eq!(f["metadata"]["remote_ip_prefix"], "0.0.0.0/0");
    assert_eq!(json["warnings"].as_array().unwrap().len(), 1);
}

#[test]
fn report_web_policy_yields_info_findings() {
    let (_d, policy) = temp_file("policy.yaml", b"report_web: true\n");
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--policy",
        &policy,
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.report("json")).unwrap();
    let info: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "info")
        .map(|f| f["metadata"]["matched"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(info, vec!["80/HTTP", "443/HTTPS", "443/HTTPS"]);
    assert_eq!(json["summary"]["by_severity"]["info"], 3);
}

#[test]
fn policy_can_add_a_critical_port() {
    let (_d, policy) = temp_file(
        "policy.yaml",
        b"critical_ports:\n  - ports: \"8888\"\n    service: Jupyter\n",
    );
    let run = driftmux(&["--snapshot", DEMO, "--policy", &policy, "--fail-on", "none"]);
    assert!(run.stdout.contains("match=8888/Jupyter"), "{}", run.stdout);
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("driftmux"))
        .args([
            "--snapshot",
            common::repo_path(DEMO).to_str().unwrap(),
            "--fail-on",
            "none",
        ])
        .arg("--output-dir")
        .arg(dir.path())
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// The text of README.md's section `### title`.
fn readme_section(title: &str) -> String {
    let readme = std::fs::read_to_string(common::repo_path("README.md")).unwrap();
    let heading = format!("\n### {title}\n");
    let (_, rest) = readme.split_once(&heading).expect(&heading);
    rest.split_once("\n#")
        .map_or(rest, |(section, _)| section)
        .to_owned()
}

/// The names in `text` after each `prefix`: the characters `part` accepts that follow it
/// (none empty, none starting with `-`).
fn names_after(text: &str, prefix: &str, part: fn(char) -> bool) -> BTreeSet<String> {
    let after = text.match_indices(prefix).map(|(i, _)| {
        let rest = &text[i + prefix.len()..];
        rest.chars().take_while(|&c| part(c)).collect::<String>()
    });
    after
        .filter(|n| !n.is_empty() && !n.starts_with('-'))
        .collect()
}

/// Checks that `section` names each of `names` (at least `min` of them) in backticks.
fn assert_named<'a>(section: &str, names: impl ExactSizeIterator<Item = &'a str>, min: usize) {
    assert!(names.len() >= min, "fewer than {min} names");
    for name in names {
        assert!(
            section.contains(&format!("`{name}`")),
            "README.md lacks `{name}`"
        );
    }
}

/// README.md's CI sections name every input and output of `action.yml` and every
/// `DRIFTMUX_*` variable of `.gitlab-ci-template.yml`.
#[test]
fn readme_names_every_input_of_the_ci_integrations() {
    let action = std::fs::read_to_string(common::repo_path("action.yml")).unwrap();
    // The two-space keys under `inputs:` and `outputs:`.
    let mut block = "";
    let mut names = Vec::new();
    for line in action.lines() {
        if !line.starts_with(' ') {
            block = line;
        } else if let Some(key) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if matches!(block, "inputs:" | "outputs:") && !key.starts_with(' ') {
                names.push(key);
            }
        }
    }
    assert_named(&readme_section("GitHub Actions"), names.into_iter(), 20);

    let template = std::fs::read_to_string(common::repo_path(".gitlab-ci-template.yml")).unwrap();
    let variables = names_after(&template, "DRIFTMUX_", |c| {
        c.is_ascii_uppercase() || c == '_'
    });
    let variables: Vec<String> = variables.iter().map(|v| format!("DRIFTMUX_{v}")).collect();
    assert_named(
        &readme_section("GitLab CI"),
        variables.iter().map(String::as_str),
        10,
    );
}

#[test]
fn help_and_version() {
    let run = driftmux(&["--help"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!("help", run.stdout);
    // README.md's command-line table names every flag the help shows, and no other.
    let readme = std::fs::read_to_string(common::repo_path("README.md")).unwrap();
    let table = readme
        .split_once("\n## Command line\n")
        .and_then(|(_, rest)| rest.split_once("\n### Exit codes\n"))
        .expect("README.md: a Command line section before Exit codes")
        .0;
    let flags = |text: &str| names_after(text, "--", |c| c.is_ascii_lowercase() || c == '-');
    let first_column = |row: &str| row.split('|').nth(1).unwrap_or("").to_owned();
    let rows: Vec<String> = (table.lines())
        .filter(|l| l.starts_with("| `"))
        .map(first_column)
        .collect();
    assert_eq!(flags(&rows.join(" ")), flags(&run.stdout));
    let run = driftmux(&["--version"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        format!("driftmux {}\n", env!("CARGO_PKG_VERSION"))
    );
}
