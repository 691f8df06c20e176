//! The audit: from an inventory and a policy to sorted findings.
//!
//! For each rule: ingress only, a public source (`detect::public_source`), ports that expose
//! something (`detect::exposed_ports`), a policy match (`detect::classify`). The finding
//! belongs to its security group's project, is enriched from the usage index, gets its
//! severity from the seed's model and a stable fingerprint. Nothing here does I/O.

pub mod detect;
pub mod policy;
pub mod usage;

use std::cmp::Reverse;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::finding::{Finding, FindingKind, Fingerprint, PortExposure, Severity};
use crate::inventory::{
    AddressGroup, CollectionError, Direction, EtherType, Id, Inventory, InventoryMeta, Objects,
    Port, Remote, Rule,
};
use crate::parallel;
use policy::Policy;
use usage::UsageIndex;

/// Used when neither the group nor the rule names a project.
pub const UNKNOWN_PROJECT: &str = "unknown";

/// Fewer candidates than this are enriched on one thread.
const PARALLEL_MIN: usize = 2048;

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
    /// The names Keystone gave the projects of `meta.project_scope` (none when every
    /// project was audited): the gate ties a suppression naming one to the audit's scope.
    pub scope_names: Vec<String>,
    /// Names Keystone gave to more than one project (a name is unique only within its
    /// domain), by name, each with those projects' ids in order: a suppression that names a
    /// project by such a name applies to every one of them.
    pub shared_project_names: Vec<(String, Vec<String>)>,
}

impl AuditReport {
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }
}

/// A rule that exposes something, before enrichment.
struct Candidate<'a> {
    rule: &'a Rule,
    source: ipnet::IpNet,
    ports: PortExposure,
    kind: FindingKind,
    matched: Vec<String>,
}

/// Audits every rule of the inventory.
///
/// Detection is one cheap pass over the rules (on every core when they are many); only the
/// groups of the rules it keeps are indexed for usage, and the enrichment (the costly part
/// on a big cloud) runs on every core, each thread on a contiguous share of the
/// candidates, so the order stays the same.
pub fn run(inventory: &Inventory, policy: &Policy) -> AuditReport {
    let Detected {
        candidates,
        by_address_group,
    } = detect_all(&inventory.rules, policy);
    // Copies of the ids: looked up for every port, they are compared in the set.
    let wanted: HashSet<Id> = candidates
        .iter()
        .map(|c| c.rule.security_group_id.clone())
        .collect();
    let groups: HashMap<&Id, _> = inventory
        .security_groups
        .iter()
        .flatten()
        .filter(|g| wanted.contains(&g.id))
        .map(|g| (&g.id, g))
        .collect();
    let project_names: HashMap<&Id, &str> = inventory
        .projects
        .iter()
        .flatten()
        .filter_map(|p| Some((&p.id, p.name.as_deref()?)))
        .collect();
    let usage = UsageIndex::build(inventory, &wanted);

    let enrich = |c: &Candidate| -> Finding {
        let rule = c.rule;
        let group = groups.get(&rule.security_group_id);
        let project = group
            .and_then(|g| g.project_id.as_ref())
            .or(rule.project_id.as_ref());
        let project_id = project.map_or_else(|| UNKNOWN_PROJECT.to_owned(), Id::to_string);
        let security_group_id = rule.security_group_id.to_string();
        let used = usage.usage(&rule.security_group_id, rule.ethertype);
        Finding {
            kind: c.kind,
            severity: c.kind.severity(used.status),
            project_name: project
                .and_then(|p| project_names.get(p))
                .map(|n| (*n).to_owned()),
            security_group_name: group.and_then(|g| g.name.clone()),
            fingerprint: Fingerprint::compute(
                &project_id,
                &security_group_id,
                rule,
                c.ports,
                &c.source,
            ),
            project_id,
            security_group_id,
            rule: rule.clone(),
            ports: c.ports,
            source: c.source,
            matched: c.matched.clone(),
            status: used.status,
            used_by_ports: used.ports,
            used_by_servers: used.servers,
            reachable: used.reachable,
            floating_ips: used.floating_ips,
        }
    };
    let shares = parallel::map_shares(&candidates, PARALLEL_MIN, |_, share| {
        share.iter().map(enrich).collect::<Vec<_>>()
    });
    // Moved, not cloned as `concat` would (every finding's strings and lists again).
    let mut findings: Vec<Finding> = Vec::with_capacity(candidates.len());
    for share in shares {
        findings.extend(share);
    }
    let findings = sorted(findings);

    let mut warnings = inventory.warnings.clone();
    let rules_failed = (inventory.errors.iter()).any(|e| e.resource == "security_group_rules");
    if inventory.rules.is_empty() && !rules_failed {
        warnings.push(
            "no security group rules were read: a cloud in use has some (every project's \
             default group holds four), and a token that may see none (its role, its scope) \
             reads as an empty cloud; check the token before trusting this audit"
                .to_owned(),
        );
    }
    if inventory.ports.is_none() {
        warnings.push(
            "ports were not collected: exposure status is unknown and severities assume the \
             groups are in use"
                .to_owned(),
        );
    }
    if inventory.servers.is_some() {
        warnings.extend(unlisted_servers_warning(&findings, &usage));
    }
    warnings.extend(unfiltered_ports_warning(usage.unfiltered_ports()));
    warnings.extend(address_group_warnings(inventory, &by_address_group));
    AuditReport {
        meta: inventory.meta.clone(),
        checked_rules: inventory.rules.len(),
        findings,
        errors: inventory.errors.clone(),
        warnings,
        scope_names: scope_names(inventory),
        shared_project_names: shared_project_names(inventory),
    }
}

