//! Keystone v3 authentication: the `POST /v3/auth/tokens` body for each method, the token
//! (from `X-Subject-Token`) and the service catalog, and endpoint selection by service type,
//! interface and region.

use serde::Deserialize;
use serde_json::{json, Value};

use super::config::{v3_url, AuthMethod, CloudConfig, EndpointOverrides, NameOrId, Scope, UserRef};
use super::secret::Secret;
use super::LiveError;

/// The body of `POST /v3/auth/tokens`. It holds the secret: never log it.
pub fn request_body(auth: &AuthMethod) -> Value {
    match auth {
        AuthMethod::Password {
            user,
            password,
            scope,
        } => {
            let mut user = user_json(user);
            user["password"] = json!(password.expose());
            with_scope(
                json!({"identity": {"methods": ["password"], "password": {"user": user}}}),
                scope,
            )
        }
        AuthMethod::ApplicationCredential {
            id,
            name,
            user,
            secret,
        } => {
            let mut cred = json!({"secret": secret.expose()});
            if let Some(id) = id {
                cred["id"] = json!(id);
            } else {
                cred["name"] = json!(name);
                if let Some(user) = user {
                    cred["user"] = user_json(user);
                }
            }
            // An application credential carries its own scope: none in the request.
            json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": cred}}})
        }
        AuthMethod::Token { token, scope } => with_scope(
            json!({"identity": {"methods": ["token"], "token": {"id": token.expose()}}}),
            scope,
        ),
    }
}

fn name_or_id(v: &NameOrId) -> Value {
    match v {
        NameOrId::Id(id) => json!({"id": id}),
        NameOrId::Name(name) => json!({"name": name}),
    }
}

fn user_json(user: &UserRef) -> Value {
    match user {
        UserRef::Id(id) => json!({"id": id}),
        UserRef::Name { name, domain } => json!({"name": name, "domain": name_or_id(domain)}),
    }
}

fn with_scope(identity: Value, scope: &Scope) -> Value {
    let scope = match scope {
        Scope::Project { project, domain } => {
            let mut p = name_or_id(project);
            if let (NameOrId::Name(_), Some(d)) = (project, domain) {
                p["domain"] = name_or_id(d);
            }
            Some(json!({"project": p}))
        }
        Scope::Domain(d) => Some(json!({"domain": name_or_id(d)})),
        Scope::System => Some(json!({"system": {"all": true}})),
        Scope::Unscoped => None,
    };
    let mut auth = identity;
    if let Some(scope) = scope {
        auth["scope"] = scope;
    }
    json!({ "auth": auth })
}

