//! Reading big snapshots fast: the file is read in blocks (never whole), a scanner finds the
//! elements of its lists, and worker threads deserialize and validate batches of elements in
//! parallel, straight into the typed inventory, so no raw object outlives its batch.
//!
//! This path accepts exactly what [`super::parse`] followed by `Inventory::from_raw` accepts,
//! or gives up: on anything irregular (a syntax error, an unknown or repeated key, a type
//! error, an invalid value) it returns `None` and the caller reads the file again the exact
//! way, whose errors name the field path, the line and the column.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;

use super::{check_meta, collection_errors, SnapshotCollectionError};
use crate::collect::decode::{self, is_ws};
use crate::inventory::{
    AddressGroup, FloatingIp, FromRaw, Inventory, InventoryMeta, Network, Objects, Port, Project,
    Rule, SecurityGroup, Server,
};

/// Bytes read from the file at a time: a batch of elements is about this big.
const BLOCK: usize = 1 << 20;

/// The snapshot's lists, as keys of its top-level object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Projects,
    SecurityGroups,
    Rules,
    Ports,
    Servers,
    FloatingIps,
    Networks,
    AddressGroups,
}

impl List {
    const ALL: [List; 8] = [
        List::Projects,
        List::SecurityGroups,
        List::Rules,
        List::Ports,
        List::Servers,
        List::FloatingIps,
        List::Networks,
        List::AddressGroups,
    ];

    fn key(self) -> &'static str {
        match self {
            List::Projects => "projects",
            List::SecurityGroups => "security_groups",
            List::Rules => "security_group_rules",
            List::Ports => "ports",
            List::Servers => "servers",
            List::FloatingIps => "floatingips",
            List::Networks => "networks",
            List::AddressGroups => "address_groups",
        }
    }
}

/// Complete elements of one list, found in a block of the file.
struct Batch {
    list: List,
    /// Position of the batch among all batches, for putting results back in file order.
    seq: usize,
    /// Index of the first element in its list (for the `InvalidField` path).
    first_index: usize,
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

/// The typed objects of one batch.
enum Parsed {
    Projects(Vec<Project>),
    SecurityGroups(Vec<SecurityGroup>),
    Rules(Vec<Rule>),
    Ports(Vec<Port>),
    Servers(Vec<Server>),
    FloatingIps(Vec<FloatingIp>),
    Networks(Vec<Network>),
    AddressGroups(Vec<AddressGroup>),
}

/// Reads and validates a snapshot file; `Ok(None)` when the file is not regular and must be
/// read the exact way to explain why.
pub(super) fn read(path: &Path) -> io::Result<Option<Inventory>> {
    read_in_blocks(path, BLOCK)
}

fn read_in_blocks(path: &Path, block: usize) -> io::Result<Option<Inventory>> {
    let input = Input {
        file: File::open(path)?,
        buf: Vec::new(),
        pos: 0,
        eof: false,
        block,
    };
    let workers = crate::parallel::threads();
    // Set by a worker on an irregular element: the scanner stops early.
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(workers * 2);
        let batch_rx = Arc::new(Mutex::new(batch_rx));
        let (out_tx, out_rx) = mpsc::channel::<(usize, Option<Parsed>)>();
        // Parsed blocks go back to the scanner: fresh memory costs more than parsing.
        let (pool_tx, pool_rx) = mpsc::channel::<Vec<u8>>();
        let mut threads = Vec::with_capacity(workers);
        for _ in 0..workers {
            let rx = Arc::clone(&batch_rx);
            let tx = out_tx.clone();
            let pool = pool_tx.clone();
            let stop = &stop;
            threads.push(scope.spawn(move || loop {
                let next = rx
                    .lock()
                    .map_err(drop)
                    .and_then(|rx| rx.recv().map_err(drop));
                let Ok(batch) = next else { break };
                let parsed = parse_batch(&batch);
                if parsed.is_none() {
                    stop.store(true, Ordering::Relaxed);
                }
                let _ = pool.send(batch.bytes);
                if tx.send((batch.seq, parsed)).is_err() {
                    break;
                }
            }));
        }
        drop((out_tx, pool_tx));
        let scanned = Scanner {
            input,
            batches: batch_tx,
            pool: pool_rx,
            stop: &stop,
            seq: 0,
        }
        .document();
        // The scanner's sender is gone: the workers finish their batches and stop.
        let mut results: Vec<Option<Parsed>> = Vec::new();
        let mut irregular = false;
        for (seq, parsed) in &out_rx {
            if results.len() <= seq {
                results.resize_with(seq + 1, || None);
            }
            match parsed {
                Some(p) => results[seq] = Some(p),
                None => {
                    irregular = true;
                    break;
                }
            }
        }
        drop(out_rx);
        // Joined, not only waited for, so that each thread is gone (its thread-locals too)
        // when the inventory is returned.
        for thread in threads {
            thread.join().expect("a snapshot worker panicked");
        }
        if irregular {
            return Ok(None);
        }
        let Some(top) = scanned? else {
            return Ok(None);
        };
        Ok(assemble(top, results))
    })
}

