//! `kms rewrap` with transit, through the whole binary against a real OpenBao 2.7.2:
//! - after `keys/NAME/rotate`, `rewrap -r` moves a tree of stream files and values to the new
//!   version with zero decrypt calls and one `transit/rewrap` per wrapped key, counted in
//!   OpenBao's file audit log; a second run finds everything current and calls no rewrap;
//! - migrations with `previous-root`: aead → transit, transit → awskms (moto);
//! - `--also` a transit recovery key next to an awskms root key.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/bao.rs"]
mod bao;
mod support;

use std::path::Path;

use bao::{count, transit_stanza};
use kms::BlobInfo;
use kms_testsupport::openbao::OpenBao;
use support::{aead_config, assert_code_for, inspect_keys, run, run_args_ok, Scratch, KEY_A};

fn data(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| ((i + seed) * 7 % 251) as u8).collect()
}

/// The tree the tests rewrap: stream files (empty, one byte, several segments) and values
/// (base64url text and binary), at three depths. Each entry is (relative path, plaintext,
/// is a value).
fn tree_spec() -> Vec<(&'static str, Vec<u8>, bool)> {
    vec![
        ("tree/empty.kms", data(0, 1), false),
        ("tree/one.kms", data(1, 2), false),
        ("tree/sub/big.kms", data(3 * 65536 + 11, 3), false),
        ("tree/sub/token.txt", data(40, 4), true),
        ("tree/sub/deeper/blob.bin", data(300, 5), true),
    ]
}

/// Encrypts [`tree_spec`] under `cfg`'s root key into `s`.
fn encrypt_tree(s: &Scratch, cfg: &str) {
    std::fs::create_dir_all(s.path("tree/sub/deeper")).unwrap();
    for (name, pt, value) in tree_spec() {
        let input = s.write("plain.in", &pt);
        let out = s.p(name);
        let mut args = vec!["encrypt", "-c", cfg, "-q", "-o", &out];
        if value {
            args.push("--value");
            if name.ends_with(".bin") {
                args.push("--binary");
            }
        }
        args.push(&input);
        run_args_ok(&args);
    }
}

/// Every file of the tree decrypts with `cfg` to its plaintext.
fn assert_tree_decrypts(s: &Scratch, cfg: &str) {
    for (name, pt, _) in tree_spec() {
        let got = run_args_ok(&["decrypt", "-c", cfg, &s.p(name)]);
        assert!(got == pt, "{name}: decrypts to other bytes");
    }
}

