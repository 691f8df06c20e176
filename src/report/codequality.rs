//! GitLab Code Quality (`.codequality.json`): the issues shown in the merge request widget on
//! every tier. One issue per finding that is not suppressed, keyed by the finding's stable
//! fingerprint (GitLab compares the base and head reports by it), located in the same stable
//! repository file as the SARIF results; and one `blocker` per part of the cloud that could
//! not be read (keyed by the resource), so that an incomplete audit never shows in the widget
//! as a clean one. UTF-8 without BOM.

use std::borrow::Cow;

use serde::Serialize;

use super::{json::title, ReportInput};
use crate::finding::Severity;
use crate::gate::GateStatus;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: String,
    fingerprint: Cow<'a, str>,
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
    let location = || Location {
        path,
        lines: Lines { begin: 1 },
    };
    let incomplete = input.audit.errors.iter().map(|e| Issue {
        description: format!(
            "driftmux: the audit is incomplete: {} could not be read ({}{}: {})",
            e.resource,
            e.endpoint.as_deref().unwrap_or("no endpoint"),
            e.status.map(|s| format!(", HTTP {s}")).unwrap_or_default(),
            e.message
        ),
        check_name: "driftmux-audit-incomplete".to_owned(),
        fingerprint: Cow::Owned(crate::finding::digest_hex(&format!(
            "driftmux-audit-incomplete-v1\n{}",
            e.resource
        ))),
        severity: "blocker",
        location: location(),
    });
    let issues: Vec<Issue> = incomplete
        .chain(
            input
                .audit
                .findings
                .iter()
                .zip(&input.gate.findings)
                .filter(|(_, g)| g.status != GateStatus::Suppressed)
                .map(|(f, g)| Issue {
                    description: format!("{} [gate: {}]", title(f), g.status.as_str()),
                    check_name: super::sarif::rule_id(f),
                    fingerprint: Cow::Borrowed(&f.fingerprint.0),
                    severity: severity(f.severity),
                    location: location(),
                }),
        )
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

    #[test]
    fn an_incomplete_audit_is_a_blocker_first() {
        let text = sample::render_incomplete(super::render);
        insta::assert_snapshot!("codequality_incomplete", text);
        let issues: serde_json::Value = serde_json::from_str(&text).unwrap();
        let first = &issues[0];
        assert_eq!(first["severity"], "blocker");
        assert_eq!(first["check_name"], "driftmux-audit-incomplete");
        assert_eq!(
            first["description"],
            "driftmux: the audit is incomplete: servers could not be read \
             (https://nova.example:8774/v2.1/servers/detail, HTTP 503: Service Unavailable)"
        );
        // Keyed by the resource alone: the same issue from run to run while it lasts.
        let fingerprint = first["fingerprint"].as_str().unwrap();
        assert_eq!(fingerprint.len(), 32);
        let mut other = sample::incomplete_report();
        other.errors[0].message = "timed out".into();
        let again = sample::render_audit(&other, super::render);
        let again: serde_json::Value = serde_json::from_str(&again).unwrap();
        assert_eq!(again[0]["fingerprint"], fingerprint);
        // A complete audit has none.
        let complete: serde_json::Value =
            serde_json::from_str(&sample::render_plain(super::render)).unwrap();
        assert!(complete
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["severity"] != "blocker"));
    }
}
