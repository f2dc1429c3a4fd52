//! The corpus: real-shaped Boundary controller and worker configs, each with its expected
//! outcome in `NAME.expected` (format in `corpus/README.md`). One line per case below.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use kms::aead::AeadConfig;
use kms::aws::AwsKmsConfig;
use kms::config::{load, LoadOptions, Sourced, WrapperConfig};

macro_rules! corpus {
    ($($test:ident: $file:literal;)*) => {
        $( #[test] fn $test() { run($file) } )*
        const CASES: &[&str] = &[$($file),*];
    };
}

corpus! {
    controller_full: "controller_full.hcl";
    worker_full: "worker_full.hcl";
    awskms_full: "awskms_full.hcl";
    awskms_env: "awskms_env.hcl";
    awskms_key_id_fallback: "awskms_key_id_fallback.hcl";
    purpose_forms: "purpose_forms.hcl";
    heredoc_and_labels: "heredoc_and_labels.hcl";
    rotation: "rotation.hcl";
    disabled_blocks: "disabled_blocks.hcl";
    empty: "empty.hcl";
    json_list: "json_list.json";
    json_object: "json_object.json";
    aead_only_build: "aead_only_build.hcl";
    err_aead_key: "err_aead_key.hcl";
    err_duplicate_purpose: "err_duplicate_purpose.hcl";
    err_env_file_missing: "err_env_file_missing.hcl";
    err_half_credentials: "err_half_credentials.hcl";
    err_json_body: "err_json_body.json";
    err_json_shape: "err_json_shape.json";
    err_many: "err_many.hcl";
    err_no_purpose: "err_no_purpose.hcl";
    err_previous_root_without_root: "err_previous_root_without_root.hcl";
    err_same_key_env: "err_same_key_env.hcl";
    err_same_key_id: "err_same_key_id.hcl";
    err_same_kms_key_id: "err_same_kms_key_id.hcl";
    err_syntax: "err_syntax.hcl";
    err_syntax_json: "err_syntax_json.json";
    err_syntax_single_line: "err_syntax_single_line.hcl";
    err_types: "err_types.hcl";
    err_unknown_attribute: "err_unknown_attribute.hcl";
    err_unknown_purpose: "err_unknown_purpose.hcl";
    err_unknown_type: "err_unknown_type.hcl";
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn sourced(s: &Option<Sourced<String>>) -> String {
    s.as_ref()
        .map_or_else(|| "-".to_owned(), |s| format!("{}[{}]", s.value, s.source))
}

/// One wrapper as an `.expected` line shows it (after `wrapper `).
fn render(w: &WrapperConfig) -> String {
    let mut s = format!("{} {} line={}", w.purpose, w.kind, w.line);
    match w.kind.as_str() {
        "aead" => {
            let a = AeadConfig::from_stanza(&w.stanza).unwrap();
            s.push_str(&format!(" key_id={}", a.key_id.escape_debug()));
        }
        "awskms" => {
            let a = AwsKmsConfig::from_stanza(&w.stanza).unwrap();
            s.push_str(&format!(
                " kms_key_id={} region={} endpoint={} credentials=",
                sourced(&a.kms_key_id),
                sourced(&a.region),
                sourced(&a.endpoint)
            ));
            match &a.credentials {
                None => s.push('-'),
                Some(c) => {
                    s.push_str(&format!(
                        "{}:{}[{}]",
                        c.access_key,
                        c.secret_key.expose_secret(),
                        c.source
                    ));
                    if let Some(t) = &c.session_token {
                        s.push_str(&format!(" session_token={}", t.expose_secret()));
                    }
                }
            }
            let extra = [
                ("shared_creds_filename", &a.shared_creds_filename),
                ("shared_creds_profile", &a.shared_creds_profile),
                ("role_arn", &a.role_arn),
                ("role_session_name", &a.role_session_name),
                ("web_identity_token_file", &a.web_identity_token_file),
            ];
            for (k, v) in extra {
                if let Some(v) = v {
                    s.push_str(&format!(" {k}={v}"));
                }
            }
            if a.disallow_env_vars {
                s.push_str(" disallow_env_vars");
            }
            if a.key_not_required {
                s.push_str(" key_not_required");
            }
        }
        other => s.push_str(&format!(" {other:?}")),
    }
    s
}

#[derive(Default)]
struct Spec {
    env: HashMap<String, String>,
    kinds: Option<Vec<String>>,
    wrappers: Vec<String>,
    errors: Vec<String>,
}

fn spec(text: &str) -> Spec {
    let mut s = Spec::default();
    for line in text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "env" => {
                let (k, v) = rest.split_once('=').expect("env NAME=VALUE");
                s.env.insert(k.to_owned(), v.to_owned());
            }
            "kinds" => s.kinds = Some(rest.split_whitespace().map(str::to_owned).collect()),
            "wrapper" => s.wrappers.push(rest.to_owned()),
            "error" => s.errors.push(rest.to_owned()),
            _ => panic!("bad .expected line: {line}"),
        }
    }
    s
}

