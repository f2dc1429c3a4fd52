//! The `kms "aead"` stanza: its schema, its checks, what `kms check` prints, and how the
//! backend is built from it. The registry entry is [`FACTORY`].

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use kms_core::stanza::{Attribute, BackendFactory, KeyIdentity, Problem, Schema, Stanza};
use kms_core::{AesKey, Backend, Error, Result};

use crate::{AeadBackend, KIND};

/// `kms "aead" { purpose, aead_type, key, key_id, salt, info, hash_type }`: the settings
/// go-kms-wrapping's aead wrapper reads, none of them through `env://` or `file://`.
pub static SCHEMA: Schema = Schema {
    kind: KIND,
    attributes: &[
        Attribute::text("aead_type"),
        Attribute::text("key").secret(),
        Attribute::text("key_id"),
        Attribute::text("salt").secret(),
        Attribute::text("info"),
        Attribute::text("hash_type"),
    ],
    env_switch: None,
};

const NO_KEY: &str = "no key: Boundary sets this wrapper up, but it cannot encrypt or decrypt; set key = base64 of 16, 24 or 32 bytes (kms keygen prints one)";

/// The aead backend's registry entry.
pub static FACTORY: AeadFactory = AeadFactory;

/// Reads `kms "aead"` stanzas and builds [`AeadBackend`]s.
#[derive(Debug)]
pub struct AeadFactory;

/// A resolved `kms "aead"` stanza.
#[derive(Clone)]
pub struct AeadConfig {
    /// The 128-, 192- or 256-bit key.
    pub key: AesKey,
    /// The configured key id (may be empty).
    pub key_id: String,
}

impl std::fmt::Debug for AeadConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AeadConfig")
            .field("key", &"[REDACTED]")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl AeadConfig {
    /// Reads a resolved stanza into a usable key.
    ///
    /// # Errors
    /// Every problem found, each naming its attribute; never showing the key. A stanza
    /// without a key (which Boundary accepts, see [`check`]) is an error here: it cannot be
    /// used.
    pub fn from_stanza(stanza: &Stanza) -> std::result::Result<AeadConfig, Vec<Problem>> {
        let mut problems: Vec<Problem> = check(stanza).into_iter().filter(|p| !p.warning).collect();
        let key = present_key(stanza).and_then(|t| decode_aead_key(t).ok());
        match key {
            Some(key) if problems.is_empty() => Ok(AeadConfig {
                key,
                key_id: stanza.text("key_id").unwrap_or_default().to_owned(),
            }),
            None if problems.is_empty() => {
                problems.push(Problem::at("key", NO_KEY));
                Err(problems)
            }
            _ => Err(problems),
        }
    }
}

/// The key text, when go-kms-wrapping would find a key in it (it ignores new lines).
fn present_key(stanza: &Stanza) -> Option<&str> {
    stanza
        .text("key")
        .filter(|t| t.chars().any(|c| c != '\n' && c != '\r'))
}

