//! Which cloud to audit, and how to authenticate: clouds.yaml / secure.yaml as openstacksdk
//! finds them, and openrc `OS_*` variables.
//!
//! Search: `OS_CLIENT_CONFIG_FILE`, then the current directory, `~/.config/openstack` and
//! `/etc/openstack`, each trying `clouds.yaml`, `clouds.yml`, `clouds.json`; the first file
//! found wins. `secure.yaml` (same search, `OS_CLIENT_SECURE_FILE`) is deep-merged over it.
//! The cloud is `--os-cloud`, else `OS_CLOUD`, else the one the `OS_*` variables describe,
//! else the file's only cloud. With a named cloud, `OS_*` variables only fill keys the entry
//! lacks, and a warning names those ignored. Errors name what is missing and where it was
//! looked for, and never echo a value (a value may be a password).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::secret::Secret;

/// How to reach and authenticate to one cloud.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    /// The clouds.yaml entry name, when one was used.
    pub name: Option<String>,
    /// Where the configuration came from, for messages.
    pub origin: String,
    /// The Keystone v3 URL (ends in `/v3`).
    pub auth_url: String,
    pub auth: AuthMethod,
    pub region: Option<String>,
    /// `public` (default), `internal` or `admin`.
    pub interface: String,
    pub verify: bool,
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Endpoints set by hand, read instead of the catalog's.
    pub overrides: EndpointOverrides,
    /// `api_timeout` (seconds, as openstacksdk reads it): the per-request timeout when
    /// `--timeout` does not set one.
    pub api_timeout: Option<std::time::Duration>,
}

/// Endpoints set by hand (`network_endpoint_override`, `compute_endpoint_override`,
/// `identity_endpoint_override`, as openstacksdk reads them; `OS_NETWORK_ENDPOINT_OVERRIDE`
/// and so on), used instead of the catalog's: for a catalog whose URLs the runner cannot
/// reach. `%(project_id)s` in one stands for the token's project, as in keystoneauth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    pub network: Option<String>,
    pub compute: Option<String>,
    pub identity: Option<String>,
}

impl EndpointOverrides {
    /// The clouds.yaml keys of the network, compute and identity overrides, in that order.
    pub const KEYS: [&'static str; 3] = [
        "network_endpoint_override",
        "compute_endpoint_override",
        "identity_endpoint_override",
    ];

    /// Each override set, with its key: `("network_endpoint_override", url)`.
    pub fn each(&self) -> impl Iterator<Item = (&'static str, &String)> {
        let urls = [&self.network, &self.compute, &self.identity];
        (Self::KEYS.into_iter().zip(urls)).filter_map(|(key, url)| Some((key, url.as_ref()?)))
    }

    fn each_mut(&mut self) -> impl Iterator<Item = (&'static str, &mut Option<String>)> {
        let urls = [&mut self.network, &mut self.compute, &mut self.identity];
        Self::KEYS.into_iter().zip(urls)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    Password {
        user: UserRef,
        password: Secret,
        scope: Scope,
    },
    ApplicationCredential {
        /// By id, or by name with the owning user.
        id: Option<String>,
        name: Option<String>,
        user: Option<UserRef>,
        secret: Secret,
    },
    Token {
        token: Secret,
        scope: Scope,
    },
}

impl AuthMethod {
    /// The secret these credentials send to Keystone.
    pub fn secret(&self) -> &Secret {
        match self {
            AuthMethod::Password { password, .. } => password,
            AuthMethod::ApplicationCredential { secret, .. } => secret,
            AuthMethod::Token { token, .. } => token,
        }
    }

