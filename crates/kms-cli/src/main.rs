//! The `kms` command.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod display;
mod examples;
mod failure;
mod filesafe;
mod io;
mod metered;
mod process;
mod report;
mod temp;

use std::process::ExitCode;

use clap::FromArgMatches;

fn main() -> ExitCode {
    if let Err(e) = process::no_core_dumps() {
        return failure::Failure::op(e).report();
    }
    let cli = match cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() && std::env::args_os().any(|a| a == "--json") {
                report::emit_failure(&failure::Failure::usage(clap_message(&e)));
            }
            e.exit()
        }
    };
    if let Err(e) = failure::refuse_body_logging() {
        return e.report();
    }
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return failure::Failure::op(format!("cannot start the async runtime: {e}")).report()
        }
    };
    match runtime.block_on(async {
        process::remove_temp_files_on_signals().map_err(failure::Failure::op)?;
        commands::run(cli).await
    }) {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

/// clap's error as one line, for `--json`: its first line without the `error: ` prefix.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// Warnings of our own crates and errors of dependencies by default: the SDK's warnings
/// (e.g. a missing shared config file) are multi-line noise around our one-line errors.
const DEFAULT_LOG_FILTER: &str =
    "error,kms=warn,kms_cli=warn,kms_aws=warn,kms_envelope=warn,kms_config=warn";

/// Logs go to stderr, filtered by RUST_LOG (default: [`DEFAULT_LOG_FILTER`]). The SDK's wire-level body
/// targets are always off: KMS request and response bodies carry data keys and plaintext.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    for directive in failure::SENSITIVE_LOG_TARGETS {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
