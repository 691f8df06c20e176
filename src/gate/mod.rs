//! The CI gate: compares current findings with the committed baseline and the suppression
//! file, classifies each finding once, and decides the verdict.
//!
//! Each current finding is exactly one of `new`, `unchanged`, `escalated` (in the baseline
//! at a lower severity) or `suppressed`; baseline entries with no current finding are
//! `fixed`, but for those of projects outside the scope of an audit by a token that is not
//! an admin's (its project's objects only): those are `not_audited`, kept as they are
//! (`--update-baseline` keeps them too). Only `new` and `escalated` findings at or above
//! the threshold fail the gate (plus expired or unused suppressions under
//! `--strict-suppressions`; in such a scoped audit, a suppression that matches nothing is
//! unused only when it is tied to the audited project: else it might match another's).
//! An incomplete audit is never a pass. This is the one central place where baselines and
//! suppressions apply, so every report counts the same things.

pub mod baseline;
pub mod suppressions;

use std::collections::HashMap;
use std::time::Duration;

pub use jiff::Timestamp;

use crate::audit::AuditReport;
use crate::finding::Severity;
use baseline::{BaselineEntryV1, LoadedBaseline};
use suppressions::Suppression;

/// What the gate compares against, resolved from flags and files.
#[derive(Debug, Clone, Default)]
pub struct GateConfig {
    /// `None`: findings never fail the gate.
    pub fail_on: Option<Severity>,
    /// The baseline path as given (for messages and SARIF) and its content (`None`: the
    /// file does not exist yet, only allowed when updating it).
    pub baseline: Option<(String, Option<LoadedBaseline>)>,
    /// The suppression file path as given, and its entries.
    pub suppressions: Option<(String, Vec<Suppression>)>,
    pub strict_suppressions: bool,
    pub warn_expiring: Duration,
    /// `--allow-partial`: collection errors that only degrade enrichment (servers, project
    /// names, floating IPs) do not make the audit incomplete.
    pub allow_partial: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GateStatus {
    New,
    Escalated,
    Unchanged,
    Suppressed,
}

impl GateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GateStatus::New => "new",
            GateStatus::Escalated => "escalated",
            GateStatus::Unchanged => "unchanged",
            GateStatus::Suppressed => "suppressed",
        }
    }
}

/// How a finding was matched to its baseline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Fingerprint,
    /// Same project, group name, protocol, ports and source: a group recreated under a new id.
    Name,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Fingerprint => "fingerprint",
            MatchedBy::Name => "name",
        }
    }
}

/// The gate's view of one finding (same index as `AuditReport::findings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingGate {
    pub status: GateStatus,
    /// Index into the baseline's entries, and how it matched.
    pub baseline_entry: Option<(usize, MatchedBy)>,
    pub baseline_severity: Option<Severity>,
    /// Index into the suppressions of the one that applies.
    pub suppression: Option<usize>,
    /// Whether this finding fails the gate (new or escalated, at or above the threshold).
    pub fails: bool,
}

/// The state of one suppression after the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionState {
    pub suppression: Suppression,
    pub expired: bool,
    pub expiring: bool,
    /// How many current findings it suppressed.
    pub matched: usize,
    /// Not expired, it matched nothing in an audit by a project's token (see
    /// `GateOutcome::not_audited`) but might match in a project that audit could not see
    /// (see `outside`): it is not unused, only not judged.
    pub not_audited: bool,
    /// The ids of the projects whose shared name (Keystone's names are unique only within
    /// a domain) the suppression's `project` gives, when no fingerprint pins it to one
    /// finding: it applies to each of them, perhaps to more than its author meant.
    pub shared_project_ids: Vec<String>,
}

impl SuppressionState {
    pub fn is_unused(&self) -> bool {
        !self.expired && self.matched == 0 && !self.not_audited
    }

    /// What the reports say of a suppression naming a project by a shared name.
    pub fn shared_name_note(&self) -> String {
        format!(
            "{} projects are named {} ({}), it applies to each; name one by its id",
            self.shared_project_ids.len(),
            self.suppression.project.as_deref().unwrap_or_default(),
            self.shared_project_ids.join(", ")
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// The cloud could not be read fully: never a pass.
    Incomplete,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Incomplete => "incomplete",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Incomplete => "INCOMPLETE",
        }
    }
}

