//! The JSON report: frozen wire types (version 1), separate from the internal model.
//!
//! `{"tool", "inventory", "summary", "gate", "errors", "warnings", "findings"}`; each finding
//! uses the common Driftmux finding model of the seed (`scanner`, `host`, `title`,
//! `severity`, `description`, `evidence`, `confidence`, `port`, `service`, `metadata`), and
//! its metadata carries the gate's classification (`gate_status`). The findings are written
//! by `json_findings`, byte for byte what serde_json writes for their wire type (`wire`,
//! kept in the tests as the reference).

use serde::Serialize;

use super::ReportInput;
use crate::finding::{ExposureStatus, Finding, FindingKind, Severity};
use crate::gate::baseline::BaselineEntryV1;
use crate::gate::{GateOutcome, SuppressionState};

/// The report; `F` is its findings: written by `json_findings`, so left empty here (a list
/// of `JsonFinding`s in tests, to compare with).
#[derive(Serialize)]
struct Report<'a, F> {
    tool: Tool,
    inventory: InventoryInfo<'a>,
    summary: Summary,
    gate: Gate<'a>,
    errors: Vec<ErrorEntry<'a>>,
    warnings: &'a [String],
    findings: F,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct InventoryInfo<'a> {
    cloud: Option<&'a str>,
    region: Option<&'a str>,
    collected_at: Option<&'a str>,
    /// The projects a token that was not an admin's saw (absent: every project).
    #[serde(skip_serializing_if = "Option::is_none")]
    project_scope: Option<&'a [String]>,
}

#[derive(Serialize)]
struct Summary {
    checked_rules: usize,
    findings: usize,
    errors: usize,
    by_severity: BySeverity,
}

#[derive(Serialize)]
struct BySeverity {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

#[derive(Serialize)]
struct Gate<'a> {
    verdict: &'static str,
    reasons: &'a [String],
    fail_on: Option<&'static str>,
    strict_suppressions: bool,
    baseline: Option<&'a str>,
    suppressions_file: Option<&'a str>,
    counts: GateCounts,
    fixed: &'a [BaselineEntryV1],
    suppressions: Vec<SuppressionEntry<'a>>,
}

#[derive(Serialize)]
struct GateCounts {
    new: usize,
    escalated: usize,
    unchanged: usize,
    suppressed: usize,
    fixed: usize,
    /// Baseline entries of projects outside a scoped audit (see `gate`): kept, not judged.
    not_audited: usize,
    failing: usize,
}

#[derive(Serialize)]
struct SuppressionEntry<'a> {
    entry: String,
    state: &'static str,
    reason: &'a str,
    owner: Option<&'a str>,
    expires: Option<&'a str>,
    expiring: bool,
    matched: usize,
    /// The projects sharing the name its `project` gives, when no fingerprint pins it
    /// (it applies to each: `SuppressionState::shared_project_ids`); left out otherwise.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    shared_project_ids: &'a [String],
}

#[derive(Serialize)]
struct ErrorEntry<'a> {
    resource: &'a str,
    endpoint: Option<&'a str>,
    status: Option<u16>,
    message: &'a str,
}

pub fn render(input: &ReportInput) -> String {
    let mut out = Vec::new();
    write(input, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes the report: the document up to its findings, the findings rendered in pieces on
/// every core and written in order as they are ready, then the end: together, byte for
/// byte what serde_json's pretty printer writes for the whole report (`findings` is its
/// last field).
pub fn write(input: &ReportInput, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let text = super::pretty::to_string_line(&wire(input)).expect("report serializes");
    // `findings`, the last field, one level deep.
    let at = text.len() - "[]\n}\n".len();
    super::pretty::write_spliced(
        out,
        &text,
        at,
        1,
        &input.audit.findings,
        PIECE,
        |start, piece| findings_pretty(input, start, piece),
    )
}

/// The report without its findings.
fn wire<'a>(input: &ReportInput<'a>) -> Report<'a, [(); 0]> {
    with_findings(input, [])
}

