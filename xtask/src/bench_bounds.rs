//! Rows of `cargo xtask bench` for issue 11: what rewrap's checks cost, and how config
//! reading scales with hostile sizes (N and 10N; linear means a ratio near 10).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::bench::{best, timed, Row};

const KEY_A: &str = "FqxvapaN8ULxnZmK7+0CvoM985iptfJWW7YP3uiVjkE=";
const KEY_B: &str = "d8p8F1KCBdo+dt02M0mFgA3017LmUgnz6wTEyLq88VY=";

fn aead(purpose: &str, key: &str, id: &str) -> String {
    format!("kms \"aead\" {{\n  purpose = \"{purpose}\"\n  aead_type = \"aes-gcm\"\n  key = \"{key}\"\n  key_id = \"{id}\"\n}}\n")
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Rewrap of a stream of `bytes` encrypted under examples/dev.hcl's root key (`enc`): to
/// another aead key (the data key unwrapped locally, every segment authenticated while
/// copying), and `--verify` of the now current file (read only).
pub(crate) fn rewrap_rows(
    kms: &Path,
    dir: &Path,
    enc: &Path,
    bytes: u64,
    cp_secs: f64,
) -> Result<Vec<Row>, String> {
    let cfg = dir.join("rewrap.hcl");
    write(
        &cfg,
        &(aead("root", KEY_B, "bench-new") + &aead("previous-root", KEY_A, "global_root")),
    )?;
    let work = dir.join("rewrap.kms");
    let (secs, rss) = best(3, || {
        fs::copy(enc, &work).map_err(|e| e.to_string())?;
        timed(
            Command::new(kms)
                .arg("rewrap")
                .arg("-q")
                .arg("-c")
                .arg(&cfg)
                .arg(&work),
        )
    })?;
    let (vsecs, vrss) = best(3, || {
        timed(
            Command::new(kms)
                .args(["rewrap", "-q", "--verify", "-c"])
                .arg(&cfg)
                .arg(&work),
        )
    })?;
    let _ = fs::remove_file(&work);
    Ok(vec![
        Row {
            name: "(f) kms rewrap, aead -> aead".into(),
            bytes,
            secs,
            rss_kib: rss,
            note: format!(
                "{:.2}x cp time; data key unwrapped, every segment authenticated",
                secs / cp_secs
            ),
        },
        Row {
            name: "(f) kms rewrap --verify, current file".into(),
            bytes,
            secs: vsecs,
            rss_kib: vrss,
            note: format!(
                "{:.2}x cp time; reads and authenticates only",
                vsecs / cp_secs
            ),
        },
    ])
}

/// Config reading at N and 10N: kms blocks (`check --offline`), `{{decrypt(..)}}` markers
/// (`config decrypt`), and one line of `{{decrypt(` repeated (`check --offline`).
pub(crate) fn scaling_rows(kms: &Path, dir: &Path) -> Result<Vec<Row>, String> {
    let config = aead("config", KEY_A, "bench-config");
    let out = Command::new(kms)
        .args(["encrypt", "--value", "--purpose", "config", "-c"])
        .arg({
            let c = dir.join("config-key.hcl");
            write(&c, &config)?;
            c
        })
        .arg({
            let p = dir.join("config-secret.txt");
            write(&p, "a config secret")?;
            p
        })
        .output()
        .map_err(|e| e.to_string())?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if value.is_empty() {
        return Err("kms encrypt --value gave no value".into());
    }
    type Gen = Box<dyn Fn(usize) -> String>;
    let root = aead("root", KEY_B, "bench-root");
    let cases: Vec<(&str, usize, &[&str], Gen)> = vec![
        ("kms blocks", 2_500, &["check", "--offline"], {
            let root = root.clone();
            Box::new(move |n| {
                let mut s = root.clone();
                for i in 0..n {
                    s += &aead("downstream-worker-auth", KEY_A, &format!("w{i}"));
                }
                s
            })
        }),
        ("{{decrypt(..)}} markers", 3_000, &["config", "decrypt"], {
            let (c, r) = (config.clone(), root.clone());
            Box::new(move |n| {
                let mut s = c.clone() + &r;
                for i in 0..n {
                    s += &format!("v{i} = \"{{{{decrypt({value})}}}}\"\n");
                }
                s
            })
        }),
        (
            "one line of `{{decrypt(`, bytes",
            100_000,
            &["check", "--offline"],
            {
                let (c, r) = (config.clone(), root.clone());
                Box::new(move |n| format!("{c}{r}x = \"{}\"\n", "{{decrypt(".repeat(n / 10)))
            },
        ),
    ];
    let mut rows = Vec::new();
    for (what, n, args, gen) in cases {
        let mut secs = Vec::new();
        for scale in [n, 10 * n] {
            let path = dir.join("scaling.hcl");
            write(&path, &gen(scale))?;
            let (s, rss) = best(3, || {
                let mut c = Command::new(kms);
                c.args(args).arg("-c");
                if args[0] == "config" {
                    c.arg(dir.join("config-key.hcl")).arg(&path);
                } else {
                    c.arg(&path);
                }
                timed_any(&c)
            })?;
            secs.push(s);
            rows.push(Row {
                name: format!("(g) {what}: {scale}"),
                bytes: fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                secs: s,
                rss_kib: rss,
                note: if secs.len() == 2 {
                    format!(
                        "{:.1}x the time of N (linear: at most about 10x, startup included)",
                        secs[1] / secs[0]
                    )
                } else {
                    "N".into()
                },
            });
            let _ = fs::remove_file(&path);
        }
    }
    Ok(rows)
}

/// [`timed`] for a command that may exit non-zero (a refused hostile input), through `sh`.
fn timed_any(c: &Command) -> Result<(f64, Option<u64>), String> {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("\"$@\" >/dev/null 2>&1; exit 0")
        .arg("sh")
        .arg(c.get_program())
        .args(c.get_args());
    timed(&mut sh)
}
