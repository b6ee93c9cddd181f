//! The command layer: each subcommand wires config, client and library code
//! together. Errors are `anyhow` here and only here.

mod audit;
mod bench;
mod run;
mod seed;
mod simulate;
mod sync;

use crate::cli::{Cli, Command, DevCommand};
use crate::config::ConfigError;

pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Sync(args) => sync::sync(args).await,
        Command::Audit(args) => audit::audit(args).await,
        Command::Simulate(args) => simulate::simulate(args).await,
        Command::Bench(args) => bench::bench(args),
        Command::Dev(DevCommand::Seed(args)) => seed::seed(args).await,
        Command::Dev(DevCommand::Multisite(args)) => seed::multisite(args),
    }
}

/// 2 for arguments the user must change, 1 for everything that went wrong at run time.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.chain().any(|e| e.is::<ConfigError>()) {
        2
    } else {
        1
    }
}
