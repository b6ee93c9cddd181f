//! The command-line definition, and nothing else: validation lives in `config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "histoactive",
    version,
    about = "Active learning for the Digital Slide Archive: ranks what an expert should label next and writes the queue back as annotation layers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one active-learning round on a folder or items and write the review queue.
    Run(RunArgs),
    /// Re-run the round when labels changed since the last run (for cron, or --every to loop).
    Sync(SyncArgs),
    /// Find labels to review again (annotator disagreements, likely errors) and write them as an audit layer.
    Audit(AuditArgs),
    /// Replay active learning on fully labeled data and compare strategies (learning curves).
    Simulate(SimulateArgs),
    /// Time the learning engine on a seeded synthetic pool (fit, score, select with each diversity mode).
    Bench(BenchArgs),
    /// Tools for developing histoactive (demo data on a test server).
    #[command(hide = true, subcommand)]
    Dev(DevCommand),
}

/// Where the DSA is and who we are there.
#[derive(Debug, Args, Clone)]
pub struct ConnectionArgs {
    /// The DSA's API URL, e.g. https://dsa.example.org/api/v1
    #[arg(long, env = "DSA_API_URL")]
    pub api_url: String,
    /// A Girder API key, exchanged for a token (prefer the env variable: command lines are visible to other users).
    #[arg(
        long,
        env = "DSA_API_KEY",
        hide_env_values = true,
        conflicts_with = "token"
    )]
    pub api_key: Option<String>,
    /// A Girder token, e.g. the one the DSA passes to a job.
    #[arg(long, env = "DSA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Seconds before a single request is given up (idempotent requests are retried).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// Which slides, and which of their annotations are samples and labels.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Folder to work on, including its sub-folders.
    #[arg(long)]
    pub folder: Option<String>,
    /// An item (slide) to work on; repeat for several.
    #[arg(long = "item")]
    pub items: Vec<String>,
    /// Regex over annotation names: every element of a matching annotation is a sample.
    #[arg(long, default_value = "nuclei")]
    pub samples: String,
    /// Regex over annotation names: regions of matching annotations label the samples inside them.
    #[arg(long)]
    pub labels: Option<String>,
    /// The classes, comma-separated; a sample is labeled when its group or label names one.
    #[arg(long, value_delimiter = ',', required = true)]
    pub classes: Vec<String>,
    /// Only use `user` values whose dotted name starts with this, e.g. "Feature.".
    #[arg(long)]
    pub feature_prefix: Option<String>,
}

