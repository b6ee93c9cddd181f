//! Turning command-line arguments into a validated configuration. Every
//! problem here is the user's to fix, so the command exits with status 2.

use std::time::Duration;

use regex::Regex;

use crate::audit::AuditConfig;
use crate::cli::{AuditArgs, ConnectionArgs, RunArgs, SimulateArgs, SiteArgs, SourceArgs};
use crate::dataset::Columns;
use crate::dsa::{Auth, ClientBuilder, FolderId, ItemId, Secret};
use crate::learn::{ClassifierParams, Diversity, SiteMode, Strategy};
use crate::round::{RoundConfig, Scope, Source};
use std::path::PathBuf;

use crate::samples::SampleSpec;
use crate::simulate::SimParams;
use crate::sites::{SiteRules, SiteSource};

/// An argument that cannot work, with what to do instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn bad(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// The client builder for the connection arguments.
pub fn client_builder(args: &ConnectionArgs) -> Result<ClientBuilder, ConfigError> {
    let auth = match (&args.api_key, &args.token) {
        (Some(key), _) if !key.trim().is_empty() => Auth::ApiKey(Secret::new(key.trim())),
        (_, Some(token)) if !token.trim().is_empty() => Auth::Token(Secret::new(token.trim())),
        _ => {
            return Err(bad(
                "no credentials: give --api-key (or DSA_API_KEY) with a Girder API key, or --token (or DSA_TOKEN)",
            ));
        }
    };
    if args.timeout == 0 {
        return Err(bad("--timeout must be at least 1 second"));
    }
    Ok(ClientBuilder::new(args.api_url.clone())
        .auth(auth)
        .timeout(Duration::from_secs(args.timeout)))
}

fn regex(option: &str, pattern: &str) -> Result<Regex, ConfigError> {
    Regex::new(pattern).map_err(|e| {
        bad(format!(
            "{option} '{pattern}' is not a valid regular expression: {e}"
        ))
    })
}

/// Where a simulation's labeled samples come from.
#[derive(Debug, Clone)]
pub enum SimInput {
    Csv {
        path: PathBuf,
        columns: Columns,
        test: Option<PathBuf>,
    },
    /// The labeled samples of a DSA scope (read only, nothing is written).
    Dsa {
        connection: ConnectionArgs,
        source: Source,
    },
}

/// Validates `simulate` arguments (the data is read later).
pub fn simulation(args: &SimulateArgs) -> Result<(SimInput, SimParams, f64), ConfigError> {
    let strategies = args
        .strategies
        .iter()
        .map(|s| s.trim().parse::<Strategy>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("--strategies: {e}")))?;
    if strategies.is_empty() {
        return Err(bad("--strategies needs at least one strategy"));
    }
    let diversity: Diversity = args
        .diversity
        .parse()
        .map_err(|e: String| bad(format!("--diversity: {e}")))?;
    if args.seeds == 0 || args.batch == 0 {
        return Err(bad("--seeds and --batch must be at least 1"));
    }
    if args.budget <= args.initial {
        return Err(bad(format!(
            "--budget ({}) must be larger than --initial ({})",
            args.budget, args.initial
        )));
    }
    let test_fraction = args.test_fraction.unwrap_or(0.3);
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(bad(format!(
            "--test-fraction must be between 0 and 1, got {test_fraction}"
        )));
    }
    if !(0.0..=1.0).contains(&args.target) {
        return Err(bad(format!(
            "--target is an accuracy between 0 and 1, got {}",
            args.target
        )));
    }
    let input = match &args.data {
        Some(path) => {
            let label = args
                .label_column
                .clone()
                .ok_or_else(|| bad("--data needs --label-column (the column of classes)"))?;
            let columns = Columns {
                label,
                id: args.id_column.clone(),
                site: args.site_column.clone(),
                features: args.feature_columns.clone(),
            };
            SimInput::Csv {
                path: path.clone(),
                columns,
                test: args.test_data.clone(),
            }
        }
        None => {
            if args.folder.is_none() && args.items.is_empty() {
                return Err(bad(
                    "no data: give --data <file.csv> --label-column <name>, or a DSA scope (--folder/--item with --classes)",
                ));
            }
            let (scope, classes) =
                scope_and_classes(args.folder.as_deref(), &args.items, &args.classes)?;
            let connection = ConnectionArgs {
                api_url: args
                    .api_url
                    .clone()
                    .ok_or_else(|| bad("a DSA scope needs --api-url (or DSA_API_URL)"))?,
                api_key: args.api_key.clone(),
                token: args.token.clone(),
                timeout: 120,
            };
            let source = SampleSource {
                scope,
                samples: regex("--samples", &args.samples)?,
                labels: args
                    .labels
                    .as_deref()
                    .map(|l| regex("--labels", l))
                    .transpose()?,
                classes,
                feature_prefix: args.feature_prefix.clone().filter(|p| !p.is_empty()),
                sites: site_rules(&args.site_rules)?,
            };
            SimInput::Dsa {
                connection,
                source: source.into_source(4),
            }
        }
    };
    let mut site_modes = Vec::new();
    for mode in args.sites.iter().filter(|m| !m.trim().is_empty()) {
        let mode = site_mode(mode)?;
        if !site_modes.contains(&mode) {
            site_modes.push(mode);
        }
    }
    if site_modes.is_empty() {
        site_modes.push(SiteMode::Off);
    }
    let params = SimParams {
        strategies,
        diversity,
        site_modes,
        seeds: args.seeds,
        initial: args.initial,
        batch: args.batch,
        budget: args.budget,
        test_fraction,
        test_set: None,
        model: ClassifierParams::default()
            .check()
            .map_err(|e| bad(e.to_string()))?,
    };
    Ok((input, params, args.target))
}

