//! `kms check`: validate a config, and (online) verify each key with its backend.

use std::process::ExitCode;

use super::common::{build_keyring, load_config};
use crate::cli::CheckArgs;
use crate::display::one_line;
use crate::failure::{CliResult, Failure};

pub(crate) async fn check(a: CheckArgs) -> CliResult<ExitCode> {
    let config = load_config(&a.config).await?;
    if a.strict && !config.warnings.is_empty() {
        return Err(Failure::usage(format!(
            "{}: refused under --strict: {} warning(s) above; fix them, or drop --strict to accept what Boundary accepts",
            config.source,
            config.warnings.len()
        )));
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
    let keyring = build_keyring(&config, &purposes).await?;
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
