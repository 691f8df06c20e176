//! Hand-written decoders for the object types that make up most of a big cloud: security
//! group rules, ports and servers, alone (snapshot elements) or as a list page of the API.
//!
//! They read only the plain form that driftmux and the OpenStack APIs write (strings without
//! escapes, small non-negative integers, literals; other keys' values skipped if they are
//! made of those) and give up with `None` on anything else, so serde decodes that element
//! or page instead: an escape, a float, a repeated key, a missing required field. Whenever
//! they return a value, serde would have returned the same one (the tests compare both on
//! real and damaged input).

use compact_str::CompactString;

use crate::collect::wire::{RawFixedIp, RawPort, RawRule, RawServer};
use crate::id::Id;
use crate::json_text::string_stop;

/// JSON whitespace.
pub(crate) fn is_ws(b: u8) -> bool {
    // One bit per whitespace byte: a shift and a test, as most bytes tested are not.
    const WS: u64 = 1 << b' ' | 1 << b'\t' | 1 << b'\n' | 1 << b'\r';
    b <= b' ' && WS & (1 << b) != 0
}

/// A position in a JSON text (valid UTF-8: checked once, for the whole text).
pub(crate) struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Option<Cursor<'a>> {
        let text = std::str::from_utf8(bytes).ok()?;
        Some(Cursor { text, bytes, at: 0 })
    }

    fn skip_ws(&mut self) {
        while self.bytes.get(self.at).is_some_and(|&b| is_ws(b)) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// `word` (`null`, `true`, `false`). Like every scalar here, what follows it is checked
    /// by the reader of the array or object around it (`nullx`, `22x` are not JSON).
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.skip_ws();
        self.bytes[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// A string with no escape and no control character.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let end = string_stop(self.bytes, start);
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        // Between two quotes: both ends are character boundaries.
        self.text.get(start..end)
    }

    /// `null` or a plain string.
    fn opt_string(&mut self) -> Option<Option<&'a str>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b'"' => self.string().map(Some),
            _ => None,
        }
    }

    /// A plain string as an id. A UUID followed by the closing quote is packed where it
    /// stands: made of hex digits and dashes, it cannot hold a quote or an escape, so the
    /// string is not scanned first.
    fn id(&mut self) -> Option<Id> {
        self.eat(b'"')?;
        for len in [36, 32] {
            if self.bytes.get(self.at + len) == Some(&b'"') {
                if let Some(id) = Id::uuid(&self.bytes[self.at..self.at + len]) {
                    self.at += len + 1;
                    return Some(id);
                }
            }
        }
        self.at -= 1;
        self.string().map(Id::new)
    }

    /// `null` or an id.
    fn opt_id(&mut self) -> Option<Option<Id>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b'"' => self.id().map(Some),
            _ => None,
        }
    }

    fn opt_compact(&mut self) -> Option<Option<CompactString>> {
        Some(self.opt_string()?.map(CompactString::from))
    }

    /// Digits of a non-negative integer without leading zeros, as text.
    fn integer(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let start = self.at;
        let len = self.bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len == 0 || len > 18 || (len > 1 && self.bytes[start] == b'0') {
            return None;
        }
        self.at += len;
        self.text.get(start..self.at)
    }

    fn opt_u32(&mut self) -> Option<Option<u32>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            _ => self.integer()?.parse().ok().map(Some),
        }
    }

    fn opt_bool(&mut self) -> Option<Option<bool>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b't' => self.literal(b"true").map(|()| Some(true)),
            b'f' => self.literal(b"false").map(|()| Some(false)),
            _ => None,
        }
    }

    /// `null` or an array, each element read by `item`.
    fn opt_array<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Option<Vec<T>>> {
        match self.peek()? {
            b'n' => return self.literal(b"null").map(|()| None),
            b'[' => self.at += 1,
            _ => return None,
        }
        if self.peek()? == b']' {
            self.at += 1;
            return Some(Some(Vec::new()));
        }
        // Most arrays here hold one or two items (a port's groups and addresses), kept as
        // they are in the inventory: room for exactly those.
        let first = item(self)?;
        if self.peek()? == b']' {
            self.at += 1;
            return Some(Some(vec![first]));
        }
        let mut items = Vec::with_capacity(2);
        items.push(first);
        self.rest_of_array(&mut items, item)?;
        Some(Some(items))
    }

    /// The rest of an array after an item: `, item` while a comma follows, pushed to
    /// `out`, then the closing `]`.
    fn rest_of_array<T>(
        &mut self,
        out: &mut Vec<T>,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<()> {
        loop {
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
            out.push(item(self)?);
        }
    }

    /// An array (not null) of `item`s, appended to `out`.
    fn array_into<T>(
        &mut self,
        out: &mut Vec<T>,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<()> {
        if self.peek()? != b'[' {
            return None;
        }
        self.at += 1;
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        out.push(item(self)?);
        self.rest_of_array(out, item)
    }

    /// Skips a value the plain way: plain strings, non-negative integers, literals, and
    /// arrays and objects of those (stricter than JSON: anything else gives up).
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > 16 {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.integer().map(drop),
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'[' => self.opt_array(|c| c.skip_value(depth + 1)).map(drop),
            // Every key unknown: all values skipped, repeated keys allowed (as serde ignores them).
            b'{' => self.object_at(&[], depth + 1, |_, _| Some(())),
            _ => None,
        }
    }

    /// An object's members: `member` reads the value of each key (by its index in `keys`);
    /// other keys' values are skipped (as serde ignores them); a repeated key gives up.
    fn object(
        &mut self,
        keys: &[&str],
        member: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.object_at(keys, 0, member)
    }

    /// [`Cursor::object`] nested `depth` levels inside skipped values.
    fn object_at(
        &mut self,
        keys: &[&str],
        depth: usize,
        mut member: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        let mut seen = 0u32;
        // Writers keep one key order: the key after the previous one is tried first.
        let mut next = 0;
        loop {
            let index = match keys.get(next) {
                Some(k) if self.quoted(k) => Some(next),
                _ => {
                    let key = self.string()?;
                    keys.iter().position(|k| *k == key)
                }
            };
            self.eat(b':')?;
            match index {
                Some(index) => {
                    if seen & (1 << index) != 0 {
                        return None;
                    }
                    seen |= 1 << index;
                    next = index + 1;
                    member(self, index)?;
                }
                None => self.skip_value(depth)?,
            }
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Consumes the string `"key"` if it is next (a key has no quote or escape to scan for).
    fn quoted(&mut self, key: &str) -> bool {
        self.skip_ws();
        let key = key.as_bytes();
        let rest = &self.bytes[self.at..];
        let here = rest.len() > key.len() + 1
            && rest[0] == b'"'
            && rest[key.len() + 1] == b'"'
            && same(&rest[1..=key.len()], key);
        if here {
            self.at += key.len() + 2;
        }
        here
    }

    /// Nothing but whitespace may follow the element.
    fn end(mut self) -> Option<()> {
        self.skip_ws();
        (self.at == self.bytes.len()).then_some(())
    }
}

/// Whether two byte strings of the same length are equal: eight bytes at a time, inline
/// (keys are short: a call to `memcmp` costs more than comparing them).
fn same(a: &[u8], b: &[u8]) -> bool {
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let len = a.len();
    if len < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    // Whole words, then the last eight bytes (overlapping the previous word if need be).
    (0..len / 8).all(|k| word(a, 8 * k) == word(b, 8 * k)) && word(a, len - 8) == word(b, len - 8)
}

const RULE_KEYS: &[&str] = &[
    "id",
    "security_group_id",
    "project_id",
    "tenant_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
];

/// A security group rule in the plain form, or `None` (serde decodes it then).
#[cfg(test)]
pub(crate) fn rule(bytes: &[u8]) -> Option<RawRule> {
    whole(bytes, rule_at)
}

/// One element alone: nothing but whitespace may follow it.
pub(crate) fn whole<T>(bytes: &[u8], decode: fn(&mut Cursor) -> Option<T>) -> Option<T> {
    let mut c = Cursor::new(bytes)?;
    let value = decode(&mut c)?;
    c.end()?;
    Some(value)
}

/// Consecutive elements of a list, each followed by its comma, filling `bytes` exactly
/// (whitespace allowed around the commas): each is read by `item` in the plain form, else by
/// `other`, given the bytes from the element's start, which returns the value and the
/// element's length. `each` takes the values in order. `None` as soon as anything does not
/// fit: the first element does not start at the first byte, a separator is not a comma, or
/// the last comma is not followed by whitespace up to the end of `bytes`.
pub(crate) fn elements<T>(
    bytes: &[u8],
    item: fn(&mut Cursor) -> Option<T>,
    mut other: impl FnMut(&[u8]) -> Option<(T, usize)>,
    mut each: impl FnMut(T) -> Option<()>,
) -> Option<()> {
    let mut c = Cursor::new(bytes)?;
    if bytes.first().is_none_or(|&b| is_ws(b)) {
        return None;
    }
    loop {
        let start = c.at;
        let value = match item(&mut c) {
            Some(value) => value,
            None => {
                let (value, len) = other(&bytes[start..])?;
                c.at = start + len;
                value
            }
        };
        each(value)?;
        c.eat(b',')?;
        c.skip_ws();
        if c.at == bytes.len() {
            return Some(());
        }
    }
}

pub(crate) fn rule_at(c: &mut Cursor) -> Option<RawRule> {
    let (mut id, mut group) = (None, None);
    let mut r = RawRule {
        id: Id::new(""),
        security_group_id: Id::new(""),
        project_id: None,
        tenant_id: None,
        direction: None,
        ethertype: None,
        protocol: None,
        port_range_min: None,
        port_range_max: None,
        remote_ip_prefix: None,
        remote_group_id: None,
        remote_address_group_id: None,
    };
    c.object(RULE_KEYS, |c, key| {
        match key {
            0 => id = Some(c.id()?),
            1 => group = Some(c.id()?),
            2 => r.project_id = c.opt_id()?,
            3 => r.tenant_id = c.opt_id()?,
            4 => r.direction = c.opt_compact()?,
            5 => r.ethertype = c.opt_compact()?,
            // A name, a number (kept as its digits) or null.
            6 => {
                r.protocol = match c.peek()? {
                    b'0'..=b'9' => Some(c.integer()?.into()),
                    _ => c.opt_compact()?,
                }
            }
            7 => r.port_range_min = c.opt_u32()?,
            8 => r.port_range_max = c.opt_u32()?,
            9 => r.remote_ip_prefix = c.opt_compact()?,
            10 => r.remote_group_id = c.opt_id()?,
            _ => r.remote_address_group_id = c.opt_id()?,
        }
        Some(())
    })?;
    r.id = id?;
    r.security_group_id = group?;
    Some(r)
}

const PORT_KEYS: &[&str] = &[
    "id",
    "device_id",
    "device_owner",
    "security_groups",
    "port_security_enabled",
    "project_id",
    "tenant_id",
    "network_id",
    "fixed_ips",
];

const FIXED_IP_KEYS: &[&str] = &["ip_address", "subnet_id"];

/// A port in the plain form, or `None` (serde decodes it then).
#[cfg(test)]
pub(crate) fn port(bytes: &[u8]) -> Option<RawPort> {
    whole(bytes, port_at)
}

pub(crate) fn port_at(c: &mut Cursor) -> Option<RawPort> {
    let mut id = None;
    let mut p = RawPort {
        id: Id::new(""),
        device_id: None,
        device_owner: None,
        security_groups: None,
        port_security_enabled: None,
        project_id: None,
        tenant_id: None,
        network_id: None,
        fixed_ips: None,
    };
    c.object(PORT_KEYS, |c, key| {
        match key {
            0 => id = Some(c.id()?),
            1 => p.device_id = c.opt_id()?,
            2 => p.device_owner = c.opt_compact()?,
            3 => p.security_groups = c.opt_array(Cursor::id)?,
            4 => p.port_security_enabled = c.opt_bool()?,
            5 => p.project_id = c.opt_id()?,
            6 => p.tenant_id = c.opt_id()?,
            7 => p.network_id = c.opt_id()?,
            _ => {
                p.fixed_ips = c.opt_array(|c| {
                    let mut fixed = RawFixedIp {
                        ip_address: None,
                        subnet_id: None,
                    };
                    c.object(FIXED_IP_KEYS, |c, key| {
                        match key {
                            0 => fixed.ip_address = c.opt_compact()?,
                            _ => fixed.subnet_id = c.opt_id()?,
                        }
                        Some(())
                    })?;
                    Some(fixed)
                })?
            }
        }
        Some(())
    })?;
    p.id = id?;
    Some(p)
}

const SERVER_KEYS: &[&str] = &["id", "name", "status", "tenant_id"];

/// A Nova server in the plain form, or `None` (serde decodes it then).
#[cfg(test)]
pub(crate) fn server(bytes: &[u8]) -> Option<RawServer> {
    whole(bytes, server_at)
}

pub(crate) fn server_at(c: &mut Cursor) -> Option<RawServer> {
    let mut id = None;
    let (mut name, mut status, mut tenant_id) = (None, None, None);
    c.object(SERVER_KEYS, |c, key| {
        match key {
            0 => id = Some(c.id()?),
            1 => name = c.opt_compact()?,
            2 => status = c.opt_compact()?,
            _ => tenant_id = c.opt_id()?,
        }
        Some(())
    })?;
    Some(RawServer {
        id: id?,
        name,
        status,
        tenant_id,
    })
}

/// A list page of the API, `{"<key>": [...], "<key>_links": [...], ...}`, whose items are
/// all in the plain form: the items, into `items` (cleared first; reused from page to page,
/// so a page's items do not grow a new vector), and the `next` link. `None` leaves the page
/// to serde (`items` then holds nothing useful).
pub(crate) fn page<T>(
    bytes: &[u8],
    key: &str,
    links_key: &str,
    item: fn(&mut Cursor) -> Option<T>,
    items: &mut Vec<T>,
) -> Option<Option<String>> {
    items.clear();
    let mut c = Cursor::new(bytes)?;
    let (mut listed, mut next) = (false, None);
    c.object(&[key, links_key], |c, k| {
        if k == 0 {
            listed = true;
            return c.array_into(items, item);
        }
        // Links: `href` and `rel` default to "" when missing; the first `next` counts.
        let links = c.opt_array(|c| {
            let (mut href, mut rel) = ("", "");
            c.object(&["href", "rel"], |c, k| {
                *(if k == 0 { &mut href } else { &mut rel }) = c.string()?;
                Some(())
            })?;
            Some((rel, href))
        })?;
        next = links
            .unwrap_or_default()
            .into_iter()
            .find(|(rel, _)| *rel == "next")
            .map(|(_, href)| href.to_owned());
        Some(())
    })?;
    c.end()?;
    listed.then_some(next)
}

#[cfg(test)]
mod tests {

    /// The whitespace test and the key comparison, against their obvious definitions.
    #[test]
    fn whitespace_and_key_comparison_agree_with_the_obvious_ones() {
        for b in 0..=255u8 {
            assert_eq!(
                super::is_ws(b),
                matches!(b, b' ' | b'\t' | b'\n' | b'\r'),
                "{b}"
            );
        }
        let key: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..key.len() {
            let a = &key[..len];
            assert!(super::same(a, a));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!super::same(a, &b), "{len} {at}");
            }
        }
    }

    /// `decode` never disagrees with serde: it gives up, or reads what serde reads.
    fn agrees<T>(decode: fn(&[u8]) -> Option<T>, bytes: &[u8]) -> bool
    where
        T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let Some(ours) = decode(bytes) else {
            return false;
        };
        let theirs: T = serde_json::from_slice(bytes).unwrap_or_else(|e| {
            panic!(
                "decoded what serde rejects ({e}): {}",
                String::from_utf8_lossy(bytes)
            )
        });
        assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(bytes));
        true
    }

    fn elements(list: &str) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for text in [
            include_str!("../../examples/demo-cloud.json"),
            include_str!("../../tests/fixtures/sample-cloud.json"),
        ] {
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            for e in doc[list].as_array().unwrap() {
                out.push(serde_json::to_vec(e).unwrap());
                out.push(serde_json::to_vec_pretty(e).unwrap());
            }
        }
        out
    }

    #[test]
    fn plain_rules_and_ports_are_decoded_as_serde_decodes_them() {
        for rule in elements("security_group_rules") {
            assert!(
                agrees(super::rule, &rule),
                "{}",
                String::from_utf8_lossy(&rule)
            );
        }
        for port in elements("ports") {
            assert!(
                agrees(super::port, &port),
                "{}",
                String::from_utf8_lossy(&port)
            );
        }
        for server in elements("servers") {
            assert!(
                agrees(super::server, &server),
                "{}",
                String::from_utf8_lossy(&server)
            );
        }
        assert!(agrees(
            super::rule,
            br#" { "id" : "r", "security_group_id": "", "protocol": 6, "port_range_min": 0,
                 "port_range_max": null, "direction": "INGRESS", "x": {"y": [1, true, false, null, "s", {}]} } "#
        ));
        assert!(agrees(
            super::port,
            r#"{"id": "p", "security_groups": [], "fixed_ips": [{}, {"ip_address": null}],
                "port_security_enabled": false, "device_owner": "café"}"#
                .as_bytes()
        ));
        // Every optional field null, as Neutron writes a field it has no value for.
        assert!(agrees(
            super::port,
            br#"{"id": "p", "device_id": null, "device_owner": null, "security_groups": null,
                "port_security_enabled": null, "project_id": null, "tenant_id": null,
                "network_id": null, "fixed_ips": [{"ip_address": null, "subnet_id": null}]}"#
        ));
        assert!(agrees(
            super::rule,
            br#"{"id": "r", "security_group_id": "g", "project_id": null, "tenant_id": null,
                "direction": null, "ethertype": null, "protocol": null, "port_range_min": null,
                "port_range_max": null, "remote_ip_prefix": null, "remote_group_id": null,
                "remote_address_group_id": null}"#
        ));
        assert!(agrees(
            super::server,
            br#"{"id": "s", "name": null, "status": null, "tenant_id": null}"#
        ));
    }

    /// Ids packed where they stand and keys matched where they stand read what serde reads:
    /// near-UUIDs (upper case, wrong length, no dashes) are text ids, and near-keys are
    /// other keys.
    #[test]
    fn ids_and_keys_read_in_place_agree_with_serde() {
        let uuid = "8b0c6d2e-1f3a-4b5c-9d7e-0a1b2c3d4e5f";
        let ids = [
            uuid,
            "0123456789abcdef0123456789abcdef",
            "8B0C6D2E-1F3A-4B5C-9D7E-0A1B2C3D4E5F",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcdef0123",
            "0123456789abcdef0123456789abcdef01",
            "8b0c6d2e-1f3a-4b5c-9d7e-0a1b2c3d4e5",
            "8b0c6d2e-1f3a-4b5c-9d7e-0a1b2c3d4e5f0",
            "8b0c6d2e+1f3a-4b5c-9d7e-0a1b2c3d4e5f",
            "8b0c6d2e-1f3a-4b5c-9d7e-0a1b2c3d4e5g",
            "g123456789abcdef0123456789abcdef",
            "é23456789abcdef0123456789abcdef",
            "",
            "r",
        ];
        for id in ids {
            for text in [
                format!(r#"{{"id": "{id}", "security_group_id": "{id}", "project_id": "{id}"}}"#),
                format!(r#"{{"id":"{id}","security_group_id":"{uuid}","remote_group_id":"{id}"}}"#),
            ] {
                assert!(agrees(super::rule, text.as_bytes()), "{text}");
            }
            let port = format!(
                r#"{{"id": "{id}", "device_id": "{id}", "security_groups": ["{id}", "{uuid}"], "fixed_ips": [{{"subnet_id": "{id}"}}]}}"#
            );
            assert!(agrees(super::port, port.as_bytes()), "{port}");
            let server = format!(r#"{{"id": "{id}", "tenant_id": "{id}"}}"#);
            assert!(agrees(super::server, server.as_bytes()), "{server}");
        }
        for text in [
            r#"{"idx": "a", "id": "r", "security_group_id": "g"}"#,
            r#"{"i": "a", "id": "r", "security_group_id": "g"}"#,
            r#"{"id": "r", "security_group_idd": "a", "security_group_id": "g"}"#,
            r#"{"id": "r", "security_group_i": "a", "security_group_id": "g"}"#,
            r#"{ "id" : "r" , "security_group_id" : "g" }"#,
        ] {
            assert!(agrees(super::rule, text.as_bytes()), "{text}");
        }
        // An escape right after a UUID's length is still an escape.
        let escaped = format!(r#"{{"id": "{uuid}"", "security_group_id": "g"}}"#);
        assert!(super::rule(escaped.as_bytes()).is_none());
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        for rule in [
            r#"{}"#,
            r#"{"id": "r"}"#,
            r#"{"id": "r", "security_group_id": "g", "extra": 1.5}"#,
            r#"{"id": "r", "security_group_id": "g", "extra": ["a\n"]}"#,
            r#"{"id": "r", "security_group_id": "g", "extra": {"a": -1}}"#,
            r#"{"id": "r", "security_group_id": "g", "id": "s"}"#,
            r#"{"id": "r", "security_group_id": "g", "protocol": "tcp", "protocol": "udp"}"#,
            r#"{"id": "r", "remote_address_group_id": null, "security_group_id": "g", "remote_address_group_id": "a"}"#,
            r#"{"id": "r\"", "security_group_id": "g"}"#,
            r#"{"i\u0064": "r", "security_group_id": "g"}"#,
            r#"{"id": "r", "security_group_id": "g", "port_range_min": 22.0}"#,
            r#"{"id": "r", "security_group_id": "g", "port_range_min": -1}"#,
            r#"{"id": "r", "security_group_id": "g", "port_range_min": 022}"#,
            r#"{"id": "r", "security_group_id": "g", "port_range_min": 1e2}"#,
            r#"{"id": "r", "security_group_id": "g", "port_range_min": 4294967296}"#,
            r#"{"id": "r", "security_group_id": "g", "port_range_min": "22"}"#,
            r#"{"id": "r", "security_group_id": "g", "protocol": true}"#,
            r#"{"id": "r", "security_group_id": "g", "protocol": 6.5}"#,
            // Longer than any u64: serde reads a float, never these digits.
            r#"{"id": "r", "security_group_id": "g", "protocol": 1234567890123456789012}"#,
            r#"{"id": "r", "security_group_id": "g", "protocol": nul}"#,
            r#"{"id": "r", "security_group_id": "g", "protocol": nullx}"#,
            r#"{"id": null, "security_group_id": "g"}"#,
            r#"{"id": "r", "security_group_id": "g",}"#,
            r#"{"id": "r", "security_group_id": "g"} x"#,
            "{\"id\": \"r\t\", \"security_group_id\": \"g\"}",
        ] {
            assert!(super::rule(rule.as_bytes()).is_none(), "{rule}");
        }
        assert!(super::rule(b"{\"id\": \"\xff\", \"security_group_id\": \"g\"}").is_none());
        // Nesting deeper than serde's limit: given up on at a bounded depth, never a stack
        // overflow, in arrays as in objects.
        for (open, close) in [("[", "]"), ("{\"k\": ", "}")] {
            let deep = format!(
                r#"{{"id": "r", "security_group_id": "g", "x": {}1{}}}"#,
                open.repeat(100_000),
                close.repeat(100_000)
            );
            assert!(super::rule(deep.as_bytes()).is_none());
        }
        for port in [
            r#"{"id": "p", "security_groups": "g"}"#,
            r#"{"id": "p", "security_groups": [1]}"#,
            r#"{"id": "p", "security_groups": ["g",]}"#,
            r#"{"id": "p", "fixed_ips": [{"ip_address": "1.2.3.4", "other": 1e3}]}"#,
            r#"{"id": "p", "fixed_ips": [{"ip_address": "1.2.3.4", "ip_address": "5"}]}"#,
            r#"{"id": "p", "port_security_enabled": 1}"#,
            r#"{"id": "p", "port_security_enabled": truex}"#,
        ] {
            assert!(super::port(port.as_bytes()).is_none(), "{port}");
        }
    }

    /// A body cut off anywhere (a page cut mid-transfer) is given up on, never read past
    /// its end (in a key, a value, between them).
    #[test]
    fn every_cut_of_an_element_is_given_up_on() {
        for (kind, list) in ["security_group_rules", "ports", "servers"]
            .iter()
            .enumerate()
        {
            for element in elements(list) {
                let end = element.iter().rposition(|&b| b == b'}').unwrap();
                for cut in 0..end {
                    let part = &element[..cut];
                    let decoded = match kind {
                        0 => super::rule(part).is_some(),
                        1 => super::port(part).is_some(),
                        _ => super::server(part).is_some(),
                    };
                    assert!(!decoded, "{}", String::from_utf8_lossy(part));
                }
            }
        }
    }

    /// Damaged copies of real elements: the decoders give up or agree with serde.
    #[test]
    fn damaged_elements_never_decode_differently() {
        let mut damage = crate::collect::damage::Damage::new(0x9e37_79b9_7f4a_7c15);
        let lists = [
            elements("security_group_rules"),
            elements("ports"),
            elements("servers"),
        ];
        let mut decoded = 0;
        for _ in 0..6000 {
            let kind = damage.below(3);
            let list = &lists[kind];
            let original = &list[damage.below(list.len())];
            let bytes = damage.apply(original, 2);
            let ok = match kind {
                0 => agrees(super::rule, &bytes),
                1 => agrees(super::port, &bytes),
                _ => agrees(super::server, &bytes),
            };
            decoded += usize::from(ok);
        }
        assert!(decoded > 300, "some damage is harmless ({decoded} decoded)");
    }
}
