//! JUnit XML (built with junit-report), as GitLab's test-report widget, Jenkins and the
//! common GitHub report actions read it.
//!
//! One test suite per project, one test case per finding. A case fails when its finding
//! fails the gate (`NEW`/`ESCALATED`, with severity, match and source in the message), is
//! skipped when suppressed (reason and expiry), and passes otherwise (baselined or below
//! the threshold, explained in system-out). Names are unique per classname (GitLab collapses
//! duplicates): the rule id is part of each name. With nothing to report there is one
//! passing case, so dashboards show a green run; an incomplete audit adds an error case.
//! No `file` attribute (Jenkins' schema rejects it).

use junit_report::{Duration, OffsetDateTime, Report, TestCase, TestSuite};

use super::{by_project, json::title, ReportInput};
use crate::finding::Finding;
use crate::gate::{FindingGate, GateStatus};

pub fn render(input: &ReportInput) -> String {
    let audit = input.audit;
    let gate = input.gate;
    let timestamp = audit
        .meta
        .collected_at
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.as_second()).ok())
        .unwrap_or_else(OffsetDateTime::now_utc);
    let mut report = Report::new();

    let mut overall = TestSuite::new("driftmux");
    overall.set_timestamp(timestamp);
    if !audit.is_complete() {
        let mut detail = String::new();
        for e in &audit.errors {
            detail.push_str(&format!(
                "{} {} {}: {}\n",
                e.resource,
                e.endpoint.as_deref().unwrap_or(""),
                e.status.map(|s| format!("(HTTP {s})")).unwrap_or_default(),
                e.message
            ));
        }
        let mut case = TestCase::error(
            "inventory collection",
            Duration::ZERO,
            "INCOMPLETE",
            &format!(
                "the audit is incomplete: {} part(s) of the cloud could not be read",
                audit.errors.len()
            ),
        );
        case.set_classname("driftmux.audit");
        case.set_system_out(&detail);
        overall.add_testcase(case);
    }
    if audit.findings.is_empty() {
        let mut case = TestCase::success("no public exposure of critical ports", Duration::ZERO);
        case.set_classname("driftmux.audit");
        case.set_system_out(&format!(
            "checked {} security group rules",
            audit.checked_rules
        ));
        overall.add_testcase(case);
    }
    // The warnings (what the audit could not see, or saw without a rule) in the suite's
    // output: Jenkins shows it; they fail nothing.
    if !audit.warnings.is_empty() {
        let warnings: Vec<String> = audit
            .warnings
            .iter()
            .map(|w| format!("warning: {w}"))
            .collect();
        overall.set_system_out(&warnings.join("\n"));
    }
    if !overall.testcases.is_empty() || !audit.warnings.is_empty() {
        report.add_testsuite(overall);
    }

    // The cases, built on every core (their texts are most of the work), in report order.
    let mut cases = crate::parallel::map_shares(&audit.findings, 1024, |start, share| {
        let gates = &gate.findings[start..];
        let cases: Vec<TestCase> = share
            .iter()
            .zip(gates)
            .map(|(f, g)| case(f, g, input))
            .collect();
        cases
    })
    .into_iter()
    .flatten();
    for section in by_project(&audit.findings) {
        let mut suite = TestSuite::new(&format!("openstack-sg/{}", section.display()));
        suite.set_timestamp(timestamp);
        suite.add_testcases(cases.by_ref().take(section.findings.len()));
        report.add_testsuite(suite);
    }

    let mut out = Vec::new();
    report.write_xml(&mut out).expect("write to memory");
    let mut text = String::from_utf8(out).expect("XML of UTF-8 is UTF-8");
    text.push('\n');
    text
}

