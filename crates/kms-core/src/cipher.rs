//! The one AES-256-GCM seam of the toolkit.
//!
//! Every AES-GCM operation in kms (aead values, envelope values, stream segments) goes
//! through [`Aes256Gcm`]. Two providers sit behind it, chosen by crate feature:
//!
//! - `aws-lc` (default): aws-lc-rs, already in the tree through the AWS SDK and about ten
//!   times faster than a default build of the aes-gcm crate on these machines;
//! - `rustcrypto`: the pure-Rust `aes-gcm` crate, for builds without a C toolchain;
//! - `fips` (implies `aws-lc`): aws-lc-rs on AWS-LC's FIPS module (aws-lc-fips-sys). It changes
//!   the crypto module, never the bytes written.
//!
//! Libraries below the application (backends, kms-envelope, kms-config) pick none: the
//! application does, through the facade `kms` or kms-cli, or kms-core's default.
//!
//! When both are enabled, [`Aes256Gcm`] is aws-lc-rs and both modules stay reachable so that
//! tests can prove the two write byte-identical output. Output never depends on the choice.

use crate::{Error, Key256, Result};

/// AES-GCM nonce length in bytes.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length in bytes.
pub const TAG_LEN: usize = 16;

#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
compile_error!(
    "kms-core needs an AES-GCM provider: enable feature `aws-lc` or `rustcrypto` \
     (of the `kms` facade, `kms-cli` or `kms-core`)"
);

/// The provider compiled in as [`Aes256Gcm`].
#[cfg(feature = "aws-lc")]
pub use aws_lc::Aes256Gcm;
/// The provider compiled in as [`Aes256Gcm`].
#[cfg(all(feature = "rustcrypto", not(feature = "aws-lc")))]
pub use rustcrypto::Aes256Gcm;

/// The name of the provider behind [`Aes256Gcm`].
pub const PROVIDER: &str = if cfg!(feature = "fips") {
    "aws-lc-rs (FIPS module)"
} else if cfg!(feature = "aws-lc") {
    "aws-lc-rs"
} else {
    "aes-gcm (RustCrypto)"
};

/// AES-256-GCM from aws-lc-rs.
#[cfg(feature = "aws-lc")]
pub mod aws_lc {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

    use super::{Error, Key256, Result, NONCE_LEN, TAG_LEN};

    /// An AES-256-GCM key schedule (aws-lc-rs). AWS-LC cleanses it when dropped.
    pub struct Aes256Gcm(LessSafeKey);

    impl std::fmt::Debug for Aes256Gcm {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Aes256Gcm(aws-lc-rs, [REDACTED])")
        }
    }

    impl Aes256Gcm {
        /// Expands `key`.
        pub fn new(key: &Key256) -> Self {
            #[allow(clippy::expect_used)]
            let unbound = UnboundKey::new(&AES_256_GCM, key.expose_secret())
                .expect("a 32-byte key is always valid");
            Aes256Gcm(LessSafeKey::new(unbound))
        }

        /// Encrypts `buf` in place and returns the tag.
        ///
        /// # Errors
        /// [`Error::InvalidInput`] when the input is beyond AES-GCM's limit.
        pub fn seal_detached(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
        ) -> Result<[u8; TAG_LEN]> {
            let tag = self
                .0
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    buf,
                )
                .map_err(|_| Error::InvalidInput("AES-GCM refused the input (too long)".into()))?;
            let mut out = [0u8; TAG_LEN];
            out.copy_from_slice(tag.as_ref());
            Ok(out)
        }

        /// Decrypts `buf` = ciphertext ‖ tag in place; returns the plaintext part.
        ///
        /// # Errors
        /// [`Error::DecryptFailed`] when authentication fails.
        pub fn open_in_place<'a>(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &'a mut [u8],
        ) -> Result<&'a mut [u8]> {
            if buf.len() < TAG_LEN {
                return Err(Error::DecryptFailed);
            }
            self.0
                .open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), buf)
                .map_err(|_| Error::DecryptFailed)
        }
    }
}

