//! Secret canaries: recognisable keys, AWS credentials and plaintext go through every command
//! of the `kms` binary at `RUST_LOG=trace`, against a real moto KMS server, and must never
//! appear on stdout or stderr (the plaintext only where it is the output: decrypt's stdout),
//! neither raw nor in hex, base64 or base64url at any alignment, nor as a `Debug` byte list.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use kms_testsupport::{integration_enabled, Moto, Proxy, ACCESS_KEY, REGION};
use support::{aead_config, assert_code_for as assert_code, output, stderr as err, tail};

/// The root key of the aead stanzas.
const AEAD_KEY: &[u8; 32] = b"CANARY-AEAD-KEY-0123456789abcdef";
/// Another aead key with the same key id: the wrong key.
const WRONG_KEY: &[u8; 32] = b"CANARY-WRONG-KEY-123456789abcdef";
/// The config-purpose aead key (config values).
const CONFIG_KEY: &[u8; 32] = b"CANARY-CONFIG-KEY-23456789abcdef";
/// The AWS secret key and session token of every awskms stanza (moto takes any).
const AWS_SECRET: &str = "CanaryAwsSecretKey/NeverLog+0123456789ab";
const AWS_TOKEN: &str =
    "CanaryAwsSessionToken//NeverLog//FwoGZXIvYXdzEBYaDHVzLWVhc3QtMSJGMEQCIF9kPlAn";
/// Inside the plaintext of files and config values.
const PLAINTEXT: &str = "CANARY-PLAINTEXT/attack-at-dawn/7f3a9c51";

// ---------------------------------------------------------------------------------------
// Canaries

struct Canary {
    name: &'static str,
    forms: Vec<String>,
}

impl Canary {
    fn new(name: &'static str, secret: &[u8]) -> Canary {
        let mut forms = vec![
            String::from_utf8_lossy(secret).into_owned(),
            // A truncated leak: the first half.
            String::from_utf8_lossy(&secret[..secret.len() / 2]).into_owned(),
            secret.iter().map(|b| format!("{b:02x}")).collect(),
            secret.iter().map(|b| format!("{b:02X}")).collect(),
            // `{:?}` of a byte slice or Vec.
            format!("{:?}", &secret[..12])
                .trim_matches(['[', ']'])
                .to_owned(),
        ];
        // Base64 of a longer buffer holding the secret at any offset contains the encoding of
        // the secret's 3-byte-aligned middle for one of the three alignments.
        for skip in 0..3 {
            let n = (secret.len() - skip) / 3 * 3;
            let part = &secret[skip..skip + n];
            forms.push(STANDARD_NO_PAD.encode(part));
            forms.push(URL_SAFE_NO_PAD.encode(part));
        }
        forms.sort();
        forms.dedup();
        Canary { name, forms }
    }

    fn found_in(&self, text: &str) -> Option<&str> {
        self.forms
            .iter()
            .find(|f| text.contains(f.as_str()))
            .map(String::as_str)
    }
}

fn secret_canaries() -> Vec<Canary> {
    vec![
        Canary::new("aead key", AEAD_KEY),
        Canary::new("wrong aead key", WRONG_KEY),
        Canary::new("config key", CONFIG_KEY),
        Canary::new("AWS secret key", AWS_SECRET.as_bytes()),
        Canary::new("AWS session token", AWS_TOKEN.as_bytes()),
    ]
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Fails if a canary is in stdout or stderr. `plaintext_is_output`: stdout is decrypted data,
/// where the plaintext canary belongs.
fn assert_no_leak(what: &str, o: &Output, plaintext_is_output: bool) {
    let secrets = secret_canaries();
    let plain = Canary::new("plaintext", PLAINTEXT.as_bytes());
    for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let raw = String::from_utf8_lossy(bytes);
        let text = format!("{raw}\n{}", strip_ansi(&raw));
        for c in &secrets {
            if let Some(f) = c.found_in(&text) {
                panic!(
                    "{what}: the {} leaked into {stream} as {f:?}:\n{}",
                    c.name,
                    context(&text, f)
                );
            }
        }
        if !(stream == "stdout" && plaintext_is_output) {
            if let Some(f) = plain.found_in(&text) {
                panic!(
                    "{what}: the plaintext leaked into {stream} as {f:?}:\n{}",
                    context(&text, f)
                );
            }
        }
        // KMS request/response bodies (Encrypt's, Decrypt's) carry a `Plaintext` field.
        if stream == "stderr" {
            for body in ["\"Plaintext\"", "\\\"Plaintext\\\""] {
                assert!(
                    !text.contains(body),
                    "{what}: a KMS body with a Plaintext field reached stderr:\n{}",
                    context(&text, body)
                );
            }
        }
    }
}

