//! Validation: raw API objects (`collect::wire`) checked once, one object at a time, and
//! turned into the typed inventory's objects ([`FromRaw`], which the parallel snapshot
//! reader and live collection use too, page by page); every invalid value is kept with
//! its path, so one run shows all that needs fixing.

use std::net::IpAddr;

use ipnet::IpNet;
use smallvec::SmallVec;

use super::*;
use crate::collect::wire::{
    RawAddressGroup, RawFloatingIp, RawNetwork, RawPort, RawProject, RawRule, RawSecurityGroup,
    RawServer,
};

impl Inventory {
    /// Validates raw API objects and builds the typed inventory. Every invalid value is
    /// collected (not only the first), so one run shows all that needs fixing.
    pub fn from_raw(raw: RawInventory) -> Result<Inventory, Vec<InvalidField>> {
        fn all<T: FromRaw>(list: Vec<T::Raw>, problems: &mut Vec<InvalidField>) -> Objects<T> {
            T::from_raw_run(0, list, problems).into()
        }
        let mut problems = Vec::new();
        let rules = all(raw.security_group_rules, &mut problems);
        let ports = raw.ports.map(|l| all(l, &mut problems));
        let floating_ips = raw.floating_ips.map(|l| all(l, &mut problems));
        let address_groups = raw.address_groups.map(|l| all(l, &mut problems));
        let projects = raw.projects.map(|l| all(l, &mut problems));
        let security_groups = raw.security_groups.map(|l| all(l, &mut problems));
        let servers = raw.servers.map(|l| all(l, &mut problems));
        let networks = raw.networks.map(|l| all(l, &mut problems));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Inventory {
            meta: raw.meta,
            projects,
            security_groups,
            rules,
            ports,
            servers,
            floating_ips,
            networks,
            address_groups,
            errors: raw.errors,
            warnings: raw.warnings,
        })
    }
}

/// One typed inventory object built from its raw API object, the `index`-th of its list.
/// Invalid values are pushed to `problems` (with their path); `None` drops the object.
pub trait FromRaw: Sized {
    type Raw;
    fn from_raw(index: usize, raw: Self::Raw, problems: &mut Vec<InvalidField>) -> Option<Self>;

    /// A run of consecutive objects of one list, the first being the `first`-th: the valid
    /// ones, in order (a whole list, or one page of it, drained from a reused buffer).
    ///
    /// The result has room for exactly the run: collecting a `Vec` of raw objects in
    /// place would keep the raw objects' larger allocation (a third of it unused).
    fn from_raw_run<I>(first: usize, run: I, problems: &mut Vec<InvalidField>) -> Vec<Self>
    where
        I: IntoIterator<Item = Self::Raw>,
        I::IntoIter: ExactSizeIterator,
    {
        let run = run.into_iter();
        let mut out = Vec::with_capacity(run.len());
        out.extend(
            run.enumerate()
                .filter_map(|(k, raw)| Self::from_raw(first + k, raw, problems)),
        );
        out
    }
}

impl FromRaw for Rule {
    type Raw = RawRule;
    fn from_raw(index: usize, raw: RawRule, problems: &mut Vec<InvalidField>) -> Option<Rule> {
        convert_rule(index, raw).map_err(|p| problems.push(p)).ok()
    }
}

impl FromRaw for Port {
    type Raw = RawPort;
    fn from_raw(index: usize, raw: RawPort, problems: &mut Vec<InvalidField>) -> Option<Port> {
        Some(convert_port(index, raw, problems))
    }
}

impl FromRaw for FloatingIp {
    type Raw = RawFloatingIp;
    fn from_raw(i: usize, raw: RawFloatingIp, problems: &mut Vec<InvalidField>) -> Option<Self> {
        Some(convert_floating_ip(i, raw, problems))
    }
}

impl FromRaw for AddressGroup {
    type Raw = RawAddressGroup;
    fn from_raw(i: usize, raw: RawAddressGroup, problems: &mut Vec<InvalidField>) -> Option<Self> {
        Some(convert_address_group(i, raw, problems))
    }
}

impl FromRaw for Project {
    type Raw = RawProject;
    fn from_raw(_: usize, p: RawProject, _: &mut Vec<InvalidField>) -> Option<Project> {
        Some(Project {
            id: p.id,
            name: non_empty(p.name),
        })
    }
}

