//! Inputs, atomic outputs and progress.

use std::fs::{self, File};
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::failure::{CliResult, Failure};

/// Temp files are named `.NAME.kms-tmp-XXXXXX` in the target's directory.
pub(crate) const TEMP_MARKER: &str = ".kms-tmp-";

/// An opened input: a file or stdin.
pub(crate) struct Input {
    /// For messages: the path, or "stdin".
    pub(crate) name: String,
    pub(crate) path: Option<PathBuf>,
    pub(crate) reader: BufReader<Box<dyn Read + Send>>,
    /// The size in bytes, when known.
    pub(crate) len: Option<u64>,
}

pub(crate) fn open_input(path: Option<&Path>) -> CliResult<Input> {
    match path {
        None => Ok(stdin_input()),
        Some(p) if p.as_os_str() == "-" => Ok(stdin_input()),
        Some(p) => {
            let name = p.display().to_string();
            let file = File::open(p)
                .map_err(|e| Failure::op(format!("{name}: cannot open input: {e}")))?;
            let meta = file
                .metadata()
                .map_err(|e| Failure::op(format!("{name}: {e}")))?;
            if meta.is_dir() {
                return Err(Failure::usage(format!("{name}: is a directory")));
            }
            Ok(Input {
                name,
                path: Some(p.to_path_buf()),
                reader: BufReader::with_capacity(1 << 16, Box::new(file)),
                len: Some(meta.len()),
            })
        }
    }
}

fn stdin_input() -> Input {
    Input {
        name: "stdin".into(),
        path: None,
        reader: BufReader::with_capacity(1 << 16, Box::new(io::stdin())),
        len: None,
    }
}

/// Where output goes: stdout, or a temp file renamed over the target on commit.
pub(crate) enum Output {
    Stdout(io::BufWriter<io::Stdout>),
    File {
        temp: tempfile::NamedTempFile,
        target: PathBuf,
        writer: io::BufWriter<File>,
        /// The existing target, locked (filesafe::lock) until the rename, and its metadata.
        existing: Option<Box<(File, fs::Metadata)>>,
        /// Give the new file the existing one's owner and its mode limited to this mask
        /// (`config --overwrite`).
        keep_owner: Option<u32>,
    },
}

impl Output {
    /// Opens the output. `input` is refused as a target; `ciphertext` output is refused on
    /// a terminal.
    pub(crate) fn open(
        target: Option<&Path>,
        input: Option<&Path>,
        ciphertext: bool,
    ) -> CliResult<Output> {
        let Some(target) = target.filter(|t| t.as_os_str() != "-") else {
            if ciphertext && io::stdout().is_terminal() {
                return Err(Failure::usage(
                    "refusing to write ciphertext to a terminal; use -o FILE or redirect stdout",
                ));
            }
            return Ok(Output::Stdout(io::BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            )));
        };
        if let Some(input) = input {
            if same_file(input, target) {
                return Err(Failure::usage(format!(
                    "{}: the output is the input; write elsewhere (the input is never overwritten)",
                    target.display()
                )));
            }
        }
        let existing = crate::filesafe::lock_existing(target)?;
        let temp = temp_beside(target)?;
        let writer = temp
            .reopen()
            .map_err(|e| Failure::op(format!("{}: {e}", target.display())))?;
        Ok(Output::File {
            temp,
            target: target.to_path_buf(),
            writer: io::BufWriter::with_capacity(1 << 20, writer),
            existing: existing.map(Box::new),
            keep_owner: None,
        })
    }

    /// The new file keeps the replaced file's owner (as root) and its mode bits within
    /// `mode_mask`.
    pub(crate) fn keep_owner_and_mode(&mut self, mode_mask: u32) {
        if let Output::File { keep_owner, .. } = self {
            *keep_owner = Some(mode_mask);
        }
    }

    pub(crate) fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::File { writer, .. } => writer,
        }
    }

    /// Flushes and, for a file, renames the temp file over the target (fsyncing file and
    /// directory first when `sync`). Dropping an uncommitted output removes the temp file.
    pub(crate) fn commit(self, sync: bool) -> CliResult<()> {
        match self {
            Output::Stdout(mut w) => w
                .flush()
                .map_err(|e| Failure::op(format!("writing stdout: {e}"))),
            Output::File {
                temp,
                target,
                mut writer,
                existing,
                keep_owner,
            } => {
                let name = target.display().to_string();
                writer
                    .flush()
                    .map_err(|e| Failure::op(format!("{name}: write failed: {e}")))?;
                drop(writer);
                if let (Some(mask), Some(existing)) = (keep_owner, &existing) {
                    crate::filesafe::keep_owner_and_mode(temp.as_file(), &existing.1, mask)
                        .map_err(|e| Failure::op(format!("{name}: {e}")))?;
                }
                if sync {
                    temp.as_file()
                        .sync_all()
                        .map_err(|e| Failure::op(format!("{name}: fsync failed: {e}")))?;
                }
                temp.persist(&target)
                    .map_err(|e| Failure::op(format!("{name}: cannot replace: {}", e.error)))?;
                if sync {
                    sync_dir(&target)?;
                }
                Ok(())
            }
        }
    }
}

/// A new temp file (mode 0600) in `target`'s directory, named after it.
pub(crate) fn temp_beside(target: &Path) -> CliResult<tempfile::NamedTempFile> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut base = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    // `.` + base + marker + 6 random characters must fit a 255-byte file name.
    let room = 255 - 1 - TEMP_MARKER.len() - 6;
    if base.len() > room {
        let mut cut = room;
        while !base.is_char_boundary(cut) {
            cut -= 1;
        }
        base.truncate(cut);
    }
    tempfile::Builder::new()
        .prefix(&format!(".{base}{TEMP_MARKER}"))
        .tempfile_in(&dir)
        .map_err(|e| {
            Failure::op(format!(
                "{}: cannot create a temp file in {}: {e}",
                target.display(),
                dir.display()
            ))
        })
}

/// fsyncs the directory that holds `path`.
pub(crate) fn sync_dir(path: &Path) -> CliResult<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Failure::op(format!("{}: fsync of directory failed: {e}", dir.display())))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A progress bar on stderr for inputs over 8 MB when stderr is a terminal.
pub(crate) fn progress(len: Option<u64>, quiet: bool) -> Option<ProgressBar> {
    let len = len?;
    if quiet || len < 8_000_000 || !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}
