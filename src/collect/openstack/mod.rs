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

pub mod auth;
mod both_ends;
pub mod client;
pub mod config;
pub mod progress;
mod rule_ends;
pub mod secret;

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use rustc_hash::FxHashSet;
use serde::Deserialize;

use super::decode;
use super::wire::{
    RawAddressGroup, RawFloatingIp, RawNetwork, RawPort, RawProject, RawRule, RawSecurityGroup,
    RawServer,
};
use crate::id::Id;
use crate::inventory::{
    AddressGroup, CollectionError, FloatingIp, InvalidField, Inventory, InventoryMeta, Network,
    Objects, Owner, Port, Project, RawInventory, Remote, Rule, SecurityGroup, Server,
};
use client::{
    every, next_link, ClientSettings, FetchError, HasId, IdOrder, Link, Listed, Listing, Page,
    Session,
};
use config::CloudConfig;
use progress::Progress;

/// The Nova microversion asked for: 2.69 returns partial records for servers in down cells
/// instead of failing the listing.
pub const NOVA_MICROVERSION: &str = "2.69";

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

/// A page of a marker-paginated listing (Neutron's, and Nova's servers): its items under
/// `$key`, its links under `$links`.
macro_rules! marker_page {
    ($page:ident, $key:ident, $links:ident, $item:ty => $typed:ty) => {
        marker_page!($page, $key, $links, $item => $typed, None);
    };
    ($page:ident, $key:ident, $links:ident, $item:ty => $typed:ty, $decode:expr) => {
        marker_page!($page, $key, $links, $item => $typed, $decode, IdOrder::ById);
    };
    // `$decode`: the hand-written decoder of the plain form of the items, if any;
    // `$order`: how the API puts the listing in id order (`Page::ID_ORDER`).
    ($page:ident, $key:ident, $links:ident, $item:ty => $typed:ty, $decode:expr,
     $order:expr) => {
        #[derive(Deserialize)]
        pub struct $page {
            $key: Vec<$item>,
            #[serde(default)]
            $links: Option<Vec<Link>>,
        }
        impl Page for $page {
            type Item = $item;
            type Typed = $typed;
            const ID_ORDER: IdOrder = $order;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.$key, next_link(self.$links.unwrap_or_default()))
            }
            fn decode_plain(body: &[u8], items: &mut Vec<$item>) -> Option<Option<String>> {
                let item: Option<fn(&mut decode::Cursor) -> Option<$item>> = $decode;
                decode::page(body, stringify!($key), stringify!($links), item?, items)
            }
        }
    };
}

/// Everything a listing returns, raw or validated, has an id.
macro_rules! has_id {
    ($($t:ty),*) => {
        $(impl HasId for $t {
            fn id(&self) -> &Id {
                &self.id
            }
        })*
    };
}

has_id!(
    RawRule,
    RawSecurityGroup,
    RawPort,
    RawFloatingIp,
    RawNetwork,
    RawAddressGroup
);
has_id!(
    RawServer,
    RawProject,
    Rule,
    SecurityGroup,
    Port,
    FloatingIp,
    Network
);
has_id!(AddressGroup, Server, Project);

marker_page!(
    RulesPage,
    security_group_rules,
    security_group_rules_links,
    RawRule => Rule,
    Some(decode::rule_at)
);
marker_page!(
    GroupsPage,
    security_groups,
    security_groups_links,
    RawSecurityGroup => SecurityGroup
);
marker_page!(
    PortsPage,
    ports,
    ports_links,
    RawPort => Port,
    Some(decode::port_at)
);
marker_page!(
    FloatingIpsPage,
    floatingips,
    floatingips_links,
    RawFloatingIp => FloatingIp
);
marker_page!(
    NetworksPage,
    networks,
    networks_links,
    RawNetwork => Network
);
marker_page!(
    AddressGroupsPage,
    address_groups,
    address_groups_links,
    RawAddressGroup => AddressGroup
);
marker_page!(
    ServersPage,
    servers,
    servers_links,
    RawServer => Server,
    Some(decode::server_at),
    IdOrder::ByUuidOnRequest
);

