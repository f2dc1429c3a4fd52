//! What reaches a terminal: unauthenticated text escaped, and plaintext shown only when it
//! is text.

use std::io::{self, Write};

/// Whether `c` could drive the terminal or reorder what it shows: a control character, or a
/// bidirectional formatting character (which can make a line read as something else).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// `c` escaped as Rust escapes it (`\n`, `\u{1b}`, `\u{202e}`).
fn escape(c: char) -> String {
    if c.is_control() {
        c.escape_debug().to_string()
    } else {
        c.escape_unicode().to_string()
    }
}

/// `s` with unsafe characters escaped: nothing from a file name or a recorded key id reaches
/// the terminal as a control sequence.
pub(crate) fn escape_controls(s: &str) -> String {
    if !s.chars().any(is_unsafe) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if is_unsafe(c) {
                escape(c)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A line as printed: control characters (a key id may hold a new line) escaped, and
/// backslashes doubled so the escapes stay unambiguous; every item stays on its own line.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\\' {
                "\\\\".to_owned()
            } else if is_unsafe(c) {
                escape(c)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A key id from unauthenticated input as shown to a person: escaped, `(empty)` when empty.
pub(crate) fn key_id(id: &str) -> String {
    if id.is_empty() {
        "(empty)".to_owned()
    } else {
        one_line(id)
    }
}

const BINARY_REFUSAL: &str =
    "refusing to write binary plaintext to a terminal; use -o FILE or redirect stdout";

/// The refusal of [`TextOnly`].
#[derive(Debug)]
struct BinaryOnTerminal {
    after_bytes: u64,
}

impl std::fmt::Display for BinaryOnTerminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(BINARY_REFUSAL)
    }
}

impl std::error::Error for BinaryOnTerminal {}

/// The message for an error [`TextOnly`] returned, if `e` is one.
pub(crate) fn terminal_refusal(e: &io::Error) -> Option<String> {
    let r = e.get_ref()?.downcast_ref::<BinaryOnTerminal>()?;
    Some(if r.after_bytes == 0 {
        BINARY_REFUSAL.to_owned()
    } else {
        format!(
            "{BINARY_REFUSAL} (stopped after {} bytes of text; the output is incomplete)",
            r.after_bytes
        )
    })
}

/// Passes text through to a terminal and refuses anything else before it is written.
///
/// Text is UTF-8 without control characters other than tab, line feed and carriage return:
/// an escape sequence is refused like a NUL byte, since either could drive the terminal.
/// Each buffer is checked whole before any of it is written, so the first buffer (64 KiB of
/// buffered output, or more) decides before anything is shown.
pub(crate) struct TextOnly<W> {
    inner: W,
    /// An incomplete UTF-8 sequence at the end of the previous buffer (at most 3 bytes).
    carry: Vec<u8>,
    written: u64,
}

impl<W> TextOnly<W> {
    pub(crate) fn new(inner: W) -> Self {
        TextOnly {
            inner,
            carry: Vec::new(),
            written: 0,
        }
    }

    /// Whether `buf` (after the carried bytes) is text; updates the carry.
    fn check(&mut self, buf: &[u8]) -> bool {
        let mut joined;
        let bytes: &[u8] = if self.carry.is_empty() {
            buf
        } else {
            joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(buf);
            &joined
        };
        let valid = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            // An incomplete sequence at the very end may finish in the next buffer.
            Err(e) if e.error_len().is_none() && bytes.len() - e.valid_up_to() <= 3 => {
                self.carry = bytes[e.valid_up_to()..].to_vec();
                match std::str::from_utf8(&bytes[..e.valid_up_to()]) {
                    Ok(s) => s,
                    Err(_) => return false,
                }
            }
            Err(_) => return false,
        };
        !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    }
}

impl<W: Write> Write for TextOnly<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let carry = self.carry.clone();
        if !self.check(buf) {
            self.carry = carry;
            return Err(io::Error::other(BinaryOnTerminal {
                after_bytes: self.written,
            }));
        }
        // A short write would desynchronise the carry: write the whole buffer.
        self.inner.write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_passes_binary_is_refused() {
        let mut t = TextOnly::new(Vec::new());
        t.write_all("héllo\tworld\r\n".as_bytes()).unwrap();
        // "é" split across two writes.
        let e = "é".as_bytes();
        t.write_all(&e[..1]).unwrap();
        t.write_all(&e[1..]).unwrap();
        assert!(t.write_all(b"\x1b[2J").is_err());
        assert!(t.write_all(b"a\0b").is_err());
        assert!(t.write_all(&[0xff, 0xfe]).is_err());
        assert_eq!(t.inner, "héllo\tworld\r\né".as_bytes());
        assert_eq!(key_id(""), "(empty)");
        assert_eq!(key_id("a\nb\\"), "a\\nb\\\\");
        assert_eq!(escape_controls("x\u{1b}y"), "x\\u{1b}y");
        assert_eq!(key_id("a\u{202e}b"), "a\\u{202e}b");
    }
}
