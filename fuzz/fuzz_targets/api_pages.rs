//! OpenStack API pages (Neutron, Nova, Keystone) → typed pages → items and next links; the
//! hand-written page decoders (rules, ports, servers) read what serde reads, or give up.
#![no_main]
use driftmux::collect::openstack::listing::Page;
use driftmux::collect::openstack::{
    AddressGroupsPage, FloatingIpsPage, GroupsPage, KeystoneProjects, NetworksPage, PortsPage,
    RulesPage, ServersPage,
};
use libfuzzer_sys::fuzz_target;

fn parse<P: Page>(data: &[u8])
where
    P::Item: PartialEq + std::fmt::Debug,
{
    let serde = serde_json::from_slice::<P>(data).map(Page::into_parts);
    // A used buffer, as listings pass it.
    let mut items = Vec::new();
    let _ = P::decode_plain(data, &mut items);
    if let Some(next) = P::decode_plain(data, &mut items) {
        let (serde_items, serde_next) = serde.expect("decoded a page serde rejects");
        assert_eq!(items, serde_items);
        assert_eq!(next, serde_next);
    }
}

fuzz_target!(|data: &[u8]| {
    parse::<RulesPage>(data);
    parse::<GroupsPage>(data);
    parse::<PortsPage>(data);
    parse::<FloatingIpsPage>(data);
    parse::<NetworksPage>(data);
    parse::<AddressGroupsPage>(data);
    parse::<ServersPage>(data);
    parse::<KeystoneProjects>(data);
});