/// A Keystone token and what came with it.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    pub catalog: Vec<CatalogService>,
    /// The project the token is scoped to, if any.
    pub project_id: Option<String>,
    /// Whether the token has the admin role (decides how projects are listed).
    pub is_admin: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogService {
    #[serde(rename = "type")]
    pub service_type: String,
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogEndpoint {
    #[serde(default)]
    pub interface: Option<String>,
    #[serde(default)]
    pub region_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub url: String,
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInner,
}

#[derive(Deserialize)]
struct TokenInner {
    #[serde(default)]
    catalog: Vec<CatalogService>,
    #[serde(default)]
    project: Option<IdOnly>,
    #[serde(default)]
    roles: Vec<NameOnly>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
struct NameOnly {
    #[serde(default)]
    name: String,
}

/// Parses Keystone's 201 response: the token from the header, the catalog from the body.
pub fn parse_token(subject_token: Option<&str>, body: &[u8]) -> Result<Token, String> {
    let value = subject_token
        .filter(|t| !t.is_empty())
        .ok_or("Keystone answered without an X-Subject-Token header")?;
    let body: TokenBody = serde_json::from_slice(body)
        .map_err(|e| format!("Keystone's token response is not valid: {e}"))?;
    Ok(Token {
        value: Secret::new(value),
        catalog: body.token.catalog,
        project_id: body.token.project.map(|p| p.id),
        is_admin: body.token.roles.iter().any(|r| r.name == "admin"),
    })
}

impl CatalogEndpoint {
    /// The interface (`public` when the catalog leaves it out).
    fn interface(&self) -> &str {
        self.interface.as_deref().unwrap_or("public")
    }

    /// The region: `region_id`, else the older `region`.
    fn region(&self) -> Option<&str> {
        self.region_id.as_deref().or(self.region.as_deref())
    }
}

/// Every endpoint of `service_type`, in catalog order.
fn endpoints<'a, 's>(
    catalog: &'a [CatalogService],
    service_type: &'s str,
) -> impl Iterator<Item = &'a CatalogEndpoint> + use<'a, 's> {
    catalog
        .iter()
        .filter(move |s| s.service_type == service_type)
        .flat_map(|s| &s.endpoints)
}

/// The first endpoint of `service_type` with the interface and (when given) region.
pub fn endpoint<'a>(
    catalog: &'a [CatalogService],
    service_type: &str,
    interface: &str,
    region: Option<&str>,
) -> Option<&'a str> {
    endpoints(catalog, service_type)
        .find(|e| {
            e.interface() == interface
                && region.is_none_or(|r| {
                    e.region_id.as_deref() == Some(r) || e.region.as_deref() == Some(r)
                })
        })
        .map(|e| e.url.as_str())
}

/// The distinct regions of the endpoints of `service_type` with the interface, sorted.
pub fn regions<'a>(
    catalog: &'a [CatalogService],
    service_type: &str,
    interface: &str,
) -> Vec<&'a str> {
    let mut regions: Vec<&str> = endpoints(catalog, service_type)
        .filter(|e| e.interface() == interface)
        .filter_map(CatalogEndpoint::region)
        .collect();
    regions.sort_unstable();
    regions.dedup();
    regions
}

/// The endpoints of `service_type` as `interface in region`, for a message when none
/// matched (empty when the service is not in the catalog at all).
pub fn offered(catalog: &[CatalogService], service_type: &str) -> Vec<String> {
    let mut offered: Vec<String> = endpoints(catalog, service_type)
        .map(|e| match e.region() {
            Some(region) => format!("{} in {region}", e.interface()),
            None => e.interface().to_owned(),
        })
        .collect();
    offered.sort_unstable();
    offered.dedup();
    offered
}

/// Neutron's endpoint is unversioned in most catalogs: append `/v2.0` unless present.
pub fn neutron_base(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.rsplit('/').next() == Some("v2.0") {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/v2.0")
    }
}

