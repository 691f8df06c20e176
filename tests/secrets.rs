//! No secret ever leaks: every authentication path (password, application credential,
//! token; clouds.yaml, secure.yaml, OS_* variables), through success and through every auth
//! failure, at the most verbose level, with every report format, a saved snapshot and an
//! updated baseline. The canaries must appear nowhere: stdout, stderr, any file written.

mod common;
#[path = "common/fake_openstack.rs"]
mod fake_openstack;

use common::{driftmux_env, Run};
use fake_openstack::{Config, FakeOpenStack, Fault};

const CANARIES: &[&str] = &[
    "canary-password-123",
    "canary-wrong-password",
    "canary-appcred-secret",
    "canary-wrong-secret",
    "canary-token-4242",
    "canary-bad-token",
    "canary-url-password",
    "canary-proxy-password",
    // Tokens the fake Keystone issues.
    "gAAAAA-fake-token",
];

fn fake() -> FakeOpenStack {
    let demo = std::fs::read_to_string(common::repo_path("examples/demo-cloud.json")).unwrap();
    FakeOpenStack::start(Config::new(serde_json::from_str(&demo).unwrap()))
}

/// Runs driftmux at its most verbose with every output, then checks every byte it produced.
fn run_and_check(label: &str, env: &[(&str, &str)], extra: &[&str], expect_code: i32) -> Run {
    let files = tempfile::tempdir().unwrap();
    let snapshot = files.path().join("snapshot.json");
    let baseline = files.path().join("baseline.json");
    let mut args = vec![
        "--openstack-sg-audit",
        "--verbose",
        "--retries",
        "1",
        "--format",
        "markdown,json,csv,sarif,junit,codequality",
        "--save-snapshot",
        snapshot.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
        "--update-baseline",
    ];
    args.extend_from_slice(extra);
    let run = driftmux_env(&args, env);
    assert_eq!(run.code, expect_code, "{label}: {}", run.stderr);
    let mut outputs = vec![
        ("stdout".to_owned(), run.stdout.clone()),
        ("stderr".to_owned(), run.stderr.clone()),
    ];
    for dir in [run.out_dir.path(), files.path()] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            outputs.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap_or_default(),
            ));
        }
    }
    for (name, text) in &outputs {
        for canary in CANARIES {
            assert!(
                !text.contains(canary),
                "{label}: secret {canary:?} leaked into {name}:\n{text}"
            );
        }
    }
    if expect_code == 0 {
        assert!(
            run.stderr.contains("GET http://127.0.0.1:"),
            "{label}: verbose logging is on: {}",
            run.stderr
        );
        assert!(
            snapshot.exists() && baseline.exists(),
            "{label}: files were written"
        );
    }
    run
}

fn openrc<'a>(fake: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("OS_AUTH_URL", fake),
        ("OS_USERNAME", "admin"),
        ("OS_PASSWORD", password),
        ("OS_PROJECT_NAME", "admin"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
    ]
}

#[test]
fn password_from_os_variables() {
    let f = fake();
    let url = f.auth_url();
    run_and_check(
        "OS_* password",
        &openrc(&url, "canary-password-123"),
        &[],
        0,
    );
    let run = run_and_check(
        "OS_* wrong password",
        &openrc(&url, "canary-wrong-password"),
        &[],
        3,
    );
    assert!(run.stderr.contains("authentication failed"));
}

#[test]
fn password_from_clouds_yaml_and_secure_yaml() {
    let f = fake();
    let dir = tempfile::tempdir().unwrap();
    let clouds = dir.path().join("clouds.yaml");
    let secure = dir.path().join("secure.yaml");
    std::fs::write(&clouds, format!("clouds:\n  lab:\n    auth:\n      auth_url: {}\n      username: admin\n      password: canary-password-123\n      project_name: admin\n      domain_name: Default\n", f.auth_url())).unwrap();
    let env = [
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("OS_CLOUD", "lab"),
    ];
    run_and_check("clouds.yaml password", &env, &[], 0);
    // The password only in secure.yaml; a wrong one there fails authentication.
    std::fs::write(&clouds, format!("clouds:\n  lab:\n    auth:\n      auth_url: {}\n      username: admin\n      project_name: admin\n      domain_name: Default\n", f.auth_url())).unwrap();
    std::fs::write(
        &secure,
        "clouds:\n  lab:\n    auth:\n      password: canary-password-123\n",
    )
    .unwrap();
    let env = [
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("OS_CLIENT_SECURE_FILE", secure.to_str().unwrap()),
        ("OS_CLOUD", "lab"),
    ];
    run_and_check("secure.yaml password", &env, &[], 0);
    std::fs::write(
        &secure,
        "clouds:\n  lab:\n    auth:\n      password: canary-wrong-password\n",
    )
    .unwrap();
    run_and_check("secure.yaml wrong password", &env, &[], 3);
    // A malformed secure.yaml: the error gives the position, never the text.
    std::fs::write(
        &secure,
        "clouds:\n  lab:\n    auth:\n      password: \"canary-password-123\n   x: [\n",
    )
    .unwrap();
    run_and_check("malformed secure.yaml", &env, &[], 2);
}

#[test]
fn application_credentials() {
    let f = fake();
    let url = f.auth_url();
    let env = |secret: &'static str| -> Vec<(&str, String)> {
        vec![
            ("OS_AUTH_URL", url.clone()),
            ("OS_AUTH_TYPE", "v3applicationcredential".into()),
            ("OS_APPLICATION_CREDENTIAL_ID", "appcred-1".into()),
            ("OS_APPLICATION_CREDENTIAL_SECRET", secret.into()),
        ]
    };
    for (secret, code) in [("canary-appcred-secret", 0), ("canary-wrong-secret", 3)] {
        let e = env(secret);
        let pairs: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_and_check(secret, &pairs, &[], code);
    }
}