fn context(text: &str, needle: &str) -> String {
    let i = text.find(needle).unwrap_or(0);
    let mut a = i.saturating_sub(200);
    while !text.is_char_boundary(a) {
        a -= 1;
    }
    let mut b = (i + needle.len() + 200).min(text.len());
    while !text.is_char_boundary(b) {
        b += 1;
    }
    text[a..b].to_owned()
}

/// The scanner finds what it is meant to find (else every other assertion is vacuous).
fn self_check_canaries() {
    let c = Canary::new("aead key", AEAD_KEY);
    let mut buf = b"prefix ".to_vec();
    for pad in 0..3 {
        let mut v = vec![b'x'; pad];
        v.extend_from_slice(AEAD_KEY);
        v.extend_from_slice(b"suffix");
        for enc in [STANDARD.encode(&v), URL_SAFE_NO_PAD.encode(&v)] {
            assert!(c.found_in(&enc).is_some(), "base64 at offset {pad}");
        }
        assert!(c.found_in(&format!("{v:?}")).is_some(), "Debug at {pad}");
    }
    buf.extend(
        AEAD_KEY
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .bytes(),
    );
    assert!(c.found_in(&String::from_utf8(buf).unwrap()).is_some());
    assert!(c.found_in("CANARY-AEAD-KEY-0123456789abcdeX").is_some());
    assert!(c.found_in("an innocent log line").is_none());
    let o = Output {
        status: std::process::ExitStatus::default(),
        stdout: Vec::new(),
        stderr: format!("x={}", STANDARD.encode(AWS_TOKEN)).into_bytes(),
    };
    assert!(std::panic::catch_unwind(|| assert_no_leak("self-check", &o, false)).is_err());
}

// ---------------------------------------------------------------------------------------
// Running the binary

/// A scratch directory to run `kms` in.
struct Env(support::Scratch);

impl std::ops::Deref for Env {
    type Target = support::Scratch;
    fn deref(&self) -> &support::Scratch {
        &self.0
    }
}

impl Env {
    fn new() -> Env {
        Env(support::Scratch::new())
    }
    /// `kms` in the temp dir with an empty environment (no AWS settings from the host),
    /// HOME in the temp dir, and RUST_LOG=trace.
    fn cmd(&self) -> Command {
        let mut c = Command::new(support::kms_bin());
        c.env_clear()
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "trace");
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        let mut c = self.cmd();
        c.args(args);
        output(c)
    }
    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.cmd();
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        output(c)
    }
}

/// Runs `args` at trace level, expects `code`, and checks for leaks.
fn run_clean(e: &Env, what: &str, args: &[&str], code: i32, plaintext_is_output: bool) -> Output {
    let o = e.run(args);
    assert_code(what, &o, code);
    assert_no_leak(what, &o, plaintext_is_output);
    o
}

/// The same for awskms commands, which must have logged at trace level (so that the scan
/// looked at a real SDK log).
fn run_aws_clean(e: &Env, what: &str, args: &[&str], code: i32, plain_out: bool) -> Output {
    let o = run_clean(e, what, args, code, plain_out);
    assert!(
        err(&o).contains("TRACE") && err(&o).contains("aws_smithy_runtime"),
        "{what}: no SDK trace log to scan"
    );
    o
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn aead_stanza(purpose: &str, key: &[u8], id: &str) -> String {
    aead_config(&[(purpose, &STANDARD.encode(key), id)])
}

fn aws_stanza(purpose: &str, key_arn: &str, endpoint: &str) -> String {
    format!(
        "kms \"awskms\" {{\n  purpose = \"{purpose}\"\n  kms_key_id = \"{key_arn}\"\n  endpoint = \"{endpoint}\"\n  region = \"{REGION}\"\n  access_key = \"{ACCESS_KEY}\"\n  secret_key = \"{AWS_SECRET}\"\n  session_token = \"{AWS_TOKEN}\"\n}}\n"
    )
}

/// The wire-level targets crates/kms-cli/src/failure.rs always turns off.
const FILTERED_TARGETS: [&str; 8] = [
    "aws_smithy_runtime::client::http",
    "aws_smithy_runtime_api::client::http",
    "aws_smithy_http_client",
    "aws_smithy_http",
    "aws_sigv4",
    "hyper",
    "hyper_util",
    "h2",
];

/// A log line (ANSI stripped) whose target is one of [`FILTERED_TARGETS`] or below one.
fn filtered_target_line(log: &str) -> Option<&str> {
    log.lines().find(|line| {
        line.split_whitespace().any(|tok| {
            let Some(path) = tok.strip_suffix(':') else {
                return false;
            };
            path.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b':')
                && FILTERED_TARGETS
                    .iter()
                    .any(|t| path == *t || path.starts_with(&format!("{t}::")))
        })
    })
}

