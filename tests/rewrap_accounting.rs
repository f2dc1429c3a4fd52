//! `kms rewrap` accounts for every path, verifies before it replaces, never loses an update,
//! and keeps owner and mode (issue 11, section 1), through the whole binary.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use support::{aead_config, assert_code, kms, run, stderr, Scratch, KEY_A, KEY_B};

/// A third aead key.
const KEY_C: &str = "XYbWaw79FjdIr3C2Wed8Hn9PQ3wygmcQKrI/PkoYEf0=";

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// A scratch dir with `old.hcl` (root KEY_A "old"), `both.hcl` (root KEY_B "new",
/// previous-root KEY_A "old") and `new.hcl` (root KEY_B "new").
struct Env {
    s: Scratch,
    old: String,
    both: String,
    new: String,
}

impl Env {
    fn new() -> Env {
        let s = Scratch::new();
        let old = s.write("old.hcl", aead_config(&[("root", KEY_A, "old")]));
        let both = s.write(
            "both.hcl",
            aead_config(&[("root", KEY_B, "new"), ("previous-root", KEY_A, "old")]),
        );
        let new = s.write("new.hcl", aead_config(&[("root", KEY_B, "new")]));
        Env { s, old, both, new }
    }

    /// Encrypts `len` bytes under the old key into `name`.
    fn old_file(&self, name: &str, len: usize) -> String {
        let input = self.s.write("plain.bin", data(len));
        let out = self.s.p(name);
        assert_code(&run(&["encrypt", "-c", &self.old, "-o", &out, &input]), 0);
        out
    }

