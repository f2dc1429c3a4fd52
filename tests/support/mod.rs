//! Helpers shared by the whole-binary tests (`cli.rs`, `crash.rs`, `secrets.rs`): the `kms`
//! binary with a clean environment, a scratch directory, aead configs, running commands with
//! a hang bound, and the exit-code and one-line-error checks.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Two aead test keys (base64).
pub(crate) const KEY_A: &str = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=";
pub(crate) const KEY_B: &str = "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY=";

/// How long any one command may run before the test fails instead of hanging.
pub(crate) const HANG: Duration = Duration::from_secs(120);

/// The `kms` binary under test: this build's, or `KMS_TEST_BIN` (to show that a test fails
/// on an older build).
pub(crate) fn kms_bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("KMS_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kms").to_owned())
    })
}

/// `kms` with none of the host's kms, logging, AWS or Vault settings; instance metadata and the
/// host's AWS files are never read.
pub(crate) fn kms() -> Command {
    let mut c = Command::new(kms_bin());
    c.env_remove("KMS_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("LOG_SIGNABLE_BODY")
        .env_remove("LOG_SENSITIVE_BODIES");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("AWS_")
            || k.starts_with("AWSKMS_")
            || k.starts_with("VAULT_")
            || k.starts_with("BAO_")
            || k.starts_with("TRANSIT_WRAPPER_")
        {
            c.env_remove(&*k);
        }
    }
    c.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/kms-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/kms-test/credentials",
        );
    c
}

/// `kms ARGS` with no stdin, to completion (bounded).
pub(crate) fn run(args: &[&str]) -> Output {
    let mut c = kms();
    c.args(args);
    output(c)
}

/// `kms ARGS` with `input` on stdin.
pub(crate) fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut c = kms();
    c.args(args);
    output_with_stdin(c, input)
}

/// Runs `c` with `input` on stdin (written from another thread), capturing its output.
pub(crate) fn output_with_stdin(mut c: Command, input: &[u8]) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// A scratch directory with `kms.hcl`: one aead root stanza (`KEY_A`, key id `k1`).
pub(crate) fn aead_scratch() -> (Scratch, String) {
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", aead_config(&[("root", KEY_A, "k1")]));
    (s, cfg)
}

/// `kms ARGS`, which must exit 0; its stdout.
pub(crate) fn run_args_ok(args: &[&str]) -> Vec<u8> {
    let o = run(args);
    assert_code_for(&args.join(" "), &o, 0);
    o.stdout
}

/// The (kind, key id) of each wrapped key `kms inspect --json` lists.
pub(crate) fn inspect_keys(path: &str) -> Vec<(String, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(&run_args_ok(&["inspect", "--json", path])).unwrap();
    v["wrapped_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kind"].as_str().unwrap().to_owned(),
                k["key_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Files in the scratch directory whose name holds the temp marker.
pub(crate) fn temp_files(s: &Scratch) -> Vec<String> {
    s.files()
        .into_iter()
        .filter(|f| f.contains(".kms-tmp-"))
        .collect()
}

/// Runs `c` to completion with no stdin, capturing stdout and stderr; fails after [`HANG`].
pub(crate) fn output(mut c: Command) -> Output {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let status = wait_bounded(&mut child, &format!("{c:?}"));
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// Waits for `child`, killing it and failing after [`HANG`].
pub(crate) fn wait_bounded(child: &mut Child, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs to completion; panics unless it exits 0. Returns stdout.
pub(crate) fn run_ok(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The last five lines of `s`.
pub(crate) fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

pub(crate) fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code; stderr: {}",
        stderr(o)
    );
}

/// [`assert_code`] for a named step; the message shows the tail of stderr.
pub(crate) fn assert_code_for(what: &str, o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{what}: exit code; stderr tail: {}",
        tail(&stderr(o))
    );
}

/// Errors are one line on stderr.
pub(crate) fn assert_one_line(what: &str, err: &str) {
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: one line: {err}");
}

/// `kms "aead"` stanzas from `(purpose, base64 key, key_id)`.
pub(crate) fn aead_config(stanzas: &[(&str, &str, &str)]) -> String {
    stanzas
        .iter()
        .map(|(purpose, key, id)| format!("kms \"aead\" {{\n  purpose = \"{purpose}\"\n  aead_type = \"aes-gcm\"\n  key = \"{key}\"\n  key_id = \"{id}\"\n}}\n"))
        .collect()
}

/// A scratch directory, removed on drop.
pub(crate) struct Scratch {
    pub(crate) dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub(crate) fn p(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }
    /// Writes `name` and returns its path.
    pub(crate) fn write(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        fs::write(self.path(name), data).unwrap();
        self.p(name)
    }
    pub(crate) fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap()
    }
    pub(crate) fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }
    pub(crate) fn mode(&self, name: &str) -> u32 {
        fs::metadata(self.path(name)).unwrap().permissions().mode() & 0o777
    }
    /// The file names, sorted.
    pub(crate) fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Whether the tests run as root (CI does): device nodes and other users need it.
pub(crate) fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").unwrap().uid() == 0
}

/// Whether to run a root-only case; elsewhere it prints a note and is skipped.
pub(crate) fn root_or_skip(what: &str) -> bool {
    if is_root() {
        return true;
    }
    eprintln!("note: {what} needs root; skipped");
    false
}

/// `n` random bytes.
pub(crate) fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut v)
        .unwrap();
    v
}