fn plaintext() -> String {
    format!("first line\nthe secret is {PLAINTEXT} (do not log)\nlast line\n")
}

/// moto with two keys; an Env with the usual configs and plain.txt.
struct World {
    moto: Moto,
    k1: String,
    k2: String,
    e: Env,
}

impl World {
    fn new() -> World {
        let moto = Moto::start();
        let (k1, k2) = block_on(async { (moto.create_key().await, moto.create_key().await) });
        let e = Env::new();
        let ep = moto.endpoint.clone();
        e.write("aead.hcl", aead_stanza("root", AEAD_KEY, "canary-aead"));
        e.write("aws.hcl", aws_stanza("root", &k1, &ep));
        e.write(
            "aws2.hcl",
            aws_stanza("root", &k2, &ep) + &aws_stanza("previous-root", &k1, &ep),
        );
        e.write("aws-k2.hcl", aws_stanza("root", &k2, &ep));
        e.write(
            "mixed.hcl",
            aws_stanza("root", &k1, &ep) + &aead_stanza("previous-root", AEAD_KEY, "canary-aead"),
        );
        e.write(
            "cfg-aead.hcl",
            aead_stanza("config", CONFIG_KEY, "canary-config"),
        );
        e.write("cfg-aws.hcl", aws_stanza("config", &k1, &ep));
        e.write("plain.txt", plaintext());
        World { moto, k1, k2, e }
    }
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn no_secret_leaks_from_any_command_at_trace_level() {
    if !integration_enabled() {
        return;
    }
    self_check_canaries();
    let w = World::new();
    let e = &w.e;
    let plain = plaintext();

    // encrypt, with each backend, file to file and file to stdout.
    run_clean(
        e,
        "encrypt aead",
        &["encrypt", "-c", "aead.hcl", "-o", "a.kms", "plain.txt"],
        0,
        false,
    );
    run_aws_clean(
        e,
        "encrypt awskms",
        &["encrypt", "-c", "aws.hcl", "-o", "w.kms", "plain.txt"],
        0,
        false,
    );
    let o = run_aws_clean(
        e,
        "encrypt awskms to stdout",
        &["encrypt", "-c", "aws.hcl", "plain.txt"],
        0,
        false,
    );
    assert!(!o.stdout.is_empty());
    // Asking for the wire-level SDK targets by name changes nothing: they stay filtered.
    let loud = "trace,aws_smithy_runtime=trace,aws_smithy_runtime::client::http=trace,aws_smithy_runtime_api::client::http=trace,aws_smithy_http_client=trace,aws_sigv4=trace,hyper=trace,hyper_util=trace,h2=trace";
    let o = e.run_env(
        &["encrypt", "-c", "aws.hcl", "-o", "w2.kms", "plain.txt"],
        &[("RUST_LOG", loud)],
    );
    assert_code("encrypt, RUST_LOG naming the wire targets", &o, 0);
    assert_no_leak("encrypt, RUST_LOG naming the wire targets", &o, false);
    let log = strip_ansi(&err(&o));
    if let Some(line) = filtered_target_line(&log) {
        panic!("a filtered SDK target logged: {line}");
    }
    assert!(
        filtered_target_line("2026 TRACE span{a=1}: hyper_util::client: x").is_some(),
        "the target check works"
    );

    // decrypt: the plaintext is the output, on stdout or in a file.
    for (cfg, file) in [
        ("aead.hcl", "a.kms"),
        ("aws.hcl", "w.kms"),
        ("aws.hcl", "w2.kms"),
    ] {
        let what = format!("decrypt {file}");
        let o = if cfg == "aws.hcl" {
            run_aws_clean(e, &what, &["decrypt", "-c", cfg, file], 0, true)
        } else {
            run_clean(e, &what, &["decrypt", "-c", cfg, file], 0, true)
        };
        assert_eq!(String::from_utf8_lossy(&o.stdout), plain, "{what}");
        let out = format!("{file}.out");
        let o = run_clean(
            e,
            &what,
            &["decrypt", "-c", cfg, "-o", &out, file],
            0,
            false,
        );
        assert!(o.stdout.is_empty());
        assert_eq!(e.read(&out), plain.as_bytes());
        assert_eq!(e.mode(&out), 0o600, "{what}: decrypted file mode");
    }

    // inspect, text and JSON.
    for file in ["a.kms", "w.kms"] {
        let o = run_clean(e, "inspect", &["inspect", file], 0, false);
        assert!(!o.stdout.is_empty());
        run_clean(e, "inspect --json", &["inspect", "--json", file], 0, false);
    }

    // check, offline and online (a round trip through each key).
    for cfg in [
        "aead.hcl",
        "aws.hcl",
        "mixed.hcl",
        "cfg-aead.hcl",
        "cfg-aws.hcl",
    ] {
        run_clean(
            e,
            &format!("check --offline {cfg}"),
            &["check", "--offline", "-c", cfg],
            0,
            false,
        );
        let o = run_clean(e, &format!("check {cfg}"), &["check", "-c", cfg], 0, false);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("round_trip=ok"),
            "{cfg}"
        );
    }

