//! Outputs behave like cp, and what is shown is safe and exact (issue 11, sections 2 and 5),
//! through the whole `kms` binary with the aead backend.
//!
//! Device nodes are made with mknod in a scratch directory (never the real /dev): those
//! cases need root, which CI has; elsewhere they print a note and skip. Terminals are
//! python3's pty module.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::{Command, Stdio};

use support::{
    aead_config, assert_code, assert_code_for, assert_one_line, kms, output, run, run_stdin,
    stderr, Scratch, KEY_A, KEY_B,
};

fn is_root() -> bool {
    fs::metadata("/proc/self").unwrap().uid() == 0
}

fn root_or_skip(what: &str) -> bool {
    if is_root() {
        return true;
    }
    eprintln!("note: {what} needs root (mknod); skipped");
    false
}

fn mknod(path: &Path, major: u32, minor: u32) {
    let st = Command::new("mknod")
        .arg(path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "mknod {}", path.display());
}

fn setup() -> (Scratch, String) {
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", aead_config(&[("root", KEY_A, "k1")]));
    (s, cfg)
}

fn ok(args: &[&str]) -> Vec<u8> {
    let o = run(args);
    assert_code_for(&args.join(" "), &o, 0);
    o.stdout
}

fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut v)
        .unwrap();
    v
}

/// Files in the scratch directory whose name holds the temp marker.
fn temps(s: &Scratch) -> Vec<String> {
    s.files()
        .into_iter()
        .filter(|f| f.contains(".kms-tmp-"))
        .collect()
}

