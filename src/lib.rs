//! driftmux: audit OpenStack Neutron security groups for public exposure of critical ports.
//!
//! Data flows one way:
//! `collect` (a snapshot file or the live OpenStack API) → `inventory` (typed, validated model) →
//! `audit` (policy, detection, usage enrichment → `finding`s) → `gate` (baseline,
//! suppressions, verdict) → `report` (one module per format) → `cli`/`main` (flags, files,
//! exit code).

pub mod audit;
pub mod cli;
pub mod collect;
pub mod error;
pub mod finding;
pub mod fsutil;
pub mod gate;
pub mod id;
pub mod inventory;
mod json_text;
pub mod parallel;
pub mod report;
