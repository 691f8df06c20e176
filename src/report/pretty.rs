//! Pretty-printed JSON, byte for byte what `serde_json::to_writer_pretty` writes (two-space
//! indents), with each line break and its indent written at once.
//!
//! serde_json's `PrettyFormatter` writes an indent one level at a time: a server entry
//! in the JSON report's findings, six levels deep, took some thirty writes. The reports'
//! bytes do not change; tests compare both formatters.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// `serde_json::to_writer_pretty`, faster (the JSON report's findings).
pub fn to_writer<W: Write, T: ?Sized + Serialize>(writer: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, Pretty::default());
    value.serialize(&mut ser)
}

/// `serde_json::to_string_pretty`, faster, with a final line break.
pub fn to_string_line<T: ?Sized + Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    to_writer(&mut out, value)?;
    out.push(b'\n');
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// Writes `text`, a pretty-printed document, with `items` in the empty array `[]` at byte
/// `at`, `depth` levels deep: `render(start, piece)` gives the elements of consecutive
/// pieces of `items` (each preceded by its separator, `,` unless `start` is 0, so each
/// piece is laid out as `Pretty::at(depth + 1, start != 0)` lays it out), rendered on
/// every core and written in order as they are ready. Byte for byte the document with
/// those elements in the array.
pub(super) fn write_spliced<T: Sync>(
    out: &mut dyn Write,
    text: &str,
    at: usize,
    depth: usize,
    items: &[T],
    piece: usize,
    render: impl Fn(usize, &[T]) -> Vec<u8> + Sync,
) -> io::Result<()> {
    debug_assert_eq!(&text[at..at + 2], "[]");
    if items.is_empty() {
        return out.write_all(text.as_bytes());
    }
    out.write_all(&text.as_bytes()[..=at])?;
    crate::parallel::for_each_ordered(items, piece, render, |text| out.write_all(&text))?;
    // The array holds its elements now: it closes on a line of its own.
    Pretty::at(depth + 1, true).close(out, b"]")?;
    out.write_all(&text.as_bytes()[at + 2..])
}

/// A comma, a line break, then the deepest indent written at once; shallower ones are
/// its tails.
const BREAK: &[u8; 2 + 2 * DEEPEST] = &{
    let mut b = [b' '; 2 + 2 * DEEPEST];
    b[0] = b',';
    b[1] = b'\n';
    b
};
const DEEPEST: usize = 32;

/// serde_json's `PrettyFormatter` with `"  "` indents: the same state, the same bytes. Also
/// the layout of the JSON report's findings, written by hand (`json_findings`).
#[derive(Default)]
pub(super) struct Pretty {
    current_indent: usize,
    has_value: bool,
}

impl Pretty {
    /// Inside an array or object `indent` levels deep that holds something already, or not.
    pub(super) fn at(indent: usize, has_value: bool) -> Pretty {
        Pretty {
            current_indent: indent,
            has_value,
        }
    }

    /// An array or object opens: `bracket`, one level deeper.
    pub(super) fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// It closes: on a line of its own at its own indent when it holds anything.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(bracket)
    }

    /// Written by hand: the separator and indent before an element or a key.
    pub(super) fn element<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let first = !self.has_value;
        self.has_value = true;
        self.line(w, first)
    }

    /// Written by hand: an array or object closes, and its parent now holds it.
    pub(super) fn close_element<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> io::Result<()> {
        self.close(w, bracket)?;
        self.has_value = true;
        Ok(())
    }

    /// `,\n` (or `\n` when `first`) and the current indent.
    fn line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        let start = usize::from(first);
        if self.current_indent <= DEEPEST {
            w.write_all(&BREAK[start..2 + 2 * self.current_indent])
        } else {
            w.write_all(&BREAK[start..2])?;
            (0..self.current_indent).try_for_each(|_| w.write_all(b"  "))
        }
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn both(value: &serde_json::Value) {
        let mut ours = Vec::new();
        super::to_writer(&mut ours, value).unwrap();
        let theirs = serde_json::to_vec_pretty(value).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }

    /// Every shape: empty and nested arrays and objects, scalars, escapes, and nesting
    /// deeper than the indents written at once.
    #[test]
    fn writes_what_serde_json_pretty_writes() {
        both(&json!(null));
        both(&json!([]));
        both(&json!({}));
        both(&json!([[], {}, [[]], [{}], {"a": []}, {"a": {}}]));
        both(&json!({"a": 1, "b": [1, 2.5, "x\"\n\u{1}é"], "c": {"d": null, "e": [true, false]}}));
        let mut deep = json!({"leaf": [1, {"k": "v"}]});
        for depth in 0..40 {
            deep = if depth % 2 == 0 {
                json!([deep, 1])
            } else {
                json!({"x": deep, "y": []})
            };
            both(&deep);
        }
    }
}