/// Deserializes and converts one batch; `None` when any element is irregular.
fn parse_batch(batch: &Batch) -> Option<Parsed> {
    /// `decode` reads the plain form of the hot object types; serde reads the rest.
    fn all<T: FromRaw>(batch: &Batch, decode: fn(&[u8]) -> Option<T::Raw>) -> Option<Vec<T>>
    where
        T::Raw: DeserializeOwned,
    {
        let mut out = Vec::with_capacity(batch.spans.len());
        let mut problems = Vec::new();
        for (k, &(start, end)) in batch.spans.iter().enumerate() {
            let bytes = &batch.bytes[start..end];
            let raw = match decode(bytes) {
                Some(raw) => raw,
                None => serde_json::from_slice(bytes).ok()?,
            };
            out.extend(T::from_raw(batch.first_index + k, raw, &mut problems));
            if !problems.is_empty() {
                return None;
            }
        }
        Some(out)
    }
    fn serde_only<R>(_: &[u8]) -> Option<R> {
        None
    }
    Some(match batch.list {
        List::Projects => Parsed::Projects(all(batch, serde_only)?),
        List::SecurityGroups => Parsed::SecurityGroups(all(batch, serde_only)?),
        List::Rules => Parsed::Rules(all(batch, decode::rule)?),
        List::Ports => Parsed::Ports(all(batch, decode::port)?),
        List::Servers => Parsed::Servers(all(batch, decode::server)?),
        List::FloatingIps => Parsed::FloatingIps(all(batch, serde_only)?),
        List::Networks => Parsed::Networks(all(batch, serde_only)?),
        List::AddressGroups => Parsed::AddressGroups(all(batch, serde_only)?),
    })
}

/// What the scanner read itself: the small top-level values, and which lists are present.
#[derive(Default)]
struct TopLevel {
    version: Option<u32>,
    collected_at: Option<String>,
    cloud: Option<String>,
    region: Option<String>,
    errors: Vec<SnapshotCollectionError>,
    /// Lists present (not absent, not null).
    present: Vec<List>,
    seen: Vec<String>,
}

