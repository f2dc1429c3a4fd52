//! `{{encrypt(VALUE)}}` / `{{decrypt(BLOB)}}` markers in config text, read exactly as Boundary
//! reads them.
//!
//! go-secure-stdlib configutil's `EncryptDecrypt` (encrypt_decrypt.go) finds markers with the
//! regular expressions `{{encrypt\(.*\)}}` and `{{decrypt\(.*\)}}`: Go's RE2, where `.` is any
//! character but `\n` and matching is leftmost-first with a greedy `.*`. So a line holds at most
//! one marker, from its first `{{encrypt(` to its last `)}}`, and everything between is one
//! value, even when it holds `)}}` or another `{{encrypt(`. [`find_markers`] reads them so;
//! [`encrypt_problems`] names the lines whose markers Boundary would read otherwise than they
//! look.

use std::fmt;
use std::ops::Range;

const CLOSE: &str = ")}}";

/// One marker found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker<'a> {
    /// The byte range of the whole `{{func(...)}}`.
    pub range: Range<usize>,
    /// The text inside, as configutil takes it: from after `{{func(` to before the last `)}}`
    /// of the line.
    pub value: &'a str,
    /// The line (1-based) that holds it.
    pub line: usize,
}

/// Every `{{func(...)}}` marker in `text`, in order, as configutil's `EncryptDecrypt` finds
/// them: on each line (lines end at `\n` only), from the first `{{func(` that has a `)}}`
/// after it to the last `)}}` of the line.
pub fn find_markers<'a>(text: &'a str, func: &str) -> Vec<Marker<'a>> {
    let open = format!("{{{{{func}(");
    let mut out = Vec::new();
    let mut line_start = 0;
    for (index, line) in text.split('\n').enumerate() {
        if let Some(m) = line_marker(line, &open) {
            out.push(Marker {
                range: line_start + m.start..line_start + m.end,
                value: &line[m.start + open.len()..m.end - CLOSE.len()],
                line: index + 1,
            });
        }
        line_start += line.len() + 1;
    }
    out
}

/// The range of the marker of one line (without its `\n`), if it has one.
fn line_marker(line: &str, open: &str) -> Option<Range<usize>> {
    let start = line.find(open)?;
    let close = line.rfind(CLOSE)?;
    (close >= start + open.len()).then(|| start..close + CLOSE.len())
}

/// `text` with each marker replaced by the replacement at the same index; everything outside
/// the markers is byte-identical.
///
/// Markers are expected as [`find_markers`] returns them: in order, not overlapping. A marker
/// without a replacement (when `replacements` is shorter), out of order, overlapping an
/// earlier one, or outside `text` is left as it is; this never panics.
pub fn replace_markers(text: &str, markers: &[Marker<'_>], replacements: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (m, r) in markers.iter().zip(replacements) {
        if m.range.start < pos {
            continue;
        }
        let (Some(before), Some(_)) = (text.get(pos..m.range.start), text.get(m.range.clone()))
        else {
            continue;
        };
        out.push_str(before);
        out.push_str(r);
        pos = m.range.end;
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    out
}

/// Why a line cannot be encrypted as it looks: Boundary would read it differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkerProblem {
    /// Two `{{encrypt(` on one line: Boundary takes both, and the text between, as one value.
    TwoMarkers,
    /// The value holds `)}}`: Boundary's value runs to the last `)}}` of the line.
    ValueHoldsClose,
    /// A `{{decrypt(` before the `{{encrypt(..)}}` marker: once encrypted, Boundary would read
    /// both markers as one value and fail to decrypt it.
    DecryptBefore,
    /// A `{{decrypt(..)}}` value that holds `)}}` or another `{{decrypt(`: two markers that
    /// Boundary reads as one value and cannot decrypt.
    TwoDecryptMarkers,
    /// Something like a marker that is not one (`{{ encrypt(x) }}`, `{{ENCRYPT(x)}}`, or
    /// `{{encrypt(` with no `)}}` after it on its line): its value would stay in plain text.
    NearMiss,
}

impl fmt::Display for MarkerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MarkerProblem::TwoMarkers => "two {{encrypt(..)}} markers on one line, which Boundary reads as one value (from the first {{encrypt( to the last )}}); put each marker on its own line",
            MarkerProblem::ValueHoldsClose => "the value holds \")}}\" (or the line holds two markers), and Boundary reads everything from the first {{encrypt( to the last )}} of a line as one value; put each marker on its own line, with no \")}}\" inside",
            MarkerProblem::DecryptBefore => "a {{decrypt(..)}} marker comes before the {{encrypt(..)}} marker, and once encrypted Boundary would read both as one value; put each marker on its own line",
            MarkerProblem::TwoDecryptMarkers => "Boundary reads everything from the first {{decrypt( to the last )}} of a line as one value, and this line holds two markers, which it cannot decrypt; put each marker on its own line",
            MarkerProblem::NearMiss => "something like an {{encrypt(..)}} marker that is not one (a marker is exactly {{encrypt(VALUE)}} on one line), so its value would stay in plain text; fix the marker",
        })
    }
}

/// A line of a text that `kms config encrypt` refuses, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineProblem {
    /// The line, 1-based.
    pub line: usize,
    /// What is wrong with it.
    pub problem: MarkerProblem,
}

