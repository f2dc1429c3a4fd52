//! Values inside config files, as Boundary protects them: each `{{encrypt(VALUE)}}` becomes
//! `{{decrypt(BLOB)}}` (BLOB: a go-kms-wrapping BlobInfo, base64url) under the config-purpose
//! wrapper, and back. Every byte outside the markers stays as it was.

use kms_config::{decode_marker_value, encrypt_problems, find_markers, replace_markers};
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

/// Encrypts or decrypts every marker of `text` with `wrapper` (the config-purpose wrapper), as
/// configutil's `EncryptDecrypt` does: one marker per line at most, from the first `{{func(` to
/// the last `)}}` of the line (see [`kms_config::find_markers`]). `strip` leaves bare values (or
/// bare blobs) instead of markers. `name` names the text in errors, which say `NAME:LINE`.
/// Plain values are wiped when dropped.
///
/// Encrypting refuses, before any value is encrypted, a text with lines that Boundary would
/// read otherwise than they look ([`kms_config::encrypt_problems`]): two markers on one line,
/// a value holding `)}}`, a near miss such as `{{ encrypt(x) }}`.
///
/// # Errors
/// [`Error::Config`] for such lines, naming the first and how many others; else the first
/// marker that fails, with its place: a backend error, a `{{decrypt(..)}}` that does not hold
/// a base64url BlobInfo as configutil reads it ([`Error::Malformed`]) or whose value is not
/// UTF-8 text.
pub async fn process_values(
    text: &str,
    name: &str,
    wrapper: &dyn Backend,
    direction: Direction,
    strip: bool,
) -> Result<Processed> {
    if direction == Direction::Encrypt {
        check_encryptable(text, name)?;
    }
    let markers = find_markers(text, direction.marker());
    let mut replacements = Zeroizing::new(Vec::with_capacity(markers.len()));
    for m in &markers {
        let place = format!("{name}:{}", m.line);
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
                let blob = decode_blob(m.value).context(&place)?;
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

/// The BlobInfo of a `{{decrypt(..)}}` value, decoded as configutil decodes it (Go's
/// `base64.RawURLEncoding`: no padding, no standard alphabet).
///
/// # Errors
/// [`Error::Malformed`], saying that Boundary reads a line's markers as one value when the
/// value holds `)}}`.
pub fn decode_blob(value: &str) -> Result<BlobInfo> {
    let Some(bytes) = decode_marker_value(value) else {
        return Err(Error::Malformed(if value.contains(")}}") {
            "Boundary reads everything from the first {{decrypt( to the last )}} of a line as one value, and this line holds two markers (or a value with \")}}\"), so it cannot be decrypted; put each marker on its own line".into()
        } else {
            "{{decrypt(..)}} does not hold base64url without padding, as Boundary writes it".into()
        }));
    };
    BlobInfo::from_bytes(&bytes).context("the {{decrypt(..)}} value")
}

/// Whether `text` may be encrypted: [`process_values`] checks this too, and callers that must
/// connect to a KMS first can refuse early.
///
/// # Errors
/// [`Error::Config`] naming the first line of `text` that [`encrypt_problems`] finds (as
/// `NAME:LINE`), why, and the other lines.
pub fn check_encryptable(text: &str, name: &str) -> Result<()> {
    let problems = encrypt_problems(text);
    let Some(first) = problems.first() else {
        return Ok(());
    };
    let mut message = first.problem.to_string();
    if let Some(rest) = problems.get(1..).filter(|r| !r.is_empty()) {
        let lines: Vec<String> = rest.iter().map(|p| p.line.to_string()).collect();
        message.push_str(&format!(" (also line(s) {})", lines.join(", ")));
    }
    Err(Error::Config(message).context(format!("{name}:{}", first.line)))
}
