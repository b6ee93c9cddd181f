//! `histoactive run`: one round, then the summary.

use anyhow::Context;

use crate::cli::RunArgs;
use crate::config::{audit_for_round, client_builder, round_config};
use crate::dsa::Client;
use crate::progress::Progress;
use crate::report;
use crate::round::{RoundConfig, run_round};

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = round_config(&args)?;
    let builder = client_builder(&args.connection)?;
    let quiet = args.quiet;
    let mut reporter = Progress::new(quiet, if args.audit { 10 } else { 6 });
    reporter.step(&format!("connecting to {}", args.connection.api_url));
    let (client, user) = builder.connect().await.context("connecting to the DSA")?;
    if let Some(user) = user {
        reporter.step(&format!("signed in as {}", user.login));
    }
    round_and_print(&client, &config, &args, &mut reporter).await?;
    reporter.done();
    Ok(())
}

/// The round (and, with `--audit`, the audit) with its printed summaries; `sync` runs it too.
pub async fn round_and_print(
    client: &Client,
    config: &RoundConfig,
    args: &RunArgs,
    reporter: &mut Progress,
) -> anyhow::Result<()> {
    let report = run_round(client, config, &mut |line| reporter.step(line)).await?;
    print!("{}", report::render(&report, args.show, config.dry_run));
    if args.audit {
        println!();
        super::audit::run_and_print(client, &audit_for_round(config), args.show, reporter).await?;
    }
    Ok(())
}
