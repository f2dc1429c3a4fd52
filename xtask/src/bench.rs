//! `cargo xtask bench [--size-mib N] [--skip-aws] [--skip-peer]`: whole-command benchmarks.
//!
//! Prints one table of throughput, peak RSS and ratios measured side by side in this run:
//! (a) raw AES-256-GCM on one core; (b) `cp` of the file; (c) `kms encrypt`/`decrypt` file to
//! file with aead and with awskms on moto; (d) the AWS Encryption CLI against `kms` on a
//! 256 MiB file with the same moto key; (e) 10,000 1 KiB values with and without data-key
//! caching against moto, with KMS call counts; (f) rewrap (every segment authenticated) and
//! rewrap --verify; (g) config reading at N and 10N kms blocks, markers and a one-line
//! marker flood (bench_bounds.rs); (h) encrypt and decrypt of 256 MiB and 1 GiB against cp,
//! A/B interleaved, medians, and (i) a 1 MiB range read against a full decrypt
//! (bench_pipeline.rs; `--only-pipeline` runs these alone). Nothing here asserts on time.
//!
//! moto comes from the tests' own harness (kms-testsupport's `kms-moto` binary), and row (e)
//! is kms-testsupport's `cache_bench` binary (feature `bench`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Instant;

use crate::{cargo, root};

pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) bytes: u64,
    pub(crate) secs: f64,
    pub(crate) rss_kib: Option<u64>,
    pub(crate) note: String,
}

/// One run of a command: wall seconds, and what GNU time saw (peak RSS, CPU user + sys).
pub(crate) struct Measured {
    pub(crate) secs: f64,
    pub(crate) rss_kib: Option<u64>,
    pub(crate) cpu: Option<f64>,
    pub(crate) stdout: Vec<u8>,
}

/// Runs `cmd` to success under /usr/bin/time (when present), with its environment and
/// directory; stdout is kept only when `keep_stdout`.
pub(crate) fn measure(cmd: &mut Command, keep_stdout: bool) -> Result<Measured, String> {
    let stats = std::env::temp_dir().join(format!("kms-bench-time-{}", std::process::id()));
    let use_time = Path::new("/usr/bin/time").exists();
    let mut full = if use_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f")
            .arg("%M %U %S")
            .arg("-o")
            .arg(&stats)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            c.current_dir(d);
        }
        c
    } else {
        std::mem::replace(cmd, Command::new("true"))
    };
    let start = Instant::now();
    let out = full
        .stdin(Stdio::null())
        .stdout(if keep_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    let text = fs::read_to_string(&stats).unwrap_or_default();
    let _ = fs::remove_file(&stats);
    if !out.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            full.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let fields: Vec<&str> = text
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let num = |i: usize| fields.get(i).and_then(|s| s.parse::<f64>().ok());
    Ok(Measured {
        secs,
        rss_kib: num(0).map(|k| k as u64),
        cpu: num(1).zip(num(2)).map(|(u, s)| u + s),
        stdout: out.stdout,
    })
}

/// Runs `cmd` under /usr/bin/time (when present) for peak RSS; returns (seconds, KiB).
pub(crate) fn timed(cmd: &mut Command) -> Result<(f64, Option<u64>), String> {
    let m = measure(cmd, false)?;
    Ok((m.secs, m.rss_kib))
}

/// The best of `n` runs (least disturbed by the shared machine).
pub(crate) fn best(
    n: usize,
    mut f: impl FnMut() -> Result<(f64, Option<u64>), String>,
) -> Result<(f64, Option<u64>), String> {
    let mut best: Option<(f64, Option<u64>)> = None;
    for _ in 0..n {
        let r = f()?;
        if best.is_none_or(|b| r.0 < b.0) {
            best = Some((r.0, r.1.max(best.and_then(|b| b.1))));
        }
    }
    best.ok_or_else(|| "no runs".into())
}

