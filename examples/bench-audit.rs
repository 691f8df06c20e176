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
    let after_read = rss();
    let t = Instant::now();
    let report = audit::run(&inventory, &Policy::default());
    let audit_time = t.elapsed();
    let after_audit = rss();
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
    let after_render = rss();
    drop(json);
    // As driftmux writes it: rendered while written, flushed to disk on the way.
    let t = Instant::now();
    let out =
        std::env::temp_dir().join(format!("driftmux-bench-audit-{}.json", std::process::id()));
    driftmux::fsutil::write_atomic_with(&out, |w| Format::Json.write(&input, w))
        .expect("report written");
    let write = t.elapsed();
    let json_len = std::fs::metadata(&out).map_or(0, |m| m.len());
    let _ = std::fs::remove_file(&out);
    println!(
        "read {:.3}s ({after_read} MiB) audit {:.3}s ({after_audit} MiB) gate {:.3}s \
         render in memory {:.3}s ({after_render} MiB), render+write+sync {:.3}s; peak {} MiB \
         ({} rules, {} findings, {json_len} bytes of JSON)",
        read.as_secs_f64(),
        audit_time.as_secs_f64(),
        gate_time.as_secs_f64(),
        render.as_secs_f64(),
        write.as_secs_f64(),
        peak(),
        inventory.rules.len(),
        report.findings.len(),
    );
}

/// A line of /proc/self/status in MiB (0 where there is none).
fn status_mib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Resident memory now, MiB.
fn rss() -> u64 {
    status_mib("VmRSS:")
}

/// Peak resident memory, MiB.
fn peak() -> u64 {
    status_mib("VmHWM:")
}
