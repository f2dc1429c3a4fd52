//! `kms clean`: remove the temp files (`.NAME.kms-tmp-XXXXXX`) a killed kms left behind.
//!
//! A signal that can be caught (SIGINT, SIGTERM, SIGHUP) removes them before kms exits;
//! SIGKILL, a power cut or a crash cannot. Such a leftover may hold plaintext (from
//! `decrypt -o` or `config decrypt`), so it is worth removing, and only this exact name
//! pattern is ever touched.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::CleanArgs;
use crate::display::escape_controls;
use crate::failure::{io_cause, CliResult, Failure};
use crate::temp::is_temp_name;

pub(crate) fn clean(a: CleanArgs) -> CliResult<ExitCode> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for p in &a.paths {
        // A directory given by a symbolic link is searched; links inside are not followed.
        if fs::metadata(p).is_ok_and(|m| m.is_dir()) {
            walk(p, &mut found, &mut problems);
            continue;
        }
        match fs::symlink_metadata(p) {
            Ok(m) if m.is_file() && p.file_name().is_some_and(|n| is_temp_name(n.as_bytes())) => {
                found.push(p.clone())
            }
            Ok(_) => {
                return Err(Failure::usage(format!(
                    "{}: not a directory or a kms temp file (.NAME.kms-tmp-XXXXXX)",
                    p.display()
                )))
            }
            Err(e) => {
                return Err(Failure::usage(format!("{}: {}", p.display(), io_cause(&e))));
            }
        }
    }
    // The same file reached through two arguments (a directory and a link to it) is one.
    let mut seen = std::collections::HashSet::new();
    found.retain(|f| fs::symlink_metadata(f).is_ok_and(|m| seen.insert((m.dev(), m.ino()))));
    let mut removed = 0usize;
    for f in &found {
        let shown = escape_controls(&f.display().to_string());
        if a.dry_run {
            println!("{shown}: kms temp file, would be removed");
            continue;
        }
        match fs::remove_file(f) {
            Ok(()) => {
                removed += 1;
                println!("{shown}: removed");
            }
            Err(e) => problems.push(format!("{shown}: cannot remove: {}", io_cause(&e))),
        }
    }
    if a.dry_run {
        println!(
            "clean: {} kms temp file(s) found (dry run: none removed)",
            found.len()
        );
    } else {
        println!("clean: {removed} kms temp file(s) removed");
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut msg = format!("clean: {} path(s) could not be handled:", problems.len());
    for p in &problems {
        msg.push('\n');
        msg.push_str(p);
    }
    Err(Failure::op(msg))
}

/// Collects temp files under `dir`; symbolic links are not followed.
fn walk(dir: &Path, found: &mut Vec<PathBuf>, problems: &mut Vec<String>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return problems.push(format!(
                "{}: cannot read directory: {}",
                escape_controls(&dir.display().to_string()),
                io_cause(&e)
            ))
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, found, problems),
            Ok(m) if m.is_file() && p.file_name().is_some_and(|n| is_temp_name(n.as_bytes())) => {
                found.push(p)
            }
            _ => {}
        }
    }
}
