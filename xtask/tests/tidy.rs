//! Tidy checks: ARCHITECTURE.md's invariants as ordinary tests, as rust-analyzer runs its own.
//!
//! Dependencies come from `cargo metadata --no-deps` (what each manifest declares), the rest
//! from scanning sources. Every failure names the file, the line and the invariant it breaks.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Backend crates known by name. Any other workspace crate that implements `BackendFactory` is
/// a backend too, so a new backend is covered either way.
const BACKEND_CRATES: &[&str] = &["kms-aead", "kms-aws", "kms-transit"];

/// The stanza kinds of the backends (`kms "TYPE"`), which kms-config must not name.
const BACKEND_KINDS: &[&str] = &["aead", "awskms", "transit"];

/// kms-core's only normal dependencies; the AES-GCM providers must be optional.
const CORE_ALLOWED: &[&str] = &[
    "async-trait",
    "prost",
    "thiserror",
    "zeroize",
    "getrandom",
    "base64",
    "aws-lc-rs",
    "aes-gcm",
];
const CORE_OPTIONAL: &[&str] = &["aws-lc-rs", "aes-gcm"];

/// The stream internals of kms-envelope that the CLI must leave to the library.
const STREAM_INTERNALS: &[&str] = &[
    "Header",
    "encrypt_body",
    "decrypt_body",
    "entry_for",
    "seal_header",
    "open_header",
    "unwrap_data_key",
];

struct Dep {
    name: String,
    /// `None` for normal dependencies, else `dev` or `build`.
    kind: Option<String>,
    optional: bool,
}

struct Crate {
    name: String,
    manifest: PathBuf,
    deps: Vec<Dep>,
}

impl Crate {
    fn dir(&self) -> &Path {
        self.manifest.parent().unwrap()
    }
    fn normal_deps(&self) -> impl Iterator<Item = &Dep> {
        self.deps.iter().filter(|d| d.kind.is_none())
    }
    /// `Cargo.toml:LINE` of the line declaring `dep` (the first one; 0 when not found).
    fn where_declared(&self, dep: &str) -> String {
        let text = std::fs::read_to_string(&self.manifest).unwrap_or_default();
        let line = text
            .lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(dep)
                    .is_some_and(|rest| rest.starts_with([' ', '=', '.']))
            })
            .map_or(0, |i| i + 1);
        format!("{}:{line}", rel(&self.manifest))
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

fn workspace() -> Vec<Crate> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata output");
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Crate {
            name: p["name"].as_str().unwrap().to_owned(),
            manifest: PathBuf::from(p["manifest_path"].as_str().unwrap()),
            deps: p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| Dep {
                    name: d["name"].as_str().unwrap().to_owned(),
                    kind: d["kind"].as_str().map(str::to_owned),
                    optional: d["optional"].as_bool().unwrap_or(false),
                })
                .collect(),
        })
        .collect()
}

fn krate<'a>(ws: &'a [Crate], name: &str) -> &'a Crate {
    ws.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no workspace crate {name}"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `(file, line number, line)` for every line of every `.rs` file under `dir`.
fn lines_under(dir: &Path) -> Vec<(PathBuf, usize, String)> {
    rust_files(dir)
        .into_iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            text.lines()
                .enumerate()
                .map(|(i, l)| (f.clone(), i + 1, l.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with("//")
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `line` has `word` as a whole identifier.
fn has_ident(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
    })
}

/// Whether `line` names `name` in any case, as a word or as a part of a compound
/// (`AeadStanza`, `awskms_region`, `kms-aead`), but not inside a longer lowercase word
/// (`transition`).
fn names(line: &str, name: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.match_indices(name).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + name.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_lowercase())
            && !after.is_some_and(|c| c.is_ascii_lowercase())
    })
}

/// The backend crates: the named ones in the workspace, and every crate (other than kms-core,
/// which defines it) whose sources implement `BackendFactory`.
fn backends(ws: &[Crate]) -> Vec<&Crate> {
    ws.iter()
        .filter(|c| {
            BACKEND_CRATES.contains(&c.name.as_str())
                || (c.name != "kms-core"
                    && lines_under(&c.dir().join("src")).iter().any(|(_, _, l)| {
                        !is_comment(l) && l.contains("impl") && l.contains("BackendFactory for ")
                    }))
        })
        .collect()
}

fn fail_if_any(invariant: &str, problems: Vec<String>) {
    if problems.is_empty() {
        return;
    }
    let mut msg = format!("Architecture invariant broken: {invariant}\n");
    for p in problems {
        let _ = writeln!(msg, "  {p}");
    }
    panic!("{msg}");
}

