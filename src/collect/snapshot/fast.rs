//! Reading big snapshots fast: the file is read in blocks (never whole), a scanner finds the
//! elements of its lists, and worker threads deserialize and validate batches of elements in
//! parallel, straight into the typed inventory, so no raw object outlives its batch.
//!
//! In the big lists (rules, ports, servers) the scanner does not follow every element: it
//! guesses where a later element starts, near the end of what it has read, and hands the
//! workers the run of elements up to there. A worker decodes a run element by element (its
//! decoders know where each element ends) and must land exactly on the guessed start; as
//! the first run starts at the list's first element, every run checked this way starts and
//! ends where elements do. A wrong guess makes the whole read start again with every
//! element followed (as before this was guessed), so a guess can cost time, never change
//! what is read.
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

/// How the file is read.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Bytes to read at a time.
    block: usize,
    /// Whether the scanner guesses the ends of runs of elements in the big lists.
    guess: Option<Guess>,
}

/// How far the scanner jumps when it guesses.
#[derive(Debug, Clone, Copy)]
struct Guess {
    /// A run is at least this long (unless the file ends first).
    min_run: usize,
    /// The guessed end is searched for in this many bytes at the end of what was read.
    tail: usize,
}

impl Plan {
    const FAST: Plan = Plan {
        block: BLOCK,
        guess: Some(Guess {
            min_run: BLOCK / 2,
            tail: 16 << 10,
        }),
    };

    /// Every element followed by the scanner.
    fn exact(self) -> Plan {
        Plan {
            guess: None,
            ..self
        }
    }
}

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

    /// Lists whose elements the workers can find by themselves (they have decoders).
    fn guessed(self) -> bool {
        matches!(self, List::Rules | List::Ports | List::Servers)
    }

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
///
/// An element's index in its list only names an invalid value, and this path gives up on
/// those (the exact path names them), so batches do not know where they start in their list.
struct Batch {
    list: List,
    /// Position of the batch among all batches, for putting results back in file order.
    seq: usize,
    bytes: Vec<u8>,
    elements: Elements,
}

/// Where a batch's elements are in its bytes.
enum Elements {
    /// Each element, as the scanner found it.
    Spans(Vec<(usize, usize)>),
    /// Consecutive elements, each followed by its comma, from the start of one (known, or
    /// checked by the previous run) up to the guessed start of a later one.
    Run(usize, usize),
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
    read_with(path, Plan::FAST)
}

/// Reads with `plan`; when that guessed and anything failed, reads again following every
/// element, so a wrong guess never gives up on a regular file.
fn read_with(path: &Path, plan: Plan) -> io::Result<Option<Inventory>> {
    match read_once(path, plan)? {
        (None, true) => Ok(read_once(path, plan.exact())?.0),
        (inventory, _) => Ok(inventory),
    }
}

/// One read; the flag tells whether the scanner guessed.
fn read_once(path: &Path, plan: Plan) -> io::Result<(Option<Inventory>, bool)> {
    let input = Input {
        file: File::open(path)?,
        buf: Vec::new(),
        pos: 0,
        eof: false,
        block: plan.block,
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
            threads.push(scope.spawn(move || {
                let mut scratch = Scratch::default();
                loop {
                    let next = rx
                        .lock()
                        .map_err(drop)
                        .and_then(|rx| rx.recv().map_err(drop));
                    let Ok(batch) = next else { break };
                    let parsed = parse_batch(&batch, &mut scratch);
                    if parsed.is_none() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let _ = pool.send(batch.bytes);
                    if tx.send((batch.seq, parsed)).is_err() {
                        break;
                    }
                }
            }));
        }
        drop((out_tx, pool_tx));
        let mut scanner = Scanner {
            input,
            batches: batch_tx,
            pool: pool_rx,
            stop: &stop,
            seq: 0,
            guess: plan.guess,
            guessed: false,
        };
        let scanned = scanner.document();
        let guessed = scanner.guessed;
        drop(scanner);
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
            return Ok((None, guessed));
        }
        let Some(top) = scanned? else {
            return Ok((None, guessed));
        };
        Ok((assemble(top, results), guessed))
    })
}

