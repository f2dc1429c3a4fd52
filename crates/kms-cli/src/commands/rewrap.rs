//! `kms rewrap`: put files under the current key of a purpose, in place.
//!
//! The library does the rewrap (kms_envelope::rewrap: stream headers, values, ReEncrypt when
//! the target can); this module walks directories, replaces each file through a temp file,
//! fsynced, renamed, and its directory fsynced (a crash leaves the old file or the new one,
//! complete), and reports.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kms::envelope::rewrap::{self, Rewrapper};
use kms::envelope::{Ciphertext, Format};
use kms::{Error, KeyId};

use super::common::{build_encrypt_keyring, load_config};
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
    let rewrapper = Rewrapper::new(&keyring, a.purpose, &a.also)
        .map_err(|e| Failure::from_error(&config.source, e))?;

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
        let line = match rewrap_file(f, &rewrapper, a.recursive).await {
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

fn joined(ids: &[KeyId]) -> String {
    ids.iter().map(KeyId::as_str).collect::<Vec<_>>().join(", ")
}

async fn rewrap_file(
    path: &Path,
    rewrapper: &Rewrapper<'_>,
    recursive: bool,
) -> Result<Outcome, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let perms = file.metadata().map_err(|e| e.to_string())?.permissions();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf().map_err(|e| format!("read failed: {e}"))?;
    let stream = head.len() >= 8 && Ciphertext::detect(&head[..8]) == Format::Stream;
    match Ciphertext::read(&mut reader) {
        Ok(Ciphertext::Stream(header)) => {
            let r = rewrapper.stream(&header).await.map_err(|e| e.to_string())?;
            match &r.outcome {
                rewrap::Outcome::Current(ids) => Ok(Outcome::Current(joined(ids))),
                rewrap::Outcome::Rewrapped { old, new } => {
                    let (old, new) = (joined(old), joined(new));
                    replace(path, perms, |out| r.write(&mut reader, out).map(drop))?;
                    Ok(Outcome::Rewrapped { old, new })
                }
            }
        }
        Ok(Ciphertext::Value(v)) => {
            let r = rewrapper.value(&v.blob).await.map_err(|e| e.to_string())?;
            match &r.outcome {
                rewrap::Outcome::Current(ids) => Ok(Outcome::Current(joined(ids))),
                rewrap::Outcome::Rewrapped { old, new } => {
                    let old = match joined(old) {
                        o if o.is_empty() => "(empty)".to_owned(),
                        o => o,
                    };
                    replace(path, perms, |out| {
                        let bytes = if v.text {
                            r.blob.to_text().into_bytes()
                        } else {
                            r.blob.to_bytes()
                        };
                        out.write_all(&bytes)
                            .map_err(|e| Error::io("writing output", e))
                    })?;
                    Ok(Outcome::Rewrapped {
                        old,
                        new: joined(new),
                    })
                }
            }
        }
        Err(e) if !stream && !matches!(e.root(), Error::Io { .. }) => {
            if recursive {
                Ok(Outcome::NotKms)
            } else {
                Err("not a kms file (no kms magic, not a BlobInfo value)".into())
            }
        }
        Err(e) => match e.root() {
            Error::Io { source, .. } => Err(format!("read failed: {source}")),
            _ => Err(e.to_string()),
        },
    }
}

/// Replaces `path` with what `write` produces: temp file in the same directory, same
/// permissions, fsync, rename, fsync of the directory.
fn replace(
    path: &Path,
    perms: fs::Permissions,
    write: impl FnOnce(&mut io::BufWriter<&File>) -> kms::Result<()>,
) -> Result<(), String> {
    let temp = temp_beside(path).map_err(|f| f.message)?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, temp.as_file());
        write(&mut w).map_err(|e| match e.root() {
            Error::Io { source, .. } => format!("write failed: {source}"),
            _ => e.to_string(),
        })?;
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
