//! Live collection from OpenStack: Keystone authentication and catalog, then paginated,
//! concurrent reads of Neutron, Nova and Keystone, each page validated into the typed
//! `Inventory` as it arrives (exactly what `Inventory::from_raw` makes of the same objects),
//! and kept as the `RawInventory` a snapshot holds when one is to be saved (so
//! `--save-snapshot` then `--snapshot` gives the same findings).
//!
//! Reads only: security groups are listed once, unfiltered (a `project_id` filter makes
//! Neutron create a default group: an audit must not write). Every failure the audit could
//! not absorb becomes a `CollectionError`: rules, groups and ports are required (the
//! findings depend on them); servers, projects, floating IPs, networks and address groups
//! only degrade the enrichment.
//!
//! In order: a token and the catalog (`auth`, over `client`), the endpoints of one region
//! (`auth::Endpoints`); then side by side Neutron's listings (`neutron`, each an `ask`,
//! paginated by `listing`, read from both ends when long: `both_ends`), Nova's servers and
//! cells (`nova`) and Keystone's projects (`projects`); then Neutron's listings checked
//! (`ask`, `rule_ends`, `left_out`), address groups listed when a rule names one, and,
//! after a race caught, read again; last, the
//! inventory put together and every failure recorded.

mod ask;
pub mod auth;
mod both_ends;
pub mod client;
pub mod config;
mod left_out;
pub mod listing;
mod neutron;
mod nova;
mod pages;
pub mod progress;
mod projects;
mod rule_ends;
pub mod secret;

use std::sync::Arc;

use crate::inventory::{
    CollectionError, InvalidField, Inventory, InventoryMeta, Objects, RawInventory,
};
use auth::Endpoints;
use client::{ClientSettings, FetchError, Session};
use config::CloudConfig;
use listing::Listed;
pub use nova::NOVA_MICROVERSION;
// The pages' types, for the fuzz targets (fuzz/fuzz_targets/api_pages.rs).
use nova::{down_cells_error, own_project_error, servers, unreachable_cell_hosts};
pub use pages::{
    AddressGroupsPage, FloatingIpsPage, GroupsPage, NetworksPage, PortsPage, RulesPage, ServersPage,
};
use progress::Progress;
use projects::projects;
pub use projects::KeystoneProjects;

/// Why collection could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Local configuration (cacert, client certificate, a region to choose): exit 2.
    #[error("{0}")]
    Config(String),
    /// Keystone refused the credentials: exit 3, with Keystone's message.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Keystone unreachable, or the catalog lacks a required service: exit 3.
    #[error("{0}")]
    Unavailable(String),
}

/// Figures about the collection, for `--verbose` and benchmarks.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub requests: u64,
    pub bytes: u64,
}

/// A listing task's result (a panic in it is a bug: let it propagate).
fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    result.expect("a listing task panicked")
}

/// What collection gives: the validated inventory (or every invalid value the API
/// returned), and the raw objects when `ClientSettings::keep_raw` asked for them.
#[derive(Debug)]
pub struct Collected {
    pub inventory: Result<Inventory, Vec<InvalidField>>,
    pub raw: Option<RawInventory>,
    pub stats: Stats,
    /// What the user should know about how the cloud answered, when the inventory is
    /// invalid (stderr); otherwise they are the inventory's `warnings`.
    pub warnings: Vec<String>,
}

