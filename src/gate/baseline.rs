//! The baseline file: the findings a team has approved, committed and reviewed as a diff.
//!
//! A frozen, versioned wire type (`BaselineV1`), separate from the internal `Finding`.
//! Deterministic and reviewable: pretty JSON, entries sorted, one entry per fingerprint,
//! only fields that mean something to a reviewer, and no timestamp that changes on every run
//! (`first_seen` is set once, when the finding first enters the baseline). A run that
//! changes nothing writes a byte-identical file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};

pub const BASELINE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineV1 {
    pub version: u32,
    pub findings: Vec<BaselineEntryV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntryV1 {
    pub fingerprint: String,
    pub severity: SeverityV1,
    pub project_id: String,
    #[serde(default)]
    pub project_name: Option<String>,
    pub security_group_id: String,
    #[serde(default)]
    pub security_group_name: Option<String>,
    pub protocol: String,
    pub ports: String,
    pub source: String,
    pub matched: Vec<String>,
    /// `YYYY-MM-DD`: when the finding entered the baseline.
    pub first_seen: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Severity as the baseline file spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityV1 {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl From<SeverityV1> for Severity {
    fn from(s: SeverityV1) -> Severity {
        match s {
            SeverityV1::Critical => Severity::Critical,
            SeverityV1::High => Severity::High,
            SeverityV1::Medium => Severity::Medium,
            SeverityV1::Low => Severity::Low,
            SeverityV1::Info => Severity::Info,
        }
    }
}

impl From<Severity> for SeverityV1 {
    fn from(s: Severity) -> SeverityV1 {
        match s {
            Severity::Critical => SeverityV1::Critical,
            Severity::High => SeverityV1::High,
            Severity::Medium => SeverityV1::Medium,
            Severity::Low => SeverityV1::Low,
            Severity::Info => SeverityV1::Info,
        }
    }
}

impl BaselineEntryV1 {
    pub fn severity(&self) -> Severity {
        self.severity.into()
    }

    /// The identity used when a fingerprint no longer matches (a group recreated under a
    /// new id): project, group name, protocol, ports, source.
    pub fn name_key(&self) -> Option<NameKey<'_>> {
        Some((
            self.project_id.as_str(),
            self.security_group_name.as_deref()?,
            self.protocol.clone(),
            self.ports.clone(),
            self.source.clone(),
        ))
    }

    fn from_finding(f: &Finding, first_seen: String, note: Option<String>) -> BaselineEntryV1 {
        BaselineEntryV1 {
            fingerprint: f.fingerprint.0.clone(),
            severity: f.severity.into(),
            project_id: f.project_id.clone(),
            project_name: f.project_name.clone(),
            security_group_id: f.security_group_id.clone(),
            security_group_name: f.security_group_name.clone(),
            protocol: f.rule.protocol.name(),
            ports: f.ports.to_string(),
            source: f.source.to_string(),
            matched: f.matched.clone(),
            first_seen,
            note,
        }
    }

    fn sort_key(&self) -> impl Ord + '_ {
        (
            self.project_name.as_deref().unwrap_or(&self.project_id),
            self.project_id.as_str(),
            self.security_group_name
                .as_deref()
                .unwrap_or(&self.security_group_id),
            self.protocol.as_str(),
            self.ports.as_str(),
            self.source.as_str(),
            self.fingerprint.as_str(),
        )
    }
}

/// (project id, group name, protocol, ports, source)
pub type NameKey<'a> = (&'a str, &'a str, String, String, String);

/// The name key of a current finding (None when its group has no name).
pub fn finding_name_key(f: &Finding) -> Option<NameKey<'_>> {
    Some((
        f.project_id.as_str(),
        f.security_group_name.as_deref()?,
        f.rule.protocol.name(),
        f.ports.to_string(),
        f.source.to_string(),
    ))
}

#[derive(Debug, thiserror::Error)]
pub struct BaselineError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "baseline file {}: {}", self.file, self.message)
    }
}

/// A loaded baseline and the exact text it was read from (for the approval diff).
#[derive(Debug, Clone)]
pub struct LoadedBaseline {
    pub baseline: BaselineV1,
    pub text: String,
}

/// Reads a baseline; `Ok(None)` when the file does not exist.
pub fn load(path: &Path) -> Result<Option<LoadedBaseline>, BaselineError> {
    let err = |message: String| BaselineError {
        file: path.display().to_string(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(format!("cannot read: {e}"))),
    };
    let baseline = parse(&text).map_err(err)?;
    Ok(Some(LoadedBaseline { baseline, text }))
}

