//! Envelope encryption over any [`kms_core::Backend`].
//!
//! - [`value`]: go-kms-wrapping v2 values ([`kms_core::BlobInfo`]), direct or envelope;
//! - [`stream`]: the streaming file format for data of any size (docs/FORMAT.md);
//! - [`select`]: choosing which configured wrapper opens recorded data;
//! - [`cache`]: opt-in data-key caching for many small values.
//!
//! ```
//! use kms_aead::AeadBackend;
//! use kms_core::Key256;
//! use kms_envelope::value::{decrypt_value, encrypt_value};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let backend = AeadBackend::new(Key256::generate().unwrap(), "global_root");
//! let blob = encrypt_value(&backend, b"db password", b"aad", None).await.unwrap();
//! let plain = decrypt_value(&[&backend], &blob, b"aad", kms_core::Purpose::Root).await.unwrap();
//! assert_eq!(plain.expose_secret(), b"db password");
//! # });
//! ```
#![forbid(unsafe_code)]

pub use keyring::Keyring;

pub mod cache;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz;
pub mod keyring;
pub mod select;
pub mod stream;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod value;
