//! Golden files pin both formats. `KMS_BLESS=1 cargo test -p kms-envelope --test golden`
//! writes new ones; a change to either format must come with a version bump instead.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;

use kms_aead::AeadBackend;
use kms_core::{BlobInfo, Key256, KeyInfo, Purpose};
use kms_envelope::stream::{open_header, seal_header, Header};
use prost::Message;

const GOLDEN_KEY: [u8; 32] = [0x42; 32];
const GOLDEN_PLAINTEXT_LEN: usize = 2500;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn plaintext() -> Vec<u8> {
    (0..GOLDEN_PLAINTEXT_LEN).map(|i| (i % 256) as u8).collect()
}

fn bless() -> bool {
    std::env::var_os("KMS_BLESS").is_some()
}

/// A stream file written by format version 1, segment size 1024, aead key 0x42 × 32,
/// key id "golden", AAD "golden-aad".
#[tokio::test]
async fn stream_v1_golden_file_decrypts() {
    let backend = AeadBackend::new(Key256::new(GOLDEN_KEY), "golden");
    let path = golden("stream-v1-aead.kms");
    if bless() {
        let (h, key) = seal_header(&[&backend], Purpose::Root, b"golden-aad", 1024)
            .await
            .unwrap();
        let mut out = h.encode();
        key.encrypt_body(&mut &plaintext()[..], &mut out, &mut |_| {})
            .unwrap();
        std::fs::write(&path, out).unwrap();
    }
    let file = std::fs::read(&path).unwrap();
    let (header, hlen) = Header::parse(&file).unwrap();
    assert_eq!(header.purpose, Purpose::Root);
    assert_eq!(header.segment_size, 1024);
    assert!(header.aad_bound);
    assert_eq!(header.entries.len(), 1);
    assert_eq!(header.entries[0].kind, "aead");
    assert_eq!(header.entries[0].key_id, "golden");
    assert_eq!(
        header.encode(),
        file[..hlen],
        "header re-encodes to the same bytes"
    );
    assert_eq!(
        header.segments_for_body((file.len() - hlen) as u64),
        Some(3)
    );
    let key = open_header(&header, &[&backend], b"golden-aad")
        .await
        .unwrap();
    let mut out = Vec::new();
    key.decrypt_body(&mut &file[hlen..], &mut out, &mut |_| {})
        .unwrap();
    assert_eq!(out, plaintext());
}

/// A BlobInfo encoded by hand from the types.proto field numbers.
#[test]
fn blobinfo_hand_encoded_golden() {
    let mut bytes = vec![];
    // 1: ciphertext "ct!" ; 2: iv 12 bytes of 0x01 ; 5: key_info { 1: mechanism 1, 3: key_id "arn:k", 5: wrapped_key "wk" }
    bytes.extend_from_slice(&[0x0a, 3, b'c', b't', b'!']);
    bytes.extend_from_slice(&[0x12, 12]);
    bytes.extend_from_slice(&[1; 12]);
    let key_info = [
        0x08, 1, 0x1a, 5, b'a', b'r', b'n', b':', b'k', 0x2a, 2, b'w', b'k',
    ];
    bytes.extend_from_slice(&[0x2a, key_info.len() as u8]);
    bytes.extend_from_slice(&key_info);
    let blob = BlobInfo::decode_strict(&bytes).unwrap();
    let expected = BlobInfo {
        ciphertext: b"ct!".to_vec(),
        iv: vec![1; 12],
        key_info: Some(KeyInfo {
            mechanism: 1,
            key_id: "arn:k".into(),
            wrapped_key: b"wk".to_vec(),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(blob, expected);
    assert_eq!(blob.encode_to_vec(), bytes, "re-encodes to the same bytes");
    // Unknown fields (here field 15, varint, inside key_info and at the top level) are skipped.
    let mut with_unknown = bytes.clone();
    with_unknown.extend_from_slice(&[0x78, 0x05]);
    assert_eq!(BlobInfo::decode_strict(&with_unknown).unwrap(), expected);
    // All eleven KeyInfo fields and field 8 (client_data) decode at their numbers.
    let full = std::fs::read(golden("blobinfo-all-fields.bin")).unwrap();
    let b = BlobInfo::decode_strict(&full).unwrap();
    let k = b.key_info.as_ref().unwrap();
    assert_eq!(
        (b.hmac.as_slice(), b.wrapped, b.value_path.as_str()),
        (&b"hm"[..], true, "vp")
    );
    assert_eq!(b.client_data.as_deref(), Some(&[0x0a, 0x00][..]));
    assert_eq!(
        (
            k.mechanism,
            k.hmac_mechanism,
            k.hmac_key_id.as_str(),
            k.flags
        ),
        (1, 2, "hk", 6)
    );
    assert_eq!(
        (
            k.key_type,
            k.key_purposes.as_slice(),
            k.key_encoding,
            k.wrapped_key_encoding
        ),
        (7, &[1, 2][..], 10, 11)
    );
    assert_eq!(k.key, b"kk");
    assert_eq!(b.encode_to_vec(), full);
    assert!(
        !format!("{b:?}").contains("107, 107"),
        "Debug must not show KeyInfo.key"
    );
}

#[test]
fn bare_blobinfo_recognition_is_strict() {
    assert!(BlobInfo::decode_strict(b"").is_err());
    assert!(BlobInfo::decode_strict(b"hello world\n").is_err());
    assert!(
        BlobInfo::decode_strict(&[0x0a, 10, 1]).is_err(),
        "truncated length"
    );
    assert!(
        BlobInfo::decode_strict(&[0x12, 1, 0]).is_err(),
        "no ciphertext"
    );
    assert!(
        BlobInfo::decode_strict(&[0x0a, 1, 0, 0x3a, 1, b'p']).is_err(),
        "plaintext set"
    );
}
