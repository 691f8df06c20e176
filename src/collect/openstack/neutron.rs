//! Neutron's listings: read side by side, each in its own task (pages of different
//! resources fetched and decoded in parallel on the runtime's worker threads); then, once
//! every listing of the audit has ended, checked (`ask`, `rule_ends`, `left_out`) and
//! settled (read again after a race caught). Address groups are listed only when a rule
//! names one, once the rules are read, and read again once when they lack one a rule names.

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::ask::{rule_asks, Ask, Checked, Checks};
use super::client::{FetchError, Session};
use super::left_out::LeftOut;
use super::listing::{HasId, Listed, Listing, Page};
use super::pages::{
    fields, AddressGroupsPage, FloatingIpsPage, GroupsPage, NetworksPage, PortsPage, RulesPage,
    ADDRESS_GROUP_FIELDS, FIP_FIELDS, GROUP_FIELDS, NETWORK_FIELDS, PORT_FIELDS,
};
use super::progress::Progress;
use super::{joined, rule_ends};
use crate::id::Id;
use crate::inventory::{CollectionError, Remote};
use rustc_hash::FxHashSet;

/// A listing being read, in its own task, and how it is asked for.
struct Task<P: Page> {
    ask: Arc<Ask<P>>,
    handle: JoinHandle<Listing<P>>,
}

impl<P> Task<P>
where
    P: Page + Send + 'static,
    P::Item: Send + 'static,
    P::Typed: Send + 'static,
{
    fn spawn(
        session: &Arc<Session>,
        progress: &Arc<dyn Progress>,
        base: &str,
        ask: Ask<P>,
    ) -> Self {
        let ask = Arc::new(ask);
        let (session, progress, base) = (session.clone(), progress.clone(), base.to_owned());
        let listing = ask.clone();
        let handle = tokio::spawn(async move { listing.list(&session, &*progress, &base).await });
        Task { ask, handle }
    }

    /// Its listing, once read.
    async fn listed(self) -> (Arc<Ask<P>>, Listing<P>) {
        (self.ask, joined(self.handle.await))
    }
}

/// Neutron's listings, being read.
pub(super) struct Reading {
    network: String,
    ingress: Task<RulesPage>,
    egress: Task<RulesPage>,
    groups: Task<GroupsPage>,
    ports: Task<PortsPage>,
    fips: Task<FloatingIpsPage>,
    networks: Task<NetworksPage>,
    /// Listed only once a rule names an address group (see [`Reading::finish`]).
    address_groups: Ask<AddressGroupsPage>,
}

/// Neutron's listings, read and checked.
pub(super) struct Read {
    /// The ingress rules, then the egress rules.
    pub rules: Listing<RulesPage>,
    pub groups: Listing<GroupsPage>,
    pub ports: Listing<PortsPage>,
    pub fips: Listing<FloatingIpsPage>,
    pub networks: Listing<NetworksPage>,
    /// None when no rule names an address group: nothing else reads them, and they were
    /// not asked for.
    pub address_groups: Option<Listing<AddressGroupsPage>>,
    /// What the checks found, in the order they ran.
    pub warnings: Vec<String>,
    /// The listings whose checks could not be made.
    pub errors: Vec<CollectionError>,
}

impl Reading {
    /// Starts reading every Neutron listing from `network` (Neutron's base URL), as an
    /// admin's token or not (`is_admin`).
    pub(super) fn start(
        session: &Arc<Session>,
        progress: &Arc<dyn Progress>,
        network: &str,
        is_admin: bool,
    ) -> Reading {
        let mut network_query = fields(NETWORK_FIELDS);
        network_query.push(("router:external", "true"));
        let [ingress, egress] = rule_asks();
        let groups = Ask::new("security_groups", "/security-groups", fields(GROUP_FIELDS));
        // Ports decide whether a finding is active (and its severity).
        let ports = Ask::new("ports", "/ports", fields(PORT_FIELDS)).verified();
        let mut fips = Ask::new("floatingips", "/floatingips", fields(FIP_FIELDS));
        // An admin's floating IPs are checked by their own ports, at no request (see
        // `left_out`); Neutron lists those ports to no one else: the last page of the
        // floating IPs asked for again instead (whether a finding is reachable).
        fips.verify_end = !is_admin;
        let networks = Ask::new("networks", "/networks", network_query);
        let address_groups = Ask::new(
            "address_groups",
            "/address-groups",
            fields(ADDRESS_GROUP_FIELDS),
        );
        let (s, p) = (session, progress);
        Reading {
            network: network.to_owned(),
            ingress: Task::spawn(s, p, network, ingress),
            egress: Task::spawn(s, p, network, egress),
            groups: Task::spawn(s, p, network, groups),
            ports: Task::spawn(s, p, network, ports),
            fips: Task::spawn(s, p, network, fips),
            networks: Task::spawn(s, p, network, networks),
            address_groups,
        }
    }

