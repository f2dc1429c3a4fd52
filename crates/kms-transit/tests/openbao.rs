//! The transit backend against a real OpenBao (`bao server -dev`, started by the tests): both
//! testkits, the wrapper's value layout, context binding through rewrap, rotation, refusals
//! and errors by meaning.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use kms_core::testkit::{check_backend, Options};
use kms_core::{Backend, Error, KeyId, SecretString, WrapContext};
use kms_testsupport::openbao::OpenBao;
use kms_transit::{Timeouts, Transit, TransitOptions};

fn opts(bao: &OpenBao, key: &str) -> TransitOptions {
    TransitOptions::new(
        bao.address(),
        Some(SecretString::new(bao.root_token().to_owned())),
        "transit/",
        key,
    )
}

fn fast(mut o: TransitOptions) -> TransitOptions {
    o.timeouts = Timeouts {
        connect: Duration::from_secs(1),
        attempt: Duration::from_secs(2),
        operation: Duration::from_secs(6),
        attempts: 3,
    };
    o
}

fn testkit_options() -> Options {
    Options {
        max_bit_flips: Some(160),
        unbounded_max_probe: 64 * 1024,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_and_values() {
    let Some(bao) = OpenBao::start() else { return };
    let t = Transit::connect(opts(&bao, "k1")).await.unwrap();
    assert_eq!(t.key_id(), &KeyId::new("v1"));
    check_backend(&t, &testkit_options()).await;
    kms_envelope::testkit::check_values(&t, &testkit_options()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_values_are_the_wrappers_layout() {
    let Some(bao) = OpenBao::start() else { return };
    let mut o = opts(&bao, "k1");
    o.key_id_prefix = "boundary-".into();
    let t = Transit::connect(o).await.unwrap();
    let blob = kms_envelope::value::encrypt_value(&t, b"hello kms", b"", None)
        .await
        .unwrap();
    let ki = blob.key_info.clone().unwrap();
    assert_eq!(ki.mechanism, 0);
    assert_eq!(ki.key_id, "boundary-v1");
    assert!(ki.wrapped_key.is_empty() && blob.iv.is_empty() && blob.hmac.is_empty());
    let ct = String::from_utf8(blob.ciphertext.clone()).unwrap();
    assert!(ct.starts_with("vault:v1:"), "{ct}");
    // The server itself opens it with the wrapper's request: the ciphertext verbatim.
    let out = bao.write(
        "transit/decrypt/k1",
        serde_json::json!({ "ciphertext": ct }),
    );
    assert_eq!(out["data"]["plaintext"], "aGVsbG8ga21z");
    // And a value the server wrote, as the wrapper stores it, opens.
    let enc = bao.write(
        "transit/encrypt/k1",
        serde_json::json!({ "plaintext": "c2VhbGVk" }),
    );
    let theirs = kms_core::BlobInfo {
        ciphertext: enc["data"]["ciphertext"]
            .as_str()
            .unwrap()
            .as_bytes()
            .to_vec(),
        key_info: Some(kms_core::KeyInfo {
            key_id: "v1".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let back = kms_envelope::value::decrypt_value(&[&t], &theirs, b"", kms_core::Purpose::Root)
        .await
        .unwrap();
    assert_eq!(back.expose_secret(), b"sealed");
    // The wrapper ignores AAD: its values open whatever AAD the caller gives.
    let back = kms_envelope::value::decrypt_value(&[&t], &theirs, b"aad", kms_core::Purpose::Root)
        .await
        .unwrap();
    assert_eq!(back.expose_secret(), b"sealed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_survives_rewrap_and_splices_fail() {
    let Some(bao) = OpenBao::start() else { return };
    let t1 = Transit::connect(opts(&bao, "k1")).await.unwrap();
    let ctx = WrapContext::pairs([("purpose", "root"), ("file", "a")]);
    let other = WrapContext::pairs([("purpose", "root"), ("file", "b")]);
    let w = t1.wrap(&[7; 32], &ctx).await.unwrap();
    assert_eq!(w.key_id, KeyId::new("v1"));
    assert_eq!(bao.rotate("k1"), 2);
    // A wrapper built after the rotation reports v2 as current.
    let t2 = Transit::connect(opts(&bao, "k1")).await.unwrap();
    assert_eq!(t2.key_id(), &KeyId::new("v2"));
    assert!(t2.may_unwrap(&KeyId::new("v1")) && !t2.may_unwrap(&KeyId::new("other")));
    let r = t2.rewrap(&w.bytes, &w.key_id, &ctx).await.unwrap().unwrap();
    assert_eq!(r.key_id, KeyId::new("v2"));
    assert!(r.bytes.starts_with(b"vault:v2:"));
    // The binding survived: right context opens, a spliced one does not.
    assert_eq!(
        t2.unwrap(&r.bytes, &r.key_id, &ctx)
            .await
            .unwrap()
            .expose_secret(),
        &[7; 32]
    );
    assert!(t2
        .unwrap(&r.bytes, &r.key_id, &other)
        .await
        .unwrap_err()
        .is_decrypt_failed());
    assert!(t2
        .unwrap(&r.bytes, &r.key_id, &WrapContext::None)
        .await
        .unwrap_err()
        .is_decrypt_failed());
    // A secret bound to an AAD is not rewrapped server-side (rewrap takes no AAD).
    let wa = t2
        .wrap(b"x", &WrapContext::Aad(b"aad".to_vec()))
        .await
        .unwrap();
    assert!(t2
        .rewrap(&wa.bytes, &wa.key_id, &WrapContext::Aad(b"aad".to_vec()))
        .await
        .unwrap()
        .is_none());
    // The server counts: the key's latest version is what the wrapper reports.
    assert_eq!(t2.read_key().await.unwrap().latest, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_decryption_version_is_a_clear_refusal() {
    let Some(bao) = OpenBao::start() else { return };
    let t = Transit::connect(opts(&bao, "k1")).await.unwrap();
    let w = t.wrap(b"old", &WrapContext::None).await.unwrap();
    bao.rotate("k1");
    bao.rotate("k1");
    bao.set_min_decryption_version("k1", 2);
    let e = t
        .unwrap(&w.bytes, &w.key_id, &WrapContext::None)
        .await
        .unwrap_err();
    assert!(matches!(e.root(), Error::KeyUnusable(_)), "{e}");
    let m = e.to_string();
    assert!(
        m.contains("\"k1\"")
            && m.contains("min_decryption_version is 2")
            && m.contains("latest version 3"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_name_the_path_and_the_token_source() {
    let Some(bao) = OpenBao::start() else { return };
    bao.policy(
        "enc-only",
        r#"path "transit/encrypt/k1" { capabilities = ["update"] }"#,
    );
    let token = bao.token(&["enc-only"], None);
    let mut o = opts(&bao, "k1");
    o.token = Some(kms_transit::Origin::from(
        SecretString::new(token.clone()),
        kms_core::stanza::Source::Env("VAULT_TOKEN"),
    ));
    let t = Transit::connect(o).await.unwrap();
    let w = t.wrap(b"s", &WrapContext::None).await.unwrap();
    let e = t
        .unwrap(&w.bytes, &w.key_id, &WrapContext::None)
        .await
        .unwrap_err();
    assert!(matches!(e.root(), Error::PermissionDenied(_)), "{e}");
    let m = e.to_string();
    assert!(
        m.contains("transit/decrypt/k1") && m.contains("env VAULT_TOKEN"),
        "{m}"
    );
    assert!(!m.contains(&token) && !m.contains(bao.root_token()));
    // No token at all.
    let mut o = opts(&bao, "k1");
    o.token = None;
    let e = Transit::connect(o).await.unwrap_err();
    assert!(matches!(e.root(), Error::PermissionDenied(_)), "{e}");
    assert!(e.to_string().contains("no token"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_header() {
    let Some(bao) = OpenBao::start() else { return };
    bao.namespace("team-a", &["nk"]);
    let mut o = opts(&bao, "nk");
    o.namespace = Some(kms_transit::Origin::from(
        "team-a".to_owned(),
        kms_core::stanza::Source::Stanza,
    ));
    let t = Transit::connect(o).await.unwrap();
    let w = t.wrap(b"ns", &WrapContext::None).await.unwrap();
    assert_eq!(
        t.unwrap(&w.bytes, &w.key_id, &WrapContext::None)
            .await
            .unwrap()
            .expose_secret(),
        b"ns"
    );
    // The namespace's key opens only there: the root namespace's decrypt refuses it.
    assert!(bao
        .try_write(
            "transit/decrypt/nk",
            &serde_json::json!({"ciphertext": String::from_utf8(w.bytes.clone()).unwrap()})
        )
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_dev_ca_and_a_wrong_ca_refused() {
    let Some(bao) = OpenBao::builder().tls(true).key("k1").start() else {
        return;
    };
    assert!(bao.address().starts_with("https://"));
    let ca = bao.ca_cert().unwrap().display().to_string();
    let mut o = opts(&bao, "k1");
    o.tls.ca_cert = Some(kms_transit::Origin::from(
        ca.clone(),
        kms_core::stanza::Source::Stanza,
    ));
    let t = Transit::connect(o).await.unwrap();
    let w = t.wrap(b"tls", &WrapContext::None).await.unwrap();
    assert_eq!(
        t.unwrap(&w.bytes, &w.key_id, &WrapContext::None)
            .await
            .unwrap()
            .expose_secret(),
        b"tls"
    );
    // PEM text (what file:// gives) works as well as a path.
    let mut o = opts(&bao, "k1");
    o.tls.ca_cert = Some(kms_transit::Origin::from(
        std::fs::read_to_string(&ca).unwrap(),
        kms_core::stanza::Source::Stanza,
    ));
    Transit::connect(o).await.unwrap();
    // Another server's CA is refused, quickly and by name.
    let other = OpenBao::builder().tls(true).start().unwrap();
    let mut o = fast(opts(&bao, "k1"));
    o.tls.ca_cert = Some(kms_transit::Origin::from(
        other.ca_cert().unwrap().display().to_string(),
        kms_core::stanza::Source::Stanza,
    ));
    let e = Transit::connect(o).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(
        e.to_string().contains("TLS") && e.to_string().contains("certificate"),
        "{e}"
    );
    // tls_skip_verify accepts it.
    let mut o = opts(&bao, "k1");
    o.tls.skip_verify = Some(kms_transit::Origin::from(
        true,
        kms_core::stanza::Source::Stanza,
    ));
    Transit::connect(o).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_gone_is_unavailable_after_bounded_retries() {
    let Some(mut bao) = OpenBao::start() else {
        return;
    };
    let t = Transit::connect(fast(opts(&bao, "k1"))).await.unwrap();
    let w = t.wrap(b"s", &WrapContext::None).await.unwrap();
    bao.stop();
    let e = t
        .unwrap(&w.bytes, &w.key_id, &WrapContext::None)
        .await
        .unwrap_err();
    assert!(
        e.is_retryable() && matches!(e.root(), Error::Unavailable(_)),
        "{e}"
    );
    assert!(e.to_string().contains(bao.address()), "{e}");
    let e = t.wrap(b"s", &WrapContext::None).await.unwrap_err();
    assert!(matches!(e.root(), Error::Unavailable(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_and_foreign_ciphertexts_fail_as_decrypt_failed() {
    let Some(bao) = OpenBao::builder().key("k1").key("k2").start() else {
        return;
    };
    let t1 = Transit::connect(opts(&bao, "k1")).await.unwrap();
    let t2 = Transit::connect(opts(&bao, "k2")).await.unwrap();
    let w = t1.wrap(b"secret", &WrapContext::None).await.unwrap();
    // Another key's ciphertext.
    assert!(t2
        .unwrap(&w.bytes, &w.key_id, &WrapContext::None)
        .await
        .unwrap_err()
        .is_decrypt_failed());
    // A version that does not exist, and no prefix.
    let mut bad = w.bytes.clone();
    bad[7] = b'9';
    assert!(t1
        .unwrap(&bad, &w.key_id, &WrapContext::None)
        .await
        .unwrap_err()
        .is_decrypt_failed());
    assert!(t1
        .unwrap(&w.bytes[6..], &w.key_id, &WrapContext::None)
        .await
        .unwrap_err()
        .is_decrypt_failed());
}
