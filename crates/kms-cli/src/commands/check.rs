//! `kms check`: validate a config, and (online) verify each key with its backend.

use std::process::ExitCode;
use std::sync::Arc;

use kms::config::{KmsConfig, WrapperConfig};
use kms::core::stanza::{redact_userinfo, Source, Value as Setting};
use kms::Backend;
use serde_json::{json, Value};

use super::common::{load_config, load_config_quietly, warnings_value};
use crate::cli::CheckArgs;
use crate::display::one_line;
use crate::failure::{CliResult, Failure};
use crate::report::{emit, error_value};

pub(crate) async fn check(a: CheckArgs) -> CliResult<ExitCode> {
    if a.json {
        return check_json(a).await;
    }
    let config = load_config(&a.config).await?;
    if a.strict && !config.warnings.is_empty() {
        return Err(strict_refusal(&config, "above"));
    }
    if a.offline {
        for w in &config.wrappers {
            println!("{}", one_line(&kms::keyring::describe(w)));
        }
        println!(
            "{}: valid ({} wrappers; offline: no key was contacted)",
            config.source,
            config.wrappers.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let purposes: Vec<_> = config.wrappers.iter().map(|w| w.purpose).collect();
    let keyring = kms::Keyring::build(&config, &purposes)
        .await
        .map_err(|e| Failure::from_error("", e))?;
    for w in keyring.wrappers() {
        let cfg = &w.config;
        w.verify(&config.source)
            .await
            .map_err(|e| Failure::from_error("", e))?;
        let details: String = w
            .backend
            .describe()
            .iter()
            .map(|(k, v)| format!(" {k}={v}"))
            .collect();
        let line = format!(
            "{} resolved_key={}{details} round_trip=ok",
            kms::keyring::describe(cfg),
            w.backend.key_id()
        );
        println!("{}", one_line(&line));
    }
    println!(
        "{}: valid ({} wrappers verified online)",
        config.source,
        config.wrappers.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn strict_refusal(config: &KmsConfig, where_: &str) -> Failure {
    Failure::usage(format!(
        "{}: refused under --strict: {} warning(s) {where_}; fix them, or drop --strict to accept what Boundary accepts",
        config.source,
        config.warnings.len()
    ))
}

/// `kms check --json`: the same checks, every wrapper tried online even after one failed; the
/// exit code and `error` are those of the first failure, as the text form would stop at.
async fn check_json(a: CheckArgs) -> CliResult<ExitCode> {
    let config = load_config_quietly(&a.config).await?;
    let mut failure = (a.strict && !config.warnings.is_empty())
        .then(|| strict_refusal(&config, "in \"warnings\""));
    let online = !a.offline && failure.is_none();
    // One backend per stanza, shared by its purposes (as `Keyring::build`).
    let mut built: Vec<(&Arc<kms::core::stanza::Stanza>, Built)> = Vec::new();
    let mut wrappers = Vec::new();
    for w in &config.wrappers {
        let mut entry = wrapper_value(w);
        if online {
            let backend = match built.iter().find(|(s, _)| Arc::ptr_eq(s, &w.stanza)) {
                Some((_, b)) => b.clone(),
                None => {
                    let b = w
                        .factory
                        .build(&w.stanza, true)
                        .await
                        .map_err(|e| failure_parts(e.context(w.place(&config.source))));
                    built.push((&w.stanza, b.clone()));
                    b
                }
            };
            let result = match backend {
                Ok(backend) => verify(w, backend, &config.source).await,
                Err(e) => Err(e),
            };
            entry["online"] = match result {
                Ok(v) => v,
                Err((code, message)) => {
                    let v = json!({ "ok": false, "error": message });
                    failure.get_or_insert(Failure { code, message });
                    v
                }
            };
        }
        wrappers.push(entry);
    }
    let mut report = json!({
        "file": config.source,
        "ok": failure.is_none(),
        "offline": a.offline,
        "wrappers": wrappers,
        "warnings": warnings_value(&config),
    });
    if let Some(f) = &failure {
        report["error"] = error_value(f);
    }
    emit(&report);
    Ok(match failure {
        Some(f) => f.report(),
        None => ExitCode::SUCCESS,
    })
}

/// A stanza's backend, or the exit code and message of why it could not be built.
type Built = Result<Arc<dyn Backend>, (u8, String)>;

fn failure_parts(e: kms::Error) -> (u8, String) {
    let f = Failure::from_error("", e);
    (f.code, f.message)
}

/// The round trip of `kms check`, as an `online` object.
async fn verify(
    w: &WrapperConfig,
    backend: Arc<dyn Backend>,
    source: &str,
) -> Result<Value, (u8, String)> {
    let wrapper = kms::keyring::Wrapper {
        config: w.clone(),
        backend,
    };
    wrapper.verify(source).await.map_err(failure_parts)?;
    let details: serde_json::Map<String, Value> = wrapper
        .backend
        .describe()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    Ok(json!({
        "ok": true,
        "resolved_key_id": wrapper.backend.key_id().as_str(),
        "details": details,
    }))
}

/// A wrapper as `kms check --json` shows it, before any key is contacted.
fn wrapper_value(w: &WrapperConfig) -> Value {
    let schema = w.factory.schema();
    let settings: Vec<Value> = w
        .stanza
        .settings()
        .map(|(name, setting)| {
            let secret = matches!(setting.value, Setting::Secret(_))
                || schema.attribute(name).is_some_and(|a| a.secret);
            // A URL's password (`http://user:password@host`) is redacted too.
            let (value, redacted) = match &setting.value {
                _ if secret => (Value::Null, true),
                Setting::Text(t) => {
                    let shown = redact_userinfo(t);
                    let redacted = shown != *t;
                    (Value::String(shown), redacted)
                }
                Setting::Bool(b) => (Value::Bool(*b), false),
                Setting::Secret(_) => (Value::Null, true),
            };
            let (source, env_var) = match setting.source {
                Source::Stanza => ("stanza", Value::Null),
                Source::Env(var) => ("env", Value::String(var.to_owned())),
            };
            json!({
                "name": name,
                "value": value,
                "redacted": redacted,
                "source": source,
                "env_var": env_var,
            })
        })
        .collect();
    json!({
        "purpose": w.purpose.as_str(),
        "type": w.kind.as_str(),
        "line": w.line,
        "key_id": w.factory.key_identity(&w.stanza).map(|k| k.id),
        "description": w.factory.describe(&w.stanza),
        "settings": settings,
        "online": Value::Null,
    })
}
