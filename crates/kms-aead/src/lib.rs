#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod stanza;

pub use stanza::{decode_aead_key, AeadConfig, AeadFactory, FACTORY, SCHEMA};

use async_trait::async_trait;
use kms_core::cipher::{AesGcm, NONCE_LEN, TAG_LEN};
use kms_core::AesKey;
use kms_core::{
    Backend, BackendKind, Error, KeyId, Result, SecretBytes, SecretLimits, WrapContext, Wrapped,
};

/// The backend type name, as in `kms "aead" {...}`.
pub const KIND: BackendKind = BackendKind::from_static("aead");

/// A static AES-GCM key (128, 192 or 256 bits, as Boundary allows) with its configured
/// `key_id`.
pub struct AeadBackend {
    cipher: AesGcm,
    key_id: KeyId,
}

impl std::fmt::Debug for AeadBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AeadBackend")
            .field("key_id", &self.key_id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

impl AeadBackend {
    /// A backend over `key` (a [`Key256`](kms_core::Key256) or any [`AesKey`]), recording `key_id` (may be
    /// empty, as Boundary allows).
    pub fn new(key: impl Into<AesKey>, key_id: impl Into<KeyId>) -> Self {
        AeadBackend {
            cipher: AesGcm::with_key(&key.into()),
            key_id: key_id.into(),
        }
    }
}

#[async_trait]
impl Backend for AeadBackend {
    fn kind(&self) -> BackendKind {
        KIND
    }

    fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    fn secret_limits(&self) -> SecretLimits {
        SecretLimits::UNBOUNDED
    }

    /// aead values default to Boundary's direct layout.
    fn prefers_direct_values(&self) -> bool {
        true
    }

    /// Its own key id, or an empty one (Boundary records none).
    fn may_unwrap(&self, recorded: &KeyId) -> bool {
        recorded.is_empty() || recorded == &self.key_id
    }

    async fn wrap(&self, secret: &[u8], context: &WrapContext) -> Result<Wrapped> {
        let nonce: [u8; NONCE_LEN] = kms_core::random_array()?;
        let mut out = Vec::with_capacity(NONCE_LEN + secret.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(secret);
        let tag = self
            .cipher
            .seal_detached(&nonce, &context.to_aad(), &mut out[NONCE_LEN..])?;
        out.extend_from_slice(&tag);
        Ok(Wrapped {
            bytes: out,
            key_id: self.key_id.clone(),
        })
    }

    async fn unwrap(
        &self,
        wrapped: &[u8],
        _recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<SecretBytes> {
        if wrapped.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::DecryptFailed);
        }
        let (nonce, body) = wrapped.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::DecryptFailed)?;
        let mut buf = SecretBytes::from_slice(body);
        let len = self
            .cipher
            .open_in_place(&nonce, &context.to_aad(), buf.expose_secret_mut())?
            .len();
        buf.expose_secret_mut().truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kms_core::Key256;

    #[tokio::test]
    async fn conformance() {
        let backend = AeadBackend::new(Key256::new([7; 32]), "global_root");
        kms_core::testkit::check_backend(&backend, &kms_core::testkit::Options::default()).await;
    }

    #[tokio::test]
    async fn conformance_with_128_and_192_bit_keys() {
        for bits in [128, 192] {
            let backend = AeadBackend::new(AesKey::generate(bits).unwrap(), "k");
            let opts = kms_core::testkit::Options {
                max_bit_flips: Some(64),
                ..Default::default()
            };
            kms_core::testkit::check_backend(&backend, &opts).await;
        }
    }

    #[tokio::test]
    async fn wrong_key_fails_and_debug_redacts() {
        let a = AeadBackend::new(Key256::new([1; 32]), "k");
        let b = AeadBackend::new(Key256::new([2; 32]), "k");
        let w = a.wrap(b"x", &WrapContext::None).await.unwrap();
        assert!(matches!(
            b.unwrap(&w.bytes, &w.key_id, &WrapContext::None).await,
            Err(Error::DecryptFailed)
        ));
        assert_eq!(
            format!("{a:?}"),
            "AeadBackend { key_id: KeyId(\"k\"), key: \"[REDACTED]\" }"
        );
    }

    #[test]
    fn may_unwrap_own_or_empty_ids_only() {
        let a = AeadBackend::new(Key256::new([1; 32]), "k");
        assert!(a.may_unwrap(&KeyId::new("k")));
        assert!(a.may_unwrap(&KeyId::default()));
        assert!(!a.may_unwrap(&KeyId::new("other")));
    }
}
