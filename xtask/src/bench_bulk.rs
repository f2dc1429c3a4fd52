//! Bench row (h): `kms rewrap -r` of many small files, aead -> awskms on moto, at the default
//! `-j` against `-j 1` of the same binary: A/B interleaved, the median of `runs` runs each,
//! with peak RSS, the KMS calls of a run, and a check that both give identical results.
//!
//! Also `cargo xtask bench-rewrap [--files N] [--runs R] [--jobs J,..] [--kms PATH]
//! [--rtt-ms MS]`: only this row (and a `-j` sweep), against moto started here; `--rtt-ms`
//! puts the fault proxy in front, holding each request MS ms, as a KMS across a network does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bench::Row;

/// The old key: examples/dev.hcl's root.
const DEV_ROOT: &str = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=";

/// One timed `kms rewrap --json` run.
struct Once {
    secs: f64,
    rss_kib: Option<u64>,
    /// kms's CPU seconds (user + system).
    cpu: Option<f64>,
    /// The server's CPU seconds during the run.
    server_cpu: Option<f64>,
    report: serde_json::Value,
}

fn run_once(cmd: &mut Command, server: Option<u32>) -> Result<Once, String> {
    let before = server.and_then(crate::bench::cpu_secs);
    let m = crate::bench::measure(cmd, true)?;
    let after = server.and_then(crate::bench::cpu_secs);
    let report = serde_json::from_slice(&m.stdout).map_err(|e| format!("rewrap --json: {e}"))?;
    Ok(Once {
        secs: m.secs,
        rss_kib: m.rss_kib,
        cpu: m.cpu,
        server_cpu: before.zip(after).map(|(b, a)| a - b),
        report,
    })
}

use crate::bench::median;