    // rewrap: aead -> awskms (unwrap and wrap), awskms -> awskms (ReEncrypt).
    fs::copy(e.path("a.kms"), e.path("r1.kms")).unwrap();
    fs::copy(e.path("w.kms"), e.path("r2.kms")).unwrap();
    let o = run_aws_clean(
        e,
        "rewrap aead -> awskms",
        &["rewrap", "-c", "mixed.hcl", "r1.kms"],
        0,
        false,
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("canary-aead -> "),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = run_aws_clean(
        e,
        "rewrap awskms -> awskms",
        &["rewrap", "-c", "aws2.hcl", "r2.kms"],
        0,
        false,
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&w.k2),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = run_aws_clean(
        e,
        "decrypt r1",
        &["decrypt", "-c", "aws.hcl", "r1.kms"],
        0,
        true,
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), plain);
    let o = run_aws_clean(
        e,
        "decrypt r2",
        &["decrypt", "-c", "aws-k2.hcl", "r2.kms"],
        0,
        true,
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), plain);

    // config encrypt / decrypt, each backend; the value's plaintext is output only on decrypt.
    let original = format!("listener \"tcp\" {{}}\nsecret = \"{{{{encrypt({PLAINTEXT})}}}}\"\n");
    e.write("controller.hcl", &original);
    for cfg in ["cfg-aead.hcl", "cfg-aws.hcl"] {
        let o = run_clean(
            e,
            &format!("config encrypt {cfg}"),
            &["config", "encrypt", "-c", cfg, "controller.hcl"],
            0,
            false,
        );
        let enc = String::from_utf8(o.stdout).unwrap();
        assert!(enc.contains("{{decrypt("), "{enc}");
        let f = format!("controller.{cfg}");
        e.write(&f, &enc);
        let o = run_clean(
            e,
            &format!("config decrypt {cfg}"),
            &["config", "decrypt", "-c", cfg, &f],
            0,
            true,
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout), original);
        let o = run_clean(
            e,
            &format!("config decrypt --strip {cfg}"),
            &["config", "decrypt", "-c", cfg, "--strip", &f],
            0,
            true,
        );
        assert!(String::from_utf8_lossy(&o.stdout).contains(PLAINTEXT));
        let out = format!("{f}.plain");
        run_clean(
            e,
            &format!("config decrypt -o {cfg}"),
            &["config", "decrypt", "-c", cfg, "-o", &out, &f],
            0,
            false,
        );
        assert_eq!(e.mode(&out), 0o600, "config decrypt -o: mode");
    }

    // --config-kms: the main config's aead key is itself encrypted under the awskms config key.
    e.write(
        "main.hcl",
        format!(
            "kms \"aead\" {{\n  purpose = \"root\"\n  key = \"{{{{encrypt({})}}}}\"\n  key_id = \"canary-aead\"\n}}\n",
            STANDARD.encode(AEAD_KEY)
        ),
    );
    run_aws_clean(
        e,
        "config encrypt --overwrite main.hcl",
        &[
            "config",
            "encrypt",
            "-c",
            "cfg-aws.hcl",
            "--overwrite",
            "main.hcl",
        ],
        0,
        false,
    );
    assert!(Canary::new("aead key", AEAD_KEY)
        .found_in(&String::from_utf8_lossy(&e.read("main.hcl")))
        .is_none());
    run_aws_clean(
        e,
        "encrypt --config-kms",
        &[
            "encrypt",
            "-c",
            "main.hcl",
            "--config-kms",
            "cfg-aws.hcl",
            "-o",
            "m.kms",
            "plain.txt",
        ],
        0,
        false,
    );
    // The decrypted key was the real one: the plain aead config opens the file.
    let o = run_clean(
        e,
        "decrypt m.kms",
        &["decrypt", "-c", "aead.hcl", "m.kms"],
        0,
        true,
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), plain);
    let o = run_aws_clean(
        e,
        "check --config-kms",
        &["check", "-c", "main.hcl", "--config-kms", "cfg-aws.hcl"],
        0,
        false,
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("canary-aead"));
    assert!(w.moto.log().contains("POST"), "moto saw no requests");
}

