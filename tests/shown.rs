//! What is shown is safe and exact, and errors say what happened (issue 11, section 5),
//! through the whole `kms` binary: escaped key ids, exact JSON, single BlobInfo values,
//! `inspect` of a pipe, a closed pipe, truncation, I/O causes, long names, AWS network
//! errors and endpoint passwords.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::io::Read;
use std::process::{Command, Stdio};

use support::{
    aead_config, assert_code, assert_code_for, assert_one_line, kms, output, random, root_or_skip,
    run, run_stdin, stderr, Scratch, KEY_A, KEY_B,
};

use support::{aead_scratch as setup, run_args_ok as ok, temp_files as temps};

#[test]
fn inspect_of_a_pipe_reports_the_body_it_saw() {
    let (s, cfg) = setup();
    let plain = s.write("plain", random(200_000));
    let ct = s.p("plain.kms");
    ok(&["encrypt", "-c", &cfg, &plain, "-o", &ct]);
    let bytes = s.read("plain.kms");
    let from_file: serde_json::Value =
        serde_json::from_slice(&ok(&["inspect", "--json", &ct])).unwrap();
    let o = run_stdin(&["inspect", "--json", "/dev/stdin"], &bytes);
    assert_code(&o, 0);
    let from_pipe: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let header = from_file["header_bytes"].as_u64().unwrap();
    assert_eq!(
        from_pipe["body_bytes"].as_u64().unwrap(),
        bytes.len() as u64 - header
    );
    assert_eq!(from_pipe, from_file);
}

/// A key id with a new line, a forged line and an escape sequence, as HCL writes them.
const EVIL_ID_HCL: &str = r"evil\nkms: forged line\u001b[2J";
const EVIL_ID: &str = "evil\nkms: forged line\u{1b}[2J";