    /// What kind of credentials, for whom: safe to print (never the secret).
    pub fn describe(&self) -> String {
        let user = |u: &UserRef| match u {
            UserRef::Id(id) => format!("user id {id}"),
            UserRef::Name { name, .. } => format!("user {name}"),
        };
        let scope = |s: &Scope| match s {
            Scope::Project {
                project: NameOrId::Id(p),
                ..
            } => format!("project id {p}"),
            Scope::Project {
                project: NameOrId::Name(p),
                ..
            } => format!("project {p}"),
            Scope::Domain(_) => "domain scope".to_owned(),
            Scope::System => "system scope".to_owned(),
            Scope::Unscoped => "unscoped".to_owned(),
        };
        match self {
            AuthMethod::Password {
                user: u, scope: s, ..
            } => {
                format!("password, {}, {}", user(u), scope(s))
            }
            AuthMethod::ApplicationCredential { id, name, .. } => format!(
                "application credential {}",
                id.as_deref().or(name.as_deref()).unwrap_or("?")
            ),
            AuthMethod::Token { scope: s, .. } => format!("token, {}", scope(s)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(String),
    Name { name: String, domain: NameOrId },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameOrId {
    Id(String),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Project {
        project: NameOrId,
        domain: Option<NameOrId>,
    },
    Domain(NameOrId),
    System,
    Unscoped,
}

/// Why no usable cloud configuration was found (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where to look, and the environment to read (tests pass their own).
pub struct Lookup<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub dirs: Vec<PathBuf>,
}

impl Lookup<'_> {
    /// The real process environment and openstacksdk's search directories.
    pub fn system() -> Lookup<'static> {
        let mut dirs = vec![PathBuf::from(".")];
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(PathBuf::from(home).join(".config/openstack"));
        }
        dirs.push(PathBuf::from("/etc/openstack"));
        Lookup {
            env: &|k| std::env::var(k).ok().filter(|v| !v.is_empty()),
            dirs,
        }
    }

