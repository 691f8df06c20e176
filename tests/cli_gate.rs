//! The CI gate end to end: baseline creation and approval, new/escalated findings failing
//! the gate, suppressions, SARIF and JUnit files, and the exit-code contract.

mod common;
use common::{driftmux, temp_file};

const DEMO: &str = "examples/demo-cloud.json";

/// The demo cloud as JSON, to change before auditing it.
fn demo_cloud() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(common::repo_path(DEMO)).unwrap()).unwrap()
}

/// The id of the object named `name` in the demo cloud's list `list`.
fn demo_id(snap: &serde_json::Value, list: &str, name: &str) -> serde_json::Value {
    let objects = snap[list].as_array().unwrap();
    objects.iter().find(|o| o["name"] == name).unwrap()["id"].clone()
}

/// The demo cloud with one more public Redis rule in the k8s-platform `k8s-nodes` group.
fn demo_with_new_rule() -> String {
    let mut snap = demo_cloud();
    let group = demo_id(&snap, "security_groups", "k8s-nodes");
    snap["security_group_rules"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": "rule-added-in-this-mr", "security_group_id": group, "direction": "ingress",
            "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 6379, "port_range_max": 6379,
            "remote_ip_prefix": "0.0.0.0/0"
        }));
    snap.to_string()
}

