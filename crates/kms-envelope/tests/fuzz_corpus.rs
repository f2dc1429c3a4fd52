//! Replays the saved fuzz corpora (fuzz/corpus/) as ordinary tests on stable Rust.
#![allow(missing_docs)]

use kms_testsupport::corpus::replay;

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