    /// Whether `path` decrypts with the new key alone to `len` bytes of [`data`].
    fn under_new(&self, path: &str, len: usize) -> bool {
        let o = run(&["decrypt", "-c", &self.new, path]);
        o.status.success() && o.stdout == data(len)
    }
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A file refused for its hard links or for a symlink out of the tree costs no KMS call:
/// whether it needs rewrapping is decided from its header before anything is wrapped.
#[test]
fn refused_files_cost_no_kms_calls() {
    let e = Env::new();
    fs::create_dir_all(e.s.path("tree")).unwrap();
    e.old_file("tree/h1.kms", 1000);
    fs::hard_link(e.s.path("tree/h1.kms"), e.s.path("tree/h2.kms")).unwrap();
    let outside = e.old_file("outside.kms", 1000);
    std::os::unix::fs::symlink(&outside, e.s.path("tree/link-out.kms")).unwrap();
    let o = run(&["rewrap", "--json", "-c", &e.both, "-r", &e.s.p("tree")]);
    assert_code(&o, 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let summary = &v["summary"];
    assert_eq!(summary["left"]["hard_linked"], 2, "{summary}");
    assert_eq!(summary["left"]["symlinks_out_of_tree"], 1, "{summary}");
    assert_eq!(summary["kms_calls"]["total"], 0, "{summary}");
    // A hard-linked file already under the target keys is current, not refused.
    fs::remove_file(e.s.path("tree/h2.kms")).unwrap();
    fs::remove_file(e.s.path("tree/link-out.kms")).unwrap();
    assert_code(&run(&["rewrap", "-c", &e.both, &e.s.p("tree/h1.kms")]), 0);
    fs::hard_link(e.s.path("tree/h1.kms"), e.s.path("tree/h2.kms")).unwrap();
    let o = run(&["rewrap", "--json", "-c", &e.both, "-r", &e.s.p("tree")]);
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["current"], 2, "{}", v["summary"]);
}

#[test]
fn recursive_rewrap_accounts_for_links_special_files_and_leftovers() {
    let e = Env::new();
    fs::create_dir_all(e.s.path("tree/sub")).unwrap();
    let a = e.old_file("tree/a.kms", 1000);
    let outside = e.old_file("outside.kms", 1000);
    e.old_file("tree/h1.kms", 1000);
    fs::hard_link(e.s.path("tree/h1.kms"), e.s.path("tree/sub/h2.kms")).unwrap();
    std::os::unix::fs::symlink(&a, e.s.path("tree/sub/link-in.kms")).unwrap();
    std::os::unix::fs::symlink(&outside, e.s.path("tree/link-out.kms")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x", e.s.path("tree/dangling")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        e.s.path("tree/fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let leftover = e.s.write("tree/.a.kms.kms-tmp-AbC123", b"partial");
    let h1_before = e.s.read("tree/h1.kms");
    let outside_before = e.s.read("outside.kms");

    let o = run(&["rewrap", "-c", &e.both, "-r", &e.s.p("tree")]);
    assert_code(&o, 1);
    let (stdout, err) = (out(&o), stderr(&o));
    assert!(stdout.contains("a.kms: old -> new"), "{stdout}");
    assert!(e.under_new(&a, 1000));
    // Each class in its own place, and listed as left when it may still need the old key.
    assert!(stdout.contains("1 rewrapped"), "{stdout}");
    assert!(stdout.contains("2 hard-linked"), "{stdout}");
    assert!(stdout.contains("1 symlinks out of the tree"), "{stdout}");
    assert!(stdout.contains("1 temp-file leftovers"), "{stdout}");
    assert!(stdout.contains("1 special files skipped"), "{stdout}");
    assert!(
        stdout.contains("link-in.kms: symlink, not followed"),
        "{stdout}"
    );
    assert!(stdout.contains("dangling: dangling symlink"), "{stdout}");
    assert!(stdout.contains("fifo: FIFO"), "{stdout}");
    for (path, why) in [
        ("tree/h1.kms", "hard links"),
        ("tree/sub/h2.kms", "hard links"),
        ("tree/link-out.kms", "outside the tree"),
        (".a.kms.kms-tmp-AbC123", "interrupted kms run"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(path) && l.contains(why)),
            "{path}: {err}"
        );
    }
    assert!(err.contains("do not retire it"), "{err}");
    // Refused files are untouched; the links stay links, the hard links stay one inode.
    assert_eq!(e.s.read("tree/h1.kms"), h1_before);
    assert_eq!(e.s.read("outside.kms"), outside_before);
    assert_eq!(fs::metadata(e.s.path("tree/h1.kms")).unwrap().nlink(), 2);
    assert!(fs::symlink_metadata(e.s.path("tree/sub/link-in.kms"))
        .unwrap()
        .file_type()
        .is_symlink());

    // Once what was left is dealt with, exit 0 means every kms file is under the new key.
    fs::remove_file(e.s.path("tree/sub/h2.kms")).unwrap();
    fs::remove_file(&leftover).unwrap();
    assert_code(&run(&["rewrap", "-c", &e.both, &outside]), 0);
    let o = run(&["rewrap", "-c", &e.both, "-r", &e.s.p("tree")]);
    assert_code(&o, 0);
    assert!(out(&o).contains("h1.kms: old -> new"), "{}", out(&o));
    assert!(e.under_new(&e.s.p("tree/h1.kms"), 1000));

    // As a user, an unreadable directory is left too (root reads every directory).
    if rustix::process::geteuid().is_root() {
        return;
    }
    fs::create_dir(e.s.path("tree/locked")).unwrap();
    e.old_file("tree/locked/x.kms", 10);
    fs::set_permissions(e.s.path("tree/locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let o = run(&["rewrap", "-c", &e.both, "-r", &e.s.p("tree")]);
    fs::set_permissions(e.s.path("tree/locked"), fs::Permissions::from_mode(0o700)).unwrap();
    assert_code(&o, 1);
    assert!(out(&o).contains("1 unreadable directories"), "{}", out(&o));
}

#[test]
fn a_symlink_argument_is_followed_and_kept() {
    let e = Env::new();
    fs::create_dir(e.s.path("real")).unwrap();
    let real = e.old_file("real/f.kms", 5000);
    let link = e.s.path("link.kms");
    std::os::unix::fs::symlink("real/f.kms", &link).unwrap();
    let o = run(&["rewrap", "-c", &e.both, link.to_str().unwrap()]);
    assert_code(&o, 0);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real/f.kms"));
    assert!(e.under_new(&real, 5000));
}

#[test]
fn corrupt_streams_are_refused_and_left_byte_identical() {
    let e = Env::new();
    // Five segments of 64 KiB.
    let good = fs::read(e.old_file("good.kms", 300_000)).unwrap();
    let body = good.len() - (300_000 + 5 * 16);
    let seg = 65_536 + 16;
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut middle = good.clone();
    middle[body + 2 * seg + 100] ^= 1;
    cases.push(("a tampered middle segment", middle));
    let mut first = good.clone();
    first[body + 5] ^= 0x80;
    cases.push(("a tampered first segment", first));
    cases.push(("cut at a segment boundary", good[..body + 4 * seg].to_vec()));
    cases.push(("cut inside a segment", good[..good.len() - 7].to_vec()));
    let mut extended = good.clone();
    extended.extend_from_slice(&good[body..body + seg]);
    cases.push(("a segment appended", extended));
    let mut header = good.clone();
    header[body - 40] ^= 1;
    cases.push(("a tampered header", header));
    for (what, bytes) in cases {
        let p = e.s.write("bad.kms", &bytes);
        let o = run(&["rewrap", "-c", &e.both, &p]);
        assert_code(&o, 1);
        assert!(!out(&o).contains("->"), "{what}: {}", out(&o));
        assert!(
            stderr(&o).contains("corrupt") || stderr(&o).contains("decrypt"),
            "{what}: {}",
            stderr(&o)
        );
        assert_eq!(fs::read(&p).unwrap(), bytes, "{what}: left byte-identical");
    }
    // --verify authenticates a current file too: a tampered segment in a file already under
    // the target key is reported, not called current.
    let p = e.s.p("current.kms");
    fs::write(&p, &good).unwrap();
    assert_code(&run(&["rewrap", "-c", &e.both, &p]), 0);
    assert_code(&run(&["rewrap", "--verify", "-c", &e.both, &p]), 0);
    let mut bytes = fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n - 3 * seg] ^= 4;
    fs::write(&p, &bytes).unwrap();
    let o = run(&["rewrap", "-c", &e.both, &p]);
    assert_code(&o, 0);
    let o = run(&["rewrap", "--verify", "-c", &e.both, &p]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("corrupt"), "{}", stderr(&o));
}

#[test]
fn also_is_not_current_while_an_also_key_is_missing() {
    // Root and recovery stanzas share a key_id; the file was made with another recovery key
    // of that same id. Matching by id would call it current, and the configured recovery key
    // alone could not open it.
    let s = Scratch::new();
    let first = s.write(
        "first.hcl",
        aead_config(&[("root", KEY_A, "k"), ("recovery", KEY_C, "k")]),
    );
    let cfg = s.write(
        "cfg.hcl",
        aead_config(&[("root", KEY_A, "k"), ("recovery", KEY_B, "k")]),
    );
    let recovery_only = s.write("rec.hcl", aead_config(&[("recovery", KEY_B, "k")]));
    let input = s.write("in.bin", data(3000));
    let f = s.p("f.kms");
    assert_code(
        &run(&[
            "encrypt", "-c", &first, "--also", "recovery", "-o", &f, &input,
        ]),
        0,
    );
    assert_code(&run(&["decrypt", "-c", &recovery_only, &f]), 1);
    let o = run(&["rewrap", "-c", &cfg, "--also", "recovery", &f]);
    assert_code(&o, 0);
    assert!(!out(&o).contains("already under"), "{}", out(&o));
    let o = run(&["decrypt", "-c", &recovery_only, &f]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, data(3000));
    // Now it is current, and says so.
    let o = run(&["rewrap", "-c", &cfg, "--also", "recovery", &f]);
    assert_code(&o, 0);
    assert!(out(&o).contains("already under"), "{}", out(&o));
}

#[test]
fn a_key_id_shared_with_another_stanza_is_confirmed_before_current() {
    // key_id is optional and free: the root key was replaced, and the old key (same id) still
    // serves another purpose. Matching ids must not call a file under the old key current.
    let s = Scratch::new();
    let before = s.write("before.hcl", aead_config(&[("root", KEY_B, "k")]));
    let cfg = s.write(
        "cfg.hcl",
        aead_config(&[("root", KEY_A, "k"), ("worker-auth", KEY_B, "k")]),
    );
    let root_only = s.write("root.hcl", aead_config(&[("root", KEY_A, "k")]));
    let input = s.write("in.bin", data(2000));
    let f = s.p("f.kms");
    assert_code(&run(&["encrypt", "-c", &before, "-o", &f, &input]), 0);
    let v = s.p("v.blob");
    assert_code(
        &run(&["encrypt", "--value", "-c", &before, "-o", &v, &input]),
        0,
    );
    for p in [&f, &v] {
        assert_code(&run(&["decrypt", "-c", &root_only, p]), 1);
        let o = run(&["rewrap", "-c", &cfg, p]);
        assert_code(&o, 0);
        assert!(!out(&o).contains("already under"), "{p}: {}", out(&o));
        let o = run(&["decrypt", "-c", &root_only, p]);
        assert_code(&o, 0);
        assert_eq!(o.stdout, data(2000));
        let o = run(&["rewrap", "-c", &cfg, p]);
        assert!(out(&o).contains("already under"), "{p}: {}", out(&o));
    }
    // A value holds one wrapped key: --also cannot be met, and is refused for it.
    let both = s.write(
        "both.hcl",
        aead_config(&[("root", KEY_A, "k"), ("recovery", KEY_C, "r")]),
    );
    let o = run(&["rewrap", "-c", &both, "--also", "recovery", &v]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("--also cannot apply"), "{}", stderr(&o));
}

/// Holds an exclusive flock on `path` (as a kms process would) until dropped.
fn hold_lock(path: &str) -> fs::File {
    let f = fs::File::open(path).unwrap();
    rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive).unwrap();
    f
}

#[test]
fn locks_serialise_kms_writers_and_encrypt_waits_a_bounded_time() {
    let e = Env::new();
    let f = e.old_file("f.kms", 2000);
    let before = fs::read(&f).unwrap();
    let input = e.s.write("other.bin", b"other");
    // encrypt -o onto a file another kms process holds: waits, then fails clearly.
    let lock = hold_lock(&f);
    let o = run(&["encrypt", "-c", &e.new, "-o", &f, &input]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("locked by another kms process"),
        "{}",
        stderr(&o)
    );
    support::assert_one_line("locked", &stderr(&o));
    assert_eq!(fs::read(&f).unwrap(), before);
    // A rewrap waits for the lock, then works on what the holder left: here a new version
    // renamed over the file while the lock was held.
    let mut child = kms()
        .args(["rewrap", "-c", &e.both, &f])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let newer = e.old_file("newer.kms", 3000);
    fs::rename(&newer, &f).unwrap();
    drop(lock);
    support::wait_bounded(&mut child, "rewrap waiting for a lock");
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 0);
    assert!(e.under_new(&f, 3000), "the new version, rewrapped");
}