impl FromRaw for SecurityGroup {
    type Raw = RawSecurityGroup;
    fn from_raw(_: usize, g: RawSecurityGroup, _: &mut Vec<InvalidField>) -> Option<Self> {
        Some(SecurityGroup {
            id: g.id,
            name: non_empty(g.name),
            project_id: non_blank(g.project_id.or(g.tenant_id)),
        })
    }
}

impl FromRaw for Server {
    type Raw = RawServer;
    fn from_raw(_: usize, s: RawServer, _: &mut Vec<InvalidField>) -> Option<Server> {
        Some(Server {
            id: s.id,
            name: non_empty(s.name),
            status: non_empty(s.status),
            project_id: non_blank(s.tenant_id),
        })
    }
}

impl FromRaw for Network {
    type Raw = RawNetwork;
    fn from_raw(_: usize, n: RawNetwork, _: &mut Vec<InvalidField>) -> Option<Network> {
        Some(Network {
            id: n.id,
            name: non_empty(n.name),
            external: n.router_external.unwrap_or(false),
        })
    }
}

fn non_empty<T: std::ops::Deref<Target = str>>(value: Option<T>) -> Option<T> {
    value.filter(|v| !v.trim().is_empty())
}

fn non_blank(id: Option<Id>) -> Option<Id> {
    id.filter(|id| !id.is_blank())
}

fn convert_rule(index: usize, raw: RawRule) -> Result<Rule, InvalidField> {
    let invalid = |field: &str, message: String| InvalidField {
        path: format!("security_group_rules[{index}].{field}"),
        object_id: Some(raw.id.to_string()),
        message,
    };
    let direction = match raw.direction.as_deref() {
        Some(d) if d.eq_ignore_ascii_case("ingress") => Direction::Ingress,
        Some(d) if d.eq_ignore_ascii_case("egress") => Direction::Egress,
        Some(other) => {
            return Err(invalid(
                "direction",
                format!(
                    "expected \"ingress\" or \"egress\", found {:?}",
                    other.to_ascii_lowercase()
                ),
            ))
        }
        None => {
            return Err(invalid(
                "direction",
                "missing (expected \"ingress\" or \"egress\")".into(),
            ))
        }
    };
    let protocol = Protocol::parse(raw.protocol.as_deref()).map_err(|m| invalid("protocol", m))?;
    let port = |field: &str, value: Option<u32>| -> Result<Option<u16>, InvalidField> {
        value
            .map(|v| {
                u16::try_from(v)
                    .map_err(|_| invalid(field, format!("{v} is out of range (0-65535)")))
            })
            .transpose()
    };
    let port_range_min = port("port_range_min", raw.port_range_min)?;
    let port_range_max = port("port_range_max", raw.port_range_max)?;
    if protocol.is_port_based() {
        if let (Some(lo), Some(hi)) = (port_range_min, port_range_max) {
            if lo > hi {
                return Err(invalid(
                    "port_range_min",
                    format!("port_range_min {lo} is greater than port_range_max {hi}"),
                ));
            }
        }
    }
    let prefix = non_empty(raw.remote_ip_prefix.clone())
        .map(|text| parse_prefix(&text).map_err(|m| invalid("remote_ip_prefix", m)))
        .transpose()?;
    let ethertype = match raw.ethertype.as_deref() {
        Some(e) if e.eq_ignore_ascii_case("ipv4") => EtherType::IPv4,
        Some(e) if e.eq_ignore_ascii_case("ipv6") => EtherType::IPv6,
        // Neutron defaults to IPv4; a prefix, when present, decides the family.
        None => match prefix {
            Some(IpNet::V6(_)) => EtherType::IPv6,
            _ => EtherType::IPv4,
        },
        Some(_) => {
            return Err(invalid(
                "ethertype",
                format!(
                    "expected \"IPv4\" or \"IPv6\", found {:?}",
                    raw.ethertype.as_deref().unwrap_or_default()
                ),
            ))
        }
    };
    let remote = if let Some(group) = non_blank(raw.remote_group_id) {
        Remote::Group(group)
    } else if let Some(group) = non_blank(raw.remote_address_group_id) {
        Remote::AddressGroup(group)
    } else if let Some(prefix) = prefix {
        Remote::Prefix(prefix)
    } else {
        Remote::Any
    };
    if raw.security_group_id.is_blank() {
        return Err(invalid("security_group_id", "must not be empty".into()));
    }
    Ok(Rule {
        id: raw.id,
        security_group_id: raw.security_group_id,
        project_id: non_blank(raw.project_id.or(raw.tenant_id)),
        direction,
        ethertype,
        protocol,
        port_range_min,
        port_range_max,
        remote,
        raw_protocol: raw.protocol,
        raw_remote_ip_prefix: raw.remote_ip_prefix,
    })
}