/// What go-kms-wrapping's aead `SetConfig` refuses, as errors, and a missing key, which it
/// accepts (the wrapper then fails on first use), as a warning.
pub(crate) fn check(stanza: &Stanza) -> Vec<Problem> {
    let mut problems = Vec::new();
    for name in ["salt", "info"] {
        if let Some(t) = stanza.text(name) {
            if go_std_base64(t).is_none() {
                problems.push(Problem::at(
                    if name == "salt" { "salt" } else { "info" },
                    "is not padded standard base64, which Boundary requires (value hidden)",
                ));
            }
        }
    }
    match present_key(stanza) {
        None => problems.push(Problem::warn("key", NO_KEY)),
        Some(text) => {
            if let Some(t) = stanza.text("aead_type") {
                if t != "aes-gcm" {
                    problems.push(Problem::at(
                        "aead_type",
                        format!("unsupported aead_type {t:?}: the only one is \"aes-gcm\", in lower case as Boundary requires"),
                    ));
                }
            }
            if let Err(m) = decode_aead_key(text) {
                problems.push(Problem::at("key", m));
            }
        }
    }
    problems
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, new lines ignored, nothing
/// else tolerated.
fn go_std_base64(text: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let compact: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(text.chars().filter(|&c| c != '\n' && c != '\r').collect());
    GO_STD
        .decode(compact.as_bytes())
        .ok()
        .map(zeroize::Zeroizing::new)
}

/// Decodes an aead `key` as Boundary does: Go's padded standard base64 (new lines are
/// ignored, nothing else is) of 16, 24 or 32 bytes (AES-128, -192 or -256).
///
/// # Errors
/// A message saying the text is `not base64`, or that it `decodes to N bytes, need 16, 24
/// or 32`. It never shows the text.
///
/// ```
/// assert!(kms_aead::decode_aead_key("FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=").is_ok());
/// assert!(kms_aead::decode_aead_key("FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE").is_err());
/// assert!(kms_aead::decode_aead_key("AAAA").unwrap_err().contains("decodes to 3 bytes, need 16, 24 or 32"));
/// ```
pub fn decode_aead_key(text: &str) -> std::result::Result<AesKey, String> {
    let bytes = go_std_base64(text).ok_or_else(|| {
        "is not padded standard base64, which Boundary requires (kms keygen prints one; value hidden)".to_owned()
    })?;
    AesKey::from_slice(&bytes)
        .map_err(|n| format!("decodes to {n} bytes, need 16, 24 or 32 (value hidden)"))
}

#[async_trait]
impl BackendFactory for AeadFactory {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn check(&self, stanza: &Stanza) -> Vec<Problem> {
        check(stanza)
    }

    fn key_identity(&self, stanza: &Stanza) -> Option<KeyIdentity> {
        Some(KeyIdentity {
            id: stanza.text("key_id").unwrap_or_default().to_owned(),
            from: "key_id".to_owned(),
            attribute: "key_id",
        })
    }

    fn same_key_material(&self, a: &Stanza, b: &Stanza) -> Option<&'static str> {
        match (AeadConfig::from_stanza(a), AeadConfig::from_stanza(b)) {
            (Ok(a), Ok(b)) if a.key == b.key => Some("key"),
            _ => None,
        }
    }

    fn describe(&self, stanza: &Stanza) -> String {
        match stanza.non_empty("key_id") {
            Some(id) => format!("key_id={id}"),
            None => "key_id=(empty)".to_owned(),
        }
    }

    async fn build(&self, stanza: &Stanza, _eager: bool) -> Result<Arc<dyn Backend>> {
        let c = AeadConfig::from_stanza(stanza).map_err(|problems| {
            let text: Vec<String> = problems.into_iter().map(|p| p.message).collect();
            Error::Config(text.join("; "))
        })?;
        Ok(Arc::new(AeadBackend::new(c.key, c.key_id)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn aead_key_decoding() {
        let padded = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=";
        assert!(decode_aead_key(padded).is_ok());
        // Go's StdEncoding: padding required, new lines ignored, spaces refused.
        assert!(decode_aead_key(padded.trim_end_matches('=')).is_err());
        assert!(decode_aead_key(&format!("{padded}\n")).is_ok());
        assert!(decode_aead_key(&format!("{}\r\n{}", &padded[..10], &padded[10..])).is_ok());
        assert!(decode_aead_key(&format!(" {padded}")).is_err());
        let e = decode_aead_key("not-base64!").err().unwrap_or_default();
        assert!(e.contains("not padded standard base64"), "{e}");
        let e = decode_aead_key("AAAA").err().unwrap_or_default();
        assert!(e.contains("decodes to 3 bytes, need 16, 24 or 32"), "{e}");
        for (text, bits) in [
            ("AAAAAAAAAAAAAAAAAAAAAA==", 128),
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 192),
            // Go ignores bits after the last full byte.
            ("AAAAAAAAAAAAAAAAAAAAAB==", 128),
            (padded, 256),
        ] {
            assert_eq!(decode_aead_key(text).unwrap().bits(), bits, "{text}");
        }
        let url_safe = "FqxvapaN8ULxnZmK7-0CvoM985iptfJWW7YP3uiVjkE=";
        assert!(decode_aead_key(url_safe)
            .err()
            .unwrap_or_default()
            .contains("not padded standard base64"));
    }
}
