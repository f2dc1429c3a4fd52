//! Project automation, run as `cargo xtask <command>` (see .cargo/config.toml).
//!
//! - `ci`: formatting, clippy, the feature checks and every test, with the moto integration
//!   tests required (a run that would skip them fails).
//! - `demo`: the main job on the embedded default: encrypt and decrypt a file with the aead
//!   dev config in examples/, and show the round trip.
//! - `bench`: whole-command benchmarks (see `bench.rs`); `bench-rewrap`: its rewrap -j row alone (`bench_bulk.rs`).
//! - `oracle-fuzz [--cases N] [--seed S] [--out DIR]`: a longer differential fuzz run against
//!   the oracle (`tests/oracle_fuzz.rs`), writing each disagreement class's minimized example
//!   to DIR.
//! - `man DIR`: man pages for kms and each subcommand (clap_mangen), written into DIR.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench;
mod bench_bounds;
mod bench_bulk;
mod bench_pipeline;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("demo") => demo(),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-rewrap") => bench_bulk::run(&args[1..]),
        Some("oracle-fuzz") => oracle_fuzz(&args[1..]),
        Some("man") => man(&args[1..]),
        _ => Err(
            "usage: cargo xtask <ci|demo|bench|bench-rewrap [--files N] [--runs R] [--jobs J,..] [--kms PATH]|oracle-fuzz [--cases N] [--seed S] [--out DIR]|man DIR>"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

pub(crate) fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: == {what}");
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: failed ({status})"))
    }
}

