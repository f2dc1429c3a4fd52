//! Replays the saved fuzz corpus of fuzz/corpus/markers as ordinary tests on stable Rust.
//! (config_parse needs the backends' schemas: the facade crate replays it.)
#![allow(missing_docs)]

use kms_testsupport::corpus::replay;

#[test]
fn markers_corpus() {
    replay("markers", kms_config::fuzz::markers);
}