/// Row (c): the best of three `kms OP -c CONFIG -q -o TO FROM`, as a ratio to `cp`'s time.
#[allow(clippy::too_many_arguments)]
fn kms_row(
    kms: &Path,
    op: &str,
    config: &Path,
    from: &Path,
    to: &Path,
    name: &str,
    bytes: u64,
    cp_secs: f64,
) -> Result<Row, String> {
    let (secs, rss_kib) = best(3, || {
        // A fresh output each run: replacing the last run's would time freeing its pages.
        let _ = fs::remove_file(to);
        settle();
        timed(
            Command::new(kms)
                .arg(op)
                .arg("-c")
                .arg(config)
                .arg("-q")
                .arg("-o")
                .arg(to)
                .arg(from),
        )
    })?;
    Ok(Row {
        name: name.into(),
        bytes,
        secs,
        rss_kib,
        note: format!("{:.2}x cp time", secs / cp_secs),
    })
}

pub(crate) fn make_file(path: &Path, mib: u64) -> Result<(), String> {
    if fs::metadata(path)
        .map(|m| m.len() == mib << 20)
        .unwrap_or(false)
    {
        return Ok(());
    }
    use std::io::Write;
    let mut f = std::io::BufWriter::new(fs::File::create(path).map_err(|e| e.to_string())?);
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for i in 0..mib {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&(x ^ i).to_le_bytes()[..chunk.len()]);
        }
        f.write_all(&block).map_err(|e| e.to_string())?;
    }
    f.flush().map_err(|e| e.to_string())
}

/// `cargo xtask bench --only-pipeline`: rows (h) and (i) alone (a shorter run, less scratch).
fn only_pipeline() -> Result<(), String> {
    crate::run(
        "build (release)",
        cargo().args(["build", "--release", "-p", "kms-cli"]),
    )?;
    let kms = root().join("target/release/kms");
    let dir = root().join("target/bench");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let rows = crate::bench_pipeline::pipeline_rows(
        &kms,
        &dir,
        &root().join("examples/dev.hcl"),
        make_file,
    )?;
    print_rows(&rows);
    Ok(())
}

