//! Pure learning code: ndarray in, rankings out. No I/O and no REST types, so
//! the DSA round and offline simulations run exactly the same code.

mod classifier;
mod cv;
mod error;
mod scale;
mod strategy;

pub use classifier::{Classifier, ClassifierParams, ValidClassifierParams, argmax};
pub use cv::{CvScore, cross_validate, stratified_folds};
pub use error::{LearnError, ParamError};
pub use scale::Standardizer;
pub use strategy::{Strategy, entropy, least_confidence, margin, scores, top_k};

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

/// One query: which pool rows to ask about, in order.
#[derive(Debug, Clone)]
pub struct Query {
    /// Pool row indices, most informative first.
    pub picked: Vec<usize>,
    /// The strategy's score of each picked row (same order).
    pub scores: Vec<f64>,
    /// Class probabilities of each picked row (same order).
    pub proba: Array2<f64>,
    /// Cross-validated accuracy of the model on the labeled rows.
    pub cv: Option<CvScore>,
}

/// Fits on the labeled rows, scores the pool and picks the top `batch`.
#[allow(clippy::too_many_arguments)]
pub fn query(
    params: &ValidClassifierParams,
    labeled: ArrayView2<f64>,
    labels: ArrayView1<usize>,
    n_classes: usize,
    pool: ArrayView2<f64>,
    strategy: Strategy,
    batch: usize,
    seed: u64,
) -> Result<Query, LearnError> {
    let model = params.fit(labeled, labels, n_classes)?;
    let cv = cross_validate(params, labeled, labels, n_classes, 5, seed)?;
    let proba = model.predict_proba(pool)?;
    let all_scores = scores(strategy, proba.view(), seed);
    let picked = top_k(all_scores.view(), batch);
    Ok(Query {
        scores: picked.iter().map(|&i| all_scores[i]).collect(),
        proba: proba.select(Axis(0), &picked),
        picked,
        cv,
    })
}