#[test]
fn failures_leak_no_secret() {
    if !integration_enabled() {
        return;
    }
    let w = World::new();
    let e = &w.e;
    run_clean(
        e,
        "encrypt aead",
        &["encrypt", "-c", "aead.hcl", "-o", "a.kms", "plain.txt"],
        0,
        false,
    );
    run_aws_clean(
        e,
        "encrypt awskms",
        &["encrypt", "-c", "aws.hcl", "-o", "w.kms", "plain.txt"],
        0,
        false,
    );

    // Wrong keys: same key id with other key material; another key id; another KMS key.
    e.write(
        "impostor.hcl",
        aead_stanza("root", WRONG_KEY, "canary-aead"),
    );
    e.write("other-id.hcl", aead_stanza("root", WRONG_KEY, "other"));
    let o = run_clean(
        e,
        "decrypt with the wrong aead key",
        &["decrypt", "-c", "impostor.hcl", "a.kms"],
        1,
        false,
    );
    assert!(err(&o).contains("decryption failed"), "{}", err(&o));
    assert!(o.stdout.is_empty());
    let o = run_clean(
        e,
        "decrypt with another key id",
        &["decrypt", "-c", "other-id.hcl", "-o", "x.out", "a.kms"],
        1,
        false,
    );
    assert!(
        err(&o).contains("canary-aead"),
        "names the key id it needs: {}",
        err(&o)
    );
    assert!(!e.exists("x.out"));
    // A KMS key that does not exist: KMS itself refuses (moto ignores a wrong KeyId on
    // Decrypt when the ciphertext's own key is usable, and the CLI lets KMS pick the key).
    let missing =
        w.k1.rsplit_once('/').unwrap().0.to_owned() + "/00000000-0000-4000-8000-000000000000";
    e.write(
        "aws-missing.hcl",
        aws_stanza("root", &missing, &w.moto.endpoint),
    );
    let o = run_aws_clean(
        e,
        "encrypt under a missing KMS key",
        &[
            "encrypt",
            "-c",
            "aws-missing.hcl",
            "-o",
            "m.kms",
            "plain.txt",
        ],
        1,
        false,
    );
    assert!(!e.exists("m.kms"));
    assert!(o.stdout.is_empty());
    e.write(
        "cfg-wrong.hcl",
        aead_stanza("config", WRONG_KEY, "canary-config"),
    );
    e.write(
        "config-value.hcl",
        format!("x = \"{{{{encrypt({PLAINTEXT})}}}}\"\n"),
    );
    run_clean(
        e,
        "config encrypt",
        &[
            "config",
            "encrypt",
            "-c",
            "cfg-aead.hcl",
            "-o",
            "v.enc",
            "config-value.hcl",
        ],
        0,
        false,
    );
    let o = run_clean(
        e,
        "config decrypt with the wrong key",
        &["config", "decrypt", "-c", "cfg-wrong.hcl", "v.enc"],
        1,
        false,
    );
    assert!(o.stdout.is_empty());
    // rewrap with only wrong keys: fails, file untouched.
    e.write(
        "wrong-both.hcl",
        aead_stanza("root", CONFIG_KEY, "new")
            + &aead_stanza("previous-root", WRONG_KEY, "canary-aead"),
    );
    let before = e.read("a.kms");
    run_clean(
        e,
        "rewrap with the wrong previous key",
        &["rewrap", "-c", "wrong-both.hcl", "a.kms"],
        1,
        false,
    );
    assert_eq!(e.read("a.kms"), before);

    // Tampered files: in the body (aead) and in the header (awskms).
    let mut bad = e.read("a.kms");
    let n = bad.len();
    bad[n - 5] ^= 0x40;
    e.write("bad-body.kms", &bad);
    let o = run_clean(
        e,
        "decrypt a tampered body",
        &["decrypt", "-c", "aead.hcl", "bad-body.kms"],
        1,
        false,
    );
    assert!(o.stdout.is_empty(), "one segment: nothing may be written");
    run_clean(
        e,
        "decrypt -o a tampered body",
        &["decrypt", "-c", "aead.hcl", "-o", "bad.out", "bad-body.kms"],
        1,
        false,
    );
    assert!(!e.exists("bad.out"));
    let i = run_clean(e, "inspect", &["inspect", "--json", "w.kms"], 0, false);
    let v: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    let header = v["header_bytes"].as_u64().unwrap() as usize;
    for at in [header / 2, header - 3] {
        let mut bad = e.read("w.kms");
        bad[at] ^= 0x01;
        e.write("bad-header.kms", &bad);
        let o = e.run(&["decrypt", "-c", "aws.hcl", "bad-header.kms"]);
        assert_code(&format!("decrypt with header byte {at} flipped"), &o, 1);
        assert_no_leak(&format!("decrypt with header byte {at} flipped"), &o, false);
        assert!(o.stdout.is_empty());
    }
    // inspect of a truncated file.
    e.write("trunc.kms", &e.read("a.kms")[..40]);
    run_clean(
        e,
        "inspect a truncated file",
        &["inspect", "trunc.kms"],
        1,
        false,
    );

    // An unreachable endpoint (a closed loopback port).
    let closed = format!("http://127.0.0.1:{}", kms_testsupport::free_port());
    e.write("down.hcl", aws_stanza("root", &w.k1, &closed));
    e.write("cfg-down.hcl", aws_stanza("config", &w.k1, &closed));
    for (what, args) in [
        (
            "encrypt, endpoint down",
            vec!["encrypt", "-c", "down.hcl", "-o", "d.kms", "plain.txt"],
        ),
        (
            "decrypt, endpoint down",
            vec!["decrypt", "-c", "down.hcl", "w.kms"],
        ),
        ("check, endpoint down", vec!["check", "-c", "down.hcl"]),
        (
            "rewrap, endpoint down",
            vec!["rewrap", "-c", "down.hcl", "a.kms"],
        ),
        (
            "config encrypt, endpoint down",
            vec![
                "config",
                "encrypt",
                "-c",
                "cfg-down.hcl",
                "config-value.hcl",
            ],
        ),
    ] {
        let o = e.run(&args);
        assert!(
            matches!(o.status.code(), Some(1 | 2)),
            "{what}: {:?} {}",
            o.status,
            tail(&err(&o))
        );
        assert_no_leak(what, &o, false);
        assert!(o.stdout.is_empty() || what.starts_with("rewrap"), "{what}");
    }
    assert!(!e.exists("d.kms"));
    assert_eq!(e.read("a.kms"), before);

    // Config errors next to the secrets: syntax errors on their lines, wrong types, bad keys.
    let k = STANDARD.encode(AEAD_KEY);
    let cases = [
        ("syntax.hcl", format!("kms \"aead\" {{\n purpose = \"root\"\n key = \"{k}\" oops\n key_id = \"x\"\n}}\n")),
        ("unterminated.hcl", format!("kms \"aead\" {{\n purpose = \"root\"\n key = \"{k}\n key_id = \"x\"\n}}\n")),
        ("syntax.json", format!("{{\"kms\": [{{\"aead\": {{\"purpose\": \"root\", \"key\": \"{k}\", \"key_id\": \"x\\q\"}}}}]}}")),
        ("not-base64.hcl", format!("kms \"aead\" {{\n purpose = \"root\"\n key = \"{k}!\"\n}}\n")),
        ("short.hcl", format!("kms \"aead\" {{\n purpose = \"root\"\n key = \"{}\"\n}}\n", STANDARD.encode(&AEAD_KEY[..31]))),
        ("typo.hcl", format!("kms \"aead\" {{\n purpose = \"rooot\"\n key = \"{k}\"\n key_idd = \"x\"\n}}\n")),
        ("secret-list.hcl", format!("kms \"awskms\" {{\n purpose = \"root\"\n kms_key_id = \"k\"\n access_key = \"{ACCESS_KEY}\"\n secret_key = [\"{AWS_SECRET}\"]\n session_token = {{ t = \"{AWS_TOKEN}\" }}\n}}\n")),
        ("half-pair.hcl", format!("kms \"awskms\" {{\n purpose = \"root\"\n kms_key_id = \"k\"\n secret_key = \"{AWS_SECRET}\"\n session_token = \"{AWS_TOKEN}\"\n}}\n")),
    ];
    for (name, text) in &cases {
        e.write(name, text);
        for args in [
            vec!["encrypt", "-c", name, "-o", "never.kms", "plain.txt"],
            vec!["check", "--offline", "-c", name],
        ] {
            let what = format!("{} with {name}", args[0]);
            let o = run_clean(e, &what, &args, 2, false);
            assert!(
                err(&o).contains(name),
                "{what}: names the file: {}",
                err(&o)
            );
        }
        assert!(!e.exists("never.kms"));
    }
    // Accepted with a warning (as Boundary accepts it), refused under --strict: neither shows
    // the key.
    let same = aead_stanza("root", AEAD_KEY, "a") + &aead_stanza("previous-root", AEAD_KEY, "b");
    e.write("same-key.hcl", &same);
    let o = run_clean(
        e,
        "check same-key",
        &["check", "--offline", "-c", "same-key.hcl"],
        0,
        false,
    );
    assert!(err(&o).contains("warning:"), "{}", err(&o));
    run_clean(
        e,
        "strict check same-key",
        &["check", "--offline", "--strict", "-c", "same-key.hcl"],
        2,
        false,
    );
}

