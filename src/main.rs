//! The `driftmux` binary: resolve flags, collect, audit, gate, write reports, exit with the
//! gate's code (or update the baseline and print its diff).

use std::io::Write;
use std::mem::ManuallyDrop;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

use driftmux::audit::{self, AuditReport};
use driftmux::cli::{Cli, Input, LiveInput, RunConfig};
use driftmux::collect::openstack::{self, progress};
use driftmux::collect::snapshot;
use driftmux::error::{exit, Error};
use driftmux::fsutil;
use driftmux::gate::{self, baseline, GateOutcome, Verdict};
use driftmux::inventory::Inventory;
use driftmux::report::{self, one_or_many, Format, ReportInput};

fn main() -> ExitCode {
    let cli = Cli::try_parse_checked(std::env::args_os()).unwrap_or_else(|e| e.exit());
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
    for warning in &config.warnings {
        eprintln!("driftmux: warning: {warning}");
    }
    let inventory = match &config.input {
        Input::Snapshot(path) => snapshot::read(path)?,
        Input::Live(live) => collect_live(live, config.quiet)?,
    };
    // The findings and the gate's view of them are never freed: the process ends right
    // after the reports, and freeing them one by one took ~80 ms of a 1M-rule run; the
    // kernel takes the memory back whole at exit.
    let audit = ManuallyDrop::new(audit::run(&inventory, &config.policy));
    // The cloud is freed (~45 ms at 1M rules): the findings own what they report, and the
    // reports rendered whole (all but JSON) reuse its memory. Kept, it would raise the peak
    // of a 1M-rule run writing every format by a quarter.
    drop(inventory);
    let gate = ManuallyDrop::new(gate::evaluate(&audit, &config.gate, jiff::Timestamp::now()));
    let input = ReportInput {
        audit: &audit,
        gate: &gate,
        options: &config.report_options,
    };
    let written = write_reports(&config, &input)?;
    if !config.quiet {
        print_stdout(&report::console::render(&input));
        eprintln!("driftmux: wrote {}", written.join(", "));
    }
    for warning in &audit.warnings {
        eprintln!("driftmux: warning: {warning}");
    }
    if let Some(first) = gate.not_audited.first() {
        let n = gate.not_audited.len();
        let scope = audit.meta.project_scope.as_deref().unwrap_or_default();
        eprintln!(
            "driftmux: warning: {n} baseline {} of projects this audit could not see \
             (first: {} of project {}): the token is not an admin's and sees only its \
             project's objects ({}); kept as {}, not counted as fixed",
            one_or_many(n, "entry", "entries"),
            first.fingerprint,
            first.project_name.as_deref().unwrap_or(&first.project_id),
            match (scope, audit.scope_names.as_slice()) {
                ([], _) => "none".to_owned(),
                ([id], [name]) => format!("{name}, id {id}"),
                _ => scope.join(", "),
            },
            one_or_many(n, "it is", "they are")
        );
    }
    for s in gate.ambiguous() {
        let (label, note) = (s.suppression.label(), s.shared_name_note());
        eprintln!("driftmux: warning: {label}: {note}");
    }
    if config.update_baseline.is_some() {
        return update_baseline(&config, &audit, &gate);
    }
    Ok(match gate.verdict {
        Verdict::Passed => exit::OK,
        Verdict::Failed => {
            eprintln!("driftmux: gate failed: {}", gate.reasons.join("; "));
            exit::GATE_FAILED
        }
        Verdict::Incomplete => {
            eprintln!(
                "driftmux: the audit is incomplete ({} error(s)): not a pass",
                audit.errors.len()
            );
            exit::INCOMPLETE
        }
    })
}

