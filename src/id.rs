//! Object ids, stored compactly.
//!
//! Nearly every OpenStack id is a lower-case UUID: Neutron and Nova write it with dashes
//! (`8-4-4-4-12`), Keystone without (32 hex digits). Such an id is kept in 16 bytes, with no
//! allocation; anything else is kept as text. Each text has exactly one representation, so
//! equality and hashing are those of the text, and ordering is the text's ordering too.
//! A cloud of a million rules holds several million ids: this is most of its memory.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq)]
pub struct Id(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower-case hex.
    Dashed([u8; 16]),
    /// 32 lower-case hex digits.
    Hex([u8; 16]),
    Text(Box<str>),
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is `c` (below 0x80) or more; bytes of 0x80 and
/// more are flagged whatever `c` is (callers reject them anyway).
fn at_least(w: u64, c: u8) -> u64 {
    // Each byte minus `c`, with its high bit set first: never borrows from its neighbour.
    ((w | HIGH) - LOW * u64::from(c)) & HIGH
}

/// Eight lower-case hex digits (the first in the lowest byte) as four bytes, in order,
/// and the high bit of each byte that is not one (zero when all are).
fn hex8(w: u64) -> (u32, u64) {
    let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
    let letter = at_least(w, b'a') & !at_least(w, b'f' + 1);
    let bad = (w & HIGH) | ((digit | letter) ^ HIGH);
    // Each byte's value: its low nibble, plus 9 for a letter.
    let nibbles = (w & (LOW * 0x0f)) + (letter >> 7) * 9;
    // Byte 2k becomes (digit 2k << 4) | digit 2k+1; then the even bytes are gathered.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    ((quads | (quads >> 16)) as u32, bad)
}

/// Four bytes (the first in the lowest byte) as their eight lower-case hex digits, in
/// order: `hex8` backwards.
fn unhex8(four: u32) -> u64 {
    // Byte i moves to byte 2i.
    let v = u64::from(four);
    let v = (v | v << 16) & 0x0000_ffff_0000_ffff;
    let v = (v | v << 8) & 0x00ff_00ff_00ff_00ff;
    // Its high digit stays there, its low digit goes to byte 2i + 1.
    let nibbles = ((v >> 4) & 0x000f_000f_000f_000f) | ((v & 0x000f_000f_000f_000f) << 8);
    // '0' + n, and 39 more for a letter (n of 10 or more: n + 6 carries into bit 4).
    let letter = ((nibbles + LOW * 6) >> 4) & LOW;
    nibbles + LOW * u64::from(b'0') + letter * 39
}

fn word(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"))
}

fn half(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(
        b[at..at + 4].try_into().expect("four bytes"),
    ))
}

/// 32 hex digits, in four words of eight, packed into 16 bytes. Inlined, so the words
/// stay in registers (passed in memory, they were stored eight bytes at a time and loaded
/// sixteen: a stalled load per id).
#[inline(always)]
fn pack(words: [u64; 4]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut bad = 0;
    for (chunk, w) in out.chunks_exact_mut(4).zip(words) {
        let (bytes, not_hex) = hex8(w);
        chunk.copy_from_slice(&bytes.to_le_bytes());
        bad |= not_hex;
    }
    (bad == 0).then_some(out)
}

impl Id {
    pub fn new(text: &str) -> Id {
        Id::uuid(text.as_bytes()).unwrap_or_else(|| Id(Repr::Text(text.into())))
    }

    /// The id of `b` when it is exactly a lower-case UUID (dashed or 32 hex digits).
    pub(crate) fn uuid(b: &[u8]) -> Option<Id> {
        match b.len() {
            // `8-4-4-4-12`: the digits around the dashes make four words of eight.
            36 if b[8] == b'-' && b[13] == b'-' && b[18] == b'-' && b[23] == b'-' => {
                let words = [
                    word(b, 0),
                    half(b, 9) | half(b, 14) << 32,
                    half(b, 19) | half(b, 24) << 32,
                    word(b, 28),
                ];
                pack(words).map(|bytes| Id(Repr::Dashed(bytes)))
            }
            32 => pack([word(b, 0), word(b, 8), word(b, 16), word(b, 24)])
                .map(|bytes| Id(Repr::Hex(bytes))),
            _ => None,
        }
    }

