//! Gate classification tests on a small cloud.

use std::time::Duration;

use serde_json::json;

use super::baseline::{self, LoadedBaseline};
use super::suppressions;
use super::*;
use crate::audit::{self, policy::Policy};
use crate::collect::snapshot;
use crate::inventory::Inventory;

fn now() -> Timestamp {
    "2026-11-23T12:00:00Z".parse().unwrap()
}

fn rule(id: &str, group: &str, port: u16) -> serde_json::Value {
    json!({"id": id, "security_group_id": group, "direction": "ingress", "protocol": "tcp",
           "port_range_min": port, "port_range_max": port, "remote_ip_prefix": "0.0.0.0/0"})
}

/// ssh (g-ssh, attached: HIGH), pg (g-db, unused: MEDIUM), rdp (g-rdp, attached: HIGH).
fn cloud(groups: serde_json::Value, ports: serde_json::Value) -> AuditReport {
    let snap = json!({
        "collected_at": "2026-11-23T08:00:00Z",
        "projects": [{"id": "p", "name": "proj"}],
        "security_groups": groups,
        "security_group_rules": [rule("r-ssh", "g-ssh", 22), rule("r-pg", "g-db", 5432), rule("r-rdp", "g-rdp", 3389)],
        "ports": ports,
    });
    let raw = snapshot::parse(snap.to_string().as_bytes()).unwrap();
    audit::run(&Inventory::from_raw(raw).unwrap(), &Policy::default())
}

fn default_groups() -> serde_json::Value {
    json!([{"id": "g-ssh", "name": "ssh", "project_id": "p"},
           {"id": "g-db", "name": "db", "project_id": "p"},
           {"id": "g-rdp", "name": "rdp", "project_id": "p"}])
}

fn attached(groups: &[&str]) -> serde_json::Value {
    json!([{"id": "port", "device_id": "vm", "device_owner": "compute:nova", "security_groups": groups}])
}

fn baseline_of(report: &AuditReport) -> LoadedBaseline {
    let b = baseline::updated(
        &report.findings,
        &vec![None; report.findings.len()],
        "2026-01-01",
        false,
        &[],
    );
    LoadedBaseline {
        text: baseline::render(&b),
        baseline: b,
    }
}

fn config(baseline: Option<LoadedBaseline>, supp: Option<&str>) -> GateConfig {
    GateConfig {
        fail_on: Some(Severity::High),
        baseline: baseline.map(|b| ("baselines/b.json".to_owned(), Some(b))),
        suppressions: supp.map(|s| {
            (
                "baselines/s.yaml".to_owned(),
                suppressions::parse(s).unwrap(),
            )
        }),
        strict_suppressions: false,
        warn_expiring: Duration::from_secs(14 * 86400),
        allow_partial: false,
    }
}

fn status_of(report: &AuditReport, outcome: &GateOutcome, rule: &str) -> GateStatus {
    let i = report
        .findings
        .iter()
        .position(|f| f.rule.id == rule)
        .unwrap();
    outcome.findings[i].status
}

#[test]
fn without_baseline_every_finding_is_new() {
    let r = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    let o = evaluate(&r, &config(None, None), now());
    assert!(o.findings.iter().all(|g| g.status == GateStatus::New));
    assert_eq!(o.verdict, Verdict::Failed);
    assert_eq!(
        o.counts().failing,
        2,
        "two HIGH, one MEDIUM below the threshold"
    );
    assert_eq!(o.reasons, vec!["2 new finding(s) at or above high"]);
}

#[test]
fn unchanged_against_its_own_baseline_passes() {
    let r = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    let o = evaluate(&r, &config(Some(baseline_of(&r)), None), now());
    assert!(o.findings.iter().all(|g| g.status == GateStatus::Unchanged));
    assert!(o
        .findings
        .iter()
        .all(|g| g.baseline_entry.unwrap().1 == MatchedBy::Fingerprint));
    assert_eq!(o.verdict, Verdict::Passed);
    assert!(o.fixed.is_empty());
}