fn ci() -> Result<(), String> {
    if Command::new("moto_server")
        .arg("--help")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
    {
        eprintln!("xtask: moto_server found");
    } else {
        return Err(
            "moto_server is not on PATH: install it with python3 -m pip install 'moto[server]'"
                .into(),
        );
    }
    // The oracle tests fail without it (KMS_REQUIRE_INTEGRATION=1); say so before building.
    let oracle = std::env::var_os("KMS_ORACLE_DIR")
        .map_or_else(|| root().join("target/oracle"), PathBuf::from)
        .join("hclv1");
    if !oracle.is_file() {
        return Err(format!(
            "the oracle is not built ({} is missing): run .ci/run, or \
             ORACLE_BIN=$PWD/target/oracle ../shared/oracle/build.sh",
            oracle.display()
        ));
    }
    if std::env::var_os("KMS_SKIP_INTEGRATION").is_some() {
        return Err(
            "KMS_SKIP_INTEGRATION is set: CI must run the AWS integration tests against moto"
                .into(),
        );
    }
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    run(
        "cargo clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            // Lints the bench binaries of kms-testsupport and the facade's fuzz-corpus replay
            // too (they are not built otherwise).
            "--features",
            "kms-testsupport/bench,kms/fuzzing",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // Features compose: the provider is picked at the top. The CLI with the aead backend and the
    // pure-Rust provider builds (no C toolchain), and the library works with that provider.
    run(
        "cargo clippy (kms-cli: aead only, RustCrypto only)",
        cargo().args([
            "clippy",
            "-p",
            "kms-cli",
            "--no-default-features",
            "--features",
            "rustcrypto",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "cargo clippy (kms-envelope with RustCrypto only)",
        cargo().args([
            "clippy",
            "-p",
            "kms-envelope",
            "--no-default-features",
            "--features",
            "rustcrypto",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "cargo test (kms with config, RustCrypto only)",
        cargo().args([
            "test",
            "-p",
            "kms",
            "--no-default-features",
            "--features",
            "rustcrypto,config",
        ]),
    )?;
    // A config parser alone never builds a C library, nor the SDK.
    let tree = cargo()
        .args([
            "tree",
            "-p",
            "kms",
            "--no-default-features",
            "--features",
            "rustcrypto,config",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if !tree.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&tree.stderr)
        ));
    }
    let tree = String::from_utf8_lossy(&tree.stdout);
    if let Some(l) = tree.lines().find(|l| {
        ["aws-lc-", "aws-sdk", "aws-config", "aws-smithy", "cmake "]
            .iter()
            .any(|p| l.starts_with(p))
    }) {
        return Err(format!(
            "kms with features rustcrypto,config must build no C library and no SDK, but its tree has {l}"
        ));
    }
    eprintln!("xtask: kms with rustcrypto,config has no aws-lc and no AWS SDK crate in its tree");
    // Each test binary that starts moto leaves a witness file; CI fails if one is missing,
    // so the AWS integration tests cannot be skipped silently.
    let witness = std::env::temp_dir().join(format!("kms-ci-witness-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&witness);
    run(
        "cargo test (integration tests required)",
        cargo()
            // kms/fuzzing: the facade replays the config_parse fuzz corpus.
            .args([
                "test",
                "--workspace",
                "--all-targets",
                "--features",
                "kms/fuzzing",
            ])
            .env("KMS_REQUIRE_INTEGRATION", "1")
            .env_remove("KMS_SKIP_INTEGRATION")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("KMS_INTEGRATION_WITNESS", &witness),
    )?;
    for binary in INTEGRATION_TEST_BINARIES {
        if !witness.join(binary).exists() {
            return Err(format!(
                "the integration tests in `{binary}` did not run against moto or OpenBao (no witness in {})",
                witness.display()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&witness);
    eprintln!(
        "xtask: integration tests ran against moto (NAME) and OpenBao (openbao-NAME) in {}",
        INTEGRATION_TEST_BINARIES.join(", ")
    );
    run(
        "cargo test --doc",
        cargo().args(["test", "--workspace", "--doc"]),
    )?;
    eprintln!("xtask: ci passed");
    Ok(())
}

/// A differential fuzz run against the oracle, longer than CI's: `tests/oracle_fuzz.rs` with
/// its parameters from the arguments. Fails when the oracle is missing or a disagreement class
/// is not among the test's known ones.
fn oracle_fuzz(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "-p",
        "kms-cli",
        "--test",
        "oracle_fuzz",
        "--",
        "--nocapture",
    ])
    .env("KMS_REQUIRE_INTEGRATION", "1")
    .env("KMS_ORACLE_FUZZ_CASES", "100000");
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("oracle-fuzz: {flag} needs a value"))?;
        match flag.as_str() {
            "--cases" | "--seed" => {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("oracle-fuzz: {flag} {value}: not a number"))?;
                let var = if flag == "--cases" {
                    "KMS_ORACLE_FUZZ_CASES"
                } else {
                    "KMS_ORACLE_FUZZ_SEED"
                };
                cmd.env(var, value);
            }
            "--out" => {
                let dir = std::env::current_dir()
                    .map_err(|e| e.to_string())?
                    .join(value);
                cmd.env("KMS_ORACLE_FUZZ_OUT", dir);
            }
            other => return Err(format!("oracle-fuzz: unknown argument {other}")),
        }
    }
    run("oracle differential fuzzing", &mut cmd)
}

/// `cargo xtask man DIR`: builds kms and writes its man pages (`kms.1`, `kms-SUBCOMMAND.1`)
/// into DIR, from the same clap definitions as `--help`.
fn man(args: &[String]) -> Result<(), String> {
    let [dir] = args else {
        return Err("usage: cargo xtask man DIR".into());
    };
    run("build kms", cargo().args(["build", "-p", "kms-cli"]))?;
    let dir = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(dir);
    run(
        "write man pages",
        Command::new(root().join("target/debug/kms"))
            .arg("man")
            .arg(&dir),
    )?;
    eprintln!("xtask: man pages in {}", dir.display());
    Ok(())
}

/// Test binaries whose integration tests must run in CI: a plain name starts moto at least
/// once, `openbao-NAME` is test binary NAME starting OpenBao (`bao server -dev`).
const INTEGRATION_TEST_BINARIES: &[&str] = &[
    "moto",
    "cli",
    "rewrap_accounting",
    "rewrap_bulk",
    "faults",
    "secrets",
    "config_markers",
    "gkw_values",
    "doc_examples",
    "transit_rewrap",
    "openbao-openbao",
    "openbao-transit",
    "openbao-faults",
    "openbao-transit_interop",
    "openbao-transit_rewrap",
];

fn demo() -> Result<(), String> {
    run(
        "build kms",
        // Not --quiet: the first build (the AWS SDK, aws-lc) takes minutes; show progress.
        cargo().args(["build", "--release", "-p", "kms-cli"]),
    )?;
    let kms = root().join("target/release/kms");
    let dir = std::env::temp_dir().join(format!("kms-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = root().join("README.md");
    let enc = dir.join("README.md.kms");
    let dec = dir.join("README.md.out");
    let config = root().join("examples/dev.hcl");
    let step = |args: &[&std::ffi::OsStr]| -> Result<(), String> {
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        eprintln!("$ kms {}", shown.join(" "));
        let status = Command::new(&kms)
            .args(args)
            .status()
            .map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("kms {} failed", shown.join(" ")))
    };
    step(&[
        "encrypt".as_ref(),
        "-c".as_ref(),
        config.as_os_str(),
        "-o".as_ref(),
        enc.as_os_str(),
        input.as_os_str(),
    ])?;
    step(&["inspect".as_ref(), enc.as_os_str()])?;
    step(&[
        "decrypt".as_ref(),
        "-c".as_ref(),
        config.as_os_str(),
        "-o".as_ref(),
        dec.as_os_str(),
        enc.as_os_str(),
    ])?;
    let a = std::fs::read(&input).map_err(|e| e.to_string())?;
    let b = std::fs::read(&dec).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    if a != b {
        return Err("round trip differs".into());
    }
    println!("round trip OK: README.md ({} bytes) encrypted with the aead dev key and decrypted byte-identical", a.len());
    println!(
        "the binary: {}\nto put kms on your PATH: cargo install --locked --path crates/kms-cli",
        kms.display()
    );
    Ok(())
}
