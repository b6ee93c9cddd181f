//! `histoactive sync`: the round, only when labels changed; once, or on a schedule.

use anyhow::Context;

use crate::cli::SyncArgs;
use crate::config::{ConfigError, client_builder, round_config};
use crate::dsa::Client;
use crate::progress::Progress;
use crate::round::RoundConfig;
use crate::sync::{Outcome, every, parse_interval, scope_fingerprint, sync_once};

/// A name for this job in the lease: host and process.
fn holder() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    format!("histoactive@{host}:{}", std::process::id())
}

/// Resolves on SIGTERM (docker stop, Kubernetes) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("· stopping after the current pass");
}

async fn pass(
    client: &Client,
    config: &RoundConfig,
    args: &SyncArgs,
    holder: &str,
    ttl: std::time::Duration,
) -> anyhow::Result<()> {
    let folder = config
        .source
        .scope
        .folder
        .clone()
        .ok_or_else(|| ConfigError("sync needs --folder".into()))?;
    let layers = ["histoactive label audit", config.layer_name.as_str()];
    let fingerprint = scope_fingerprint(
        client,
        &config.source.scope,
        &config.source.samples,
        config.source.labels.as_ref(),
        &layers,
        &config.source.sites,
    );
    let mut reporter = Progress::new(args.run.quiet, 6);
    let outcome = sync_once(client, &folder, holder, ttl, fingerprint, || {
        super::run::round_and_print(client, config, &args.run, &mut reporter)
    })
    .await?;
    match outcome {
        Outcome::Ran { fingerprint } => {
            eprintln!("· labels changed: round done (fingerprint {fingerprint})")
        }
        Outcome::Unchanged { since } => {
            println!(
                "labels and sites unchanged since the last run ({}): nothing to do",
                since.as_deref().unwrap_or("unknown time")
            )
        }
        Outcome::Busy { holder, until } => {
            println!(
                "another sync ({holder}) holds the lease on folder {folder} until {until}: skipped"
            )
        }
    }
    Ok(())
}

pub async fn sync(args: SyncArgs) -> anyhow::Result<()> {
    let config = round_config(&args.run)?;
    if config.source.scope.folder.is_none() {
        return Err(ConfigError("sync keeps its state in a folder: give --folder".into()).into());
    }
    let interval = args
        .every
        .as_deref()
        .map(parse_interval)
        .transpose()
        .map_err(|e| ConfigError(format!("--every: {e}")))?;
    let ttl =
        parse_interval(&args.lease_ttl).map_err(|e| ConfigError(format!("--lease-ttl: {e}")))?;
    let (client, _) = client_builder(&args.run.connection)?
        .connect()
        .await
        .context("connecting to the DSA")?;
    let holder = holder();
    match interval {
        None => pass(&client, &config, &args, &holder, ttl).await,
        Some(interval) => {
            every(interval, shutdown_signal(), || async {
                // In a loop a failed pass is reported and the next one tried.
                if let Err(e) = pass(&client, &config, &args, &holder, ttl).await {
                    eprintln!("error: {e:#}");
                }
            })
            .await;
            Ok(())
        }
    }
}
