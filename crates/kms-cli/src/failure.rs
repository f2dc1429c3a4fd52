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

    /// Maps a config-loading failure: an invalid config is a usage error.
    pub(crate) fn from_load(e: kms::LoadError) -> Self {
        match e {
            kms::LoadError::Invalid(m) => Failure::usage(m),
            kms::LoadError::Backend(e) => Failure::from_error("", e),
            other => Failure::op(other.to_string()),
        }
    }

    pub(crate) fn report(&self) -> ExitCode {
        // One line per problem: a config with three mistakes prints three lines.
        for line in self.message.lines() {
            eprintln!("kms: {line}");
        }
        ExitCode::from(self.code)
    }
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
