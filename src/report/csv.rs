//! The CSV report: one row per finding, with a header (written by the csv crate, so
//! commas, quotes and newlines in names are quoted correctly).

use super::ReportInput;

pub const HEADER: [&str; 15] = [
    "project_id",
    "project_name",
    "severity",
    "security_group_id",
    "security_group_name",
    "protocol",
    "ports",
    "source",
    "match",
    "used_by_ports",
    "used_by_servers",
    "exposure_status",
    "rule_id",
    "fingerprint",
    "gate_status",
];

pub fn render(input: &ReportInput) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("write to memory");
    for (f, g) in input.audit.findings.iter().zip(&input.gate.findings) {
        w.write_record([
            f.project_id.as_str(),
            f.project_name.as_deref().unwrap_or(""),
            f.severity.as_str(),
            &f.security_group_id,
            f.security_group_name.as_deref().unwrap_or(""),
            &f.rule.protocol.name(),
            &f.ports.to_string(),
            &f.source.to_string(),
            &f.matched.join(";"),
            &f.used_by_ports.len().to_string(),
            &f.used_by_servers.len().to_string(),
            f.status.as_str(),
            &f.rule.id.as_str(),
            &f.fingerprint.0,
            g.status.as_str(),
        ])
        .expect("write to memory");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 is UTF-8")
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(crate::report::sample::render_plain(super::render));
    }

    #[test]
    fn csv_gated_snapshot() {
        insta::assert_snapshot!(crate::report::sample::render_gated(super::render));
    }
}
