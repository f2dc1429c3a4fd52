//! Loading configs and recognising ciphertexts, shared by the subcommands.

use std::io::BufRead;
use std::path::Path;

use base64::Engine;
use kms::config::KmsConfig;
use kms::core::BlobInfo;
use kms::envelope::stream::Header;
use kms::keyring::Keyring;
use kms::Purpose;

use crate::cli::ConfigArg;
use crate::failure::{CliResult, Failure};

/// Loads the config named by `-c`, first decrypting its `{{decrypt(..)}}` values with the
/// config-purpose stanza of `--config-kms` when given, else (as Boundary does) with the
/// config-purpose stanza of the config file itself.
pub(crate) async fn load_config(arg: &ConfigArg) -> CliResult<KmsConfig> {
    let mut options = kms::ConfigOptions::new();
    if let Some(f) = &arg.config_kms {
        options = options.config_kms(f);
    }
    kms::load_config(&arg.config, &options)
        .await
        .map_err(Failure::from_load)
}

/// Reads a config file as it is, without decrypting values inside it.
pub(crate) fn load_file(path: &Path) -> CliResult<KmsConfig> {
    kms::config::load(path, &kms::config_load_options()).map_err(|e| Failure::usage(e.to_string()))
}

pub(crate) async fn build_keyring(config: &KmsConfig, encrypt: &[Purpose]) -> CliResult<Keyring> {
    Keyring::build(config, encrypt)
        .await
        .map_err(|e| Failure::from_error("", e))
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

/// The one config-purpose wrapper; anything else is a clear error.
pub(crate) fn single_config_wrapper<'a>(
    config: &KmsConfig,
    keyring: &'a Keyring,
) -> CliResult<&'a dyn kms::Backend> {
    let ws = keyring.for_purpose(Purpose::Config);
    match ws.as_slice() {
        [one] => Ok(*one),
        [] => Err(Failure::usage(format!(
            "{}: no kms stanza has purpose \"config\"; exactly one is needed",
            config.source
        ))),
        many => Err(Failure::usage(format!(
            "{}: {} kms stanzas have purpose \"config\"; exactly one is allowed",
            config.source,
            many.len()
        ))),
    }
}

/// Decodes `{{decrypt(..)}}` text: base64url without padding (Boundary), or with padding,
/// or standard base64.
pub(crate) fn decode_value_text(text: &str) -> Option<BlobInfo> {
    let t = text.trim();
    let engines = [
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(t).ok())
        .and_then(|b| BlobInfo::decode_strict(&b).ok())
}

/// What an input holds.
pub(crate) enum Ciphertext {
    /// A stream file; the header has been consumed from the reader.
    Stream(Header, Vec<u8>),
    /// A go-kms-wrapping BlobInfo (binary, or base64 text of one).
    Blob(BlobInfo, usize),
}

/// The largest BlobInfo input read into memory (values are small; streams are not read this way).
const MAX_BLOB_INPUT: u64 = 64 << 20;

/// Recognises the input by its magic; without one, a strict protobuf decode (or base64 text
/// of one) must succeed.
pub(crate) fn read_ciphertext(name: &str, reader: &mut impl BufRead) -> CliResult<Ciphertext> {
    let head = reader
        .fill_buf()
        .map_err(|e| Failure::op(format!("{name}: read failed: {e}")))?;
    if head.is_empty() {
        return Err(Failure::op(format!(
            "{name}: empty input: not a kms ciphertext"
        )));
    }
    if head.starts_with(&kms::envelope::stream::MAGIC[..head.len().min(8)]) {
        let (h, bytes) =
            Header::read_from(reader).map_err(|e| Failure::op(format!("{name}: {e}")))?;
        return Ok(Ciphertext::Stream(h, bytes));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(reader, MAX_BLOB_INPUT + 1),
        &mut bytes,
    )
    .map_err(|e| Failure::op(format!("{name}: read failed: {e}")))?;
    if bytes.len() as u64 > MAX_BLOB_INPUT {
        return Err(Failure::op(format!(
            "{name}: not a kms stream file, and too large for a BlobInfo value"
        )));
    }
    let len = bytes.len();
    match BlobInfo::decode_strict(&bytes) {
        Ok(b) => Ok(Ciphertext::Blob(b, len)),
        Err(e) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(decode_value_text)
            .map(|b| Ciphertext::Blob(b, len))
            .ok_or_else(|| {
                Failure::op(format!(
                    "{name}: not a kms stream file nor a go-kms-wrapping BlobInfo ({e})"
                ))
            }),
    }
}
