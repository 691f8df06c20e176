//! Command-line flags (clap) and their resolution into the `RunConfig` the pipeline runs on.
//!
//! Raw flags stay here; only the resolved configuration (policy loaded, formats deduplicated,
//! threshold mapped to a domain `Severity`) reaches the rest of the program.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::audit::policy::Policy;
use crate::collect::openstack::client::ClientSettings;
use crate::collect::openstack::config::{self, CloudConfig, Lookup};
use crate::error::Error;
use crate::finding::Severity;
use crate::gate::{baseline, suppressions, GateConfig};
use crate::report::{Format, ReportOptions};

const AFTER_HELP: &str = "\
Examples:
  driftmux --openstack-sg-audit --snapshot examples/demo-cloud.json
  driftmux --openstack-sg-audit --os-cloud openstack --format markdown,json,csv
  driftmux --snapshot cloud.json --baseline baselines/openstack-neutron-security-groups.json \\
           --suppressions baselines/suppressions.yaml --format markdown,json,sarif,junit
  driftmux --snapshot cloud.json --baseline baselines/openstack-neutron-security-groups.json \\
           --update-baseline

Exit codes:
  0  passed: no new or escalated finding at or above --fail-on (or --update-baseline succeeded)
  1  failed: a new or escalated finding at or above --fail-on (or, with --strict-suppressions,
     an expired or unused suppression)
  2  usage or input error (bad flag, unreadable or malformed file), or a report could not be written
  3  the audit is incomplete: part of the cloud could not be read";