/// Deserializes and converts one batch; `None` when any element is irregular, or a run does
/// not end where it was guessed to.
fn parse_batch(batch: &Batch, scratch: &mut Scratch) -> Option<Parsed> {
    /// `decode` reads the plain form of the hot object types; serde reads the rest.
    fn all<T: FromRaw>(
        batch: &Batch,
        decode: Option<Decoder<T::Raw>>,
        scratch: &mut Vec<T>,
    ) -> Option<Vec<T>>
    where
        T::Raw: DeserializeOwned,
    {
        let mut problems = Vec::new();
        // Any invalid value gives up (see `Batch`): the index is not needed.
        let mut convert = |raw| {
            let object = T::from_raw(0, raw, &mut problems);
            problems.is_empty().then_some(object)
        };
        match batch.elements {
            Elements::Spans(ref spans) => {
                let mut out = Vec::with_capacity(spans.len());
                for &(start, end) in spans {
                    let bytes = &batch.bytes[start..end];
                    let raw = match decode.and_then(|d| decode::whole(bytes, d)) {
                        Some(raw) => raw,
                        None => serde_json::from_slice(bytes).ok()?,
                    };
                    out.extend(convert(raw)?);
                }
                Some(out)
            }
            Elements::Run(start, end) => {
                let run = &batch.bytes[start..end];
                let serde = |bytes: &[u8]| {
                    let end = value_end(bytes, 0)?;
                    Some((serde_json::from_slice(&bytes[..end]).ok()?, end))
                };
                scratch.clear();
                decode::elements(run, decode?, serde, |raw| {
                    scratch.extend(convert(raw)?);
                    Some(())
                })?;
                // How many elements a run holds is known only now: they are moved into a
                // vector of exactly that size (room left over would stay resident).
                let mut out = Vec::with_capacity(scratch.len());
                out.append(scratch);
                Some(out)
            }
        }
    }
    Some(match batch.list {
        List::Projects => Parsed::Projects(all(batch, None, &mut Vec::new())?),
        List::SecurityGroups => Parsed::SecurityGroups(all(batch, None, &mut Vec::new())?),
        List::Rules => Parsed::Rules(all(batch, Some(decode::rule_at), &mut scratch.rules)?),
        List::Ports => Parsed::Ports(all(batch, Some(decode::port_at), &mut scratch.ports)?),
        List::Servers => {
            Parsed::Servers(all(batch, Some(decode::server_at), &mut scratch.servers)?)
        }
        List::FloatingIps => Parsed::FloatingIps(all(batch, None, &mut Vec::new())?),
        List::Networks => Parsed::Networks(all(batch, None, &mut Vec::new())?),
        List::AddressGroups => Parsed::AddressGroups(all(batch, None, &mut Vec::new())?),
    })
}

/// A worker's room for the objects of a run, reused from run to run.
#[derive(Default)]
struct Scratch {
    rules: Vec<Rule>,
    ports: Vec<Port>,
    servers: Vec<Server>,
}

/// A decoder of one object type's plain form, at a cursor.
type Decoder<R> = fn(&mut decode::Cursor) -> Option<R>;

/// What the scanner read itself: the small top-level values, and which lists are present.
#[derive(Default)]
struct TopLevel {
    version: Option<u32>,
    collected_at: Option<String>,
    cloud: Option<String>,
    region: Option<String>,
    project_scope: Option<Vec<String>>,
    errors: Vec<SnapshotCollectionError>,
    warnings: Vec<String>,
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
            project_scope: top.project_scope,
        },
        errors: collection_errors(top.errors),
        warnings: top.warnings,
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
    let (open, close) = match *buf.get(start)? {
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
        i = crate::json_text::string_stop(buf, i);
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
    /// Whether to guess the ends of runs of elements in the big lists.
    guess: Option<Guess>,
    /// Whether a run was sent whose end was guessed.
    guessed: bool,
}

impl Scanner<'_> {
    /// The whole document; `None` when it is irregular (or the workers stopped).
    fn document(&mut self) -> io::Result<Option<TopLevel>> {
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
                "project_scope" => self.small().map(|v| v.map(|v| top.project_scope = v))?,
                "errors" => self.small().map(|v| v.map(|v| top.errors = v))?,
                "warnings" => self.small().map(|v| v.map(|v| top.warnings = v))?,
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
        let mut first = true;
        let mut spans = Vec::new();
        let guess = self.guess.filter(|_| list.guessed());
        loop {
            if let Some(guess) = guess.filter(|_| spans.is_empty()) {
                match self.run(list, guess)? {
                    None => return Ok(None),
                    Some(true) => {
                        first = false;
                        continue;
                    }
                    Some(false) => {}
                }
            }
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
                        return Ok(self.send_spans(list, &mut spans));
                    }
                }
                None => {
                    if !spans.is_empty() && self.send_spans(list, &mut spans).is_none() {
                        return Ok(None);
                    }
                    if !self.input.more()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// At the start of an element, hands the workers a run of elements up to the guessed
    /// start of a later one, reading more first if little is left. `Some(false)` when no
    /// guess is safe enough to try here: the elements are then followed one by one.
    fn run(&mut self, list: List, guess: Guess) -> io::Result<Option<bool>> {
        let Some(b'{') = self.input.peek()? else {
            return Ok(Some(false));
        };
        while self.input.buf.len() - self.input.pos < guess.min_run {
            if !self.input.more()? {
                break;
            }
        }
        let Some(end) = guess_run_end(&self.input.buf, self.input.pos, guess.tail) else {
            return Ok(Some(false));
        };
        self.guessed = true;
        let start = self.input.pos;
        self.input.pos = end;
        Ok(self.send(list, Elements::Run(start, end)).map(|()| true))
    }

    /// Hands the elements found so far to the workers.
    fn send_spans(&mut self, list: List, spans: &mut Vec<(usize, usize)>) -> Option<()> {
        self.send(list, Elements::Spans(std::mem::take(spans)))
    }

    /// Hands elements to the workers. The buffer goes with them; the unconsumed rest is
    /// copied into a fresh one.
    fn send(&mut self, list: List, elements: Elements) -> Option<()> {
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
        let batch = Batch {
            list,
            seq: self.seq,
            bytes,
            elements,
        };
        self.seq += 1;
        self.batches.send(batch).ok()
    }
}