/// The lines of `text` that Boundary would read otherwise than they look, so that encrypting
/// them would give a config Boundary misreads or leave a value in plain text: one problem per
/// line, in order. A line with one `{{encrypt(VALUE)}}` whose VALUE holds no `)}}` and no
/// `{{encrypt(`, and no `{{decrypt(` before it, has none.
pub fn encrypt_problems(text: &str) -> Vec<LineProblem> {
    let encrypt_open = "{{encrypt(";
    let decrypt_open = "{{decrypt(";
    let mut out = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let encrypt = line_marker(line, encrypt_open);
        let problem = if let Some(m) = &encrypt {
            let value = &line[m.start + encrypt_open.len()..m.end - CLOSE.len()];
            if value.contains(encrypt_open) {
                Some(MarkerProblem::TwoMarkers)
            } else if value.contains(CLOSE) {
                Some(MarkerProblem::ValueHoldsClose)
            } else if line[..m.start].contains(decrypt_open) {
                Some(MarkerProblem::DecryptBefore)
            } else {
                None
            }
        } else {
            None
        };
        let problem = problem
            .or_else(|| {
                near_miss(line, encrypt.as_ref().map(|m| m.start))
                    .then_some(MarkerProblem::NearMiss)
            })
            .or_else(|| {
                let m = line_marker(line, decrypt_open)?;
                let value = &line[m.start + decrypt_open.len()..m.end - CLOSE.len()];
                (value.contains(CLOSE) || value.contains(decrypt_open))
                    .then_some(MarkerProblem::TwoDecryptMarkers)
            });
        if let Some(problem) = problem {
            out.push(LineProblem {
                line: index + 1,
                problem,
            });
        }
    }
    out
}

/// Whether `line` holds `{{`, optional blanks, `encrypt` in any case, optional blanks and `(`
/// anywhere but at `marker_start`, where its real marker starts.
fn near_miss(line: &str, marker_start: Option<usize>) -> bool {
    let bytes = line.as_bytes();
    let skip_blanks = |mut j: usize| {
        while bytes.get(j).is_some_and(|b| *b == b' ' || *b == b'\t') {
            j += 1;
        }
        j
    };
    let word = b"encrypt";
    let mut from = 0;
    while let Some(off) = line[from..].find("{{") {
        let start = from + off;
        from = start + 1;
        if Some(start) == marker_start {
            continue;
        }
        let j = skip_blanks(start + 2);
        if !bytes
            .get(j..j + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
        {
            continue;
        }
        if bytes.get(skip_blanks(j + word.len())) == Some(&b'(') {
            return true;
        }
    }
    false
}

/// Decodes a `{{decrypt(..)}}` value as configutil does, with Go's
/// `base64.RawURLEncoding.DecodeString`: the URL-safe alphabet and no padding (`=` is an
/// error); `\r` and `\n` are skipped; the unused bits of a last partial group are ignored; a
/// last group of one character is an error. `None` where Go returns an error.
pub fn decode_marker_value(value: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        }))
    }
    let mut out = Vec::with_capacity(value.len() / 4 * 3 + 2);
    let (mut acc, mut n) = (0u32, 0u32);
    for c in value.bytes().filter(|c| *c != b'\r' && *c != b'\n') {
        acc = acc << 6 | sextet(c)?;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&acc.to_be_bytes()[1..]);
            (acc, n) = (0, 0);
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&(acc >> 2).to_be_bytes()[2..]),
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_greedy_marker_per_line() {
        let t = "a = \"{{encrypt(x)}}\" b = \"{{encrypt(f(y))}}\"\nc = {{encrypt(z)}}";
        let m = find_markers(t, "encrypt");
        let values: Vec<_> = m.iter().map(|m| (m.value, m.line)).collect();
        assert_eq!(values, [("x)}}\" b = \"{{encrypt(f(y)", 1), ("z", 2)]);
        let r = replace_markers(t, &m, &["1".into(), "2".into()]);
        assert_eq!(r, "a = \"1\"\nc = 2");
    }

    #[test]
    fn unterminated_and_multiline_markers_are_not_markers() {
        assert!(find_markers("{{encrypt(abc", "encrypt").is_empty());
        assert!(find_markers("{{encrypt(a\nb)}}", "encrypt").is_empty());
        assert!(find_markers("{{decrypt(x)}}", "encrypt").is_empty());
        assert!(find_markers(")}} {{encrypt(", "encrypt").is_empty());
        let t = "{{encrypt({{encrypt(v)}}";
        let m = find_markers(t, "encrypt");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].value, "{{encrypt(v");
    }

    #[test]
    fn go_raw_url_base64() {
        assert_eq!(decode_marker_value("").unwrap(), b"");
        assert_eq!(decode_marker_value("Zm9v").unwrap(), b"foo");
        assert_eq!(decode_marker_value("Zm8").unwrap(), b"fo");
        assert_eq!(decode_marker_value("Zg").unwrap(), b"f");
        // Go ignores the unused bits (non-strict) and skips \r and \n.
        assert_eq!(decode_marker_value("Zh").unwrap(), b"f");
        assert_eq!(decode_marker_value("Zm\r9v").unwrap(), b"foo");
        assert_eq!(decode_marker_value("_-8").unwrap(), [0xff, 0xef]);
        for bad in ["Zg==", "Zm9v=", "Z", "Zm9vZ", "+/8", "Zm 9v", "Zm9v\t"] {
            assert!(decode_marker_value(bad).is_none(), "{bad:?}");
        }
    }
}