fn print_rows(rows: &[Row]) {
    for r in rows {
        println!(
            "{:<44} {:>12.0} {:>10.3} {:>12}  {}",
            r.name,
            r.bytes as f64 / r.secs / 1e6,
            r.secs,
            r.rss_kib
                .map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            r.note
        );
    }
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let size_mib: u64 = args
        .iter()
        .position(|a| a == "--size-mib")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let skip_aws = args.iter().any(|a| a == "--skip-aws");
    let skip_peer = args.iter().any(|a| a == "--skip-peer");
    if args.iter().any(|a| a == "--only-pipeline") {
        return only_pipeline();
    }
    crate::run(
        "build (release)",
        cargo().args(["build", "--release", "-p", "kms-cli"]),
    )?;
    crate::run(
        "build the in-process bench (release)",
        cargo().args([
            "build",
            "--release",
            "-p",
            "kms-envelope",
            "--example",
            "inproc_bench",
        ]),
    )?;
    crate::run(
        "build kms-moto and cache_bench (release)",
        cargo().args([
            "build",
            "--release",
            "-p",
            "kms-testsupport",
            "--features",
            "bench",
            "--bins",
        ]),
    )?;
    let target = root().join("target/release");
    let kms = target.join("kms");
    let dir = root().join("target/bench");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = dir.join("input.bin");
    make_file(&input, size_mib)?;
    let bytes = size_mib << 20;
    let mut rows: Vec<Row> = Vec::new();

    // (a) raw AES-GCM on one core, and in-process value encryption of 1 MiB values.
    let out = Command::new(target.join("examples/inproc_bench"))
        .arg("2")
        .output()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("inproc_bench output: {e}"))?;
    let raw = v["raw_gcm_bps"].as_f64().unwrap_or(0.0);
    let env = v["value_envelope_1mib_bps"].as_f64().unwrap_or(0.0);
    let direct = v["value_direct_1mib_bps"].as_f64().unwrap_or(0.0);
    let owned = v["value_envelope_owned_1mib_bps"].as_f64().unwrap_or(0.0);
    let provider = v["provider"].as_str().unwrap_or("?").to_owned();

    // (b) cp.
    let copy = dir.join("copy.bin");
    let (cp_secs, cp_rss) = best(3, || {
        let _ = fs::remove_file(&copy);
        settle();
        timed(Command::new("cp").arg(&input).arg(&copy))
    })?;
    let _ = fs::remove_file(&copy);
    rows.push(Row {
        name: format!("(b) cp {size_mib} MiB"),
        bytes,
        secs: cp_secs,
        rss_kib: cp_rss,
        note: "I/O limit".into(),
    });

    // (c) kms encrypt / decrypt with aead.
    let dev = root().join("examples/dev.hcl");
    let enc = dir.join("input.kms");
    let dec = dir.join("output.bin");
    rows.push(kms_row(
        &kms,
        "encrypt",
        &dev,
        &input,
        &enc,
        "(c) kms encrypt, aead",
        bytes,
        cp_secs,
    )?);
    rows.push(kms_row(
        &kms,
        "decrypt",
        &dev,
        &enc,
        &dec,
        "(c) kms decrypt, aead",
        bytes,
        cp_secs,
    )?);
    if fs::read(&dec).map_err(|e| e.to_string())? != fs::read(&input).map_err(|e| e.to_string())? {
        return Err("decrypted output differs from the input".into());
    }

    // (h) encrypt/decrypt vs cp at 256 MiB and 1 GiB, interleaved; (i) range decrypt.
    rows.extend(crate::bench_pipeline::pipeline_rows(
        &kms, &dir, &dev, make_file,
    )?);

    // (f) rewrap's checks; (g) config reading at N and 10N.
    rows.extend(crate::bench_bounds::rewrap_rows(
        &kms, &dir, &enc, bytes, cp_secs,
    )?);
    rows.extend(crate::bench_bounds::scaling_rows(&kms, &dir)?);

    let mut extra = String::new();
    if !skip_aws {
        match aws_rows(&kms, &dir, &input, bytes, cp_secs, skip_peer) {
            Ok((r, text)) => {
                rows.extend(r);
                extra = text;
            }
            Err(e) => eprintln!("xtask bench: AWS rows skipped: {e}"),
        }
    }
    let _ = fs::remove_file(&copy);
    let _ = fs::remove_file(&dec);

    println!();
    println!(
        "{:<44} {:>12} {:>10} {:>12}  ratio / note",
        "row", "MB/s", "seconds", "peak RSS"
    );
    println!(
        "{:<44} {:>12.0} {:>10} {:>12}  one core, {provider}",
        "(a) raw AES-256-GCM, 1 MiB buffers",
        raw / 1e6,
        "-",
        "-"
    );
    println!(
        "{:<44} {:>12.0} {:>10} {:>12}  {:.0}% of (a)",
        "    value encryption, 1 MiB, envelope",
        env / 1e6,
        "-",
        "-",
        100.0 * env / raw
    );
    println!(
        "{:<44} {:>12.0} {:>10} {:>12}  {:.0}% of (a)",
        "    value encryption, 1 MiB, in place",
        owned / 1e6,
        "-",
        "-",
        100.0 * owned / raw
    );
    println!(
        "{:<44} {:>12.0} {:>10} {:>12}  {:.0}% of (a)",
        "    value encryption, 1 MiB, direct (aead)",
        direct / 1e6,
        "-",
        "-",
        100.0 * direct / raw
    );
    print_rows(&rows);
    if !extra.is_empty() {
        println!("{extra}");
    }
    Ok(())
}

/// The median of `v` (the mean of the middle two for an even count; NaN when empty).
pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Writes back every dirty page (`sync`) before a timed run, so that no run shares the two
/// cores with the kernel writing back an earlier one's output: once a few GiB are dirty,
/// writeback threads take a core from whichever command runs then, and a two-thread kms
/// loses more to that than a one-thread cp.
pub(crate) fn settle() {
    let _ = Command::new("sync").status();
}