#[test]
fn kms_core_depends_only_on_its_allowed_set() {
    let ws = workspace();
    let core = krate(&ws, "kms-core");
    let mut problems = Vec::new();
    for d in core.normal_deps() {
        if !CORE_ALLOWED.contains(&d.name.as_str()) {
            problems.push(format!(
                "{}: kms-core depends on {} (allowed: {})",
                core.where_declared(&d.name),
                d.name,
                CORE_ALLOWED.join(", ")
            ));
        } else if CORE_OPTIONAL.contains(&d.name.as_str()) && !d.optional {
            problems.push(format!(
                "{}: the AES-GCM provider {} must be optional (the application picks one)",
                core.where_declared(&d.name),
                d.name
            ));
        }
    }
    fail_if_any(
        "kms-core does no I/O and needs no SDK: its normal dependencies are a fixed small set",
        problems,
    );
}

#[test]
fn kms_core_does_no_io() {
    let ws = workspace();
    let core = krate(&ws, "kms-core");
    let problems = lines_under(&core.dir().join("src"))
        .into_iter()
        .filter(|(_, _, l)| {
            !is_comment(l)
                && (l.contains("std::fs") || l.contains("std::net") || has_ident(l, "tokio"))
        })
        .map(|(f, n, l)| format!("{}:{n}: {}", rel(&f), l.trim()))
        .collect();
    fail_if_any(
        "kms-core does no I/O: no std::fs, no std::net, no tokio in its sources",
        problems,
    );
}

#[test]
fn backends_depend_only_on_kms_core() {
    let ws = workspace();
    let members: BTreeSet<&str> = ws.iter().map(|c| c.name.as_str()).collect();
    let backends = backends(&ws);
    assert!(
        backends.iter().any(|c| c.name == "kms-aead")
            && backends.iter().any(|c| c.name == "kms-aws"),
        "the backend list lost kms-aead or kms-aws"
    );
    let mut problems = Vec::new();
    for b in &backends {
        for d in b.normal_deps() {
            if members.contains(d.name.as_str()) && d.name != "kms-core" {
                problems.push(format!(
                    "{}: backend {} depends on {}",
                    b.where_declared(&d.name),
                    b.name,
                    d.name
                ));
            }
        }
    }
    fail_if_any(
        "backends depend only on kms-core (never on kms-envelope, kms-config or each other)",
        problems,
    );
}

#[test]
fn kms_config_knows_no_backend() {
    let ws = workspace();
    let backends: Vec<String> = backends(&ws).iter().map(|c| c.name.clone()).collect();
    let config = krate(&ws, "kms-config");
    let mut problems = Vec::new();
    for d in &config.deps {
        if backends.contains(&d.name) {
            problems.push(format!(
                "{}: kms-config depends on backend {}",
                config.where_declared(&d.name),
                d.name
            ));
        }
    }
    let mut needles: Vec<String> = BACKEND_KINDS.iter().map(|k| (*k).to_owned()).collect();
    for b in &backends {
        needles.push(b.clone());
        needles.push(b.replace('-', "_"));
    }
    for (f, n, l) in lines_under(&config.dir().join("src")) {
        if let Some(name) = needles.iter().find(|w| names(&l, w)) {
            problems.push(format!("{}:{n}: names `{name}`: {}", rel(&f), l.trim()));
        }
    }
    fail_if_any(
        "kms-config never depends on a backend crate nor names one or its kind (comments \
         included): backends come from the facade's registry",
        problems,
    );
}

#[test]
fn cli_uses_no_stream_internals() {
    let ws = workspace();
    let cli = krate(&ws, "kms-cli");
    let mut problems = Vec::new();
    for (f, n, l) in lines_under(&cli.dir().join("src")) {
        if let Some(w) = STREAM_INTERNALS.iter().find(|w| has_ident(&l, w)) {
            problems.push(format!("{}:{n}: uses `{w}`: {}", rel(&f), l.trim()));
        }
    }
    fail_if_any(
        "the CLI is thin: it encrypts and decrypts through kms-envelope's public one-call API, \
         never the stream module's internals",
        problems,
    );
}

#[test]
fn the_scanners_match_what_they_should() {
    assert!(has_ident(
        "use kms::envelope::stream::{Header, MAGIC};",
        "Header"
    ));
    assert!(!has_ident(
        "let header_bytes = HeaderInfo::new();",
        "Header"
    ));
    assert!(names("struct AeadStanza;", "aead"));
    assert!(names("// the awskms_region attribute", "awskms"));
    assert!(names("kms-aead = { workspace = true }", "kms-aead"));
    assert!(names("TRANSIT", "transit"));
    assert!(!names("a transition", "transit"));
}
