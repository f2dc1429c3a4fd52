//! `kms encrypt` and `kms decrypt`.

use std::process::ExitCode;

use kms::envelope::stream::{open_header, seal_header, DEFAULT_SEGMENT_SIZE};
use kms::envelope::value::decrypt_value;
use kms::Purpose;

use super::common::{
    build_encrypt_keyring, build_keyring, load_config, read_ciphertext, Ciphertext,
};
use crate::cli::{DecryptArgs, EncryptArgs};
use crate::failure::{CliResult, Failure};
use crate::io::{open_input, progress, Output};

pub(crate) async fn encrypt(a: EncryptArgs) -> CliResult<ExitCode> {
    let config = load_config(&a.config).await?;
    let keyring = build_encrypt_keyring(&config, a.purpose, &a.also).await?;
    let wrappers = keyring
        .encrypt_wrappers_with(a.purpose, &a.also)
        .map_err(|e| Failure::from_error(&config.source, e))?;
    let mut input = open_input(a.input.as_deref())?;
    let mut out = Output::open(a.out.output.as_deref(), input.path.as_deref(), true)?;
    let aad = a.aad.unwrap_or_default();
    let (header, key) = seal_header(&wrappers, a.purpose, aad.as_bytes(), DEFAULT_SEGMENT_SIZE)
        .await
        .map_err(|e| Failure::from_error(&input.name, e))?;
    let out_name = out_name(&a.out.output);
    out.writer()
        .write_all(&header.encode())
        .map_err(|e| Failure::op(format!("{out_name}: write failed: {e}")))?;
    let bar = progress(input.len, a.out.quiet);
    let name = input.name.clone();
    tokio::task::block_in_place(|| {
        let mut w = out.writer();
        key.encrypt_body(&mut input.reader, &mut w, &mut |n| {
            if let Some(b) = &bar {
                b.set_position(n);
            }
        })
    })
    .map_err(|e| Failure::from_error(&name, e))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out.commit(a.out.sync)?;
    Ok(ExitCode::SUCCESS)
}

fn out_name(o: &Option<std::path::PathBuf>) -> String {
    o.as_ref()
        .map_or_else(|| "stdout".to_owned(), |p| p.display().to_string())
}

pub(crate) async fn decrypt(a: DecryptArgs) -> CliResult<ExitCode> {
    let config = load_config(&a.config).await?;
    let keyring = build_keyring(&config, &[]).await?;
    let mut input = open_input(a.input.as_deref())?;
    let aad = a.aad.unwrap_or_default();
    let name = input.name.clone();
    match read_ciphertext(&name, &mut input.reader)? {
        Ciphertext::Stream(header, _) => {
            let wrappers = keyring.decrypt_wrappers_all(header.purpose);
            let key = open_header(&header, &wrappers, aad.as_bytes())
                .await
                .map_err(|e| Failure::from_error(&name, e))?;
            let mut out = Output::open(a.out.output.as_deref(), input.path.as_deref(), false)?;
            let to_stdout = matches!(out, Output::Stdout(_));
            let bar = progress(input.len, a.out.quiet);
            let result = tokio::task::block_in_place(|| {
                let mut w = out.writer();
                key.decrypt_body(&mut input.reader, &mut w, &mut |n| {
                    if let Some(b) = &bar {
                        b.set_position(n);
                    }
                })
            });
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            match result {
                Ok(_) => out.commit(a.out.sync)?,
                Err(e) => {
                    let mut f = Failure::from_error(&name, e);
                    if to_stdout {
                        let _ = out.writer().flush();
                        f.message.push_str(" (the plaintext already written to stdout is incomplete and must be discarded)");
                    }
                    return Err(f);
                }
            }
        }
        Ciphertext::Blob(blob, _) => {
            let purpose = a.purpose.unwrap_or(Purpose::Root);
            let wrappers = keyring.decrypt_wrappers(purpose);
            let plain = decrypt_value(&wrappers, &blob, aad.as_bytes(), purpose)
                .await
                .map_err(|e| Failure::from_error(&name, e))?;
            let mut out = Output::open(a.out.output.as_deref(), input.path.as_deref(), false)?;
            out.writer().write_all(plain.expose_secret()).map_err(|e| {
                Failure::op(format!("{}: write failed: {e}", out_name(&a.out.output)))
            })?;
            out.commit(a.out.sync)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
