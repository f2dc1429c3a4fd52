//! Choosing the wrapper that opens recorded data ("Choosing the wrapper" in ARCHITECTURE.md).

use kms_core::{Backend, Error, KeyId, Result};

/// Orders `wrappers` for data that records `recorded`: those whose current key id equals
/// it first, then the others that [`Backend::may_unwrap`] it, in configuration order.
pub fn candidates<'a>(wrappers: &[&'a dyn Backend], recorded: &KeyId) -> Vec<&'a dyn Backend> {
    let exact = wrappers.iter().filter(|w| w.key_id() == recorded);
    let other = wrappers.iter().filter(|w| w.key_id() != recorded && w.may_unwrap(recorded));
    exact.chain(other).copied().collect()
}

/// Tries `attempt` with each candidate for `recorded` until one succeeds.
///
/// A [`Error::DecryptFailed`] from one candidate moves on to the next. When every candidate
/// fails, the result is `DecryptFailed` if any of them said so (the data is not theirs or was
/// modified), else the last error (e.g. an unreachable KMS). No candidate at all gives
/// [`Error::NoMatchingWrapper`] naming the recorded id.
///
/// # Errors
/// As above.
pub async fn try_candidates<'a, T, F, Fut>(
    wrappers: &[&'a dyn Backend],
    recorded: &[KeyId],
    purpose: &str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(&'a dyn Backend, usize) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut decrypt_failed = false;
    let mut last_err = None;
    for (index, id) in recorded.iter().enumerate() {
        for w in candidates(wrappers, id) {
            match attempt(w, index).await {
                Ok(v) => return Ok(v),
                Err(Error::DecryptFailed) => decrypt_failed = true,
                Err(e) => last_err = Some(e),
            }
        }
    }
    if let Some(e) = last_err {
        // An unreachable or refusing backend explains the failure better than a generic
        // "decryption failed" from a wrapper that simply was not the right one.
        return Err(e);
    }
    if decrypt_failed {
        return Err(Error::DecryptFailed);
    }
    Err(Error::NoMatchingWrapper {
        purpose: purpose.to_owned(),
        key_ids: recorded.iter().map(|k| k.as_str().to_owned()).collect(),
    })
}
