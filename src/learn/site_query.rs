//! One site-aware query: the batch shared out over sites by need, and for
//! `shift` scores that favour site-specific samples (see `sites.rs`).

use ndarray::{ArrayView1, ArrayView2, Axis};

use super::classifier::ValidClassifierParams;
use super::density::pool_similarity;
use super::diversity::{self, cold_start};
use super::error::LearnError;
use super::scale::{Feature, Standardizer};
use super::sites::{
    LosoSite, LosoSkip, SiteLayout, SiteMode, SitePlan, expected_error, leave_one_site_out, quotas,
    rows_of, shift_scores, site_specificity, site_weight,
};
use super::{Query, QueryKind, QueryParams, pool_scores, query};

/// Like [`query`], but the batch is shared out over sites (see `sites.rs`):
/// per-site quotas by need, and with [`SiteMode::Shift`] scores that favour
/// samples where the model is least site-invariant. With `SiteMode::Off` or
/// a single site this is [`query`].
#[allow(clippy::too_many_arguments)]
pub fn query_by_site<T: Feature>(
    params: &ValidClassifierParams,
    labeled: ArrayView2<f64>,
    labels: ArrayView1<usize>,
    n_classes: usize,
    pool: ArrayView2<T>,
    q: QueryParams,
    layout: &SiteLayout,
    mode: SiteMode,
) -> Result<(Query, Option<SitePlan>), LearnError> {
    let available = layout.pool_counts();
    let label_counts = layout.label_counts();
    if mode == SiteMode::Off || available.iter().filter(|&&n| n > 0).count() < 2 {
        return Ok((query(params, labeled, labels, n_classes, pool, q)?, None));
    }
    let scaler = Standardizer::fit(pool);
    let site_rows: Vec<Vec<usize>> = (0..layout.n_sites)
        .map(|s| rows_of(layout.pool, s))
        .collect();
    let mut distinct: Vec<usize> = labels.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        // No model: the batch is shared by labels alone, and each site's
        // share is a typical, spread-out first batch of that site.
        let weights: Vec<f64> = label_counts.iter().map(|&l| site_weight(1.0, l)).collect();
        let quota = quotas(&weights, &available, q.batch);
        let typical = pool_similarity(pool, &scaler);
        let mut picked = Vec::new();
        for (s, rows) in site_rows.iter().enumerate() {
            if quota[s] == 0 {
                continue;
            }
            let sub = pool.select(Axis(0), rows);
            let local = cold_start(sub.view(), &scaler, quota[s], q.seed ^ s as u64);
            picked.extend(local.into_iter().map(|i| rows[i]));
        }
        picked.sort_by(|&a, &b| typical[b].total_cmp(&typical[a]).then(a.cmp(&b)));
        let loso = label_counts
            .iter()
            .map(|&n| LosoSite {
                labeled: n,
                accuracy: Err(if n == 0 {
                    LosoSkip::NoLabels
                } else {
                    LosoSkip::OthersTooFewClasses
                }),
            })
            .collect();
        let plan = SitePlan {
            mode,
            labels: label_counts,
            available,
            error: vec![None; layout.n_sites],
            loso,
            quotas: quota,
            specificity: Vec::new(),
        };
        let query = Query {
            kind: QueryKind::ColdStart,
            scores: picked.iter().map(|&i| typical[i]).collect(),
            picked,
            proba: None,
        };
        return Ok((query, Some(plan)));
    }
    let model = params.fit(labeled, labels, n_classes)?;
    let proba = model.predict_proba(pool)?;
    let base = pool_scores(
        params,
        labeled,
        labels,
        n_classes,
        pool,
        &proba,
        &q,
        Some(&scaler),
    )?;
    let loso = leave_one_site_out(
        params,
        labeled,
        labels,
        layout.labeled,
        layout.n_sites,
        n_classes,
    )?;
    // The model's own doubt about a site's unlabeled samples, not its
    // leave-one-site-out error: once a site has labels, how badly the other
    // sites transfer to it is no longer the error the model makes there, and
    // weighting by it kept sending labels to sites that already had them.
    let error = expected_error(proba.view(), layout.pool, layout.n_sites);
    let (all_scores, specificity) = if mode == SiteMode::Shift {
        let specific = site_specificity(params, pool, layout)?;
        (shift_scores(base.view(), specific.view()), Some(specific))
    } else {
        (base, None)
    };
    let weights: Vec<f64> = error
        .iter()
        .zip(&label_counts)
        .map(|(&e, &l)| site_weight(e, l))
        .collect();
    let quota = quotas(&weights, &available, q.batch);
    let mut picked = Vec::new();
    for (s, rows) in site_rows.iter().enumerate() {
        if quota[s] == 0 {
            continue;
        }
        let sub = pool.select(Axis(0), rows);
        let sub_scores = all_scores.select(Axis(0), rows);
        let local = diversity::select(
            sub_scores.view(),
            sub.view(),
            &scaler,
            q.diversity,
            quota[s],
            q.seed ^ s as u64,
        );
        picked.extend(local.into_iter().map(|i| rows[i]));
    }
    // One queue, most informative first, whatever the site.
    picked.sort_by(|&a, &b| all_scores[b].total_cmp(&all_scores[a]).then(a.cmp(&b)));
    let plan = SitePlan {
        mode,
        labels: label_counts,
        available,
        error: error.into_iter().map(Some).collect(),
        loso,
        quotas: quota,
        specificity: specificity.map_or_else(Vec::new, |d| picked.iter().map(|&i| d[i]).collect()),
    };
    let query = Query {
        kind: QueryKind::Model,
        scores: picked.iter().map(|&i| all_scores[i]).collect(),
        proba: Some(proba.select(Axis(0), &picked)),
        picked,
    };
    Ok((query, Some(plan)))
}
