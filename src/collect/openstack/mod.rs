//! Live collection from OpenStack: Keystone authentication and catalog, then paginated,
//! concurrent reads of Neutron, Nova and Keystone into the same `RawInventory` a snapshot
//! holds.

pub mod config;
pub mod secret;
