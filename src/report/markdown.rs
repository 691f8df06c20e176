//! The Markdown report, in the seed's shape: a summary, then one section per project with
//! severity counts and a findings table. Table cells are escaped so a group name holding
//! `|` cannot break the table.

use std::fmt::Write;

use super::by_project;
use crate::audit::AuditReport;
use crate::finding::Severity;

pub fn render(report: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Driftmux report\n");
    let _ = writeln!(out, "## Driftmux OpenStack Neutron Security Group Audit\n");
    let _ = writeln!(out, "- Checked rules: {}", report.checked_rules);
    let _ = writeln!(out, "- Findings: {}", report.findings.len());
    let _ = writeln!(out, "- Errors: {}", report.errors.len());
    if !report.errors.is_empty() {
        let _ = writeln!(out, "\n### Errors\n");
        let _ = writeln!(
            out,
            "The audit is **incomplete**: these parts of the cloud could not be read.\n"
        );
        for e in &report.errors {
            let _ = write!(out, "- `{}`", e.resource);
            if let Some(endpoint) = &e.endpoint {
                let _ = write!(out, " `{endpoint}`");
            }
            if let Some(status) = e.status {
                let _ = write!(out, " (HTTP {status})");
            }
            let _ = writeln!(out, ": {}", cell(&e.message));
        }
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n### Warnings\n");
        for w in &report.warnings {
            let _ = writeln!(out, "- {}", cell(w));
        }
    }
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "\nNo ingress rule exposes a critical port to a public source."
        );
    }
    for section in by_project(&report.findings) {
        let _ = match section.name {
            Some(name) => writeln!(out, "\n### Project: {} `{}`\n", cell(name), section.id),
            None => writeln!(out, "\n### Project: `{}`\n", section.id),
        };
        let _ = writeln!(out, "- Total findings: {}", section.findings.len());
        for severity in Severity::ALL_DESC {
            let label = severity.label();
            let title = format!("{}{}", &label[..1], label[1..].to_ascii_lowercase());
            let _ = writeln!(out, "- {title}: {}", section.count(severity));
        }
        let _ = writeln!(
            out,
            "\n| Severity | Security group | Protocol | Ports | Source | Match | Used by ports | Used by servers | Rule ID |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---:|---:|---|");
        for f in section.findings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f.severity.label(),
                cell(f.group_display()),
                f.rule.protocol,
                f.ports,
                f.source,
                cell(&f.matched.join(", ")),
                f.used_by_ports.len(),
                f.used_by_servers.len(),
                cell(&f.rule.id)
            );
        }
    }
    out
}

/// Escapes text for a Markdown table cell.
pub fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::sample::report()));
    }

    #[test]
    fn pipes_are_escaped() {
        assert_eq!(super::cell("a|b\nc"), "a\\|b c");
    }
}

#[cfg(test)]
mod incomplete_tests {
    #[test]
    fn markdown_incomplete_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::sample::incomplete_report()));
    }
}
