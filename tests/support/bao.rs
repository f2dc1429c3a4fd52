//! For the transit tests (`transit_interop.rs`, `transit_rewrap.rs`): `kms "transit"` stanzas
//! and OpenBao's file audit log by path.
#![allow(dead_code)]

use std::path::Path;

/// A `kms "transit"` stanza.
pub(crate) fn transit_stanza(purpose: &str, address: &str, token: &str, key: &str) -> String {
    format!(
        "kms \"transit\" {{\n  purpose = \"{purpose}\"\n  address = \"{address}\"\n  token = \"{token}\"\n  \
         key_name = \"{key}\"\n  mount_path = \"transit/\"\n  disable_renewal = \"true\"\n}}\n"
    )
}

/// The requests in an OpenBao file audit log, by path (`transit/decrypt/k`, ...), counting
/// only lines from byte `from` on (responses are logged too; they are not counted).
pub(crate) fn audit_requests(log: &Path, from: usize) -> Vec<String> {
    let text = std::fs::read(log).unwrap();
    text[from.min(text.len())..]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            (v["type"] == "request").then(|| v["request"]["path"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// How many of `paths` start with `prefix`.
pub(crate) fn count(paths: &[String], prefix: &str) -> usize {
    paths.iter().filter(|p| p.starts_with(prefix)).count()
}