#[test]
fn new_escalated_fixed() {
    // Baseline: ssh attached (HIGH), db unused (MEDIUM), rdp attached (HIGH).
    let before = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    let base = baseline_of(&before);
    // Now: db attached (MEDIUM -> HIGH), rdp rule gone, a new SSH rule on port 2222? use g-new.
    let mut groups = default_groups();
    groups
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "g-new", "name": "new", "project_id": "p"}));
    let snap = json!({
        "projects": [{"id": "p", "name": "proj"}],
        "security_groups": groups,
        "security_group_rules": [rule("r-ssh", "g-ssh", 22), rule("r-pg", "g-db", 5432), rule("r-new", "g-new", 6379)],
        "ports": attached(&["g-ssh", "g-db", "g-new"]),
    });
    let raw = snapshot::parse(snap.to_string().as_bytes()).unwrap();
    let after = audit::run(&Inventory::from_raw(raw).unwrap(), &Policy::default());
    let o = evaluate(&after, &config(Some(base), None), now());
    assert_eq!(status_of(&after, &o, "r-ssh"), GateStatus::Unchanged);
    assert_eq!(status_of(&after, &o, "r-pg"), GateStatus::Escalated);
    assert_eq!(status_of(&after, &o, "r-new"), GateStatus::New);
    assert_eq!(o.fixed.len(), 1);
    assert_eq!(o.fixed[0].ports, "3389");
    let c = o.counts();
    assert_eq!(
        (c.new, c.escalated, c.unchanged, c.fixed, c.failing),
        (1, 1, 1, 1, 2)
    );
    assert_eq!(o.verdict, Verdict::Failed);
    assert_eq!(
        o.reasons,
        vec![
            "1 new finding(s) at or above high",
            "1 escalated finding(s) at or above high"
        ]
    );
}

#[test]
fn lower_severity_than_baseline_is_unchanged() {
    let before = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    let base = baseline_of(&before);
    let after = cloud(default_groups(), attached(&[]));
    let o = evaluate(&after, &config(Some(base), None), now());
    assert!(o.findings.iter().all(|g| g.status == GateStatus::Unchanged));
}

#[test]
fn recreated_group_matches_by_name_once() {
    let before = cloud(default_groups(), attached(&["g-ssh"]));
    let base = baseline_of(&before);
    let groups = json!([{"id": "g-ssh-2", "name": "ssh", "project_id": "p"},
                        {"id": "g-db", "name": "db", "project_id": "p"},
                        {"id": "g-rdp", "name": "rdp", "project_id": "p"}]);
    let snap = json!({"security_groups": groups, "projects": [{"id": "p", "name": "proj"}],
        "security_group_rules": [rule("r-ssh", "g-ssh-2", 22), rule("r-pg", "g-db", 5432), rule("r-rdp", "g-rdp", 3389)],
        "ports": attached(&["g-ssh-2"])});
    let raw = snapshot::parse(snap.to_string().as_bytes()).unwrap();
    let after = audit::run(&Inventory::from_raw(raw).unwrap(), &Policy::default());
    let o = evaluate(&after, &config(Some(base), None), now());
    let i = after
        .findings
        .iter()
        .position(|f| f.rule.id == "r-ssh")
        .unwrap();
    assert_eq!(o.findings[i].status, GateStatus::Unchanged);
    assert_eq!(o.findings[i].baseline_entry.unwrap().1, MatchedBy::Name);
    assert!(o.fixed.is_empty());
}

