//! One file of `kms rewrap`: locked, read, rewrapped by the library, and replaced through a
//! temp file (owner and mode kept, fsynced, checked for a concurrent change, renamed, its
//! directory fsynced). Run by several workers at once; each file keeps every guarantee.

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use indicatif::ProgressBar;
use kms::envelope::rewrap::{self, Rewrapper};
use kms::envelope::{Ciphertext, Format, MAX_VALUE_BYTES};
use kms::{Error, KeyId};

use super::walk::{Left, Target};
use crate::filesafe::{self, Snapshot, LOCK_WAIT};
use crate::io::{sync_dir, temp_beside};

/// What became of a file.
pub(super) enum Outcome {
    Rewrapped { old: Vec<KeyId>, new: Vec<KeyId> },
    Current(Vec<KeyId>),
    NotKms,
}

pub(super) type FileResult<T> = Result<T, (Left, String)>;

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

/// Bytes read from a file, shown on the progress bar as they are read, so that one large
/// file shows progress too.
struct Counted<'a, R> {
    inner: R,
    bar: Option<&'a ProgressBar>,
    read: &'a Cell<u64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        if let Some(b) = self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

/// Rewraps one file; the bar (when shown) advances by the file's size in all.
pub(super) async fn rewrap_file(
    t: &Target,
    rewrapper: &Rewrapper<'_>,
    recursive: bool,
    bar: Option<&ProgressBar>,
) -> FileResult<Outcome> {
    let read = Cell::new(0);
    let r = rewrap_counted(t, rewrapper, recursive, bar, &read).await;
    if let Some(b) = bar {
        b.inc(t.size.saturating_sub(read.get()));
    }
    r
}

async fn rewrap_counted(
    t: &Target,
    rewrapper: &Rewrapper<'_>,
    recursive: bool,
    bar: Option<&ProgressBar>,
    read: &Cell<u64>,
) -> FileResult<Outcome> {
    let path = t.real.as_path();
    let (file, meta) = open_locked(path)?;
    let snapshot = Snapshot::of(&meta);
    let counted = Counted {
        inner: &file,
        bar,
        read,
    };
    let mut reader = BufReader::with_capacity(1 << 16, counted);
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
    // Refused only when it needs rewrapping: checked before any KMS call is spent on it (only
    // whether it is current decides, and that takes none), and again on the outcome.
    let refuse = || -> FileResult<()> {
        not_outside(t)?;
        refuse_links(&meta)
    };
    let refusable = meta.nlink() > 1 || t.outside;
    match Ciphertext::read(&mut reader) {
        Ok(Ciphertext::Stream(header)) => {
            if refusable && !rewrapper.stream_is_current(&header).await {
                refuse()?;
            }
            let r = rewrapper
                .stream(&header)
                .await
                .map_err(|e| failed(e.to_string()))?;
            match &r.outcome {
                rewrap::Outcome::Current(ids) => {
                    if rewrapper_verifies(&r) {
                        r.check_body(&mut reader).map_err(corrupt)?;
                    }
                    Ok(Outcome::Current(ids.clone()))
                }
                rewrap::Outcome::Rewrapped { old, new } => {
                    refuse()?;
                    replace(path, &meta, snapshot, |out| {
                        r.write(&mut reader, out).map(drop)
                    })?;
                    Ok(Outcome::Rewrapped {
                        old: old.clone(),
                        new: new.clone(),
                    })
                }
            }
        }
        Ok(Ciphertext::Value(v)) => {
            if refusable && !rewrapper.value_is_current(&v.blob).await {
                refuse()?;
            }
            let r = rewrapper
                .value(&v.blob)
                .await
                .map_err(|e| failed(e.to_string()))?;
            match &r.outcome {
                rewrap::Outcome::Current(ids) => Ok(Outcome::Current(ids.clone())),
                rewrap::Outcome::Rewrapped { old, new } => {
                    refuse()?;
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
                        old: old.clone(),
                        new: new.clone(),
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
