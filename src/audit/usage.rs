//! Usage enrichment: which ports and servers use each security group.
//!
//! One pass over the ports builds an index by group id, so each finding is enriched with a
//! lookup instead of a scan (no rules x ports work). A group is active when any port lists
//! it; its servers are the distinct `device_id`s of those ports owned by `compute:*`.

use rustc_hash::{FxBuildHasher, FxHashMap as HashMap, FxHashSet as HashSet};
use std::net::IpAddr;

use crate::finding::{ExposureStatus, Reachability, ServerRef};
use crate::inventory::{EtherType, Id, Inventory, Objects, Port, Server};

/// Ports and servers that use one group, in the order the ports were listed (duplicates
/// are possible: the findings sort copies of the ids, see [`UsageIndex::usage`]).
#[derive(Debug, Default)]
struct GroupUsage<'a> {
    ports: Vec<&'a Port>,
    servers: Vec<&'a Id>,
}

/// What a finding needs to know about its group's attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub status: ExposureStatus,
    pub ports: Vec<Id>,
    pub servers: Vec<ServerRef>,
    pub reachable: Reachability,
    pub floating_ips: Vec<IpAddr>,
}

pub struct UsageIndex<'a> {
    // Every map is keyed by copies of the ids: a lookup compares keys in the table, not in
    // the inventory (lookups are random accesses into a big one; UUIDs copy inline).
    /// `None` when ports were not collected.
    by_group: Option<HashMap<Id, GroupUsage<'a>>>,
    /// Servers' ports with port security disabled, in the order listed: no group filters
    /// them.
    unfiltered: Vec<&'a Port>,
    servers: HashMap<Id, &'a Server>,
    /// Floating IP addresses by port id (`None`: floating IPs not collected).
    floating: Option<HashMap<Id, Vec<IpAddr>>>,
    /// `router:external` network ids (`None`: networks not collected).
    external: Option<HashSet<Id>>,
}

/// IPv6 global unicast space: `2000::/3`, the addresses whose first three bits are 001.
fn is_global_v6(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xe000 == 0x2000)
}

