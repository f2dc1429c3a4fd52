//! `kms rewrap` at scale (issue 14): `-j` workers with concurrent failures, `-j N` against
//! `-j 1`, `--shard I/N` coverage, throttling through the fault proxy in front of moto, the
//! summary line's counts and `--json`'s shape, and a signal mid-run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{aead_config, assert_code, kms, output, run, stderr, Scratch, HANG, KEY_A, KEY_B};

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `old.hcl` (root KEY_A "old"), `both.hcl` (root KEY_B "new", previous-root KEY_A "old"),
/// `new.hcl` (root KEY_B "new"), and one file of `len` bytes under each key.
struct Env {
    s: Scratch,
    both: String,
    new: String,
    under_old: Vec<u8>,
    under_new: Vec<u8>,
}

const LEN: usize = 70_000;

impl Env {
    fn new() -> Env {
        let s = Scratch::new();
        let old = s.write("old.hcl", aead_config(&[("root", KEY_A, "old")]));
        let both = s.write(
            "both.hcl",
            aead_config(&[("root", KEY_B, "new"), ("previous-root", KEY_A, "old")]),
        );
        let new = s.write("new.hcl", aead_config(&[("root", KEY_B, "new")]));
        let plain = s.write("plain.bin", data(LEN));
        let enc = |cfg: &str, name: &str| {
            let p = s.p(name);
            assert_code(&run(&["encrypt", "-c", cfg, "-o", &p, &plain]), 0);
            fs::read(&p).unwrap()
        };
        let under_old = enc(&old, "one-old.kms");
        let under_new = enc(&new, "one-new.kms");
        Env {
            s,
            both,
            new,
            under_old,
            under_new,
        }
    }

    /// `count` copies of the file under the old key in `root`, spread over subdirectories.
    fn tree(&self, root: &str, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| {
                let rel = format!("d{}/f{i:03}.kms", i % 4);
                let p = self.s.path(root).join(&rel);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(&p, &self.under_old).unwrap();
                rel
            })
            .collect()
    }

    fn decrypts_with_new(&self, path: &Path) -> bool {
        let o = run(&["decrypt", "-c", &self.new, path.to_str().unwrap()]);
        o.status.success() && o.stdout == data(LEN)
    }
}

fn temp_files(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            v.extend(temp_files(&e.path()));
        } else if e.file_name().to_string_lossy().contains(".kms-tmp-") {
            v.push(e.path().display().to_string());
        }
    }
    v
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", out(o)))
}