/// An error message from an OpenStack error body: Neutron's `NeutronError`, Keystone's
/// `error`, Nova's `forbidden`/`computeFault`/`itemNotFound`/..., or the raw text.
pub fn error_message(body: &[u8]) -> String {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        for (_, v) in map {
            if let Some(m) = v.get("message").and_then(Value::as_str) {
                return m.to_owned();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut short: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        short.push_str("...");
    }
    if short.is_empty() {
        return "no message in the response".to_owned();
    }
    short
}

/// The endpoints an audit reads, from the Keystone catalog.
pub(super) struct Endpoints {
    /// Neutron's base URL (with its `/v2.0`).
    pub network: String,
    /// Nova's, if the catalog has one (without it, server names are unknown).
    pub compute: Option<String>,
    /// Keystone's v3 URL (the catalog's, else the configured `auth_url`).
    pub identity: String,
    /// With no region configured, the only region of the network service, if named.
    pub sole_region: Option<String>,
}

impl Endpoints {
    /// The endpoints of the configured region and interface. Without a region, the first
    /// endpoint would be taken: on a cloud of several regions, one of them would be
    /// audited and the others silently left out; so then each service must have one
    /// region.
    ///
    /// An endpoint set by hand (`cloud.overrides`) is taken instead of the catalog's, its
    /// `%(project_id)s` the token's project (`project_id`).
    pub(super) fn from_catalog(
        catalog: &[CatalogService],
        cloud: &CloudConfig,
        project_id: Option<&str>,
    ) -> Result<Endpoints, LiveError> {
        let overridden = |key: &str, url: &Option<String>| -> Result<Option<String>, LiveError> {
            let Some(url) = url else {
                return Ok(None);
            };
            // (An http(s) URL: see `config::resolve`.)
            if !(url.contains("%(project_id)s") || url.contains("%(tenant_id)s")) {
                return Ok(Some(url.clone()));
            }
            let project = project_id.ok_or_else(|| {
                LiveError::Config(format!(
                    "{key} in {} names %(project_id)s, but the token is not scoped to a project",
                    cloud.origin
                ))
            })?;
            let url = url.replace("%(project_id)s", project);
            Ok(Some(url.replace("%(tenant_id)s", project)))
        };
        let (o, [network, compute, identity]) = (&cloud.overrides, EndpointOverrides::KEYS);
        let network_override = overridden(network, &o.network)?;
        let compute_override = overridden(compute, &o.compute)?;
        let identity_override = overridden(identity, &o.identity)?;
        let region = cloud.region.as_deref();
        let only_region = |service: &str, name: &str| {
            let regions = regions(catalog, service, &cloud.interface);
            if regions.len() > 1 {
                return Err(LiveError::Config(format!(
                    "the Keystone catalog has {name} endpoints in {} regions ({}) for interface \
                     {:?}: driftmux audits one region per run; choose it with region_name in \
                     clouds.yaml or OS_REGION_NAME",
                    regions.len(),
                    regions.join(", "),
                    cloud.interface
                )));
            }
            Ok(regions.first().map(|r| (*r).to_owned()))
        };
        // (An endpoint set by hand is in no region of the catalog's.)
        let sole_region = match region {
            Some(_) => None,
            None => {
                let network = match network_override {
                    Some(_) => None,
                    None => only_region("network", "network (Neutron)")?,
                };
                if compute_override.is_none() {
                    only_region("compute", "compute (Nova)")?;
                }
                network
            }
        };
        let catalogs = || endpoint(catalog, "network", &cloud.interface, region);
        let network = (network_override.as_deref().or_else(catalogs))
            .map(neutron_base)
            .ok_or_else(|| {
                let offered = offered(catalog, "network");
                LiveError::Unavailable(format!(
                    "the Keystone catalog has no network (Neutron) endpoint for interface {:?}{}{}",
                    cloud.interface,
                    region
                        .map(|r| format!(" in region {r:?}"))
                        .unwrap_or_default(),
                    if offered.is_empty() {
                        String::new()
                    } else {
                        format!(" (it has: {})", offered.join(", "))
                    }
                ))
            })?;
        let catalogs = || endpoint(catalog, "compute", &cloud.interface, region);
        let compute = (compute_override.as_deref().or_else(catalogs))
            .map(|u| u.trim_end_matches('/').to_owned());
        let catalogs = || endpoint(catalog, "identity", &cloud.interface, region);
        let identity = (identity_override.as_deref().or_else(catalogs))
            .map(v3_url)
            .unwrap_or_else(|| cloud.auth_url.clone());
        Ok(Endpoints {
            network,
            compute,
            identity,
            sole_region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(scope: Scope) -> AuthMethod {
        AuthMethod::Password {
            user: UserRef::Name {
                name: "admin".into(),
                domain: NameOrId::Name("Default".into()),
            },
            password: Secret::new("pw"),
            scope,
        }
    }

    #[test]
    fn password_bodies_for_each_scope() {
        let b = request_body(&password(Scope::Project {
            project: NameOrId::Name("admin".into()),
            domain: Some(NameOrId::Id("default".into())),
        }));
        assert_eq!(
            b,
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "pw"}}},
                   "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        );
        let b = request_body(&password(Scope::System));
        assert_eq!(b["auth"]["scope"], json!({"system": {"all": true}}));
        let b = request_body(&password(Scope::Domain(NameOrId::Name("corp".into()))));
        assert_eq!(b["auth"]["scope"], json!({"domain": {"name": "corp"}}));
        let b = request_body(&password(Scope::Unscoped));
        assert!(b["auth"].get("scope").is_none());
        let b = request_body(&password(Scope::Project {
            project: NameOrId::Id("p1".into()),
            domain: None,
        }));
        assert_eq!(b["auth"]["scope"], json!({"project": {"id": "p1"}}));
    }

    #[test]
    fn application_credential_and_token_bodies() {
        let b = request_body(&AuthMethod::ApplicationCredential {
            id: Some("ac".into()),
            name: None,
            user: None,
            secret: Secret::new("s"),
        });
        assert_eq!(
            b,
            json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "ac", "secret": "s"}}}})
        );
        let b = request_body(&AuthMethod::ApplicationCredential {
            id: None,
            name: Some("audit".into()),
            user: Some(UserRef::Id("u1".into())),
            secret: Secret::new("s"),
        });
        assert_eq!(
            b["auth"]["identity"]["application_credential"],
            json!({"name": "audit", "user": {"id": "u1"}, "secret": "s"})
        );
        let b = request_body(&AuthMethod::Token {
            token: Secret::new("t"),
            scope: Scope::System,
        });
        assert_eq!(
            b["auth"]["identity"],
            json!({"methods": ["token"], "token": {"id": "t"}})
        );
    }

    #[test]
    fn token_and_catalog() {
        let body = br#"{"token": {"project": {"id": "p1"}, "roles": [{"name": "reader"}, {"name": "admin"}],
          "catalog": [{"type": "network", "endpoints": [
             {"interface": "internal", "region_id": "R1", "url": "http://neutron-int:9696"},
             {"interface": "public", "region_id": "R2", "url": "http://neutron-r2:9696"},
             {"interface": "public", "region_id": "R1", "region": "R1", "url": "http://neutron:9696/"}]},
           {"type": "compute", "endpoints": [{"interface": "public", "region": "R1", "url": "http://nova:8774/v2.1"}]}]}}"#;
        let t = parse_token(Some("tok"), body).unwrap();
        assert_eq!(t.value.expose(), "tok");
        assert_eq!(t.project_id.as_deref(), Some("p1"));
        assert!(t.is_admin);
        assert_eq!(
            endpoint(&t.catalog, "network", "public", Some("R1")),
            Some("http://neutron:9696/")
        );
        assert_eq!(
            endpoint(&t.catalog, "network", "public", None),
            Some("http://neutron-r2:9696")
        );
        assert_eq!(
            endpoint(&t.catalog, "network", "internal", Some("R1")),
            Some("http://neutron-int:9696")
        );
        assert_eq!(
            endpoint(&t.catalog, "compute", "public", Some("R1")),
            Some("http://nova:8774/v2.1")
        );
        assert_eq!(endpoint(&t.catalog, "volume", "public", None), None);
        assert_eq!(regions(&t.catalog, "network", "public"), ["R1", "R2"]);
        assert_eq!(regions(&t.catalog, "network", "internal"), ["R1"]);
        assert_eq!(
            regions(&t.catalog, "compute", "public"),
            ["R1"],
            "`region` alone"
        );
        assert!(regions(&t.catalog, "volume", "public").is_empty());
        assert_eq!(
            offered(&t.catalog, "network"),
            ["internal in R1", "public in R1", "public in R2"]
        );
        assert!(offered(&t.catalog, "volume").is_empty());
        assert!(parse_token(None, body).is_err());
    }

    /// Endpoints set by hand win over the catalog's, `%(project_id)s` the token's project;
    /// the network's region check is then moot (the catalog has two).
    #[test]
    fn endpoint_overrides_win_over_the_catalog() {
        let body = br#"{"token": {"project": {"id": "p1"}, "roles": [],
          "catalog": [{"type": "network", "endpoints": [
             {"interface": "public", "region_id": "R1", "url": "http://neutron-r1:9696"},
             {"interface": "public", "region_id": "R2", "url": "http://neutron-r2:9696"}]},
           {"type": "compute", "endpoints": [{"interface": "public", "region": "R1", "url": "http://nova:8774/v2.1"}]},
           {"type": "identity", "endpoints": [{"interface": "public", "region": "R1", "url": "http://keystone:5000"}]}]}}"#;
        let t = parse_token(Some("tok"), body).unwrap();
        let mut cloud = CloudConfig {
            name: None,
            origin: "a test".into(),
            auth_url: "http://keystone:5000/v3".into(),
            auth: password(Scope::Unscoped),
            region: None,
            interface: "public".into(),
            verify: true,
            cacert: None,
            cert: None,
            key: None,
            api_timeout: None,
            overrides: EndpointOverrides {
                network: Some("https://neutron.example/".into()),
                compute: Some("https://nova.example/v2.1/%(project_id)s/".into()),
                identity: Some("https://keystone.example".into()),
            },
        };
        let e = Endpoints::from_catalog(&t.catalog, &cloud, Some("p1")).unwrap();
        assert_eq!(e.network, "https://neutron.example/v2.0");
        assert_eq!(e.compute.as_deref(), Some("https://nova.example/v2.1/p1"));
        assert_eq!(e.identity, "https://keystone.example/v3");
        assert_eq!(e.sole_region, None);
        let Err(LiveError::Config(m)) = Endpoints::from_catalog(&t.catalog, &cloud, None) else {
            panic!("no project for %(project_id)s");
        };
        assert!(m.contains("compute_endpoint_override"), "{m}");
        // Without them, the catalog's: two regions of the network service, none chosen.
        cloud.overrides = EndpointOverrides::default();
        assert!(Endpoints::from_catalog(&t.catalog, &cloud, Some("p1")).is_err());
        cloud.region = Some("R1".into());
        let e = Endpoints::from_catalog(&t.catalog, &cloud, Some("p1")).unwrap();
        assert_eq!(e.network, "http://neutron-r1:9696/v2.0");
        assert_eq!(e.compute.as_deref(), Some("http://nova:8774/v2.1"));
        assert_eq!(e.identity, "http://keystone:5000/v3");
    }

    #[test]
    fn neutron_versions_and_error_messages() {
        assert_eq!(neutron_base("http://n:9696"), "http://n:9696/v2.0");
        assert_eq!(neutron_base("http://n:9696/v2.0/"), "http://n:9696/v2.0");
        assert_eq!(
            neutron_base("https://cloud/network"),
            "https://cloud/network/v2.0"
        );
        assert_eq!(
            error_message(br#"{"NeutronError": {"type": "X", "message": "bad", "detail": ""}}"#),
            "bad"
        );
        assert_eq!(error_message(br#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#), "The request you have made requires authentication.");
        assert_eq!(
            error_message(br#"{"forbidden": {"code": 403, "message": "Policy doesn't allow"}}"#),
            "Policy doesn't allow"
        );
        assert_eq!(
            error_message(b"<html>502 Bad Gateway</html>"),
            "<html>502 Bad Gateway</html>"
        );
        assert_eq!(error_message(b" \n"), "no message in the response");
        // A text body is cut at 200 characters (not bytes), and only a longer one says so.
        let exactly = "é".repeat(200);
        assert_eq!(error_message(exactly.as_bytes()), exactly);
        let longer = format!("{exactly}x");
        assert_eq!(error_message(longer.as_bytes()), format!("{exactly}..."));
    }
}
