//! `kms config encrypt|decrypt`: values inside config files, as Boundary protects them.

use std::process::ExitCode;

use kms::config_values::Direction;
use kms::Purpose;

use super::common::{build_keyring, load_config};
use zeroize::Zeroizing;

use crate::cli::{ConfigArg, ConfigValueArgs};
use crate::failure::{CliResult, Failure};
use crate::io::{check_output, Content, Output};

pub(crate) async fn encrypt(a: ConfigValueArgs) -> CliResult<ExitCode> {
    process(a, Direction::Encrypt).await
}

pub(crate) async fn decrypt(a: ConfigValueArgs) -> CliResult<ExitCode> {
    process(a, Direction::Decrypt).await
}

async fn process(a: ConfigValueArgs, direction: Direction) -> CliResult<ExitCode> {
    check_output(a.output.as_deref())?;
    let name = a.file.display().to_string();
    // On encrypt the file holds plain values: wiped when dropped.
    let text = Zeroizing::new(
        kms::config::read_config(&a.file).map_err(|e| Failure::usage(format!("{name}: {e}")))?,
    );
    // Refused before any KMS is contacted, and before anything is written.
    if direction == Direction::Encrypt {
        kms::config_values::check_encryptable(&text, &name)
            .map_err(|e| Failure::from_error("", e))?;
    }
    // Read as Boundary reads it: values the config-purpose stanza protects in the same file
    // (another stanza's key, say) are decrypted first.
    let config = load_config(&ConfigArg {
        config: a.config.clone(),
        config_kms: None,
    })
    .await?;
    let keyring = build_keyring(
        &config,
        if direction == Direction::Encrypt {
            &[Purpose::Config]
        } else {
            &[]
        },
    )
    .await?;
    let wrapper = keyring.config_wrapper().map_err(Failure::from_load)?;
    let done = kms::config_values::process_values(&text, &name, wrapper, direction, a.strip)
        .await
        .map_err(|e| Failure::from_error("", e))?;
    let result = done.text;
    let target = if a.overwrite {
        Some(a.file.as_path())
    } else {
        a.output.as_deref()
    };
    // --overwrite replaces FILE itself, atomically; otherwise the input is never a target.
    let mut out = Output::open(
        target,
        if a.overwrite {
            None
        } else {
            Some(a.file.as_path())
        },
        Content::Text,
    )?;
    let out_name = out.name();
    if a.overwrite {
        // Decrypted values are secrets: the file keeps its owner, but only its owner's
        // permission bits (as decrypt -o makes files of mode 0600).
        out.keep_owner_and_mode(match direction {
            Direction::Encrypt => 0o7777,
            Direction::Decrypt => 0o700,
        });
    }
    out.writer()
        .write_all(result.as_bytes())
        .map_err(|e| Failure::from_write(&out_name, &e))?;
    out.commit(a.overwrite)?;
    eprintln!(
        "kms: {name}: {} value(s) {}ed",
        done.count,
        direction.marker()
    );
    Ok(ExitCode::SUCCESS)
}
