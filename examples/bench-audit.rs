//! Analysis phases on a snapshot file: read (with parsing and validation), audit, gate and
//! render the JSON report. Figures, not a test:
//! `cargo run --release --example bench-audit -- FILE`.

use std::time::Instant;

// The same allocator as the driftmux binary, so the phases are those of a real run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use driftmux::audit::{self, policy::Policy};
use driftmux::collect::snapshot;
use driftmux::gate::{self, GateConfig};
use driftmux::report::{Format, ReportInput, ReportOptions};

fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let t = Instant::now();
    let inventory = snapshot::read(std::path::Path::new(&path)).expect("a valid snapshot");
    let read = t.elapsed();
    let t = Instant::now();
    let report = audit::run(&inventory, &Policy::default());
    let audit_time = t.elapsed();
    let t = Instant::now();
    let gate = gate::evaluate(&report, &GateConfig::default(), jiff::Timestamp::now());
    let gate_time = t.elapsed();
    let t = Instant::now();
    let options = ReportOptions::default();
    let input = ReportInput {
        audit: &report,
        gate: &gate,
        options: &options,
    };
    let json = Format::Json.render(&input);
    let render = t.elapsed();
    println!(
        "read {:.3}s audit {:.3}s gate {:.3}s render {:.3}s ({} rules, {} findings, {} bytes of JSON)",
        read.as_secs_f64(),
        audit_time.as_secs_f64(),
        gate_time.as_secs_f64(),
        render.as_secs_f64(),
        inventory.rules.len(),
        report.findings.len(),
        json.len(),
    );
}
