//! Loading configs and recognising ciphertexts, shared by the subcommands.

use std::io::BufRead;
use std::path::Path;

use kms::config::{KmsConfig, LoadOptions};
use kms::core::BlobInfo;
use kms::envelope::{Ciphertext, Format};
use kms::keyring::Keyring;
use kms::Purpose;

use zeroize::Zeroizing;

use crate::cli::ConfigArg;
use crate::failure::{CliResult, Failure};

/// Loads the config named by `-c`, first decrypting its `{{decrypt(..)}}` values with the
/// config-purpose stanza of `--config-kms` when given, else (as Boundary does) with the
/// config-purpose stanza of the config file itself.
pub(crate) async fn load_config(arg: &ConfigArg) -> CliResult<KmsConfig> {
    let name = arg.config.display().to_string();
    let format = kms::config::Format::of(&arg.config);
    let text = std::fs::read_to_string(&arg.config)
        .map_err(|e| Failure::usage(format!("{name}: cannot read config: {e}")))?;
    let parse = |text: &str| {
        kms::config::parse_str(text, &name, format, &load_options())
            .map_err(|e| Failure::usage(e.to_string()))
    };
    let markers = kms::config::find_markers(&text, "decrypt");
    let kms_config = match &arg.config_kms {
        Some(kms_file) => load_file(kms_file)?,
        None if markers.is_empty() => return parse(&text),
        None => {
            // The file's own config-purpose stanza decrypts its other values. To read that
            // stanza, each marker stands in as a well-formed dummy (a base64 32-byte key), so
            // stanzas whose values are still encrypted parse; they are never used.
            let dummy = vec![DUMMY_VALUE.to_owned(); markers.len()];
            parse(&kms::config::replace_markers(&text, &markers, &dummy)).map_err(|mut f| {
                f.message.push_str(" (while reading the config-purpose stanza that decrypts its {{decrypt(..)}} values; or give --config-kms)");
                f
            })?
        }
    };
    let keyring = build_keyring(&kms_config, &[]).await?;
    let wrapper = single_config_wrapper(&kms_config, &keyring)?;
    // Decrypted values, and the text they go into, are wiped when dropped.
    let mut values = Zeroizing::new(Vec::with_capacity(markers.len()));
    for m in &markers {
        let at = format!(
            "{name}: the {{{{decrypt(..)}}}} value at byte {}",
            m.range.start
        );
        let blob = BlobInfo::from_text(m.value)
            .ok()
            .ok_or_else(|| Failure::usage(format!("{at} is not a base64url BlobInfo")))?;
        let plain =
            kms::envelope::value::decrypt_value(&[wrapper], &blob, b"", kms::Purpose::Config)
                .await
                .map_err(|e| {
                    Failure::usage(format!(
                        "{at} does not decrypt with the config-purpose stanza of {}: {e}",
                        kms_config.source
                    ))
                })?;
        let s = std::str::from_utf8(plain.expose_secret())
            .map_err(|_| Failure::usage(format!("{at} is not UTF-8 text")))?;
        values.push(s.to_owned());
    }
    parse(&Zeroizing::new(kms::config::replace_markers(
        &text, &markers, &values,
    )))
}

/// Stands in for an encrypted value while the config-purpose stanza is found.
const DUMMY_VALUE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

pub(crate) fn load_options() -> LoadOptions {
    LoadOptions {
        known_kinds: kms::compiled_kinds(),
        env: None,
    }
}

pub(crate) fn load_file(path: &Path) -> CliResult<KmsConfig> {
    kms::config::load(path, &load_options()).map_err(|e| Failure::usage(e.to_string()))
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

/// The wrappers of `keyring` as the envelope library's keyring (same wrappers, same order).
pub(crate) fn envelope_keyring(keyring: &Keyring) -> kms::envelope::Keyring {
    keyring
        .all()
        .iter()
        .map(|w| (w.purpose, w.backend.clone()))
        .collect()
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
