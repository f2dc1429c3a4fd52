//! Values inside config files, as Boundary protects them: each `{{encrypt(VALUE)}}` becomes
//! `{{decrypt(BLOB)}}` (BLOB: a go-kms-wrapping BlobInfo, base64url) under the config-purpose
//! wrapper, and back. Every byte outside the markers stays as it was.

use kms_config::{find_markers, replace_markers, Marker};
use kms_core::{Backend, BlobInfo, Error, Purpose, Result, ResultExt};
use zeroize::Zeroizing;

/// Which way [`process_values`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `{{encrypt(VALUE)}}` → `{{decrypt(BLOB)}}`.
    Encrypt,
    /// `{{decrypt(BLOB)}}` → `{{encrypt(VALUE)}}`.
    Decrypt,
}

impl Direction {
    /// The marker function this direction reads: `encrypt` or `decrypt`.
    pub fn marker(self) -> &'static str {
        match self {
            Direction::Encrypt => "encrypt",
            Direction::Decrypt => "decrypt",
        }
    }
}

/// The result of [`process_values`]: the new text (wiped when dropped) and how many values
/// were processed. `Debug` shows neither the text nor its values.
pub struct Processed {
    /// The new text.
    pub text: Zeroizing<String>,
    /// The number of markers processed.
    pub count: usize,
}

impl std::fmt::Debug for Processed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processed")
            .field("text_len", &self.text.len())
            .field("count", &self.count)
            .finish()
    }
}

/// Encrypts or decrypts every marker of `text` with `wrapper` (the config-purpose wrapper).
/// `strip` leaves bare values (or bare blobs) instead of markers. `name` names the text in
/// errors, which say `NAME:LINE`. Plain values are wiped when dropped.
///
/// # Errors
/// The first marker that fails, with its place: a backend error, a `{{decrypt(..)}}` that
/// does not hold a BlobInfo ([`Error::Malformed`]) or whose value is not UTF-8 text.
pub async fn process_values(
    text: &str,
    name: &str,
    wrapper: &dyn Backend,
    direction: Direction,
    strip: bool,
) -> Result<Processed> {
    let markers = find_markers(text, direction.marker());
    let mut replacements = Zeroizing::new(Vec::with_capacity(markers.len()));
    for m in &markers {
        let line = text[..m.range.start].matches('\n').count() + 1;
        let place = format!("{name}:{line}");
        let replacement = match direction {
            Direction::Encrypt => {
                let blob =
                    kms_envelope::value::encrypt_value(wrapper, m.value.as_bytes(), b"", None)
                        .await
                        .context(&place)?;
                let text = blob.to_text();
                if strip {
                    text
                } else {
                    format!("{{{{decrypt({text})}}}}")
                }
            }
            Direction::Decrypt => {
                let blob = BlobInfo::from_text(m.value).map_err(|_| {
                    Error::Malformed("{{decrypt(..)}} does not hold a base64url BlobInfo".into())
                        .context(&place)
                })?;
                let plain =
                    kms_envelope::value::decrypt_value(&[wrapper], &blob, b"", Purpose::Config)
                        .await
                        .context(&place)?;
                let value = std::str::from_utf8(plain.expose_secret()).map_err(|_| {
                    Error::Malformed("the decrypted value is not UTF-8 text".into()).context(&place)
                })?;
                if strip {
                    value.to_owned()
                } else {
                    format!("{{{{encrypt({value})}}}}")
                }
            }
        };
        replacements.push(replacement);
    }
    Ok(Processed {
        text: Zeroizing::new(replace_markers(text, &markers, &replacements)),
        count: markers.len(),
    })
}

/// The lines (1-based) that hold something like an `{{encrypt(..)}}` marker that is not one:
/// `{{ encrypt(x) }}`, `{{ENCRYPT(x)}}`, `{{encrypt(x)}` (no `)}}` on its line). Left alone,
/// such a value would stay in plain text, so encrypting refuses them.
pub fn near_misses(text: &str) -> Vec<usize> {
    let markers: Vec<Marker<'_>> = find_markers(text, "encrypt");
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find("{{") {
        let start = i + off;
        i = start + 2;
        let mut j = start + 2;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        let word = b"encrypt";
        if bytes.len() < j + word.len() || !bytes[j..j + word.len()].eq_ignore_ascii_case(word) {
            continue;
        }
        j += word.len();
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        if bytes.get(j) != Some(&b'(') || markers.iter().any(|m| m.range.start == start) {
            continue;
        }
        let line = text[..start].matches('\n').count() + 1;
        if lines.last() != Some(&line) {
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::near_misses;

    #[test]
    fn near_misses_are_found_and_markers_are_not() {
        let t = "a = \"{{encrypt(ok)}}\"\nb = \"{{ encrypt(x) }}\"\nc = {{ENCRYPT(y)}}\nd = {{encrypt(z)}\ne = {{decrypt(w)}} {{encrypted}}\n";
        assert_eq!(near_misses(t), vec![2, 3, 4]);
        assert!(near_misses("x = {{encrypt(a)}} {{encrypt(b)}}").is_empty());
    }
}
