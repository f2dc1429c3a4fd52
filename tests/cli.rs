//! Whole-binary tests of the `kms` command with the aead backend (no AWS).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::{
    aead_config, assert_code, assert_one_line, inspect_keys, kms, run, run_stdin, stderr, KEY_A,
    KEY_B,
};

/// Boundary's own known answer: this config key made BOUNDARY_VALUE from BOUNDARY_PLAINTEXT.
const BOUNDARY_KEY: &str = "c964AJj8VW8w4hKz/Jd8MvuLt0kkcjVuFqMiMvTvvN8=";
const BOUNDARY_VALUE: &str = "CkgsDUoQ7B5JhE1ye2yVAm3Ss_KNbLQgBhKtibtGSvpGOrwQ3zRTF_qoHPHX-xuqLyZ9zsb3cMo6OpphKOj7AeTn1_iiqZ_VaCsqAA";
const BOUNDARY_PLAINTEXT: &str = "eb78KqCwowELYnkOOko/XYz01q1ax3g76J1vCAvt5dQ=";

/// A scratch directory with `dev.hcl` (root: KEY_A, key id k-a).
struct Env(support::Scratch);

impl std::ops::Deref for Env {
    type Target = support::Scratch;
    fn deref(&self) -> &support::Scratch {
        &self.0
    }
}

impl Env {
    fn new() -> Env {
        let e = Env(support::Scratch::new());
        e.write("dev.hcl", aead_config(&[("root", KEY_A, "k-a")]));
        e
    }
}

/// The independent Python peer: `KMS_INTEROP_PEER`, else `shared/interop/gkw_value.py` beside
/// an ancestor of this checkout (the workspace layout).
fn interop_peer() -> PathBuf {
    if let Some(p) = std::env::var_os("KMS_INTEROP_PEER") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/interop/gkw_value.py"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            PathBuf::from("shared/interop/gkw_value.py beside an ancestor of this checkout (or set KMS_INTEROP_PEER)")
        })
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn keygen_prints_a_fresh_base64_key() {
    let a = run(&["keygen"]);
    let b = run(&["keygen"]);
    assert_code(&a, 0);
    let ka = String::from_utf8(a.stdout).unwrap();
    assert_ne!(ka, String::from_utf8(b.stdout).unwrap());
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(ka.trim())
            .unwrap()
            .len(),
        32
    );
}

#[test]
fn round_trip_through_files_and_pipes() {
    let e = Env::new();
    let cfg = e.p("dev.hcl");
    for len in [0usize, 1, 65535, 65536, 65537, 5 * 65536 + 3] {
        let pt = data(len);
        let input = e.write("in.bin", &pt);
        assert_code(
            &run(&["encrypt", "-c", &cfg, "-o", &e.p("in.kms"), &input]),
            0,
        );
        let dec = run(&["decrypt", "-c", &cfg, "-o", &e.p("out.bin"), &e.p("in.kms")]);
        assert_code(&dec, 0);
        assert_eq!(
            fs::read(e.path("out.bin")).unwrap(),
            pt,
            "file round trip of {len} bytes"
        );
        // Through pipes: stdin -> stdout both ways.
        let enc = run_stdin(&["encrypt", "-c", &cfg], &pt);
        assert_code(&enc, 0);
        let dec = run_stdin(&["decrypt", "-c", &cfg, "-"], &enc.stdout);
        assert_code(&dec, 0);
        assert_eq!(dec.stdout, pt, "pipe round trip of {len} bytes");
    }
}

#[test]
fn config_from_env_var_and_aad() {
    let e = Env::new();
    let input = e.write("in.txt", b"hello");
    let o = kms()
        .env("KMS_CONFIG", e.p("dev.hcl"))
        .args(["encrypt", "--aad", "tenant=1", "-o", &e.p("x.kms"), &input])
        .output()
        .unwrap();
    assert_code(&o, 0);
    let ok = kms()
        .env("KMS_CONFIG", e.p("dev.hcl"))
        .args(["decrypt", "--aad", "tenant=1", &e.p("x.kms")])
        .output()
        .unwrap();
    assert_code(&ok, 0);
    assert_eq!(ok.stdout, b"hello");
    let wrong = kms()
        .env("KMS_CONFIG", e.p("dev.hcl"))
        .args(["decrypt", "--aad", "tenant=2", &e.p("x.kms")])
        .output()
        .unwrap();
    assert_code(&wrong, 1);
    assert!(wrong.stdout.is_empty());
}

