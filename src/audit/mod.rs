//! The audit: from an inventory and a policy to sorted findings.
//!
//! For each rule: ingress only, a public source (`detect::public_source`), ports that expose
//! something (`detect::exposed_ports`), a policy match (`detect::classify`). The finding
//! belongs to its security group's project, is enriched from the usage index, gets its
//! severity from the seed's model and a stable fingerprint. Nothing here does I/O.

pub mod detect;
pub mod policy;
pub mod usage;

use std::collections::HashMap;

use crate::finding::{Finding, Fingerprint};
use crate::inventory::{CollectionError, Direction, Inventory, InventoryMeta};
use policy::Policy;
use usage::UsageIndex;

/// Used when neither the group nor the rule names a project.
pub const UNKNOWN_PROJECT: &str = "unknown";

/// The outcome of one audit run, ready for the gate and the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub meta: InventoryMeta,
    /// Every rule examined, all directions.
    pub checked_rules: usize,
    /// In report order (see `Finding::sort_key`).
    pub findings: Vec<Finding>,
    /// Collection failures: any entry means the audit is incomplete.
    pub errors: Vec<CollectionError>,
    /// Caveats that do not make the audit incomplete (e.g. ports not collected).
    pub warnings: Vec<String>,
}

impl AuditReport {
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Audits every rule of the inventory.
pub fn run(inventory: &Inventory, policy: &Policy) -> AuditReport {
    let groups: HashMap<&str, _> = inventory
        .security_groups
        .iter()
        .flatten()
        .map(|g| (g.id.as_str(), g))
        .collect();
    let project_names: HashMap<&str, &str> = inventory
        .projects
        .iter()
        .flatten()
        .filter_map(|p| Some((p.id.as_str(), p.name.as_deref()?)))
        .collect();
    let usage = UsageIndex::build(inventory);

    let mut findings = Vec::new();
    for rule in &inventory.rules {
        if rule.direction != Direction::Ingress {
            continue;
        }
        let Some(source) = detect::public_source(rule) else {
            continue;
        };
        let Some(ports) = detect::exposed_ports(rule) else {
            continue;
        };
        let Some((kind, matched)) = detect::classify(policy, ports) else {
            continue;
        };
        let group = groups.get(rule.security_group_id.as_str());
        let project_id = group
            .and_then(|g| g.project_id.as_deref())
            .or(rule.project_id.as_deref())
            .unwrap_or(UNKNOWN_PROJECT);
        let used = usage.usage(&rule.security_group_id);
        findings.push(Finding {
            kind,
            severity: kind.severity(used.status),
            project_id: project_id.to_owned(),
            project_name: project_names.get(project_id).map(|n| (*n).to_owned()),
            security_group_id: rule.security_group_id.clone(),
            security_group_name: group.and_then(|g| g.name.clone()),
            fingerprint: Fingerprint::compute(
                project_id,
                &rule.security_group_id,
                rule,
                ports,
                &source,
            ),
            rule: rule.clone(),
            ports,
            source,
            matched,
            status: used.status,
            used_by_ports: used.ports,
            used_by_servers: used.servers,
        });
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    let mut warnings = Vec::new();
    if inventory.ports.is_none() {
        warnings.push(
            "ports were not collected: exposure status is unknown and severities assume the \
             groups are in use"
                .to_owned(),
        );
    }
    AuditReport {
        meta: inventory.meta.clone(),
        checked_rules: inventory.rules.len(),
        findings,
        errors: inventory.errors.clone(),
        warnings,
    }
}