/// Keystone lists projects in one response with `links.next` (normally null) and
/// `truncated` when its `list_limit` cut the list.
#[derive(Deserialize)]
pub struct KeystoneProjects {
    projects: Vec<RawProject>,
    #[serde(default)]
    links: Option<KeystoneLinks>,
    /// Keystone's `list_limit` cut the list: refuse it rather than miss projects.
    #[serde(default, deserialize_with = "not_truncated", rename = "truncated")]
    _truncated: bool,
}

fn not_truncated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    if Option::<bool>::deserialize(d)?.unwrap_or(false) {
        return Err(serde::de::Error::custom(
            "Keystone truncated the project list (its list_limit is lower than the number of projects)",
        ));
    }
    Ok(false)
}

#[derive(Deserialize, Default)]
struct KeystoneLinks {
    #[serde(default)]
    next: Option<String>,
}

impl Page for KeystoneProjects {
    type Item = RawProject;
    type Typed = Project;
    const PAGINATED: bool = false;
    fn into_parts(self) -> (Vec<RawProject>, Option<String>) {
        (self.projects, self.links.unwrap_or_default().next)
    }
}

const RULE_FIELDS: &[&str] = &[
    "id",
    "security_group_id",
    "project_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
];
const GROUP_FIELDS: &[&str] = &["id", "name", "project_id"];
const PORT_FIELDS: &[&str] = &[
    "id",
    "device_id",
    "device_owner",
    "security_groups",
    "port_security_enabled",
    "project_id",
    "network_id",
    "fixed_ips",
];
const FIP_FIELDS: &[&str] = &[
    "id",
    "floating_ip_address",
    "port_id",
    "fixed_ip_address",
    "floating_network_id",
];
const NETWORK_FIELDS: &[&str] = &["id", "name", "router:external"];
const ADDRESS_GROUP_FIELDS: &[&str] = &["id", "name", "addresses"];

fn fields(names: &[&'static str]) -> Vec<(&'static str, &'static str)> {
    names.iter().map(|f| ("fields", *f)).collect()
}

/// A listing task's result (a panic in it is a bug: let it propagate).
fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    result.expect("a listing task panicked")
}

/// One Neutron listing as collection asks for it: what it is called (progress, messages),
/// its path and query, and the items it keeps (see [`Session::list`]).
struct Ask<P: Page> {
    resource: &'static str,
    path: &'static str,
    query: Vec<(&'static str, &'static str)>,
    keep: fn(&P::Item) -> bool,
    /// Whether its last page is asked for again even when it held objects (see
    /// [`Ask::checked`]): the listings whose objects decide findings or their severity,
    /// and the egress rules (checked with the ingress rules at no request more, see
    /// `rule_ends`; on their own only where that cannot be).
    verify_end: bool,
    /// Whether findings depend on it: an end that cannot be checked is then a required
    /// collection error (`CollectionError::required`).
    decides_findings: bool,
}

impl<P: Page> Ask<P> {
    fn new(
        resource: &'static str,
        path: &'static str,
        query: Vec<(&'static str, &'static str)>,
    ) -> Ask<P> {
        Ask {
            resource,
            path,
            query,
            keep: every,
            verify_end: false,
            decides_findings: false,
        }
    }

    /// This listing, which decides findings, its last page asked for again whatever it
    /// held.
    fn verified(self) -> Ask<P> {
        Ask {
            verify_end: true,
            decides_findings: true,
            ..self
        }
    }

    /// Lists the collection from `base`.
    async fn list(&self, session: &Session, progress: &dyn Progress, base: &str) -> Listing<P> {
        session
            .list::<P>(
                self.resource,
                base,
                self.path,
                &self.query,
                &HeaderMap::new(),
                progress,
                self.keep,
            )
            .await
    }

