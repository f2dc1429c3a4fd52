//! The one AES-GCM seam of the toolkit (AES-256 for data keys; 128, 192 or 256 bits for aead
//! root keys, as Boundary allows).
//!
//! Every AES-GCM operation in kms (aead values, envelope values, stream segments) goes
//! through [`AesGcm`]. Two providers sit behind it, chosen by crate feature:
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
//! When both are enabled, [`AesGcm`] is aws-lc-rs and both modules stay reachable so that
//! tests can prove the two write byte-identical output. Output never depends on the choice.

use crate::{AesKey, Error, Key256, Result};

/// AES-GCM nonce length in bytes.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length in bytes.
pub const TAG_LEN: usize = 16;

#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
compile_error!(
    "kms-core needs an AES-GCM provider: enable feature `aws-lc` or `rustcrypto` \
     (of the `kms` facade, `kms-cli` or `kms-core`)"
);

/// The provider compiled in as [`AesGcm`].
#[cfg(feature = "aws-lc")]
pub use aws_lc::AesGcm;
/// The provider compiled in as [`AesGcm`].
#[cfg(all(feature = "rustcrypto", not(feature = "aws-lc")))]
pub use rustcrypto::AesGcm;

/// The name of the provider behind [`AesGcm`].
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
    use aws_lc_rs::aead::{
        Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM,
    };

    use super::{AesKey, Error, Key256, Result, NONCE_LEN, TAG_LEN};

    /// An AES-GCM key schedule (aws-lc-rs) for a 128-, 192- or 256-bit key. AWS-LC cleanses
    /// it when dropped.
    pub struct AesGcm(LessSafeKey);

    impl std::fmt::Debug for AesGcm {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("AesGcm(aws-lc-rs, [REDACTED])")
        }
    }

    impl AesGcm {
        /// AES-256-GCM under `key`.
        pub fn new(key: &Key256) -> Self {
            #[allow(clippy::expect_used)]
            let unbound = UnboundKey::new(&AES_256_GCM, key.expose_secret())
                .expect("a 32-byte key is always valid");
            AesGcm(LessSafeKey::new(unbound))
        }

        /// AES-GCM under `key`, of the key's size.
        pub fn with_key(key: &AesKey) -> Self {
            let alg = match key.expose_secret().len() {
                16 => &AES_128_GCM,
                24 => &AES_192_GCM,
                _ => &AES_256_GCM,
            };
            #[allow(clippy::expect_used)]
            let unbound = UnboundKey::new(alg, key.expose_secret())
                .expect("an AesKey is 16, 24 or 32 bytes, each valid for its algorithm");
            AesGcm(LessSafeKey::new(unbound))
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

/// AES-GCM from the pure-Rust aes-gcm crate.
#[cfg(feature = "rustcrypto")]
pub mod rustcrypto {
    use aes_gcm::aead::consts::U12;
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use aes_gcm::{Nonce, Tag};

    use super::{AesKey, Error, Key256, Result, NONCE_LEN, TAG_LEN};

    type Aes192Gcm = aes_gcm::AesGcm<aes_gcm::aes::Aes192, U12>;

    /// An AES-GCM key schedule (RustCrypto) for a 128-, 192- or 256-bit key, zeroized on
    /// drop.
    pub enum AesGcm {
        /// AES-128-GCM.
        Aes128(aes_gcm::Aes128Gcm),
        /// AES-192-GCM.
        Aes192(Aes192Gcm),
        /// AES-256-GCM.
        Aes256(aes_gcm::Aes256Gcm),
    }

    impl std::fmt::Debug for AesGcm {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("AesGcm(RustCrypto, [REDACTED])")
        }
    }

    fn seal<C: AeadInPlace>(
        c: &C,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        let tag = c
            .encrypt_in_place_detached(Nonce::from_slice(nonce), aad, buf)
            .map_err(|_| Error::InvalidInput("AES-GCM refused the input (too long)".into()))?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&tag);
        Ok(out)
    }

    fn open<C: AeadInPlace>(
        c: &C,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ct: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        c.decrypt_in_place_detached(Nonce::from_slice(nonce), aad, ct, Tag::from_slice(tag))
            .map_err(|_| Error::DecryptFailed)
    }

    impl AesGcm {
        /// AES-256-GCM under `key`.
        pub fn new(key: &Key256) -> Self {
            AesGcm::Aes256(aes_gcm::Aes256Gcm::new(key.expose_secret().into()))
        }

        /// AES-GCM under `key`, of the key's size.
        pub fn with_key(key: &AesKey) -> Self {
            let k = key.expose_secret();
            match k.len() {
                16 => AesGcm::Aes128(aes_gcm::Aes128Gcm::new(k.into())),
                24 => AesGcm::Aes192(Aes192Gcm::new(k.into())),
                _ => AesGcm::Aes256(aes_gcm::Aes256Gcm::new(k.into())),
            }
        }

        /// Encrypts `buf` in place; returns the tag.
        ///
        /// # Errors
        /// [`Error::InvalidInput`] when the input is too long for GCM.
        pub fn seal_detached(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
        ) -> Result<[u8; TAG_LEN]> {
            match self {
                AesGcm::Aes128(c) => seal(c, nonce, aad, buf),
                AesGcm::Aes192(c) => seal(c, nonce, aad, buf),
                AesGcm::Aes256(c) => seal(c, nonce, aad, buf),
            }
        }

        /// Decrypts `buf` (ciphertext ‖ tag) in place; returns the plaintext part.
        ///
        /// # Errors
        /// [`Error::DecryptFailed`] on a wrong key, nonce or AAD, or modified data.
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
            match self {
                AesGcm::Aes128(c) => open(c, nonce, aad, ct, tag)?,
                AesGcm::Aes192(c) => open(c, nonce, aad, ct, tag)?,
                AesGcm::Aes256(c) => open(c, nonce, aad, ct, tag)?,
            }
            Ok(ct)
        }
    }
}

