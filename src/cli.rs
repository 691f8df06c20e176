//! Command-line flags (clap) and their resolution into the `RunConfig` the pipeline runs on.
//!
//! Raw flags stay here; only the resolved configuration (policy loaded, formats deduplicated,
//! threshold mapped to a domain `Severity`) reaches the rest of the program.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::audit::policy::Policy;
use crate::error::Error;
use crate::finding::Severity;
use crate::report::Format;

const AFTER_HELP: &str = "\
Examples:
  driftmux --openstack-sg-audit --snapshot examples/demo-cloud.json
  driftmux --openstack-sg-audit --os-cloud openstack --format markdown,json,csv
  driftmux --snapshot cloud.json --fail-on critical --output-dir out --quiet

Exit codes:
  0  passed: no finding at or above --fail-on
  1  failed: a finding at or above --fail-on
  2  usage or input error (bad flag, unreadable or malformed file), or a report could not be written
  3  the audit is incomplete: part of the cloud could not be read";

/// Audit OpenStack Neutron security groups for public exposure of critical ports.
///
/// driftmux reads security group rules, groups, ports and servers (from the OpenStack APIs or
/// a saved snapshot), reports ingress rules that open SSH, RDP, databases or all ports to public
/// sources, tells whether each group is in use, and writes Markdown, JSON and CSV reports.
#[derive(Debug, Parser)]
#[command(name = "driftmux", version, about, long_about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Run the OpenStack Neutron security group audit (the default, and today the only, mode).
    #[arg(long)]
    pub openstack_sg_audit: bool,

    /// Audit a saved inventory snapshot (JSON) instead of the live OpenStack API.
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub snapshot: Option<PathBuf>,

    /// The clouds.yaml entry to audit (live mode).
    #[arg(long, value_name = "NAME", env = "OS_CLOUD", help_heading = "Input")]
    pub os_cloud: Option<String>,

    /// Policy overrides (YAML): extra or replacement critical ports, report_web, ignore_ports.
    #[arg(long, value_name = "FILE", help_heading = "Audit")]
    pub policy: Option<PathBuf>,

    /// Report formats, repeatable or comma-separated [default: markdown,json].
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "FMT",
        help_heading = "Output"
    )]
    pub format: Vec<FormatArg>,

    /// Directory for report files (created if missing).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "reports",
        help_heading = "Output"
    )]
    pub output_dir: PathBuf,

    /// Do not print the console summary.
    #[arg(long, short, help_heading = "Output")]
    pub quiet: bool,

    /// Exit 1 when a finding at or above this severity exists; `none` never fails.
    #[arg(
        long,
        value_enum,
        value_name = "SEVERITY",
        default_value = "high",
        help_heading = "Gate"
    )]
    pub fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    #[value(alias = "md")]
    Markdown,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    None,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
        }
    }
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::None => None,
        }
    }
}

/// Where the inventory comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Snapshot(PathBuf),
    Live { cloud: Option<String> },
}

/// The resolved configuration of one run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub input: Input,
    pub policy: Policy,
    pub formats: BTreeSet<Format>,
    pub output_dir: PathBuf,
    /// `None`: the gate never fails on findings.
    pub fail_on: Option<Severity>,
    pub quiet: bool,
}

impl RunConfig {
    pub fn resolve(cli: Cli) -> Result<RunConfig, Error> {
        let policy = match &cli.policy {
            Some(path) => Policy::load(path)?,
            None => Policy::default(),
        };
        let mut formats: BTreeSet<Format> = cli.format.into_iter().map(Format::from).collect();
        if formats.is_empty() {
            formats = [Format::Markdown, Format::Json].into();
        }
        let input = match cli.snapshot {
            Some(path) => Input::Snapshot(path),
            None => Input::Live {
                cloud: cli.os_cloud,
            },
        };
        Ok(RunConfig {
            input,
            policy,
            formats,
            output_dir: cli.output_dir,
            fail_on: cli.fail_on.threshold(),
            quiet: cli.quiet,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn formats_are_comma_separated_repeatable_and_deduplicated() {
        let cli = Cli::try_parse_from([
            "driftmux",
            "--snapshot",
            "x.json",
            "--format",
            "md,json",
            "--format",
            "csv,markdown",
        ])
        .unwrap();
        let config = RunConfig::resolve(cli).unwrap();
        assert_eq!(
            config.formats.into_iter().collect::<Vec<_>>(),
            vec![Format::Markdown, Format::Json, Format::Csv]
        );
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["driftmux", "--snapshot", "x.json"]).unwrap();
        let config = RunConfig::resolve(cli).unwrap();
        assert_eq!(config.formats.len(), 2);
        assert_eq!(config.fail_on, Some(Severity::High));
        assert_eq!(config.output_dir, PathBuf::from("reports"));
    }
}