    /// `listed`, checked once every listing has ended: a Neutron API worker that
    /// has just started can answer its first requests, for a moment, with some or all of a
    /// page's objects left out, and HTTP 200 (its policy rules are not in place yet:
    /// `neutron.policy.init`; seen on the lab's real Neutron, for lone requests too).
    /// Neutron drops the objects its policy check refused from a page it has read, and
    /// gives a next link only to a full page: such a page ends the listing early. A
    /// request after the others finds the worker ready.
    /// - A listing that came back empty is read again. An empty listing costs one small
    ///   request more; an empty cloud read as a clean one would cost the audit.
    /// - A listing whose last page came back empty after pages with objects (what every
    ///   listing of a multiple of the page size looks like) has that page asked for again.
    /// - A listing that decides findings or their severity (`verify_end`: the ingress
    ///   rules, the ports) has its last page asked for again whatever it held, if it held
    ///   fewer than a page's worth (a server that ignored the limit is not asked for
    ///   everything twice). The rules are mostly checked otherwise: both directions with
    ///   one request (see `rule_ends`), this only where that cannot be.
    ///
    /// More objects on that page now mean the listing was cut short: it is read again
    /// whole. One request more per listing asked. `checks` says when anything was read
    /// again and found objects (and then see [`Ask::settled`]).
    async fn checked(
        &self,
        session: &Session,
        progress: &dyn Progress,
        base: &str,
        listed: Listing<P>,
        checks: &mut Checks,
    ) -> Checked<P> {
        let as_read = Checked::as_read;
        let Ok(first) = &listed else {
            return as_read(listed);
        };
        if first.count > 0 {
            let Some(end) = &first.last_page else {
                return as_read(listed);
            };
            let short = end.objects < session.settings().page_size;
            if !(end.objects == 0 || end.beyond || self.verify_end && short) {
                return as_read(listed);
            }
            let ended = match end.objects {
                n if end.beyond => format!(
                    "Neutron's listing of {} had a page of {n} object(s), short of its limit, \
                     with more objects known beyond it (read from both ends; {} listed)",
                    self.resource, first.count
                ),
                0 => format!(
                    "Neutron's listing of {} ended with an empty page after {} object(s)",
                    self.resource, first.count
                ),
                n => format!(
                    "Neutron's listing of {} ended on a page of {n} object(s) ({} listed)",
                    self.resource, first.count
                ),
            };
            // An error asking again leaves the listing as it was read, and says so as a
            // collection error: whether the listing is whole is unknown, so the audit is
            // incomplete. Required for a listing that decides findings (they may be
            // missing); for the others, `--allow-partial` lets the gate decide.
            let now = match session.objects_on_page::<P>(&end.url).await {
                Ok(now) => now,
                Err(e) => {
                    checks.errors.push(CollectionError {
                        resource: self.path.trim_start_matches('/').replace('-', "_"),
                        endpoint: Some(end.url.clone()),
                        status: e.status,
                        message: format!(
                            "{ended}, and asking for that page again failed ({}): whether \
                             the listing was cut short is unknown",
                            e.message
                        ),
                        required: self.decides_findings,
                    });
                    return as_read(listed);
                }
            };
            if now <= end.objects {
                return as_read(listed);
            }
            let found = format!("{ended}, and that page held {now} when asked again");
            return self
                .read_again(session, progress, base, checks, found)
                .await;
        }
        let again = self.list(session, progress, base).await;
        if let Ok(again) = &again {
            if again.count > 0 {
                checks.raced = true;
                checks.warnings.push(format!(
                    "Neutron listed no {} at first, then {} when asked again: a Neutron API \
                     worker that has just started can answer its first requests with empty \
                     lists (its policy rules not loaded yet)",
                    self.resource, again.count
                ));
            }
        }
        Checked {
            listing: again,
            done: true,
        }
    }

    /// The listing read again whole, as cut short where `found` says (which leads the
    /// warning): a race caught.
    async fn read_again(
        &self,
        session: &Session,
        progress: &dyn Progress,
        base: &str,
        checks: &mut Checks,
        found: String,
    ) -> Checked<P> {
        checks.raced = true;
        let again = self.list(session, progress, base).await;
        if let Ok(again) = &again {
            checks.warnings.push(format!(
                "{found}: read again whole, {} {}. A Neutron API worker that has just started \
                 can leave objects out of its answers (its policy rules not loaded yet), which \
                 ends a listing early; so can objects created while it was read",
                again.count, self.resource
            ));
        }
        Checked {
            listing: again,
            done: true,
        }
    }