#[test]
fn decrypted_files_are_private_and_output_is_atomic() {
    let e = Env::new();
    let cfg = e.p("dev.hcl");
    let input = e.write("in.txt", b"secret");
    assert_code(
        &run(&["encrypt", "-c", &cfg, "-o", &e.p("in.kms"), &input]),
        0,
    );
    // -o replaces an existing file.
    e.write("out.txt", b"old contents that are longer");
    assert_code(
        &run(&["decrypt", "-c", &cfg, "-o", &e.p("out.txt"), &e.p("in.kms")]),
        0,
    );
    assert_eq!(fs::read(e.path("out.txt")).unwrap(), b"secret");
    assert_eq!(
        fs::metadata(e.path("out.txt"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // -o naming the input is refused, and the input is untouched.
    let before = fs::read(e.path("in.kms")).unwrap();
    let o = run(&["decrypt", "-c", &cfg, "-o", &e.p("in.kms"), &e.p("in.kms")]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("the output is the input"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read(e.path("in.kms")).unwrap(), before);
    let o = run(&["encrypt", "-c", &cfg, "-o", &input, &input]);
    assert_code(&o, 2);
    assert_eq!(fs::read(&input).unwrap(), b"secret");
    // No temp files are left behind.
    assert!(
        e.files().iter().all(|f| !f.contains(".kms-tmp-")),
        "{:?}",
        e.files()
    );
}

#[test]
fn failures_leave_no_partial_output() {
    let e = Env::new();
    let cfg = e.p("dev.hcl");
    let pt = data(300_000);
    let input = e.write("in.bin", &pt);
    assert_code(
        &run(&["encrypt", "-c", &cfg, "-o", &e.p("in.kms"), &input]),
        0,
    );
    let ct = fs::read(e.path("in.kms")).unwrap();
    // Tampered late in the body: the early segments authenticate, the last does not.
    let mut bad = ct.clone();
    let n = bad.len();
    bad[n - 20] ^= 1;
    e.write("bad.kms", &bad);
    let o = run(&[
        "decrypt",
        "-c",
        &cfg,
        "-o",
        &e.p("out.bin"),
        &e.p("bad.kms"),
    ]);
    assert_code(&o, 1);
    assert!(!e.path("out.bin").exists(), "partial output left");
    // An existing target survives a failed decrypt untouched.
    e.write("keep.bin", b"keep me");
    assert_code(
        &run(&[
            "decrypt",
            "-c",
            &cfg,
            "-o",
            &e.p("keep.bin"),
            &e.p("bad.kms"),
        ]),
        1,
    );
    assert_eq!(fs::read(e.path("keep.bin")).unwrap(), b"keep me");
    assert!(
        e.files().iter().all(|f| !f.contains(".kms-tmp-")),
        "{:?}",
        e.files()
    );
    // To stdout: exit 1 and the message says the output is incomplete.
    let o = run(&["decrypt", "-c", &cfg, &e.p("bad.kms")]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("incomplete"), "{}", stderr(&o));
}

#[test]
fn empty_truncated_and_foreign_ciphertexts_exit_1() {
    let e = Env::new();
    let cfg = e.p("dev.hcl");
    let input = e.write("in.txt", b"some data");
    assert_code(
        &run(&["encrypt", "-c", &cfg, "-o", &e.p("in.kms"), &input]),
        0,
    );
    let ct = fs::read(e.path("in.kms")).unwrap();
    for (name, bytes) in [
        ("empty", vec![]),
        ("magic-only", ct[..8].to_vec()),
        ("half-header", ct[..40].to_vec()),
        ("no-body", ct[..ct.len() - 25].to_vec()),
        ("junk", b"hello world\n".to_vec()),
    ] {
        let f = e.write(&format!("{name}.kms"), &bytes);
        let o = run(&["decrypt", "-c", &cfg, "-o", &e.p("out"), &f]);
        assert_code(&o, 1);
        let err = stderr(&o);
        assert_one_line(name, &err);
        assert!(err.contains(&f), "names the file for {name}: {err}");
        assert!(!e.path("out").exists());
    }
    // A different key: exit 1, naming the key id it needs.
    let other = e.write("other.hcl", aead_config(&[("root", KEY_B, "k-b")]));
    let o = run(&["decrypt", "-c", &other, &e.p("in.kms")]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("k-a"), "{}", stderr(&o));
    // The same key id with other key material: decryption failed.
    let impostor = e.write("impostor.hcl", aead_config(&[("root", KEY_B, "k-a")]));
    let o = run(&["decrypt", "-c", &impostor, &e.p("in.kms")]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("decryption failed"), "{}", stderr(&o));
}

#[test]
fn config_errors_exit_2_with_clear_messages() {
    let e = Env::new();
    let input = e.write("in.txt", b"x");
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing", None, "missing.hcl"),
        ("not-base64", Some(aead_config(&[("root", "not*base64!", "k")])), "base64"),
        ("short", Some(aead_config(&[("root", "AAAA", "k")])), "32"),
        ("bad-type", Some(format!("kms \"aead\" {{\n purpose = \"root\"\n aead_type = \"chacha\"\n key = \"{KEY_A}\"\n}}\n")), "chacha"),
        ("syntax", Some("kms \"aead\" {\n purpose = \n".into()), "line"),
    ];
    for (name, content, expect) in cases {
        let cfg = match content {
            Some(c) => e.write(&format!("{name}.hcl"), c),
            None => e.p("missing.hcl"),
        };
        let o = run(&["encrypt", "-c", &cfg, "-o", &e.p("out.kms"), &input]);
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(err.contains(expect), "{name}: expected {expect:?} in {err}");
        assert!(!err.contains(KEY_A), "{name}: the key leaked into {err}");
        assert!(!e.path("out.kms").exists());
    }
    // Unreadable config (a directory).
    fs::create_dir(e.path("dir.hcl")).unwrap();
    assert_code(&run(&["encrypt", "-c", &e.p("dir.hcl"), &input]), 2);
    // Usage errors are 2 as well.
    assert_code(&run(&["encrypt"]), 2);
    assert_code(&run(&["frobnicate"]), 2);
}

#[test]
fn inspect_reports_the_stream_layout() {
    let e = Env::new();
    let input = e.write("in.bin", data(200_000));
    assert_code(
        &run(&[
            "encrypt",
            "-c",
            &e.p("dev.hcl"),
            "-o",
            &e.p("in.kms"),
            &input,
        ]),
        0,
    );
    let o = run(&["inspect", "--json", &e.p("in.kms")]);
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "kms-stream");
    assert_eq!(v["version"], 1);
    assert_eq!(v["purpose"], "root");
    assert_eq!(v["segment_size"], 65536);
    assert_eq!(v["segment_bytes"], 65536 + 16);
    assert_eq!(v["segments"], 4);
    assert_eq!(v["wrapped_keys"][0]["kind"], "aead");
    assert_eq!(v["wrapped_keys"][0]["key_id"], "k-a");
    let header = v["header_bytes"].as_u64().unwrap();
    assert_eq!(
        fs::metadata(e.path("in.kms")).unwrap().len(),
        header + 3 * (65536 + 16) + (200_000 - 3 * 65536 + 16)
    );
    // From stdin too, and as text.
    let o = run_stdin(&["inspect", "--json"], &fs::read(e.path("in.kms")).unwrap());
    let w: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(w["segments"], 4);
    let t = run(&["inspect", &e.p("in.kms")]);
    assert!(String::from_utf8_lossy(&t.stdout).contains("wrapped_key[0]: aead k-a"));
}

#[test]
fn boundary_known_answer_decrypts_as_a_bare_blobinfo() {
    use base64::Engine;
    let e = Env::new();
    let cfg = e.write("boundary.hcl", aead_config(&[("config", BOUNDARY_KEY, "")]));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(BOUNDARY_VALUE)
        .unwrap();
    let blob = e.write("value.bin", &raw);
    let o = run(&["decrypt", "-c", &cfg, "--purpose", "config", &blob]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, BOUNDARY_PLAINTEXT.as_bytes());
    // The base64url text form is accepted too.
    let text = e.write("value.txt", BOUNDARY_VALUE);
    let o = run(&["decrypt", "-c", &cfg, "--purpose", "config", &text]);
    assert_eq!(o.stdout, BOUNDARY_PLAINTEXT.as_bytes());
    // Without --purpose it looks for root wrappers, and there are none.
    let o = run(&["decrypt", "-c", &cfg, &blob]);
    assert_code(&o, 1);
    let i = run(&["inspect", "--json", &blob]);
    let v: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(v["backend_kind"], "aead");
    assert_eq!(v["backend_kind_inferred"], true);
}

#[test]
fn config_values_encrypt_and_decrypt() {
    let e = Env::new();
    let kms_cfg = e.write(
        "kms.hcl",
        aead_config(&[("config", BOUNDARY_KEY, "global_config")]),
    );
    let original = "listener \"tcp\" {\n  purpose = \"api\"\n}\ncontroller {\n  database { url = \"{{encrypt(postgres://u:pw@h/db)}}\" }\n  pair = \"{{encrypt(one)}} and two\"\n}\n";
    let file = e.write("controller.hcl", original);
    let enc = run(&["config", "encrypt", "-c", &kms_cfg, &file]);
    assert_code(&enc, 0);
    let encrypted = String::from_utf8(enc.stdout).unwrap();
    assert_eq!(encrypted.matches("{{decrypt(").count(), 2, "{encrypted}");
    assert!(!encrypted.contains("pw@h") && !encrypted.contains("{{encrypt("));
    assert!(encrypted.starts_with("listener \"tcp\" {\n  purpose = \"api\"\n}\n"));
    let efile = e.write("controller.enc.hcl", &encrypted);
    let dec = run(&["config", "decrypt", "-c", &kms_cfg, &efile]);
    assert_code(&dec, 0);
    assert_eq!(
        String::from_utf8(dec.stdout).unwrap(),
        original,
        "round trip is byte-identical"
    );
    let strip = run(&["config", "decrypt", "-c", &kms_cfg, "--strip", &efile]);
    assert!(String::from_utf8(strip.stdout)
        .unwrap()
        .contains("pair = \"one and two\""));
    // Boundary's own value decrypts.
    let bfile = e.write(
        "b.hcl",
        format!("x = \"{{{{decrypt({BOUNDARY_VALUE})}}}}\"\n"),
    );
    let o = run(&["config", "decrypt", "-c", &kms_cfg, "--strip", &bfile]);
    assert_code(&o, 0);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        format!("x = \"{BOUNDARY_PLAINTEXT}\"\n")
    );
    // --overwrite replaces the file in place.
    assert_code(
        &run(&["config", "encrypt", "-c", &kms_cfg, "--overwrite", &file]),
        0,
    );
    assert!(fs::read_to_string(&file).unwrap().contains("{{decrypt("));
    // Exactly one config stanza is required.
    let none = e.write("none.hcl", aead_config(&[("root", KEY_A, "r")]));
    let o = run(&["config", "encrypt", "-c", &none, &file]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("purpose \"config\""), "{}", stderr(&o));
}

#[test]
fn config_kms_decrypts_values_inside_the_main_config() {
    let e = Env::new();
    let kms_cfg = e.write(
        "kms.hcl",
        aead_config(&[("config", BOUNDARY_KEY, "global_config")]),
    );
    // The main config's root key is itself encrypted with the config key.
    let main_plain = format!("kms \"aead\" {{\n  purpose = \"root\"\n  key = \"{{{{encrypt({KEY_A})}}}}\"\n  key_id = \"r\"\n}}\n");
    let main = e.write("main.hcl", main_plain);
    assert_code(
        &run(&["config", "encrypt", "-c", &kms_cfg, "--overwrite", &main]),
        0,
    );
    assert!(!fs::read_to_string(&main).unwrap().contains(KEY_A));
    let input = e.write("in.txt", b"via config-kms");
    assert_code(
        &run(&[
            "encrypt",
            "-c",
            &main,
            "--config-kms",
            &kms_cfg,
            "-o",
            &e.p("x.kms"),
            &input,
        ]),
        0,
    );
    // The plain-key config opens it: the encrypted key was the real one.
    let plain_cfg = e.write("plain.hcl", aead_config(&[("root", KEY_A, "r")]));
    let o = run(&["decrypt", "-c", &plain_cfg, &e.p("x.kms")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"via config-kms");
}

#[test]
fn check_offline_and_online() {
    let e = Env::new();
    let cfg = e.write(
        "multi.hcl",
        aead_config(&[("root", KEY_A, "r"), ("recovery", KEY_B, "rec")]),
    );
    let o = run(&["check", "--offline", "-c", &cfg]);
    assert_code(&o, 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("root") && out.contains("recovery") && out.contains("key_id=rec"),
        "{out}"
    );
    assert!(!out.contains(KEY_A) && !out.contains(KEY_B));
    let o = run(&["check", "-c", &cfg]);
    assert_code(&o, 0);
    assert!(String::from_utf8(o.stdout)
        .unwrap()
        .contains("round_trip=ok"));
    let bad = e.write(
        "bad.hcl",
        "kms \"aead\" {\n  purpose = \"rooot\"\n  key = \"AAAA\"\n}\n",
    );
    let o = run(&["check", "--offline", "-c", &bad]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.lines().count() >= 2,
        "every problem on its own line: {err}"
    );
}

/// What Boundary accepts but ignores: exit 0 with one `warning:` line each, and the
/// wrappers it would set up; `--strict` refuses it (exit 2).
#[test]
fn check_warns_about_what_boundary_ignores_and_strict_refuses_it() {
    let e = Env::new();
    let text = format!(
        "{}kms \"aead\" {{\n  key_id = \"spare\"\n}}\nkms \"aead\" {{\n  purpose = \"recovery\"\n  key = \"{KEY_B}\"\n  key_id = \"rec\"\n  disabled = true\n  kms_keyid = \"x\"\n}}\n",
        aead_config(&[("root", KEY_A, "r")])
    );
    let cfg = e.write("odd.hcl", text);
    let o = run(&["check", "--offline", "-c", &cfg]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning:")).collect();
    assert_eq!(warnings.len(), 3, "{err}");
    assert!(
        err.contains("no purpose: Boundary ignores this block"),
        "{err}"
    );
    assert!(
        err.contains("disabled: Boundary does not act on disabled"),
        "{err}"
    );
    assert!(
        err.contains("kms_keyid: is not a setting of kms \"aead\""),
        "{err}"
    );
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("key_id=rec"),
        "a disabled block is still set up: {out}"
    );
    let o = run(&["check", "--offline", "--strict", "-c", &cfg]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("refused under --strict: 3 warning(s)"),
        "{}",
        stderr(&o)
    );
    // A file with no kms block at all: Boundary starts with no KMS from it.
    let none = e.write("none.hcl", "disable_mlock = true\n");
    let o = run(&["check", "--offline", "-c", &none]);
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("warning:") && stderr(&o).contains("sets up no KMS"),
        "{}",
        stderr(&o)
    );
    let o = run(&["check", "--offline", "--strict", "-c", &none]);
    assert_code(&o, 2);
}

#[test]
fn rewrap_moves_files_to_the_new_root_and_previous_root_still_decrypts() {
    let e = Env::new();
    let old_cfg = e.write("old.hcl", aead_config(&[("root", KEY_A, "old")]));
    let both = e.write(
        "both.hcl",
        aead_config(&[("root", KEY_B, "new"), ("previous-root", KEY_A, "old")]),
    );
    let new_only = e.write("new.hcl", aead_config(&[("root", KEY_B, "new")]));
    fs::create_dir_all(e.path("tree/sub")).unwrap();
    let pt = data(150_000);
    let inp = e.write("plain.bin", &pt);
    for f in ["tree/a.kms", "tree/sub/b.kms"] {
        assert_code(&run(&["encrypt", "-c", &old_cfg, "-o", &e.p(f), &inp]), 0);
    }
    e.write("tree/notes.txt", b"not encrypted");
    // previous-root opens old data; new data goes under root.
    let o = run(&["decrypt", "-c", &both, &e.p("tree/a.kms")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, pt);
    // A corrupt kms file: cut inside its header.
    let good = fs::read(e.path("tree/a.kms")).unwrap();
    e.write("tree/sub/corrupt.kms", &good[..30]);
    let body_before = good[good.len() - 1000..].to_vec();
    let o = run(&["rewrap", "-c", &both, "-r", &e.p("tree")]);
    assert_code(&o, 1);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("old -> new"), "{out}");
    assert!(out.contains("notes.txt: not a kms file"), "{out}");
    assert!(stderr(&o).contains("corrupt.kms"), "{}", stderr(&o));
    assert_eq!(
        fs::read(e.path("tree/sub/corrupt.kms")).unwrap(),
        &good[..30],
        "the corrupt file is untouched"
    );
    // Body bytes unchanged, only the header moved; new key alone opens it, old alone does not.
    let after = fs::read(e.path("tree/a.kms")).unwrap();
    assert_eq!(&after[after.len() - 1000..], &body_before[..]);
    for f in ["tree/a.kms", "tree/sub/b.kms"] {
        let o = run(&["decrypt", "-c", &new_only, &e.p(f)]);
        assert_code(&o, 0);
        assert_eq!(o.stdout, pt);
        assert_code(&run(&["decrypt", "-c", &old_cfg, &e.p(f)]), 1);
    }
    // A second run changes no byte.
    let snapshot: Vec<Vec<u8>> = ["tree/a.kms", "tree/sub/b.kms"]
        .iter()
        .map(|f| fs::read(e.path(f)).unwrap())
        .collect();
    let o = run(&["rewrap", "-c", &both, "-r", &e.p("tree")]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("already under new"));
    let again: Vec<Vec<u8>> = ["tree/a.kms", "tree/sub/b.kms"]
        .iter()
        .map(|f| fs::read(e.path(f)).unwrap())
        .collect();
    assert_eq!(snapshot, again);
    assert!(!Path::new(&e.p("tree")).join(".a.kms.kms-tmp-").exists());
}

#[test]
fn interop_with_the_independent_python_peer_aead() {
    use base64::Engine;
    let peer = interop_peer();
    assert!(
        peer.exists(),
        "the interop peer is missing at {}",
        peer.display()
    );
    let e = Env::new();
    let cfg = e.write(
        "cfg.hcl",
        aead_config(&[("config", KEY_A, "global_config")]),
    );
    // Peer -> us: the peer encrypts, `kms decrypt` opens it.
    let value = run_peer(
        &[
            "aead-encrypt",
            "--key",
            KEY_A,
            "--key-id",
            "global_config",
            "--b64",
        ],
        b"from python",
    );
    let value = String::from_utf8(value).unwrap();
    let f = e.write("peer.b64", value.trim());
    let o = run(&["decrypt", "-c", &cfg, "--purpose", "config", &f]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"from python");
    // Us -> peer: `kms config encrypt --strip` gives the base64url BlobInfo.
    let file = e.write("v.txt", "{{encrypt(from rust)}}");
    let o = run(&["config", "encrypt", "-c", &cfg, "--strip", &file]);
    assert_code(&o, 0);
    let ours = String::from_utf8(o.stdout).unwrap();
    assert!(base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(ours.trim())
        .is_ok());
    let out = run_peer(
        &["aead-decrypt", "--key", KEY_A, "--b64"],
        ours.trim().as_bytes(),
    );
    assert_eq!(out, b"from rust");
}

/// Runs the Python peer with `args`, feeding `input`; returns its stdout.
fn run_peer(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("python3")
        .arg(interop_peer())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the peer failed: {args:?}");
    out.stdout
}

#[test]
fn aead_keys_of_128_and_192_bits_as_boundary_accepts() {
    use base64::Engine;
    let e = Env::new();
    for bits in ["128", "192", "256"] {
        let o = run(&["keygen", "--bits", bits]);
        assert_code(&o, 0);
        let key = String::from_utf8(o.stdout).unwrap().trim().to_owned();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&key)
            .unwrap();
        assert_eq!(raw.len() * 8, bits.parse::<usize>().unwrap());
        let cfg = e.write(
            &format!("k{bits}.hcl"),
            aead_config(&[("root", &key, "k"), ("config", &key, "c")]),
        );
        // Streams.
        let input = e.write("in.bin", data(70_000));
        let enc = e.p(&format!("in{bits}.kms"));
        assert_code(&run(&["encrypt", "-c", &cfg, "-o", &enc, &input]), 0);
        let o = run(&["decrypt", "-c", &cfg, &enc]);
        assert_code(&o, 0);
        assert_eq!(o.stdout, data(70_000));
        // Values, both ways with the independent peer (AES-GCM of the key's size).
        let theirs = run_peer(&["aead-encrypt", "--key", &key, "--b64"], b"from python");
        let f = e.write("peer.b64", String::from_utf8(theirs).unwrap().trim());
        let o = run(&["decrypt", "-c", &cfg, "--purpose", "config", &f]);
        assert_code(&o, 0);
        assert_eq!(o.stdout, b"from python");
        let file = e.write("v.txt", "{{encrypt(from rust)}}");
        let o = run(&["config", "encrypt", "-c", &cfg, "--strip", &file]);
        assert_code(&o, 0);
        let ours = String::from_utf8(o.stdout).unwrap();
        let back = run_peer(
            &["aead-decrypt", "--key", &key, "--b64"],
            ours.trim().as_bytes(),
        );
        assert_eq!(back, b"from rust");
    }
    let o = run(&["keygen", "--bits", "64"]);
    assert_code(&o, 2);
    // Other sizes are refused, naming the ones allowed.
    let cfg = e.write(
        "bad.hcl",
        aead_config(&[(
            "root",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "k",
        )]),
    );
    let o = run(&["check", "--offline", "-c", &cfg]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("need 16, 24 or 32"), "{}", stderr(&o));
}

