//! OpenStack API pages (Neutron, Nova, Keystone) → typed pages → items and next links.
#![no_main]
use driftmux::collect::openstack::client::Page;
use driftmux::collect::openstack::{
    AddressGroupsPage, FloatingIpsPage, GroupsPage, KeystoneProjects, NetworksPage, PortsPage,
    RulesPage, ServersPage,
};
use libfuzzer_sys::fuzz_target;

fn parse<P: Page>(data: &[u8]) {
    if let Ok(page) = serde_json::from_slice::<P>(data) {
        let _ = page.into_parts();
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
