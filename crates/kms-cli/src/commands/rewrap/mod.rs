//! `kms rewrap`: put files under the current key of a purpose, in place.
//!
//! The library does the rewrap (kms_envelope::rewrap: stream headers, values, ReEncrypt when
//! the target can, every segment authenticated when the data key is at hand); this module
//! walks directories, accounts for every path it meets, replaces each file through a temp
//! file (locked, checked for a concurrent change, owner and mode kept, fsynced, renamed, its
//! directory fsynced), and reports. Exit 0 means every kms file under the given paths is now
//! under the target keys; anything else is listed, and the exit code is 1.
//!
//! Inside `-r`, symlinks are not followed (a walk never leaves its roots nor loops): one whose
//! target lies inside a root is covered there; one to a file outside the roots is checked,
//! never changed, and listed as left when that file is a kms file not under the target keys;
//! one to a directory outside the roots is listed as left. A symlink given as an argument is
//! followed: its target is rewrapped and the link kept. A file with other hard links is
//! refused (replacing it would split the links, leaving the others under the old key).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kms::envelope::rewrap::{self, Rewrapper};
use kms::envelope::{Ciphertext, Format, MAX_VALUE_BYTES};
use kms::{Error, KeyId};

use super::common::{build_encrypt_keyring, load_config};
use crate::cli::RewrapArgs;
use crate::failure::{CliResult, Failure};
use crate::filesafe::{self, Snapshot, LOCK_WAIT};
use crate::io::{sync_dir, temp_beside};

mod walk;

use walk::{walk, Left, Report, Target};

enum Outcome {
    Rewrapped { old: String, new: String },
    Current(String),
    NotKms,
}

