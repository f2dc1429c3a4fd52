//! Test harness for the AWS integration tests.
//!
//! - [`Moto`]: moto's KMS server (`moto_server`, PyPI `moto[server]`) on a free loopback port,
//!   killed on drop. It is a real HTTP KMS API server, not an in-process fake of the SDK.
//! - [`openbao::OpenBao`]: a real OpenBao (`bao server -dev`) for the transit tests.
//! - [`openbao_seal::SealedBao`]: an OpenBao 2.6.2 with `seal "transit"` (the genuine
//!   go-kms-wrapping transit wrapper) and file storage, for interop.
//! - [`Proxy`]: an HTTP proxy in front of it that counts requests by KMS operation and injects
//!   faults (refuse, delay, reset, 500, throttling).
//! - [`integration_enabled`]: the explicit opt-out gate.
//! - [`corpus::replay`]: the fuzz corpus replay for stable-Rust tests.
//! - [`oracle`]: HashiCorp's own reading of configs (`hclv1`), and a config generator for
//!   differential fuzzing against it.
//!
//! The SDK clients for set-up (creating keys and aliases) are behind the default feature `aws`;
//! crates that only replay fuzz corpora use `default-features = false` and build no SDK.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod corpus;
pub mod openbao;
pub mod openbao_seal;
pub mod oracle;
mod proxy;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use proxy::{Fault, Proxy};

/// Whether the AWS integration tests run. They are skipped only when `KMS_SKIP_INTEGRATION=1`
/// is set, and never when `KMS_REQUIRE_INTEGRATION=1` is (CI sets it): then skipping panics.
/// A missing `moto_server` is a failure, never a skip.
pub fn integration_enabled() -> bool {
    let skip = std::env::var("KMS_SKIP_INTEGRATION").is_ok_and(|v| v == "1");
    if !skip {
        return true;
    }
    assert!(
        std::env::var("KMS_REQUIRE_INTEGRATION").is_err(),
        "KMS_SKIP_INTEGRATION=1 and KMS_REQUIRE_INTEGRATION=1 are both set: CI must run the AWS integration tests"
    );
    eprintln!("SKIPPED (KMS_SKIP_INTEGRATION=1)");
    false
}

/// Records that an integration test started moto, for CI's "were they skipped?" check: with
/// `KMS_INTEGRATION_WITNESS=DIR`, each test binary that starts moto leaves `DIR/<binary>`.
fn witness() {
    witness_named("");
}

/// Leaves `$KMS_INTEGRATION_WITNESS/<prefix><binary>` (moto: no prefix; OpenBao: `openbao-`).
fn witness_named(prefix: &str) {
    let Some(dir) = std::env::var_os("KMS_INTEGRATION_WITNESS") else {
        return;
    };
    let exe = std::env::current_exe().ok();
    let name = exe
        .as_deref()
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("unknown");
    // Test binaries are named NAME-HASH.
    let name = name.rsplit_once('-').map_or(name, |(n, _)| n);
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        std::path::Path::new(&dir).join(format!("{prefix}{name}")),
        b"",
    );
}

/// Dummy credentials moto accepts.
pub const ACCESS_KEY: &str = "AKIATESTTESTTEST0000";
/// Dummy secret key.
pub const SECRET_KEY: &str = "moto-dummy-secret-key";
/// The region the tests use.
pub const REGION: &str = "us-east-1";

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The port.
    pub port: u16,
    child: Child,
    _log_dir: tempfile::TempDir,
    log: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(child: &mut Child, port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            if s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .is_ok()
            {
                let mut buf = [0u8; 5];
                if s.read_exact(&mut buf).is_ok() && &buf == b"HTTP/" {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A free loopback port (bound and released; a race with another process is unlikely).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it answers.
    ///
    /// # Panics
    /// When `moto_server` is missing or does not answer within 30 s.
    pub fn start() -> Moto {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("moto.log");
        for _ in 0..3 {
            let port = free_port();
            let out = std::fs::File::create(&log).unwrap();
            let mut child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto_server ({e}); install it with python3 -m pip install 'moto[server]'"));
            if wait_ready(&mut child, port, Duration::from_secs(30)) {
                witness();
                return Moto {
                    endpoint: format!("http://127.0.0.1:{port}"),
                    port,
                    child,
                    _log_dir: dir,
                    log,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "moto_server did not answer; log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// moto's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    #[cfg(feature = "aws")]
    /// An SDK client for test set-up (create keys, aliases), with dummy credentials.
    pub async fn client(&self) -> aws_sdk_kms::Client {
        client_for(&self.endpoint).await
    }

    #[cfg(feature = "aws")]
    /// Creates a symmetric key; returns its ARN.
    pub async fn create_key(&self) -> String {
        let out = self.client().await.create_key().send().await.unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_owned()
    }

    #[cfg(feature = "aws")]
    /// Creates a key with explicit usage and spec; returns its ARN.
    pub async fn create_key_with(
        &self,
        usage: aws_sdk_kms::types::KeyUsageType,
        spec: aws_sdk_kms::types::KeySpec,
    ) -> String {
        let out = self
            .client()
            .await
            .create_key()
            .key_usage(usage)
            .key_spec(spec)
            .send()
            .await
            .unwrap();
        out.key_metadata().unwrap().arn().unwrap().to_owned()
    }

    #[cfg(feature = "aws")]
    /// Points `alias` (e.g. `alias/app`) at `key`, creating it if needed.
    pub async fn set_alias(&self, alias: &str, key: &str) {
        let c = self.client().await;
        if c.update_alias()
            .alias_name(alias)
            .target_key_id(key)
            .send()
            .await
            .is_err()
        {
            c.create_alias()
                .alias_name(alias)
                .target_key_id(key)
                .send()
                .await
                .unwrap();
        }
    }
}

#[cfg(feature = "aws")]
/// An SDK client for `endpoint` with dummy credentials (never the process environment's).
pub async fn client_for(endpoint: &str) -> aws_sdk_kms::Client {
    client_in(endpoint, REGION).await
}

#[cfg(feature = "aws")]
/// An SDK client for `endpoint` in `region` (moto keeps keys per region), dummy credentials.
pub async fn client_in(endpoint: &str, region: &str) -> aws_sdk_kms::Client {
    let creds = aws_credential_types::Credentials::new(
        ACCESS_KEY,
        SECRET_KEY,
        None,
        None,
        "kms-testsupport",
    );
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .load()
        .await;
    aws_sdk_kms::Client::new(&conf)
}
