//! go-kms-wrapping v2 `BlobInfo` / `KeyInfo`, wire-compatible with its `types.proto`.

use std::fmt;

use base64::Engine;
use prost::Message;

use crate::{Error, KeyId, Result};

/// An encrypted value, as go-kms-wrapping v2 writes it (`wrapping.BlobInfo`).
///
/// Field numbers follow `types.proto`. Unknown fields are skipped on decode.
/// `Debug` leaves out `plaintext`.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct BlobInfo {
    /// 1: the ciphertext (aead: nonce ‖ ciphertext ‖ tag; awskms envelope: ciphertext ‖ tag).
    #[prost(bytes = "vec", tag = "1")]
    pub ciphertext: Vec<u8>,
    /// 2: the IV, for envelope values.
    #[prost(bytes = "vec", tag = "2")]
    pub iv: Vec<u8>,
    /// 3: an HMAC, unused by aead and awskms.
    #[prost(bytes = "vec", tag = "3")]
    pub hmac: Vec<u8>,
    /// 4: whether the value is itself wrapped.
    #[prost(bool, tag = "4")]
    pub wrapped: bool,
    /// 5: key information.
    #[prost(message, optional, tag = "5")]
    pub key_info: Option<KeyInfo>,
    /// 6: a value path, unused here.
    #[prost(string, tag = "6")]
    pub value_path: String,
    /// 7: plaintext, never set by encryption.
    #[prost(bytes = "vec", tag = "7")]
    pub plaintext: Vec<u8>,
    /// 8: `google.protobuf.Struct` client data, kept as its raw encoded bytes.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub client_data: Option<Vec<u8>>,
}

/// Key information stored with a value (`wrapping.KeyInfo`). `Debug` leaves out `key`.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct KeyInfo {
    /// 1: the mechanism; see [`awskms_mechanism`].
    #[prost(uint64, tag = "1")]
    pub mechanism: u64,
    /// 2: the HMAC mechanism.
    #[prost(uint64, tag = "2")]
    pub hmac_mechanism: u64,
    /// 3: the key id (aead key_id, KMS key ARN).
    #[prost(string, tag = "3")]
    pub key_id: String,
    /// 4: the HMAC key id.
    #[prost(string, tag = "4")]
    pub hmac_key_id: String,
    /// 5: the wrapped data key, for envelope values.
    #[prost(bytes = "vec", tag = "5")]
    pub wrapped_key: Vec<u8>,
    /// 6: flags.
    #[prost(uint64, tag = "6")]
    pub flags: u64,
    /// 7: `KeyType` enum, as its number.
    #[prost(int32, tag = "7")]
    pub key_type: i32,
    /// 8: `KeyPurpose` enums, as their numbers.
    #[prost(int32, repeated, tag = "8")]
    pub key_purposes: Vec<i32>,
    /// 9: key material; never set by this toolkit, never shown by `Debug`.
    #[prost(bytes = "vec", tag = "9")]
    pub key: Vec<u8>,
    /// 10: `KeyEncoding` enum, as its number.
    #[prost(int32, tag = "10")]
    pub key_encoding: i32,
    /// 11: `KeyEncoding` of the wrapped key, as its number.
    #[prost(int32, tag = "11")]
    pub wrapped_key_encoding: i32,
}

/// go-kms-wrapping `awskms` mechanisms (`KeyInfo.mechanism`).
pub mod awskms_mechanism {
    /// Direct KMS encryption: `ciphertext` is the KMS ciphertext blob. Up to 4 KiB.
    pub const DIRECT: u64 = 0;
    /// Envelope AES-GCM: 12-byte `iv`, `ciphertext` with tag, `key_info.wrapped_key`.
    pub const ENVELOPE_AES_GCM: u64 = 1;
}