#[test]
fn also_wraps_under_every_stanza_even_when_key_ids_agree() {
    // Two stanzas, two keys, one key_id: --also must write both, so that the recovery key
    // alone opens the file. (Deduplicating by key id once wrote only the root key.)
    let e = Env::new();
    let both = e.write(
        "both.hcl",
        aead_config(&[("root", KEY_A, "k"), ("recovery", KEY_B, "k")]),
    );
    let recovery_only = e.write("rec.hcl", aead_config(&[("recovery", KEY_B, "k")]));
    let input = e.write("in.bin", data(1000));
    let enc = e.p("in.kms");
    assert_code(
        &run(&[
            "encrypt", "-c", &both, "--also", "recovery", "-o", &enc, &input,
        ]),
        0,
    );
    assert_eq!(inspect_keys(&enc).len(), 2);
    let o = run(&["decrypt", "-c", &recovery_only, &enc]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, data(1000));
    // A file with the root key only is not current for --also recovery: rewrap adds it.
    let single = e.p("single.kms");
    assert_code(&run(&["encrypt", "-c", &both, "-o", &single, &input]), 0);
    assert_code(&run(&["decrypt", "-c", &recovery_only, &single]), 1);
    assert_code(
        &run(&["rewrap", "-c", &both, "--also", "recovery", &single]),
        0,
    );
    assert_eq!(inspect_keys(&single).len(), 2);
    let o = run(&["decrypt", "-c", &recovery_only, &single]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, data(1000));
    // One stanza serving both purposes is one key: one entry.
    let shared = e.write("shared.hcl", {
        let c = aead_config(&[("root", KEY_A, "k")]);
        c.replace("purpose = \"root\"", "purpose = [\"root\", \"recovery\"]")
    });
    let one = e.p("one.kms");
    assert_code(
        &run(&[
            "encrypt", "-c", &shared, "--also", "recovery", "-o", &one, &input,
        ]),
        0,
    );
    assert_eq!(inspect_keys(&one), [("aead".to_owned(), "k".to_owned())]);
}

