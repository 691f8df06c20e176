//! SARIF 2.1.0 (built with serde-sarif), shaped for GitHub code scanning.
//!
//! GitHub reads a subset of SARIF, so: one rule per kind of exposure (all ports; each
//! critical service; web) with `security-severity` as a string and a `security` tag; result
//! `level` from severity; `partialFingerprints.primaryLocationLineHash` set from the stable
//! finding fingerprint (GitHub keys alerts on it); every result located in one stable,
//! repository-relative file (the baseline by default) plus a logical location naming
//! cloud/region/project/group/rule; `automationDetails.id` per cloud and region. GitHub
//! ignores SARIF `suppressions` and would open alerts for suppressed results, so those are
//! left out unless `--sarif-include-suppressed`. At most `MAX_RESULTS` results (GitHub's
//! per-run limit), failing ones first.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif,
    Suppression, Tool, ToolComponent,
};

use super::{json::title, ReportInput};
use crate::finding::{Finding, FindingKind, Severity};
use crate::gate::{FindingGate, GateStatus};

/// GitHub code scanning accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;

/// The schema URI written into `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// GitHub's `security-severity`: a number, written as a string.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// The rule a finding reports under: its kind, and for services the first (lowest) match.
struct RuleKey {
    id: String,
    kind: FindingKind,
    /// `22/SSH`, or `all_ports`.
    label: String,
}

fn rule_key(f: &Finding) -> RuleKey {
    RuleKey {
        id: rule_id(f),
        kind: f.kind,
        label: f.matched.first().cloned().unwrap_or_default(),
    }
}

/// `openstack-sg-public-22-ssh`; `all_ports` gives `openstack-sg-public-all-ports`. Also
/// the Code Quality report's `check_name`.
pub(crate) fn rule_id(f: &Finding) -> String {
    format!(
        "openstack-sg-public-{}",
        slug(f.matched.first().map_or("", String::as_str))
    )
}

/// `5900-5999/VNC` → `5900-5999-vnc`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// `PublicSshExposure`-style name from a label's service part.
fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            let first = cs.next().map(|c| c.to_ascii_uppercase()).into_iter();
            first
                .chain(cs.map(|c| c.to_ascii_lowercase()))
                .collect::<String>()
        })
        .collect()
}

fn descriptor(key: &RuleKey) -> ReportingDescriptor {
    let (name, short, full, severity) = match key.kind {
        FindingKind::AllPorts => (
            "PublicAllPortsExposure".to_owned(),
            "All ports open to a public source".to_owned(),
            "An ingress security group rule admits every port (any protocol, or a port-based protocol with no or a full port range) from a public source such as 0.0.0.0/0 or ::/0.".to_owned(),
            Severity::Critical,
        ),
        kind => {
            let (ports, service) = key.label.split_once('/').unwrap_or((&key.label, &key.label));
            (
                format!("Public{}Exposure", pascal(service)),
                format!("{service} ({ports}) open to a public source"),
                format!(
                    "An ingress security group rule exposes {service} (port {ports}) to a public source such as 0.0.0.0/0 or ::/0."
                ),
                if kind == FindingKind::Web { Severity::Info } else { Severity::High },
            )
        }
    };
    let help = format!(
        "{full}\n\nRemediation: restrict the rule's source to the addresses that need access \
         (a VPN or bastion range, or a remote security group), or delete the rule. If the \
         group is unused, delete it before it is attached to a server. If the exposure is \
         intended, record it in the baseline or the suppression file with a reason."
    );
    let help_md = format!(
        "{full}\n\n**Remediation**\n\n\
         - Restrict the rule's `remote_ip_prefix` to the addresses that need access (a VPN or \
         bastion range), or use a remote security group instead of a CIDR.\n\
         - Delete the rule if nothing needs it; delete an unused group before it gets attached.\n\
         - If the exposure is intended, approve it: commit it to the baseline or add a \
         suppression with a reason and an expiry.\n\n\
         Find the rule with `openstack security group rule show <rule-id>` (the rule id is in \
         the result's logical location)."
    );
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_owned(),
        json!(security_severity(severity)),
    );
    props.insert("precision".to_owned(), json!("very-high"));
    ReportingDescriptor::builder()
        .id(key.id.clone())
        .name(name)
        .short_description(MultiformatMessageString::builder().text(short).build())
        .full_description(MultiformatMessageString::builder().text(full).build())
        .help(
            MultiformatMessageString::builder()
                .text(help)
                .markdown(help_md)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(severity).to_string()))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec![
                    "security".to_owned(),
                    "openstack".to_owned(),
                    "network".to_owned(),
                    "external/cwe/cwe-284".to_owned(),
                ])
                .additional_properties(props)
                .build(),
        )
        .build()
}

