//! The audit policy: which ports are critical, whether web ports are reported, and which
//! ports are ignored. Defaults are the seed's 21-entry table; `--policy FILE` (YAML) may
//! extend or replace it:
//!
//! ```yaml
//! critical_ports:            # added to the defaults (same ports: the service name is replaced)
//!   - { ports: "8888", service: Jupyter }
//!   - { ports: "9000-9001", service: MinIO }
//! replace_critical_ports: false   # true: the list above replaces the defaults
//! report_web: false          # true: 80/443-only rules become `info` findings
//! ignore_ports: [8080, "5900-5999"]   # never matched (all_ports findings stay)
//! ```

use std::path::Path;

use serde::Deserialize;

/// One entry of the critical port table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalPort {
    pub lo: u16,
    pub hi: u16,
    pub service: String,
    /// `22/SSH`, `5900-5999/VNC`.
    pub label: String,
    /// The entry's ports minus the ignored ones, as inclusive intervals.
    effective: Vec<(u16, u16)>,
}

impl CriticalPort {
    fn new(lo: u16, hi: u16, service: &str) -> CriticalPort {
        let label = if lo == hi {
            format!("{lo}/{service}")
        } else {
            format!("{lo}-{hi}/{service}")
        };
        CriticalPort {
            lo,
            hi,
            service: service.to_owned(),
            label,
            effective: vec![(lo, hi)],
        }
    }

    /// Whether this entry has a (non-ignored) port inside `lo..=hi`.
    pub fn intersects(&self, lo: u16, hi: u16) -> bool {
        self.effective.iter().any(|&(a, b)| a <= hi && lo <= b)
    }
}

/// The seed's critical port table.
pub const DEFAULT_CRITICAL_PORTS: &[(u16, u16, &str)] = &[
    (22, 22, "SSH"),
    (3389, 3389, "RDP"),
    (3306, 3306, "MySQL/MariaDB"),
    (5432, 5432, "PostgreSQL"),
    (6379, 6379, "Redis"),
    (27017, 27017, "MongoDB"),
    (9200, 9200, "Elasticsearch/OpenSearch"),
    (5601, 5601, "Kibana/OpenSearch Dashboards"),
    (8080, 8080, "HTTP alternative/Tomcat"),
    (8443, 8443, "HTTPS alternative"),
    (9092, 9092, "Kafka"),
    (11211, 11211, "Memcached"),
    (2049, 2049, "NFS"),
    (445, 445, "SMB"),
    (389, 389, "LDAP"),
    (636, 636, "LDAPS"),
    (2375, 2375, "Docker API without TLS"),
    (2376, 2376, "Docker API with TLS"),
    (6443, 6443, "Kubernetes API"),
    (10250, 10250, "Kubelet"),
    (5900, 5999, "VNC"),
];

/// Web ports: not critical; reported as `info` only with `report_web: true`.
pub const WEB_PORTS: &[(u16, u16, &str)] = &[(80, 80, "HTTP"), (443, 443, "HTTPS")];

/// The resolved policy the audit runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Sorted by port, so matches come out in port order.
    pub critical_ports: Vec<CriticalPort>,
    pub web_ports: Vec<CriticalPort>,
    pub report_web: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::build(default_table(), false, &[])
    }
}

fn default_table() -> Vec<CriticalPort> {
    DEFAULT_CRITICAL_PORTS
        .iter()
        .map(|&(lo, hi, s)| CriticalPort::new(lo, hi, s))
        .collect()
}

impl Policy {
    fn build(mut critical: Vec<CriticalPort>, report_web: bool, ignore: &[(u16, u16)]) -> Policy {
        let mut web: Vec<CriticalPort> = WEB_PORTS
            .iter()
            .map(|&(lo, hi, s)| CriticalPort::new(lo, hi, s))
            .collect();
        for entry in critical.iter_mut().chain(web.iter_mut()) {
            entry.effective = subtract(entry.lo, entry.hi, ignore);
        }
        critical.retain(|e| !e.effective.is_empty());
        web.retain(|e| !e.effective.is_empty());
        critical.sort_by(|a, b| (a.lo, a.hi, &a.service).cmp(&(b.lo, b.hi, &b.service)));
        Policy {
            critical_ports: critical,
            web_ports: web,
            report_web,
        }
    }