/// Everything the reports need to show the gate.
#[derive(Debug, Clone)]
pub struct GateOutcome {
    pub findings: Vec<FindingGate>,
    /// Baseline entries with no current finding.
    pub fixed: Vec<BaselineEntryV1>,
    /// Baseline entries with no current finding, of projects the audit could not see (a
    /// token scoped to another project): neither fixed nor present, kept as they are.
    pub not_audited: Vec<BaselineEntryV1>,
    pub suppressions: Vec<SuppressionState>,
    pub fail_on: Option<Severity>,
    pub strict_suppressions: bool,
    pub baseline_path: Option<String>,
    pub suppressions_path: Option<String>,
    pub verdict: Verdict,
    /// Why the verdict is what it is, one sentence each.
    pub reasons: Vec<String>,
}

/// Counts by status, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateCounts {
    pub new: usize,
    pub escalated: usize,
    pub unchanged: usize,
    pub suppressed: usize,
    pub fixed: usize,
    pub not_audited: usize,
    pub failing: usize,
}

impl GateOutcome {
    pub fn counts(&self) -> GateCounts {
        let mut c = GateCounts {
            fixed: self.fixed.len(),
            not_audited: self.not_audited.len(),
            ..GateCounts::default()
        };
        for f in &self.findings {
            match f.status {
                GateStatus::New => c.new += 1,
                GateStatus::Escalated => c.escalated += 1,
                GateStatus::Unchanged => c.unchanged += 1,
                GateStatus::Suppressed => c.suppressed += 1,
            }
            c.failing += usize::from(f.fails);
        }
        c
    }

    pub fn expired(&self) -> impl Iterator<Item = &SuppressionState> {
        self.suppressions.iter().filter(|s| s.expired)
    }

    pub fn expiring(&self) -> impl Iterator<Item = &SuppressionState> {
        self.suppressions.iter().filter(|s| s.expiring)
    }

    pub fn unused(&self) -> impl Iterator<Item = &SuppressionState> {
        self.suppressions.iter().filter(|s| s.is_unused())
    }

    /// The suppressions naming a project by a name several projects share.
    pub fn ambiguous(&self) -> impl Iterator<Item = &SuppressionState> {
        (self.suppressions.iter()).filter(|s| !s.shared_project_ids.is_empty())
    }

    /// The suppressions a scoped audit could not judge (see `SuppressionState::not_audited`).
    pub fn not_audited_suppressions(&self) -> impl Iterator<Item = &SuppressionState> {
        self.suppressions.iter().filter(|s| s.not_audited)
    }

    /// The suppression applied to finding `i`, if any.
    pub fn suppression_of(&self, i: usize) -> Option<&Suppression> {
        self.findings[i]
            .suppression
            .map(|s| &self.suppressions[s].suppression)
    }
}