/// Every file of the tree records one wrapped key, `kind` with key id `id` (for a value, a
/// BlobInfo that names no backend, the kind `kms inspect` infers); a transit value holds the
/// Transit string `vault:vN:...` itself, as the genuine wrapper writes it.
fn assert_tree_keys(s: &Scratch, kind: &str, id: &str) {
    for (name, _, value) in tree_spec() {
        let keys = inspect_keys(&s.p(name));
        assert_eq!(keys, [(kind.to_owned(), id.to_owned())], "{name}");
        if value {
            let raw = std::fs::read(s.path(name)).unwrap();
            let blob = BlobInfo::from_bytes(&raw)
                .or_else(|_| BlobInfo::from_text(std::str::from_utf8(&raw).unwrap().trim()))
                .unwrap();
            let transit = blob
                .ciphertext
                .starts_with(format!("vault:{id}:").as_bytes());
            assert_eq!(transit, kind == "transit", "{name}: a {kind} value");
        }
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A dev server whose audit device (declared in a `-config` file: 2.7 refuses enabling one
/// through the API) logs to a file, with a transit key `k`.
fn audited_dev(s: &Scratch) -> Option<(OpenBao, std::path::PathBuf)> {
    let log = s.path("audit.log");
    let dev = OpenBao::builder()
        .config(&format!(
            "audit \"file\" \"kms-test\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n",
            log.display()
        ))
        .key("k")
        .start()?;
    Some((dev, log))
}

fn log_len(log: &Path) -> usize {
    std::fs::metadata(log).map_or(0, |m| m.len() as usize)
}

#[test]
fn rotate_then_rewrap_a_tree_with_zero_decrypt_calls() {
    let s = Scratch::new();
    let Some((dev, log)) = audited_dev(&s) else {
        return;
    };
    let cfg = s.write(
        "kms.hcl",
        transit_stanza("root", &dev.address, dev.root_token(), "k"),
    );
    encrypt_tree(&s, &cfg);
    assert_tree_keys(&s, "transit", "v1");
    let files = tree_spec().len();

    assert_eq!(dev.rotate("k"), 2);
    let mark = log_len(&log);
    let o = run(&["rewrap", "-c", &cfg, "-q", "-r", &s.p("tree")]);
    assert_code_for("rewrap -r", &o, 0);
    assert!(
        stdout(&o).contains(&format!("rewrap: {files} rewrapped, 0 already current")),
        "{}",
        stdout(&o)
    );
    let calls = bao::audit_requests(&log, mark);
    assert_eq!(count(&calls, "transit/decrypt/"), 0, "{calls:?}");
    assert_eq!(count(&calls, "transit/rewrap/k"), files, "{calls:?}");
    assert_eq!(count(&calls, "transit/datakey/"), 0, "{calls:?}");
    assert_tree_keys(&s, "transit", "v2");
    assert_tree_decrypts(&s, &cfg);

    // Everything is current now: no rewrap call, no decrypt call.
    let mark = log_len(&log);
    let o = run(&["rewrap", "-c", &cfg, "-q", "-r", &s.p("tree")]);
    assert_code_for("second rewrap -r", &o, 0);
    assert!(
        stdout(&o).contains(&format!("rewrap: 0 rewrapped, {files} already current")),
        "{}",
        stdout(&o)
    );
    let calls = bao::audit_requests(&log, mark);
    assert_eq!(count(&calls, "transit/rewrap/"), 0, "{calls:?}");
    assert_eq!(count(&calls, "transit/decrypt/"), 0, "{calls:?}");
}

#[test]
fn migrate_aead_to_transit_through_previous_root() {
    let s = Scratch::new();
    let Some(dev) = OpenBao::builder().key("k").start() else {
        return;
    };
    let transit = transit_stanza("root", &dev.address, dev.root_token(), "k");
    let old = s.write("old.hcl", aead_config(&[("root", KEY_A, "aead-1")]));
    let both = s.write(
        "both.hcl",
        aead_config(&[("previous-root", KEY_A, "aead-1")]) + &transit,
    );
    let new = s.write("new.hcl", &transit);
    encrypt_tree(&s, &old);
    assert_tree_keys(&s, "aead", "aead-1");

    let o = run(&["rewrap", "-c", &both, "-q", "-r", &s.p("tree")]);
    assert_code_for("rewrap -r", &o, 0);
    let summary = format!("rewrap: {} rewrapped, 0 already current", tree_spec().len());
    assert!(stdout(&o).contains(&summary), "{}", stdout(&o));
    assert_tree_keys(&s, "transit", "v1");
    // The aead key is gone from the config; the transit key alone opens everything, and the
    // aead key alone opens nothing.
    assert_tree_decrypts(&s, &new);
    for (name, _, _) in tree_spec() {
        let o = run(&["decrypt", "-c", &old, &s.p(name)]);
        assert_code_for(name, &o, 1);
    }
    let o = run(&["rewrap", "-c", &both, "-q", "-r", &s.p("tree")]);
    assert_code_for("second rewrap -r", &o, 0);
    let summary = format!("rewrap: 0 rewrapped, {} already current", tree_spec().len());
    assert!(stdout(&o).contains(&summary), "{}", stdout(&o));
}

fn awskms_stanza(purpose: &str, key: &str, endpoint: &str) -> String {
    format!(
        "kms \"awskms\" {{\n  purpose = \"{purpose}\"\n  region = \"us-east-1\"\n  kms_key_id = \"{key}\"\n  \
         endpoint = \"{endpoint}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n}}\n",
        kms_testsupport::ACCESS_KEY,
        kms_testsupport::SECRET_KEY
    )
}

#[test]
fn migrate_transit_to_awskms_through_previous_root() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let s = Scratch::new();
    let moto = kms_testsupport::Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = rt.block_on(moto.create_key());
    let Some(dev) = OpenBao::builder().key("k").start() else {
        return;
    };
    let aws = awskms_stanza("root", &key, &moto.endpoint);
    let old = s.write(
        "old.hcl",
        transit_stanza("root", &dev.address, dev.root_token(), "k"),
    );
    let both = s.write(
        "both.hcl",
        transit_stanza("previous-root", &dev.address, dev.root_token(), "k") + &aws,
    );
    let new = s.write("new.hcl", &aws);
    encrypt_tree(&s, &old);
    assert_tree_keys(&s, "transit", "v1");

    let o = run(&["rewrap", "-c", &both, "-q", "-r", &s.p("tree")]);
    assert_code_for("rewrap -r", &o, 0);
    assert_tree_keys(&s, "awskms", &key);
    // With OpenBao gone, the awskms key alone opens everything.
    drop(dev);
    assert_tree_decrypts(&s, &new);
}

#[test]
fn also_a_transit_recovery_key_opens_files_without_the_awskms_root() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let s = Scratch::new();
    let moto = kms_testsupport::Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = rt.block_on(moto.create_key());
    let Some(dev) = OpenBao::builder().key("dr").start() else {
        return;
    };
    let recovery = transit_stanza("recovery", &dev.address, dev.root_token(), "dr");
    let both = s.write(
        "both.hcl",
        awskms_stanza("root", &key, &moto.endpoint) + &recovery,
    );
    let transit_only = s.write("dr.hcl", &recovery);
    let pt = data(100_000, 9);
    let input = s.write("in.bin", &pt);
    let enc = s.p("in.kms");
    run_args_ok(&[
        "encrypt", "-c", &both, "--also", "recovery", "-q", "-o", &enc, &input,
    ]);
    let keys = inspect_keys(&enc);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.contains(&("awskms".to_owned(), key.clone())),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("transit".to_owned(), "v1".to_owned())),
        "{keys:?}"
    );
    // With moto gone, the transit key alone opens the file.
    drop(moto);
    let o = run(&["decrypt", "-c", &transit_only, &enc]);
    assert_code_for("decrypt with the transit recovery key", &o, 0);
    assert!(o.stdout == pt, "decrypts to other bytes");
    // Without it, an unrelated key does not open the file.
    let unrelated = s.write("none.hcl", aead_config(&[("root", KEY_A, "x")]));
    let o = run(&["decrypt", "-c", &unrelated, &enc]);
    assert_code_for("decrypt with an unrelated key", &o, 1);
}
