//! The label audit against a DSA: which labels experts should look at again.
//!
//! Samples where annotators (or one annotator's group and region) disagree
//! come first, ordered by how unsure the consensus is; then labels that
//! confident learning finds likely wrong, lowest label quality first. The
//! audit never changes a label: it writes its own layer, and the expert decides.

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::{Array1, Axis};
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::dsa::{AnnotationBody, Client, Element, Extra, FolderId, Label, UserId};
use crate::learn::{self, ValidClassifierParams};
use crate::round::{RoundError, Source};
use crate::samples::Pool;
use crate::writeback::{self, LayerChange, SCHEMA_VERSION, marker_shape, priority_colour};

/// The `attributes.histoactive.kind` of a label-audit layer.
pub const AUDIT_KIND: &str = "label-audit";

#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// What to read (the same as a round's).
    pub source: Source,
    pub folds: usize,
    pub seed: u64,
    pub layer_name: String,
    pub dry_run: bool,
    pub model: ValidClassifierParams,
}

/// Why a sample is in the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its labels disagree.
    Disagreement,
    /// Confident learning finds its label likely wrong.
    LikelyError,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Disagreement => "disagreement",
            Reason::LikelyError => "likely-error",
        }
    }
}

/// One sample to look at again.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub rank: usize,
    pub sample: usize,
    pub reason: Reason,
    /// `(class, annotator)` of every label the sample has.
    pub given: Vec<(usize, Option<usize>)>,
    pub suggested: usize,
    /// Probability of the suggested class.
    pub suggested_probability: f64,
    /// Label quality (likely errors) or consensus quality (disagreements), 0–1; low = look first.
    pub quality: f64,
}

