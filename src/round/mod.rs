//! One active-learning round against a DSA: fetch → learn → write back.

mod fetch;
mod sites;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ndarray::{Array1, Axis};
use regex::Regex;
use serde_json::{Value, json};

use crate::dsa::{AnnotationBody, Client, DsaError, FolderId, ItemId};
use crate::learn::{
    self, CvScore, Diversity, LearnError, QueryKind, QueryParams, SiteLayout, SiteMode, Strategy,
    ValidClassifierParams,
};
use crate::samples::{LabelState, Pool, SampleError};
use crate::writeback::{self, LayerChange, QUEUE_KIND, QueuedElement, SCHEMA_VERSION, WriteError};
pub use fetch::{Scope, ScopedItem, Source, fetch_annotations, resolve_scope};
pub use sites::{SiteReport, SiteRow};

/// Everything a round needs, already validated.
#[derive(Debug, Clone)]
pub struct RoundConfig {
    /// What to read.
    pub source: Source,
    pub strategy: Strategy,
    /// How a batch is spread over the pool.
    pub diversity: Diversity,
    /// How sites shape the batch.
    pub sites: SiteMode,
    pub batch: usize,
    pub seed: u64,
    pub layer_name: String,
    pub dry_run: bool,
    pub model: ValidClassifierParams,
}

#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error(
        "folder {id} was not found ({message}). Check the id (the last part of the folder's URL in the DSA) and that this user can see it"
    )]
    FolderNotFound { id: FolderId, message: String },
    #[error("item {id} was not found ({message}). Check the id and that this user can see it")]
    ItemNotFound { id: ItemId, message: String },
    #[error(
        "the scope holds no items: the folder and its sub-folders are empty and no --item was given"
    )]
    EmptyScope,
    #[error("{context}: {source}")]
    Dsa {
        context: String,
        #[source]
        source: DsaError,
    },
    #[error(transparent)]
    Samples(#[from] SampleError),
    #[error(transparent)]
    Learn(#[from] LearnError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// One line of the queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub rank: usize,
    pub slide: usize,
    pub sample: usize,
    pub score: f64,
    /// `(class, probability)` most probable first.
    pub probabilities: Vec<(String, f64)>,
    /// Index into [`SiteReport::rows`].
    pub site: usize,
    /// Why the sample's site got it into the batch.
    pub site_reason: String,
}

/// Per slide: how many samples, labels and queued samples it has.
#[derive(Debug, Clone)]
pub struct SlideSummary {
    pub item: ItemId,
    pub name: String,
    pub samples: usize,
    pub labeled: usize,
    pub queued: usize,
    pub change: Option<LayerChange>,
}

/// Wall-clock time of each phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub fetch: Duration,
    pub learn: Duration,
    pub write: Duration,
}

/// What a round did, for the printed summary and for tests.
#[derive(Debug, Clone)]
pub struct RoundReport {
    pub run_id: String,
    pub time: String,
    pub strategy: Strategy,
    pub diversity: Diversity,
    /// No model yet (labels of fewer than two classes): a cold-start batch.
    pub cold_start: bool,
    pub pool: Pool,
    pub label_counts: Vec<(String, usize)>,
    pub conflicts: usize,
    pub conflict_examples: Vec<String>,
    pub unlabeled: usize,
    pub cv: Option<CvScore>,
    pub queue: Vec<QueueRow>,
    pub slides: Vec<SlideSummary>,
    pub sites: SiteReport,
    pub folder: Option<FolderId>,
    pub timings: Timings,
    pub web_root: String,
}

/// A run id: UTC time plus a short mix of the clock and the seed.
pub fn run_id(seed: u64) -> String {
    let now = chrono::Utc::now();
    format!(
        "{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        (now.timestamp_subsec_nanos() as u64 ^ seed) & 0xffff
    )
}

