//! The awskms backend against moto's KMS server (a real HTTP KMS API, not an SDK fake).
//! Skipped only with KMS_SKIP_INTEGRATION=1; CI sets KMS_REQUIRE_INTEGRATION=1.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use kms_aws::{AwsKms, AwsKmsOptions};
use kms_core::testkit::Options;
use kms_core::{Backend, Error, KeyId, WrapContext};
use kms_testsupport::{integration_enabled, Moto, Proxy, ACCESS_KEY, REGION, SECRET_KEY};

fn opts(endpoint: &str, key: &str) -> AwsKmsOptions {
    let mut o = AwsKmsOptions::default();
    o.kms_key_id = Some(key.to_owned());
    o.endpoint = Some(endpoint.to_owned());
    o.region = Some(REGION.to_owned());
    o.access_key = Some(ACCESS_KEY.to_owned());
    o.secret_key = Some(SECRET_KEY.to_owned().into());
    o
}

/// `w` unwraps with `kms` (under [`ctx`]) to `want`.
async fn assert_opens(kms: &AwsKms, w: &kms_core::Wrapped, want: &[u8]) {
    let got = kms.unwrap(&w.bytes, &w.key_id, &ctx()).await.unwrap();
    assert_eq!(got.expose_secret(), want);
}

fn ctx() -> WrapContext {
    WrapContext::pairs([("kms_purpose", "root"), ("kms_file_id", "f1")])
}

#[tokio::test]
async fn testkits_pass_against_moto() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let arn = moto.create_key().await;
    let kms = AwsKms::connect(opts(&moto.endpoint, &arn)).await.unwrap();
    assert_eq!(kms.key_id().as_str(), arn);
    let o = Options {
        max_bit_flips: Some(24),
        ..Options::default()
    };
    kms_core::testkit::check_backend(&kms, &o).await;
    kms_envelope::testkit::check_values(&kms, &o).await;
}

#[tokio::test]
async fn alias_round_trip_retarget_and_rotation() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let k1 = moto.create_key().await;
    moto.set_alias("alias/app", &k1).await;
    let kms = AwsKms::connect(opts(&moto.endpoint, "alias/app"))
        .await
        .unwrap();
    assert_eq!(
        kms.key_id().as_str(),
        k1,
        "an alias resolves to its key ARN"
    );
    let old = kms
        .wrap(b"0123456789abcdef0123456789abcdef", &ctx())
        .await
        .unwrap();
    assert_eq!(old.key_id.as_str(), k1);

    // Retarget the alias: a wrapper built now uses the new key; old data still opens.
    let k2 = moto.create_key().await;
    moto.set_alias("alias/app", &k2).await;
    let kms2 = AwsKms::connect(opts(&moto.endpoint, "alias/app"))
        .await
        .unwrap();
    let new = kms2.wrap(b"new secret", &ctx()).await.unwrap();
    assert_eq!(new.key_id.as_str(), k2, "new data records the new key ARN");
    assert_opens(&kms2, &old, b"0123456789abcdef0123456789abcdef").await;
    assert_opens(&kms2, &new, b"new secret").await;

    // RotateKeyOnDemand: both old and new data open.
    moto.client()
        .await
        .rotate_key_on_demand()
        .key_id(&k2)
        .send()
        .await
        .unwrap();
    let after = kms2.wrap(b"after rotation", &ctx()).await.unwrap();
    assert_opens(&kms2, &new, b"new secret").await;
    assert_opens(&kms2, &after, b"after rotation").await;
}

