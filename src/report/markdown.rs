//! The Markdown report: the gate's verdict first (it reads well as a GitHub job summary or
//! a merge-request comment), then the seed's shape: a summary and one section per project
//! with severity counts and a findings table. Table cells are escaped so a group name
//! holding `|` cannot break the table.

use std::fmt::Write;

use super::{by_project, one_or_many, ReportInput};
use crate::finding::{Finding, Severity};
use crate::gate::{FindingGate, GateStatus, SuppressionState, Verdict};

pub fn render(input: &ReportInput) -> String {
    let report = input.audit;
    let mut out = String::new();
    let _ = writeln!(out, "# Driftmux report\n");
    gate_section(input, &mut out);
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
            "\n| Severity | Security group | Protocol | Ports | Source | Match | Used by ports | Used by servers | Rule ID | Internet reachable |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---:|---:|---|---|");
        for f in section.findings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f.severity.label(),
                cell(f.group_display()),
                f.rule.protocol,
                f.ports,
                f.source,
                cell(&f.matched.join(", ")),
                f.used_by_ports.len(),
                f.used_by_servers.len(),
                cell(&f.rule.id.as_str()),
                reachable(f.reachable)
            );
        }
    }
    out
}

fn gate_section(input: &ReportInput, out: &mut String) {
    let gate = input.gate;
    let icon = match gate.verdict {
        Verdict::Passed => "✅",
        Verdict::Failed => "❌",
        Verdict::Incomplete => "⚠️",
    };
    let _ = writeln!(out, "## Gate: {icon} {}\n", gate.verdict.label());
    for reason in &gate.reasons {
        let _ = writeln!(out, "- {}", cell(reason));
    }
    let c = gate.counts();
    let _ = writeln!(
        out,
        "\n| New | Escalated | Unchanged | Suppressed | Fixed |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n",
        c.new, c.escalated, c.unchanged, c.suppressed, c.fixed
    );
    let mut context = vec![format!(
        "Fails on: `{}`",
        gate.fail_on.map_or("none", |s| s.as_str())
    )];
    if let Some(path) = &gate.baseline_path {
        context.push(format!("Baseline: `{path}`"));
    }
    if let Some(path) = &gate.suppressions_path {
        context.push(format!("Suppressions: `{path}`"));
    }
    let _ = writeln!(out, "{}", context.join(" · "));

    let pairs: Vec<(&Finding, &FindingGate)> =
        input.audit.findings.iter().zip(&gate.findings).collect();
    for (status, title) in [
        (GateStatus::New, "New findings"),
        (GateStatus::Escalated, "Escalated findings"),
    ] {
        let rows: Vec<_> = pairs.iter().filter(|(_, g)| g.status == status).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n");
        let _ = writeln!(
            out,
            "| Severity | Gate | Project | Security group | Protocol | Ports | Source | Match | Used by servers | Fingerprint |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---:|---|");
        for (f, g) in rows {
            // A baseline severity here is an escalated finding's (a new one has none).
            let severity = match g.baseline_severity {
                Some(old) => format!("{} (was {})", f.severity.label(), old.label()),
                None => f.severity.label().to_owned(),
            };
            let _ = writeln!(
                out,
                "| {severity} | {} | {} | {} | {} | {} | {} | {} | {} | `{}` |",
                if g.fails {
                    "**fails**"
                } else {
                    "below threshold"
                },
                cell(f.project_display()),
                cell(f.group_display()),
                f.rule.protocol,
                f.ports,
                f.source,
                cell(&f.matched.join(", ")),
                f.used_by_servers.len(),
                f.fingerprint
            );
        }
    }
    let n = gate.not_audited.len();
    if n > 0 {
        let _ = writeln!(
            out,
            "\n{n} baseline {} of projects this audit could not see (a token that is not an \
             admin's sees its project's objects only): kept as {}, not counted as fixed.",
            one_or_many(n, "entry", "entries"),
            one_or_many(n, "it is", "they are")
        );
    }
    let n = gate.not_audited_suppressions().count();
    if n > 0 {
        let _ = writeln!(
            out,
            "\n{n} {} nothing here but might match in projects this audit could not see: not \
             judged unused ({} judged by an audit that sees every project).",
            one_or_many(n, "suppression matches", "suppressions match"),
            one_or_many(n, "it is", "they are")
        );
    }
    if !gate.fixed.is_empty() {
        let _ = writeln!(out, "\n### Fixed (in the baseline, no longer found)\n");
        let _ = writeln!(
            out,
            "| Severity | Project | Security group | Protocol | Ports | Source | Match | Fingerprint |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        for e in &gate.fixed {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | `{}` |",
                e.severity().label(),
                cell(e.project_name.as_deref().unwrap_or(&e.project_id)),
                cell(
                    e.security_group_name
                        .as_deref()
                        .unwrap_or(&e.security_group_id)
                ),
                cell(&e.protocol),
                cell(&e.ports),
                cell(&e.source),
                cell(&e.matched.join(", ")),
                e.fingerprint
            );
        }
    }
    let ambiguous = |s: &SuppressionState| format!("ambiguous: {}", s.shared_name_note());
    let attention: Vec<(String, &SuppressionState)> = gate
        .expired()
        .map(|s| ("expired".to_owned(), s))
        .chain(gate.expiring().map(|s| ("expiring".to_owned(), s)))
        .chain(gate.unused().map(|s| ("unused".to_owned(), s)))
        .chain(gate.ambiguous().map(|s| (ambiguous(s), s)))
        .collect();
    if !attention.is_empty() {
        let _ = writeln!(out, "\n### Suppressions needing attention\n");
        let _ = writeln!(out, "| State | Entry | Reason | Owner | Expires |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for (state, s) in attention {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&state),
                cell(&s.suppression.label()),
                cell(&s.suppression.reason),
                cell(s.suppression.owner.as_deref().unwrap_or("")),
                cell(s.suppression.expires.as_ref().map_or("", |e| &e.text))
            );
        }
    }
    out.push('\n');
}

fn reachable(r: crate::finding::Reachability) -> &'static str {
    match r {
        crate::finding::Reachability::Reachable => "**yes**",
        crate::finding::Reachability::NotReachable => "no",
        crate::finding::Reachability::Unknown => "unknown",
    }
}

/// Escapes text for a Markdown table cell.
pub fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use crate::report::sample;

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(sample::render_plain(super::render));
    }

    #[test]
    fn markdown_gated_snapshot() {
        insta::assert_snapshot!(sample::render_gated(super::render));
    }

    #[test]
    fn markdown_scoped_snapshot() {
        insta::assert_snapshot!(sample::render_scoped(super::render));
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
        insta::assert_snapshot!(crate::report::sample::render_incomplete(super::render));
    }
}
