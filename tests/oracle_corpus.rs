//! Corpus agreement: on every config of the corpus, `kms check -c FILE --offline` (the whole
//! binary) and Boundary's own reading (`hclv1`, built from HashiCorp's code) agree on the
//! verdict and on the set of (purpose, type, key id) wrappers.
//!
//! The corpus: `shared/oracle/corpus/boundary/` (snippets from Boundary's repository and docs,
//! beside an ancestor of this checkout) and `crates/kms/tests/hclv1_probes/` (our probes of
//! HCL v1 and stanza edge cases, each `.hcl` starting with `# probe: what it probes`).
//! Both run in hclcompare.py's fixed environment; configs of Boundary's other kms plugins are
//! skipped as hclcompare.py skips them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};

use kms_testsupport::oracle::{check_verdict, compare, Oracle, Outcome};

/// Configs on which kms and Boundary disagree today, with how: the temporary list of what is
/// left to fix (issue 10). The test fails when one of them starts agreeing, so that a fix
/// removes its line, and when a line names no corpus file.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn kms_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kms"))
}

/// `shared/oracle/corpus/boundary` beside an ancestor of this checkout.
fn boundary_corpus() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/oracle/corpus/boundary"))
        .find(|p| p.is_dir())
}

fn probes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kms/tests/hclv1_probes")
}

fn configs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hcl" || e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn probes_say_what_they_probe() {
    let files = configs(&probes_dir());
    assert!(
        files.len() >= 100,
        "{} probes, want at least 100",
        files.len()
    );
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "hcl"))
    {
        let text = std::fs::read_to_string(f).unwrap();
        // A `.hcl` file whose text starts with `{` is JSON to HCL v1: it cannot hold a comment.
        if text.trim_start().starts_with('{') {
            continue;
        }
        assert!(
            text.starts_with("# probe: "),
            "{}: the first line says what it probes (# probe: ...)",
            f.display()
        );
    }
}

#[test]
fn kms_check_agrees_with_boundary_on_the_corpus() {
    let Some(oracle) = Oracle::find() else {
        return;
    };
    let corpus = boundary_corpus();
    assert!(
        corpus.is_some() || std::env::var("KMS_REQUIRE_INTEGRATION").map_or(true, |v| v != "1"),
        "shared/oracle/corpus/boundary not found beside an ancestor of {}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if let Some(dir) = &corpus {
        let found = configs(dir);
        assert!(
            found.len() >= 80,
            "{}: {} files",
            dir.display(),
            found.len()
        );
        files.extend(found.into_iter().map(|p| {
            (
                format!("boundary/{}", p.file_name().unwrap().to_string_lossy()),
                p,
            )
        }));
    } else {
        eprintln!("NOTE: shared/oracle/corpus/boundary not found; probes only");
    }
    files.extend(configs(&probes_dir()).into_iter().map(|p| {
        (
            format!("probes/{}", p.file_name().unwrap().to_string_lossy()),
            p,
        )
    }));

    let mut failures = Vec::new();
    let (mut agree, mut skipped, mut known_seen) = (0, 0, Vec::new());
    for (name, path) in &files {
        let boundary = oracle.read(path);
        let out = oracle.kms_check_output(kms_bin(), path);
        let kms = check_verdict(&out);
        let outcome = compare(&boundary, &kms, &String::from_utf8_lossy(&out.stderr));
        let known = KNOWN_DIFFERENCES.iter().find(|(n, _)| n == name);
        match (outcome, known) {
            (Outcome::Agree, None) => agree += 1,
            (Outcome::OutsideScope(types), None) => {
                skipped += 1;
                eprintln!("SKIP {name}: type(s) {types:?} outside kms's scope");
            }
            (Outcome::Disagree(_), Some(_)) => known_seen.push(name.clone()),
            (Outcome::Disagree(how), None) => failures.push(format!(
                "{name}: {how}\n  Boundary: {boundary}\n  kms:      {}",
                kms.to_string().replace('\n', "\n            ")
            )),
            (_, Some((_, why))) => failures.push(format!(
                "{name}: now agrees with Boundary; remove it from KNOWN_DIFFERENCES ({why})"
            )),
        }
    }
    for (name, _) in KNOWN_DIFFERENCES {
        assert!(
            files.iter().any(|(n, _)| n == name),
            "KNOWN_DIFFERENCES names {name}, which is not in the corpus"
        );
    }
    eprintln!(
        "oracle corpus: {} files: {agree} agree, {skipped} outside scope, {} known differences, \
         {} new failures",
        files.len(),
        known_seen.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
