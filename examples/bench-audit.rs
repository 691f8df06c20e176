//! Analysis phases on a snapshot file, as `driftmux --snapshot FILE --format json` runs
//! them: read (with parsing and validation), audit, gate, then the JSON report rendered
//! while it is written and synced. For each: wall time, CPU time (all threads: CPU / wall
//! is the number of cores kept busy) and resident memory after it. Figures, not a test:
//! `cargo run --release --example bench-audit -- FILE`.
//!
//! `-- FILE --each-format` then renders every format from the same audit, several times,
//! into a sink (no disk): each format's rendering time alone, best and median of 5, and
//! its CPU per rendering.

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
    let each_format = std::env::args().nth(2).as_deref() == Some("--each-format");
    let mut phases = Phases::start();
    let inventory = snapshot::read(std::path::Path::new(&path)).expect("a valid snapshot");
    let rules = inventory.rules.len();
    phases.end("read");
    let report = audit::run(&inventory, &Policy::default());
    phases.end("audit");
    let gate = gate::evaluate(&report, &GateConfig::default(), jiff::Timestamp::now());
    // As in driftmux: the inventory is not needed to write the reports.
    drop(inventory);
    phases.end("gate");
    let options = ReportOptions::default();
    let input = ReportInput {
        audit: &report,
        gate: &gate,
        options: &options,
    };
    let out =
        std::env::temp_dir().join(format!("driftmux-bench-audit-{}.json", std::process::id()));
    driftmux::fsutil::write_atomic_with(&out, |w| Format::Json.write(&input, w))
        .expect("report written");
    phases.end("render+write+sync");
    let json_len = std::fs::metadata(&out).map_or(0, |m| m.len());
    let _ = std::fs::remove_file(&out);
    println!(
        "{}; total {:.3}s, peak {} MiB ({rules} rules, {} findings, {json_len} bytes of JSON)",
        phases.done.join(", "),
        phases.first.elapsed().as_secs_f64(),
        status_mib("VmHWM:"),
        report.findings.len(),
    );
    if each_format {
        let options = ReportOptions {
            // SARIF and Code Quality need a file to point at; any name does here.
            sarif_location: Some("cloud.tf".into()),
            ..ReportOptions::default()
        };
        let input = ReportInput {
            audit: &report,
            gate: &gate,
            options: &options,
        };
        for format in [
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Markdown,
            Format::CodeQuality,
            Format::Csv,
        ] {
            println!("{}", render_alone(format, &input));
        }
    }
}

/// Renders `format` 5 times into a sink: best and median wall time, CPU per rendering.
fn render_alone(format: Format, input: &ReportInput) -> String {
    const RUNS: usize = 5;
    let cpu = cpu_seconds();
    let mut bytes = 0;
    let mut walls: Vec<f64> = (0..RUNS)
        .map(|_| {
            let mut sink = Counted(0);
            let at = Instant::now();
            format.write(input, &mut sink).expect("rendered");
            bytes = sink.0;
            at.elapsed().as_secs_f64()
        })
        .collect();
    walls.sort_by(f64::total_cmp);
    format!(
        "{format:?}: best {:.3}s, median {:.3}s, cpu {:.3}s per rendering, {bytes} bytes",
        walls[0],
        walls[RUNS / 2],
        (cpu_seconds() - cpu) / RUNS as f64,
    )
}

/// A writer that only counts.
struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Phases {
    first: Instant,
    at: Instant,
    cpu: f64,
    done: Vec<String>,
}

impl Phases {
    fn start() -> Phases {
        Phases {
            first: Instant::now(),
            at: Instant::now(),
            cpu: cpu_seconds(),
            done: Vec::new(),
        }
    }

    fn end(&mut self, name: &str) {
        let (wall, cpu) = (self.at.elapsed().as_secs_f64(), cpu_seconds());
        self.done.push(format!(
            "{name} {wall:.3}s (cpu {:.2}s, {} MiB)",
            cpu - self.cpu,
            status_mib("VmRSS:")
        ));
        (self.at, self.cpu) = (Instant::now(), cpu);
    }
}

/// User + system CPU time of the whole process so far (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are the
    // 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
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
