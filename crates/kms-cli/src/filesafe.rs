//! Replacing a file another process may use: advisory locks with a bounded wait, detecting a
//! concurrent change before the rename, and keeping owner and mode.
//!
//! The lock is `flock(LOCK_EX)` on the file being replaced. It is advisory: it serialises kms
//! processes (two rewraps, a rewrap and an `encrypt -o`), not other writers; those are caught
//! by [`Snapshot::unchanged`] just before the rename.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation, OFlags};

use crate::failure::{CliResult, Failure};

/// How long a kms process waits for another one's lock on the same file before failing.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Opens `path` for reading without blocking on a FIFO or device (`O_NONBLOCK`; no effect on
/// regular files), so a special file that replaced a regular one is refused, not waited on.
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(path)
}

/// Takes an exclusive advisory lock on `file`, waiting at most `wait` for another holder.
///
/// # Errors
/// A one-line reason naming `shown` when the lock stays held, or flock fails.
pub(crate) fn lock(file: &File, shown: &str, wait: Duration) -> Result<(), String> {
    let start = Instant::now();
    loop {
        match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::WOULDBLOCK) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(format!(
                "{shown}: locked by another kms process for over {} s; try again when it is done",
                wait.as_secs()
            ))
            }
            Err(rustix::io::Errno::NOLCK | rustix::io::Errno::NOSYS) => return Ok(()),
            Err(e) => return Err(format!("{shown}: cannot lock: {e}")),
        }
    }
}

/// Locks an existing regular file at `target` (waiting at most [`LOCK_WAIT`]) before it is
/// replaced; nothing for a new path or a special file. The lock lasts while the returned file
/// is open.
///
/// # Errors
/// A one-line failure naming `target` when another kms process keeps it locked.
pub(crate) fn lock_existing(target: &Path) -> CliResult<Option<(File, Metadata)>> {
    let Ok(m) = fs::metadata(target) else {
        return Ok(None);
    };
    if !m.is_file() {
        return Ok(None);
    }
    let shown = target.display().to_string();
    let file = open_nonblocking(target).map_err(|e| Failure::op(format!("{shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| Failure::op(format!("{shown}: {e}")))?;
    if !meta.is_file() {
        return Ok(None);
    }
    lock(&file, &shown, LOCK_WAIT).map_err(Failure::op)?;
    Ok(Some((file, meta)))
}

/// What identifies a file's content: device, inode, size, mtime and ctime (ns). A writer that
/// renames over the path changes the inode; one that writes in place changes mtime and ctime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Snapshot {
    pub(crate) fn of(m: &Metadata) -> Snapshot {
        Snapshot {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    /// Whether `path` still names this very file, unchanged (it is not followed if a symlink).
    pub(crate) fn unchanged(&self, path: &Path) -> bool {
        fs::symlink_metadata(path).is_ok_and(|m| Snapshot::of(&m) == *self)
    }

    /// Whether `path` names the same inode (content may differ).
    pub(crate) fn same_inode(&self, path: &Path) -> bool {
        fs::symlink_metadata(path).is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino)
    }
}

/// Gives `temp` the owner, group and permission bits of `original` (the file it replaces),
/// the bits limited to `mode_mask`.
/// The owner is kept as root; a user who does not own the file (or is not in its group)
/// cannot keep them, and the file is refused rather than silently changing hands. Extended
/// attributes (ACLs, SELinux labels, user xattrs) are not copied.
///
/// # Errors
/// A one-line reason.
pub(crate) fn keep_owner_and_mode(
    temp: &File,
    original: &Metadata,
    mode_mask: u32,
) -> Result<(), String> {
    let now = temp
        .metadata()
        .map_err(|e| format!("cannot stat the temp file: {e}"))?;
    if now.uid() != original.uid() || now.gid() != original.gid() {
        std::os::unix::fs::fchown(temp, Some(original.uid()), Some(original.gid())).map_err(
            |e| {
                format!(
                    "owned by uid {} gid {}, which this user cannot give the new file ({e}); run as root or as the owner",
                    original.uid(),
                    original.gid()
                )
            },
        )?;
    }
    // After chown, which clears set-id bits.
    temp.set_permissions(std::fs::Permissions::from_mode(
        original.permissions().mode() & mode_mask & 0o7777,
    ))
    .map_err(|e| format!("cannot set permissions: {e}"))
}