/// The AWS Encryption CLI: the one on PATH, else one installed (and said so) into a venv in
/// target/, reused by later runs.
fn aws_encryption_cli() -> Result<PathBuf, String> {
    let works = |p: &Path| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works(Path::new("aws-encryption-cli")) {
        return Ok("aws-encryption-cli".into());
    }
    let venv = root().join("target/bench-venv-aws-encryption-cli");
    let cli = venv.join("bin/aws-encryption-cli");
    if !works(&cli) {
        eprintln!(
            "xtask bench: aws-encryption-cli is not installed; installing aws-encryption-sdk-cli from PyPI into {}",
            venv.display()
        );
        crate::run(
            "python3 -m venv",
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
        )?;
        crate::run(
            "pip install aws-encryption-sdk-cli",
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "aws-encryption-sdk-cli",
            ]),
        )?;
    }
    Ok(cli)
}

/// moto through the tests' harness: the `kms-moto` binary, which stops moto when its stdin
/// closes (on drop here, or when xtask dies).
pub(crate) struct Moto {
    child: Child,
    stdin: Option<ChildStdin>,
    pub(crate) endpoint: String,
    pub(crate) arn: String,
}

impl Moto {
    /// The `moto_server` process under `kms-moto`, for its CPU time.
    pub(crate) fn server_pid(&self) -> Option<u32> {
        let parent = self.child.id();
        fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = fs::read(e.path().join("cmdline")).ok()?;
            let is_moto = String::from_utf8_lossy(&cmdline).contains("moto_server");
            (is_moto && descends_from(pid, parent)).then_some(pid)
        })
    }
}

/// The fields of /proc/PID/stat after the parenthesized name (state first, then ppid, ...).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    Some(after_name.split_whitespace().map(str::to_owned).collect())
}

fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