fn run(name: &str) {
    let path = dir().join(name);
    let expected = fs::read_to_string(path.with_extension("expected")).expect("NAME.expected");
    let spec = spec(&expected);
    let backends = kms::backends()
        .into_iter()
        .filter(|f| {
            spec.kinds
                .as_ref()
                .is_none_or(|k| k.iter().any(|k| f.schema().kind == k.as_str()))
        })
        .collect();
    let opts = LoadOptions {
        backends,
        env: Some(spec.env.clone()),
    };
    let result = load(&path, &opts);
    // Secrets in the corpus contain CANARY: they must never be shown.
    let debug = format!("{result:?}");
    assert!(
        !debug.contains("CANARY"),
        "{name}: a secret in Debug: {debug}"
    );
    match result {
        Ok(config) => {
            assert!(
                spec.errors.is_empty(),
                "{name}: expected errors {:#?}, but it parsed: {config:#?}",
                spec.errors
            );
            assert_eq!(config.source, path.display().to_string());
            let got: Vec<String> = config.wrappers.iter().map(render).collect();
            assert_eq!(got, spec.wrappers, "{name}: wrappers");
        }
        Err(errors) => {
            let shown = errors.to_string();
            eprintln!("{shown}");
            assert!(
                !shown.contains("CANARY"),
                "{name}: a secret in a message: {shown}"
            );
            let lines: Vec<&str> = shown.lines().collect();
            assert_eq!(lines.len(), errors.0.len(), "{name}: one line per problem");
            assert!(
                spec.wrappers.is_empty(),
                "{name}: expected wrappers, got errors:\n{shown}"
            );
            assert_eq!(
                lines.len(),
                spec.errors.len(),
                "{name}: expected {:#?}\ngot:\n{shown}",
                spec.errors
            );
            for (line, want) in lines.iter().zip(&spec.errors) {
                assert!(
                    line.contains(want.as_str()),
                    "{name}: expected a line with {want:?}\ngot:\n{shown}"
                );
                assert!(
                    line.starts_with(&format!("{}: ", path.display())),
                    "{name}: names the file: {line}"
                );
            }
        }
    }
}

#[test]
fn every_corpus_file_has_a_case_and_an_expectation() {
    let mut configs = Vec::new();
    for entry in fs::read_dir(dir()).unwrap() {
        let p = entry.unwrap().path();
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        match p.extension().and_then(|e| e.to_str()) {
            Some("hcl" | "json") => {
                assert!(
                    p.with_extension("expected").exists(),
                    "{file} has no .expected"
                );
                configs.push(file);
            }
            Some("expected") => {
                assert!(
                    p.with_extension("hcl").exists() || p.with_extension("json").exists(),
                    "{file} has no config"
                );
            }
            _ => {}
        }
    }
    configs.sort();
    let mut listed: Vec<String> = CASES.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(
        configs, listed,
        "every corpus config is listed in corpus! {{}} exactly once"
    );
}
