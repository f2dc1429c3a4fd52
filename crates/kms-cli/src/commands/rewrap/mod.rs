//! `kms rewrap`: put files under the current key of a purpose, in place.
//!
//! The library does the rewrap (kms_envelope::rewrap: stream headers, values, ReEncrypt when
//! the target can, every segment authenticated when the data key is at hand); this module
//! walks directories, accounts for every path it meets, replaces each file through a temp
//! file (locked, checked for a concurrent change, owner and mode kept, fsynced, renamed, its
//! directory fsynced: `file.rs`), and reports (`report.rs`). Exit 0 means every kms file under
//! the given paths (of this `--shard`) is now under the target keys; anything else is listed,
//! and the exit code is 1.
//!
//! Files are rewrapped by `-j` workers at once: OS threads, each taking the next file of the
//! walk and driving its library calls on the runtime (`Handle::block_on`), so that file I/O
//! and fsyncs overlap as well as KMS round trips. A file's KMS calls are sequential, so at
//! most `-j` calls are in flight. Results are reported in walk order, whatever the order of
//! completion. Every backend call passes one counting, throttle-aware wrapper
//! (`crate::metered`) shared by the workers.
//!
//! Inside `-r`, symlinks are not followed (a walk never leaves its roots nor loops): one whose
//! target lies inside a root is covered there; one to a file outside the roots is checked,
//! never changed, and listed as left when that file is a kms file not under the target keys;
//! one to a directory outside the roots is listed as left. A symlink given as an argument is
//! followed: its target is rewrapped and the link kept. A file with other hard links is
//! refused (replacing it would split the links, leaving the others under the old key).

use std::fs;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use indicatif::{ProgressBar, ProgressStyle};
use kms::envelope::rewrap::Rewrapper;

use super::common::{build_encrypt_keyring, load_config};
use crate::cli::RewrapArgs;
use crate::failure::{CliResult, Failure};
use crate::metered::{metered, Calls};

mod file;
mod report;
pub(crate) mod shard;
mod walk;

use file::{FileResult, Outcome};
use walk::{walk, Left, Report, Target, Walk};

/// `-j`'s default: KMS calls are round trips and fsyncs wait on the disk, so workers mostly
/// wait; 16 was the knee of `cargo xtask bench`'s rewrap row on moto (docs/SCALE.md).
pub(crate) const DEFAULT_JOBS: usize = 16;

pub(crate) async fn rewrap(a: RewrapArgs) -> CliResult<ExitCode> {
    let config = load_config(&a.config).await?;
    let keyring = build_encrypt_keyring(&config, a.purpose, &a.also).await?;
    let calls = Arc::new(Calls::default());
    let ring = metered(&keyring, &calls);
    let rewrapper = Rewrapper::new(&ring, a.purpose, &a.also)
        .map_err(|e| Failure::from_error(&config.source, e))?
        .verify(a.verify);

    let mut r = gather(&a);
    let files = std::mem::take(&mut r.files);
    let total: u64 = files.iter().map(|f| f.size).sum();
    let bar =
        (!a.quiet && !a.json && io::stderr().is_terminal() && (a.recursive || total >= 8_000_000))
            .then(|| progress_bar(total));
    let printer = report::Printer::new(!a.json, bar.clone(), files.len());
    let results = run_all(
        &files,
        &rewrapper,
        a.recursive,
        a.jobs,
        bar.as_ref(),
        &|i, res| {
            printer.done(i, &files[i], res);
        },
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    report::Run {
        files,
        results,
        report: r,
        calls: calls.counts(),
        shard: a.shard,
    }
    .finish(a.json)
}

/// The files named by the arguments (walked with `-r`), and every other path met, sorted
/// into the report's classes.
fn gather(a: &RewrapArgs) -> Report {
    let mut r = Report::default();
    let roots: Vec<PathBuf> = a
        .paths
        .iter()
        .filter_map(|p| fs::canonicalize(p).ok())
        .collect();
    for p in &a.paths {
        match fs::metadata(p) {
            Ok(m) if m.is_dir() && a.recursive => {
                let w = Walk {
                    root: p,
                    roots: &roots,
                    shard: a.shard,
                };
                walk(p, &w, &mut r);
            }
            Ok(m) if m.is_dir() => r.leave(Left::Failed, p, "is a directory (use -r)"),
            Ok(m) if m.is_file() && !a.shard.owns(p) => r.other_shards += 1,
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
                    size: m.len(),
                });
            }
            Ok(_) => r.leave(Left::Failed, p, "not a regular file"),
            Err(e) => r.leave(Left::Failed, p, e),
        }
    }
    r
}

/// Bytes as they are read, the rate and the ETA; the files done in the message.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Rewraps `files` with `jobs` workers; the results are in the order of `files`. `done` is
/// called as each file finishes, from the worker that did it.
fn run_all(
    files: &[Target],
    rewrapper: &Rewrapper<'_>,
    recursive: bool,
    jobs: usize,
    bar: Option<&ProgressBar>,
    done: &(dyn Fn(usize, &FileResult<Outcome>) + Sync),
) -> Vec<FileResult<Outcome>> {
    let handle = tokio::runtime::Handle::current();
    let next = AtomicUsize::new(0);
    let slots: Vec<OnceLock<FileResult<Outcome>>> = files.iter().map(|_| OnceLock::new()).collect();
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(t) = files.get(i) else { break };
        let r = handle.block_on(file::rewrap_file(t, rewrapper, recursive, bar));
        done(i, &r);
        let _ = slots[i].set(r);
    };
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            for _ in 1..jobs.clamp(1, files.len().max(1)) {
                s.spawn(worker);
            }
            worker();
        });
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(|| Err((Left::Failed, "not processed (a worker stopped)".into())))
        })
        .collect()
}
