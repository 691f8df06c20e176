//! clouds.yaml / clouds.json → cloud entries → resolved cloud configurations. Errors must
//! never quote the input (it may hold a password): checked with a marker.
#![no_main]
use driftmux::collect::openstack::config::{cloud_from_entry, parse_clouds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for json in [false, true] {
        match parse_clouds(text, json) {
            Ok(clouds) => {
                for (name, entry) in &clouds {
                    let _ = cloud_from_entry(name, entry);
                }
            }
            Err(message) => {
                if text.contains("SECRETMARK") {
                    assert!(!message.contains("SECRETMARK"), "{message}");
                }
            }
        }
    }
});
