/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
///
/// A failed decryption is one opaque variant, [`Error::DecryptFailed`], whatever the cause
/// (wrong key, wrong context, tampered bytes), so that it tells an attacker nothing.
/// Backends keep their own error types and map them into this one.
/// No variant ever carries key material, plaintext or credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Authentication failed: wrong key, wrong context or AAD, or tampered data.
    #[error("decryption failed: wrong key, wrong AAD/context, or the data was modified")]
    DecryptFailed,
    /// The input is not a well-formed value of the expected format.
    #[error("malformed input: {0}")]
    Malformed(String),
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
        purpose: String,
        /// The key ids the data records.
        key_ids: Vec<String>,
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
    /// A bug or an environment failure (e.g. the OS RNG).
    #[error("internal error: {0}")]
    Internal(String),
}

fn fmt_ids(ids: &[String]) -> String {
    if ids.is_empty() {
        return "(none)".to_owned();
    }
    ids.iter()
        .map(|id| {
            if id.is_empty() {
                "\"\" (empty)".to_owned()
            } else {
                id.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// Whether trying the same call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Throttled(_) | Error::Unavailable(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_only_for_transient_errors() {
        assert!(Error::Throttled("x".into()).is_retryable());
        assert!(Error::Unavailable("x".into()).is_retryable());
        assert!(!Error::DecryptFailed.is_retryable());
        assert!(!Error::PermissionDenied("x".into()).is_retryable());
    }

    #[test]
    fn no_match_names_ids() {
        let e = Error::NoMatchingWrapper {
            purpose: "root".into(),
            key_ids: vec!["k1".into(), String::new()],
        };
        assert_eq!(
            e.to_string(),
            "no configured root wrapper matches the recorded key id(s): k1, \"\" (empty)"
        );
    }
}