    /// The id as text (on the stack for UUIDs).
    pub fn as_str(&self) -> IdStr<'_> {
        let (bytes, dashed) = match &self.0 {
            Repr::Text(text) => return IdStr::Borrowed(text),
            Repr::Dashed(bytes) => (bytes, true),
            Repr::Hex(bytes) => (bytes, false),
        };
        let digits = |i: usize| {
            let four = u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("four bytes"));
            unhex8(four).to_le_bytes()
        };
        let (a, b, c, d) = (digits(0), digits(1), digits(2), digits(3));
        let mut buf = [b'-'; 36];
        buf[..8].copy_from_slice(&a);
        if !dashed {
            buf[8..16].copy_from_slice(&b);
            buf[16..24].copy_from_slice(&c);
            buf[24..32].copy_from_slice(&d);
            return IdStr::Inline(buf, 32);
        }
        // `8-4-4-4-12`: the dashes are already in place.
        buf[9..13].copy_from_slice(&b[..4]);
        buf[14..18].copy_from_slice(&b[4..]);
        buf[19..23].copy_from_slice(&c[..4]);
        buf[24..28].copy_from_slice(&c[4..]);
        buf[28..].copy_from_slice(&d);
        IdStr::Inline(buf, 36)
    }

    /// A lower-case UUID in Neutron's dashed form as a number, in the order of the text
    /// (the same under any collation a database sorts by: hex digits and dashes in fixed
    /// places); `None` for any other id.
    pub fn dashed_uuid_value(&self) -> Option<u128> {
        match &self.0 {
            Repr::Dashed(bytes) => Some(u128::from_be_bytes(*bytes)),
            _ => None,
        }
    }

    /// Empty or only whitespace: no id at all.
    pub fn is_blank(&self) -> bool {
        matches!(&self.0, Repr::Text(t) if t.trim().is_empty())
    }
}

/// An id's text: borrowed, or formatted on the stack.
pub enum IdStr<'a> {
    Borrowed(&'a str),
    Inline([u8; 36], u8),
}

impl Deref for IdStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            IdStr::Borrowed(s) => s,
            IdStr::Inline(buf, n) => {
                std::str::from_utf8(&buf[..usize::from(*n)]).expect("hex digits are ASCII")
            }
        }
    }
}

/// A UUID is hashed as two words (ids are hashed millions of times to index usage); equal
/// ids have one representation, so equal ids hash alike.
impl Hash for Id {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (bytes, dashed) = match &self.0 {
            Repr::Text(text) => return text.hash(state),
            Repr::Dashed(bytes) => (bytes, 1),
            Repr::Hex(bytes) => (bytes, 2),
        };
        state.write_u64(word(bytes, 0));
        state.write_u64(word(bytes, 8) ^ dashed);
    }
}

impl Ord for Id {
    fn cmp(&self, other: &Id) -> Ordering {
        match (&self.0, &other.0) {
            // Same layout: byte order is the text's order (hex digits sort like their values).
            (Repr::Dashed(a), Repr::Dashed(b)) | (Repr::Hex(a), Repr::Hex(b)) => a.cmp(b),
            _ => (*self.as_str()).cmp(&*other.as_str()),
        }
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Id) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.as_str(), f)
    }
}

impl From<&str> for Id {
    fn from(text: &str) -> Id {
        Id::new(text)
    }
}