pub(crate) async fn rewrap(a: RewrapArgs) -> CliResult<ExitCode> {
    let config = load_config(&a.config).await?;
    let keyring = build_encrypt_keyring(&config, a.purpose, &a.also).await?;
    let rewrapper = Rewrapper::new(&keyring, a.purpose, &a.also)
        .map_err(|e| Failure::from_error(&config.source, e))?
        .verify(a.verify);

    let mut r = Report::default();
    let roots: Vec<PathBuf> = a
        .paths
        .iter()
        .filter_map(|p| fs::canonicalize(p).ok())
        .collect();
    for p in &a.paths {
        match fs::metadata(p) {
            Ok(m) if m.is_dir() && a.recursive => walk(p, &roots, &mut r),
            Ok(m) if m.is_dir() => r.leave(Left::Failed, p, "is a directory (use -r)"),
            Ok(m) if m.is_file() => {
                let is_link = fs::symlink_metadata(p).is_ok_and(|l| l.file_type().is_symlink());
                let real = if is_link {
                    fs::canonicalize(p).unwrap_or_else(|_| p.clone())
                } else {
                    p.clone()
                };
                r.files.push(Target {
                    shown: p.clone(),
                    real,
                    outside: false,
                });
            }
            Ok(_) => r.leave(Left::Failed, p, "not a regular file"),
            Err(e) => r.leave(Left::Failed, p, e),
        }
    }
    let bar = (!a.quiet && a.recursive && io::IsTerminal::is_terminal(&io::stderr()))
        .then(|| indicatif::ProgressBar::new(r.files.len() as u64));
    let mut not_kms = Vec::new();
    let (mut changed, mut current) = (0usize, 0usize);
    let files = std::mem::take(&mut r.files);
    for f in &files {
        let shown = f.shown.display().to_string();
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
            Err((why, msg)) => {
                r.left.push((why, format!("{shown}: {msg}")));
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
    for (p, note) in &r.notes {
        println!("{p}: {note}");
    }
    println!(
        "rewrap: {changed} rewrapped, {current} already current, {} not kms files, {} symlinks not followed, {} special files skipped; left (still under other keys, or unknown): {} failed, {} hard-linked, {} unreadable directories, {} symlinks out of the tree, {} temp-file leftovers",
        not_kms.len(),
        r.symlinks,
        r.special,
        r.count(Left::Failed),
        r.count(Left::HardLinked),
        r.count(Left::Unreadable),
        r.count(Left::Symlink),
        r.count(Left::Leftover),
    );
    if r.left.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut msg = format!(
        "rewrap: {} path(s) may still need the old key (left unchanged; do not retire it yet):",
        r.left.len()
    );
    for (_, f) in &r.left {
        msg.push('\n');
        msg.push_str(f);
    }
    Err(Failure::op(msg))
}

/// Key ids as shown to a person: each escaped (they come from unauthenticated headers),
/// `(empty)` when empty.
fn joined(ids: &[KeyId]) -> String {
    ids.iter()
        .map(|id| crate::display::key_id(id.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

type FileResult<T> = Result<T, (Left, String)>;

fn failed(msg: impl Into<String>) -> (Left, String) {
    (Left::Failed, msg.into())
}

/// Opens and locks `path`; retries when another process renamed a new file over it while
/// this one waited for the lock.
fn open_locked(path: &Path) -> FileResult<(File, fs::Metadata)> {
    for _ in 0..3 {
        let file =
            filesafe::open_nonblocking(path).map_err(|e| failed(format!("cannot open: {e}")))?;
        let meta = file.metadata().map_err(|e| failed(e.to_string()))?;
        if !meta.is_file() {
            return Err(failed("not a regular file"));
        }
        filesafe::lock(&file, "", LOCK_WAIT).map_err(|e| failed(e.trim_start_matches(": ")))?;
        let meta = file.metadata().map_err(|e| failed(e.to_string()))?;
        if Snapshot::of(&meta).same_inode(path) {
            return Ok((file, meta));
        }
    }
    Err(failed("replaced repeatedly by other writers; try again"))
}

async fn rewrap_file(
    t: &Target,
    rewrapper: &Rewrapper<'_>,
    recursive: bool,
) -> FileResult<Outcome> {
    let path = t.real.as_path();
    let (file, meta) = open_locked(path)?;
    let snapshot = Snapshot::of(&meta);
    let mut reader = BufReader::with_capacity(1 << 16, &file);
    let head = reader
        .fill_buf()
        .map_err(|e| failed(format!("read failed: {e}")))?;
    let stream = head.len() >= 8 && Ciphertext::detect(&head[..8]) == Format::Stream;
    if !stream && meta.len() > MAX_VALUE_BYTES {
        return if recursive {
            Ok(Outcome::NotKms)
        } else {
            Err(failed(
                "not a kms file (no kms magic, and too large for a BlobInfo value)",
            ))
        };
    }
    let refuse_links = |m: &fs::Metadata| -> FileResult<()> {
        if m.nlink() > 1 {
            return Err((
                Left::HardLinked,
                format!(
                    "has {} hard links; not rewrapped, since replacing it would leave the other links under the old key (rewrap a copy, then link it again)",
                    m.nlink()
                ),
            ));
        }
        Ok(())
    };
    match Ciphertext::read(&mut reader) {
        Ok(Ciphertext::Stream(header)) => {
            let r = rewrapper
                .stream(&header)
                .await
                .map_err(|e| failed(e.to_string()))?;
            match &r.outcome {
                rewrap::Outcome::Current(ids) => {
                    if rewrapper_verifies(&r) {
                        r.check_body(&mut reader).map_err(corrupt)?;
                    }
                    Ok(Outcome::Current(joined(ids)))
                }
                rewrap::Outcome::Rewrapped { old, new } => {
                    not_outside(t)?;
                    refuse_links(&meta)?;
                    let (old, new) = (joined(old), joined(new));
                    replace(path, &meta, snapshot, |out| {
                        r.write(&mut reader, out).map(drop)
                    })?;
                    Ok(Outcome::Rewrapped { old, new })
                }
            }
        }
        Ok(Ciphertext::Value(v)) => {
            let r = rewrapper
                .value(&v.blob)
                .await
                .map_err(|e| failed(e.to_string()))?;
            match &r.outcome {
                rewrap::Outcome::Current(ids) => Ok(Outcome::Current(joined(ids))),
                rewrap::Outcome::Rewrapped { old, new } => {
                    not_outside(t)?;
                    refuse_links(&meta)?;
                    let old = match joined(old) {
                        o if o.is_empty() => "(empty)".to_owned(),
                        o => o,
                    };
                    replace(path, &meta, snapshot, |out| {
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
                Err(failed(
                    "not a kms file (no kms magic, not a BlobInfo value)",
                ))
            }
        }
        Err(e) => match e.root() {
            Error::Io { source, .. } => Err(failed(format!("read failed: {source}"))),
            _ => Err(corrupt(e)),
        },
    }
}

/// A symlink's target outside the tree is checked, never changed.
fn not_outside(t: &Target) -> FileResult<()> {
    if t.outside {
        return Err((
            Left::Symlink,
            format!(
                "symlink to {} outside the tree, not followed, and that file is not under the target keys; rewrap it directly",
                t.real.display()
            ),
        ));
    }
    Ok(())
}

/// Whether a current stream's body is to be authenticated (`--verify` unwrapped its key).
fn rewrapper_verifies(r: &rewrap::StreamRewrap) -> bool {
    r.has_key()
}

/// A body or header that failed its checks.
fn corrupt(e: Error) -> (Left, String) {
    match e.root() {
        Error::Io { source, .. } => failed(format!("read failed: {source}")),
        Error::DecryptFailed => failed(
            "corrupt: a segment does not authenticate (tampered, truncated or extended); left unchanged",
        ),
        _ => failed(format!("corrupt: {e}; left unchanged")),
    }
}

/// Replaces `path` with what `write` produces: temp file in the same directory, owner and
/// mode of the original, fsync, a check that nobody changed `path` meanwhile, rename, fsync
/// of the directory. On any failure the temp file is removed and `path` is untouched.
fn replace(
    path: &Path,
    original: &fs::Metadata,
    snapshot: Snapshot,
    write: impl FnOnce(&mut io::BufWriter<&File>) -> kms::Result<()>,
) -> FileResult<()> {
    let temp = temp_beside(path).map_err(|f| failed(f.message))?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, temp.as_file());
        write(&mut w).map_err(|e| match e.root() {
            Error::Io { source, .. } => failed(format!("write failed: {source}")),
            _ => corrupt(e),
        })?;
        w.flush()
            .map_err(|e| failed(format!("write failed: {e}")))?;
    }
    filesafe::keep_owner_and_mode(temp.as_file(), original, 0o7777).map_err(failed)?;
    temp.as_file()
        .sync_all()
        .map_err(|e| failed(format!("fsync failed: {e}")))?;
    if !snapshot.unchanged(path) {
        return Err(failed(
            "changed by another writer during the rewrap; the other writer's version is kept; run rewrap again",
        ));
    }
    temp.persist(path)
        .map_err(|e| failed(format!("cannot replace: {}", e.error)))?;
    sync_dir(path).map_err(|f| failed(f.message))
}
