//! Free signs of a listing that left objects out: an object that names one its listing
//! lacks (a rule's group, a floating IP's or its port's network, a floating IP's port's
//! floating IP). Found in the listings already read, at no request.

use std::fmt;

use rustc_hash::FxHashSet;

use super::listing::Listing;
use super::pages::{FloatingIpsPage, GroupsPage, NetworksPage, PortsPage, RulesPage};
use crate::id::Id;
use crate::inventory::{Owner, Port};

/// The listing that lacks an object another names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lacking {
    SecurityGroups,
    ExternalNetworks,
    FloatingIps,
}

impl fmt::Display for Lacking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lacking::SecurityGroups => "security groups",
            Lacking::ExternalNetworks => "external networks",
            Lacking::FloatingIps => "floating IPs",
        })
    }
}

/// An object that names one its listing does not have: that listing left it out (a Neutron
/// API worker that has just started can), or it was made or deleted while the listings
/// were read, or it was left behind (see [`LeftOut::left_behind`]). It costs no request to
/// see.
pub(super) struct LeftOut {
    /// The object that names it, and what it names.
    what: String,
    /// The listing that lacks it.
    of: Lacking,
}

impl LeftOut {
    /// The first such object in the listings, if any.
    pub(super) fn find(
        ingress: &Listing<RulesPage>,
        groups: &Listing<GroupsPage>,
        fips: &Listing<FloatingIpsPage>,
        ports: &Listing<PortsPage>,
        networks: &Listing<NetworksPage>,
    ) -> Option<LeftOut> {
        if let Some(left_out) = group_left_out(ingress, groups) {
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
    pub(super) fn warning(&self) -> String {
        format!(
            "Neutron listed {}, which its listing of {} did not have: every Neutron listing \
             read again (a Neutron API worker that has just started can leave objects out of \
             its answers; or it was made or deleted while the listings were read)",
            self.what, self.of
        )
    }

    /// Whether it is a floating IP's own port naming a floating IP the floating IPs'
    /// listing lacks: a sign that a floating IP deleted while the listings were read gives
    /// too, and a port left behind gives for good, so the floating IPs alone are read
    /// again first.
    pub(super) fn names_a_floating_ip(&self) -> bool {
        self.of == Lacking::FloatingIps
    }

    /// The warning when the floating IPs, read again alone, were the same: no listing was
    /// cut short, and nothing else is read again.
    pub(super) fn left_behind_alone(&self, count: usize) -> String {
        format!(
            "Neutron listed {}, which its listing of {} did not have, also when the floating \
             IPs were read again (the same {count}): not a listing cut short, but a port left \
             behind in Neutron or a floating IP deleted while the listings were read; nothing \
             else read again",
            self.what, self.of
        )
    }

    /// The warning when it is still there once every listing was read again: not a race,
    /// an object left behind (a floating IP's port that outlived its floating IP), which
    /// reading again cannot mend.
    pub(super) fn left_behind(&self) -> String {
        format!(
            "Neutron still listed {}, which its listing of {} did not have, when every \
             listing was read again: an object left behind in Neutron (not a race), which the \
             audit takes as Neutron lists it",
            self.what, self.of
        )
    }
}

/// An ingress rule naming a security group that the groups' listing does not have: Neutron
/// lists a rule only with its group. (The ingress rules only: a group that no ingress
/// rule names has no finding.)
fn group_left_out(ingress: &Listing<RulesPage>, groups: &Listing<GroupsPage>) -> Option<LeftOut> {
    let (Ok(rules), Ok(groups)) = (ingress, groups) else {
        return None;
    };
    let named = rules.typed.iter().flatten();
    let (rule, group) = first_unlisted(
        groups.typed.iter().flatten().map(|g| &g.id),
        named.map(|r| (&r.id, Some(&r.security_group_id))),
    )?;
    Some(LeftOut {
        what: format!("rule {rule} of security group {group}"),
        of: Lacking::SecurityGroups,
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
    let of = Lacking::ExternalNetworks;
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
        of: Lacking::FloatingIps,
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
