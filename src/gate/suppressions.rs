//! The suppression file: findings a team has accepted, each with a reason and an optional
//! expiry. Like cargo-deny's ignores, a suppression that matches nothing is reported as
//! unused and an expired one stops suppressing and is reported, so the file cannot rot.
//!
//! ```yaml
//! version: 1
//! suppressions:
//!   - fingerprint: "4a55522390b5736a55df01bd21e71d4d"   # one finding, or matchers:
//!     project: datalab          # project name or id
//!     security_group: bastion   # group name or id
//!     match: 22/SSH             # a match label of the finding
//!     source: 0.0.0.0/0         # the finding's (normalised) source CIDR
//!     reason: "Bastion behind MFA, reviewed by netsec"   # required
//!     expires: 2027-03-31       # optional: a date (valid through that day, UTC) or RFC 3339
//!     owner: netops             # optional
//! ```
//! Every given matcher must hold. An entry needs at least one matcher and a reason.

use std::fmt;
use std::path::Path;

use ipnet::IpNet;
use jiff::Timestamp;
use serde::Deserialize;

use crate::audit::detect::is_public;
use crate::finding::Finding;
use crate::inventory::parse_prefix;

pub const SUPPRESSIONS_VERSION: u32 = 1;

/// One validated suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Position in the file (`suppressions[N]`).
    pub index: usize,
    pub fingerprint: Option<String>,
    pub project: Option<String>,
    pub security_group: Option<String>,
    pub match_label: Option<String>,
    pub source: Option<IpNet>,
    pub reason: String,
    pub expires: Option<Expiry>,
    pub owner: Option<String>,
}

/// When a suppression stops applying, and how the file wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// The first instant at which the suppression no longer applies.
    pub at: Timestamp,
    pub text: String,
}

impl Suppression {
    /// Whether the suppression no longer applies at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires.as_ref().is_some_and(|e| now >= e.at)
    }

    /// Whether it is still valid at `now` but expires within `within`.
    pub fn is_expiring(&self, now: Timestamp, within: std::time::Duration) -> bool {
        self.expires.as_ref().is_some_and(|e| {
            now < e.at
                && e.at.as_millisecond() - now.as_millisecond()
                    <= i64::try_from(within.as_millis()).unwrap_or(i64::MAX)
        })
    }

    /// Whether every matcher of the suppression holds for `finding`.
    pub fn matches(&self, finding: &Finding) -> bool {
        let name_or_id = |wanted: &Option<String>, id: &str, name: Option<&str>| {
            wanted.as_deref().is_none_or(|w| w == id || Some(w) == name)
        };
        self.fingerprint
            .as_deref()
            .is_none_or(|fp| fp == finding.fingerprint.0)
            && name_or_id(
                &self.project,
                &finding.project_id,
                finding.project_name.as_deref(),
            )
            && name_or_id(
                &self.security_group,
                &finding.security_group_id,
                finding.security_group_name.as_deref(),
            )
            && self
                .match_label
                .as_deref()
                .is_none_or(|m| finding.matched.iter().any(|l| l.eq_ignore_ascii_case(m)))
            && self.source.is_none_or(|s| s == finding.source)
    }

    /// `suppressions[2] (fingerprint 4a55…)`: how messages name this entry.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(fp) = &self.fingerprint {
            parts.push(format!("fingerprint {fp}"));
        }
        if let Some(p) = &self.project {
            parts.push(format!("project {p}"));
        }
        if let Some(g) = &self.security_group {
            parts.push(format!("security_group {g}"));
        }
        if let Some(m) = &self.match_label {
            parts.push(format!("match {m}"));
        }
        if let Some(s) = &self.source {
            parts.push(format!("source {s}"));
        }
        format!("suppressions[{}] ({})", self.index, parts.join(", "))
    }
}

#[derive(Debug, thiserror::Error)]
pub struct SuppressionError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for SuppressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "suppression file {}: {}", self.file, self.message)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    version: u32,
    #[serde(default)]
    suppressions: Vec<EntryV1>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryV1 {
    fingerprint: Option<String>,
    project: Option<String>,
    security_group: Option<String>,
    #[serde(rename = "match")]
    match_label: Option<String>,
    source: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
    owner: Option<String>,
}

