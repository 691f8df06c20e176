//! Findings: what the audit reports, and the vocabulary every output shares.
//!
//! `Severity` is ordered (`Info < Low < Medium < High < Critical`) so a threshold is a
//! comparison. A finding's `fingerprint` is its stable identity for baselines: a SHA-256 of
//! readable facts (project, group id, ethertype, protocol, port range, normalised source),
//! never the rule id, so a rule deleted and recreated identically keeps its fingerprint.
//! The core model knows nothing about output formats: each report module maps it itself.

use std::fmt;

use ipnet::IpNet;
use sha2::{Digest, Sha256};

use compact_str::CompactString;

use crate::id::Id;
use crate::inventory::Rule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Highest first, as reports list them.
    pub const ALL_DESC: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Lower-case name, as in JSON and CSV (`critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Upper-case name, as in the console and Markdown (`CRITICAL`).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the finding's security group is attached to any Neutron port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExposureStatus {
    Active,
    Unused,
    /// Ports were not collected: attachment cannot be told. Severity assumes active.
    Unknown,
}

impl ExposureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExposureStatus::Active => "active",
            ExposureStatus::Unused => "unused",
            ExposureStatus::Unknown => "unknown",
        }
    }
}

/// The destination ports a rule opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortExposure {
    /// Every port (every protocol, or a port-based protocol with no or a full range).
    All,
    /// An inclusive range; `lo == hi` for a single port.
    Range { lo: u16, hi: u16 },
}

impl PortExposure {
    /// The single port, when exactly one is exposed.
    pub fn single(self) -> Option<u16> {
        match self {
            PortExposure::Range { lo, hi } if lo == hi => Some(lo),
            _ => None,
        }
    }

    pub(crate) fn sort_key(self) -> (u16, u16) {
        match self {
            PortExposure::All => (0, u16::MAX),
            PortExposure::Range { lo, hi } => (lo, hi),
        }
    }
}

impl fmt::Display for PortExposure {
    /// `all`, `22` or `80-443`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PortExposure::All => f.write_str("all"),
            PortExposure::Range { lo, hi } if lo == hi => write!(f, "{lo}"),
            PortExposure::Range { lo, hi } => write!(f, "{lo}-{hi}"),
        }
    }
}

/// Which kind of exposure a finding is; decides severity and, in SARIF, the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// All ports open to a public source.
    AllPorts,
    /// One or more critical services open to a public source.
    CriticalService,
    /// Only HTTP/HTTPS open (reported when the policy sets `report_web`).
    Web,
}

impl FindingKind {
    /// The seed's severity model.
    pub fn severity(self, status: ExposureStatus) -> Severity {
        let active = status != ExposureStatus::Unused;
        match (self, active) {
            (FindingKind::AllPorts, true) => Severity::Critical,
            (FindingKind::AllPorts, false) => Severity::High,
            (FindingKind::CriticalService, true) => Severity::High,
            (FindingKind::CriticalService, false) => Severity::Medium,
            (FindingKind::Web, _) => Severity::Info,
        }
    }
}

/// A server using the finding's group, through one of its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRef {
    pub server_id: Id,
    /// Known only when servers were collected (and the record is not partial).
    pub server_name: Option<CompactString>,
    pub status: Option<CompactString>,
    pub project_id: Option<Id>,
}

/// Stable identity of a finding (32 hex digits of a SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    pub fn compute(
        project_id: &str,
        security_group_id: &str,
        rule: &Rule,
        ports: PortExposure,
        source: &IpNet,
    ) -> Fingerprint {
        let identity = format!(
            "driftmux-finding-v1\n{project_id}\n{security_group_id}\n{}\n{}\n{ports}\n{source}",
            rule.ethertype, rule.protocol,
        );
        Fingerprint(digest_hex(&identity))
    }
}

/// The first 16 bytes of the SHA-256 of `identity`, in lower-case hex (32 characters).
pub(crate) fn digest_hex(identity: &str) -> String {
    let digest = Sha256::digest(identity.as_bytes());
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(32);
    for b in &digest[..16] {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hex
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One ingress rule that exposes critical ports (or all ports) to a public source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// The security group's project (the rule's own project may differ).
    pub project_id: String,
    pub project_name: Option<String>,
    pub security_group_id: String,
    pub security_group_name: Option<String>,
    pub rule: Rule,
    pub ports: PortExposure,
    /// The normalised public source (`0.0.0.0/0` for a rule with no remote at all).
    pub source: IpNet,
    /// Match labels: `all_ports`, or `PORT/Service` in port order.
    pub matched: Vec<String>,
    pub status: ExposureStatus,
    pub used_by_ports: Vec<Id>,
    pub used_by_servers: Vec<ServerRef>,
    /// Whether a port using the group can be reached from outside the cloud.
    pub reachable: Reachability,
    /// Floating IPs of the ports using the group (sorted).
    pub floating_ips: Vec<std::net::IpAddr>,
    pub fingerprint: Fingerprint,
}

/// Whether an exposure is reachable from the internet: a port using the group has a
/// floating IP (IPv4 rules), a fixed IP on a `router:external` network, or (IPv6 rules) a
/// global IPv6 address. Severity does not depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachability {
    Reachable,
    NotReachable,
    /// Ports, floating IPs or networks were not collected.
    Unknown,
}

impl Reachability {
    /// `true`, `false` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reachability::Reachable => "true",
            Reachability::NotReachable => "false",
            Reachability::Unknown => "unknown",
        }
    }
}

impl Finding {
    /// The project's name, or its id when the inventory does not name it.
    pub fn project_display(&self) -> &str {
        self.project_name.as_deref().unwrap_or(&self.project_id)
    }

    /// The group's name, or its id when the inventory does not name it.
    pub fn group_display(&self) -> &str {
        self.security_group_name
            .as_deref()
            .unwrap_or(&self.security_group_id)
    }

    /// Report order: project (by name, then id), severity (critical first), group name,
    /// ports, source, rule id.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            (self.project_display(), self.project_id.as_str()),
            std::cmp::Reverse(self.severity),
            self.group_display(),
            self.ports.sort_key(),
            self.source,
            &self.rule.id,
        )
    }
}