#[test]
fn one_corrupt_file_among_many_fails_alone() {
    let e = Env::new();
    let files = e.tree("tree", 48);
    // A body byte of one file flipped: its segment no longer authenticates.
    let bad = e.s.path("tree").join(&files[17]);
    let mut bytes = e.under_old.clone();
    let at = bytes.len() - 100;
    bytes[at] ^= 1;
    fs::write(&bad, &bytes).unwrap();

    let o = run(&["rewrap", "-j", "8", "-c", &e.both, "-r", &e.s.p("tree")]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(
        err.lines()
            .any(|l| l.contains(&files[17]) && l.contains("corrupt")),
        "{err}"
    );
    assert!(out(&o).contains("47 rewrapped"), "{}", out(&o));
    assert!(out(&o).contains("1 failed"), "{}", out(&o));
    assert_eq!(
        fs::read(&bad).unwrap(),
        bytes,
        "the corrupt file is untouched"
    );
    for f in files.iter().filter(|f| **f != files[17]) {
        assert!(e.decrypts_with_new(&e.s.path("tree").join(f)), "{f}");
    }
    assert!(temp_files(&e.s.path("tree")).is_empty());
}

/// A tree with every kind of path: files to rewrap, one current, one not a kms file, one
/// corrupt, a hard-link pair, a symlink, a FIFO and a temp-file leftover.
fn mixed_tree(e: &Env, root: &str) {
    e.tree(root, 30);
    let r = e.s.path(root);
    fs::write(r.join("d0/current.kms"), &e.under_new).unwrap();
    fs::write(r.join("d1/notes.txt"), b"not a kms file").unwrap();
    let mut bad = e.under_old.clone();
    bad.truncate(bad.len() - 5);
    fs::write(r.join("d2/cut.kms"), &bad).unwrap();
    fs::write(r.join("d3/h1.kms"), &e.under_old).unwrap();
    fs::hard_link(r.join("d3/h1.kms"), r.join("d3/h2.kms")).unwrap();
    std::os::unix::fs::symlink("f000.kms", r.join("d0/link.kms")).unwrap();
    fs::write(r.join("d1/.x.kms.kms-tmp-AbC123"), b"partial").unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        r.join("d2/fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

fn rewrap_in(e: &Env, root: &str, args: &[&str]) -> Output {
    let mut c = kms();
    c.current_dir(e.s.dir.path())
        .args(["rewrap", "-c", &e.both, "-r"])
        .args(args)
        .arg(root);
    output(c)
}

#[test]
fn jobs_n_reports_exactly_what_jobs_1_reports() {
    let e = Env::new();
    for (root, jobs) in [("a", "1"), ("b", "8"), ("c", "1"), ("d", "8")] {
        mixed_tree(&e, root);
        // Rooted at "t" in the output, so that the reports of a and b can be compared.
        fs::rename(e.s.path(root), e.s.path("t")).unwrap();
        let json_run = root == "c" || root == "d";
        let o = if json_run {
            rewrap_in(&e, "t", &["-j", jobs, "--json"])
        } else {
            rewrap_in(&e, "t", &["-j", jobs])
        };
        fs::rename(e.s.path("t"), e.s.path(root)).unwrap();
        assert_code(&o, 1);
        fs::write(e.s.path(&format!("{root}.out")), &o.stdout).unwrap();
        fs::write(e.s.path(&format!("{root}.err")), &o.stderr).unwrap();
    }
    for (x, y) in [("a", "b"), ("c", "d")] {
        for ext in ["out", "err"] {
            let (p, q) = (
                e.s.read(&format!("{x}.{ext}")),
                e.s.read(&format!("{y}.{ext}")),
            );
            assert_eq!(
                String::from_utf8_lossy(&p),
                String::from_utf8_lossy(&q),
                "-j 1 vs -j 8, {ext}"
            );
        }
    }
    let text = String::from_utf8(e.s.read("a.out")).unwrap();
    assert!(
        text.contains("30 rewrapped, 1 already current, 1 not kms files"),
        "{text}"
    );
    assert!(text.contains("1 failed, 2 hard-linked"), "{text}");
    // The per-file lines are in walk order (sorted), not in order of completion.
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": old -> new"))
        .collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert_eq!(lines.len(), 30);
    for root in ["a", "b"] {
        for i in 0..30 {
            let f = e.s.path(root).join(format!("d{}/f{i:03}.kms", i % 4));
            assert!(e.decrypts_with_new(&f), "{}", f.display());
        }
    }
}

#[test]
fn json_gives_every_path_with_its_outcome_and_a_summary() {
    let e = Env::new();
    mixed_tree(&e, "t");
    let o = rewrap_in(&e, "t", &["--json"]);
    assert_code(&o, 1);
    let v = json(&o);
    let obj = v.as_object().unwrap();
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        ["files", "summary"],
        "{v:#}"
    );
    let files = v["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted, "sorted by path");
    let find = |p: &str| {
        files
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} missing: {v:#}"))
    };
    assert_eq!(
        find("t/d0/f000.kms"),
        &serde_json::json!({"path": "t/d0/f000.kms", "outcome": "rewrapped", "old": ["old"], "new": ["new"]})
    );
    assert_eq!(
        find("t/d0/current.kms"),
        &serde_json::json!({"path": "t/d0/current.kms", "outcome": "current", "key_ids": ["new"]})
    );
    assert_eq!(
        find("t/d1/notes.txt"),
        &serde_json::json!({"path": "t/d1/notes.txt", "outcome": "not_kms"})
    );
    for (p, outcome, class) in [
        ("t/d2/cut.kms", "left", Some("failed")),
        ("t/d3/h1.kms", "left", Some("hard_linked")),
        ("t/d3/h2.kms", "left", Some("hard_linked")),
        (
            "t/d1/.x.kms.kms-tmp-AbC123",
            "left",
            Some("temp_file_leftover"),
        ),
        ("t/d0/link.kms", "skipped", None),
        ("t/d2/fifo", "skipped", None),
    ] {
        let f = find(p);
        assert_eq!(f["outcome"], outcome, "{f}");
        assert_eq!(f["class"].as_str(), class, "{f}");
        assert!(f["reason"].as_str().is_some_and(|r| !r.is_empty()), "{f}");
    }
    // 30 + current + notes + cut + h1 + h2 + leftover + link + fifo.
    assert_eq!(files.len(), 38, "{v:#}");
    let s = &v["summary"];
    assert_eq!(
        s,
        &serde_json::json!({
            "rewrapped": 30,
            "current": 1,
            "not_kms": 1,
            "symlinks_not_followed": 1,
            "special_files_skipped": 1,
            "left": {
                "failed": 1,
                "hard_linked": 2,
                "unreadable_directories": 0,
                "symlinks_out_of_tree": 0,
                "temp_file_leftovers": 1,
            },
            "kms_calls": s["kms_calls"].clone(),
            "shard": null,
            "other_shards": 0,
            "ok": false,
        })
    );
    // aead -> aead: each data key unwrapped with the old key and wrapped under the new one,
    // for the 30 files rewrapped and for the cut one, refused at its body after its new
    // header was made. The two hard-linked ones are refused before any call. aead has no
    // server-side rewrap, which is not counted as a call.
    assert_eq!(
        s["kms_calls"],
        serde_json::json!({"total": 62, "wrap": 31, "unwrap": 31, "rewrap": 0, "throttled_retried": 0, "by_type": {"aead": 62}})
    );
    assert!(stderr(&o).contains("cut.kms"), "{}", stderr(&o));
}

#[test]
fn the_summary_line_counts_files_and_kms_calls_and_no_bar_off_a_terminal() {
    let e = Env::new();
    e.tree("t", 5);
    let o = rewrap_in(&e, "t", &[]);
    assert_code(&o, 0);
    let text = out(&o);
    let summary = text.lines().last().unwrap();
    assert!(
        summary.starts_with("rewrap: 5 rewrapped, 0 already current"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "10 KMS calls (wrap 5, unwrap 5, rewrap 0; aead 10), 0 throttled and retried"
        ),
        "{summary}"
    );
    assert!(!summary.contains("shard"), "{summary}");
    // No progress bar: stderr is not a terminal.
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // Current now: --verify unwraps each data key once, and wraps nothing.
    let o = rewrap_in(&e, "t", &["--verify"]);
    assert_code(&o, 0);
    let summary = out(&o).lines().last().unwrap().to_owned();
    assert!(
        summary.contains("0 rewrapped, 5 already current"),
        "{summary}"
    );
    assert!(
        summary.contains("5 KMS calls (wrap 0, unwrap 5, rewrap 0; aead 5)"),
        "{summary}"
    );
}

/// The rewrapped paths (relative to the root) of a `--json` run.
fn rewrapped(v: &Value, root: &str) -> BTreeSet<String> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "rewrapped")
        .map(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .strip_prefix(&format!("{root}/"))
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn shards_cover_every_file_exactly_once_whatever_the_root_is_called() {
    let e = Env::new();
    let all: BTreeSet<String> = e.tree("x", 60).into_iter().collect();
    let n = 3;
    let mut union = BTreeSet::new();
    for i in 1..=n {
        let shard = format!("{i}/{n}");
        // The same tree under two names: the share depends on the path inside the root only.
        let mut shares = Vec::new();
        for root in ["x", "y"] {
            e.tree(root, 60);
            let o = rewrap_in(&e, root, &["--json", "--shard", &shard]);
            assert_code(&o, 0);
            let v = json(&o);
            assert_eq!(v["summary"]["shard"], shard.as_str());
            let mine = rewrapped(&v, root);
            assert_eq!(
                v["summary"]["other_shards"].as_u64(),
                Some((60 - mine.len()) as u64)
            );
            // Only this shard's files changed.
            for f in &all {
                let changed = fs::read(e.s.path(root).join(f)).unwrap() != e.under_old;
                assert_eq!(changed, mine.contains(f), "{root}/{f}, shard {shard}");
            }
            shares.push(mine);
        }
        assert_eq!(shares[0], shares[1], "shard {shard} is stable");
        assert!(!shares[0].is_empty(), "shard {shard} is empty");
        assert!(
            union.is_disjoint(&shares[0]),
            "shard {shard} overlaps another"
        );
        union.extend(shares.swap_remove(0));
    }
    assert_eq!(union, all, "the shards together cover every file");
    // The text summary names the shard.
    e.tree("x", 60);
    let o = rewrap_in(&e, "x", &["--shard", "2/3"]);
    assert_code(&o, 0);
    assert!(
        out(&o).lines().last().unwrap().contains("shard 2/3: "),
        "{}",
        out(&o)
    );
}

#[test]
fn a_bad_shard_or_job_count_is_a_usage_error() {
    let e = Env::new();
    e.tree("t", 1);
    for args in [
        ["--shard", "0/3"],
        ["--shard", "4/3"],
        ["--shard", "1/0"],
        ["--shard", "1"],
        ["--shard", "a/b"],
        ["-j", "0"],
    ] {
        let o = rewrap_in(&e, "t", &args);
        assert_code(&o, 2);
        assert_eq!(fs::read(e.s.path("t/d0/f000.kms")).unwrap(), e.under_old);
    }
}

#[test]
fn a_signal_mid_run_leaves_every_file_whole() {
    let e = Env::new();
    let s = &e.s;
    let old = s.write("old2.hcl", aead_config(&[("root", KEY_A, "old")]));
    let plain = s.write("big.bin", data(6 << 20));
    let big = s.p("big.kms");
    assert_code(&run(&["encrypt", "-c", &old, "-o", &big, &plain]), 0);
    let before = fs::read(&big).unwrap();
    let mut landed = false;
    for _ in 0..20 {
        let _ = fs::remove_dir_all(s.path("t"));
        for i in 0..12 {
            fs::create_dir_all(s.path("t")).unwrap();
            fs::write(s.path(&format!("t/f{i:02}.kms")), &before).unwrap();
        }
        let mut child = kms()
            .args(["rewrap", "-q", "-j", "4", "-r", "-c", &e.both, &s.p("t")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while temp_files(&s.path("t")).is_empty() && child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < HANG);
            std::thread::sleep(Duration::from_micros(200));
        }
        let had_temp = !temp_files(&s.path("t")).is_empty();
        let killed = std::process::Command::new("kill")
            .args(["-s", "TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = support::wait_bounded(&mut child, "rewrap -j 4");
        assert!(temp_files(&s.path("t")).is_empty(), "a temp file was left");
        // Each file is either as it was or wholly rewrapped.
        for i in 0..12 {
            let p = s.path(&format!("t/f{i:02}.kms"));
            let now = fs::read(&p).unwrap();
            if now != before {
                let o = run(&["decrypt", "-c", &e.new, p.to_str().unwrap()]);
                assert!(o.status.success(), "{}: partial", p.display());
                assert_eq!(o.stdout.len(), 6 << 20);
            }
        }
        if status.code() == Some(143) && had_temp {
            landed = true;
            break;
        }
    }
    assert!(landed, "no SIGTERM landed mid-run in 20 tries");
}

// ---------------------------------------------------------------------------------------------
// Throttling: moto behind the fault proxy, which answers a share of requests with
// ThrottlingException.

fn awskms_stanza(purpose: &str, key: &str, endpoint: &str) -> String {
    format!(
        "kms \"awskms\" {{\n  purpose = \"{purpose}\"\n  region = \"us-west-2\"\n  kms_key_id = \"{key}\"\n  endpoint = \"{endpoint}\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n}}\n",
        kms_testsupport::ACCESS_KEY,
        kms_testsupport::SECRET_KEY
    )
}

#[test]
fn throttling_slows_the_run_and_every_file_is_rewrapped() {
    if !kms_testsupport::integration_enabled() {
        return;
    }
    let moto = kms_testsupport::Moto::start();
    let proxy = kms_testsupport::Proxy::start(&moto.endpoint);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (key1, key2) = rt.block_on(async {
        let c = kms_testsupport::client_in(&moto.endpoint, "us-west-2").await;
        let mut keys = Vec::new();
        for _ in 0..2 {
            let k = c.create_key().send().await.unwrap();
            keys.push(k.key_metadata().unwrap().arn().unwrap().to_owned());
        }
        (keys[0].clone(), keys[1].clone())
    });
    let s = Scratch::new();
    let old = s.write("old.hcl", awskms_stanza("root", &key1, &proxy.endpoint));
    let cfg = s.write(
        "cfg.hcl",
        awskms_stanza("root", &key2, &proxy.endpoint)
            + &awskms_stanza("previous-root", &key1, &proxy.endpoint),
    );
    let new_only = s.write("new.hcl", awskms_stanza("root", &key2, &proxy.endpoint));
    let plain = s.write("plain.bin", data(LEN));
    let one = s.p("one.kms");
    assert_code(&run(&["encrypt", "-c", &old, "-o", &one, &plain]), 0);
    let bytes = fs::read(&one).unwrap();
    let count = 40;
    fs::create_dir_all(s.path("t")).unwrap();
    for i in 0..count {
        fs::write(s.path(&format!("t/f{i:02}.kms")), &bytes).unwrap();
    }

    // Every third request throttled.
    proxy.reset_counts();
    proxy.fail_every(3, &[kms_testsupport::Fault::Throttle]);
    let o = run(&["rewrap", "--json", "-j", "8", "-c", &cfg, "-r", &s.p("t")]);
    proxy.set_fault(kms_testsupport::Fault::None);
    assert_code(&o, 0);
    assert!(proxy.injected() > 0, "no throttled answer was sent");
    let v = json(&o);
    assert_eq!(v["summary"]["rewrapped"], count, "{v:#}");
    // One ReEncrypt per file at the Backend boundary, plus the retries made there after a
    // throttled answer outlasted the SDK's own retries.
    let calls = &v["summary"]["kms_calls"];
    assert_eq!(
        calls["rewrap"].as_u64().unwrap(),
        count + calls["throttled_retried"].as_u64().unwrap(),
        "{calls}"
    );
    assert_eq!(calls["unwrap"], 0, "ReEncrypt, no Decrypt: {calls}");
    assert_eq!(calls["by_type"]["awskms"], calls["total"], "{calls}");
    assert!(
        proxy.count("ReEncrypt") > count as usize,
        "throttled attempts are retried: {:?}",
        proxy.counts()
    );
    // Every file opens with the new key alone.
    let o = run(&["rewrap", "--verify", "-c", &new_only, "-r", &s.p("t")]);
    assert_code(&o, 0);
    assert!(
        out(&o).contains(&format!("0 rewrapped, {count} already current")),
        "{}",
        out(&o)
    );

    // Throttling that outlasts the SDK's three attempts: kms pauses and calls again.
    let reset = || {
        for i in 0..count {
            fs::write(s.path(&format!("t/f{i:02}.kms")), &bytes).unwrap();
        }
    };
    reset();
    // The keyring's DescribeKey goes through first, and the first ReEncrypt; then five
    // throttled answers in a row.
    proxy.reset_counts();
    let mut child = kms()
        .args(["rewrap", "--json", "-j", "1", "-c", &cfg, "-r", &s.p("t")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while proxy.count("ReEncrypt") == 0 {
        assert!(start.elapsed() < HANG, "no ReEncrypt");
        std::thread::sleep(Duration::from_millis(1));
    }
    proxy.fail_next(kms_testsupport::Fault::Throttle, 5);
    support::wait_bounded(&mut child, "rewrap under throttling");
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["summary"]["rewrapped"], count, "{v:#}");
    let calls = &v["summary"]["kms_calls"];
    assert!(
        calls["throttled_retried"].as_u64().unwrap() >= 1,
        "{calls} {:?}",
        proxy.counts()
    );
    assert_eq!(
        calls["rewrap"].as_u64().unwrap(),
        count + calls["throttled_retried"].as_u64().unwrap(),
        "{calls}"
    );

    // Without faults, the calls counted are the requests the proxy saw.
    reset();
    proxy.reset_counts();
    let o = run(&["rewrap", "--json", "-c", &cfg, "-r", &s.p("t")]);
    assert_code(&o, 0);
    let calls = &json(&o)["summary"]["kms_calls"];
    assert_eq!(calls["rewrap"], count, "{calls}");
    assert_eq!(
        proxy.count("ReEncrypt"),
        count as usize,
        "{:?}",
        proxy.counts()
    );
}