/// Reads and validates a suppression file.
pub fn load(path: &Path) -> Result<Vec<Suppression>, SuppressionError> {
    let err = |message: String| SuppressionError {
        file: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    parse_source(&text, Some(&path.display().to_string())).map_err(err)
}

/// Parses suppression YAML; every problem names its entry.
pub fn parse(text: &str) -> Result<Vec<Suppression>, String> {
    parse_source(text, None)
}

/// `parse`, naming the file `source` in a YAML error's quoted lines.
fn parse_source(text: &str, source: Option<&str>) -> Result<Vec<Suppression>, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "the file is empty (write `version: {SUPPRESSIONS_VERSION}` and a `suppressions:` list)"
        ));
    }
    let file: FileV1 =
        serde_saphyr::from_str(text).map_err(|e| crate::error::yaml_message(&e, source))?;
    if file.version != SUPPRESSIONS_VERSION {
        return Err(format!(
            "`version`: unsupported version {} (this build reads version {SUPPRESSIONS_VERSION})",
            file.version
        ));
    }
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (index, e) in file.suppressions.into_iter().enumerate() {
        let at = |field: &str| format!("suppressions[{index}].{field}");
        let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let reason = clean(e.reason);
        if reason.is_none() {
            problems.push(format!("{}: a reason is required", at("reason")));
        }
        let source = match clean(e.source) {
            Some(text) => match parse_prefix(&text) {
                Ok(net) if is_public(&net) => Some(net),
                Ok(net) => {
                    problems.push(format!(
                        "{}: {net} is not a public source, and every finding's source is \
                         (see README.md, What is reported): it could match nothing",
                        at("source")
                    ));
                    None
                }
                Err(m) => {
                    problems.push(format!("{}: {m}", at("source")));
                    None
                }
            },
            None => None,
        };
        let expires = match clean(e.expires) {
            Some(text) => match parse_expiry(&text) {
                Ok(ts) => Some(Expiry { at: ts, text }),
                Err(m) => {
                    problems.push(format!("{}: {m}", at("expires")));
                    None
                }
            },
            None => None,
        };
        // Reports write fingerprints in lowercase; one copied in capitals still matches.
        let fingerprint = clean(e.fingerprint).map(|f| f.to_ascii_lowercase());
        if let Some(f) = fingerprint.as_deref().filter(|f| !is_fingerprint(f)) {
            problems.push(format!(
                "{}: {f:?} is not a finding's fingerprint (32 hexadecimal digits, as every \
                 report shows it): it could match nothing",
                at("fingerprint")
            ));
        }
        let s = Suppression {
            index,
            fingerprint,
            project: clean(e.project),
            security_group: clean(e.security_group),
            match_label: clean(e.match_label),
            source,
            reason: reason.unwrap_or_default(),
            expires,
            owner: clean(e.owner),
        };
        if s.fingerprint.is_none()
            && s.project.is_none()
            && s.security_group.is_none()
            && s.match_label.is_none()
            && s.source.is_none()
        {
            problems.push(format!(
                "suppressions[{index}]: needs a fingerprint or at least one of project, \
                 security_group, match, source (it would suppress everything)"
            ));
        }
        out.push(s);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("; "))
    }
}

