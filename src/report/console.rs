//! The console summary, in the seed's shape:
//!
//! ```text
//! OpenStack Neutron Security Group Audit
//! Checked rules: 3254
//! Findings: 340
//! Errors: 0
//!
//! [project-a] total=12 critical=1 high=11 id=<project id>
//!   - CRITICAL sg=default ports=all src=0.0.0.0/0 match=all_ports used_by=3
//! ```
//! Critical and high counts are always shown; medium, low and info when non-zero.

use std::fmt::Write;

use super::by_project;
use crate::audit::AuditReport;
use crate::finding::Severity;

pub fn render(report: &AuditReport) -> String {
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
                "  - {} sg={} ports={} src={} match={} used_by={}",
                f.severity.label(),
                f.group_display(),
                f.ports,
                f.source,
                f.matched.join(","),
                f.used_by_ports.len()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn console_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::sample::report()));
    }
}
