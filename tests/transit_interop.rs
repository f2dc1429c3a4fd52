//! Interop with the genuine go-kms-wrapping `transit` wrapper, as OpenBao 2.6.2 builds it into
//! its `seal "transit"`: an OpenBao sealed through a 2.7.2 dev server's Transit key stores its
//! root key as the wrapper's BlobInfo (`core/hsm/barrier-unseal-keys`). `kms decrypt` opens
//! that value, and a value `kms encrypt --value` writes for the same plaintext, put in its
//! place, unseals OpenBao again (and a wrong one does not).
//!
//! Needs `KMS_BAO` (2.7.2) and `KMS_BAO_262` (2.6.2), which `.ci/run` installs; under
//! `KMS_REQUIRE_INTEGRATION=1` a missing one fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/bao.rs"]
mod bao;
mod support;

use base64::Engine;
use kms::BlobInfo;
use kms_testsupport::openbao::OpenBao;
use kms_testsupport::openbao_seal::{self, SealedBao, TransitSeal, BARRIER_UNSEAL_KEYS};
use support::{run_args_ok, Scratch};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The seal's policy: encrypt and decrypt with the key, nothing else.
const SEAL_POLICY: &str = "path \"transit/encrypt/autounseal\" { capabilities = [\"update\"] }\n\
                           path \"transit/decrypt/autounseal\" { capabilities = [\"update\"] }\n";

/// A protobuf length-delimited field (lengths here are under 128).
fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    assert!(bytes.len() < 128);
    let mut v = vec![number << 3 | 2, bytes.len() as u8];
    v.extend_from_slice(bytes);
    v
}

/// The wrapper's BlobInfo layout: `ciphertext(1)` = the Transit string, `key_info(5)` =
/// `{ key_id(3) = "vN" }`, nothing else.
fn wrapper_blob(ciphertext: &str, key_id: &str) -> Vec<u8> {
    let mut v = field(1, ciphertext.as_bytes());
    v.extend(field(5, &field(3, key_id.as_bytes())));
    v
}

/// The Transit ciphertext string inside a BlobInfo.
fn transit_ciphertext(raw: &[u8]) -> String {
    let blob = BlobInfo::from_bytes(raw).unwrap();
    String::from_utf8(blob.ciphertext.clone()).unwrap()
}

/// The root key list OpenBao wraps: a JSON list of base64 32-byte keys.
fn assert_key_list(pt: &[u8]) {
    let keys: Vec<String> = serde_json::from_slice(pt).unwrap();
    assert!(!keys.is_empty());
    for k in keys {
        assert_eq!(B64.decode(k).unwrap().len(), 32);
    }
}

#[test]
fn genuine_transit_seal_values_open_with_kms_and_kms_values_unseal_openbao() {
    let Some(bao262) = openbao_seal::bao_262() else {
        return;
    };
    let Some(dev) = OpenBao::builder().key("autounseal").start() else {
        return;
    };
    let (addr, root) = (dev.address.clone(), dev.root_token().to_owned());
    dev.policy("autounseal", SEAL_POLICY);
    let token = dev.token(&["autounseal"], None);
    let s = Scratch::new();

    let mut sealed = SealedBao::start(
        &bao262,
        &TransitSeal {
            address: addr.clone(),
            token: token.clone(),
            key_name: "autounseal".into(),
            mount_path: "transit/".into(),
        },
    );
    sealed.init();
    let secret = B64.encode(support::random(16));
    sealed.cli_ok(&["secrets", "enable", "-path=secret", "kv"]);
    sealed.cli_ok(&["kv", "put", "secret/hello", &format!("v={secret}")]);

    // kms, with the seal's own token and policy, opens the wrapper's stored value.
    let cfg = s.write(
        "kms.hcl",
        bao::transit_stanza("root", &addr, &token, "autounseal"),
    );
    let stored = sealed.read_entry(BARRIER_UNSEAL_KEYS);
    let stored_ct = transit_ciphertext(&stored);
    assert!(stored_ct.starts_with("vault:v1:"), "{stored_ct}");
    assert_eq!(
        stored,
        wrapper_blob(&stored_ct, "v1"),
        "the wrapper's layout"
    );
    let stored_path = s.write("stored.bin", &stored);
    let pt = run_args_ok(&["decrypt", "-c", &cfg, &stored_path]);
    assert_key_list(&pt);
    // The same plaintext as the Transit engine's own decrypt of the stored ciphertext.
    let engine = dev.write(
        "transit/decrypt/autounseal",
        serde_json::json!({ "ciphertext": stored_ct }),
    );
    let engine_pt = engine["data"]["plaintext"].as_str().unwrap();
    assert_eq!(pt, B64.decode(engine_pt).unwrap());

    let kms_value = |plaintext: &[u8]| {
        let input = s.write("plain.json", plaintext);
        run_args_ok(&["encrypt", "-c", &cfg, "--value", "--binary", "-q", &input])
    };

    // A kms value for other key bytes leaves OpenBao sealed: the check below can fail.
    let wrong = serde_json::to_vec(&[B64.encode(support::random(32))]).unwrap();
    sealed.stop();
    sealed.write_entry(BARRIER_UNSEAL_KEYS, &kms_value(&wrong));
    sealed.restart();
    assert!(
        sealed.wait_unseal_failed(),
        "a wrong root key must not unseal; log:\n{}",
        sealed.log()
    );
    assert_eq!(sealed.status(), Some(true));

    // kms's value for the real plaintext, in the wrapper's exact layout, unseals it.
    let ours = kms_value(&pt);
    let ours_ct = transit_ciphertext(&ours);
    assert!(ours_ct.starts_with("vault:v1:"), "{ours_ct}");
    assert_ne!(ours_ct, stored_ct, "a fresh encryption");
    assert_eq!(
        ours,
        wrapper_blob(&ours_ct, "v1"),
        "byte for byte the wrapper's layout"
    );
    sealed.stop();
    sealed.write_entry(BARRIER_UNSEAL_KEYS, &ours);
    sealed.restart();
    assert!(sealed.wait_unsealed(), "log:\n{}", sealed.log());
    assert_eq!(
        sealed
            .cli_ok(&["kv", "get", "-field=v", "secret/hello"])
            .trim(),
        secret
    );

    // After a rotation, the value kms rewraps (server-side, to v2) still unseals it.
    assert_eq!(dev.rotate("autounseal"), 2);
    let admin = s.write(
        "admin.hcl",
        bao::transit_stanza("root", &addr, &root, "autounseal"),
    );
    let ours_path = s.write("ours.bin", &ours);
    run_args_ok(&["rewrap", "-c", &admin, "-q", &ours_path]);
    let rewrapped = s.read("ours.bin");
    let rewrapped_ct = transit_ciphertext(&rewrapped);
    assert!(rewrapped_ct.starts_with("vault:v2:"), "{rewrapped_ct}");
    assert_eq!(rewrapped, wrapper_blob(&rewrapped_ct, "v2"));
    sealed.stop();
    sealed.write_entry(BARRIER_UNSEAL_KEYS, &rewrapped);
    sealed.restart();
    assert!(sealed.wait_unsealed(), "log:\n{}", sealed.log());
    assert_eq!(
        sealed
            .cli_ok(&["kv", "get", "-field=v", "secret/hello"])
            .trim(),
        secret
    );
}
