//! One shared sample of findings, rendered through every format (one snapshot per format).

use crate::audit::{self, policy::Policy, AuditReport};
use crate::collect::snapshot;
use crate::inventory::{CollectionError, Inventory};

pub fn report() -> AuditReport {
    let raw = snapshot::parse(include_bytes!("../../tests/fixtures/sample-cloud.json"))
        .expect("sample snapshot parses");
    let inventory = Inventory::from_raw(raw).expect("sample snapshot is valid");
    audit::run(&inventory, &Policy::default())
}

/// The sample with a collection error, to render the "incomplete" parts of each format.
pub fn incomplete_report() -> AuditReport {
    let mut report = report();
    report.errors.push(CollectionError {
        resource: "servers".into(),
        endpoint: Some("https://nova.example:8774/v2.1/servers/detail".into()),
        status: Some(503),
        message: "Service Unavailable".into(),
    });
    report
}
