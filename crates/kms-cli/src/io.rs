//! Inputs, outputs (atomic for files, direct for devices and FIFOs) and progress.

use std::fs::{self, File};
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::display::TextOnly;
use crate::failure::{io_cause, CliResult, Failure};
pub(crate) use crate::temp::temp_beside;
use crate::temp::TempFile;

/// An opened input: a file or stdin.
pub(crate) struct Input {
    /// For messages: the path, or "stdin".
    pub(crate) name: String,
    pub(crate) path: Option<PathBuf>,
    pub(crate) reader: BufReader<Box<dyn Read + Send>>,
    /// The size in bytes, when known: a regular file's (a pipe's or a device's is not).
    pub(crate) len: Option<u64>,
}

/// Opens the input. A missing input and a directory are both usage errors (exit 2): the
/// argument names nothing to read.
pub(crate) fn open_input(path: Option<&Path>) -> CliResult<Input> {
    match path {
        None => Ok(stdin_input()),
        Some(p) if p.as_os_str() == "-" => Ok(stdin_input()),
        Some(p) => {
            let (name, file, meta) = open_file(p)?;
            // Read-ahead hint: inputs are read once, front to back.
            let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::Sequential);
            Ok(Input {
                name,
                path: Some(p.to_path_buf()),
                reader: BufReader::with_capacity(1 << 16, Box::new(file)),
                len: meta.is_file().then_some(meta.len()),
            })
        }
    }
}

/// Opens an input file that is not a directory.
fn open_file(p: &Path) -> CliResult<(String, File, fs::Metadata)> {
    let name = p.display().to_string();
    let file = File::open(p).map_err(|e| {
        let msg = format!("{name}: cannot open input: {}", io_cause(&e));
        if e.kind() == io::ErrorKind::NotFound {
            Failure::usage(msg)
        } else {
            Failure::op(msg)
        }
    })?;
    let meta = file
        .metadata()
        .map_err(|e| Failure::op(format!("{name}: {}", io_cause(&e))))?;
    if meta.is_dir() {
        return Err(Failure::usage(format!(
            "{name}: is a directory; give a file (or - for stdin)"
        )));
    }
    Ok((name, file, meta))
}

/// An input opened for random access: a regular file or a block device, by path or as stdin.
pub(crate) struct SeekableInput {
    pub(crate) name: String,
    pub(crate) path: Option<PathBuf>,
    pub(crate) file: File,
}

/// Opens the input for random access (`what` names the options that need it); a pipe, a
/// terminal or another stream that cannot seek is a usage error.
pub(crate) fn open_seekable_input(path: Option<&Path>, what: &str) -> CliResult<SeekableInput> {
    let (name, path, file, meta) = match path.filter(|p| p.as_os_str() != "-") {
        None => {
            use std::os::fd::AsFd;
            let fd = io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| Failure::op(format!("stdin: {}", io_cause(&e))))?;
            let file = File::from(fd);
            let meta = file
                .metadata()
                .map_err(|e| Failure::op(format!("stdin: {}", io_cause(&e))))?;
            ("stdin".to_owned(), None, file, meta)
        }
        Some(p) => {
            let (name, file, meta) = open_file(p)?;
            (name, Some(p.to_path_buf()), file, meta)
        }
    };
    let ft = meta.file_type();
    if !(ft.is_file() || ft.is_block_device()) {
        let kind = if ft.is_fifo() {
            "a pipe"
        } else if ft.is_char_device() {
            "a character device or terminal"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "not a file"
        };
        return Err(Failure::usage(format!(
            "{name}: {what} need an input that can seek, and this is {kind}; give the file as INPUT (or redirect it: < FILE)"
        )));
    }
    Ok(SeekableInput { name, path, file })
}

fn stdin_input() -> Input {
    if io::stdin().is_terminal() {
        eprintln!(
            "kms: reading the input from the terminal: type it and end with Ctrl-D, or give an INPUT file"
        );
    }
    Input {
        name: "stdin".into(),
        path: None,
        reader: BufReader::with_capacity(1 << 16, Box::new(Fused::new(io::stdin()))),
        len: None,
    }
}

