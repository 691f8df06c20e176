//! One shared sample of findings and gate outcomes, rendered through every format (one
//! snapshot per format). The gate sample has every status: new, escalated, unchanged,
//! suppressed and fixed, and expired, expiring and unused suppressions (the expired one
//! naming a project by a name that a project of another domain shares: ambiguous too).

use std::time::Duration;

use crate::audit::{self, policy::Policy, AuditReport};
use crate::collect::snapshot;
use crate::finding::Severity;
use crate::gate::baseline::{self, LoadedBaseline, SeverityV1};
use crate::gate::{self, suppressions, GateConfig, GateOutcome};
use crate::inventory::{CollectionError, Inventory};

use super::{ReportInput, ReportOptions};

pub fn report() -> AuditReport {
    let raw = snapshot::parse(include_bytes!("../../tests/fixtures/sample-cloud.json"))
        .expect("sample snapshot parses");
    let inventory = Inventory::from_raw(raw).expect("sample snapshot is valid");
    audit::run(&inventory, &Policy::default())
}

/// The sample's findings over and over, `n` of them, for tests of many findings (a
/// failure, not a test that never ends, should the sample have none).
pub fn findings_repeated(report: &AuditReport, n: usize) -> Vec<crate::finding::Finding> {
    assert!(!report.findings.is_empty(), "the sample cloud has findings");
    (report.findings.iter()).cycle().take(n).cloned().collect()
}

/// The sample with a collection error and a warning, to render the "incomplete" parts of
/// each format and its warnings.
pub fn incomplete_report() -> AuditReport {
    let mut report = report();
    report.errors.push(CollectionError {
        resource: "servers".into(),
        endpoint: Some("https://nova.example:8774/v2.1/servers/detail".into()),
        status: Some(503),
        message: "Service Unavailable".into(),
        required: false,
    });
    report.warnings.push(
        "1 server port has port security disabled (2b0e9a64-5c1d-4f3e-8a7b-9c0d1e2f3a4b of \
         server 7f3c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6): no security group filters its traffic, \
         so every port of its addresses is open to whatever reaches it"
            .into(),
    );
    report
}

/// The gate with no baseline and no suppressions: every finding is new.
pub fn plain_gate(report: &AuditReport) -> GateOutcome {
    let config = GateConfig {
        fail_on: Some(Severity::High),
        ..GateConfig::default()
    };
    gate::evaluate(report, &config, now())
}

fn now() -> jiff::Timestamp {
    "2026-11-23T12:00:00Z".parse().expect("valid literal")
}

/// The gate against a baseline where `r-ssh` was MEDIUM (now escalated), `r-ssh6` and
/// `r-web` are missing (new), an extra entry is fixed, and `r-vnc` is suppressed.
pub fn full_gate(report: &AuditReport) -> GateOutcome {
    let all: Vec<_> = report.findings.iter().map(|_| None).collect();
    let mut b = baseline::updated(&report.findings, &all, "2026-01-15", false, &[]);
    let fp = |rule: &str| {
        report
            .findings
            .iter()
            .find(|f| f.rule.id == rule)
            .map(|f| f.fingerprint.0.clone())
            .expect("sample rule")
    };
    let (ssh6, web, ssh) = (fp("r-ssh6"), fp("r-web"), fp("r-ssh"));
    b.findings
        .retain(|e| e.fingerprint != ssh6 && e.fingerprint != web);
    for e in &mut b.findings {
        if e.fingerprint == ssh {
            e.severity = SeverityV1::Medium;
            e.note = Some("approved in MR !17".into());
        }
    }
    let mut gone = b.findings[0].clone();
    gone.fingerprint = "00000000000000000000000000000000".into();
    gone.security_group_id = "sg-deleted".into();
    gone.security_group_name = Some("old-redis".into());
    gone.severity = SeverityV1::High;
    gone.protocol = "tcp".into();
    gone.ports = "6379".into();
    gone.matched = vec!["6379/Redis".into()];
    b.findings.push(gone);
    let loaded = LoadedBaseline {
        text: baseline::render(&b),
        baseline: b,
    };
    let supp = suppressions::parse(
        "version: 1\nsuppressions:\n  - security_group: vnc\n    reason: \"VNC lab, closed at semester end\"\n    expires: 2026-12-01\n    owner: teaching\n  - project: datalab\n    match: 5432/PostgreSQL\n    reason: migration window\n    expires: 2026-10-01\n  - fingerprint: ffffffffffffffffffffffffffffffff\n    reason: decommissioned host\n",
    )
    .expect("sample suppressions parse");
    let config = GateConfig {
        fail_on: Some(Severity::High),
        baseline: Some((
            "baselines/openstack-neutron-security-groups.json".into(),
            Some(loaded),
        )),
        suppressions: Some(("baselines/suppressions.yaml".into(), supp)),
        strict_suppressions: false,
        warn_expiring: Duration::from_secs(14 * 86400),
        allow_partial: false,
    };
    gate::evaluate(report, &config, now())
}

/// Renders `render` over `audit` with the plain gate (no baseline).
pub fn render_audit(audit: &AuditReport, render: fn(&ReportInput) -> String) -> String {
    let gate = plain_gate(audit);
    render(&ReportInput {
        audit,
        gate: &gate,
        options: &options(),
    })
}

/// Renders `render` over the plain sample (no baseline).
pub fn render_plain(render: fn(&ReportInput) -> String) -> String {
    render_audit(&report(), render)
}

/// Renders `render` over the sample with the full gate (baseline and suppressions).
pub fn render_gated(render: fn(&ReportInput) -> String) -> String {
    let audit = report();
    let gate = full_gate(&audit);
    render(&ReportInput {
        audit: &audit,
        gate: &gate,
        options: &options(),
    })
}

/// Renders `render` over the sample with the full gate, audited by a token that is not an
/// admin's (scoped to a project that is not the sample's): the baseline's entry without a
/// finding is not audited, not fixed, and so is the suppression that matches nothing (it
/// is tied to no audited project).
pub fn render_scoped(render: fn(&ReportInput) -> String) -> String {
    let mut audit = report();
    audit.meta.project_scope = Some(vec!["p-elsewhere".into()]);
    let gate = full_gate(&audit);
    render(&ReportInput {
        audit: &audit,
        gate: &gate,
        options: &options(),
    })
}

/// Renders `render` over the incomplete sample.
pub fn render_incomplete(render: fn(&ReportInput) -> String) -> String {
    render_audit(&incomplete_report(), render)
}

fn options() -> ReportOptions {
    ReportOptions {
        sarif_location: Some("baselines/openstack-neutron-security-groups.json".into()),
        sarif_include_suppressed: false,
    }
}