/// Runs one round. `progress` receives one line per phase.
pub async fn run_round(
    client: &Client,
    config: &RoundConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<RoundReport, RoundError> {
    let started = Instant::now();
    let (folder, pool) = config.source.read(client, progress).await?;
    let fetch_time = started.elapsed();
    progress(&format!(
        "{} samples with {} features ({} unusable)",
        pool.samples.len(),
        pool.feature_names.len(),
        pool.report.unusable
    ));

    let site_table = config.source.sites(&pool);
    let site_notes = site_table.notes(&config.source.sites);
    for note in &site_notes {
        progress(note);
    }
    let site_of = |sample: usize| site_table.of_slide[pool.samples[sample].slide];

    // Split the pool: training rows, queue candidates, conflicts.
    let learn_started = Instant::now();
    let mut train_rows = Vec::new();
    let mut train_samples = Vec::new();
    let mut train_y = Vec::new();
    let mut candidates = Vec::new(); // (sample index, feature row)
    let mut counts = vec![0usize; config.source.spec.classes.len()];
    let mut conflicts = Vec::new();
    for (i, s) in pool.samples.iter().enumerate() {
        match (s.label(), s.row) {
            (LabelState::Conflict, _) => conflicts.push(i),
            (LabelState::Labeled(c), Some(row)) => {
                train_rows.push(row);
                train_samples.push(i);
                train_y.push(c);
                counts[c] += 1;
            }
            (LabelState::Unlabeled, Some(row)) => candidates.push((i, row)),
            _ => {}
        }
    }
    let label_counts: Vec<(String, usize)> = config
        .source
        .spec
        .classes
        .iter()
        .cloned()
        .zip(counts.iter().copied())
        .collect();
    let classes_labeled = counts.iter().filter(|&&c| c > 0).count();
    if classes_labeled < 2 {
        progress(&format!(
            "labels of {classes_labeled} class(es) only ({}): cold start",
            describe_counts(&label_counts)
        ));
    }
    let x_train = pool.features.select(Axis(0), &train_rows);
    let y_train = Array1::from(train_y);
    let pool_rows: Vec<usize> = candidates.iter().map(|&(_, row)| row).collect();
    let x_pool = pool.features.select(Axis(0), &pool_rows);
    progress(&format!(
        "fitting on {} labels, scoring {} unlabeled samples",
        y_train.len(),
        pool_rows.len()
    ));
    let train_sites: Vec<usize> = train_samples.iter().map(|&i| site_of(i)).collect();
    let pool_sites: Vec<usize> = candidates.iter().map(|&(i, _)| site_of(i)).collect();
    let layout = SiteLayout {
        n_sites: site_table.names.len(),
        labeled: &train_sites,
        pool: &pool_sites,
    };
    let (query, plan) = learn::query_by_site(
        &config.model,
        x_train.view(),
        y_train.view(),
        config.source.spec.classes.len(),
        x_pool.view(),
        QueryParams {
            strategy: config.strategy,
            diversity: config.diversity,
            batch: config.batch,
            seed: config.seed,
        },
        &layout,
        config.sites,
    )?;
    // Leave-one-site-out accuracy is reported whatever the mode.
    let loso = match &plan {
        Some(p) if query.kind == QueryKind::Model => Some(p.loso.clone()),
        _ if site_table.names.len() >= 2 && classes_labeled >= 2 => {
            Some(learn::leave_one_site_out(
                &config.model,
                x_train.view(),
                y_train.view(),
                &train_sites,
                site_table.names.len(),
                config.source.spec.classes.len(),
            )?)
        }
        _ => None,
    };
    let cv = learn::cross_validate(
        &config.model,
        x_train.view(),
        y_train.view(),
        config.source.spec.classes.len(),
        5,
        config.seed,
    )?;
    let queued: std::collections::HashSet<usize> =
        query.picked.iter().map(|&p| candidates[p].0).collect();
    // (site, label, queued) of each sample the round used: the training
    // labels and the queue candidates.
    let per_sample: Vec<(usize, Option<usize>, bool)> = train_samples
        .iter()
        .zip(y_train.iter())
        .map(|(&i, &c)| (site_of(i), Some(c), false))
        .chain(
            candidates
                .iter()
                .map(|&(i, _)| (site_of(i), None, queued.contains(&i))),
        )
        .collect();
    let site_report = SiteReport::new(
        &site_table,
        config.sites,
        |slide| site_table.of_slide[slide],
        pool.slides.len(),
        &per_sample,
        config.source.spec.classes.len(),
        loso.as_deref(),
        plan.as_ref(),
        site_notes,
    );
    let queue: Vec<QueueRow> = query
        .picked
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let sample = candidates[p].0;
            let mut probabilities: Vec<(String, f64)> = match &query.proba {
                Some(proba) => config
                    .source
                    .spec
                    .classes
                    .iter()
                    .cloned()
                    .zip(proba.row(k).iter().copied())
                    .collect(),
                None => Vec::new(),
            };
            probabilities.sort_by(|a, b| b.1.total_cmp(&a.1));
            let site = site_of(sample);
            let specificity = plan.as_ref().and_then(|p| p.specificity.get(k).copied());
            QueueRow {
                rank: k + 1,
                slide: pool.samples[sample].slide,
                sample,
                score: query.scores[k],
                probabilities,
                site,
                site_reason: site_report.reason(site, specificity),
            }
        })
        .collect();
    let learn_time = learn_started.elapsed();

    let mut report = RoundReport {
        run_id: run_id(config.seed),
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        strategy: config.strategy,
        diversity: config.diversity,
        cold_start: query.kind == QueryKind::ColdStart,
        label_counts,
        conflicts: conflicts.len(),
        conflict_examples: conflicts
            .iter()
            .take(5)
            .map(|&i| pool.samples[i].describe(&pool.slides))
            .collect(),
        unlabeled: candidates.len(),
        cv,
        slides: slide_summaries(&pool, &queue),
        sites: site_report,
        queue,
        folder: folder.map(|f| f.id),
        timings: Timings {
            fetch: fetch_time,
            learn: learn_time,
            write: Duration::ZERO,
        },
        web_root: client.web_root(),
        pool,
    };
    if !config.dry_run {
        let write_started = Instant::now();
        progress("writing review-queue layers");
        write_back(client, config, &mut report).await?;
        report.timings.write = write_started.elapsed();
    }
    Ok(report)
}