/// Authenticates and reads everything the audit needs.
pub async fn collect(
    cloud: CloudConfig,
    settings: ClientSettings,
    progress: Arc<dyn Progress>,
) -> Result<Collected, LiveError> {
    let https = |url: &str| reqwest::Url::parse(url).is_ok_and(|u| u.scheme() == "https");
    let system_roots = https(&cloud.auth_url);
    let http = client::http_client(&cloud, &settings, system_roots).map_err(LiveError::Config)?;
    let mut session = Session::connect(cloud, settings, http)
        .await
        .map_err(|e| match e {
            client::AuthError::Rejected(m) => LiveError::Auth(m),
            client::AuthError::Failed(m) => LiveError::Unavailable(format!("Keystone: {m}")),
        })?;
    let token = session.token().await;
    let cloud = session.cloud();
    let Endpoints {
        network,
        compute,
        identity,
        sole_region,
    } = Endpoints::from_catalog(&token.catalog, cloud, token.project_id.as_deref())?;
    let unencrypted = unencrypted_endpoints(
        &cloud.auth_url,
        [
            ("network", Some(&network)),
            ("compute", compute.as_ref()),
            ("identity", Some(&identity)),
        ],
    );
    // Keystone on plain http, an endpoint on https: the system's roots after all.
    let endpoints = [Some(&network), compute.as_ref(), Some(&identity)];
    if !system_roots && endpoints.into_iter().flatten().any(|url| https(url)) {
        let http =
            client::http_client(cloud, session.settings(), true).map_err(LiveError::Config)?;
        session.set_http(http);
    }

    let session = Arc::new(session);
    let neutron = neutron::Reading::start(&session, &progress, &network, token.is_admin);
    let down_cells = {
        let (s, compute) = (session.clone(), compute.clone());
        tokio::spawn(async move { unreachable_cell_hosts(&s, compute.as_deref()).await })
    };
    let servers = {
        let (s, p, is_admin) = (session.clone(), progress.clone(), token.is_admin);
        tokio::spawn(async move { servers(&s, compute.as_deref(), is_admin, &*p).await })
    };
    let projects = {
        let (s, p, is_admin) = (session.clone(), progress.clone(), token.is_admin);
        tokio::spawn(async move { projects(&s, &identity, is_admin, &*p).await })
    };
    let (servers, projects) = (joined(servers.await), joined(projects.await));
    let down_cells = joined(down_cells.await);
    // Checked now that every listing has ended (see `neutron::Reading::finish`).
    let neutron::Read {
        rules,
        groups,
        ports,
        fips,
        networks,
        address_groups,
        mut warnings,
        errors: check_errors,
    } = neutron.finish(&session, &*progress).await;
    warnings.extend(unencrypted);

    let mut errors = Vec::new();
    let at = |path: &str| format!("{network}{path}");
    let rules = record(
        &mut errors,
        "security_group_rules",
        true,
        rules.map_err(|e| (at("/security-group-rules"), e)),
    );
    let groups = record(
        &mut errors,
        "security_groups",
        true,
        groups.map_err(|e| (at("/security-groups"), e)),
    );
    let ports = record(
        &mut errors,
        "ports",
        true,
        ports.map_err(|e| (at("/ports"), e)),
    );
    let fips = record(
        &mut errors,
        "floatingips",
        false,
        fips.map_err(|e| (at("/floatingips"), e)),
    );
    let networks = record(
        &mut errors,
        "networks",
        false,
        networks.map_err(|e| (at("/networks"), e)),
    );
    // Not listed when no rule names one; an optional extension: absent (404) means none.
    let address_groups = match address_groups {
        None
        | Some(Err(FetchError {
            status: Some(404), ..
        })) => None,
        Some(other) => record(
            &mut errors,
            "address_groups",
            false,
            other.map_err(|e| (at("/address-groups"), e)),
        ),
    };
    let (servers, own_project) = match servers {
        Ok(nova::Servers {
            listed,
            own_project,
        }) => (Ok(listed), own_project),
        Err(e) => (Err(e), None),
    };
    let servers = record(&mut errors, "servers", false, servers);
    if servers.is_some() {
        errors.extend(down_cells_error(down_cells, session.settings().verbose));
    }
    if let (Some(servers), Some(ports), Some(endpoint)) = (&servers, &ports, own_project) {
        errors.extend(own_project_error(servers, ports, endpoint));
    }
    let projects = record(&mut errors, "projects", false, projects);
    errors.extend(check_errors);
    let stats = Stats {
        requests: session.requests.load(std::sync::atomic::Ordering::Relaxed),
        bytes: session.bytes.load(std::sync::atomic::Ordering::Relaxed),
    };
    let meta = InventoryMeta {
        cloud: session.cloud().name.clone(),
        // The region audited: the configured one, else the only one of the network service.
        region: session.cloud().region.clone().or(sole_region),
        project_scope: project_scope(&token),
        collected_at: Some(
            jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string()),
        ),
    };
    // Problems in the order `Inventory::from_raw` reports them, so a snapshot of the same
    // objects gives the same message.
    let mut problems = Vec::new();
    let (rules, raw_rules) = split(rules, &mut problems);
    let (ports, raw_ports) = split(ports, &mut problems);
    let (floating_ips, raw_fips) = split(fips, &mut problems);
    let (address_groups, raw_address_groups) = split(address_groups, &mut problems);
    let (projects, raw_projects) = split(projects, &mut problems);
    let (security_groups, raw_groups) = split(groups, &mut problems);
    let (servers, raw_servers) = split(servers, &mut problems);
    let (networks, raw_networks) = split(networks, &mut problems);
    let raw = session.settings().keep_raw.then(|| RawInventory {
        meta: meta.clone(),
        projects: raw_projects,
        security_groups: raw_groups,
        security_group_rules: raw_rules.unwrap_or_default(),
        ports: raw_ports,
        servers: raw_servers,
        floating_ips: raw_fips,
        networks: raw_networks,
        address_groups: raw_address_groups,
        errors: errors.clone(),
        warnings: warnings.clone(),
    });
    let inventory = if problems.is_empty() {
        Ok(Inventory {
            meta,
            projects,
            security_groups,
            rules: rules.unwrap_or_default(),
            ports,
            servers,
            floating_ips,
            networks,
            address_groups,
            errors,
            warnings: std::mem::take(&mut warnings),
        })
    } else {
        Err(problems)
    };
    Ok(Collected {
        inventory,
        raw,
        stats,
        warnings,
    })
}