/// The report with `findings` as its findings.
fn with_findings<'a, F>(input: &ReportInput<'a>, findings: F) -> Report<'a, F> {
    let report = input.audit;
    let count = |s| super::count(&report.findings, s);
    Report {
        tool: Tool {
            name: "driftmux",
            version: env!("CARGO_PKG_VERSION"),
        },
        inventory: InventoryInfo {
            cloud: report.meta.cloud.as_deref(),
            region: report.meta.region.as_deref(),
            collected_at: report.meta.collected_at.as_deref(),
            project_scope: report.meta.project_scope.as_deref(),
        },
        summary: Summary {
            checked_rules: report.checked_rules,
            findings: report.findings.len(),
            errors: report.errors.len(),
            by_severity: BySeverity {
                critical: count(Severity::Critical),
                high: count(Severity::High),
                medium: count(Severity::Medium),
                low: count(Severity::Low),
                info: count(Severity::Info),
            },
        },
        gate: gate(input.gate),
        errors: report
            .errors
            .iter()
            .map(|e| ErrorEntry {
                resource: &e.resource,
                endpoint: e.endpoint.as_deref(),
                status: e.status,
                message: &e.message,
            })
            .collect(),
        warnings: &report.warnings,
        findings,
    }
}

/// Findings rendered at a time by one thread (about a MiB of JSON).
const PIECE: usize = 256;

/// Findings `start..` (`piece`) as elements of the pretty-printed `findings` array (two
/// levels deep), each preceded by its separator.
fn findings_pretty(input: &ReportInput, start: usize, piece: &[Finding]) -> Vec<u8> {
    let mut out = Vec::with_capacity(piece.len() * 5120);
    let gate = input.gate;
    super::json_findings::write_findings(
        &mut out,
        start == 0,
        piece.iter().zip(&gate.findings[start..]),
        gate,
    );
    out
}

/// `OpenStack security group exposure: datalab/default exposes all ports to 0.0.0.0/0
/// (all_ports) [active, servers=2]`
pub fn title(f: &Finding) -> String {
    let usage = match f.status {
        ExposureStatus::Unknown => "usage unknown".to_owned(),
        status => format!("{}, servers={}", status.as_str(), f.used_by_servers.len()),
    };
    format!(
        "OpenStack security group exposure: {}/{} exposes {} to {} ({}) [{usage}]",
        f.project_display(),
        f.group_display(),
        super::describe_ports(f),
        f.source,
        f.matched.join(", "),
    )
}

/// The rule as the API returned it (Python-style `None` for nulls, as in the seed).
pub fn evidence(f: &Finding) -> String {
    fn or_none<T: ToString>(v: Option<T>) -> String {
        v.map_or_else(|| "None".to_owned(), |v| v.to_string())
    }
    format!(
        "rule_id={} sg={} project={} direction=ingress protocol={} ports={}-{} remote_ip_prefix={} used_by_ports={} used_by_servers={} exposure_status={}",
        f.rule.id,
        f.group_display(),
        f.project_display(),
        or_none(f.rule.raw_protocol.as_deref()),
        or_none(f.rule.port_range_min),
        or_none(f.rule.port_range_max),
        or_none(f.rule.raw_remote_ip_prefix.as_deref().filter(|p| !p.is_empty())),
        f.used_by_ports.len(),
        f.used_by_servers.len(),
        f.status.as_str(),
    )
}

pub fn description(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::AllPorts | FindingKind::CriticalService => {
            "OpenStack Neutron security group rule exposes a critical port or port range to a public CIDR."
        }
        FindingKind::Web => {
            "OpenStack Neutron security group rule exposes HTTP/HTTPS to a public CIDR."
        }
    }
}

fn gate(g: &GateOutcome) -> Gate<'_> {
    let c = g.counts();
    Gate {
        verdict: g.verdict.as_str(),
        reasons: &g.reasons,
        fail_on: g.fail_on.map(Severity::as_str),
        strict_suppressions: g.strict_suppressions,
        baseline: g.baseline_path.as_deref(),
        suppressions_file: g.suppressions_path.as_deref(),
        counts: GateCounts {
            new: c.new,
            escalated: c.escalated,
            unchanged: c.unchanged,
            suppressed: c.suppressed,
            fixed: c.fixed,
            not_audited: c.not_audited,
            failing: c.failing,
        },
        fixed: &g.fixed,
        suppressions: g.suppressions.iter().map(suppression).collect(),
    }
}