#[test]
fn body_logging_switches_are_refused() {
    if !integration_enabled() {
        return;
    }
    let w = World::new();
    let e = &w.e;
    // Everything goes through a counting proxy: a refusal must send no request at all.
    let proxy = Proxy::start(&w.moto.endpoint);
    e.write("via-proxy.hcl", aws_stanza("root", &w.k1, &proxy.endpoint));
    e.write(
        "cfg-proxy.hcl",
        aws_stanza("config", &w.k1, &proxy.endpoint),
    );
    e.write(
        "config-value.hcl",
        format!("x = \"{{{{encrypt({PLAINTEXT})}}}}\"\n"),
    );
    run_aws_clean(
        e,
        "encrypt",
        &["encrypt", "-c", "via-proxy.hcl", "-o", "w.kms", "plain.txt"],
        0,
        false,
    );
    run_aws_clean(
        e,
        "config encrypt",
        &[
            "config",
            "encrypt",
            "-c",
            "cfg-proxy.hcl",
            "-o",
            "v.enc",
            "config-value.hcl",
        ],
        0,
        false,
    );
    assert!(proxy.count("Encrypt") > 0, "the proxy counts requests");
    proxy.reset_counts();
    let before = e.read("w.kms");
    let commands: [&[&str]; 6] = [
        &[
            "encrypt",
            "-c",
            "via-proxy.hcl",
            "-o",
            "refused.kms",
            "plain.txt",
        ],
        &["decrypt", "-c", "via-proxy.hcl", "w.kms"],
        &[
            "decrypt",
            "-c",
            "via-proxy.hcl",
            "-o",
            "refused.out",
            "w.kms",
        ],
        &["check", "-c", "via-proxy.hcl"],
        &["rewrap", "-c", "via-proxy.hcl", "w.kms"],
        &["config", "decrypt", "-c", "cfg-proxy.hcl", "v.enc"],
    ];
    for var in ["LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"] {
        for value in ["true", "TRUE", "True"] {
            for args in commands {
                let what = format!("{var}={value} {}", args.join(" "));
                let o = e.run_env(args, &[(var, value)]);
                assert_code(&what, &o, 2);
                assert_no_leak(&what, &o, false);
                let msg = err(&o);
                support::assert_one_line(&what, &msg);
                assert!(msg.contains(var), "{what}: names the variable: {msg}");
                assert!(msg.contains("unset"), "{what}: says what to do: {msg}");
                assert!(o.stdout.is_empty(), "{what}: stdout");
            }
        }
    }
    assert!(!e.exists("refused.kms") && !e.exists("refused.out"));
    assert_eq!(e.read("w.kms"), before, "a refused rewrap changed the file");
    assert!(
        proxy.counts().values().all(|&n| n == 0),
        "refused runs still called KMS: {:?}",
        proxy.counts()
    );
    // Both set at once: refused too. Values the SDK does not honour are not refused.
    let o = e.run_env(
        &["check", "-c", "via-proxy.hcl"],
        &[
            ("LOG_SIGNABLE_BODY", "true"),
            ("LOG_SENSITIVE_BODIES", "true"),
        ],
    );
    assert_code("both variables", &o, 2);
    assert_no_leak("both variables", &o, false);
    for var in ["LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"] {
        let o = e.run_env(
            &["decrypt", "-c", "via-proxy.hcl", "w.kms"],
            &[(var, "false")],
        );
        assert_code(&format!("{var}=false"), &o, 0);
        assert_no_leak(&format!("{var}=false"), &o, true);
        assert_eq!(String::from_utf8_lossy(&o.stdout), plaintext());
    }
}