impl<'a> UsageIndex<'a> {
    /// Indexes the usage of the `wanted` groups (those with findings).
    pub fn build(inventory: &'a Inventory, wanted: &HashSet<Id>) -> UsageIndex<'a> {
        // The two big lists are indexed side by side.
        let (by_group, servers) = std::thread::scope(|scope| {
            // Maps are sized up front: growing one rehashes it and touches twice the memory.
            let servers = scope.spawn(|| {
                let list = inventory.servers.as_ref();
                let mut servers: HashMap<Id, &Server> =
                    HashMap::with_capacity_and_hasher(list.map_or(0, Objects::len), FxBuildHasher);
                servers.extend(list.into_iter().flatten().map(|s| (s.id.clone(), s)));
                servers
            });
            let by_group = inventory
                .ports
                .as_ref()
                .map(|ports| Self::by_group(ports, wanted));
            (by_group, servers.join().expect("index thread"))
        });
        let (by_group, unfiltered) = by_group.map_or((None, Vec::new()), |(groups, unfiltered)| {
            (Some(groups), unfiltered)
        });
        let floating = inventory.floating_ips.as_ref().map(|fips| {
            let mut by_port: HashMap<Id, Vec<IpAddr>> =
                HashMap::with_capacity_and_hasher(fips.len(), FxBuildHasher);
            for fip in fips {
                if let (Some(port), Some(addr)) = (fip.port_id.as_ref(), fip.address) {
                    by_port.entry(port.clone()).or_default().push(addr);
                }
            }
            by_port
        });
        let external = inventory.networks.as_ref().map(|nets| {
            nets.iter()
                .filter(|n| n.external)
                .map(|n| n.id.clone())
                .collect()
        });
        UsageIndex {
            by_group,
            unfiltered,
            servers,
            floating,
            external,
        }
    }

    /// Whether Nova listed the server `id` (false when servers were not collected).
    pub fn lists_server(&self, id: &Id) -> bool {
        self.servers.contains_key(id)
    }

    /// Servers' ports with port security disabled (no security group filters them), in the
    /// order the ports were listed.
    pub fn unfiltered_ports(&self) -> &[&'a Port] {
        &self.unfiltered
    }

    /// The ports and servers of each wanted group (none when it is unused), and the
    /// servers' ports with port security disabled (found in the same pass).
    fn by_group(
        ports: &'a Objects<Port>,
        wanted: &HashSet<Id>,
    ) -> (HashMap<Id, GroupUsage<'a>>, Vec<&'a Port>) {
        // Every wanted group has its entry from the start (an empty one reads as unused), so
        // each group of each port is looked up once.
        let mut by_group: HashMap<Id, GroupUsage> =
            HashMap::with_capacity_and_hasher(wanted.len(), FxBuildHasher);
        by_group.extend(wanted.iter().map(|g| (g.clone(), GroupUsage::default())));
        let mut unfiltered = Vec::new();
        for port in ports {
            let server = port.server();
            if port.port_security_disabled && server.is_some() {
                unfiltered.push(port);
            }
            for group in &port.security_groups {
                let Some(usage) = by_group.get_mut(group) else {
                    continue;
                };
                usage.ports.push(port);
                if let Some(server) = server {
                    usage.servers.push(server);
                }
            }
        }
        (by_group, unfiltered)
    }

    /// Whether any of `ports` is reachable from outside for a rule of `ethertype`, and the
    /// floating IPs of all of them; `floating` holds each port's, in the same order.
    fn reachability(
        &self,
        ports: &[&Port],
        floating: &[Option<&Vec<IpAddr>>],
        ethertype: EtherType,
    ) -> (Reachability, Vec<IpAddr>) {
        let family = |ip: &IpAddr| match ethertype {
            EtherType::IPv4 => ip.is_ipv4(),
            EtherType::IPv6 => ip.is_ipv6(),
        };
        let mut fips: Vec<IpAddr> = Vec::new();
        let mut reachable = false;
        for (p, &floating) in ports.iter().zip(floating) {
            fips.extend(floating.into_iter().flatten());
            reachable = reachable || {
                let on_external = self.external.as_ref().is_some_and(|ext| {
                    p.network_id.as_ref().is_some_and(|n| ext.contains(n))
                        && p.fixed_ips.iter().any(family)
                });
                let by_address = match ethertype {
                    EtherType::IPv4 => floating.is_some(),
                    EtherType::IPv6 => p.fixed_ips.iter().any(is_global_v6),
                };
                on_external || by_address
            };
        }
        fips.sort_unstable();
        fips.dedup();
        let known = match ethertype {
            EtherType::IPv4 => self.floating.is_some() && self.external.is_some(),
            EtherType::IPv6 => self.external.is_some(),
        };
        let verdict = if reachable {
            Reachability::Reachable
        } else if known || ports.is_empty() {
            Reachability::NotReachable
        } else {
            Reachability::Unknown
        };
        (verdict, fips)
    }

    /// The usage of one group, and its reachability for a rule of `ethertype`.
    pub fn usage(&self, group_id: &Id, ethertype: EtherType) -> Usage {
        let Some(by_group) = &self.by_group else {
            return Usage {
                status: ExposureStatus::Unknown,
                ports: Vec::new(),
                servers: Vec::new(),
                reachable: Reachability::Unknown,
                floating_ips: Vec::new(),
            };
        };
        let Some(usage) = by_group.get(group_id) else {
            return Usage {
                status: ExposureStatus::Unused,
                ports: Vec::new(),
                servers: Vec::new(),
                reachable: Reachability::NotReachable,
                floating_ips: Vec::new(),
            };
        };
        // Random accesses into a big inventory, each likely a cache miss, are made in tight
        // passes of independent ones (the ports' ids, then their floating IPs; the servers'
        // entries, then the servers), which the CPU overlaps; one port or server at a time,
        // each waited for its misses in turn (1M rules: the audit ~10% faster).
        let port_ids: Vec<Id> = usage.ports.iter().map(|p| p.id.clone()).collect();
        let floating: Vec<Option<&Vec<IpAddr>>> = match &self.floating {
            Some(by_port) => port_ids.iter().map(|id| by_port.get(id)).collect(),
            None => vec![None; port_ids.len()],
        };
        let (reachable, floating_ips) = self.reachability(&usage.ports, &floating, ethertype);
        // Copies are sorted, not the references: comparing those would fetch each port from
        // the inventory again, several times.
        let sorted = |mut ids: Vec<Id>| {
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let ports = sorted(port_ids);
        let ids = sorted(usage.servers.iter().map(|&id| id.clone()).collect());
        let known: Vec<Option<&Server>> =
            ids.iter().map(|id| self.servers.get(id).copied()).collect();
        let servers = ids
            .into_iter()
            .zip(known)
            .map(|(id, known)| ServerRef {
                server_id: id,
                server_name: known.and_then(|s| s.name.clone()),
                status: known.and_then(|s| s.status.clone()),
                project_id: known.and_then(|s| s.project_id.clone()),
            })
            .collect();
        Usage {
            status: if usage.ports.is_empty() {
                ExposureStatus::Unused
            } else {
                ExposureStatus::Active
            },
            ports,
            servers,
            reachable,
            floating_ips,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_v6_is_2000_slash_3() {
        let global: ipnet::IpNet = "2000::/3".parse().unwrap();
        for text in [
            "::",
            "::1",
            "1fff:ffff::",
            "2000::",
            "2001:db8::1",
            "3fff:ffff::ffff",
            "4000::",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "::ffff:8.8.8.8",
            "8.8.8.8",
            "10.0.0.1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(
                is_global_v6(&ip),
                ip.is_ipv6() && global.contains(&ip),
                "{text}"
            );
        }
    }
}
