//! Values, both directions, against genuine go-kms-wrapping: `gkw` from `shared/oracle` (the
//! vendored upstream aead and awskms wrappers) encrypts what `kms decrypt` must open, and
//! decrypts what `kms encrypt --value` writes. aead with 128-, 192- and 256-bit keys, awskms on
//! moto; with and without AAD; empty, 1-byte and 1 MiB values; renamed and altered key ids.
//!
//! The oracle is found by `kms_testsupport::oracle::binary` (`KMS_ORACLE_DIR`, else
//! `target/oracle`, where `.ci/run` builds it). Missing, it fails the tests under
//! `KMS_REQUIRE_INTEGRATION=1` (CI) and skips them with a note otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use kms::BlobInfo;
use support::{aead_config, assert_code_for, run, run_stdin, stderr, Scratch};

const MIB: usize = 1 << 20;

/// `gkw`, found once per test binary; `None` (after a note) when it cannot be had
/// and integration is not required.
fn gkw() -> Option<&'static Path> {
    static GKW: OnceLock<Option<PathBuf>> = OnceLock::new();
    GKW.get_or_init(|| kms_testsupport::oracle::binary("gkw"))
        .as_deref()
}

/// `gkw ARGS` with `input` on stdin and the AWS settings for moto (never the host's).
fn gkw_run(gkw: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut c = Command::new(gkw);
    c.args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("AWS_") || k.starts_with("AWSKMS_") || k.starts_with("VAULT_AWSKMS") {
            c.env_remove(&*k);
        }
    }
    c.env("AWS_ACCESS_KEY_ID", kms_testsupport::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", kms_testsupport::SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/kms-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/kms-test/credentials",
        );
    support::output_with_stdin(c, input)
}

