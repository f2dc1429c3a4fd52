//! The backend calls a value rewrap makes. A target that re-wraps server-side and fails for
//! good falls back to decrypting and encrypting; a throttled or unreachable one gets its error
//! back instead of the fallback's extra calls; `verify` decrypts once, not once more for the
//! fallback.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use kms_envelope::rewrap::{Outcome, Rewrapper};
use kms_envelope::{value, Error, KeyId, Keyring, Purpose};

mod support;
use support::Counting;

/// Rewraps one direct value from root-1 to root-2; the outcome and the calls made on the
/// target (root-2) and the source (root-1).
fn run(
    rewrap_error: Option<fn() -> Error>,
    verify: bool,
) -> (std::result::Result<Outcome, Error>, usize, usize) {
    let mut target = Counting::new(2, "root-2");
    if let Some(e) = rewrap_error {
        target = target.failing_rewrap(e);
    }
    let (target, source) = (Arc::new(target), Arc::new(Counting::new(1, "root-1")));
    let mut keyring = Keyring::new();
    keyring.push(Purpose::Root, target.clone());
    keyring.push(Purpose::PreviousRoot, source.clone());
    let mut old = Keyring::new();
    old.push(Purpose::Root, source.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        // aead values are direct: the target is asked to re-wrap the ciphertext itself.
        let blob = value::encrypt(&old, Purpose::Root, b"v", b"")
            .await
            .unwrap();
        assert!(!blob.is_envelope());
        let rewrapper = Rewrapper::new(&keyring, Purpose::Root, &[])
            .unwrap()
            .verify(verify);
        let before = (target.calls(), source.calls());
        let r = rewrapper.value(&blob).await;
        let spent = (target.calls() - before.0, source.calls() - before.1);
        if let Ok(r) = &r {
            let got = value::decrypt(&keyring, Purpose::Root, &r.blob, b"")
                .await
                .unwrap();
            assert_eq!(got.expose_secret(), b"v");
        }
        (r.map(|r| r.outcome), spent.0, spent.1)
    })
}

fn rewrapped() -> Outcome {
    Outcome::Rewrapped {
        old: vec![KeyId::new("root-1")],
        new: vec![KeyId::new("root-2")],
    }
}

#[test]
fn a_throttled_server_side_rewrap_of_a_value_is_returned_without_a_fallback() {
    for fail in [
        (|| Error::Throttled("slow down".into())) as fn() -> Error,
        || Error::Unavailable("connection refused".into()),
    ] {
        let (r, target, source) = run(Some(fail), false);
        let e = r.unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert_eq!((target, source), (1, 0), "only the re-wrap call");
    }
}

#[test]
fn a_server_side_rewrap_that_fails_for_good_falls_back_to_decrypt_and_encrypt() {
    let fail = || Error::Backend("AccessDeniedException: kms:ReEncrypt".into());
    let (r, target, source) = run(Some(fail), false);
    assert_eq!(r.unwrap(), rewrapped());
    assert_eq!((target, source), (2, 1), "re-wrap and wrap; one decrypt");
}

#[test]
fn verify_decrypts_a_value_once_also_when_it_is_then_encrypted_again() {
    for verify in [false, true] {
        let (r, target, source) = run(None, verify);
        assert_eq!(r.unwrap(), rewrapped());
        assert_eq!((target, source), (2, 1), "verify {verify}: one decrypt");
    }
}
