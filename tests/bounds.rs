//! Hostile input stays bounded (issue 11, section 4), through the whole binary: config files
//! and their special-file stand-ins, BlobInfo values, stream headers declaring huge segments,
//! and large non-kms files met by rewrap and format detection. Peak memory is measured with
//! GNU time (`/usr/bin/time -f %M`, the kernel's maxrss of the child); never time.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::{aead_config, assert_code, output, run, stderr, Scratch, KEY_A, KEY_B};

/// The bound every command here must stay under, whatever the input.
const RSS_CAP_KIB: u64 = 64 << 10;

fn require_time() -> bool {
    if Path::new("/usr/bin/time").exists() {
        return true;
    }
    assert!(
        std::env::var_os("KMS_REQUIRE_INTEGRATION").is_none(),
        "/usr/bin/time (GNU time) is needed to measure peak RSS"
    );
    eprintln!("note: /usr/bin/time missing; RSS checks skipped");
    false
}

/// The address space the child may reserve: a buffer sized by a header's claims (1 GiB for
/// 64 segments of 16 MiB) fails to allocate even when its pages are never touched.
const ADDRESS_SPACE_KIB: u64 = 256 << 10;

/// Runs `kms ARGS` under GNU time, within [`ADDRESS_SPACE_KIB`] of address space (two rayon
/// threads and two malloc arenas, so the bound does not depend on the core count); returns
/// its output and peak RSS in KiB.
fn run_measured(s: &Scratch, args: &[&str]) -> (Output, u64) {
    let rss = s.path("rss.txt");
    let mut t = Command::new("/usr/bin/time");
    t.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg("sh")
        .arg("-c")
        .arg(format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(support::kms_bin())
        .args(args);
    t.env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RAYON_NUM_THREADS", "2")
        .env("MALLOC_ARENA_MAX", "2");
    let o = output(t);
    let kib = fs::read_to_string(&rss)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .expect("GNU time wrote the peak RSS");
    (o, kib)
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

#[test]
fn config_files_must_be_regular_and_bounded() {
    let s = Scratch::new();
    let good = s.write("good.hcl", aead_config(&[("root", KEY_A, "a")]));
    let input = s.write("plain.txt", b"data");
    let fifo = s.path("fifo.hcl");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap().to_owned();
    // A sparse file over the 16 MiB cap: refused by its size, not read.
    let big = s.path("big.hcl");
    fs::File::create(&big).unwrap().set_len(17 << 20).unwrap();
    let big = big.to_str().unwrap().to_owned();
    for bad in [fifo.as_str(), "/dev/zero", big.as_str()] {
        for args in [
            vec!["check", "--offline", "-c", bad],
            vec!["encrypt", "-c", bad, "-o", "/nonexistent/x", &input],
            vec![
                "encrypt",
                "-c",
                &good,
                "--config-kms",
                bad,
                "-o",
                "/nonexistent/x",
                &input,
            ],
            vec!["config", "decrypt", "-c", &good, bad],
        ] {
            let o = run(&args);
            assert_code(&o, 2);
            let err = stderr(&o);
            assert!(
                err.contains("not a regular file") || err.contains("16 MiB cap"),
                "{args:?}: {err}"
            );
            support::assert_one_line(&format!("{args:?}"), &err);
        }
    }
}

#[test]
fn file_values_must_be_regular_and_bounded() {
    // awskms credentials may come from file:// (as go-kms-wrapping resolves them).
    let s = Scratch::new();
    let fifo = s.path("fifo");
    mkfifo(&fifo);
    let big = s.path("big");
    fs::File::create(&big).unwrap().set_len(65 << 10).unwrap();
    for bad in [fifo.to_str().unwrap(), "/dev/zero", big.to_str().unwrap()] {
        let cfg = s.write(
            "aws.hcl",
            format!(
                "kms \"awskms\" {{\n  purpose = \"root\"\n  region = \"us-east-1\"\n  kms_key_id = \"alias/x\"\n  access_key = \"file://{bad}\"\n  secret_key = \"s\"\n}}\n"
            ),
        );
        let o = run(&["check", "--offline", "-c", &cfg]);
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(
            err.contains("not a regular file") || err.contains("larger than"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn blobinfo_values_are_capped_and_decode_without_amplifying_memory() {
    let s = Scratch::new();
    let cfg = s.write("c.hcl", aead_config(&[("root", KEY_A, "a")]));
    // Over the cap: the error points to the stream format.
    let big = s.path("big.bin");
    fs::File::create(&big).unwrap().set_len(17 << 20).unwrap();
    let o = run(&["encrypt", "--value", "-c", &cfg, big.to_str().unwrap()]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("stream"), "{}", stderr(&o));
    // 15 MiB of packed key_purposes (field 5 → KeyInfo field 8), with a ciphertext: decoded
    // naively this is 60 MiB of i32s, and more while the vector grows.
    let mut key_info = vec![0x42u8]; // field 8, length-delimited (packed)
    let n = 15 << 20;
    push_varint(&mut key_info, n as u64);
    key_info.resize(key_info.len() + n, 1);
    let mut blob = vec![0x0a, 40];
    blob.extend_from_slice(&[7u8; 40]);
    blob.push(0x2a); // field 5, length-delimited
    push_varint(&mut blob, key_info.len() as u64);
    blob.extend_from_slice(&key_info);
    let path = s.write("purposes.bin", &blob);
    if !require_time() {
        return;
    }
    for args in [vec!["decrypt", "-c", &cfg, &path], vec!["inspect", &path]] {
        let (o, kib) = run_measured(&s, &args);
        assert_code(&o, 1);
        assert!(
            stderr(&o).contains("key purposes"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(kib < RSS_CAP_KIB, "{args:?}: peak RSS {kib} KiB");
    }
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[test]
fn stream_memory_is_bounded_by_bytes_not_segment_count() {
    let s = Scratch::new();
    let cfg = s.write("c.hcl", aead_config(&[("root", KEY_A, "a")]));
    // A valid stream whose header declares the largest segment size the format allows.
    let file = s.path("huge-segments.kms");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut opts = kms::ConfigOptions::default();
        opts.encrypt = vec![kms::Purpose::Root];
        let keyring = kms::Keyring::from_config_file(&cfg, &opts).await.unwrap();
        let w = kms::Encryptor::new(keyring.ring(), kms::Purpose::Root)
            .segment_size(16 << 20)
            .wrap_output(fs::File::create(&file).unwrap())
            .await
            .unwrap();
        let mut w = w;
        std::io::Write::write_all(&mut w, b"a small secret").unwrap();
        w.finish().unwrap();
    });
    let file = file.to_str().unwrap().to_owned();
    assert!(fs::metadata(&file).unwrap().len() < 400);
    let o = run(&["decrypt", "-c", &cfg, &file]);
    assert_code(&o, 0);
    assert_eq!(o.stdout, b"a small secret");
    if !require_time() {
        return;
    }
    let out = s.p("out.txt");
    for args in [
        vec!["decrypt", "-c", &cfg, &file],
        vec!["decrypt", "-c", &cfg, "-o", &out, &file],
    ] {
        let (o, kib) = run_measured(&s, &args);
        assert_code(&o, 0);
        assert!(kib < RSS_CAP_KIB, "{args:?}: peak RSS {kib} KiB");
    }
    // Rewrap to another key authenticates the body through the same bounded batches.
    let both = s.write(
        "both.hcl",
        aead_config(&[("root", KEY_B, "b"), ("previous-root", KEY_A, "a")]),
    );
    let (o, kib) = run_measured(&s, &["rewrap", "-c", &both, &file]);
    assert_code(&o, 0);
    assert!(kib < RSS_CAP_KIB, "rewrap: peak RSS {kib} KiB");
}

#[test]
fn large_non_kms_files_are_detected_from_a_bounded_prefix() {
    let s = Scratch::new();
    let cfg = s.write("c.hcl", aead_config(&[("root", KEY_A, "a")]));
    fs::create_dir(s.path("tree")).unwrap();
    // 400 MB of data that is not kms (sparse: no disk used).
    let big = s.path("tree/big.iso");
    fs::File::create(&big)
        .unwrap()
        .set_len(400_000_000)
        .unwrap();
    let big = big.to_str().unwrap().to_owned();
    if !require_time() {
        return;
    }
    let (o, kib) = run_measured(&s, &["rewrap", "-r", "-c", &cfg, &s.p("tree")]);
    assert_code(&o, 0);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("big.iso: not a kms file"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(kib < RSS_CAP_KIB, "rewrap -r: peak RSS {kib} KiB");
    for args in [
        vec!["rewrap", "-c", &cfg, &big],
        vec!["decrypt", "-c", &cfg, &big],
        vec!["inspect", &big],
    ] {
        let (o, kib) = run_measured(&s, &args);
        assert_code(&o, 1);
        assert!(kib < RSS_CAP_KIB, "{args:?}: peak RSS {kib} KiB");
    }
}

#[test]
fn many_kms_blocks_keep_their_checks() {
    // The pool index that makes 25,000 blocks linear still finds a repeated key id.
    let s = Scratch::new();
    let mut text = aead_config(&[("root", KEY_A, "r")]);
    for i in 0..25_000 {
        text += &aead_config(&[("downstream-worker-auth", KEY_B, &format!("w{i}"))]);
    }
    let ok = s.write("many.hcl", &text);
    assert_code(&run(&["check", "--offline", "-c", &ok]), 0);
    text += &aead_config(&[("downstream-worker-auth", KEY_B, "w17")]);
    let dup = s.write("dup.hcl", &text);
    let o = run(&["check", "--offline", "-c", &dup]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("already in the pool"), "{}", stderr(&o));
}

/// The overlapped pipeline (a reader and a writer thread, a few batch buffers) keeps memory
/// bounded by bytes: encrypt and decrypt of an input far larger than the cap, and decrypt
/// and a range read of a stream with the largest segments the format allows (16 MiB; written
/// through the library, since `kms encrypt` writes 64 KiB segments).
#[test]
fn overlapped_pipeline_memory_is_bounded_at_any_size_and_segment_size() {
    if !require_time() {
        return;
    }
    let s = Scratch::new();
    let cfg = s.write("c.hcl", aead_config(&[("root", KEY_A, "a")]));
    let len: u64 = 96 << 20;
    // Sparse: no disk for the input.
    let plain = s.path("big.bin");
    fs::File::create(&plain).unwrap().set_len(len).unwrap();
    let (plain, enc, out) = (
        plain.to_str().unwrap().to_owned(),
        s.p("big.kms"),
        s.p("big.out"),
    );
    let is_zeros = |path: &str| {
        use std::io::Read;
        let mut f = fs::File::open(path).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                return total == len;
            }
            if buf[..n].iter().any(|&b| b != 0) {
                return false;
            }
            total += n as u64;
        }
    };
    for args in [
        vec!["encrypt", "-c", &cfg, "-o", &enc, &plain],
        vec!["decrypt", "-c", &cfg, "-o", &out, &enc],
    ] {
        let (o, kib) = run_measured(&s, &args);
        assert_code(&o, 0);
        assert!(kib < RSS_CAP_KIB, "{args:?}: peak RSS {kib} KiB");
    }
    assert!(is_zeros(&out), "the round trip through the binary");
    fs::remove_file(&enc).unwrap();
    fs::remove_file(&out).unwrap();
    let huge = s.p("huge-segments.kms");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut opts = kms::ConfigOptions::default();
        opts.encrypt = vec![kms::Purpose::Root];
        let keyring = kms::Keyring::from_config_file(&cfg, &opts).await.unwrap();
        let mut w = kms::Encryptor::new(keyring.ring(), kms::Purpose::Root)
            .segment_size(16 << 20)
            .wrap_output(std::io::BufWriter::new(fs::File::create(&huge).unwrap()))
            .await
            .unwrap();
        w.copy_from(&mut fs::File::open(&plain).unwrap()).unwrap();
        w.finish().unwrap();
    });
    let (o, kib) = run_measured(&s, &["decrypt", "-c", &cfg, "-o", &out, &huge]);
    assert_code(&o, 0);
    assert!(
        kib < RSS_CAP_KIB,
        "decrypt, 16 MiB segments: peak RSS {kib} KiB"
    );
    assert!(is_zeros(&out), "the round trip with 16 MiB segments");
    let offset = (40u64 << 20).to_string();
    let length = (20u64 << 20).to_string();
    let args = [
        "decrypt", "-c", &cfg, "--offset", &offset, "--length", &length, "-o", &out, &huge,
    ];
    let (o, kib) = run_measured(&s, &args);
    assert_code(&o, 0);
    assert!(
        kib < RSS_CAP_KIB,
        "range, 16 MiB segments: peak RSS {kib} KiB"
    );
    assert_eq!(fs::metadata(&out).unwrap().len(), 20 << 20);
}
