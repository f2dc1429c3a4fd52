//! `{{encrypt(VALUE)}}` / `{{decrypt(BLOB)}}` markers in config text.
//!
//! Boundary finds them with a greedy regular expression, which merges two markers on one line
//! into one. Here each marker ends at the first `)}}` after its start, on the same line, so
//! several markers on one line are each found; values may contain `(` and `)`.

use std::ops::Range;

/// One marker found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker<'a> {
    /// The byte range of the whole `{{func(...)}}`.
    pub range: Range<usize>,
    /// The text inside the parentheses.
    pub value: &'a str,
}

/// Every `{{func(...)}}` marker in `text`, in order.
pub fn find_markers<'a>(text: &'a str, func: &str) -> Vec<Marker<'a>> {
    let open = format!("{{{{{func}(");
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = text[pos..].find(&open) {
        let start = pos + i;
        let value_start = start + open.len();
        let line_end = text[value_start..]
            .find('\n')
            .map_or(text.len(), |n| value_start + n);
        match text[value_start..line_end].find(")}}") {
            Some(j) => {
                let value_end = value_start + j;
                let end = value_end + 3;
                out.push(Marker {
                    range: start..end,
                    value: &text[value_start..value_end],
                });
                pos = end;
            }
            None => pos = value_start,
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_markers_on_one_line_and_parens_inside() {
        let t = "a = \"{{encrypt(x)}}\" b = \"{{encrypt(f(y))}}\"\nc = {{encrypt(z)}}";
        let m = find_markers(t, "encrypt");
        let values: Vec<_> = m.iter().map(|m| m.value).collect();
        assert_eq!(values, ["x", "f(y)", "z"]);
        let r = replace_markers(t, &m, &["1".into(), "2".into(), "3".into()]);
        assert_eq!(r, "a = \"1\" b = \"2\"\nc = 3");
    }

    #[test]
    fn unterminated_and_multiline_markers_are_not_markers() {
        assert!(find_markers("{{encrypt(abc", "encrypt").is_empty());
        assert!(find_markers("{{encrypt(a\nb)}}", "encrypt").is_empty());
        assert!(find_markers("{{decrypt(x)}}", "encrypt").is_empty());
        let t = "{{encrypt({{encrypt(v)}}";
        let m = find_markers(t, "encrypt");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].value, "{{encrypt(v");
    }
}