/// Audit OpenStack Neutron security groups for public exposure of critical ports.
///
/// driftmux reads security group rules, groups, ports and servers (from the OpenStack APIs or
/// a saved snapshot), reports ingress rules that open SSH, RDP, databases or all ports to public
/// sources, tells whether each group is in use, and writes Markdown, JSON, CSV, SARIF, JUnit
/// and GitLab Code Quality reports, gated by a baseline and suppressions.
#[derive(Debug, Parser)]
#[command(name = "driftmux", version, about, long_about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Run the OpenStack Neutron security group audit (the default, and today the only, mode).
    #[arg(long)]
    pub openstack_sg_audit: bool,

    /// Audit a saved inventory snapshot (JSON) instead of the live OpenStack API (`-`:
    /// standard input).
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub snapshot: Option<PathBuf>,

    /// The clouds.yaml entry to audit (live mode). Without it (and OS_CLOUD), the OS_*
    /// variables of an openrc file, else the only cloud of clouds.yaml.
    #[arg(long, value_name = "NAME", env = "OS_CLOUD", help_heading = "Input")]
    pub os_cloud: Option<String>,

    /// Save the collected inventory as a snapshot file (replayable with --snapshot).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "snapshot",
        help_heading = "Input"
    )]
    pub save_snapshot: Option<PathBuf>,

    /// Per-request timeout for OpenStack API calls (e.g. 30s, 2m) [default: the cloud's
    /// api_timeout in clouds.yaml, else 30s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, help_heading = "Input")]
    pub timeout: Option<Duration>,

    /// Retries of a failed API call (connection errors, 5xx, 429) before giving up.
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Input")]
    pub retries: u32,

    /// Items asked for per page (`limit`).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000), help_heading = "Input")]
    pub page_size: u32,

    /// A Neutron or Nova listing still running after this long is also read from its end,
    /// in a second concurrent stream, so that two API workers serve it (`off`: never).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_optional_duration, help_heading = "Input")]
    pub read_from_end_after: std::option::Option<Duration>, // qualified: clap parses the whole Option

    /// Refuse API responses larger than this many bytes (default 256 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = 256 << 20, hide = true)]
    pub max_page_bytes: usize,

    /// Log every API request (method, URL, status, time) and retry to stderr. Never a
    /// header or body: no token or password is ever printed.
    #[arg(long, short, help_heading = "Input")]
    pub verbose: bool,

    /// Do not verify TLS certificates (prints a warning). Prefer `cacert` in clouds.yaml.
    #[arg(long, help_heading = "Input")]
    pub insecure: bool,

    /// Let the gate decide even when servers, project names or floating IPs could not be
    /// read (the enrichment degrades; rules, groups and ports are always required).
    #[arg(long, help_heading = "Gate")]
    pub allow_partial: bool,

    /// Policy overrides (YAML): extra or replacement critical ports, report_web, ignore_ports.
    #[arg(long, value_name = "FILE", help_heading = "Audit")]
    pub policy: Option<PathBuf>,

    /// Report formats, repeatable or comma-separated [default: markdown,json].
    ///
    /// Files: DIR/driftmux-openstack-neutron-security-groups.{md,json,csv,sarif,junit.xml,
    /// codequality.json}.
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

    /// The file every SARIF result points at (repository-relative; must exist)
    /// [default: the baseline, else the suppression file].
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub sarif_location: Option<PathBuf>,

    /// Also put suppressed findings in SARIF, marked with `suppressions` (GitHub would
    /// open alerts for them, so they are left out by default).
    #[arg(long, help_heading = "Output")]
    pub sarif_include_suppressed: bool,

    /// Exit 1 when a new or escalated finding at or above this severity exists; `none` never
    /// fails. Without --baseline every finding is new.
    #[arg(
        long,
        value_enum,
        value_name = "SEVERITY",
        default_value = "high",
        help_heading = "Gate"
    )]
    pub fail_on: FailOn,

    /// The committed baseline of approved findings (JSON), e.g.
    /// baselines/openstack-neutron-security-groups.json. Must exist unless --update-baseline.
    #[arg(long, value_name = "FILE", help_heading = "Gate")]
    pub baseline: Option<PathBuf>,

    /// The suppression file (YAML): accepted findings with a reason and an optional expiry.
    #[arg(long, value_name = "FILE", help_heading = "Gate")]
    pub suppressions: Option<PathBuf>,

    /// Write the baseline from the current findings (keeping first_seen and notes), print
    /// the diff, and exit 0. Refused when the audit is incomplete (with --allow-partial,
    /// missing enrichment alone does not make it so).
    #[arg(long, requires = "baseline", help_heading = "Gate")]
    pub update_baseline: bool,

    /// Report suppressions expiring within this time (e.g. 14d, 72h).
    #[arg(
        long,
        value_name = "WITHIN",
        default_value = "14d",
        value_parser = humantime::parse_duration,
        help_heading = "Gate"
    )]
    pub warn_expiring: Duration,

    /// Fail the gate on expired or unused suppressions too.
    #[arg(long, help_heading = "Gate")]
    pub strict_suppressions: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    #[value(alias = "md")]
    Markdown,
    Json,
    Csv,
    Sarif,
    Junit,
    /// GitLab Code Quality.
    Codequality,
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
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Junit => Format::Junit,
            FormatArg::Codequality => Format::CodeQuality,
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
#[derive(Debug, Clone)]
pub enum Input {
    Snapshot(PathBuf),
    Live(Box<LiveInput>),
}

/// A resolved cloud and how to talk to it.
#[derive(Debug, Clone)]
pub struct LiveInput {
    pub cloud: CloudConfig,
    pub settings: ClientSettings,
    /// Warnings from resolving the configuration (ignored OS_* variables, TLS off).
    pub warnings: Vec<String>,
    pub save_snapshot: Option<PathBuf>,
}

/// The resolved configuration of one run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub input: Input,
    pub policy: Policy,
    pub formats: BTreeSet<Format>,
    pub output_dir: PathBuf,
    pub quiet: bool,
    pub gate: GateConfig,
    /// Where to write the updated baseline (`--update-baseline`).
    pub update_baseline: Option<PathBuf>,
    pub report_options: ReportOptions,
    /// About the configuration itself (a suppression whose `match` this run's policy
    /// never gives): printed before anything is read.
    pub warnings: Vec<String>,
}

