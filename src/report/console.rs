//! The console summary, in the seed's shape, followed by the gate's verdict:
//!
//! ```text
//! OpenStack Neutron Security Group Audit
//! Checked rules: 3254
//! Findings: 340
//! Errors: 0
//!
//! [project-a] total=12 critical=1 high=11 id=<project id>
//!   - CRITICAL sg=default ports=all src=0.0.0.0/0 match=all_ports used_by=3 reachable=true
//!
//! Gate: FAILED (fail-on high)
//!   - 1 new finding(s) at or above high
//!   new=1 escalated=0 unchanged=11 suppressed=0 fixed=2
//!   NEW HIGH [project-a] sg=k8s-master ports=22 src=0.0.0.0/0 match=22/SSH fingerprint=...
//! ```
//! `reachable` (true, false or unknown) extends the seed's line: whether a port using the
//! group can be reached from the internet. Critical and high counts are always shown; medium, low and info when non-zero. The gate
//! lists the findings that fail it (at most `MAX_LISTED`), then fixed entries and
//! suppressions that need attention.

use std::fmt::Write;

use super::{by_project, ReportInput};
use crate::finding::{Finding, Severity};
use crate::gate::GateStatus;

/// Failing findings listed on the console; the reports have them all.
const MAX_LISTED: usize = 50;

pub fn render(input: &ReportInput) -> String {
    let report = input.audit;
    let mut out = String::new();
    let _ = writeln!(out, "OpenStack Neutron Security Group Audit");
    let _ = writeln!(out, "Checked rules: {}", report.checked_rules);
    let _ = writeln!(out, "Findings: {}", report.findings.len());
    let _ = writeln!(out, "Errors: {}", report.errors.len());
    for e in &report.errors {
        let _ = write!(out, "  ! {}", e.resource);
        if let Some(endpoint) = &e.endpoint {
            let _ = write!(out, " {endpoint}");
        }
        if let Some(status) = e.status {
            let _ = write!(out, " (HTTP {status})");
        }
        let _ = writeln!(out, ": {}", e.message);
    }
    for section in by_project(&report.findings) {
        let _ = write!(
            out,
            "\n[{}] total={} critical={} high={}",
            section.display(),
            section.findings.len(),
            section.count(Severity::Critical),
            section.count(Severity::High)
        );
        for severity in [Severity::Medium, Severity::Low, Severity::Info] {
            let n = section.count(severity);
            if n > 0 {
                let _ = write!(out, " {severity}={n}");
            }
        }
        if section.name.is_some() {
            let _ = write!(out, " id={}", section.id);
        }
        out.push('\n');
        for f in section.findings {
            let _ = writeln!(
                out,
                "  - {} sg={} ports={} src={} match={} used_by={} reachable={}",
                f.severity.label(),
                f.group_display(),
                f.ports,
                f.source,
                f.matched.join(","),
                f.used_by_ports.len(),
                f.reachable.as_str()
            );
        }
    }
    gate_section(input, &mut out);
    out
}