#[test]
fn ambiguous_name_match_is_new() {
    // Two baseline entries share project, group name, protocol, ports and source.
    let groups = json!([{"id": "g-a", "name": "dup", "project_id": "p"}, {"id": "g-b", "name": "dup", "project_id": "p"}]);
    let snap = json!({"security_groups": groups, "security_group_rules": [rule("a", "g-a", 22), rule("b", "g-b", 22)], "ports": []});
    let raw = snapshot::parse(snap.to_string().as_bytes()).unwrap();
    let before = audit::run(&Inventory::from_raw(raw).unwrap(), &Policy::default());
    let base = baseline_of(&before);
    let groups = json!([{"id": "g-c", "name": "dup", "project_id": "p"}]);
    let snap = json!({"security_groups": groups, "security_group_rules": [rule("c", "g-c", 22)], "ports": []});
    let raw = snapshot::parse(snap.to_string().as_bytes()).unwrap();
    let after = audit::run(&Inventory::from_raw(raw).unwrap(), &Policy::default());
    let o = evaluate(&after, &config(Some(base), None), now());
    assert_eq!(o.findings[0].status, GateStatus::New);
    assert_eq!(o.fixed.len(), 2);
}

#[test]
fn suppressions_active_expired_expiring_unused() {
    let r = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    let supp = "version: 1\nsuppressions:\n  - security_group: ssh\n    match: 22/ssh\n    reason: bastion behind MFA\n    expires: 2026-11-30\n  - security_group: rdp\n    reason: old\n    expires: 2026-01-01\n  - project: nobody\n    reason: stale\n";
    let o = evaluate(&r, &config(None, Some(supp)), now());
    assert_eq!(status_of(&r, &o, "r-ssh"), GateStatus::Suppressed);
    assert_eq!(
        status_of(&r, &o, "r-rdp"),
        GateStatus::New,
        "expired: no longer suppresses"
    );
    let states: Vec<_> = o
        .suppressions
        .iter()
        .map(|s| (s.expired, s.expiring, s.is_unused(), s.matched))
        .collect();
    assert_eq!(
        states,
        vec![
            (false, true, false, 1),
            (true, false, false, 0),
            (false, false, true, 0)
        ]
    );
    assert_eq!(o.verdict, Verdict::Failed, "rdp is new and HIGH");
    let i = r
        .findings
        .iter()
        .position(|f| f.rule.id == "r-ssh")
        .unwrap();
    assert_eq!(o.suppression_of(i).unwrap().reason, "bastion behind MFA");
}

#[test]
fn strict_suppressions_fail_on_expired_or_unused() {
    let r = cloud(default_groups(), attached(&[]));
    let supp = "version: 1\nsuppressions:\n  - project: nobody\n    reason: stale\n";
    let mut c = config(Some(baseline_of(&r)), Some(supp));
    assert_eq!(evaluate(&r, &c, now()).verdict, Verdict::Passed);
    c.strict_suppressions = true;
    let o = evaluate(&r, &c, now());
    assert_eq!(o.verdict, Verdict::Failed);
    assert_eq!(
        o.reasons,
        vec!["1 unused suppression(s) (--strict-suppressions)"]
    );
}

/// Strict, a suppression file whose every entry is in force and used passes, and says
/// nothing of suppressions.
#[test]
fn strict_suppressions_pass_when_every_suppression_is_used() {
    let r = cloud(default_groups(), attached(&[]));
    let supp = "version: 1\nsuppressions:\n  - security_group: db\n    reason: in use\n    \
                expires: 2027-01-31\n";
    let mut c = config(Some(baseline_of(&r)), Some(supp));
    c.strict_suppressions = true;
    let o = evaluate(&r, &c, now());
    assert_eq!(o.suppressions[0].matched, 1);
    assert_eq!(o.verdict, Verdict::Passed, "{:?}", o.reasons);
    assert_eq!(o.reasons, ["no new or escalated finding at or above high"]);
}

#[test]
fn suppressed_finding_keeps_its_baseline_entry_from_being_fixed() {
    let r = cloud(default_groups(), attached(&["g-ssh"]));
    let supp = "version: 1\nsuppressions:\n  - security_group: g-ssh\n    reason: r\n";
    let o = evaluate(&r, &config(Some(baseline_of(&r)), Some(supp)), now());
    assert!(o.fixed.is_empty());
    assert_eq!(o.counts().suppressed, 1);
}