fn suppression(s: &SuppressionState) -> SuppressionEntry<'_> {
    SuppressionEntry {
        entry: s.suppression.label(),
        state: if s.expired {
            "expired"
        } else if s.not_audited {
            "not_audited"
        } else if s.matched == 0 {
            "unused"
        } else {
            "active"
        },
        reason: &s.suppression.reason,
        owner: s.suppression.owner.as_deref(),
        expires: s.suppression.expires.as_ref().map(|e| e.text.as_str()),
        expiring: s.expiring,
        matched: s.matched,
        shared_project_ids: &s.shared_project_ids,
    }
}

/// The findings as serde_json would write them: what `json_findings` writes by hand, and
/// what the tests compare it with (the seed's finding model, then metadata with the gate's
/// classification).
#[cfg(test)]
pub(crate) mod wire {
    use serde::Serialize;

    use super::{description, evidence, title};
    use crate::finding::{Finding, Severity};
    use crate::gate::{FindingGate, GateOutcome};
    use crate::id::Id;

    #[derive(Serialize)]
    pub(crate) struct JsonFinding<'a> {
        scanner: &'static str,
        host: &'static str,
        title: String,
        severity: &'static str,
        description: &'static str,
        evidence: String,
        confidence: &'static str,
        port: Option<u16>,
        service: &'static str,
        metadata: Metadata<'a>,
    }

    #[derive(Serialize)]
    struct Metadata<'a> {
        event_type: &'static str,
        project_id: &'a str,
        project_name: Option<&'a str>,
        security_group_id: &'a str,
        security_group_name: Option<&'a str>,
        remote_ip_prefix: String,
        matched: &'a [String],
        used_by_count: usize,
        used_by_server_count: usize,
        used_by_ports: &'a [Id],
        used_by_servers: Vec<ServerEntry<'a>>,
        exposure_status: &'static str,
        /// `true`, `false`, or `"unknown"`.
        internet_reachable: serde_json::Value,
        floating_ips: Vec<String>,
        rule_id: &'a Id,
        rule_project_id: Option<&'a Id>,
        direction: &'static str,
        ethertype: &'static str,
        protocol: String,
        port_range_min: Option<u16>,
        port_range_max: Option<u16>,
        ports: String,
        fingerprint: &'a str,
        gate_status: &'static str,
        gate_fails: bool,
        baseline_severity: Option<&'static str>,
        baseline_matched_by: Option<&'static str>,
        suppression_reason: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct ServerEntry<'a> {
        server_id: &'a Id,
        server_name: Option<&'a str>,
        status: Option<&'a str>,
        project_id: Option<&'a Id>,
    }

    pub(crate) fn finding<'a>(
        f: &'a Finding,
        g: &FindingGate,
        gate: &'a GateOutcome,
    ) -> JsonFinding<'a> {
        JsonFinding {
            scanner: "openstack",
            host: "openstack:neutron",
            title: title(f),
            severity: f.severity.as_str(),
            description: description(f.kind),
            evidence: evidence(f),
            confidence: "high",
            port: f.ports.single(),
            service: "neutron-security-group",
            metadata: Metadata {
                event_type: "openstack_security_group_exposure",
                project_id: &f.project_id,
                project_name: f.project_name.as_deref(),
                security_group_id: &f.security_group_id,
                security_group_name: f.security_group_name.as_deref(),
                remote_ip_prefix: f.source.to_string(),
                matched: &f.matched,
                used_by_count: f.used_by_ports.len(),
                used_by_server_count: f.used_by_servers.len(),
                used_by_ports: &f.used_by_ports,
                used_by_servers: f
                    .used_by_servers
                    .iter()
                    .map(|s| ServerEntry {
                        server_id: &s.server_id,
                        server_name: s.server_name.as_deref(),
                        status: s.status.as_deref(),
                        project_id: s.project_id.as_ref(),
                    })
                    .collect(),
                exposure_status: f.status.as_str(),
                internet_reachable: match f.reachable {
                    crate::finding::Reachability::Reachable => true.into(),
                    crate::finding::Reachability::NotReachable => false.into(),
                    crate::finding::Reachability::Unknown => "unknown".into(),
                },
                floating_ips: f.floating_ips.iter().map(ToString::to_string).collect(),
                rule_id: &f.rule.id,
                rule_project_id: f.rule.project_id.as_ref(),
                direction: "ingress",
                ethertype: f.rule.ethertype.as_str(),
                protocol: f.rule.protocol.name(),
                port_range_min: f.rule.port_range_min,
                port_range_max: f.rule.port_range_max,
                ports: f.ports.to_string(),
                fingerprint: &f.fingerprint.0,
                gate_status: g.status.as_str(),
                gate_fails: g.fails,
                baseline_severity: g.baseline_severity.map(Severity::as_str),
                baseline_matched_by: g.baseline_entry.map(|(_, by)| by.as_str()),
                suppression_reason: g
                    .suppression
                    .map(|i| gate.suppressions[i].suppression.reason.as_str()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::report::sample;

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(sample::render_plain(super::render));
    }

    #[test]
    fn json_gated_snapshot() {
        insta::assert_snapshot!(sample::render_gated(super::render));
    }

    /// Findings written by hand (`json_findings`) in pieces on several threads and spliced
    /// in read exactly as serde_json's `to_string_pretty` of the whole report, with every
    /// kind of value: text and UUID ids, names to escape (quotes, backslashes, control
    /// characters, non-ASCII) or missing, each reachability, servers with and without
    /// names, floating IPs, and the gate's every status.
    #[test]
    fn handwritten_findings_are_serde_pretty_json() {
        use crate::finding::{Reachability, ServerRef};
        use crate::id::Id;

        let mut report = sample::report();
        report.findings = sample::findings_repeated(&report, 3 * super::PIECE);
        let odd = [
            "quote \" back\\slash",
            "tab\tnew\nline\r\u{8}\u{c}\u{1}\u{1f}\u{7f}",
            "\u{e9}t\u{e9} \u{1F600} \u{2028}",
            "",
        ];
        let uuid = Id::new("0b1c87eb-f033-5c44-a4d4-be0b44673a25");
        for (i, f) in report.findings.iter_mut().enumerate() {
            let name = odd[i % odd.len()];
            match i % 5 {
                0 => f.security_group_name = Some(name.to_owned()),
                1 => f.project_name = Some(name.to_owned()),
                2 => f.security_group_name = None,
                3 => f.project_name = None,
                _ => f.project_id = name.to_owned(),
            }
            f.reachable = [
                Reachability::Reachable,
                Reachability::NotReachable,
                Reachability::Unknown,
            ][i % 3];
            if i % 4 == 0 {
                f.used_by_ports.push(uuid.clone());
                f.used_by_servers.push(ServerRef {
                    server_id: Id::new("server \"x\""),
                    server_name: Some(name.into()),
                    status: None,
                    project_id: Some(uuid.clone()),
                });
                f.floating_ips.push("203.0.113.7".parse().unwrap());
                f.floating_ips.push("2001:db8::1".parse().unwrap());
            }
            if i % 7 == 0 {
                f.used_by_ports.clear();
                f.used_by_servers.clear();
                f.floating_ips.clear();
            }
        }
        assert_serde_pretty(&report, &sample::full_gate(&report));
    }

    /// Findings with names, ids, lists and addresses drawn at random (a fixed seed): every
    /// character class JSON escapes or not, UUID, Keystone and text ids, empty and long
    /// lists. Written by hand exactly as serde_json writes them.
    #[test]
    fn random_findings_are_serde_pretty_json() {
        use crate::finding::{Reachability, ServerRef};
        use crate::id::Id;

        struct Rng(u64);
        impl Rng {
            fn below(&mut self, n: usize) -> usize {
                // xorshift64
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 % n as u64) as usize
            }
            fn text(&mut self) -> String {
                const CHARS: &[char] = &[
                    'a',
                    'Z',
                    '0',
                    ' ',
                    '-',
                    '/',
                    '{',
                    '"',
                    '\\',
                    '\u{0}',
                    '\u{8}',
                    '\t',
                    '\n',
                    '\u{b}',
                    '\u{c}',
                    '\r',
                    '\u{1b}',
                    '\u{1f}',
                    '\u{7f}',
                    '\u{80}',
                    '\u{e9}',
                    '\u{2028}',
                    '\u{fffd}',
                    '\u{1F600}',
                ];
                (0..self.below(14))
                    .map(|_| CHARS[self.below(CHARS.len())])
                    .collect()
            }
            fn id(&mut self) -> Id {
                let (a, b) = (self.0, self.0.rotate_left(29) ^ 0x5bd1_e995);
                self.below(2);
                match self.below(3) {
                    0 => Id::new(&format!(
                        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                        a >> 32,
                        a & 0xffff,
                        b >> 48,
                        (b >> 32) & 0xffff,
                        b & 0xffff_ffff_ffff
                    )),
                    1 => Id::new(&format!("{a:016x}{b:016x}")),
                    _ => Id::new(&self.text()),
                }
            }
            fn maybe_text(&mut self) -> Option<String> {
                (self.below(4) > 0).then(|| self.text())
            }
        }

        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut report = sample::report();
        report.findings = sample::findings_repeated(&report, 2 * super::PIECE + 17);
        for f in &mut report.findings {
            f.project_id = rng.text();
            f.project_name = rng.maybe_text();
            f.security_group_id = rng.text();
            f.security_group_name = rng.maybe_text();
            f.matched = (0..rng.below(4)).map(|_| rng.text()).collect();
            f.used_by_ports = (0..rng.below(6)).map(|_| rng.id()).collect();
            f.used_by_servers = (0..rng.below(4))
                .map(|_| ServerRef {
                    server_id: rng.id(),
                    server_name: rng.maybe_text().map(Into::into),
                    status: rng.maybe_text().map(Into::into),
                    project_id: (rng.below(3) > 0).then(|| rng.id()),
                })
                .collect();
            f.floating_ips = (0..rng.below(4))
                .map(|i| match i % 2 {
                    0 => std::net::IpAddr::from([203, 0, 113, rng.below(256) as u8]),
                    _ => std::net::IpAddr::from([
                        0x2001,
                        0xdb8,
                        0,
                        0,
                        0,
                        0,
                        0,
                        rng.below(65536) as u16,
                    ]),
                })
                .collect();
            f.reachable = [
                Reachability::Reachable,
                Reachability::NotReachable,
                Reachability::Unknown,
            ][rng.below(3)];
        }
        assert_serde_pretty(&report, &sample::plain_gate(&report));
    }

    /// The report as written (the findings by hand, in pieces on several threads) is
    /// serde_json's `to_string_pretty` of the whole report, byte for byte.
    fn assert_serde_pretty(report: &crate::audit::AuditReport, gate: &crate::gate::GateOutcome) {
        let options = crate::report::ReportOptions::default();
        let input = crate::report::ReportInput {
            audit: report,
            gate,
            options: &options,
        };
        let rendered = super::render(&input);
        let findings: Vec<_> = report
            .findings
            .iter()
            .zip(&gate.findings)
            .map(|(f, g)| super::wire::finding(f, g, gate))
            .collect();
        let whole = super::with_findings(&input, findings);
        let expected = serde_json::to_string_pretty(&whole).unwrap() + "\n";
        if rendered != expected {
            let at = rendered
                .bytes()
                .zip(expected.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(rendered.len().min(expected.len()));
            let around = |text: &str| {
                let bytes = text.as_bytes();
                String::from_utf8_lossy(&bytes[at.saturating_sub(200)..(at + 100).min(bytes.len())])
                    .into_owned()
            };
            panic!(
                "the report differs from serde_json's at byte {at}:\n ours: {:?}\n serde: {:?}",
                around(&rendered),
                around(&expected),
            );
        }
    }
}
