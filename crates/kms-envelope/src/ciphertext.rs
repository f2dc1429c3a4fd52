//! Recognising a ciphertext: a stream (by its magic) or a go-kms-wrapping value (binary
//! BlobInfo, or the base64 text of one), read with bounded memory.

use std::io::{BufRead, Read};

use kms_core::cipher::NONCE_LEN;
use kms_core::{awskms_mechanism, BackendKind, BlobInfo, Error, KeyId, Result};

use crate::stream::{StreamHeader, MAGIC};

/// The largest value input read into memory: the base64 text of a BlobInfo at
/// [`kms_core::MAX_BLOB_BYTES`], plus room for surrounding white space. Streams are never
/// read whole.
pub const MAX_VALUE_BYTES: u64 = (kms_core::MAX_BLOB_BYTES.div_ceil(3) * 4 + 4096) as u64;

/// What a prefix of an input looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Starts with the stream magic (or, when shorter than it, with a prefix of it).
    Stream,
    /// A binary BlobInfo (strict decode of the whole prefix).
    Value,
    /// The base64 text of a BlobInfo.
    ValueText,
    /// None of these.
    Unknown,
}

/// A go-kms-wrapping value read from an input.
#[derive(Clone, Debug)]
pub struct Value {
    /// The value.
    pub blob: BlobInfo,
    /// Length of the input it was read from.
    pub bytes: usize,
    /// Whether it was base64 text (else binary protobuf).
    pub text: bool,
}

/// What a value says without a key. A BlobInfo does not name its backend: `kind` is
/// inferred from the mechanism, the wrapped key and the shape of the key id.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueInfo {
    /// Length of the input it was read from.
    pub bytes: usize,
    /// The backend kind, inferred.
    pub kind: BackendKind,
    /// `KeyInfo.mechanism`.
    pub mechanism: u64,
    /// What the mechanism means for this value's layout.
    pub mechanism_description: &'static str,
    /// Whether it is an envelope value (a wrapped data key).
    pub is_envelope: bool,
    /// Length of `ciphertext`.
    pub ciphertext_bytes: usize,
    /// Length of `iv`.
    pub iv_bytes: usize,
    /// Length of the wrapped data key.
    pub wrapped_key_bytes: usize,
    /// The recorded key id.
    pub key_id: KeyId,
}

impl Value {
    /// What the value says, without a key.
    pub fn info(&self) -> ValueInfo {
        let b = &self.blob;
        let arn = b.key_id().starts_with("arn:aws");
        let nonce_in_iv = !b.is_envelope() && b.iv.len() == NONCE_LEN;
        let transit = if b.is_envelope() {
            is_transit_ciphertext(b.wrapped_key())
        } else {
            is_transit_ciphertext(&b.ciphertext)
        };
        let (kind, mechanism_description) = match (b.is_envelope(), arn) {
            (false, false) if transit => (
                "transit",
                "direct (mechanism 0): the Vault/OpenBao transit ciphertext vault:vN:... as text",
            ),
            (true, false) if transit => (
                "transit",
                "envelope: AES-256-GCM data key wrapped by Vault/OpenBao transit",
            ),
            (false, false) if nonce_in_iv => (
                "aead",
                "direct, nonce in iv (OpenBao's static seal layout): iv = nonce, ciphertext = AES-GCM ciphertext ‖ tag",
            ),
            (true, true) => (
                "awskms",
                "envelope (mechanism 1): AES-256-GCM data key wrapped by KMS",
            ),
            (false, true) => ("awskms", "direct (mechanism 0): KMS ciphertext blob"),
            (true, false) => (
                "aead",
                "envelope: AES-256-GCM data key wrapped by the aead key",
            ),
            (false, false) => ("aead", "direct: nonce ‖ AES-GCM ciphertext ‖ tag"),
        };
        ValueInfo {
            bytes: self.bytes,
            kind: BackendKind::from_static(kind),
            mechanism: b.mechanism(),
            mechanism_description,
            is_envelope: b.mechanism() == awskms_mechanism::ENVELOPE_AES_GCM || b.is_envelope(),
            ciphertext_bytes: b.ciphertext.len(),
            iv_bytes: b.iv.len(),
            wrapped_key_bytes: b.wrapped_key().len(),
            key_id: b.recorded_key_id(),
        }
    }
}

