//! Bodies of the fuzz targets under `fuzz/`, shared with the corpus replay tests so that CI
//! replays the saved corpora on stable Rust. Each must never panic, whatever the input.

use kms_core::{BlobInfo, Key256, KeyId, Purpose};

use crate::stream::{open_header, seal_header, Header};

/// BlobInfo decode: strict decode, accessors, and a re-encode round trip of what decoded.
pub fn blobinfo_decode(data: &[u8]) {
    if let Ok(b) = BlobInfo::decode_strict(data) {
        let _ = (
            b.key_id(),
            b.mechanism(),
            b.wrapped_key(),
            b.is_envelope(),
            format!("{b:?}"),
        );
        let again = prost::Message::encode_to_vec(&b);
        let b2 = BlobInfo::decode_strict(&again).map_err(|e| e.to_string());
        assert_eq!(
            b2.as_ref().ok(),
            Some(&b),
            "re-encoded BlobInfo must decode to itself"
        );
    }
}

/// Stream header parse: never panics; what parses re-encodes to the bytes it was read from.
pub fn stream_header(data: &[u8]) {
    if let Ok((h, len)) = Header::parse(data) {
        assert_eq!(
            h.encode(),
            data[..len],
            "header must re-encode to its bytes"
        );
        let _ = (
            h.segments_for_body(data.len() as u64),
            h.wrap_context(),
            h.recorded(),
        );
    }
    let mut r = data;
    let _ = Header::read_from(&mut r);
}

/// Stream decrypt of arbitrary bytes with a fixed aead key: must fail cleanly (or, for the
/// impossible case of a forgery, succeed) and never panic. The input is also tried as a body
/// behind a valid header.
pub fn stream_decrypt(data: &[u8]) {
    let backend = kms_aead::AeadBackend::new(Key256::new([0x11; 32]), KeyId::new("fuzz"));
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(_) => return,
    };
    rt.block_on(async {
        let mut input = data;
        if let Ok((h, _)) = Header::read_from(&mut input) {
            if let Ok(key) = open_header(&h, &[&backend], b"").await {
                let _ = key.decrypt_body(&mut input, &mut std::io::sink(), &mut |_| {});
            }
        }
        if let Ok((h, key)) = seal_header(&[&backend], Purpose::Root, b"", 1024).await {
            let _ = h;
            let mut body = data;
            let r = key.decrypt_body(&mut body, &mut std::io::sink(), &mut |_| {});
            assert!(
                r.is_err() || data.len() >= 16,
                "a body shorter than a tag cannot authenticate"
            );
        }
    });
}
