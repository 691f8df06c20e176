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

mod ask;
pub mod auth;
mod both_ends;
pub mod client;
pub mod config;
mod left_out;
pub mod listing;
mod nova;
mod pages;
pub mod progress;
mod projects;
mod rule_ends;
pub mod secret;

use std::sync::Arc;

use crate::inventory::{
    CollectionError, InvalidField, Inventory, InventoryMeta, Objects, RawInventory, Remote,
};
use ask::{rule_asks, spawn_list, Ask, Checked, Checks};
use client::{ClientSettings, FetchError, Session};
use config::CloudConfig;
use left_out::LeftOut;
use listing::{Listed, Listing};
pub use nova::NOVA_MICROVERSION;
use nova::{down_cells_error, servers, unreachable_cell_hosts};
use pages::{
    fields, AddressGroupsPage, FloatingIpsPage, GroupsPage, NetworksPage, PortsPage, RulesPage,
    ADDRESS_GROUP_FIELDS, FIP_FIELDS, GROUP_FIELDS, NETWORK_FIELDS, PORT_FIELDS,
};
use progress::Progress;
use projects::projects;

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
    let region = cloud.region.as_deref();
    // Without a region, the first endpoint would be taken: on a cloud of several regions,
    // one of them would be audited and the others silently left out.
    let only_region = |service: &str, name: &str| {
        let regions = auth::regions(&token.catalog, service, &cloud.interface);
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
    let sole_region = match region {
        Some(_) => None,
        None => {
            let network = only_region("network", "network (Neutron)")?;
            only_region("compute", "compute (Nova)")?;
            network
        }
    };
    let network = auth::endpoint(&token.catalog, "network", &cloud.interface, region)
        .map(auth::neutron_base)
        .ok_or_else(|| {
            let offered = auth::offered(&token.catalog, "network");
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
    let compute = auth::endpoint(&token.catalog, "compute", &cloud.interface, region)
        .map(|u| u.trim_end_matches('/').to_owned());
    let identity = auth::endpoint(&token.catalog, "identity", &cloud.interface, region)
        .map(config::v3_url)
        .unwrap_or_else(|| cloud.auth_url.clone());
    // Keystone on plain http, an endpoint on https: the system's roots after all.
    let endpoints = [Some(&network), compute.as_ref(), Some(&identity)];
    if !system_roots && endpoints.into_iter().flatten().any(|url| https(url)) {
        let http =
            client::http_client(cloud, session.settings(), true).map_err(LiveError::Config)?;
        session.set_http(http);
    }

    // Each listing is its own task, so pages of different resources are fetched and
    // deserialized in parallel on the runtime's worker threads.
    let session = Arc::new(session);
    let mut network_query = fields(NETWORK_FIELDS);
    network_query.push(("router:external", "true"));
    let [ingress_ask, egress_ask] = rule_asks();
    let groups_ask = Arc::new(Ask::<GroupsPage>::new(
        "security_groups",
        "/security-groups",
        fields(GROUP_FIELDS),
    ));
    // Ports decide whether a finding is active (and its severity).
    let ports_ask =
        Arc::new(Ask::<PortsPage>::new("ports", "/ports", fields(PORT_FIELDS)).verified());
    let fips_ask = Arc::new(Ask::<FloatingIpsPage>::new(
        "floatingips",
        "/floatingips",
        fields(FIP_FIELDS),
    ));
    let networks_ask = Arc::new(Ask::<NetworksPage>::new(
        "networks",
        "/networks",
        network_query,
    ));
    let address_groups_ask = Arc::new(Ask::<AddressGroupsPage>::new(
        "address_groups",
        "/address-groups",
        fields(ADDRESS_GROUP_FIELDS),
    ));
    let ingress = spawn_list(&session, &progress, &network, &ingress_ask);
    let egress = spawn_list(&session, &progress, &network, &egress_ask);
    let groups = spawn_list(&session, &progress, &network, &groups_ask);
    let ports = spawn_list(&session, &progress, &network, &ports_ask);
    let fips = spawn_list(&session, &progress, &network, &fips_ask);
    let networks = spawn_list(&session, &progress, &network, &networks_ask);
    let address_groups = spawn_list(&session, &progress, &network, &address_groups_ask);
    let down_cells = {
        let (s, compute) = (session.clone(), compute.clone());
        tokio::spawn(async move { unreachable_cell_hosts(&s, compute.as_deref()).await })
    };
    let servers = {
        let (s, p) = (session.clone(), progress.clone());
        tokio::spawn(async move { servers(&s, compute.as_deref(), &*p).await })
    };
    let projects = {
        let (s, p, is_admin) = (session.clone(), progress.clone(), token.is_admin);
        tokio::spawn(async move { projects(&s, &identity, is_admin, &*p).await })
    };
    let (ingress, egress, groups, ports, fips, networks, address_groups, servers, projects) = (
        joined(ingress.await),
        joined(egress.await),
        joined(groups.await),
        joined(ports.await),
        joined(fips.await),
        joined(networks.await),
        joined(address_groups.await),
        joined(servers.await),
        joined(projects.await),
    );
    let down_cells = joined(down_cells.await);
    // Neutron listings checked, side by side, now that every listing has ended: the empty
    // ones read again, the last page of those that ended on an empty page, and of those
    // that decide findings, asked for again (see `Ask::checked`); if any found objects,
    // every other listing is read again too. Each check notes what it found apart, merged
    // in this order.
    let mut each: [Checks; 6] = Default::default();
    let [c1, c2, c3, c4, c5, c6] = &mut each;
    let (s, p, net) = (&*session, &*progress, network.as_str());
    let rules = [&*ingress_ask, &*egress_ask];
    let ([ingress, egress], groups, ports, fips, networks) = tokio::join!(
        rule_ends::checked(s, p, net, rules, [ingress, egress], [c1, c2]),
        groups_ask.checked(s, p, net, groups, c3),
        ports_ask.checked(s, p, net, ports, c4),
        fips_ask.checked(s, p, net, fips, c5),
        networks_ask.checked(s, p, net, networks, c6),
    );
    let mut checks = Checks::default();
    for found in each {
        checks.raced |= found.raced;
        checks.warnings.extend(found.warnings);
        checks.errors.extend(found.errors);
    }
    // Address groups matter only to rules that name one (most clouds have none, and an
    // empty listing is then nothing to read again).
    let named = |rules: &Listing<RulesPage>| {
        rules.as_ref().is_ok_and(|rules| {
            let mut all = rules.typed.iter().flatten();
            all.any(|rule| matches!(rule.remote, Remote::AddressGroup(_)))
        })
    };
    let address_groups = if named(&ingress.listing) || named(&egress.listing) {
        address_groups_ask
            .checked(s, p, net, address_groups, &mut checks)
            .await
    } else {
        Checked {
            listing: address_groups,
            done: true,
        }
    };
    // An object naming one that its listing does not have: that listing left it out.
    let left_out = if checks.raced {
        None
    } else {
        let (i, g, f, p, n) = (&ingress, &groups, &fips, &ports, &networks);
        LeftOut::find(&i.listing, &g.listing, &f.listing, &p.listing, &n.listing)
    };
    if let Some(left_out) = &left_out {
        checks.raced = true;
        checks.warnings.push(left_out.warning());
    }
    let raced = checks.raced;
    let (
        (ingress, w1),
        (egress, w2),
        (groups, w3),
        (ports, w4),
        (fips, w5),
        (networks, w6),
        (address_groups, w7),
    ) = tokio::join!(
        ingress_ask.settled(s, p, net, ingress, raced),
        egress_ask.settled(s, p, net, egress, raced),
        groups_ask.settled(s, p, net, groups, raced),
        ports_ask.settled(s, p, net, ports, raced),
        fips_ask.settled(s, p, net, fips, raced),
        networks_ask.settled(s, p, net, networks, raced),
        address_groups_ask.settled(s, p, net, address_groups, raced),
    );
    let mut warnings = checks.warnings;
    warnings.extend([w1, w2, w3, w4, w5, w6, w7].into_iter().flatten());
    if left_out.is_some() {
        let still = LeftOut::find(&ingress, &groups, &fips, &ports, &networks);
        warnings.extend(still.map(|still| still.left_behind()));
    }
    let rules = ingress.and_then(|mut rules| {
        rules.append(egress?);
        Ok(rules)
    });

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
    // Address groups are an optional extension: absent (404) means none.
    let address_groups = match address_groups {
        Err(FetchError {
            status: Some(404), ..
        }) => None,
        other => record(
            &mut errors,
            "address_groups",
            false,
            other.map_err(|e| (at("/address-groups"), e)),
        ),
    };
    let servers = record(&mut errors, "servers", false, servers);
    if servers.is_some() {
        errors.extend(down_cells_error(down_cells, session.settings().verbose));
    }
    let projects = record(&mut errors, "projects", false, projects);
    errors.extend(checks.errors);
    let stats = Stats {
        requests: session.requests.load(std::sync::atomic::Ordering::Relaxed),
        bytes: session.bytes.load(std::sync::atomic::Ordering::Relaxed),
    };
    let meta = InventoryMeta {
        cloud: session.cloud().name.clone(),
        // The region audited: the configured one, else the only one of the network service.
        region: session.cloud().region.clone().or(sole_region),
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
