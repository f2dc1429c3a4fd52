#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
mod markers;
mod raw;
mod resolve;
mod secret;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

pub use error::{ConfigError, ConfigErrors};
pub use kms_core::{Key256, Purpose};
pub use markers::{find_markers, replace_markers, Marker};
pub use resolve::decode_aead_key;
pub use secret::SecretString;

/// A parsed, validated config: one [`WrapperConfig`] per (enabled stanza, purpose).
#[derive(Debug, Clone)]
pub struct KmsConfig {
    /// The file name, for messages.
    pub source: String,
    /// The wrappers, in file order.
    pub wrappers: Vec<WrapperConfig>,
}

impl KmsConfig {
    /// The wrappers of exactly `p`.
    pub fn for_purpose(&self, p: Purpose) -> impl Iterator<Item = &WrapperConfig> {
        self.wrappers.iter().filter(move |w| w.purpose == p)
    }
}

/// One purpose of one `kms` stanza.
#[derive(Debug, Clone)]
pub struct WrapperConfig {
    /// The purpose.
    pub purpose: Purpose,
    /// The stanza type: `aead` or `awskms`.
    pub kind: String,
    /// The 1-based line of the `kms` block (in JSON, of the stanza's body).
    pub line: usize,
    /// The typed settings.
    pub backend: BackendConfig,
}

/// Typed settings of a stanza.
// A config holds a handful of these, built once: boxing would only complicate matching.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BackendConfig {
    /// `kms "aead"`.
    Aead(AeadConfig),
    /// `kms "awskms"`.
    AwsKms(AwsKmsConfig),
}

/// `kms "aead" { key, key_id, aead_type = "aes-gcm" }`.
#[derive(Clone)]
pub struct AeadConfig {
    /// The 256-bit key.
    pub key: Key256,
    /// The configured key id (may be empty).
    pub key_id: String,
}

impl fmt::Debug for AeadConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AeadConfig")
            .field("key", &"[REDACTED]")
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Its source.
    pub source: Source,
}

/// Where a resolved value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The stanza itself (possibly through `env://` or `file://`).
    Stanza,
    /// An environment variable, by name.
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stanza => f.write_str("stanza"),
            Source::Env(v) => write!(f, "env {v}"),
        }
    }
}

/// `kms "awskms"`, resolved against the environment. What stays `None` is left to kms-aws:
/// aws-config's chains, then the `us-east-1` default region.
#[derive(Debug, Clone, Default)]
pub struct AwsKmsConfig {
    /// The KMS key (id, ARN, alias name or alias ARN); `None` only with `key_not_required`.
    pub kms_key_id: Option<Sourced<String>>,
    /// The region.
    pub region: Option<Sourced<String>>,
    /// An endpoint override.
    pub endpoint: Option<Sourced<String>>,
    /// Static credentials.
    pub credentials: Option<StaticCredentials>,
    /// `shared_creds_filename`.
    pub shared_creds_filename: Option<String>,
    /// `shared_creds_profile`.
    pub shared_creds_profile: Option<String>,
    /// `role_arn`.
    pub role_arn: Option<String>,
    /// `role_session_name`.
    pub role_session_name: Option<String>,
    /// `web_identity_token_file`.
    pub web_identity_token_file: Option<String>,
    /// `disallow_env_vars`: the environment was ignored, and must be by the SDK too.
    pub disallow_env_vars: bool,
    /// `key_not_required`: a wrapper that only decrypts.
    pub key_not_required: bool,
    /// Boundary's `key_id` (the wrapper's name), when given.
    pub key_id: Option<String>,
}

/// Static AWS credentials. `Debug` leaves out the secret key and the session token.
#[derive(Clone)]
pub struct StaticCredentials {
    /// The access key id (not secret).
    pub access_key: String,
    /// The secret access key.
    pub secret_key: SecretString,
    /// The session token.
    pub session_token: Option<SecretString>,
    /// Where they came from.
    pub source: Source,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"[REDACTED]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("source", &self.source)
            .finish()
    }
}

/// The file syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HCL (Boundary's usual syntax).
    Hcl,
    /// JSON, in the shapes Boundary's HCL v1 reader accepts.
    Json,
}

impl Format {
    /// JSON for a `.json` file name, HCL otherwise.
    pub fn of(path: &Path) -> Format {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Format::Json
        } else {
            Format::Hcl
        }
    }
}

/// The stanza types this crate reads.
pub const KINDS: &[&str] = &["aead", "awskms"];

/// What parsing needs besides the text.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The stanza types compiled into the caller, e.g. `["aead", "awskms"]`. A block of any
    /// other type is an error that lists these. Empty means every type in [`KINDS`].
    pub known_kinds: Vec<String>,
    /// `None` reads the process environment; `Some` is a fixed snapshot (for tests), and the
    /// process environment is then never read.
    pub env: Option<HashMap<String, String>>,
}

impl LoadOptions {
    /// A variable as `env://NAME` reads it: set, even if empty.
    pub(crate) fn var_raw(&self, name: &str) -> Option<String> {
        match &self.env {
            Some(m) => m.get(name).cloned(),
            None => std::env::var(name).ok(),
        }
    }

    /// A variable as a fallback reads it: an empty value counts as unset, as in go-kms-wrapping.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        self.var_raw(name).filter(|v| !v.is_empty())
    }
}

/// Reads and parses the config file at `path`.
///
/// # Errors
/// Every problem found, one [`ConfigError`] each.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<KmsConfig, ConfigErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigErrors::single(&name, format!("cannot read config: {e}")))?;
    parse_str(&text, &name, Format::of(path), opts)
}

/// Parses config text; `source_name` names it in messages.
///
/// # Errors
/// Every problem found, one [`ConfigError`] each.
pub fn parse_str(
    text: &str,
    source_name: &str,
    format: Format,
    opts: &LoadOptions,
) -> Result<KmsConfig, ConfigErrors> {
    let blocks = match format {
        Format::Hcl => raw::parse_hcl(text, source_name),
        Format::Json => raw::parse_json(text, source_name),
    };
    match blocks {
        Ok((blocks, problems)) => resolve::resolve(blocks, problems, source_name, opts),
        Err(errors) => Err(ConfigErrors(errors)),
    }
}