impl RunConfig {
    pub fn resolve(cli: Cli) -> Result<RunConfig, Error> {
        let policy = match &cli.policy {
            Some(path) => Policy::load(path)?,
            None => Policy::default(),
        };
        let mut formats: BTreeSet<Format> = cli.format.iter().copied().map(Format::from).collect();
        if formats.is_empty() {
            formats = [Format::Markdown, Format::Json].into();
        }
        let baseline = match &cli.baseline {
            Some(path) => {
                let loaded = baseline::load(path)?;
                if loaded.is_none() && !cli.update_baseline {
                    return Err(Error::Usage(format!(
                        "baseline file {} does not exist (create it with --update-baseline)",
                        path.display()
                    )));
                }
                Some((display_path(path), loaded))
            }
            None => None,
        };
        let suppressions = match &cli.suppressions {
            Some(path) => Some((display_path(path), suppressions::load(path)?)),
            None => None,
        };
        let warnings = unknown_match_labels(suppressions.as_ref(), &policy);
        let sarif_location =
            if formats.contains(&Format::Sarif) || formats.contains(&Format::CodeQuality) {
                Some(sarif_location(&cli)?)
            } else {
                None
            };
        let input = match cli.snapshot.clone() {
            Some(path) => Input::Snapshot(path),
            None => Input::Live(Box::new(live_input(&cli)?)),
        };
        Ok(RunConfig {
            input,
            policy,
            formats,
            output_dir: cli.output_dir,
            quiet: cli.quiet,
            gate: GateConfig {
                fail_on: cli.fail_on.threshold(),
                baseline,
                suppressions,
                strict_suppressions: cli.strict_suppressions,
                warn_expiring: cli.warn_expiring,
                allow_partial: cli.allow_partial,
            },
            update_baseline: cli.baseline.filter(|_| cli.update_baseline),
            report_options: ReportOptions {
                sarif_location,
                sarif_include_suppressed: cli.sarif_include_suppressed,
            },
            warnings,
        })
    }
}

/// A warning for each suppression whose `match` no finding of this policy carries: it
/// matches nothing (a typo, or a label of another policy: a suppression file shared by
/// jobs with different policies is fine, so this is no error).
fn unknown_match_labels(
    suppressions: Option<&(String, Vec<suppressions::Suppression>)>,
    policy: &Policy,
) -> Vec<String> {
    let Some((file, list)) = suppressions else {
        return Vec::new();
    };
    (list.iter())
        .filter_map(|s| Some((s.index, s.match_label.as_deref()?)))
        .filter(|(_, label)| !policy.knows_label(label))
        .map(|(index, label)| {
            format!(
                "suppression file {file}: suppressions[{index}].match: {label:?} is no match \
                 label of this run's policy (such as 22/SSH, 5900-5999/VNC or all_ports): \
                 it matches nothing"
            )
        })
        .collect()
}

impl Cli {
    /// Parses `args` as `Cli::parse` does, and refuses `--os-cloud` given on the command
    /// line with `--snapshot`: which to audit would be a guess (the snapshot would win, and
    /// a job meant to read the cloud would pass on old data). `OS_CLOUD` from the
    /// environment is no conflict: a snapshot audit does not read it.
    pub fn try_parse_checked<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Cli::command().try_get_matches_from(args)?;
        let cli = Cli::from_arg_matches(&matches)?;
        let given = matches.value_source("os_cloud") == Some(ValueSource::CommandLine);
        if given && cli.snapshot.is_some() {
            return Err(Cli::command().error(
                ErrorKind::ArgumentConflict,
                "the argument '--os-cloud <NAME>' cannot be used with '--snapshot <FILE>': \
                 audit either a saved snapshot or the live cloud",
            ));
        }
        Ok(cli)
    }
}

