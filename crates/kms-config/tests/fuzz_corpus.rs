//! Replays the saved fuzz corpus of fuzz/corpus/markers as ordinary tests on stable Rust.
//! (config_parse needs the backends' schemas: the facade crate replays it.)
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
fn markers_corpus() {
    replay("markers", kms_config::fuzz::markers);
}
