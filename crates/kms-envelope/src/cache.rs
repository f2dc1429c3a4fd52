//! Data-key caching for many small values (opt in), as the AWS Encryption SDK's caching CMM.
//!
//! [`CachingEncryptor`] reuses one data key for envelope values until a limit is reached:
//! its age, the number of values, or the bytes encrypted. Each value still gets a fresh random
//! 96-bit IV. Nonce safety: with random IVs, NIST SP 800-38D bounds one key to 2^32
//! messages for a collision chance below 2^-32; [`CacheLimits::max_messages`] is capped at
//! that, and the defaults are far below it.
//!
//! [`DecryptCache`] remembers unwrapped data keys by their wrapped bytes, so decrypting many
//! values made under one cached data key costs one backend call.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kms_core::cipher::{AesGcm, NONCE_LEN, TAG_LEN};
use kms_core::{
    awskms_mechanism, Backend, BlobInfo, Error, Key256, KeyId, KeyInfo, Result, SecretBytes,
    WrapContext,
};

use crate::select::{self, Recorded};

/// The hard cap on values per data key (random 96-bit IVs).
pub const MAX_MESSAGES_CAP: u64 = 1 << 32;

/// When a cached data key must be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheLimits {
    /// The longest a data key is used.
    pub max_age: Duration,
    /// The most values encrypted under one data key (capped at [`MAX_MESSAGES_CAP`]).
    pub max_messages: u64,
    /// The most plaintext bytes encrypted under one data key.
    pub max_bytes: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            max_age: Duration::from_secs(300),
            max_messages: 1000,
            max_bytes: 1 << 30,
        }
    }
}

// The lock is a std Mutex: no critical section awaits while holding it.
struct Entry {
    cipher: AesGcm,
    wrapped: Vec<u8>,
    key_id: KeyId,
    created: Instant,
    messages: u64,
    bytes: u64,
}

/// Encrypts envelope values, reusing a data key within [`CacheLimits`].
pub struct CachingEncryptor<'a> {
    backend: &'a dyn Backend,
    limits: CacheLimits,
    entry: Mutex<Option<Entry>>,
}

impl std::fmt::Debug for CachingEncryptor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingEncryptor")
            .field("backend", &self.backend.kind())
            .field("limits", &self.limits)
            .finish()
    }
}

impl<'a> CachingEncryptor<'a> {
    /// A caching encryptor over `backend`.
    pub fn new(backend: &'a dyn Backend, mut limits: CacheLimits) -> Self {
        limits.max_messages = limits.max_messages.clamp(1, MAX_MESSAGES_CAP);
        CachingEncryptor {
            backend,
            limits,
            entry: Mutex::new(None),
        }
    }

    fn usable(&self, e: &Entry, len: usize) -> bool {
        e.created.elapsed() < self.limits.max_age
            && e.messages < self.limits.max_messages
            && e.bytes.saturating_add(len as u64) <= self.limits.max_bytes
    }

    /// Encrypts `plaintext` as an envelope value (mechanism 1), binding `aad`.
    ///
    /// # Errors
    /// Backend errors when a new data key must be wrapped.
    pub async fn encrypt_value(&self, plaintext: &[u8], aad: &[u8]) -> Result<BlobInfo> {
        if let Some(blob) = self.try_cached(plaintext, aad)? {
            return Ok(blob);
        }
        // Wrap a fresh key without holding the lock across the await; concurrent callers may
        // each wrap one, and the last one stored wins. Each is a valid key for its own values.
        let key = Key256::generate()?;
        let wrapped = self
            .backend
            .wrap(key.expose_secret(), &WrapContext::None)
            .await?;
        let entry = Entry {
            cipher: AesGcm::new(&key),
            wrapped: wrapped.bytes,
            key_id: wrapped.key_id,
            created: Instant::now(),
            messages: 0,
            bytes: 0,
        };
        let mut guard = self
            .entry
            .lock()
            .map_err(|_| Error::Internal("cache lock poisoned".into()))?;
        let e = guard.insert(entry);
        seal_with(e, plaintext, aad)
    }