/// The names of the projects an audit by a project's token was scoped to.
fn scope_names(inventory: &Inventory) -> Vec<String> {
    let (Some(scope), Some(projects)) = (&inventory.meta.project_scope, &inventory.projects) else {
        return Vec::new();
    };
    (projects.iter())
        .filter(|p| scope.iter().any(|id| *id == *p.id.as_str()))
        .filter_map(|p| p.name.clone())
        .collect()
}

/// The project names Keystone gave to more than one project, with their ids.
fn shared_project_names(inventory: &Inventory) -> Vec<(String, Vec<String>)> {
    let mut by_name: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for p in inventory
        .projects
        .iter()
        .flat_map(|projects| projects.iter())
    {
        if let Some(name) = &p.name {
            by_name.entry(name).or_default().push(p.id.to_string());
        }
    }
    (by_name.into_iter())
        .map(|(name, mut ids)| {
            ids.sort_unstable();
            ids.dedup();
            (name.to_owned(), ids)
        })
        .filter(|(_, ids)| ids.len() > 1)
        .collect()
}

/// A warning when servers that use exposed groups (the `device_id`s of their ports) are not
/// in Nova's listing: the findings show only their ids. A server deleted after its ports
/// were read is gone; Nova leaves the servers of a cell that does not respond out of a
/// paginated listing without an error (collection reports such a cell when Nova's
/// `os-services` shows it, see `collect::openstack`). Only servers whose name, status and
/// project are all unknown are looked up (a listed server has at least one of them, but
/// for a record empty of all three).
fn unlisted_servers_warning(findings: &[Finding], usage: &UsageIndex) -> Option<String> {
    let mut unlisted: Vec<&Id> = findings
        .iter()
        .flat_map(|f| &f.used_by_servers)
        .filter(|s| s.server_name.is_none() && s.status.is_none() && s.project_id.is_none())
        .map(|s| &s.server_id)
        .filter(|id| !usage.lists_server(id))
        .collect();
    unlisted.sort_unstable();
    unlisted.dedup();
    let first = unlisted.first()?;
    let more = and_more(unlisted.len());
    let one = unlisted.len() == 1;
    Some(format!(
        "{n} server{s} using exposed groups {are} not in Nova's listing ({first}{more}): \
         {their} name and status are unknown (deleted after {their} ports were read, or in a \
         Nova cell that does not respond)",
        n = unlisted.len(),
        s = if one { "" } else { "s" },
        are = if one { "is" } else { "are" },
        their = if one { "its" } else { "their" },
    ))
}

/// A warning when servers' ports have port security disabled: Neutron filters none of their
/// traffic (they hold no security group), so no rule of this audit says what they expose.
fn unfiltered_ports_warning(ports: &[&Port]) -> Option<String> {
    let first = ports.first()?;
    let server = first
        .server()
        .map(|s| format!(" of server {s}"))
        .unwrap_or_default();
    let more = and_more(ports.len());
    let one = ports.len() == 1;
    Some(format!(
        "{n} server port{s} {have} port security disabled ({first}{server}{more}): no \
         security group filters {their} traffic, so every port of {their} addresses is open to \
         whatever reaches {them}",
        n = ports.len(),
        first = first.id,
        s = if one { "" } else { "s" },
        have = if one { "has" } else { "have" },
        their = if one { "its" } else { "their" },
        them = if one { "it" } else { "them" },
    ))
}

