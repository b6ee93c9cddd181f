//! Per-site view of a round: counts, leave-one-site-out accuracy, quotas.

use serde_json::{Value, json};

use crate::learn::{LosoSite, LosoSkip, SiteMode, SitePlan, worst_site};
use crate::sites::SiteTable;

/// One site's line of the round summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow {
    pub name: String,
    pub slides: usize,
    pub samples: usize,
    /// Labels per class (in `--classes` order).
    pub labels: Vec<usize>,
    pub unlabeled: usize,
    pub queued: usize,
    /// Leave-one-site-out accuracy, or why there is none; `None` with one site
    /// or labels of fewer than two classes.
    pub loso: Option<Result<f64, LosoSkip>>,
    /// Estimated error and batch quota, when selection was site-aware.
    pub error: Option<f64>,
    pub quota: Option<usize>,
}

/// The sites of a round.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteReport {
    /// The mode asked for.
    pub mode: SiteMode,
    /// Whether the batch was actually shared out by site (needs 2+ sites with
    /// unlabeled samples).
    pub applied: bool,
    pub rows: Vec<SiteRow>,
    /// The site with the lowest leave-one-site-out accuracy.
    pub worst: Option<(String, f64)>,
    /// How sites were found, and what a user should know about it.
    pub notes: Vec<String>,
}

impl SiteReport {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        table: &SiteTable,
        mode: SiteMode,
        slide_site: impl Fn(usize) -> usize,
        n_slides: usize,
        per_sample: &[(usize, Option<usize>, bool)],
        n_classes: usize,
        loso: Option<&[LosoSite]>,
        plan: Option<&SitePlan>,
        notes: Vec<String>,
    ) -> SiteReport {
        let mut rows: Vec<SiteRow> = table
            .names
            .iter()
            .enumerate()
            .map(|(s, name)| SiteRow {
                name: name.clone(),
                slides: 0,
                samples: 0,
                labels: vec![0; n_classes],
                unlabeled: 0,
                queued: 0,
                loso: loso.and_then(|l| l.get(s)).map(|l| l.accuracy),
                error: plan.and_then(|p| p.error.get(s).copied().flatten()),
                quota: plan.and_then(|p| p.quotas.get(s).copied()),
            })
            .collect();
        for slide in 0..n_slides {
            rows[slide_site(slide)].slides += 1;
        }
        // (site, label, queued) per sample.
        for &(site, label, queued) in per_sample {
            let row = &mut rows[site];
            row.samples += 1;
            match label {
                Some(c) => row.labels[c] += 1,
                None => row.unlabeled += 1,
            }
            if queued {
                row.queued += 1;
            }
        }
        let worst = loso
            .and_then(worst_site)
            .map(|(s, a)| (table.names[s].clone(), a));
        SiteReport {
            mode,
            applied: plan.is_some(),
            rows,
            worst,
            notes,
        }
    }

    /// Why a sample of `site` was queued, in words, for the element's `user`.
    pub fn reason(&self, site: usize, specificity: Option<f64>) -> String {
        let row = &self.rows[site];
        let labels: usize = row.labels.iter().sum();
        let mut out = match (row.quota, row.error) {
            (Some(q), Some(e)) => format!(
                "site '{}' got {q} slot(s) of the batch ({} mode: the model's expected error there {e:.2}, {labels} label(s))",
                row.name, self.mode
            ),
            (Some(q), None) => format!(
                "site '{}' got {q} slot(s) of the batch ({} mode, no model yet: {labels} label(s))",
                row.name, self.mode
            ),
            _ => format!("site '{}' (sites not used for selection)", row.name),
        };
        if let Some(s) = specificity {
            out.push_str(&format!(
                "; site specificity {s:.2} (1: feature space only this site has samples in)"
            ));
        }
        out
    }

    /// The per-site block of the folder summary.
    pub fn to_json(&self, classes: &[String]) -> Value {
        json!({
            "mode": self.mode.name(),
            "applied": self.applied,
            "worstSite": self.worst.as_ref().map(|(n, a)| json!({"site": n, "losoAccuracy": a})),
            "sites": self.rows.iter().map(|r| json!({
                "site": r.name,
                "slides": r.slides,
                "samples": r.samples,
                "unlabeled": r.unlabeled,
                "queued": r.queued,
                "labels": classes.iter().zip(&r.labels).map(|(c, n)| (c.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "losoAccuracy": r.loso.and_then(Result::ok),
                "estimatedError": r.error,
                "quota": r.quota,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}