    /// The checked listing, read again whole when the checks caught a worker that had just
    /// started (`raced`) and it is not `done`: such a worker also answers pages with only
    /// some of their objects, which nothing in the answer shows (the lab's real Neutron,
    /// just restarted, listed 17 and 23 of its 34 rules in whole single pages, beside
    /// listings it answered empty). Costs a listing more only after such a race; the
    /// listings are read again side by side (the workers have answered the checks by
    /// then). A second read that fails is the listing's error: the first one cannot be
    /// trusted. With it, a warning when the count changed.
    async fn settled(
        &self,
        session: &Session,
        progress: &dyn Progress,
        base: &str,
        checked: Checked<P>,
        raced: bool,
    ) -> (Listing<P>, Option<String>) {
        let Checked { listing, done } = checked;
        let first = match &listing {
            Ok(first) if raced && !done => first.count,
            _ => return (listing, None),
        };
        let again = self.list(session, progress, base).await;
        let warning = match &again {
            Ok(again) if again.count != first => Some(format!(
                "Neutron listed {first} {} at first, then {} when read again after other \
                 listings came back incomplete: a Neutron API worker that has just started \
                 can leave objects out of its first answers",
                self.resource, again.count
            )),
            _ => None,
        };
        (again, warning)
    }
}

/// An object that names one its listing does not have: that listing left it out (a Neutron
/// API worker that has just started can), or it was made or deleted while the listings
/// were read, or it was left behind (see [`LeftOut::left_behind`]). It costs no request to
/// see.
struct LeftOut {
    /// The object that names it, and what it names.
    what: String,
    /// The listing that lacks it.
    of: &'static str,
}

impl LeftOut {
    /// The first such object in the listings, if any.
    fn find(
        rules: &Listing<RulesPage>,
        groups: &Listing<GroupsPage>,
        fips: &Listing<FloatingIpsPage>,
        ports: &Listing<PortsPage>,
        networks: &Listing<NetworksPage>,
    ) -> Option<LeftOut> {
        if let Some(left_out) = group_left_out(rules, groups) {
            return Some(left_out);
        }
        // The ports that only an external network holds, found in one pass (few: one per
        // floating IP and router).
        let external: Vec<&Port> = match ports {
            Ok(ports) => (ports.typed.iter().flatten())
                .filter(|p| matches!(p.owner, Owner::FloatingIp | Owner::RouterGateway))
                .collect(),
            Err(_) => Vec::new(),
        };
        network_left_out(fips, &external, networks)
            .or_else(|| floating_ip_left_out(&external, fips))
    }

    /// The warning when it is first seen: every Neutron listing is read again.
    fn warning(&self) -> String {
        format!(
            "Neutron listed {}, which its listing of {} did not have: every Neutron listing \
             read again (a Neutron API worker that has just started can leave objects out of \
             its answers; or it was made or deleted while the listings were read)",
            self.what, self.of
        )
    }

    /// The warning when it is still there once every listing was read again: not a race,
    /// an object left behind (a floating IP's port that outlived its floating IP), which
    /// reading again cannot mend.
    fn left_behind(&self) -> String {
        format!(
            "Neutron still listed {}, which its listing of {} did not have, when every \
             listing was read again: an object left behind in Neutron (not a race), which the \
             audit takes as Neutron lists it",
            self.what, self.of
        )
    }
}

/// A rule naming a security group that the groups' listing does not have: Neutron lists a
/// rule only with its group.
fn group_left_out(rules: &Listing<RulesPage>, groups: &Listing<GroupsPage>) -> Option<LeftOut> {
    let (Ok(rules), Ok(groups)) = (rules, groups) else {
        return None;
    };
    let named = rules.typed.iter().flatten();
    let (rule, group) = first_unlisted(
        groups.typed.iter().flatten().map(|g| &g.id),
        named.map(|r| (&r.id, Some(&r.security_group_id))),
    )?;
    Some(LeftOut {
        what: format!("rule {rule} of security group {group}"),
        of: "security groups",
    })
}

/// A floating IP, or a port that can only be on an external network (`external`: a
/// floating IP's own port, a router's gateway), on a network that the external networks'
/// listing does not have.
fn network_left_out(
    fips: &Listing<FloatingIpsPage>,
    external: &[&Port],
    networks: &Listing<NetworksPage>,
) -> Option<LeftOut> {
    let Ok(networks) = networks else {
        return None;
    };
    let listed = || networks.typed.iter().flatten().map(|n| &n.id);
    let of = "external networks";
    let fip = fips.as_ref().ok().and_then(|fips| {
        let named = fips.typed.iter().flatten();
        first_unlisted(listed(), named.map(|f| (&f.id, f.network_id.as_ref())))
    });
    if let Some((fip, network)) = fip {
        let what = format!("floating IP {fip} of network {network}");
        return Some(LeftOut { what, of });
    }
    let named = external.iter().map(|p| (&p.id, p.network_id.as_ref()));
    let (port, network) = first_unlisted(listed(), named)?;
    let what = format!("port {port} (a floating IP's or a router gateway's) of network {network}");
    Some(LeftOut { what, of })
}