/// Warnings about the ingress rules that open critical ports to a remote address group
/// (`rules`, found by detection). A remote address group is never a public source (the
/// detection's definition, README *What is reported*), so they are not findings; yet an
/// address group of `0.0.0.0/0` opens those ports to everyone all the same. One warning
/// names the rules whose address group holds a public prefix of their ethertype; another
/// those whose address group Neutron did not list (what it holds is unknown: deleted while
/// the listings were read, or not visible to this token). Nothing when address groups were
/// not collected (a listing that failed is a collection error of its own).
fn address_group_warnings(inventory: &Inventory, rules: &[&Rule]) -> Vec<String> {
    let (Some(listed), false) = (&inventory.address_groups, rules.is_empty()) else {
        return Vec::new();
    };
    let public_in = |group: &AddressGroup, family: EtherType| -> Option<ipnet::IpNet> {
        let v4 = family == EtherType::IPv4;
        let of_family = |net: &&ipnet::IpNet| matches!(net, ipnet::IpNet::V4(_)) == v4;
        (group.addresses.iter())
            .filter(of_family)
            .find(|net| detect::is_public(net))
            .copied()
    };
    let groups: HashMap<&Id, &AddressGroup> = listed.iter().map(|g| (&g.id, g)).collect();
    let (mut public, mut unlisted) = (Vec::new(), Vec::new());
    for &rule in rules {
        let Remote::AddressGroup(id) = &rule.remote else {
            continue;
        };
        match groups.get(id) {
            Some(group) => {
                if let Some(source) = public_in(group, rule.ethertype) {
                    public.push((rule, *group, source));
                }
            }
            None => unlisted.push((rule, id)),
        }
    }
    let s = |n: usize| if n == 1 { "" } else { "s" };
    let verb = |n: usize| if n == 1 { "s" } else { "" };
    let mut warnings = Vec::new();
    if let Some((rule, group, source)) = public.first() {
        let n = public.len();
        let name = group.name.as_deref().unwrap_or("");
        warnings.push(format!(
            "{n} ingress rule{} opening critical ports name{} an address group holding a \
             public source (rule {} of security group {}: address group {name:?} ({}) holds \
             {source}{}): not reported as findings, as a remote address group is never taken \
             for a public source; check those address groups",
            s(n),
            verb(n),
            rule.id,
            rule.security_group_id,
            group.id,
            and_more(n),
        ));
    }
    if let Some((rule, id)) = unlisted.first() {
        let n = unlisted.len();
        warnings.push(format!(
            "{n} ingress rule{} opening critical ports name{} an address group that Neutron \
             did not list (rule {} of security group {}: address group {id}{}): what it \
             holds, and so whether it opens those ports to the internet, is unknown",
            s(n),
            verb(n),
            rule.id,
            rule.security_group_id,
            and_more(n),
        ));
    }
    warnings
}

/// `" and N more"` after the first of `n` things named (nothing when it is the only one).
fn and_more(n: usize) -> String {
    match n {
        0 | 1 => String::new(),
        n => format!(" and {} more", n - 1),
    }
}

/// The rules that expose something, in order: on every core when they are many, each
/// thread on a contiguous share of the rules' chunks.
fn detect_all<'a>(rules: &'a Objects<Rule>, policy: &Policy) -> Detected<'a> {
    if rules.len() < PARALLEL_MIN {
        return candidates(rules.chunks(), policy);
    }
    let mut all = Detected::default();
    // Moved, not cloned as `concat` would.
    for share in parallel::map_shares(rules.chunks(), 1, |_, share| candidates(share, policy)) {
        all.candidates.extend(share.candidates);
        all.by_address_group.extend(share.by_address_group);
    }
    all
}

/// What detection finds in the rules, in order.
#[derive(Default)]
struct Detected<'a> {
    /// The rules that expose something, before enrichment.
    candidates: Vec<Candidate<'a>>,
    /// The ingress rules that open critical ports to a remote address group: never
    /// findings (see `address_group_warnings`).
    by_address_group: Vec<&'a Rule>,
}

/// What detection finds in the rules of `chunks`.
fn candidates<'a>(chunks: &'a [Vec<Rule>], policy: &Policy) -> Detected<'a> {
    let mut detected = Detected::default();
    for rule in chunks.iter().flatten() {
        if rule.direction != Direction::Ingress {
            continue;
        }
        let Some(source) = detect::public_source(rule) else {
            if matches!(rule.remote, Remote::AddressGroup(_))
                && detect::exposed_ports(rule)
                    .is_some_and(|p| detect::classify(policy, p).is_some())
            {
                detected.by_address_group.push(rule);
            }
            continue;
        };
        let Some(ports) = detect::exposed_ports(rule) else {
            continue;
        };
        let Some((kind, matched)) = detect::classify(policy, ports) else {
            continue;
        };
        detected.candidates.push(Candidate {
            rule,
            source,
            ports,
            kind,
            matched,
        });
    }
    detected
}