fn descends_from(mut pid: u32, ancestor: u32) -> bool {
    for _ in 0..8 {
        match parent_of(pid) {
            Some(p) if p == ancestor => return true,
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
    false
}

/// User + system CPU seconds of process `pid` so far (/proc/PID/stat, in USER_HZ = 100ths).
pub(crate) fn cpu_secs(pid: u32) -> Option<f64> {
    let f = stat_fields(pid)?;
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn start_moto(delay_ms: u64) -> Result<Moto, String> {
    start_moto_at(&root().join("target/release/kms-moto"), delay_ms)
}

/// moto through the `kms-moto` binary at `bin`; with `delay_ms`, behind the fault proxy
/// holding each request that long.
pub(crate) fn start_moto_at(bin: &Path, delay_ms: u64) -> Result<Moto, String> {
    let mut child = Command::new(bin)
        .env("KMS_MOTO_DELAY_MS", delay_ms.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("kms-moto: {e}"))?;
    let stdin = child.stdin.take();
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let (endpoint, arn) = line
        .split_once(' ')
        .map(|(e, a)| (e.to_owned(), a.trim().to_owned()))
        .unwrap_or_default();
    let moto = Moto {
        child,
        stdin,
        endpoint,
        arn,
    };
    if moto.arn.is_empty() {
        return Err(format!("kms-moto did not start moto (printed {line:?})"));
    }
    Ok(moto)
}

fn aws_env(cmd: &mut Command, endpoint: &str) {
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_KMS", endpoint);
}

fn aws_rows(
    kms: &Path,
    dir: &Path,
    input: &Path,
    bytes: u64,
    cp_secs: f64,
    skip_peer: bool,
) -> Result<(Vec<Row>, String), String> {
    let moto = start_moto(0)?;
    let arn = moto.arn.clone();
    let cfg = dir.join("moto.hcl");
    fs::write(&cfg, format!("kms \"awskms\" {{\n  purpose = \"root\"\n  kms_key_id = \"{arn}\"\n  endpoint = \"{}\"\n  access_key = \"test\"\n  secret_key = \"test\"\n}}\n", moto.endpoint)).map_err(|e| e.to_string())?;
    let enc = dir.join("input.aws.kms");
    let dec = dir.join("output.aws.bin");
    let mut rows = Vec::new();
    rows.push(kms_row(
        kms,
        "encrypt",
        &cfg,
        input,
        &enc,
        "(c) kms encrypt, awskms (moto)",
        bytes,
        cp_secs,
    )?);
    rows.push(kms_row(
        kms,
        "decrypt",
        &cfg,
        &enc,
        &dec,
        "(c) kms decrypt, awskms (moto)",
        bytes,
        cp_secs,
    )?);
    if fs::read(&dec).map_err(|e| e.to_string())? != fs::read(input).map_err(|e| e.to_string())? {
        return Err("awskms: decrypted output differs from the input".into());
    }
    let _ = fs::remove_file(&dec);

    // (d) the AWS Encryption CLI on 256 MiB, same moto key.
    let mut text = String::new();
    if !skip_peer {
        let peer = PathBuf::from(dir).join("peer.bin");
        make_file(&peer, 256)?;
        let pbytes = 256u64 << 20;
        let cli = aws_encryption_cli()?;
        let mut kms_cmd = Command::new(kms);
        kms_cmd
            .arg("encrypt")
            .arg("-c")
            .arg(&cfg)
            .arg("-q")
            .arg("-o")
            .arg(dir.join("peer.kms"))
            .arg(&peer);
        let mut c = Command::new(&cli);
        c.args(["--encrypt", "--input"])
            .arg(&peer)
            .arg("--output")
            .arg(dir.join("peer.aes"))
            .arg("--wrapping-keys")
            .arg(format!("key={arn}"))
            .args([
                "--metadata-output",
                "/dev/null",
                "--commitment-policy",
                "require-encrypt-require-decrypt",
                "--overwrite",
            ]);
        aws_env(&mut c, &moto.endpoint);
        // A/B interleaved, kms then the peer, five pairs; medians.
        let (mut ks, mut ps, mut kr, mut pr) = (Vec::new(), Vec::new(), None, None);
        for _ in 0..5 {
            settle();
            let k = measure(&mut kms_cmd, false)?;
            let _ = fs::remove_file(dir.join("peer.kms"));
            settle();
            let p = measure(&mut c, false)?;
            let _ = fs::remove_file(dir.join("peer.aes"));
            ks.push(k.secs);
            ps.push(p.secs);
            kr = kr.max(k.rss_kib);
            pr = pr.max(p.rss_kib);
        }
        let (k, p) = (median(&mut ks), median(&mut ps));
        rows.push(Row {
            name: "(d) aws-encryption-cli encrypt 256 MiB".into(),
            bytes: pbytes,
            secs: p,
            rss_kib: pr,
            note: "peer, B of the pair (median of 5)".into(),
        });
        rows.push(Row {
            name: "(d) kms encrypt 256 MiB, awskms, A/B".into(),
            bytes: pbytes,
            secs: k,
            rss_kib: kr,
            note: format!("{:.1}x the peer's throughput (median of 5)", p / k),
        });
    }
    // (h) rewrap of many small files, -j default against -j 1.
    let server = moto.server_pid();
    match crate::bench_bulk::rewrap_jobs_rows(
        kms,
        dir,
        (&moto.endpoint, &arn, server),
        5000,
        5,
        &[16],
    ) {
        Ok((r, t)) => {
            rows.extend(r);
            text.push_str(&t);
        }
        Err(e) => eprintln!("xtask bench: rewrap -j rows skipped: {e}"),
    }
    // The same with each KMS request held 10 ms by the fault proxy, as across a network: on
    // loopback, moto (one Python process) is what limits -j; a real KMS answers in parallel.
    match start_moto(10).and_then(|far| {
        let server = far.server_pid();
        crate::bench_bulk::rewrap_jobs_rows(
            kms,
            dir,
            (&far.endpoint, &far.arn, server),
            1000,
            5,
            &[16],
        )
    }) {
        Ok((r, t)) => {
            rows.extend(r.into_iter().map(|mut r| {
                r.name = format!("{} (10 ms round trip)", r.name);
                r
            }));
            text.push_str(&t);
        }
        Err(e) => eprintln!("xtask bench: rewrap -j rows (10 ms) skipped: {e}"),
    }
    // (e) values through the library with and without caching.
    let out = Command::new(root().join("target/release/cache_bench"))
        .arg(&moto.endpoint)
        .arg(&arn)
        .output()
        .map_err(|e| format!("cache_bench: {e}"))?;
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    Ok((rows, text))
}