/// Resolves the cloud (clouds.yaml, secure.yaml, OS_*) and the client settings.
fn live_input(cli: &Cli) -> Result<LiveInput, Error> {
    let resolved = config::resolve(cli.os_cloud.as_deref(), &Lookup::system())?;
    let mut cloud = resolved.cloud;
    let mut warnings = resolved.warnings;
    if cli.insecure && cloud.verify {
        cloud.verify = false;
        warnings.push(format!(
            "--insecure: TLS certificate verification is OFF for {}",
            cloud.auth_url
        ));
    }
    // --timeout, else the cloud's api_timeout, else the client's default (30 s).
    let defaults = ClientSettings::default();
    let timeout = cli
        .timeout
        .or(cloud.api_timeout)
        .unwrap_or(defaults.timeout);
    Ok(LiveInput {
        cloud,
        settings: ClientSettings {
            timeout,
            retries: cli.retries,
            page_size: cli.page_size as usize,
            verbose: cli.verbose,
            max_page_bytes: cli.max_page_bytes,
            keep_raw: cli.save_snapshot.is_some(),
            reverse_after: cli.read_from_end_after,
            ..defaults
        },
        warnings,
        save_snapshot: cli.save_snapshot.clone(),
    })
}

/// A duration (`humantime`: 2s, 500ms, 1m), or `off`.
fn parse_optional_duration(text: &str) -> Result<Option<Duration>, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    humantime::parse_duration(text)
        .map(Some)
        .map_err(|e| format!("{e} (a duration such as 2s or 500ms, or off)"))
}

/// The repository-relative file SARIF results point at.
fn sarif_location(cli: &Cli) -> Result<String, Error> {
    if let Some(path) = &cli.sarif_location {
        if !path.is_file() {
            return Err(Error::Usage(format!(
                "--sarif-location {}: no such file (SARIF results must point at a file in the repository)",
                path.display()
            )));
        }
        return Ok(display_path(path));
    }
    cli.baseline
        .as_deref()
        .or(cli.suppressions.as_deref())
        .map(display_path)
        .ok_or_else(|| {
            Error::Usage(
                "--format sarif and codequality need a repository file for result locations: \
                 pass --baseline, --suppressions or --sarif-location PATH"
                    .into(),
            )
        })
}

/// A path as shown in reports: relative to the current directory when possible, with `/`.
fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let text = relative.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_owned()
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
    fn os_cloud_on_the_command_line_conflicts_with_snapshot() {
        let parse = |args: &[&str]| Cli::try_parse_checked(["driftmux"].iter().chain(args));
        let e = parse(&["--snapshot", "x.json", "--os-cloud", "prod"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
        assert_eq!(e.exit_code(), 2);
        assert!(parse(&["--os-cloud", "prod"]).is_ok());
        assert!(parse(&["--snapshot", "x.json"]).is_ok());
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["driftmux", "--snapshot", "x.json"]).unwrap();
        let config = RunConfig::resolve(cli).unwrap();
        assert_eq!(config.formats.len(), 2);
        assert_eq!(config.gate.fail_on, Some(Severity::High));
        assert_eq!(config.gate.warn_expiring, Duration::from_secs(14 * 86400));
        assert!(config.update_baseline.is_none());
        assert_eq!(config.output_dir, PathBuf::from("reports"));
    }

    #[test]
    fn reading_from_the_end_starts_after_a_duration_or_never() {
        let parse = |extra: &[&str]| {
            let args = ["driftmux", "--snapshot", "x.json"].iter().chain(extra);
            Cli::try_parse_from(args).map(|cli| cli.read_from_end_after)
        };
        assert_eq!(parse(&[]).unwrap(), Some(Duration::from_secs(2)));
        let after = |v: &str| parse(&["--read-from-end-after", v]);
        assert_eq!(after("off").unwrap(), None);
        assert_eq!(after("OFF").unwrap(), None);
        assert_eq!(after("0s").unwrap(), Some(Duration::ZERO));
        assert_eq!(after("500ms").unwrap(), Some(Duration::from_millis(500)));
        let err = after("soon").unwrap_err().to_string();
        assert!(err.contains("or off"), "{err}");
    }
}
