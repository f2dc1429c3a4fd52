//! Replays the saved fuzz corpora (fuzz/corpus/) as ordinary tests on stable Rust.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        f(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n > 0, "no corpus for {target} in {}", dir.display());
}

#[test]
fn blobinfo_decode_corpus() {
    replay("blobinfo_decode", kms_envelope::fuzz::blobinfo_decode);
}

#[test]
fn stream_header_corpus() {
    replay("stream_header", kms_envelope::fuzz::stream_header);
}

#[test]
fn stream_decrypt_corpus() {
    replay("stream_decrypt", kms_envelope::fuzz::stream_decrypt);
}