#[test]
fn devices_are_written_into_not_replaced() {
    if !root_or_skip("devices_are_written_into_not_replaced") {
        return;
    }
    let (s, cfg) = setup();
    let plain = s.write("plain", random(300_000));
    let ct = s.p("plain.kms");
    ok(&["encrypt", "-c", &cfg, &plain, "-o", &ct]);
    let null = s.path("null");
    mknod(&null, 1, 3);
    for args in [
        vec!["encrypt", "-c", &cfg, &plain, "-o"],
        vec!["decrypt", "-c", &cfg, &ct, "-o"],
    ] {
        let mut a = args.clone();
        a.push(null.to_str().unwrap());
        ok(&a);
        let m = fs::symlink_metadata(&null).unwrap();
        assert!(m.file_type().is_char_device(), "{args:?}: still a device");
        assert_eq!(m.rdev(), fs::metadata("/dev/null").unwrap().rdev());
    }
    // A full device: the cause is named, the device stays.
    let full = s.path("full");
    mknod(&full, 1, 7);
    let o = run(&["decrypt", "-c", &cfg, &ct, "-o", full.to_str().unwrap()]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert_one_line("ENOSPC", &err);
    assert!(err.contains("no space left on device (ENOSPC)"), "{err}");
    assert!(fs::symlink_metadata(&full)
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(temps(&s).is_empty(), "{:?}", temps(&s));
}

#[test]
fn fifos_are_written_into_and_sockets_refused() {
    let (s, cfg) = setup();
    let data = random(500_000);
    let plain = s.write("plain", &data);
    let fifo = s.path("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    ok(&["encrypt", "-c", &cfg, &plain, "-o", fifo.to_str().unwrap()]);
    // Checked before joining: a FIFO replaced by a file would leave the reader waiting.
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    let ct = reader.join().unwrap();
    let back = run_stdin(&["decrypt", "-c", &cfg], &ct);
    assert_code(&back, 0);
    assert_eq!(back.stdout, data);

    let sock = s.path("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let o = run(&["encrypt", "-c", &cfg, &plain, "-o", sock.to_str().unwrap()]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("is a socket"), "{}", stderr(&o));
    assert!(fs::symlink_metadata(&sock).unwrap().file_type().is_socket());
    assert!(temps(&s).is_empty());
}

#[test]
fn symlinks_are_written_through_and_kept() {
    let (s, cfg) = setup();
    let plain = s.write("plain", b"through the link\n");
    s.write("real.kms", b"old");
    std::os::unix::fs::symlink("real.kms", s.path("link.kms")).unwrap();
    ok(&["encrypt", "-c", &cfg, &plain, "-o", &s.p("link.kms")]);
    assert!(fs::symlink_metadata(s.path("link.kms"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        ok(&["decrypt", "-c", &cfg, &s.p("real.kms")]),
        b"through the link\n"
    );

    // config encrypt --overwrite through a link protects the real file.
    let conf = "listener \"tcp\" {\n  password = \"{{encrypt(hunter2)}}\"\n}\n";
    let ccfg = s.write("config-kms.hcl", aead_config(&[("config", KEY_B, "c1")]));
    s.write("real.hcl", conf);
    std::os::unix::fs::symlink("real.hcl", s.path("link.hcl")).unwrap();
    ok(&[
        "config",
        "encrypt",
        "-c",
        &ccfg,
        "--overwrite",
        &s.p("link.hcl"),
    ]);
    let real = String::from_utf8(s.read("real.hcl")).unwrap();
    assert!(!real.contains("hunter2"), "{real}");
    assert!(real.contains("{{decrypt("), "{real}");
    assert!(fs::symlink_metadata(s.path("link.hcl"))
        .unwrap()
        .file_type()
        .is_symlink());

    // A dangling link is not written through.
    std::os::unix::fs::symlink("nowhere/x", s.path("dangling")).unwrap();
    let o = run(&["encrypt", "-c", &cfg, &plain, "-o", &s.p("dangling")]);
    assert_code(&o, 2);
    assert!(temps(&s).is_empty());
}

/// An awskms stanza that cannot be reached: a command that contacts it before looking at
/// `-o` fails with exit 1 ("service unavailable"), not 2.
fn unreachable_aws(s: &Scratch) -> String {
    s.write(
        "aws.hcl",
        "kms \"awskms\" {\n  purpose = \"root\"\n  region = \"eu-west-3\"\n  kms_key_id = \"alias/x\"\n  endpoint = \"http://127.0.0.1:9\"\n  access_key = \"AKIAEXAMPLE\"\n  secret_key = \"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\"\n}\n",
    )
}

#[test]
fn output_directory_is_a_usage_error_before_any_work() {
    let (s, cfg) = setup();
    let aws = unreachable_aws(&s);
    let plain = s.write("plain", b"x");
    let ct = s.p("plain.kms");
    ok(&["encrypt", "-c", &cfg, &plain, "-o", &ct]);
    fs::create_dir(s.path("dir")).unwrap();
    let dir = s.p("dir");
    let ccfg = s.write("config-kms.hcl", aead_config(&[("config", KEY_B, "c1")]));
    let conf = s.write("app.hcl", "a = \"{{encrypt(v)}}\"\n");
    for args in [
        vec!["encrypt", "-c", &aws, &plain, "-o", &dir],
        vec!["decrypt", "-c", &aws, &ct, "-o", &dir],
        vec!["encrypt", "-c", &cfg, "nonexistent-input", "-o", &dir],
        vec!["config", "encrypt", "-c", &ccfg, &conf, "-o", &dir],
    ] {
        let o = run(&args);
        assert_code_for(&args.join(" "), &o, 2);
        let err = stderr(&o);
        assert!(err.contains("is a directory"), "{args:?}: {err}");
        assert_one_line("-o DIR", &err);
    }
    assert!(fs::read_dir(s.path("dir")).unwrap().next().is_none());
    assert!(temps(&s).is_empty());
}

/// Runs python3 with `script` and `args`; returns its stdout.
fn python(s: &Scratch, script: &str, args: &[&str]) -> String {
    let path = s.write("pty_helper.py", script);
    let mut c = Command::new("python3");
    c.arg(path).args(args);
    let o = output(c);
    assert!(o.status.success(), "python3: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Runs the command with stdout on a pty; prints the exit code, then what reached the
/// terminal (hex), then stderr.
const STDOUT_ON_PTY: &str = r#"
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=s, stderr=subprocess.PIPE)
os.close(s)
shown = b""
while True:
    try:
        d = os.read(m, 65536)
    except OSError:
        break
    if not d:
        break
    shown += d
err = p.stderr.read()
print(p.wait())
print(shown.hex())
sys.stdout.write(err.decode("utf-8", "replace"))
"#;

fn decrypt_to_terminal(s: &Scratch, cfg: &str, ct: &str) -> (i32, Vec<u8>, String) {
    let out = python(
        s,
        STDOUT_ON_PTY,
        &[support::kms_bin(), "decrypt", "-c", cfg, ct],
    );
    let mut lines = out.splitn(3, '\n');
    let code = lines.next().unwrap().trim().parse().unwrap();
    let hex = lines.next().unwrap().trim();
    let shown = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    (code, shown, lines.next().unwrap_or("").to_owned())
}

#[test]
fn decrypt_shows_only_text_on_a_terminal() {
    let (s, cfg) = setup();
    for (name, data, text) in [
        ("text", b"hello, terminal\n".to_vec(), true),
        ("binary", random(100_000), false),
        ("nul", b"abc\0def".to_vec(), false),
        ("escape", b"look \x1b]0;owned\x07 here\n".to_vec(), false),
    ] {
        let plain = s.write(name, &data);
        let ct = s.p(&format!("{name}.kms"));
        ok(&["encrypt", "-c", &cfg, &plain, "-o", &ct]);
        // Both formats: a stream and a go-kms-wrapping value.
        let value = s.p(&format!("{name}.value"));
        ok(&["encrypt", "--value", "-c", &cfg, &plain, "-o", &value]);
        for file in [&ct, &value] {
            let (code, shown, err) = decrypt_to_terminal(&s, &cfg, file);
            if text {
                assert_eq!(code, 0, "{name}: {err}");
                let shown = String::from_utf8_lossy(&shown).replace("\r\n", "\n");
                assert!(shown.contains("hello, terminal"), "{name}: {shown:?}");
            } else {
                assert_eq!(code, 2, "{name}: {err}");
                assert!(err.contains("binary plaintext"), "{name}: {err}");
                assert!(shown.is_empty(), "{name}: {} bytes shown", shown.len());
            }
        }
    }
}

/// Runs the command with stdin on a pty and stdout into a file: waits (bounded) for a line
/// on stderr, types "typed secret", ends with Ctrl-D; prints the exit code, then the line.
const STDIN_ON_PTY: &str = r#"
import os, pty, select, subprocess, sys
out = open(sys.argv[1], "wb")
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdin=s, stdout=out, stderr=subprocess.PIPE)
os.close(s)
r, _, _ = select.select([p.stderr], [], [], 60)
line = p.stderr.readline().decode() if r else "(nothing on stderr)\n"
os.write(m, b"typed secret\n")
os.write(m, b"\x04")
p.wait(60)
print(p.returncode)
sys.stdout.write(line)
"#;

#[test]
fn a_terminal_on_stdin_gets_a_hint() {
    let (s, cfg) = setup();
    let ct = s.p("typed.kms");
    let out = python(
        &s,
        STDIN_ON_PTY,
        &[&ct, support::kms_bin(), "encrypt", "-c", &cfg],
    );
    let (code, line) = out.split_once('\n').unwrap();
    assert_eq!(code.trim(), "0", "{out}");
    assert!(
        line.contains("reading the input from the terminal"),
        "{out}"
    );
    assert!(line.contains("Ctrl-D"), "{out}");
    assert_eq!(ok(&["decrypt", "-c", &cfg, &ct]), b"typed secret\n");
}

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
