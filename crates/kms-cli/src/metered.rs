//! The Backend boundary as the CLI's bulk commands see it: every call counted, and throttling
//! (`Error::Throttled`, after the backend's own retries) turned into a shared slow-down
//! instead of a failure.
//!
//! Counting here, not in a backend, makes the count the same for every kind: one wrap,
//! unwrap or rewrap is one call, whatever retries the backend's client makes underneath.
//! The [`Gate`] is shared by every worker of a run: one throttled answer pauses all of them
//! for a backoff that doubles while throttling lasts and halves with each success, so a
//! fleet of workers backs off together rather than each hammering the quota.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use kms::core::{SecretLimits, WrapContext, Wrapped};
use kms::envelope::Keyring;
use kms::{Backend, BackendKind, Error, KeyId, Result, SecretBytes};
use tokio::time::Instant;

/// Retries of a throttled call at this layer (each after the backend's own retries).
const THROTTLE_RETRIES: u32 = 6;
/// The first pause after a throttled answer, and the longest.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Calls made through the [`Metered`] wrappers of one run.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    pub(crate) wrap: AtomicU64,
    pub(crate) unwrap: AtomicU64,
    pub(crate) rewrap: AtomicU64,
    /// Throttled answers that were retried here after a pause.
    pub(crate) throttled: AtomicU64,
    /// Calls by backend kind: a local aead key costs no KMS quota.
    by_kind: Mutex<BTreeMap<String, u64>>,
}

/// What [`Calls`] counted, read once at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CallCounts {
    pub(crate) wrap: u64,
    pub(crate) unwrap: u64,
    pub(crate) rewrap: u64,
    pub(crate) throttled: u64,
    pub(crate) by_kind: BTreeMap<String, u64>,
}

impl CallCounts {
    pub(crate) fn total(&self) -> u64 {
        self.wrap + self.unwrap + self.rewrap
    }
}

impl Calls {
    pub(crate) fn counts(&self) -> CallCounts {
        CallCounts {
            wrap: self.wrap.load(Ordering::Relaxed),
            unwrap: self.unwrap.load(Ordering::Relaxed),
            rewrap: self.rewrap.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            by_kind: self
                .by_kind
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}

/// The slow-down shared by every worker: calls wait until `open_at`.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    jitter: RandomState,
}

#[derive(Debug)]
struct GateState {
    open_at: Instant,
    backoff: Duration,
    /// Throttled answers so far: the input of the jitter.
    seen: u64,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            state: Mutex::new(GateState {
                open_at: Instant::now(),
                backoff: Duration::ZERO,
                seen: 0,
            }),
            jitter: RandomState::new(),
        }
    }

    fn open_at(&self) -> Instant {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open_at
    }

    /// A throttled answer: the pause doubles, and every caller waits out half to all of it
    /// (jittered, so that workers do not return in step).
    fn throttled(&self) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.backoff = (s.backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
        s.seen += 1;
        let mut h = self.jitter.build_hasher();
        h.write_u64(s.seen);
        let fraction = 0.5 + (h.finish() % 1000) as f64 / 2000.0;
        let until = Instant::now() + s.backoff.mul_f64(fraction);
        if until > s.open_at {
            s.open_at = until;
        }
    }

    fn succeeded(&self) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.backoff /= 2;
        if s.backoff < BACKOFF_MIN {
            s.backoff = Duration::ZERO;
        }
    }
}

/// A backend whose calls are counted and pass the shared [`Gate`].
#[derive(Debug)]
struct Metered {
    inner: Arc<dyn Backend>,
    calls: Arc<Calls>,
    gate: Arc<Gate>,
}

impl Metered {
    /// Calls `f` once the gate is open, counting it in `counter` unless `made_no_call` says
    /// the backend answered without a call (a `rewrap` it does not support).
    async fn call<T, F, Fut>(
        &self,
        counter: &AtomicU64,
        made_no_call: fn(&Result<T>) -> bool,
        f: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut retries = 0;
        loop {
            let open_at = self.gate.open_at();
            if open_at > Instant::now() {
                tokio::time::sleep_until(open_at).await;
            }
            let r = f().await;
            if !made_no_call(&r) {
                counter.fetch_add(1, Ordering::Relaxed);
                *self
                    .calls
                    .by_kind
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(self.inner.kind().as_str().to_owned())
                    .or_default() += 1;
            }
            match r {
                Err(e) if matches!(e.root(), Error::Throttled(_)) && retries < THROTTLE_RETRIES => {
                    retries += 1;
                    self.calls.throttled.fetch_add(1, Ordering::Relaxed);
                    self.gate.throttled();
                }
                r => {
                    if r.is_ok() {
                        self.gate.succeeded();
                    }
                    return r;
                }
            }
        }
    }
}

#[async_trait]
impl Backend for Metered {
    fn kind(&self) -> BackendKind {
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
    fn describe(&self) -> Vec<(&'static str, String)> {
        self.inner.describe()
    }
    async fn wrap(&self, secret: &[u8], context: &WrapContext) -> Result<Wrapped> {
        self.call(
            &self.calls.wrap,
            |_| false,
            || self.inner.wrap(secret, context),
        )
        .await
    }
    async fn unwrap(
        &self,
        wrapped: &[u8],
        recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<SecretBytes> {
        self.call(
            &self.calls.unwrap,
            |_| false,
            || self.inner.unwrap(wrapped, recorded, context),
        )
        .await
    }
    async fn rewrap(
        &self,
        wrapped: &[u8],
        recorded: &KeyId,
        context: &WrapContext,
    ) -> Result<Option<Wrapped>> {
        self.call(
            &self.calls.rewrap,
            |r| matches!(r, Ok(None)),
            || self.inner.rewrap(wrapped, recorded, context),
        )
        .await
    }
}

/// `keyring` with every backend behind one [`Metered`] wrapper sharing `calls` and one
/// [`Gate`]. A backend serving several purposes stays one (wrapped) backend, so multi-key
/// wrapping still tells one stanza from two.
pub(crate) fn metered(keyring: &Keyring, calls: &Arc<Calls>) -> Keyring {
    let gate = Arc::new(Gate::new());
    let mut wrapped: Vec<(Arc<dyn Backend>, Arc<dyn Backend>)> = Vec::new();
    let mut ring = Keyring::new();
    for e in keyring.all() {
        let m = match wrapped
            .iter()
            .find(|(orig, _)| Arc::ptr_eq(orig, &e.backend))
        {
            Some((_, m)) => Arc::clone(m),
            None => {
                let m: Arc<dyn Backend> = Arc::new(Metered {
                    inner: Arc::clone(&e.backend),
                    calls: Arc::clone(calls),
                    gate: Arc::clone(&gate),
                });
                wrapped.push((Arc::clone(&e.backend), Arc::clone(&m)));
                m
            }
        };
        ring.push(e.purpose, m);
    }
    ring
}
