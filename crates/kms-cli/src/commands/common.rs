//! Loading configs and recognising ciphertexts, shared by the subcommands.

use std::io::BufRead;

use kms::config::KmsConfig;
use kms::envelope::{Ciphertext, Format};
use kms::keyring::Keyring;
use kms::Purpose;

use crate::cli::ConfigArg;
use crate::failure::{CliResult, Failure};

/// Loads the config named by `-c`, first decrypting its `{{decrypt(..)}}` values with the
/// config-purpose stanza of `--config-kms` when given, else (as Boundary does) with the
/// config-purpose stanza of the config file itself. Its warnings (what Boundary accepts but
/// ignores) go to stderr, one line each.
pub(crate) async fn load_config(arg: &ConfigArg) -> CliResult<KmsConfig> {
    let config = load_config_quietly(arg).await?;
    for w in &config.warnings {
        eprintln!("kms: warning: {w}");
    }
    Ok(config)
}

/// [`load_config`] without printing the warnings: `--json` puts them in its object.
pub(crate) async fn load_config_quietly(arg: &ConfigArg) -> CliResult<KmsConfig> {
    let mut options = kms::ConfigOptions::new();
    if let Some(f) = &arg.config_kms {
        options = options.config_kms(f);
    }
    kms::load_config(&arg.config, &options)
        .await
        .map_err(Failure::from_load)
}

/// The config's warnings as a JSON array of strings.
pub(crate) fn warnings_value(config: &KmsConfig) -> serde_json::Value {
    config.warnings.iter().map(|w| w.to_string()).collect()
}

/// The keyring of `config`, its `encrypt` purposes connected now; a failure says what to do
/// next ([`crate::failure::next_step`]).
pub(crate) async fn build_keyring(config: &KmsConfig, encrypt: &[Purpose]) -> CliResult<Keyring> {
    Keyring::build(config, encrypt)
        .await
        .map_err(|e| Failure::using_keys("", &config.source, e))
}

/// The keyring for encrypting under `purpose` and each of `also`: their wrappers are
/// connected (and checked) now, the rest only when needed.
pub(crate) async fn build_encrypt_keyring(
    config: &KmsConfig,
    purpose: Purpose,
    also: &[Purpose],
) -> CliResult<Keyring> {
    let mut eager = vec![purpose];
    eager.extend(also);
    build_keyring(config, &eager).await
}

/// Reads a ciphertext input: a stream's header, or a whole value.
pub(crate) fn read_ciphertext(name: &str, reader: &mut impl BufRead) -> CliResult<Ciphertext> {
    let head = reader
        .fill_buf()
        .map_err(|e| Failure::op(format!("{name}: read failed: {e}")))?;
    if head.is_empty() {
        return Err(Failure::op(format!(
            "{name}: empty input: not a kms ciphertext"
        )));
    }
    let stream = Ciphertext::detect(&head[..head.len().min(8)]) == Format::Stream;
    Ciphertext::read(reader).map_err(|e| match e.root() {
        kms::Error::Io { source, .. } => Failure::op(format!("{name}: read failed: {source}")),
        kms::Error::Malformed(m) | kms::Error::InvalidInput(m) if !stream => {
            Failure::op(format!("{name}: {m}"))
        }
        _ => Failure::op(format!("{name}: {e}")),
    })
}