    fn var(&self, key: &str) -> Option<String> {
        (self.env)(key).filter(|v| !v.is_empty())
    }
}

/// The resolved cloud and any warnings to print.
#[derive(Debug)]
pub struct Resolved {
    pub cloud: CloudConfig,
    pub warnings: Vec<String>,
}

/// `OS_*` variable → key in a clouds.yaml entry (`auth.x` is inside `auth`).
const ENV_KEYS: &[(&str, &str)] = &[
    ("OS_AUTH_URL", "auth.auth_url"),
    ("OS_USERNAME", "auth.username"),
    ("OS_USER_ID", "auth.user_id"),
    ("OS_PASSWORD", "auth.password"),
    ("OS_PROJECT_NAME", "auth.project_name"),
    ("OS_TENANT_NAME", "auth.project_name"),
    ("OS_PROJECT_ID", "auth.project_id"),
    ("OS_TENANT_ID", "auth.project_id"),
    ("OS_USER_DOMAIN_NAME", "auth.user_domain_name"),
    ("OS_USER_DOMAIN_ID", "auth.user_domain_id"),
    ("OS_PROJECT_DOMAIN_NAME", "auth.project_domain_name"),
    ("OS_PROJECT_DOMAIN_ID", "auth.project_domain_id"),
    ("OS_DOMAIN_NAME", "auth.domain_name"),
    ("OS_DOMAIN_ID", "auth.domain_id"),
    (
        "OS_APPLICATION_CREDENTIAL_ID",
        "auth.application_credential_id",
    ),
    (
        "OS_APPLICATION_CREDENTIAL_NAME",
        "auth.application_credential_name",
    ),
    (
        "OS_APPLICATION_CREDENTIAL_SECRET",
        "auth.application_credential_secret",
    ),
    ("OS_TOKEN", "auth.token"),
    ("OS_SYSTEM_SCOPE", "auth.system_scope"),
    ("OS_AUTH_TYPE", "auth_type"),
    ("OS_REGION_NAME", "region_name"),
    ("OS_INTERFACE", "interface"),
    ("OS_ENDPOINT_TYPE", "interface"),
    ("OS_CACERT", "cacert"),
    ("OS_CERT", "cert"),
    ("OS_KEY", "key"),
    ("OS_INSECURE", "verify"),
    ("OS_API_TIMEOUT", "api_timeout"),
    ("OS_NETWORK_ENDPOINT_OVERRIDE", "network_endpoint_override"),
    ("OS_COMPUTE_ENDPOINT_OVERRIDE", "compute_endpoint_override"),
    (
        "OS_IDENTITY_ENDPOINT_OVERRIDE",
        "identity_endpoint_override",
    ),
];

const FILE_NAMES: [&str; 3] = ["clouds.yaml", "clouds.yml", "clouds.json"];
const SECURE_NAMES: [&str; 3] = ["secure.yaml", "secure.yml", "secure.json"];

/// Finds and resolves the cloud to audit.
pub fn resolve(os_cloud: Option<&str>, lookup: &Lookup) -> Result<Resolved, ConfigError> {
    let mut warnings = Vec::new();
    let clouds_file = find_file(lookup, "OS_CLIENT_CONFIG_FILE", &FILE_NAMES)?;
    let secure_file = find_file(lookup, "OS_CLIENT_SECURE_FILE", &SECURE_NAMES)?;
    let mut clouds = match &clouds_file {
        Some(path) => read_clouds(path)?,
        None => Map::new(),
    };
    if let Some(path) = &secure_file {
        let secure = read_clouds(path)?;
        for (name, entry) in secure {
            let target = clouds
                .entry(name)
                .or_insert_with(|| Value::Object(Map::new()));
            deep_merge(target, entry);
        }
    }
    let env_entry = env_entry(lookup);
    let origin_file = clouds_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(no clouds.yaml found)".into());

    let (name, entry, origin) = if let Some(name) = os_cloud {
        let Some(entry) = clouds.get(name).cloned() else {
            let known: Vec<&str> = clouds.keys().map(String::as_str).collect();
            return Err(ConfigError(match &clouds_file {
                Some(path) => format!(
                    "cloud {name:?} is not in {} (clouds there: {})",
                    path.display(),
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ),
                None => format!(
                    "cloud {name:?} was asked for, but no clouds.yaml was found ({})",
                    searched(lookup, "OS_CLIENT_CONFIG_FILE", &FILE_NAMES)
                ),
            }));
        };
        let mut entry = entry;
        let ignored = fill_from_env(&mut entry, &env_entry);
        if !ignored.is_empty() {
            warnings.push(format!(
                "cloud {name:?} from {origin_file} is used; these OS_* variables are ignored because the entry sets them: {}",
                ignored.join(", ")
            ));
        }
        (
            Some(name.to_owned()),
            entry,
            format!("cloud {name:?} in {origin_file}"),
        )
    } else if has_key(&env_entry, "auth.auth_url") {
        (None, env_entry, "the OS_* environment variables".to_owned())
    } else if clouds.len() == 1 {
        let (name, entry) = clouds.into_iter().next().expect("one cloud");
        let origin = format!("cloud {name:?} in {origin_file}, its only cloud");
        (Some(name), entry, origin)
    } else if clouds.len() > 1 {
        return Err(ConfigError(format!(
            "{} defines several clouds ({}): choose one with --os-cloud or OS_CLOUD",
            origin_file,
            clouds.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    } else {
        return Err(ConfigError(format!(
            "no OpenStack credentials: no --os-cloud or OS_CLOUD, no OS_AUTH_URL, and no clouds.yaml ({})",
            searched(lookup, "OS_CLIENT_CONFIG_FILE", &FILE_NAMES)
        )));
    };
    let mut cloud = to_cloud_config(name, origin, &entry)?;
    if !is_http(&cloud.auth_url) {
        return Err(not_http("auth.auth_url (OS_AUTH_URL)", &cloud.origin));
    }
    // Credentials in the URL itself would be sent to Keystone as basic authentication
    // (which it ignores) and printed wherever the URL is: left out of both.
    if let Some(plain) = without_credentials(&cloud.auth_url) {
        warnings.push(format!(
            "the auth URL held a user name or password (user:password@{}): left out of every \
             request and message; Keystone takes credentials from the auth section (username, \
             password)",
            plain.split_once("://").map_or("", |(_, rest)| rest)
        ));
        cloud.auth_url = plain;
    }
    for (key, url) in cloud.overrides.each_mut() {
        if url.as_deref().is_some_and(|v| !is_http(v)) {
            return Err(not_http(key, &cloud.origin));
        }
        if let Some(plain) = url.as_deref().and_then(without_credentials) {
            warnings.push(format!(
                "{key} held a user name or password: left out of every request and message"
            ));
            *url = Some(plain);
        }
    }
    if plain_http_beyond_this_machine(&cloud.auth_url) {
        warnings.push(format!(
            "the auth URL {} is plain http: the credentials, and the token every request \
             carries, cross the network unencrypted",
            cloud.auth_url
        ));
    }
    if !cloud.verify {
        warnings.push(format!(
            "TLS certificate verification is OFF for {} (verify: false / OS_INSECURE / --insecure)",
            cloud.auth_url
        ));
    }
    Ok(Resolved { cloud, warnings })
}

fn find_file(
    lookup: &Lookup,
    env_var: &str,
    names: &[&str],
) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(path) = lookup.var(env_var) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(Some(path));
        }
    }
    for dir in &lookup.dirs {
        for name in names {
            let path = dir.join(name);
            if path.is_file() {
                return Ok(Some(path));
            }
        }
    }
    Ok(None)
}

fn searched(lookup: &Lookup, env_var: &str, names: &[&str]) -> String {
    let mut places = vec![match lookup.var(env_var) {
        Some(p) => format!("{env_var}={p} (not a file)"),
        None => format!("{env_var} unset"),
    }];
    for dir in &lookup.dirs {
        places.push(format!("{}/{{{}}}", dir.display(), names.join(",")));
    }
    format!("looked in: {}", places.join("; "))
}

/// Reads a clouds/secure file into its `clouds` map. Parse errors give the position only:
/// the offending text may be a password.
fn read_clouds(path: &Path) -> Result<Map<String, Value>, ConfigError> {
    let err = |m: String| ConfigError(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    parse_clouds(&text, path.extension().is_some_and(|e| e == "json")).map_err(err)
}

/// Parses clouds.yaml / secure.yaml (or their JSON form) into the `clouds` map.
pub fn parse_clouds(text: &str, json: bool) -> Result<Map<String, Value>, String> {
    let value: Value = if json {
        serde_json::from_str(text)
            .map_err(|e| format!("invalid JSON at line {} column {}", e.line(), e.column()))?
    } else if text.trim().is_empty() {
        Value::Null
    } else {
        serde_saphyr::from_str(text).map_err(|e| yaml_error(&e.to_string()))?
    };
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(mut top) => match top.remove("clouds") {
            Some(Value::Object(clouds)) => Ok(clouds),
            Some(Value::Null) | None => Ok(Map::new()),
            Some(_) => Err("`clouds` must be a mapping of cloud names".into()),
        },
        _ => Err("expected a mapping with a `clouds` key".into()),
    }
}

/// A YAML error reduced to its position and kind. The parser's message can quote the file
/// (a snippet, or a key such as in "duplicate mapping key: ..."), and the file may hold a
/// password: only `"line L column C: <kind>"` is kept, the kind cut at its first colon.
fn yaml_error(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let first = first.trim_start_matches("error: ");
    let mut parts = first.splitn(3, ": ");
    let position = parts.next().unwrap_or_default();
    let kind = parts.next().unwrap_or("syntax error");
    if position.starts_with("line ") {
        format!("invalid YAML at {position}: {kind}")
    } else {
        "invalid YAML".to_owned()
    }
}

/// Resolves one cloud entry (as parsed from clouds.yaml) into a `CloudConfig`.
pub fn cloud_from_entry(name: &str, entry: &Value) -> Result<CloudConfig, ConfigError> {
    to_cloud_config(Some(name.to_owned()), format!("cloud {name:?}"), entry)
}

fn deep_merge(target: &mut Value, overlay: Value) {
    match (target, overlay) {
        (Value::Object(t), Value::Object(o)) => {
            for (k, v) in o {
                deep_merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, o) => *t = o,
    }
}

/// The cloud entry the `OS_*` variables describe, with the variable name per key.
fn env_entry(lookup: &Lookup) -> Value {
    let mut entry = Value::Object(Map::new());
    for (var, key) in ENV_KEYS {
        if let Some(value) = lookup.var(var) {
            if has_key(&entry, key) {
                continue; // OS_PROJECT_NAME wins over OS_TENANT_NAME, and so on.
            }
            let value = if *var == "OS_INSECURE" {
                Value::Bool(!matches!(
                    value.to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes"
                ))
            } else {
                Value::String(value)
            };
            set_key(&mut entry, key, value, var);
        }
    }
    entry
}

/// Fills keys the entry lacks from the env entry; returns the variables ignored.
fn fill_from_env(entry: &mut Value, env: &Value) -> Vec<String> {
    let mut ignored = Vec::new();
    for (var, key) in ENV_KEYS {
        let Some(value) = get_key(env, key) else {
            continue;
        };
        if env_var_of(env, key) != Some(var) {
            continue;
        }
        if has_key(entry, key) {
            ignored.push((*var).to_owned());
        } else {
            set_key(entry, key, value.clone(), var);
        }
    }
    ignored
}

/// Which variable set `key` in the env entry (kept in a side map).
fn env_var_of<'a>(env: &'a Value, key: &str) -> Option<&'a str> {
    env.get("__vars")?.get(key)?.as_str()
}

