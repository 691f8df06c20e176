//! Object ids, stored compactly.
//!
//! Nearly every OpenStack id is a lower-case UUID: Neutron and Nova write it with dashes
//! (`8-4-4-4-12`), Keystone without (32 hex digits). Such an id is kept in 16 bytes, with no
//! allocation; anything else is kept as text. Each text has exactly one representation, so
//! equality and hashing are those of the text, and ordering is the text's ordering too.
//! A cloud of a million rules holds several million ids: this is most of its memory.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Id(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower-case hex.
    Dashed([u8; 16]),
    /// 32 lower-case hex digits.
    Hex([u8; 16]),
    Text(Box<str>),
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The value of each lower-case hex digit; 0xff for every other byte.
const NIBBLE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 16 {
        table[HEX[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Packs pairs of lower-case hex digits into `out`; false when any is not one.
fn pack(digits: &[u8], out: &mut [u8]) -> bool {
    let mut bad = 0u8;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
        bad |= hi | lo;
        *byte = (hi << 4) | (lo & 0xf);
    }
    bad & 0xf0 == 0
}

/// `8-4-4-4-12` hex digits: where each group starts in the text and in the bytes.
const GROUPS: [(usize, usize, usize); 5] = [
    (0, 8, 0),
    (9, 13, 4),
    (14, 18, 6),
    (19, 23, 8),
    (24, 36, 10),
];

impl Id {
    pub fn new(text: &str) -> Id {
        Id::uuid(text.as_bytes()).unwrap_or_else(|| Id(Repr::Text(text.into())))
    }

    /// The id of `b` when it is exactly a lower-case UUID (dashed or 32 hex digits).
    pub(crate) fn uuid(b: &[u8]) -> Option<Id> {
        let mut bytes = [0u8; 16];
        let repr = match b.len() {
            36 if b[8] == b'-' && b[13] == b'-' && b[18] == b'-' && b[23] == b'-' => GROUPS
                .iter()
                .all(|&(start, end, at)| pack(&b[start..end], &mut bytes[at..]))
                .then_some(Repr::Dashed(bytes)),
            32 => pack(b, &mut bytes).then_some(Repr::Hex(bytes)),
            _ => None,
        };
        repr.map(Id)
    }

    /// The id as text (on the stack for UUIDs).
    pub fn as_str(&self) -> IdStr<'_> {
        let (bytes, dashed) = match &self.0 {
            Repr::Text(text) => return IdStr::Borrowed(text),
            Repr::Dashed(bytes) => (bytes, true),
            Repr::Hex(bytes) => (bytes, false),
        };
        let mut buf = [0u8; 36];
        let mut n = 0;
        for (i, byte) in bytes.iter().enumerate() {
            if dashed && matches!(i, 4 | 6 | 8 | 10) {
                buf[n] = b'-';
                n += 1;
            }
            buf[n] = HEX[usize::from(byte >> 4)];
            buf[n + 1] = HEX[usize::from(byte & 0xf)];
            n += 2;
        }
        IdStr::Inline(buf, n as u8)
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

impl From<&Id> for String {
    fn from(id: &Id) -> String {
        id.as_str().to_owned()
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
