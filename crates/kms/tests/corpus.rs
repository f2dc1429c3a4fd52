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
            let id = w
                .factory
                .key_identity(&w.stanza)
                .map(|k| k.id)
                .unwrap_or_default();
            s.push_str(&format!(" key_id={}", id.escape_debug()));
            if AeadConfig::from_stanza(&w.stanza).is_err() {
                s.push_str(" (no key)");
            }
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
                        c.access_key.escape_debug(),
                        c.secret_key.expose_secret().escape_debug(),
                        c.source
                    ));
                    if let Some(t) = &c.session_token {
                        s.push_str(&format!(
                            " session_token={}",
                            t.expose_secret().escape_debug()
                        ));
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
    warnings: Vec<String>,
    /// The lines kept as they are when blessing.
    kept: Vec<String>,
}

fn spec(text: &str) -> Spec {
    let mut s = Spec::default();
    for line in text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        if matches!(word, "env" | "kinds") {
            s.kept.push(line.to_owned());
        }
        match word {
            "env" => {
                let (k, v) = rest.split_once('=').expect("env NAME=VALUE");
                s.env.insert(k.to_owned(), v.to_owned());
            }
            "kinds" => s.kinds = Some(rest.split_whitespace().map(str::to_owned).collect()),
            "wrapper" => s.wrappers.push(rest.to_owned()),
            "error" => s.errors.push(rest.to_owned()),
            "warning" => s.warnings.push(rest.to_owned()),
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
    if std::env::var_os("KMS_BLESS").is_some() {
        bless(&path, &spec, &result);
        return;
    }
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
            let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
            assert_eq!(
                warnings.len(),
                spec.warnings.len(),
                "{name}: expected warnings {:#?}\ngot {warnings:#?}",
                spec.warnings
            );
            for (w, want) in warnings.iter().zip(&spec.warnings) {
                assert!(
                    w.contains(want.as_str()),
                    "{name}: expected a warning with {want:?}\ngot {warnings:#?}"
                );
                assert!(!w.contains("CANARY"), "{name}: a secret in a warning: {w}");
            }
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

/// `KMS_BLESS=1`: rewrites NAME.expected from what kms now makes of NAME (keeping its `env`
/// and `kinds` lines), for a reviewed change of behaviour.
fn bless(
    path: &Path,
    spec: &Spec,
    result: &Result<kms::config::KmsConfig, kms::config::ConfigErrors>,
) {
    let prefix = format!("{}: ", path.display());
    let strip = |s: String| s.strip_prefix(&prefix).map_or(s.clone(), str::to_owned);
    let mut out: Vec<String> = spec.kept.clone();
    match result {
        Ok(config) => {
            out.extend(
                config
                    .wrappers
                    .iter()
                    .map(|w| format!("wrapper {}", render(w))),
            );
            out.extend(
                config
                    .warnings
                    .iter()
                    .map(|w| format!("warning {}", strip(w.to_string()))),
            );
        }
        Err(errors) => out.extend(
            errors
                .0
                .iter()
                .map(|e| format!("error {}", strip(e.to_string()))),
        ),
    }
    let old = fs::read_to_string(path.with_extension("expected")).unwrap();
    let comments: Vec<&str> = old.lines().take_while(|l| l.starts_with('#')).collect();
    let mut text = comments.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&out.join("\n"));
    text.push('\n');
    fs::write(path.with_extension("expected"), text).unwrap();
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
