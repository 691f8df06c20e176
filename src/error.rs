//! The top-level error, its exit code and a `help:` hint for the user.

use std::path::PathBuf;

use crate::audit::policy::PolicyError;
use crate::collect::openstack::config::ConfigError;
use crate::collect::openstack::LiveError;
use crate::collect::snapshot::SnapshotError;
use crate::gate::baseline::BaselineError;
use crate::gate::suppressions::SuppressionError;

/// Exit codes: the contract with pipelines (documented in README.md).
pub mod exit {
    /// The gate passed.
    pub const OK: u8 = 0;
    /// A finding at or above the threshold.
    pub const GATE_FAILED: u8 = 1;
    /// Bad flag, unreadable or malformed input file, or a report that could not be written.
    pub const USAGE: u8 = 2;
    /// The audit could not read everything it needed.
    pub const INCOMPLETE: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Suppressions(#[from] SuppressionError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Cloud(#[from] ConfigError),
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error("the OpenStack API returned data driftmux cannot audit: {0}")]
    InvalidApiData(String),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Snapshot(_)
            | Error::Policy(_)
            | Error::Baseline(_)
            | Error::Suppressions(_)
            | Error::Usage(_)
            | Error::Cloud(_)
            | Error::Live(LiveError::Config(_))
            | Error::Write { .. } => exit::USAGE,
            Error::Live(_) | Error::InvalidApiData(_) => exit::INCOMPLETE,
        }
    }

    pub fn help(&self) -> Option<&'static str> {
        match self {
            Error::Snapshot(_) => Some(
                "a snapshot is one JSON object with at least `security_group_rules`; see README.md (Snapshot format)",
            ),
            Error::Policy(_) => Some(
                "policy keys are critical_ports, replace_critical_ports, report_web and ignore_ports; see README.md (Policy)",
            ),
            Error::Cloud(_) => Some(
                "pass --os-cloud NAME with a clouds.yaml, or source an openrc file (OS_AUTH_URL, OS_USERNAME, ...); or audit a saved inventory with --snapshot FILE",
            ),
            Error::Live(LiveError::Auth(_)) => {
                Some("check the credentials (password, application credential or token) and their scope")
            }
            Error::Live(_) | Error::InvalidApiData(_) => {
                Some("nothing was audited: this is not a pass")
            }
            Error::Baseline(_) => Some(
                "regenerate the baseline with --update-baseline, or fix it by hand; see README.md (Baseline file)",
            ),
            Error::Suppressions(_) => Some(
                "each suppression needs a reason and a fingerprint or matcher; see README.md (Suppression file)",
            ),
            Error::Usage(_) => None,
            Error::Write { .. } => Some("check that the directory is writable"),
        }
    }
}

/// A YAML error in one of the user's files (policy, suppressions) as one message: where, what,
/// and the lines around it under the file's name (`source`). These files hold no secrets;
/// clouds.yaml, which does, is never quoted (`collect::openstack::config`).
pub fn yaml_message(e: &serde_saphyr::Error, source: Option<&str>) -> String {
    let text = e.render_with_options(serde_saphyr::render_options! { source_name: source });
    match text.strip_prefix("error: ") {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// The field a JSON error names (`serde_path_to_error`), for messages: `None` at the top
/// level (`.`); a key the input ended before (`?`) is left off the end.
pub fn json_field(path: &serde_path_to_error::Path) -> Option<String> {
    let text = path.to_string();
    let known = text.trim_end_matches('?').trim_end_matches('.');
    (!known.is_empty()).then(|| known.to_owned())
}
