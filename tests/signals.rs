//! Signals (issue 11, section 3), through the whole `kms` binary with the aead backend:
//! SIGINT, SIGTERM, SIGHUP (and SIGQUIT) mid-operation remove the temp file and exit 130,
//! 143, 129 (131);
//! `kms clean` removes what SIGKILL leaves; no core dump.
//!
//! A signal counts only when it landed mid-operation: the temp file existed when it was
//! sent, and the process did not finish (it exited with the signal's code). Input through a
//! pipe that stays open proves that for encrypt and decrypt; rewrap of a large file is
//! retried until a signal lands while its temp file exists.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{aead_config, kms, random, run, wait_bounded, Scratch, HANG, KEY_A, KEY_B};

const SIGNALS: [(&str, i32); 3] = [("INT", 130), ("TERM", 143), ("HUP", 129)];

fn send(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "kill -s {sig}");
}

/// Temp files (`.NAME.kms-tmp-XXXXXX`) in `dir`.
fn temps(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".kms-tmp-"))
        .collect()
}

/// Waits (bounded) until a temp file appears in `dir`.
fn wait_for_temp(dir: &Path, child: &mut Child) {
    let start = Instant::now();
    while temps(dir).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "kms ended before its temp file appeared"
        );
        assert!(start.elapsed() < HANG, "no temp file appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn ok(args: &[&str]) {
    let o = run(args);
    support::assert_code_for(&args.join(" "), &o, 0);
}

