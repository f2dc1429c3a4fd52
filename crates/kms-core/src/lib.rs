//! Core types of the `kms` toolkit.
//!
//! ```
//! use kms_core::{BlobInfo, KeyInfo};
//!
//! // A go-kms-wrapping value, as Boundary stores it: protobuf bytes, or base64url text.
//! let blob = BlobInfo {
//!     ciphertext: b"opaque".to_vec(),
//!     key_info: Some(KeyInfo { key_id: "global_root".into(), ..Default::default() }),
//!     ..Default::default()
//! };
//! assert_eq!(BlobInfo::from_bytes(&blob.to_bytes()).unwrap(), blob);
//! assert_eq!(BlobInfo::from_text(&blob.to_text()).unwrap(), blob);
//! assert_eq!(blob.recorded_key_id(), "global_root");
//! ```
//!
//! This crate is the small joint that every backend implements and every layer above builds on:
//!
//! - [`Backend`]: the object-safe async trait through which a backend protects small secrets
//!   (data keys, or short values) with its root key;
//! - [`BlobInfo`] and [`KeyInfo`]: go-kms-wrapping v2 values, protobuf wire-compatible;
//! - [`Purpose`], [`KeyId`] and [`BackendKind`]: what a stanza and recorded data name;
//! - [`stanza`]: what a backend declares about its stanza ([`BackendFactory`]), for the registry;
//! - [`Error`]: semantic errors, with one opaque variant for a failed decryption;
//! - [`SecretBytes`] and [`Key256`]: zeroizing secret types;
//! - [`cipher`]: the one AES-256-GCM seam, with aws-lc-rs or RustCrypto behind it;
//! - `testkit` (feature `testkit`): the conformance suite every backend must pass.
//!
//! It does no network or file I/O and depends on no SDK.
#![forbid(unsafe_code)]

mod backend;
mod blob;
mod blob_limits;
pub mod cipher;
mod error;
mod kind;
mod purpose;
mod secret;
pub mod stanza;
#[cfg(feature = "testkit")]
pub mod testkit;
mod wire;

pub use backend::{Backend, KeyId, SecretLimits, WrapContext, Wrapped};
pub use blob::{awskms_mechanism, BlobInfo, KeyInfo};
pub use blob_limits::{MAX_BLOB_BYTES, MAX_KEY_PURPOSES};
pub use error::{Error, Result, ResultExt};
pub use kind::BackendKind;
pub use purpose::{ParsePurposeError, Purpose};
pub use secret::{AesKey, Key256, SecretBytes, SecretString};
pub use stanza::BackendFactory;

/// Fills `buf` from the operating system's random number generator.
///
/// # Errors
/// [`Error::Internal`] when the OS RNG is unavailable.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf)
        .map_err(|e| Error::Internal(format!("OS random number generator failed: {e}")))
}

/// Returns `N` fresh bytes from the operating system's RNG.
///
/// # Errors
/// [`Error::Internal`] when the OS RNG is unavailable.
pub fn random_array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill_random(&mut out)?;
    Ok(out)
}