#[test]
fn owner_and_mode_survive_rewrap_and_config_overwrite() {
    let e = Env::new();
    let f = e.old_file("f.kms", 100);
    let cfg_file = e.s.write(
        "app.hcl",
        "listener \"tcp\" {\n  password = \"{{encrypt(hunter2)}}\"\n}\n",
    );
    let keys =
        e.s.write("keys.hcl", aead_config(&[("config", KEY_C, "c")]));
    let root = rustix::process::geteuid().is_root();
    for p in [&f, &cfg_file] {
        fs::set_permissions(p, fs::Permissions::from_mode(0o640)).unwrap();
        if root {
            std::os::unix::fs::chown(p, Some(4242), Some(4343)).unwrap();
        }
    }
    assert_code(&run(&["rewrap", "-c", &e.both, &f]), 0);
    assert_code(
        &run(&["config", "encrypt", "-c", &keys, "--overwrite", &cfg_file]),
        0,
    );
    assert!(!fs::read_to_string(&cfg_file).unwrap().contains("hunter2"));
    for p in [&f, &cfg_file] {
        let m = fs::metadata(p).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o640, "{p}: mode");
        if root {
            assert_eq!((m.uid(), m.gid()), (4242, 4343), "{p}: owner");
        }
    }
    // Decrypting in place keeps the owner, and only the owner's permission bits: the file
    // now holds secrets.
    assert_code(
        &run(&["config", "decrypt", "-c", &keys, "--overwrite", &cfg_file]),
        0,
    );
    assert!(fs::read_to_string(&cfg_file).unwrap().contains("hunter2"));
    let m = fs::metadata(&cfg_file).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o600, "decrypted: mode");
    if root {
        assert_eq!((m.uid(), m.gid()), (4242, 4343), "decrypted: owner");
    }
}