/// The findings in report order (`Finding::sort_key`; equal keys keep their order).
///
/// Findings are not compared where they are: each comparison would follow both findings'
/// strings through memory (35,783 findings: ~38 ms, most of it waiting for memory, against
/// ~12 ms this way).
/// Each gets a small key, sorted once: its project's rank (the distinct projects, few,
/// ranked by name and id), its severity, the first 16 bytes of its group's name (the
/// whole name is compared only when those are equal), ports, source, rule id, and its
/// position, so that an unstable sort keeps equal keys in order. Then each finding is
/// moved once (a finding is some 400 bytes; a stable sort moves each about log2(n) times).
fn sorted(findings: Vec<Finding>) -> Vec<Finding> {
    fn project(f: &Finding) -> (&str, &str) {
        (f.project_display(), f.project_id.as_str())
    }
    struct Key<'a> {
        project: u32,
        severity: Reverse<Severity>,
        group_head: u128,
        group: &'a str,
        ports: (u16, u16),
        source: ipnet::IpNet,
        rule: &'a Id,
        at: usize,
    }
    let rank: HashMap<(&str, &str), u32> = {
        let distinct: HashSet<(&str, &str)> = findings.iter().map(project).collect();
        let mut projects: Vec<(&str, &str)> = distinct.into_iter().collect();
        projects.sort_unstable();
        (0u32..).zip(projects).map(|(i, p)| (p, i)).collect()
    };
    let mut keys: Vec<Key> = findings
        .iter()
        .enumerate()
        .map(|(at, f)| Key {
            project: rank[&project(f)],
            severity: Reverse(f.severity),
            group_head: head(f.group_display()),
            group: f.group_display(),
            ports: f.ports.sort_key(),
            source: f.source,
            rule: &f.rule.id,
            at,
        })
        .collect();
    keys.sort_unstable_by(|a, b| {
        (a.project, a.severity, a.group_head)
            .cmp(&(b.project, b.severity, b.group_head))
            .then_with(|| a.group.cmp(b.group))
            .then_with(|| (a.ports, a.source, a.rule, a.at).cmp(&(b.ports, b.source, b.rule, b.at)))
    });
    let order: Vec<usize> = keys.into_iter().map(|k| k.at).collect();
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| {
            slots[i]
                .take()
                .expect("a permutation takes each finding once")
        })
        .collect()
}

