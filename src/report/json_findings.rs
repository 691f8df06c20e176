//! The JSON report's findings, written by hand: byte for byte what serde_json's pretty
//! printer writes for the wire type in `json::wire` (its tests compare both, on findings with
//! every kind of value), without serde's calls per value.
//!
//! Findings are nearly all of a big report, and most of their bytes are ids (each finding
//! lists the ports and servers using its group): a UUID goes into the buffer as the hex
//! digits `Id` formats on the stack, with no escaping to look for; any other string is
//! copied in plain runs between the characters JSON escapes, found eight bytes at a time.

use std::fmt::{Display, Write as _};

use crate::finding::{Finding, Reachability, Severity};
use crate::gate::{FindingGate, GateOutcome};
use crate::id::{Id, IdStr};
use crate::json_text::escape_into;

use super::pretty::Pretty;

/// Appends findings to `out` as elements of the report's `findings` array (two levels
/// deep), each preceded by its separator (`,` unless it is the report's first finding).
pub(super) fn write_findings<'f>(
    out: &mut Vec<u8>,
    first_in_report: bool,
    findings: impl Iterator<Item = (&'f Finding, &'f FindingGate)>,
    gate: &GateOutcome,
) {
    let mut w = Writer {
        buf: out,
        layout: Pretty::at(2, !first_in_report),
        scratch: String::new(),
    };
    for (f, g) in findings {
        w.next();
        finding(&mut w, f, g, gate);
    }
}

/// One finding: the seed's finding model, then its metadata (fields in the order of
/// `json::wire::JsonFinding`).
fn finding(w: &mut Writer, f: &Finding, g: &FindingGate, gate: &GateOutcome) {
    w.open(b"{");
    w.key("scanner").str("openstack");
    w.key("host").str("openstack:neutron");
    w.key("title").str(&super::json::title(f));
    w.key("severity").str(f.severity.as_str());
    w.key("description").str(super::json::description(f.kind));
    w.key("evidence").str(&super::json::evidence(f));
    w.key("confidence").str("high");
    w.key("port").opt_uint(f.ports.single());
    w.key("service").str("neutron-security-group");
    w.key("metadata").open(b"{");
    w.key("event_type").str("openstack_security_group_exposure");
    w.key("project_id").str(&f.project_id);
    w.key("project_name").opt_str(f.project_name.as_deref());
    w.key("security_group_id").str(&f.security_group_id);
    w.key("security_group_name")
        .opt_str(f.security_group_name.as_deref());
    w.key("remote_ip_prefix").display(f.source);
    w.key("matched").open(b"[");
    for m in &f.matched {
        w.next().str(m);
    }
    w.close(b"]");
    w.key("used_by_count").uint(f.used_by_ports.len() as u64);
    w.key("used_by_server_count")
        .uint(f.used_by_servers.len() as u64);
    w.key("used_by_ports").open(b"[");
    for port in &f.used_by_ports {
        w.next().id(port);
    }
    w.close(b"]");
    w.key("used_by_servers").open(b"[");
    for s in &f.used_by_servers {
        w.next().open(b"{");
        w.key("server_id").id(&s.server_id);
        w.key("server_name").opt_str(s.server_name.as_deref());
        w.key("status").opt_str(s.status.as_deref());
        w.key("project_id").opt_id(s.project_id.as_ref());
        w.close(b"}");
    }
    w.close(b"]");
    w.key("exposure_status").str(f.status.as_str());
    let reachable = w.key("internet_reachable");
    match f.reachable {
        Reachability::Reachable => reachable.raw("true"),
        Reachability::NotReachable => reachable.raw("false"),
        Reachability::Unknown => reachable.str("unknown"),
    }
    w.key("floating_ips").open(b"[");
    for ip in &f.floating_ips {
        w.next().display(ip);
    }
    w.close(b"]");
    w.key("rule_id").id(&f.rule.id);
    w.key("rule_project_id").opt_id(f.rule.project_id.as_ref());
    w.key("direction").str("ingress");
    w.key("ethertype").str(f.rule.ethertype.as_str());
    w.key("protocol").str(&f.rule.protocol.name());
    w.key("port_range_min").opt_uint(f.rule.port_range_min);
    w.key("port_range_max").opt_uint(f.rule.port_range_max);
    w.key("ports").display(f.ports);
    w.key("fingerprint").str(&f.fingerprint.0);
    w.key("gate_status").str(g.status.as_str());
    w.key("gate_fails")
        .raw(if g.fails { "true" } else { "false" });
    w.key("baseline_severity")
        .opt_str(g.baseline_severity.map(Severity::as_str));
    w.key("baseline_matched_by")
        .opt_str(g.baseline_entry.map(|(_, by)| by.as_str()));
    w.key("suppression_reason").opt_str(
        g.suppression
            .map(|i| gate.suppressions[i].suppression.reason.as_str()),
    );
    w.close(b"}");
    w.close(b"}");
}

/// A buffer and where in the document it is: serde_json's pretty printer's state
/// (`report::pretty`), with the values the findings hold.
struct Writer<'b> {
    buf: &'b mut Vec<u8>,
    layout: Pretty,
    /// For values formatted with `Display`.
    scratch: String,
}

/// Writing into a `Vec` cannot fail.
const IN_MEMORY: &str = "writing to memory cannot fail";

impl Writer<'_> {
    /// An array or object opens.
    fn open(&mut self, bracket: &[u8]) {
        self.layout.open(self.buf, bracket).expect(IN_MEMORY);
    }

    /// It closes (on a line of its own when it holds anything).
    fn close(&mut self, bracket: &[u8]) {
        self.layout
            .close_element(self.buf, bracket)
            .expect(IN_MEMORY);
    }

    /// Before an array element: its separator, line and indent.
    fn next(&mut self) -> &mut Self {
        self.layout.element(self.buf).expect(IN_MEMORY);
        self
    }

    /// Before an object's value: the separator, line and indent, then `"key": `.
    fn key(&mut self, key: &'static str) -> &mut Self {
        debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        self.next();
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\": ");
        self
    }

    /// A literal (`true`, `false`, `null`).
    fn raw(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    fn str(&mut self, text: &str) {
        self.buf.push(b'"');
        escape_into(self.buf, text);
        self.buf.push(b'"');
    }

    fn opt_str(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.str(text),
            None => self.raw("null"),
        }
    }

    /// A UUID's digits need no escaping; any other id is a string like any other.
    fn id(&mut self, id: &Id) {
        match id.as_str() {
            IdStr::Inline(digits, n) => {
                self.buf.push(b'"');
                self.buf.extend_from_slice(&digits[..usize::from(n)]);
                self.buf.push(b'"');
            }
            IdStr::Borrowed(text) => self.str(text),
        }
    }

    fn opt_id(&mut self, id: Option<&Id>) {
        match id {
            Some(id) => self.id(id),
            None => self.raw("null"),
        }
    }

    fn uint(&mut self, n: u64) {
        std::io::Write::write_fmt(self.buf, format_args!("{n}")).expect(IN_MEMORY);
    }

    fn opt_uint(&mut self, n: Option<u16>) {
        match n {
            Some(n) => self.uint(u64::from(n)),
            None => self.raw("null"),
        }
    }

    /// A value's `Display` text as a string.
    fn display(&mut self, value: impl Display) {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        write!(text, "{value}").expect("formatting into a String cannot fail");
        self.str(&text);
        self.scratch = text;
    }
}