fn gate_section(input: &ReportInput, out: &mut String) {
    let gate = input.gate;
    let threshold = gate
        .fail_on
        .map_or_else(|| "none".to_owned(), |s| s.to_string());
    let _ = writeln!(
        out,
        "\nGate: {} (fail-on {threshold})",
        gate.verdict.label()
    );
    for reason in &gate.reasons {
        let _ = writeln!(out, "  - {reason}");
    }
    let c = gate.counts();
    let _ = write!(
        out,
        "  new={} escalated={} unchanged={} suppressed={} fixed={}",
        c.new, c.escalated, c.unchanged, c.suppressed, c.fixed
    );
    if c.not_audited > 0 {
        let _ = write!(out, " not_audited={}", c.not_audited);
    }
    if let Some(path) = &gate.baseline_path {
        let _ = write!(out, " baseline={path}");
    }
    if let Some(path) = &gate.suppressions_path {
        let _ = write!(out, " suppressions={path}");
    }
    out.push('\n');
    let failing: Vec<(&Finding, &crate::gate::FindingGate)> = input
        .audit
        .findings
        .iter()
        .zip(&gate.findings)
        .filter(|(_, g)| g.fails)
        .collect();
    for (f, g) in failing.iter().take(MAX_LISTED) {
        let was = match (g.status, g.baseline_severity) {
            (GateStatus::Escalated, Some(old)) => format!(" (was {})", old.label()),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} {}{was} [{}] sg={} ports={} src={} match={} fingerprint={}",
            g.status.as_str().to_ascii_uppercase(),
            f.severity.label(),
            f.project_display(),
            f.group_display(),
            f.ports,
            f.source,
            f.matched.join(","),
            f.fingerprint
        );
    }
    if failing.len() > MAX_LISTED {
        let _ = writeln!(
            out,
            "  ... and {} more failing finding(s): see the reports",
            failing.len() - MAX_LISTED
        );
    }
    for e in &gate.fixed {
        let _ = writeln!(
            out,
            "  FIXED {} [{}] sg={} ports={} src={} fingerprint={}",
            e.severity().label(),
            e.project_name.as_deref().unwrap_or(&e.project_id),
            e.security_group_name
                .as_deref()
                .unwrap_or(&e.security_group_id),
            e.ports,
            e.source,
            e.fingerprint
        );
    }
    let dated = gate
        .expired()
        .map(|s| ("EXPIRED", "expired", s))
        .chain(gate.expiring().map(|s| ("EXPIRING", "expires", s)));
    for (state, verb, s) in dated {
        let _ = writeln!(
            out,
            "  SUPPRESSION {state} {}: {} ({verb} {})",
            s.suppression.label(),
            s.suppression.reason,
            s.suppression.expires.as_ref().map_or("", |e| &e.text)
        );
    }
    for s in gate.unused() {
        let _ = writeln!(
            out,
            "  SUPPRESSION UNUSED {}: matches no finding",
            s.suppression.label()
        );
    }
    for s in gate.ambiguous() {
        let (label, note) = (s.suppression.label(), s.shared_name_note());
        let _ = writeln!(out, "  SUPPRESSION AMBIGUOUS {label}: {note}");
    }
    let not_judged = gate.not_audited_suppressions().count();
    if not_judged > 0 {
        let _ = writeln!(
            out,
            "  SUPPRESSIONS NOT AUDITED: {not_judged}, matching nothing here but perhaps in \
             projects this audit could not see (not judged unused)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::MAX_LISTED;
    use crate::report::sample;

    #[test]
    fn console_snapshot() {
        insta::assert_snapshot!(sample::render_plain(super::render));
    }

    #[test]
    fn console_gated_snapshot() {
        insta::assert_snapshot!(sample::render_gated(super::render));
    }

    #[test]
    fn console_scoped_snapshot() {
        insta::assert_snapshot!(sample::render_scoped(super::render));
    }

    /// At most `MAX_LISTED` failing findings are listed, then how many more there are.
    #[test]
    fn failing_findings_are_listed_up_to_a_limit() {
        let sample = sample::report();
        let gate = sample::plain_gate(&sample);
        let failing: Vec<_> = (sample.findings.iter().zip(&gate.findings))
            .filter(|(_, g)| g.fails)
            .map(|(f, _)| f.clone())
            .collect();
        assert!(!failing.is_empty());
        let more = "more failing finding(s): see the reports";
        for n in [MAX_LISTED - 1, MAX_LISTED, MAX_LISTED + 2] {
            let mut audit = sample::report();
            audit.findings = failing.iter().cycle().take(n).cloned().collect();
            let out = sample::render_audit(&audit, super::render);
            let listed = out.lines().filter(|l| l.starts_with("  NEW ")).count();
            assert_eq!(listed, n.min(MAX_LISTED), "{out}");
            let said = out.lines().find(|l| l.contains(more));
            match n.checked_sub(MAX_LISTED).filter(|&k| k > 0) {
                Some(k) => assert_eq!(said, Some(format!("  ... and {k} {more}").as_str())),
                None => assert_eq!(said, None, "{out}"),
            }
        }
    }
}