/// Whether `text` has the form of a finding's fingerprint (see `finding::Fingerprint`).
fn is_fingerprint(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `2027-03-31` (valid through that day, UTC) or an RFC 3339 timestamp.
fn parse_expiry(text: &str) -> Result<Timestamp, String> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        format!("{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 timestamp")
    })?;
    date.tomorrow()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
        .map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_date_expiry_is_end_of_day_utc() {
        let s = parse(
            "version: 1\nsuppressions:\n  - security_group: bastion\n    match: 22/SSH\n    source: 0.0.0.0/0\n    reason: MFA\n    expires: 2027-03-31\n    owner: netops\n",
        )
        .unwrap();
        assert_eq!(s.len(), 1);
        let e = s[0].expires.as_ref().unwrap();
        assert_eq!(e.at.to_string(), "2027-04-01T00:00:00Z");
        let before = "2027-03-31T23:59:59Z".parse().unwrap();
        let after = "2027-04-01T00:00:00Z".parse().unwrap();
        assert!(!s[0].is_expired(before));
        assert!(s[0].is_expired(after));
        assert!(s[0].is_expiring(before, std::time::Duration::from_secs(60)));
        assert!(!s[0].is_expiring(after, std::time::Duration::from_secs(60)));
        // Three days ahead: expiring within four days, not within two.
        let ahead = "2027-03-29T00:00:00Z".parse().unwrap();
        assert!(s[0].is_expiring(ahead, std::time::Duration::from_secs(4 * 86400)));
        assert!(!s[0].is_expiring(ahead, std::time::Duration::from_secs(2 * 86400)));
    }

    #[test]
    fn rfc3339_expiry() {
        let s = parse("version: 1\nsuppressions:\n  - fingerprint: 4a55522390b5736a55df01bd21e71d4d\n    reason: r\n    expires: \"2027-01-01T12:00:00+02:00\"\n").unwrap();
        assert_eq!(
            s[0].expires.as_ref().unwrap().at.to_string(),
            "2027-01-01T10:00:00Z"
        );
    }

    /// A fingerprint that is not 32 hexadecimal digits could match nothing: refused,
    /// naming the entry. One in capitals is the same fingerprint.
    #[test]
    fn fingerprints_are_checked_and_read_in_lowercase() {
        for bad in [
            "abc",
            "4a55522390b5736a55df01bd21e71d4",
            "4a55522390b5736a55df01bd21e71d4g",
        ] {
            let text = format!(
                "version: 1\nsuppressions:\n  - fingerprint: a1b2c3d4e5f60718293a4b5c6d7e8f90\n    \
                 reason: r\n  - fingerprint: {bad}\n    reason: r\n"
            );
            let e = parse(&text).unwrap_err();
            assert!(
                e.contains("suppressions[1].fingerprint") && e.contains(bad),
                "{e}"
            );
            assert!(!e.contains("suppressions[0]"), "{e}");
        }
        let s = parse(
            "version: 1\nsuppressions:\n  - fingerprint: \"4A55522390B5736A55DF01BD21E71D4D\"\n    reason: r\n",
        )
        .unwrap();
        assert_eq!(
            s[0].fingerprint.as_deref(),
            Some("4a55522390b5736a55df01bd21e71d4d")
        );
    }

    #[test]
    fn problems_name_the_entry() {
        let e =
            parse("version: 1\nsuppressions:\n  - fingerprint: 4a55522390b5736a55df01bd21e71d4d\n")
                .unwrap_err();
        assert!(e.contains("suppressions[0].reason"), "{e}");
        let e = parse("version: 1\nsuppressions:\n  - reason: everything\n").unwrap_err();
        assert!(
            e.contains("suppressions[0]") && e.contains("suppress everything"),
            "{e}"
        );
        let e = parse(
            "version: 1\nsuppressions:\n  - fingerprint: 4a55522390b5736a55df01bd21e71d4d\n    reason: r\n    expires: soon\n",
        )
        .unwrap_err();
        assert!(e.contains("suppressions[0].expires"), "{e}");
        let e = parse("version: 1\nsuppressions:\n  - fingerprint: 4a55522390b5736a55df01bd21e71d4d\n    reason: r\n    expires: 2027-02-30\n").unwrap_err();
        assert!(e.contains("suppressions[0].expires"), "{e}");
        let e = parse("version: 1\nsuppressions:\n  - fingerprint: 4a55522390b5736a55df01bd21e71d4d\n    reason: r\n    source: 0.0.0.0/99\n").unwrap_err();
        assert!(e.contains("suppressions[0].source"), "{e}");
        let e = parse("version: 1\nsuppressions:\n  - fingerprint: 4a55522390b5736a55df01bd21e71d4d\n    reason: r\n    expiry: 2027-01-01\n").unwrap_err();
        assert!(e.contains("expiry"), "{e}");
        for private in ["10.0.0.0/8", "203.0.113.0/24", "2001:db8::/33"] {
            let text = format!(
                "version: 1\nsuppressions:\n  - match: 22/SSH\n    reason: r\n    source: {private}\n"
            );
            let e = parse(&text).unwrap_err();
            assert!(
                e.contains("suppressions[0].source") && e.contains("not a public source"),
                "{e}"
            );
        }
        let e = parse("version: 2\nsuppressions: []\n").unwrap_err();
        assert!(e.contains("version 2"), "{e}");
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("suppressions: []\n").unwrap_err().contains("version"));
    }
}
