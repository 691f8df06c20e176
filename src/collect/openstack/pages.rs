//! What each listing's pages look like on the wire: the page types of Neutron's and Nova's
//! marker-paginated listings (where their items and next link are, and the hand-written
//! decoder of their plain form, if any) and the `fields` each Neutron listing asks for.

use serde::Deserialize;

use super::listing::{next_link, HasId, IdOrder, Link, Page};
use crate::collect::decode;
use crate::collect::wire::{
    RawAddressGroup, RawFloatingIp, RawNetwork, RawPort, RawProject, RawRule, RawSecurityGroup,
    RawServer,
};
use crate::id::Id;
use crate::inventory::{
    AddressGroup, FloatingIp, Network, Port, Project, Rule, SecurityGroup, Server,
};

/// A page of a marker-paginated listing (Neutron's, and Nova's servers): its items under
/// `$key`, its links under `$links`.
macro_rules! marker_page {
    ($page:ident, $key:ident, $links:ident, $item:ty => $typed:ty) => {
        marker_page!($page, $key, $links, $item => $typed, None);
    };
    ($page:ident, $key:ident, $links:ident, $item:ty => $typed:ty, $decode:expr) => {
        marker_page!($page, $key, $links, $item => $typed, $decode, IdOrder::ById);
    };
    // `$decode`: the hand-written decoder of the plain form of the items, if any;
    // `$order`: how the API puts the listing in id order (`Page::ID_ORDER`).
    ($page:ident, $key:ident, $links:ident, $item:ty => $typed:ty, $decode:expr,
     $order:expr) => {
        #[derive(Deserialize)]
        pub struct $page {
            $key: Vec<$item>,
            #[serde(default)]
            $links: Option<Vec<Link>>,
        }
        impl Page for $page {
            type Item = $item;
            type Typed = $typed;
            const ID_ORDER: IdOrder = $order;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.$key, next_link(self.$links.unwrap_or_default()))
            }
            fn decode_plain(body: &[u8], items: &mut Vec<$item>) -> Option<Option<String>> {
                let item: Option<fn(&mut decode::Cursor) -> Option<$item>> = $decode;
                decode::page(body, stringify!($key), stringify!($links), item?, items)
            }
        }
    };
}

/// Everything a listing returns, raw or validated, has an id.
macro_rules! has_id {
    ($($t:ty),*) => {
        $(impl HasId for $t {
            fn id(&self) -> &Id {
                &self.id
            }
        })*
    };
}

has_id!(
    RawRule,
    RawSecurityGroup,
    RawPort,
    RawFloatingIp,
    RawNetwork,
    RawAddressGroup
);
has_id!(
    RawServer,
    RawProject,
    Rule,
    SecurityGroup,
    Port,
    FloatingIp,
    Network
);
has_id!(AddressGroup, Server, Project);

marker_page!(
    RulesPage,
    security_group_rules,
    security_group_rules_links,
    RawRule => Rule,
    Some(decode::rule_at)
);
marker_page!(
    GroupsPage,
    security_groups,
    security_groups_links,
    RawSecurityGroup => SecurityGroup
);
marker_page!(
    PortsPage,
    ports,
    ports_links,
    RawPort => Port,
    Some(decode::port_at)
);
marker_page!(
    FloatingIpsPage,
    floatingips,
    floatingips_links,
    RawFloatingIp => FloatingIp
);
marker_page!(
    NetworksPage,
    networks,
    networks_links,
    RawNetwork => Network
);
marker_page!(
    AddressGroupsPage,
    address_groups,
    address_groups_links,
    RawAddressGroup => AddressGroup
);
marker_page!(
    ServersPage,
    servers,
    servers_links,
    RawServer => Server,
    Some(decode::server_at),
    IdOrder::ByUuidOnRequest
);

