//! Collection: where the inventory comes from.
//!
//! `wire` holds the raw OpenStack API objects; `snapshot` reads (and writes) them as one
//! JSON file. The live OpenStack client will produce the same `RawInventory`, so everything
//! after collection runs offline and is tested from recorded JSON.

pub mod openstack;
pub mod snapshot;
pub mod wire;