/// `12 'tumor', 0 'stroma'`
pub fn describe_counts(counts: &[(String, usize)]) -> String {
    counts
        .iter()
        .map(|(c, n)| format!("{n} '{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn slide_summaries(pool: &Pool, queue: &[QueueRow]) -> Vec<SlideSummary> {
    let mut out: Vec<SlideSummary> = pool
        .slides
        .iter()
        .map(|s| SlideSummary {
            item: s.item.id.clone(),
            name: s.item.name.clone(),
            samples: 0,
            labeled: 0,
            queued: 0,
            change: None,
        })
        .collect();
    for s in &pool.samples {
        out[s.slide].samples += 1;
        if matches!(s.label(), LabelState::Labeled(_)) {
            out[s.slide].labeled += 1;
        }
    }
    for q in queue {
        out[q.slide].queued += 1;
    }
    out
}

/// The `attributes.histoactive` block of a queue layer.
fn layer_attributes(
    config: &RoundConfig,
    report: &RoundReport,
    sources: &[String],
    on_slide: usize,
) -> Value {
    json!({
        "schema": SCHEMA_VERSION,
        "kind": QUEUE_KIND,
        "runId": report.run_id,
        "time": report.time,
        "strategy": config.strategy.name(),
        "coldStart": report.cold_start,
        "parameters": {
            "diversity": config.diversity.name(),
            "sites": config.sites.name(),
            "samples": config.source.samples.as_str(),
            "labels": config.source.labels.as_ref().map(Regex::as_str),
            "classes": config.source.spec.classes,
            "featurePrefix": config.source.spec.feature_prefix,
            "batch": config.batch,
            "seed": config.seed,
        },
        "model": {
            "type": "multinomial-logistic-regression",
            "features": report.pool.feature_names.len(),
            "labeled": report.label_counts.iter().map(|(_, n)| n).sum::<usize>(),
            "cvAccuracy": report.cv.map(|c| c.accuracy),
            "cvFolds": report.cv.map(|c| c.folds),
        },
        "queue": {"total": report.queue.len(), "onThisSlide": on_slide},
        "sources": sources,
    })
}

async fn write_back(
    client: &Client,
    config: &RoundConfig,
    report: &mut RoundReport,
) -> Result<(), RoundError> {
    let total = report.queue.len();
    let mut per_slide: BTreeMap<usize, Vec<&QueueRow>> = BTreeMap::new();
    for q in &report.queue {
        per_slide.entry(q.slide).or_default().push(q);
    }
    let mut changes = Vec::new();
    for (index, slide) in report.pool.slides.iter().enumerate() {
        let rows = per_slide.get(&index).map(Vec::as_slice).unwrap_or(&[]);
        let body = if rows.is_empty() {
            None
        } else {
            let elements = rows
                .iter()
                .map(|q| {
                    let s = &report.pool.samples[q.sample];
                    writeback::queue_element(
                        &QueuedElement {
                            rank: q.rank,
                            score: q.score,
                            strategy: config.strategy.name().to_string(),
                            reason: if report.cold_start {
                                "cold-start"
                            } else {
                                "model"
                            }
                            .to_string(),
                            probabilities: q.probabilities.clone(),
                            shape: s.shape.clone(),
                            source_annotation: s.annotation.to_string(),
                            source_element_id: s.element_id.as_ref().map(ToString::to_string),
                            source_element_index: s.element_index,
                            site: Some(report.sites.rows[q.site].name.clone()),
                            site_reason: Some(q.site_reason.clone()),
                        },
                        total,
                    )
                })
                .collect();
            let sources: Vec<String> = slide.samples.iter().map(|a| a.id.to_string()).collect();
            let mut attributes = serde_json::Map::new();
            attributes.insert(
                "histoactive".into(),
                layer_attributes(config, report, &sources, rows.len()),
            );
            Some(AnnotationBody {
                name: config.layer_name.clone(),
                description: Some(format!(
                    "Samples to label next, ranked by {} (rank 1 first). Written by histoactive; replaced on each run.",
                    config.strategy
                )),
                display: None,
                attributes,
                elements,
            })
        };
        let change = writeback::put_layer(
            client,
            &slide.item,
            QUEUE_KIND,
            &config.layer_name,
            body.as_ref(),
        )
        .await?;
        changes.push(change);
    }
    for (summary, change) in report.slides.iter_mut().zip(changes) {
        summary.change = Some(change);
    }
    if let Some(folder) = &report.folder {
        let summary = json!({
            "lastRun": report.time,
            "runId": report.run_id,
            "strategy": config.strategy.name(),
            "queueSize": report.queue.len(),
            "samples": report.pool.samples.len(),
            "unlabeled": report.unlabeled,
            "conflicts": report.conflicts,
            "labelCounts": report.label_counts.iter().map(|(c, n)| json!({"class": c, "count": n})).collect::<Vec<_>>(),
            "cvAccuracy": report.cv.map(|c| c.accuracy),
            "layerName": config.layer_name,
            "sites": report.sites.to_json(&config.source.spec.classes),
        });
        writeback::put_folder_summary(client, folder, "histoactive", summary).await?;
    }
    Ok(())
}
