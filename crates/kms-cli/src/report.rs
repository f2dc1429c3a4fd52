//! `--json` output: one JSON object on stdout per run, success or failure (docs/CLI.md).

use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::{json, Value};

use crate::failure::{CliResult, Failure};

/// Prints `report` as the run's one JSON object.
pub(crate) fn emit(report: &Value) {
    // A Value always serializes; a closed stdout is not worth a second error.
    let text = serde_json::to_string_pretty(report).unwrap_or_default();
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// The `error` member of a failed run's object.
pub(crate) fn error_value(f: &Failure) -> Value {
    json!({ "message": f.message, "exit_code": f.code })
}

/// The object of a run that failed before it had anything else to report.
pub(crate) fn emit_failure(f: &Failure) {
    // 141: the reader of stdout went away; there is no one to tell.
    if f.code != 141 {
        emit(&json!({ "ok": false, "error": error_value(f) }));
    }
}

/// A path as JSON: its text (lossy for non-UTF-8 names), or null for stdin/stdout.
pub(crate) fn path_value(p: Option<&Path>) -> Value {
    match p {
        Some(p) if p != Path::new("-") => Value::String(p.to_string_lossy().into_owned()),
        _ => Value::Null,
    }
}

/// `--json` writes the object to stdout, so the data must go to a file.
pub(crate) fn require_output(command: &str, output: Option<&Path>, why: &str) -> CliResult<()> {
    if output.is_some_and(|o| o != Path::new("-")) {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "{command} --json needs -o FILE: stdout carries the JSON object{why}"
    )))
}

/// A reader or writer that counts the bytes through it.
pub(crate) struct Counted<T> {
    pub(crate) inner: T,
    pub(crate) bytes: u64,
}

impl<T> Counted<T> {
    pub(crate) fn new(inner: T) -> Self {
        Counted { inner, bytes: 0 }
    }
}

impl<T: Read> Read for Counted<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<T: Write> Write for Counted<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The keys new data is wrapped under, each with the purpose that brought it in: `purpose`'s,
/// then each of `also`'s, each wrapper once (as `Keyring::encrypt_wrappers_with`).
pub(crate) fn encrypt_keys(
    keyring: &kms::keyring::Keyring,
    purpose: kms::Purpose,
    also: &[kms::Purpose],
) -> Value {
    let mut seen: Vec<&dyn kms::Backend> = Vec::new();
    let mut keys = Vec::new();
    for p in std::iter::once(purpose).chain(also.iter().copied()) {
        for w in keyring.encrypt_wrappers(p).unwrap_or_default() {
            if seen.iter().any(|o| std::ptr::addr_eq(*o, w)) {
                continue;
            }
            seen.push(w);
            keys.push(json!({
                "purpose": p.as_str(),
                "type": w.kind().as_str(),
                "key_id": w.key_id().as_str(),
            }));
        }
    }
    Value::Array(keys)
}

/// The (kind, key id) pairs an input records, as given (unauthenticated: shown, not trusted).
pub(crate) fn recorded_keys<'a>(keys: impl Iterator<Item = (&'a str, &'a str)>) -> Value {
    keys.map(|(kind, id)| json!({ "type": kind, "key_id": id }))
        .collect()
}
