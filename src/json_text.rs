//! JSON string text, shared by the decoders (`collect::decode`) and the JSON report's
//! writer (`report::json_findings`): where a string's plain run stops, and escaping
//! exactly as serde_json escapes.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Index of the first quote, backslash or control character in `bytes` at or after `from`
/// (`bytes.len()` when there is none): where a JSON string's plain run stops. Reads eight
/// bytes at a time, as most strings here are ids of 32 to 36 characters.
pub(crate) fn string_stop(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(word) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // The high bit of each byte that is zero, or below 0x20. Borrows only carry past
        // a flagged byte, so the lowest flag is exact.
        let flags = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// Appends `text` as the inside of a JSON string, escaped exactly as serde_json escapes it:
/// `"` and `\\`, the five control characters with a short escape, other control characters
/// as `\u00xx`; everything else (non-ASCII, DEL) as it is. Plain runs are copied whole.
pub(crate) fn escape_into(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    loop {
        let stop = string_stop(bytes, start);
        out.extend_from_slice(&bytes[start..stop]);
        let Some(&b) = bytes.get(stop) else {
            return;
        };
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ],
        };
        out.extend_from_slice(short);
        start = stop + 1;
    }
}

#[cfg(test)]
mod tests {
    /// Where a string's plain run stops, at every offset and alignment, against the
    /// obvious byte loop: quotes, backslashes and control characters stop it; non-ASCII
    /// and every other byte do not.
    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control_character() {
        let naive = |bytes: &[u8], from: usize| {
            (from..bytes.len())
                .find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f))
                .unwrap_or(bytes.len())
        };
        let stops = [b'"', b'\\', 0x00, 0x0a, 0x1f];
        let passes = [b'a', b' ', 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xc3, 0xff];
        for len in 0..40 {
            for stop in stops.iter().chain(&passes) {
                for at in 0..len {
                    let mut bytes: Vec<u8> = (0..len).map(|i| passes[i % passes.len()]).collect();
                    bytes[at] = *stop;
                    // A second stop after the first must not hide it (borrows).
                    if at + 3 < len {
                        bytes[at + 3] = b'"';
                    }
                    for from in 0..=len {
                        assert_eq!(
                            super::string_stop(&bytes, from),
                            naive(&bytes, from),
                            "{bytes:?} from {from}"
                        );
                    }
                }
            }
        }
    }

    /// Every ASCII byte, alone and in runs around non-ASCII text, escapes as serde_json
    /// escapes it.
    #[test]
    fn escape_into_is_serde_json() {
        let mut cases: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        for b in 0u8..0x80 {
            let c = char::from(b);
            cases.push(format!(
                "sg-{c}{c}-\u{e9}t\u{e9}-{c}-0123456789abcdef-\u{1F600}{c}"
            ));
        }
        cases.push(String::new());
        cases.push("a".repeat(37));
        for text in cases {
            let mut ours = b"\"".to_vec();
            super::escape_into(&mut ours, &text);
            ours.push(b'"');
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&text).unwrap(),
                "{text:?}"
            );
        }
    }
}
