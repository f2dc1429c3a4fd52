//! `kms encrypt` and `kms decrypt`.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::process::ExitCode;

use kms::envelope::ciphertext::MAX_VALUE_BYTES;
use kms::envelope::{value, Ciphertext, Decryptor, Encryptor};
use kms::{Error, Purpose};

use super::common::{
    build_encrypt_keyring, build_keyring, load_config, load_config_quietly, read_ciphertext,
    warnings_value,
};
use crate::cli::{DecryptArgs, EncryptArgs};
use crate::failure::{next_step, CliResult, Failure};
use crate::io::{check_output, open_input, open_seekable_input, progress, Content, Output};
use crate::report::{self, emit, path_value, Counted};
use serde_json::json;
use zeroize::Zeroizing;

pub(crate) async fn encrypt(a: EncryptArgs) -> CliResult<ExitCode> {
    if a.json && (!a.value || a.binary) {
        let why = if a.value {
            " (or drop --binary: the base64url value then goes into the object)"
        } else {
            ""
        };
        report::require_output("kms encrypt", a.out.output.as_deref(), why)?;
    }
    check_output(a.out.output.as_deref())?;
    let config = if a.json {
        load_config_quietly(&a.config).await?
    } else {
        load_config(&a.config).await?
    };
    let keyring = build_encrypt_keyring(&config, a.purpose, &a.also).await?;
    // Checked before any input or output is opened.
    keyring
        .encrypt_wrappers_with(a.purpose, &a.also)
        .map_err(|e| Failure::from_error(&config.source, e))?;
    let keys = report::encrypt_keys(&keyring, a.purpose, &a.also);
    let mut summary = json!({
        "ok": true,
        "operation": "encrypt",
        "purpose": a.purpose.as_str(),
        "keys": keys,
        "warnings": warnings_value(&config),
    });
    if a.value {
        return encrypt_value(a, &config.source, &keyring, summary).await;
    }
    let mut input = open_input(a.input.as_deref())?;
    let mut out = Output::open(
        a.out.output.as_deref(),
        input.path.as_deref(),
        Content::Ciphertext,
    )?;
    let aad = a.aad.unwrap_or_default();
    let out_name = out.name();
    let name = input.name.clone();
    let mut writer = Encryptor::new(&keyring, a.purpose)
        .also(&a.also)
        .aad(aad.as_bytes())
        .wrap_output(Counted::new(out.writer()))
        .await
        .map_err(|e| {
            let step = next_step(&e, &config.source, "");
            Failure::from_copy(&name, &out_name, e).with_next_step(step)
        })?;
    let bar = progress(input.len, a.out.quiet || a.json);
    let (in_bytes, out_bytes) = tokio::task::block_in_place(|| {
        let n = match &bar {
            Some(b) => writer.copy_from(&mut b.wrap_read(&mut input.reader)),
            None => writer.copy_from(&mut input.reader),
        }?;
        Ok::<_, Error>((n, writer.finish()?.bytes))
    })
    .map_err(|e| Failure::from_copy(&name, &out_name, e))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out.commit(a.out.sync)?;
    if a.json {
        summary["format"] = json!("kms-stream");
        summary["input"] = json!({ "path": path_value(input.path.as_deref()), "bytes": in_bytes });
        summary["output"] =
            json!({ "path": path_value(a.out.output.as_deref()), "bytes": out_bytes });
        emit(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// `kms encrypt --value`: one go-kms-wrapping BlobInfo, base64url text (or `--binary`).
async fn encrypt_value(
    a: EncryptArgs,
    source: &str,
    keyring: &kms::keyring::Keyring,
    mut summary: serde_json::Value,
) -> CliResult<ExitCode> {
    let mut input = open_input(a.input.as_deref())?;
    let name = input.name.clone();
    let mut plain = Zeroizing::new(Vec::new());
    // Room for the BlobInfo's other fields (wrapped key, key id, iv, tag) under its cap.
    let cap = (kms::core::MAX_BLOB_BYTES - (64 << 10)) as u64;
    (&mut input.reader)
        .take(cap + 1)
        .read_to_end(&mut plain)
        .map_err(|e| Failure::op(format!("{name}: read failed: {e}")))?;
    if plain.len() as u64 > cap {
        return Err(Failure::usage(format!(
            "{name}: over the {} MiB BlobInfo cap, too large for --value; drop --value to write a stream",
            kms::core::MAX_BLOB_BYTES >> 20
        )));
    }
    let aad = a.aad.unwrap_or_default();
    let blob = value::encrypt(keyring, a.purpose, &plain, aad.as_bytes())
        .await
        .map_err(|e| match e.root() {
            Error::Config(_) => Failure::from_error(source, e),
            _ => Failure::using_keys(&name, source, e),
        })?;
    let bytes = if a.binary {
        blob.to_bytes()
    } else {
        let mut t = blob.to_text().into_bytes();
        t.push(b'\n');
        t
    };
    // What `kms decrypt` (and `Ciphertext::read`) take back.
    if bytes.len() as u64 > MAX_VALUE_BYTES {
        return Err(Failure::usage(format!(
            "{name}: the value would be {} bytes, over the {} MiB a value may have; drop --value to write a stream{}",
            bytes.len(),
            MAX_VALUE_BYTES >> 20,
            if a.binary { "" } else { ", or add --binary" }
        )));
    }
    // A value is wrapped under the purpose's first wrapper only.
    if let Some(keys) = summary["keys"].as_array_mut() {
        keys.truncate(1);
    }
    summary["format"] = json!("blobinfo");
    summary["encoding"] = json!(if a.binary { "binary" } else { "base64url" });
    summary["input"] = json!({ "path": path_value(input.path.as_deref()), "bytes": plain.len() });
    if a.json && a.out.output.as_deref().is_none_or(|o| o.as_os_str() == "-") {
        // No file: the value itself is the result (base64url; --binary needs -o).
        summary["output"] = serde_json::Value::Null;
        summary["value"] = json!(blob.to_text());
        emit(&summary);
        return Ok(ExitCode::SUCCESS);
    }
    let content = if a.binary {
        Content::Ciphertext
    } else {
        Content::Text
    };
    let mut out = Output::open(a.out.output.as_deref(), input.path.as_deref(), content)?;
    let out_name = out.name();
    out.writer()
        .write_all(&bytes)
        .map_err(|e| Failure::from_write(&out_name, &e))?;
    out.commit(a.out.sync)?;
    if a.json {
        summary["output"] =
            json!({ "path": path_value(a.out.output.as_deref()), "bytes": bytes.len() });
        emit(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn decrypt(a: DecryptArgs) -> CliResult<ExitCode> {
    if a.json {
        report::require_output(
            "kms decrypt",
            a.out.output.as_deref(),
            "; plaintext never goes into it",
        )?;
    }
    check_output(a.out.output.as_deref())?;
    let config = if a.json {
        load_config_quietly(&a.config).await?
    } else {
        load_config(&a.config).await?
    };
    let mut summary = json!({
        "ok": true,
        "operation": "decrypt",
        "warnings": warnings_value(&config),
    });
    let keyring = build_keyring(&config, &[]).await?;
    if a.offset.is_some() || a.length.is_some() {
        return decrypt_range(a, &keyring, &config.source, summary).await;
    }
    let mut input = open_input(a.input.as_deref())?;
    let aad = a.aad.unwrap_or_default();
    let name = input.name.clone();
    match read_ciphertext(&name, &mut input.reader)? {
        Ciphertext::Stream(header) => {
            let len = input.len;
            let info = header.info(0);
            summary["format"] = json!("kms-stream");
            summary["purpose"] = json!(info.purpose.as_str());
            summary["recorded_keys"] = report::recorded_keys(
                info.wrapped_keys
                    .iter()
                    .map(|e| (e.kind.as_str(), e.key_id.as_str())),
            );
            let header_bytes = header.header_bytes() as u64;
            let mut counted = Counted::new(&mut input.reader);
            let body: &mut (dyn Read + Send) = &mut counted;
            let bar = progress(len, a.out.quiet || a.json);
            let mut reader = match &bar {
                Some(b) => {
                    Decryptor::new(&keyring)
                        .aad(aad.as_bytes())
                        .open_after_header(
                            header,
                            Box::new(b.wrap_read(body)) as Box<dyn Read + Send + '_>,
                        )
                        .await
                }
                None => {
                    Decryptor::new(&keyring)
                        .aad(aad.as_bytes())
                        .open_after_header(header, Box::new(body) as Box<dyn Read + Send + '_>)
                        .await
                }
            }
            .map_err(|e| Failure::using_keys(&name, &config.source, e))?;
            let mut out = Output::open(
                a.out.output.as_deref(),
                input.path.as_deref(),
                Content::Plaintext,
            )?;
            let result = tokio::task::block_in_place(|| reader.copy_to(&mut out.writer()));
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let out_bytes = match result {
                Ok(n) => {
                    out.commit(a.out.sync)?;
                    n
                }
                Err(e) => return Err(body_failure(&name, out, e)),
            };
            drop(reader);
            summary["input"] = json!({
                "path": path_value(input.path.as_deref()),
                "bytes": header_bytes + counted.bytes,
            });
            summary["output"] =
                json!({ "path": path_value(a.out.output.as_deref()), "bytes": out_bytes });
        }
        Ciphertext::Value(v) => {
            let purpose = a.purpose.unwrap_or(Purpose::Root);
            let info = v.info();
            summary["format"] = json!("blobinfo");
            summary["purpose"] = json!(purpose.as_str());
            summary["recorded_keys"] =
                report::recorded_keys(std::iter::once((info.kind.as_str(), info.key_id.as_str())));
            summary["input"] = json!({
                "path": path_value(input.path.as_deref()),
                "bytes": info.bytes,
            });
            let plain = value::decrypt(&keyring, purpose, &v.blob, aad.as_bytes())
                .await
                .map_err(|e| Failure::using_keys(&name, &config.source, e))?;
            let mut out = Output::open(
                a.out.output.as_deref(),
                input.path.as_deref(),
                Content::Plaintext,
            )?;
            let out_name = out.name();
            out.writer()
                .write_all(plain.expose_secret())
                .map_err(|e| Failure::from_write(&out_name, &e))?;
            out.commit(a.out.sync)?;
            summary["output"] = json!({
                "path": path_value(a.out.output.as_deref()),
                "bytes": plain.expose_secret().len(),
            });
        }
    }
    if a.json {
        emit(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// `kms decrypt --offset/--length`: the plaintext of a range of a stream in a seekable
/// input, reading only the segments that cover it (and the final one).
async fn decrypt_range(
    a: DecryptArgs,
    keyring: &kms::keyring::Keyring,
    config_source: &str,
    mut summary: serde_json::Value,
) -> CliResult<ExitCode> {
    let input = open_seekable_input(a.input.as_deref(), "--offset and --length")?;
    let name = input.name.clone();
    let mut file = &input.file;
    let start = file
        .stream_position()
        .map_err(|e| Failure::op(format!("{name}: read failed: {e}")))?;
    match read_ciphertext(&name, &mut BufReader::new(file))? {
        Ciphertext::Stream(header) => {
            let info = header.info(0);
            summary["format"] = json!("kms-stream");
            summary["purpose"] = json!(info.purpose.as_str());
            summary["recorded_keys"] = report::recorded_keys(
                info.wrapped_keys
                    .iter()
                    .map(|e| (e.kind.as_str(), e.key_id.as_str())),
            );
        }
        Ciphertext::Value(_) => {
            return Err(Failure::usage(format!(
                "{name}: a go-kms-wrapping BlobInfo value, not a stream: --offset and --length are for streams; decrypt the value whole"
            )))
        }
    }
    file.seek(SeekFrom::Start(start))
        .map_err(|e| Failure::op(format!("{name}: read failed: {e}")))?;
    let aad = a.aad.unwrap_or_default();
    let mut reader = Decryptor::new(keyring)
        .aad(aad.as_bytes())
        .open_seekable(file)
        .await
        .map_err(|e| Failure::using_keys(&name, config_source, e))?;
    let plain_len = tokio::task::block_in_place(|| reader.plaintext_len()).map_err(|e| {
        let out = a.out.output.as_deref();
        body_error(
            &name,
            &out.map_or("stdout".into(), |p| p.display().to_string()),
            e,
        )
    })?;
    let offset = a.offset.unwrap_or(0);
    let length = match a.length {
        Some(length) => length,
        None => plain_len.saturating_sub(offset),
    };
    if offset
        .checked_add(length)
        .is_none_or(|stop| stop > plain_len)
    {
        return Err(Failure::usage(format!(
            "{name}: the range of {length} bytes at offset {offset} ends past the end of the plaintext, which is {plain_len} bytes; give --offset and --length within it"
        )));
    }
    let mut out = Output::open(
        a.out.output.as_deref(),
        input.path.as_deref(),
        Content::Plaintext,
    )?;
    let result =
        tokio::task::block_in_place(|| reader.read_range(offset, length, &mut out.writer()));
    match result {
        Ok(_) => out.commit(a.out.sync)?,
        Err(e) => return Err(body_failure(&name, out, e)),
    }
    if a.json {
        let input_bytes = input.file.metadata().map(|m| m.len()).ok();
        summary["input"] =
            json!({ "path": path_value(input.path.as_deref()), "bytes": input_bytes });
        summary["output"] = json!({ "path": path_value(a.out.output.as_deref()), "bytes": length });
        summary["range"] =
            json!({ "offset": offset, "length": length, "plaintext_bytes": plain_len });
        emit(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// An error reading a stream's body. The header authenticated under the key before the body
/// was read, so a segment that fails now was cut short or modified, never a wrong key.
fn body_error(name: &str, out_name: &str, e: Error) -> Failure {
    match e.root() {
        Error::DecryptFailed => Failure::op(format!(
            "{name}: the stream body does not authenticate: the file was truncated (cut short) or modified after it was written; the key and the header are right"
        )),
        _ => Failure::from_copy(name, out_name, e),
    }
}

/// A failure while decrypting a stream's body into `out` ([`body_error`]).
fn body_failure(name: &str, mut out: Output, e: Error) -> Failure {
    let mut f = body_error(name, &out.name(), e);
    // Only a failure of the operation left part of it on stdout (a refusal for a terminal
    // wrote nothing there, or stopped at the first byte it refused, and says so).
    if out.is_stdout() && f.code == 1 {
        let _ = out.writer().flush();
        f.message.push_str(
            " (the plaintext already written to stdout is incomplete and must be discarded)",
        );
    }
    f
}
