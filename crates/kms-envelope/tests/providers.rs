//! The two AES-GCM providers behind the seam write byte-identical output and open each
//! other's ciphertexts, so files are the same whichever one a build uses.
#![allow(clippy::unwrap_used, missing_docs)]

use kms_core::cipher::{aws_lc, rustcrypto, TAG_LEN};
use kms_core::Key256;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn providers_agree(key in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(), aad in proptest::collection::vec(any::<u8>(), 0..64), pt in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let key = Key256::new(key);
        let (a, b) = (aws_lc::AesGcm::new(&key), rustcrypto::AesGcm::new(&key));
        let mut ca = pt.clone();
        let ta = a.seal_detached(&nonce, &aad, &mut ca).unwrap();
        let mut cb = pt.clone();
        let tb = b.seal_detached(&nonce, &aad, &mut cb).unwrap();
        prop_assert_eq!(&ca, &cb);
        prop_assert_eq!(ta, tb);
        // Each opens the other's.
        let mut sealed = ca.clone();
        sealed.extend_from_slice(&ta);
        let mut x = sealed.clone();
        prop_assert_eq!(b.open_in_place(&nonce, &aad, &mut x).unwrap(), &pt[..]);
        let mut y = sealed.clone();
        prop_assert_eq!(a.open_in_place(&nonce, &aad, &mut y).unwrap(), &pt[..]);
        // And both reject the same tampering.
        let mut bad = sealed;
        let i = bad.len() - TAG_LEN;
        bad[i] ^= 0x80;
        prop_assert!(a.open_in_place(&nonce, &aad, &mut bad.clone()).is_err());
        prop_assert!(b.open_in_place(&nonce, &aad, &mut bad).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]
    /// aead root keys of 128, 192 and 256 bits: both providers agree too.
    #[test]
    fn providers_agree_for_every_aes_key_size(size in prop::sample::select(vec![16usize, 24, 32]), seed in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(), pt in proptest::collection::vec(any::<u8>(), 0..600)) {
        let key = kms_core::AesKey::from_slice(&seed[..size]).unwrap();
        let (a, b) = (aws_lc::AesGcm::with_key(&key), rustcrypto::AesGcm::with_key(&key));
        let mut ca = pt.clone();
        let ta = a.seal_detached(&nonce, b"aad", &mut ca).unwrap();
        let mut cb = pt.clone();
        let tb = b.seal_detached(&nonce, b"aad", &mut cb).unwrap();
        prop_assert_eq!(&ca, &cb);
        prop_assert_eq!(ta, tb);
        let mut sealed = ca;
        sealed.extend_from_slice(&ta);
        let mut copy = sealed.clone();
        prop_assert_eq!(b.open_in_place(&nonce, b"aad", &mut copy).unwrap(), &pt[..]);
        prop_assert_eq!(a.open_in_place(&nonce, b"aad", &mut sealed).unwrap(), &pt[..]);
    }
}
