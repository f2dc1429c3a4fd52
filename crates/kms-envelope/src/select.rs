//! Choosing the wrapper that opens recorded data ("Choosing the wrapper" in ARCHITECTURE.md).

use kms_core::{Backend, BackendKind, Error, KeyId, Purpose, Result};

/// A key that data records: the backend kind when the format names it (the stream format
/// does, a bare BlobInfo does not) and the key id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The backend kind, when recorded.
    pub kind: Option<BackendKind>,
    /// The recorded key id.
    pub key_id: KeyId,
}

/// Orders `wrappers` for one recorded key: those whose current key id equals it first, then
/// the others that [`Backend::may_unwrap`] it, in configuration order. A recorded kind must
/// match the wrapper's.
pub fn candidates<'a>(wrappers: &[&'a dyn Backend], recorded: &Recorded) -> Vec<&'a dyn Backend> {
    let kind_ok = |w: &&&'a dyn Backend| recorded.kind.as_ref().is_none_or(|k| *k == w.kind());
    let exact = wrappers
        .iter()
        .filter(kind_ok)
        .filter(|w| w.key_id() == &recorded.key_id);
    let other = wrappers
        .iter()
        .filter(kind_ok)
        .filter(|w| w.key_id() != &recorded.key_id && w.may_unwrap(&recorded.key_id));
    exact.chain(other).copied().collect()
}

/// The (recorded index, wrapper) pairs to try, in order: recorded keys that a wrapper holds
/// as its current key come first (configured and current keys before the rest), then the
/// other recorded keys in the order the data lists them.
pub fn plan<'a>(
    wrappers: &[&'a dyn Backend],
    recorded: &[Recorded],
) -> Vec<(usize, &'a dyn Backend)> {
    let mut order: Vec<usize> = (0..recorded.len()).collect();
    order.sort_by_key(|&i| !wrappers.iter().any(|w| w.key_id() == &recorded[i].key_id));
    order
        .into_iter()
        .flat_map(|i| {
            candidates(wrappers, &recorded[i])
                .into_iter()
                .map(move |w| (i, w))
        })
        .collect()
}

/// The (recorded index, wrapper) pairs tried after [`plan`]: for each recorded key, the
/// wrappers of a matching kind that [`candidates`] left out. A recorded key id is not
/// authenticated (go-kms-wrapping's wrappers ignore it when they decrypt: aead opens with its
/// key, awskms lets KMS find the key from the ciphertext), so a value whose id was renamed in
/// the config or altered since must still open with the wrapper that holds its key; the GCM
/// tag, or KMS, decides.
pub fn fallback<'a>(
    wrappers: &[&'a dyn Backend],
    recorded: &[Recorded],
) -> Vec<(usize, &'a dyn Backend)> {
    recorded
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            let chosen = candidates(wrappers, r);
            wrappers
                .iter()
                .filter(|w| r.kind.as_ref().is_none_or(|k| *k == w.kind()))
                .filter(move |w| !chosen.iter().any(|c| std::ptr::addr_eq(*c, **w)))
                .map(move |w| (i, *w))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether selection goes past the wrappers that match the recorded key ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// Only [`plan`]: the stream format, whose entries name the key they are under.
    Matching,
    /// [`plan`], then [`fallback`]: go-kms-wrapping values, whose `key_info.key_id` the
    /// genuine wrappers ignore when they decrypt.
    EveryWrapper,
}

/// Tries `attempt(wrapper, recorded_index)` along [`plan`] (then, with
/// [`Fallback::EveryWrapper`], along [`fallback`]) until one succeeds.
///
/// A [`Error::DecryptFailed`] from one candidate moves on to the next. When every candidate
/// fails, the result is the last non-`DecryptFailed` error if there was one (an unreachable
/// KMS explains more than a wrapper that simply was not the right one), else
/// [`Error::NoMatchingWrapper`] naming the recorded ids when no wrapper matched them (only
/// fallbacks were tried, or none at all), else `DecryptFailed`.
///
/// # Errors
/// As above.
pub async fn try_candidates<'a, T, F, Fut>(
    wrappers: &[&'a dyn Backend],
    recorded: &[Recorded],
    purpose: Purpose,
    reach: Fallback,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(&'a dyn Backend, usize) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let primary = plan(wrappers, recorded);
    let matched = !primary.is_empty();
    let mut last_err = None;
    let more = match reach {
        Fallback::Matching => Vec::new(),
        Fallback::EveryWrapper => fallback(wrappers, recorded),
    };
    for (index, w) in primary.into_iter().chain(more) {
        match attempt(w, index).await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_decrypt_failed() => {}
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        if matched {
            Error::DecryptFailed
        } else {
            Error::NoMatchingWrapper {
                purpose,
                key_ids: recorded.iter().map(|r| r.key_id.clone()).collect(),
            }
        }
    }))
}