    /// The listings once read, checked and settled. Called once every listing of the audit
    /// has ended (Nova's and Keystone's too): a request after the others finds a Neutron
    /// API worker that had just started ready (see `Ask::checked`).
    pub(super) async fn finish(self, session: &Session, progress: &dyn Progress) -> Read {
        let network = self.network;
        let (ingress_ask, ingress) = self.ingress.listed().await;
        let (egress_ask, egress) = self.egress.listed().await;
        let (groups_ask, groups) = self.groups.listed().await;
        let (ports_ask, ports) = self.ports.listed().await;
        let (fips_ask, fips) = self.fips.listed().await;
        let (networks_ask, networks) = self.networks.listed().await;
        let address_groups_ask = self.address_groups;
        // Neutron listings checked, side by side, now that every listing has ended: the empty
        // ones read again, the last page of those that ended on an empty page, and of those
        // that decide findings, asked for again (see `Ask::checked`); if any found objects,
        // every other listing is read again too. Each check notes what it found apart, merged
        // in this order.
        //
        // Address groups matter only to rules that name one: most clouds have none, and
        // their listing is then not asked for at all; when a rule names one, it is read
        // now, beside those checks, then checked as the others are.
        let mut each: [Checks; 7] = Default::default();
        let [c1, c2, c3, c4, c5, c6, c7] = &mut each;
        let (s, p, net) = (session, progress, network.as_str());
        let rules = [&*ingress_ask, &*egress_ask];
        let named_at_first = names_an_address_group(&ingress) || names_an_address_group(&egress);
        let address_groups = async {
            if !named_at_first {
                return None;
            }
            let listed = address_groups_ask.list(s, p, net).await;
            Some(address_groups_ask.checked(s, p, net, listed, c7).await)
        };
        let ([ingress, egress], groups, ports, fips, networks, address_groups) = tokio::join!(
            rule_ends::checked(s, p, net, rules, [ingress, egress], [c1, c2]),
            groups_ask.checked(s, p, net, groups, c3),
            ports_ask.checked(s, p, net, ports, c4),
            fips_ask.checked(s, p, net, fips, c5),
            networks_ask.checked(s, p, net, networks, c6),
            address_groups,
        );
        let mut checks = Checks::default();
        for found in each {
            checks.raced |= found.raced;
            checks.warnings.extend(found.warnings);
            checks.errors.extend(found.errors);
        }
        // An object naming one that its listing does not have: that listing left it out.
        let mut left_out = if checks.raced {
            None
        } else {
            let (i, g, f, p, n) = (&ingress, &groups, &fips, &ports, &networks);
            LeftOut::find(&i.listing, &g.listing, &f.listing, &p.listing, &n.listing)
        };
        // A floating IP's own port naming a floating IP that their listing lacks (the only
        // sign here: the others are looked for first): the floating IPs alone are read
        // again first, one small listing. The same objects again, and no listing was cut
        // short: the floating IP was deleted while the listings were read (its port goes
        // with it), or the port was left behind (there at every audit until someone
        // deletes it); nothing else is read again. Anything else, and it is a race, as for
        // any sign.
        let mut fips = fips;
        if let Some(sign) = left_out.as_ref().filter(|l| l.names_a_floating_ip()) {
            let again = fips_ask.list(s, p, net).await;
            if let Some(count) = same_objects(&fips.listing, &again) {
                checks.warnings.push(sign.left_behind_alone(count));
                fips = Checked {
                    listing: again,
                    done: true,
                };
                left_out = None;
            }
        }
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
            address_groups,
        ) = tokio::join!(
            ingress_ask.settled(s, p, net, ingress, raced),
            egress_ask.settled(s, p, net, egress, raced),
            groups_ask.settled(s, p, net, groups, raced),
            ports_ask.settled(s, p, net, ports, raced),
            fips_ask.settled(s, p, net, fips, raced),
            networks_ask.settled(s, p, net, networks, raced),
            async {
                match address_groups {
                    Some(checked) => {
                        Some(address_groups_ask.settled(s, p, net, checked, raced).await)
                    }
                    None => None,
                }
            },
        );
        let mut warnings = checks.warnings;
        let named = named_address_groups(&ingress, &egress);
        let (address_groups, w7) = match address_groups {
            Some((listing, warning)) => (Some(listing), warning),
            // The rules read again (cut short, or after a race) may name one where their
            // first read did not: read last, after every other listing.
            None if !named.is_empty() => (Some(address_groups_ask.list(s, p, net).await), None),
            None => (None, None),
        };
        // Rules naming address groups that their listing lacks. Neutron refuses to delete
        // an address group a rule names (AddressGroupInUse), so the listing was most likely
        // cut short by a Neutron API worker that had just started (it is not checked as
        // the listings that decide findings are): read again once, now, after the others.
        // Still lacking them, the audit warns that what they hold is unknown.
        let (address_groups, w8) = match address_groups {
            Some(first) => {
                let (listing, warning) =
                    lacking(&address_groups_ask, s, p, net, &named, first).await;
                (Some(listing), warning)
            }
            None => (None, None),
        };
        warnings.extend([w1, w2, w3, w4, w5, w6, w7, w8].into_iter().flatten());
        if left_out.is_some() {
            let still = LeftOut::find(&ingress, &groups, &fips, &ports, &networks);
            warnings.extend(still.map(|still| still.left_behind()));
        }
        let rules = ingress.and_then(|mut rules| {
            rules.append(egress?);
            Ok(rules)
        });
        Read {
            rules,
            groups,
            ports,
            fips,
            networks,
            address_groups,
            warnings,
            errors: checks.errors,
        }
    }
}