pub fn render(input: &ReportInput) -> String {
    super::pretty::to_string_line(&build(input)).expect("SARIF serializes")
}

/// Writes what `render` returns, its results built and serialized in pieces on every core
/// and written in order as they are ready (a run holds up to `MAX_RESULTS` of them, nearly
/// all of its bytes): the rest of the log is rendered with no results, and the results go
/// where its empty `results` array is.
pub fn write(input: &ReportInput, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let plan = plan(input);
    let text = super::pretty::to_string_line(&document(input, &plan, Vec::new()))
        .expect("SARIF serializes");
    // The run's `results` (the first run is the only one), three levels deep. A string
    // value cannot hold this: its quotes would be escaped.
    let empty = "\n      \"results\": []";
    let at = text
        .find(empty)
        .expect("the run has an empty results array")
        + empty.len()
        - 2;
    super::pretty::write_spliced(out, &text, at, 3, &plan.selected, PIECE, |start, piece| {
        let mut buf = Vec::with_capacity(piece.len() * 3072);
        // Each result is an element of `results`: four levels deep.
        let mut layout = super::pretty::Pretty::at(4, start != 0);
        for (f, g) in piece {
            layout.element(&mut buf).expect("writing to memory");
            let mut ser = serde_json::Serializer::with_formatter(
                &mut buf,
                super::pretty::Pretty::at(4, false),
            );
            serde::Serialize::serialize(&result(input, &plan, f, g), &mut ser)
                .expect("a SARIF result serializes");
        }
        buf
    })
}

/// Results built and serialized at a time by one thread.
const PIECE: usize = 256;

/// The SARIF log for one run.
pub fn build(input: &ReportInput) -> Sarif {
    let plan = plan(input);
    let results = plan
        .selected
        .iter()
        .map(|(f, g)| result(input, &plan, f, g))
        .collect();
    document(input, &plan, results)
}

/// What a run is made of: the findings it reports and their rules.
struct Plan<'a> {
    /// Failing first, then in report order; suppressed ones only on request; at most
    /// `MAX_RESULTS`.
    selected: Vec<(&'a Finding, &'a FindingGate)>,
    /// How many there were before the cap.
    total: usize,
    /// The rules of the selected findings, by id, and each one's index among them.
    rules: BTreeMap<String, (RuleKey, i64)>,
    cloud: &'a str,
    region: &'a str,
    /// The file every result points at.
    uri: String,
    baseline_used: bool,
}

fn plan<'a>(input: &ReportInput<'a>) -> Plan<'a> {
    let audit = input.audit;
    let mut selected: Vec<(&Finding, &FindingGate)> = audit
        .findings
        .iter()
        .zip(&input.gate.findings)
        .filter(|(_, g)| {
            g.status != GateStatus::Suppressed || input.options.sarif_include_suppressed
        })
        .collect();
    selected.sort_by_key(|(_, g)| !g.fails);
    let total = selected.len();
    selected.truncate(MAX_RESULTS);
    let mut rules: BTreeMap<String, (RuleKey, i64)> = BTreeMap::new();
    for (f, _) in &selected {
        let key = rule_key(f);
        rules.entry(key.id.clone()).or_insert((key, 0));
    }
    for (i, (_, index)) in rules.values_mut().enumerate() {
        *index = i as i64;
    }
    Plan {
        selected,
        total,
        rules,
        cloud: audit.meta.cloud.as_deref().unwrap_or("default"),
        region: audit.meta.region.as_deref().unwrap_or("default"),
        uri: input
            .options
            .sarif_location
            .clone()
            .unwrap_or_else(|| "README.md".to_owned()),
        baseline_used: input.gate.baseline_path.is_some(),
    }
}