/// Whether `bytes` has the shape of a Vault/OpenBao transit ciphertext, `vault:vN:BASE64`
/// (what go-kms-wrapping's transit wrapper stores as a value's ciphertext).
fn is_transit_ciphertext(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(b"vault:v") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0
        && rest.get(digits) == Some(&b':')
        && rest[digits + 1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// A ciphertext input.
#[derive(Clone, Debug)]
pub enum Ciphertext {
    /// A stream: its header was read; the body follows in the reader.
    Stream(StreamHeader),
    /// A value, read whole.
    Value(Value),
}

impl Ciphertext {
    /// What `prefix` is. For values, `prefix` must be the whole input (a strict decode).
    pub fn detect(prefix: &[u8]) -> Format {
        if !prefix.is_empty() && prefix.starts_with(&MAGIC[..prefix.len().min(MAGIC.len())]) {
            Format::Stream
        } else if BlobInfo::decode_strict(prefix).is_ok() {
            Format::Value
        } else if std::str::from_utf8(prefix).is_ok_and(|t| BlobInfo::from_text(t).is_ok()) {
            Format::ValueText
        } else {
            Format::Unknown
        }
    }

    /// Reads a ciphertext from `reader`: for a stream only its header (the body stays in
    /// `reader`), else the whole input, at most [`MAX_VALUE_BYTES`], as a value.
    ///
    /// # Errors
    /// [`Error::Io`]; for a stream, header errors ([`Error::Malformed`], [`Error::Truncated`]);
    /// [`Error::Truncated`] for an empty input; [`Error::InvalidInput`] for a non-stream input
    /// over the cap; [`Error::Malformed`] for an input that is neither.
    pub fn read(reader: &mut impl BufRead) -> Result<Ciphertext> {
        let head = reader
            .fill_buf()
            .map_err(|e| Error::io("reading input", e))?;
        if head.is_empty() {
            return Err(Error::Truncated("empty input: not a kms ciphertext".into()));
        }
        if Ciphertext::detect(&head[..head.len().min(MAGIC.len())]) == Format::Stream {
            return StreamHeader::read(reader).map(Ciphertext::Stream);
        }
        let mut bytes = Vec::with_capacity(head.len());
        reader
            .take(MAX_VALUE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("reading input", e))?;
        if bytes.len() as u64 > MAX_VALUE_BYTES {
            return Err(Error::InvalidInput(format!(
                "not a kms stream file, and over the BlobInfo value cap ({} MiB); encrypt data this large as a stream (kms encrypt without --value)",
                kms_core::MAX_BLOB_BYTES >> 20
            )));
        }
        let len = bytes.len();
        let value = |blob, text| {
            Ciphertext::Value(Value {
                blob,
                bytes: len,
                text,
            })
        };
        match BlobInfo::decode_strict(&bytes) {
            Ok(b) => Ok(value(b, false)),
            Err(e) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| BlobInfo::from_text(t).ok())
                .map(|b| value(b, true))
                .ok_or_else(|| {
                    several_text_values(&bytes).unwrap_or_else(|| {
                        Error::Malformed(format!(
                            "not a kms stream file nor a go-kms-wrapping BlobInfo ({e})"
                        ))
                    })
                }),
        }
    }
}

/// The error for text that holds several base64 BlobInfos (`cat a.txt b.txt`), if it does.
fn several_text_values(bytes: &[u8]) -> Option<Error> {
    let text = std::str::from_utf8(bytes).ok()?;
    let tokens: Vec<&str> = text.split_whitespace().collect();
    (tokens.len() > 1 && tokens.iter().all(|t| BlobInfo::from_text(t).is_ok())).then(|| {
        Error::Malformed(format!(
            "not a single value: {} base64 BlobInfo values one after another",
            tokens.len()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(blob: BlobInfo) -> Value {
        Value {
            blob,
            bytes: 0,
            text: true,
        }
    }

    #[test]
    fn transit_values_are_recognised() {
        assert!(is_transit_ciphertext(b"vault:v12:AbC+/=="));
        assert!(!is_transit_ciphertext(b"vault:v:AbC"));
        assert!(!is_transit_ciphertext(b"vault:1:AbC"));
        assert!(!is_transit_ciphertext(b"vault:v1:\x00"));
        let direct = BlobInfo {
            ciphertext: b"vault:v1:SobyLk7a0zQ==".to_vec(),
            key_info: Some(kms_core::KeyInfo {
                key_id: "v1".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            value(direct).info().kind,
            BackendKind::from_static("transit")
        );
        let envelope = BlobInfo {
            ciphertext: vec![1; 20],
            iv: vec![0; 12],
            key_info: Some(kms_core::KeyInfo {
                mechanism: awskms_mechanism::ENVELOPE_AES_GCM,
                key_id: "v3".into(),
                wrapped_key: b"vault:v3:AAAA".to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let info = value(envelope).info();
        assert_eq!(info.kind, BackendKind::from_static("transit"));
        assert!(info.is_envelope);
        let aead = BlobInfo {
            ciphertext: vec![9; 40],
            ..Default::default()
        };
        assert_eq!(value(aead).info().kind, BackendKind::from_static("aead"));
    }
}
