//! Differential: `snapshot::read` (the parallel block reader, falling back to the exact path)
//! must accept exactly what the exact path accepts, and read the same inventory.
#![no_main]
use driftmux::collect::snapshot;
use driftmux::inventory::Inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("driftmux-fuzz-{}.json", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let read = snapshot::read(&path).ok();
    let exact = snapshot::parse(data).ok().and_then(|raw| Inventory::from_raw(raw).ok());
    assert_eq!(read, exact);
});