// ---------------------------------------------------------------------------------------------
// awskms end to end, against moto (a real KMS API server on a loopback port).

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn awskms_stanza(purpose: &str, key: &str, endpoint: &str) -> String {
    format!(
        "kms \"awskms\" {{\n  purpose = \"{purpose}\"\n  region = \"us-east-1\"\n  kms_key_id = \"{key}\"\n  endpoint = \"{endpoint}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n}}\n",
        kms_testsupport::ACCESS_KEY,
        kms_testsupport::SECRET_KEY
    )
}

fn inspect_key_ids(path: &str) -> Vec<String> {
    inspect_keys(path)
        .into_iter()
        .map(|(kind, id)| {
            assert_eq!(kind, "awskms");
            id
        })
        .collect()
}

#[test]
fn awskms_encrypt_decrypt_inspect_check_and_rewrap_end_to_end() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let proxy = kms_testsupport::Proxy::start(&moto.endpoint);
    let rt = rt();
    let key1 = rt.block_on(moto.create_key());
    rt.block_on(moto.set_alias("alias/app", &key1));
    let e = Env::new();
    let cfg = e.write(
        "aws.hcl",
        awskms_stanza("root", "alias/app", &proxy.endpoint),
    );
    let pt = data(200_000);
    let inp = e.write("plain.bin", &pt);

    // Encrypt through the alias: the file records the key ARN.
    assert_code(
        &run(&["encrypt", "-c", &cfg, "-o", &e.p("old.kms"), &inp]),
        0,
    );
    assert_eq!(inspect_key_ids(&e.p("old.kms")), vec![key1.clone()]);
    let o = run(&["inspect", &e.p("old.kms")]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(&key1));
    let o = run(&["decrypt", "-c", &cfg, &e.p("old.kms")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, pt);

    // check: DescribeKey plus a round trip; prints the resolved ARN, region, endpoint, creds.
    let o = run(&["check", "-c", &cfg]);
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        format!("resolved_key={key1}"),
        "region=us-east-1 [stanza]".to_owned(),
        format!("endpoint={} [stanza]", proxy.endpoint),
        "credentials=stanza".to_owned(),
        "round_trip=ok".to_owned(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in {out}");
    }
    assert!(!out.contains(kms_testsupport::SECRET_KEY));

    // Retarget the alias: new data goes under the new key, old data still opens.
    let key2 = rt.block_on(moto.create_key());
    rt.block_on(moto.set_alias("alias/app", &key2));
    assert_code(
        &run(&["encrypt", "-c", &cfg, "-o", &e.p("new.kms"), &inp]),
        0,
    );
    assert_eq!(inspect_key_ids(&e.p("new.kms")), vec![key2.clone()]);
    let o = run(&["decrypt", "-c", &cfg, &e.p("old.kms")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, pt);

    // Rewrap: ReEncrypt to the current key; the data key never leaves KMS (no Decrypt).
    let old_bytes = fs::read(e.path("old.kms")).unwrap();
    proxy.reset_counts();
    let o = run(&["rewrap", "-c", &cfg, &e.p("old.kms"), &e.p("new.kms")]);
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("{key1} -> {key2}")), "{out}");
    assert!(out.contains("already under"), "{out}");
    assert_eq!(proxy.count("Decrypt"), 0, "{:?}", proxy.counts());
    assert_eq!(proxy.count("ReEncrypt"), 1, "{:?}", proxy.counts());
    assert_eq!(inspect_key_ids(&e.p("old.kms")), vec![key2.clone()]);
    let after = fs::read(e.path("old.kms")).unwrap();
    assert_eq!(
        after[after.len() - 100_000..],
        old_bytes[old_bytes.len() - 100_000..],
        "only the header changes"
    );
    let o = run(&["decrypt", "-c", &cfg, &e.p("old.kms")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, pt);
    // A second run is a no-op and changes no byte.
    proxy.reset_counts();
    let o = run(&["rewrap", "-c", &cfg, &e.p("old.kms")]);
    assert_code(&o, 0);
    assert_eq!(fs::read(e.path("old.kms")).unwrap(), after);
    assert_eq!(proxy.count("ReEncrypt"), 0);

    // A nonexistent key fails before anything is written, naming the key.
    let bad = e.write(
        "bad.hcl",
        awskms_stanza("root", "alias/nope", &moto.endpoint),
    );
    let o = run(&["encrypt", "-c", &bad, "-o", &e.p("nope.kms"), &inp]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("alias/nope"), "{}", stderr(&o));
    assert!(!e.path("nope.kms").exists());
    assert_one_line("encrypt with alias/nope", &stderr(&o));
}

