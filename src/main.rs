//! The `driftmux` binary: resolve flags, collect, audit, write reports, exit with the gate's code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use driftmux::audit::{self, AuditReport};
use driftmux::cli::{Cli, Input, RunConfig};
use driftmux::collect::snapshot;
use driftmux::error::{exit, Error};
use driftmux::fsutil;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("driftmux: error: {e}");
            if let Some(help) = e.help() {
                eprintln!("  help: {help}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<u8, Error> {
    let config = RunConfig::resolve(cli)?;
    let inventory = match &config.input {
        Input::Snapshot(path) => snapshot::read(path)?,
        Input::Live { cloud } => {
            return Err(Error::LiveUnavailable {
                cloud: cloud.clone(),
            })
        }
    };
    let report = audit::run(&inventory, &config.policy);
    let written = write_reports(&config, &report)?;
    if !config.quiet {
        print_stdout(&driftmux::report::console::render(&report));
        eprintln!("driftmux: wrote {}", written.join(", "));
    }
    for warning in &report.warnings {
        eprintln!("driftmux: warning: {warning}");
    }
    Ok(verdict(&config, &report))
}

/// Renders every requested format first, then writes each file atomically; returns the paths.
fn write_reports(config: &RunConfig, report: &AuditReport) -> Result<Vec<String>, Error> {
    let rendered: Vec<_> = config
        .formats
        .iter()
        .map(|f| (config.output_dir.join(f.file_name()), f.render(report)))
        .collect();
    std::fs::create_dir_all(&config.output_dir).map_err(|source| Error::Write {
        path: config.output_dir.clone(),
        source,
    })?;
    for (path, text) in &rendered {
        fsutil::write_atomic(path, text.as_bytes()).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(rendered
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect())
}

/// The exit code: incomplete beats everything, then the threshold.
fn verdict(config: &RunConfig, report: &AuditReport) -> u8 {
    if !report.is_complete() {
        eprintln!(
            "driftmux: the audit is incomplete ({} error(s)): not a pass",
            report.errors.len()
        );
        return exit::INCOMPLETE;
    }
    let Some(threshold) = config.fail_on else {
        return exit::OK;
    };
    let failing = report
        .findings
        .iter()
        .filter(|f| f.severity >= threshold)
        .count();
    if failing > 0 {
        eprintln!("driftmux: {failing} finding(s) at or above {threshold}: failed");
        exit::GATE_FAILED
    } else {
        exit::OK
    }
}

/// Writes to stdout; a closed pipe (`driftmux ... | head`) is not an error.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
