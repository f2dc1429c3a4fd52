use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::{BackendKind, Result, SecretBytes};

/// An opaque key identifier: an aead `key_id`, a KMS key ARN, an alias. May be empty
/// (Boundary writes aead values with an empty key id). The backend is the judge of its shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps an identifier.
    pub fn new(id: impl Into<String>) -> Self {
        KeyId(id.into())
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether no key id was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(empty)")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl PartialEq<str> for KeyId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for KeyId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<&str> for KeyId {
    fn from(s: &str) -> Self {
        KeyId::new(s)
    }
}

impl From<String> for KeyId {
    fn from(s: String) -> Self {
        KeyId(s)
    }
}

/// What a wrapping authenticates besides the secret.
///
/// Each backend maps it to its own mechanism: the aead backend to AES-GCM AAD
/// ([`WrapContext::to_aad`]), AWS KMS to an encryption context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum WrapContext {
    /// Nothing is bound. go-kms-wrapping's envelope values wrap their data key this way.
    #[default]
    None,
    /// The caller's raw AAD bytes: direct value encryption (Boundary's aead layout).
    /// Not secret, but shown only by length in messages.
    Aad(Vec<u8>),
    /// Named string pairs: what the stream format binds (purpose, file id).
    Pairs(BTreeMap<String, String>),
}

impl WrapContext {
    /// A context of string pairs.
    pub fn pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        WrapContext::Pairs(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The bytes an AES-GCM backend authenticates for this context.
    ///
    /// `None` is empty, `Aad` is the bytes themselves, and `Pairs` is a canonical,
    /// unambiguous encoding: the tag `"kms-ctx1"`, then for each pair in key order the key
    /// and the value, each as a big-endian u32 length followed by its UTF-8 bytes.
    /// (See docs/FORMAT.md.)
    pub fn to_aad(&self) -> Vec<u8> {
        match self {
            WrapContext::None => Vec::new(),
            WrapContext::Aad(a) => a.clone(),
            WrapContext::Pairs(map) => {
                let mut out = b"kms-ctx1".to_vec();
                for (k, v) in map {
                    for s in [k, v] {
                        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
                        out.extend_from_slice(s.as_bytes());
                    }
                }
                out
            }
        }
    }
}

/// The inclusive range of secret sizes, in bytes, that a backend can wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretLimits {
    /// The smallest secret, in bytes.
    pub min: usize,
    /// The largest secret, in bytes; `None` means unbounded.
    pub max: Option<usize>,
}

impl SecretLimits {
    /// Any size, empty included.
    pub const UNBOUNDED: SecretLimits = SecretLimits { min: 0, max: None };

    /// Whether a secret of `len` bytes fits.
    pub fn allows(&self, len: usize) -> bool {
        len >= self.min && self.max.is_none_or(|m| len <= m)
    }
}

/// A wrapped secret and the key that wrapped it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wrapped {
    /// The backend's ciphertext.
    pub bytes: Vec<u8>,
    /// The key actually used, as the backend reports it (for AWS KMS, the key ARN).
    pub key_id: KeyId,
}

/// A KMS backend: protects small secrets with a root key it holds.
///
/// This is the only thing a new backend implements. Value encryption, the file format,
/// caching, rotation and the CLI are built once above it. A backend proves itself with
/// `kms_core::testkit` (feature `testkit`).
///
/// Implementations are `Send + Sync` and meant to be shared behind an `Arc`.
#[async_trait]
pub trait Backend: Send + Sync + fmt::Debug {
    /// The backend type, as written in a `kms "TYPE"` stanza: `aead`, `awskms`.
    fn kind(&self) -> BackendKind;

    /// The key that `wrap` uses now.
    fn key_id(&self) -> &KeyId;

    /// The sizes of secret that `wrap` accepts.
    fn secret_limits(&self) -> SecretLimits;

    /// Whether values for this backend default to the direct mechanism (the backend wraps
    /// the value itself) rather than envelope encryption. Defaults to `false`.
    fn prefers_direct_values(&self) -> bool {
        false
    }

    /// Whether this wrapper is likely to open data that records `recorded` as its key id: such
    /// wrappers are tried first. The recorded id is not authenticated, so the others of a
    /// matching kind are tried after them (kms-envelope's `select`); this only orders them.
    ///
    /// The default accepts only its own current key id. The aead backend also accepts an
    /// empty id (go-kms-wrapping records the configured one, often empty); AWS KMS accepts any
    /// id of its region, since KMS decides by the ciphertext and an alias may have moved.
    fn may_unwrap(&self, recorded: &KeyId) -> bool {
        recorded == self.key_id()
    }

    /// Facts for `kms check` (e.g. the region and where it came from), as name/value pairs.
    /// Never a secret. Defaults to none.
    fn describe(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// Wraps `secret`, binding `context`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] when the secret is outside [`Backend::secret_limits`];
    /// backend errors otherwise.
    async fn wrap(&self, secret: &[u8], context: &WrapContext) -> Result<Wrapped>;

    /// Unwraps what [`Backend::wrap`] returned. `recorded` is the key id stored with it.
    ///
    /// # Errors
    /// [`crate::Error::DecryptFailed`] when the bytes, the context or the key do not match.
    async fn unwrap(
        &self,
        wrapped: &[u8],
        recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<SecretBytes>;

    /// Optional capability: re-wraps under the current key without exposing the secret
    /// to this process (AWS KMS ReEncrypt). `Ok(None)` means unsupported; callers then
    /// unwrap and wrap.
    async fn rewrap(
        &self,
        _wrapped: &[u8],
        _recorded: &KeyId,
        _context: &WrapContext,
    ) -> Result<Option<Wrapped>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_context_encoding_is_unambiguous() {
        let a = WrapContext::pairs([("ab", "c")]).to_aad();
        let b = WrapContext::pairs([("a", "bc")]).to_aad();
        assert_ne!(a, b);
        assert_eq!(a, b"kms-ctx1\0\0\0\x02ab\0\0\0\x01c".to_vec());
        assert!(WrapContext::None.to_aad().is_empty());
        assert_eq!(WrapContext::Aad(b"x".to_vec()).to_aad(), b"x");
    }

    #[test]
    fn limits() {
        let l = SecretLimits {
            min: 1,
            max: Some(4096),
        };
        assert!(!l.allows(0) && l.allows(1) && l.allows(4096) && !l.allows(4097));
        assert!(SecretLimits::UNBOUNDED.allows(0));
    }
}