/// Where each slide's site (institution) comes from.
#[derive(Debug, Args, Clone)]
pub struct SiteArgs {
    /// Item metadata keys naming a slide's site, tried in order; a dotted key reaches into nested metadata.
    #[arg(
        long = "site-key",
        value_delimiter = ',',
        default_value = "site,institution"
    )]
    pub site_keys: Vec<String>,
    /// Where to look for a slide's site, in order: meta (item metadata), tcga (TCGA barcode in the name), folder.
    #[arg(long, value_delimiter = ',', default_value = "meta,tcga,folder")]
    pub site_from: Vec<String>,
    /// Depth of the folder whose name is the site (1 = a folder directly inside --folder); 0 or unset: off.
    #[arg(long)]
    pub site_folder_depth: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    /// How to rank unlabeled samples: margin, entropy, least-confidence, committee, density, random.
    #[arg(long, default_value = "margin")]
    pub strategy: String,
    /// How to spread a batch over the pool: cluster (cluster-margin), kcenter, or off (plain top-k).
    #[arg(long, default_value = "cluster")]
    pub diversity: String,
    /// How sites shape the batch: shift (per-site quotas by need, favouring samples in feature space only their own site covers), balance (the quotas only), off.
    #[arg(long, default_value = "shift")]
    pub sites: String,
    #[command(flatten)]
    pub site_rules: SiteArgs,
    /// How many samples to queue (across the whole scope).
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Seed for everything random (random strategy, cross-validation folds).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Name of the review-queue layer written on each slide.
    #[arg(long, default_value = "histoactive review queue")]
    pub layer_name: String,
    /// Print the queue without writing anything to the server.
    #[arg(long)]
    pub dry_run: bool,
    /// Slides read in parallel.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Rows of the queue to print.
    #[arg(long, default_value_t = 15)]
    pub show: usize,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also run the label audit after the round (see `histoactive audit`).
    #[arg(long)]
    pub audit: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Loop: check again this long after each pass (e.g. 15m); without it, one pass (for cron).
    #[arg(long)]
    pub every: Option<String>,
    /// How long a pass may hold the folder's lease before another job may take it over.
    #[arg(long, default_value = "30m")]
    pub lease_ttl: String,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Folds for the out-of-fold predictions.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Name of the audit layer written on each slide.
    #[arg(long, default_value = "histoactive label audit")]
    pub layer_name: String,
    /// Print the audit without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Rows of the audit to print.
    #[arg(long, default_value_t = 15)]
    pub show: usize,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A CSV file with one labeled sample per row (or use a DSA scope: --folder/--item).
    #[arg(long, conflicts_with_all = ["folder", "items"])]
    pub data: Option<PathBuf>,
    /// The column holding each row's class (with --data).
    #[arg(long, requires = "data")]
    pub label_column: Option<String>,
    /// A fixed test set: a CSV with the same columns; every --data row then joins the pool.
    #[arg(long, requires = "data", conflicts_with = "test_fraction")]
    pub test_data: Option<PathBuf>,
    /// A column of row ids (kept out of the features).
    #[arg(long)]
    pub id_column: Option<String>,
    /// A column naming each row's site (kept out of the features).
    #[arg(long)]
    pub site_column: Option<String>,
    /// Glob over column names selecting the features (`*` = any text); default: all other columns.
    #[arg(long)]
    pub feature_columns: Option<String>,
    /// Strategies to compare, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "margin,entropy,committee,density,random"
    )]
    pub strategies: Vec<String>,
    /// Batch diversity for batches over 1: cluster, kcenter, off.
    #[arg(long, default_value = "cluster")]
    pub diversity: String,
    /// Number of seeds (repetitions with their own split and initial labels).
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Labels revealed at random before the first query.
    #[arg(long, default_value_t = 2)]
    pub initial: usize,
    /// Labels revealed per query.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Stop at this many labels.
    #[arg(long, default_value_t = 80)]
    pub budget: usize,
    /// Share of each class held out as the test set.
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// Accuracy whose label cost the summary reports.
    #[arg(long, default_value_t = 0.95)]
    pub target: f64,
    /// Folder for curves.csv, curves.svg and curves.png.
    #[arg(long, default_value = "simulation")]
    pub out: PathBuf,
    /// Also write the curves CSV to this path (a DSA task's output file).
    #[arg(long)]
    pub curves_csv: Option<PathBuf>,
    /// Also write the PNG plot to this path (a DSA task's output image).
    #[arg(long)]
    pub curves_plot: Option<PathBuf>,
    /// The DSA's API URL, for simulating on a DSA scope's labeled samples.
    #[arg(long, env = "DSA_API_URL", hide_env_values = true)]
    pub api_url: Option<String>,
    #[arg(
        long,
        env = "DSA_API_KEY",
        hide_env_values = true,
        conflicts_with = "token"
    )]
    pub api_key: Option<String>,
    #[arg(long, env = "DSA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A DSA folder (with sub-folders) whose labeled samples are the data.
    #[arg(long)]
    pub folder: Option<String>,
    /// A DSA item whose labeled samples are the data; repeatable.
    #[arg(long = "item")]
    pub items: Vec<String>,
    /// With a DSA scope: annotation names whose elements are samples.
    #[arg(long, default_value = "nuclei")]
    pub samples: String,
    /// With a DSA scope: annotation names whose regions label samples.
    #[arg(long)]
    pub labels: Option<String>,
    /// With a DSA scope: the classes, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub classes: Vec<String>,
    /// With a DSA scope: only `user` values whose name starts with this.
    #[arg(long)]
    pub feature_prefix: Option<String>,
    /// With sites (--site-column, or a DSA scope whose slides have sites): site modes to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "off,balance,shift")]
    pub sites: Vec<String>,
    #[command(flatten)]
    pub site_rules: SiteArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Unlabeled pool rows.
    #[arg(long, default_value_t = 1_000_000)]
    pub pool: usize,
    /// Labeled rows the model is fitted on.
    #[arg(long, default_value_t = 5_000)]
    pub labels: usize,
    #[arg(long, default_value_t = 64)]
    pub features: usize,
    #[arg(long, default_value_t = 5)]
    pub classes: usize,
    /// Batch size selected.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
    /// Sites the pool and labels are spread over, for timing site-aware queries (0 or 1: skip them).
    #[arg(long, default_value_t = 4)]
    pub sites: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Create an admin (on a fresh server) and a demo cohort built from the WDBC nuclei data; prints JSON.
    Seed(SeedArgs),
    /// Write the seeded multi-site WDBC evaluation set (four sites with documented site effects) as CSV.
    Multisite(MultisiteArgs),
}

#[derive(Debug, Args)]
pub struct MultisiteArgs {
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Where to write the CSV.
    #[arg(long, default_value = "data/wdbc-multisite.csv")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[arg(long, env = "DSA_API_URL")]
    pub api_url: String,
    /// Admin login (created if the server has no users yet).
    #[arg(long, default_value = "admin")]
    pub login: String,
    #[arg(long, default_value = "adminpassword1", hide_default_value = true)]
    pub password: String,
    /// Name of the collection to create the cohort in.
    #[arg(long, default_value = "histoactive demo")]
    pub collection: String,
    #[arg(long, default_value_t = 6)]
    pub slides: usize,
    /// Nuclei per slide; by default the 569 WDBC rows are split across the slides.
    #[arg(long)]
    pub nuclei_per_slide: Option<usize>,
    /// A CSV in the WDBC layout to draw nuclei from instead of the embedded copy.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
