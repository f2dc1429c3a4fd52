//! Failures and exit codes: 0 ok, 1 the operation failed, 2 usage or configuration error.

use std::process::ExitCode;

use kms::Error;

/// Log targets that are always off, whatever RUST_LOG says: the SDK's wire-level request and
/// response logging, which would print KMS bodies (data keys, plaintext) in base64.
pub(crate) const SENSITIVE_LOG_TARGETS: &[&str] = &[
    "aws_smithy_runtime::client::http=off",
    "aws_smithy_runtime_api::client::http=off",
    "aws_smithy_http_client=off",
    "aws_smithy_http=off",
    "aws_sigv4=off",
    "hyper=off",
    "hyper_util=off",
    "h2=off",
];

/// A failure with its exit code and its one-line message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    /// Exit 1: the operation failed.
    pub(crate) fn op(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit 2: usage or configuration error.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// Maps a library error about `what` (e.g. a file name) to a failure.
    pub(crate) fn from_error(what: &str, e: Error) -> Self {
        let code = if e.is_config() { 2 } else { 1 };
        let message = if what.is_empty() {
            e.to_string()
        } else {
            format!("{what}: {e}")
        };
        Failure { code, message }
    }

    /// [`Failure::from_error`] for an error met using the keys of the config file `config`
    /// on the data `input`, with the next step when there is one ([`next_step`]).
    pub(crate) fn using_keys(input: &str, config: &str, e: Error) -> Self {
        let step = next_step(&e, config, input);
        Failure::from_error(input, e).with_next_step(step)
    }

    /// Appends `; STEP` to the message.
    pub(crate) fn with_next_step(mut self, step: Option<String>) -> Self {
        if let Some(step) = step {
            self.message.push_str("; ");
            self.message.push_str(&step);
        }
        self
    }

    /// Maps a config-loading failure: an invalid config is a usage error.
    pub(crate) fn from_load(e: kms::LoadError) -> Self {
        match e {
            kms::LoadError::Invalid(m) => Failure::usage(m),
            kms::LoadError::Backend(e) => Failure::from_error("", e),
            other => Failure::op(other.to_string()),
        }
    }

    /// Exit 141 without a word: the reader of stdout went away (`kms decrypt f | head`), as
    /// a Unix tool killed by SIGPIPE; the shell reports 128 + 13 for those too.
    pub(crate) fn broken_pipe() -> Self {
        Failure {
            code: 141,
            message: String::new(),
        }
    }

    /// Maps a library error met while copying `what` (the input) to `out_name`: a closed
    /// pipe exits quietly, binary plaintext refused for a terminal is a usage error, other
    /// I/O errors name both ends, what was being done and the cause.
    pub(crate) fn from_copy(what: &str, out_name: &str, e: Error) -> Self {
        match e.root() {
            Error::Io { context, source } => {
                if source.kind() == std::io::ErrorKind::BrokenPipe {
                    return Failure::broken_pipe();
                }
                if let Some(refusal) = crate::display::terminal_refusal(source) {
                    return Failure::usage(refusal);
                }
                Failure::op(format!(
                    "{what} -> {out_name}: {context}: {}",
                    io_cause(source)
                ))
            }
            _ => Failure::from_error(what, e),
        }
    }

    /// A failed write to `out_name`.
    pub(crate) fn from_write(out_name: &str, e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::broken_pipe();
        }
        if let Some(refusal) = crate::display::terminal_refusal(e) {
            return Failure::usage(refusal);
        }
        Failure::op(format!("{out_name}: write failed: {}", io_cause(e)))
    }

    pub(crate) fn report(&self) -> ExitCode {
        // One line per problem: a config with three mistakes prints three lines. Control
        // characters inside a line (from a file name or a recorded key id) are escaped.
        for line in self.message.lines() {
            eprintln!("kms: {}", crate::display::escape_controls(line));
        }
        ExitCode::from(self.code)
    }
}

/// What to do about `e`, met while using the keys of the config file `config` on the data
/// `input` (a file name, or `stdin`), when there is one concrete step (docs/ERRORS.md).
pub(crate) fn next_step(e: &Error, config: &str, input: &str) -> Option<String> {
    match e.root() {
        Error::DecryptFailed => {
            let inspect = if input.is_empty() || input == "stdin" {
                String::new()
            } else {
                format!(" (`kms inspect {input}` shows the key ids it records)")
            };
            Some(format!(
                "if the key was rotated, put the old key in {config} as a kms stanza with purpose \"previous-root\"{inspect}; else check --aad"
            ))
        }
        Error::NoMatchingWrapper { .. } => Some(format!(
            "add the key it was written under to {config}; after a rotation the old root key goes in a kms stanza with purpose \"previous-root\""
        )),
        Error::Throttled(_) => Some(
            "retry later: the calls share the account's KMS request quota (raise it, or run fewer at once)".to_owned(),
        ),
        Error::NotFound(_)
        | Error::PermissionDenied(_)
        | Error::KeyUnusable(_)
        | Error::Unavailable(_) => Some(format!("run `kms check -c {config}` to test each key")),
        _ => None,
    }
}

/// An I/O error as a user reads it: the common causes named plainly, with their errno name.
pub(crate) fn io_cause(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let plain = match e.kind() {
        K::StorageFull => "no space left on device (ENOSPC)",
        K::PermissionDenied => "permission denied (EACCES)",
        K::BrokenPipe => "the reader closed the pipe (EPIPE)",
        K::NotFound => "no such file or directory (ENOENT)",
        K::ReadOnlyFilesystem => "read-only file system (EROFS)",
        K::QuotaExceeded => "disk quota exceeded (EDQUOT)",
        _ => return e.to_string(),
    };
    plain.to_owned()
}

/// Refuses the SDK's body-logging switches: with them, KMS bodies (data keys, plaintext)
/// could reach a log. We filter those targets anyway; refusing makes the intent explicit.
pub(crate) fn refuse_body_logging() -> Result<(), Failure> {
    for var in ["LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"] {
        if std::env::var(var).is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(Failure::usage(format!(
                "{var}=true would log KMS request and response bodies, which carry data keys and plaintext; unset it"
            )));
        }
    }
    Ok(())
}

pub(crate) type CliResult<T> = Result<T, Failure>;
