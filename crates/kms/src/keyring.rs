//! Wrappers built from a parsed config: one backend per (stanza, purpose).

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use kms_config::{KmsConfig, WrapperConfig};
use kms_core::{Backend, Error, Purpose, Result, ResultExt, WrapContext};

use crate::load::{load_config, ConfigOptions, LoadError};

/// One configured wrapper: its stanza and its backend.
#[derive(Debug, Clone)]
pub struct Wrapper {
    /// The stanza, its purpose and where it is.
    pub config: WrapperConfig,
    /// The backend.
    pub backend: Arc<dyn Backend>,
}

impl Wrapper {
    /// Proves the key works: a round trip of a random value through the backend (for AWS
    /// KMS, an Encrypt and a Decrypt), as `kms check` does online.
    ///
    /// # Errors
    /// The backend's error, with the stanza's place in `source` as context; `Error::Backend`
    /// when the round trip returns different bytes.
    pub async fn verify(&self, source: &str) -> Result<()> {
        let place = self.config.place(source);
        let probe = kms_core::random_array::<32>()?;
        let ctx = WrapContext::pairs([("kms_check", "probe")]);
        let wrapped = self.backend.wrap(&probe, &ctx).await.context(&place)?;
        let back = self
            .backend
            .unwrap(&wrapped.bytes, &wrapped.key_id, &ctx)
            .await
            .context(&place)?;
        if back.expose_secret() != probe {
            return Err(Error::Backend("round trip returned different bytes".into()).context(place));
        }
        Ok(())
    }
}

/// The wrappers of a config file, by purpose. It dereferences to
/// [`kms_envelope::Keyring`], which the value and stream functions take.
#[derive(Debug, Clone)]
pub struct Keyring {
    ring: kms_envelope::Keyring,
    wrappers: Vec<Wrapper>,
    source: String,
}

impl Keyring {
    /// Reads a Boundary-style config file and builds its wrappers, as `kms` does: its
    /// `{{decrypt(..)}}` values are first decrypted with the config-purpose stanza of
    /// `options.config_kms`, or else of the file itself (Boundary's behaviour).
    ///
    /// # Errors
    /// [`LoadError::Invalid`] for a file that cannot be read or is not a valid config (every
    /// problem, one line each); [`LoadError::Backend`] when a wrapper cannot be built.
    pub async fn from_config_file(
        path: impl AsRef<Path>,
        options: &ConfigOptions,
    ) -> std::result::Result<Keyring, LoadError> {
        let config = load_config(path.as_ref(), options).await?;
        Keyring::build(&config, &options.encrypt)
            .await
            .map_err(LoadError::Backend)
    }

    /// Builds a wrapper for every purpose of every stanza in `config`.
    ///
    /// Wrappers of `encrypt_purposes` are connected and checked now (for AWS KMS:
    /// DescribeKey). The others only decrypt and are built lazily, so that an unreachable
    /// old key does not stop new encryption.
    ///
    /// # Errors
    /// Backend errors from building a wrapper, with the stanza's place as context.
    pub async fn build(config: &KmsConfig, encrypt_purposes: &[Purpose]) -> Result<Keyring> {
        let mut ring = kms_envelope::Keyring::new();
        let mut wrappers: Vec<Wrapper> = Vec::new();
        for w in &config.wrappers {
            // One backend per stanza, shared by its purposes: multi-key wrapping then knows
            // one stanza serving two purposes is one key, and two stanzas are two keys.
            let built = wrappers
                .iter()
                .find(|o| Arc::ptr_eq(&o.config.stanza, &w.stanza))
                .map(|o| Arc::clone(&o.backend));
            let backend = match built {
                Some(b) => b,
                None => {
                    let eager = config
                        .wrappers
                        .iter()
                        .filter(|o| Arc::ptr_eq(&o.stanza, &w.stanza))
                        .any(|o| encrypt_purposes.contains(&o.purpose));
                    w.factory
                        .build(&w.stanza, eager)
                        .await
                        .map_err(|e| e.context(w.place(&config.source)))?
                }
            };
            ring.push(w.purpose, Arc::clone(&backend));
            wrappers.push(Wrapper {
                config: w.clone(),
                backend,
            });
        }
        Ok(Keyring {
            ring,
            wrappers,
            source: config.source.clone(),
        })
    }

    /// Every wrapper with its stanza, in config order.
    pub fn wrappers(&self) -> &[Wrapper] {
        &self.wrappers
    }

    /// The config file's name, for messages.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The one config-purpose wrapper, which protects `{{encrypt(..)}}` values.
    ///
    /// # Errors
    /// [`LoadError::Invalid`] when the config has none, or more than one.
    pub fn config_wrapper(&self) -> std::result::Result<&dyn Backend, LoadError> {
        match self.for_purpose(Purpose::Config).as_slice() {
            [one] => Ok(*one),
            [] => Err(LoadError::Invalid(format!(
                "{}: no kms stanza has purpose \"config\"; exactly one is needed",
                self.source
            ))),
            many => Err(LoadError::Invalid(format!(
                "{}: {} kms stanzas have purpose \"config\"; exactly one is allowed",
                self.source,
                many.len()
            ))),
        }
    }

    /// The wrappers by purpose, for the value and stream functions.
    pub fn ring(&self) -> &kms_envelope::Keyring {
        &self.ring
    }
}

impl Deref for Keyring {
    type Target = kms_envelope::Keyring;

    fn deref(&self) -> &kms_envelope::Keyring {
        &self.ring
    }
}

/// One line describing a configured wrapper for `kms check`: purpose, type, and what its
/// backend says of its settings (key id; for AWS KMS the region, endpoint and credential
/// sources). No secret.
pub fn describe(w: &WrapperConfig) -> String {
    format!(
        "{:<22} {:<7} {}",
        w.purpose.as_str(),
        w.kind.as_str(),
        w.factory.describe(&w.stanza)
    )
}