/// Classifies every finding and decides the verdict.
pub fn evaluate(report: &AuditReport, config: &GateConfig, now: Timestamp) -> GateOutcome {
    let entries: &[BaselineEntryV1] = config
        .baseline
        .as_ref()
        .and_then(|(_, loaded)| loaded.as_ref())
        .map_or(&[], |l| &l.baseline.findings);
    let baseline_matches = match_baseline(report, entries);

    let mut suppressions: Vec<SuppressionState> = config
        .suppressions
        .iter()
        .flat_map(|(_, list)| list)
        .map(|s| SuppressionState {
            suppression: s.clone(),
            expired: s.is_expired(now),
            expiring: s.is_expiring(now, config.warn_expiring),
            matched: 0,
            not_audited: false,
            shared_project_ids: shared_project_ids(s, report),
        })
        .collect();

    let mut findings = Vec::with_capacity(report.findings.len());
    for (f, matched) in report.findings.iter().zip(&baseline_matches) {
        let suppression = suppressions
            .iter()
            .position(|s| !s.expired && s.suppression.matches(f));
        if let Some(i) = suppression {
            suppressions[i].matched += 1;
        }
        let baseline_severity = matched.map(|(i, _)| entries[i].severity());
        let status = match (suppression, baseline_severity) {
            (Some(_), _) => GateStatus::Suppressed,
            (None, None) => GateStatus::New,
            (None, Some(old)) if old < f.severity => GateStatus::Escalated,
            (None, Some(_)) => GateStatus::Unchanged,
        };
        let fails = matches!(status, GateStatus::New | GateStatus::Escalated)
            && config.fail_on.is_some_and(|t| f.severity >= t);
        findings.push(FindingGate {
            status,
            baseline_entry: *matched,
            baseline_severity,
            suppression,
            fails,
        });
    }

    let mut used = vec![false; entries.len()];
    for (i, _) in baseline_matches.iter().flatten() {
        used[*i] = true;
    }
    // An entry of a project outside the audit's scope is not fixed: it could not be seen.
    let scope = report.meta.project_scope.as_deref();
    let audited = |e: &BaselineEntryV1| scope.is_none_or(|s| s.contains(&e.project_id));
    let unmatched = (entries.iter().zip(&used)).filter(|(_, used)| !**used);
    let (fixed, not_audited): (Vec<_>, Vec<_>) =
        unmatched.map(|(e, _)| e.clone()).partition(audited);
    if let Some(scope) = scope {
        for s in (suppressions.iter_mut()).filter(|s| s.matched == 0 && !s.expired) {
            s.not_audited = outside(&s.suppression, scope, report, entries);
        }
    }

    let mut outcome = GateOutcome {
        findings,
        fixed,
        not_audited,
        suppressions,
        fail_on: config.fail_on,
        strict_suppressions: config.strict_suppressions,
        baseline_path: config.baseline.as_ref().map(|(p, _)| p.clone()),
        suppressions_path: config.suppressions.as_ref().map(|(p, _)| p.clone()),
        verdict: Verdict::Passed,
        reasons: Vec::new(),
    };
    decide(&mut outcome, report, config.allow_partial);
    outcome
}

/// The projects a suppression's `project` names when that is a name Keystone gave to
/// several projects and no fingerprint pins the suppression to one finding.
fn shared_project_ids(suppression: &Suppression, report: &AuditReport) -> Vec<String> {
    let Some(wanted) = suppression.project.as_deref() else {
        return Vec::new();
    };
    if suppression.fingerprint.is_some() {
        return Vec::new();
    }
    (report.shared_project_names.iter())
        .find(|(name, _)| name == wanted)
        .map_or_else(Vec::new, |(_, ids)| ids.clone())
}

/// Whether a suppression that matched nothing in an audit scoped to the projects `scope`
/// might still match a finding of a project the audit could not see, so that it cannot be
/// called unused. It might, unless one of its matchers (all must hold) ties it to the
/// scope: its `project` is a scoped project's id, or its name (Keystone's, or the one a
/// finding or a baseline entry gives it); its `fingerprint` is a baseline entry's of a
/// scoped project; its `security_group` is the id of a group that a finding or a baseline
/// entry places in a scoped project. A group *name* ties nothing (every project has its
/// `default`), nor do `match` and `source`; nor a fingerprint that no baseline entry holds
/// (the baseline holds every finding, suppressed ones too, so a finding of the scope would
/// have been seen).
fn outside(
    suppression: &Suppression,
    scope: &[String],
    report: &AuditReport,
    entries: &[BaselineEntryV1],
) -> bool {
    let scoped = |project_id: &str| scope.iter().any(|p| p == project_id);
    let project = suppression.project.as_deref().is_some_and(|wanted| {
        scoped(wanted)
            || report.scope_names.iter().any(|name| name == wanted)
            || (report.findings.iter())
                .any(|f| f.project_name.as_deref() == Some(wanted) && scoped(&f.project_id))
            || (entries.iter())
                .any(|e| e.project_name.as_deref() == Some(wanted) && scoped(&e.project_id))
    });
    let fingerprint = suppression.fingerprint.as_deref().is_some_and(|wanted| {
        (entries.iter()).any(|e| e.fingerprint == wanted && scoped(&e.project_id))
    });
    let group = suppression.security_group.as_deref().is_some_and(|wanted| {
        (report.findings.iter()).any(|f| f.security_group_id == wanted && scoped(&f.project_id))
            || (entries.iter()).any(|e| e.security_group_id == wanted && scoped(&e.project_id))
    });
    !(project || fingerprint || group)
}