/// One finding's result.
fn result(input: &ReportInput, plan: &Plan, f: &Finding, g: &FindingGate) -> SarifResult {
    let (cloud, region) = (plan.cloud, plan.region);
    let key = rule_key(f);
    let mut props = BTreeMap::new();
    props.insert("severity".to_owned(), json!(f.severity.as_str()));
    props.insert(
        "security-severity".to_owned(),
        json!(security_severity(f.severity)),
    );
    props.insert("gate_status".to_owned(), json!(g.status.as_str()));
    props.insert("fails_gate".to_owned(), json!(g.fails));
    props.insert("exposure_status".to_owned(), json!(f.status.as_str()));
    props.insert("matched".to_owned(), json!(f.matched));
    props.insert("project_id".to_owned(), json!(f.project_id));
    props.insert("security_group_id".to_owned(), json!(f.security_group_id));
    props.insert("rule_id".to_owned(), json!(f.rule.id));
    let fqn = format!(
        "{cloud}/{region}/{}/{}/{}",
        f.project_display(),
        f.group_display(),
        f.rule.id
    );
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(plan.uri.clone()).build())
                .region(Region::builder().start_line(1).build())
                .build(),
        )
        .logical_locations(vec![LogicalLocation::builder()
            .name(f.rule.id.to_string())
            .fully_qualified_name(fqn)
            .kind("resource")
            .build()])
        .build();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(
        "primaryLocationLineHash".to_owned(),
        f.fingerprint.0.clone(),
    );
    fingerprints.insert("driftmux/v1".to_owned(), f.fingerprint.0.clone());
    let status = match g.status {
        GateStatus::New => "new",
        GateStatus::Escalated => "escalated",
        GateStatus::Unchanged => "in the baseline",
        GateStatus::Suppressed => "suppressed",
    };
    let mut result = SarifResult::builder()
        .rule_id(key.id.clone())
        .rule_index(plan.rules[&key.id].1)
        .level(level(f.severity))
        .message(
            Message::builder()
                .text(format!(
                    "{} Gate: {status}{}.",
                    title(f),
                    if g.fails { ", fails the gate" } else { "" }
                ))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    if plan.baseline_used {
        result.baseline_state = Some(json!(match g.status {
            GateStatus::New => "new",
            GateStatus::Escalated => "updated",
            GateStatus::Unchanged => "unchanged",
            GateStatus::Suppressed if g.baseline_entry.is_some() => "unchanged",
            GateStatus::Suppressed => "new",
        }));
    }
    if let Some(i) = g.suppression {
        let s = &input.gate.suppressions[i].suppression;
        result.suppressions = Some(vec![Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .justification(s.reason.clone())
            .build()]);
    }
    result
}

/// The log around `results`.
fn document(input: &ReportInput, plan: &Plan, results: Vec<SarifResult>) -> Sarif {
    let audit = input.audit;
    let gate = input.gate;
    let notifications: Vec<Notification> = audit
        .errors
        .iter()
        .map(|e| {
            let mut text = format!("could not read {}", e.resource);
            if let Some(endpoint) = &e.endpoint {
                text.push_str(&format!(" from {endpoint}"));
            }
            if let Some(status) = e.status {
                text.push_str(&format!(" (HTTP {status})"));
            }
            text.push_str(&format!(": {}", e.message));
            Notification::builder()
                .message(Message::builder().text(text).build())
                .level(json!("error"))
                .build()
        })
        .chain(audit.warnings.iter().map(|w| {
            Notification::builder()
                .message(Message::builder().text(w.as_str()).build())
                .level(json!("warning"))
                .build()
        }))
        .collect();
    let mut invocation = Invocation::builder()
        .execution_successful(audit.is_complete())
        .build();
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
    }

    let mut run_props = BTreeMap::new();
    run_props.insert("verdict".to_owned(), json!(gate.verdict.as_str()));
    if plan.total > MAX_RESULTS {
        run_props.insert("truncated".to_owned(), json!(true));
        run_props.insert("total_results".to_owned(), json!(plan.total));
    }
    let run = Run::builder()
        .tool(
            Tool::builder()
                .driver(
                    ToolComponent::builder()
                        .name("driftmux")
                        .semantic_version(env!("CARGO_PKG_VERSION"))
                        .rules(
                            plan.rules
                                .values()
                                .map(|(key, _)| descriptor(key))
                                .collect::<Vec<_>>(),
                        )
                        .build(),
                )
                .build(),
        )
        .automation_details(
            RunAutomationDetails::builder()
                .id(format!("driftmux/{}/{}/", plan.cloud, plan.region))
                .build(),
        )
        .invocations(vec![invocation])
        .results(results)
        .properties(
            PropertyBag::builder()
                .additional_properties(run_props)
                .build(),
        )
        .build();
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(Value::from("2.1.0"))
        .runs(vec![run])
        .build()
}

