//! Temp files beside their targets (`.NAME.kms-tmp-XXXXXX`), the registry of those still
//! alive (removed by the signal handler before the process exits), and recognising the
//! leftovers of a process killed with SIGKILL.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::failure::{CliResult, Failure};

/// Temp files are named `.NAME.kms-tmp-XXXXXX` in the target's directory.
pub(crate) const TEMP_MARKER: &str = ".kms-tmp-";
/// The random part tempfile appends (alphanumeric).
const RANDOM_LEN: usize = 6;
/// A file name's limit on Linux file systems (NAME_MAX).
const NAME_MAX: usize = 255;
/// The longest NAME kept in `.NAME.kms-tmp-XXXXXX`: longer names are cut, so the temp name
/// of a file whose name is at the limit still fits.
const MAX_BASE: usize = NAME_MAX - 1 - TEMP_MARKER.len() - RANDOM_LEN;

/// Temp files created and neither renamed nor removed yet.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A temp file beside its target, removed when dropped unless persisted, and by
/// [`remove_all_and_exit`] when a signal ends the process.
pub(crate) struct TempFile {
    inner: tempfile::NamedTempFile,
    registration: Registration,
}

/// The registry entry of a live temp file, withdrawn when dropped.
struct Registration {
    path: Option<PathBuf>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            live().retain(|p| *p != path);
        }
    }
}

/// Why [`TempFile::persist`] failed; the temp file is removed.
pub(crate) struct PersistError {
    pub(crate) error: io::Error,
}

impl TempFile {
    pub(crate) fn as_file(&self) -> &File {
        self.inner.as_file()
    }

    pub(crate) fn reopen(&self) -> io::Result<File> {
        self.inner.reopen()
    }

    /// Renames the temp file over `target`. Holding the registry's lock across the rename
    /// means a signal either removes the temp file or finds it renamed, never in between.
    pub(crate) fn persist(self, target: &Path) -> Result<(), PersistError> {
        let TempFile {
            inner,
            mut registration,
        } = self;
        let mut live = live();
        let result = inner.persist(target);
        if let Some(path) = registration.path.take() {
            live.retain(|p| *p != path);
        }
        match result {
            Ok(_) => Ok(()),
            // Dropping the returned file removes the temp file.
            Err(e) => Err(PersistError { error: e.error }),
        }
    }
}

/// A new temp file (mode 0600) in `target`'s directory, named `.NAME.kms-tmp-XXXXXX` after
/// it; the name is cut to fit in 255 bytes.
pub(crate) fn temp_beside(target: &Path) -> CliResult<TempFile> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = target
        .file_name()
        .map_or_else(|| b"out".to_vec(), |n| n.as_bytes().to_vec());
    let mut prefix = b".".to_vec();
    prefix.extend_from_slice(cut(&base));
    prefix.extend_from_slice(TEMP_MARKER.as_bytes());
    let prefix = OsString::from_vec(prefix);
    let mut live = live();
    let inner = tempfile::Builder::new()
        .prefix(&prefix)
        .rand_bytes(RANDOM_LEN)
        .tempfile_in(&dir)
        .map_err(|e| {
            Failure::op(format!(
                "{}: cannot create a temp file in {}: {}",
                target.display(),
                dir.display(),
                crate::failure::io_cause(&e)
            ))
        })?;
    live.push(inner.path().to_path_buf());
    let registration = Registration {
        path: Some(inner.path().to_path_buf()),
    };
    Ok(TempFile {
        inner,
        registration,
    })
}

/// `name` cut to [`MAX_BASE`] bytes, at a character boundary when it is UTF-8.
fn cut(name: &[u8]) -> &[u8] {
    if name.len() <= MAX_BASE {
        return name;
    }
    let mut end = MAX_BASE;
    if std::str::from_utf8(name).is_ok() {
        while end > 0 && std::str::from_utf8(&name[..end]).is_err() {
            end -= 1;
        }
    }
    &name[..end]
}

/// Removes every live temp file and exits with `code`. Called by the signal handler; the
/// registry stays locked, so no temp file is renamed into place afterwards.
pub(crate) fn remove_all_and_exit(code: i32) -> ! {
    let live = live();
    for p in live.iter() {
        let _ = std::fs::remove_file(p);
    }
    std::process::exit(code)
}

/// Whether `name` is what [`temp_beside`] creates: `.`, a name, [`TEMP_MARKER`], and six
/// letters or digits.
pub(crate) fn is_temp_name(name: &[u8]) -> bool {
    let marker = TEMP_MARKER.as_bytes();
    if name.first() != Some(&b'.') || name.len() < 1 + marker.len() + RANDOM_LEN {
        return false;
    }
    let (head, random) = name.split_at(name.len() - RANDOM_LEN);
    head.ends_with(marker) && random.iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_fit_and_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        for len in [1, 200, 239, 240, 255] {
            let name = "é".repeat(len / 2) + &"x".repeat(len % 2);
            let t = temp_beside(&dir.path().join(&name)).unwrap();
            let file_name = t.inner.path().file_name().unwrap().as_bytes().to_vec();
            assert!(file_name.len() <= NAME_MAX, "{len}: {}", file_name.len());
            assert!(std::str::from_utf8(&file_name).is_ok());
            assert!(is_temp_name(&file_name));
        }
        assert!(!is_temp_name(b".a.kms-tmp-12345"));
        assert!(!is_temp_name(b"a.kms-tmp-123456"));
        assert!(!is_temp_name(b".a.kms-tmp-12345!"));
    }
}
