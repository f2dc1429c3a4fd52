//! The subcommands.

mod check;
mod clean;
mod common;
mod config_values;
mod crypt;
mod inspect;
mod rewrap;

use std::process::ExitCode;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::failure::CliResult;

pub(crate) async fn run(cli: Cli) -> CliResult<ExitCode> {
    match cli.command {
        Command::Keygen(a) => keygen(a.bits.parse().unwrap_or(256)),
        Command::Encrypt(a) => crypt::encrypt(a).await,
        Command::Decrypt(a) => crypt::decrypt(a).await,
        Command::Inspect(a) => inspect::inspect(a),
        Command::Check(a) => check::check(a).await,
        Command::Clean(a) => clean::clean(a),
        Command::Rewrap(a) => rewrap::rewrap(a).await,
        Command::Config(ConfigCommand::Encrypt(a)) => config_values::encrypt(a).await,
        Command::Config(ConfigCommand::Decrypt(a)) => config_values::decrypt(a).await,
    }
}

fn keygen(bits: usize) -> CliResult<ExitCode> {
    use base64::Engine;
    let key = kms::core::AesKey::generate(bits)
        .map_err(|e| crate::failure::Failure::from_error("keygen", e))?;
    println!(
        "{}",
        base64::engine::general_purpose::STANDARD.encode(key.expose_secret())
    );
    Ok(ExitCode::SUCCESS)
}