/// Parses a CIDR (or a bare address, as Neutron accepts) and masks its host bits, so
/// `1.2.3.4/0` becomes `0.0.0.0/0` and `::0/0` becomes `::/0`.
pub fn parse_prefix(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{text:?} is not a valid IP prefix (CIDR)"))
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    text.trim().parse().ok()
}

fn convert_port(index: usize, raw: RawPort, problems: &mut Vec<InvalidField>) -> Port {
    let raw_fixed_ips = raw.fixed_ips.unwrap_or_default();
    let mut fixed_ips = SmallVec::with_capacity(raw_fixed_ips.len());
    for (j, fixed) in raw_fixed_ips.into_iter().enumerate() {
        let Some(text) = fixed.ip_address else {
            continue;
        };
        match parse_ip(&text) {
            Some(ip) => fixed_ips.push(ip),
            None => problems.push(InvalidField {
                path: format!("ports[{index}].fixed_ips[{j}].ip_address"),
                object_id: Some(raw.id.to_string()),
                message: format!("{text:?} is not a valid IP address"),
            }),
        }
    }
    let owner = Owner::of(raw.device_owner.as_deref());
    // Neutron makes a floating IP's port with `device_id` `PENDING`, then the floating IP,
    // then sets the port's `device_id` to it: a port still `PENDING` names no floating IP
    // (being made, or left behind by a making that failed).
    let names = |id: &Id| match owner {
        Owner::Server => true,
        Owner::FloatingIp => *id != *"PENDING",
        Owner::RouterGateway | Owner::Other => false,
    };
    Port {
        id: raw.id,
        owner,
        device_id: non_blank(raw.device_id).filter(names),
        security_groups: SmallVec::from_vec(raw.security_groups.unwrap_or_default()),
        network_id: non_blank(raw.network_id),
        fixed_ips,
        port_security_disabled: raw.port_security_enabled == Some(false),
    }
}

fn convert_floating_ip(
    index: usize,
    raw: RawFloatingIp,
    problems: &mut Vec<InvalidField>,
) -> FloatingIp {
    let mut ip = |field: &str, value: Option<CompactString>| {
        let text = non_empty(value)?;
        let parsed = parse_ip(&text);
        if parsed.is_none() {
            problems.push(InvalidField {
                path: format!("floatingips[{index}].{field}"),
                object_id: Some(raw.id.to_string()),
                message: format!("{text:?} is not a valid IP address"),
            });
        }
        parsed
    };
    let address = ip("floating_ip_address", raw.floating_ip_address.clone());
    let fixed_ip_address = ip("fixed_ip_address", raw.fixed_ip_address.clone());
    FloatingIp {
        id: raw.id,
        address,
        port_id: non_blank(raw.port_id),
        fixed_ip_address,
        network_id: non_blank(raw.floating_network_id),
    }
}

