//! The subcommands.

mod check;
mod clean;
mod common;
mod config_values;
mod crypt;
mod inspect;
mod rewrap;

use std::process::ExitCode;

pub(crate) use rewrap::shard::{parse as parse_shard, Shard};
pub(crate) use rewrap::DEFAULT_JOBS as DEFAULT_REWRAP_JOBS;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::failure::CliResult;

/// Runs the command; with `--json`, a failure is also reported as the run's JSON object.
pub(crate) async fn run(cli: Cli) -> CliResult<ExitCode> {
    let json = cli.command.json();
    let result = dispatch(cli).await;
    if json {
        if let Err(f) = &result {
            crate::report::emit_failure(f);
        }
    }
    result
}

async fn dispatch(cli: Cli) -> CliResult<ExitCode> {
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
        Command::Completions(a) => {
            let mut cmd = crate::cli::command();
            clap_complete::generate(a.shell, &mut cmd, "kms", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(a) => man(&a.dir),
    }
}

/// `kms.1`, then `kms-SUB.1` (and `kms-config-SUB.1`) for every visible subcommand.
fn man(dir: &std::path::Path) -> CliResult<ExitCode> {
    use crate::failure::Failure;
    fn write(dir: &std::path::Path, name: &str, cmd: clap::Command) -> CliResult<()> {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.name(name.to_owned()))
            .render(&mut page)
            .map_err(|e| Failure::op(format!("{name}: cannot render: {e}")))?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, page)
            .map_err(|e| Failure::op(format!("{}: cannot write: {e}", path.display())))
    }
    fn walk(dir: &std::path::Path, name: &str, cmd: &clap::Command) -> CliResult<()> {
        write(dir, name, cmd.clone())?;
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            walk(dir, &format!("{name}-{}", sub.get_name()), sub)?;
        }
        Ok(())
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::op(format!("{}: cannot create: {e}", dir.display())))?;
    let mut cmd = crate::cli::command();
    cmd.build();
    walk(dir, "kms", &cmd)?;
    Ok(ExitCode::SUCCESS)
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