/// The guessed end of a run of elements starting at `start` in `buf`: the start of a later
/// element, found in the last `tail` bytes of `buf` as `}`, `,`, `{"id":` (whitespace allowed
/// in between), which in valid JSON is an object starting after another in some array. The
/// worker checks that it is one of this list's. `None` when there is none, or when the list
/// may end before it (a `]` followed by a key of the snapshot's top level): the elements are
/// then followed one by one there.
fn guess_run_end(buf: &[u8], start: usize, tail: usize) -> Option<usize> {
    let skip_back = |mut i: usize| {
        while i > 0 && is_ws(buf[i - 1]) {
            i -= 1;
        }
        i
    };
    let mut from = buf.len().saturating_sub(tail).max(start + 1);
    let end = loop {
        let key = from + memchr::memmem::find(buf.get(from..)?, b"\"id\"")?;
        from = key + 1;
        let mut after = key + 4;
        while buf.get(after).is_some_and(|&b| is_ws(b)) {
            after += 1;
        }
        let open = skip_back(key);
        if buf.get(after) != Some(&b':') || open == 0 || buf[open - 1] != b'{' {
            continue;
        }
        let comma = skip_back(open - 1);
        if comma < 2 || buf[comma - 1] != b',' {
            continue;
        }
        let close = skip_back(comma - 1);
        if close > start + 1 && buf[close - 1] == b'}' {
            break open - 1;
        }
    };
    let list_may_end = memchr::memchr_iter(b']', &buf[start..end])
        .any(|i| top_level_key_follows(buf, start + i + 1));
    (!list_may_end).then_some(end)
}

/// Whether `buf[at..]` is `, "key"` (whitespace allowed) for a key of the snapshot's top
/// level (the colon is not looked for: a false positive only means no guess here).
fn top_level_key_follows(buf: &[u8], mut at: usize) -> bool {
    let next = |at: &mut usize| {
        while buf.get(*at).is_some_and(|&b| is_ws(b)) {
            *at += 1;
        }
        let b = buf.get(*at).copied();
        *at += 1;
        b
    };
    if next(&mut at) != Some(b',') || next(&mut at) != Some(b'"') {
        return false;
    }
    let rest = &buf[at.min(buf.len())..];
    let Some(len) = rest.iter().take(32).position(|&b| b == b'"') else {
        return false;
    };
    let key = &rest[..len];
    TOP_LEVEL_KEYS.iter().any(|k| k.as_bytes() == key)
        || List::ALL.iter().any(|l| l.key().as_bytes() == key)
}