/// The audit that goes with a round (`run --audit`): same scope and samples.
pub fn audit_for_round(round: &RoundConfig) -> AuditConfig {
    AuditConfig {
        source: round.source.clone(),
        folds: 5,
        seed: round.seed,
        layer_name: "histoactive label audit".into(),
        dry_run: round.dry_run,
        model: round.model,
    }
}

/// Validates `audit` arguments, sharing the scope and sample checks of `run`.
pub fn audit_config(args: &AuditArgs) -> Result<AuditConfig, ConfigError> {
    if args.folds < 2 {
        return Err(bad(format!(
            "--folds must be at least 2, got {}",
            args.folds
        )));
    }
    if args.layer_name.trim().is_empty() {
        return Err(bad("--layer-name must not be empty"));
    }
    let source = sample_source(&args.source)?;
    Ok(AuditConfig {
        source: source.into_source(args.concurrency),
        folds: args.folds,
        seed: args.seed,
        layer_name: args.layer_name.trim().to_string(),
        dry_run: args.dry_run,
        model: ClassifierParams::default()
            .check()
            .map_err(|e| bad(e.to_string()))?,
    })
}

/// The validated scope, sample and label patterns, classes and feature prefix.
struct SampleSource {
    scope: Scope,
    samples: Regex,
    labels: Option<Regex>,
    classes: Vec<String>,
    feature_prefix: Option<String>,
    sites: SiteRules,
}

impl SampleSource {
    fn into_source(self, concurrency: usize) -> Source {
        Source {
            scope: self.scope,
            samples: self.samples,
            labels: self.labels,
            spec: SampleSpec {
                classes: self.classes,
                feature_prefix: self.feature_prefix,
            },
            sites: self.sites,
            concurrency: concurrency.max(1),
        }
    }
}

fn sample_source(args: &SourceArgs) -> Result<SampleSource, ConfigError> {
    let (scope, classes) = scope_and_classes(args.folder.as_deref(), &args.items, &args.classes)?;
    Ok(SampleSource {
        scope,
        samples: regex("--samples", &args.samples)?,
        labels: args
            .labels
            .as_deref()
            .map(|l| regex("--labels", l))
            .transpose()?,
        classes,
        feature_prefix: args.feature_prefix.clone().filter(|p| !p.is_empty()),
        sites: SiteRules::default(),
    })
}

/// `--site-key`, `--site-from`, `--site-folder-depth`, validated.
fn site_rules(args: &SiteArgs) -> Result<SiteRules, ConfigError> {
    let keys: Vec<String> = args
        .site_keys
        .iter()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    let mut order = Vec::new();
    for name in args
        .site_from
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        let source: SiteSource = name
            .parse()
            .map_err(|e: String| bad(format!("--site-from: {e}")))?;
        if order.contains(&source) {
            return Err(bad(format!("--site-from names '{source}' twice")));
        }
        order.push(source);
    }
    if order.contains(&SiteSource::Meta) && keys.is_empty() {
        return Err(bad(
            "--site-from includes meta but --site-key is empty; name the metadata key(s) holding the site",
        ));
    }
    Ok(SiteRules {
        keys,
        order,
        folder_depth: args.site_folder_depth.filter(|&d| d > 0),
    })
}

