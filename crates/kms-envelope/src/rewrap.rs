//! Rewrap: putting data under the current key(s) of a purpose without re-encrypting it.
//!
//! A stream changes only its wrapped-key entries; its body is copied byte for byte (and its
//! length checked against the header). An envelope value changes only its wrapped data key
//! (wrapped with no context, as go-kms-wrapping); a direct value has no data key and is
//! decrypted and encrypted again. When a target backend can re-wrap a recorded key itself
//! (AWS KMS ReEncrypt, [`Backend::rewrap`]) that is used; otherwise the data key is
//! unwrapped once per file (and, for streams, checked against the key commitment).

use std::io::{self, Read, Write};
use std::sync::Arc;

use kms_core::cipher::TAG_LEN;
use kms_core::{
    Backend, BackendKind, BlobInfo, Error, KeyId, Purpose, Result, SecretBytes, WrapContext,
    Wrapped,
};

use crate::keyring::Keyring;
use crate::select::{self, Recorded};
use crate::stream::{entry_for, unwrap_data_key, Header, StreamHeader, StreamKey};
use crate::value::{decrypt_value, encrypt_value};

/// What a rewrap did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The data was moved from the `old` keys to the `new` ones.
    Rewrapped {
        /// The key ids it was under.
        old: Vec<KeyId>,
        /// The key ids it is under now.
        new: Vec<KeyId>,
    },
    /// The data is already under exactly the target keys; nothing to do.
    Current(Vec<KeyId>),
}

/// The target and source wrappers of a rewrap.
#[derive(Debug, Clone)]
pub struct Rewrapper<'a> {
    targets: Vec<&'a dyn Backend>,
    sources: Vec<&'a dyn Backend>,
    purpose: Purpose,
}

/// A stream's new header, ready to be written in front of its body.
#[derive(Debug, Clone)]
pub struct StreamRewrap {
    /// What the rewrap does.
    pub outcome: Outcome,
    header: Header,
    /// The body keys, when the data key was unwrapped (not when every target re-wrapped).
    key: Option<Arc<StreamKey>>,
}

/// A value after rewrap.
#[derive(Debug, Clone)]
pub struct ValueRewrap {
    /// What the rewrap did.
    pub outcome: Outcome,
    /// The value under the target key (unchanged when current).
    pub blob: BlobInfo,
}

impl<'a> Rewrapper<'a> {
    /// Rewraps data of `purpose` to the keyring's wrappers of `purpose` plus those of each of
    /// `also` (as [`Keyring::encrypt_wrappers_with`]); the old keys are looked up among every
    /// wrapper ([`Keyring::decrypt_wrappers_all`]).
    ///
    /// # Errors
    /// As [`Keyring::encrypt_wrappers_with`].
    pub fn new(keyring: &'a Keyring, purpose: Purpose, also: &[Purpose]) -> Result<Self> {
        Ok(Rewrapper {
            targets: keyring.encrypt_wrappers_with(purpose, also)?,
            sources: keyring.decrypt_wrappers_all(purpose),
            purpose,
        })
    }

    /// A stream's new header. Current means exactly the target keys, so a rewrap with fewer
    /// `also` purposes drops the other keys.
    ///
    /// # Errors
    /// Backend and selection errors from re-wrapping or unwrapping the data key;
    /// [`Error::DecryptFailed`] when an unwrapped key does not match the key commitment.
    pub async fn stream(&self, header: &StreamHeader) -> Result<StreamRewrap> {
        let mut header = header.header.clone();
        let old: Vec<KeyId> = header.entries.iter().map(|e| e.key_id.clone()).collect();
        let is_current = header.entries.len() == self.targets.len()
            && self.targets.iter().all(|t| {
                header
                    .entries
                    .iter()
                    .any(|e| e.kind == t.kind() && &e.key_id == t.key_id())
            });
        if is_current {
            return Ok(StreamRewrap {
                outcome: Outcome::Current(old),
                header,
                key: None,
            });
        }
        let ctx = header.wrap_context();
        let recorded: Vec<_> = header
            .entries
            .iter()
            .map(|e| (Some(e.kind.clone()), e.key_id.clone(), e.wrapped.clone()))
            .collect();
        let mut entries = Vec::with_capacity(self.targets.len());
        let mut data_key = None;
        for t in &self.targets {
            let h = &header;
            let sources = &self.sources;
            let w = wrap_for(*t, &recorded, &ctx, &mut data_key, || async move {
                unwrap_data_key(h, sources).await
            })
            .await?;
            entries.push(entry_for(t.kind(), w)?);
        }
        let key = match &data_key {
            Some(dk) => Some(Arc::new(StreamKey::from_data_key(
                &header,
                dk.expose_secret(),
            )?)),
            None => None,
        };
        header.entries = entries;
        let new = header.entries.iter().map(|e| e.key_id.clone()).collect();
        Ok(StreamRewrap {
            outcome: Outcome::Rewrapped { old, new },
            header,
            key,
        })
    }

    /// Rewraps the stream read from `input` into `output`: the header as
    /// [`Rewrapper::stream`] (written unchanged when current), then the body, checked for
    /// structure.
    ///
    /// # Errors
    /// As [`Rewrapper::stream`] and [`StreamRewrap::write`]; header errors.
    pub async fn stream_to(
        &self,
        input: &mut impl io::BufRead,
        output: &mut impl Write,
    ) -> Result<Outcome> {
        let header = StreamHeader::read(input)?;
        let r = self.stream(&header).await?;
        r.write(input, output)?;
        Ok(r.outcome)
    }

