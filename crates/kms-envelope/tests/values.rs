//! Value encryption over the aead backend: the value testkit, Boundary's known answer,
//! and golden vectors.
#![allow(clippy::unwrap_used, missing_docs)]

use base64::Engine;
use kms_aead::AeadBackend;
use kms_core::testkit::Options;
use kms_core::{BlobInfo, Key256};
use kms_envelope::value::{decrypt_value, encrypt_value, Mechanism};

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[tokio::test]
async fn value_testkit_over_aead() {
    let backend = AeadBackend::new(Key256::new([9; 32]), "global_root");
    kms_envelope::testkit::check_values(&backend, &Options::default()).await;
}

#[tokio::test]
async fn boundary_known_answer_decrypts() {
    // A value Boundary itself produced with `boundary config encrypt` and this aead config key.
    let key = Key256::from_slice(&b64("c964AJj8VW8w4hKz/Jd8MvuLt0kkcjVuFqMiMvTvvN8=")).unwrap();
    let value = "CkgsDUoQ7B5JhE1ye2yVAm3Ss_KNbLQgBhKtibtGSvpGOrwQ3zRTF_qoHPHX-xuqLyZ9zsb3cMo6OpphKOj7AeTn1_iiqZ_VaCsqAA";
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .unwrap();
    let blob = BlobInfo::decode_strict(&bytes).unwrap();
    assert!(blob.key_info.is_some(), "key_info is present");
    assert_eq!(blob.key_id(), "");
    // Any configured key_id opens it: Boundary recorded none.
    let backend = AeadBackend::new(key, "config");
    let pt = decrypt_value(&[&backend], &blob, b"", kms_core::Purpose::Config)
        .await
        .unwrap();
    assert_eq!(
        pt.expose_secret(),
        b"eb78KqCwowELYnkOOko/XYz01q1ax3g76J1vCAvt5dQ="
    );
    // And a different key does not.
    let other = AeadBackend::new(Key256::new([1; 32]), "config");
    assert!(
        decrypt_value(&[&other], &blob, b"", kms_core::Purpose::Config)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn default_mechanism_for_aead_is_boundary_direct_layout() {
    let backend = AeadBackend::new(Key256::new([3; 32]), "k1");
    let blob = encrypt_value(&backend, b"hello", b"", None).await.unwrap();
    assert_eq!(Mechanism::default_for(&backend), Mechanism::Direct);
    assert!(blob.iv.is_empty() && blob.wrapped_key().is_empty());
    assert_eq!(
        blob.ciphertext.len(),
        12 + 5 + 16,
        "nonce ‖ ciphertext ‖ tag"
    );
    assert_eq!(blob.mechanism(), 0);
}

#[tokio::test]
async fn wrapper_selection_prefers_the_recorded_key_id() {
    let k1 = AeadBackend::new(Key256::new([1; 32]), "k1");
    let k2 = AeadBackend::new(Key256::new([2; 32]), "k2");
    let blob = encrypt_value(&k2, b"x", b"", None).await.unwrap();
    assert_eq!(
        decrypt_value(&[&k1, &k2], &blob, b"", kms_core::Purpose::Root)
            .await
            .unwrap()
            .expose_secret(),
        b"x"
    );
    // A key id that no wrapper has names it.
    let k3 = AeadBackend::new(Key256::new([3; 32]), "k3");
    let blob3 = encrypt_value(&k3, b"x", b"", None).await.unwrap();
    let err = decrypt_value(&[&k1, &k2], &blob3, b"", kms_core::Purpose::Root)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no configured root wrapper matches the recorded key id(s): k3"
    );
}

#[tokio::test]
async fn owned_envelope_values_match_the_borrowed_format() {
    use kms_envelope::value::encrypt_value_owned;
    let backend = AeadBackend::new(Key256::new([5; 32]), "k");
    for len in [0usize, 1, 15, 16, 17, 100_000] {
        let pt: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
        let blob = encrypt_value_owned(&backend, pt.clone(), b"ctx")
            .await
            .unwrap();
        assert!(blob.is_envelope());
        assert_eq!(blob.ciphertext.len(), len + 16);
        assert_eq!(blob.iv.len(), 12);
        if len > 0 {
            assert_ne!(&blob.ciphertext[..len], &pt[..], "encrypted in place");
        }
        let back = decrypt_value(&[&backend], &blob, b"ctx", kms_core::Purpose::Root)
            .await
            .unwrap();
        assert_eq!(back.expose_secret(), &pt[..]);
        assert!(
            decrypt_value(&[&backend], &blob, b"other", kms_core::Purpose::Root)
                .await
                .is_err()
        );
        // Same layout as the borrowed API: each decrypts like the other.
        let borrowed = encrypt_value(&backend, &pt, b"ctx", Some(Mechanism::Envelope))
            .await
            .unwrap();
        assert_eq!(borrowed.ciphertext.len(), blob.ciphertext.len());
        assert_eq!(
            borrowed.key_info.as_ref().unwrap().mechanism,
            blob.key_info.as_ref().unwrap().mechanism
        );
    }
}

#[tokio::test]
async fn a_renamed_or_altered_key_id_still_opens_and_the_tag_decides() {
    use kms_core::{Error, Purpose};
    let renamed = AeadBackend::new(Key256::new([1; 32]), "k-new");
    let other = AeadBackend::new(Key256::new([2; 32]), "k2");
    let writer = AeadBackend::new(Key256::new([1; 32]), "k-old");
    for mechanism in [Mechanism::Direct, Mechanism::Envelope] {
        let blob = encrypt_value(&writer, b"v", b"a", Some(mechanism))
            .await
            .unwrap();
        assert_eq!(blob.key_id(), "k-old");
        // No wrapper has the recorded id: each one is tried, the right key opens it.
        let pt = decrypt_value(&[&other, &renamed], &blob, b"a", Purpose::Root)
            .await
            .unwrap();
        assert_eq!(pt.expose_secret(), b"v", "{mechanism:?}");
        // The recorded id names a wrapper with another key: it is tried first, then the rest.
        let mut named_other = blob.clone();
        named_other.key_info.as_mut().unwrap().key_id = "k2".into();
        let pt = decrypt_value(&[&other, &renamed], &named_other, b"a", Purpose::Root)
            .await
            .unwrap();
        assert_eq!(pt.expose_secret(), b"v", "{mechanism:?}");
        // A wrong AAD fails under every key; the error is still a plain decrypt failure when
        // a wrapper matched the recorded id.
        let e = decrypt_value(&[&other, &renamed], &named_other, b"b", Purpose::Root)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::DecryptFailed), "{e}");
    }
}

#[tokio::test]
async fn direct_values_with_the_nonce_in_iv_open() {
    // OpenBao's static seal: `iv` = nonce, `ciphertext` = ciphertext ‖ tag.
    let backend = AeadBackend::new(Key256::new([4; 32]), "k");
    let blob = encrypt_value(&backend, b"openbao", b"ctx", Some(Mechanism::Direct))
        .await
        .unwrap();
    let mut moved = blob.clone();
    moved.iv = moved.ciphertext.drain(..12).collect();
    let pt = decrypt_value(&[&backend], &moved, b"ctx", kms_core::Purpose::Root)
        .await
        .unwrap();
    assert_eq!(pt.expose_secret(), b"openbao");
    for i in 0..12 {
        let mut bad = moved.clone();
        bad.iv[i] ^= 0x10;
        assert!(
            decrypt_value(&[&backend], &bad, b"ctx", kms_core::Purpose::Root)
                .await
                .is_err(),
            "iv byte {i} flipped"
        );
    }
    // An iv of another length is not a nonce.
    let mut short = moved.clone();
    short.iv.pop();
    assert!(
        decrypt_value(&[&backend], &short, b"ctx", kms_core::Purpose::Root)
            .await
            .is_err()
    );
}