#[tokio::test]
async fn rewrap_uses_reencrypt_and_never_decrypt() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let proxy = Proxy::start(&moto.endpoint);
    let k1 = moto.create_key().await;
    let k2 = moto.create_key().await;
    let old_kms = AwsKms::connect(opts(&proxy.endpoint, &k1)).await.unwrap();
    let old = old_kms.wrap(&[9; 32], &ctx()).await.unwrap();
    let new_kms = AwsKms::connect(opts(&proxy.endpoint, &k2)).await.unwrap();
    proxy.reset_counts();
    let moved = new_kms
        .rewrap(&old.bytes, &old.key_id, &ctx())
        .await
        .unwrap()
        .expect("ReEncrypt is supported");
    assert_eq!(moved.key_id.as_str(), k2);
    assert_eq!(proxy.count("ReEncrypt"), 1);
    assert_eq!(
        proxy.count("Decrypt"),
        0,
        "the data key must never leave KMS: {:?}",
        proxy.counts()
    );
    assert_eq!(
        new_kms
            .unwrap(&moved.bytes, &moved.key_id, &ctx())
            .await
            .unwrap()
            .expose_secret(),
        &[9; 32]
    );
    // The context is kept: a different one fails.
    assert!(new_kms
        .unwrap(&moved.bytes, &moved.key_id, &WrapContext::None)
        .await
        .is_err());
}

#[tokio::test]
async fn stale_or_altered_recorded_ids_still_open_as_in_go_kms_wrapping() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let k1 = moto.create_key().await;
    let k2 = moto.create_key().await;
    moto.set_alias("alias/app", &k1).await;
    let kms = AwsKms::connect(opts(&moto.endpoint, &k1)).await.unwrap();
    let w = kms.wrap(&[5; 32], &ctx()).await.unwrap();
    // An alias recorded by an older wrapper and since moved, another key, a missing key, a
    // key of another region, garbage: KMS finds the key from the ciphertext (no KeyId sent).
    moto.set_alias("alias/app", &k2).await;
    let missing =
        k1.rsplit_once('/').unwrap().0.to_owned() + "/00000000-0000-4000-8000-000000000000";
    for id in [
        "alias/app".to_owned(),
        k2.clone(),
        missing,
        k1.replace(REGION, "eu-west-1"),
        "not-a-key".to_owned(),
    ] {
        let got = kms.unwrap(&w.bytes, &KeyId::new(id.clone()), &ctx()).await;
        assert_eq!(got.unwrap().expose_secret(), &[5; 32], "recorded as {id}");
        // ReEncrypt takes no SourceKeyId either.
        let moved = kms
            .rewrap(&w.bytes, &KeyId::new(id.clone()), &ctx())
            .await
            .unwrap()
            .unwrap();
        assert_opens(&kms, &moved, &[5; 32]).await;
    }
}

#[tokio::test]
async fn wrong_context_fails_as_decrypt_failed() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let arn = moto.create_key().await;
    let kms = AwsKms::connect(opts(&moto.endpoint, &arn)).await.unwrap();
    let w = kms.wrap(b"secret", &ctx()).await.unwrap();
    let other = WrapContext::pairs([("kms_purpose", "root"), ("kms_file_id", "f2")]);
    assert!(matches!(
        kms.unwrap(&w.bytes, &w.key_id, &other).await,
        Err(Error::DecryptFailed)
    ));
}

#[tokio::test]
async fn nonexistent_key_fails_at_connect_naming_it() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let missing = "arn:aws:kms:us-east-1:123456789012:key/19ec80b0-dfdd-4d97-8164-c6examplekey";
    let err = AwsKms::connect(opts(&moto.endpoint, missing))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(missing) && msg.contains("us-east-1"), "{msg}");
    let err = AwsKms::connect(opts(&moto.endpoint, "alias/nope"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("alias/nope"), "{err}");
}

#[tokio::test]
async fn unusable_keys_are_refused_with_the_reason() {
    if !integration_enabled() {
        return;
    }
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let moto = Moto::start();
    let sign = moto
        .create_key_with(KeyUsageType::SignVerify, KeySpec::Rsa2048)
        .await;
    let err = AwsKms::connect(opts(&moto.endpoint, &sign))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::KeyUnusable(_)) && err.to_string().contains("KeyUsage SIGN_VERIFY"),
        "{err}"
    );
    let disabled = moto.create_key().await;
    // moto's DisableKey only accepts the bare key id, not the ARN.
    let bare = disabled.rsplit('/').next().unwrap();
    moto.client()
        .await
        .disable_key()
        .key_id(bare)
        .send()
        .await
        .unwrap();
    let err = AwsKms::connect(opts(&moto.endpoint, &disabled))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Disabled"), "{err}");
}

