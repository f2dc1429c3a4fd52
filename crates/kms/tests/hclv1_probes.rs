//! HCL v1 probes: small configs on which HCL v1 (Boundary's reader) and HCL 2 differ, each
//! held to Boundary's verdict and wrappers as recorded in `hclv1_probes/ORACLE` from the
//! genuine Go code (`hclv1_probes/record.py`), so this test needs no Go.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use kms::aead::AeadConfig;
use kms::aws::AwsKmsConfig;
use kms::config::{load, LoadOptions, WrapperConfig};

/// Probes where kms and Boundary still differ, each with the reason: configutil semantics
/// rather than syntax, and the leniency of HCL v1's JSON parser, which kms does not copy
/// (it reads JSON strictly). The test checks that they still differ, so that a fix removes
/// them here.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hclv1_probes")
}

/// `(purpose, type, key id)` as the oracle prints it.
fn wrapper(w: &WrapperConfig) -> (String, String, String) {
    let key_id = match w.kind.as_str() {
        "aead" => AeadConfig::from_stanza(&w.stanza).unwrap().key_id,
        "awskms" => AwsKmsConfig::from_stanza(&w.stanza)
            .unwrap()
            .kms_key_id
            .map(|s| s.value)
            .unwrap_or_default(),
        other => panic!("no probe uses {other}"),
    };
    (w.purpose.to_string(), w.kind.to_string(), key_id)
}

/// Boundary's verdict: `Ok(wrappers)` (sorted) or `Err(())`.
type Verdict = Result<Vec<(String, String, String)>, ()>;

fn oracle() -> HashMap<String, Verdict> {
    let text = fs::read_to_string(dir().join("ORACLE")).unwrap();
    let mut out = HashMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.splitn(3, ' ');
        let (name, verdict, rest) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let json = rest.split(" # ").next().unwrap();
        let ws: Vec<(String, String, String)> = serde_json::from_str(json).unwrap();
        let v = match verdict {
            "valid" => Ok(ws),
            "invalid" => Err(()),
            other => panic!("bad verdict {other} in ORACLE"),
        };
        out.insert(name.to_owned(), v);
    }
    out
}

fn kms_verdict(path: &Path) -> (Verdict, String) {
    let opts = LoadOptions {
        backends: kms::backends(),
        env: Some(HashMap::new()),
    };
    match load(path, &opts) {
        Ok(cfg) => {
            let mut ws: Vec<_> = cfg.wrappers.iter().map(wrapper).collect();
            ws.sort();
            (Ok(ws), String::new())
        }
        Err(e) => {
            let shown = e.to_string();
            for line in shown.lines() {
                assert!(line.starts_with(&format!("{}: ", path.display())), "{line}");
            }
            (Err(()), shown)
        }
    }
}

#[test]
fn probes_agree_with_boundary() {
    let oracle = oracle();
    let mut names: Vec<String> = fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hcl") || n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "{} probes", names.len());
    let mut failures = Vec::new();
    for name in &names {
        let path = dir().join(name);
        if name.ends_with(".hcl") && name != "json_text_in_hcl_file.hcl" {
            let text = fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with("# probe: "),
                "{name}: first line says what it probes"
            );
        }
        let want = oracle
            .get(name)
            .unwrap_or_else(|| panic!("{name} has no line in ORACLE (run record.py)"));
        let (got, shown) = kms_verdict(&path);
        let known = KNOWN_DIFFERENCES.iter().find(|(n, _)| n == name);
        match (known, got == *want) {
            (None, true) | (Some(_), false) => {}
            (None, false) => failures.push(format!(
                "{name}: Boundary {want:?}, kms {got:?}\n    {}",
                shown.replace('\n', "\n    ")
            )),
            (Some((_, why)), true) => failures.push(format!(
                "{name}: now agrees with Boundary; remove it from KNOWN_DIFFERENCES ({why})"
            )),
        }
    }
    assert_eq!(oracle.len(), names.len(), "every ORACLE line has its probe");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn syntax_errors_name_line_and_column_and_hide_values() {
    let path = dir().join("function_call_kms.hcl");
    let (_, shown) = kms_verdict(&path);
    assert!(
        shown.ends_with(
            "function_call_kms.hcl: line 5: HCL syntax error at column 13: unknown token IDENT \
             (values are literals, lists and objects; HCL v1 has no expressions, variables or \
             functions)"
        ),
        "{shown}"
    );
    let (_, shown) = kms_verdict(&dir().join("bad_escape.hcl"));
    assert!(!shown.contains("a\\qb"), "{shown}");
}
