//! Rewrap: putting data under the current key(s) of a purpose without re-encrypting it.
//!
//! A stream changes only its wrapped-key entries; its body is copied byte for byte (and its
//! length checked against the header). An envelope value changes only its wrapped data key
//! (wrapped with no context, as go-kms-wrapping); a direct value has no data key: it is
//! re-wrapped server-side when the target can, else decrypted and encrypted again. When a
//! target backend can re-wrap a recorded key itself (AWS KMS ReEncrypt, transit/rewrap,
//! [`Backend::rewrap`]) that is used, with no decrypt call: the body is
//! then checked for structure only (segment count and sizes against its length). Otherwise,
//! or with [`Rewrapper::verify`], the data key is unwrapped once per file, checked against the
//! key commitment and the header MAC (when no AAD is bound), and every segment is
//! authenticated while the body is copied.

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
    verify: bool,
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
            verify: false,
        })
    }

    /// With `verify`, every file is authenticated, current ones too: the data key is unwrapped
    /// (one decrypt call per file, also when the target re-wraps server-side) and every
    /// segment of a stream, or the whole value, is opened.
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Whether another configured wrapper has `t`'s kind and key id (two aead stanzas sharing
    /// a key_id, or with none): then a matching id does not show that `t` wrapped the data.
    fn ambiguous(&self, t: &dyn Backend) -> bool {
        self.targets
            .iter()
            .chain(&self.sources)
            .filter(|o| {
                !std::ptr::addr_eq(**o, t) && o.kind() == t.kind() && o.key_id() == t.key_id()
            })
            .count()
            > 0
    }

    /// Whether the recorded entries are exactly the targets: each target matches its own
    /// entry (same kind and key id), one to one. A target that cannot be told apart from
    /// another configured wrapper by kind and key id is confirmed by unwrapping an entry, so a
    /// file missing one of the target keys is never called current.
    async fn is_current(&self, header: &Header) -> bool {
        if header.entries.len() != self.targets.len() {
            return false;
        }
        let ctx = header.wrap_context();
        let mut used = vec![false; header.entries.len()];
        for t in &self.targets {
            let ambiguous = self.ambiguous(*t);
            let mut found = false;
            for (i, e) in header.entries.iter().enumerate() {
                if used[i] || e.kind != t.kind() || &e.key_id != t.key_id() {
                    continue;
                }
                if ambiguous && t.unwrap(&e.wrapped, &e.key_id, &ctx).await.is_err() {
                    continue;
                }
                used[i] = true;
                found = true;
                break;
            }
            if !found {
                return false;
            }
        }
        true
    }

    /// Whether [`Rewrapper::stream`] would find `header` current, decided without wrapping
    /// anything (an unwrap only for a target that kind and key id cannot tell apart from
    /// another configured wrapper): for refusing a file before spending KMS calls on it.
    pub async fn stream_is_current(&self, header: &StreamHeader) -> bool {
        self.is_current(&header.header).await
    }

    /// Whether [`Rewrapper::value`] would find `blob` current, decided as
    /// [`Rewrapper::stream_is_current`] is.
    pub async fn value_is_current(&self, blob: &BlobInfo) -> bool {
        self.targets.len() == 1 && self.value_current(self.targets[0], blob).await
    }

    /// A value records exactly `target`'s (non-empty) key id; an id shared with another
    /// configured wrapper is confirmed by decrypting.
    async fn value_current(&self, target: &dyn Backend, blob: &BlobInfo) -> bool {
        let old = blob.recorded_key_id();
        &old == target.key_id()
            && !old.is_empty()
            && (!self.ambiguous(target)
                || decrypt_value(&[target], blob, b"", self.purpose)
                    .await
                    .is_ok())
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
        let mut data_key = None;
        if self.verify {
            data_key = Some(unwrap_data_key(&header, &self.sources).await?);
        }
        if self.is_current(&header).await {
            let key = match &data_key {
                Some(dk) => Some(Arc::new(StreamKey::from_data_key_checked(
                    &header,
                    dk.expose_secret(),
                )?)),
                None => None,
            };
            return Ok(StreamRewrap {
                outcome: Outcome::Current(old),
                header,
                key,
            });
        }
        let ctx = header.wrap_context();
        let recorded: Vec<_> = header
            .entries
            .iter()
            .map(|e| (Some(e.kind.clone()), e.key_id.clone(), e.wrapped.clone()))
            .collect();
        let mut entries = Vec::with_capacity(self.targets.len());
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
            Some(dk) => Some(Arc::new(StreamKey::from_data_key_checked(
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

    /// A value under the target key. Current means it records exactly that (non-empty) key
    /// id, confirmed by decrypting when another configured wrapper shares it. Envelope values
    /// get a new wrapped data key (no context, as go-kms-wrapping); direct values are
    /// re-wrapped by the target when it can ([`Backend::rewrap`] with an empty AAD), else
    /// decrypted and encrypted again.
    ///
    /// # Errors
    /// Backend and selection errors; [`Error::DecryptFailed`].
    pub async fn value(&self, blob: &BlobInfo) -> Result<ValueRewrap> {
        if self.targets.len() > 1 {
            return Err(Error::InvalidInput(
                "a BlobInfo value holds one wrapped key, so --also cannot apply; use the stream format for multi-key data".into(),
            ));
        }
        let target = self.targets[0];
        let old = blob.recorded_key_id();
        // A direct value's plaintext is kept for the fallback below, which would otherwise
        // decrypt it again; an envelope value's is not needed past this check.
        let mut verified = None;
        if self.verify {
            let plain = decrypt_value(&self.sources, blob, b"", self.purpose).await?;
            if !blob.is_envelope() {
                verified = Some(plain);
            }
        }
        if self.value_current(target, blob).await {
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
            // A direct value is the backend's own ciphertext: a target that re-wraps it
            // server-side (KMS ReEncrypt, transit/rewrap) moves it without a decrypt call,
            // keeping the value's layout; anything else is decrypted and encrypted again. As
            // in `wrap_for`, a throttled or unreachable service gets its error back rather than
            // the decrypt and encrypt calls of the fallback.
            let server_side = match target
                .rewrap(&blob.ciphertext, &old, &WrapContext::Aad(Vec::new()))
                .await
            {
                Ok(w) => w,
                Err(e) if e.is_retryable() => return Err(e),
                Err(_) => None,
            };
            match server_side {
                Some(w) => {
                    blob.ciphertext = w.bytes;
                    blob.key_info.get_or_insert_with(Default::default).key_id =
                        w.key_id.as_str().to_owned();
                }
                None => {
                    let plain = match verified {
                        Some(plain) => plain,
                        None => decrypt_value(&self.sources, &blob, b"", self.purpose).await?,
                    };
                    blob = encrypt_value(target, plain.expose_secret(), b"", None).await?;
                }
            }
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
/// A re-wrap that fails for good (e.g. no kms:ReEncrypt permission) falls back to unwrapping;
/// one that was throttled or could not reach the service is returned as it is: falling back
/// would double the calls to a service that asked for fewer.
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
            match target.rewrap(wrapped, key_id, ctx).await {
                Ok(Some(w)) => return Ok(w),
                Err(e) if e.is_retryable() => return Err(e),
                _ => {}
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
    /// When the data key was unwrapped (a local source key, a migration between backends, or
    /// [`Rewrapper::verify`]) every segment is authenticated as it is copied. When every target
    /// re-wrapped server-side, the body's structure is checked: its length must make whole
    /// segments of the header's size, with a non-empty final segment. A caller writes to a
    /// temp file and keeps it only on success.
    ///
    /// # Errors
    /// [`Error::Malformed`] when the body's length does not fit the header,
    /// [`Error::DecryptFailed`] when a segment does not authenticate (tampered, truncated or
    /// extended): rewrap never passes on a broken file. [`Error::Io`].
    pub fn write(&self, body: &mut impl Read, output: &mut impl Write) -> Result<u64> {
        output
            .write_all(&self.header.encode())
            .map_err(|e| Error::io("writing output", e))?;
        self.copy_body(body, output)
    }

    /// Whether the data key was unwrapped, so that the body is authenticated, not only
    /// checked for structure.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Reads the body from `body` and checks it as [`StreamRewrap::write`] does, writing
    /// nothing: for a current file under [`Rewrapper::verify`].
    ///
    /// # Errors
    /// As [`StreamRewrap::write`].
    pub fn check_body(&self, body: &mut impl Read) -> Result<u64> {
        self.copy_body(body, &mut io::sink())
    }

    fn copy_body(&self, body: &mut impl Read, output: &mut impl Write) -> Result<u64> {
        let mut tee = Tee {
            input: body,
            output,
            n: 0,
            write_error: None,
        };
        let structure = match &self.key {
            Some(key) => key
                .decrypt_body(&mut tee, &mut io::sink(), &mut |_| {})
                .map(drop),
            None => io::copy(&mut tee, &mut io::sink())
                .map(drop)
                .map_err(|e| Error::io("reading input", e)),
        };
        if let Some(e) = tee.write_error.take() {
            return Err(Error::io("writing output", e));
        }
        structure?;
        let n = tee.n;
        let full = self.header.segment_bytes();
        let segments = self.header.segments_for_body(n);
        let malformed = match segments {
            Some(s) => s > 1 && n - (s - 1) * full == TAG_LEN as u64,
            None => true,
        };
        if malformed {
            return Err(Error::Malformed(format!(
                "stream body: {n} bytes do not make whole segments of {} bytes (truncated or extended); not rewrapped",
                self.header.segment_size
            )));
        }
        Ok(n)
    }
}

/// Copies what is read through it to `output`, counting bytes; a failed write is kept (and
/// reported as a write error, not a read error).
struct Tee<'r, 'w, R, W> {
    input: &'r mut R,
    output: &'w mut W,
    n: u64,
    write_error: Option<io::Error>,
}

impl<R: Read, W: Write> Read for Tee<'_, '_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.input.read(buf)?;
        if let Err(e) = self.output.write_all(&buf[..k]) {
            let msg = e.to_string();
            self.write_error = Some(e);
            return Err(io::Error::other(msg));
        }
        self.n += k as u64;
        Ok(k)
    }
}
