//! What `kms rewrap` tells: a line per file as it finishes (in walk order, whatever the order
//! of completion), then the files skipped, the summary line and the paths left; or, with
//! `--json`, one JSON object (docs/CLI.md, "kms rewrap --json").

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use indicatif::ProgressBar;
use kms::KeyId;
use serde_json::{json, Value};

use super::file::{FileResult, Outcome};
use super::shard::Shard;
use super::walk::{Left, LeftPath, Report, Target};
use crate::failure::{CliResult, Failure};
use crate::metered::CallCounts;

/// Key ids as shown to a person: each escaped (they come from unauthenticated headers),
/// `(empty)` when empty.
fn joined(ids: &[KeyId]) -> String {
    if ids.is_empty() {
        return "(empty)".to_owned();
    }
    ids.iter()
        .map(|id| crate::display::key_id(id.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn line(t: &Target, r: &FileResult<Outcome>) -> Option<String> {
    let shown = t.shown.display();
    match r {
        Ok(Outcome::Rewrapped { old, new }) => {
            Some(format!("{shown}: {} -> {}", joined(old), joined(new)))
        }
        Ok(Outcome::Current(ids)) => {
            Some(format!("{shown}: already under {}, unchanged", joined(ids)))
        }
        Ok(Outcome::NotKms) | Err(_) => None,
    }
}

/// Prints each file's line once those before it in walk order are printed, and counts files
/// done on the progress bar.
pub(super) struct Printer {
    text: bool,
    bar: Option<ProgressBar>,
    files: usize,
    done: AtomicUsize,
    /// The next index to print, and the lines finished ahead of it.
    pending: Mutex<(usize, BTreeMap<usize, Option<String>>)>,
}

impl Printer {
    pub(super) fn new(text: bool, bar: Option<ProgressBar>, files: usize) -> Printer {
        Printer {
            text,
            bar,
            files,
            done: AtomicUsize::new(0),
            pending: Mutex::new((0, BTreeMap::new())),
        }
    }

    pub(super) fn done(&self, i: usize, t: &Target, r: &FileResult<Outcome>) {
        if let Some(b) = &self.bar {
            let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
            b.set_message(format!("{done}/{} files", self.files));
        }
        if !self.text {
            return;
        }
        let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        p.1.insert(i, line(t, r));
        loop {
            let next = p.0;
            let Some(l) = p.1.remove(&next) else { break };
            p.0 += 1;
            if let Some(l) = l {
                match &self.bar {
                    Some(b) => b.println(l),
                    None => println!("{l}"),
                }
            }
        }
    }
}

/// A finished run, to be reported.
pub(super) struct Run {
    pub(super) files: Vec<Target>,
    pub(super) results: Vec<FileResult<Outcome>>,
    pub(super) report: Report,
    pub(super) calls: CallCounts,
    pub(super) shard: Shard,
}

fn left_class(why: Left) -> &'static str {
    match why {
        Left::Failed => "failed",
        Left::HardLinked => "hard_linked",
        Left::Unreadable => "unreadable_directory",
        Left::Symlink => "symlink_out_of_tree",
        Left::Leftover => "temp_file_leftover",
    }
}

fn ids(ids: &[KeyId]) -> Value {
    ids.iter().map(|i| Value::from(i.as_str())).collect()
}

impl Run {
    /// Prints the rest of the report; exit 0, or a failure (exit 1) listing every path left.
    pub(super) fn finish(self, json: bool) -> CliResult<ExitCode> {
        let Run {
            files,
            results,
            mut report,
            calls,
            shard,
        } = self;
        let (mut changed, mut current) = (0usize, 0usize);
        let mut not_kms = Vec::new();
        for (t, r) in files.iter().zip(&results) {
            match r {
                Ok(Outcome::Rewrapped { .. }) => changed += 1,
                Ok(Outcome::Current(_)) => current += 1,
                Ok(Outcome::NotKms) => not_kms.push(t.shown.display().to_string()),
                Err((why, reason)) => report.left.push(LeftPath {
                    why: *why,
                    path: t.shown.display().to_string(),
                    reason: reason.clone(),
                }),
            }
        }
        let r = &report;
        if json {
            let mut entries: Vec<(String, Value)> = Vec::new();
            for (t, res) in files.iter().zip(&results) {
                let path = t.shown.display().to_string();
                let v = match res {
                    Ok(Outcome::Rewrapped { old, new }) => {
                        json!({"path": path, "outcome": "rewrapped", "old": ids(old), "new": ids(new)})
                    }
                    Ok(Outcome::Current(k)) => {
                        json!({"path": path, "outcome": "current", "key_ids": ids(k)})
                    }
                    Ok(Outcome::NotKms) => json!({"path": path, "outcome": "not_kms"}),
                    Err(_) => continue,
                };
                entries.push((path, v));
            }
            for (path, note) in &r.notes {
                entries.push((
                    path.clone(),
                    json!({"path": path, "outcome": "skipped", "reason": note}),
                ));
            }
            for l in &r.left {
                entries.push((
                    l.path.clone(),
                    json!({"path": l.path, "outcome": "left", "class": left_class(l.why), "reason": l.reason}),
                ));
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let doc = json!({
                "files": entries.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
                "summary": {
                    "rewrapped": changed,
                    "current": current,
                    "not_kms": not_kms.len(),
                    "symlinks_not_followed": r.symlinks,
                    "special_files_skipped": r.special,
                    "left": {
                        "failed": r.count(Left::Failed),
                        "hard_linked": r.count(Left::HardLinked),
                        "unreadable_directories": r.count(Left::Unreadable),
                        "symlinks_out_of_tree": r.count(Left::Symlink),
                        "temp_file_leftovers": r.count(Left::Leftover),
                    },
                    "kms_calls": {
                        "total": calls.total(),
                        "wrap": calls.wrap,
                        "unwrap": calls.unwrap,
                        "rewrap": calls.rewrap,
                        "throttled_retried": calls.throttled,
                        "by_type": calls.by_kind,
                    },
                    "shard": (!shard.is_all()).then(|| shard.to_string()),
                    "other_shards": r.other_shards,
                    "ok": r.left.is_empty(),
                }
            });
            crate::report::emit(&doc);
        } else {
            for n in &not_kms {
                println!("{n}: not a kms file, skipped");
            }
            for (p, note) in &r.notes {
                println!("{p}: {note}");
            }
            let by_kind: String = calls
                .by_kind
                .iter()
                .map(|(k, n)| format!("; {k} {n}"))
                .collect();
            let shard_text = if shard.is_all() {
                String::new()
            } else {
                format!(
                    "; shard {shard}: {} paths belong to other shards",
                    r.other_shards
                )
            };
            println!(
                "rewrap: {changed} rewrapped, {current} already current, {} not kms files, {} symlinks not followed, {} special files skipped; left (still under other keys, or unknown): {} failed, {} hard-linked, {} unreadable directories, {} symlinks out of the tree, {} temp-file leftovers; {} KMS calls (wrap {}, unwrap {}, rewrap {}{by_kind}), {} throttled and retried{shard_text}",
                not_kms.len(),
                r.symlinks,
                r.special,
                r.count(Left::Failed),
                r.count(Left::HardLinked),
                r.count(Left::Unreadable),
                r.count(Left::Symlink),
                r.count(Left::Leftover),
                calls.total(),
                calls.wrap,
                calls.unwrap,
                calls.rewrap,
                calls.throttled,
            );
        }
        if r.left.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        let mut msg = format!(
            "rewrap: {} path(s) may still need the old key (left unchanged; do not retire it yet):",
            r.left.len()
        );
        for l in &r.left {
            msg.push('\n');
            msg.push_str(&format!("{}: {}", l.path, l.reason));
        }
        if json {
            // The run's object, already printed, says what is left; a second (error) object
            // would make stdout two JSON documents.
            return Ok(Failure::op(msg).report());
        }
        Err(Failure::op(msg))
    }
}
