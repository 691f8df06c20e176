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
pub use from_raw::{parse_prefix, FromRaw};

mod from_raw;

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
    /// The projects the collecting token was scoped to, when it could not see every
    /// project's objects (a token that is not an admin's); `None`: every project. The
    /// gate does not count a baseline entry of another project as fixed (see
    /// `gate::evaluate`).
    pub project_scope: Option<Vec<String>>,
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

#[cfg(test)]
mod tests {
    use super::Objects;

    /// The snapshot reader's tests (and its differential fuzz target) compare inventories
    /// read in different chunks: equal means the same objects in the same order, however
    /// chunked, and nothing else.
    #[test]
    fn objects_are_equal_when_the_same_in_the_same_order_however_chunked() {
        let whole = Objects::from(vec![1, 2, 3]);
        assert_eq!(
            whole,
            Objects::from_chunks(vec![vec![1], vec![], vec![2, 3]])
        );
        assert_ne!(whole, Objects::from(vec![1, 2]));
        assert_ne!(whole, Objects::from(vec![1, 2, 3, 4]));
        assert_ne!(whole, Objects::from_chunks(vec![vec![1, 3], vec![2]]));
        assert_ne!(Objects::from(vec![1]), Objects::default());
    }
}