impl BlobInfo {
    /// Decodes a BlobInfo strictly enough to tell one from arbitrary bytes.
    ///
    /// The bytes must be a valid protobuf message (unknown fields are allowed, as
    /// go-kms-wrapping requires) holding a single value (no singular field twice, which
    /// protobuf would merge), carry a non-empty `ciphertext`, and no `plaintext`.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming what is wrong.
    pub fn decode_strict(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::Malformed("empty input is not a BlobInfo".into()));
        }
        crate::blob_limits::check(bytes)?;
        let blob = BlobInfo::decode(bytes)
            .map_err(|e| Error::Malformed(format!("not a protobuf BlobInfo: {e}")))?;
        crate::wire::check_single_value(bytes)?;
        if blob.ciphertext.is_empty() {
            return Err(Error::Malformed(
                "BlobInfo has no ciphertext (field 1)".into(),
            ));
        }
        if !blob.plaintext.is_empty() {
            return Err(Error::Malformed(
                "BlobInfo carries a plaintext field (7); refusing it".into(),
            ));
        }
        Ok(blob)
    }

    /// The protobuf encoding, as go-kms-wrapping stores a value.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    /// Decodes a stored value; the same checks as [`BlobInfo::decode_strict`].
    ///
    /// # Errors
    /// [`Error::Malformed`] naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        BlobInfo::decode_strict(bytes)
    }

    /// The text form Boundary puts in `{{decrypt(..)}}` markers: base64url, no padding.
    pub fn to_text(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    /// Decodes the text form: base64url without padding (Boundary's), with padding, or
    /// standard base64; surrounding white space is ignored.
    ///
    /// # Errors
    /// [`Error::Malformed`] when the text is not base64 of a BlobInfo.
    pub fn from_text(text: &str) -> Result<Self> {
        let t = text.trim();
        // Base64 of a value at the cap, with padding.
        if t.len() > crate::MAX_BLOB_BYTES.div_ceil(3) * 4 {
            return Err(Error::InvalidInput(format!(
                "a BlobInfo value of {} text bytes is over the {} MiB cap; encrypt data this large as a stream (kms encrypt without --value)",
                t.len(),
                crate::MAX_BLOB_BYTES >> 20
            )));
        }
        let engines = [
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|e| e.decode(t).ok())
            .ok_or_else(|| Error::Malformed("not base64 text of a BlobInfo".into()))?;
        BlobInfo::decode_strict(&bytes)
    }

    /// The recorded key id, typed.
    pub fn recorded_key_id(&self) -> KeyId {
        KeyId::new(self.key_id())
    }

    /// The recorded key id, empty when `key_info` is absent.
    pub fn key_id(&self) -> &str {
        self.key_info.as_ref().map_or("", |k| k.key_id.as_str())
    }

    /// The recorded mechanism, 0 when `key_info` is absent.
    pub fn mechanism(&self) -> u64 {
        self.key_info.as_ref().map_or(0, |k| k.mechanism)
    }

    /// The wrapped data key, empty for direct values.
    pub fn wrapped_key(&self) -> &[u8] {
        self.key_info
            .as_ref()
            .map_or(&[], |k| k.wrapped_key.as_slice())
    }

    /// Whether this is an envelope value: mechanism 1 or a wrapped key present.
    pub fn is_envelope(&self) -> bool {
        self.mechanism() == awskms_mechanism::ENVELOPE_AES_GCM || !self.wrapped_key().is_empty()
    }
}

impl fmt::Debug for BlobInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobInfo")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("iv_len", &self.iv.len())
            .field("hmac_len", &self.hmac.len())
            .field("wrapped", &self.wrapped)
            .field("key_info", &self.key_info)
            .field("value_path", &self.value_path)
            .field(
                "plaintext",
                &format_args!("[REDACTED; {} bytes]", self.plaintext.len()),
            )
            .field("client_data_len", &self.client_data.as_ref().map(Vec::len))
            .finish()
    }
}

impl fmt::Debug for KeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyInfo")
            .field("mechanism", &self.mechanism)
            .field("hmac_mechanism", &self.hmac_mechanism)
            .field("key_id", &self.key_id)
            .field("hmac_key_id", &self.hmac_key_id)
            .field("wrapped_key_len", &self.wrapped_key.len())
            .field("flags", &self.flags)
            .field("key_type", &self.key_type)
            .field("key_purposes", &self.key_purposes)
            .field("key", &format_args!("[REDACTED; {} bytes]", self.key.len()))
            .field("key_encoding", &self.key_encoding)
            .field("wrapped_key_encoding", &self.wrapped_key_encoding)
            .finish()
    }
}
