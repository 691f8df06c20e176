//! Cloud configuration resolution, with a fake environment and temporary directories.

use std::collections::HashMap;
use std::path::Path;

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            env: HashMap::new(),
        }
    }

    fn file(&self, rel: &str, text: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn env(mut self, pairs: &[(&str, &str)]) -> Fixture {
        for (k, v) in pairs {
            self.env.insert((*k).into(), (*v).into());
        }
        self
    }

    fn resolve(&self, cloud: Option<&str>) -> Result<Resolved, ConfigError> {
        let env = |k: &str| self.env.get(k).cloned();
        let lookup = Lookup {
            env: &env,
            dirs: vec![
                self.dir.path().join("cwd"),
                self.dir.path().join("home/.config/openstack"),
                self.dir.path().join("etc/openstack"),
            ],
        };
        resolve(cloud, &lookup)
    }
}

const OPENRC: &[(&str, &str)] = &[
    ("OS_AUTH_URL", "http://127.0.0.1:5000"),
    ("OS_USERNAME", "admin"),
    ("OS_PASSWORD", "canary-password-123"),
    ("OS_PROJECT_NAME", "admin"),
    ("OS_USER_DOMAIN_NAME", "Default"),
    ("OS_PROJECT_DOMAIN_NAME", "Default"),
    ("OS_REGION_NAME", "RegionOne"),
];

#[test]
fn openrc_variables_form_the_cloud() {
    let f = Fixture::new().env(OPENRC);
    let r = f.resolve(None).unwrap();
    let c = r.cloud;
    assert_eq!(c.auth_url, "http://127.0.0.1:5000/v3");
    assert_eq!(c.region.as_deref(), Some("RegionOne"));
    assert_eq!(c.interface, "public");
    assert!(c.verify);
    let AuthMethod::Password {
        user,
        password,
        scope,
    } = c.auth
    else {
        panic!()
    };
    assert_eq!(
        user,
        UserRef::Name {
            name: "admin".into(),
            domain: NameOrId::Name("Default".into())
        }
    );
    assert_eq!(password.expose(), "canary-password-123");
    assert_eq!(
        scope,
        Scope::Project {
            project: NameOrId::Name("admin".into()),
            domain: Some(NameOrId::Name("Default".into()))
        }
    );
    assert!(r.warnings.is_empty());
}

#[test]
fn clouds_yaml_with_secure_yaml_merged_and_search_order() {
    let f = Fixture::new();
    f.file("home/.config/openstack/clouds.yaml", "clouds:\n  prod:\n    auth:\n      auth_url: https://home.example:5000/v3\n      username: u\n      project_id: p1\n      user_domain_id: default\n    region_name: R\n");
    f.file(
        "etc/openstack/clouds.yaml",
        "clouds:\n  prod:\n    auth:\n      auth_url: https://etc.example\n",
    );
    f.file(
        "home/.config/openstack/secure.yaml",
        "clouds:\n  prod:\n    auth:\n      password: from-secure\n",
    );
    let c = f.resolve(Some("prod")).unwrap().cloud;
    assert_eq!(
        c.auth_url, "https://home.example:5000/v3",
        "first directory with a file wins"
    );
    assert!(c.origin.contains("home/.config/openstack/clouds.yaml"));
    let AuthMethod::Password {
        password, scope, ..
    } = c.auth
    else {
        panic!()
    };
    assert_eq!(password.expose(), "from-secure");
    assert_eq!(
        scope,
        Scope::Project {
            project: NameOrId::Id("p1".into()),
            domain: None
        }
    );
    // The current directory comes first; OS_CLIENT_CONFIG_FILE before everything.
    f.file("cwd/clouds.yml", "clouds:\n  prod:\n    auth:\n      auth_url: https://cwd.example\n      user_id: uid\n      password: x\n");
    assert_eq!(
        f.resolve(Some("prod")).unwrap().cloud.auth_url,
        "https://cwd.example/v3"
    );
    let explicit = f.file("elsewhere/my.yaml", "clouds:\n  prod:\n    auth:\n      auth_url: https://explicit.example/v3/\n      user_id: uid\n      password: x\n");
    let f = f.env(&[("OS_CLIENT_CONFIG_FILE", explicit.to_str().unwrap())]);
    assert_eq!(
        f.resolve(Some("prod")).unwrap().cloud.auth_url,
        "https://explicit.example/v3"
    );
}

