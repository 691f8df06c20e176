//! The inventory: the cloud as the audit sees it, validated and typed.
//!
//! Collection (a snapshot file or the live OpenStack API) produces raw API objects
//! (`collect::wire`); [`Inventory::from_raw`] checks them once (one object at a time, through
//! [`FromRaw`], which the parallel snapshot reader uses too) and turns loose strings into
//! enums (direction, ethertype, protocol, remote), so that nothing downstream parses text.
//! Ids are compact [`Id`]s; lists are [`Objects`], kept in the chunks they were read in.
//! A list that was not collected stays `None`: the audit must be able to tell "no servers"
//! from "servers unknown".

use std::fmt;
use std::net::IpAddr;

use compact_str::CompactString;
use ipnet::IpNet;
use smallvec::SmallVec;

use crate::collect::wire::{
    RawAddressGroup, RawFloatingIp, RawNetwork, RawPort, RawProject, RawRule, RawSecurityGroup,
    RawServer,
};
pub use crate::id::Id;

/// Everything collected from one cloud.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub meta: InventoryMeta,
    pub projects: Option<Objects<Project>>,
    pub security_groups: Option<Objects<SecurityGroup>>,
    pub rules: Objects<Rule>,
    pub ports: Option<Objects<Port>>,
    pub servers: Option<Objects<Server>>,
    pub floating_ips: Option<Objects<FloatingIp>>,
    pub networks: Option<Objects<Network>>,
    pub address_groups: Option<Objects<AddressGroup>>,
    /// What collection could not read. Any entry makes the audit incomplete.
    pub errors: Vec<CollectionError>,
    /// What live collection said of how the cloud answered (a Neutron listing read again,
    /// say): the audit's first warnings. Kept in snapshots, as the errors are.
    pub warnings: Vec<String>,
}

