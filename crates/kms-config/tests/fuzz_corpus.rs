//! Replays the saved fuzz corpora (fuzz/corpus/config_parse, fuzz/corpus/markers) as ordinary
//! tests on stable Rust.
#![allow(missing_docs)]

use kms_testsupport::corpus::replay;

#[test]
fn config_parse_corpus() {
    replay("config_parse", kms_config::fuzz::config_parse);
}

#[test]
fn markers_corpus() {
    replay("markers", kms_config::fuzz::markers);
}