/// AES-256-GCM from the pure-Rust aes-gcm crate.
#[cfg(feature = "rustcrypto")]
pub mod rustcrypto {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use aes_gcm::{Nonce, Tag};

    use super::{Error, Key256, Result, NONCE_LEN, TAG_LEN};

    /// An AES-256-GCM key schedule (RustCrypto), zeroized on drop.
    pub struct Aes256Gcm(aes_gcm::Aes256Gcm);

    impl std::fmt::Debug for Aes256Gcm {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Aes256Gcm(RustCrypto, [REDACTED])")
        }
    }

    impl Aes256Gcm {
        /// Expands `key`.
        pub fn new(key: &Key256) -> Self {
            Aes256Gcm(aes_gcm::Aes256Gcm::new(key.expose_secret().into()))
        }

        /// Encrypts `buf` in place and returns the tag.
        ///
        /// # Errors
        /// [`Error::InvalidInput`] when the input is beyond AES-GCM's limit.
        pub fn seal_detached(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
        ) -> Result<[u8; TAG_LEN]> {
            let tag = self
                .0
                .encrypt_in_place_detached(Nonce::from_slice(nonce), aad, buf)
                .map_err(|_| Error::InvalidInput("AES-GCM refused the input (too long)".into()))?;
            Ok(tag.into())
        }

        /// Decrypts `buf` = ciphertext ‖ tag in place; returns the plaintext part.
        ///
        /// # Errors
        /// [`Error::DecryptFailed`] when authentication fails.
        pub fn open_in_place<'a>(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &'a mut [u8],
        ) -> Result<&'a mut [u8]> {
            if buf.len() < TAG_LEN {
                return Err(Error::DecryptFailed);
            }
            let split = buf.len() - TAG_LEN;
            let (ct, tag) = buf.split_at_mut(split);
            let tag = *Tag::from_slice(tag);
            self.0
                .decrypt_in_place_detached(Nonce::from_slice(nonce), aad, ct, &tag)
                .map_err(|_| Error::DecryptFailed)?;
            Ok(ct)
        }
    }
}

/// Seals `plaintext` under `key` with `nonce`, returning ciphertext ‖ tag.
///
/// # Errors
/// See [`Aes256Gcm::seal_detached`].
pub fn seal(
    key: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
    buf.extend_from_slice(plaintext);
    let tag = key.seal_detached(nonce, aad, &mut buf)?;
    buf.extend_from_slice(&tag);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    // NIST GCM test vector (gcmEncryptExtIV256.rsp, Count 0 with 128-bit PT, 0 AAD).
    #[test]
    fn known_answer() {
        let key = Key256::from_slice(
            &hex::decode("31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22")
                .unwrap(),
        )
        .unwrap();
        let nonce: [u8; 12] = hex::decode("0d18e06c7c725ac9e362e1ce")
            .unwrap()
            .try_into()
            .unwrap();
        let pt = hex::decode("2db5168e932556f8089a0622981d017d").unwrap();
        let ct = seal(&Aes256Gcm::new(&key), &nonce, b"", &pt).unwrap();
        assert_eq!(
            hex::encode(&ct),
            "fa4362189661d163fcd6a56d8bf0405ad636ac1bbedd5cc3ee727dc2ab4a9489"
        );
        let mut buf = ct.clone();
        let opened = Aes256Gcm::new(&key)
            .open_in_place(&nonce, b"", &mut buf)
            .unwrap();
        assert_eq!(opened, pt.as_slice());
        let mut bad = ct;
        bad[0] ^= 1;
        assert!(matches!(
            Aes256Gcm::new(&key).open_in_place(&nonce, b"", &mut bad),
            Err(Error::DecryptFailed)
        ));
    }

    #[cfg(feature = "fips")]
    #[test]
    fn the_fips_module_is_in_use() {
        assert_eq!(aws_lc_rs::try_fips_mode(), Ok(()));
    }
}