#[tokio::test]
async fn closed_port_fails_fast_naming_the_endpoint() {
    if !integration_enabled() {
        return;
    }
    let port = kms_testsupport::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let err = AwsKms::connect(opts(&endpoint, "alias/x"))
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains(&endpoint), "{err}");
}

#[tokio::test]
async fn lazy_wrappers_do_not_contact_kms_until_used() {
    if !integration_enabled() {
        return;
    }
    let port = kms_testsupport::free_port();
    let lazy = AwsKms::connect_lazy(opts(&format!("http://127.0.0.1:{port}"), "alias/old"))
        .await
        .unwrap();
    assert_eq!(lazy.key_id().as_str(), "alias/old");
    assert!(lazy
        .unwrap(b"x", &KeyId::new("alias/old"), &WrapContext::None)
        .await
        .is_err());
}

#[tokio::test]
async fn fips_with_a_custom_endpoint_is_a_config_error() {
    if !integration_enabled() {
        return;
    }
    // Resolution only: moto cannot serve FIPS endpoints. The profile's use_fips_endpoint
    // sets it here, without touching the process environment.
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        "[fipsy]\naws_access_key_id = a\naws_secret_access_key = b\nuse_fips_endpoint = true\n",
    )
    .unwrap();
    let mut o = opts("http://127.0.0.1:1", "alias/x");
    o.shared_creds_filename = Some(creds.to_str().unwrap().to_owned());
    o.shared_creds_profile = Some("fipsy".into());
    let err = AwsKms::connect_lazy(o).await.unwrap_err();
    assert!(
        matches!(err, Error::Config(_)) && err.to_string().contains("FIPS"),
        "{err}"
    );
}

#[tokio::test]
async fn shared_credentials_file_with_a_named_profile() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let arn = moto.create_key().await;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = s3cr3t-other-value\n",
    )
    .unwrap();
    let mut o = AwsKmsOptions::default();
    o.kms_key_id = Some(arn.clone());
    o.endpoint = Some(moto.endpoint.clone());
    o.region = Some(REGION.into());
    o.shared_creds_filename = Some(creds.to_str().unwrap().into());
    o.shared_creds_profile = Some("other".into());
    o.ignore_env = true;
    let kms = AwsKms::connect(o.clone()).await.unwrap();
    assert_eq!(kms.key_id().as_str(), arn);
    // A profile that does not exist in that file: no credentials, a clear failure.
    o.shared_creds_profile = Some("absent".into());
    let err = AwsKms::connect(o).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("s3cr3t-other-value"), "no secret in {text}");
    assert!(text.to_lowercase().contains("credential"), "{text}");
}

#[tokio::test]
async fn generate_data_key_option() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let arn = moto.create_key().await;
    let kms = AwsKms::connect(opts(&moto.endpoint, &arn)).await.unwrap();
    let (plain, wrapped) = kms.generate_data_key(&ctx()).await.unwrap();
    assert_eq!(plain.len(), 32);
    assert_eq!(
        kms.unwrap(&wrapped.bytes, &wrapped.key_id, &ctx())
            .await
            .unwrap(),
        plain
    );
}

#[tokio::test]
async fn debug_and_errors_never_show_credentials() {
    if !integration_enabled() {
        return;
    }
    let moto = Moto::start();
    let mut o = opts(&moto.endpoint, "alias/none");
    o.secret_key = Some("CANARY-secret-key-0123".to_owned().into());
    o.session_token = Some("CANARY-session-token-0123".to_owned().into());
    let dbg = format!("{o:?}");
    let err = AwsKms::connect(o).await.unwrap_err();
    for text in [dbg, err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("CANARY"), "{text}");
    }
}