/// `--sites` of `run`.
fn site_mode(value: &str) -> Result<SiteMode, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|e: String| bad(format!("--sites: {e}")))
}

/// The scope (`--folder`, `--item`) and `--classes`, validated.
fn scope_and_classes(
    folder: Option<&str>,
    items: &[String],
    classes: &[String],
) -> Result<(Scope, Vec<String>), ConfigError> {
    let folder = folder
        .map(FolderId::parse)
        .transpose()
        .map_err(|e| bad(format!("--folder: {e}")))?;
    let items = items
        .iter()
        .map(|i| ItemId::parse(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("--item: {e}")))?;
    if folder.is_none() && items.is_empty() {
        return Err(bad(
            "nothing to work on: give --folder <folderId> and/or --item <itemId>",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for class in classes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if out.iter().any(|c| c == class) {
            return Err(bad(format!("--classes names '{class}' twice")));
        }
        out.push(class.to_string());
    }
    if out.len() < 2 {
        return Err(bad(format!(
            "--classes needs at least 2 classes, got {}",
            out.len()
        )));
    }
    Ok((Scope { folder, items }, out))
}

/// Validates `run` arguments into a round configuration.
pub fn round_config(args: &RunArgs) -> Result<RoundConfig, ConfigError> {
    let mut source = sample_source(&args.source)?;
    source.sites = site_rules(&args.site_rules)?;
    let strategy: Strategy = args
        .strategy
        .parse()
        .map_err(|e: String| bad(format!("--strategy: {e}")))?;
    let diversity: Diversity = args
        .diversity
        .parse()
        .map_err(|e: String| bad(format!("--diversity: {e}")))?;
    if args.batch == 0 {
        return Err(bad("--batch must be at least 1"));
    }
    if args.layer_name.trim().is_empty() {
        return Err(bad("--layer-name must not be empty"));
    }
    if args.concurrency == 0 {
        return Err(bad("--concurrency must be at least 1"));
    }
    let sites = site_mode(&args.sites)?;
    Ok(RoundConfig {
        source: source.into_source(args.concurrency),
        strategy,
        diversity,
        sites,
        batch: args.batch,
        seed: args.seed,
        layer_name: args.layer_name.trim().to_string(),
        dry_run: args.dry_run,
        model: ClassifierParams::default()
            .check()
            .map_err(|e| bad(e.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> RunArgs {
        let mut full = vec![
            "histoactive",
            "run",
            "--api-url",
            "http://x/api/v1",
            "--api-key",
            "k",
        ];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Run(r) => r,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_complete_command_line_validates() {
        let c = round_config(&parse(&[
            "--folder",
            "6b119a70e5fc2c70876f61bc",
            "--classes",
            "a, b,c",
            "--strategy",
            "entropy",
        ]))
        .unwrap();
        assert_eq!(c.source.spec.classes, ["a", "b", "c"]);
        assert_eq!(c.strategy, Strategy::Entropy);
        assert_eq!(c.batch, 50);
    }

    #[test]
    fn each_mistake_names_its_option() {
        let cases = [
            (vec!["--classes", "a,b"], "nothing to work on"),
            (vec!["--folder", "nope", "--classes", "a,b"], "--folder"),
            (
                vec!["--item", "6b119a70e5fc2c70876f61bc", "--classes", "a"],
                "at least 2 classes",
            ),
            (
                vec!["--item", "6b119a70e5fc2c70876f61bc", "--classes", "a,a"],
                "twice",
            ),
            (
                vec![
                    "--item",
                    "6b119a70e5fc2c70876f61bc",
                    "--classes",
                    "a,b",
                    "--strategy",
                    "bald",
                ],
                "--strategy",
            ),
            (
                vec![
                    "--item",
                    "6b119a70e5fc2c70876f61bc",
                    "--classes",
                    "a,b",
                    "--samples",
                    "(",
                ],
                "--samples",
            ),
            (
                vec![
                    "--item",
                    "6b119a70e5fc2c70876f61bc",
                    "--classes",
                    "a,b",
                    "--batch",
                    "0",
                ],
                "--batch",
            ),
        ];
        for (args, expected) in cases {
            let err = round_config(&parse(&args)).unwrap_err().to_string();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }

    #[test]
    fn missing_credentials_are_a_config_error() {
        let args = ConnectionArgs {
            api_url: "http://x/api/v1".into(),
            api_key: None,
            token: Some(" ".into()),
            timeout: 5,
        };
        assert!(
            client_builder(&args)
                .unwrap_err()
                .to_string()
                .contains("--api-key")
        );
    }
}
