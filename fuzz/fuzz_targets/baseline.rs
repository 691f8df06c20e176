//! Baseline text → parsed, validated baseline → rendered again.
#![no_main]
use driftmux::gate::baseline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(b) = baseline::parse(text) {
        let rendered = baseline::render(&b);
        assert_eq!(baseline::parse(&rendered).expect("a rendered baseline parses"), b);
    }
});
