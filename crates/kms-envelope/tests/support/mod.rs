//! A real aead backend that counts the calls made on it, for the tests that pin call counts.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use kms_aead::AeadBackend;
use kms_core::{
    Backend, Error, Key256, KeyId, Result, SecretBytes, SecretLimits, WrapContext, Wrapped,
};

/// Counts wraps, unwraps and server-side re-wraps; a re-wrap fails with `rewrap_error` when
/// set, and is unsupported (as aead's is) otherwise.
#[derive(Debug)]
pub(crate) struct Counting {
    inner: AeadBackend,
    rewrap_error: Option<fn() -> Error>,
    wraps: AtomicUsize,
    unwraps: AtomicUsize,
    rewraps: AtomicUsize,
}

impl Counting {
    pub(crate) fn new(key_byte: u8, id: &str) -> Self {
        Counting {
            inner: AeadBackend::new(Key256::new([key_byte; 32]), id),
            rewrap_error: None,
            wraps: 0.into(),
            unwraps: 0.into(),
            rewraps: 0.into(),
        }
    }

    pub(crate) fn failing_rewrap(mut self, error: fn() -> Error) -> Self {
        self.rewrap_error = Some(error);
        self
    }

    pub(crate) fn wraps(&self) -> usize {
        self.wraps.load(Ordering::SeqCst)
    }

    pub(crate) fn unwraps(&self) -> usize {
        self.unwraps.load(Ordering::SeqCst)
    }

    /// Every call: wraps, unwraps and re-wraps.
    pub(crate) fn calls(&self) -> usize {
        self.wraps() + self.unwraps() + self.rewraps.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Backend for Counting {
    fn kind(&self) -> kms_core::BackendKind {
        self.inner.kind()
    }
    fn key_id(&self) -> &KeyId {
        self.inner.key_id()
    }
    fn secret_limits(&self) -> SecretLimits {
        self.inner.secret_limits()
    }
    fn prefers_direct_values(&self) -> bool {
        self.inner.prefers_direct_values()
    }
    fn may_unwrap(&self, recorded: &KeyId) -> bool {
        self.inner.may_unwrap(recorded)
    }
    async fn wrap(&self, s: &[u8], c: &WrapContext) -> Result<Wrapped> {
        self.wraps.fetch_add(1, Ordering::SeqCst);
        self.inner.wrap(s, c).await
    }
    async fn unwrap(&self, w: &[u8], k: &KeyId, c: &WrapContext) -> Result<SecretBytes> {
        self.unwraps.fetch_add(1, Ordering::SeqCst);
        self.inner.unwrap(w, k, c).await
    }
    async fn rewrap(&self, w: &[u8], k: &KeyId, c: &WrapContext) -> Result<Option<Wrapped>> {
        self.rewraps.fetch_add(1, Ordering::SeqCst);
        match self.rewrap_error {
            Some(e) => Err(e()),
            None => self.inner.rewrap(w, k, c).await,
        }
    }
}
