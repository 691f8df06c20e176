//! A failure or a kill while writing never leaves a half-written baseline or report: the
//! previous file stays intact, byte for byte.

mod common;
use common::driftmux_env;

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the crash hook (DRIFTMUX_TEST_CRASH_BEFORE_RENAME) exists in debug builds only"
)]
fn a_crash_before_the_rename_leaves_the_previous_baseline_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let out = dir.path().join("reports");
    let b = baseline.to_str().unwrap();
    let o = out.to_str().unwrap();
    let demo = "examples/demo-cloud.json";
    // A committed baseline with one entry, and reports from a first run.
    let run = driftmux_env(
        &[
            "--snapshot",
            demo,
            "--baseline",
            b,
            "--update-baseline",
            "--output-dir",
            o,
            "-q",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    json["findings"].as_array_mut().unwrap().truncate(1);
    let old_baseline = serde_json::to_string_pretty(&json).unwrap() + "\n";
    std::fs::write(&baseline, &old_baseline).unwrap();
    let report = out.join("driftmux-openstack-neutron-security-groups.json");
    let old_report = std::fs::read(&report).unwrap();

    // The process is killed after writing the new report, before renaming it into place...
    let args = [
        "--snapshot",
        demo,
        "--baseline",
        b,
        "--update-baseline",
        "--output-dir",
        o,
        "-q",
        "--format",
        "json",
        "--fail-on",
        "critical",
    ];
    let run = driftmux_env(&args, &[("DRIFTMUX_TEST_CRASH_BEFORE_RENAME", ".json")]);
    assert_eq!(
        run.code, -1,
        "the process was killed by a signal: {}",
        run.stderr
    );
    assert_eq!(std::fs::read(&report).unwrap(), old_report, "report intact");
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        old_baseline,
        "baseline intact"
    );
    // ...or after writing the new baseline, before its rename.
    let run = driftmux_env(
        &args,
        &[("DRIFTMUX_TEST_CRASH_BEFORE_RENAME", "baseline.json")],
    );
    assert_eq!(
        run.code, -1,
        "the process was killed by a signal: {}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        old_baseline,
        "baseline intact"
    );
    assert_ne!(
        std::fs::read(&report).unwrap(),
        old_report,
        "the report before it was replaced whole"
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&std::fs::read(&report).unwrap()).is_ok());
    // Only whole files are there (a leftover temp file is hidden and never read).
    for entry in std::fs::read_dir(&out).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            name.starts_with("driftmux-") || name.starts_with(".driftmux-"),
            "{name}"
        );
    }

    // Without the crash the same run rewrites both.
    let run = driftmux_env(&args, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_ne!(std::fs::read_to_string(&baseline).unwrap(), old_baseline);
}

#[cfg(unix)]
#[test]
fn an_unwritable_directory_fails_and_keeps_the_previous_baseline() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("baselines");
    std::fs::create_dir(&sub).unwrap();
    let baseline = sub.join("b.json");
    std::fs::write(&baseline, "{\"version\": 1, \"findings\": []}\n").unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(sub.join("probe"), "x").is_ok() {
        return; // running as root: permissions are not enforced, nothing to test here
    }
    let run = driftmux_env(
        &[
            "--snapshot",
            "examples/demo-cloud.json",
            "--baseline",
            baseline.to_str().unwrap(),
            "--update-baseline",
        ],
        &[],
    );
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        "{\"version\": 1, \"findings\": []}\n"
    );
}
