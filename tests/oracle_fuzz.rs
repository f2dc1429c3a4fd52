//! Differential fuzzing against the oracle: seeded configs from
//! `kms_testsupport::oracle::gen`, each read by Boundary's own code (`hclv1`) and by kms.
//!
//! kms reads each case in-process (`kms::config::load`, the oracle's fixed environment) for
//! speed; whenever that reading disagrees with Boundary's, configures no wrapper, or the case
//! is one of every 32, the whole `kms check --offline` binary reads it too and its verdict is
//! the one compared (so the in-process shortcut can neither hide nor invent a disagreement
//! that the binary would not show; a sampled case where the two kms readings differ fails).
//!
//! Environment: `KMS_ORACLE_FUZZ_CASES` (default 10000), `KMS_ORACLE_FUZZ_SEED` (default
//! 20261129), `KMS_ORACLE_FUZZ_OUT=DIR` (write each disagreement class's smallest example
//! there, minimized by lines). `cargo xtask oracle-fuzz` sets them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use kms::aead::AeadConfig;
use kms::aws::AwsKmsConfig;
use kms::config::{load, LoadOptions, WrapperConfig};
use kms_testsupport::oracle::{compare, gen, Oracle, Outcome, Verdict, Wrapper};

/// Disagreement classes that exist today, each with the probe in
/// `crates/kms/tests/hclv1_probes/` that pins it (the corpus test lists the same probes in
/// its KNOWN_DIFFERENCES): the temporary list of what is left to fix. Matched as substrings of
/// [`signature`]. An entry whose probe agrees with Boundary fails the test, so that a fix
/// removes its entries here.
const KNOWN_CLASSES: &[(&str, &str)] = &[];

fn kms_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kms"))
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
        })
        .unwrap_or(default)
}

/// `(purpose, type, key id)` as the oracle prints it (hclv1_probes.rs's `wrapper()`).
fn wrapper(w: &WrapperConfig) -> Wrapper {
    let key_id = match w.kind.as_str() {
        "aead" => AeadConfig::from_stanza(&w.stanza)
            .map(|c| c.key_id)
            .unwrap_or_else(|_| "(aead stanza does not build)".to_owned()),
        "awskms" => AwsKmsConfig::from_stanza(&w.stanza)
            .map(|c| c.kms_key_id.map(|s| s.value).unwrap_or_default())
            .unwrap_or_else(|_| "(awskms stanza does not build)".to_owned()),
        other => format!("(no key id for type {other})"),
    };
    (w.purpose.to_string(), w.kind.to_string(), key_id)
}

fn in_process(path: &Path, opts: &LoadOptions) -> (Verdict, String) {
    match load(path, opts) {
        Ok(cfg) => {
            let mut ws: Vec<_> = cfg.wrappers.iter().map(wrapper).collect();
            ws.sort();
            (Verdict::Valid(ws), String::new())
        }
        Err(e) => {
            let text = e.to_string();
            (Verdict::Invalid(text.clone()), text)
        }
    }
}

/// Digits, quoted texts and file names folded, so that one rule's messages group together.
fn fold(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('N');
            }
            '"' | '\'' => {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
                out.push('Q');
            }
            _ => out.push(c),
        }
    }
    out
}

/// The class of a disagreement: how they differ, Boundary's reason and kms's, folded.
fn signature(how: &str, boundary: &Verdict, kms: &Verdict, file: &Path) -> String {
    let name = file.display().to_string();
    let reason = |v: &Verdict| match v {
        Verdict::Valid(_) => "valid".to_owned(),
        Verdict::Invalid(why) => {
            let first = why
                .lines()
                .find(|l| !l.to_lowercase().contains("warning:"))
                .unwrap_or("");
            let first = first.replace(&name, "FILE");
            let first = first.split_once("At ").map_or(first.clone(), |(a, b)| {
                format!("{a}{}", b.split_once(": ").map_or(b, |x| x.1))
            });
            fold(&first).chars().take(110).collect()
        }
    };
    let diff = match (boundary, kms) {
        (Verdict::Valid(b), Verdict::Valid(k)) => {
            let proj = |ws: &[Wrapper], f: fn(&Wrapper) -> String| {
                let mut v: Vec<String> = ws.iter().map(f).collect();
                v.sort();
                v
            };
            if proj(b, |w| w.0.clone()) != proj(k, |w| w.0.clone()) {
                "purposes differ".to_owned()
            } else if proj(b, |w| w.1.clone()) != proj(k, |w| w.1.clone()) {
                "types differ".to_owned()
            } else {
                "key ids differ".to_owned()
            }
        }
        _ => String::new(),
    };
    format!(
        "{how}{} | boundary: {} | kms: {}",
        if diff.is_empty() {
            String::new()
        } else {
            format!(" ({diff})")
        },
        reason(boundary),
        reason(kms)
    )
}