/// `gkw ARGS`, which must succeed; its stdout.
fn gkw_ok(gkw: &Path, what: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let o = gkw_run(gkw, args, input);
    assert!(
        o.status.success(),
        "{what}: gkw {args:?}: {:?}: {}",
        o.status,
        stderr(&o)
    );
    o.stdout
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// A fresh aead key of `bits` from `kms keygen`.
fn keygen(bits: &str) -> String {
    let o = run(&["keygen", "--bits", bits]);
    assert_code_for("keygen", &o, 0);
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// `--aad TEXT` for kms and `-aad TEXT` for gkw, or nothing.
fn aad_args<'a>(flag: &'a str, aad: Option<&'a str>) -> Vec<&'a str> {
    aad.map_or_else(Vec::new, |a| vec![flag, a])
}

/// The value as base64url text or binary protobuf, whichever `bytes` is.
fn parse_value(bytes: &[u8]) -> BlobInfo {
    BlobInfo::from_bytes(bytes)
        .or_else(|_| BlobInfo::from_text(std::str::from_utf8(bytes).unwrap()))
        .unwrap()
}

/// `blob` with its recorded key id replaced.
fn with_key_id(blob: &BlobInfo, key_id: &str) -> BlobInfo {
    let mut b = blob.clone();
    b.key_info.get_or_insert_with(Default::default).key_id = key_id.to_owned();
    b
}

/// `kms decrypt -c CFG [--purpose P] [--aad A] FILE`.
fn kms_decrypt(cfg: &str, purpose: &str, aad: Option<&str>, file: &str) -> Output {
    let mut args = vec!["decrypt", "-c", cfg, "--purpose", purpose];
    args.extend(aad_args("--aad", aad));
    args.push(file);
    run(&args)
}

/// `kms encrypt --value [--binary] -c CFG --purpose P [--aad A]` of `plain`; the value.
fn kms_encrypt_value(
    cfg: &str,
    purpose: &str,
    aad: Option<&str>,
    binary: bool,
    plain: &[u8],
) -> Vec<u8> {
    let mut args = vec!["encrypt", "--value", "-c", cfg, "--purpose", purpose];
    if binary {
        args.push("--binary");
    }
    args.extend(aad_args("--aad", aad));
    let o = run_stdin(&args, plain);
    assert_code_for(&format!("kms {args:?}"), &o, 0);
    o.stdout
}

#[test]
fn aead_values_both_directions_with_gkw() {
    let Some(gkw) = gkw() else { return };
    let e = Scratch::new();
    for bits in ["128", "192", "256"] {
        let key = keygen(bits);
        let cfg = e.write(
            &format!("aead{bits}.hcl"),
            aead_config(&[("root", &key, "k-a")]),
        );
        for aad in [None, Some("tenant=7")] {
            for (i, len) in [0usize, 1, MIB].into_iter().enumerate() {
                let what = format!("aead-{bits} aad={aad:?} len={len}");
                let plain = data(len);
                let binary = i % 2 == 1;

                // gkw -> kms.
                let mut args = vec!["encrypt", "-type", "aead", "-key", &key, "-key-id", "k-a"];
                args.extend(aad_args("-aad", aad));
                if binary {
                    args.push("-binary");
                }
                let value = gkw_ok(gkw, &what, &args, &plain);
                let f = e.write("gkw.value", &value);
                let o = kms_decrypt(&cfg, "root", aad, &f);
                assert_code_for(&format!("{what}: kms decrypt of gkw's value"), &o, 0);
                assert!(o.stdout == plain, "{what}: kms decrypt of gkw's value");
                // Both refuse it under another AAD.
                let wrong = Some(aad.map_or("x", |_| "tenant=8"));
                assert_code_for(
                    &format!("{what}: kms decrypt under a wrong AAD"),
                    &kms_decrypt(&cfg, "root", wrong, &f),
                    1,
                );
                let mut args = vec!["decrypt", "-type", "aead", "-key", &key];
                args.extend(aad_args("-aad", wrong));
                assert!(
                    !gkw_run(gkw, &args, &value).status.success(),
                    "{what}: gkw, wrong AAD"
                );

                // kms encrypt --value -> gkw.
                let value = kms_encrypt_value(&cfg, "root", aad, binary, &plain);
                if binary {
                    assert!(
                        BlobInfo::from_bytes(&value).is_ok(),
                        "{what}: --binary writes protobuf"
                    );
                } else {
                    let text = std::str::from_utf8(&value).unwrap();
                    assert!(
                        text.ends_with('\n')
                            && text
                                .trim_end()
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                        "{what}: base64url without padding"
                    );
                }
                let mut args = vec!["decrypt", "-type", "aead", "-key", &key];
                args.extend(aad_args("-aad", aad));
                let back = gkw_ok(
                    gkw,
                    &format!("{what}: gkw decrypt of kms's value"),
                    &args,
                    &value,
                );
                assert!(back == plain, "{what}: gkw decrypt of kms's value");
                let blob = parse_value(&value);
                assert_eq!(
                    blob.key_id(),
                    "k-a",
                    "{what}: records the configured key_id"
                );
            }
        }
    }
}

#[test]
fn renamed_and_altered_aead_key_ids_open_in_both() {
    let Some(gkw) = gkw() else { return };
    let e = Scratch::new();
    let (key, old_key, other_key) = (keygen("256"), keygen("128"), keygen("192"));
    // The key_id was renamed in the config since the values were written; previous-root
    // holds an older key under yet another name.
    let cfg = e.write(
        "renamed.hcl",
        aead_config(&[
            ("root", &key, "root-renamed"),
            ("previous-root", &old_key, "root-1"),
        ]),
    );
    let plain = b"renamed";
    let cases: Vec<(&str, &str, &str)> = vec![
        (
            "gkw value recorded under the old name",
            &key,
            "root-old-name",
        ),
        ("gkw value with no key id", &key, ""),
        (
            "previous-root's key under an unknown name",
            &old_key,
            "root-0",
        ),
        (
            "previous-root's key under the root's name",
            &old_key,
            "root-renamed",
        ),
    ];
    for (what, k, id) in cases {
        let mut args = vec!["encrypt", "-type", "aead", "-key", k];
        if !id.is_empty() {
            args.extend(["-key-id", id]);
        }
        let value = gkw_ok(gkw, what, &args, plain);
        let f = e.write("v.b64", &value);
        let o = kms_decrypt(&cfg, "root", None, &f);
        assert_code_for(what, &o, 0);
        assert_eq!(o.stdout, plain, "{what}");
    }

    // Altered key ids, both directions: the genuine wrapper ignores the recorded id, so must
    // kms; each altered value still opens in gkw, configured under any name.
    let one = e.write("one.hcl", aead_config(&[("root", &key, "k-a")]));
    let ours = parse_value(&kms_encrypt_value(&one, "root", Some("a"), false, plain));
    let theirs = parse_value(&gkw_ok(
        gkw,
        "gkw encrypt",
        &[
            "encrypt", "-type", "aead", "-key", &key, "-key-id", "k-a", "-aad", "a",
        ],
        plain,
    ));
    for (who, blob) in [("kms", &ours), ("gkw", &theirs)] {
        let mut altered = vec![
            with_key_id(blob, "altered"),
            with_key_id(blob, ""),
            with_key_id(
                blob,
                "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000000",
            ),
        ];
        let mut none = blob.clone();
        none.key_info = None;
        altered.push(none);
        for b in altered {
            let what = format!(
                "{who}'s value recorded as {:?}",
                b.key_info.as_ref().map(|k| k.key_id.clone())
            );
            let f = e.write("alt.b64", b.to_text());
            let o = kms_decrypt(&one, "root", Some("a"), &f);
            assert_code_for(&what, &o, 0);
            assert_eq!(o.stdout, plain, "{what}");
            let back = gkw_ok(
                gkw,
                &what,
                &[
                    "decrypt", "-type", "aead", "-key", &key, "-key-id", "whatever", "-aad", "a",
                ],
                b.to_text().as_bytes(),
            );
            assert_eq!(back, plain, "{what}: gkw");
        }
    }

    // What no configured key opens, both refuse; kms names the recorded id it looked for.
    let stranger = gkw_ok(
        gkw,
        "gkw encrypt under another key",
        &[
            "encrypt", "-type", "aead", "-key", &other_key, "-key-id", "stranger",
        ],
        plain,
    );
    let f = e.write("stranger.b64", &stranger);
    let o = kms_decrypt(&cfg, "root", None, &f);
    assert_code_for("a value under a key not configured", &o, 1);
    assert!(stderr(&o).contains("stranger"), "{}", stderr(&o));
    assert!(
        !gkw_run(gkw, &["decrypt", "-type", "aead", "-key", &key], &stranger)
            .status
            .success()
    );
    // Previous-root data does not open for another purpose.
    let old = gkw_ok(
        gkw,
        "gkw encrypt",
        &["encrypt", "-type", "aead", "-key", &old_key],
        plain,
    );
    let two = e.write(
        "two.hcl",
        aead_config(&[
            ("root", &key, "r"),
            ("previous-root", &old_key, "p"),
            ("config", &other_key, "c"),
        ]),
    );
    let f = e.write("old.b64", &old);
    assert_code_for(
        "previous-root's value as config",
        &kms_decrypt(&two, "config", None, &f),
        1,
    );
    assert_code_for(
        "previous-root's value as root",
        &kms_decrypt(&two, "root", None, &f),
        0,
    );
}

#[test]
fn nonce_in_iv_values_as_openbao_writes_them() {
    let Some(gkw) = gkw() else { return };
    let e = Scratch::new();
    let key = keygen("256");
    let cfg = e.write("c.hcl", aead_config(&[("root", &key, "k-a")]));
    for aad in [None, Some("ctx")] {
        let mut args = vec!["encrypt", "-type", "aead", "-key", &key, "-key-id", "k-a"];
        args.extend(aad_args("-aad", aad));
        let genuine = parse_value(&gkw_ok(gkw, "gkw encrypt", &args, b"openbao"));
        // OpenBao's static seal: the nonce in `iv`, ciphertext ‖ tag in `ciphertext`.
        let mut moved = genuine.clone();
        moved.iv = moved.ciphertext.drain(..12).collect();
        let f = e.write("iv.b64", moved.to_text());
        let o = kms_decrypt(&cfg, "root", aad, &f);
        assert_code_for("nonce in iv", &o, 0);
        assert_eq!(o.stdout, b"openbao");
        // HashiCorp's aead reads only `ciphertext`: this layout is OpenBao's, read in addition.
        let mut args = vec!["decrypt", "-type", "aead", "-key", &key];
        args.extend(aad_args("-aad", aad));
        assert!(!gkw_run(gkw, &args, moved.to_text().as_bytes())
            .status
            .success());

        let o = run(&["inspect", "--json", &f]);
        assert_code_for("inspect", &o, 0);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["iv_bytes"], 12);
        assert_eq!(j["is_envelope"], false);
        let d = j["mechanism_description"].as_str().unwrap();
        assert!(d.contains("nonce in iv"), "{d}");
        let o = run(&["inspect", "--json", &e.write("g.b64", genuine.to_text())]);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(!j["mechanism_description"]
            .as_str()
            .unwrap()
            .contains("nonce in iv"));

        // Tampering with either part, or a wrong AAD, is refused.
        for (what, bad) in [
            ("iv", {
                let mut b = moved.clone();
                b.iv[3] ^= 1;
                b
            }),
            ("tag", {
                let mut b = moved.clone();
                *b.ciphertext.last_mut().unwrap() ^= 0x80;
                b
            }),
        ] {
            let f = e.write("bad.b64", bad.to_text());
            assert_code_for(
                &format!("nonce in iv, {what} flipped"),
                &kms_decrypt(&cfg, "root", aad, &f),
                1,
            );
        }
        let f = e.write("iv.b64", moved.to_text());
        assert_code_for(
            "nonce in iv, wrong AAD",
            &kms_decrypt(&cfg, "root", Some("nope"), &f),
            1,
        );
    }
}

fn awskms_stanza(purpose: &str, key: &str, endpoint: &str) -> String {
    format!(
        "kms \"awskms\" {{\n  purpose = \"{purpose}\"\n  region = \"us-east-1\"\n  kms_key_id = \"{key}\"\n  endpoint = \"{endpoint}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n}}\n",
        kms_testsupport::ACCESS_KEY,
        kms_testsupport::SECRET_KEY
    )
}

#[test]
fn awskms_values_both_directions_with_gkw_on_moto() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let Some(gkw) = gkw() else { return };
    let moto = kms_testsupport::Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (key1, key2) = rt.block_on(async { (moto.create_key().await, moto.create_key().await) });
    rt.block_on(moto.set_alias("alias/app", &key1));
    let ep = moto.endpoint.clone();
    let e = Scratch::new();
    let cfg = e.write("aws.hcl", awskms_stanza("root", "alias/app", &ep));
    let gkw_aws = |cmd: &'static str, aad: Option<&'static str>, binary: bool| {
        let mut args = vec![
            cmd,
            "-type",
            "awskms",
            "-kms-key-id",
            "alias/app",
            "-region",
            "us-east-1",
            "-endpoint",
        ];
        args.push(&ep);
        args.extend(aad_args("-aad", aad));
        if binary {
            args.push("-binary");
        }
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let s = |v: &[String]| v.iter().map(String::as_str).collect::<Vec<_>>().join(" ");
    for aad in [None, Some("tenant=7")] {
        for (i, len) in [0usize, 1, MIB].into_iter().enumerate() {
            let what = format!("awskms aad={aad:?} len={len}");
            let plain = data(len);
            let binary = i % 2 == 1;
            let args = gkw_aws("encrypt", aad, binary);
            let value = gkw_ok(
                gkw,
                &what,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                &plain,
            );
            assert_eq!(
                parse_value(&value).key_id(),
                key1,
                "{what}: gkw records the key ARN"
            );
            let f = e.write("gkw.value", &value);
            let o = kms_decrypt(&cfg, "root", aad, &f);
            assert_code_for(&format!("{what}: kms decrypt of gkw's value"), &o, 0);
            assert!(o.stdout == plain, "{what}: kms decrypt of gkw's value");

            let value = kms_encrypt_value(&cfg, "root", aad, binary, &plain);
            let args = gkw_aws("decrypt", aad, false);
            let back = gkw_ok(
                gkw,
                &format!("{what}: {}", s(&args)),
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                &value,
            );
            assert!(back == plain, "{what}: gkw decrypt of kms's value");
            let blob = parse_value(&value);
            assert_eq!(
                (blob.key_id(), blob.mechanism()),
                (key1.as_str(), 1),
                "{what}: envelope under the key ARN"
            );
        }
    }

    // Recorded ids that are stale or altered: KMS finds the key from the ciphertext, and both
    // gkw and kms open the value. An alias recorded by an older wrapper and since moved:
    let value = parse_value(&kms_encrypt_value(&cfg, "root", Some("a"), false, b"stale"));
    rt.block_on(moto.set_alias("alias/app", &key2));
    let region = key1.split(':').nth(3).unwrap().to_owned();
    let account_prefix = key1.rsplit_once('/').unwrap().0.to_owned();
    let altered = [
        "alias/app".to_owned(),
        key2.clone(),
        format!("{account_prefix}/00000000-0000-4000-8000-000000000000"),
        key1.replace(&region, "eu-west-1"),
        "not-a-key".to_owned(),
        String::new(),
    ];
    // The config now names the other key: only KMS knows which key the value is under.
    let cfg2 = e.write("aws2.hcl", awskms_stanza("root", &key2, &ep));
    for id in &altered {
        let what = format!("awskms value recorded as {id:?}");
        let b = with_key_id(&value, id);
        let f = e.write("alt.b64", b.to_text());
        for c in [&cfg, &cfg2] {
            let o = kms_decrypt(c, "root", Some("a"), &f);
            assert_code_for(&what, &o, 0);
            assert_eq!(o.stdout, b"stale", "{what}");
        }
        let args = gkw_aws("decrypt", Some("a"), false);
        let back = gkw_ok(
            gkw,
            &what,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            b.to_text().as_bytes(),
        );
        assert_eq!(back, b"stale", "{what}: gkw");
    }
    // A tampered wrapped key is refused by both.
    let mut bad = value.clone();
    bad.key_info.as_mut().unwrap().wrapped_key[40] ^= 1;
    let f = e.write("bad.b64", bad.to_text());
    assert_code_for(
        "tampered wrapped key",
        &kms_decrypt(&cfg, "root", Some("a"), &f),
        1,
    );
    let args = gkw_aws("decrypt", Some("a"), false);
    assert!(!gkw_run(
        gkw,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        bad.to_text().as_bytes()
    )
    .status
    .success());
}

#[test]
fn encrypt_value_refuses_what_it_cannot_write() {
    let e = Scratch::new();
    let cfg = e.write(
        "c.hcl",
        aead_config(&[
            ("root", support::KEY_A, "k-a"),
            ("recovery", support::KEY_B, "k-b"),
        ]),
    );
    // --binary needs --value; --also cannot go in a BlobInfo (one key); exit 2, nothing written.
    for args in [
        vec!["encrypt", "--binary", "-c", &cfg, "-o", "/dev/null"],
        vec!["encrypt", "--value", "--also", "recovery", "-c", &cfg],
    ] {
        let o = run_stdin(&args, b"x");
        assert_code_for(&format!("{args:?}"), &o, 2);
        assert!(o.stdout.is_empty());
    }
    // A purpose the config lacks: one line naming it, exit 2, no output file.
    let out = e.p("v.out");
    let o = run_stdin(
        &[
            "encrypt",
            "--value",
            "-c",
            &cfg,
            "--purpose",
            "worker-auth",
            "-o",
            &out,
        ],
        b"x",
    );
    assert_code_for("missing purpose", &o, 2);
    support::assert_one_line("missing purpose", &stderr(&o));
    assert!(stderr(&o).contains("worker-auth"), "{}", stderr(&o));
    assert!(!e.exists("v.out"));
    // previous-root only decrypts.
    let o = run_stdin(
        &[
            "encrypt",
            "--value",
            "-c",
            &cfg,
            "--purpose",
            "previous-root",
        ],
        b"x",
    );
    assert_code_for("previous-root", &o, 2);
    // A value over the 16 MiB BlobInfo cap is refused, in either form, pointing to the
    // stream format; 15 MiB fits, and opens, as binary and as text.
    let big = vec![0u8; 17 << 20];
    for binary in [false, true] {
        let mut args = vec!["encrypt", "--value", "-c", &cfg, "-o", &out];
        if binary {
            args.push("--binary");
        }
        let o = run_stdin(&args, &big);
        assert_code_for("a 17 MiB value", &o, 2);
        support::assert_one_line("a 17 MiB value", &stderr(&o));
        assert!(stderr(&o).contains("stream"), "{}", stderr(&o));
        assert!(!e.exists("v.out"));
    }
    let big = vec![0u8; 15 << 20];
    for binary in [false, true] {
        let mut args = vec!["encrypt", "--value", "-c", &cfg, "-o", &out];
        if binary {
            args.push("--binary");
        }
        let o = run_stdin(&args, &big);
        assert_code_for("a 15 MiB value", &o, 0);
        let o = kms_decrypt(&cfg, "root", None, &out);
        assert_code_for("decrypt of the 15 MiB value", &o, 0);
        assert!(o.stdout == big);
    }
    // Round trip through a file, binary, read back by kms decrypt.
    let o = run_stdin(
        &[
            "encrypt", "--value", "--binary", "-c", &cfg, "-o", &out, "--aad", "z",
        ],
        b"file",
    );
    assert_code_for("encrypt --value --binary -o", &o, 0);
    let o = kms_decrypt(&cfg, "root", Some("z"), &out);
    assert_code_for("decrypt of the binary value", &o, 0);
    assert_eq!(o.stdout, b"file");
}
