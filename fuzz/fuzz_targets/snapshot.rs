//! Snapshot bytes → raw inventory → validated inventory → audit → every report format.
#![no_main]
use driftmux::audit::{self, policy::Policy};
use driftmux::collect::snapshot;
use driftmux::gate::{self, GateConfig};
use driftmux::inventory::Inventory;
use driftmux::report::{Format, ReportInput, ReportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = snapshot::parse(data) else { return };
    let _ = snapshot::render(&raw);
    let Ok(inventory) = Inventory::from_raw(raw) else { return };
    let report = audit::run(&inventory, &Policy::default());
    let gate = gate::evaluate(&report, &GateConfig::default(), jiff_now());
    let options = ReportOptions {
        sarif_location: Some("baseline.json".into()),
        sarif_include_suppressed: true,
    };
    let input = ReportInput { audit: &report, gate: &gate, options: &options };
    for f in [Format::Markdown, Format::Json, Format::Csv, Format::Sarif, Format::Junit, Format::CodeQuality] {
        let _ = f.render(&input);
    }
});

fn jiff_now() -> driftmux::gate::Timestamp {
    "2026-11-23T00:00:00Z".parse().unwrap()
}
