#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub use kms_aead as aead;
pub use kms_core as core;
pub use kms_core::{Backend, BackendKind, BlobInfo, Error, KeyId, Purpose, Result, ResultExt};

#[cfg(feature = "envelope")]
pub use kms_envelope as envelope;
#[cfg(feature = "envelope")]
pub use kms_envelope::{rewrap, value, Ciphertext, Decryptor, Encryptor, SecretBytes};

#[cfg(feature = "config")]
pub use kms_config as config;

#[cfg(feature = "aws")]
pub use kms_aws as aws;

#[cfg(feature = "config")]
pub mod config_values;
#[cfg(feature = "config")]
pub mod keyring;
#[cfg(feature = "config")]
mod load;

#[cfg(feature = "config")]
pub use keyring::Keyring;
#[cfg(feature = "config")]
pub use load::{load_config, ConfigOptions, LoadError};

use kms_core::BackendFactory;

/// The backends compiled into this build: one line per backend feature. A stanza of any
/// other type is a config error that names these.
pub fn backends() -> Vec<&'static dyn BackendFactory> {
    // Mutated only when a backend feature is on.
    #[allow(unused_mut)]
    let mut backends: Vec<&'static dyn BackendFactory> = vec![&kms_aead::FACTORY];
    #[cfg(feature = "aws")]
    backends.push(&kms_aws::FACTORY);
    #[cfg(feature = "transit")]
    backends.push(&kms_transit::FACTORY);
    backends
}

/// Options that read stanzas with the compiled-in [`backends`] and the process environment.
#[cfg(feature = "config")]
pub fn config_load_options() -> kms_config::LoadOptions {
    kms_config::LoadOptions::new(backends())
}