fn get_key<'a>(entry: &'a Value, key: &str) -> Option<&'a Value> {
    match key.split_once('.') {
        Some((outer, inner)) => entry.get(outer)?.get(inner),
        None => entry.get(key),
    }
    .filter(|v| !v.is_null() && v.as_str() != Some(""))
}

fn has_key(entry: &Value, key: &str) -> bool {
    get_key(entry, key).is_some()
}

fn set_key(entry: &mut Value, key: &str, value: Value, var: &str) {
    let Value::Object(map) = entry else { return };
    match key.split_once('.') {
        Some((outer, inner)) => {
            let sub = map
                .entry(outer)
                .or_insert_with(|| Value::Object(Map::new()));
            if !sub.is_object() {
                *sub = Value::Object(Map::new());
            }
            if let Value::Object(sub) = sub {
                sub.insert(inner.to_owned(), value);
            }
        }
        None => {
            map.insert(key.to_owned(), value);
        }
    }
    let vars = map
        .entry("__vars")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(vars) = vars {
        vars.insert(key.to_owned(), Value::String(var.to_owned()));
    }
}

/// Reads a string key: strings, and numbers/bools written unquoted in YAML.
fn string(entry: &Value, key: &str) -> Option<String> {
    match get_key(entry, key)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn to_cloud_config(
    name: Option<String>,
    origin: String,
    entry: &Value,
) -> Result<CloudConfig, ConfigError> {
    let missing = |what: &str| {
        ConfigError(format!(
            "incomplete credentials in {origin}: missing {what}"
        ))
    };
    if let Some(v) = string(entry, "identity_api_version") {
        if !v.starts_with('3') {
            return Err(ConfigError(format!(
                "{origin}: identity_api_version {v} is not supported (Keystone v3 only)"
            )));
        }
    }
    let auth_url =
        string(entry, "auth.auth_url").ok_or_else(|| match string(entry, "profile") {
            // openstacksdk's vendor profiles fill keys from files shipped with it.
            Some(profile) => ConfigError(format!(
                "incomplete credentials in {origin}: missing auth.auth_url (OS_AUTH_URL); vendor \
             profiles (profile: {profile}) are not supported: set auth.auth_url and the \
             other keys the profile held"
            )),
            None => missing("auth.auth_url (OS_AUTH_URL)"),
        })?;
    let auth_url = v3_url(&auth_url);

    let domain = |id_key: &str, name_key: &str| -> Option<NameOrId> {
        string(entry, id_key)
            .map(NameOrId::Id)
            .or_else(|| string(entry, name_key).map(NameOrId::Name))
    };
    let any_domain = domain("auth.domain_id", "auth.domain_name");
    let user_domain = domain("auth.user_domain_id", "auth.user_domain_name").or(any_domain.clone());
    let project = domain("auth.project_id", "auth.project_name");
    let project_domain =
        domain("auth.project_domain_id", "auth.project_domain_name").or(any_domain.clone());
    let system = string(entry, "auth.system_scope").filter(|s| !s.eq_ignore_ascii_case("false"));
    let scope = if let Some(project) = project {
        if matches!(project, NameOrId::Name(_)) && project_domain.is_none() {
            return Err(missing(
                "auth.project_domain_name or auth.project_domain_id (OS_PROJECT_DOMAIN_NAME), needed with a project name",
            ));
        }
        Scope::Project {
            project,
            domain: project_domain,
        }
    } else if system.is_some() {
        Scope::System
    } else if let Some(d) = any_domain {
        Scope::Domain(d)
    } else {
        Scope::Unscoped
    };
    let user = || -> Result<UserRef, ConfigError> {
        if let Some(id) = string(entry, "auth.user_id") {
            return Ok(UserRef::Id(id));
        }
        let name = string(entry, "auth.username")
            .ok_or_else(|| missing("auth.username or auth.user_id (OS_USERNAME)"))?;
        let domain = user_domain.clone().ok_or_else(|| {
            missing("auth.user_domain_name or auth.user_domain_id (OS_USER_DOMAIN_NAME), needed with a user name")
        })?;
        Ok(UserRef::Name { name, domain })
    };

    let auth_type = string(entry, "auth_type")
        .map(|t| t.to_ascii_lowercase())
        .unwrap_or_else(|| {
            if has_key(entry, "auth.application_credential_secret") {
                "v3applicationcredential".into()
            } else if has_key(entry, "auth.token") && !has_key(entry, "auth.password") {
                "v3token".into()
            } else {
                "password".into()
            }
        });
    let auth = match auth_type.as_str() {
        "password" | "v3password" => AuthMethod::Password {
            user: user()?,
            password: string(entry, "auth.password")
                .map(Secret::new)
                .ok_or_else(|| missing("auth.password (OS_PASSWORD)"))?,
            scope,
        },
        "v3applicationcredential" | "applicationcredential" | "v3_application_credential" => {
            let secret = string(entry, "auth.application_credential_secret")
                .map(Secret::new)
                .ok_or_else(|| {
                    missing("auth.application_credential_secret (OS_APPLICATION_CREDENTIAL_SECRET)")
                })?;
            let id = string(entry, "auth.application_credential_id");
            let name = string(entry, "auth.application_credential_name");
            if id.is_none() && name.is_none() {
                return Err(missing(
                    "auth.application_credential_id or auth.application_credential_name (OS_APPLICATION_CREDENTIAL_ID)",
                ));
            }
            let user = if id.is_none() { Some(user()?) } else { None };
            AuthMethod::ApplicationCredential {
                id,
                name,
                user,
                secret,
            }
        }
        "token" | "v3token" => AuthMethod::Token {
            token: string(entry, "auth.token")
                .map(Secret::new)
                .ok_or_else(|| missing("auth.token (OS_TOKEN)"))?,
            scope,
        },
        other => {
            return Err(ConfigError(format!(
                "{origin}: auth_type {other:?} is not supported (password, v3password, v3applicationcredential, token, v3token)"
            )))
        }
    };
    let verify = match get_key(entry, "verify") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !matches!(s.to_ascii_lowercase().as_str(), "false" | "no" | "0"),
        _ => true,
    };
    let api_timeout = match string(entry, "api_timeout") {
        None => None,
        Some(text) => match text.parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs.is_finite() => {
                Some(std::time::Duration::from_secs_f64(secs.min(86_400.0)))
            }
            _ => {
                // (Its value is not shown, as no configuration value is.)
                return Err(ConfigError(format!(
                    "{origin}: api_timeout is not a number of seconds above 0"
                )));
            }
        },
    };
    let interface = string(entry, "interface")
        .map(|i| i.to_ascii_lowercase().trim_end_matches("url").to_owned())
        .unwrap_or_else(|| "public".to_owned());
    Ok(CloudConfig {
        name,
        origin,
        auth_url,
        auth,
        region: string(entry, "region_name"),
        interface,
        verify,
        cacert: string(entry, "cacert").map(PathBuf::from),
        cert: string(entry, "cert").map(PathBuf::from),
        key: string(entry, "key").map(PathBuf::from),
        api_timeout,
        overrides: {
            let [network, compute, identity] = EndpointOverrides::KEYS.map(|k| string(entry, k));
            EndpointOverrides {
                network,
                compute,
                identity,
            }
        },
    })
}