/// A listing's validated objects (its problems appended to `problems`) and raw objects.
fn split<R, T>(
    listed: Option<Listed<R, T>>,
    problems: &mut Vec<InvalidField>,
) -> (Option<Objects<T>>, Option<Vec<R>>) {
    match listed {
        Some(listed) => {
            problems.extend(listed.problems);
            (Some(Objects::from_chunks(listed.typed)), listed.raw)
        }
        None => (None, None),
    }
}

/// Keeps a listing, or records why it failed.
fn record<T>(
    errors: &mut Vec<CollectionError>,
    resource: &str,
    required: bool,
    result: Result<T, (String, FetchError)>,
) -> Option<T> {
    match result {
        Ok(list) => Some(list),
        Err((endpoint, e)) => {
            errors.push(CollectionError {
                resource: resource.to_owned(),
                endpoint: Some(endpoint),
                status: e.status,
                message: e.message,
                required,
            });
            None
        }
    }
}

/// The projects whose objects alone the token sees: its project, when it is scoped to one
/// and is not an admin's; `None` (every project) for an admin's, and for a token scoped to
/// the system (a reader's, say, sees every project's).
fn project_scope(token: &auth::Token) -> Option<Vec<String>> {
    match (&token.project_id, token.is_admin) {
        (Some(project), false) => Some(vec![project.clone()]),
        _ => None,
    }
}

/// Warnings about the endpoints on plain http beyond this machine: every request to one
/// carries the token. None when the auth URL is (that was warned about already).
fn unencrypted_endpoints(auth_url: &str, endpoints: [(&str, Option<&String>); 3]) -> Vec<String> {
    if config::plain_http_beyond_this_machine(auth_url) {
        return Vec::new();
    }
    (endpoints.into_iter())
        .filter_map(|(service, url)| Some((service, url?)))
        .filter(|(_, url)| config::plain_http_beyond_this_machine(url))
        .map(|(service, url)| {
            format!(
                "the {service} endpoint {url} is plain http: the token every request to it \
                 carries crosses the network unencrypted"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_project_members_token_sees_its_project_only() {
        let token = |body: &[u8]| super::auth::parse_token(Some("t"), body).unwrap();
        let member =
            token(br#"{"token": {"project": {"id": "p1"}, "roles": [{"name": "member"}]}}"#);
        assert_eq!(super::project_scope(&member), Some(vec!["p1".to_owned()]));
        let admin = token(br#"{"token": {"project": {"id": "p1"}, "roles": [{"name": "admin"}]}}"#);
        assert_eq!(super::project_scope(&admin), None);
        let system =
            token(br#"{"token": {"system": {"all": true}, "roles": [{"name": "reader"}]}}"#);
        assert_eq!(super::project_scope(&system), None);
    }

    #[test]
    fn endpoints_on_plain_http_beyond_this_machine_are_warned_about() {
        let (https, local, remote) = (
            "https://keystone.example/v3".to_owned(),
            "http://127.0.0.1:9696/v2.0".to_owned(),
            "http://neutron.example:9696/v2.0".to_owned(),
        );
        let warned = |auth: &str, network: &String, compute: Option<&String>| {
            super::unencrypted_endpoints(
                auth,
                [
                    ("network", Some(network)),
                    ("compute", compute),
                    ("identity", Some(&https)),
                ],
            )
        };
        assert_eq!(
            warned(&https, &remote, None),
            [
                "the network endpoint http://neutron.example:9696/v2.0 is plain http: the token \
              every request to it carries crosses the network unencrypted"
            ]
        );
        assert_eq!(warned(&https, &remote, Some(&remote)).len(), 2);
        assert!(warned(&https, &local, Some(&https)).is_empty());
        // The auth URL on plain http was warned about already.
        assert!(warned("http://keystone.example/v3", &remote, None).is_empty());
    }
}