#[test]
fn decrypted_outputs_are_created_mode_0600() {
    if !integration_enabled() {
        return;
    }
    let w = World::new();
    let e = &w.e;
    // Under umask 000, so that 0600 cannot come from the umask.
    let run_umask0 = |args: &[&str]| -> Output {
        let mut c = Command::new("/bin/sh");
        c.env_clear()
            .current_dir(e.dir.path())
            .env("HOME", e.dir.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "trace")
            .arg("-c")
            .arg("umask 000 && exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_kms"))
            .args(args);
        output(c)
    };
    run_clean(
        e,
        "encrypt aead",
        &["encrypt", "-c", "aead.hcl", "-o", "a.kms", "plain.txt"],
        0,
        false,
    );
    run_aws_clean(
        e,
        "encrypt awskms",
        &["encrypt", "-c", "aws.hcl", "-o", "w.kms", "plain.txt"],
        0,
        false,
    );
    e.write(
        "config-value.hcl",
        format!("x = \"{{{{encrypt({PLAINTEXT})}}}}\"\n"),
    );
    run_clean(
        e,
        "config encrypt",
        &[
            "config",
            "encrypt",
            "-c",
            "cfg-aead.hcl",
            "-o",
            "v.enc",
            "config-value.hcl",
        ],
        0,
        false,
    );
    let plain = plaintext();
    // Targets that exist beforehand, world-readable, are replaced by private files.
    e.write("pre.out", b"old");
    fs::set_permissions(e.path("pre.out"), fs::Permissions::from_mode(0o666)).unwrap();
    fs::copy(e.path("v.enc"), e.path("v2.enc")).unwrap();
    fs::set_permissions(e.path("v2.enc"), fs::Permissions::from_mode(0o644)).unwrap();
    let cases: [(&[&str], &str, bool); 6] = [
        (
            &["decrypt", "-c", "aead.hcl", "-o", "a.out", "a.kms"],
            "a.out",
            true,
        ),
        (
            &["decrypt", "-c", "aws.hcl", "-o", "w.out", "w.kms"],
            "w.out",
            true,
        ),
        (
            &["decrypt", "-c", "aead.hcl", "-o", "pre.out", "a.kms"],
            "pre.out",
            true,
        ),
        (
            &[
                "config",
                "decrypt",
                "-c",
                "cfg-aead.hcl",
                "-o",
                "v.out",
                "v.enc",
            ],
            "v.out",
            false,
        ),
        (
            &[
                "config",
                "decrypt",
                "-c",
                "cfg-aead.hcl",
                "--overwrite",
                "v2.enc",
            ],
            "v2.enc",
            false,
        ),
        (
            &["encrypt", "-c", "aead.hcl", "-o", "b.kms", "plain.txt"],
            "b.kms",
            false,
        ),
    ];
    for (args, out, whole_plaintext) in cases {
        let what = args.join(" ");
        let o = run_umask0(args);
        assert_code(&what, &o, 0);
        assert_no_leak(&what, &o, false);
        assert_eq!(e.mode(out), 0o600, "{what}: {out} mode");
        if whole_plaintext {
            assert_eq!(e.read(out), plain.as_bytes(), "{what}");
        }
    }
    assert!(String::from_utf8_lossy(&e.read("v2.enc")).contains(PLAINTEXT));
    // The control: under umask 000 the shell itself creates world-writable files.
    let mut c = Command::new("sh");
    c.current_dir(e.dir.path())
        .args(["-c", "umask 000 && : > control.txt"]);
    assert!(output(c).status.success());
    assert_eq!(e.mode("control.txt"), 0o666, "umask 000 was not in effect");
}