#[test]
fn threshold_none_and_incomplete() {
    let r = cloud(default_groups(), attached(&["g-ssh"]));
    let mut c = config(None, None);
    c.fail_on = None;
    let o = evaluate(&r, &c, now());
    assert_eq!(o.verdict, Verdict::Passed);
    assert!(o.findings.iter().all(|g| !g.fails));
    let mut incomplete = r.clone();
    incomplete.errors.push(crate::inventory::CollectionError {
        resource: "servers".into(),
        endpoint: None,
        status: Some(500),
        message: "boom".into(),
        required: true,
    });
    assert_eq!(
        evaluate(&incomplete, &c, now()).verdict,
        Verdict::Incomplete
    );
}

#[test]
fn updated_baseline_keeps_first_seen_and_note_and_is_byte_identical() {
    let r = cloud(default_groups(), attached(&["g-ssh"]));
    let mut base = baseline_of(&r);
    base.baseline.findings[0].note = Some("approved in !42".into());
    base.text = baseline::render(&base.baseline);
    let c = config(Some(base.clone()), None);
    let o = evaluate(&r, &c, now());
    let entries = &base.baseline.findings;
    let previous: Vec<_> = o
        .findings
        .iter()
        .map(|g| g.baseline_entry.map(|(i, _)| &entries[i]))
        .collect();
    let again = baseline::updated(&r.findings, &previous, "2026-11-23", false, &[]);
    assert_eq!(baseline::render(&again), base.text);
}

/// A finding without a project name keeps its entry's name only when Keystone's projects
/// could not be read; read, a project they lack (deleted, its groups left behind) has no
/// name, and the entry drops it.
#[test]
fn baseline_update_keeps_project_names_only_when_they_could_not_be_read() {
    let mut r = cloud(default_groups(), attached(&["g-ssh"]));
    let base = baseline_of(&r);
    assert!((base.baseline.findings.iter()).all(|e| e.project_name.as_deref() == Some("proj")));
    for f in &mut r.findings {
        f.project_name = None;
    }
    let o = evaluate(&r, &config(Some(base.clone()), None), now());
    let entries = &base.baseline.findings;
    let previous: Vec<_> = (o.findings.iter())
        .map(|g| g.baseline_entry.map(|(i, _)| &entries[i]))
        .collect();
    let names = |unread: bool| -> Vec<Option<String>> {
        let b = baseline::updated(&r.findings, &previous, "2026-11-23", unread, &[]);
        b.findings.into_iter().map(|e| e.project_name).collect()
    };
    assert_eq!(names(true), vec![Some("proj".to_owned()); 3]);
    assert_eq!(names(false), vec![None; 3]);
}

/// An audit by a token scoped to a project (not an admin's) sees that project's objects
/// only: a baseline entry of another project it does not find is not fixed but
/// `not_audited`, and the baseline update keeps it as it is. Entries of the scope's
/// projects are fixed as usual; without a scope (an admin's audit) every entry is.
#[test]
fn entries_of_projects_outside_a_scoped_audit_are_not_fixed_and_kept() {
    let whole = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    let mut base = baseline_of(&whole);
    // An entry of another project, and one of the audited project that is gone.
    let mut other = base.baseline.findings[0].clone();
    other.fingerprint = "0123456789abcdef0123456789abcdef".into();
    other.project_id = "p-other".into();
    let mut gone = base.baseline.findings[0].clone();
    gone.fingerprint = "fedcba9876543210fedcba9876543210".into();
    gone.security_group_name = Some("gone".into());
    base.baseline.findings.extend([other.clone(), gone.clone()]);

    let mut scoped = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    scoped.meta.project_scope = Some(vec!["p".into()]);
    let o = evaluate(&scoped, &config(Some(base.clone()), None), now());
    assert_eq!(o.fixed, [gone.clone()]);
    assert_eq!(o.not_audited, [other.clone()]);
    assert_eq!((o.counts().fixed, o.counts().not_audited), (1, 1));
    let entries = &base.baseline.findings;
    let previous: Vec<_> = (o.findings.iter())
        .map(|g| g.baseline_entry.map(|(i, _)| &entries[i]))
        .collect();
    let updated = baseline::updated(
        &scoped.findings,
        &previous,
        "2026-11-23",
        false,
        &o.not_audited,
    );
    assert!(updated.findings.contains(&other), "kept");
    assert!(!updated.findings.contains(&gone), "fixed: removed");
    assert_eq!(updated.findings.len(), 4);

    // An admin's audit (no scope): both are fixed.
    let o = evaluate(&whole, &config(Some(base), None), now());
    assert_eq!(o.fixed, [other, gone]);
    assert!(o.not_audited.is_empty());
}

