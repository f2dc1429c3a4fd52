//! The conformance suite every backend must pass (feature `testkit`).
//!
//! ```ignore
//! #[tokio::test]
//! async fn conformance() {
//!     let backend = MyBackend::new(...);
//!     kms_core::testkit::check_backend(&backend, &kms_core::testkit::Options::default()).await;
//! }
//! ```
//!
//! The checks panic with a message naming what failed, like `assert!`.

use crate::{Backend, Error, WrapContext};

/// Knobs for backends whose calls are expensive.
#[derive(Clone, Debug)]
pub struct Options {
    /// How many single-bit flips of a wrapped secret to try; `None` tries every bit.
    /// Flips are spread evenly over the whole wrapped byte string.
    pub max_bit_flips: Option<usize>,
    /// The largest size to try for a backend whose limit is unbounded.
    pub unbounded_max_probe: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_bit_flips: None,
            unbounded_max_probe: 64 * 1024,
        }
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Bit positions to flip in a string of `len_bytes` bytes.
pub fn flip_positions(len_bytes: usize, max: Option<usize>) -> Vec<usize> {
    let bits = len_bytes * 8;
    match max {
        Some(m) if m < bits && m > 0 => (0..m).map(|i| i * bits / m).collect(),
        _ => (0..bits).collect(),
    }
}

/// Runs every check against `backend`.
///
/// # Panics
/// When the backend does not conform; the message says how.
pub async fn check_backend(backend: &dyn Backend, opts: &Options) {
    let limits = backend.secret_limits();
    let largest = limits.max.unwrap_or(opts.unbounded_max_probe);
    let ctx = WrapContext::pairs([("purpose", "root"), ("file", "testkit")]);
    let aad = WrapContext::Aad(b"testkit aad".to_vec());

    // Round trips at the smallest size, 32 bytes and the largest size.
    for (len, context) in [
        (limits.min, &ctx),
        (32, &ctx),
        (largest, &ctx),
        (32, &aad),
        (32, &WrapContext::None),
    ] {
        let secret = pattern(len, len as u8);
        let wrapped = backend
            .wrap(&secret, context)
            .await
            .unwrap_or_else(|e| panic!("{}: wrap of {len} bytes failed: {e}", backend.kind()));
        assert_eq!(
            &wrapped.key_id,
            backend.key_id(),
            "{}: wrap must record the current key id",
            backend.kind()
        );
        assert!(
            backend.may_unwrap(&wrapped.key_id),
            "{}: may_unwrap refuses its own key id",
            backend.kind()
        );
        if len >= 16 {
            assert!(
                !wrapped.bytes.windows(16).any(|w| w == &secret[..16]),
                "{}: wrapped bytes contain the secret in the clear",
                backend.kind()
            );
        }
        let opened = backend
            .unwrap(&wrapped.bytes, &wrapped.key_id, context)
            .await
            .unwrap_or_else(|e| panic!("{}: unwrap of {len} bytes failed: {e}", backend.kind()));
        assert_eq!(
            opened.expose_secret(),
            secret.as_slice(),
            "{}: round trip of {len} bytes",
            backend.kind()
        );
    }

    // Sizes beyond the limits are refused, not truncated.
    if let Some(max) = limits.max {
        let r = backend.wrap(&pattern(max + 1, 1), &ctx).await;
        assert!(
            matches!(r, Err(Error::InvalidInput(_))),
            "{}: {} bytes must be refused, got {r:?}",
            backend.kind(),
            max + 1
        );
    }
    if limits.min > 0 {
        let r = backend.wrap(&[], &ctx).await;
        assert!(
            matches!(r, Err(Error::InvalidInput(_))),
            "{}: an empty secret must be refused, got {r:?}",
            backend.kind()
        );
    }

    // A wrong context fails, in each form of context.
    let secret = pattern(32, 7);
    let wrapped = backend
        .wrap(&secret, &ctx)
        .await
        .unwrap_or_else(|e| panic!("wrap failed: {e}"));
    for wrong in [
        WrapContext::pairs([("purpose", "recovery"), ("file", "testkit")]),
        WrapContext::pairs([("purpose", "root")]),
        WrapContext::None,
    ] {
        let r = backend
            .unwrap(&wrapped.bytes, &wrapped.key_id, &wrong)
            .await;
        assert!(
            r.is_err(),
            "{}: unwrap with a wrong context {wrong:?} succeeded",
            backend.kind()
        );
    }
    let wrapped_aad = backend
        .wrap(&secret, &aad)
        .await
        .unwrap_or_else(|e| panic!("wrap failed: {e}"));
    let r = backend
        .unwrap(
            &wrapped_aad.bytes,
            &wrapped_aad.key_id,
            &WrapContext::Aad(b"testkit aaD".to_vec()),
        )
        .await;
    assert!(
        r.is_err(),
        "{}: unwrap with a wrong AAD succeeded",
        backend.kind()
    );

    // Any flipped bit in the wrapped bytes fails.
    for bit in flip_positions(wrapped.bytes.len(), opts.max_bit_flips) {
        let mut bad = wrapped.bytes.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let r = backend.unwrap(&bad, &wrapped.key_id, &ctx).await;
        assert!(
            r.is_err(),
            "{}: unwrap succeeded with bit {bit} of the wrapped bytes flipped",
            backend.kind()
        );
    }

    // Truncated and empty wrapped bytes fail cleanly.
    for cut in [0, 1, wrapped.bytes.len() / 2, wrapped.bytes.len() - 1] {
        let r = backend
            .unwrap(&wrapped.bytes[..cut], &wrapped.key_id, &ctx)
            .await;
        assert!(
            r.is_err(),
            "{}: unwrap of {cut} truncated bytes succeeded",
            backend.kind()
        );
    }
}