    /// Whether a finding of this policy can carry the match label `label` (compared as
    /// suppressions compare it, ignoring case): `all_ports`, a critical entry's, or a web
    /// entry's when web ports are reported.
    pub fn knows_label(&self, label: &str) -> bool {
        let web = self.web_ports.iter().filter(|_| self.report_web);
        label.eq_ignore_ascii_case("all_ports")
            || (self.critical_ports.iter().chain(web)).any(|c| c.label.eq_ignore_ascii_case(label))
    }

    /// Loads and validates a policy file; every problem names the file and the key.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let err = |message: String| PolicyError {
            file: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        Policy::parse_source(&text, Some(&path.display().to_string())).map_err(err)
    }

    /// Parses policy YAML; the error names the offending key.
    pub fn parse(text: &str) -> Result<Policy, String> {
        Policy::parse_source(text, None)
    }

    /// `parse`, naming the file `source` in a YAML error's quoted lines.
    fn parse_source(text: &str, source: Option<&str>) -> Result<Policy, String> {
        if text.trim().is_empty() {
            return Ok(Policy::default());
        }
        let file: PolicyFile =
            serde_saphyr::from_str(text).map_err(|e| crate::error::yaml_message(&e, source))?;
        let mut problems = Vec::new();
        let mut added = Vec::new();
        for (i, entry) in file.critical_ports.iter().enumerate() {
            let service = entry.service.trim();
            if service.is_empty() {
                problems.push(format!("critical_ports[{i}].service: must not be empty"));
            }
            match entry.ports.range() {
                Ok((lo, hi)) => added.push(CriticalPort::new(lo, hi, service)),
                Err(m) => problems.push(format!("critical_ports[{i}].ports: {m}")),
            }
        }
        let mut ignore = Vec::new();
        for (i, spec) in file.ignore_ports.iter().enumerate() {
            match spec.range() {
                Ok(range) => ignore.push(range),
                Err(m) => problems.push(format!("ignore_ports[{i}]: {m}")),
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let mut table = if file.replace_critical_ports {
            Vec::new()
        } else {
            default_table()
        };
        for entry in added {
            match table
                .iter_mut()
                .find(|e| (e.lo, e.hi) == (entry.lo, entry.hi))
            {
                Some(existing) => *existing = entry,
                None => table.push(entry),
            }
        }
        Ok(Policy::build(table, file.report_web, &ignore))
    }
}

/// `lo..=hi` minus the ignored intervals.
fn subtract(lo: u16, hi: u16, ignore: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut parts = vec![(lo, hi)];
    for &(a, b) in ignore {
        parts = parts
            .into_iter()
            .flat_map(|(x, y)| {
                if b < x || a > y {
                    return vec![(x, y)];
                }
                let mut keep = Vec::new();
                if a > x {
                    keep.push((x, a - 1));
                }
                if b < y {
                    keep.push((b + 1, y));
                }
                keep
            })
            .collect();
    }
    parts
}

#[derive(Debug, thiserror::Error)]
#[error("policy file {file}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    critical_ports: Vec<CriticalPortEntry>,
    #[serde(default)]
    replace_critical_ports: bool,
    #[serde(default)]
    report_web: bool,
    #[serde(default)]
    ignore_ports: Vec<PortSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriticalPortEntry {
    ports: PortSpec,
    service: String,
}

/// `22`, `"22"` or `"5900-5999"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PortSpec {
    Number(i64),
    Text(String),
}

