//! `kms decrypt --offset/--length` through the binary: ranges near segment boundaries, files
//! and stdin redirected from a file, pipes and values refused (exit 2), ranges past the end
//! (exit 2), truncation and tampering (exit 1) and multi-key files. The exhaustive offset
//! matrix is the library's (crates/kms-envelope/tests/range.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::process::Stdio;

use support::{
    aead_config, assert_code, assert_one_line, kms, output, random, run, run_stdin, stderr,
    Scratch, KEY_A, KEY_B,
};

/// The segment size `kms encrypt` writes.
const SEG: usize = 64 << 10;
const TAG: usize = 16;

struct Fixture {
    s: Scratch,
    cfg: String,
    plain: Vec<u8>,
    enc: String,
}

fn fixture(len: usize) -> Fixture {
    let s = Scratch::new();
    let cfg = s.write("kms.hcl", aead_config(&[("root", KEY_A, "k1")]));
    let plain = random(len);
    let input = s.write("plain.bin", &plain);
    let enc = s.p("plain.kms");
    let o = run(&["encrypt", "-c", &cfg, "-o", &enc, &input]);
    assert_code(&o, 0);
    Fixture { s, cfg, plain, enc }
}

fn range(f: &Fixture, file: &str, offset: usize, length: usize) -> std::process::Output {
    run(&[
        "decrypt",
        "-c",
        &f.cfg,
        "--offset",
        &offset.to_string(),
        "--length",
        &length.to_string(),
        file,
    ])
}

#[test]
fn ranges_near_segment_boundaries_decrypt_exactly() {
    let len = 3 * SEG + 100;
    let f = fixture(len);
    let mut cases = vec![(0, 0), (0, 1), (0, len), (len, 0), (len - 1, 1)];
    for b in [SEG, 2 * SEG, 3 * SEG] {
        for o in [b - 1, b, b + 1] {
            cases.push((o, 1));
            cases.push((o, 2));
            cases.push((o, (len - o).min(SEG + 1)));
        }
    }
    for (o, l) in cases {
        let out = range(&f, &f.enc, o, l);
        assert_code(&out, 0);
        assert!(out.stdout == f.plain[o..o + l], "offset {o} length {l}");
    }
    // --offset alone runs to the end; --length alone starts at 0; -o writes a file.
    let o = run(&["decrypt", "-c", &f.cfg, "--offset", "70000", &f.enc]);
    assert_code(&o, 0);
    assert!(o.stdout == f.plain[70000..]);
    let o = run(&["decrypt", "-c", &f.cfg, "--length", "5", &f.enc]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, f.plain[..5]);
    let dest = f.s.p("part.bin");
    let o = run(&[
        "decrypt", "-c", &f.cfg, "--offset", "65535", "--length", "3", "-o", &dest, &f.enc,
    ]);
    assert_code(&o, 0);
    assert_eq!(fs::read(&dest).unwrap(), f.plain[65535..65538]);
}

#[test]
fn stdin_from_a_file_works_and_a_pipe_is_a_usage_error() {
    let f = fixture(2 * SEG + 5);
    let mut c = kms();
    c.args([
        "decrypt", "-c", &f.cfg, "--offset", "65530", "--length", "10",
    ])
    .stdin(fs::File::open(&f.enc).unwrap())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let o = c.output().unwrap();
    assert_code(&o, 0);
    assert_eq!(o.stdout, f.plain[65530..65540]);
    let o = run_stdin(
        &["decrypt", "-c", &f.cfg, "--offset", "1", "-"],
        &fs::read(&f.enc).unwrap(),
    );
    assert_code(&o, 2);
    let err = stderr(&o);
    assert_one_line("pipe", &err);
    assert!(
        err.contains("stdin") && err.contains("pipe") && err.contains("seek"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn ranges_past_the_end_and_values_are_usage_errors() {
    let len = SEG + 10;
    let f = fixture(len);
    for (o, l) in [(len, 1), (0, len + 1), (len + 1, 0)] {
        let out = range(&f, &f.enc, o, l);
        assert_code(&out, 2);
        let err = stderr(&out);
        assert_one_line("past the end", &err);
        assert!(
            err.contains(&format!("{len} bytes")) && err.contains("past the end"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let o = run(&[
        "decrypt",
        "-c",
        &f.cfg,
        "--offset",
        &(len + 5).to_string(),
        &f.enc,
    ]);
    assert_code(&o, 2);
    // A BlobInfo value: ranges are for streams.
    let value = f.s.p("v.txt");
    let o = run(&[
        "encrypt",
        "-c",
        &f.cfg,
        "--value",
        "-o",
        &value,
        &f.s.p("plain.bin"),
    ]);
    assert_code(&o, 0);
    let o = run(&["decrypt", "-c", &f.cfg, "--offset", "1", &value]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert_one_line("value", &err);
    assert!(err.contains("BlobInfo") && err.contains("streams"), "{err}");
}

#[test]
fn truncation_fails_and_tampering_fails_only_inside_the_range() {
    let len = 4 * SEG + 9;
    let f = fixture(len);
    let file = fs::read(&f.enc).unwrap();
    let body = file.len() - (len + 5 * TAG);
    let full = SEG + TAG;
    // Cut at a segment boundary: the rest looks like a shorter valid body.
    let cut = f.s.write("cut.kms", &file[..body + 2 * full]);
    let o = range(&f, &cut, 0, 10);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert_one_line("cut", &err);
    assert!(err.contains("does not authenticate"), "{err}");
    assert!(o.stdout.is_empty());
    // A flip in segment 2: ranges in segments 0-1 and 3-4 decrypt, one touching 2 fails.
    let mut t = file.clone();
    t[body + 2 * full + 100] ^= 4;
    let tampered = f.s.write("t.kms", &t);
    let o = range(&f, &tampered, 10, 2 * SEG - 10);
    assert_code(&o, 0);
    assert!(o.stdout == f.plain[10..2 * SEG]);
    let o = range(&f, &tampered, 3 * SEG, SEG + 9);
    assert_code(&o, 0);
    assert!(o.stdout == f.plain[3 * SEG..]);
    let dest = f.s.p("out.bin");
    let o = run(&[
        "decrypt",
        "-c",
        &f.cfg,
        "--offset",
        &(2 * SEG - 1).to_string(),
        "--length",
        "2",
        "-o",
        &dest,
        &tampered,
    ]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("does not authenticate"));
    assert!(!f.s.exists("out.bin"), "no output file after a failure");
}

#[test]
fn multi_key_files_open_with_either_key() {
    let s = Scratch::new();
    let both = s.write(
        "both.hcl",
        aead_config(&[("root", KEY_A, "r"), ("recovery", KEY_B, "rec")]),
    );
    let rec = s.write("rec.hcl", aead_config(&[("recovery", KEY_B, "rec")]));
    let plain = random(SEG + 50);
    let input = s.write("p.bin", &plain);
    let enc = s.p("p.kms");
    let o = run(&[
        "encrypt", "-c", &both, "--also", "recovery", "-o", &enc, &input,
    ]);
    assert_code(&o, 0);
    let mut c = kms();
    c.args([
        "decrypt", "-c", &rec, "--offset", "65530", "--length", "40", &enc,
    ]);
    let o = output(c);
    assert_code(&o, 0);
    assert_eq!(o.stdout, plain[65530..65570]);
}