#[test]
fn awskms_settings_from_the_environment() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let rt = rt();
    // A key in eu-west-1 behind alias/app there, and a different one in us-east-1.
    let eu = rt.block_on(async {
        let c = kms_testsupport::client_in(&moto.endpoint, "eu-west-1").await;
        let k = c.create_key().send().await.unwrap();
        let arn = k.key_metadata().unwrap().arn().unwrap().to_owned();
        c.create_alias()
            .alias_name("alias/app")
            .target_key_id(&arn)
            .send()
            .await
            .unwrap();
        arn
    });
    let us = rt.block_on(moto.create_key());
    rt.block_on(moto.set_alias("alias/app", &us));
    let e = Env::new();
    let inp = e.write("plain.txt", "env test");
    let bare = e.write("bare.hcl", "kms \"awskms\" {\n  purpose = \"root\"\n}\n");
    let with_env = |c: &mut Command| {
        c.env("AWSKMS_WRAPPER_KEY_ID", "alias/app")
            .env("AWS_KMS_ENDPOINT", &moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", kms_testsupport::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", kms_testsupport::SECRET_KEY)
            .env("AWS_REGION", "eu-west-1");
    };

    // Key id, endpoint, region and credentials all from the environment.
    let mut c = kms();
    with_env(&mut c);
    let o = c.args(["check", "-c", &bare]).output().unwrap();
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "kms_key_id=alias/app [env AWSKMS_WRAPPER_KEY_ID]".to_owned(),
        format!("endpoint={} [env AWS_KMS_ENDPOINT]", moto.endpoint),
        "region=eu-west-1 [env AWS_REGION]".to_owned(),
        format!("resolved_key={eu}"),
        "credentials=static keys [env AWS_ACCESS_KEY_ID]".to_owned(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in {out}");
    }
    let mut c = kms();
    with_env(&mut c);
    let o = c
        .args(["encrypt", "-c", &bare, "-o", &e.p("eu.kms"), &inp])
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert_eq!(inspect_key_ids(&e.p("eu.kms")), vec![eu.clone()]);

    // The stanza's region wins over AWS_REGION: the us-east-1 alias is used.
    let regional = e.write(
        "regional.hcl",
        "kms \"awskms\" {\n  purpose = \"root\"\n  region = \"us-east-1\"\n}\n",
    );
    let mut c = kms();
    with_env(&mut c);
    let o = c
        .args(["encrypt", "-c", &regional, "-o", &e.p("us.kms"), &inp])
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert_eq!(inspect_key_ids(&e.p("us.kms")), vec![us.clone()]);

    // Credentials from a shared credentials file, profile chosen by AWS_PROFILE.
    let creds = e.write(
        "credentials",
        format!(
            "[default]\naws_access_key_id = AKIADEFAULT\n\n[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            kms_testsupport::ACCESS_KEY,
            kms_testsupport::SECRET_KEY
        ),
    );
    let profile_run = |profile: &str, args: &[&str]| {
        kms()
            .env("AWSKMS_WRAPPER_KEY_ID", "alias/app")
            .env("AWS_KMS_ENDPOINT", &moto.endpoint)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .env("AWS_PROFILE", profile)
            .args(args)
            .output()
            .unwrap()
    };
    let o = profile_run("ops", &["check", "-c", &bare]);
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("credentials=profile ops"), "{out}");
    let o = profile_run("ops", &["decrypt", "-c", &bare, &e.p("eu.kms")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"env test");
    // The default profile there has no secret: without usable credentials, a clear failure.
    let o = profile_run("default", &["decrypt", "-c", &bare, &e.p("eu.kms")]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).to_lowercase().contains("credential"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains(kms_testsupport::SECRET_KEY));
}

