//! Outputs behave like cp (issue 11, section 2), through the whole `kms` binary with the aead
//! backend: devices and FIFOs are written into, sockets and directories refused, symbolic
//! links written through, and terminals get no binary plaintext and no silent wait.
//!
//! Device nodes are made with mknod in a scratch directory (never the real /dev): those
//! cases need root, which CI has; elsewhere they print a note and skip. Terminals are
//! python3's pty module.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::Command;

use support::{
    aead_config, assert_code, assert_code_for, assert_one_line, output, random, root_or_skip, run,
    run_stdin, stderr, Scratch, KEY_B,
};

fn mknod(path: &Path, major: u32, minor: u32) {
    let st = Command::new("mknod")
        .arg(path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "mknod {}", path.display());
}

use support::{aead_scratch as setup, run_args_ok as ok, temp_files as temps};

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
    s.write("data.kms", &ct);
    let back = run_stdin(&["decrypt", "-c", &cfg], &ct);
    assert_code(&back, 0);
    assert_eq!(back.stdout, data);

    // A link to this process's stdout, as /dev/stdout is (kept out of the real /dev): a
    // pipe, written into.
    std::os::unix::fs::symlink("/proc/self/fd/1", s.path("stdout")).unwrap();
    let o = run(&[
        "decrypt",
        "-c",
        &cfg,
        &s.p("data.kms"),
        "-o",
        &s.p("stdout"),
    ]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, data);
    assert!(fs::symlink_metadata(s.path("stdout"))
        .unwrap()
        .file_type()
        .is_symlink());

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