/// A floating IP's own port (Neutron makes one for each; among `external`) naming a
/// floating IP that the floating IPs' listing does not have.
fn floating_ip_left_out(external: &[&Port], fips: &Listing<FloatingIpsPage>) -> Option<LeftOut> {
    let Ok(fips) = fips else {
        return None;
    };
    let named = external.iter().map(|p| (&p.id, p.floating_ip()));
    let (port, fip) = first_unlisted(fips.typed.iter().flatten().map(|f| &f.id), named)?;
    Some(LeftOut {
        what: format!("port {port} of floating IP {fip}"),
        of: "floating IPs",
    })
}

/// The first object of `named` (its id, and the id it names, if any) that names an id not
/// among `listed`.
fn first_unlisted<'a>(
    listed: impl Iterator<Item = &'a Id>,
    mut named: impl Iterator<Item = (&'a Id, Option<&'a Id>)>,
) -> Option<(&'a Id, &'a Id)> {
    let listed: FxHashSet<&Id> = listed.collect();
    named.find_map(|(id, names)| Some((id, names?)).filter(|(_, n)| !listed.contains(n)))
}

/// What the checks after the listings found (see [`Ask::checked`]).
#[derive(Default)]
struct Checks {
    warnings: Vec<String>,
    /// Listings that could not be checked (required when they decide findings).
    errors: Vec<CollectionError>,
    /// A second read found objects that the first did not: a Neutron API worker had just
    /// started, and any listing it served may lack objects.
    raced: bool,
}

/// A listing after its check.
struct Checked<P: Page> {
    listing: Listing<P>,
    /// Nothing to read again after a race: it was read again, alone, after the others (or
    /// nothing reads it).
    done: bool,
}

impl<P: Page> Checked<P> {
    /// The listing as read: a race caught elsewhere reads it again.
    fn as_read(listing: Listing<P>) -> Checked<P> {
        Checked {
            listing,
            done: false,
        }
    }
}

/// Lists one paginated Neutron collection in its own task.
fn spawn_list<P>(
    session: &Arc<Session>,
    progress: &Arc<dyn Progress>,
    base: &str,
    ask: &Arc<Ask<P>>,
) -> tokio::task::JoinHandle<Listing<P>>
where
    P: Page + Send + 'static,
    P::Item: Send + 'static,
    P::Typed: Send + 'static,
{
    let (session, progress, base) = (session.clone(), progress.clone(), base.to_owned());
    let ask = ask.clone();
    tokio::spawn(async move { ask.list(&session, &*progress, &base).await })
}

/// The rules as two listings, `direction=ingress` and `direction=egress` (joined after,
/// ingress first). Listing rules is what takes a real Neutron longest (its cost is per
/// rule), and a marker-paginated listing keeps one API worker busy at a time: two listings
/// keep two. Neutron accepts only these two directions, so the two are the whole listing,
/// at most one page more. Each keeps only its own part (the egress listing its egress
/// rules, the ingress listing everything else, so a rule of no known direction is still
/// listed once and reported): exact even from a server that ignored the filter.
fn rule_asks() -> [Arc<Ask<RulesPage>>; 2] {
    fn egress(rule: &RawRule) -> bool {
        rule.direction
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("egress"))
    }
    let ask = |resource: &'static str, direction: &'static str, keep: fn(&RawRule) -> bool| {
        let mut query = fields(RULE_FIELDS);
        query.push(("direction", direction));
        Ask {
            resource,
            path: "/security-group-rules",
            query,
            keep,
            verify_end: true,
            decides_findings: false,
        }
    };
    // Only ingress rules make findings: an egress rule left out changes the count of
    // rules checked, no finding. Both have their end checked (see `rule_ends`).
    [
        Arc::new(ask("ingress security_group_rules", "ingress", |r| !egress(r)).verified()),
        Arc::new(ask("egress security_group_rules", "egress", egress)),
    ]
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

