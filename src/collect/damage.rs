//! Test support: deterministic damage to JSON texts, for the differential tests of the fast
//! paths (block reader, decoders) against the exact ones.

/// A seeded xorshift generator of damage.
pub(crate) struct Damage(u64);

/// What damage inserts or writes: structure, escapes, odd scalars, bad UTF-8, control bytes.
pub(crate) const PIECES: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"\\",
    b" ",
    b"null",
    b"0",
    b"-",
    b".",
    b"e",
    b"true",
    b"\xc3",
    b"\x01",
    b"\"id\":\"x\",",
    b"\"rel\":\"next\",",
];

impl Damage {
    pub(crate) fn new(seed: u64) -> Damage {
        Damage(seed | 1)
    }

    /// A number below `n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// `original` with one to `max_edits` edits: a byte removed, a piece inserted, or a byte
    /// overwritten.
    pub(crate) fn apply(&mut self, original: &[u8], max_edits: usize) -> Vec<u8> {
        let mut bytes = original.to_vec();
        for _ in 0..1 + self.below(max_edits) {
            if bytes.is_empty() {
                break;
            }
            let at = self.below(bytes.len());
            let piece = PIECES[self.below(PIECES.len())];
            match self.below(3) {
                0 => {
                    bytes.remove(at);
                }
                1 => {
                    bytes.splice(at..at, piece.iter().copied());
                }
                _ => bytes[at] = piece[0],
            }
        }
        bytes
    }
}
