//! Replays the saved fuzz corpus of fuzz/corpus/config_parse on stable Rust, with the
//! compiled-in backends' schemas.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;

#[test]
fn config_parse_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/config_parse");
    let backends = kms::backends();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        kms::config::fuzz::config_parse(&std::fs::read(&path).unwrap(), &backends);
        n += 1;
    }
    assert!(n > 0, "no corpus in {}", dir.display());
}