/// The warning when the SARIF file cannot hold every result (more than `MAX_RESULTS`).
pub fn cut_warning(input: &ReportInput) -> Option<String> {
    let n = result_count(input);
    (n > MAX_RESULTS).then(|| {
        format!(
            "SARIF holds the first {MAX_RESULTS} of {n} results (GitHub's limit per run); \
             failing findings come first"
        )
    })
}

/// How many results the SARIF file would hold before the cap.
pub fn result_count(input: &ReportInput) -> usize {
    input
        .gate
        .findings
        .iter()
        .filter(|g| g.status != GateStatus::Suppressed || input.options.sarif_include_suppressed)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn sarif_snapshot() {
        insta::assert_snapshot!(sample::render_gated(super::render));
    }

    /// What `write` writes.
    fn written(input: &ReportInput) -> String {
        let mut out = Vec::new();
        write(input, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// `write` (the results in pieces on several threads, spliced in) writes serde_json's
    /// `to_string_pretty` of the whole log, byte for byte.
    fn written_as_serde_writes(input: &ReportInput) -> String {
        let ours = written(input);
        let expected = serde_json::to_string_pretty(&build(input)).unwrap() + "\n";
        assert!(ours == expected, "{ours}\n---- expected:\n{expected}");
        ours
    }

    #[test]
    fn written_in_pieces_is_the_whole_log() {
        sample::render_plain(written_as_serde_writes);
        sample::render_gated(written_as_serde_writes);
        sample::render_incomplete(written_as_serde_writes);
        // Many pieces, with names to escape, suppressed results included or not, and none.
        let mut audit = sample::report();
        audit.findings = sample::findings_repeated(&audit, 3 * PIECE + 7);
        for (i, f) in audit.findings.iter_mut().enumerate() {
            f.security_group_name = ["quote \" back\\slash", "tab\t\u{1}\u{e9}"]
                .get(i % 3)
                .map(|s| (*s).to_owned());
        }
        for include_suppressed in [false, true] {
            let options = crate::report::ReportOptions {
                sarif_location: Some("baselines/b.json".into()),
                sarif_include_suppressed: include_suppressed,
            };
            for gate in [sample::plain_gate(&audit), sample::full_gate(&audit)] {
                let input = ReportInput {
                    audit: &audit,
                    gate: &gate,
                    options: &options,
                };
                let text = written_as_serde_writes(&input);
                let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
                let results = sarif["runs"][0]["results"].as_array().unwrap();
                assert_eq!(results.len(), result_count(&input));
                assert!(results.len() > 3 * PIECE);
            }
        }
        audit.findings.clear();
        let gate = sample::plain_gate(&audit);
        let options = crate::report::ReportOptions::default();
        let input = ReportInput {
            audit: &audit,
            gate: &gate,
            options: &options,
        };
        assert!(written_as_serde_writes(&input).contains("\"results\": []"));
    }

    /// A run holds at most `MAX_RESULTS` results (GitHub's limit), the failing findings
    /// first, and says it was cut and from how many; a run of exactly that many is whole.
    #[test]
    fn results_are_capped_failing_first() {
        let sample = sample::report();
        let gate = sample::plain_gate(&sample);
        let failing = (sample.findings.iter().zip(&gate.findings)).find(|(_, g)| g.fails);
        let failing = failing.expect("a failing finding in the sample").0.clone();
        let passing = (sample.findings.iter().zip(&gate.findings)).find(|(_, g)| !g.fails);
        let passing = passing.expect("a passing finding in the sample").0.clone();
        for total in [MAX_RESULTS, MAX_RESULTS + 3] {
            let mut audit = sample::report();
            // The failing findings last: the run puts them first, then the passing ones
            // the cap leaves room for.
            audit.findings = vec![passing.clone(); total - 2];
            audit.findings.extend([failing.clone(), failing.clone()]);
            let gate = sample::plain_gate(&audit);
            let options = crate::report::ReportOptions {
                sarif_location: Some("baselines/b.json".into()),
                sarif_include_suppressed: false,
            };
            let input = ReportInput {
                audit: &audit,
                gate: &gate,
                options: &options,
            };
            assert_eq!(result_count(&input), total);
            let sarif: serde_json::Value = serde_json::from_str(&written(&input)).unwrap();
            let run = &sarif["runs"][0];
            let results = run["results"].as_array().unwrap();
            assert_eq!(results.len(), MAX_RESULTS);
            let level = |r: &serde_json::Value| r["level"].as_str().unwrap().to_owned();
            assert_eq!(level(&results[0]), "error");
            assert_eq!(level(&results[1]), "error");
            assert_ne!(level(&results[2]), "error");
            let props = &run["properties"];
            if total > MAX_RESULTS {
                assert_eq!(props["truncated"], true);
                assert_eq!(props["total_results"], total);
                let said = "SARIF holds the first 25000 of 25003 results (GitHub's limit per \
                            run); failing findings come first";
                assert_eq!(cut_warning(&input).as_deref(), Some(said));
            } else {
                assert!(props.get("truncated").is_none(), "{props}");
                assert!(props.get("total_results").is_none(), "{props}");
                assert_eq!(cut_warning(&input), None);
            }
        }
    }

    /// Collection errors and warnings are the run's execution notifications, at their level.
    #[test]
    fn errors_and_warnings_are_notifications() {
        let sarif: serde_json::Value =
            serde_json::from_str(&sample::render_incomplete(super::render)).unwrap();
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
        let levels: Vec<&str> = notes.iter().map(|n| n["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["error", "warning"]);
        assert!(notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("could not read servers from https://nova.example:8774"));
        assert!(notes[1]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("1 server port has port security disabled"));
    }

    #[test]
    fn slugs_and_names() {
        assert_eq!(
            slug("9200/Elasticsearch/OpenSearch"),
            "9200-elasticsearch-opensearch"
        );
        assert_eq!(slug("5900-5999/VNC"), "5900-5999-vnc");
        assert_eq!(pascal("Docker API without TLS"), "DockerApiWithoutTls");
    }

    #[test]
    fn suppressed_results_are_left_out_by_default() {
        let sarif: serde_json::Value =
            serde_json::from_str(&sample::render_gated(super::render)).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert!(results.iter().all(|r| r.get("suppressions").is_none()));
        assert!(results
            .iter()
            .all(|r| r["properties"]["gate_status"] != "suppressed"));
    }
}

#[cfg(test)]
mod schema_tests {
    use crate::report::sample;

    /// The official OASIS SARIF 2.1.0 schema (vendored in tests/schemas).
    fn validator() -> jsonschema::Validator {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/schemas/sarif-2.1.0.json")).unwrap();
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles")
    }

    fn assert_valid(text: &str) {
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let errors: Vec<String> = validator()
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "SARIF is invalid:\n{}",
            errors.join("\n")
        );
    }

    #[test]
    fn sarif_is_valid_against_the_official_schema() {
        assert_valid(&sample::render_gated(super::render));
        assert_valid(&sample::render_plain(super::render));
        assert_valid(&sample::render_incomplete(super::render));
    }

    #[test]
    fn the_validator_rejects_invalid_sarif() {
        let doc = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {}}]});
        assert!(!validator().is_valid(&doc));
    }
}

#[cfg(test)]
mod include_suppressed_tests {
    use crate::report::{sample, ReportInput, ReportOptions};

    #[test]
    fn suppressed_results_on_request_carry_the_reason_and_stay_valid() {
        let audit = sample::report();
        let gate = sample::full_gate(&audit);
        let options = ReportOptions {
            sarif_location: Some("baselines/suppressions.yaml".into()),
            sarif_include_suppressed: true,
        };
        let text = super::render(&ReportInput {
            audit: &audit,
            gate: &gate,
            options: &options,
        });
        let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
        let suppressed: Vec<_> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .collect();
        assert_eq!(suppressed.len(), 1);
        assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
        assert_eq!(
            suppressed[0]["suppressions"][0]["justification"],
            "VNC lab, closed at semester end"
        );
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/schemas/sarif-2.1.0.json")).unwrap();
        assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&sarif));
    }
}
