//! Rows of `cargo xtask bench` for issue 14's overlapped pipeline and range reads:
//! (h) `kms encrypt` and `kms decrypt` of 256 MiB and 1 GiB against `cp` of the same bytes,
//! A/B interleaved (kms, cp, kms, cp, ...), the median of `RUNS` (9) runs each, with the ratio,
//! peak RSS and CPU time (user + sys, less noisy than wall time on a shared machine);
//! (i) 1 MiB from the middle of the 1 GiB file (`--offset/--length`) against a full decrypt,
//! interleaved the same way.
//!
//! Scratch stays within 2 GiB at any time: the plaintext and one output while encrypting,
//! then the ciphertext and one output while decrypting; outputs are deleted after each run.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::bench::Row;

const RUNS: usize = 9;

/// One run: wall seconds, peak RSS (KiB) and CPU seconds (user + sys), from GNU time.
#[derive(Clone, Copy)]
struct Run {
    secs: f64,
    rss_kib: Option<u64>,
    cpu: Option<f64>,
}

fn measure(cmd: &mut Command) -> Result<Run, String> {
    let m = crate::bench::measure(cmd, false)?;
    Ok(Run {
        secs: m.secs,
        rss_kib: m.rss_kib,
        cpu: m.cpu,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    crate::bench::median(&mut v)
}

/// Medians over runs: wall, CPU, and the largest peak RSS.
struct Summary {
    secs: f64,
    cpu: Option<f64>,
    rss_kib: Option<u64>,
}

fn summarize(runs: &[Run]) -> Summary {
    let cpus: Vec<f64> = runs.iter().filter_map(|r| r.cpu).collect();
    Summary {
        secs: median(runs.iter().map(|r| r.secs).collect()),
        cpu: (cpus.len() == runs.len()).then(|| median(cpus)),
        rss_kib: runs.iter().filter_map(|r| r.rss_kib).max(),
    }
}

/// Runs the commands `make(i)` for i in 0..k in turn, `RUNS` rounds, calling `after(i)` after
/// each (to delete its output); returns each command's runs.
fn interleaved(
    k: usize,
    mut make: impl FnMut(usize) -> Command,
    mut after: impl FnMut(usize),
) -> Result<Vec<Vec<Run>>, String> {
    let mut runs = vec![Vec::new(); k];
    for _ in 0..RUNS {
        for (i, r) in runs.iter_mut().enumerate() {
            crate::bench::settle();
            r.push(measure(&mut make(i))?);
            after(i);
        }
    }
    Ok(runs)
}

fn cpu_note(s: &Summary) -> String {
    s.cpu.map_or(String::new(), |c| format!(", CPU {c:.2} s"))
}

/// kms (A) against cp (B): the row for A with its ratio to B, and B's row.
fn pair_rows(what: &str, mib: u64, kms: &Summary, cp: &Summary) -> [Row; 2] {
    let bytes = mib << 20;
    [
        Row {
            name: format!("(h) {what} {mib} MiB, A/B"),
            bytes,
            secs: kms.secs,
            rss_kib: kms.rss_kib,
            note: format!(
                "{:.2}x cp (median of {RUNS}){}",
                kms.secs / cp.secs,
                cpu_note(kms)
            ),
        },
        Row {
            name: format!("    cp of the same {mib} MiB"),
            bytes,
            secs: cp.secs,
            rss_kib: cp.rss_kib,
            note: format!("B of the pair{}", cpu_note(cp)),
        },
    ]
}

fn kms_cmd(kms: &Path, config: &Path, extra: &[&str], to: &Path, from: &Path) -> Command {
    let mut c = Command::new(kms);
    c.args(extra)
        .arg("-c")
        .arg(config)
        .arg("-q")
        .arg("-o")
        .arg(to)
        .arg(from);
    c
}

fn cp_cmd(from: &Path, to: &Path) -> Command {
    let mut c = Command::new("cp");
    c.arg(from).arg(to);
    c
}

/// Rows (h) and (i) for 256 MiB and 1 GiB, in `dir`, with the aead dev config.
pub(crate) fn pipeline_rows(
    kms: &Path,
    dir: &Path,
    config: &Path,
    make_file: impl Fn(&Path, u64) -> Result<(), String>,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let plain = dir.join("pipe-plain.bin");
    let enc = dir.join("pipe-plain.kms");
    let out = dir.join("pipe-out.bin");
    let rm = |p: &Path| {
        let _ = fs::remove_file(p);
    };
    for mib in [256u64, 1024] {
        make_file(&plain, mib)?;
        let runs = interleaved(
            2,
            |i| match i {
                0 => kms_cmd(kms, config, &["encrypt"], &enc, &plain),
                _ => cp_cmd(&plain, &out),
            },
            // Both outputs go after each run: replacing an existing 1 GiB file would charge
            // freeing its pages to whichever command replaced it.
            |i| rm(if i == 0 { &enc } else { &out }),
        )?;
        rows.extend(pair_rows(
            "kms encrypt",
            mib,
            &summarize(&runs[0]),
            &summarize(&runs[1]),
        ));
        // One more, untimed, for decryption; then the plaintext goes.
        let status = kms_cmd(kms, config, &["encrypt"], &enc, &plain)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("kms encrypt failed".into());
        }
        rm(&plain);
        let mid = ((mib << 20) / 2).to_string();
        let one_mib = (1u64 << 20).to_string();
        let range = ["decrypt", "--offset", &mid, "--length", &one_mib];
        let k = if mib == 1024 { 3 } else { 2 };
        let runs = interleaved(
            k,
            |i| match i {
                0 => kms_cmd(kms, config, &["decrypt"], &out, &enc),
                1 => cp_cmd(&enc, &out),
                _ => kms_cmd(kms, config, &range, &out, &enc),
            },
            |_| rm(&out),
        )?;
        let full = summarize(&runs[0]);
        rows.extend(pair_rows("kms decrypt", mib, &full, &summarize(&runs[1])));
        if k == 3 {
            let r = summarize(&runs[2]);
            rows.push(Row {
                name: format!("(i) range: 1 MiB from the middle of {mib} MiB"),
                bytes: 1 << 20,
                secs: r.secs,
                rss_kib: r.rss_kib,
                note: format!(
                    "{:.1}% of a full decrypt (median of {RUNS}, interleaved){}",
                    100.0 * r.secs / full.secs,
                    cpu_note(&r)
                ),
            });
        }
        rm(&enc);
    }
    Ok(rows)
}