#[derive(Clone)]
struct Finding {
    index: u64,
    ext: &'static str,
    text: String,
    boundary: Verdict,
    kms: Verdict,
}

/// kms's verdict on `file` as the binary gives it, and its stderr.
fn binary(oracle: &Oracle, file: &Path) -> (Verdict, String) {
    let out = oracle.kms_check_output(kms_bin(), file);
    (
        kms_testsupport::oracle::check_verdict(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The class of `text`'s disagreement, if the two still disagree on it (written to `file`).
fn judge(oracle: &Oracle, file: &Path, text: &str) -> Option<(String, Verdict, Verdict)> {
    std::fs::write(file, text).unwrap();
    judge_file(oracle, file)
}

/// The class of the disagreement on `file`, if the two disagree on it.
fn judge_file(oracle: &Oracle, file: &Path) -> Option<(String, Verdict, Verdict)> {
    let b = oracle.read(file);
    let (k, err) = binary(oracle, file);
    match compare(&b, &k, &err) {
        Outcome::Disagree(how) => Some((signature(&how, &b, &k, file), b, k)),
        _ => None,
    }
}

/// Drops runs of 3, 2, then 1 lines while the same class remains; the smaller text and the
/// two verdicts on it.
fn minimize(oracle: &Oracle, file: &Path, text: &str, class: &str) -> (String, Verdict, Verdict) {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    for run in [3, 2, 1] {
        let mut i = 0;
        while i + run <= lines.len() {
            let mut trial = lines.clone();
            trial.drain(i..i + run);
            let t: String = trial.concat();
            if judge(oracle, file, &t).is_some_and(|(c, _, _)| c == class) {
                lines = trial;
            } else {
                i += 1;
            }
        }
    }
    let text = lines.concat();
    let (_, b, k) = judge(oracle, file, &text).expect("the minimized text still disagrees");
    (text, b, k)
}

#[test]
fn kms_check_agrees_with_boundary_on_generated_configs() {
    let Some(oracle) = Oracle::find() else {
        return;
    };
    let cases = env_u64("KMS_ORACLE_FUZZ_CASES", 10_000);
    let seed = env_u64("KMS_ORACLE_FUZZ_SEED", 20_261_129);
    let out_dir = std::env::var_os("KMS_ORACLE_FUZZ_OUT").map(PathBuf::from);
    let scratch = tempfile::tempdir().unwrap();
    for (name, text) in gen::AUX_FILES {
        std::fs::write(scratch.path().join(name), text).unwrap();
    }
    // `file://` paths are relative: kms reads them from the process's directory, hclv1 and
    // `kms check` from the file's. This test binary holds this one test.
    std::env::set_current_dir(scratch.path()).unwrap();
    let env: HashMap<String, String> = oracle.env();
    let opts = LoadOptions::new(kms::backends()).with_env(env);

    let next = AtomicU64::new(0);
    let findings: Mutex<Vec<Finding>> = Mutex::new(Vec::new());
    let drift: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let stats = Mutex::new((0u64, 0u64, 0u64)); // agree, outside scope, binary runs
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= cases {
                    break;
                }
                let case = gen::case(seed, i);
                let file = scratch.path().join(format!("c{i}.{}", case.ext));
                std::fs::write(&file, &case.text).unwrap();
                let b = oracle.read(&file);
                let (fast, fast_err) = in_process(&file, &opts);
                let fast_outcome = compare(&b, &fast, &fast_err);
                let sampled = i % 32 == 0;
                let needs_binary = fast_outcome != Outcome::Agree
                    && !matches!(fast_outcome, Outcome::OutsideScope(_))
                    || matches!(&fast, Verdict::Valid(w) if w.is_empty())
                    || sampled;
                let (k, k_err) = if needs_binary {
                    stats.lock().unwrap().2 += 1;
                    binary(&oracle, &file)
                } else {
                    (fast.clone(), fast_err)
                };
                if sampled && !fast.wrappers().is_empty() && fast.is_valid() != k.is_valid() {
                    drift.lock().unwrap().push(format!(
                        "case {i}: kms::config::load says {fast}, kms check says {k}:\n{}",
                        case.text
                    ));
                }
                match compare(&b, &k, &k_err) {
                    Outcome::Agree => stats.lock().unwrap().0 += 1,
                    Outcome::OutsideScope(_) => stats.lock().unwrap().1 += 1,
                    Outcome::Disagree(_) => findings.lock().unwrap().push(Finding {
                        index: i,
                        ext: case.ext,
                        text: case.text,
                        boundary: b,
                        kms: k,
                    }),
                }
                let _ = std::fs::remove_file(&file);
            });
        }
    });
    let findings = findings.into_inner().unwrap();
    let (agree, outside, binary_runs) = stats.into_inner().unwrap();
    eprintln!(
        "oracle fuzz: seed {seed}, {cases} cases: {agree} agree, {outside} outside kms's scope, \
         {} disagree ({binary_runs} read by the kms binary too)",
        findings.len()
    );

    // Group by class; keep the smallest example of each.
    let mut classes: BTreeMap<String, (usize, Finding)> = BTreeMap::new();
    for f in findings {
        let file = scratch.path().join(format!("c{}.{}", f.index, f.ext));
        let how = match compare(&f.boundary, &f.kms, "") {
            Outcome::Disagree(how) => how,
            _ => unreachable!("kept only disagreements"),
        };
        let class = signature(&how, &f.boundary, &f.kms, &file);
        let e = classes.entry(class).or_insert((0, f.clone()));
        e.0 += 1;
        if f.text.len() < e.1.text.len() {
            e.1 = f;
        }
    }
    let mut report = Vec::new();
    let mut unknown = 0;
    for (n, (class, (count, f))) in classes.iter().enumerate() {
        let file = scratch.path().join(format!("min{n}.{}", f.ext));
        let known = KNOWN_CLASSES.iter().find(|(m, _)| class.contains(m));
        // Known classes are pinned by their probes: minimized only for a long run's output.
        let (text, boundary, kms) = if known.is_none() || out_dir.is_some() {
            minimize(&oracle, &file, &f.text, class)
        } else {
            (f.text.clone(), f.boundary.clone(), f.kms.clone())
        };
        if known.is_none() {
            unknown += 1;
        }
        report.push(format!(
            "{}{count} × {class}\n  e.g. case {} ({}):\n    {}\n  Boundary: {}\n  kms:      {}",
            if known.is_some() { "[known] " } else { "" },
            f.index,
            f.ext,
            text.trim_end().replace('\n', "\n    "),
            boundary,
            kms.to_string().replace('\n', "\n            ")
        ));
        if let Some(dir) = &out_dir {
            std::fs::create_dir_all(dir).unwrap();
            let body = if f.ext == "hcl" {
                format!("# fuzz: seed {seed} case {}: {class}\n{text}", f.index)
            } else {
                text.clone()
            };
            std::fs::write(dir.join(format!("class{n:03}.{}", f.ext)), body).unwrap();
        }
    }
    // A class is known while its probe still disagrees with Boundary.
    let probes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kms/tests/hclv1_probes");
    let mut stale: Vec<&str> = Vec::new();
    for (_, probe) in KNOWN_CLASSES {
        let path = probes.join(probe);
        assert!(
            path.is_file(),
            "KNOWN_CLASSES names {probe}, which is not a probe"
        );
        if judge_file(&oracle, &path).is_none() && !stale.contains(probe) {
            stale.push(probe);
        }
    }
    eprintln!("{}", report.join("\n\n"));
    let drift = drift.into_inner().unwrap();
    assert!(
        drift.is_empty(),
        "kms::config::load and `kms check` read configs differently (fix this test's \
         in-process reading):\n{}",
        drift.join("\n")
    );
    assert_eq!(
        unknown, 0,
        "{unknown} disagreement class(es) with Boundary not in KNOWN_CLASSES (see above; \
         reproduce with KMS_ORACLE_FUZZ_SEED={seed})"
    );
    assert!(
        stale.is_empty(),
        "the probes of these KNOWN_CLASSES entries agree with Boundary now: remove the entries \
         {stale:?}"
    );
}