/// Collects from the live cloud (saving the snapshot when asked) and validates it.
fn collect_live(live: &LiveInput, quiet: bool) -> Result<Inventory, Error> {
    for warning in &live.warnings {
        eprintln!("driftmux: warning: {warning}");
    }
    if live.settings.verbose {
        let proxy = openstack::client::proxy_for(&live.cloud.auth_url);
        eprintln!(
            "driftmux: using {}: {} at {}{}, region {}, interface {}",
            live.cloud.origin,
            live.cloud.auth.describe(),
            live.cloud.auth_url,
            proxy.map_or(String::new(), |p| format!(" through the proxy {p}")),
            live.cloud.region.as_deref().unwrap_or("(any)"),
            live.cloud.interface
        );
        for (key, url) in live.cloud.overrides.each() {
            eprintln!("driftmux: {key}: {url} (instead of the catalog's)");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    let progress: std::sync::Arc<dyn progress::Progress> = progress::for_run(quiet).into();
    let collected = runtime.block_on(openstack::collect(
        live.cloud.clone(),
        live.settings.clone(),
        progress,
    ))?;
    for warning in &collected.warnings {
        eprintln!("driftmux: warning: {warning}");
    }
    if !quiet {
        eprintln!(
            "driftmux: collected from {} in {} request(s), {} KiB",
            live.cloud.origin,
            collected.stats.requests,
            collected.stats.bytes / 1024
        );
    }
    if let Some(path) = &live.save_snapshot {
        let raw = collected
            .raw
            .as_ref()
            .expect("raw objects kept for --save-snapshot");
        fsutil::write_atomic(path, snapshot::render(raw).as_bytes()).map_err(|source| {
            Error::Write {
                path: path.clone(),
                source,
            }
        })?;
        if !quiet {
            eprintln!("driftmux: saved snapshot {}", path.display());
        }
    }
    collected.inventory.map_err(|problems| {
        Error::InvalidApiData(
            problems
                .iter()
                .take(10)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// Writes each requested format atomically, rendered as it is written; returns the paths.
///
/// The formats are written side by side, each on its own thread: most render on one core,
/// and each waits for its file to reach the disk before its rename, so one format's wait
/// is another's rendering time. The first failure in format order is the error (the
/// other formats are still written whole or not at all).
fn write_reports(config: &RunConfig, input: &ReportInput) -> Result<Vec<String>, Error> {
    if config.formats.contains(&Format::Sarif) {
        if let Some(cut) = report::sarif::cut_warning(input) {
            eprintln!("driftmux: warning: {cut}");
        }
    }
    create_dir(&config.output_dir)?;
    let write = |format: Format| {
        let path = config.output_dir.join(format.file_name());
        match fsutil::write_atomic_with(&path, |out| format.write(input, out)) {
            Ok(()) => Ok(path.display().to_string()),
            Err(source) => Err(Error::Write { path, source }),
        }
    };
    std::thread::scope(|scope| {
        let formats: Vec<Format> = config.formats.iter().copied().collect();
        let (first, rest) = formats.split_first().expect("at least one format");
        let others: Vec<_> = rest
            .iter()
            .map(|&format| scope.spawn(move || write(format)))
            .collect();
        let first = write(*first);
        std::iter::once(first)
            .chain(
                others
                    .into_iter()
                    .map(|h| h.join().expect("a report thread panicked")),
            )
            .collect()
    })
}

/// `--update-baseline`: write the baseline from the current findings and print the diff
/// that approving the change means reviewing. Never on an incomplete audit; under
/// `--allow-partial`, an audit missing only enrichment (servers, project names, floating
/// IPs, networks) has every finding and every baseline field but project names, which the
/// entries then keep.
fn update_baseline(
    config: &RunConfig,
    audit: &AuditReport,
    gate: &GateOutcome,
) -> Result<u8, Error> {
    let path = config.update_baseline.as_ref().expect("checked by caller");
    if gate.verdict == Verdict::Incomplete {
        let hint = if audit.errors.iter().any(|e| e.required) {
            ""
        } else {
            " (only enrichment is missing: --allow-partial approves from such an audit)"
        };
        eprintln!(
            "driftmux: refusing to update the baseline {}: the audit is incomplete ({} error(s)){hint}",
            path.display(),
            audit.errors.len()
        );
        return Ok(exit::INCOMPLETE);
    }
    let project_names_unread = audit.errors.iter().any(|e| e.resource == "projects");
    if !audit.is_complete() {
        eprintln!(
            "driftmux: note: updating the baseline from an audit missing enrichment ({} collection error(s), --allow-partial){}",
            audit.errors.len(),
            if project_names_unread {
                "; entries keep the project names they had"
            } else {
                ""
            }
        );
    }
    let (display, loaded) = config
        .gate
        .baseline
        .as_ref()
        .expect("--update-baseline requires --baseline");
    let entries = loaded.as_ref().map_or(&[][..], |l| &l.baseline.findings);
    let previous: Vec<_> = gate
        .findings
        .iter()
        .map(|g| g.baseline_entry.map(|(i, _)| &entries[i]))
        .collect();
    let new = baseline::updated(
        &audit.findings,
        &previous,
        &today(audit),
        project_names_unread,
        &gate.not_audited,
    );
    let new_text = baseline::render(&new);
    let old_text = loaded.as_ref().map_or("", |l| l.text.as_str());
    let diff = baseline::diff(display, old_text, &new_text);
    if diff.is_empty() {
        eprintln!(
            "driftmux: baseline {display} is up to date ({} entries)",
            new.findings.len()
        );
        return Ok(exit::OK);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    fsutil::write_atomic(path, new_text.as_bytes()).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    print_stdout(&diff);
    let c = gate.counts();
    let kept = match c.not_audited {
        0 => String::new(),
        n => format!(", {n} of projects outside the audit's scope kept"),
    };
    eprintln!(
        "driftmux: updated baseline {display}: {} entries ({} new, {} escalated, {} fixed removed{kept}); commit it and review the diff",
        new.findings.len(),
        c.new,
        c.escalated,
        c.fixed
    );
    Ok(exit::OK)
}

/// The date new baseline entries are first seen: the inventory's collection date, else today.
fn today(audit: &AuditReport) -> String {
    let ts = audit
        .meta
        .collected_at
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .unwrap_or_else(jiff::Timestamp::now);
    ts.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// Writes to stdout; a closed pipe (`driftmux ... | head`) is not an error.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Creates `dir` and its parents if missing; a file in the way is named as such (the OS
/// says only "File exists").
fn create_dir(dir: &std::path::Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source: if source.kind() == std::io::ErrorKind::AlreadyExists && !dir.is_dir() {
            std::io::Error::new(source.kind(), "it exists and is not a directory")
        } else {
            source
        },
    })
}