/// A reader that stays at its end once it reached it. A terminal's end (Ctrl-D) is not
/// sticky: a second read would wait for more typing.
struct Fused<R> {
    inner: R,
    done: bool,
}

impl<R> Fused<R> {
    fn new(inner: R) -> Self {
        Fused { inner, done: false }
    }
}

impl<R: Read> Read for Fused<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.done = n == 0;
        Ok(n)
    }
}

/// What an output receives, which decides what may go to a terminal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// Binary ciphertext: refused for a terminal.
    Ciphertext,
    /// Text (a base64 value, a config file): allowed anywhere.
    Text,
    /// Decrypted data: shown on a terminal only while it is text ([`TextOnly`]).
    Plaintext,
}

/// Where `-o` writes.
enum Target {
    Stdout,
    /// A character or block device or a FIFO: written into, as cp does.
    Special(PathBuf),
    /// A regular file (after following symbolic links), or a new one.
    File(PathBuf),
}

/// Resolves `-o`: a symbolic link is followed to its target (which is written, and the link
/// kept); a directory, a socket or a dangling link is a usage error.
fn resolve_target(target: Option<&Path>) -> CliResult<Target> {
    let Some(target) = target.filter(|t| t.as_os_str() != "-") else {
        return Ok(Target::Stdout);
    };
    let name = target.display();
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Target::File(target.to_path_buf()))
        }
        Err(e) => {
            return Err(Failure::op(format!(
                "{name}: cannot use as output: {}",
                io_cause(&e)
            )))
        }
    };
    let meta = if meta.file_type().is_symlink() {
        // Followed, /proc/self/fd/N magic links included (`-o /dev/stdout` to a pipe).
        fs::metadata(target).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Failure::usage(format!(
                    "{name}: a symbolic link to nothing; refusing to write through it"
                ))
            } else {
                Failure::op(format!("{name}: cannot use as output: {}", io_cause(&e)))
            }
        })?
    } else {
        meta
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(Failure::usage(format!(
            "{name}: is a directory; give -o a file name"
        )));
    }
    if ft.is_socket() {
        return Err(Failure::usage(format!(
            "{name}: is a socket; kms writes to files, devices and FIFOs"
        )));
    }
    if !ft.is_file() {
        // A character or block device or a FIFO, through the name given.
        return Ok(Target::Special(target.to_path_buf()));
    }
    // A regular file is replaced where it really is, so a link to it stays a link. A magic
    // link to a file that has no name any more is written into instead.
    match fs::canonicalize(target) {
        Ok(real) => Ok(Target::File(real)),
        Err(_) => Ok(Target::Special(target.to_path_buf())),
    }
}

/// Checks `-o` before any work: a directory, a socket or a dangling link is exit 2 before a
/// key is contacted or the input read.
pub(crate) fn check_output(target: Option<&Path>) -> CliResult<()> {
    resolve_target(target).map(drop)
}

/// Where output goes: stdout, a device or FIFO written directly, or a temp file renamed
/// over the target on commit.
pub(crate) struct Output {
    writer: io::BufWriter<Box<dyn Write + Send>>,
    dest: Dest,
}

enum Dest {
    Stdout,
    Special(String),
    File {
        temp: TempFile,
        target: PathBuf,
        /// The existing target, locked (`filesafe::lock_existing`) until the rename, and its
        /// metadata.
        existing: Option<Box<(File, fs::Metadata)>>,
        /// Give the new file the existing one's owner and its mode within this mask
        /// (`config --overwrite`).
        keep_owner: Option<u32>,
    },
}