/// For each finding, the baseline entry it matches: by fingerprint, else by name when
/// exactly one not-otherwise-matched entry has the same project, group name, protocol,
/// ports and source.
fn match_baseline(
    report: &AuditReport,
    entries: &[BaselineEntryV1],
) -> Vec<Option<(usize, MatchedBy)>> {
    let by_fingerprint: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.fingerprint.as_str(), i))
        .collect();
    let mut matches: Vec<Option<(usize, MatchedBy)>> = report
        .findings
        .iter()
        .map(|f| {
            by_fingerprint
                .get(f.fingerprint.0.as_str())
                .map(|&i| (i, MatchedBy::Fingerprint))
        })
        .collect();
    let mut taken = vec![false; entries.len()];
    for (i, _) in matches.iter().flatten() {
        taken[*i] = true;
    }
    let mut by_name: HashMap<baseline::NameKey, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if !taken[i] {
            if let Some(key) = e.name_key() {
                by_name.entry(key).or_default().push(i);
            }
        }
    }
    if by_name.is_empty() {
        // No entry left to match by name (no baseline, or every entry matched): building
        // each finding's name key would be ~13 ms for nothing at 1M rules.
        return matches;
    }
    for (f, m) in report.findings.iter().zip(matches.iter_mut()) {
        if m.is_some() {
            continue;
        }
        if let Some([only]) = baseline::finding_name_key(f)
            .and_then(|k| by_name.get(&k))
            .map(Vec::as_slice)
        {
            *m = Some((*only, MatchedBy::Name));
        }
    }
    matches
}

fn decide(outcome: &mut GateOutcome, report: &AuditReport, allow_partial: bool) {
    let mut reasons = Vec::new();
    let counts = outcome.counts();
    let blocking = report
        .errors
        .iter()
        .filter(|e| e.required || !allow_partial)
        .count();
    let incomplete = blocking > 0;
    if incomplete {
        reasons.push(format!(
            "the audit is incomplete: {blocking} part(s) of the cloud could not be read"
        ));
    } else if !report.errors.is_empty() {
        reasons.push(format!(
            "--allow-partial: {} collection error(s) only degrade enrichment",
            report.errors.len()
        ));
    }
    if let Some(threshold) = outcome.fail_on {
        let failing_new = outcome
            .findings
            .iter()
            .filter(|g| g.fails && g.status == GateStatus::New)
            .count();
        let failing_escalated = counts.failing - failing_new;
        if failing_new > 0 {
            reasons.push(format!(
                "{failing_new} new finding(s) at or above {threshold}"
            ));
        }
        if failing_escalated > 0 {
            reasons.push(format!(
                "{failing_escalated} escalated finding(s) at or above {threshold}"
            ));
        }
    }
    let mut strict_failed = false;
    if outcome.strict_suppressions {
        let expired = outcome.expired().count();
        let unused = outcome.unused().count();
        if expired > 0 {
            reasons.push(format!(
                "{expired} expired suppression(s) (--strict-suppressions)"
            ));
        }
        if unused > 0 {
            reasons.push(format!(
                "{unused} unused suppression(s) (--strict-suppressions)"
            ));
        }
        strict_failed = expired + unused > 0;
    }
    outcome.verdict = if incomplete {
        Verdict::Incomplete
    } else if counts.failing > 0 || strict_failed {
        Verdict::Failed
    } else {
        Verdict::Passed
    };
    if outcome.verdict == Verdict::Passed {
        reasons.push(match outcome.fail_on {
            Some(t) => format!("no new or escalated finding at or above {t}"),
            None => "--fail-on none: findings never fail the gate".to_owned(),
        });
    }
    outcome.reasons = reasons;
}

#[cfg(test)]
mod tests;