#[test]
fn clouds_json_and_only_cloud() {
    let f = Fixture::new();
    f.file("cwd/clouds.json", r#"{"clouds": {"lab": {"auth": {"auth_url": "http://k:5000", "user_id": "u", "password": "p", "system_scope": "all"}, "interface": "internalURL", "verify": false}}}"#);
    let r = f.resolve(None).unwrap();
    assert_eq!(r.cloud.name.as_deref(), Some("lab"));
    assert_eq!(r.cloud.interface, "internal");
    assert!(!r.cloud.verify);
    assert!(r.warnings.iter().any(|w| w.contains("verification is OFF")));
    let AuthMethod::Password { scope, .. } = r.cloud.auth else {
        panic!()
    };
    assert_eq!(scope, Scope::System);
    // Several, and none chosen: which to choose from, and how.
    let f = Fixture::new();
    f.file(
        "cwd/clouds.yaml",
        "clouds:\n  lab:\n    auth: {auth_url: 'http://k:5000'}\n  prod:\n    auth: {auth_url: 'http://p:5000'}\n",
    );
    let e = f.resolve(None).unwrap_err().0;
    assert!(
        e.ends_with("defines several clouds (lab, prod): choose one with --os-cloud or OS_CLOUD"),
        "{e}"
    );
}

#[test]
fn the_credentials_are_described_without_their_secret() {
    let describe = |pairs: &[(&str, &str)]| {
        let described = Fixture::new()
            .env(pairs)
            .resolve(None)
            .unwrap()
            .cloud
            .auth
            .describe();
        let secrets = ["canary-password-123", "s3cret", "tok-canary"];
        assert!(
            !secrets.iter().any(|s| described.contains(s)),
            "{described}"
        );
        described
    };
    assert_eq!(describe(OPENRC), "password, user admin, project admin");
    assert_eq!(
        describe(&[
            ("OS_AUTH_URL", "http://k"),
            ("OS_APPLICATION_CREDENTIAL_ID", "ac1"),
            ("OS_APPLICATION_CREDENTIAL_SECRET", "s3cret"),
        ]),
        "application credential ac1"
    );
    assert_eq!(
        describe(&[
            ("OS_AUTH_URL", "http://k"),
            ("OS_TOKEN", "tok-canary"),
            ("OS_PROJECT_ID", "p"),
        ]),
        "token, project id p"
    );
}

#[test]
fn named_cloud_and_os_variables_fill_only_missing_keys_with_a_warning() {
    let f = Fixture::new().env(OPENRC);
    // An empty or null value is a missing one (a placeholder for the password, say).
    f.file("cwd/clouds.yaml", "clouds:\n  prod:\n    region_name: ~\n    auth:\n      auth_url: https://prod.example:5000\n      username: svc\n      password: ''\n      user_domain_name: Default\n      project_name: audit\n      project_domain_name: Default\n");
    let r = f.resolve(Some("prod")).unwrap();
    assert_eq!(r.cloud.auth_url, "https://prod.example:5000/v3");
    let AuthMethod::Password { password, user, .. } = &r.cloud.auth else {
        panic!()
    };
    assert_eq!(
        password.expose(),
        "canary-password-123",
        "filled from OS_PASSWORD"
    );
    assert_eq!(
        *user,
        UserRef::Name {
            name: "svc".into(),
            domain: NameOrId::Name("Default".into())
        }
    );
    assert_eq!(r.cloud.region.as_deref(), Some("RegionOne"));
    let w = r.warnings.join("\n");
    assert!(
        w.contains("OS_AUTH_URL") && w.contains("OS_USERNAME") && w.contains("OS_PROJECT_NAME"),
        "{w}"
    );
    assert!(!w.contains("OS_PASSWORD") && !w.contains("canary"), "{w}");
}

#[test]
fn domain_name_fills_user_and_project_domains_or_scopes_to_the_domain() {
    let f = Fixture::new().env(&[
        ("OS_AUTH_URL", "http://k/v3"),
        ("OS_USERNAME", "u"),
        ("OS_PASSWORD", "p"),
        ("OS_PROJECT_NAME", "x"),
        ("OS_DOMAIN_NAME", "corp"),
    ]);
    let AuthMethod::Password { user, scope, .. } = f.resolve(None).unwrap().cloud.auth else {
        panic!()
    };
    assert_eq!(
        user,
        UserRef::Name {
            name: "u".into(),
            domain: NameOrId::Name("corp".into())
        }
    );
    assert_eq!(
        scope,
        Scope::Project {
            project: NameOrId::Name("x".into()),
            domain: Some(NameOrId::Name("corp".into()))
        }
    );
    let f = Fixture::new().env(&[
        ("OS_AUTH_URL", "http://k/v3"),
        ("OS_USERNAME", "u"),
        ("OS_PASSWORD", "p"),
        ("OS_DOMAIN_ID", "d1"),
    ]);
    let AuthMethod::Password { scope, .. } = f.resolve(None).unwrap().cloud.auth else {
        panic!()
    };
    assert_eq!(scope, Scope::Domain(NameOrId::Id("d1".into())));
}

#[test]
fn application_credentials_and_tokens() {
    let f = Fixture::new().env(&[
        ("OS_AUTH_URL", "http://k"),
        ("OS_AUTH_TYPE", "v3applicationcredential"),
        ("OS_APPLICATION_CREDENTIAL_ID", "ac1"),
        ("OS_APPLICATION_CREDENTIAL_SECRET", "s3cret"),
    ]);
    let AuthMethod::ApplicationCredential {
        id, user, secret, ..
    } = f.resolve(None).unwrap().cloud.auth
    else {
        panic!()
    };
    assert_eq!(
        (id.as_deref(), user, secret.expose()),
        (Some("ac1"), None, "s3cret")
    );
    // By name it needs the user.
    let f = Fixture::new().env(&[
        ("OS_AUTH_URL", "http://k"),
        ("OS_APPLICATION_CREDENTIAL_NAME", "audit"),
        ("OS_APPLICATION_CREDENTIAL_SECRET", "s"),
    ]);
    let e = f.resolve(None).unwrap_err().0;
    assert!(e.contains("auth.username"), "{e}");
    let f = Fixture::new().env(&[
        ("OS_AUTH_URL", "http://k"),
        ("OS_TOKEN", "tok"),
        ("OS_PROJECT_ID", "p"),
    ]);
    let AuthMethod::Token { token, scope } = f.resolve(None).unwrap().cloud.auth else {
        panic!()
    };
    assert_eq!(token.expose(), "tok");
    assert_eq!(
        scope,
        Scope::Project {
            project: NameOrId::Id("p".into()),
            domain: None
        }
    );
}

#[test]
fn missing_pieces_are_named_without_values() {
    let f = Fixture::new();
    let e = f.resolve(None).unwrap_err().0;
    assert!(
        e.contains("no OpenStack credentials")
            && e.contains("OS_CLIENT_CONFIG_FILE unset")
            && e.contains("clouds.yaml"),
        "{e}"
    );
    let e = f.resolve(Some("prod")).unwrap_err().0;
    assert!(
        e.contains("\"prod\"") && e.contains("no clouds.yaml"),
        "{e}"
    );
    f.file(
        "cwd/clouds.yaml",
        "clouds:\n  a: {auth: {auth_url: http://k}}\n  b: {auth: {auth_url: http://k}}\n",
    );
    let e = f.resolve(Some("c")).unwrap_err().0;
    assert!(e.contains("a, b"), "{e}");
    let e = f.resolve(None).unwrap_err().0;
    assert!(e.contains("--os-cloud"), "{e}");
    let e = f.resolve(Some("a")).unwrap_err().0;
    assert!(
        e.contains("auth.username") && e.contains("cloud \"a\""),
        "{e}"
    );
    let f = Fixture::new().env(&[
        ("OS_AUTH_URL", "http://k"),
        ("OS_USERNAME", "u"),
        ("OS_USER_DOMAIN_NAME", "d"),
    ]);
    assert!(f
        .resolve(None)
        .unwrap_err()
        .0
        .contains("auth.password (OS_PASSWORD)"));
}

#[test]
fn malformed_files_never_echo_their_content() {
    let f = Fixture::new();
    f.file(
        "cwd/clouds.yaml",
        "clouds:\n  prod:\n    auth:\n      password: \"canary-password-123\n      username: [\n",
    );
    let e = f.resolve(Some("prod")).unwrap_err().0;
    assert!(
        e.contains("clouds.yaml") && e.contains("invalid YAML"),
        "{e}"
    );
    assert!(!e.contains("canary"), "{e}");
    let f = Fixture::new();
    f.file(
        "cwd/clouds.json",
        "{\"clouds\": {\"p\": {\"auth\": {\"password\": \"canary-password-123\" ",
    );
    let e = f.resolve(Some("p")).unwrap_err().0;
    assert!(e.contains("invalid JSON") && !e.contains("canary"), "{e}");
}

#[test]
fn v3_urls() {
    assert_eq!(v3_url("http://k:5000"), "http://k:5000/v3");
    assert_eq!(v3_url("http://k:5000/"), "http://k:5000/v3");
    assert_eq!(v3_url("http://k/identity/v3/"), "http://k/identity/v3");
    assert_eq!(v3_url("http://k/identity"), "http://k/identity/v3");
    let _ = Path::new("unused");
}

#[test]
fn credentials_in_the_auth_url_are_left_out_with_a_warning() {
    let mut env: Vec<(&str, &str)> = OPENRC.to_vec();
    env[0] = (
        "OS_AUTH_URL",
        "https://kuser:url-canary-pw@keystone.example:5000/identity",
    );
    let resolved = Fixture::new().env(&env).resolve(None).unwrap();
    assert_eq!(
        resolved.cloud.auth_url,
        "https://keystone.example:5000/identity/v3"
    );
    assert_eq!(resolved.warnings.len(), 1, "{:?}", resolved.warnings);
    let warning = &resolved.warnings[0];
    assert!(
        warning.contains("user:password@keystone.example:5000/identity/v3"),
        "{warning}"
    );
    assert!(
        !warning.contains("url-canary-pw") && !warning.contains("kuser"),
        "{warning}"
    );
    // An '@' after the authority (in the path or query) is no credential.
    for url in [
        "http://keystone.example/v3",
        "http://keystone.example/a@b/v3",
        "http://h?x=a@b",
    ] {
        assert_eq!(without_credentials(url), None, "{url}");
    }
    assert_eq!(
        without_credentials("http://only-user@h:1/v3").as_deref(),
        Some("http://h:1/v3")
    );
}

#[test]
fn endpoint_overrides_from_clouds_yaml_and_the_environment() {
    let f = Fixture::new();
    f.file(
        "cwd/clouds.yaml",
        "clouds:\n  lab:\n    auth:\n      auth_url: http://127.0.0.1:5000\n      username: admin\n      \
         password: canary-password-123\n      project_name: admin\n      user_domain_name: Default\n      \
         project_domain_name: Default\n    network_endpoint_override: https://neutron.example:9696/\n    \
         compute_endpoint_override: https://nova.example/v2.1/%(project_id)s\n",
    );
    let r = f.resolve(Some("lab")).unwrap();
    let expected = EndpointOverrides {
        network: Some("https://neutron.example:9696/".into()),
        compute: Some("https://nova.example/v2.1/%(project_id)s".into()),
        identity: None,
    };
    assert_eq!(r.cloud.overrides, expected);
    let keys: Vec<&str> = r.cloud.overrides.each().map(|(key, _)| key).collect();
    assert_eq!(
        keys,
        ["network_endpoint_override", "compute_endpoint_override"]
    );

    // From the OS_* variables, as openstacksdk reads them; credentials in one left out.
    let env = [
        (
            "OS_IDENTITY_ENDPOINT_OVERRIDE",
            "http://keystone.example:5000",
        ),
        (
            "OS_NETWORK_ENDPOINT_OVERRIDE",
            "http://user:canary-secret@neutron.example/",
        ),
    ];
    let r = Fixture::new().env(OPENRC).env(&env).resolve(None).unwrap();
    assert_eq!(
        r.cloud.overrides.identity.as_deref(),
        Some("http://keystone.example:5000")
    );
    assert_eq!(
        r.cloud.overrides.network.as_deref(),
        Some("http://neutron.example/")
    );
    assert!(r
        .warnings
        .iter()
        .any(|w| w.starts_with("network_endpoint_override held")));
    assert!(r.warnings.iter().all(|w| !w.contains("canary")));
}

#[test]
fn a_vendor_profile_is_named_when_it_would_have_held_the_auth_url() {
    let f = Fixture::new();
    f.file(
        "cwd/clouds.yaml",
        "clouds:\n  vexx:\n    profile: vexxhost\n    auth:\n      username: admin\n      \
         password: canary-password-123\n",
    );
    let e = f.resolve(Some("vexx")).unwrap_err().0;
    assert!(e.contains("missing auth.auth_url (OS_AUTH_URL)"), "{e}");
    assert!(
        e.contains("vendor profiles (profile: vexxhost) are not supported"),
        "{e}"
    );
    assert!(!e.contains("canary"), "{e}");
}

#[test]
fn an_auth_url_without_a_scheme_is_refused_without_showing_it() {
    let refused = |var: &str, value: &str| -> String {
        let env = [(var, value)];
        let e = Fixture::new()
            .env(OPENRC)
            .env(&env)
            .resolve(None)
            .unwrap_err()
            .0;
        assert!(!e.contains("canary"), "{e}");
        e
    };
    let e = refused("OS_AUTH_URL", "admin:canary-secret@keystone.example:5000");
    let said =
        "auth.auth_url (OS_AUTH_URL) in the OS_* environment variables is not an http(s) URL";
    assert!(e.starts_with(said), "{e}");
    // An endpoint override too.
    let e = refused("OS_COMPUTE_ENDPOINT_OVERRIDE", "nova.example:8774/v2.1");
    let said = "compute_endpoint_override in the OS_* environment variables is not an http(s) URL";
    assert!(e.starts_with(said), "{e}");
    let env = [("OS_AUTH_URL", "HTTPS://keystone.example:5000")];
    assert!(Fixture::new().env(OPENRC).env(&env).resolve(None).is_ok());
}

#[test]
fn plain_http_beyond_this_machine_is_warned_about() {
    let warned = |url: &str| {
        let env = [("OS_AUTH_URL", url)];
        let r = Fixture::new().env(OPENRC).env(&env).resolve(None).unwrap();
        r.warnings.iter().any(|w| w.contains("is plain http"))
    };
    assert!(warned("http://keystone.example:5000"));
    assert!(warned("http://10.0.0.5:5000/v3"));
    assert!(!warned("https://keystone.example:5000"));
    assert!(!warned("http://127.0.0.1:5000"));
    assert!(!warned("http://localhost:5000"));
    assert!(!warned("http://[::1]:5000"));
}

#[test]
fn api_timeout_in_seconds() {
    let timeout = |value: &str| {
        let env = [("OS_API_TIMEOUT", value)];
        Fixture::new()
            .env(OPENRC)
            .env(&env)
            .resolve(None)
            .map(|r| r.cloud.api_timeout)
    };
    assert_eq!(
        timeout("120").unwrap(),
        Some(std::time::Duration::from_secs(120))
    );
    assert_eq!(
        timeout("2.5").unwrap(),
        Some(std::time::Duration::from_millis(2500))
    );
    for bad in ["0", "-3", "soon", "NaN"] {
        let e = timeout(bad).unwrap_err().0;
        assert!(
            e.contains("api_timeout") && e.contains("is not a number of seconds above 0"),
            "{e}"
        );
    }
    let r = Fixture::new().env(OPENRC).resolve(None).unwrap();
    assert_eq!(r.cloud.api_timeout, None);
}

#[test]
fn a_clouds_file_with_nothing_in_it_has_no_clouds() {
    for (text, json) in [
        ("", false),
        ("# clouds to come\n", false),
        ("~\n", false),
        ("clouds:\n", false),
        ("null", true),
    ] {
        assert_eq!(parse_clouds(text, json), Ok(Map::new()), "{text:?}");
    }
    assert_eq!(
        parse_clouds("[]", true).unwrap_err(),
        "expected a mapping with a `clouds` key"
    );
}

#[test]
fn verification_is_off_only_when_os_insecure_or_verify_says_so() {
    for (value, verify) in [
        ("true", false),
        ("1", false),
        ("YES", false),
        ("false", true),
        ("0", true),
    ] {
        let r = Fixture::new()
            .env(OPENRC)
            .env(&[("OS_INSECURE", value)])
            .resolve(None)
            .unwrap();
        assert_eq!(r.cloud.verify, verify, "OS_INSECURE={value}");
        let warned = r.warnings.iter().any(|w| w.contains("verification is OFF"));
        assert_eq!(warned, !verify, "OS_INSECURE={value}: {:?}", r.warnings);
    }
    // clouds.yaml's `verify`, a boolean or a quoted string.
    for (value, verify) in [
        ("false", false),
        ("'False'", false),
        ("'no'", false),
        ("'0'", false),
        ("true", true),
        ("'yes'", true),
    ] {
        let f = Fixture::new();
        f.file(
            "cwd/clouds.yaml",
            &format!("clouds:\n  lab:\n    verify: {value}\n    auth: {{auth_url: 'http://k:5000', user_id: u, password: p}}\n"),
        );
        assert_eq!(
            f.resolve(None).unwrap().cloud.verify,
            verify,
            "verify: {value}"
        );
    }
}

#[test]
fn unquoted_numbers_and_booleans_are_read_as_their_text() {
    let f = Fixture::new();
    f.file(
        "cwd/clouds.yaml",
        "clouds:\n  lab:\n    region_name: 2024\n    auth:\n      auth_url: http://k:5000\n      username: true\n      user_domain_name: Default\n      password: p\n      project_id: 42\n",
    );
    let r = f.resolve(None).unwrap();
    assert_eq!(r.cloud.region.as_deref(), Some("2024"));
    let AuthMethod::Password { user, scope, .. } = r.cloud.auth else {
        panic!()
    };
    assert_eq!(
        (user, scope),
        (
            UserRef::Name {
                name: "true".into(),
                domain: NameOrId::Name("Default".into())
            },
            Scope::Project {
                project: NameOrId::Id("42".into()),
                domain: None
            }
        )
    );
}
