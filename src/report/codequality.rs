//! GitLab Code Quality (`.codequality.json`): the issues shown in the merge request widget on
//! every tier. One issue per finding that is not suppressed, keyed by the finding's stable
//! fingerprint (GitLab compares the base and head reports by it), located in the same stable
//! repository file as the SARIF results. UTF-8 without BOM.

use serde::Serialize;

use super::{json::title, ReportInput};
use crate::finding::Severity;
use crate::gate::GateStatus;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: String,
    fingerprint: &'a str,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// GitLab's severities: info, minor, major, critical, blocker.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "major",
        Severity::Medium => "minor",
        Severity::Low | Severity::Info => "info",
    }
}

pub fn render(input: &ReportInput) -> String {
    let path = input
        .options
        .sarif_location
        .as_deref()
        .unwrap_or("README.md");
    let issues: Vec<Issue> = input
        .audit
        .findings
        .iter()
        .zip(&input.gate.findings)
        .filter(|(_, g)| g.status != GateStatus::Suppressed)
        .map(|(f, g)| Issue {
            description: format!("{} [gate: {}]", title(f), g.status.as_str()),
            check_name: match f.kind {
                crate::finding::FindingKind::AllPorts => "openstack-sg-public-all-ports".to_owned(),
                _ => format!(
                    "openstack-sg-public-{}",
                    super::sarif::slug(f.matched.first().map_or("", String::as_str))
                ),
            },
            fingerprint: &f.fingerprint.0,
            severity: severity(f.severity),
            location: Location {
                path,
                lines: Lines { begin: 1 },
            },
        })
        .collect();
    super::pretty::to_string_line(&issues).expect("serializes")
}

#[cfg(test)]
mod tests {
    use crate::report::sample;

    #[test]
    fn codequality_snapshot() {
        insta::assert_snapshot!(sample::render_gated(super::render));
    }

    #[test]
    fn fields_and_severities() {
        let text = sample::render_gated(super::render);
        assert!(!text.starts_with('\u{feff}'));
        let issues: serde_json::Value = serde_json::from_str(&text).unwrap();
        let issues = issues.as_array().unwrap();
        assert_eq!(issues.len(), 5, "the suppressed finding is left out");
        for i in issues {
            for key in ["description", "check_name", "fingerprint", "severity"] {
                assert!(i[key].is_string(), "{key}: {i}");
            }
            assert_eq!(i["location"]["lines"]["begin"], 1);
            assert!(
                ["critical", "major", "minor", "info"].contains(&i["severity"].as_str().unwrap())
            );
        }
        assert_eq!(issues[0]["severity"], "critical");
    }
}