#[test]
fn unauthenticated_key_ids_are_escaped_for_people_and_exact_in_json() {
    let (s, _) = setup();
    let evil = s.write("evil.hcl", aead_config(&[("root", KEY_A, EVIL_ID_HCL)]));
    let other = s.write("other.hcl", aead_config(&[("root", KEY_B, "k2")]));
    let plain = s.write("plain", b"x");
    let ct = s.p("plain.kms");
    ok(&["encrypt", "-c", &evil, &plain, "-o", &ct]);
    let value = s.p("plain.value");
    ok(&["encrypt", "--value", "-c", &evil, &plain, "-o", &value]);
    for f in [&ct, &value] {
        let text = String::from_utf8(ok(&["inspect", f])).unwrap();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(
            !text.lines().any(|l| l.starts_with("kms: forged")),
            "{text}"
        );
        assert!(text.contains(r"evil\nkms: forged line\u{1b}[2J"), "{text}");
        let json: serde_json::Value =
            serde_json::from_slice(&ok(&["inspect", "--json", f])).unwrap();
        assert_eq!(json["wrapped_keys"][0]["key_id"], EVIL_ID);
    }
    // An error that names the recorded id: one line, nothing raw.
    let o = run(&["decrypt", "-c", &other, &ct]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert_one_line("no matching wrapper", &err);
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn an_empty_key_id_prints_as_empty() {
    let (s, _) = setup();
    let cfg = s.write("empty.hcl", aead_config(&[("root", KEY_A, "")]));
    let plain = s.write("plain", b"x");
    let ct = s.p("plain.kms");
    ok(&["encrypt", "-c", &cfg, &plain, "-o", &ct]);
    let value = s.p("plain.value");
    ok(&["encrypt", "--value", "-c", &cfg, &plain, "-o", &value]);
    for f in [&ct, &value] {
        let text = String::from_utf8(ok(&["inspect", f])).unwrap();
        assert!(text.contains("aead (empty)"), "{text}");
        let json: serde_json::Value =
            serde_json::from_slice(&ok(&["inspect", "--json", f])).unwrap();
        assert_eq!(json["wrapped_keys"][0]["key_id"], "");
    }
}

#[test]
fn a_blob_info_must_be_a_single_value() {
    let (s, cfg) = setup();
    let a = s.write("a", b"first value");
    let b = s.write("b", b"second value");
    ok(&[
        "encrypt",
        "--value",
        "--binary",
        "-c",
        &cfg,
        &a,
        "-o",
        &s.p("a.blob"),
    ]);
    ok(&[
        "encrypt",
        "--value",
        "--binary",
        "-c",
        &cfg,
        &b,
        "-o",
        &s.p("b.blob"),
    ]);
    assert_eq!(
        ok(&["decrypt", "-c", &cfg, &s.p("b.blob")]),
        b"second value"
    );
    let both = [s.read("a.blob"), s.read("b.blob")].concat();
    let cat = s.write("cat.blob", both);
    ok(&["encrypt", "--value", "-c", &cfg, &a, "-o", &s.p("a.txt")]);
    ok(&["encrypt", "--value", "-c", &cfg, &b, "-o", &s.p("b.txt")]);
    let cat_text = s.write("cat.txt", [s.read("a.txt"), s.read("b.txt")].concat());
    for args in [
        vec!["decrypt", "-c", cfg.as_str(), cat.as_str()],
        vec!["inspect", cat.as_str()],
        vec!["decrypt", "-c", cfg.as_str(), cat_text.as_str()],
    ] {
        let o = run(&args);
        assert_code_for(&args.join(" "), &o, 1);
        assert!(o.stdout.is_empty() || args[0] == "inspect");
        let err = stderr(&o);
        assert!(err.contains("not a single value"), "{args:?}: {err}");
        assert_one_line("single value", &err);
    }
}

#[test]
fn a_closed_pipe_ends_decrypt_quietly() {
    let (s, cfg) = setup();
    let plain = s.write("plain", random(4 << 20));
    let ct = s.p("plain.kms");
    ok(&["encrypt", "-c", &cfg, &plain, "-o", &ct]);
    let mut child = kms()
        .args(["decrypt", "-c", &cfg, &ct])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is dropped: the next write gets EPIPE.
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = support::wait_bounded(&mut child, "decrypt | head");
    assert_eq!(err, "", "quiet on a closed pipe");
    assert_eq!(status.code(), Some(141), "as a shell reports SIGPIPE");
}

#[test]
fn a_truncated_stream_says_truncated() {
    let (s, cfg) = setup();
    let plain = s.write("plain", random(300_000));
    let ct = s.p("plain.kms");
    ok(&["encrypt", "-c", &cfg, &plain, "-o", &ct]);
    let bytes = s.read("plain.kms");
    let json: serde_json::Value = serde_json::from_slice(&ok(&["inspect", "--json", &ct])).unwrap();
    let header = json["header_bytes"].as_u64().unwrap() as usize;
    // At a segment boundary, inside a segment, and one byte short.
    let seg = json["segment_bytes"].as_u64().unwrap() as usize;
    for cut in [header + seg, header + seg + 100, bytes.len() - 1] {
        let f = s.write("cut.kms", &bytes[..cut]);
        for out in [None, Some(s.p("cut.out"))] {
            let mut args = vec!["decrypt", "-c", &cfg, &f];
            if let Some(o) = &out {
                args.extend(["-o", o]);
            }
            let o = run(&args);
            assert_code_for(&format!("cut at {cut}"), &o, 1);
            let err = stderr(&o);
            assert!(err.contains("truncated"), "cut at {cut}: {err}");
            assert!(!err.contains("wrong key"), "cut at {cut}: {err}");
        }
        assert!(!s.exists("cut.out"));
    }
}

#[test]
fn a_missing_input_and_a_directory_input_get_the_same_code() {
    let (s, cfg) = setup();
    fs::create_dir(s.path("dir")).unwrap();
    for cmd in [
        vec!["encrypt", "-c", cfg.as_str()],
        vec!["decrypt", "-c", cfg.as_str()],
        vec!["inspect"],
    ] {
        let mut missing = cmd.clone();
        let absent = s.p("absent");
        missing.push(&absent);
        let mut dir = cmd.clone();
        let d = s.p("dir");
        dir.push(&d);
        let (m, d) = (run(&missing), run(&dir));
        assert_eq!(m.status.code(), d.status.code(), "{cmd:?}");
        assert_code(&m, 2);
        assert_one_line("missing", &stderr(&m));
        assert_one_line("directory", &stderr(&d));
    }
}

#[test]
fn names_up_to_255_bytes_can_be_encrypted_decrypted_and_rewrapped() {
    let s = Scratch::new();
    let old = s.write("old.hcl", aead_config(&[("root", KEY_A, "k1")]));
    let new = s.write(
        "new.hcl",
        aead_config(&[("root", KEY_B, "k2"), ("previous-root", KEY_A, "k1")]),
    );
    let plain = s.write("plain", b"long names");
    let long_ct = format!("{}.kms", "c".repeat(251));
    let long_pt = "é".repeat(127) + "x";
    assert_eq!(long_ct.len(), 255);
    assert_eq!(long_pt.len(), 255);
    ok(&["encrypt", "-c", &old, &plain, "-o", &s.p(&long_ct)]);
    ok(&["rewrap", "-c", &new, &s.p(&long_ct)]);
    ok(&["decrypt", "-c", &new, &s.p(&long_ct), "-o", &s.p(&long_pt)]);
    assert_eq!(s.read(&long_pt), b"long names");
    assert!(temps(&s).is_empty());
}

#[test]
fn a_config_that_protects_its_own_values_works_for_config_values() {
    let s = Scratch::new();
    let bare = s.write("bare.hcl", aead_config(&[("config", KEY_A, "c1")]));
    // The root stanza's key, protected by the config stanza of the same file.
    let full = s.write(
        "full.hcl",
        aead_config(&[
            ("config", KEY_A, "c1"),
            ("root", &format!("{{{{encrypt({KEY_B})}}}}"), "r1"),
        ]),
    );
    ok(&["config", "encrypt", "-c", &bare, "--overwrite", &full]);
    assert!(!String::from_utf8(s.read("full.hcl"))
        .unwrap()
        .contains(KEY_B));
    ok(&["check", "--offline", "-c", &full]);
    let app = s.write("app.hcl", "db {\n  password = \"{{encrypt(s3cret)}}\"\n}\n");
    ok(&[
        "config",
        "encrypt",
        "-c",
        &full,
        &app,
        "-o",
        &s.p("app.enc.hcl"),
    ]);
    let back = ok(&[
        "config",
        "decrypt",
        "-c",
        &full,
        &s.p("app.enc.hcl"),
        "--strip",
    ]);
    assert!(String::from_utf8(back)
        .unwrap()
        .contains("password = \"s3cret\""));
}

#[test]
fn aws_network_errors_are_one_line_and_endpoint_passwords_never_shown() {
    let s = Scratch::new();
    let cfg = s.write(
        "aws.hcl",
        "kms \"awskms\" {\n  purpose = \"root\"\n  region = \"eu-west-3\"\n  kms_key_id = \"alias/x\"\n  endpoint = \"http://user:EndpointPassw0rd@127.0.0.1:9\"\n  access_key = \"AKIAEXAMPLE\"\n  secret_key = \"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\"\n}\n",
    );
    let plain = s.write("plain", b"x");
    let out = s.p("out");
    let offline = run(&["check", "--offline", "-c", &cfg]);
    assert_code(&offline, 0);
    let shown = String::from_utf8_lossy(&offline.stdout).into_owned();
    assert!(
        shown.contains("endpoint=http://REDACTED@127.0.0.1:9"),
        "{shown}"
    );
    for args in [
        vec!["check", "-c", cfg.as_str()],
        vec![
            "encrypt",
            "-c",
            cfg.as_str(),
            plain.as_str(),
            "-o",
            out.as_str(),
        ],
    ] {
        let o = run(&args);
        assert_code_for(&args.join(" "), &o, 1);
        let err = stderr(&o);
        assert_one_line("network error", &err);
        for want in [
            "kms \"awskms\" block at line 1",
            "eu-west-3",
            "127.0.0.1:9",
            "Connection refused",
        ] {
            assert!(err.contains(want), "{want}: {err}");
        }
        for debug in ["DispatchFailure(", "ConnectorError", "{ ", "Some("] {
            assert!(!err.contains(debug), "Debug dump {debug}: {err}");
        }
        assert!(!err.contains("EndpointPassw0rd"), "{err}");
        // Nor in any log line, at the most verbose level.
        let mut c = kms();
        c.args(&args).env("RUST_LOG", "trace");
        let o = output(c);
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert!(!all.contains("EndpointPassw0rd"), "logged");
    }
}

#[test]
fn permission_denied_is_named() {
    if !root_or_skip("permission_denied_is_named (runs kms as nobody)") {
        return;
    }
    let (s, cfg) = setup();
    let mut perms = fs::metadata(s.dir.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(s.dir.path(), perms.clone()).unwrap();
    fs::set_permissions(&cfg, perms.clone()).unwrap();
    let readable = s.write("readable", b"x");
    fs::set_permissions(&readable, perms).unwrap();
    let secret = s.write("secret", b"x");
    let mut private = fs::metadata(&secret).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut private, 0o600);
    fs::set_permissions(&secret, private).unwrap();
    let never = s.p("never");
    let as_nobody = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(support::kms_bin())
            .args(args);
        output(c)
    };
    // Unreadable input; an output directory where nobody may create the temp file.
    for args in [
        vec!["encrypt", "-c", cfg.as_str(), secret.as_str(), "-o", &never],
        vec![
            "encrypt",
            "-c",
            cfg.as_str(),
            readable.as_str(),
            "-o",
            &s.p("out"),
        ],
    ] {
        let o = as_nobody(&args);
        assert_code_for(&args.join(" "), &o, 1);
        let err = stderr(&o);
        assert_one_line("EACCES", &err);
        assert!(err.contains("permission denied (EACCES)"), "{err}");
    }
    assert!(!s.exists("out") && !s.exists("never"));
}
