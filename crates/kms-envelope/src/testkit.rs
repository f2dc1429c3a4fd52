//! The value testkit (feature `testkit`): value encryption over a backend, with each
//! mechanism it supports. Backends run it next to `kms_core::testkit::check_backend`.

use kms_core::testkit::{flip_positions, Options};
use kms_core::{Backend, BlobInfo};

use crate::value::{decrypt_value, encrypt_value, Mechanism};

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(5))
        .collect()
}

async fn assert_rejected(backend: &dyn Backend, blob: &BlobInfo, aad: &[u8], what: &str) {
    let r = decrypt_value(&[backend], blob, aad, kms_core::Purpose::Root).await;
    assert!(
        r.is_err(),
        "{}: value decrypted despite {what}",
        backend.kind()
    );
}

fn flip(bytes: &mut [u8], bit: usize) {
    bytes[bit / 8] ^= 1 << (bit % 8);
}

/// Runs every value check against `backend`.
///
/// # Panics
/// When a check fails; the message says which.
pub async fn check_values(backend: &dyn Backend, opts: &Options) {
    let limits = backend.secret_limits();
    let aad = b"value testkit aad";
    for mechanism in [Mechanism::Direct, Mechanism::Envelope] {
        // Round trips: empty, 1 byte and 1 MiB; direct mode only within the backend's limits.
        for len in [0, 1, 1 << 20] {
            if mechanism == Mechanism::Direct && !limits.allows(len) {
                let r = encrypt_value(backend, &pattern(len), aad, Some(mechanism)).await;
                assert!(
                    r.is_err(),
                    "{}: direct encryption of {len} bytes must be refused",
                    backend.kind()
                );
                continue;
            }
            let pt = pattern(len);
            let blob = encrypt_value(backend, &pt, aad, Some(mechanism))
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: {mechanism:?} encrypt of {len} bytes: {e}",
                        backend.kind()
                    )
                });
            assert_eq!(
                blob.key_id(),
                backend.key_id().as_str(),
                "{}: value must record the key id",
                backend.kind()
            );
            let back = decrypt_value(&[backend], &blob, aad, kms_core::Purpose::Root)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: {mechanism:?} decrypt of {len} bytes: {e}",
                        backend.kind()
                    )
                });
            assert_eq!(
                back.expose_secret(),
                pt.as_slice(),
                "{}: {mechanism:?} round trip of {len} bytes",
                backend.kind()
            );
        }

        let size = 100.min(limits.max.unwrap_or(100));
        let blob = encrypt_value(backend, &pattern(size), aad, Some(mechanism))
            .await
            .unwrap_or_else(|e| panic!("{}: {mechanism:?} encrypt: {e}", backend.kind()));

        // Wrong AAD fails.
        assert_rejected(backend, &blob, b"value testkit aaD", "a wrong AAD").await;
        assert_rejected(backend, &blob, b"", "a missing AAD").await;

        // Any flipped bit in the ciphertext (which ends with the tag), the IV and the wrapped key fails.
        for bit in flip_positions(blob.ciphertext.len(), opts.max_bit_flips) {
            let mut bad = blob.clone();
            flip(&mut bad.ciphertext, bit);
            assert_rejected(
                backend,
                &bad,
                aad,
                &format!("bit {bit} of the ciphertext flipped"),
            )
            .await;
        }
        for bit in flip_positions(blob.iv.len(), opts.max_bit_flips) {
            let mut bad = blob.clone();
            flip(&mut bad.iv, bit);
            assert_rejected(backend, &bad, aad, &format!("bit {bit} of the iv flipped")).await;
        }
        let wrapped_len = blob.wrapped_key().len();
        for bit in flip_positions(wrapped_len, opts.max_bit_flips) {
            let mut bad = blob.clone();
            if let Some(ki) = bad.key_info.as_mut() {
                flip(&mut ki.wrapped_key, bit);
            }
            assert_rejected(
                backend,
                &bad,
                aad,
                &format!("bit {bit} of the wrapped key flipped"),
            )
            .await;
        }
        if mechanism == Mechanism::Envelope {
            assert_eq!(
                blob.iv.len(),
                12,
                "{}: envelope IV must be 12 bytes",
                backend.kind()
            );
            assert!(
                wrapped_len > 0,
                "{}: envelope value must carry a wrapped key",
                backend.kind()
            );
        }
    }
}