/// One annotator's record.
#[derive(Debug, Clone)]
pub struct AnnotatorSummary {
    pub id: Option<UserId>,
    pub name: String,
    pub labels: usize,
    pub quality: Option<f64>,
    pub agreement: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct AuditReport {
    pub run_id: String,
    pub time: String,
    pub pool: Pool,
    pub labeled: usize,
    pub entries: Vec<AuditEntry>,
    pub annotators: Vec<AnnotatorSummary>,
    pub folds: usize,
    /// Things the audit could not do, in words (one class only, singleton classes).
    pub notes: Vec<String>,
    pub changes: Vec<(String, LayerChange)>,
    pub folder: Option<FolderId>,
    pub seconds: f64,
}

/// Runs the audit on a scope and (unless a dry run) writes the layers.
pub async fn run_audit(
    client: &Client,
    config: &AuditConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<AuditReport, RoundError> {
    let started = Instant::now();
    let (folder, pool) = config.source.read(client, progress).await?;

    // Annotators, numbered in order of first appearance; `None` (unknown creator) is one of them.
    let mut annotator_ids: Vec<Option<UserId>> = Vec::new();
    let mut rows = Vec::new(); // (sample, feature row, votes)
    for (i, s) in pool.samples.iter().enumerate() {
        let Some(row) = s.row else { continue };
        if s.votes.is_empty() {
            continue;
        }
        let mut votes: Vec<(usize, usize)> = Vec::new();
        for v in &s.votes {
            let who = v.source.annotator().cloned();
            let a = match annotator_ids.iter().position(|x| *x == who) {
                Some(a) => a,
                None => {
                    annotator_ids.push(who);
                    annotator_ids.len() - 1
                }
            };
            // One annotator giving the same class twice (group and region) counts once.
            if !votes.contains(&(a, v.class)) {
                votes.push((a, v.class));
            }
        }
        rows.push((i, row, votes));
    }
    let n_classes = config.source.spec.classes.len();
    let x = pool
        .features
        .select(Axis(0), &rows.iter().map(|r| r.1).collect::<Vec<_>>());
    let votes: Vec<Vec<(usize, usize)>> = rows.iter().map(|r| r.2.clone()).collect();
    let uniform = ndarray::Array2::from_elem((rows.len(), n_classes), 1.0 / n_classes as f64);
    let majority = learn::consensus(&votes, uniform.view(), annotator_ids.len()).majority;
    let mut counts = vec![0usize; n_classes];
    for &c in &majority {
        counts[c] += 1;
    }
    let mut notes = Vec::new();
    let mut entries = Vec::new();
    let mut annotators = Vec::new();
    let mut folds = 0;
    if counts.iter().filter(|&&c| c > 0).count() < 2 {
        notes.push(format!(
            "nothing to audit: the labels cover fewer than 2 classes ({}); label samples of another class first",
            crate::round::describe_counts(&config.source.spec.classes.iter().cloned().zip(counts.iter().copied()).collect::<Vec<_>>())
        ));
    } else {
        progress(&format!(
            "out-of-fold predictions for {} labeled samples",
            rows.len()
        ));
        let oof = learn::out_of_fold(
            &config.model,
            x.view(),
            Array1::from(majority.clone()).view(),
            n_classes,
            config.folds,
            config.seed,
        )?;
        folds = oof.folds;
        if oof.folds < config.folds {
            notes.push(format!(
                "{} folds instead of {}: the smallest class has only {} labels",
                oof.folds,
                config.folds,
                counts.iter().copied().filter(|&c| c > 0).min().unwrap_or(0)
            ));
        }
        for &c in &oof.singleton_classes {
            notes.push(format!(
                "class '{}' has a single label: it cannot be checked against others of its class",
                config.source.spec.classes[c]
            ));
        }
        let cl = learn::confident_learning(Array1::from(majority.clone()).view(), oof.proba.view());
        let consensus = learn::consensus(&votes, oof.proba.view(), annotator_ids.len());
        let disagreeing: Vec<usize> = (0..rows.len())
            .filter(|&r| {
                let first = votes[r][0].1;
                votes[r].iter().any(|&(_, c)| c != first)
            })
            .collect();
        let mut by_quality = disagreeing.clone();
        by_quality.sort_by(|&a, &b| {
            consensus.quality[a]
                .total_cmp(&consensus.quality[b])
                .then(a.cmp(&b))
        });
        for r in by_quality {
            entries.push((
                r,
                Reason::Disagreement,
                consensus.label[r],
                consensus.quality[r],
                consensus.quality[r],
            ));
        }
        for &r in &cl.issues {
            if disagreeing.contains(&r) || oof.singleton_classes.contains(&majority[r]) {
                continue;
            }
            let suggested = learn::argmax(oof.proba.row(r));
            entries.push((
                r,
                Reason::LikelyError,
                suggested,
                oof.proba[[r, suggested]],
                cl.quality[r],
            ));
        }
        for (a, id) in annotator_ids.iter().enumerate() {
            let name = match id {
                Some(id) => client
                    .user(id)
                    .await
                    .map(|u| u.login)
                    .unwrap_or_else(|_| id.to_string()),
                None => "unknown".to_string(),
            };
            annotators.push(AnnotatorSummary {
                id: id.clone(),
                name,
                labels: votes.iter().flatten().filter(|&&(who, _)| who == a).count(),
                quality: consensus.annotator_quality[a],
                agreement: consensus.annotator_agreement[a],
            });
        }
    }
    let entries: Vec<AuditEntry> = entries
        .into_iter()
        .enumerate()
        .map(|(k, (r, reason, suggested, p, quality))| AuditEntry {
            rank: k + 1,
            sample: rows[r].0,
            reason,
            given: votes[r].iter().map(|&(a, c)| (c, Some(a))).collect(),
            suggested,
            suggested_probability: p,
            quality,
        })
        .collect();
    let mut report = AuditReport {
        run_id: crate::round::run_id(config.seed),
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        labeled: rows.len(),
        pool,
        entries,
        annotators,
        folds,
        notes,
        changes: Vec::new(),
        folder: folder.map(|f| f.id),
        seconds: 0.0,
    };
    if !config.dry_run {
        progress("writing label-audit layers");
        write_back(client, config, &mut report).await?;
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn given_text(report: &AuditReport, classes: &[String], entry: &AuditEntry) -> String {
    let mut parts: Vec<String> = Vec::new();
    for &(c, a) in &entry.given {
        let who = a
            .and_then(|a| report.annotators.get(a))
            .map(|s| s.name.as_str());
        parts.push(match (who, entry.reason) {
            (Some(who), Reason::Disagreement) => format!("{} ({who})", classes[c]),
            _ => classes[c].clone(),
        });
    }
    parts.dedup();
    parts.join(", ")
}

/// `given: tumor → suggested: stroma (0.87)`
pub fn audit_label(report: &AuditReport, classes: &[String], entry: &AuditEntry) -> String {
    format!(
        "given: {} → suggested: {} ({:.2})",
        given_text(report, classes, entry),
        classes[entry.suggested],
        entry.suggested_probability
    )
}

async fn write_back(
    client: &Client,
    config: &AuditConfig,
    report: &mut AuditReport,
) -> Result<(), RoundError> {
    let total = report.entries.len();
    let mut per_slide: BTreeMap<usize, Vec<&AuditEntry>> = BTreeMap::new();
    for e in &report.entries {
        per_slide
            .entry(report.pool.samples[e.sample].slide)
            .or_default()
            .push(e);
    }
    let mut changes = Vec::new();
    for (index, slide) in report.pool.slides.iter().enumerate() {
        let entries = per_slide.get(&index).map(Vec::as_slice).unwrap_or(&[]);
        let body = (!entries.is_empty()).then(|| {
            let elements = entries
                .iter()
                .map(|e| {
                    let s = &report.pool.samples[e.sample];
                    let mut element = Element::new(marker_shape(&s.shape));
                    element.label = Some(Label { value: Some(audit_label(report, &config.source.spec.classes, e)), extra: Extra::new() });
                    element.line_color = Some(priority_colour(e.rank, total));
                    element.line_width = Some(3.0);
                    let given: Vec<Value> = e
                        .given
                        .iter()
                        .map(|&(c, a)| {
                            let who = a.and_then(|a| report.annotators.get(a));
                            json!({"class": config.source.spec.classes[c], "by": who.map(|w| w.name.clone()), "userId": who.and_then(|w| w.id.as_ref().map(ToString::to_string))})
                        })
                        .collect();
                    let mut user = Map::new();
                    user.insert("rank".into(), json!(e.rank));
                    user.insert("reason".into(), json!(e.reason.name()));
                    user.insert("given".into(), Value::Array(given));
                    user.insert("suggested".into(), json!(config.source.spec.classes[e.suggested]));
                    user.insert("suggestedProbability".into(), json!((e.suggested_probability * 1e4).round() / 1e4));
                    user.insert("quality".into(), json!((e.quality * 1e4).round() / 1e4));
                    user.insert("sourceAnnotationId".into(), json!(s.annotation.to_string()));
                    user.insert("sourceElementId".into(), json!(s.element_id.as_ref().map(ToString::to_string)));
                    user.insert("sourceElementIndex".into(), json!(s.element_index));
                    element.user = Some(user);
                    element
                })
                .collect();
            let mut attributes = Map::new();
            attributes.insert(
                "histoactive".into(),
                json!({
                    "schema": SCHEMA_VERSION,
                    "kind": AUDIT_KIND,
                    "runId": report.run_id,
                    "time": report.time,
                    "parameters": {"samples": config.source.samples.as_str(), "labels": config.source.labels.as_ref().map(Regex::as_str),
                                   "classes": config.source.spec.classes, "folds": config.folds, "seed": config.seed},
                    "flagged": {"total": total, "onThisSlide": entries.len()},
                    "sources": slide.samples.iter().map(|a| a.id.to_string()).collect::<Vec<_>>(),
                }),
            );
            AnnotationBody {
                name: config.layer_name.clone(),
                description: Some(
                    "Labels to review again: annotator disagreements first, then labels the model finds likely wrong. \
                     Written by histoactive; labels themselves are never changed."
                        .into(),
                ),
                display: None,
                attributes,
                elements,
            }
        });
        let change = writeback::put_layer(
            client,
            &slide.item,
            AUDIT_KIND,
            &config.layer_name,
            body.as_ref(),
        )
        .await?;
        changes.push((slide.item.name.clone(), change));
    }
    report.changes = changes;
    if let Some(folder) = &report.folder {
        let count = |r: Reason| report.entries.iter().filter(|e| e.reason == r).count();
        let summary = json!({
            "lastRun": report.time,
            "runId": report.run_id,
            "labeled": report.labeled,
            "disagreements": count(Reason::Disagreement),
            "likelyErrors": count(Reason::LikelyError),
            "annotators": report.annotators.iter().map(|a| json!({
                "user": a.name, "userId": a.id.as_ref().map(ToString::to_string), "labels": a.labels,
                "quality": a.quality, "agreement": a.agreement,
            })).collect::<Vec<_>>(),
            "layerName": config.layer_name,
        });
        writeback::put_folder_summary(client, folder, "histoactiveAudit", summary).await?;
    }
    Ok(())
}
