//! The snapshot file: a saved inventory of raw OpenStack API objects.
//!
//! ```json
//! { "driftmux_snapshot": 1, "collected_at": "2026-11-20T08:00:00Z", "cloud": "prod",
//!   "region": "RegionOne", "projects": [...], "security_groups": [...],
//!   "security_group_rules": [...], "ports": [...], "servers": [...],
//!   "floatingips": [...], "networks": [...], "address_groups": [...] }
//! ```
//! Only `security_group_rules` is required; a missing (or null) list means "not collected".
//! An optional `project_scope` list (project ids) says that the collecting token saw only
//! those projects' objects (it was not an admin's). An optional `errors` list (`{resource,
//! endpoint, status, message}`) records what the collection could not read; auditing such a
//! snapshot is incomplete (exit 3). An optional `warnings` list (strings) records what it
//! said of how the cloud answered; the audit of the snapshot repeats them.
//! Errors name the file, the field path and, for JSON syntax errors, the line and column.

mod fast;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::wire::{
    RawAddressGroup, RawFloatingIp, RawNetwork, RawPort, RawProject, RawRule, RawSecurityGroup,
    RawServer,
};
use crate::inventory::{CollectionError, InvalidField, Inventory, InventoryMeta, RawInventory};

/// The only snapshot format version this build reads and writes.
pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SnapshotFile {
    #[serde(default)]
    driftmux_snapshot: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    collected_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cloud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    /// The projects the collecting token was scoped to, when it was not an admin's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    project_scope: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    projects: Option<Vec<RawProject>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_groups: Option<Vec<RawSecurityGroup>>,
    security_group_rules: Vec<RawRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ports: Option<Vec<RawPort>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    servers: Option<Vec<RawServer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    floatingips: Option<Vec<RawFloatingIp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    networks: Option<Vec<RawNetwork>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address_groups: Option<Vec<RawAddressGroup>>,
    /// What the collection that saved this snapshot could not read: the audit of the
    /// snapshot is incomplete too, never a clean pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    errors: Vec<SnapshotCollectionError>,
    /// What that collection said of how the cloud answered (a listing read again, say):
    /// the audit of the snapshot repeats it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SnapshotCollectionError {
    resource: String,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    message: String,
    #[serde(default = "yes")]
    required: bool,
}

fn yes() -> bool {
    true
}

/// Why a snapshot file could not be used.
#[derive(Debug)]
pub struct SnapshotError {
    pub file: PathBuf,
    pub kind: SnapshotErrorKind,
}