    fn try_cached(&self, plaintext: &[u8], aad: &[u8]) -> Result<Option<BlobInfo>> {
        let mut guard = self
            .entry
            .lock()
            .map_err(|_| Error::Internal("cache lock poisoned".into()))?;
        match guard.as_mut() {
            Some(e) if self.usable(e, plaintext.len()) => seal_with(e, plaintext, aad).map(Some),
            _ => {
                *guard = None;
                Ok(None)
            }
        }
    }
}

fn seal_with(e: &mut Entry, plaintext: &[u8], aad: &[u8]) -> Result<BlobInfo> {
    let iv: [u8; NONCE_LEN] = kms_core::random_array()?;
    let ciphertext = kms_core::cipher::seal(&e.cipher, &iv, aad, plaintext)?;
    e.messages += 1;
    e.bytes += plaintext.len() as u64;
    Ok(BlobInfo {
        ciphertext,
        iv: iv.to_vec(),
        key_info: Some(KeyInfo {
            mechanism: awskms_mechanism::ENVELOPE_AES_GCM,
            key_id: e.key_id.as_str().to_owned(),
            wrapped_key: e.wrapped.clone(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Remembers unwrapped data keys by their wrapped bytes, for at most `max_age` and
/// `max_entries` keys.
pub struct DecryptCache {
    max_age: Duration,
    max_entries: usize,
    keys: Mutex<HashMap<Vec<u8>, (Key256, Instant)>>,
}

impl std::fmt::Debug for DecryptCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptCache")
            .field("max_age", &self.max_age)
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

impl DecryptCache {
    /// An empty cache.
    pub fn new(max_age: Duration, max_entries: usize) -> Self {
        DecryptCache {
            max_age,
            max_entries: max_entries.max(1),
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, wrapped: &[u8]) -> Option<Key256> {
        let mut keys = self.keys.lock().ok()?;
        match keys.get(wrapped) {
            Some((k, t)) if t.elapsed() < self.max_age => Some(k.clone()),
            Some(_) => {
                keys.remove(wrapped);
                None
            }
            None => None,
        }
    }

    fn put(&self, wrapped: &[u8], key: Key256) {
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= self.max_entries {
                let age = self.max_age;
                keys.retain(|_, (_, t)| t.elapsed() < age);
                if keys.len() >= self.max_entries {
                    keys.clear();
                }
            }
            keys.insert(wrapped.to_vec(), (key, Instant::now()));
        }
    }

    /// Decrypts an envelope value, unwrapping its data key only on a cache miss. Direct
    /// values are passed to [`crate::value::decrypt_value`].
    ///
    /// # Errors
    /// As [`crate::value::decrypt_value`].
    pub async fn decrypt_value(
        &self,
        wrappers: &[&dyn Backend],
        blob: &BlobInfo,
        aad: &[u8],
        purpose: kms_core::Purpose,
    ) -> Result<SecretBytes> {
        if !blob.is_envelope() {
            return crate::value::decrypt_value(wrappers, blob, aad, purpose).await;
        }
        let iv: [u8; NONCE_LEN] = blob
            .iv
            .as_slice()
            .try_into()
            .map_err(|_| Error::DecryptFailed)?;
        if blob.ciphertext.len() < TAG_LEN {
            return Err(Error::DecryptFailed);
        }
        let key = match self.get(blob.wrapped_key()) {
            Some(k) => k,
            None => {
                let recorded = [Recorded {
                    kind: None,
                    key_id: KeyId::new(blob.key_id()),
                }];
                let id = &recorded[0].key_id;
                let dk = select::try_candidates(wrappers, &recorded, purpose, select::Fallback::EveryWrapper, |w, _| async move {
                    w.unwrap(blob.wrapped_key(), id, &WrapContext::None).await
                })
                .await?;
                let key =
                    Key256::from_slice(dk.expose_secret()).map_err(|_| Error::DecryptFailed)?;
                self.put(blob.wrapped_key(), key.clone());
                key
            }
        };
        let mut buf = SecretBytes::from_slice(&blob.ciphertext);
        let n = AesGcm::new(&key)
            .open_in_place(&iv, aad, buf.expose_secret_mut())?
            .len();
        buf.expose_secret_mut().truncate(n);
        Ok(buf)
    }
}