impl PortSpec {
    fn range(&self) -> Result<(u16, u16), String> {
        let port = |v: i64| -> Result<u16, String> {
            u16::try_from(v)
                .ok()
                .filter(|&p| p >= 1)
                .ok_or_else(|| format!("port {v} is out of range (1-65535)"))
        };
        let parse = |s: &str| -> Result<u16, String> {
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("{s:?} is not a port number"))
                .and_then(port)
        };
        let (lo, hi) = match self {
            PortSpec::Number(n) => (port(*n)?, port(*n)?),
            PortSpec::Text(t) => match t.split_once('-') {
                Some((a, b)) => (parse(a)?, parse(b)?),
                None => (parse(t)?, parse(t)?),
            },
        };
        if lo > hi {
            return Err(format!("range {lo}-{hi} is reversed"));
        }
        Ok((lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_labels_are_all_ports_the_critical_entries_and_web_when_reported() {
        let p = Policy::default();
        for label in [
            "all_ports",
            "ALL_PORTS",
            "22/SSH",
            "22/ssh",
            "5900-5999/VNC",
        ] {
            assert!(p.knows_label(label), "{label}");
        }
        for label in ["SSH", "22", "8888/Jupyter", "80/HTTP"] {
            assert!(!p.knows_label(label), "{label}");
        }
        let web = Policy::parse("report_web: true\n").unwrap();
        assert!(web.knows_label(&web.web_ports[0].label));
        assert!(!p.knows_label(&web.web_ports[0].label));
    }

    fn labels(p: &Policy) -> Vec<&str> {
        p.critical_ports.iter().map(|c| c.label.as_str()).collect()
    }

    #[test]
    fn default_table_is_the_seeds_in_port_order() {
        let p = Policy::default();
        assert_eq!(p.critical_ports.len(), 21);
        let l = labels(&p);
        assert_eq!(l[0], "22/SSH");
        assert_eq!(l[1], "389/LDAP");
        assert!(l.contains(&"9200/Elasticsearch/OpenSearch"));
        assert!(l.contains(&"5900-5999/VNC"));
        assert!(!p.report_web);
    }

    #[test]
    fn policy_adds_replaces_and_ignores() {
        let p = Policy::parse(
            "critical_ports:\n  - {ports: \"8888\", service: Jupyter}\n  - {ports: 22, service: OpenSSH}\nreport_web: true\nignore_ports: [8080, \"5900-5949\"]\n",
        )
        .unwrap();
        let l = labels(&p);
        assert!(l.contains(&"8888/Jupyter"));
        assert!(l.contains(&"22/OpenSSH") && !l.contains(&"22/SSH"));
        assert!(!l.iter().any(|l| l.starts_with("8080/")));
        let vnc = p
            .critical_ports
            .iter()
            .find(|c| c.service == "VNC")
            .unwrap();
        assert!(!vnc.intersects(5900, 5949));
        assert!(vnc.intersects(5950, 5950));
        // An ignored port outside an entry's range leaves the range as it was.
        assert!(!vnc.intersects(1, 5899) && !vnc.intersects(6000, 65535));
        let ssh = (p.critical_ports.iter())
            .find(|c| c.service == "OpenSSH")
            .unwrap();
        assert!(ssh.intersects(22, 22));
        assert!(!ssh.intersects(1, 21) && !ssh.intersects(23, 65535));
        assert!(p.report_web);
        // Ignored ports inside a range split it in two.
        let p = Policy::parse("ignore_ports: [\"5950-5960\"]").unwrap();
        let vnc = (p.critical_ports.iter())
            .find(|c| c.service == "VNC")
            .unwrap();
        assert_eq!(vnc.effective, [(5900, 5949), (5961, 5999)]);

        let p = Policy::parse(
            "replace_critical_ports: true\ncritical_ports: [{ports: 8888, service: Jupyter}]",
        )
        .unwrap();
        assert_eq!(labels(&p), vec!["8888/Jupyter"]);
    }

    #[test]
    fn bad_policies_name_the_key() {
        let e = Policy::parse("report_webb: true").unwrap_err();
        assert!(e.contains("report_webb"), "{e}");
        let e = Policy::parse("critical_ports: [{ports: \"70000\", service: X}]").unwrap_err();
        assert!(e.contains("critical_ports[0].ports"), "{e}");
        let e = Policy::parse("critical_ports: [{ports: \"90-80\", service: X}]").unwrap_err();
        assert!(e.contains("reversed"), "{e}");
        let e = Policy::parse("ignore_ports: [\"ssh\"]").unwrap_err();
        assert!(e.contains("ignore_ports[0]"), "{e}");
        let e = Policy::parse("report_web: maybe").unwrap_err();
        assert!(e.contains("report_web"), "{e}");
    }

    #[test]
    fn empty_policy_is_the_default() {
        assert_eq!(Policy::parse("\n").unwrap(), Policy::default());
    }
}