/// The headers that ask Nova for [`NOVA_MICROVERSION`].
fn nova_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let version = |v: String| HeaderValue::from_str(&v).expect("ASCII header value");
    headers.insert(
        "OpenStack-API-Version",
        version(format!("compute {NOVA_MICROVERSION}")),
    );
    headers.insert(
        "X-OpenStack-Nova-API-Version",
        version(NOVA_MICROVERSION.to_owned()),
    );
    headers
}

/// Nova's compute services (`os-services`), as far as a down cell shows in them.
#[derive(Deserialize)]
struct NovaServices {
    services: Vec<NovaService>,
}

#[derive(Deserialize)]
struct NovaService {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// The compute hosts of the Nova cells that do not respond. Nova leaves such a cell's
/// servers out of any paginated listing without an error (it returns their partial records
/// only to an unpaginated, unsorted request), but `os-services` at microversion 2.69 lists
/// the cell's compute services with status `UNKNOWN`: one small request tells whether the
/// servers' listing is whole. `None` when there is no compute endpoint.
async fn unreachable_cell_hosts(
    session: &Session,
    compute: Option<&str>,
) -> Option<(String, Result<Vec<String>, FetchError>)> {
    let url = format!("{}/os-services?binary=nova-compute", compute?);
    let mut body = Vec::new();
    let read = session.get_into(&url, &nova_headers(), &mut body).await;
    let hosts = read.and_then(|()| {
        let listed: NovaServices = serde_json::from_slice(&body).map_err(|e| FetchError {
            status: None,
            message: format!("unexpected response: {e}"),
        })?;
        Ok(listed
            .services
            .into_iter()
            .filter(|s| s.status.as_deref() == Some("UNKNOWN"))
            .map(|s| s.host.unwrap_or_else(|| "(no host)".to_owned()))
            .collect())
    });
    Some((url, hosts))
}

/// The collection error when Nova's cells are not all reachable (the servers' listing then
/// misses their servers: enrichment is incomplete, as when the listing fails). Not being
/// able to check (`os-services` is admin-only, and absent from some clouds) is no error:
/// said with `--verbose` only.
fn down_cells_error(
    checked: Option<(String, Result<Vec<String>, FetchError>)>,
    verbose: bool,
) -> Option<CollectionError> {
    let (url, hosts) = checked?;
    let hosts = match hosts {
        Ok(hosts) => hosts,
        Err(e) => {
            if verbose {
                let status = e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
                eprintln!(
                    "driftmux: {url}{status}: {}: whether every Nova cell answered is unknown",
                    e.message
                );
            }
            return None;
        }
    };
    let first = hosts.first()?;
    let more = match hosts.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    let n = hosts.len();
    Some(CollectionError {
        resource: "servers".to_owned(),
        endpoint: Some(url),
        status: None,
        message: format!(
            "a Nova cell does not respond: {n} compute host{s} ({first}{more}) with status \
             UNKNOWN; Nova leaves its servers out of the listing, so their names and status \
             are unknown",
            s = if n == 1 { "" } else { "s" },
        ),
        required: false,
    })
}

/// Nova's servers, all projects, with the pinned microversion (falling back to the base
/// version on clouds too old for it).
async fn servers(
    session: &Session,
    compute: Option<&str>,
    progress: &dyn Progress,
) -> Result<Listed<RawServer, Server>, (String, FetchError)> {
    let Some(compute) = compute else {
        return Err((
            "(Keystone catalog)".into(),
            FetchError {
                status: None,
                message: "the catalog has no compute (Nova) endpoint: server names are unknown"
                    .into(),
            },
        ));
    };
    let endpoint = format!("{compute}/servers/detail");
    let headers = nova_headers();
    let query = [("all_tenants", "1")];
    match session
        .list::<ServersPage>(
            "servers",
            compute,
            "/servers/detail",
            &query,
            &headers,
            progress,
            every,
        )
        .await
    {
        Err(FetchError {
            status: Some(406), ..
        }) => session
            .list::<ServersPage>(
                "servers",
                compute,
                "/servers/detail",
                &query,
                &HeaderMap::new(),
                progress,
                every,
            )
            .await
            .map_err(|e| (endpoint, e)),
        other => other.map_err(|e| (endpoint, e)),
    }
}

/// Keystone's projects: all of them for an admin, else the user's own
/// (`/v3/auth/projects`); failing both, projects are shown by id.
async fn projects(
    session: &Session,
    identity: &str,
    is_admin: bool,
    progress: &dyn Progress,
) -> Result<Listed<RawProject, Project>, (String, FetchError)> {
    let none = HeaderMap::new();
    let all = format!("{identity}/projects");
    let first = session
        .list::<KeystoneProjects>(
            "projects",
            identity,
            "/projects",
            &[],
            &none,
            progress,
            every,
        )
        .await;
    match first {
        Ok(list) => Ok(list),
        Err(FetchError {
            status: Some(403), ..
        }) if !is_admin => session
            .list::<KeystoneProjects>(
                "projects",
                identity,
                "/auth/projects",
                &[],
                &none,
                progress,
                every,
            )
            .await
            .map_err(|e| (format!("{identity}/auth/projects"), e)),
        Err(e) => Err((all, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written page decoder reads what serde reads, or leaves the page to serde.
    fn agrees<P: Page>(body: &[u8]) -> bool
    where
        P::Item: PartialEq + std::fmt::Debug,
    {
        let mut items = Vec::new();
        let Some(next) = P::decode_plain(body, &mut items) else {
            return false;
        };
        // The buffer is reused from page to page: decoding into a used one reads the same.
        assert_eq!(P::decode_plain(body, &mut items), Some(next.clone()));
        let ours = (items, next);
        let theirs = serde_json::from_slice::<P>(body)
            .unwrap_or_else(|e| {
                panic!(
                    "decoded what serde rejects ({e}): {}",
                    String::from_utf8_lossy(body)
                )
            })
            .into_parts();
        assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(body));
        true
    }

    fn pages(list: &str) -> Vec<Vec<u8>> {
        let demo: serde_json::Value =
            serde_json::from_str(include_str!("../../../examples/demo-cloud.json")).unwrap();
        let items = &demo[list];
        let links = format!("{list}_links");
        [
            serde_json::json!({ list: items }),
            serde_json::json!({ list: items, links.as_str(): null }),
            serde_json::json!({ list: items, links.as_str(): [
                {"href": "http://n/v2.0/x?marker=a&limit=2", "rel": "next"},
                {"href": "http://n/v2.0/x?marker=z", "rel": "previous"}] }),
            serde_json::json!({ "extra": {"a": [1, "b"]}, list: [], links.as_str(): [{"rel": "next"}] }),
        ]
        .iter()
        .flat_map(|v| [serde_json::to_vec(v).unwrap(), serde_json::to_vec_pretty(v).unwrap()])
        .collect()
    }

    #[test]
    fn plain_pages_are_decoded_as_serde_decodes_them() {
        for body in pages("security_group_rules") {
            assert!(agrees::<RulesPage>(&body));
        }
        for body in pages("ports") {
            assert!(agrees::<PortsPage>(&body));
        }
        for body in pages("servers") {
            assert!(agrees::<ServersPage>(&body));
        }
        // Types without a decoder are always left to serde.
        assert!(!agrees::<GroupsPage>(&pages("security_groups")[0]));
        for odd in [
            r#"{}"#,
            r#"{"ports": null}"#,
            r#"{"ports": [], "ports": []}"#,
            r#"{"ports": [], "ports_links": [{"rel": null}]}"#,
            r#"{"ports": [{"id": "p\u0031"}]}"#,
            r#"{"ports": []} x"#,
        ] {
            assert!(!agrees::<PortsPage>(odd.as_bytes()), "{odd}");
        }
    }

    /// Damaged pages: the decoder gives up or agrees with serde.
    #[test]
    fn damaged_pages_never_decode_differently() {
        let bodies = [
            pages("security_group_rules"),
            pages("ports"),
            pages("servers"),
        ];
        let mut damage = crate::collect::damage::Damage::new(0xd1b5_4a32_d192_ed03);
        let mut decoded = 0;
        for _ in 0..1500 {
            let kind = damage.below(3);
            let list = &bodies[kind];
            let original = &list[damage.below(list.len())];
            let body = damage.apply(original, 1);
            decoded += usize::from(match kind {
                0 => agrees::<RulesPage>(&body),
                1 => agrees::<PortsPage>(&body),
                _ => agrees::<ServersPage>(&body),
            });
        }
        assert!(decoded > 100, "some damage is harmless ({decoded} decoded)");
    }
}
