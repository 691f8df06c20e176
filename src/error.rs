//! The top-level error, its exit code and a `help:` hint for the user.

use std::path::PathBuf;

use crate::audit::policy::PolicyError;
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
    #[error("live OpenStack collection is not available in this build yet{}", cloud.as_ref().map(|c| format!(" (cloud {c:?})")).unwrap_or_default())]
    LiveUnavailable { cloud: Option<String> },
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
            | Error::LiveUnavailable { .. }
            | Error::Write { .. } => exit::USAGE,
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
            Error::LiveUnavailable { .. } => {
                Some("no credentials are read yet: audit a saved inventory with --snapshot FILE")
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
