//! HCL v1 probes: small configs on which HCL v1 (Boundary's reader) and HCL 2 differ, and
//! stanza edge cases. `tests/oracle_corpus.rs` (repository root) holds `kms check` to
//! Boundary's own reading of each, live; this file checks what needs no oracle: how kms words
//! its errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use kms::config::{load, LoadOptions};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hclv1_probes")
}

/// kms's errors on `path` (empty when it loads), each line checked to name the file.
fn load_errors(path: &Path) -> String {
    let opts = LoadOptions::new(kms::backends()).with_env(HashMap::<String, String>::new());
    match load(path, &opts) {
        Ok(_) => String::new(),
        Err(e) => {
            let shown = e.to_string();
            for line in shown.lines() {
                assert!(line.starts_with(&format!("{}: ", path.display())), "{line}");
            }
            shown
        }
    }
}

#[test]
fn every_error_names_the_file() {
    let mut n = 0;
    for entry in fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "hcl" || e == "json") {
            load_errors(&path);
            n += 1;
        }
    }
    assert!(n >= 100, "{n} probes");
}

#[test]
fn syntax_errors_name_line_and_column_and_hide_values() {
    let shown = load_errors(&dir().join("function_call_kms.hcl"));
    assert!(
        shown.ends_with(
            "function_call_kms.hcl: line 5: HCL syntax error at column 13: unknown token IDENT \
             (values are literals, lists and objects; HCL v1 has no expressions, variables or \
             functions)"
        ),
        "{shown}"
    );
    let shown = load_errors(&dir().join("bad_escape.hcl"));
    assert!(!shown.is_empty());
    assert!(!shown.contains("a\\qb"), "{shown}");
}
