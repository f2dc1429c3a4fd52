#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub use kms_aead as aead;
pub use kms_core as core;
pub use kms_core::{Backend, BlobInfo, Error, KeyId, Purpose, Result};

#[cfg(feature = "envelope")]
pub use kms_envelope as envelope;

#[cfg(feature = "config")]
pub use kms_config as config;

#[cfg(feature = "aws")]
pub use kms_aws as aws;

#[cfg(all(feature = "config", feature = "aws"))]
pub mod aws_glue;
#[cfg(feature = "config")]
pub mod keyring;

/// The backend kinds compiled into this build, for config validation.
pub fn compiled_kinds() -> Vec<String> {
    let mut kinds = vec![kms_aead::KIND.to_string()];
    if cfg!(feature = "aws") {
        kinds.push("awskms".to_owned());
    }
    kinds
}
