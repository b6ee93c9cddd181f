//! Pure learning code: ndarray in, rankings out. No I/O and no REST types, so
//! the DSA round and offline simulations run exactly the same code.

mod audit;
mod classifier;
mod committee;
mod cv;
mod density;
mod diversity;
mod error;
mod kmeans;
mod scale;
mod site_query;
mod sites;
mod strategy;

pub use audit::{
    ConfidentLearning, Consensus, OutOfFold, auroc, confident_learning, consensus, label_quality,
    out_of_fold,
};
pub use classifier::{Classifier, ClassifierParams, ValidClassifierParams, argmax};
pub use committee::{bootstrap_committee, committee_scores, mean_kl, vote_entropy};
pub use cv::{CvScore, cross_validate, stratified_folds};
pub use density::{density_scores, pool_similarity};
pub use diversity::{Diversity, candidate_count, cold_start, kcenter_greedy, round_robin, select};
pub use error::{LearnError, ParamError};
pub use kmeans::KMeans;
pub use scale::{Feature, Standardizer};
pub use site_query::query_by_site;
pub use sites::{
    LosoSite, LosoSkip, SiteLayout, SiteMode, SitePlan, expected_error, leave_one_site_out, quotas,
    shift_scores, site_specificity, site_weight, worst_site,
};
pub use strategy::{Strategy, entropy, least_confidence, margin, scores, top_k};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// Members of the `committee` strategy's bootstrap ensemble.
pub const COMMITTEE_SIZE: usize = 5;

/// How to pick a batch from the pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryParams {
    pub strategy: Strategy,
    pub diversity: Diversity,
    pub batch: usize,
    pub seed: u64,
}

/// Why the batch was picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// By the strategy's score from a fitted model.
    Model,
    /// Labels of fewer than two classes: no model yet, so a diverse and
    /// typical first batch (one sample nearest each k-means centre).
    ColdStart,
}

/// One query: which pool rows to ask about, in order.
#[derive(Debug, Clone)]
pub struct Query {
    pub kind: QueryKind,
    /// Pool row indices, first to ask first.
    pub picked: Vec<usize>,
    /// The score of each picked row (same order): the strategy's score, or in
    /// a cold start the row's typicality (mean cosine similarity, in [0, 1]).
    pub scores: Vec<f64>,
    /// Class probabilities of each picked row (same order); `None` in a cold start.
    pub proba: Option<Array2<f64>>,
}

/// Fits on the labeled rows, scores the pool and picks a batch; with labels
/// of fewer than two classes, picks a cold-start batch instead.
pub fn query<T: Feature>(
    params: &ValidClassifierParams,
    labeled: ArrayView2<f64>,
    labels: ArrayView1<usize>,
    n_classes: usize,
    pool: ArrayView2<T>,
    q: QueryParams,
) -> Result<Query, LearnError> {
    if pool.nrows() == 0 {
        return Ok(Query {
            kind: QueryKind::Model,
            picked: Vec::new(),
            scores: Vec::new(),
            proba: None,
        });
    }
    // Distances for diversity and density are taken on standardized features.
    let needs_geometry = q.diversity != Diversity::Off || q.strategy == Strategy::Density;
    let mut classes: Vec<usize> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() < 2 {
        let scaler = Standardizer::fit(pool);
        let picked = cold_start(pool, &scaler, q.batch, q.seed);
        let typical = pool_similarity(pool, &scaler);
        return Ok(Query {
            kind: QueryKind::ColdStart,
            scores: picked.iter().map(|&i| typical[i]).collect(),
            picked,
            proba: None,
        });
    }
    let model = params.fit(labeled, labels, n_classes)?;
    let proba = model.predict_proba(pool)?;
    let scaler = needs_geometry.then(|| Standardizer::fit(pool));
    let all_scores = pool_scores(
        params,
        labeled,
        labels,
        n_classes,
        pool,
        &proba,
        &q,
        scaler.as_ref(),
    )?;
    let picked = match &scaler {
        Some(scaler) => diversity::select(
            all_scores.view(),
            pool,
            scaler,
            q.diversity,
            q.batch,
            q.seed,
        ),
        None => top_k(all_scores.view(), q.batch),
    };
    Ok(Query {
        kind: QueryKind::Model,
        scores: picked.iter().map(|&i| all_scores[i]).collect(),
        proba: Some(proba.select(Axis(0), &picked)),
        picked,
    })
}

/// The strategy's score of every pool row, given the full model's probabilities.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool_scores<T: Feature>(
    params: &ValidClassifierParams,
    labeled: ArrayView2<f64>,
    labels: ArrayView1<usize>,
    n_classes: usize,
    pool: ArrayView2<T>,
    proba: &Array2<f64>,
    q: &QueryParams,
    scaler: Option<&Standardizer>,
) -> Result<Array1<f64>, LearnError> {
    Ok(match q.strategy {
        Strategy::Committee => {
            let members =
                bootstrap_committee(params, labeled, labels, n_classes, COMMITTEE_SIZE, q.seed)?;
            let probas = members
                .iter()
                .map(|m| m.predict_proba(pool))
                .collect::<Result<Vec<_>, _>>()?;
            committee_scores(&probas)
        }
        Strategy::Density => {
            let margins = scores(Strategy::Margin, proba.view(), q.seed);
            let identity = Standardizer::identity(pool.ncols());
            let similarity = pool_similarity(pool, scaler.unwrap_or(&identity));
            density_scores(margins.view(), similarity.view(), 1.0)
        }
        other => scores(other, proba.view(), q.seed),
    })
}