pub(super) const RULE_FIELDS: &[&str] = &[
    "id",
    "security_group_id",
    "project_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
];
pub(super) const GROUP_FIELDS: &[&str] = &["id", "name", "project_id"];
pub(super) const PORT_FIELDS: &[&str] = &[
    "id",
    "device_id",
    "device_owner",
    "security_groups",
    "port_security_enabled",
    "project_id",
    "network_id",
    "fixed_ips",
];
pub(super) const FIP_FIELDS: &[&str] = &[
    "id",
    "floating_ip_address",
    "port_id",
    "fixed_ip_address",
    "floating_network_id",
];
pub(super) const NETWORK_FIELDS: &[&str] = &["id", "name", "router:external"];
pub(super) const ADDRESS_GROUP_FIELDS: &[&str] = &["id", "name", "addresses"];

pub(super) fn fields(names: &[&'static str]) -> Vec<(&'static str, &'static str)> {
    names.iter().map(|f| ("fields", *f)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written page decoder reads what serde reads, or leaves the page to serde.
    fn agrees<P: Page>(body: &[u8]) -> bool
    where
        P::Item: PartialEq + std::fmt::Debug,
    {
        let mut items = Vec::new();
        let Some(next) = P::decode_plain(body, &mut items) else {
            return false;
        };
        // The buffer is reused from page to page: decoding into a used one reads the same.
        assert_eq!(P::decode_plain(body, &mut items), Some(next.clone()));
        let ours = (items, next);
        let theirs = serde_json::from_slice::<P>(body)
            .unwrap_or_else(|e| {
                panic!(
                    "decoded what serde rejects ({e}): {}",
                    String::from_utf8_lossy(body)
                )
            })
            .into_parts();
        assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(body));
        true
    }

    fn pages(list: &str) -> Vec<Vec<u8>> {
        let demo: serde_json::Value =
            serde_json::from_str(include_str!("../../../examples/demo-cloud.json")).unwrap();
        let items = &demo[list];
        let links = format!("{list}_links");
        [
            serde_json::json!({ list: items }),
            serde_json::json!({ list: items, links.as_str(): null }),
            serde_json::json!({ list: items, links.as_str(): [
                {"href": "http://n/v2.0/x?marker=a&limit=2", "rel": "next"},
                {"href": "http://n/v2.0/x?marker=z", "rel": "previous"}] }),
            serde_json::json!({ "extra": {"a": [1, "b"]}, list: [], links.as_str(): [{"rel": "next"}] }),
        ]
        .iter()
        .flat_map(|v| [serde_json::to_vec(v).unwrap(), serde_json::to_vec_pretty(v).unwrap()])
        .collect()
    }

    #[test]
    fn plain_pages_are_decoded_as_serde_decodes_them() {
        for body in pages("security_group_rules") {
            assert!(agrees::<RulesPage>(&body));
        }
        for body in pages("ports") {
            assert!(agrees::<PortsPage>(&body));
        }
        for body in pages("servers") {
            assert!(agrees::<ServersPage>(&body));
        }
        // Types without a decoder are always left to serde.
        assert!(!agrees::<GroupsPage>(&pages("security_groups")[0]));
        for odd in [
            r#"{}"#,
            r#"{"ports": null}"#,
            r#"{"ports": [], "ports": []}"#,
            r#"{"ports": [], "ports_links": [{"rel": null}]}"#,
            r#"{"ports": [{"id": "p\u0031"}]}"#,
            r#"{"ports": []} x"#,
        ] {
            assert!(!agrees::<PortsPage>(odd.as_bytes()), "{odd}");
        }
    }

    /// Damaged pages: the decoder gives up or agrees with serde.
    #[test]
    fn damaged_pages_never_decode_differently() {
        let bodies = [
            pages("security_group_rules"),
            pages("ports"),
            pages("servers"),
        ];
        let mut damage = crate::collect::damage::Damage::new(0xd1b5_4a32_d192_ed03);
        let mut decoded = 0;
        for _ in 0..1500 {
            let kind = damage.below(3);
            let list = &bodies[kind];
            let original = &list[damage.below(list.len())];
            let body = damage.apply(original, 1);
            decoded += usize::from(match kind {
                0 => agrees::<RulesPage>(&body),
                1 => agrees::<PortsPage>(&body),
                _ => agrees::<ServersPage>(&body),
            });
        }
        assert!(decoded > 100, "some damage is harmless ({decoded} decoded)");
    }
}