fn peer(args: &[&str], input: &[u8]) -> Output {
    let peer = interop_peer();
    assert!(
        peer.exists(),
        "the interop peer is missing at {}",
        peer.display()
    );
    let mut child = Command::new("python3")
        .arg(&peer)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", kms_testsupport::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", kms_testsupport::SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn interop_with_the_independent_python_peer_awskms() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let rt = rt();
    let key = rt.block_on(moto.create_key());
    rt.block_on(moto.set_alias("alias/cfg", &key));
    let e = Env::new();
    let cfg = e.write(
        "aws.hcl",
        awskms_stanza("config", "alias/cfg", &moto.endpoint),
    );
    let ep = moto.endpoint.as_str();

    // Peer -> us, without and with AAD.
    for aad in [None, Some("bound-to-this")] {
        let mut args = vec![
            "awskms-encrypt",
            "--endpoint",
            ep,
            "--key-id",
            "alias/cfg",
            "--region",
            "us-east-1",
            "--b64",
        ];
        if let Some(a) = aad {
            args.extend(["--aad", a]);
        }
        let out = peer(&args, b"from python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let f = e.write("peer.b64", String::from_utf8(out.stdout).unwrap().trim());
        let mut ours = vec!["decrypt", "-c", &cfg, "--purpose", "config"];
        if let Some(a) = aad {
            ours.extend(["--aad", a]);
        }
        ours.push(&f);
        let o = run(&ours);
        assert_code(&o, 0);
        assert_eq!(o.stdout, b"from python");
        if aad.is_some() {
            // The AAD is bound: without it the value does not open.
            assert_code(&run(&["decrypt", "-c", &cfg, "--purpose", "config", &f]), 1);
        }
        // The value records the key ARN that KMS returned.
        let dump = peer(&["dump", "--b64"], fs::read(&f).unwrap().as_slice());
        assert!(String::from_utf8_lossy(&dump.stdout).contains(&key));
    }

    // Us -> peer: `kms config encrypt --strip` gives an envelope (mechanism 1) BlobInfo.
    let file = e.write("v.txt", "{{encrypt(from rust)}}");
    let o = run(&["config", "encrypt", "-c", &cfg, "--strip", &file]);
    assert_code(&o, 0);
    let ours = String::from_utf8(o.stdout).unwrap();
    let out = peer(
        &[
            "awskms-decrypt",
            "--endpoint",
            ep,
            "--region",
            "us-east-1",
            "--b64",
        ],
        ours.trim().as_bytes(),
    );
    assert!(
        out.status.success(),
        "peer failed to open our value: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"from rust");
    let dump = peer(&["dump", "--b64"], ours.trim().as_bytes());
    let dump: serde_json::Value = serde_json::from_slice(&dump.stdout).unwrap();
    assert_eq!(dump["mechanism"], 1, "{dump}");
}

#[test]
fn multi_key_files_open_with_either_key_while_the_other_endpoint_is_down() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let east = kms_testsupport::Proxy::start(&moto.endpoint);
    let west = kms_testsupport::Proxy::start(&moto.endpoint);
    let rt = rt();
    let root_key = rt.block_on(moto.create_key());
    // The recovery key lives in another region (disaster recovery).
    let dr_key = rt.block_on(async {
        let c = kms_testsupport::client_in(&moto.endpoint, "eu-west-1").await;
        let k = c.create_key().send().await.unwrap();
        k.key_metadata().unwrap().arn().unwrap().to_owned()
    });
    let dr_stanza =
        awskms_stanza("recovery", &dr_key, &west.endpoint).replace("us-east-1", "eu-west-1");
    let e = Env::new();
    let both = e.write(
        "both.hcl",
        awskms_stanza("root", &root_key, &east.endpoint) + &dr_stanza,
    );
    let dr_only = e.write("dr.hcl", dr_stanza.clone());
    let pt = data(70_000);
    let inp = e.write("plain.bin", &pt);
    let file = e.p("multi.kms");
    let o = run(&[
        "encrypt", "-c", &both, "--also", "recovery", "-o", &file, &inp,
    ]);
    assert_code(&o, 0);
    assert_eq!(
        inspect_key_ids(&file),
        vec![root_key.clone(), dr_key.clone()]
    );
    let decrypts = |cfg: &str| {
        let o = run(&["decrypt", "-c", cfg, &file]);
        (o.status.code(), o.stdout == pt, stderr(&o))
    };
    assert_eq!(decrypts(&both).0, Some(0));
    // Either endpoint down: the other key opens the file.
    east.set_fault(kms_testsupport::Fault::Refuse);
    let (code, same, err) = decrypts(&both);
    assert_eq!((code, same), (Some(0), true), "{err}");
    east.set_fault(kms_testsupport::Fault::None);
    west.set_fault(kms_testsupport::Fault::Refuse);
    east.reset_counts();
    let (code, same, err) = decrypts(&both);
    assert_eq!((code, same), (Some(0), true), "{err}");
    assert_eq!(east.count("Decrypt"), 1, "the root key is tried first");
    // Both down: exit 1, naming an endpoint.
    east.set_fault(kms_testsupport::Fault::Refuse);
    let (code, _, err) = decrypts(&both);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");
    east.set_fault(kms_testsupport::Fault::None);
    west.set_fault(kms_testsupport::Fault::None);
    // The recovery key alone opens it.
    let (code, same, err) = decrypts(&dr_only);
    assert_eq!((code, same), (Some(0), true), "{err}");
    // Rewrap without --also drops the recovery entry; then recovery alone cannot open it.
    let o = run(&["rewrap", "-c", &both, &file]);
    assert_code(&o, 0);
    assert_eq!(inspect_key_ids(&file), vec![root_key.clone()]);
    assert_eq!(decrypts(&dr_only).0, Some(1));
    // And back: rewrap --also recovery adds it again.
    let o = run(&["rewrap", "-c", &both, "--also", "recovery", &file]);
    assert_code(&o, 0);
    assert_eq!(inspect_key_ids(&file), vec![root_key, dr_key]);
    let (code, same, err) = decrypts(&dr_only);
    assert_eq!((code, same), (Some(0), true), "{err}");
}

#[test]
fn migrate_aead_to_awskms_through_previous_root() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let rt = rt();
    let key = rt.block_on(moto.create_key());
    rt.block_on(moto.set_alias("alias/root", &key));
    let e = Env::new();
    let old_cfg = e.write("old.hcl", aead_config(&[("root", KEY_A, "old")]));
    let aws_root = awskms_stanza("root", "alias/root", &moto.endpoint);
    let both = e.write(
        "both.hcl",
        aws_root.clone() + &aead_config(&[("previous-root", KEY_A, "old")]),
    );
    let new_only = e.write("new.hcl", aws_root);

    // A previous-root key that cannot be reached does not stop encryption under root.
    let dead = format!("http://127.0.0.1:{}", kms_testsupport::free_port());
    let lazy = e.write(
        "lazy.hcl",
        aead_config(&[("root", KEY_B, "new")])
            + &awskms_stanza("previous-root", "alias/root", &dead),
    );
    let inp = e.write("small.txt", "hello");
    assert_code(
        &run(&["encrypt", "-c", &lazy, "-o", &e.p("lazy.kms"), &inp]),
        0,
    );

    fs::create_dir_all(e.path("tree/sub/deeper")).unwrap();
    let pt = data(300_000);
    let inp = e.write("plain.bin", &pt);
    let files = ["tree/a.kms", "tree/sub/b.kms", "tree/sub/deeper/c.kms"];
    for f in files {
        assert_code(&run(&["encrypt", "-c", &old_cfg, "-o", &e.p(f), &inp]), 0);
    }
    // A bare aead BlobInfo value (Boundary's layout), written by the independent peer.
    let out = peer(
        &["aead-encrypt", "--key", KEY_A, "--key-id", "old", "--b64"],
        b"a value",
    );
    assert!(out.status.success());
    e.write("tree/value.b64", out.stdout.trim_ascii());
    e.write("tree/readme.txt", "not encrypted");
    let good = fs::read(e.path("tree/a.kms")).unwrap();
    e.write("tree/sub/corrupt.kms", &good[..40]);

    let o = run(&["rewrap", "-c", &both, "-r", &e.p("tree")]);
    assert_code(&o, 1);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("old -> {key}")), "{out}");
    assert!(out.contains("readme.txt: not a kms file"), "{out}");
    assert!(stderr(&o).contains("corrupt.kms"), "{}", stderr(&o));
    assert_eq!(
        fs::read(e.path("tree/sub/corrupt.kms")).unwrap(),
        &good[..40]
    );
    for f in files {
        assert_eq!(inspect_key_ids(&e.p(f)), vec![key.clone()]);
        let o = run(&["decrypt", "-c", &new_only, &e.p(f)]);
        assert_code(&o, 0);
        assert_eq!(o.stdout, pt);
        assert_code(&run(&["decrypt", "-c", &old_cfg, &e.p(f)]), 1);
    }
    let o = run(&["decrypt", "-c", &new_only, &e.p("tree/value.b64")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"a value");
    assert_code(
        &run(&["decrypt", "-c", &old_cfg, &e.p("tree/value.b64")]),
        1,
    );

    // A second run changes no byte (the corrupt file still fails).
    let snapshot = |e: &Env| -> Vec<Vec<u8>> {
        [
            "tree/a.kms",
            "tree/sub/b.kms",
            "tree/sub/deeper/c.kms",
            "tree/value.b64",
            "tree/sub/corrupt.kms",
        ]
        .iter()
        .map(|f| fs::read(e.path(f)).unwrap())
        .collect()
    };
    let before = snapshot(&e);
    let o = run(&["rewrap", "-c", &both, "-r", &e.p("tree")]);
    assert_code(&o, 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 rewrapped"));
    assert_eq!(snapshot(&e), before);
}

/// Runs `kms decrypt -o OUT` on each tampered ciphertext, in parallel: every one must exit 1,
/// print one line, and leave no output file behind.
fn assert_all_rejected(e: &Env, cfg: &str, label: &str, cases: Vec<(String, Vec<u8>)>) {
    let dir = e.path(label);
    fs::create_dir_all(&dir).unwrap();
    let chunks: Vec<Vec<(String, Vec<u8>)>> = {
        let mut v: Vec<Vec<_>> = (0..4).map(|_| Vec::new()).collect();
        for (i, c) in cases.into_iter().enumerate() {
            v[i % 4].push(c);
        }
        v
    };
    std::thread::scope(|s| {
        for (t, chunk) in chunks.into_iter().enumerate() {
            let dir = dir.clone();
            s.spawn(move || {
                let input = dir.join(format!("in-{t}.kms"));
                let out = dir.join(format!("out-{t}.bin"));
                for (name, bytes) in chunk {
                    fs::write(&input, &bytes).unwrap();
                    let o = run(&[
                        "decrypt",
                        "-c",
                        cfg,
                        "-o",
                        out.to_str().unwrap(),
                        input.to_str().unwrap(),
                    ]);
                    assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
                    assert_one_line(&name, &stderr(&o));
                    assert!(!out.exists(), "{name}: output left behind");
                }
            });
        }
    });
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("in-"))
        .collect();
    assert!(left.is_empty(), "{label}: files left: {left:?}");
}

