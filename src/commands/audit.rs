//! `histoactive audit`: labels to review again, written as an audit layer.

use anyhow::Context;

use crate::audit::{AuditConfig, run_audit};
use crate::cli::AuditArgs;
use crate::config::{audit_config, client_builder};
use crate::dsa::Client;
use crate::progress::Progress;
use crate::report;

pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let config = audit_config(&args)?;
    let (client, _) = client_builder(&args.connection)?
        .connect()
        .await
        .context("connecting to the DSA")?;
    let mut reporter = Progress::new(args.quiet, 4);
    run_and_print(&client, &config, args.show, &mut reporter).await?;
    reporter.done();
    Ok(())
}

/// Runs the audit and prints its summary (also used by `run --audit`, with the round's reporter).
pub async fn run_and_print(
    client: &Client,
    config: &AuditConfig,
    show: usize,
    reporter: &mut Progress,
) -> anyhow::Result<()> {
    let report = run_audit(client, config, &mut |line| reporter.step(line)).await?;
    print!(
        "{}",
        report::render_audit(&report, &config.source.spec.classes, show, config.dry_run)
    );
    Ok(())
}
