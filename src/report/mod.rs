//! Reports: one module per output format, all rendered from the same `AuditReport`.
//!
//! Every renderer is a pure function to a `String`; writing files (atomically) is the CLI's
//! job. Findings arrive sorted, so every format is deterministic.

pub mod codequality;
pub mod console;
pub mod csv;
pub mod json;
mod json_findings;
pub mod junit;
pub mod markdown;
mod pretty;
pub mod sarif;

use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};
use crate::gate::GateOutcome;

/// Every report file is `DIR/<REPORT_STEM>.<extension>`.
pub const REPORT_STEM: &str = "driftmux-openstack-neutron-security-groups";

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Markdown,
    Json,
    Csv,
    Sarif,
    Junit,
    CodeQuality,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Junit => "junit.xml",
            Format::CodeQuality => "codequality.json",
        }
    }

    pub fn file_name(self) -> String {
        format!("{REPORT_STEM}.{}", self.extension())
    }

    pub fn render(self, input: &ReportInput) -> String {
        match self {
            Format::Json => json::render(input),
            Format::Markdown => markdown::render(input),
            Format::Csv => csv::render(input),
            Format::Sarif => sarif::render(input),
            Format::Junit => junit::render(input),
            Format::CodeQuality => codequality::render(input),
        }
    }

    /// Writes the report to `out`: a big JSON or SARIF report is never one string in memory
    /// (its findings or results are rendered in pieces on every core and written as they
    /// are ready).
    pub fn write(self, input: &ReportInput, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Format::Json => json::write(input, out),
            Format::Sarif => sarif::write(input, out),
            _ => out.write_all(self.render(input).as_bytes()),
        }
    }
}

/// Format-specific options from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// The repository-relative file every SARIF result and Code Quality issue points at.
    pub sarif_location: Option<String>,
    /// Include suppressed results in SARIF (with `suppressions`).
    pub sarif_include_suppressed: bool,
}

/// What every renderer reads: the audit, the gate's verdict on it, and options.
pub struct ReportInput<'a> {
    pub audit: &'a AuditReport,
    pub gate: &'a GateOutcome,
    pub options: &'a ReportOptions,
}

/// The findings of one project (a run of consecutive findings in report order).
pub struct ProjectSection<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub findings: &'a [Finding],
}

impl ProjectSection<'_> {
    pub fn count(&self, severity: Severity) -> usize {
        count(self.findings, severity)
    }

    /// The name, or the id when the project is not named.
    pub fn display(&self) -> &str {
        self.name.unwrap_or(self.id)
    }
}

/// Splits sorted findings into per-project sections.
pub fn by_project(findings: &[Finding]) -> Vec<ProjectSection<'_>> {
    findings
        .chunk_by(|a, b| a.project_id == b.project_id)
        .map(|chunk| ProjectSection {
            id: &chunk[0].project_id,
            name: chunk[0].project_name.as_deref(),
            findings: chunk,
        })
        .collect()
}

/// `one` when `n` is 1, else `many`: `one_or_many(n, "entry", "entries")`.
pub fn one_or_many<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

/// `all ports`, `all tcp ports`, `port 22/tcp`, `ports 80-443/udp`: for titles.
pub fn describe_ports(finding: &Finding) -> String {
    use crate::finding::PortExposure;
    use crate::inventory::Protocol;
    match (finding.ports, finding.rule.protocol) {
        (PortExposure::All, Protocol::Any) => "all ports".to_owned(),
        (PortExposure::All, p) => format!("all {p} ports"),
        (PortExposure::Range { lo, hi }, p) if lo == hi => format!("port {lo}/{p}"),
        (PortExposure::Range { lo, hi }, p) => format!("ports {lo}-{hi}/{p}"),
    }
}

#[cfg(test)]
pub(crate) mod sample;
