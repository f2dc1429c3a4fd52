//! Loading a config file as Boundary does, `{{decrypt(..)}}` values included.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use kms_config::{find_markers, replace_markers, Format, KmsConfig, LoadOptions};
use kms_core::{Error, Purpose};
use zeroize::Zeroizing;

use crate::keyring::Keyring;

/// How to load a config file. `Debug` names the environment's variables, never their values.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ConfigOptions {
    /// A file whose config-purpose stanza decrypts the `{{decrypt(..)}}` values of the config
    /// (Boundary's `-config-kms`). Without it, the config's own config-purpose stanza does.
    pub config_kms: Option<PathBuf>,
    /// The purposes that will encrypt: their wrappers are connected and checked when the
    /// keyring is built; the others connect on first use.
    pub encrypt: Vec<Purpose>,
    /// A fixed environment instead of the process's (for tests).
    pub env: Option<HashMap<String, String>>,
}

impl fmt::Debug for ConfigOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigOptions")
            .field("config_kms", &self.config_kms)
            .field("encrypt", &self.encrypt)
            .field("load", &self.load_options())
            .finish()
    }
}

impl ConfigOptions {
    /// Default options: the process environment, no `config_kms`, every wrapper lazy.
    pub fn new() -> Self {
        ConfigOptions::default()
    }

    /// These options with `path`'s config-purpose stanza decrypting the config's values.
    #[must_use]
    pub fn config_kms(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_kms = Some(path.into());
        self
    }

    /// These options with the wrappers of `purposes` connected and checked when built.
    #[must_use]
    pub fn encrypt(mut self, purposes: impl IntoIterator<Item = Purpose>) -> Self {
        self.encrypt = purposes.into_iter().collect();
        self
    }

    /// These options with a fixed environment.
    #[must_use]
    pub fn env<K: Into<String>, V: Into<String>>(
        mut self,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env = Some(env.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

    fn load_options(&self) -> LoadOptions {
        let opts = LoadOptions::new(crate::backends());
        match &self.env {
            Some(env) => opts.with_env(env.clone()),
            None => opts,
        }
    }
}

/// Why a config could not be loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The file cannot be read, or is not a valid config: every problem, one line each,
    /// naming the file, block and attribute.
    Invalid(String),
    /// A wrapper could not be built or used (a KMS unreachable, a key refused).
    Backend(Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Invalid(m) => f.write_str(m),
            LoadError::Backend(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Invalid(_) => None,
            LoadError::Backend(e) => Some(e),
        }
    }
}

/// The config-purpose stanza alone, as Boundary's `GetWrapperFromHcl` reads it.
fn config_stanza(
    text: &str,
    name: &str,
    path: &Path,
    opts: &LoadOptions,
) -> Result<KmsConfig, LoadError> {
    kms_config::parse_config_stanza(text, name, Format::of(path), opts)
        .map_err(|e| LoadError::Invalid(e.to_string()))
}

fn parse(text: &str, name: &str, path: &Path, opts: &LoadOptions) -> Result<KmsConfig, LoadError> {
    kms_config::parse_str(text, name, Format::of(path), opts)
        .map_err(|e| LoadError::Invalid(e.to_string()))
}

/// Reads and validates a config file, first decrypting its `{{decrypt(..)}}` values with the
/// config-purpose stanza of `options.config_kms` when given, else (as Boundary does) with the
/// config-purpose stanza of the file itself. Markers are read as Boundary reads them (at most
/// one per line, see [`kms_config::find_markers`]); without a config-purpose stanza they stay
/// in the text as they are, as in Boundary. Decrypted values, and the text they go into, are
/// wiped when dropped.
///
/// # Errors
/// As [`Keyring::from_config_file`].
pub async fn load_config(path: &Path, options: &ConfigOptions) -> Result<KmsConfig, LoadError> {
    let name = path.display().to_string();
    let opts = options.load_options();
    let text = Zeroizing::new(
        kms_config::read_config(path).map_err(|e| LoadError::Invalid(format!("{name}: {e}")))?,
    );
    let markers = find_markers(&text, "decrypt");
    let kms_config = match &options.config_kms {
        Some(kms_file) => {
            let kms_name = kms_file.display().to_string();
            let kms_text = Zeroizing::new(
                kms_config::read_config(kms_file)
                    .map_err(|e| LoadError::Invalid(format!("{kms_name}: {e}")))?,
            );
            config_stanza(&kms_text, &kms_name, kms_file, &opts)?
        }
        None if markers.is_empty() => return parse(&text, &name, path, &opts),
        None => config_stanza(&text, &name, path, &opts).map_err(|e| match e {
            LoadError::Invalid(m) => LoadError::Invalid(format!("{m} (while reading the config-purpose stanza that decrypts its {{{{decrypt(..)}}}} values; or give --config-kms)")),
            other => other,
        })?,
    };
    if !markers.is_empty() && kms_config.for_purpose(Purpose::Config).next().is_none() {
        // As Boundary: with no config-purpose stanza, no value is decrypted, and each
        // {{decrypt(..)}} stays in the text as it is.
        let mut config = parse(&text, &name, path, &opts).map_err(|e| match e {
            LoadError::Invalid(m) => LoadError::Invalid(format!(
                "{m} ({} has no config-purpose kms stanza, so, as in Boundary, the {{{{decrypt(..)}}}} values stay as they are; give --config-kms FILE to decrypt them)",
                kms_config.source
            )),
            other => other,
        })?;
        config.warnings.push(kms_config::ConfigError {
            file: name.clone(),
            line: Some(markers[0].line),
            block: None,
            key: None,
            message: format!(
                "{} {{{{decrypt(..)}}}} value(s) but no config-purpose kms stanza{}: as in Boundary, they are read as the literal text",
                markers.len(),
                if options.config_kms.is_some() { " in the --config-kms file" } else { "" }
            ),
        });
        return Ok(config);
    }
    let keyring = Keyring::build(&kms_config, &[])
        .await
        .map_err(LoadError::Backend)?;
    let wrapper = keyring.config_wrapper()?;
    let mut values = Zeroizing::new(Vec::with_capacity(markers.len()));
    for m in &markers {
        let at = format!("{name}:{}: the {{{{decrypt(..)}}}} value", m.line);
        let blob = crate::config_values::decode_blob(m.value)
            .map_err(|e| LoadError::Invalid(format!("{name}:{}: {e}", m.line)))?;
        let plain = kms_envelope::value::decrypt_value(&[wrapper], &blob, b"", Purpose::Config)
            .await
            .map_err(|e| {
                LoadError::Invalid(format!(
                    "{at} does not decrypt with the config-purpose stanza of {}: {e}",
                    kms_config.source
                ))
            })?;
        let s = std::str::from_utf8(plain.expose_secret())
            .map_err(|_| LoadError::Invalid(format!("{at} is not UTF-8 text")))?;
        values.push(s.to_owned());
    }
    parse(
        &Zeroizing::new(replace_markers(&text, &markers, &values)),
        &name,
        path,
        &opts,
    )
}