fn case(f: &Finding, g: &FindingGate, input: &ReportInput) -> TestCase {
    let name = format!(
        "{} {} from {} ({}) [rule {}]",
        f.rule.protocol,
        f.ports,
        f.source,
        f.matched.join(", "),
        f.rule.id
    );
    let summary = format!(
        "{} {} from {}",
        f.severity.label(),
        f.matched.join(", "),
        f.source
    );
    let mut case = if g.fails {
        let kind = g.status.as_str().to_ascii_uppercase();
        let was = match (g.status, g.baseline_severity) {
            (GateStatus::Escalated, Some(old)) => format!(" (was {})", old.label()),
            _ => String::new(),
        };
        TestCase::failure(
            &name,
            Duration::ZERO,
            &kind,
            &format!("{kind} {summary}{was}: {}", title(f)),
        )
    } else if let Some(i) = g.suppression {
        let s = &input.gate.suppressions[i].suppression;
        let expiry = s
            .expires
            .as_ref()
            .map(|e| format!(" (expires {})", e.text))
            .unwrap_or_default();
        TestCase::skipped_with_cause(
            &name,
            "SUPPRESSED",
            &format!("suppressed: {}{expiry}", s.reason),
        )
    } else {
        let mut case = TestCase::success(&name, Duration::ZERO);
        let why = match g.status {
            GateStatus::Unchanged => "in the baseline (approved)".to_owned(),
            GateStatus::New | GateStatus::Escalated => match input.gate.fail_on {
                Some(t) => format!("{}, below the threshold ({t})", g.status.as_str()),
                None => format!("{}, the gate does not fail on findings", g.status.as_str()),
            },
            GateStatus::Suppressed => "suppressed".to_owned(),
        };
        case.set_system_out(&format!("{summary}: {why}\n{}", title(f)));
        case
    };
    case.set_classname(&format!(
        "driftmux.{}.{}",
        f.project_display(),
        f.group_display()
    ));
    case
}

#[cfg(test)]
mod tests {
    use crate::report::sample;

    #[test]
    fn junit_snapshot() {
        insta::assert_snapshot!(sample::render_gated(super::render));
    }

    /// Cases built on several threads land in their project's suite, in report order.
    #[test]
    fn many_cases_keep_their_order() {
        let mut audit = sample::report();
        audit.findings = sample::findings_repeated(&audit, 5000);
        // Report order groups findings by project: keep it so.
        audit
            .findings
            .sort_by(|a, b| a.project_id.cmp(&b.project_id));
        for (i, f) in audit.findings.iter_mut().enumerate() {
            f.rule.id = crate::id::Id::new(&format!("r{i}"));
        }
        let xml = sample::render_audit(&audit, super::render);
        let listed: Vec<&str> = xml
            .split("[rule ")
            .skip(1)
            .map(|rest| &rest[..rest.find(']').unwrap()])
            .collect();
        let expected: Vec<String> = (0..audit.findings.len()).map(|i| format!("r{i}")).collect();
        assert_eq!(listed, expected);
        // Each suite holds its project's cases.
        let suites = xml.matches("<testsuite ").count();
        assert_eq!(suites, super::by_project(&audit.findings).len());
    }

    #[test]
    fn junit_incomplete_and_empty() {
        let xml = sample::render_incomplete(super::render);
        assert!(xml.contains("<error type=\"INCOMPLETE\""), "{xml}");
    }

    /// Warnings are the driftmux suite's output, whether or not it has cases.
    #[test]
    fn warnings_are_the_suites_output() {
        let xml = sample::render_incomplete(super::render);
        let suite = &xml[xml
            .find("<testsuite id=\"0\" name=\"driftmux\"")
            .expect("the suite")..];
        let suite = &suite[..suite.find("</testsuite>").unwrap()];
        assert!(
            suite
                .contains("<system-out><![CDATA[warning: 1 server port has port security disabled"),
            "{suite}"
        );
        // A complete audit with findings has no driftmux suite but for its warnings.
        let mut audit = sample::report();
        assert!(!sample::render_plain(super::render).contains("name=\"driftmux\""));
        audit.warnings.push("a warning".into());
        let xml = sample::render_audit(&audit, super::render);
        assert!(xml.contains("name=\"driftmux\""), "{xml}");
        assert!(xml.contains("warning: a warning"), "{xml}");
    }
}