#[derive(Debug)]
pub enum SnapshotErrorKind {
    Read(std::io::Error),
    /// JSON syntax or type error: field path (may be empty), line, column, message.
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    Version(u32),
    Invalid(Vec<InvalidField>),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.kind {
            SnapshotErrorKind::Read(e) => write!(f, "cannot read snapshot file {file}: {e}"),
            SnapshotErrorKind::Parse {
                path,
                line,
                column,
                message,
            } => {
                write!(f, "snapshot file {file}: ")?;
                if !path.is_empty() {
                    write!(f, "field `{path}`: ")?;
                }
                write!(f, "{message} (line {line}, column {column})")
            }
            SnapshotErrorKind::Version(v) => write!(
                f,
                "snapshot file {file}: field `driftmux_snapshot`: unsupported snapshot version {v} \
                 (this build reads version {SNAPSHOT_VERSION})"
            ),
            SnapshotErrorKind::Invalid(problems) => {
                write!(
                    f,
                    "snapshot file {file}: {} invalid value(s)",
                    problems.len()
                )?;
                for p in problems.iter().take(20) {
                    write!(f, "\n  - field {p}")?;
                }
                if problems.len() > 20 {
                    write!(f, "\n  - ... and {} more", problems.len() - 20)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

/// Reads, parses and validates a snapshot file.
pub fn read(file: &Path) -> Result<Inventory, SnapshotError> {
    let err = |kind| SnapshotError {
        file: file.to_owned(),
        kind,
    };
    let read = |e| err(SnapshotErrorKind::Read(e));
    let bytes = if file == Path::new("-") {
        // Standard input: read whole (a pipe cannot be read twice), the exact path.
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map_err(read)?;
        bytes
    } else {
        // Most snapshots are regular files with regular content: read them in parallel,
        // without holding the whole file. A pipe (`<(...)`, /dev/stdin) cannot be read
        // twice, so it takes the exact path directly.
        let meta = std::fs::metadata(file).map_err(read)?;
        if meta.is_file() {
            if let Some(inventory) = fast::read(file).map_err(read)? {
                return Ok(inventory);
            }
        }
        // Something is wrong (or unusual): the exact path says what and where.
        std::fs::read(file).map_err(read)?
    };
    let raw = parse(&bytes).map_err(err)?;
    // The file's bytes are not needed any more: free them before building the inventory.
    drop(bytes);
    Inventory::from_raw(raw).map_err(|problems| err(SnapshotErrorKind::Invalid(problems)))
}

/// Parses snapshot bytes into raw API objects (no semantic validation yet).
pub fn parse(bytes: &[u8]) -> Result<RawInventory, SnapshotErrorKind> {
    // serde would also read a struct from a JSON array; a snapshot is an object.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if let Some(b'[' | b'"' | b'0'..=b'9' | b'-' | b't' | b'f' | b'n') = first {
        return Err(SnapshotErrorKind::Parse {
            path: String::new(),
            line: 1,
            column: 1,
            message: "a snapshot must be a JSON object".into(),
        });
    }
    // Fast path without path tracking; on an error, parse again with it to name the field.
    let file: SnapshotFile = match serde_json::from_slice(bytes) {
        Ok(file) => file,
        Err(fast) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let tracked: Result<SnapshotFile, _> = serde_path_to_error::deserialize(&mut de);
            return Err(match tracked {
                Err(e) => {
                    let path = crate::error::json_field(e.path()).unwrap_or_default();
                    json_error(path, e.into_inner())
                }
                // Only trailing characters fail the fast path but not this one.
                Ok(_) => de
                    .end()
                    .map(|()| json_error(String::new(), fast))
                    .unwrap_or_else(|e| json_error(String::new(), e)),
            });
        }
    };
    check_meta(file.driftmux_snapshot, file.collected_at.as_deref())?;
    Ok(RawInventory {
        meta: InventoryMeta {
            cloud: file.cloud,
            region: file.region,
            collected_at: file.collected_at,
            project_scope: file.project_scope,
        },
        projects: file.projects,
        security_groups: file.security_groups,
        security_group_rules: file.security_group_rules,
        ports: file.ports,
        servers: file.servers,
        floating_ips: file.floatingips,
        networks: file.networks,
        address_groups: file.address_groups,
        errors: collection_errors(file.errors),
        warnings: file.warnings,
    })
}

/// The version and the collection time must be ones this build understands.
fn check_meta(version: Option<u32>, collected_at: Option<&str>) -> Result<(), SnapshotErrorKind> {
    if let Some(v) = version {
        if v != SNAPSHOT_VERSION {
            return Err(SnapshotErrorKind::Version(v));
        }
    }
    if let Some(ts) = collected_at {
        if ts.parse::<jiff::Timestamp>().is_err() {
            return Err(SnapshotErrorKind::Invalid(vec![InvalidField {
                path: "collected_at".into(),
                object_id: None,
                message: format!("{ts:?} is not an RFC 3339 timestamp"),
            }]));
        }
    }
    Ok(())
}

fn collection_errors(errors: Vec<SnapshotCollectionError>) -> Vec<CollectionError> {
    errors
        .into_iter()
        .map(|e| CollectionError {
            resource: e.resource,
            endpoint: e.endpoint,
            status: e.status,
            message: e.message,
            required: e.required,
        })
        .collect()
}

/// Serializes a collected inventory as a snapshot file (pretty JSON).
pub fn render(raw: &RawInventory) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        driftmux_snapshot: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        collected_at: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cloud: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        region: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        project_scope: Option<&'a [String]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        projects: Option<&'a [RawProject]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        security_groups: Option<&'a [RawSecurityGroup]>,
        security_group_rules: &'a [RawRule],
        #[serde(skip_serializing_if = "Option::is_none")]
        ports: Option<&'a [RawPort]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        servers: Option<&'a [RawServer]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        floatingips: Option<&'a [RawFloatingIp]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        networks: Option<&'a [RawNetwork]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        address_groups: Option<&'a [RawAddressGroup]>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        errors: Vec<SnapshotCollectionError>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        warnings: &'a [String],
    }
    let out = Out {
        driftmux_snapshot: SNAPSHOT_VERSION,
        collected_at: raw.meta.collected_at.as_deref(),
        cloud: raw.meta.cloud.as_deref(),
        region: raw.meta.region.as_deref(),
        project_scope: raw.meta.project_scope.as_deref(),
        projects: raw.projects.as_deref(),
        security_groups: raw.security_groups.as_deref(),
        security_group_rules: &raw.security_group_rules,
        ports: raw.ports.as_deref(),
        servers: raw.servers.as_deref(),
        floatingips: raw.floating_ips.as_deref(),
        networks: raw.networks.as_deref(),
        address_groups: raw.address_groups.as_deref(),
        errors: raw
            .errors
            .iter()
            .map(|e| SnapshotCollectionError {
                resource: e.resource.clone(),
                endpoint: e.endpoint.clone(),
                status: e.status,
                message: e.message.clone(),
                required: e.required,
            })
            .collect(),
        warnings: &raw.warnings,
    };
    let mut text = serde_json::to_string_pretty(&out).expect("snapshot serializes");
    text.push('\n');
    text
}