/// Puts the batches back together in file order.
fn assemble(top: TopLevel, results: Vec<Option<Parsed>>) -> Option<Inventory> {
    #[derive(Default)]
    struct Lists {
        projects: Vec<Vec<Project>>,
        security_groups: Vec<Vec<SecurityGroup>>,
        rules: Vec<Vec<Rule>>,
        ports: Vec<Vec<Port>>,
        servers: Vec<Vec<Server>>,
        floating_ips: Vec<Vec<FloatingIp>>,
        networks: Vec<Vec<Network>>,
        address_groups: Vec<Vec<AddressGroup>>,
    }
    let mut lists = Lists::default();
    for parsed in results {
        match parsed? {
            Parsed::Projects(v) => lists.projects.push(v),
            Parsed::SecurityGroups(v) => lists.security_groups.push(v),
            Parsed::Rules(v) => lists.rules.push(v),
            Parsed::Ports(v) => lists.ports.push(v),
            Parsed::Servers(v) => lists.servers.push(v),
            Parsed::FloatingIps(v) => lists.floating_ips.push(v),
            Parsed::Networks(v) => lists.networks.push(v),
            Parsed::AddressGroups(v) => lists.address_groups.push(v),
        }
    }
    let present = |list: List| top.present.contains(&list);
    fn objects<T>(present: bool, chunks: Vec<Vec<T>>) -> Option<Objects<T>> {
        present.then(|| Objects::from_chunks(chunks))
    }
    Some(Inventory {
        projects: objects(present(List::Projects), lists.projects),
        security_groups: objects(present(List::SecurityGroups), lists.security_groups),
        rules: Objects::from_chunks(lists.rules),
        ports: objects(present(List::Ports), lists.ports),
        servers: objects(present(List::Servers), lists.servers),
        floating_ips: objects(present(List::FloatingIps), lists.floating_ips),
        networks: objects(present(List::Networks), lists.networks),
        address_groups: objects(present(List::AddressGroups), lists.address_groups),
        meta: InventoryMeta {
            cloud: top.cloud,
            region: top.region,
            collected_at: top.collected_at,
        },
        errors: collection_errors(top.errors),
    })
}

/// The file, read block by block.
struct Input {
    file: File,
    buf: Vec<u8>,
    /// Everything before `pos` is consumed.
    pos: usize,
    eof: bool,
    /// Bytes to read at a time.
    block: usize,
}

impl Input {
    /// Drops the consumed bytes and appends up to a block; false at the end of the file.
    fn more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // A value bigger than a block makes the buffer grow.
        let want = self.block.max(self.buf.len());
        self.buf.reserve(want);
        let got = (&mut self.file)
            .take(want as u64)
            .read_to_end(&mut self.buf)?;
        if got == 0 {
            self.eof = true;
        }
        Ok(got > 0)
    }

    /// Skips JSON whitespace, reading more as needed; the next byte, or `None` at the end.
    fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if !is_ws(b) {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    /// The span of the complete value at `pos` (after whitespace), reading more as needed;
    /// `None` when the file ends first. Does not consume it.
    fn value(&mut self) -> io::Result<Option<(usize, usize)>> {
        if self.peek()?.is_none() {
            return Ok(None);
        }
        loop {
            if let Some(end) = value_end(&self.buf, self.pos) {
                return Ok(Some((self.pos, end)));
            }
            if !self.more()? {
                return Ok(None);
            }
        }
    }
}

/// End (exclusive) of the JSON value starting at `buf[start]`, or `None` when `buf` ends
/// first. Only the structure is followed (strings, nesting); serde checks the rest.
fn value_end(buf: &[u8], start: usize) -> Option<usize> {
    let (open, close) = match buf[start] {
        b'{' => (b'{', b'}'),
        b'[' => (b'[', b']'),
        b'"' => return string_end(buf, start + 1),
        _ => {
            // A number or a literal: up to the next delimiter.
            let len = buf[start..]
                .iter()
                .position(|&b| matches!(b, b',' | b']' | b'}') || is_ws(b))?;
            return Some(start + len);
        }
    };
    // Inside valid JSON, the other kind of bracket is balanced and cannot end the value.
    let mut depth = 0usize;
    let mut i = start;
    loop {
        // Outside strings the next quote or bracket is a few bytes away: a byte loop beats
        // a vectorised search's start-up cost there.
        while !matches!(*buf.get(i)?, b'"' | b'{' | b'}' | b'[' | b']') {
            i += 1;
        }
        match buf[i] {
            b'"' => i = string_end(buf, i + 1)?,
            b if b == open => {
                depth += 1;
                i += 1;
            }
            b if b != close => i += 1,
            _ => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
        }
    }
}

