use crate::{KeyId, Purpose};

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
///
/// A failed decryption is one opaque variant, [`Error::DecryptFailed`], whatever the cause
/// (wrong key, wrong context, tampered bytes), so that it tells an attacker nothing.
/// Backends keep their own error types and map them into this one.
/// No variant ever carries key material, plaintext or credentials.
///
/// Context (a file, a stanza) is added with [`Error::context`] or [`ResultExt`]; it wraps the
/// error in [`Error::Context`], and [`Error::root`] finds what went wrong underneath. Match on
/// `e.root()`, never on the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Authentication failed: wrong key, wrong context or AAD, or tampered data.
    #[error("decryption failed: wrong key, wrong AAD/context, or the data was modified")]
    DecryptFailed,
    /// The input is not a well-formed value of the expected format.
    #[error("malformed input: {0}")]
    Malformed(String),
    /// The input ended inside a structure that needs more bytes (e.g. a stream header).
    #[error("malformed input: {0}")]
    Truncated(String),
    /// The input is too large or too small for the operation.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A configuration problem: a bad key, a missing setting.
    #[error("configuration error: {0}")]
    Config(String),
    /// No configured wrapper can open data recorded under these key ids.
    #[error("no configured {purpose} wrapper matches the recorded key id(s): {}", fmt_ids(.key_ids))]
    NoMatchingWrapper {
        /// The purpose that was searched.
        purpose: Purpose,
        /// The key ids the data records.
        key_ids: Vec<KeyId>,
    },
    /// The key or another resource does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller lacks a permission.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The key exists but cannot be used: disabled, pending deletion, wrong usage or spec.
    #[error("key unusable: {0}")]
    KeyUnusable(String),
    /// The service asked us to slow down. Retryable.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The service could not be reached or failed transiently. Retryable.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The backend does not support this operation.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Any other backend failure.
    #[error("backend error: {0}")]
    Backend(String),
    /// Reading or writing failed. `context` says what was being read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `reading input`.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A bug or an environment failure (e.g. the OS RNG).
    #[error("internal error: {0}")]
    Internal(String),
    /// `source`, with where it happened (a file, a stanza) in front.
    #[error("{context}: {source}")]
    Context {
        /// Where: e.g. `backup.kms` or `kms.hcl: kms "aead" block at line 3 (purpose root)`.
        context: String,
        /// What went wrong there.
        source: Box<Error>,
    },
}

fn fmt_ids(ids: &[KeyId]) -> String {
    if ids.is_empty() {
        return "(none)".to_owned();
    }
    ids.iter()
        .map(|id| {
            if id.is_empty() {
                "\"\" (empty)".to_owned()
            } else {
                // Recorded ids are unauthenticated: no control character, no forged line.
                id.as_str().escape_debug().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// An I/O error while doing `context` (e.g. `reading input`).
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// This error with `context` (a file, a stanza) in front of its message.
    pub fn context(self, context: impl Into<String>) -> Self {
        let context = context.into();
        if context.is_empty() {
            return self;
        }
        Error::Context {
            context,
            source: Box::new(self),
        }
    }

    /// What went wrong underneath any [`Error::Context`].
    pub fn root(&self) -> &Error {
        let mut e = self;
        while let Error::Context { source, .. } = e {
            e = source;
        }
        e
    }

    /// Whether trying the same call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.root(), Error::Throttled(_) | Error::Unavailable(_))
    }

    /// Whether the root cause is [`Error::DecryptFailed`].
    pub fn is_decrypt_failed(&self) -> bool {
        matches!(self.root(), Error::DecryptFailed)
    }

    /// Whether the root cause is a configuration problem (exit code 2 in the CLI).
    pub fn is_config(&self) -> bool {
        matches!(self.root(), Error::Config(_))
    }
}

/// Adds context to the error of a [`Result`].
pub trait ResultExt<T> {
    /// Puts `context` in front of the error, if any.
    ///
    /// # Errors
    /// The error of `self`, with context.
    fn context(self, context: impl Into<String>) -> Result<T>;

    /// As [`ResultExt::context`], computing the context only on error.
    ///
    /// # Errors
    /// The error of `self`, with context.
    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.context(context))
    }

    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.context(context()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_only_for_transient_errors() {
        assert!(Error::Throttled("x".into()).is_retryable());
        assert!(Error::Unavailable("x".into()).is_retryable());
        assert!(Error::Unavailable("x".into()).context("f").is_retryable());
        assert!(!Error::DecryptFailed.is_retryable());
        assert!(!Error::PermissionDenied("x".into()).is_retryable());
    }

    #[test]
    fn no_match_names_ids() {
        let e = Error::NoMatchingWrapper {
            purpose: Purpose::Root,
            key_ids: vec![KeyId::new("k1"), KeyId::default()],
        };
        assert_eq!(
            e.to_string(),
            "no configured root wrapper matches the recorded key id(s): k1, \"\" (empty)"
        );
    }

    #[test]
    fn context_nests_and_root_sees_through() {
        let e = Error::DecryptFailed.context("stanza").context("file");
        assert_eq!(
            e.to_string(),
            "file: stanza: decryption failed: wrong key, wrong AAD/context, or the data was modified"
        );
        assert!(e.is_decrypt_failed());
        assert!(matches!(e.root(), Error::DecryptFailed));
        assert!(matches!(
            Error::DecryptFailed.context(""),
            Error::DecryptFailed
        ));
    }

    #[test]
    fn io_carries_its_source() {
        let e = Error::io(
            "reading input",
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof"),
        );
        assert_eq!(e.to_string(), "reading input: eof");
        assert!(std::error::Error::source(&e).is_some());
    }
}