/// The first 16 bytes of `text`, zero-padded, as a number: two texts whose heads differ
/// compare as their heads do (equal heads say nothing: compare the texts).
fn head(text: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = text.len().min(16);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::snapshot;
    use crate::finding::{ExposureStatus, Severity};

    fn audit(json: serde_json::Value) -> AuditReport {
        let raw = snapshot::parse(json.to_string().as_bytes()).unwrap();
        audit_raw(raw)
    }

    fn audit_raw(raw: crate::inventory::RawInventory) -> AuditReport {
        run(&Inventory::from_raw(raw).unwrap(), &Policy::default())
    }

    fn ssh_rule(id: &str, group: &str) -> serde_json::Value {
        serde_json::json!({"id": id, "security_group_id": group, "project_id": "p-admin",
            "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
            "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"})
    }

    /// Detection on every core finds what one pass finds, in the same order.
    #[test]
    fn detection_on_every_core_keeps_the_rules_order() {
        let rules: Vec<serde_json::Value> = (0..3 * PARALLEL_MIN)
            .map(|i| {
                let mut rule = ssh_rule(&format!("r-{i:05}"), &format!("g-{}", i % 7));
                if i % 3 == 0 {
                    rule["remote_ip_prefix"] = "10.0.0.0/8".into();
                }
                if i % 1000 == 1 {
                    rule["remote_ip_prefix"] = serde_json::Value::Null;
                    rule["remote_address_group_id"] = "ag".into();
                }
                rule
            })
            .collect();
        let raw = snapshot::parse(
            serde_json::json!({ "security_group_rules": rules })
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        let all = Inventory::from_raw(raw).unwrap().rules;
        let list: Vec<Rule> = all.iter().cloned().collect();
        // Chunks of uneven sizes, as pages and snapshot runs are.
        let mut chunks = Vec::new();
        let mut rest = &list[..];
        for size in [1, 1000, 7, 2500, 333].into_iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            chunks.push(chunk.to_vec());
            rest = tail;
        }
        let rules = Objects::from_chunks(chunks);
        let policy = Policy::default();
        let ids =
            |d: Detected| (d.candidates.iter().map(|c| c.rule.id.to_string())).collect::<Vec<_>>();
        let by_address_group = |d: &Detected| {
            (d.by_address_group.iter().map(|r| r.id.to_string())).collect::<Vec<_>>()
        };
        let (parallel, serial) = (
            detect_all(&rules, &policy),
            candidates(rules.chunks(), &policy),
        );
        assert_eq!(by_address_group(&parallel), by_address_group(&serial));
        let count = |keep: fn(usize) -> bool| (0..3 * PARALLEL_MIN).filter(|&i| keep(i)).count();
        assert_eq!(parallel.by_address_group.len(), count(|i| i % 1000 == 1));
        let (parallel, serial) = (ids(parallel), ids(serial));
        assert_eq!(parallel.len(), count(|i| i % 3 != 0 && i % 1000 != 1));
        assert_eq!(parallel, serial);
        assert!(parallel.windows(2).all(|w| w[0] < w[1]), "in rule order");
    }

    /// Sorting through a permutation gives the stable sort's order, ties included.
    #[test]
    fn findings_are_sorted_as_a_stable_sort_sorts_them() {
        let sample = crate::report::sample::report().findings;
        assert!(sample.len() > 3);
        let mut findings = Vec::new();
        // Every finding twice (equal keys: their order must stay), in a scrambled order.
        for (k, f) in sample.iter().chain(&sample).enumerate() {
            let mut f = f.clone();
            f.fingerprint = crate::finding::Fingerprint(format!("copy {k}"));
            findings.push(f);
        }
        // Names that the first 16 bytes do not tell apart, or tell apart only by padding;
        // projects that share a name; unnamed groups and projects (shown by id).
        let groups = [
            Some("a-very-long-group-name-1"),
            Some("a-very-long-group-name-0"),
            Some("a-very-long-group-name"),
            Some("a-very-long-grou"),
            Some("ab"),
            Some("ab\0"),
            Some("ab\0\0"),
            None,
        ];
        let projects = [
            (Some("shared"), "p-2"),
            (Some("shared"), "p-1"),
            (None, "p-0"),
        ];
        for (k, f) in sample.iter().enumerate() {
            for (g, group) in groups.iter().enumerate() {
                let mut f = f.clone();
                f.security_group_name = group.map(str::to_owned);
                f.security_group_id = format!("g-{}", (k + g) % 3);
                let (name, id) = projects[(k + g) % projects.len()];
                f.project_name = name.map(str::to_owned);
                f.project_id = id.to_owned();
                f.fingerprint = crate::finding::Fingerprint(format!("variant {k} {g}"));
                findings.push(f);
            }
        }
        findings.reverse();
        findings.rotate_left(3);
        let mut expected = findings.clone();
        expected.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        assert_eq!(sorted(findings), expected);
    }

    /// Servers of exposed groups that Nova did not list (a down cell, or deleted) are named
    /// in one warning; servers Nova listed, even partial or empty records, are not; nor is
    /// anything when servers were not collected (that is an error of its own).
    #[test]
    fn servers_missing_from_novas_listing_are_a_warning() {
        let port = |id: &str, group: &str, server: &str| {
            serde_json::json!({"id": id, "security_groups": [group], "device_id": server,
                "device_owner": "compute:nova"})
        };
        let cloud = |servers: Option<serde_json::Value>| {
            let mut cloud = serde_json::json!({
                "security_group_rules": [ssh_rule("r1", "g1"), ssh_rule("r2", "g2")],
                "ports": [port("p1", "g1", "s-gone-b"), port("p2", "g1", "s-listed"),
                    port("p3", "g2", "s-gone-a"), port("p4", "g2", "s-gone-b"),
                    port("p5", "g2", "s-partial"), port("p6", "g2", "s-empty"),
                    // Not in an exposed group: not named.
                    port("p7", "g3", "s-gone-c")],
            });
            if let Some(servers) = servers {
                cloud["servers"] = servers;
            }
            audit(cloud)
        };
        let r = cloud(Some(serde_json::json!([
            {"id": "s-listed", "name": "vm", "status": "ACTIVE", "tenant_id": "p"},
            {"id": "s-partial", "status": "UNKNOWN", "tenant_id": "p"},
            {"id": "s-empty"},
        ])));
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(
            r.warnings[0].starts_with(
                "2 servers using exposed groups are not in Nova's listing (s-gone-a and 1 more): \
                 their name and status are unknown ("
            ),
            "{}",
            r.warnings[0]
        );
        assert!(r.is_complete());
        let r = cloud(Some(serde_json::json!([
            {"id": "s-gone-a", "name": "a"},
            {"id": "s-listed", "name": "vm"},
            {"id": "s-partial", "status": "UNKNOWN"},
            {"id": "s-empty"},
        ])));
        assert!(
            r.warnings[0].starts_with(
                "1 server using exposed groups is not in Nova's listing (s-gone-b): its name"
            ),
            "{}",
            r.warnings[0]
        );
        assert_eq!(cloud(None).warnings, Vec::<String>::new());
    }

    /// Servers' ports with port security disabled are named in one warning, with or without
    /// findings; other owners' ports (routers, DHCP) and ports with port security are not.
    #[test]
    fn servers_ports_without_port_security_are_a_warning() {
        let port = |id: &str, owner: &str, security: Option<bool>| {
            let mut port = serde_json::json!({"id": id, "security_groups": [],
                "device_id": format!("s-{id}"), "device_owner": owner});
            if let Some(security) = security {
                port["port_security_enabled"] = security.into();
            }
            port
        };
        let ports = |ports: Vec<serde_json::Value>| {
            // (One rule: with none, the audit says so too.)
            let rules = serde_json::json!([{"id": "r", "security_group_id": "g",
                "direction": "egress", "ethertype": "IPv4"}]);
            audit(serde_json::json!({"security_group_rules": rules, "ports": ports})).warnings
        };
        let warnings = ports(vec![
            port("p-router", "network:router_gateway", Some(false)),
            port("p-vm", "compute:nova", Some(true)),
            port("p-unset", "compute:nova", None),
            port("p-open-1", "compute:az1", Some(false)),
            port("p-open-2", "compute:nova", Some(false)),
        ]);
        assert_eq!(
            warnings,
            [
                "2 server ports have port security disabled (p-open-1 of server s-p-open-1 and 1 \
              more): no security group filters their traffic, so every port of their addresses \
              is open to whatever reaches them"
            ]
        );
        let warnings = ports(vec![port("p-open", "compute:nova", Some(false))]);
        assert!(
            warnings[0].starts_with("1 server port has port security disabled (p-open of server s-p-open): no security group filters its traffic"),
            "{warnings:?}"
        );
        assert!(ports(vec![port("p-router", "network:dhcp", Some(false))]).is_empty());
    }

    #[test]
    fn finding_belongs_to_the_groups_project_and_counts_all_rules() {
        let r = audit(serde_json::json!({
            "projects": [{"id": "p-t", "name": "tenant"}, {"id": "p-admin", "name": "admin"}],
            "security_groups": [{"id": "g", "name": "bastion", "project_id": "p-t"}],
            "security_group_rules": [ssh_rule("r1", "g"),
                {"id": "e", "security_group_id": "g", "direction": "egress"}],
            "ports": []
        }));
        assert_eq!(r.checked_rules, 2);
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!(
            (f.project_id.as_str(), f.project_name.as_deref()),
            ("p-t", Some("tenant"))
        );
        assert_eq!(f.rule.project_id, Some("p-admin".into()));
        assert_eq!(f.group_display(), "bastion");
    }

    #[test]
    fn unknown_group_falls_back_to_the_rules_project_and_the_group_id() {
        let r = audit(
            serde_json::json!({"security_group_rules": [ssh_rule("r1", "g-x")], "ports": []}),
        );
        let f = &r.findings[0];
        assert_eq!(f.project_id, "p-admin");
        assert_eq!(f.project_display(), "p-admin");
        assert_eq!(f.group_display(), "g-x");
    }

    #[test]
    fn usage_enrichment() {
        let r = audit(serde_json::json!({
            "security_groups": [{"id": "g-vm", "name": "a", "project_id": "p"},
                                {"id": "g-dhcp", "name": "b", "project_id": "p"},
                                {"id": "g-none", "name": "c", "project_id": "p"}],
            "security_group_rules": [ssh_rule("r-vm", "g-vm"), ssh_rule("r-dhcp", "g-dhcp"), ssh_rule("r-none", "g-none")],
            // Out of id order, and a group listed twice: ports and servers come out sorted,
            // each once.
            "ports": [
                {"id": "p3", "device_id": "vm-2", "device_owner": "compute:az-2", "security_groups": ["g-vm"]},
                {"id": "p1", "device_id": "vm-1", "device_owner": "compute:nova", "security_groups": ["g-vm"]},
                {"id": "p2", "device_id": "vm-1", "device_owner": "compute:nova", "security_groups": ["g-vm", "g-vm"]},
                {"id": "p4", "device_id": "", "device_owner": "compute:nova", "security_groups": ["g-vm"]},
                {"id": "p5", "device_id": "dhcp-1", "device_owner": "network:dhcp", "security_groups": ["g-dhcp"]},
                {"id": "p6", "device_id": "r-1", "device_owner": "network:router_interface", "security_groups": null}
            ],
            "servers": [{"id": "vm-1", "name": "web-1", "status": "ACTIVE", "tenant_id": "p"},
                        {"id": "vm-2", "status": "UNKNOWN"}]
        }));
        let by_rule = |id: &str| r.findings.iter().find(|f| f.rule.id == id).unwrap();
        let vm = by_rule("r-vm");
        assert_eq!(vm.status, ExposureStatus::Active);
        assert_eq!(vm.severity, Severity::High);
        assert_eq!(vm.used_by_ports, vec!["p1", "p2", "p3", "p4"]);
        assert_eq!(
            vm.used_by_servers.len(),
            2,
            "distinct non-empty device ids of compute ports"
        );
        assert_eq!(vm.used_by_servers[0].server_name.as_deref(), Some("web-1"));
        assert_eq!(vm.used_by_servers[0].project_id, Some("p".into()));
        assert_eq!(
            vm.used_by_servers[1].server_name, None,
            "partial (down cell) record"
        );
        assert_eq!(vm.used_by_servers[1].status.as_deref(), Some("UNKNOWN"));
        let dhcp = by_rule("r-dhcp");
        assert_eq!(dhcp.status, ExposureStatus::Active);
        assert_eq!(
            (dhcp.used_by_ports.len(), dhcp.used_by_servers.len()),
            (1, 0)
        );
        let none = by_rule("r-none");
        assert_eq!(none.status, ExposureStatus::Unused);
        assert_eq!(none.severity, Severity::Medium);
    }

    #[test]
    fn reachability_from_floating_ips_external_networks_and_global_ipv6() {
        let rule6 = |id: &str, g: &str| {
            let mut r = ssh_rule(id, g);
            r["ethertype"] = "IPv6".into();
            r["remote_ip_prefix"] = "::/0".into();
            r
        };
        let snap = serde_json::json!({
            "security_group_rules": [ssh_rule("v4-fip", "g-fip"), ssh_rule("v4-ext", "g-ext"), ssh_rule("v4-none", "g-private"),
                                     rule6("v6-global", "g-private"), rule6("v6-ula", "g-ula"), ssh_rule("unused", "g-unused")],
            "ports": [
                {"id": "p-fip", "security_groups": ["g-fip"], "network_id": "n-priv", "fixed_ips": [{"ip_address": "10.0.0.5"}]},
                {"id": "p-ext", "security_groups": ["g-ext"], "network_id": "n-pub", "fixed_ips": [{"ip_address": "198.51.100.7"}]},
                {"id": "p-priv", "security_groups": ["g-private"], "network_id": "n-priv", "fixed_ips": [{"ip_address": "10.0.0.6"}, {"ip_address": "2001:db8::6"}]},
                {"id": "p-ula", "security_groups": ["g-ula"], "network_id": "n-priv", "fixed_ips": [{"ip_address": "fd00::6"}]}
            ],
            "floatingips": [{"id": "f1", "floating_ip_address": "203.0.113.9", "port_id": "p-fip"},
                            {"id": "f2", "floating_ip_address": "203.0.113.10", "port_id": null}],
            "networks": [{"id": "n-pub", "router:external": true}]
        });
        let r = audit(snap.clone());
        let reach = |id: &str| {
            let f = r.findings.iter().find(|f| f.rule.id == id).unwrap();
            (
                f.reachable,
                f.floating_ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )
        };
        use crate::finding::Reachability::*;
        assert_eq!(reach("v4-fip"), (Reachable, vec!["203.0.113.9".to_owned()]));
        assert_eq!(reach("v4-ext").0, Reachable);
        assert_eq!(
            reach("v4-none").0,
            NotReachable,
            "IPv4 rule, private port, no floating IP"
        );
        assert_eq!(
            reach("v6-global").0,
            Reachable,
            "same port has a global IPv6 address"
        );
        assert_eq!(reach("v6-ula").0, NotReachable);
        assert_eq!(reach("unused").0, NotReachable);
        // Without floating IPs or networks collected, an IPv4 exposure on a port is unknown.
        let mut partial = snap;
        partial.as_object_mut().unwrap().remove("floatingips");
        let r = audit(partial);
        let f = r.findings.iter().find(|f| f.rule.id == "v4-none").unwrap();
        assert_eq!(f.reachable, Unknown);
        let f = r.findings.iter().find(|f| f.rule.id == "unused").unwrap();
        assert_eq!(f.reachable, NotReachable);
    }

    #[test]
    fn servers_not_collected_still_counts_servers_from_ports() {
        let r = audit(serde_json::json!({
            "security_group_rules": [ssh_rule("r", "g")],
            "ports": [{"id": "p1", "device_id": "vm-1", "device_owner": "compute:nova", "security_groups": ["g"]}]
        }));
        let f = &r.findings[0];
        assert_eq!(f.used_by_servers.len(), 1);
        assert_eq!(f.used_by_servers[0].server_id, "vm-1");
        assert_eq!(f.used_by_servers[0].server_name, None);
    }

    /// No rules read, and none failed: an empty cloud and a token that may see nothing
    /// look the same, so the audit says so (not when the rules' listing failed: that is a
    /// collection error of its own).
    #[test]
    fn no_rules_read_is_a_warning() {
        let warned = |r: &AuditReport| {
            r.warnings
                .iter()
                .any(|w| w.starts_with("no security group rules were read"))
        };
        assert!(warned(&audit(
            serde_json::json!({"security_group_rules": []})
        )));
        let one = serde_json::json!([{"id": "r", "security_group_id": "g", "direction": "egress", "ethertype": "IPv4"}]);
        assert!(!warned(&audit(
            serde_json::json!({"security_group_rules": one})
        )));
        let failed = serde_json::json!({"security_group_rules": [],
            "errors": [{"resource": "security_group_rules", "message": "HTTP 500"}]});
        assert!(!warned(&audit(failed)));
    }

    #[test]
    fn an_address_group_holding_a_public_source_is_a_warning_not_a_finding() {
        let named = |id: &str, group: &str, ethertype: &str, ports: (u16, u16)| {
            serde_json::json!({"id": id, "security_group_id": "g", "direction": "ingress",
                "ethertype": ethertype, "protocol": "tcp", "port_range_min": ports.0,
                "port_range_max": ports.1, "remote_address_group_id": group})
        };
        let groups = serde_json::json!([
            {"id": "anywhere", "name": "anywhere", "addresses": ["10.0.0.0/8", "0.0.0.0/0"]},
            {"id": "office", "name": "office", "addresses": ["203.0.113.0/24", "2000::/3"]},
        ]);
        let run = |rules: serde_json::Value| {
            audit(
                serde_json::json!({"security_group_rules": rules, "ports": [], "address_groups": groups}),
            )
        };
        let r = run(serde_json::json!([
            named("ssh", "anywhere", "IPv4", (22, 22)),
            named("web", "anywhere", "IPv4", (443, 443)),
            named("v6-of-v4-group", "anywhere", "IPv6", (22, 22)),
            named("v4-of-v6-group", "office", "IPv4", (22, 22)),
            named("v6", "office", "IPv6", (3389, 3389)),
        ]));
        assert!(r.findings.is_empty());
        let warning = r
            .warnings
            .iter()
            .find(|w| w.contains("address group"))
            .unwrap();
        assert!(
            warning.starts_with(
                "2 ingress rules opening critical ports name an address group holding a \
                 public source (rule ssh of security group g: address group \"anywhere\" \
                 (anywhere) holds 0.0.0.0/0 and 1 more)"
            ),
            "{warning}"
        );
        // Web ports only, a source of the other family, or no public source: nothing.
        let r = run(serde_json::json!([
            named("web", "anywhere", "IPv4", (443, 443)),
            named("v4-of-v6-group", "office", "IPv4", (22, 22)),
            named("web-of-unlisted", "gone", "IPv4", (80, 80)),
        ]));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        // An address group that Neutron did not list: what it holds is unknown.
        let r = run(serde_json::json!([
            named("ssh-of-unlisted", "gone", "IPv4", (22, 22)),
            named("ssh", "anywhere", "IPv4", (22, 22)),
        ]));
        assert!(r.findings.is_empty());
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0]
            .starts_with("1 ingress rule opening critical ports names an address group holding"));
        assert_eq!(
            r.warnings[1],
            "1 ingress rule opening critical ports names an address group that Neutron did \
             not list (rule ssh-of-unlisted of security group g: address group gone): what it \
             holds, and so whether it opens those ports to the internet, is unknown"
        );
        // Address groups not collected at all: nothing to say.
        let rule = named("ssh-of-unlisted", "gone", "IPv4", (22, 22));
        let r = audit(serde_json::json!({"security_group_rules": [rule], "ports": []}));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn severity_model() {
        let any = serde_json::json!({"id": "a", "security_group_id": "g", "direction": "ingress", "remote_ip_prefix": "0.0.0.0/0"});
        let attached = serde_json::json!([{"id": "p", "security_groups": ["g"]}]);
        let sev = |rule: &serde_json::Value, ports: &serde_json::Value| {
            audit(serde_json::json!({"security_group_rules": [rule], "ports": ports})).findings[0]
                .severity
        };
        assert_eq!(sev(&any, &attached), Severity::Critical);
        assert_eq!(sev(&any, &serde_json::json!([])), Severity::High);
        assert_eq!(sev(&ssh_rule("s", "g"), &attached), Severity::High);
        assert_eq!(
            sev(&ssh_rule("s", "g"), &serde_json::json!([])),
            Severity::Medium
        );
    }

    #[test]
    fn fingerprint_ignores_rule_id_but_not_what_is_exposed() {
        let fp = |rule: serde_json::Value| {
            audit(serde_json::json!({"security_group_rules": [rule], "ports": []})).findings[0]
                .fingerprint
                .clone()
        };
        let base = fp(ssh_rule("r1", "g"));
        assert_eq!(base, fp(ssh_rule("r2-recreated", "g")));
        let mut other = ssh_rule("r1", "g");
        other["port_range_max"] = 23.into();
        assert_ne!(base, fp(other));
        let mut other = ssh_rule("r1", "g");
        other["remote_ip_prefix"] = "0.0.0.0/1".into();
        assert_ne!(base, fp(other));
        // The same source written differently is the same exposure.
        let mut same = ssh_rule("r1", "g");
        same["remote_ip_prefix"] = serde_json::Value::Null;
        same["protocol"] = "6".into();
        assert_eq!(base, fp(same));
        assert_ne!(base, fp(ssh_rule("r1", "g-other")));
        assert_eq!(base.0.len(), 32);
    }

    #[test]
    fn one_finding_per_rule_and_nothing_for_non_public_or_egress() {
        let mut rules = vec![ssh_rule("public", "g")];
        for (id, patch) in [
            ("egress", serde_json::json!({"direction": "egress"})),
            (
                "private",
                serde_json::json!({"remote_ip_prefix": "10.0.0.0/8"}),
            ),
            ("remote-group", serde_json::json!({"remote_group_id": "g2"})),
            (
                "address-group",
                serde_json::json!({"remote_address_group_id": "ag"}),
            ),
            ("icmp", serde_json::json!({"protocol": "icmp"})),
            (
                "web",
                serde_json::json!({"port_range_min": 443, "port_range_max": 443}),
            ),
        ] {
            let mut r = ssh_rule(id, "g");
            for (k, v) in patch.as_object().unwrap() {
                r[k] = v.clone();
            }
            rules.push(r);
        }
        let r = audit(serde_json::json!({"security_group_rules": rules, "ports": []}));
        assert_eq!(r.checked_rules, 7);
        let ids: Vec<_> = r.findings.iter().map(|f| f.rule.id.to_string()).collect();
        assert_eq!(ids, vec!["public"]);
    }
}
