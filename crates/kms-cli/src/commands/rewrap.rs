//! `kms rewrap`: put files under the current key of a purpose, in place.
//!
//! Stream files change only their wrapped-key entries: the body is copied byte for byte.
//! When the old and the current key are of a backend that can re-wrap without exposing the
//! data key (AWS KMS ReEncrypt), that is used; otherwise the data key is unwrapped with the
//! old wrapper (and checked against the file's key commitment) and wrapped with the new one.
//! Every file is replaced through a temp file, fsynced, renamed, and its directory fsynced:
//! a crash leaves the old file or the new one, complete.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use kms::core::{BlobInfo, KeyId, WrapContext, Wrapped};
use kms::envelope::stream::{entry_for, unwrap_data_key, Header, MAGIC};
use kms::envelope::value::{decrypt_value, encrypt_value};
use kms::{Backend, Error};
use prost::Message;
use tokio::sync::OnceCell;

use super::common::{build_encrypt_keyring, decode_value_text, load_config};
use crate::cli::RewrapArgs;
use crate::failure::{CliResult, Failure};
use crate::io::{sync_dir, temp_beside, TEMP_MARKER};

enum Outcome {
    Rewrapped { old: String, new: String },
    Current(String),
    NotKms,
}

pub(crate) async fn rewrap(a: RewrapArgs) -> CliResult<ExitCode> {
    let config = load_config(&a.config).await?;
    let keyring = build_encrypt_keyring(&config, a.purpose, &a.also).await?;
    let targets = keyring
        .encrypt_wrappers_with(a.purpose, &a.also)
        .map_err(|e| Failure::from_error(&config.source, e))?;
    let sources = keyring.decrypt_wrappers_all(a.purpose);

    let mut files = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for p in &a.paths {
        match fs::metadata(p) {
            Ok(m) if m.is_dir() && a.recursive => walk(p, &mut files, &mut failures),
            Ok(m) if m.is_dir() => {
                failures.push(format!("{}: is a directory (use -r)", p.display()))
            }
            Ok(_) => files.push(p.clone()),
            Err(e) => failures.push(format!("{}: {e}", p.display())),
        }
    }
    let bar = (!a.quiet && a.recursive && io::IsTerminal::is_terminal(&io::stderr()))
        .then(|| indicatif::ProgressBar::new(files.len() as u64));
    let mut not_kms = Vec::new();
    let (mut changed, mut current) = (0usize, 0usize);
    for f in &files {
        let shown = f.display().to_string();
        let line = match rewrap_file(f, &targets, &sources, a.recursive).await {
            Ok(Outcome::Rewrapped { old, new }) => {
                changed += 1;
                Some(format!("{shown}: {old} -> {new}"))
            }
            Ok(Outcome::Current(id)) => {
                current += 1;
                Some(format!("{shown}: already under {id}, unchanged"))
            }
            Ok(Outcome::NotKms) => {
                not_kms.push(shown);
                None
            }
            Err(msg) => {
                failures.push(format!("{shown}: {msg}"));
                None
            }
        };
        if let Some(line) = line {
            match &bar {
                Some(b) => b.println(line),
                None => println!("{line}"),
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for n in &not_kms {
        println!("{n}: not a kms file, skipped");
    }
    println!(
        "rewrap: {changed} rewrapped, {current} already current, {} not kms files, {} failed",
        not_kms.len(),
        failures.len()
    );
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut msg = format!(
        "rewrap: {} file(s) failed and were left unchanged:",
        failures.len()
    );
    for f in &failures {
        msg.push('\n');
        msg.push_str(f);
    }
    Err(Failure::op(msg))
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, failures: &mut Vec<String>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return failures.push(format!("{}: {e}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let is_temp = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains(TEMP_MARKER));
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, files, failures),
            Ok(m) if m.is_file() && !is_temp => files.push(p),
            _ => {}
        }
    }
}

fn describe(w: &dyn Backend) -> String {
    w.key_id().to_string()
}

async fn rewrap_file(
    path: &Path,
    targets: &[&dyn Backend],
    sources: &[&dyn Backend],
    recursive: bool,
) -> Result<Outcome, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let perms = file.metadata().map_err(|e| e.to_string())?.permissions();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf().map_err(|e| format!("read failed: {e}"))?;
    if head.starts_with(&MAGIC) {
        return rewrap_stream(path, reader, perms, targets, sources).await;
    }
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read failed: {e}"))?;
    let (blob, text) = match BlobInfo::decode_strict(&bytes) {
        Ok(b) => (b, false),
        Err(_) => match std::str::from_utf8(&bytes).ok().and_then(decode_value_text) {
            Some(b) => (b, true),
            None if recursive => return Ok(Outcome::NotKms),
            None => return Err("not a kms file (no kms magic, not a BlobInfo value)".into()),
        },
    };
    rewrap_blob(path, blob, text, perms, targets, sources).await
}

/// Wraps the data key under `target`: ReEncrypt when the target can re-wrap a recorded entry
/// itself, else the data key (unwrapped by `unwrap` once per file, kept in `data_key` for the
/// other targets) is wrapped.
async fn rewrap_one<F, Fut>(
    target: &dyn Backend,
    recorded: &[(Option<kms::core::BackendKind>, KeyId, Vec<u8>)],
    ctx: &WrapContext,
    data_key: &OnceCell<kms::core::SecretBytes>,
    unwrap: F,
) -> kms::Result<Wrapped>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = kms::Result<kms::core::SecretBytes>>,
{
    for (kind, key_id, wrapped) in recorded {
        if kind.as_ref().is_none_or(|k| *k == target.kind()) {
            if let Ok(Some(w)) = target.rewrap(wrapped, key_id, ctx).await {
                return Ok(w);
            }
        }
    }
    let dk = data_key.get_or_try_init(unwrap).await?;
    target.wrap(dk.expose_secret(), ctx).await
}

async fn rewrap_stream(
    path: &Path,
    mut reader: BufReader<File>,
    perms: fs::Permissions,
    targets: &[&dyn Backend],
    sources: &[&dyn Backend],
) -> Result<Outcome, String> {
    let (mut header, _) = Header::read_from(&mut reader).map_err(|e| e.to_string())?;
    let old: Vec<String> = header
        .entries
        .iter()
        .map(|e| e.key_id.as_str().to_owned())
        .collect();
    // Current: exactly the target keys, so a run with fewer `--also` keys drops the others.
    let is_current = header.entries.len() == targets.len()
        && targets.iter().all(|t| {
            header
                .entries
                .iter()
                .any(|e| e.kind == t.kind() && &e.key_id == t.key_id())
        });
    if is_current {
        return Ok(Outcome::Current(old.join(", ")));
    }
    let ctx = header.wrap_context();
    let recorded: Vec<_> = header
        .entries
        .iter()
        .map(|e| (Some(e.kind.clone()), e.key_id.clone(), e.wrapped.clone()))
        .collect();
    let mut entries = Vec::new();
    let data_key = OnceCell::new();
    for t in targets {
        let h = &header;
        // `sources` holds every configured wrapper, the targets among them.
        let w = rewrap_one(*t, &recorded, &ctx, &data_key, || async move {
            unwrap_data_key(h, sources).await
        })
        .await
        .map_err(|e| e.to_string())?;
        entries.push(entry_for(t.kind(), w).map_err(|e| e.to_string())?);
    }
    header.entries = entries;
    let new: Vec<String> = header
        .entries
        .iter()
        .map(|e| e.key_id.as_str().to_owned())
        .collect();
    replace(path, perms, |out| {
        out.write_all(&header.encode())?;
        io::copy(&mut reader, out)?;
        Ok(())
    })?;
    Ok(Outcome::Rewrapped {
        old: old.join(", "),
        new: new.join(", "),
    })
}

async fn rewrap_blob(
    path: &Path,
    mut blob: BlobInfo,
    text: bool,
    perms: fs::Permissions,
    targets: &[&dyn Backend],
    sources: &[&dyn Backend],
) -> Result<Outcome, String> {
    let target = targets[0];
    let old = blob.key_id().to_owned();
    if old == target.key_id().as_str() && !old.is_empty() {
        return Ok(Outcome::Current(old));
    }
    if blob.is_envelope() {
        // Only the wrapped data key changes (no KMS context, as go-kms-wrapping).
        let recorded = vec![(None, KeyId::new(old.clone()), blob.wrapped_key().to_vec())];
        let b = &blob;
        let w = rewrap_one(
            target,
            &recorded,
            &WrapContext::None,
            &OnceCell::new(),
            || async move {
                let id = KeyId::new(b.key_id());
                let mut last = Error::NoMatchingWrapper {
                    purpose: kms::Purpose::Root,
                    key_ids: vec![b.recorded_key_id()],
                };
                for s in kms::envelope::select::candidates(
                    sources,
                    &kms::envelope::select::Recorded {
                        kind: None,
                        key_id: id.clone(),
                    },
                ) {
                    match s.unwrap(b.wrapped_key(), &id, &WrapContext::None).await {
                        Ok(dk) => return Ok(dk),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        if let Some(ki) = blob.key_info.as_mut() {
            ki.key_id = w.key_id.as_str().to_owned();
            ki.wrapped_key = w.bytes;
        }
    } else {
        // A direct value has no data key: decrypt and encrypt again.
        let plain = decrypt_value(sources, &blob, b"", kms::Purpose::Root)
            .await
            .map_err(|e| e.to_string())?;
        blob = encrypt_value(target, plain.expose_secret(), b"", None)
            .await
            .map_err(|e| e.to_string())?;
    }
    let new = describe(target);
    let encoded = blob.encode_to_vec();
    replace(path, perms, |out| {
        if text {
            out.write_all(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(&encoded)
                    .as_bytes(),
            )
        } else {
            out.write_all(&encoded)
        }
    })?;
    Ok(Outcome::Rewrapped {
        old: if old.is_empty() {
            "(empty)".into()
        } else {
            old
        },
        new,
    })
}

/// Replaces `path` with what `write` produces: temp file in the same directory, same
/// permissions, fsync, rename, fsync of the directory.
fn replace(
    path: &Path,
    perms: fs::Permissions,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let temp = temp_beside(path).map_err(|f| f.message)?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, temp.as_file());
        write(&mut w).map_err(|e| format!("write failed: {e}"))?;
        w.flush().map_err(|e| format!("write failed: {e}"))?;
    }
    fs::set_permissions(temp.path(), perms).map_err(|e| format!("cannot set permissions: {e}"))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| format!("fsync failed: {e}"))?;
    temp.persist(path)
        .map_err(|e| format!("cannot replace: {}", e.error))?;
    sync_dir(path).map_err(|f| f.message)
}
