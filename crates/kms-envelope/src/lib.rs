#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod cache;
pub mod ciphertext;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz;
pub mod keyring;
pub mod rewrap;
pub mod select;
pub mod stream;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod value;

pub use ciphertext::{Ciphertext, Format, MAX_VALUE_BYTES};
pub use keyring::Keyring;
pub use kms_core::{
    Backend, BackendKind, BlobInfo, Error, Key256, KeyId, Purpose, Result, SecretBytes,
};
pub use stream::{Decryptor, Encryptor, RangeReader, StreamReader, StreamWriter};