/// Writes the demo cloud's baseline to `path` (which must not exist yet).
fn create_baseline(path: &str) {
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--baseline",
        path,
        "--update-baseline",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn baseline_approval_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baselines/sg.json");
    let b = baseline.to_str().unwrap();

    // A missing baseline is an error unless it is being created.
    let run = driftmux(&["--snapshot", DEMO, "--baseline", b]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not exist") && run.stderr.contains("--update-baseline"));

    // Create it: exit 0, the diff on stdout, the file written.
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--baseline",
        b,
        "--update-baseline",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(&format!("--- a/{b}\n+++ b/{b}\n")),
        "{}",
        run.stdout
    );
    let created = std::fs::read_to_string(&baseline).unwrap();
    let json: serde_json::Value = serde_json::from_str(&created).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["findings"].as_array().unwrap().len(), 26);
    assert_eq!(
        json["findings"][0]["first_seen"], "2026-11-20",
        "the snapshot's collection date"
    );

    // Against its own baseline the demo passes at the default threshold.
    let run = driftmux(&["--snapshot", DEMO, "--baseline", b, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Gate: PASSED"), "{}", run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["gate"]["counts"]["unchanged"], 26);
    assert_eq!(
        report["findings"][0]["metadata"]["gate_status"],
        "unchanged"
    );

    // Updating again changes nothing, byte for byte.
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--baseline",
        b,
        "--update-baseline",
        "--quiet",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("up to date"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&baseline).unwrap(), created);

    // A merge request adds a public Redis rule: the gate fails and names it.
    let (_d, changed) = temp_file("changed.json", demo_with_new_rule().as_bytes());
    let run = driftmux(&["--snapshot", &changed, "--baseline", b, "--format", "md"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("Gate: FAILED"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("NEW HIGH [k8s-platform] sg=k8s-nodes ports=6379"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 new finding(s) at or above high"),
        "{}",
        run.stderr
    );
    let md = run.report("md");
    assert!(
        md.starts_with("# Driftmux report\n\n## Gate: ❌ FAILED"),
        "{md}"
    );
    assert!(md.contains("### New findings"));
    // Below the threshold it passes.
    assert_eq!(
        driftmux(&[
            "--snapshot",
            &changed,
            "--baseline",
            b,
            "--fail-on",
            "critical"
        ])
        .code,
        0
    );

    // Approving it: --update-baseline writes the new entry, and the diff shows exactly it.
    let run = driftmux(&[
        "--snapshot",
        &changed,
        "--baseline",
        b,
        "--update-baseline",
        "--quiet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let added: Vec<_> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert!(
        added.iter().any(|l| l.contains("\"ports\": \"6379\"")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout
            .lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---")),
        "nothing removed:\n{}",
        run.stdout
    );
    assert_eq!(driftmux(&["--snapshot", &changed, "--baseline", b]).code, 0);

    // The rule is deleted again: the entry is reported fixed, and the gate passes.
    let run = driftmux(&["--snapshot", DEMO, "--baseline", b, "--format", "json"]);
    assert_eq!(run.code, 0);
    let report: serde_json::Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["gate"]["counts"]["fixed"], 1);
    assert!(
        run.stdout
            .contains("FIXED HIGH [k8s-platform] sg=k8s-nodes ports=6379"),
        "{}",
        run.stdout
    );
}

#[test]
fn baseline_keeps_notes_and_first_seen() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("b.json");
    let b = baseline.to_str().unwrap();
    create_baseline(b);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    json["findings"][0]["note"] = "approved by netsec in MR !42".into();
    json["findings"][0]["first_seen"] = "2025-01-01".into();
    let edited = serde_json::to_string_pretty(&json).unwrap() + "\n";
    std::fs::write(&baseline, &edited).unwrap();
    let (_d, changed) = temp_file("changed.json", demo_with_new_rule().as_bytes());
    let run = driftmux(&[
        "--snapshot",
        &changed,
        "--baseline",
        b,
        "--update-baseline",
        "-q",
    ]);
    assert_eq!(run.code, 0);
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(after["findings"][0]["note"], "approved by netsec in MR !42");
    assert_eq!(after["findings"][0]["first_seen"], "2025-01-01");
}

#[test]
fn incomplete_audit_exits_3_and_never_updates_the_baseline() {
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::repo_path(DEMO)).unwrap()).unwrap();
    snap["errors"] = serde_json::json!([{"resource": "servers", "endpoint": "https://nova:8774/v2.1/servers/detail", "status": 503, "message": "Service Unavailable"}]);
    let (_d, partial) = temp_file("partial.json", snap.to_string().as_bytes());
    let run = driftmux(&[
        "--snapshot",
        &partial,
        "--fail-on",
        "none",
        "--format",
        "json,md",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stdout.contains("Errors: 1") && run.stdout.contains("Gate: INCOMPLETE"),
        "{}",
        run.stdout
    );
    let report: serde_json::Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["gate"]["verdict"], "incomplete");
    assert_eq!(report["summary"]["errors"], 1);
    assert!(run.report("md").contains("**incomplete**"));

    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("b.json");
    let empty = "{\"version\": 1, \"findings\": []}\n";
    std::fs::write(&baseline, empty).unwrap();
    // A snapshot's error that does not say `required: false` counts as one that decides
    // findings: --allow-partial does not approve from it either.
    for allow_partial in [None, Some("--allow-partial")] {
        let b = baseline.to_str().unwrap();
        let mut args = vec!["--snapshot", &partial, "--baseline", b, "--update-baseline"];
        args.extend(allow_partial);
        let run = driftmux(&args);
        assert_eq!(run.code, 3, "{allow_partial:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("refusing to update the baseline"),
            "{}",
            run.stderr
        );
        assert_eq!(std::fs::read_to_string(&baseline).unwrap(), empty);
    }
}

#[test]
fn allow_partial_approves_from_an_audit_missing_only_enrichment() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("b.json");
    let b = baseline.to_str().unwrap();
    create_baseline(b);
    let before = std::fs::read_to_string(&baseline).unwrap();
    assert!(before.contains("\"project_name\": \"datalab\""), "{before}");

    // Keystone's projects and Nova's servers could not be read: the findings are all there,
    // only names and servers are missing.
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::repo_path(DEMO)).unwrap()).unwrap();
    snap["projects"] = serde_json::json!([]);
    snap["servers"] = serde_json::json!([]);
    snap["errors"] = serde_json::json!([
        {"resource": "projects", "endpoint": "https://keystone:5000/v3/projects", "status": 503, "message": "Service Unavailable", "required": false},
        {"resource": "servers", "endpoint": "https://nova:8774/v2.1/servers/detail", "status": 503, "message": "Service Unavailable", "required": false}
    ]);
    let (_d, partial) = temp_file("partial.json", snap.to_string().as_bytes());
    let mut changed_partial: serde_json::Value =
        serde_json::from_str(&demo_with_new_rule()).unwrap();
    changed_partial["projects"] = snap["projects"].clone();
    changed_partial["servers"] = snap["servers"].clone();
    changed_partial["errors"] = snap["errors"].clone();
    let (_d3, changed_partial) = temp_file(
        "changed-partial.json",
        changed_partial.to_string().as_bytes(),
    );

    // Without --allow-partial: refused, with the way out named, the file untouched.
    let run = driftmux(&["--snapshot", &partial, "--baseline", b, "--update-baseline"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    for said in [
        "refusing to update the baseline",
        "--allow-partial approves",
    ] {
        assert!(run.stderr.contains(said), "{said}: {}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&baseline).unwrap(), before);

    // With it: nothing changed in the findings, so nothing changes in the baseline, project
    // names included.
    let args = ["--baseline", b, "--update-baseline", "--allow-partial"];
    let run = driftmux(&[&["--snapshot", partial.as_str()][..], &args].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    for said in ["is up to date", "keep the project names"] {
        assert!(run.stderr.contains(said), "{said}: {}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&baseline).unwrap(), before);
    // Only the servers unread: Keystone's names are there, nothing to keep.
    let mut servers_unread = demo_cloud();
    servers_unread["servers"] = snap["servers"].clone();
    servers_unread["errors"] = serde_json::json!([snap["errors"][1].clone()]);
    let (_d4, servers_unread) = temp_file("servers.json", servers_unread.to_string().as_bytes());
    let run = driftmux(&[&["--snapshot", servers_unread.as_str()][..], &args].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("missing enrichment"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("keep the project names"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&baseline).unwrap(), before);

    // A new finding is approved; its entry has no project name to keep, the others keep theirs.
    let run = driftmux(&[&["--snapshot", changed_partial.as_str()][..], &args].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("+      \"ports\": \"6379\""),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout
            .lines()
            .any(|l| l.starts_with('-') && l.contains("project_name")),
        "{}",
        run.stdout
    );
    let unnamed = |text: &str| -> Vec<serde_json::Value> {
        let b: serde_json::Value = serde_json::from_str(text).unwrap();
        b["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e.get("project_name").is_none_or(|n| n.is_null()))
            .map(|e| e["ports"].clone())
            .collect()
    };
    // The demo has one finding in a project Keystone does not know, before and after.
    let mut expected = unnamed(&before);
    expected.push("6379".into());
    let mut got = unnamed(&std::fs::read_to_string(&baseline).unwrap());
    expected.sort_by_key(|p| p.to_string());
    got.sort_by_key(|p| p.to_string());
    assert_eq!(got, expected);
}

#[test]
fn bad_input_never_touches_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("b.json");
    std::fs::write(&baseline, "{\"version\": 1, \"findings\": []}\n").unwrap();
    let run = driftmux(&[
        "--snapshot",
        "tests/bad-input/snapshot-truncated.json",
        "--baseline",
        baseline.to_str().unwrap(),
        "--update-baseline",
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        "{\"version\": 1, \"findings\": []}\n"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp files left: {names:?}");
}

#[test]
fn update_baseline_requires_baseline() {
    let run = driftmux(&["--snapshot", DEMO, "--update-baseline"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--baseline"), "{}", run.stderr);
}

#[test]
fn suppressions_expired_expiring_unused_and_strict() {
    let tomorrow = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .unwrap();
    let supp = format!(
        "version: 1\nsuppressions:\n  - project: sandbox\n    security_group: vnc-desktops\n    reason: teaching lab\n    expires: {tomorrow}\n  - security_group: smb\n    reason: legacy share\n    expires: 2020-01-01\n  - fingerprint: ffffffffffffffffffffffffffffffff\n    reason: gone\n"
    );
    let (_d, s) = temp_file("suppressions.yaml", supp.as_bytes());
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--suppressions",
        &s,
        "--fail-on",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("SUPPRESSION EXPIRING suppressions[0]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("SUPPRESSION EXPIRED suppressions[1]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("SUPPRESSION UNUSED suppressions[2]"),
        "{}",
        run.stdout
    );
    let report: serde_json::Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(
        report["gate"]["counts"]["suppressed"], 3,
        "the three vnc-desktops findings"
    );
    let states: Vec<_> = report["gate"]["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, vec!["active", "expired", "unused"]);
    // Strict: expired and unused suppressions fail the gate.
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--suppressions",
        &s,
        "--fail-on",
        "none",
        "--strict-suppressions",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("1 expired suppression(s)")
            && run.stderr.contains("1 unused suppression(s)"),
        "{}",
        run.stderr
    );
    // --warn-expiring 0s: nothing is "expiring".
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--suppressions",
        &s,
        "--fail-on",
        "none",
        "--warn-expiring",
        "0s",
    ]);
    assert!(!run.stdout.contains("EXPIRING"), "{}", run.stdout);
}

/// A suppression whose `match` this run's policy never gives matches nothing: a warning
/// names it (no error: a file shared by jobs with different policies is fine).
#[test]
fn suppressions_with_a_match_label_the_policy_never_gives_are_warned_about() {
    let supp = "version: 1\nsuppressions:\n  - match: SSH\n    reason: a typo\n  \
                - match: 22/ssh\n    reason: any case\n  \
                - match: 8888/Jupyter\n    reason: another policy's\n";
    let (_d, s) = temp_file("suppressions.yaml", supp.as_bytes());
    let (_p, policy) = temp_file(
        "policy.yaml",
        b"critical_ports:\n  - { ports: \"8888\", service: Jupyter }\n",
    );
    let warned = |stderr: &str| -> Vec<usize> {
        (0..3)
            .filter(|i| stderr.contains(&format!("suppressions[{i}].match")))
            .collect()
    };
    let args = [
        "--snapshot",
        DEMO,
        "--suppressions",
        &s,
        "--fail-on",
        "none",
    ];
    let run = driftmux(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(warned(&run.stderr), [0, 2], "{}", run.stderr);
    assert!(
        run.stderr
            .contains("suppressions[0].match: \"SSH\" is no match label of this run's policy"),
        "{}",
        run.stderr
    );
    let mut with_policy = args.to_vec();
    with_policy.extend(["--policy", &policy]);
    let run = driftmux(&with_policy);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(warned(&run.stderr), [0], "{}", run.stderr);
}

/// A suppression naming a project by a name that projects of two domains share applies to
/// both: stderr says so even with `-q`, and so does the JSON report's suppression entry.
#[test]
fn suppressions_naming_a_project_two_domains_share_are_warned_about() {
    let mut snap = demo_cloud();
    let datalab = demo_id(&snap, "projects", "datalab");
    let datalab = datalab.as_str().unwrap();
    snap["projects"].as_array_mut().unwrap().push(
        serde_json::json!({"id": "partners-datalab", "name": "datalab", "domain_id": "partners"}),
    );
    let (_c, cloud) = temp_file("cloud.json", snap.to_string().as_bytes());
    let supp = format!(
        "version: 1\nsuppressions:\n  - project: datalab\n    reason: ours, we thought\n  \
         - project: {datalab}\n    reason: by id\n"
    );
    let (_s, s) = temp_file("suppressions.yaml", supp.as_bytes());
    let out = tempfile::tempdir().unwrap();
    let args = [
        "--snapshot",
        &cloud,
        "--suppressions",
        &s,
        "--fail-on",
        "none",
        "-q",
        "--format",
        "json",
        "--output-dir",
        out.path().to_str().unwrap(),
    ];
    let run = driftmux(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (ids, first) = (
        format!("{datalab}, partners-datalab"),
        "driftmux: warning: suppressions[0] (project datalab): 2 projects are named datalab",
    );
    assert!(run.stderr.contains(first), "{}", run.stderr);
    assert!(run.stderr.contains(&ids), "{}", run.stderr);
    assert!(!run.stderr.contains("suppressions[1]"), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            out.path()
                .join("driftmux-openstack-neutron-security-groups.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let entries = report["gate"]["suppressions"].as_array().unwrap();
    assert_eq!(
        entries[0]["shared_project_ids"],
        serde_json::json!([datalab, "partners-datalab"])
    );
    assert!(entries[1].get("shared_project_ids").is_none());
}

#[test]
fn sarif_and_junit_are_written_beside_the_other_reports() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("b.json");
    let b = baseline.to_str().unwrap();
    create_baseline(b);
    let (_d, changed) = temp_file("changed.json", demo_with_new_rule().as_bytes());
    let run = driftmux(&[
        "--snapshot",
        &changed,
        "--baseline",
        b,
        "--format",
        "sarif,junit",
        "-q",
    ]);
    assert_eq!(run.code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&run.report("sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 27);
    assert_eq!(
        results[0]["baselineState"], "new",
        "failing results come first"
    );
    assert_eq!(results[0]["ruleId"], "openstack-sg-public-6379-redis");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        b
    );
    assert_eq!(
        sarif["runs"][0]["automationDetails"]["id"],
        "driftmux/demo/RegionOne/"
    );
    let xml = run.report("junit.xml");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.contains("type=\"NEW\""));
    assert!(!xml.contains(" file="), "no file attribute on test cases");
}

#[test]
fn sarif_needs_a_location() {
    let run = driftmux(&["--snapshot", DEMO, "--format", "sarif"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--sarif-location"), "{}", run.stderr);
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--format",
        "sarif",
        "--sarif-location",
        "nope.txt",
    ]);
    assert_eq!(run.code, 2);
    let run = driftmux(&[
        "--snapshot",
        DEMO,
        "--format",
        "sarif",
        "--sarif-location",
        "README.md",
        "--fail-on",
        "none",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sarif: serde_json::Value = serde_json::from_str(&run.report("sarif")).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "README.md"
    );
}

#[test]
fn junit_for_a_clean_cloud_has_one_passing_case() {
    let (_d, snap) = temp_file("s.json", br#"{"security_group_rules": []}"#);
    let run = driftmux(&["--snapshot", &snap, "--format", "junit"]);
    assert_eq!(run.code, 0);
    let xml = run.report("junit.xml");
    assert!(
        xml.contains("name=\"no public exposure of critical ports\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase").count(), 1);
}
