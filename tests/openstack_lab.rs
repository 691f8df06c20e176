//! End to end against REAL Keystone, Neutron and nova-api (scripts/openstack-lab).
//!
//! Ignored by plain `cargo test` (it needs the lab); `.ci/run` brings the lab up, seeds it,
//! and runs `cargo test --test openstack_lab -- --ignored`. Without a lab this test fails:
//! it never passes vacuously.

mod common;
use common::driftmux_env;
use serde_json::{json, Value};

fn lab_dir() -> std::path::PathBuf {
    let dir = std::env::var("LAB_DIR").expect(
        "LAB_DIR must point at a running, seeded lab (scripts/openstack-lab/lab up && lab seed)",
    );
    std::path::PathBuf::from(dir)
}

fn audit(extra: &[&str]) -> (common::Run, Value) {
    let lab = lab_dir();
    let clouds = lab.join("clouds.yaml");
    let mut args = vec![
        "--openstack-sg-audit",
        "--os-cloud",
        "lab",
        "--fail-on",
        "none",
        "--format",
        "json",
        // The lab has a Nova cell that does not respond: the audit is incomplete (one
        // error, checked below), and the gate decides all the same.
        "--allow-partial",
    ];
    args.extend_from_slice(extra);
    let run = driftmux_env(
        &args,
        &[("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap())],
    );
    assert_eq!(
        run.code, 0,
        "driftmux against the lab failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    (run, report)
}

/// What `lab seed` recorded that driftmux must find.
fn expected(lab: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(lab.join("expected.json")).unwrap()).unwrap()
}

/// The strings of a JSON array.
fn strings(array: &Value) -> Vec<&str> {
    let items = array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"));
    items.iter().map(|s| s.as_str().unwrap()).collect()
}

#[test]
#[ignore = "needs the real OpenStack lab: scripts/openstack-lab/lab up && seed"]
fn real_keystone_neutron_nova() {
    let lab = lab_dir();
    let expected = expected(&lab);
    let (run, report) = audit(&[]);
    // The one error: the real nova-api's os-services shows the cell that does not respond.
    assert_eq!(report["summary"]["errors"], 1, "{}", run.stderr);
    let error = &report["errors"][0];
    assert_eq!(error["resource"], "servers", "{error}");
    let host = expected["down_cell_hosts"][0].as_str().unwrap();
    let message =
        format!("a Nova cell does not respond: 1 compute host ({host}) with status UNKNOWN");
    assert!(
        error["message"].as_str().unwrap().starts_with(&message),
        "{message}: {error}"
    );
    assert!(
        error["endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/os-services?binary=nova-compute"),
        "{error}"
    );
    // Every rule, though listed as two listings filtered by direction (the real Neutron
    // filters them): the counts of one unfiltered listing when the lab was seeded (run
    // `lab seed` again after adding rules to the lab by hand or with scripts/bench-lab).
    let (ingress, egress) = (
        expected["rules"]["ingress"].as_u64().unwrap(),
        expected["rules"]["egress"].as_u64().unwrap(),
    );
    assert!(ingress > 0 && egress > 0, "{}", expected["rules"]);
    assert_eq!(
        report["summary"]["checked_rules"].as_u64(),
        Some(ingress + egress),
        "{}",
        run.stderr
    );
    let findings = report["findings"].as_array().unwrap();
    let servers = expected["servers"].as_object().unwrap();
    // A port's server in the Nova cell that is down: the real nova-api leaves it out of its
    // paginated listing without an error, and driftmux says so.
    let unlisted = strings(&expected["unlisted_servers"]);
    assert_eq!(unlisted.len(), 1, "{}", expected["unlisted_servers"]);
    let warning = format!(
        "1 server using exposed groups is not in Nova's listing ({}): its name and status are unknown (",
        unlisted[0]
    );
    // A port of lab-vm-2 with port security disabled (the real Neutron keeps no group on it).
    let (port, server) = expected["unfiltered_ports"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let unfiltered = format!(
        "1 server port has port security disabled ({port} of server {}): no security group",
        server.as_str().unwrap()
    );
    // A rule naming an address group of 0.0.0.0/0 (the only such rule: the address groups
    // are listed for it).
    let address_group = expected["address_group_warning"]
        .as_str()
        .unwrap()
        .to_owned();
    let warnings = strings(&report["warnings"]);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    for expected in [&warning, &unfiltered, &address_group] {
        assert!(
            run.stderr.contains(expected.as_str()),
            "{expected}: {}",
            run.stderr
        );
        assert!(
            warnings.iter().any(|w| w.starts_with(expected.as_str())),
            "{expected}: {warnings:?}"
        );
    }

    // Exactly the seeded exposures: nothing more (default groups, egress, private and
    // remote-group rules, ICMP, web-only), nothing less.
    let mut got: Vec<&str> = findings
        .iter()
        .map(|f| f["metadata"]["rule_id"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = expected["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "findings differ from what was seeded");
    for absent in expected["absent"].as_array().unwrap() {
        assert!(
            !got.contains(&absent.as_str().unwrap()),
            "{absent} must not be a finding"
        );
    }

    for e in expected["findings"].as_array().unwrap() {
        let f = findings
            .iter()
            .find(|f| f["metadata"]["rule_id"] == e["rule_id"])
            .unwrap();
        let m = &f["metadata"];
        let ctx = format!("rule {}: {f:#}", e["rule_id"]);
        assert_eq!(m["project_name"], e["project_name"], "{ctx}");
        assert_eq!(m["security_group_name"], e["security_group_name"], "{ctx}");
        assert_eq!(m["ports"], e["ports"], "{ctx}");
        assert_eq!(m["remote_ip_prefix"], e["source"], "{ctx}");
        assert_eq!(f["severity"], e["severity"], "{ctx}");
        assert_eq!(m["matched"], e["matched"], "{ctx}");
        assert_eq!(m["used_by_count"], e["used_by_count"], "{ctx}");
        assert_eq!(
            m["used_by_server_count"], e["used_by_server_count"],
            "{ctx}"
        );
        assert_eq!(m["internet_reachable"], e["internet_reachable"], "{ctx}");
        let mut names: Vec<&str> = m["used_by_servers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| !unlisted.contains(&s["server_id"].as_str().unwrap()))
            .map(|s| s["server_name"].as_str().expect("Nova named the server"))
            .collect();
        names.sort();
        let want_names = strings(&e["server_names"]);
        assert_eq!(names, want_names, "{ctx}");
        for s in m["used_by_servers"].as_array().unwrap() {
            let id = s["server_id"].as_str().unwrap();
            if unlisted.contains(&id) {
                assert_eq!(
                    (&s["server_name"], &s["status"]),
                    (&Value::Null, &Value::Null)
                );
            } else {
                assert_eq!(servers[id], s["server_name"], "{ctx}");
            }
        }
    }
    // The rule with no remote at all (null prefix, null protocol) is all ports from 0.0.0.0/0.
    let no_remote = findings
        .iter()
        .find(|f| f["metadata"]["matched"][0] == "all_ports" && f["metadata"]["protocol"] == "any")
        .unwrap();
    assert!(
        no_remote["evidence"]
            .as_str()
            .unwrap()
            .contains("remote_ip_prefix=None"),
        "{no_remote}"
    );
    // The floating IP is reported on the SSH finding.
    let ssh = findings
        .iter()
        .find(|f| f["metadata"]["matched"][0] == "22/SSH")
        .unwrap();
    assert_eq!(ssh["metadata"]["floating_ips"][0], expected["floating_ip"]);

    // Keystone lists an admin the projects of every domain, names unique only within one:
    // a suppression naming `datalab` applies to the partners domain's `datalab` too, and
    // says so.
    let dir = tempfile::tempdir().unwrap();
    let supp = dir.path().join("suppressions.yaml");
    std::fs::write(
        &supp,
        "version: 1\nsuppressions:\n  - project: datalab\n    match: 22/SSH\n    reason: ours\n",
    )
    .unwrap();
    let (run, gated) = audit(&["--suppressions", supp.to_str().unwrap()]);
    let mut shared = [
        expected["projects"]["datalab"].as_str().unwrap(),
        expected["partners_datalab"].as_str().unwrap(),
    ];
    shared.sort_unstable();
    let entry = &gated["gate"]["suppressions"][0];
    assert_eq!(entry["shared_project_ids"], json!(shared), "{entry}");
    assert!(
        run.stderr.contains("2 projects are named datalab"),
        "{}",
        run.stderr
    );

    // Real Neutron pagination (tiny pages: previous links, an empty last page) gives the
    // same findings.
    let (run, paged) = audit(&["--page-size", "2"]);
    assert_eq!(paged["findings"], report["findings"], "{}", run.stderr);
    assert_eq!(paged["summary"], report["summary"], "{}", run.stderr);
    for line in [
        format!("fetched {ingress} ingress security_group_rules ("),
        format!("fetched {egress} egress security_group_rules ("),
    ] {
        assert!(run.stderr.contains(&line), "{line}: {}", run.stderr);
    }

    // Read from both ends at once (from the first page on): the real Neutron sorts by id
    // the other way on request, and the real Nova by uuid both ways when asked; the
    // listing from the end is proven to start at the end, and the two give exactly the
    // objects, in the order, of listings read from the start.
    let dir = tempfile::tempdir().unwrap();
    let saved = |name: &str, from_end: &str| {
        let snap = dir.path().join(name);
        let (run, _) = audit(&[
            "--page-size",
            "2",
            "--verbose",
            "--read-from-end-after",
            from_end,
            "--save-snapshot",
            snap.to_str().unwrap(),
        ]);
        let mut saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
        saved.as_object_mut().unwrap().remove("collected_at");
        (run, saved)
    };
    let (_, alone) = saved("alone.json", "off");
    let (both_run, both) = saved("both.json", "0s");
    assert!(both == alone, "another snapshot from both ends");
    // Neutron's listings, and Nova's servers (six or more: pages of 2) in uuid order.
    for reversed in ["sort_key=id&sort_dir=desc", "sort_key=uuid&sort_dir=desc"] {
        assert!(
            both_run.stderr.contains(reversed),
            "{reversed}: {}",
            both_run.stderr
        );
    }
    assert!(
        !both_run.stderr.contains("reading from the end stopped"),
        "{}",
        both_run.stderr
    );

    // --save-snapshot then --snapshot: identical findings, and no secret in the snapshot.
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("lab.json");
    let (_, saved) = audit(&["--save-snapshot", snap.to_str().unwrap()]);
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(!text.contains("lab-admin-password"));
    // What the signs of a thinned listing rest on (the warm audit above warned of none):
    // the real Neutron lists a floating IP's own port to an admin, its device_id the
    // floating IP's, on the floating IP's network.
    let cloud: Value = serde_json::from_str(&text).unwrap();
    let fip = &cloud["floatingips"][0];
    let own = cloud["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["device_owner"] == "network:floatingip" && p["device_id"] == fip["id"]);
    let own = own.unwrap_or_else(|| panic!("no port of floating IP {}", fip["id"]));
    assert_eq!(own["network_id"], fip["floating_network_id"]);
    let replay = common::driftmux(&[
        "--snapshot",
        snap.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "none",
        "--allow-partial",
    ]);
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    let replayed: Value = serde_json::from_str(&replay.report("json")).unwrap();
    assert_eq!(replayed["findings"], saved["findings"]);
    // The snapshot records the down cell: replayed, the audit is incomplete too.
    assert_eq!(replayed["errors"], saved["errors"]);
    assert_eq!(replayed["warnings"], saved["warnings"]);
    assert!(
        !run.stdout.contains("lab-admin-password") && !run.stderr.contains("lab-admin-password")
    );

    // Neutron just restarted: its fresh API worker answers some of the first requests with
    // empty lists, or with some objects left out (HTTP 200, its policy rules not loaded
    // yet; a page thinned so is short, and ends its listing). driftmux reads an empty
    // listing again, and asks again for a listing's empty last page, and for the last page
    // of the ingress rules and the ports whatever it held, once the others have ended;
    // when any finds objects, it reads every other Neutron listing again too. So whenever
    // the worker left a sign, the audit is whole. A worker that only thinned the egress
    // rules or the floating IPs once left none (seen once in ~35 cold audits here before
    // the ingress rules and ports were checked so: 9 of 16 egress rules;
    // docs/performance.md); the egress rules' end is now checked with the ingress rules',
    // and an admin's floating IPs by their own ports. A run that lost objects without a
    // sign is still repeated, twice at most: a gap no check covers fails the test only
    // when it recurs.
    for attempt in 1..=3 {
        run_lab("restart-neutron");
        let (cold_run, cold) = audit(&[]);
        let signs = cold_run
            .stderr
            .lines()
            .filter(|l| l.contains("warning: Neutron"))
            .count();
        if cold["findings"] == report["findings"] && cold["summary"] == report["summary"] {
            eprintln!("Neutron restarted: {signs} warning(s) of listings read again");
            break;
        }
        assert_eq!(signs, 0, "a race was caught, and yet:\n{}", cold_run.stderr);
        assert!(
            attempt < 3,
            "three cold audits in a row lost objects without a sign:\n{}",
            cold_run.stderr
        );
    }

    neutron_reloaded_mid_listing(&report);
}

/// Runs `scripts/openstack-lab/lab COMMAND` on the lab (`restart-neutron`: Neutron stopped
/// and started again; `reload-neutron`: its workers replaced without downtime).
fn run_lab(command: &str) {
    let done = std::process::Command::new(common::repo_path("scripts/openstack-lab/lab"))
        .arg(command)
        .env("LAB_DIR", lab_dir())
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "lab {command}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// Neutron's workers replaced while the rules are being listed, one rule a page (uwsgi's
/// graceful reload, as a configuration change or a rolling upgrade does: no request fails,
/// those in flight wait for the fresh workers). The fresh workers answer the next pages with
/// empty lists (their policy rules not loaded yet), which end those listings early, with
/// no error. driftmux asks for each listing's empty last page again once the others have
/// ended, and reads a listing cut short again whole: the same findings as the warm audit.
/// (The thirteenth round's binary saw 21 of the lab's 34 rules and 3 of its 8 findings in
/// such a run, and passed.) The reload lands mid-listing when it is started after the third
/// page of rules; a few tries make sure one did.
fn neutron_reloaded_mid_listing(warm: &Value) {
    let lab = lab_dir();
    let log = lab.join("neutron.log");
    let rules_pages = |from: u64| -> usize {
        let text = std::fs::read(&log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text[(from as usize).min(text.len())..]).into_owned();
        let pages = text
            .lines()
            .filter(|l| l.contains("GET /v2.0/security-group-rules?") && l.contains("marker="));
        pages.count()
    };
    for attempt in 1..=5 {
        let from = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let restart = || {
            let started = std::time::Instant::now();
            while rules_pages(from) < 3 {
                if started.elapsed() > std::time::Duration::from_secs(20) {
                    return false;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            run_lab("reload-neutron");
            true
        };
        let (restarted, (run, report)) = std::thread::scope(|scope| {
            let restarter = scope.spawn(restart);
            let audited = audit(&["--page-size", "1", "--timeout", "60s"]);
            (restarter.join().unwrap(), audited)
        });
        assert!(restarted, "the rules' listing never reached its third page");
        assert_eq!(report["findings"], warm["findings"], "{}", run.stderr);
        assert_eq!(report["summary"], warm["summary"], "{}", run.stderr);
        let cut: Vec<_> = run
            .stderr
            .lines()
            .filter(|l| l.contains("warning: Neutron's listing of "))
            .collect();
        eprintln!(
            "reload {attempt}: {} listing(s) cut short and read again",
            cut.len()
        );
        if !cut.is_empty() {
            return;
        }
    }
    panic!("in 5 reloads of Neutron mid-listing, no listing was cut short: the test did not test");
}

#[test]
#[ignore = "needs the real OpenStack lab: scripts/openstack-lab/lab up && seed"]
fn a_real_project_member_audits_its_own_project() {
    // A member of datalab, as a project's own CI job would run: the real Neutron lists it
    // its project's objects, the real nova-api refuses it every project's servers
    // (all_tenants, HTTP 403) and lists it the project's own.
    let lab = lab_dir();
    let expected = expected(&lab);
    let member = &expected["member"];
    let clouds = std::fs::read_to_string(lab.join("clouds.yaml")).unwrap();
    let clouds = clouds
        .replace(
            "username: admin",
            &format!("username: {}", member["username"].as_str().unwrap()),
        )
        .replace("lab-admin-password", member["password"].as_str().unwrap())
        .replace(
            "project_name: admin",
            &format!("project_name: {}", member["project"].as_str().unwrap()),
        );
    assert!(
        clouds.contains("username: datalab-member") && clouds.contains("project_name: datalab"),
        "the lab's clouds.yaml has changed its form"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clouds.yaml");
    std::fs::write(&path, clouds).unwrap();
    let env = [("OS_CLIENT_CONFIG_FILE", path.to_str().unwrap())];
    let args = [
        "--os-cloud",
        "lab",
        "--fail-on",
        "none",
        "--format",
        "json",
        "-v",
    ];
    let run = driftmux_env(&args, &env);
    // The project's server in the Nova cell that does not respond is in no listing, which
    // os-services (admin-only) cannot tell this token: the one error, naming it.
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0]["message"].as_str().unwrap();
    let down = strings(&expected["unlisted_servers"])[0];
    assert!(
        message.contains(&format!(
            "lacks 1 server that Neutron's ports name ({down})"
        )),
        "{message}"
    );
    assert!(
        run.stderr
            .contains("HTTP 403 (not an admin's token): listing the project's own servers"),
        "{}",
        run.stderr
    );
    // Only datalab's findings, and its servers named from the project's own listing.
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["metadata"]["project_name"] == "datalab"),
        "{report}"
    );
    let mut named: Vec<&str> = (findings.iter())
        .flat_map(|f| f["metadata"]["used_by_servers"].as_array().unwrap())
        .filter_map(|s| s["server_name"].as_str())
        .collect();
    named.sort_unstable();
    named.dedup();
    let mut want: Vec<&str> = (expected["servers"].as_object().unwrap().values())
        .map(|v| v.as_str().unwrap())
        .collect();
    want.sort_unstable();
    assert_eq!(named, want, "{}", run.stderr);
    // The project's address group, listed to its member too: the same warning. An admin's
    // address group, named by a rule an admin added to the project's group, is not listed
    // to it: the listing read again once, then a warning that what it holds is unknown.
    let warnings = strings(&report["warnings"]);
    for key in [
        "address_group_warning",
        "member_unlisted_address_group_warning",
    ] {
        let address_group = expected[key].as_str().unwrap();
        assert!(
            warnings.iter().any(|w| w.starts_with(address_group)),
            "{key}: {warnings:?}"
        );
    }
    // (More than twice when a Neutron API worker that had just started answered empty.)
    let address_groups = run.stderr.matches("/v2.0/address-groups?").count();
    assert!(address_groups >= 2, "{}", run.stderr);
    // --allow-partial: the gate decides.
    let mut partial = args.to_vec();
    partial.push("--allow-partial");
    assert_eq!(driftmux_env(&partial, &env).code, 0);

    // A baseline the admin's audit wrote, shared: the member's audit does not see the
    // other projects' groups, so their entries are not_audited (not fixed), and its
    // --update-baseline keeps them.
    let baseline = dir.path().join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let (_, _) = audit(&["--baseline", baseline, "--update-baseline"]);
    let others = |text: &str| -> Vec<Value> {
        let all = serde_json::from_str::<Value>(text).unwrap()["findings"].clone();
        let all = all.as_array().unwrap().iter().cloned();
        all.filter(|e| e["project_name"] != "datalab").collect()
    };
    let written = std::fs::read_to_string(baseline).unwrap();
    let of_others = others(&written);
    assert!(!of_others.is_empty(), "{written}");
    let mut gated = partial.clone();
    gated.extend(["--baseline", baseline]);
    let run = driftmux_env(&gated, &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let counts = &report["gate"]["counts"];
    assert_eq!(counts["not_audited"], of_others.len(), "{counts}");
    assert_eq!(counts["fixed"], 0, "{counts}");
    assert!(
        run.stderr
            .contains("sees only its project's objects (datalab, id "),
        "{}",
        run.stderr
    );
    gated.push("--update-baseline");
    let run = driftmux_env(&gated, &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        others(&std::fs::read_to_string(baseline).unwrap()),
        of_others
    );

    // A shared suppression file under --strict-suppressions: the webshop's suppression is
    // not audited by the member (not unused), nor is one naming only a group name (any
    // project's); its own project's that matches nothing is unused, by the project's name
    // or by the id of one of its groups.
    let ours = &report["findings"][0]["metadata"];
    assert_eq!(ours["project_name"], "datalab", "{ours}");
    let group = ours["security_group_id"].as_str().unwrap();
    let supp = dir.path().join("suppressions.yaml");
    std::fs::write(
        &supp,
        format!(
            "version: 1\nsuppressions:\n  - project: webshop\n    reason: theirs\n  \
             - security_group: nothing-here\n    reason: any project's\n  \
             - project: datalab\n    security_group: nothing-here\n    reason: stale\n  \
             - security_group: {group}\n    source: 11.0.0.0/8\n    reason: stale\n"
        ),
    )
    .unwrap();
    let mut strict = partial.clone();
    strict.extend([
        "--suppressions",
        supp.to_str().unwrap(),
        "--strict-suppressions",
    ]);
    let run = driftmux_env(&strict, &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let states: Vec<&str> = (report["gate"]["suppressions"].as_array().unwrap().iter())
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["not_audited", "not_audited", "unused", "unused"],
        "{report}"
    );
}

#[test]
#[ignore = "needs the real OpenStack lab: scripts/openstack-lab/lab up && seed"]
fn real_keystone_rejects_a_wrong_password() {
    let lab = lab_dir();
    let clouds = std::fs::read_to_string(lab.join("clouds.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("clouds.yaml");
    std::fs::write(
        &wrong,
        clouds.replace("lab-admin-password", "canary-wrong-password"),
    )
    .unwrap();
    let run = driftmux_env(
        &["--openstack-sg-audit", "--os-cloud", "lab"],
        &[("OS_CLIENT_CONFIG_FILE", wrong.to_str().unwrap())],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert!(!run.stderr.contains("canary"), "{}", run.stderr);
}
