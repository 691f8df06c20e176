//! Live collection over real HTTP on 127.0.0.1, against a fake Keystone + Neutron + Nova:
//! authentication paths, catalog, pagination, fields, errors and faults, and the
//! `--save-snapshot` round trip.

mod common;
#[path = "common/fake_openstack.rs"]
mod fake_openstack;

use common::{driftmux, driftmux_env, temp_file, Run};
use fake_openstack::{Config, FakeOpenStack, Fault};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const DEMO: &str = "examples/demo-cloud.json";

fn demo() -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::repo_path(DEMO)).unwrap()).unwrap()
}

/// The demo cloud with a second external network, [`PUBLIC_2`], that nothing is on yet (it
/// sorts last among the networks: [`Fault::Partial`] leaves it out).
fn demo_with_second_public_network() -> Value {
    let mut cloud = demo();
    let network = serde_json::json!({
        "id": PUBLIC_2, "name": "public-2", "router:external": true, "status": "ACTIVE"});
    cloud["networks"].as_array_mut().unwrap().push(network);
    cloud
}

const PUBLIC_2: &str = "ffffffff-0000-5000-8000-000000000001";

fn start() -> FakeOpenStack {
    FakeOpenStack::start(Config::new(demo()))
}

fn openrc(fake: &FakeOpenStack) -> Vec<(&'static str, String)> {
    vec![
        ("OS_AUTH_URL", fake.auth_url()),
        ("OS_USERNAME", "admin".into()),
        ("OS_PASSWORD", "canary-password-123".into()),
        ("OS_PROJECT_NAME", "admin".into()),
        ("OS_USER_DOMAIN_NAME", "Default".into()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".into()),
        ("OS_REGION_NAME", "RegionOne".into()),
    ]
}

fn run_live(fake: &FakeOpenStack, extra_env: &[(&str, &str)], args: &[&str]) -> Run {
    let env = openrc(fake);
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.extend_from_slice(extra_env);
    let mut all = vec!["--openstack-sg-audit"];
    if !args.contains(&"--retries") {
        all.extend(["--retries", "2"]);
    }
    all.extend_from_slice(args);
    driftmux_env(&all, &pairs)
}

/// The run is incomplete (exit 3) and its first collection error says `message`.
fn assert_incomplete(run: &Run, message: &str) {
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let first = report["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(first.contains(message), "{report}");
}

fn findings(run: &Run) -> Value {
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    report["findings"].clone()
}

fn snapshot_findings() -> Value {
    let run = driftmux(&["--snapshot", DEMO, "--format", "json", "--fail-on", "none"]);
    findings(&run)
}

#[test]
fn openrc_audit_matches_the_snapshot_audit() {
    let fake = start();
    let run = run_live(
        &fake,
        &[],
        &[
            "--format",
            "json,md",
            "--fail-on",
            "none",
            "--page-size",
            "7",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Errors: 0"), "{}", run.stdout);
    assert_eq!(findings(&run), snapshot_findings());
    // Pagination: limit on every list call, markers followed, hrefs' internal host ignored.
    // The rules come as two listings, one per direction: 49 ingress rules in 7 full pages
    // and an empty one, 37 egress rules in 6 pages; then one request for the rules of both
    // directions after where they ended (in case a worker cut a listing short); nothing
    // else on that path.
    let all_rules = fake.requests("/network/v2.0/security-group-rules");
    for (direction, pages) in [("direction=ingress", 8), ("direction=egress", 6)] {
        let rules = rules_requests(&fake, direction);
        assert_eq!(rules.len(), pages, "{rules:?}");
        assert!(rules.iter().all(|r| r.contains("limit=7")), "{rules:?}");
        assert!(
            rules.iter().skip(1).all(|r| r.contains("marker=")),
            "{rules:?}"
        );
        assert!(rules[0].contains("fields=remote_ip_prefix"), "{rules:?}");
    }
    assert_eq!(rules_requests(&fake, RULE_ENDS).len(), 1);
    assert_eq!(all_rules.len(), 8 + 6 + 1, "{all_rules:?}");
    // Never a project-filtered security-group listing (it would create default groups).
    assert!(fake.requests("project_id=").is_empty());
    let servers = fake.requests("/compute/v2.1/servers/detail");
    assert!(
        servers.iter().all(|r| r.contains("all_tenants=1")),
        "{servers:?}"
    );
    // Progress in CI: one plain line per resource.
    assert_stderr_has(
        &run,
        &[
            "fetched 49 ingress security_group_rules (8 page(s))",
            "fetched 37 egress security_group_rules (6 page(s))",
        ],
    );
    assert!(!run.stderr.contains("canary"), "{}", run.stderr);
}

#[test]
fn clouds_yaml_and_secure_yaml() {
    let fake = start();
    let dir = tempfile::tempdir().unwrap();
    let clouds = dir.path().join("clouds.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:\n  lab:\n    auth:\n      auth_url: {}\n      username: admin\n      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n  other:\n    auth:\n      auth_url: http://127.0.0.1:1\n",
            fake.auth_url()
        ),
    )
    .unwrap();
    let secure = dir.path().join("secure.yaml");
    std::fs::write(
        &secure,
        "clouds:\n  lab:\n    auth:\n      password: canary-password-123\n",
    )
    .unwrap();
    let env = [
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("OS_CLIENT_SECURE_FILE", secure.to_str().unwrap()),
    ];
    let run = driftmux_env(
        &[
            "--openstack-sg-audit",
            "--os-cloud",
            "lab",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["inventory"]["cloud"], "lab");
    // OS_CLOUD selects the same cloud.
    let mut env2 = env.to_vec();
    env2.push(("OS_CLOUD", "lab"));
    let run = driftmux_env(
        &[
            "--openstack-sg-audit",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        &env2,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn application_credential_auth() {
    let fake = start();
    let env = [
        ("OS_AUTH_URL", fake.auth_url()),
        ("OS_AUTH_TYPE", "v3applicationcredential".into()),
        ("OS_APPLICATION_CREDENTIAL_ID", "appcred-1".into()),
        (
            "OS_APPLICATION_CREDENTIAL_SECRET",
            "canary-appcred-secret".into(),
        ),
    ];
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = driftmux_env(
        &[
            "--openstack-sg-audit",
            "--fail-on",
            "none",
            "--format",
            "json",
        ],
        &pairs,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("canary") && !run.stdout.contains("canary"));
}

#[test]
fn wrong_password_exits_3_with_keystones_message_and_no_secret() {
    let fake = start();
    let run = run_live(&fake, &[("OS_PASSWORD", "canary-wrong-password")], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("authentication failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("The request you have made requires authentication."),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\n  help: check the credentials"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("canary"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(run.out_dir.path()).unwrap().count(),
        0,
        "no report"
    );
}

#[test]
fn transient_5xx_is_retried_and_passes() {
    let fake = start();
    fake.fault(
        "/network/v2.0/security-group-rules?direction=ingress",
        [Fault::Status(503), Fault::Status(502)],
    );
    fake.fault("/compute/v2.1/servers/detail", [Fault::Status(500)]);
    let started = std::time::Instant::now();
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    // Backing off (0.5 s, then 1 s, at least) before each retry, not hammering the API.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1500),
        "waited before retrying"
    );

    // Keystone unavailable for a moment: asked again too, and the audit goes on.
    let fake = start();
    let busy = [Fault::Status(503), Fault::Status(502)];
    fake.fault("/identity/v3/auth/tokens", busy);
    let run = run_live(&fake, &[], &["--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests("/identity/v3/auth/tokens").len(), 3);
}

#[test]
fn persistent_5xx_on_rules_is_incomplete_never_a_pass() {
    let fake = start();
    fake.fault(
        "/network/v2.0/security-group-rules",
        vec![Fault::Status(500); 10],
    );
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json,md"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stdout.contains("Errors: 1"), "{}", run.stdout);
    assert!(
        run.stdout.contains("security_group_rules"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("/network/v2.0/security-group-rules (HTTP 500)"),
        "{}",
        run.stdout
    );
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["gate"]["verdict"], "incomplete");
    assert_eq!(report["errors"][0]["status"], 500);
    // --allow-partial does not help: rules are required.
    let fake = start();
    fake.fault(
        "/network/v2.0/security-group-rules",
        vec![Fault::Status(500); 10],
    );
    assert_eq!(
        run_live(&fake, &[], &["--fail-on", "none", "--allow-partial"]).code,
        3
    );
}

/// A client error (400, 403, 404, 409) will not change on a retry: the request is made
/// once, and its error names the endpoint and the status. On a listing that decides
/// findings (ports) the audit is incomplete whatever the flags; on an enrichment listing
/// (servers) too, unless --allow-partial lets the gate decide; from Keystone, nothing is
/// read and no report is written.
#[test]
fn client_errors_are_not_retried_and_name_the_endpoint() {
    for status in [400, 403, 404, 409] {
        let fake = start();
        fake.fault("/network/v2.0/ports", vec![Fault::Status(status); 10]);
        let run = run_live(
            &fake,
            &[],
            &["--fail-on", "none", "--allow-partial", "--format", "json"],
        );
        assert_eq!(run.code, 3, "{status}: {}", run.stderr);
        let said = format!(
            "ports {}/network/v2.0/ports (HTTP {status}): injected",
            fake.base
        );
        assert!(run.stdout.contains(&said), "{status}: {}", run.stdout);
        let report: Value = serde_json::from_str(&run.report("json")).unwrap();
        assert_eq!(report["gate"]["verdict"], "incomplete");
        assert_eq!(report["errors"][0]["resource"], "ports");
        assert_eq!(report["errors"][0]["status"], status);
        assert_eq!(fake.requests("/network/v2.0/ports?").len(), 1, "{status}");
    }

    let servers = || {
        let fake = start();
        fake.fault("/compute/v2.1/servers/detail", vec![Fault::Status(409); 10]);
        fake
    };
    let fake = servers();
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let said = format!(
        "servers {}/compute/v2.1/servers/detail (HTTP 409)",
        fake.base
    );
    assert!(run.stdout.contains(&said), "{}", run.stdout);
    assert_eq!(fake.requests("/compute/v2.1/servers/detail").len(), 1);
    let fake = servers();
    let run = run_live(&fake, &[], &["--fail-on", "none", "--allow-partial"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let fake = start();
    fake.fault("/identity/v3/auth/tokens", vec![Fault::Status(409); 10]);
    let run = run_live(&fake, &[], &["--fail-on", "none"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let said = format!(
        "{}/v3/auth/tokens (HTTP 409): injected 409",
        fake.auth_url()
    );
    assert!(run.stderr.contains(&said), "{}", run.stderr);
    assert_eq!(fake.requests("/identity/v3/auth/tokens").len(), 1);
    assert_eq!(fake.log().len(), 1, "nothing read without a token");
    let written = std::fs::read_dir(run.out_dir.path()).unwrap().count();
    assert_eq!(written, 0, "no report");

    // Keystone refusing (403): asked once, the credentials named as the cause.
    let fake = start();
    fake.fault("/identity/v3/auth/tokens", vec![Fault::Status(403); 3]);
    let run = run_live(&fake, &[], &["--fail-on", "none"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("authentication failed"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests("/identity/v3/auth/tokens").len(), 1);
}

#[test]
fn forbidden_servers_degrade_enrichment_and_allow_partial_lets_the_gate_decide() {
    // A project-scoped (non-admin) user: Nova refuses all_tenants, Keystone refuses
    // listing all projects (driftmux falls back to /v3/auth/projects).
    let fake = start();
    let env = [
        ("OS_USERNAME", "tenant"),
        ("OS_PASSWORD", "tenant-pass"),
        ("OS_PROJECT_NAME", "datalab"),
    ];
    let run = run_live(&fake, &env, &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["resource"], "servers");
    assert_eq!(errors[0]["status"], 403);
    // The project's own servers listed instead; this fake's Neutron lists every project's
    // ports to it, and the servers they name in other projects stay unknown.
    let servers = fake.requests("/compute/v2.1/servers/detail");
    assert_eq!(servers.len(), 2, "{servers:?}");
    assert!(!servers[1].contains("all_tenants"), "{servers:?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Nova refused to list every project's servers (all_tenants) to this token, and its \
             listing of the project's own servers lacks 10 servers that Neutron's ports name"
        ),
        "{message}"
    );
    assert!(!fake.requests("/identity/v3/auth/projects").is_empty());
    let run = run_live(
        &fake,
        &env,
        &["--fail-on", "none", "--format", "json", "--allow-partial"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Errors: 1"));
    let run = run_live(&fake, &env, &["--allow-partial"]);
    assert_eq!(
        run.code, 1,
        "the gate decides: the demo has new high findings"
    );
}

/// An admin's token refused Nova's `all_tenants` listing (a policy that forbids it) is a
/// collection error on the servers, not a fallback to the admin project's own servers:
/// that fallback is for tokens that are not an admin's. Keystone's projects alike.
#[test]
fn an_admin_refused_every_projects_servers_or_projects_is_an_error() {
    // The listing at `path` refused: one collection error, on `resource`, with the 403.
    let refused = |path: &str, resource: &str| {
        let fake = start();
        fake.fault(path, [Fault::Status(403)]);
        let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
        assert_eq!(run.code, 3, "{}", run.stderr);
        let report: Value = serde_json::from_str(&run.report("json")).unwrap();
        let errors = report["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (&errors[0]["resource"], &errors[0]["status"]),
            (&resource.into(), &403.into())
        );
        fake
    };
    let all = "/compute/v2.1/servers/detail?all_tenants=1";
    let fake = refused(all, "servers");
    let servers = fake.requests("/compute/v2.1/servers/detail");
    assert_eq!(fake.requests(all), servers);
    // Keystone's projects alike: no fallback to the admin's own (`/v3/auth/projects`).
    let fake = refused("/identity/v3/projects", "projects");
    assert!(fake.requests("/identity/v3/auth/projects").is_empty());
}

#[test]
fn a_project_scoped_token_lists_its_own_servers() {
    // Neutron lists a project's own ports to its members: the servers they name are the
    // project's own, which Nova lists without all_tenants. The audit is whole.
    let mut cloud = demo();
    let datalab = (cloud["projects"].as_array().unwrap().iter())
        .find(|p| p["name"] == "datalab")
        .unwrap()["id"]
        .clone();
    let ports = cloud["ports"].as_array_mut().unwrap();
    ports.retain(|p| p["project_id"] == datalab);
    let fake = FakeOpenStack::start(Config::new(cloud.clone()));
    let env = [
        ("OS_USERNAME", "tenant"),
        ("OS_PASSWORD", "tenant-pass"),
        ("OS_PROJECT_NAME", "datalab"),
    ];
    let run = run_live(
        &fake,
        &env,
        &["--fail-on", "none", "--format", "json", "-v"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Errors: 0"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("HTTP 403 (not an admin's token): listing the project's own servers"),
        "{}",
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let named: Vec<&str> = (report["findings"].as_array().unwrap().iter())
        .flat_map(|f| f["metadata"]["used_by_servers"].as_array().unwrap())
        .map(|s| s["server_name"].as_str().unwrap())
        .collect();
    assert!(!named.is_empty(), "{report}");
    assert!(
        !run.stderr.contains("not in Nova's listing"),
        "{}",
        run.stderr
    );
    // The floating IPs' own ports, the free sign of a floating IPs' listing cut short,
    // are not listed to it: their last page is asked for again instead.
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 2);
    let whole = findings(&run);
    let fake = FakeOpenStack::start(Config::new(cloud));
    fake.fault("/network/v2.0/floatingips", [Fault::Partial]);
    let run = run_live(&fake, &env, &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), whole);
    assert_stderr_has(
        &run,
        &[
            "warning: Neutron's listing of floatingips ended on a page of 2 object(s) (2 \
           listed), and that page held 4 when asked again: read again whole, 4 floatingips",
        ],
    );
}

/// Nova leaves the servers of a cell that does not respond out of its listing, without an
/// error; its `os-services` (2.69) shows the cell's compute hosts with status `UNKNOWN`:
/// enrichment is incomplete, as when the servers cannot be listed.
#[test]
fn a_nova_cell_that_does_not_respond_makes_enrichment_incomplete() {
    let mut config = Config::new(demo());
    config.down_cell_hosts = vec!["cell2-compute-7".into(), "cell2-compute-3".into()];
    let fake = FakeOpenStack::start(config);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_incomplete(
        &run,
        "a Nova cell does not respond: 2 compute hosts (cell2-compute-7 and 1 more) with \
         status UNKNOWN; Nova leaves its servers out of the listing",
    );
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["resource"], "servers");
    assert!(
        errors[0]["endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/compute/v2.1/os-services?binary=nova-compute"),
        "{errors:?}"
    );
    // One request (the fake shows the down hosts only at 2.69 or later, as Nova does: the
    // error proves driftmux asked at that microversion).
    assert_eq!(fake.requests("os-services").len(), 1);
    assert_eq!(findings(&run), snapshot_findings());
    // --allow-partial: the gate decides, the error stays in the reports.
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--format", "json", "--allow-partial"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Errors: 1"), "{}", run.stdout);

    // Not knowing is no error: os-services refused (policy), absent, or failing.
    for status in [403, 404, 500] {
        let fake = FakeOpenStack::start(Config::new(demo()));
        fake.fault("/os-services", vec![Fault::Status(status); 3]);
        let run = run_live(&fake, &[], &["--fail-on", "none", "--verbose"]);
        assert_eq!(run.code, 0, "{status}: {}", run.stderr);
        assert!(run.stdout.contains("Errors: 0"), "{}", run.stdout);
        assert!(
            run.stderr
                .contains("whether every Nova cell answered is unknown"),
            "{status}: {}",
            run.stderr
        );
    }
    // A cloud whose cells all answer: nothing to say.
    let fake = start();
    let run = run_live(&fake, &[], &["--fail-on", "none", "--verbose"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("a Nova cell does not respond")
            && !run.stderr.contains("every Nova cell"),
        "{}",
        run.stderr
    );
}

/// A Neutron API worker that has just started can answer its first concurrent requests
/// with empty lists (HTTP 200; seen on the lab's real Neutron): an empty listing is read
/// again, alone, once every listing has ended, and the audit is the whole cloud's.
#[test]
fn empty_neutron_listings_are_read_again() {
    let fake = start();
    for path in [
        "/network/v2.0/ports",
        "/network/v2.0/security-groups",
        "/security-group-rules?direction=ingress",
    ] {
        fake.fault(path, [Fault::Empty]);
    }
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    for (resource, listed) in [
        ("ingress security_group_rules", 49),
        ("security_groups", 18),
        ("ports", 17),
    ] {
        let line = format!(
            "warning: Neutron listed no {resource} at first, then {listed} when asked again"
        );
        assert!(run.stderr.contains(&line), "{line}: {}", run.stderr);
    }
    // Each emptied listing read again; then, a race caught, the others too (once each).
    assert_eq!(fake.requests("/network/v2.0/ports?").len(), 2);
    assert_eq!(rules_requests(&fake, "direction=ingress").len(), 2);
    // (The egress rules also had their last page asked for again: with the ingress
    // rules empty at first, where both ended could not be checked in one request.)
    assert_eq!(rules_requests(&fake, "direction=egress").len(), 3);
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 2);

    // A listing empty twice is empty: read twice, no warning.
    let fake = start();
    fake.fault("/network/v2.0/floatingips", [Fault::Empty, Fault::Empty]);
    let run = run_live(&fake, &[], &["--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 2);
    assert!(!run.stderr.contains("Neutron listed no"), "{}", run.stderr);

    // Address groups are read again only when a rule names one: the demo has such a rule.
    let fake = start();
    fake.fault("/network/v2.0/address-groups", [Fault::Empty]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert!(
        run.stderr
            .contains("Neutron listed no address_groups at first, then 1"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests("/network/v2.0/address-groups?").len(), 2);
    // Without that rule, address groups are not asked for at all: nothing reads them (and
    // a listing that would fail cannot make the audit incomplete).
    let mut cloud = demo();
    cloud["security_group_rules"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["remote_address_group_id"].is_null());
    let fake = FakeOpenStack::start(Config::new(cloud));
    fake.fault("/network/v2.0/address-groups", [Fault::Status(500)]);
    let run = run_live(&fake, &[], &["--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Errors: 0"), "{}", run.stdout);
    assert_eq!(fake.requests("/network/v2.0/address-groups").len(), 0);
}

/// Neutron refuses to delete an address group that a rule names: a listing lacking one
/// was cut short (a worker that had just started, which the fake's `Thinned` plays), and
/// is read again once. The audit is then the snapshot's, address-group warning included;
/// lacking it twice, the audit says that what it holds is unknown.
#[test]
fn address_groups_lacking_one_a_rule_names_are_read_again() {
    let mut cloud = demo();
    // A second address group after the first in id order, public, named by the rule.
    let second = "f0000000-0000-4000-8000-000000000001";
    let groups = cloud["address_groups"].as_array_mut().unwrap();
    groups.push(serde_json::json!({"id": second, "name": "anywhere", "addresses": ["0.0.0.0/0"]}));
    for rule in cloud["security_group_rules"].as_array_mut().unwrap() {
        if !rule["remote_address_group_id"].is_null() {
            rule["remote_address_group_id"] = second.into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("cloud.json");
    std::fs::write(&snapshot, cloud.to_string()).unwrap();
    let offline = driftmux(&[
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    let warnings = |run: &Run, about: &str| -> Vec<String> {
        let report: Value = serde_json::from_str(&run.report("json")).unwrap();
        let all = report["warnings"].as_array().unwrap().iter();
        let all = all.map(|w| w.as_str().unwrap().to_owned());
        all.filter(|w| w.contains(about)).collect()
    };
    let public = warnings(&offline, "holding a public source");
    assert_eq!(public.len(), 1, "{}", offline.stderr);

    let fake = FakeOpenStack::start(Config::new(cloud.clone()));
    fake.fault("/network/v2.0/address-groups", [Fault::Thinned]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), findings(&offline));
    assert_eq!(warnings(&run, "holding a public source"), public);
    let said = format!(
        "Neutron's listing of address_groups lacked 1 that rules name (first {second}); read \
         again, it lacks 0"
    );
    assert_eq!(warnings(&run, &said).len(), 1, "{}", run.stderr);
    assert_eq!(fake.requests("/network/v2.0/address-groups?").len(), 2);

    // Lacking it again: read twice, and the audit's warning says it is unknown.
    let fake = FakeOpenStack::start(Config::new(cloud));
    fake.fault(
        "/network/v2.0/address-groups",
        [Fault::Thinned, Fault::Thinned],
    );
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.requests("/network/v2.0/address-groups?").len(), 2);
    assert!(warnings(&run, "lacked").is_empty(), "{}", run.stderr);
    assert!(warnings(&run, "holding a public source").is_empty());
    let unknown = warnings(&run, "an address group that Neutron did not list");
    assert_eq!(unknown.len(), 1, "{}", run.stderr);
}

/// Address groups are listed once a rule names one, also when only the rules read again
/// whole (a listing cut short) name it: the address group's warning is the snapshot's.
#[test]
fn address_groups_are_listed_when_rules_read_again_name_one() {
    let mut cloud = demo();
    let rules = cloud["security_group_rules"].as_array_mut().unwrap();
    // The rule naming an address group right after the first ingress rule, as stored:
    // `Fault::Partial` (every other object left out) leaves it out of the first read.
    let at = rules
        .iter()
        .position(|r| !r["remote_address_group_id"].is_null())
        .unwrap();
    let named = rules.remove(at);
    assert_eq!(named["direction"], "ingress");
    let first = rules
        .iter()
        .position(|r| r["direction"] == "ingress")
        .unwrap();
    rules.insert(first + 1, named);
    // Its address group public: the audit warns about it.
    cloud["address_groups"][0]["addresses"] = serde_json::json!(["0.0.0.0/0", "::/0"]);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("cloud.json");
    std::fs::write(&snapshot, cloud.to_string()).unwrap();
    let fake = FakeOpenStack::start(Config::new(cloud));
    fake.fault("/security-group-rules?direction=ingress", [Fault::Partial]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("read again whole, 49 ingress"),
        "{}",
        run.stderr
    );
    assert!(!fake.requests("/network/v2.0/address-groups?").is_empty());
    let snapshot = snapshot.to_str().unwrap();
    let offline = driftmux(&[
        "--snapshot",
        snapshot,
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(findings(&run), findings(&offline));
    let address_group_warning = |run: &Run| -> Vec<Value> {
        let report: Value = serde_json::from_str(&run.report("json")).unwrap();
        let warnings = report["warnings"].as_array().unwrap().iter();
        let about = |w: &&Value| w.as_str().unwrap().contains("address group");
        warnings.filter(about).cloned().collect()
    };
    assert_eq!(address_group_warning(&offline).len(), 1);
    assert_eq!(address_group_warning(&run), address_group_warning(&offline));
}

/// A worker that has just started can also leave some of a page's objects out. The
/// listings that decide findings have their last page asked for again (the ingress rules
/// here: their only page held 25 of 49); and when the checks catch such a worker (a
/// listing empty at first, or cut short), every other Neutron listing is read again,
/// alone: the egress rules it answered in part are whole again. Without a race caught,
/// nothing is read twice.
#[test]
fn after_a_race_every_neutron_listing_is_read_again() {
    let fake = start();
    fake.fault("/network/v2.0/ports", [Fault::Empty]);
    fake.fault("/security-group-rules?direction=ingress", [Fault::Partial]);
    fake.fault("/security-group-rules?direction=egress", [Fault::Partial]);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("raced.json");
    let saved = saved.to_str().unwrap();
    let args = [
        "--fail-on",
        "none",
        "--format",
        "json",
        "--save-snapshot",
        saved,
    ];
    let run = run_live(&fake, &[], &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert!(run.stdout.contains("Checked rules: 86"), "{}", run.stdout);
    // The snapshot keeps the warnings: its audit says the same.
    let replay = driftmux(&["--snapshot", saved, "--fail-on", "none", "--format", "json"]);
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    let warnings = |run: &Run| -> Value {
        let report: Value = serde_json::from_str(&run.report("json")).unwrap();
        report["warnings"].clone()
    };
    assert_eq!(warnings(&replay), warnings(&run));
    assert!(
        warnings(&run).as_array().unwrap().len() >= 2,
        "{}",
        run.stderr
    );
    assert_stderr_has(
        &run,
        &[
            "warning: Neutron listed no ports at first, then 17 when asked again",
            "warning: Neutron's listing of ingress security_group_rules ended after 25 \
             object(s), and Neutron held at least 10 more after where it ended when asked \
             again: read again whole, 49 ingress security_group_rules",
            "warning: Neutron's listing of egress security_group_rules ended after 19 \
             object(s), and Neutron held at least 10 more after where it ended when asked \
             again: read again whole, 37 egress security_group_rules",
        ],
    );
    // Every Neutron listing read again: the ports and both rule listings whole at their
    // checks (one request for where the rules ended first), the others after the race. The rest
    // came back the same, without a warning.
    assert_requests(
        &fake,
        (2, 2, 1),
        &[
            ("/network/v2.0/ports?", 2),
            ("/network/v2.0/security-groups?", 2),
            ("/network/v2.0/floatingips?", 2),
            ("/network/v2.0/networks?", 2),
            ("/network/v2.0/address-groups?", 2),
        ],
    );
    assert_eq!(
        run.stderr.matches("warning: Neutron").count(),
        3,
        "{}",
        run.stderr
    );

    // A group left out of its listing, and nothing else: the rules name it, which is
    // sign enough (no request to see it); every listing is read again.
    let fake = start();
    fake.fault("/network/v2.0/security-groups", [Fault::Partial]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert_stderr_has(
        &run,
        &[
            "which its listing of security groups did not have: every Neutron listing read again",
            "warning: Neutron listed 9 security_groups at first, then 18 when read again",
        ],
    );
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 2);

    // A floating IP of an external network left out of the networks' listing: the same.
    // Or a router's gateway on it (a gateway is always on an external network).
    let networks_left_out = |cloud: Value, what: &str| {
        let fake = FakeOpenStack::start(Config::new(cloud));
        fake.fault("/network/v2.0/networks", [Fault::Partial]);
        let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_stderr_has(
            &run,
            &[
                &format!(
                    "Neutron listed {what} of network {PUBLIC_2}, which its listing of external \
                     networks did not have: every Neutron listing read again"
                ),
                "warning: Neutron listed 1 networks at first, then 2 when read again",
            ],
        );
        assert_eq!(fake.requests("/network/v2.0/security-groups?").len(), 2);
        assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 2);
    };
    let mut cloud = demo_with_second_public_network();
    cloud["floatingips"][0]["floating_network_id"] = PUBLIC_2.into();
    let fip = cloud["floatingips"][0]["id"].as_str().unwrap().to_owned();
    networks_left_out(cloud, &format!("floating IP {fip}"));
    let mut cloud = demo_with_second_public_network();
    let ports = cloud["ports"].as_array_mut().unwrap();
    let gateway = (ports.iter_mut())
        .find(|p| p["device_owner"] == "network:router_gateway")
        .unwrap();
    gateway["network_id"] = PUBLIC_2.into();
    let gateway = gateway["id"].as_str().unwrap().to_owned();
    networks_left_out(
        cloud,
        &format!("port {gateway} (a floating IP's or a router gateway's)"),
    );

    // A floating IP left out of its listing, which its own port names (Neutron makes one
    // for each floating IP, on its external network): the same.
    let mut cloud = demo();
    let fip_ports: Vec<Value> = (cloud["floatingips"].as_array().unwrap().iter())
        .enumerate()
        .map(|(i, fip)| {
            serde_json::json!({
                "id": format!("eeeeeeee-0000-5000-8000-00000000000{i}"),
                "network_id": fip["floating_network_id"], "device_id": fip["id"],
                "device_owner": "network:floatingip", "project_id": "", "security_groups": [],
                "fixed_ips": [{"ip_address": fip["floating_ip_address"]}]})
        })
        .collect();
    cloud["ports"].as_array_mut().unwrap().extend(fip_ports);
    let fake = FakeOpenStack::start(Config::new(cloud.clone()));
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning: Neutron"), "{}", run.stderr);
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 1);
    let whole = findings(&run);
    let fake = FakeOpenStack::start(Config::new(cloud.clone()));
    fake.fault("/network/v2.0/floatingips", [Fault::Partial]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), whole);
    assert_stderr_has(
        &run,
        &[
            "which its listing of floating IPs did not have: every Neutron listing read again",
            "warning: Neutron listed 2 floatingips at first, then 4 when read again",
        ],
    );
    // The floating IPs read again alone first (4 now: a race), then with every listing.
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 3);
    assert_eq!(fake.requests("/network/v2.0/security-groups?").len(), 2);
    // Read again alone, as many floating IPs but not the same ones: a race too.
    let fake = FakeOpenStack::start(Config::new(cloud));
    let halves = [Fault::Partial, Fault::PartialOther];
    fake.fault("/network/v2.0/floatingips", halves);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), whole);
    assert!(!run.stderr.contains("left behind"), "{}", run.stderr);
    assert_stderr_has(
        &run,
        &["which its listing of floating IPs did not have: every Neutron listing read again"],
    );
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 3);

    // A floating IP's port that outlived its floating IP: the floating IPs read again alone,
    // the same, and it is said to be left behind (no race: nothing is missing from the
    // listings, and nothing else is read again).
    let mut cloud = demo();
    let stale = serde_json::json!({
        "id": "eeeeeeee-0000-5000-8000-00000000000f", "network_id": cloud["floatingips"][0]["floating_network_id"],
        "device_id": "dddddddd-0000-5000-8000-000000000001", "device_owner": "network:floatingip",
        "project_id": "", "security_groups": [], "fixed_ips": []});
    cloud["ports"].as_array_mut().unwrap().push(stale);
    let fake = FakeOpenStack::start(Config::new(cloud));
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    let what = "port eeeeeeee-0000-5000-8000-00000000000f of floating IP \
                dddddddd-0000-5000-8000-000000000001, which its listing of floating IPs did not have";
    assert_stderr_has(
        &run,
        &[&format!(
            "warning: Neutron listed {what}, also when the floating IPs were read again (the \
             same 4): not a listing cut short, but a port left behind in Neutron or a \
             floating IP deleted while the listings were read; nothing else read again"
        )],
    );
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 2);
    assert_requests(
        &fake,
        (1, 1, 1),
        &[
            ("/network/v2.0/ports?", 2),
            ("/network/v2.0/security-groups?", 1),
            ("/network/v2.0/networks?", 1),
        ],
    );
    assert_eq!(
        run.stderr.matches("warning: Neutron").count(),
        1,
        "{}",
        run.stderr
    );

    // A rule of a security group that Neutron still does not list when every listing is
    // read again: not a race but an object left behind, and said so once the listings were
    // read twice (no third read).
    let mut cloud = demo();
    let rules = cloud["security_group_rules"].as_array().unwrap();
    let mut orphan = (rules.iter())
        .find(|r| r["direction"] == "ingress")
        .unwrap()
        .clone();
    orphan["id"] = "ffffffff-0000-5000-8000-000000000001".into();
    orphan["security_group_id"] = "ffffffff-0000-5000-8000-0000000000aa".into();
    cloud["security_group_rules"]
        .as_array_mut()
        .unwrap()
        .push(orphan);
    let fake = FakeOpenStack::start(Config::new(cloud));
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let what = "rule ffffffff-0000-5000-8000-000000000001 of security group \
                ffffffff-0000-5000-8000-0000000000aa, which its listing of security groups did \
                not have";
    assert_stderr_has(
        &run,
        &[
            &format!("warning: Neutron listed {what}: every Neutron listing read again"),
            &format!(
                "warning: Neutron still listed {what}, when every listing was read again: an \
                 object left behind in Neutron (not a race), which the audit takes as Neutron \
                 lists it"
            ),
        ],
    );
    assert_eq!(fake.requests("/network/v2.0/security-groups?").len(), 2);

    // A floating IP's port still `PENDING` (Neutron sets its `device_id` once the floating
    // IP is made: being made, or left by a making that failed) names no floating IP: no
    // sign, nothing read again.
    let mut cloud = demo();
    let pending = serde_json::json!({
        "id": "eeeeeeee-0000-5000-8000-00000000000e", "network_id": cloud["floatingips"][0]["floating_network_id"],
        "device_id": "PENDING", "device_owner": "network:floatingip",
        "project_id": "", "security_groups": [], "fixed_ips": []});
    cloud["ports"].as_array_mut().unwrap().push(pending);
    let fake = FakeOpenStack::start(Config::new(cloud));
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert!(!run.stderr.contains("warning: Neutron"), "{}", run.stderr);
    assert_eq!(fake.requests("/network/v2.0/floatingips?").len(), 1);

    // No race caught: one read each, and the last page of the ingress rules and of the
    // ports asked for again.
    let fake = start();
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning: Neutron"), "{}", run.stderr);
    assert_requests(
        &fake,
        (1, 1, 1),
        &[
            ("/network/v2.0/ports?", 2),
            ("/network/v2.0/address-groups?", 1),
            ("/network/v2.0/security-groups?", 1),
            ("/network/v2.0/floatingips?", 1),
        ],
    );
}

/// Audits the fake with pages of `page_size`, and checks that the audit is the whole
/// cloud's, whatever the fake's faults did.
fn whole_cloud_in_pages_of(fake: &FakeOpenStack, page_size: &str) -> Run {
    let args = [
        "--fail-on",
        "none",
        "--format",
        "json",
        "--page-size",
        page_size,
    ];
    let run = run_live(fake, &[], &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    run
}

/// The same worker answering a later page with no objects (a rolling restart of a Neutron
/// of several workers) ends that listing early, as a last empty page does: the page is
/// asked for again once every listing has ended, and the listing read again whole when it
/// has objects now. A listing of a multiple of the page size costs that one request.
#[test]
fn a_listing_cut_short_by_an_empty_page_is_read_again() {
    let fake = start();
    fake.fault("/network/v2.0/ports?marker", [Fault::Empty]);
    let run = whole_cloud_in_pages_of(&fake, "5");
    let line = "warning: Neutron's listing of ports ended with an empty page after 5 object(s), \
                and that page held 5 when asked again: read again whole, 17 ports";
    assert!(run.stderr.contains(line), "{}", run.stderr);
    // The reports say it too, among the audit's warnings.
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("Neutron's listing of ports ended"),
        "{warnings:?}"
    );
    // The first page, the empty one, that one again, then 5 + 5 + 5 + 2.
    assert_eq!(fake.requests("/network/v2.0/ports?").len(), 7);

    // 18 groups in pages of 6: the last page is empty, asked once more, still empty.
    let fake = start();
    let run = whole_cloud_in_pages_of(&fake, "6");
    assert!(!run.stderr.contains("Neutron's listing"), "{}", run.stderr);
    let groups = fake.requests("/network/v2.0/security-groups?");
    assert_eq!(groups.len(), 5, "{groups:#?}");
    assert_eq!(groups[3], groups[4]);
    // 17 ports in pages of 6: the last page, of 5, asked for once more (ports decide
    // whether a finding is active).
    assert_eq!(fake.requests("/network/v2.0/ports?").len(), 4);

    // Asking for that page again fails (every retry): the listing stays as it was read,
    // and whether it was cut short is unknown: a collection error, the audit incomplete
    // (the security groups decide no finding that the rules do not check: `--allow-partial`
    // passes it).
    let failing = Fault::Status(500);
    let faulty = || {
        let fake = start();
        let ok = Fault::Stall(std::time::Duration::ZERO);
        let answers = [ok.clone(), ok.clone(), ok, failing.clone(), failing.clone()];
        fake.fault(
            "/network/v2.0/security-groups?marker",
            answers.into_iter().chain([failing.clone()]),
        );
        fake
    };
    let mut args = vec!["--fail-on", "none", "--format", "json", "--page-size", "6"];
    let run = run_live(&faulty(), &[], &args);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["errors"][0]["resource"], "security_groups");
    assert_eq!(report["errors"][0]["status"], 500);
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Neutron's listing of security_groups ended with an empty page after 18 \
             object(s), and asking for that page again failed"
        ) && message.ends_with("whether the listing was cut short is unknown"),
        "{message}"
    );
    assert!(!run.stderr.contains("warning: Neutron"), "{}", run.stderr);
    args.push("--allow-partial");
    let run = run_live(&faulty(), &[], &args);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The same for a listing that decides findings (the ports: 17 in pages of 6, the last
    // of 5 asked for again): findings may be missing, so the audit is incomplete, with its
    // findings as read (here the whole cloud's).
    let fake = start();
    let ok = Fault::Stall(std::time::Duration::ZERO);
    fake.fault(
        "/network/v2.0/ports?marker",
        [ok.clone(), ok, failing.clone(), failing.clone(), failing],
    );
    let args = [
        "--fail-on",
        "none",
        "--format",
        "json",
        "--page-size",
        "6",
        "--allow-partial",
    ];
    let run = run_live(&fake, &[], &args);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["gate"]["verdict"], "incomplete");
    assert_eq!(report["errors"][0]["resource"], "ports");
    assert_eq!(report["errors"][0]["status"], 500);
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("Neutron's listing of ports ended on a page of 5 object(s) (17 listed)")
            && message.ends_with("whether the listing was cut short is unknown"),
        "{message}"
    );
}

/// Neutron leaves out of a page the objects its policy check refused, and a worker that
/// has just started can refuse some: the page is short, has no next link, and ends the
/// listing early with nothing else to show it. The listings that decide findings have
/// their last page asked for again: more objects on it now, and the listing is read again
/// whole (then, a race caught, every other listing too).
#[test]
fn a_listing_cut_short_by_a_thinned_page_is_read_again() {
    let fake = start();
    fake.fault("/network/v2.0/ports?marker", [Fault::Thinned]);
    let run = whole_cloud_in_pages_of(&fake, "5");
    let line = "warning: Neutron's listing of ports ended on a page of 3 object(s) (8 listed), \
                and that page held 5 when asked again: read again whole, 17 ports";
    assert!(run.stderr.contains(line), "{}", run.stderr);
    // 5, then 3 of 5 and no next link; that page again; then 5 + 5 + 5 + 2.
    let ports = fake.requests("/network/v2.0/ports?");
    assert_eq!(ports.len(), 7, "{ports:#?}");
    assert_eq!(ports[1], ports[2]);
    // The race caught, the other listings were read again.
    assert_eq!(fake.requests("/network/v2.0/security-groups?").len(), 2 * 4);

    // The ingress rules' only page thinned: 25 of 49 rules, and findings lost, but for
    // the one request for the rules after where both listings ended (here all of them:
    // each listing had one page).
    let fake = start();
    fake.fault("/security-group-rules?direction=ingress", [Fault::Thinned]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert_stderr_has(
        &run,
        &["warning: Neutron's listing of ingress security_group_rules ended after 25 object(s)"],
    );
    let ends = rules_requests(&fake, RULE_ENDS);
    assert_eq!(ends.len(), 1);
    assert!(ends[0].ends_with("limit=63"), "25 + 37 listed: {ends:?}");

    // The same for the egress rules, which no finding shows: 19 of 37 rules checked.
    let fake = start();
    fake.fault("/security-group-rules?direction=egress", [Fault::Thinned]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Checked rules: 86"), "{}", run.stdout);
    assert_stderr_has(
        &run,
        &["warning: Neutron's listing of egress security_group_rules ended after 19 object(s)"],
    );
    assert_requests(&fake, (2, 2, 1), &[]);

    // The ingress rules' last page thinned, where the egress rules' listing ends beyond
    // every ingress rule (ten more egress rules, ids at the top): the one request asks for
    // the rules after the lesser of the two listings' last markers, the ingress rules',
    // which is where the rules left out are.
    let mut cloud = demo();
    let rules = cloud["security_group_rules"].as_array_mut().unwrap();
    let egress = rules.iter().find(|r| r["direction"] == "egress").unwrap();
    let more: Vec<Value> = (0..10)
        .map(|i| {
            let mut rule = egress.clone();
            rule["id"] = format!("ffffffff-0000-5000-8000-0000000000{i:02}").into();
            rule
        })
        .collect();
    rules.extend(more);
    let mut ingress: Vec<&str> = (rules.iter())
        .filter(|r| r["direction"] == "ingress")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ingress.sort_unstable();
    // 49 ingress rules in pages of 10: the fifth, of 9, after the 40th; 47 egress rules:
    // the fifth page, of 7, after the 40th (an id of the ten).
    let marker = format!("marker={}", ingress[39]);
    // Listed after it: the ingress rules of the thinned page that it kept (5 of 9), and
    // the egress rules beyond it; asked for: one more.
    let egress_after = (rules.iter())
        .filter(|r| r["direction"] == "egress" && r["id"].as_str().unwrap() > ingress[39])
        .count();
    let limit = format!("limit={}&", 5 + egress_after + 1);
    let fake = FakeOpenStack::start(Config::new(cloud));
    fake.fault(&format!("/security-group-rules?{marker}"), [Fault::Thinned]);
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--format", "json", "--page-size", "10"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Checked rules: 96"), "{}", run.stdout);
    assert_stderr_has(
        &run,
        &["warning: Neutron's listing of ingress security_group_rules ended after 45 object(s)"],
    );
    let ends = rules_requests(&fake, RULE_ENDS);
    assert_eq!(ends.len(), 1);
    assert!(ends[0].contains(&marker), "{ends:?}");
    assert!(ends[0].contains(&limit), "{limit}: {ends:?}");
}

#[test]
fn token_revoked_mid_run_reauthenticates_once() {
    // The ports' second page revokes the token while the security groups' first request,
    // sent with it too, is held: both get a 401, and one new token serves both.
    let fake = start();
    fake.fault(
        "/network/v2.0/ports",
        [Fault::Stall(std::time::Duration::ZERO), Fault::RevokeTokens],
    );
    fake.fault(
        "/network/v2.0/security-groups",
        [Fault::Stall(std::time::Duration::from_millis(500))],
    );
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--format", "json", "--page-size", "2"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert_eq!(fake.requests("/identity/v3/auth/tokens").len(), 2);
    // Revoked again after re-authentication: the second 401 is final.
    let fake = start();
    fake.fault(
        "/network/v2.0/ports",
        [Fault::RevokeTokens, Fault::RevokeTokens],
    );
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    // Every token is revoked: listings still in flight then (which ones depends on timing)
    // fail with the same final 401 as the ports.
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["resource"] == "ports"),
        "{errors:?}"
    );
    assert!(errors.iter().all(|e| e["status"] == 401), "{errors:?}");
}

#[test]
fn rate_limit_retry_after_is_honoured() {
    let fake = start();
    fake.fault("/network/v2.0/security-groups", [Fault::RetryAfter(1)]);
    let started = std::time::Instant::now();
    let run = run_live(&fake, &[], &["--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(fake.requests("/network/v2.0/security-groups").len(), 2);
}

/// A forward proxy for plain http on 127.0.0.1: relays each connection to the fake byte
/// for byte (the fake, as every HTTP/1.1 server must, takes the absolute-form request a
/// client sends through a proxy). Returns its address and how many connections it relayed.
fn relay_to(fake: &FakeOpenStack) -> (String, Arc<AtomicUsize>) {
    use std::net::{Shutdown, TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let to = fake.http_base.trim_start_matches("http://").to_owned();
    let relayed = Arc::new(AtomicUsize::new(0));
    let count = relayed.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let server = TcpStream::connect(&to).unwrap();
            let (mut from, mut into) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut into);
                let _ = into.shutdown(Shutdown::Write);
            });
            let (mut back, mut client) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut back, &mut client);
                let _ = client.shutdown(Shutdown::Write);
            });
        }
    });
    (format!("http://{addr}"), relayed)
}

/// The proxy variables are honoured as curl honours them (reqwest's own matcher): the
/// audit goes through the proxy they name, `NO_PROXY` reaches a host directly, and a
/// connection that fails names the proxy it went through, never the credentials in its URL.
#[test]
fn requests_go_through_the_proxy_the_environment_names() {
    let fake = start();
    let (proxy, relayed) = relay_to(&fake);
    let with_credentials = proxy.replace("http://", "http://user:proxy-pa55word@");
    let env = [("HTTP_PROXY", with_credentials.as_str())];
    let run = run_live(
        &fake,
        &env,
        &["--fail-on", "none", "--format", "json", "-v"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert!(relayed.load(Ordering::SeqCst) >= 1);
    // --verbose says which proxy Keystone is reached through (never its credentials).
    let using = format!("{}/v3 through the proxy {proxy}, region", fake.auth_url());
    assert!(run.stderr.contains(&using), "{}", run.stderr);
    assert!(!run.stderr.contains("proxy-pa55word"), "{}", run.stderr);

    // Nothing listening where the proxy should be.
    let dead_proxy = common::nothing_listening();
    let with_credentials = dead_proxy.replace("http://", "http://user:proxy-pa55word@");
    let env = [("http_proxy", with_credentials.as_str())];
    let run = run_live(&fake, &env, &["--fail-on", "none", "--retries", "0"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let through =
        format!("connection failed through the proxy {dead_proxy} (from the *_PROXY variables)");
    assert!(run.stderr.contains(&through), "{}", run.stderr);
    assert!(!run.stderr.contains("proxy-pa55word"), "{}", run.stderr);
    assert!(!run.stdout.contains("proxy-pa55word"), "{}", run.stdout);

    // The same dead proxy, but NO_PROXY names the host: reached directly.
    let env = [
        ("ALL_PROXY", dead_proxy.as_str()),
        ("NO_PROXY", "127.0.0.1"),
    ];
    let run = run_live(&fake, &env, &["--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn missing_address_group_extension_is_skipped_quietly() {
    let mut config = Config::new(demo());
    config.no_address_groups = true;
    let fake = FakeOpenStack::start(config);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Errors: 0"));
}

#[test]
fn a_truncated_keystone_project_list_is_an_error_not_a_silent_gap() {
    let mut config = Config::new(demo());
    config.truncated_projects = true;
    let fake = FakeOpenStack::start(config);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_incomplete(&run, "Keystone truncated the project list");
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["errors"][0]["resource"], "projects");
    // Only names are missing: --allow-partial lets the gate decide.
    let run = run_live(&fake, &[], &["--fail-on", "none", "--allow-partial"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A catalog whose URLs the runner cannot reach (the fake's internal network endpoint is
/// `neutron.internal.invalid`, and it has no internal compute endpoint): endpoints set by
/// hand are read instead, and the audit is the snapshot's.
#[test]
fn endpoint_overrides_replace_the_catalogs() {
    let fake = start();
    let (network, compute) = (
        format!("{}/network/", fake.base),
        format!("{}/compute/v2.1", fake.base),
    );
    let env = [
        ("OS_INTERFACE", "internal"),
        ("OS_NETWORK_ENDPOINT_OVERRIDE", network.as_str()),
        ("OS_COMPUTE_ENDPOINT_OVERRIDE", compute.as_str()),
    ];
    let run = run_live(
        &fake,
        &env,
        &["--fail-on", "none", "--format", "json", "-v"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert!(
        !run.stderr.contains("neutron.internal.invalid"),
        "{}",
        run.stderr
    );
    let said = format!("driftmux: network_endpoint_override: {network} (instead of the catalog's)");
    assert!(run.stderr.contains(&said), "{}", run.stderr);
    assert_eq!(fake.requests("/compute/v2.1/servers/detail").len(), 1);

    // Not a URL: a configuration error naming the key (not its value, not even with -v),
    // nothing listed.
    let fake = start();
    let value = "admin:canary-secret@neutron.example:9696";
    let run = run_live(&fake, &[("OS_NETWORK_ENDPOINT_OVERRIDE", value)], &["-v"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let said = "network_endpoint_override in the OS_* environment variables is not an http(s) URL";
    assert!(run.stderr.contains(said), "{}", run.stderr);
    assert!(
        !run.stderr.contains("canary"),
        "the value is never shown: {}",
        run.stderr
    );
    assert!(fake.requests("/network/").is_empty());
}

#[test]
fn catalog_without_network_endpoint_exits_3() {
    let mut config = Config::new(demo());
    config.no_network_in_catalog = true;
    let fake = FakeOpenStack::start(config);
    let run = run_live(&fake, &[], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("no network (Neutron) endpoint"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("it has:"), "{}", run.stderr);

    // A region the catalog does not have: the message says what it offers.
    let fake = start();
    let run = run_live(&fake, &[("OS_REGION_NAME", "Nowhere")], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let said = "no network (Neutron) endpoint for interface \"public\" in region \"Nowhere\" \
                (it has: internal in RegionOne, public in RegionOne)";
    assert!(run.stderr.contains(said), "{}", run.stderr);
}

/// Half the rules are still not all of them: one direction's listing failing makes the
/// audit incomplete (one error, for the rules), whichever direction it is, even with
/// --allow-partial.
#[test]
fn one_direction_of_rules_failing_is_incomplete() {
    for (direction, status) in [("direction=egress", 403), ("direction=ingress", 500)] {
        let fake = start();
        fake.fault(
            &format!("/network/v2.0/security-group-rules?{direction}"),
            vec![Fault::Status(status); 10],
        );
        let run = run_live(
            &fake,
            &[],
            &[
                "--fail-on",
                "none",
                "--allow-partial",
                "--format",
                "json,md",
            ],
        );
        assert_eq!(run.code, 3, "{direction}: {}", run.stderr);
        assert!(run.stdout.contains("Errors: 1"), "{}", run.stdout);
        let report: Value = serde_json::from_str(&run.report("json")).unwrap();
        assert_eq!(report["gate"]["verdict"], "incomplete");
        assert_eq!(report["errors"][0]["resource"], "security_group_rules");
        assert_eq!(report["errors"][0]["status"], status);
        // The other direction was read whole (its last page asked for again, on its own).
        let (other, requests) = if direction.ends_with("egress") {
            ("direction=ingress", 2)
        } else {
            ("direction=egress", 2)
        };
        assert_eq!(rules_requests(&fake, other).len(), requests, "{direction}");
    }
}

#[test]
fn looping_next_link_is_detected() {
    let fake = start();
    fake.fault(
        "/network/v2.0/security-group-rules",
        [Fault::LoopLink, Fault::LoopLink, Fault::LoopLink],
    );
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--page-size", "10", "--format", "json"],
    );
    assert_incomplete(&run, "does not advance");

    // A next link with no query at all points at the first page (without the limit or
    // the filters): it does not advance either.
    let fake = start();
    fake.fault("/network/v2.0/ports", [Fault::BareLink]);
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--page-size", "10", "--format", "json"],
    );
    assert_incomplete(&run, "the next link does not advance (page 1)");
    assert_eq!(fake.requests("/network/v2.0/ports").len(), 1);
}

/// Checks that the run's stderr has each of `lines`.
fn assert_stderr_has(run: &Run, lines: &[&str]) {
    for line in lines {
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
    }
}

/// Checks how many requests the fake served: the (ingress, egress) rules' listings, and
/// each path of `others` (requests whose path and query contain it).
/// Checks the requests of each path in `others`, and of the rules: `(ingress, egress,
/// ends)`, the last the one request that checks where both listings ended.
fn assert_requests(fake: &FakeOpenStack, rules: (usize, usize, usize), others: &[(&str, usize)]) {
    for &(path, requests) in others {
        assert_eq!(fake.requests(path).len(), requests, "{path}");
    }
    assert_eq!(rules_requests(fake, "direction=ingress").len(), rules.0);
    assert_eq!(rules_requests(fake, "direction=egress").len(), rules.1);
    assert_eq!(rules_requests(fake, RULE_ENDS).len(), rules.2);
}

/// The request that checks where both rule listings ended (see `rule_ends`).
const RULE_ENDS: &str = "?fields=id&fields=security_group_id&fields=direction&limit=";

/// The requests of the rules listings whose query has `direction` (`direction=ingress`;
/// or another part of a query, such as [`RULE_ENDS`]).
fn rules_requests(fake: &FakeOpenStack, direction: &str) -> Vec<String> {
    let mut requests = fake.requests("/network/v2.0/security-group-rules");
    requests.retain(|r| r.contains(direction));
    requests
}

#[test]
fn empty_last_page_and_restarted_listing() {
    // 49 ingress rules, pages of 7: seven full pages, then an empty one without a next link
    // (the rules after where both listings ended asked for once they have: none unlisted,
    // the listing is whole).
    let fake = start();
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--format", "json", "--page-size", "7"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ingress = rules_requests(&fake, "direction=ingress");
    assert_eq!(ingress.len(), 8, "{ingress:#?}");
    let ends = rules_requests(&fake, RULE_ENDS);
    assert_eq!(ends.len(), 1, "{ends:#?}");
    // After the lesser of the two listings' last markers.
    let marker = |request: &str| {
        let after = request.split("marker=").nth(1).unwrap();
        after.split('&').next().unwrap().to_owned()
    };
    let egress = rules_requests(&fake, "direction=egress");
    let lesser = marker(&ingress[7]).min(marker(egress.last().unwrap()));
    assert!(ends[0].contains(&format!("marker={lesser}")), "{ends:#?}");
    assert!(!run.stderr.contains("Neutron's listing"), "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    // The marker was deleted between two pages: Neutron restarts from the first page;
    // driftmux notices the repeated ids and reads the listing again, once.
    let fake = start();
    fake.fault(
        "/network/v2.0/security-group-rules?direction=ingress",
        [Fault::Stall(std::time::Duration::ZERO), Fault::DropMarker],
    );
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--format", "json", "--page-size", "20"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    // Two pages, then the whole listing again: 49 rules in pages of 20; then where it
    // ended checked.
    assert_eq!(rules_requests(&fake, "direction=ingress").len(), 2 + 3);
    assert_eq!(rules_requests(&fake, RULE_ENDS).len(), 1);
    // It keeps restarting: an error, not a loop.
    let fake = start();
    fake.fault(
        "/network/v2.0/security-group-rules?direction=egress",
        [
            Fault::Stall(std::time::Duration::ZERO),
            Fault::DropMarker,
            Fault::Stall(std::time::Duration::ZERO),
            Fault::DropMarker,
        ],
    );
    let run = run_live(
        &fake,
        &[],
        &["--fail-on", "none", "--format", "json", "--page-size", "20"],
    );
    assert_incomplete(&run, "twice");
}

#[test]
fn stalled_and_broken_responses_fail_closed() {
    let fake = start();
    fake.fault(
        "/network/v2.0/ports",
        vec![fake_openstack::Fault::Stall(std::time::Duration::from_secs(5)); 3],
    );
    let run = run_live(
        &fake,
        &[],
        &[
            "--fail-on",
            "none",
            "--timeout",
            "1s",
            "--retries",
            "1",
            "--format",
            "json",
        ],
    );
    assert_incomplete(&run, "timed out");
    // The cloud's api_timeout (clouds.yaml, OS_API_TIMEOUT) when --timeout says nothing;
    // --timeout wins over it.
    let stalled = || {
        let fake = start();
        let stall = fake_openstack::Fault::Stall(std::time::Duration::from_millis(1500));
        fake.fault("/network/v2.0/ports", vec![stall; 2]);
        fake
    };
    let args = ["--fail-on", "none", "--retries", "1", "--format", "json"];
    let fake = stalled();
    assert_incomplete(
        &run_live(&fake, &[("OS_API_TIMEOUT", "0.5")], &args),
        "timed out",
    );
    let fake = stalled();
    let longer: Vec<&str> = args.iter().copied().chain(["--timeout", "10s"]).collect();
    let run = run_live(&fake, &[("OS_API_TIMEOUT", "0.5")], &longer);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let fake = start();
    fake.fault("/network/v2.0/security-groups", vec![Fault::Garbage; 5]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_incomplete(&run, "invalid JSON");

    let fake = start();
    fake.fault("/network/v2.0/ports", [Fault::Huge]);
    let run = run_live(
        &fake,
        &[],
        &[
            "--fail-on",
            "none",
            "--format",
            "json",
            "--max-page-bytes",
            "1048576",
        ],
    );
    assert_incomplete(&run, "larger than");

    // The token response is bounded the same way.
    let fake = start();
    fake.fault("/auth/tokens", [Fault::Huge]);
    let run = run_live(&fake, &[], &["--max-page-bytes", "1048576"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("/auth/tokens: response larger than 1 MiB: refused"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("gAAAAA"), "{}", run.stderr);

    let fake = start();
    fake.fault(
        "/network/v2.0/security-group-rules?direction=egress",
        [Fault::Truncate],
    );
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "a cut-off body is retried: {}", run.stderr);
    // Then the rules after where both listings ended (here all: one page each).
    assert_requests(&fake, (1, 2, 1), &[]);
    // Cut off every time (--retries 2): incomplete, saying so.
    let fake = start();
    fake.fault("/network/v2.0/ports", vec![Fault::Truncate; 3]);
    let run = run_live(&fake, &[], &["--fail-on", "none", "--format", "json"]);
    assert_incomplete(&run, "the response body was cut off");
}

#[test]
fn save_snapshot_round_trip_gives_identical_findings() {
    let fake = start();
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("saved.json");
    let run = run_live(
        &fake,
        &[],
        &[
            "--fail-on",
            "none",
            "--format",
            "json",
            "--save-snapshot",
            snap.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let live = findings(&run);
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(
        !text.contains("canary") && !text.contains("fake-token"),
        "no secret in the snapshot"
    );
    let replay = driftmux(&[
        "--snapshot",
        snap.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    assert_eq!(findings(&replay), live);
}

/// A token that is not an admin's sees its project's objects only: a baseline entry of
/// another project that its audit does not find is not counted as fixed, and its
/// `--update-baseline` keeps it (it would have deleted every other project's entries).
/// An admin's audit counts it as fixed. The scope travels in a saved snapshot.
#[test]
fn a_project_scoped_audit_keeps_other_projects_baseline_entries() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let fake = start();
    let args = [
        "--fail-on",
        "none",
        "--format",
        "json",
        "--baseline",
        baseline,
    ];
    let update: Vec<&str> = args.iter().copied().chain(["--update-baseline"]).collect();
    assert_eq!(run_live(&fake, &[], &update).code, 0);
    let written = std::fs::read_to_string(baseline).unwrap();
    let entries = |text: &str| {
        serde_json::from_str::<Value>(text).unwrap()["findings"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(entries(&written), 26);

    // The webshop's admin-rdp rule deleted: an admin's audit finds it fixed.
    let mut cloud = demo();
    let rules = cloud["security_group_rules"].as_array_mut().unwrap();
    let admin_rdp = |r: &Value| r["id"] == "92e96a18-bf59-58b5-84c3-549169a85690";
    let before = rules.len();
    rules.retain(|r| !admin_rdp(r));
    assert_eq!(rules.len(), before - 1);
    // (Nova lists a member its project's own servers: only datalab's ports, as the other
    // projects' servers would be missing from its listing.)
    let datalab = (cloud["projects"].as_array().unwrap().iter())
        .find(|p| p["name"] == "datalab")
        .unwrap()["id"]
        .clone();
    let ports = cloud["ports"].as_array_mut().unwrap();
    ports.retain(|p| p["project_id"] == datalab);
    let counts = |run: &Run| {
        let report: Value = serde_json::from_str(&run.report("json")).unwrap();
        let c = &report["gate"]["counts"];
        (
            c["fixed"].as_u64().unwrap(),
            c["not_audited"].as_u64().unwrap(),
        )
    };
    let fake = FakeOpenStack::start(Config::new(cloud.clone()));
    let run = run_live(&fake, &[], &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(counts(&run), (1, 0));

    // A member of datalab (the fake lists it every project's objects, as a shared group
    // would): the webshop's entry is outside its scope, not fixed; kept on update.
    let tenant = [
        ("OS_USERNAME", "tenant"),
        ("OS_PASSWORD", "tenant-pass"),
        ("OS_PROJECT_NAME", "datalab"),
    ];
    let snap = dir.path().join("tenant.json");
    let saved: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--save-snapshot", snap.to_str().unwrap()])
        .collect();
    let fake = FakeOpenStack::start(Config::new(cloud.clone()));
    let run = run_live(&fake, &tenant, &saved);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(counts(&run), (0, 1));
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(
        report["inventory"]["project_scope"],
        serde_json::json!([datalab])
    );
    assert!(
        run.stdout.contains("fixed=0 not_audited=1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("warning: 1 baseline entry of projects this audit could not see"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "sees only its project's objects (datalab, id {})",
            datalab.as_str().unwrap()
        )),
        "{}",
        run.stderr
    );
    let replay = driftmux(&[
        "--snapshot",
        snap.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "none",
        "--baseline",
        baseline,
    ]);
    assert_eq!(counts(&replay), (0, 1), "{}", replay.stderr);
    let fake = FakeOpenStack::start(Config::new(cloud));
    let run = run_live(&fake, &tenant, &update);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Every entry still there (the others as this token sees them), the webshop's as it was.
    let entry_of = |text: &str| -> Vec<Value> {
        let all = serde_json::from_str::<Value>(text).unwrap()["findings"].clone();
        let all = all.as_array().unwrap().iter().cloned();
        all.filter(|e| e["security_group_name"] == "admin-rdp")
            .collect()
    };
    let updated = std::fs::read_to_string(baseline).unwrap();
    assert_eq!(entries(&updated), 26);
    assert_eq!(entry_of(&updated), entry_of(&written));
    assert_eq!(entry_of(&written).len(), 1);
}

#[test]
fn unreachable_keystone_exits_3() {
    let env = [
        ("OS_AUTH_URL", "http://127.0.0.1:9/v3"),
        ("OS_USERNAME", "admin"),
        ("OS_PASSWORD", "canary-password-123"),
        ("OS_USER_DOMAIN_NAME", "Default"),
    ];
    let run = driftmux_env(&["--openstack-sg-audit", "--retries", "0"], &env);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("127.0.0.1:9"), "{}", run.stderr);
    assert!(!run.stderr.contains("canary"));
    let _ = temp_file;
}

#[test]
fn tls_with_a_self_signed_ca() {
    let (fake, ca_pem) = FakeOpenStack::start_tls(Config::new(demo()));
    assert!(fake.auth_url().starts_with("https://127.0.0.1:"));
    // Without the CA: the certificate is refused, nothing is audited.
    let run = run_live(&fake, &[], &["--fail-on", "none", "--retries", "0"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    // With the CA (OS_CACERT, as openrc files set it): verified, and the audit completes.
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let run = run_live(
        &fake,
        &[("OS_CACERT", ca.to_str().unwrap())],
        &["--fail-on", "none", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    // No warning but the demo cloud's own (a server Nova did not list).
    assert!(
        run.stderr
            .lines()
            .filter(|l| l.contains("warning"))
            .all(|l| l.contains("not in Nova's listing")),
        "{}",
        run.stderr
    );
    // --insecure: works, with a warning.
    let run = run_live(&fake, &[], &["--fail-on", "none", "--insecure"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: --insecure: TLS certificate verification is OFF"),
        "{}",
        run.stderr
    );
    // A cacert that is not a certificate: a configuration error.
    std::fs::write(&ca, "not a certificate").unwrap();
    let run = run_live(&fake, &[("OS_CACERT", ca.to_str().unwrap())], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cacert"), "{}", run.stderr);
}

/// The system's CA certificates are loaded only for a cloud with https URLs, but then for
/// its catalog's too: a Keystone on plain http whose catalog lists https endpoints gets
/// them verified with the system's roots (here the fake's CA, as the system's bundle).
#[test]
fn https_endpoints_behind_an_http_keystone_are_verified_with_the_system_roots() {
    let (fake, ca_pem) = FakeOpenStack::start_tls(Config::new(demo()));
    let dir = tempfile::tempdir().unwrap();
    let (ca, other, no_dir) = (
        dir.path().join("ca.pem"),
        dir.path().join("other.pem"),
        dir.path().join("none"),
    );
    std::fs::write(&ca, &ca_pem).unwrap();
    // A bundle of another CA: the fake's certificate is refused.
    let (_, other_pem) = FakeOpenStack::start_tls(Config::new(demo()));
    std::fs::write(&other, other_pem).unwrap();
    let auth_url = format!("{}/identity", fake.http_base);
    assert!(auth_url.starts_with("http://"));
    let run_with = |bundle: &std::path::Path| {
        let env = [
            ("OS_AUTH_URL", auth_url.as_str()),
            ("SSL_CERT_FILE", bundle.to_str().unwrap()),
            ("SSL_CERT_DIR", no_dir.to_str().unwrap()),
        ];
        run_live(
            &fake,
            &env,
            &["--fail-on", "none", "--retries", "0", "--format", "json"],
        )
    };
    let run = run_with(&ca);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    let run = run_with(&other);
    assert_incomplete(&run, "certificate");
}

/// Pages are validated as they arrive: an invalid value deep in a listing is named by its
/// index in the whole listing (not in its page, nor, for rules, in their direction's
/// listing: ingress rules first, then egress), every one is reported, nothing is audited,
/// and the saved snapshot still holds what the API returned, in that order.
#[test]
fn invalid_api_values_are_named_by_their_index_in_the_listing() {
    let mut cloud = demo();
    // The fake serves a listing sorted by id (the rules of one direction, when asked for
    // one): sort it here, so indexes are the served ones.
    for list in ["security_group_rules", "ports"] {
        let items = cloud[list].as_array_mut().unwrap();
        items.sort_by(|a, b| {
            let key = |r: &Value| {
                (
                    r["direction"] == "egress",
                    r["id"].as_str().map(str::to_owned),
                )
            };
            key(a).cmp(&key(b))
        });
    }
    let rules = &mut cloud["security_group_rules"];
    assert_eq!(
        (
            rules[48]["direction"].as_str(),
            rules[49]["direction"].as_str()
        ),
        (Some("ingress"), Some("egress"))
    );
    rules[40]["remote_ip_prefix"] = "0.0.0.0/33".into();
    // The egress listing's sixth rule: the 55th of the whole listing.
    rules[54]["protocol"] = "banana".into();
    let id = |at: usize| rules[at]["id"].as_str().unwrap().to_owned();
    let (ingress_id, egress_id) = (id(40), id(54));
    cloud["ports"][9]["fixed_ips"][0]["ip_address"] = "10.0.0.300".into();
    // Read from the start only, and from both ends at once (the values near the ends
    // are then read by the listing from the end): the same indexes.
    for from_end in ["off", "0s"] {
        invalid_values_named(&cloud, from_end, &ingress_id, &egress_id);
    }
}

fn invalid_values_named(cloud: &Value, from_end: &str, ingress_id: &str, egress_id: &str) {
    let fake = FakeOpenStack::start(Config::new(cloud.clone()));
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("saved.json");
    let run = run_live(
        &fake,
        &[],
        &[
            "--page-size",
            "7",
            "--read-from-end-after",
            from_end,
            "--format",
            "json",
            "--save-snapshot",
            snap.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    for expected in [
        &format!("`security_group_rules[40].remote_ip_prefix` (id {ingress_id}): \"0.0.0.0/33\" is not a valid IP prefix"),
        &format!("`security_group_rules[54].protocol` (id {egress_id}): unknown protocol \"banana\""),
        "`ports[9].fixed_ips[0].ip_address`",
        "\"10.0.0.300\" is not a valid IP address",
        "nothing was audited",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    assert!(
        !run.has_report("json"),
        "no report of an audit that did not run"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    assert_eq!(saved["security_group_rules"][40]["id"], ingress_id);
    assert_eq!(saved["security_group_rules"][54]["protocol"], "banana");
    // The snapshot path names the same values.
    let replay = driftmux(&["--snapshot", snap.to_str().unwrap(), "--format", "json"]);
    assert_ne!(replay.code, 0);
    for path in [
        "security_group_rules[40].remote_ip_prefix",
        "security_group_rules[54].protocol",
        "ports[9].fixed_ips[0].ip_address",
    ] {
        assert!(replay.stderr.contains(path), "{path}: {}", replay.stderr);
    }
}

/// A server that ignores `direction=` serves every rule to both listings: each keeps its
/// own direction, so nothing is counted twice; a rule of no known direction is listed
/// once (by the ingress listing) and reported, not dropped.
#[test]
fn rules_are_exact_from_a_server_that_ignores_the_direction_filter() {
    let mut config = Config::new(demo());
    config.ignore_direction_filter = true;
    let fake = FakeOpenStack::start(config);
    let run = run_live(&fake, &[], &["--format", "json", "--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    let demo_report: Value = {
        let replay = driftmux(&["--snapshot", DEMO, "--format", "json", "--fail-on", "none"]);
        serde_json::from_str(&replay.report("json")).unwrap()
    };
    assert_eq!(report["summary"], demo_report["summary"]);
    assert!(
        run.stderr
            .contains("fetched 49 ingress security_group_rules"),
        "{}",
        run.stderr
    );

    let mut cloud = demo();
    cloud["security_group_rules"][3]["direction"] = "sideways".into();
    let rule_id = cloud["security_group_rules"][3]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut config = Config::new(cloud);
    config.ignore_direction_filter = true;
    let fake = FakeOpenStack::start(config);
    let run = run_live(&fake, &[], &["--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let said = format!("(id {rule_id}): expected \"ingress\" or \"egress\", found \"sideways\"");
    assert_eq!(run.stderr.matches(&said).count(), 1, "{}", run.stderr);
}

/// A Neutron whose `pagination_max_limit` is below the page size driftmux asks for serves
/// smaller pages, with next links. The one request that checks where both rule listings
/// ended then comes back smaller than asked, with a next link, and shows nothing either
/// way: each listing's last page is asked for again on its own instead.
#[test]
fn rule_listings_are_checked_one_by_one_when_neutron_caps_the_page_size() {
    let mut config = Config::new(demo());
    config.neutron_max_limit = Some(5);
    let fake = FakeOpenStack::start(config);
    let run = run_live(&fake, &[], &["--format", "json", "--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert!(!run.stderr.contains("warning: Neutron"), "{}", run.stderr);
    // 49 ingress rules in pages of 5: 10 pages, the last one asked for again; 37 egress
    // rules: 8 pages, the same; and the one request for both, between.
    let ingress = rules_requests(&fake, "direction=ingress");
    let egress = rules_requests(&fake, "direction=egress");
    assert_eq!(
        (ingress.len(), egress.len()),
        (11, 9),
        "{ingress:#?} {egress:#?}"
    );
    assert_eq!(ingress[9], ingress[10]);
    assert_eq!(egress[7], egress[8]);
    let both = rules_requests(&fake, RULE_ENDS);
    assert_eq!(both.len(), 1, "{both:#?}");
}

#[test]
fn redirects_to_another_origin_are_not_followed_so_no_secret_goes_there() {
    // A listing redirected to another server (another port: another origin). Following
    // it would send the token there.
    let fake = start();
    let elsewhere = start();
    fake.fault(
        "/security-group-rules",
        [Fault::Redirect(302, elsewhere.base.clone())],
    );
    let run = run_live(&fake, &[], &["--format", "json", "--fail-on", "none"]);
    assert_incomplete(&run, "redirect to http://127.0.0.1:");
    assert_eq!(
        serde_json::from_str::<Value>(&run.report("json")).unwrap()["errors"][0]["status"],
        302
    );
    let shown = format!(
        "redirect to {}/network/v2.0/security-group-rules,",
        elsewhere.base
    );
    assert!(run.stdout.contains(&shown), "{}", run.stdout);
    assert!(!run.stdout.contains("fields="), "no query: {}", run.stdout);
    assert!(elsewhere.log().is_empty(), "{:?}", elsewhere.log());

    // Keystone answering the password request with a 307 to another origin: following it
    // would post the password there.
    let fake = start();
    fake.fault(
        "/auth/tokens",
        [Fault::Redirect(307, elsewhere.base.clone())],
    );
    let run = run_live(&fake, &[], &["--format", "json", "--fail-on", "none"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let shown = format!(
        "(HTTP 307): redirect to {}/identity/v3/auth/tokens,",
        elsewhere.base
    );
    assert!(run.stderr.contains(&shown), "{}", run.stderr);
    assert!(!run.stderr.contains("canary"), "{}", run.stderr);
    assert!(elsewhere.log().is_empty(), "{:?}", elsewhere.log());
}

#[test]
fn redirects_within_the_same_origin_are_followed() {
    let fake = start();
    fake.fault("/auth/tokens", [Fault::Redirect(307, fake.base.clone())]);
    fake.fault("/ports", [Fault::Redirect(301, fake.base.clone())]);
    let run = run_live(&fake, &[], &["--format", "json", "--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    assert_eq!(fake.requests("/auth/tokens").len(), 2);

    // A redirect loop ends.
    let fake = start();
    let base = fake.base.clone();
    fake.fault(
        "/security-group-rules?direction=ingress",
        vec![Fault::Redirect(302, base); 11],
    );
    let run = run_live(&fake, &[], &["--format", "json", "--fail-on", "none"]);
    assert_incomplete(&run, "more than 10 redirects");
    assert_eq!(rules_requests(&fake, "direction=ingress").len(), 11);
}

#[test]
fn a_cloud_of_several_regions_needs_one_chosen() {
    // An empty variable is an unset one (as for the OpenStack clients): no region chosen.
    let no_region = [("OS_REGION_NAME", "")];
    let args = ["--format", "json", "--fail-on", "none"];
    let mut config = Config::new(demo());
    config.second_region = Some("RegionTwo".into());
    let fake = FakeOpenStack::start(config);
    // Not one region of the two silently: a configuration error, nothing written.
    let run = run_live(&fake, &no_region, &args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("network (Neutron) endpoints in 2 regions (RegionOne, RegionTwo)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("OS_REGION_NAME"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(run.out_dir.path()).unwrap().count(), 0);
    assert!(fake.requests("/network/").is_empty(), "{:?}", fake.log());

    // Chosen: audited, and the report says which.
    let run = run_live(&fake, &[("OS_REGION_NAME", "RegionTwo")], &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["inventory"]["region"], "RegionTwo");
    assert_eq!(findings(&run), snapshot_findings());

    // One region and none configured: that one, named in the report.
    let fake = start();
    let args = [
        &args[..],
        &["--format", "sarif", "--sarif-location", "Cargo.toml"],
    ]
    .concat();
    let run = run_live(&fake, &no_region, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["inventory"]["region"], "RegionOne");
    // The same SARIF category as with the region configured.
    let sarif: Value = serde_json::from_str(&run.report("sarif")).unwrap();
    let category = &sarif["runs"][0]["automationDetails"]["id"];
    assert_eq!(category, "driftmux/default/RegionOne/");
}

/// Every request of a Neutron listing (or Nova's `servers/detail`): `(from the start, from
/// the end)`.
fn listing_requests(fake: &FakeOpenStack, path: &str) -> (Vec<String>, Vec<String>) {
    let service = match path {
        "servers/detail" => "compute/v2.1",
        _ => "network/v2.0",
    };
    fake.requests(&format!("/{service}/{path}?"))
        .into_iter()
        .partition(|r| !r.contains("sort_dir=desc"))
}

/// Slows the pages after the first of the listing from the start at `pattern` (a fault
/// pattern that matches them, not the listing from the end nor its proof), so that the
/// listing from the end gets to read several pages however busy the machine is.
fn slow_from_the_start(fake: &FakeOpenStack, pattern: &str) {
    let stall = Fault::Stall(std::time::Duration::from_millis(60));
    fake.fault(pattern, vec![stall; 12]);
}

/// The pages after the first of the listings from the start of ports and servers (see
/// `slow_from_the_start`).
const PORTS_FROM_THE_START: &str = "/network/v2.0/ports?fixed_ips&marker=";
const SERVERS_FROM_THE_START: &str = "/compute/v2.1/servers/detail?sort_dir=asc&marker=";

/// A saved snapshot without the moment it was taken.
fn saved_lists(path: &std::path::Path) -> Value {
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let moment = saved.as_object_mut().unwrap().remove("collected_at");
    assert!(moment.is_some(), "a snapshot says when it was taken");
    saved
}

/// Run with pages of `page_size`, reading from the end as `from_end` says: the run, and
/// its saved snapshot.
fn run_paged(
    fake: &FakeOpenStack,
    page_size: &str,
    from_end: &str,
    extra: &[&str],
) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("saved.json");
    let mut args = vec![
        "--fail-on",
        "none",
        "--format",
        "json,csv,markdown",
        "--page-size",
        page_size,
        "--read-from-end-after",
        from_end,
        "--save-snapshot",
        snap.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = run_live(fake, &[], &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved = saved_lists(&snap);
    (run, saved)
}

/// Reading the listings from both ends gives what reading them from the start gives: the
/// same findings and reports, the same objects in the same order.
#[test]
fn long_listings_read_from_both_ends_give_the_same_audit() {
    let (alone, alone_saved) = run_paged(&start(), "2", "off", &[]);
    let fake = start();
    slow_from_the_start(&fake, PORTS_FROM_THE_START);
    slow_from_the_start(&fake, SERVERS_FROM_THE_START);
    let (both, both_saved) = run_paged(&fake, "2", "0s", &[]);
    assert_eq!(findings(&both), snapshot_findings());
    assert!(both_saved == alone_saved, "another snapshot");
    assert_eq!(both.report("csv"), alone.report("csv"));
    assert_eq!(both.report("md"), alone.report("md"));
    // 17 ports in pages of 2: nine pages from the start alone; from both ends, the listing
    // from the start stopped where it met the other (which proved it began at the end).
    let (start_ports, end_ports) = listing_requests(&fake, "ports");
    assert!(start_ports.len() < 9, "{start_ports:#?}");
    assert!(!end_ports.is_empty());
    let proof: Vec<_> = start_ports
        .iter()
        .filter(|r| r.contains("limit=1&"))
        .collect();
    assert!(
        proof.len() == 1 || start_ports.iter().any(|r| r.ends_with("limit=1")),
        "one proof request: {start_ports:#?}"
    );
    let (_, end_rules) = listing_requests(&fake, "security-group-rules");
    for direction in ["direction=ingress", "direction=egress"] {
        assert!(
            end_rules.iter().any(|r| r.contains(direction)),
            "{direction}: {end_rules:#?}"
        );
    }
    // Nova's servers too (11 in pages of 2): asked for in uuid order, both ways.
    let (start_servers, end_servers) = listing_requests(&fake, "servers/detail");
    assert!(start_servers.len() < 6, "{start_servers:#?}");
    assert!(
        start_servers.iter().all(|r| r.contains("sort_dir=asc")),
        "{start_servers:#?}"
    );
    assert!(!end_servers.is_empty());
    for request in start_servers.iter().chain(&end_servers) {
        assert!(request.contains("sort_key=uuid"), "{request}");
    }
    // The progress lines count every object once.
    for line in [
        "fetched 11 servers",
        "fetched 17 ports",
        "fetched 49 ingress security_group_rules",
        "fetched 37 egress",
    ] {
        assert!(both.stderr.contains(line), "{line}: {}", both.stderr);
    }
    // Other page sizes: where the streams meet moves, the objects do not.
    for page_size in ["1", "5"] {
        let (_, saved) = run_paged(&start(), page_size, "0s", &[]);
        assert!(
            saved == alone_saved,
            "page size {page_size}: another snapshot"
        );
    }
}

/// A server that does not sort: the listing from the end is found out (its ids rise, or
/// the listing goes on after its first page) and the listing from the start reads alone.
#[test]
fn a_server_that_does_not_sort_is_read_from_the_start_alone() {
    let not_sorting = || {
        let mut config = Config::new(demo());
        config.ignore_sort = true;
        FakeOpenStack::start(config)
    };
    let (_, expected) = run_paged(&not_sorting(), "2", "off", &[]);
    for page_size in ["2", "1"] {
        let fake = not_sorting();
        let (run, saved) = run_paged(&fake, page_size, "0s", &["--verbose"]);
        assert_eq!(findings(&run), snapshot_findings());
        assert!(saved == expected, "page size {page_size}: another snapshot");
        let (start_ports, _) = listing_requests(&fake, "ports");
        let pages = 17 / page_size.parse::<usize>().unwrap() + 1;
        assert!(start_ports.len() >= pages, "{page_size}: {start_ports:#?}");
        for listing in ["ports", "servers"] {
            assert!(
                run.stderr
                    .contains(&format!("{listing}: reading from the end stopped")),
                "{listing}: {}",
                run.stderr
            );
        }
    }
}

/// Errors, a deleted marker or a link that does not advance in the listing from the end
/// take it out; the listing from the start reads on, and the audit is whole.
#[test]
fn trouble_reading_from_the_end_leaves_the_listing_to_the_start() {
    for fault in [
        vec![Fault::Status(403)],
        vec![Fault::Status(500)],
        vec![Fault::Stall(std::time::Duration::ZERO), Fault::DropMarker],
        vec![Fault::Stall(std::time::Duration::ZERO), Fault::LoopLink],
        vec![Fault::Garbage],
    ] {
        // Neutron's ports and Nova's servers alike.
        let fake = start();
        fake.fault("/network/v2.0/ports?sort_dir=desc", fault.clone());
        fake.fault("/compute/v2.1/servers/detail?sort_dir=desc", fault.clone());
        slow_from_the_start(&fake, PORTS_FROM_THE_START);
        slow_from_the_start(&fake, SERVERS_FROM_THE_START);
        // No retry: a server error takes the listing from the end out at once.
        let (run, _) = run_paged(&fake, "2", "0s", &["--verbose", "--retries", "0"]);
        assert_eq!(findings(&run), snapshot_findings(), "{fault:?}");
        for (listing, path, count) in [("ports", "ports", 17), ("servers", "servers/detail", 11)] {
            assert!(
                run.stderr.contains(&format!("fetched {count} {listing}")),
                "{}",
                run.stderr
            );
            assert!(
                run.stderr
                    .contains(&format!("{listing}: reading from the end stopped")),
                "{fault:?}: {}",
                run.stderr
            );
            // Every page from the start (and the proof, when it was asked for).
            let (from_start, _) = listing_requests(&fake, path);
            assert!(from_start.len() > count / 2, "{fault:?}: {from_start:#?}");
        }
    }
}

/// A listing read from both ends, its page from the start thinned where the two meet (or
/// just before): short of its limit where the listing from the end has read objects beyond
/// it. Read alone, such a page would be a last page like any other; here it cannot be: it
/// is asked for again, and the listing read again whole. The egress rules: no other check
/// would see them short.
#[test]
fn a_page_thinned_where_listings_from_both_ends_meet_is_read_again() {
    let fake = start();
    // The second page from the start (the first with a marker), slow enough that the
    // listing from the end reads up to it first.
    let slow = Fault::SlowThinned(std::time::Duration::from_millis(300));
    fake.fault("/security-group-rules?direction=egress&marker=", [slow]);
    let (run, saved) = run_paged(&fake, "5", "0s", &[]);
    assert_eq!(findings(&run), snapshot_findings());
    let egress = saved["security_group_rules"].as_array().unwrap();
    let egress = egress.iter().filter(|r| r["direction"] == "egress").count();
    assert_eq!(egress, 37, "{}", run.stderr);
    // Where the page fell (just before the streams met, or where they met) depends on how
    // far the listing from the end read meanwhile; either way the page is short.
    let short_page = "warning: Neutron's listing of egress security_group_rules had a page of \
                      3 object(s), short of its limit, with more objects known beyond it (read \
                      from both ends; ";
    assert_stderr_has(
        &run,
        &[
            short_page,
            "and that page held 5 when asked again: read again whole, 37 egress",
        ],
    );

    // The page after: where the streams meet, it reaches objects the listing from the end
    // has read, and it is short all the same. (Which stream's page meets the other's
    // depends on timing from here on: the listing must be whole either way; without the
    // check, 35 or 36 of the 37 when the thinned page is the one that meets.)
    let fake = start();
    let stall = Fault::Stall(std::time::Duration::from_millis(300));
    let thinned = Fault::SlowThinned(std::time::Duration::ZERO);
    fake.fault(
        "/security-group-rules?direction=egress&marker=",
        [stall, thinned],
    );
    let (run, saved) = run_paged(&fake, "5", "0s", &[]);
    let egress = saved["security_group_rules"].as_array().unwrap();
    let egress = egress.iter().filter(|r| r["direction"] == "egress").count();
    assert_eq!(egress, 37, "{}", run.stderr);

    // The egress rules' first page thinned (no next link: never read from the end), beside
    // ingress rules read from both ends (they met: no end to check in one request): the
    // egress rules' last page asked for again on its own.
    let fake = start();
    fake.fault(
        "/security-group-rules?direction=egress&limit=5",
        [Fault::Thinned],
    );
    let (run, saved) = run_paged(&fake, "5", "0s", &[]);
    let egress = saved["security_group_rules"].as_array().unwrap();
    let egress = egress.iter().filter(|r| r["direction"] == "egress").count();
    assert_eq!(egress, 37, "{}", run.stderr);
    assert_stderr_has(
        &run,
        &["Neutron's listing of egress security_group_rules ended on a page of 3 object(s)"],
    );

    // A page from the end thinned where the streams meet: the listing from the start
    // waits for it (it covers what is left), and it is short all the same.
    let fake = start();
    let thinned = Fault::SlowThinned(std::time::Duration::from_millis(50));
    let from_the_end = "/security-group-rules?direction=egress&sort_key=id&sort_dir=desc&marker=";
    fake.fault(from_the_end, [thinned]);
    let (run, saved) = run_paged(&fake, "5", "0s", &[]);
    let egress = saved["security_group_rules"].as_array().unwrap();
    let egress = egress.iter().filter(|r| r["direction"] == "egress").count();
    assert_eq!(egress, 37, "{}", run.stderr);
}

/// The one request for the rules after where both rule listings ended fails on every try:
/// whether the ingress rules are whole is unknown, so the audit is incomplete, and
/// `--allow-partial` does not pass it (findings may be missing).
#[test]
fn the_rules_ends_unchecked_make_the_audit_incomplete() {
    let fake = start();
    let pattern = format!("/network/v2.0/security-group-rules{RULE_ENDS}");
    fake.fault(&pattern, vec![Fault::Status(503); 10]);
    let args = ["--fail-on", "none", "--format", "json", "--allow-partial"];
    let run = run_live(&fake, &[], &args);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(findings(&run), snapshot_findings());
    let report: Value = serde_json::from_str(&run.report("json")).unwrap();
    assert_eq!(report["gate"]["verdict"], "incomplete");
    assert_eq!(report["errors"][0]["resource"], "security_group_rules");
    assert_eq!(report["errors"][0]["status"], 503);
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("asking again for the rules after where their listings ended failed"),
        "{message}"
    );
    assert!(rules_requests(&fake, RULE_ENDS).len() > 1, "retried");
}