/// A list of inventory objects, kept in the chunks it was read in: moving a million objects
/// into one vector costs more than auditing them. Iterates in order.
#[derive(Debug, Clone)]
pub struct Objects<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Objects<T> {
    pub fn from_chunks(chunks: Vec<Vec<T>>) -> Objects<T> {
        let len = chunks.iter().map(Vec::len).sum();
        Objects { chunks, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// The chunks the objects arrived in (pages, or runs of a snapshot's elements), in order.
    pub fn chunks(&self) -> &[Vec<T>] {
        &self.chunks
    }
}

/// Equal when the objects are, however they are chunked.
impl<T: PartialEq> PartialEq for Objects<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for Objects<T> {}

impl<T> Default for Objects<T> {
    fn default() -> Self {
        Objects {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> From<Vec<T>> for Objects<T> {
    fn from(list: Vec<T>) -> Objects<T> {
        Objects::from_chunks(vec![list])
    }
}

impl<'a, T> IntoIterator for &'a Objects<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

/// A failure while collecting the inventory (an API call that failed for good, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionError {
    /// The resource that could not be read fully (`security_group_rules`, `servers`, ...).
    pub resource: String,
    /// The endpoint called, without credentials.
    pub endpoint: Option<String>,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    pub message: String,
    /// Whether the findings themselves depend on it (rules, groups, ports). Without the
    /// others (servers, projects, floating IPs) only the enrichment degrades, and
    /// `--allow-partial` lets the gate decide.
    pub required: bool,
}

/// Where and when the inventory was collected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryMeta {
    pub cloud: Option<String>,
    pub region: Option<String>,
    /// RFC 3339 timestamp, as recorded at collection time.
    pub collected_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: Id,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: Id,
    pub name: Option<String>,
    pub project_id: Option<Id>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EtherType {
    IPv4,
    IPv6,
}

impl EtherType {
    pub fn as_str(self) -> &'static str {
        match self {
            EtherType::IPv4 => "IPv4",
            EtherType::IPv6 => "IPv6",
        }
    }

    /// The prefix that admits every source of this family.
    pub fn any_source(self) -> IpNet {
        match self {
            EtherType::IPv4 => "0.0.0.0/0".parse().expect("valid literal"),
            EtherType::IPv6 => "::/0".parse().expect("valid literal"),
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IP protocol as Neutron accepts it: every protocol, or one IP protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// null, `any`, `0` (and `hopopt`, protocol 0): the rule admits every protocol.
    Any,
    Number(u8),
}

/// Neutron's protocol names (neutron-lib `IP_PROTOCOL_MAP`), by number.
const PROTOCOL_NAMES: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("dccp", 33),
    ("ipv6-encap", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ospf", 89),
    ("vrrp", 112),
    ("pgm", 113),
    ("sctp", 132),
    ("udplite", 136),
];

impl Protocol {
    /// Parses Neutron's `protocol` field: case-insensitive name, number string, or null.
    pub fn parse(raw: Option<&str>) -> Result<Protocol, String> {
        let Some(text) = raw.map(str::trim) else {
            return Ok(Protocol::Any);
        };
        if text.is_empty()
            || text.eq_ignore_ascii_case("any")
            || text.eq_ignore_ascii_case("hopopt")
        {
            return Ok(Protocol::Any);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u8>() {
                Ok(0) => Ok(Protocol::Any),
                Ok(n) => Ok(Protocol::Number(n)),
                Err(_) => Err(format!("protocol number {text:?} is out of range (0-255)")),
            };
        }
        PROTOCOL_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|&(_, n)| Protocol::Number(n))
            .ok_or_else(|| format!("unknown protocol {text:?}"))
    }

    /// Protocols whose rules carry a destination port range.
    pub fn is_port_based(self) -> bool {
        matches!(self, Protocol::Number(6 | 17 | 33 | 132 | 136))
    }

    /// The canonical name: `any`, a Neutron protocol name, or the number.
    pub fn name(self) -> String {
        match self {
            Protocol::Any => "any".to_owned(),
            Protocol::Number(n) => PROTOCOL_NAMES
                .iter()
                .find(|&&(_, num)| num == n)
                .map(|(name, _)| (*name).to_owned())
                .unwrap_or_else(|| n.to_string()),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Where a rule admits traffic from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// Members of another security group.
    Group(Id),
    /// Addresses of a Neutron address group.
    AddressGroup(Id),
    /// A CIDR, normalised (host bits masked).
    Prefix(IpNet),
    /// No remote at all: every source of the rule's ethertype.
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: Id,
    pub security_group_id: Id,
    /// The rule's own project, which may differ from its group's.
    pub project_id: Option<Id>,
    pub direction: Direction,
    pub ethertype: EtherType,
    pub protocol: Protocol,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote: Remote,
    /// `protocol` and `remote_ip_prefix` as the API returned them, for evidence strings.
    pub raw_protocol: Option<CompactString>,
    pub raw_remote_ip_prefix: Option<CompactString>,
}

/// What the audit and collection read of a port (its project, and its `device_id` and
/// `device_owner` as Neutron wrote them, stay in the raw object and the snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub id: Id,
    /// What the port belongs to (its `device_owner`).
    pub owner: Owner,
    /// Its `device_id` where the owner says what that is: a server's ([`Owner::Server`]) or
    /// a floating IP's ([`Owner::FloatingIp`], unless still `PENDING`); none otherwise.
    pub device_id: Option<Id>,
    /// Most ports have one group and one address: kept inline, no allocation.
    pub security_groups: SmallVec<[Id; 1]>,
    pub network_id: Option<Id>,
    pub fixed_ips: SmallVec<[IpAddr; 1]>,
    /// `port_security_enabled: false`: no security group filters the port (Neutron lets
    /// every packet through; such a port holds no groups).
    pub port_security_disabled: bool,
}

impl Port {
    /// The server the port is attached to: its `device_id` when a Nova server owns it
    /// (`device_owner` `compute:*`). Router, DHCP and unattached ports have none.
    pub fn server(&self) -> Option<&Id> {
        self.device_id
            .as_ref()
            .filter(|_| self.owner == Owner::Server)
    }

    /// The floating IP whose own port this is (see [`Owner::FloatingIp`]).
    pub fn floating_ip(&self) -> Option<&Id> {
        self.device_id
            .as_ref()
            .filter(|_| self.owner == Owner::FloatingIp)
    }
}

/// What a port belongs to, as far as the audit and collection tell owners apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A Nova server (`compute:*`).
    Server,
    /// A floating IP's own port on its external network (`network:floatingip`): Neutron
    /// makes one for every floating IP, and an admin lists them.
    FloatingIp,
    /// A router's gateway (`network:router_gateway`): always on an external network.
    RouterGateway,
    /// Anything else: router interfaces, DHCP, load balancers, unattached ports.
    Other,
}

impl Owner {
    fn of(device_owner: Option<&str>) -> Owner {
        match device_owner.unwrap_or_default() {
            owner if owner.starts_with("compute:") => Owner::Server,
            "network:floatingip" => Owner::FloatingIp,
            "network:router_gateway" => Owner::RouterGateway,
            _ => Owner::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub id: Id,
    pub name: Option<CompactString>,
    pub status: Option<CompactString>,
    pub project_id: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloatingIp {
    pub id: Id,
    pub address: Option<IpAddr>,
    pub port_id: Option<Id>,
    pub fixed_ip_address: Option<IpAddr>,
    /// The external network it belongs to (`floating_network_id`).
    pub network_id: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub id: Id,
    pub name: Option<String>,
    pub external: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressGroup {
    pub id: Id,
    pub name: Option<String>,
    pub addresses: Vec<IpNet>,
}

/// One invalid value in the raw inventory: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    /// A path such as `security_group_rules[3].remote_ip_prefix`.
    pub path: String,
    /// The id of the object holding the field, when it has one.
    pub object_id: Option<String>,
    pub message: String,
}

impl InvalidField {
    /// The same field of the object `offset` places further in its list:
    /// `rules[3].protocol` shifted by 10 is `rules[13].protocol`.
    pub fn shifted(mut self, offset: usize) -> InvalidField {
        let index = self.path.split_once('[').and_then(|(list, rest)| {
            let (digits, _) = rest.split_once(']')?;
            Some((list.len() + 1, digits.len(), digits.parse::<usize>().ok()?))
        });
        if let Some((at, len, index)) = index {
            self.path
                .replace_range(at..at + len, &(index + offset).to_string());
        }
        self
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.path)?;
        if let Some(id) = &self.object_id {
            write!(f, " (id {id})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The raw lists collected from one cloud, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawInventory {
    pub meta: InventoryMeta,
    pub projects: Option<Vec<RawProject>>,
    pub security_groups: Option<Vec<RawSecurityGroup>>,
    pub security_group_rules: Vec<RawRule>,
    pub ports: Option<Vec<RawPort>>,
    pub servers: Option<Vec<RawServer>>,
    pub floating_ips: Option<Vec<RawFloatingIp>>,
    pub networks: Option<Vec<RawNetwork>>,
    pub address_groups: Option<Vec<RawAddressGroup>>,
    pub errors: Vec<CollectionError>,
    /// What the collection said of how the cloud answered (see `Inventory::warnings`).
    pub warnings: Vec<String>,
}

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
