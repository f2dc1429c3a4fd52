//! In-process throughput, printed as JSON for `cargo xtask bench`:
//! raw AES-256-GCM on one core (the limit) and value encryption of 1 MiB values.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use kms_aead::AeadBackend;
use kms_core::cipher::AesGcm;
use kms_core::Key256;
use kms_envelope::value::{encrypt_value, encrypt_value_owned, Mechanism};

fn measure(min: Duration, mut f: impl FnMut() -> usize) -> f64 {
    // Warm up, then run until `min` has passed; return bytes per second.
    f();
    let start = Instant::now();
    let mut bytes = 0usize;
    while start.elapsed() < min {
        bytes += f();
    }
    bytes as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let min = Duration::from_secs_f64(secs);
    let key = Key256::new([7; 32]);
    let gcm = AesGcm::new(&key);
    let mut buf = vec![0u8; 1 << 20];
    let nonce = [0u8; 12];
    let raw = measure(min, || {
        let tag = gcm.seal_detached(&nonce, b"", &mut buf).unwrap();
        std::hint::black_box(tag);
        buf.len()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let backend = AeadBackend::new(key.clone(), "bench");
    let value = vec![0u8; 1 << 20];
    let envelope = measure(min, || {
        let b = rt
            .block_on(encrypt_value(
                &backend,
                &value,
                b"",
                Some(Mechanism::Envelope),
            ))
            .unwrap();
        std::hint::black_box(b);
        value.len()
    });
    let direct = measure(min, || {
        let b = rt
            .block_on(encrypt_value(
                &backend,
                &value,
                b"",
                Some(Mechanism::Direct),
            ))
            .unwrap();
        std::hint::black_box(b);
        value.len()
    });
    // The owned variant encrypts the caller's buffer in place; only the call is timed, not
    // making the buffer (the caller's own data).
    let owned = {
        let mut spent = Duration::ZERO;
        let mut bytes = 0usize;
        let mut first = true;
        while spent < min {
            let v = value.clone();
            let t = Instant::now();
            let b = rt.block_on(encrypt_value_owned(&backend, v, b"")).unwrap();
            let dt = t.elapsed();
            std::hint::black_box(b);
            if first {
                first = false; // warm-up
                continue;
            }
            spent += dt;
            bytes += value.len();
        }
        bytes as f64 / spent.as_secs_f64()
    };
    println!(
        "{{\"provider\":\"{}\",\"raw_gcm_bps\":{raw:.0},\"value_envelope_1mib_bps\":{envelope:.0},\"value_envelope_owned_1mib_bps\":{owned:.0},\"value_direct_1mib_bps\":{direct:.0}}}",
        kms_core::cipher::PROVIDER
    );
}