/// The tree of `files` copies of one 1 KiB file under the aead key, in `tree`.
fn reset_tree(tree: &Path, one: &[u8], files: usize) -> Result<(), String> {
    for i in 0..files {
        let p = tree.join(format!("d{:02}/f{i:05}.kms", i % 50));
        if i < 50 {
            fs::create_dir_all(p.parent().unwrap_or(tree)).map_err(|e| e.to_string())?;
        }
        fs::write(&p, one).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

/// Row (h) and the text of a `-j` sweep. `jobs` are the `-j` values compared with `-j 1`;
/// the first is the one shown as the row (the default).
pub(crate) fn rewrap_jobs_rows(
    kms: &Path,
    dir: &Path,
    (endpoint, arn, server): (&str, &str, Option<u32>),
    files: usize,
    runs: usize,
    jobs: &[usize],
) -> Result<(Vec<Row>, String), String> {
    let work = dir.join("bulk");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let old = work.join("old.hcl");
    let cfg = work.join("to-aws.hcl");
    fs::write(&old, format!("kms \"aead\" {{\n  purpose = \"root\"\n  aead_type = \"aes-gcm\"\n  key = \"{DEV_ROOT}\"\n  key_id = \"global_root\"\n}}\n")).map_err(|e| e.to_string())?;
    fs::write(&cfg, format!("kms \"awskms\" {{\n  purpose = \"root\"\n  kms_key_id = \"{arn}\"\n  endpoint = \"{endpoint}\"\n  region = \"us-east-1\"\n  access_key = \"test\"\n  secret_key = \"test\"\n}}\nkms \"aead\" {{\n  purpose = \"previous-root\"\n  aead_type = \"aes-gcm\"\n  key = \"{DEV_ROOT}\"\n  key_id = \"global_root\"\n}}\n")).map_err(|e| e.to_string())?;
    let plain = work.join("plain.bin");
    fs::write(&plain, vec![7u8; 1024]).map_err(|e| e.to_string())?;
    let one_path = work.join("one.kms");
    let st = Command::new(kms)
        .arg("encrypt")
        .arg("-c")
        .arg(&old)
        .arg("-o")
        .arg(&one_path)
        .arg(&plain)
        .status()
        .map_err(|e| e.to_string())?;
    if !st.success() {
        return Err("kms encrypt of the bench file failed".into());
    }
    let one = fs::read(&one_path).map_err(|e| e.to_string())?;
    let tree: PathBuf = work.join("tree");
    let cmd = |j: usize| {
        let mut c = Command::new(kms);
        c.args(["rewrap", "-q", "--json", "-r", "-j", &j.to_string(), "-c"])
            .arg(&cfg)
            .arg(&tree);
        c
    };
    let mut all_j = vec![1usize];
    all_j.extend(jobs.iter().copied().filter(|&j| j != 1));
    let mut secs: Vec<Vec<f64>> = vec![Vec::new(); all_j.len()];
    let mut rss: Vec<u64> = vec![0; all_j.len()];
    let mut reports: Vec<Option<serde_json::Value>> = vec![None; all_j.len()];
    // Each -j's runs: kms's and the server's share of a core.
    let mut kms_busy: Vec<Vec<f64>> = vec![Vec::new(); all_j.len()];
    let mut server_busy: Vec<Vec<f64>> = vec![Vec::new(); all_j.len()];
    // A/B interleaved: each round runs every -j once, in turn.
    for _ in 0..runs {
        for (k, &j) in all_j.iter().enumerate() {
            reset_tree(&tree, &one, files)?;
            crate::bench::settle();
            let once = run_once(&mut cmd(j), server)?;
            let (s, v) = (once.secs, once.report);
            secs[k].push(s);
            rss[k] = rss[k].max(once.rss_kib.unwrap_or(0));
            // CPU seconds over wall seconds: the share of one core each process kept busy.
            kms_busy[k].extend(once.cpu.map(|c| c / s));
            server_busy[k].extend(once.server_cpu.map(|c| c / s));
            if v["summary"]["rewrapped"].as_u64() != Some(files as u64) {
                return Err(format!(
                    "-j {j}: not every file rewrapped: {}",
                    v["summary"]
                ));
            }
            match &reports[k] {
                None => reports[k] = Some(v),
                Some(first) if *first != v => {
                    return Err(format!("-j {j}: two runs reported differently"))
                }
                Some(_) => {}
            }
        }
    }
    let base = reports[0].clone().unwrap_or_default();
    for (k, r) in reports.iter().enumerate().skip(1) {
        if r.as_ref() != Some(&base) {
            return Err(format!(
                "-j {} and -j 1 report different results (files or KMS calls)",
                all_j[k]
            ));
        }
    }
    let medians: Vec<f64> = secs.iter_mut().map(|v| median(v)).collect();
    let calls = &base["summary"]["kms_calls"];
    let calls_text = format!(
        "{} KMS calls a run (wrap {}, unwrap {}, rewrap {})",
        calls["total"], calls["wrap"], calls["unwrap"], calls["rewrap"]
    );
    let bytes = (one.len() * files) as u64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // What each -j kept busy, in cores: moto is one Python process, so 1.0 is all it has.
    let load: Vec<Option<(f64, f64)>> = (0..all_j.len())
        .map(|k| {
            let (kb, sb) = (&mut kms_busy[k], &mut server_busy[k]);
            (!kb.is_empty() && !sb.is_empty()).then(|| (median(kb), median(sb)))
        })
        .collect();
    let load_text = |k: usize| {
        load[k].map_or(String::new(), |(kb, sb)| {
            format!(
                ", moto busy {:.0}% of its one core, kms {:.2} of {cores} cores",
                sb * 100.0,
                kb
            )
        })
    };
    let mut rows = vec![Row {
        name: format!("(h) kms rewrap -r {files} files -j 1"),
        bytes,
        secs: medians[0],
        rss_kib: Some(rss[0]),
        note: format!(
            "{:.0} files/s; median of {runs}, aead -> awskms (moto); {calls_text}{}",
            files as f64 / medians[0],
            load_text(0)
        ),
    }];
    let mut text = format!(
        "(h) rewrap -j sweep, {files} files of {} bytes, median of {runs} interleaved runs:\n",
        one.len()
    );
    for (k, &j) in all_j.iter().enumerate() {
        text.push_str(&format!(
            "    -j {j:<3} {:>8.3} s  {:>7.0} files/s  {:.2}x -j 1  peak RSS {:.1} MiB{}\n",
            medians[k],
            files as f64 / medians[k],
            medians[0] / medians[k],
            rss[k] as f64 / 1024.0,
            load_text(k)
        ));
        if k == 1 {
            rows.push(Row {
                name: format!("(h) kms rewrap -r {files} files -j {j}"),
                bytes,
                secs: medians[k],
                rss_kib: Some(rss[k]),
                note: format!(
                    "{:.0} files/s, {:.2}x the throughput of -j 1{}; identical results and calls",
                    files as f64 / medians[k],
                    medians[0] / medians[k],
                    load_text(k)
                ),
            });
        }
    }
    let _ = fs::remove_dir_all(&work);
    Ok((rows, text))
}

/// `cargo xtask bench-rewrap`: row (h) alone, against moto started here.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let files = flag("--files").and_then(|s| s.parse().ok()).unwrap_or(5000);
    let runs = flag("--runs").and_then(|s| s.parse().ok()).unwrap_or(5);
    let jobs: Vec<usize> = flag("--jobs")
        .map(|s| s.split(',').filter_map(|j| j.parse().ok()).collect())
        .unwrap_or_else(|| vec![16]);
    // --kms PATH: that binary (e.g. a debug build), with a debug kms-moto.
    let (kms, profile, release) = match flag("--kms") {
        Some(k) => (PathBuf::from(k), "debug", None),
        None => (
            crate::root().join("target/release/kms"),
            "release",
            Some("--release"),
        ),
    };
    if release.is_some() {
        crate::run(
            "build (release)",
            crate::cargo().args(["build", "--release", "-p", "kms-cli"]),
        )?;
    }
    crate::run(
        "build kms-moto",
        crate::cargo()
            .args(["build", "-p", "kms-testsupport", "--features", "bench"])
            .args(release)
            .args(["--bin", "kms-moto"]),
    )?;
    let rtt: u64 = flag("--rtt-ms").and_then(|s| s.parse().ok()).unwrap_or(0);
    let moto = crate::bench::start_moto_at(
        &crate::root().join(format!("target/{profile}/kms-moto")),
        rtt,
    )?;
    println!("moto at {} (each request held {rtt} ms)", moto.endpoint);
    let dir = crate::root().join("target/bench");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let server = moto.server_pid();
    let (rows, text) = rewrap_jobs_rows(
        &kms,
        &dir,
        (&moto.endpoint, &moto.arn, server),
        files,
        runs,
        &jobs,
    )?;
    for r in &rows {
        println!(
            "{:<44} {:>10.3} s {:>10}  {}",
            r.name,
            r.secs,
            r.rss_kib
                .map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            r.note
        );
    }
    print!("{text}");
    Ok(())
}
