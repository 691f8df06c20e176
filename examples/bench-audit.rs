//! Analysis phases on a snapshot file: read, parse, validate, audit, render. Figures, not a
//! test: `cargo run --release --example bench-audit -- FILE`.

use std::time::Instant;

use driftmux::audit::{self, policy::Policy};
use driftmux::collect::snapshot;
use driftmux::gate::{self, GateConfig};
use driftmux::inventory::Inventory;
use driftmux::report::{Format, ReportInput, ReportOptions};

fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let t = Instant::now();
    let bytes = std::fs::read(&path).expect("read");
    let read = t.elapsed();
    let t = Instant::now();
    let raw = snapshot::parse(&bytes).expect("parse");
    let parse = t.elapsed();
    drop(bytes);
    let t = Instant::now();
    let inventory = Inventory::from_raw(raw).expect("valid");
    let validate = t.elapsed();
    let t = Instant::now();
    let report = audit::run(&inventory, &Policy::default());
    let audit_time = t.elapsed();
    let t = Instant::now();
    let gate = gate::evaluate(&report, &GateConfig::default(), jiff::Timestamp::now());
    let options = ReportOptions::default();
    let input = ReportInput {
        audit: &report,
        gate: &gate,
        options: &options,
    };
    let json = Format::Json.render(&input);
    let md = Format::Markdown.render(&input);
    let render = t.elapsed();
    println!(
        "read {:.3}s parse {:.3}s validate {:.3}s audit {:.3}s gate+render {:.3}s ({} findings, {} + {} bytes of reports)",
        read.as_secs_f64(),
        parse.as_secs_f64(),
        validate.as_secs_f64(),
        audit_time.as_secs_f64(),
        render.as_secs_f64(),
        report.findings.len(),
        json.len(),
        md.len()
    );
}