    /// A value under the first target key. Current means it records exactly that (non-empty)
    /// key id. Envelope values get a new wrapped data key (no context, as go-kms-wrapping);
    /// direct values are decrypted and encrypted again.
    ///
    /// # Errors
    /// Backend and selection errors; [`Error::DecryptFailed`].
    pub async fn value(&self, blob: &BlobInfo) -> Result<ValueRewrap> {
        let target = self.targets[0];
        let old = blob.recorded_key_id();
        if &old == target.key_id() && !old.is_empty() {
            return Ok(ValueRewrap {
                outcome: Outcome::Current(vec![old]),
                blob: blob.clone(),
            });
        }
        let mut blob = blob.clone();
        if blob.is_envelope() {
            let recorded = vec![(None, old.clone(), blob.wrapped_key().to_vec())];
            let b = &blob;
            let (sources, purpose) = (&self.sources, self.purpose);
            let w = wrap_for(
                target,
                &recorded,
                &WrapContext::None,
                &mut None,
                || async move {
                    let id = b.recorded_key_id();
                    let rec = [Recorded {
                        kind: None,
                        key_id: id.clone(),
                    }];
                    select::try_candidates(
                        sources,
                        &rec,
                        purpose,
                        select::Fallback::EveryWrapper,
                        |s, _| {
                            let id = &id;
                            async move { s.unwrap(b.wrapped_key(), id, &WrapContext::None).await }
                        },
                    )
                    .await
                },
            )
            .await?;
            if let Some(ki) = blob.key_info.as_mut() {
                ki.key_id = w.key_id.as_str().to_owned();
                ki.wrapped_key = w.bytes;
            }
        } else {
            let plain = decrypt_value(&self.sources, &blob, b"", self.purpose).await?;
            blob = encrypt_value(target, plain.expose_secret(), b"", None).await?;
        }
        Ok(ValueRewrap {
            outcome: Outcome::Rewrapped {
                old: vec![old],
                new: vec![target.key_id().clone()],
            },
            blob,
        })
    }
}

/// Wraps the data key under `target`: through the target's own re-wrap of a recorded entry
/// when it can, else by wrapping the data key, unwrapped (by `unwrap`) once for all targets.
async fn wrap_for<F, Fut>(
    target: &dyn Backend,
    recorded: &[(Option<BackendKind>, KeyId, Vec<u8>)],
    ctx: &WrapContext,
    data_key: &mut Option<SecretBytes>,
    unwrap: F,
) -> Result<Wrapped>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<SecretBytes>>,
{
    for (kind, key_id, wrapped) in recorded {
        if kind.as_ref().is_none_or(|k| *k == target.kind()) {
            if let Ok(Some(w)) = target.rewrap(wrapped, key_id, ctx).await {
                return Ok(w);
            }
        }
    }
    let dk = match data_key {
        Some(dk) => dk,
        None => data_key.insert(unwrap().await?),
    };
    target.wrap(dk.expose_secret(), ctx).await
}

impl StreamRewrap {
    /// Writes the new header, then copies the body from `body` (the input right after the
    /// old header) to `output`; returns the body's length.
    ///
    /// The body's length must fit the header's segments; when the data key was unwrapped
    /// (every backend but a re-wrapping one), the final segment is also authenticated, so a
    /// body cut or extended anywhere is refused.
    ///
    /// # Errors
    /// [`Error::Malformed`] when the body's length does not fit the header,
    /// [`Error::DecryptFailed`] when the final segment does not authenticate (a truncated or
    /// extended body): rewrap never passes on a broken file. [`Error::Io`].
    pub fn write(&self, body: &mut impl Read, output: &mut impl Write) -> Result<u64> {
        output
            .write_all(&self.header.encode())
            .map_err(|e| Error::io("writing output", e))?;
        let full = self.header.segment_bytes() as usize;
        let mut buf = vec![0u8; 1 << 16];
        // The last `full` bytes or more: the final segment is among them.
        let mut tail: Vec<u8> = Vec::with_capacity(3 * full);
        let mut n = 0u64;
        loop {
            let k = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("reading input", e)),
            };
            output
                .write_all(&buf[..k])
                .map_err(|e| Error::io("writing output", e))?;
            n += k as u64;
            if self.key.is_some() {
                tail.extend_from_slice(&buf[..k]);
                if tail.len() > 2 * full {
                    tail.drain(..tail.len() - full);
                }
            }
        }
        let segments = self.header.segments_for_body(n);
        let last_len = segments.map(|s| n - (s - 1) * full as u64);
        let malformed = match (segments, last_len) {
            (Some(s), Some(last)) => s > 1 && last == TAG_LEN as u64,
            _ => true,
        };
        if malformed {
            return Err(Error::Malformed(format!(
                "stream body: {n} bytes do not make whole segments of {} bytes (truncated or extended); not rewrapped",
                self.header.segment_size
            )));
        }
        if let (Some(key), Some(s), Some(last)) = (&self.key, segments, last_len) {
            let mut seg = tail[tail.len() - last as usize..].to_vec();
            key.open_final_segment(s - 1, &mut seg)?;
        }
        Ok(n)
    }
}