/// In an audit scoped to project `p`, a suppression that matches nothing is unused only
/// when a matcher ties it to `p`: its project (by id, by the name its findings give it, or
/// the name its baseline entries give it), its fingerprint (a baseline entry of `p`), its
/// group's id (a finding's or a baseline entry's of `p`). Anything else might match in a
/// project the audit could not see: not unused but not audited, and --strict-suppressions
/// does not fail on it. In an admin's audit every one is unused.
#[test]
fn suppressions_of_projects_outside_a_scoped_audit_are_not_unused() {
    let mut base = baseline_of(&cloud(default_groups(), attached(&["g-ssh", "g-rdp"])));
    let mut other = base.baseline.findings[0].clone();
    other.fingerprint = "0123456789abcdef0123456789abcdef".into();
    other.project_id = "p-other".into();
    other.security_group_id = "g-other".into();
    base.baseline.findings.push(other);
    // A group of `p` that is fixed: only the baseline places it in `p`.
    let mut gone = base.baseline.findings[0].clone();
    gone.fingerprint = "fedcba9876543210fedcba9876543210".into();
    gone.security_group_id = "g-gone".into();
    gone.project_name = Some("proj-renamed".into());
    base.baseline.findings.push(gone);
    let supp = "version: 1\nsuppressions:\n\
        - project: p-other\n    reason: theirs\n\
        - fingerprint: 0123456789abcdef0123456789abcdef\n    reason: theirs, by fingerprint\n\
        - security_group: g-other\n    reason: theirs, by group\n\
        - fingerprint: ffffffffffffffffffffffffffffffff\n    reason: in no baseline entry\n\
        - security_group: ssh\n    match: 3389/RDP\n    reason: a name, any project's\n\
        - match: 5432/PostgreSQL\n    source: 8.0.0.0/8\n    reason: any project's\n\
        - project: p\n    security_group: nothing\n    reason: ours, by id\n\
        - project: proj\n    security_group: nothing\n    reason: ours, by name\n\
        - project: proj-renamed\n    reason: ours, by the baseline's name\n\
        - fingerprint: fedcba9876543210fedcba9876543210\n    reason: ours, by fingerprint\n\
        - security_group: g-ssh\n    match: 3389/RDP\n    reason: our group, by id\n\
        - security_group: g-gone\n    reason: our fixed group, by id\n\
        - project: p-other\n    reason: theirs, expired\n    expires: 2026-01-01\n";
    let supp = supp.replace("\n- ", "\n  - ");
    let mut scoped = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    scoped.meta.project_scope = Some(vec!["p".into()]);
    let mut c = config(Some(base.clone()), Some(&supp));
    c.strict_suppressions = true;
    let o = evaluate(&scoped, &c, now());
    let states: Vec<(bool, bool)> = (o.suppressions.iter())
        .map(|s| (s.not_audited, s.is_unused()))
        .collect();
    let not_audited = (true, false);
    let unused = (false, true);
    assert_eq!(states[..6], [not_audited; 6]);
    assert_eq!(states[6..12], [unused; 6]);
    // Expired, it is reported as such, wherever its project.
    assert_eq!(states[12], (false, false));
    assert!(o.suppressions[12].expired);
    assert_eq!(o.expired().count(), 1);
    assert_eq!(
        o.reasons,
        [
            "1 expired suppression(s) (--strict-suppressions)",
            "6 unused suppression(s) (--strict-suppressions)"
        ]
    );
    // An admin's audit: all twelve unused.
    let whole = cloud(default_groups(), attached(&["g-ssh", "g-rdp"]));
    let o = evaluate(&whole, &c, now());
    assert_eq!(o.unused().count(), 12);
    assert!(o.suppressions.iter().all(|s| !s.not_audited));
}

