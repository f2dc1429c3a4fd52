//! Row (e) of `cargo xtask bench`: 10,000 values of 1 KiB through the library against a
//! running moto server, without and with data-key caching, counting the KMS calls through
//! the test proxy. Usage: `cache_bench ENDPOINT KEY_ARN [VALUES]`. Prints text lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use kms_aws::{AwsKms, AwsKmsOptions};
use kms_core::Backend;
use kms_envelope::cache::{CacheLimits, CachingEncryptor, DecryptCache};
use kms_envelope::value::{decrypt_value, encrypt_value};
use kms_testsupport::{Proxy, ACCESS_KEY, REGION, SECRET_KEY};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(endpoint), Some(key)) = (args.next(), args.next()) else {
        eprintln!("usage: cache_bench ENDPOINT KEY_ARN [VALUES]");
        std::process::exit(2);
    };
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let proxy = Proxy::start(&endpoint);
    let mut o = AwsKmsOptions::default();
    o.kms_key_id = Some(key);
    o.endpoint = Some(proxy.endpoint.clone());
    o.region = Some(REGION.to_owned());
    o.access_key = Some(ACCESS_KEY.to_owned());
    o.secret_key = Some(SECRET_KEY.to_owned().into());
    let kms = AwsKms::connect(o).await.expect("connect to moto");
    let backend: &dyn Backend = &kms;
    let values: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut v = vec![(i % 251) as u8; 1024];
            v[..8].copy_from_slice(&(i as u64).to_le_bytes());
            v
        })
        .collect();

    // Without caching: one Encrypt per value, one Decrypt per value.
    proxy.reset_counts();
    let t = Instant::now();
    let mut blobs = Vec::with_capacity(n);
    for v in &values {
        blobs.push(
            encrypt_value(
                backend,
                v,
                b"",
                Some(kms_envelope::value::Mechanism::Envelope),
            )
            .await
            .unwrap(),
        );
    }
    let enc = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for (b, v) in blobs.iter().zip(&values) {
        assert_eq!(
            decrypt_value(&[backend], b, b"", kms_core::Purpose::Root)
                .await
                .unwrap()
                .expose_secret(),
            &v[..]
        );
    }
    let dec = t.elapsed().as_secs_f64();
    let (e0, d0) = (proxy.count("Encrypt"), proxy.count("Decrypt"));
    println!(
        "(e) {n} x 1 KiB values, no cache:   encrypt {:>8.0} values/s ({e0} KMS Encrypt), decrypt {:>8.0} values/s ({d0} KMS Decrypt)",
        n as f64 / enc,
        n as f64 / dec
    );

    // With caching: at most one Encrypt per max_messages window, one Decrypt per data key.
    let limits = CacheLimits::default();
    let max_messages = limits.max_messages;
    let cache = CachingEncryptor::new(backend, limits);
    let dcache = DecryptCache::new(std::time::Duration::from_secs(300), 64);
    proxy.reset_counts();
    let t = Instant::now();
    let mut blobs = Vec::with_capacity(n);
    for v in &values {
        blobs.push(cache.encrypt_value(v, b"").await.unwrap());
    }
    let cenc = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for (b, v) in blobs.iter().zip(&values) {
        assert_eq!(
            dcache
                .decrypt_value(&[backend], b, b"", kms_core::Purpose::Root)
                .await
                .unwrap()
                .expose_secret(),
            &v[..]
        );
    }
    let cdec = t.elapsed().as_secs_f64();
    let (e1, d1) = (proxy.count("Encrypt"), proxy.count("Decrypt"));
    println!(
        "(e) {n} x 1 KiB values, cached:     encrypt {:>8.0} values/s ({e1} KMS Encrypt; max_messages {max_messages}), decrypt {:>8.0} values/s ({d1} KMS Decrypt)",
        n as f64 / cenc,
        n as f64 / cdec
    );
    println!(
        "(e) caching: {:.0}x encrypt and {:.0}x decrypt throughput; KMS calls {} -> {}",
        enc / cenc,
        dec / cdec,
        e0 + d0,
        e1 + d1
    );
}
