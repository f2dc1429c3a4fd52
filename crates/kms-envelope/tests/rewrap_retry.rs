//! Rewrap's fallback policy for a target that re-wraps server-side: an unsupported or failed
//! re-wrap falls back to unwrapping and wrapping, but a throttled or unreachable service gets
//! its error back instead of the fallback's extra calls.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use kms_aead::AeadBackend;
use kms_core::{Backend, Result, SecretBytes, SecretLimits, WrapContext, Wrapped};
use kms_envelope::rewrap::{Outcome, Rewrapper};
use kms_envelope::{value, Error, Key256, KeyId, Keyring, Purpose};

/// An aead key whose server-side re-wrap always fails with `fail`, counting every call.
#[derive(Debug)]
struct FailingRewrap {
    inner: AeadBackend,
    fail: fn() -> Error,
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl Backend for FailingRewrap {
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
    async fn wrap(&self, s: &[u8], c: &WrapContext) -> Result<Wrapped> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.wrap(s, c).await
    }
    async fn unwrap(&self, w: &[u8], k: &KeyId, c: &WrapContext) -> Result<SecretBytes> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.unwrap(w, k, c).await
    }
    async fn rewrap(&self, _: &[u8], _: &KeyId, _: &WrapContext) -> Result<Option<Wrapped>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err((self.fail)())
    }
}

fn run(fail: fn() -> Error) -> (std::result::Result<Outcome, Error>, usize) {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut keyring = Keyring::new();
    keyring.push(
        Purpose::Root,
        Arc::new(FailingRewrap {
            inner: AeadBackend::new(Key256::new([2; 32]), "root-2"),
            fail,
            calls: calls.clone(),
        }),
    );
    keyring.push(
        Purpose::PreviousRoot,
        Arc::new(AeadBackend::new(Key256::new([1; 32]), "root-1")),
    );
    let mut old = Keyring::new();
    old.push(
        Purpose::Root,
        Arc::new(AeadBackend::new(Key256::new([1; 32]), "root-1")),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        // aead values are direct: the target is asked to re-wrap the ciphertext itself.
        let blob = value::encrypt(&old, Purpose::Root, b"v", b"")
            .await
            .unwrap();
        assert!(!blob.is_envelope());
        let rewrapper = Rewrapper::new(&keyring, Purpose::Root, &[]).unwrap();
        let before = calls.load(Ordering::SeqCst);
        let r = rewrapper.value(&blob).await;
        let spent = calls.load(Ordering::SeqCst) - before;
        if let Ok(r) = &r {
            let got = value::decrypt(&keyring, Purpose::Root, &r.blob, b"")
                .await
                .unwrap();
            assert_eq!(got.expose_secret(), b"v");
        }
        (r.map(|r| r.outcome), spent)
    })
}

#[test]
fn a_throttled_server_side_rewrap_of_a_value_is_returned_without_a_fallback() {
    for fail in [
        (|| Error::Throttled("slow down".into())) as fn() -> Error,
        || Error::Unavailable("connection refused".into()),
    ] {
        let (r, spent) = run(fail);
        let e = r.unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert_eq!(spent, 1, "only the re-wrap call: no wrap after it");
    }
}

#[test]
fn a_server_side_rewrap_that_fails_for_good_falls_back_to_decrypt_and_encrypt() {
    let (r, spent) = run(|| Error::Backend("AccessDeniedException: kms:ReEncrypt".into()));
    assert_eq!(
        r.unwrap(),
        Outcome::Rewrapped {
            old: vec![KeyId::new("root-1")],
            new: vec![KeyId::new("root-2")]
        }
    );
    assert_eq!(spent, 2, "the failed re-wrap, then one wrap");
}