/// The snapshot's top-level keys that are not lists.
const TOP_LEVEL_KEYS: [&str; 7] = [
    "driftmux_snapshot",
    "collected_at",
    "cloud",
    "region",
    "project_scope",
    "errors",
    "warnings",
];

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

    /// Plans that follow every element, and plans that guess, from every few elements to
    /// whole blocks.
    fn plans(block: usize) -> Vec<Plan> {
        let mut plans = vec![Plan { block, guess: None }];
        for (min_run, tail) in [
            (1, 64),
            (1, 600),
            (40, 200),
            (500, 4096),
            (BLOCK / 2, 16 << 10),
        ] {
            let guess = Some(Guess { min_run, tail });
            plans.push(Plan { block, guess });
        }
        plans
    }

    /// One read with `plan`, and whether it guessed.
    fn once(text: &[u8], plan: Plan) -> (Option<Inventory>, bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.json");
        std::fs::write(&path, text).unwrap();
        read_once(&path, plan).unwrap()
    }

    /// A read with `plan`, read again when a guess failed (as `read` does).
    fn with(text: &[u8], plan: Plan) -> Option<Inventory> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.json");
        std::fs::write(&path, text).unwrap();
        read_with(&path, plan).unwrap()
    }

    fn fast(text: &str, block: usize) -> Option<Inventory> {
        with(text.as_bytes(), Plan { block, guess: None })
    }

    /// Every block size, from one byte (every value crosses a block boundary) up, each
    /// element followed or runs guessed; no guess is wrong in these regular snapshots.
    fn same_as_exact(text: &str) {
        let expected = exact(text).expect("a valid snapshot");
        for block in [1, 2, 3, 7, 64, 1000, BLOCK] {
            for plan in plans(block) {
                let (got, _) = once(text.as_bytes(), plan);
                let got = got.unwrap_or_else(|| panic!("{plan:?}: irregular"));
                assert_eq!(got, expected, "{plan:?}");
            }
        }
    }

    /// The runs are guessed (and right) in real snapshots: the workers find the elements.
    #[test]
    fn runs_of_elements_are_guessed_and_checked() {
        let text = include_str!("../../../tests/fixtures/sample-cloud.json");
        let expected = exact(text).unwrap();
        for block in [1, 64, 256, 4096, BLOCK] {
            for plan in plans(block).into_iter().skip(1) {
                let (got, guessed) = once(text.as_bytes(), plan);
                assert!(guessed, "{plan:?}");
                assert_eq!(got.as_ref(), Some(&expected), "{plan:?}");
            }
        }
    }

    /// A wrong guess (an object starting with `"id"` nested in an element, or an element
    /// that is not plain) fails the read, which is done again following every element, and
    /// reads what the exact path reads.
    #[test]
    fn wrong_guesses_are_caught_and_read_again() {
        let rule = |id: &str, extra: &str| {
            format!(r#"{{"id": "{id}", "security_group_id": "g", "direction": "ingress"{extra}}}"#)
        };
        let nested = r#", "tags": [{"a": 1}, {"id": "x", "b": [{"c": 2},{"id": "y"}]}]"#;
        let rules: Vec<String> = (0..40)
            .map(|i| rule(&format!("r{i}"), if i % 7 == 3 { nested } else { "" }))
            .collect();
        let text = format!(
            r#"{{"security_group_rules": [{}], "ports": [{{"id": "p", "x": [{{"a": 1}},{{"id": "q"}}]}}], "servers": []}}"#,
            rules.join(",\n ")
        );
        let expected = exact(&text).expect("a valid snapshot");
        let mut wrong = 0;
        for block in [1, 64, BLOCK] {
            for plan in plans(block) {
                let (got, guessed) = once(text.as_bytes(), plan);
                if got.is_none() {
                    assert!(guessed, "{plan:?}: only a guess can fail here");
                    wrong += 1;
                }
                assert_eq!(with(text.as_bytes(), plan).as_ref(), Some(&expected));
            }
        }
        assert!(wrong > 0, "some guesses were wrong");
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
        let text = r#"{"driftmux_snapshot": 1, "cloud": "a \"}]{[\\", "project_scope": ["p]", "q"], "security_group_rules": [
            {"id": "r}1", "security_group_id": "g{", "direction": "ingress",
             "description": "],[{\"\\\"", "tags": [[], [{"a": ["}"]}]]},
            {"id": "r2", "security_group_id": "g", "direction": "egress", "x": {"y": [1, 2.5e3, true, null]}}
          ],
          "ports": [{"id": "p", "security_groups": ["g{"], "fixed_ips": [{"ip_address": "10.0.0.1"}, {"ip_address": "::1"}]}],
          "servers": [], "projects": [{"id": "p\u00e9", "name": "caf\u00e9"}],
          "errors": [{"resource": "servers", "message": "boom"}],
          "warnings": ["Neutron listed no ports at first, then 1 \"}]"]}"#;
        same_as_exact(text);
        let inv = fast(text, 5).unwrap();
        assert_eq!(inv.rules.len(), 2);
        assert_eq!(inv.meta.cloud.as_deref(), Some("a \"}]{[\\"));
        assert_eq!(inv.meta.project_scope, Some(vec!["p]".into(), "q".into()]));
        assert_eq!(inv.errors.len(), 1);
        assert_eq!(
            inv.warnings,
            ["Neutron listed no ports at first, then 1 \"}]"]
        );
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
                for plan in plans(block) {
                    assert!(with(text.as_bytes(), plan).is_none(), "{plan:?}: {text}");
                }
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
            let plans = plans(block);
            let plan = plans[damage.below(plans.len())];
            let exact = parse(&bytes)
                .ok()
                .and_then(|raw| Inventory::from_raw(raw).ok());
            match read_with(&path, plan).unwrap() {
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