/// Whether a rule of this listing names an address group as its source.
fn names_an_address_group(rules: &Listing<RulesPage>) -> bool {
    rules.as_ref().is_ok_and(|rules| {
        let mut all = rules.typed.iter().flatten();
        all.any(|rule| matches!(rule.remote, Remote::AddressGroup(_)))
    })
}

/// The address groups as listed (`first`), or read again once when they lack some of the
/// `named` ones and that listing lacks fewer (with a warning).
async fn lacking(
    ask: &Ask<AddressGroupsPage>,
    session: &Session,
    progress: &dyn Progress,
    base: &str,
    named: &FxHashSet<&Id>,
    first: Listing<AddressGroupsPage>,
) -> (Listing<AddressGroupsPage>, Option<String>) {
    let Some((lacked, id)) = unlisted(named, &first) else {
        return (first, None);
    };
    let again = ask.list(session, progress, base).await;
    let still = again
        .is_ok()
        .then(|| unlisted(named, &again).map_or(0, |(n, _)| n));
    match still {
        Some(still) if still < lacked => {
            let warning = format!(
                "Neutron's listing of address_groups lacked {lacked} that rules name (first \
                 {id}); read again, it lacks {still}: a Neutron API worker that has just \
                 started can leave objects out of its first answers"
            );
            (again, Some(warning))
        }
        _ => (first, None),
    }
}

/// The address groups the rules of these listings name.
fn named_address_groups<'a>(
    ingress: &'a Listing<RulesPage>,
    egress: &'a Listing<RulesPage>,
) -> FxHashSet<&'a Id> {
    let rules = [ingress, egress]
        .into_iter()
        .filter_map(|l| l.as_ref().ok());
    let all = rules.flat_map(|rules| rules.typed.iter().flatten());
    all.filter_map(|rule| match &rule.remote {
        Remote::AddressGroup(id) => Some(id),
        _ => None,
    })
    .collect()
}

/// How many of the `named` address groups this listing lacks, and the least of their ids;
/// `None` when it lacks none, or could not be read.
fn unlisted(named: &FxHashSet<&Id>, listing: &Listing<AddressGroupsPage>) -> Option<(usize, Id)> {
    let listed: FxHashSet<&Id> = match listing {
        Ok(listed) => listed.typed.iter().flatten().map(HasId::id).collect(),
        Err(_) => return None,
    };
    let mut lacked: Vec<&Id> = named
        .iter()
        .filter(|id| !listed.contains(*id))
        .copied()
        .collect();
    lacked.sort_unstable();
    lacked.first().map(|least| (lacked.len(), (*least).clone()))
}

/// How many objects both listings hold, when they hold the same objects in the same order.
fn same_objects<R, T: HasId>(
    first: &Result<Listed<R, T>, FetchError>,
    again: &Result<Listed<R, T>, FetchError>,
) -> Option<usize> {
    let (Ok(first), Ok(again)) = (first, again) else {
        return None;
    };
    let (a, b) = (first.typed.iter().flatten(), again.typed.iter().flatten());
    let same = first.count == again.count && a.map(HasId::id).eq(b.map(HasId::id));
    same.then_some(first.count)
}