#[test]
fn tokens() {
    let f = fake();
    let url = f.auth_url();
    for (token, code) in [("canary-token-4242", 0), ("canary-bad-token", 3)] {
        let env = [
            ("OS_AUTH_URL", url.as_str()),
            ("OS_TOKEN", token),
            ("OS_PROJECT_NAME", "admin"),
            ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ];
        run_and_check(token, &env, &[], code);
    }
}

#[test]
fn reauthentication_and_failures_mid_run() {
    let f = fake();
    let url = f.auth_url();
    // A re-authentication mid-run (the password is sent again), then a failing resource.
    f.fault("/network/v2.0/ports", [Fault::RevokeTokens]);
    f.fault("/compute/v2.1/servers/detail", vec![Fault::Status(500); 4]);
    let run = run_and_check(
        "re-auth and 500s",
        &openrc(&url, "canary-password-123"),
        &[],
        3,
    );
    assert!(run.stderr.contains("re-authenticating"), "{}", run.stderr);
}

#[test]
fn debug_output_of_the_resolved_cloud_redacts_secrets() {
    use driftmux::collect::openstack::config::{resolve, Lookup};
    let vars = [
        ("OS_AUTH_URL", "http://k"),
        ("OS_USERNAME", "u"),
        ("OS_PASSWORD", "canary-password-123"),
        ("OS_USER_DOMAIN_NAME", "Default"),
    ];
    let env = |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    };
    let resolved = resolve(
        None,
        &Lookup {
            env: &env,
            dirs: vec![],
        },
    )
    .unwrap();
    let debug = format!("{resolved:?}");
    assert!(!debug.contains("canary"), "{debug}");
    assert!(debug.contains("<redacted>"));
    assert!(!resolved.cloud.auth.describe().contains("canary"));
}

/// Credentials written into a URL: the auth URL's (left out of every request and message,
/// with a warning) and a proxy's (sent to the proxy alone, never printed).
#[test]
fn credentials_in_urls() {
    let f = fake();
    let with = f
        .auth_url()
        .replace("http://", "http://admin:canary-url-password@");
    let run = run_and_check(
        "auth URL with credentials",
        &openrc(&with, "canary-password-123"),
        &[],
        0,
    );
    assert!(
        run.stderr
            .contains("the auth URL held a user name or password"),
        "{}",
        run.stderr
    );
    // Discovery and every message fall back on the URL as configured.
    let not_keystone = format!("{with}/nowhere");
    run_and_check(
        "auth URL with credentials, not Keystone's",
        &openrc(&not_keystone, "canary-password-123"),
        &[],
        3,
    );
    let proxy =
        (common::nothing_listening()).replace("http://", "http://puser:canary-proxy-password@");
    let url = f.auth_url();
    let mut env = openrc(&url, "canary-password-123");
    env.push(("HTTP_PROXY", &proxy));
    let run = run_and_check("a proxy with credentials that refuses", &env, &[], 3);
    assert!(
        run.stderr.contains("through the proxy http://127.0.0.1:"),
        "{}",
        run.stderr
    );
}

/// A server that echoes what it was sent (a gateway's error page quoting the request, a
/// message quoting a field): the password Keystone was sent, the token an API was sent,
/// appear in no message.
#[test]
fn servers_echoing_the_request() {
    let f = fake();
    let url = f.auth_url();
    f.fault("/auth/tokens", [Fault::Echo(400)]);
    let run = run_and_check(
        "Keystone echoing the password",
        &openrc(&url, "canary-password-123"),
        &[],
        3,
    );
    assert!(
        run.stderr.contains("cannot take this request"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("<redacted>"), "{}", run.stderr);
    f.fault("/network/v2.0/security-groups", [Fault::Echo(400)]);
    let run = run_and_check(
        "Neutron echoing the token",
        &openrc(&url, "canary-password-123"),
        &[],
        3,
    );
    // The collection error, in every report.
    let report = run.report("json");
    assert!(
        report.contains("the token <redacted> is not accepted here"),
        "{report}"
    );
    // A page of the wrong shape: the decoder's message quotes the text it found.
    f.fault("/network/v2.0/security-groups", vec![Fault::Echo(200); 2]);
    let run = run_and_check(
        "a page quoting the token",
        &openrc(&url, "canary-password-123"),
        &[],
        3,
    );
    let report = run.report("json");
    assert!(
        report.contains("unexpected response: invalid type: string"),
        "{report}"
    );
    assert!(report.contains("<redacted>"), "{report}");
    // Nova's os-services and Keystone's token, of the wrong shape the same way.
    f.fault("/os-services", [Fault::Echo(200)]);
    let run = run_and_check(
        "os-services quoting the token",
        &openrc(&url, "canary-password-123"),
        &[],
        3,
    );
    assert!(
        run.stderr
            .contains("unexpected response: invalid type: string"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("<redacted>"), "{}", run.stderr);
    f.fault("/auth/tokens", [Fault::Echo(201)]);
    let run = run_and_check(
        "a token response quoting the password",
        &openrc(&url, "canary-password-123"),
        &[],
        3,
    );
    assert!(
        run.stderr
            .contains("Keystone's token response is not valid"),
        "{}",
        run.stderr
    );
}
