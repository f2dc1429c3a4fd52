//! Data-key caching: one backend call per max-messages window, values stay independent.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use kms_envelope::cache::{CacheLimits, CachingEncryptor, DecryptCache};
use kms_envelope::value::decrypt_value;

mod support;
use support::Counting;

#[tokio::test]
async fn one_wrap_per_max_messages_window_and_one_unwrap_per_key() {
    let b = Counting::new(4, "k");
    let enc = CachingEncryptor::new(
        &b,
        CacheLimits {
            max_age: Duration::from_secs(3600),
            max_messages: 100,
            max_bytes: u64::MAX,
        },
    );
    let mut blobs = Vec::new();
    for i in 0..1000u32 {
        blobs.push(enc.encrypt_value(&i.to_be_bytes(), b"aad").await.unwrap());
    }
    assert_eq!(b.wraps(), 10, "one wrap per 100 values");
    // IVs never repeat under one key.
    let mut ivs: Vec<_> = blobs.iter().map(|b| b.iv.clone()).collect();
    ivs.sort();
    ivs.dedup();
    assert_eq!(ivs.len(), 1000);
    let cache = DecryptCache::new(Duration::from_secs(3600), 100);
    for (i, blob) in blobs.iter().enumerate() {
        let pt = cache
            .decrypt_value(&[&b], blob, b"aad", kms_core::Purpose::Root)
            .await
            .unwrap();
        assert_eq!(pt.expose_secret(), (i as u32).to_be_bytes());
    }
    assert_eq!(b.unwraps(), 10, "one unwrap per cached data key");
    // Cached values are ordinary envelope values: the uncached path opens them, AAD is bound.
    assert_eq!(
        decrypt_value(&[&b], &blobs[5], b"aad", kms_core::Purpose::Root)
            .await
            .unwrap()
            .expose_secret(),
        5u32.to_be_bytes()
    );
    assert!(cache
        .decrypt_value(&[&b], &blobs[5], b"other", kms_core::Purpose::Root)
        .await
        .is_err());
}

#[tokio::test]
async fn byte_and_age_limits_rotate_the_key() {
    let b = Counting::new(4, "k");
    let enc = CachingEncryptor::new(
        &b,
        CacheLimits {
            max_age: Duration::from_secs(3600),
            max_messages: 1000,
            max_bytes: 1000,
        },
    );
    for _ in 0..10 {
        enc.encrypt_value(&[0; 300], b"").await.unwrap();
    }
    assert_eq!(b.wraps(), 4, "3 values of 300 bytes fit in 1000");
    let enc = CachingEncryptor::new(
        &b,
        CacheLimits {
            max_age: Duration::ZERO,
            max_messages: 1000,
            max_bytes: u64::MAX,
        },
    );
    enc.encrypt_value(b"a", b"").await.unwrap();
    enc.encrypt_value(b"b", b"").await.unwrap();
    assert_eq!(b.wraps(), 6, "a zero max age never reuses");
}