fn json_error(path: String, e: serde_json::Error) -> SnapshotErrorKind {
    SnapshotErrorKind::Parse {
        path,
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    }
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> SnapshotErrorKind {
        parse(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn minimal_snapshot_needs_only_rules() {
        let raw = parse(br#"{"security_group_rules": []}"#).unwrap();
        assert!(raw.ports.is_none() && raw.servers.is_none() && raw.projects.is_none());
    }

    #[test]
    fn missing_rules_list_is_named() {
        let SnapshotErrorKind::Parse { message, .. } = parse_err(r#"{"ports": []}"#) else {
            panic!()
        };
        assert!(
            message.contains("missing field `security_group_rules`"),
            "{message}"
        );
    }

    #[test]
    fn type_errors_carry_the_field_path_and_position() {
        let text = "{\"security_group_rules\": [\n {\"id\": \"r\", \"security_group_id\": \"g\",\n  \"port_range_min\": \"22\"}]}";
        let SnapshotErrorKind::Parse {
            path, line, column, ..
        } = parse_err(text)
        else {
            panic!()
        };
        assert_eq!(path, "security_group_rules[0].port_range_min");
        assert_eq!(line, 3);
        assert!(column > 0);
    }

    #[test]
    fn unknown_version_and_trailing_garbage_are_rejected() {
        assert!(matches!(
            parse_err(r#"{"driftmux_snapshot": 2, "security_group_rules": []}"#),
            SnapshotErrorKind::Version(2)
        ));
        assert!(matches!(
            parse_err(r#"{"security_group_rules": []} x"#),
            SnapshotErrorKind::Parse { .. }
        ));
        assert!(matches!(
            parse_err(r#"{"collected_at": "yesterday", "security_group_rules": []}"#),
            SnapshotErrorKind::Invalid(_)
        ));
    }

    #[test]
    fn a_protocol_of_another_type_says_what_was_expected() {
        let SnapshotErrorKind::Parse { path, message, .. } = parse_err(
            r#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "protocol": true}]}"#,
        ) else {
            panic!()
        };
        assert_eq!(path, "security_group_rules[0].protocol");
        assert!(
            message.contains("expected a protocol name, a protocol number or null"),
            "{message}"
        );
    }

    #[test]
    fn a_negative_protocol_number_is_invalid_not_any_protocol() {
        // Null would be every protocol: a finding on every port, or none missed.
        let raw = parse(
            br#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "ingress",
                "ethertype": "IPv4", "protocol": -1, "remote_ip_prefix": "0.0.0.0/0"}]}"#,
        )
        .unwrap();
        assert_eq!(raw.security_group_rules[0].protocol.as_deref(), Some("-1"));
        let problem = Inventory::from_raw(raw).unwrap_err();
        assert_eq!(problem[0].path, "security_group_rules[0].protocol");
    }

    #[test]
    fn invalid_values_are_listed_twenty_at_most() {
        let error = |count: usize| {
            let problems = (0..count)
                .map(|i| InvalidField {
                    path: format!("ports[{i}].fixed_ips"),
                    object_id: None,
                    message: "not a list".into(),
                })
                .collect();
            SnapshotError {
                file: "cloud.json".into(),
                kind: SnapshotErrorKind::Invalid(problems),
            }
            .to_string()
        };
        let twenty = error(20);
        assert!(twenty.starts_with("snapshot file cloud.json: 20 invalid value(s)\n"));
        assert!(
            twenty.ends_with("\n  - field `ports[19].fixed_ips`: not a list"),
            "{twenty}"
        );
        let more = error(21);
        assert!(
            more.ends_with("\n  - field `ports[19].fixed_ips`: not a list\n  - ... and 1 more"),
            "{more}"
        );
    }

    #[test]
    fn render_round_trips() {
        let text = include_str!("../../../examples/demo-cloud.json");
        let raw = parse(text.as_bytes()).unwrap();
        let rendered = render(&raw);
        let again = parse(rendered.as_bytes()).unwrap();
        assert_eq!(render(&again), rendered);
        let a = Inventory::from_raw(raw).unwrap();
        let b = Inventory::from_raw(again).unwrap();
        assert_eq!(a.rules, b.rules);
        assert_eq!(a.ports, b.ports);
        assert_eq!(a.servers, b.servers);
    }

    #[test]
    fn unknown_fields_inside_api_objects_are_ignored() {
        let raw = parse(
            br#"{"security_group_rules": [{"id": "r", "security_group_id": "g",
                "direction": "ingress", "normalized_cidr": null, "tags": [], "protocol": 6}]}"#,
        )
        .unwrap();
        assert_eq!(raw.security_group_rules[0].protocol.as_deref(), Some("6"));
    }
}
