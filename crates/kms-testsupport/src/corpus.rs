//! The fuzz corpus replay: each saved input of `fuzz/corpus/TARGET/` goes through the target's
//! entry point as an ordinary test on stable Rust. One line per target at the call site:
//!
//! ```ignore
//! #[test]
//! fn markers_corpus() {
//!     kms_testsupport::corpus::replay("markers", kms_config::fuzz::markers);
//! }
//! ```

use std::path::PathBuf;

/// Runs `f` on every file of `fuzz/corpus/TARGET/`.
///
/// # Panics
/// When the corpus is missing or empty, or when `f` panics (the failing input is named).
pub fn replay(target: &str, f: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no corpus for {target} in {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no corpus for {target} in {}",
        dir.display()
    );
    for path in paths {
        let input = std::fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        f(&input);
    }
}
