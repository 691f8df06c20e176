//! Suppression YAML → validated suppressions.
#![no_main]
use driftmux::gate::suppressions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = suppressions::parse(text);
});
