//! For the transit tests (`transit_interop.rs`, `transit_rewrap.rs`): `kms "transit"` stanzas,
//! `kms` without the host's OpenBao/Vault settings, and OpenBao's file audit log by path.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// `kms` (as [`crate::support::kms`]) without the host's `VAULT_*`, `BAO_*` or `TRANSIT_WRAPPER_*`
/// settings, which the transit stanza falls back to.
pub(crate) fn kms() -> Command {
    let mut c = crate::support::kms();
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("TRANSIT_WRAPPER_") {
            c.env_remove(&*k);
        }
    }
    c
}

/// `kms ARGS` with no stdin (bounded).
pub(crate) fn run(args: &[&str]) -> Output {
    let mut c = kms();
    c.args(args);
    crate::support::output(c)
}

/// `kms ARGS`, which must exit 0; its stdout.
pub(crate) fn run_ok(args: &[&str]) -> Vec<u8> {
    let o = run(args);
    crate::support::assert_code_for(&args.join(" "), &o, 0);
    o.stdout
}

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