/// encrypt and decrypt from a pipe that stays open: the signal lands while the temp file
/// exists and before the input ended.
#[test]
fn signals_during_encrypt_and_decrypt_remove_the_temp_file() {
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", aead_config(&[("root", KEY_A, "k1")]));
    let plain = random(3 << 20);
    let full = s.write("plain", &plain);
    ok(&["encrypt", "-c", &cfg, &full, "-o", &s.p("plain.kms")]);
    let ct = s.read("plain.kms");
    for (sig, code) in SIGNALS.into_iter().chain([("QUIT", 131)]) {
        for (cmd, input) in [("encrypt", &plain), ("decrypt", &ct)] {
            let out = s.p("out");
            let mut child = kms()
                .args([cmd, "-c", &cfg, "-o", &out])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            // Half the input; the pipe stays open, so kms cannot have finished.
            stdin.write_all(&input[..input.len() / 2]).unwrap();
            wait_for_temp(s.dir.path(), &mut child);
            send(&child, sig);
            let status = wait_bounded(&mut child, cmd);
            drop(stdin);
            assert_eq!(status.code(), Some(code), "{cmd} SIG{sig}");
            assert!(temps(s.dir.path()).is_empty(), "{cmd} SIG{sig}: temp left");
            assert!(!s.exists("out"), "{cmd} SIG{sig}: no output");
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

/// rewrap of a large file: retried until the signal lands while the temp file exists.
#[test]
fn signals_during_rewrap_remove_the_temp_file() {
    let s = Scratch::new();
    let old = s.write("old.hcl", aead_config(&[("root", KEY_A, "k1")]));
    let new = s.write(
        "new.hcl",
        aead_config(&[("root", KEY_B, "k2"), ("previous-root", KEY_A, "k1")]),
    );
    let plain = s.write("plain", random(48 << 20));
    let target = s.p("data.kms");
    ok(&["encrypt", "-c", &old, &plain, "-o", &target]);
    fs::remove_file(&plain).unwrap();
    let before = s.read("data.kms");
    for (sig, code) in SIGNALS {
        let mut landed = false;
        for _ in 0..20 {
            let mut child = kms()
                .args(["rewrap", "-q", "-c", &new, &target])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let start = Instant::now();
            while temps(s.dir.path()).is_empty() && child.try_wait().unwrap().is_none() {
                assert!(start.elapsed() < HANG);
                std::thread::sleep(Duration::from_micros(200));
            }
            let had_temp = !temps(s.dir.path()).is_empty();
            send(&child, sig);
            let status = wait_bounded(&mut child, "rewrap");
            assert!(temps(s.dir.path()).is_empty(), "rewrap SIG{sig}: temp left");
            if status.code() == Some(code) && had_temp {
                // Killed before the rename: the file is as it was.
                assert_eq!(s.read("data.kms"), before, "rewrap SIG{sig}");
                landed = true;
                break;
            }
            // It finished first: put the old version back and try again.
            assert_eq!(status.code(), Some(0), "rewrap SIG{sig}: {status:?}");
            fs::write(&target, &before).unwrap();
        }
        assert!(landed, "no SIG{sig} landed mid-rewrap in 20 tries");
    }
}

/// `config encrypt|decrypt` waiting on its KMS (a server that accepts and never answers):
/// the signal's code, and the file is left as it was.
#[test]
fn signals_during_config_values_exit_with_their_codes() {
    let s = Scratch::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(12) {
            held.push(c);
        }
        held
    });
    let cfg = s.write(
        "aws.hcl",
        format!("kms \"awskms\" {{\n  purpose = \"config\"\n  region = \"eu-west-3\"\n  kms_key_id = \"alias/x\"\n  endpoint = \"http://127.0.0.1:{port}\"\n  access_key = \"AKIAEXAMPLE\"\n  secret_key = \"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\"\n}}\n"),
    );
    // A value for decrypt to send to the KMS: any BlobInfo will do.
    let aead = s.write("aead.hcl", aead_config(&[("root", KEY_A, "k1")]));
    let v = s.write("v", b"v");
    let o = run(&["encrypt", "--value", "-c", &aead, &v]);
    support::assert_code(&o, 0);
    let blob = String::from_utf8(o.stdout).unwrap();
    let plain = "a = \"{{encrypt(v)}}\"\n".to_owned();
    let sealed = format!("a = \"{{{{decrypt({})}}}}\"\n", blob.trim());
    let to_seal = s.write("plain.hcl", &plain);
    let to_open = s.write("sealed.hcl", &sealed);
    for (sig, code) in SIGNALS {
        for (args, name, text) in [
            (
                vec!["config", "encrypt", "-c", &cfg, "--overwrite", &to_seal],
                "plain.hcl",
                &plain,
            ),
            (
                vec!["config", "decrypt", "-c", &cfg, "--overwrite", &to_open],
                "sealed.hcl",
                &sealed,
            ),
        ] {
            let mut child = kms()
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Bounded: the KMS never answers, so kms is still waiting when the signal comes.
            std::thread::sleep(Duration::from_millis(300));
            assert!(child.try_wait().unwrap().is_none(), "{args:?} ended early");
            send(&child, sig);
            let status = wait_bounded(&mut child, "config values");
            assert_eq!(status.code(), Some(code), "{args:?} SIG{sig}");
            assert_eq!(s.read(name), text.as_bytes());
            assert!(temps(s.dir.path()).is_empty());
        }
    }
    drop(accepted);
}

/// SIGKILL cannot be caught: its leftovers are what `kms clean` removes, and nothing else.
#[test]
fn clean_removes_what_sigkill_left_and_nothing_else() {
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", aead_config(&[("root", KEY_A, "k1")]));
    let plain = random(1 << 20);
    fs::create_dir(s.path("sub")).unwrap();
    let out = s.p("sub/out");
    let mut child = kms()
        .args(["encrypt", "-c", &cfg, "-o", &out])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&plain).unwrap();
    wait_for_temp(&s.path("sub"), &mut child);
    child.kill().unwrap();
    let status = wait_bounded(&mut child, "encrypt");
    drop(stdin);
    assert_eq!(status.signal(), Some(9));
    let left = temps(&s.path("sub"));
    assert_eq!(left.len(), 1, "{left:?}");
    // Look-alikes that are not kms temp files.
    for keep in [".x.kms-tmp-12345", "x.kms-tmp-123456", ".x.kms-tmp-12345!"] {
        s.write(&format!("sub/{keep}"), b"keep");
    }
    std::os::unix::fs::symlink(s.path("sub"), s.path("link")).unwrap();

    let dry = run(&["clean", "-n", &s.p("link"), &s.p("sub")]);
    support::assert_code(&dry, 0);
    let listed = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(listed.contains(&left[0]), "{listed}");
    assert!(listed.contains("1 kms temp file(s) found"), "{listed}");
    assert_eq!(temps(&s.path("sub")).len(), 4);

    let o = run(&["clean", &s.p("")]);
    support::assert_code(&o, 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 kms temp file(s) removed"));
    let mut rest = temps(&s.path("sub"));
    rest.sort();
    assert_eq!(
        rest,
        [".x.kms-tmp-12345", ".x.kms-tmp-12345!", "x.kms-tmp-123456"]
    );
    // A file that is not a temp file is refused by name.
    let o = run(&["clean", &s.p("kms.hcl")]);
    support::assert_code(&o, 2);
    assert!(s.exists("kms.hcl"));
}

/// While `kms decrypt` runs, its core size limit is 0 (soft and hard), and a SIGABRT (whose
/// default action dumps core; SIGQUIT is handled), even with `ulimit -c unlimited` before it
/// started and core files written to the working directory, dumps no core.
#[test]
fn no_core_dumps() {
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", aead_config(&[("root", KEY_A, "k1")]));
    let full = s.write("plain", random(1 << 20));
    ok(&["encrypt", "-c", &cfg, &full, "-o", &s.p("plain.kms")]);
    let ct = s.read("plain.kms");
    fs::create_dir(s.path("cwd")).unwrap();
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -c unlimited 2>/dev/null; exec \"$0\" decrypt -c \"$1\" -o out",
            support::kms_bin(),
            &cfg,
        ])
        .current_dir(s.path("cwd"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&ct[..ct.len() / 2]).unwrap();
    wait_for_temp(&s.path("cwd"), &mut child);
    let limits = fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    send(&child, "ABRT");
    let status = wait_bounded(&mut child, "decrypt");
    drop(stdin);
    assert_eq!(status.signal(), Some(6), "{status:?}");
    assert!(!status.core_dumped(), "a core was dumped");
    let cores: Vec<_> = fs::read_dir(s.path("cwd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("core"))
        .collect();
    assert!(cores.is_empty(), "{cores:?}");
}
