//! Fuzz entry points (feature `fuzzing`), shared by `fuzz/` (cargo-fuzz) and the corpus replay
//! tests that run on stable Rust. Each panics only on a broken invariant.

use std::collections::HashMap;

use kms_core::BackendFactory;

use crate::{
    decode_marker_value, encrypt_problems, find_markers, parse_str, replace_markers, Format,
    LoadOptions,
};

/// HCL or JSON (first byte's low bit) config text, read with the schemas of `backends`:
/// parsing never panics, and every problem is reported on one line.
pub fn config_parse(data: &[u8], backends: &[&'static dyn BackendFactory]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if first & 1 == 0 {
        Format::Hcl
    } else {
        Format::Json
    };
    let opts = LoadOptions {
        backends: backends.to_vec(),
        env: Some(HashMap::new()),
    };
    match parse_str(text, "fuzz.hcl", format, &opts) {
        Ok(cfg) => {
            for w in &cfg.wrappers {
                assert!(w.line >= 1, "block lines are 1-based");
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "an error without problems");
            for e in &errors.0 {
                let line = e.to_string();
                assert!(!line.contains('\n'), "a problem spans lines: {line:?}");
                assert!(
                    line.starts_with("fuzz.hcl"),
                    "a problem without its file: {line:?}"
                );
            }
        }
    }
}

/// `{{encrypt(..)}}` / `{{decrypt(..)}}` processing as `kms config` does it: markers are in
/// order, inside the text and well formed; replacing them with themselves gives the text
/// back; replacing them changes nothing outside them; a decrypt value decodes (or not)
/// without panicking; at most one marker per line; the refused lines are found without
/// panicking, in order.
pub fn markers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let problems = encrypt_problems(text);
    assert!(problems.windows(2).all(|w| w[0].line < w[1].line));
    for func in ["encrypt", "decrypt"] {
        let found = find_markers(text, func);
        let mut end = 0;
        let mut line = 0;
        for m in &found {
            assert!(m.range.start >= end, "markers overlap or are out of order");
            let whole = &text[m.range.clone()];
            assert!(whole.starts_with(&format!("{{{{{func}(")) && whole.ends_with(")}}"));
            assert_eq!(&whole[func.len() + 3..whole.len() - 3], m.value);
            assert!(m.line > line, "at most one marker per line, in order");
            assert!(!m.value.contains('\n'));
            end = m.range.end;
            line = m.line;
            if func == "decrypt" {
                if let Some(bytes) = decode_marker_value(m.value) {
                    let _ = kms_core::BlobInfo::from_bytes(&bytes);
                }
            }
        }
        let same: Vec<String> = found
            .iter()
            .map(|m| text[m.range.clone()].to_owned())
            .collect();
        assert_eq!(replace_markers(text, &found, &same), text);
        let blank: Vec<String> = found.iter().map(|_| String::new()).collect();
        let removed: usize = found.iter().map(|m| m.range.len()).sum();
        assert_eq!(
            replace_markers(text, &found, &blank).len(),
            text.len() - removed
        );
    }
}
