//! The `kms "aead"` stanza: its schema, its checks, what `kms check` prints, and how the
//! backend is built from it. The registry entry is [`FACTORY`].

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use kms_core::stanza::{Attribute, BackendFactory, KeyIdentity, Problem, Schema, Stanza};
use kms_core::{AesKey, Backend, Error, Result};

use crate::{AeadBackend, KIND};

/// `kms "aead" { purpose, aead_type, key, key_id }`.
pub static SCHEMA: Schema = Schema {
    kind: KIND,
    attributes: &[
        Attribute::text("aead_type").indirect(),
        Attribute::text("key").secret().indirect().required_because(
            "an aead stanza needs key = base64 of 16, 24 or 32 bytes (kms keygen prints one)",
        ),
        Attribute::text("key_id").indirect(),
    ],
    env_switch: None,
};

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
    /// Reads a resolved stanza.
    ///
    /// # Errors
    /// Every problem found, each naming its attribute; never showing the key.
    pub fn from_stanza(stanza: &Stanza) -> std::result::Result<AeadConfig, Vec<Problem>> {
        let mut problems = Vec::new();
        if let Some(t) = stanza.non_empty("aead_type") {
            if !t.eq_ignore_ascii_case("aes-gcm") {
                problems.push(Problem::at(
                    "aead_type",
                    format!("unsupported aead_type {t:?}: the only one is \"aes-gcm\""),
                ));
            }
        }
        let key = match stanza.text("key") {
            Some(text) => match decode_aead_key(text) {
                Ok(k) => Some(k),
                Err(m) => {
                    problems.push(Problem::at("key", m));
                    None
                }
            },
            None => None,
        };
        match key {
            Some(key) if problems.is_empty() => Ok(AeadConfig {
                key,
                key_id: stanza.text("key_id").unwrap_or_default().to_owned(),
            }),
            _ => Err(problems),
        }
    }
}

/// Decodes an aead `key`: standard base64, padded or not, of 16, 24 or 32 bytes (AES-128,
/// -192 or -256, as Boundary accepts); surrounding white space is ignored.
///
/// # Errors
/// A message saying the text is `not base64`, or that it `decodes to N bytes, need 16, 24
/// or 32`. It never shows the text.
///
/// ```
/// assert!(kms_aead::decode_aead_key("FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=").is_ok());
/// assert!(kms_aead::decode_aead_key("AAAA").unwrap_err().contains("decodes to 3 bytes, need 16, 24 or 32"));
/// ```
pub fn decode_aead_key(text: &str) -> std::result::Result<AesKey, String> {
    let t = text.trim();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let bytes = engines
        .iter()
        .find_map(|e| e.decode(t).ok())
        .ok_or_else(|| {
            "is not base64 (standard alphabet, as `kms keygen` prints; value hidden)".to_owned()
        })?;
    let bytes = zeroize::Zeroizing::new(bytes);
    AesKey::from_slice(&bytes)
        .map_err(|n| format!("decodes to {n} bytes, need 16, 24 or 32 (value hidden)"))
}

#[async_trait]
impl BackendFactory for AeadFactory {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn check(&self, stanza: &Stanza) -> Vec<Problem> {
        AeadConfig::from_stanza(stanza).err().unwrap_or_default()
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
        assert!(decode_aead_key(padded.trim_end_matches('=')).is_ok());
        assert!(decode_aead_key(&format!("{padded}\n")).is_ok());
        let e = decode_aead_key("not-base64!").err().unwrap_or_default();
        assert!(e.contains("not base64"), "{e}");
        let e = decode_aead_key("AAAA").err().unwrap_or_default();
        assert!(e.contains("decodes to 3 bytes, need 16, 24 or 32"), "{e}");
        for (text, bits) in [
            ("AAAAAAAAAAAAAAAAAAAAAA==", 128),
            ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 192),
            (padded, 256),
        ] {
            assert_eq!(decode_aead_key(text).unwrap().bits(), bits, "{text}");
        }
        let url_safe = "FqxvapaN8ULxnZmK7-0CvoM985iptfJWW7YP3uiVjkE=";
        assert!(decode_aead_key(url_safe)
            .err()
            .unwrap_or_default()
            .contains("not base64"));
    }
}