fn convert_address_group(
    index: usize,
    raw: RawAddressGroup,
    problems: &mut Vec<InvalidField>,
) -> AddressGroup {
    let mut addresses = Vec::new();
    for (j, text) in raw.addresses.unwrap_or_default().into_iter().enumerate() {
        match parse_prefix(&text) {
            Ok(net) => addresses.push(net),
            Err(message) => problems.push(InvalidField {
                path: format!("address_groups[{index}].addresses[{j}]"),
                object_id: Some(raw.id.to_string()),
                message,
            }),
        }
    }
    AddressGroup {
        id: raw.id,
        name: non_empty(raw.name),
        addresses,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_invalid_field_shifted_names_a_later_object_of_its_list() {
        let field = |path: &str| InvalidField {
            path: path.into(),
            object_id: Some("r".into()),
            message: "bad".into(),
        };
        let shifted = field("security_group_rules[3].remote_ip_prefix").shifted(97);
        assert_eq!(shifted, field("security_group_rules[100].remote_ip_prefix"));
        // Only the list's index: an index inside the object stays.
        assert_eq!(
            field("ports[9].fixed_ips[0].ip_address").shifted(1),
            field("ports[10].fixed_ips[0].ip_address")
        );
        assert_eq!(field("ports[0]").shifted(0), field("ports[0]"));
    }

    use super::*;

    #[test]
    fn a_port_keeps_the_device_id_of_a_server_or_a_floating_ip_only() {
        let port = |owner: &str| {
            let raw: RawPort = serde_json::from_value(serde_json::json!({
                "id": "p", "device_id": "d", "device_owner": owner}))
            .unwrap();
            convert_port(0, raw, &mut Vec::new())
        };
        let id = Id::from("d");
        let server = port("compute:nova");
        assert_eq!((server.owner, server.server()), (Owner::Server, Some(&id)));
        assert_eq!(server.floating_ip(), None);
        let fip = port("network:floatingip");
        assert_eq!(
            (fip.owner, fip.floating_ip()),
            (Owner::FloatingIp, Some(&id))
        );
        assert_eq!(fip.server(), None);
        // A floating IP's port before its floating IP is made names none.
        let raw: RawPort = serde_json::from_value(serde_json::json!({
            "id": "p", "device_id": "PENDING", "device_owner": "network:floatingip"}))
        .unwrap();
        let pending = convert_port(0, raw, &mut Vec::new());
        assert_eq!(
            (pending.owner, pending.floating_ip()),
            (Owner::FloatingIp, None)
        );
        for (owner, kind) in [
            ("network:router_gateway", Owner::RouterGateway),
            ("network:router_interface", Owner::Other),
            ("", Owner::Other),
        ] {
            let port = port(owner);
            assert_eq!((port.owner, &port.device_id), (kind, &None), "{owner}");
        }
    }

    fn raw_rule() -> RawRule {
        serde_json::from_value(serde_json::json!({
            "id": "r1", "security_group_id": "g1", "direction": "ingress",
            "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"
        }))
        .unwrap()
    }

    fn convert(f: impl FnOnce(&mut RawRule)) -> Result<Rule, InvalidField> {
        let mut raw = raw_rule();
        f(&mut raw);
        convert_rule(0, raw)
    }

    #[test]
    fn protocol_names_numbers_and_any() {
        assert_eq!(Protocol::parse(None), Ok(Protocol::Any));
        assert_eq!(Protocol::parse(Some("any")), Ok(Protocol::Any));
        assert_eq!(Protocol::parse(Some("ANY")), Ok(Protocol::Any));
        assert_eq!(Protocol::parse(Some("0")), Ok(Protocol::Any));
        assert_eq!(Protocol::parse(Some("TCP")), Ok(Protocol::Number(6)));
        assert_eq!(Protocol::parse(Some("6")), Ok(Protocol::Number(6)));
        assert_eq!(Protocol::parse(Some("udp")), Ok(Protocol::Number(17)));
        assert_eq!(Protocol::parse(Some("132")), Ok(Protocol::Number(132)));
        assert_eq!(Protocol::parse(Some("icmpv6")), Ok(Protocol::Number(58)));
        assert!(Protocol::parse(Some("256")).is_err());
        assert!(Protocol::parse(Some("carrier-pigeon")).is_err());
        assert_eq!(Protocol::Number(6).name(), "tcp");
        assert_eq!(Protocol::Number(58).name(), "ipv6-icmp");
        assert_eq!(Protocol::Number(200).name(), "200");
        for port_based in [
            "tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "33", "132", "136",
        ] {
            assert!(
                Protocol::parse(Some(port_based)).unwrap().is_port_based(),
                "{port_based}"
            );
        }
        for other in ["icmp", "ipv6-icmp", "47", "gre", "any"] {
            assert!(
                !Protocol::parse(Some(other)).unwrap().is_port_based(),
                "{other}"
            );
        }
    }

    #[test]
    fn prefixes_are_normalised() {
        assert_eq!(parse_prefix("1.2.3.4/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(parse_prefix("::0/0").unwrap().to_string(), "::/0");
        assert_eq!(
            parse_prefix("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_prefix("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert!(parse_prefix("10.0.0.0/33").is_err());
        assert!(parse_prefix("banana").is_err());
    }

    #[test]
    fn remote_group_wins_over_prefix_and_null_prefix_is_any() {
        let r = convert(|r| r.remote_group_id = Some("g2".into())).unwrap();
        assert_eq!(r.remote, Remote::Group("g2".into()));
        let r = convert(|r| r.remote_address_group_id = Some("ag".into())).unwrap();
        assert_eq!(r.remote, Remote::AddressGroup("ag".into()));
        let r = convert(|r| r.remote_ip_prefix = None).unwrap();
        assert_eq!(r.remote, Remote::Any);
        let r = convert(|r| r.remote_ip_prefix = Some("".into())).unwrap();
        assert_eq!(r.remote, Remote::Any);
    }

    #[test]
    fn ethertype_defaults_from_prefix_family() {
        let r = convert(|r| {
            r.ethertype = None;
            r.remote_ip_prefix = Some("::/0".into());
        })
        .unwrap();
        assert_eq!(r.ethertype, EtherType::IPv6);
        let r = convert(|r| r.ethertype = Some("ipv6".into())).unwrap();
        assert_eq!(r.ethertype, EtherType::IPv6);
    }

    /// Every problem is reported, in list order: rules first, then ports, then the rest
    /// (main shows the first ten).
    #[test]
    fn problems_come_in_list_order() {
        let mut rules = vec![raw_rule(); 3];
        rules[1].direction = Some("sideways".into());
        rules[2].protocol = Some("bogus".into());
        let port: RawPort = serde_json::from_value(serde_json::json!({
            "id": "p1", "fixed_ips": [{"ip_address": "10.0.0.300"}]
        }))
        .unwrap();
        let fip: RawFloatingIp = serde_json::from_value(serde_json::json!({
            "id": "f1", "floating_ip_address": "not-an-ip"
        }))
        .unwrap();
        let raw = RawInventory {
            security_group_rules: rules,
            ports: Some(vec![port]),
            floating_ips: Some(vec![fip]),
            ..RawInventory::default()
        };
        let paths: Vec<String> = Inventory::from_raw(raw)
            .unwrap_err()
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            [
                "security_group_rules[1].direction",
                "security_group_rules[2].protocol",
                "ports[0].fixed_ips[0].ip_address",
                "floatingips[0].floating_ip_address",
            ]
        );
    }

    #[test]
    fn invalid_rules_name_the_field() {
        let e = convert(|r| r.remote_ip_prefix = Some("300.0.0.0/8".into())).unwrap_err();
        assert_eq!(e.path, "security_group_rules[0].remote_ip_prefix");
        assert_eq!(e.object_id.as_deref(), Some("r1"));
        let e = convert(|r| r.port_range_max = Some(70000)).unwrap_err();
        assert_eq!(e.path, "security_group_rules[0].port_range_max");
        let e = convert(|r| r.port_range_min = Some(100)).unwrap_err();
        assert!(e.message.contains("greater than"), "{e}");
        let e = convert(|r| r.direction = Some("sideways".into())).unwrap_err();
        assert_eq!(e.path, "security_group_rules[0].direction");
        let e = convert(|r| r.direction = None).unwrap_err();
        assert!(e.message.contains("missing"));
        let e = convert(|r| r.ethertype = Some("IPX".into())).unwrap_err();
        assert_eq!(e.path, "security_group_rules[0].ethertype");
        let e = convert(|r| r.protocol = Some("bogus".into())).unwrap_err();
        assert_eq!(e.path, "security_group_rules[0].protocol");
    }

    #[test]
    fn icmp_type_and_code_are_not_a_port_range() {
        // ICMP type 8 code 0 is stored in the port fields; min > max is legal there.
        let r = convert(|r| {
            r.protocol = Some("icmp".into());
            r.port_range_min = Some(8);
            r.port_range_max = Some(0);
        });
        assert!(r.is_ok());
    }
}
