//! Usage enrichment: which ports and servers use each security group.
//!
//! One pass over the ports builds an index by group id, so each finding is enriched with a
//! lookup instead of a scan (no rules x ports work). A group is active when any port lists
//! it; its servers are the distinct `device_id`s of those ports owned by `compute:*`.

use std::collections::HashMap;

use crate::finding::{ExposureStatus, ServerRef};
use crate::inventory::{Inventory, Server};

/// Ports and servers that use one group.
#[derive(Debug, Default)]
struct GroupUsage<'a> {
    ports: Vec<&'a str>,
    servers: Vec<&'a str>,
}

/// What a finding needs to know about its group's attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub status: ExposureStatus,
    pub ports: Vec<String>,
    pub servers: Vec<ServerRef>,
}

pub struct UsageIndex<'a> {
    /// `None` when ports were not collected.
    by_group: Option<HashMap<&'a str, GroupUsage<'a>>>,
    servers: HashMap<&'a str, &'a Server>,
}

impl<'a> UsageIndex<'a> {
    pub fn build(inventory: &'a Inventory) -> UsageIndex<'a> {
        let by_group = inventory.ports.as_ref().map(|ports| {
            let mut by_group: HashMap<&str, GroupUsage> = HashMap::new();
            for port in ports {
                let server = port.device_id.as_deref().filter(|_| {
                    port.device_owner
                        .as_deref()
                        .is_some_and(|o| o.starts_with("compute:"))
                });
                for group in &port.security_groups {
                    let usage = by_group.entry(group.as_str()).or_default();
                    usage.ports.push(&port.id);
                    if let Some(server) = server {
                        usage.servers.push(server);
                    }
                }
            }
            for usage in by_group.values_mut() {
                usage.ports.sort_unstable();
                usage.ports.dedup();
                usage.servers.sort_unstable();
                usage.servers.dedup();
            }
            by_group
        });
        let servers = inventory
            .servers
            .iter()
            .flatten()
            .map(|s| (s.id.as_str(), s))
            .collect();
        UsageIndex { by_group, servers }
    }

    /// The usage of one group.
    pub fn usage(&self, group_id: &str) -> Usage {
        let Some(by_group) = &self.by_group else {
            return Usage {
                status: ExposureStatus::Unknown,
                ports: Vec::new(),
                servers: Vec::new(),
            };
        };
        let Some(usage) = by_group.get(group_id) else {
            return Usage {
                status: ExposureStatus::Unused,
                ports: Vec::new(),
                servers: Vec::new(),
            };
        };
        let servers = usage
            .servers
            .iter()
            .map(|&id| {
                let known = self.servers.get(id);
                ServerRef {
                    server_id: id.to_owned(),
                    server_name: known.and_then(|s| s.name.clone()),
                    status: known.and_then(|s| s.status.clone()),
                    project_id: known.and_then(|s| s.project_id.clone()),
                }
            })
            .collect();
        Usage {
            status: if usage.ports.is_empty() {
                ExposureStatus::Unused
            } else {
                ExposureStatus::Active
            },
            ports: usage.ports.iter().map(|&p| p.to_owned()).collect(),
            servers,
        }
    }
}
