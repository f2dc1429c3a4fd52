//! Replays the saved fuzz corpus of fuzz/corpus/config_parse on stable Rust, with the
//! compiled-in backends' schemas.
#![allow(missing_docs)]

use kms_testsupport::corpus::replay;

#[test]
fn config_parse_corpus() {
    replay("config_parse", |data| {
        kms::config::fuzz::config_parse(data, &kms::backends())
    });
}