/// End (exclusive, after the closing quote) of the string whose body starts at `i`.
fn string_end(buf: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = decode::string_stop(buf, i);
        match *buf.get(i)? {
            b'"' => return Some(i + 1),
            // A control character: serde rejects it later.
            b'\\' => {}
            _ => {
                i += 1;
                continue;
            }
        }
        // An escape: skip the backslash and the escaped byte.
        i += 2;
        if i > buf.len() {
            return None;
        }
    }
}

struct Scanner<'a> {
    input: Input,
    batches: mpsc::SyncSender<Batch>,
    /// Blocks the workers are done with.
    pool: mpsc::Receiver<Vec<u8>>,
    /// A worker found an irregular element: the whole read will be done again anyway.
    stop: &'a AtomicBool,
    seq: usize,
}

impl Scanner<'_> {
    /// The whole document; `None` when it is irregular (or the workers stopped).
    fn document(mut self) -> io::Result<Option<TopLevel>> {
        let mut top = TopLevel::default();
        if self.input.peek()? != Some(b'{') {
            return Ok(None);
        }
        self.input.pos += 1;
        if self.input.peek()? == Some(b'}') {
            return Ok(None); // no rules list: the exact path names the missing field
        }
        loop {
            let Some(key) = self.small::<String>()? else {
                return Ok(None);
            };
            if top.seen.contains(&key) {
                return Ok(None);
            }
            if self.input.peek()? != Some(b':') {
                return Ok(None);
            }
            self.input.pos += 1;
            let regular = match key.as_str() {
                "driftmux_snapshot" => self.small().map(|v| v.map(|v| top.version = v))?,
                "collected_at" => self.small().map(|v| v.map(|v| top.collected_at = v))?,
                "cloud" => self.small().map(|v| v.map(|v| top.cloud = v))?,
                "region" => self.small().map(|v| v.map(|v| top.region = v))?,
                "errors" => self.small().map(|v| v.map(|v| top.errors = v))?,
                _ => match List::ALL.into_iter().find(|l| l.key() == key) {
                    Some(list) => self.list(list, &mut top)?,
                    None => None,
                },
            };
            if regular.is_none() {
                return Ok(None);
            }
            top.seen.push(key);
            match self.input.peek()? {
                Some(b',') => self.input.pos += 1,
                Some(b'}') => {
                    self.input.pos += 1;
                    break;
                }
                _ => return Ok(None),
            }
        }
        if self.input.peek()?.is_some() || !top.present.contains(&List::Rules) {
            return Ok(None);
        }
        if check_meta(top.version, top.collected_at.as_deref()).is_err() {
            return Ok(None);
        }
        Ok(Some(top))
    }

    /// A small value, deserialized here; `None` when irregular.
    fn small<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
        let Some((start, end)) = self.input.value()? else {
            return Ok(None);
        };
        self.input.pos = end;
        Ok(serde_json::from_slice(&self.input.buf[start..end]).ok())
    }

    /// A list (or null), its elements sent to the workers in batches.
    fn list(&mut self, list: List, top: &mut TopLevel) -> io::Result<Option<()>> {
        match self.input.peek()? {
            Some(b'[') => self.input.pos += 1,
            // null: not collected (rules must be a list; the exact path says so).
            Some(b'n') if list != List::Rules => return self.small::<()>(),
            _ => return Ok(None),
        }
        top.present.push(list);
        let mut count = 0usize;
        let mut first = true;
        let mut spans = Vec::new();
        loop {
            // One element and its separator, or nothing when the buffer ends first.
            let buf = &self.input.buf;
            let mut i = self.input.pos;
            while buf.get(i).is_some_and(|&b| is_ws(b)) {
                i += 1;
            }
            let step = match buf.get(i) {
                None => None,
                Some(b']') if first => Some(Step::End(i + 1)),
                Some(_) => value_end(buf, i).and_then(|end| {
                    let mut j = end;
                    while buf.get(j).is_some_and(|&b| is_ws(b)) {
                        j += 1;
                    }
                    match buf.get(j)? {
                        b',' => Some(Step::Element(i, end, j + 1, false)),
                        b']' => Some(Step::Element(i, end, j + 1, true)),
                        _ => Some(Step::Irregular),
                    }
                }),
            };
            match step {
                Some(Step::Irregular) => return Ok(None),
                Some(Step::End(next)) => {
                    self.input.pos = next;
                    return Ok(Some(()));
                }
                Some(Step::Element(start, end, next, last)) => {
                    spans.push((start, end));
                    self.input.pos = next;
                    first = false;
                    if last {
                        return Ok(self.send(list, &mut count, &mut spans));
                    }
                }
                None => {
                    if !spans.is_empty() && self.send(list, &mut count, &mut spans).is_none() {
                        return Ok(None);
                    }
                    if !self.input.more()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Hands the elements found so far to the workers. The buffer goes with them; the
    /// unconsumed rest is copied into a fresh one.
    fn send(
        &mut self,
        list: List,
        count: &mut usize,
        spans: &mut Vec<(usize, usize)>,
    ) -> Option<()> {
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        // Room for the rest and the next block, so reading never moves it.
        let mut rest =
            (self.pool.try_recv()).unwrap_or_else(|_| Vec::with_capacity(2 * self.input.block));
        rest.clear();
        rest.extend_from_slice(&self.input.buf[self.input.pos..]);
        let bytes = std::mem::replace(&mut self.input.buf, rest);
        self.input.pos = 0;
        let spans = std::mem::take(spans);
        let batch = Batch {
            list,
            seq: self.seq,
            first_index: *count,
            bytes,
            spans,
        };
        *count += batch.spans.len();
        self.seq += 1;
        self.batches.send(batch).ok()
    }
}

enum Step {
    /// An element `start..end`; the next one starts at `next`; `true` when it was the last.
    Element(usize, usize, usize, bool),
    /// An empty list, ending before `next`.
    End(usize),
    Irregular,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::snapshot::parse;

    /// The exact path: the whole file, parsed then validated.
    fn exact(text: &str) -> Option<Inventory> {
        Inventory::from_raw(parse(text.as_bytes()).ok()?).ok()
    }

    fn fast(text: &str, block: usize) -> Option<Inventory> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.json");
        std::fs::write(&path, text).unwrap();
        read_in_blocks(&path, block).unwrap()
    }

    /// Every block size, from one byte (every value crosses a block boundary) up.
    fn same_as_exact(text: &str) {
        let expected = exact(text).expect("a valid snapshot");
        for block in [1, 2, 3, 7, 64, 1000, BLOCK] {
            let got = fast(text, block).unwrap_or_else(|| panic!("block {block}: irregular"));
            assert_eq!(got, expected, "block {block}");
        }
    }

    #[test]
    fn reads_what_the_exact_path_reads() {
        same_as_exact(include_str!("../../../examples/demo-cloud.json"));
        same_as_exact(include_str!("../../../tests/fixtures/sample-cloud.json"));
        same_as_exact(r#"{"security_group_rules": []}"#);
        same_as_exact(" \n{ \"security_group_rules\" : [ ] , \"ports\" : null } \n");
    }

    #[test]
    fn strings_with_structure_inside_and_nested_lists() {
        let text = r#"{"driftmux_snapshot": 1, "cloud": "a \"}]{[\\", "security_group_rules": [
            {"id": "r}1", "security_group_id": "g{", "direction": "ingress",
             "description": "],[{\"\\\"", "tags": [[], [{"a": ["}"]}]]},
            {"id": "r2", "security_group_id": "g", "direction": "egress", "x": {"y": [1, 2.5e3, true, null]}}
          ],
          "ports": [{"id": "p", "security_groups": ["g{"], "fixed_ips": [{"ip_address": "10.0.0.1"}, {"ip_address": "::1"}]}],
          "servers": [], "projects": [{"id": "p\u00e9", "name": "caf\u00e9"}],
          "errors": [{"resource": "servers", "message": "boom"}]}"#;
        same_as_exact(text);
        let inv = fast(text, 5).unwrap();
        assert_eq!(inv.rules.len(), 2);
        assert_eq!(inv.meta.cloud.as_deref(), Some("a \"}]{[\\"));
        assert_eq!(inv.errors.len(), 1);
        assert!(inv.servers.unwrap().is_empty() && inv.floating_ips.is_none());
    }

    #[test]
    fn anything_irregular_is_left_to_the_exact_path() {
        for text in [
            "",
            "[]",
            "{}",
            r#"{"ports": []}"#,
            r#"{"security_group_rules": null}"#,
            r#"{"security_group_rules": [], "unknown": 1}"#,
            r#"{"security_group_rules": [], "security_group_rules": []}"#,
            r#"{"security_group_rules": [] "ports": []}"#,
            r#"{"security_group_rules": [,]}"#,
            r#"{"security_group_rules": [{"id": "r", "security_group_id": "g"},]}"#,
            r#"{"security_group_rules": [{"id": "r", "security_group_id": "g"}"#,
            r#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "ingress"} {"id": "s"}]}"#,
            r#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "sideways"}]}"#,
            r#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "ingress", "port_range_min": "22"}]}"#,
            r#"{"security_group_rules": [{"id": "r", "security_group_id": "g", "direction": "ingress"}]} x"#,
            r#"{"security_group_rules": [], "driftmux_snapshot": 2}"#,
            r#"{"security_group_rules": [], "collected_at": "yesterday"}"#,
            r#"{"security_group_rules": [], "ports": [{"id": "p", "fixed_ips": [{"ip_address": "banana"}]}]}"#,
            r#"{"security_group_rules": [], "errors": null}"#,
            "{\"security_group_rules\": [{\"id\": \"r\u{0}\"}]}",
        ] {
            for block in [1, 4, BLOCK] {
                assert!(fast(text, block).is_none(), "block {block}: {text}");
            }
            assert!(
                exact(text).is_none(),
                "the exact path rejects it too: {text}"
            );
        }
    }

    /// Differential check on damaged copies of a real snapshot: whatever the damage, the fast
    /// path either gives up or reads exactly what the exact path reads.
    #[test]
    fn damaged_snapshots_never_read_differently() {
        let original = include_str!("../../../tests/fixtures/sample-cloud.json").as_bytes();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.json");
        let mut damage = crate::collect::damage::Damage::new(0x2545_f491_4f6c_dd1d);
        let (mut agreed, mut gave_up) = (0, 0);
        for _ in 0..600 {
            let bytes = damage.apply(original, 3);
            std::fs::write(&path, &bytes).unwrap();
            let block = [1, 3, 16, 256, BLOCK][damage.below(5)];
            let exact = parse(&bytes)
                .ok()
                .and_then(|raw| Inventory::from_raw(raw).ok());
            match read_in_blocks(&path, block).unwrap() {
                Some(fast) => {
                    assert_eq!(
                        Some(&fast),
                        exact.as_ref(),
                        "{}",
                        String::from_utf8_lossy(&bytes)
                    );
                    agreed += 1;
                }
                None => gave_up += 1,
            }
        }
        // Both outcomes happen: the damage is not always fatal, nor always harmless.
        assert!(
            agreed > 50 && gave_up > 50,
            "agreed {agreed}, gave up {gave_up}"
        );
    }
}