/// Whether a configured URL is an http(s) one. URLs are checked so before anything prints
/// them (`--verbose` does): a value without a scheme is not taken apart as a URL, so a
/// password in it would be shown.
fn is_http(url: &str) -> bool {
    let scheme = |s: &str| {
        url.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    };
    scheme("http://") || scheme("https://")
}

/// Whether `url` is plain http to a host other than this machine's loopback.
pub(super) fn plain_http_beyond_this_machine(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let loopback = match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    url.scheme() == "http" && !loopback
}

/// The error for a configured URL that is not an http(s) one: naming the key, never the
/// value (a configuration value may hold a password).
fn not_http(key: &str, origin: &str) -> ConfigError {
    ConfigError(format!(
        "{key} in {origin} is not an http(s) URL (http://HOST[:PORT][/PATH] or https://...)"
    ))
}

/// `url` without the `user:password@` its authority holds (None when it holds none).
fn without_credentials(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    Some(format!("{scheme}://{}", &rest[at + 1..]))
}

/// Appends `/v3` to an auth URL unless it is already there.
pub fn v3_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.rsplit('/').next() == Some("v3") {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/v3")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod yaml_error_tests {
    /// Regression (found by fuzzing, clouds_yaml target): a duplicate key quoted the key.
    #[test]
    fn yaml_errors_never_quote_the_file() {
        let text =
            "clouds:\n  lab:\nhunter2-secret  lab:\n    x: 1\nhunter2-secret  lab:\n    x: 2\n";
        let e = super::parse_clouds(text, false).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.starts_with("invalid YAML at line "), "{e}");
        let e =
            super::parse_clouds("clouds:\n  lab:\n    password: \"hunter2\n", false).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