impl Output {
    /// Opens the output. `input` is refused as a target; a terminal gets no ciphertext and
    /// only text plaintext ([`Content`]).
    pub(crate) fn open(
        target: Option<&Path>,
        input: Option<&Path>,
        content: Content,
    ) -> CliResult<Output> {
        let (inner, dest): (Box<dyn Write + Send>, Dest) = match resolve_target(target)? {
            Target::Stdout => {
                let tty = io::stdout().is_terminal();
                (guard(io::stdout(), tty, content, "stdout")?, Dest::Stdout)
            }
            Target::Special(path) => {
                let name = path.display().to_string();
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Failure::op(format!("{name}: cannot open: {}", io_cause(&e))))?;
                let tty = file.is_terminal();
                (guard(file, tty, content, &name)?, Dest::Special(name))
            }
            Target::File(target) => {
                if let Some(input) = input {
                    if same_file(input, &target) {
                        return Err(Failure::usage(format!(
                            "{}: the output is the input; write elsewhere (the input is never overwritten)",
                            target.display()
                        )));
                    }
                }
                let existing = crate::filesafe::lock_existing(&target)?.map(Box::new);
                let temp = temp_beside(&target)?;
                let file = temp
                    .reopen()
                    .map_err(|e| Failure::op(format!("{}: {}", target.display(), io_cause(&e))))?;
                let dest = Dest::File {
                    temp,
                    target,
                    existing,
                    keep_owner: None,
                };
                (Box::new(file), dest)
            }
        };
        Ok(Output {
            writer: io::BufWriter::with_capacity(1 << 16, inner),
            dest,
        })
    }

    /// The new file keeps the replaced file's owner (as root) and its mode bits within
    /// `mode_mask`.
    pub(crate) fn keep_owner_and_mode(&mut self, mode_mask: u32) {
        if let Dest::File { keep_owner, .. } = &mut self.dest {
            *keep_owner = Some(mode_mask);
        }
    }

    pub(crate) fn writer(&mut self) -> &mut (dyn Write + Send) {
        &mut self.writer
    }

    /// Whether the output is stdout.
    pub(crate) fn is_stdout(&self) -> bool {
        matches!(self.dest, Dest::Stdout)
    }

    /// The output's name for messages.
    pub(crate) fn name(&self) -> String {
        match &self.dest {
            Dest::Stdout => "stdout".to_owned(),
            Dest::Special(name) => name.clone(),
            Dest::File { target, .. } => target.display().to_string(),
        }
    }

    /// Flushes and, for a file, renames the temp file over the target (fsyncing file and
    /// directory first when `sync`). Dropping an uncommitted output removes the temp file.
    pub(crate) fn commit(self, sync: bool) -> CliResult<()> {
        let name = self.name();
        let Output { writer, dest } = self;
        let inner = writer
            .into_inner()
            .map_err(|e| Failure::from_write(&name, e.error()))?;
        drop(inner);
        let Dest::File {
            temp,
            target,
            existing,
            keep_owner,
        } = dest
        else {
            return Ok(());
        };
        if let (Some(mask), Some(existing)) = (keep_owner, &existing) {
            crate::filesafe::keep_owner_and_mode(temp.as_file(), &existing.1, mask)
                .map_err(|e| Failure::op(format!("{name}: {e}")))?;
        }
        if sync {
            temp.as_file()
                .sync_all()
                .map_err(|e| Failure::op(format!("{name}: fsync failed: {}", io_cause(&e))))?;
        }
        temp.persist(&target)
            .map_err(|e| Failure::op(format!("{name}: cannot replace: {}", io_cause(&e.error))))?;
        if sync {
            sync_dir(&target)?;
        }
        Ok(())
    }
}

/// `w`, refusing ciphertext for a terminal and guarding plaintext with [`TextOnly`].
fn guard<W: Write + Send + 'static>(
    w: W,
    tty: bool,
    content: Content,
    name: &str,
) -> CliResult<Box<dyn Write + Send>> {
    Ok(match (tty, content) {
        (true, Content::Ciphertext) => {
            return Err(Failure::usage(format!(
                "{name}: refusing to write ciphertext to a terminal; use -o FILE or redirect stdout"
            )))
        }
        (true, Content::Plaintext) => Box::new(TextOnly::new(w)),
        _ => Box::new(w),
    })
}

/// fsyncs the directory that holds `path`.
pub(crate) fn sync_dir(path: &Path) -> CliResult<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| {
        Failure::op(format!(
            "{}: fsync of directory failed: {}",
            dir.display(),
            io_cause(&e)
        ))
    })
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
