#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
mod hclv1;
mod markers;
mod raw;
mod resolve;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use error::{ConfigError, ConfigErrors};
pub use kms_core::stanza::{BackendFactory, Setting, Source, Sourced, Stanza, Value};
pub use kms_core::{BackendKind, Purpose, SecretString};
pub use markers::{
    decode_marker_value, encrypt_problems, find_markers, replace_markers, LineProblem, Marker,
    MarkerProblem,
};

/// A parsed, validated config: one [`WrapperConfig`] per (enabled stanza, purpose).
#[derive(Debug, Clone)]
pub struct KmsConfig {
    /// The file name, for messages.
    pub source: String,
    /// The wrappers, in the order Boundary sets them up (`hsm`, `seal`, then `kms` blocks,
    /// each in file order).
    pub wrappers: Vec<WrapperConfig>,
    /// What Boundary accepts but ignores or reads unexpectedly, one line each; `kms check`
    /// prints them as warnings (`--strict` refuses them).
    pub warnings: Vec<ConfigError>,
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
    /// The stanza type.
    pub kind: BackendKind,
    /// The 1-based line of the `kms` block (in JSON, of the stanza's body).
    pub line: usize,
    /// The resolved settings, shared by the purposes of one stanza.
    pub stanza: Arc<Stanza>,
    /// The backend that reads this stanza: it builds and describes the wrapper.
    pub factory: &'static dyn BackendFactory,
}

impl WrapperConfig {
    /// Where the stanza is, for messages: `FILE: kms "TYPE" block at line N (purpose P)`.
    pub fn place(&self, file: &str) -> String {
        format!(
            "{file}: kms \"{}\" block at line {} (purpose {})",
            self.kind, self.line, self.purpose
        )
    }
}

/// The file syntax a caller expects. As in Boundary (`hcl.Parse`), the text has the last
/// word: text whose first non-blank character is `{` is read as JSON, any other as HCL.
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

/// What parsing needs besides the text.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// The backends compiled into the caller, whose schemas read their stanzas. A block of
    /// any other type is an error that lists these kinds.
    pub backends: Vec<&'static dyn BackendFactory>,
    /// `None` reads the process environment; `Some` is a fixed snapshot (for tests), and the
    /// process environment is then never read.
    pub env: Option<HashMap<String, String>>,
}

/// Names the environment's variables, never their values (a test snapshot may hold secrets).
impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<&str> = self
            .backends
            .iter()
            .map(|b| b.schema().kind.as_str())
            .collect();
        let mut names: Option<Vec<&str>> = self
            .env
            .as_ref()
            .map(|e| e.keys().map(String::as_str).collect());
        if let Some(n) = names.as_mut() {
            n.sort_unstable();
        }
        f.debug_struct("LoadOptions")
            .field("backends", &kinds)
            .field("env_vars", &names)
            .finish()
    }
}

impl LoadOptions {
    /// Options for the given backends, reading the process environment.
    pub fn new(backends: impl IntoIterator<Item = &'static dyn BackendFactory>) -> Self {
        LoadOptions {
            backends: backends.into_iter().collect(),
            env: None,
        }
    }

    /// These options with a fixed environment snapshot instead of the process's.
    #[must_use]
    pub fn with_env<K: Into<String>, V: Into<String>>(
        mut self,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env = Some(env.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

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

/// The largest config file read (16 MiB): a config is text written by people.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Reads the config file at `path` as UTF-8 text: a regular file (a FIFO or device is refused
/// before it is opened) of at most [`MAX_CONFIG_BYTES`].
///
/// # Errors
/// The reason, one line, starting with "cannot read config".
pub fn read_config(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let fail = |e: &dyn std::fmt::Display| format!("cannot read config: {e}");
    let cap = |n: u64| {
        fail(&format_args!(
            "{n} bytes or more, over the {} MiB cap for a config file",
            MAX_CONFIG_BYTES >> 20
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(&e))?;
    if !meta.is_file() {
        return Err(fail(&"not a regular file"));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(cap(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    if !file.metadata().map_err(|e| fail(&e))?.is_file() {
        return Err(fail(&"not a regular file"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(&e))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(cap(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| fail(&"not UTF-8 text"))
}

/// Reads and parses the config file at `path`.
///
/// # Errors
/// Every problem found, one [`ConfigError`] each.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<KmsConfig, ConfigErrors> {
    let name = path.display().to_string();
    let text = read_config(path).map_err(|e| ConfigErrors::single(&name, e))?;
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
    parse_scoped(text, source_name, format, opts, resolve::Scope::All)
}

fn parse_scoped(
    text: &str,
    source_name: &str,
    format: Format,
    opts: &LoadOptions,
    scope: resolve::Scope,
) -> Result<KmsConfig, ConfigErrors> {
    let blocks = match format {
        Format::Hcl => raw::parse_hcl(text, source_name),
        Format::Json => raw::parse_json(text, source_name),
    };
    match blocks {
        Ok((blocks, problems)) => resolve::resolve(blocks, problems, source_name, opts, scope),
        Err(errors) => Err(ConfigErrors(errors)),
    }
}

/// Reads only the config-purpose stanza of config text, as Boundary's `GetWrapperFromHcl`
/// does before it decrypts `{{decrypt(..)}}` values: every block is read as configutil's
/// `parseKMS` reads it (so a syntax error or a malformed block still fails), but only a block
/// whose purposes include `config` is set up and checked; the others may still hold
/// encrypted values. At most one block may be marked for config. No warnings are kept.
///
/// # Errors
/// Every problem found, one [`ConfigError`] each.
pub fn parse_config_stanza(
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
        Ok((blocks, problems)) => resolve::resolve(
            blocks,
            problems,
            source_name,
            opts,
            resolve::Scope::ConfigOnly,
        ),
        Err(errors) => Err(ConfigErrors(errors)),
    }
}