#[test]
fn tamper_matrix_through_the_binary() {
    let e = Env::new();
    let cfg = e.p("dev.hcl");
    let pt = data(150_000); // 3 segments, the last one partial
    let input = e.write("in.bin", &pt);
    assert_code(
        &run(&["encrypt", "-c", &cfg, "-o", &e.p("ct.kms"), &input]),
        0,
    );
    let ct = fs::read(e.path("ct.kms")).unwrap();
    // Segment boundaries come from `kms inspect --json`, not from parsing the format here.
    let o = run(&["inspect", "--json", &e.p("ct.kms")]);
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let header = v["header_bytes"].as_u64().unwrap() as usize;
    let seg = v["segment_bytes"].as_u64().unwrap() as usize;
    let segments = v["segments"].as_u64().unwrap() as usize;
    assert_eq!(segments, 3);
    let sanity = run(&["decrypt", "-c", &cfg, &e.p("ct.kms")]);
    assert_eq!(sanity.stdout, pt, "the untouched file decrypts");

    // Every bit of the header.
    let mut cases = Vec::new();
    for bit in 0..header * 8 {
        let mut b = ct.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        cases.push((format!("header bit {bit}"), b));
    }
    assert_all_rejected(&e, &cfg, "header-bits", cases);

    // One bit in every 1,000 of the body.
    let mut cases = Vec::new();
    for bit in (header * 8..ct.len() * 8).step_by(1000) {
        let mut b = ct.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        cases.push((format!("body bit {bit}"), b));
    }
    assert!(cases.len() > 1000);
    assert_all_rejected(&e, &cfg, "body-bits", cases);

    // Truncation at every segment boundary, inside the header, and at pseudo-random points;
    // appended data; a dropped and a swapped segment.
    let mut cases = Vec::new();
    for k in 0..segments {
        cases.push((
            format!("cut at boundary {k}"),
            ct[..header + k * seg].to_vec(),
        ));
    }
    for cut in [0, 1, 8, 9, header / 2, header - 1] {
        cases.push((format!("cut at {cut}"), ct[..cut].to_vec()));
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let cut = (x % ct.len() as u64) as usize;
        cases.push((format!("cut at {cut}"), ct[..cut].to_vec()));
    }
    for extra in [&b"\0"[..], &[0u8; 16][..], &ct[header..header + seg]] {
        let mut b = ct.clone();
        b.extend_from_slice(extra);
        cases.push((format!("{} bytes appended", extra.len()), b));
    }
    let mut dropped = ct[..header + seg].to_vec();
    dropped.extend_from_slice(&ct[header + 2 * seg..]);
    cases.push(("segment 1 dropped".into(), dropped));
    let mut swapped = ct[..header].to_vec();
    swapped.extend_from_slice(&ct[header + seg..header + 2 * seg]);
    swapped.extend_from_slice(&ct[header..header + seg]);
    swapped.extend_from_slice(&ct[header + 2 * seg..]);
    cases.push(("segments 0 and 1 swapped".into(), swapped));
    assert_all_rejected(&e, &cfg, "cuts", cases);
}