impl From<String> for Id {
    fn from(text: String) -> Id {
        Id::new(&text)
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        *self.as_str() == *other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        *self.as_str() == **other
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<Id, E> {
                Ok(Id::new(v))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dashed_uuid_is_a_number_in_the_order_of_its_text() {
        let texts = [
            "00000000-0000-4000-8000-000000000000",
            "00000000-0000-4000-8000-00000000000f",
            "0f000000-0000-4000-8000-000000000000",
            "8d1b4e44-2c5f-4f6a-9b1e-0c2d3e4f5a6b",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
        ];
        let values: Vec<u128> = texts
            .iter()
            .map(|t| Id::new(t).dashed_uuid_value().unwrap())
            .collect();
        assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:x?}");
        assert_eq!(values[1] - values[0], 0x0f);
        assert_eq!(values[4], u128::MAX);
        for other in ["01000000000040018000000000000000", "sg-web"] {
            assert_eq!(Id::new(other).dashed_uuid_value(), None);
        }
    }

    #[test]
    fn round_trips_every_kind_of_text() {
        for text in [
            "8d1b4e44-2c5f-4f6a-9b1e-0c2d3e4f5a6b",
            "01000000000040018000000000000000",
            "8D1B4E44-2C5F-4F6A-9B1E-0C2D3E4F5A6B",
            "8d1b4e44x2c5f-4f6a-9b1e-0c2d3e4f5a6b",
            "0100000000004001800000000000000g",
            "sg-web",
            "",
            "  ",
            "ünïcode",
        ] {
            let id = Id::new(text);
            assert_eq!(&*id.as_str(), text);
            assert_eq!(id.to_string(), text);
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<Id>(&json).unwrap(), id);
        }
        assert!(matches!(
            Id::new("8d1b4e44-2c5f-4f6a-9b1e-0c2d3e4f5a6b").0,
            Repr::Dashed(_)
        ));
        assert!(matches!(
            Id::new("01000000000040018000000000000000").0,
            Repr::Hex(_)
        ));
        assert!(matches!(
            Id::new("8D1B4E44-2C5F-4F6A-9B1E-0C2D3E4F5A6B").0,
            Repr::Text(_)
        ));
        assert!(Id::new(" ").is_blank() && !Id::new("x").is_blank());
    }

    /// Debug shows the text (test failures name ids so), and an id of another type is
    /// refused saying what was expected (a snapshot's error message quotes it).
    #[test]
    fn debug_is_the_text_and_other_types_are_refused() {
        for text in ["8d1b4e44-2c5f-4f6a-9b1e-0c2d3e4f5a6b", "sg-web"] {
            assert_eq!(format!("{:?}", Id::new(text)), format!("{text:?}"));
        }
        let e = serde_json::from_str::<Id>("5").unwrap_err().to_string();
        assert!(e.contains("expected a string"), "{e}");
    }

    /// Every byte value at every position of both UUID forms: packed exactly when the
    /// text is a lower-case UUID (the obvious definition), and written back unchanged.
    #[test]
    fn uuids_are_recognised_byte_by_byte() {
        let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        let expected = |b: &[u8]| match b.len() {
            36 => b.iter().enumerate().all(|(i, &c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    c == b'-'
                } else {
                    is_hex(c)
                }
            }),
            32 => b.iter().all(|&c| is_hex(c)),
            _ => false,
        };
        for base in [
            "0123abcd-ef45-6789-abcd-ef0123456789",
            "f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4",
        ] {
            for at in 0..base.len() {
                for byte in 0..=255u8 {
                    let mut b = base.as_bytes().to_vec();
                    b[at] = byte;
                    let id = Id::uuid(&b);
                    assert_eq!(id.is_some(), expected(&b), "{b:?}");
                    if let Some(id) = id {
                        assert_eq!(id.as_str().as_bytes(), &b[..]);
                    }
                }
            }
        }
        assert!(Id::uuid(b"0123abcd-ef45-6789-abcd-ef012345678").is_none());
        assert!(Id::uuid(b"").is_none());
    }

    #[test]
    fn order_is_the_texts_order() {
        let mut texts = vec![
            "ffffffff-0000-0000-0000-000000000000",
            "00000000-0000-0000-0000-00000000000a",
            "00000000-0000-0000-0000-000000000009",
            "0000000000000000000000000000000f",
            "00000000000000000000000000000010",
            "g",
            "00000000-0000-0000-0000-00000000000",
            "A",
        ];
        let mut ids: Vec<Id> = texts.iter().map(|t| Id::new(t)).collect();
        texts.sort();
        ids.sort();
        let back: Vec<String> = ids.iter().map(Id::to_string).collect();
        assert_eq!(back, texts);
    }
}
