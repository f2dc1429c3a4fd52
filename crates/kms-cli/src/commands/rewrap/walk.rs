//! Walking `rewrap -r`'s roots: every path met is sorted into a [`Report`] class, so that
//! nothing is skipped without a word. Symlinks are not followed (see [`super`]). With
//! `--shard`, a path of another shard is only counted; directories are walked by every shard
//! (their entries may be any shard's), and an unreadable one is reported by every shard.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::shard::Shard;
use crate::temp::is_temp_name;

/// Why a path is not (known to be) under the target keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Left {
    Failed,
    HardLinked,
    Unreadable,
    Symlink,
    Leftover,
}

/// A file to rewrap: as shown, and the path actually replaced (a symlink argument's target).
pub(super) struct Target {
    pub(super) shown: PathBuf,
    pub(super) real: PathBuf,
    /// The target of a symlink met inside `-r` that leads out of the tree: checked only.
    pub(super) outside: bool,
    /// Its size when walked, for the progress bar.
    pub(super) size: u64,
}

/// A path that may still need the old key, and why.
pub(super) struct LeftPath {
    pub(super) why: Left,
    pub(super) path: String,
    pub(super) reason: String,
}

#[derive(Default)]
pub(super) struct Report {
    pub(super) files: Vec<Target>,
    /// Paths reported but not failing: (path, note).
    pub(super) notes: Vec<(String, String)>,
    pub(super) left: Vec<LeftPath>,
    pub(super) symlinks: usize,
    pub(super) special: usize,
    /// Paths (other than directories) that belong to other shards.
    pub(super) other_shards: usize,
}

impl Report {
    pub(super) fn leave(&mut self, why: Left, path: &Path, msg: impl std::fmt::Display) {
        self.left.push(LeftPath {
            why,
            path: path.display().to_string(),
            reason: msg.to_string(),
        });
    }
    pub(super) fn note(&mut self, path: &Path, msg: impl Into<String>) {
        self.notes.push((path.display().to_string(), msg.into()));
    }
    pub(super) fn count(&self, why: Left) -> usize {
        self.left.iter().filter(|l| l.why == why).count()
    }
}

/// Where a walk is: its root (shard keys are paths relative to it), every root of the run,
/// and this run's shard.
pub(super) struct Walk<'a> {
    pub(super) root: &'a Path,
    pub(super) roots: &'a [PathBuf],
    pub(super) shard: Shard,
}

/// Walks `dir` without following symlinks, sorting what it meets into `r`.
pub(super) fn walk(dir: &Path, w: &Walk<'_>, r: &mut Report) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return r.leave(Left::Unreadable, dir, format!("cannot read directory: {e}")),
    };
    let mut paths = Vec::new();
    for e in entries {
        match e {
            Ok(e) => paths.push(e.path()),
            Err(e) => return r.leave(Left::Unreadable, dir, format!("cannot read directory: {e}")),
        }
    }
    paths.sort();
    let mut unsearchable = false;
    for p in paths {
        let mine = w.shard.owns(p.strip_prefix(w.root).unwrap_or(&p));
        let is_temp = p.file_name().is_some_and(|n| is_temp_name(n.as_bytes()));
        let m = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                unsearchable = true;
                continue;
            }
            Err(e) if mine => {
                r.leave(Left::Failed, &p, e);
                continue;
            }
            Err(_) => {
                r.other_shards += 1;
                continue;
            }
        };
        let t = m.file_type();
        if t.is_dir() {
            walk(&p, w, r);
        } else if !mine {
            r.other_shards += 1;
        } else if is_temp {
            r.leave(
                Left::Leftover,
                &p,
                "temp file left by an interrupted kms run; check it and remove it (kms clean)",
            );
        } else if t.is_file() {
            r.files.push(Target {
                shown: p.clone(),
                real: p,
                outside: false,
                size: m.len(),
            });
        } else if t.is_symlink() {
            symlink(&p, w.roots, r);
        } else {
            r.special += 1;
            let kind = if t.is_fifo() {
                "FIFO"
            } else if t.is_socket() {
                "socket"
            } else {
                "device"
            };
            r.note(&p, format!("{kind}, not a kms file, skipped"));
        }
    }
    if unsearchable {
        r.leave(
            Left::Unreadable,
            dir,
            "cannot search directory (permission denied): its entries were not checked",
        );
    }
}

/// A symlink met inside `-r`: not followed. One to a directory outside the roots is left; one
/// to a file outside them becomes a check-only [`Target`].
fn symlink(p: &Path, roots: &[PathBuf], r: &mut Report) {
    r.symlinks += 1;
    let Ok(target) = fs::canonicalize(p) else {
        return r.note(p, "dangling symlink, skipped");
    };
    if roots.iter().any(|root| target.starts_with(root)) {
        return r.note(
            p,
            format!(
                "symlink, not followed (its target {} is inside the tree)",
                target.display()
            ),
        );
    }
    match fs::metadata(&target) {
        Ok(m) if m.is_dir() => {
            r.leave(
                Left::Symlink,
                p,
                format!(
                    "symlink to the directory {} outside the tree, not followed; rewrap it directly",
                    target.display()
                ),
            );
        }
        Ok(m) if m.is_file() => r.files.push(Target {
            shown: p.to_path_buf(),
            real: target,
            outside: true,
            size: m.len(),
        }),
        _ => r.note(
            p,
            format!(
                "symlink to {}, not a regular file, skipped",
                target.display()
            ),
        ),
    }
}