/// Seals `plaintext` under `key` with `nonce`, returning ciphertext ‖ tag.
///
/// # Errors
/// See [`AesGcm::seal_detached`].
pub fn seal(
    key: &AesGcm,
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
        let ct = seal(&AesGcm::new(&key), &nonce, b"", &pt).unwrap();
        assert_eq!(
            hex::encode(&ct),
            "fa4362189661d163fcd6a56d8bf0405ad636ac1bbedd5cc3ee727dc2ab4a9489"
        );
        let mut buf = ct.clone();
        let opened = AesGcm::new(&key)
            .open_in_place(&nonce, b"", &mut buf)
            .unwrap();
        assert_eq!(opened, pt.as_slice());
        let mut bad = ct;
        bad[0] ^= 1;
        assert!(matches!(
            AesGcm::new(&key).open_in_place(&nonce, b"", &mut bad),
            Err(Error::DecryptFailed)
        ));
    }

    // GCM specification test cases 2 (AES-128) and 8 (AES-192): zero key, IV and plaintext.
    #[test]
    fn known_answers_for_128_and_192_bit_keys() {
        for (len, want) in [
            (
                16,
                "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf",
            ),
            (
                24,
                "98e7247c07f0fe411c267e4384b0f6002ff58d80033927ab8ef4d4587514f0fb",
            ),
        ] {
            let key = AesKey::from_slice(&vec![0u8; len]).unwrap();
            let ct = seal(&AesGcm::with_key(&key), &[0; 12], b"", &[0; 16]).unwrap();
            assert_eq!(hex::encode(&ct), want, "{len}-byte key");
            let mut buf = ct;
            let c = AesGcm::with_key(&key);
            assert_eq!(c.open_in_place(&[0; 12], b"", &mut buf).unwrap(), &[0; 16]);
        }
    }

    #[cfg(feature = "fips")]
    #[test]
    fn the_fips_module_is_in_use() {
        assert_eq!(aws_lc_rs::try_fips_mode(), Ok(()));
    }
}
