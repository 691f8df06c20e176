//! Policy YAML → resolved policy.
#![no_main]
use driftmux::audit::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Policy::parse(text);
});
