//! Wire types: OpenStack API objects exactly as Keystone, Neutron and Nova return them.
//!
//! These structs keep only the fields driftmux needs and ignore every other field, so a
//! snapshot file can hold raw API objects and a live collection can deserialize API pages
//! straight into them. They carry no meaning of their own: `inventory` validates them and
//! turns them into the typed model the audit runs on. Optional fields may be missing or null.

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize};

use crate::id::Id;

/// A Neutron security group rule (`GET /v2.0/security-group-rules`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawRule {
    pub id: Id,
    pub security_group_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Id>,
    #[serde(default)]
    pub direction: Option<CompactString>,
    #[serde(default)]
    pub ethertype: Option<CompactString>,
    /// A name (`tcp`), a number string (`"6"`), or null for every protocol. Hand-made
    /// snapshots sometimes hold a JSON number: that is accepted too.
    #[serde(default, deserialize_with = "string_or_number")]
    pub protocol: Option<CompactString>,
    #[serde(default)]
    pub port_range_min: Option<u32>,
    #[serde(default)]
    pub port_range_max: Option<u32>,
    #[serde(default)]
    pub remote_ip_prefix: Option<CompactString>,
    #[serde(default)]
    pub remote_group_id: Option<Id>,
    #[serde(default)]
    pub remote_address_group_id: Option<Id>,
}

/// A Neutron security group (`GET /v2.0/security-groups`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawSecurityGroup {
    pub id: Id,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Id>,
}

/// One entry of a Neutron port's `fixed_ips`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawFixedIp {
    #[serde(default)]
    pub ip_address: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<Id>,
}

/// A Neutron port (`GET /v2.0/ports`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawPort {
    pub id: Id,
    #[serde(default)]
    pub device_id: Option<Id>,
    #[serde(default)]
    pub device_owner: Option<CompactString>,
    /// Ids of the security groups applied to the port (null is read as none).
    #[serde(default)]
    pub security_groups: Option<Vec<Id>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_security_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_ips: Option<Vec<RawFixedIp>>,
}

/// A Nova server (`GET /v2.1/servers/detail?all_tenants=1`). Servers in a down cell come
/// back partial (often only `id`, `status` and `tenant_id`), so everything but `id` is optional.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawServer {
    pub id: Id,
    #[serde(default)]
    pub name: Option<CompactString>,
    #[serde(default)]
    pub status: Option<CompactString>,
    #[serde(default)]
    pub tenant_id: Option<Id>,
}

/// A Keystone project (`GET /v3/projects`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawProject {
    pub id: Id,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<Id>,
}

/// A Neutron floating IP (`GET /v2.0/floatingips`); unassociated ones have null `port_id`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawFloatingIp {
    pub id: Id,
    #[serde(default)]
    pub floating_ip_address: Option<CompactString>,
    #[serde(default)]
    pub port_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_ip_address: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_network_id: Option<Id>,
}

/// A Neutron network (`GET /v2.0/networks`); only `router:external` ones matter.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawNetwork {
    pub id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "router:external")]
    pub router_external: Option<bool>,
}

/// A Neutron address group (`GET /v2.0/address-groups`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RawAddressGroup {
    pub id: Id,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub addresses: Option<Vec<String>>,
}

/// Accepts a JSON string, a JSON integer (kept as its decimal string) or null.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CompactString>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<CompactString>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a protocol name, a protocol number or null")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.into()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(compact_str::format_compact!("{v}")))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(compact_str::format_compact!("{v}")))
        }
    }
    d.deserialize_option(V)
}