/// Parses and validates baseline JSON.
pub fn parse(text: &str) -> Result<BaselineV1, String> {
    // Check the version first, so a future format gets a clear message, not a field error.
    let probe: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    match probe.get("version") {
        Some(v) if v.as_u64() == Some(u64::from(BASELINE_VERSION)) => {}
        Some(v) => {
            return Err(format!(
                "`version`: unsupported baseline version {v} (this build reads version {BASELINE_VERSION})"
            ))
        }
        None => return Err("missing field `version`".into()),
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let baseline: BaselineV1 = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = crate::error::json_field(e.path()).map(|p| format!("field `{p}`: "));
        format!("{}{}", field.unwrap_or_default(), e.into_inner())
    })?;
    let mut seen = HashMap::new();
    for (i, entry) in baseline.findings.iter().enumerate() {
        if let Some(first) = seen.insert(entry.fingerprint.as_str(), i) {
            return Err(format!(
                "`findings[{i}].fingerprint`: duplicate of findings[{first}] ({})",
                entry.fingerprint
            ));
        }
        if entry.first_seen.parse::<jiff::civil::Date>().is_err() {
            return Err(format!(
                "`findings[{i}].first_seen`: {:?} is not a date (YYYY-MM-DD)",
                entry.first_seen
            ));
        }
    }
    Ok(baseline)
}

/// Serializes a baseline exactly as it is written to disk.
pub fn render(baseline: &BaselineV1) -> String {
    let mut text = serde_json::to_string_pretty(baseline).expect("baseline serializes");
    text.push('\n');
    text
}

/// The baseline for the current findings: one entry per fingerprint, keeping `first_seen`
/// and `note` of each entry that matched (`previous[i]` is the old entry finding `i`
/// matched, if any); new entries are first seen `today`.
///
/// `project_names_unread`: Keystone's projects could not be read (an audit under
/// `--allow-partial`), so a finding without a project name keeps its entry's name rather
/// than dropping it from the baseline. `kept`: entries the audit could not judge (of
/// projects outside its scope, `GateOutcome::not_audited`), kept as they are.
pub fn updated(
    findings: &[Finding],
    previous: &[Option<&BaselineEntryV1>],
    today: &str,
    project_names_unread: bool,
    kept: &[BaselineEntryV1],
) -> BaselineV1 {
    let mut by_fingerprint: BTreeMap<&str, BaselineEntryV1> = BTreeMap::new();
    for (f, old) in findings.iter().zip(previous) {
        by_fingerprint
            .entry(f.fingerprint.0.as_str())
            .or_insert_with(|| {
                let first_seen = old.map_or_else(|| today.to_owned(), |o| o.first_seen.clone());
                let mut entry =
                    BaselineEntryV1::from_finding(f, first_seen, old.and_then(|o| o.note.clone()));
                if project_names_unread && entry.project_name.is_none() {
                    entry.project_name = old.and_then(|o| o.project_name.clone());
                }
                entry
            });
    }
    for entry in kept {
        (by_fingerprint.entry(entry.fingerprint.as_str())).or_insert_with(|| entry.clone());
    }
    let mut entries: Vec<_> = by_fingerprint.into_values().collect();
    entries.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    BaselineV1 {
        version: BASELINE_VERSION,
        findings: entries,
    }
}

/// A unified diff of the old baseline text to the new one (empty when identical).
pub fn diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"{"fingerprint": "fp1", "severity": "high", "project_id": "p",
        "project_name": "proj", "security_group_id": "g", "security_group_name": "ssh",
        "protocol": "tcp", "ports": "22", "source": "0.0.0.0/0", "matched": ["22/SSH"],
        "first_seen": "2026-01-02"}"#;

    #[test]
    fn parses_and_renders_round_trip() {
        let text = format!(r#"{{"version": 1, "findings": [{ENTRY}]}}"#);
        let b = parse(&text).unwrap();
        assert_eq!(b.findings[0].severity(), Severity::High);
        let rendered = render(&b);
        assert_eq!(parse(&rendered).unwrap(), b);
        assert_eq!(render(&parse(&rendered).unwrap()), rendered);
        assert!(!rendered.contains("note"), "absent note is not written");
    }

    #[test]
    fn bad_baselines_are_named() {
        assert!(parse(r#"{"version": 2, "findings": []}"#)
            .unwrap_err()
            .contains("version 2"));
        assert!(parse(r#"{"findings": []}"#)
            .unwrap_err()
            .contains("version"));
        assert!(parse("{").unwrap_err().contains("invalid JSON"));
        let e = parse(&format!(
            r#"{{"version": 1, "findings": [{ENTRY}, {ENTRY}]}}"#
        ))
        .unwrap_err();
        assert!(
            e.contains("findings[1].fingerprint") && e.contains("duplicate"),
            "{e}"
        );
        let e = parse(&format!(
            r#"{{"version": 1, "findings": [{}]}}"#,
            ENTRY.replace("high", "severe")
        ))
        .unwrap_err();
        assert!(e.contains("findings[0].severity"), "{e}");
        let e = parse(&format!(
            r#"{{"version": 1, "findings": [{}]}}"#,
            ENTRY.replace("2026-01-02", "yesterday")
        ))
        .unwrap_err();
        assert!(e.contains("findings[0].first_seen"), "{e}");
        let e = parse(r#"{"version": 1, "findings": [], "extra": 1}"#).unwrap_err();
        assert!(e.contains("extra"), "{e}");
    }

    #[test]
    fn diff_is_unified_and_empty_when_unchanged() {
        assert_eq!(diff("b.json", "a\n", "a\n"), "");
        let d = diff("b.json", "a\nb\n", "a\nc\n");
        assert!(d.starts_with("--- a/b.json\n+++ b/b.json\n"), "{d}");
        assert!(d.contains("-b\n+c\n"), "{d}");
    }
}