/// A scoped audit of a project with no finding and no baseline entry still knows its
/// project's name from Keystone: a suppression naming it that matches nothing is unused;
/// one naming another project is not audited.
#[test]
fn a_scoped_audit_ties_a_suppression_to_its_project_by_keystone_name() {
    let snap = json!({
        "project_scope": ["p"],
        "projects": [{"id": "p", "name": "proj"}, {"id": "q", "name": "other"}],
        "security_groups": [{"id": "g", "name": "web", "project_id": "p"}],
        "security_group_rules": [],
    });
    let raw = snapshot::parse(snap.to_string().as_bytes()).unwrap();
    let report = audit::run(&Inventory::from_raw(raw).unwrap(), &Policy::default());
    assert_eq!(report.scope_names, ["proj"]);
    let supp = "version: 1\nsuppressions:\n  - project: proj\n    reason: ours\n  \
                - project: other\n    reason: theirs\n";
    let o = evaluate(&report, &config(None, Some(supp)), now());
    let states: Vec<(bool, bool)> = (o.suppressions.iter())
        .map(|s| (s.not_audited, s.is_unused()))
        .collect();
    assert_eq!(states, [(false, true), (true, false)]);
}

/// Keystone's project names are unique only within a domain: a suppression naming a project
/// by a name two projects share applies to both (it suppresses the findings of each), and
/// is marked so, unless a fingerprint pins it to one finding or it names the project by id.
#[test]
fn a_suppression_naming_a_shared_project_name_is_ambiguous() {
    let snap = json!({
        "projects": [{"id": "p", "name": "web", "domain_id": "a"},
                     {"id": "q", "name": "web", "domain_id": "b"},
                     {"id": "r", "name": "solo"}],
        "security_groups": [{"id": "g-p", "name": "ssh", "project_id": "p"},
                            {"id": "g-q", "name": "ssh", "project_id": "q"},
                            {"id": "g-r", "name": "ssh", "project_id": "r"}],
        "security_group_rules": [rule("r-p", "g-p", 22), rule("r-q", "g-q", 22), rule("r-r", "g-r", 22)],
    });
    let raw = snapshot::parse(snap.to_string().as_bytes()).unwrap();
    let report = audit::run(&Inventory::from_raw(raw).unwrap(), &Policy::default());
    assert_eq!(
        report.shared_project_names,
        [("web".to_owned(), vec!["p".to_owned(), "q".to_owned()])]
    );
    let fp = |rule: &str| {
        let f = report.findings.iter().find(|f| f.rule.id == rule).unwrap();
        f.fingerprint.0.clone()
    };
    let supp = format!(
        "version: 1\nsuppressions:\n  - project: web\n    match: 22/SSH\n    reason: shared\n  \
         - project: p\n    reason: by id\n  - project: solo\n    reason: one project\n  \
         - project: web\n    fingerprint: {}\n    reason: pinned\n",
        fp("r-q")
    );
    let o = evaluate(&report, &config(None, Some(&supp)), now());
    let shared: Vec<&[String]> = (o.suppressions.iter())
        .map(|s| s.shared_project_ids.as_slice())
        .collect();
    let both = ["p".to_owned(), "q".to_owned()];
    assert_eq!(shared, [&both[..], &[], &[], &[]]);
    assert_eq!(o.ambiguous().count(), 1);
    assert_eq!(
        o.suppressions[0].shared_name_note(),
        "2 projects are named web (p, q), it applies to each; name one by its id"
    );
    // It does what it says: the findings of both projects named web are suppressed by it.
    assert_eq!(o.suppressions[0].matched, 2);
    assert_eq!(status_of(&report, &o, "r-r"), GateStatus::Suppressed);
    // A name one project has is not ambiguous, nor is any name when names are unique.
    let plain = cloud(default_groups(), attached(&["g-ssh"]));
    assert!(plain.shared_project_names.is_empty());
}