#[test]
fn long_file_names_rewrap() {
    let e = Env::new();
    let name = format!("{}.kms", "n".repeat(250));
    let f = e.old_file(&name, 100);
    let o = run(&["rewrap", "-c", &e.both, &f]);
    assert_code(&o, 0);
    assert!(e.under_new(&f, 100));
    let multibyte = format!("{}.kms", "é".repeat(125));
    let f = e.old_file(&multibyte, 100);
    assert_code(&run(&["rewrap", "-c", &e.both, &f]), 0);
    assert!(e.under_new(&f, 100));
}

// ---------------------------------------------------------------------------------------------
// Server-side rewrap (AWS KMS ReEncrypt, against moto through the fault proxy).

fn awskms_stanza(purpose: &str, key: &str, endpoint: &str) -> String {
    format!(
        "kms \"awskms\" {{\n  purpose = \"{purpose}\"\n  region = \"us-east-1\"\n  kms_key_id = \"{key}\"\n  endpoint = \"{endpoint}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n}}\n",
        kms_testsupport::ACCESS_KEY,
        kms_testsupport::SECRET_KEY
    )
}

#[test]
fn server_side_rewrap_checks_structure_without_decrypt_and_never_loses_an_update() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let proxy = kms_testsupport::Proxy::start(&moto.endpoint);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key1 = rt.block_on(moto.create_key());
    let key2 = rt.block_on(moto.create_key());
    let s = Scratch::new();
    let old = s.write("old.hcl", awskms_stanza("root", &key1, &proxy.endpoint));
    let cfg = s.write(
        "cfg.hcl",
        awskms_stanza("root", &key2, &proxy.endpoint)
            + &awskms_stanza("previous-root", &key1, &proxy.endpoint),
    );
    let input = s.write("plain.bin", data(200_000));
    let make = |name: &str| {
        let p = s.p(name);
        assert_code(&run(&["encrypt", "-c", &old, "-o", &p, &input]), 0);
        p
    };

    // ReEncrypt: no Decrypt call; the body's structure is checked against the header.
    let a = make("a.kms");
    proxy.reset_counts();
    let o = run(&["rewrap", "-c", &cfg, &a]);
    assert_code(&o, 0);
    assert_eq!(proxy.count("Decrypt"), 0, "{:?}", proxy.counts());
    assert_eq!(proxy.count("ReEncrypt"), 1, "{:?}", proxy.counts());
    // The body: three full segments and a final one of 3,392 bytes plus its tag. Lengths
    // that cannot be whole segments of the header's size are refused without a key.
    let good = fs::read(make("good.kms")).unwrap();
    let (seg, last) = (65_536 + 16, 200_000 - 3 * 65_536 + 16);
    let hlen = good.len() - 3 * seg - last;
    let grow = |n: usize| [&good[..], &vec![0u8; n][..]].concat();
    for (what, bytes) in [
        (
            "cut to 5 bytes of the final segment",
            good[..hlen + 3 * seg + 5].to_vec(),
        ),
        ("extended by a segment of a bare tag", grow(seg - last + 16)),
        ("extended by 10 bytes past a segment", grow(seg - last + 10)),
    ] {
        let p = s.write("bad.kms", &bytes);
        proxy.reset_counts();
        let o = run(&["rewrap", "-c", &cfg, &p]);
        assert_code(&o, 1);
        assert!(stderr(&o).contains("corrupt"), "{what}: {}", stderr(&o));
        assert_eq!(fs::read(&p).unwrap(), bytes, "{what}: byte-identical");
        assert_eq!(proxy.count("Decrypt"), 0, "{what}: {:?}", proxy.counts());
    }
    // --verify: one Decrypt per file, and every segment authenticated, which finds a cut at a
    // segment boundary that the structure alone cannot show.
    let b = make("b.kms");
    proxy.reset_counts();
    assert_code(&run(&["rewrap", "--verify", "-c", &cfg, &b]), 0);
    assert_eq!(proxy.count("Decrypt"), 1, "{:?}", proxy.counts());
    // The final segment dropped whole.
    let cut = s.write("cut.kms", &good[..hlen + 3 * seg]);
    let o = run(&["rewrap", "--verify", "-c", &cfg, &cut]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("corrupt"), "{}", stderr(&o));

    // No lost update: another writer replaces the file while ReEncrypt is in flight.
    let c = make("c.kms");
    let newer = make("newer.kms");
    let newer_bytes = fs::read(&newer).unwrap();
    proxy.reset_counts();
    proxy.set_fault(kms_testsupport::Fault::Delay(Duration::from_secs(2)));
    let mut child = kms()
        .args(["rewrap", "-c", &cfg, &c])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while proxy.count("ReEncrypt") == 0 {
        assert!(
            start.elapsed() < support::HANG,
            "rewrap never reached ReEncrypt"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    fs::rename(&newer, &c).unwrap();
    support::wait_bounded(&mut child, "rewrap during a concurrent replace");
    let o = child.wait_with_output().unwrap();
    proxy.set_fault(kms_testsupport::Fault::None);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("changed by another writer"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs::read(&c).unwrap(),
        newer_bytes,
        "the other writer's version is kept"
    );
    assert!(
        !s.files().iter().any(|f| f.contains(".kms-tmp-")),
        "no temp file left: {:?}",
        s.files()
    );
}