#[test]
fn config_encrypt_refuses_near_miss_markers() {
    let e = Env::new();
    let cfg = e.write(
        "cfg.hcl",
        aead_config(&[("config", KEY_A, "global_config")]),
    );
    let text = "a = \"{{encrypt(fine)}}\"\npassword = \"{{ encrypt(hunter2) }}\"\n";
    let file = e.write("app.hcl", text);
    let o = run(&["config", "encrypt", "-c", &cfg, "--overwrite", &file]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("app.hcl:2: "), "{}", stderr(&o));
    assert!(!stderr(&o).contains("hunter2"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        text,
        "the file is untouched"
    );
}

#[test]
fn a_configs_own_config_stanza_decrypts_its_values() {
    // As Boundary does without -config-kms: the file's config-purpose stanza decrypts the
    // {{decrypt(..)}} values of its other stanzas.
    let e = Env::new();
    let config_stanza = aead_config(&[("config", BOUNDARY_KEY, "global_config")]);
    let kms_cfg = e.write("kms.hcl", &config_stanza);
    let plain = format!(
        "{config_stanza}kms \"aead\" {{\n  purpose = \"root\"\n  key = \"{{{{encrypt({KEY_A})}}}}\"\n  key_id = \"r\"\n}}\n"
    );
    let main = e.write("main.hcl", plain);
    assert_code(
        &run(&["config", "encrypt", "-c", &kms_cfg, "--overwrite", &main]),
        0,
    );
    assert!(!fs::read_to_string(&main).unwrap().contains(KEY_A));
    let input = e.write("in.txt", b"same file");
    assert_code(
        &run(&["encrypt", "-c", &main, "-o", &e.p("x.kms"), &input]),
        0,
    );
    let plain_cfg = e.write("plain.hcl", aead_config(&[("root", KEY_A, "r")]));
    let o = run(&["decrypt", "-c", &plain_cfg, &e.p("x.kms")]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"same file");
    // Without a config stanza, encrypted values are a clear config error.
    let text = fs::read_to_string(&main).unwrap();
    let without = text.replacen("purpose = \"config\"", "purpose = \"recovery\"", 1);
    let bad = e.write("bad.hcl", without);
    let o = run(&["encrypt", "-c", &bad, "-o", &e.p("y.kms"), &input]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("config"), "{}", stderr(&o));
    assert!(!e.path("y.kms").exists());
}

/// Boundary reads only the config-purpose stanza before it decrypts (`GetWrapperFromHcl`):
/// another stanza may hold encrypted values in any setting, its purpose and type included,
/// and the file still loads.
#[test]
fn encrypted_values_anywhere_in_other_stanzas_load_as_in_boundary() {
    let e = Env::new();
    let config_stanza = aead_config(&[("config", BOUNDARY_KEY, "global_config")]);
    let kms_cfg = e.write("kms.hcl", &config_stanza);
    let plain = format!(
        "{config_stanza}kms \"aead\" {{\n  purpose = \"{{{{encrypt(root)}}}}\"\n  aead_type = \"{{{{encrypt(aes-gcm)}}}}\"\n  key = \"{{{{encrypt({KEY_A})}}}}\"\n  key_id = \"r\"\n}}\n"
    );
    let main = e.write("main.hcl", plain);
    assert_code(
        &run(&["config", "encrypt", "-c", &kms_cfg, "--overwrite", &main]),
        0,
    );
    let text = fs::read_to_string(&main).unwrap();
    assert!(
        !text.contains("{{encrypt(") && !text.contains(KEY_A),
        "{text}"
    );
    let o = run(&["check", "--offline", "-c", &main]);
    assert_code(&o, 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("root") && out.contains("key_id=r"), "{out}");
}

/// Every visible subcommand, as `kms --help` lists them.
const SUBCOMMANDS: &[&str] = &[
    "keygen",
    "encrypt",
    "decrypt",
    "inspect",
    "check",
    "rewrap",
    "clean",
    "config",
    "completions",
];

#[test]
fn version_names_the_backends_and_the_aes_gcm_provider() {
    let o = run(&["--version"]);
    assert_code(&o, 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("kms 0."), "{out}");
    assert!(out.contains("backends: aead, awskms"), "{out}");
    assert!(out.contains("AES-GCM: aws-lc-rs"), "{out}");
}

#[test]
fn completions_name_every_subcommand() {
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert_code(&o, 0);
        let script = String::from_utf8(o.stdout).unwrap();
        for sub in SUBCOMMANDS {
            assert!(help.contains(sub), "--help lists {sub}");
            assert!(script.contains(sub), "{shell} completions name {sub}");
        }
    }
    let o = run(&["completions", "tcsh"]);
    assert_code(&o, 2);
}

#[test]
fn man_pages_for_kms_and_every_subcommand() {
    let e = Env::new();
    let dir = e.path("man");
    assert_code(&run(&["man", &e.p("man")]), 0);
    let page = |name: &str| fs::read_to_string(dir.join(format!("{name}.1"))).unwrap();
    let top = page("kms");
    assert!(
        top.starts_with(".ie"),
        "a roff page: {}",
        &top[..40.min(top.len())]
    );
    for sub in SUBCOMMANDS {
        assert!(top.contains(sub), "kms.1 names {sub}");
        assert!(page(&format!("kms-{sub}")).contains(sub), "kms-{sub}.1");
    }
    for sub in ["encrypt", "decrypt"] {
        assert!(page(&format!("kms-config-{sub}")).contains(sub));
    }
    assert!(!dir.join("kms-help.1").exists(), "no page for clap's help");
}
