//! Collection: where the inventory comes from.
//!
//! `wire` holds the raw OpenStack API objects; `snapshot` reads (and writes) them as one
//! JSON file (big files in parallel blocks, straight into the typed inventory); `openstack`
//! reads them from the live APIs into a `RawInventory`, which a snapshot can also hold, so
//! everything after collection runs offline and is tested from recorded JSON.

#[cfg(test)]
mod damage;
mod decode;
pub mod openstack;
pub mod snapshot;
pub mod wire;
