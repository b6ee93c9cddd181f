//! Simulated active learning on fully labeled data: labels are hidden and
//! revealed only as a strategy asks for them, and the model is scored on a
//! held-out test set after every batch. The queries run through
//! [`crate::learn::query`], the same code as a round on a DSA.

mod metrics;
pub mod plot;
mod summary;

pub use metrics::{Scores, score};
pub use summary::{Summary, summarize};

use ndarray::{Array1, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::dataset::Dataset;
use crate::learn::{self, Diversity, LearnError, QueryParams, Strategy, ValidClassifierParams};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimParams {
    pub strategies: Vec<Strategy>,
    pub diversity: Diversity,
    /// Seeds `0..seeds`; each seed draws its own split and initial labels.
    pub seeds: u64,
    /// Labels revealed at random before the first query.
    pub initial: usize,
    pub batch: usize,
    /// Stop once this many labels are used.
    pub budget: usize,
    /// Share of each class held out for testing (when there is no fixed test set).
    pub test_fraction: f64,
    /// A fixed test set instead of a held-out share; then every data row is in the pool.
    pub test_set: Option<TestSet>,
    pub model: ValidClassifierParams,
}

/// Rows to score the model on, with classes numbered like the data's.
#[derive(Debug, Clone)]
pub struct TestSet {
    pub features: ndarray::Array2<f64>,
    pub labels: Vec<usize>,
}

impl TestSet {
    /// Renumbers a second table's classes to the training data's.
    pub fn aligned(test: &Dataset, train: &Dataset) -> Result<TestSet, String> {
        if test.feature_names != train.feature_names {
            return Err(format!(
                "the test set's feature columns ({}) differ from the data's ({})",
                test.feature_names.join(", "),
                train.feature_names.join(", ")
            ));
        }
        let map: Vec<usize> =
            test.classes
                .iter()
                .map(|c| {
                    train.classes.iter().position(|t| t == c).ok_or_else(|| {
                        format!("the test set has class '{c}', which the data lacks")
                    })
                })
                .collect::<Result<_, _>>()?;
        Ok(TestSet {
            features: test.features.clone(),
            labels: test.labels.iter().map(|&l| map[l]).collect(),
        })
    }
}

/// One point of a learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub strategy: Strategy,
    pub seed: u64,
    pub labels: usize,
    pub scores: Scores,
}

/// A seeded stratified split: `(train rows, test rows)`.
pub fn stratified_split(
    labels: &[usize],
    n_classes: usize,
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in 0..n_classes {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n_test = (rows.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Test scores of a model fitted on the labeled rows; with labels of a single
/// class there is no model, and that class is predicted everywhere.
fn evaluate(
    model: &ValidClassifierParams,
    x: ArrayView2<f64>,
    y: &[usize],
    labeled: &[usize],
    (x_test, truth): (ArrayView2<f64>, &[usize]),
    n_classes: usize,
) -> Result<Scores, LearnError> {
    let yl: Array1<usize> = labeled.iter().map(|&i| y[i]).collect();
    let distinct = {
        let mut v = yl.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    };
    let predicted: Vec<usize> = if distinct.len() < 2 {
        vec![distinct.first().copied().unwrap_or(0); truth.len()]
    } else {
        let fitted = model.fit(x.select(Axis(0), labeled).view(), yl.view(), n_classes)?;
        fitted.predict(x_test)?.to_vec()
    };
    Ok(score(truth, &predicted, n_classes))
}

/// One learning curve: initial random labels, then batches by `strategy`.
pub fn curve(
    data: &Dataset,
    params: &SimParams,
    strategy: Strategy,
    seed: u64,
) -> Result<Vec<CurvePoint>, LearnError> {
    let n_classes = data.classes.len();
    let x = data.features.view();
    let y = &data.labels;
    let (train, held_out) = match &params.test_set {
        Some(_) => ((0..y.len()).collect(), Vec::new()),
        None => stratified_split(y, n_classes, params.test_fraction, seed),
    };
    let held_out_x = x.select(Axis(0), &held_out);
    let held_out_y: Vec<usize> = held_out.iter().map(|&i| y[i]).collect();
    let test = match &params.test_set {
        Some(t) => (t.features.view(), t.labels.as_slice()),
        None => (held_out_x.view(), held_out_y.as_slice()),
    };
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut pool = train.clone();
    pool.shuffle(&mut rng);
    let mut labeled: Vec<usize> = pool.drain(..params.initial.min(pool.len())).collect();
    pool.sort_unstable();
    let budget = params.budget.min(train.len());
    let mut points = Vec::new();
    loop {
        let scores = evaluate(&params.model, x, y, &labeled, test, n_classes)?;
        points.push(CurvePoint {
            strategy,
            seed,
            labels: labeled.len(),
            scores,
        });
        if labeled.len() >= budget || pool.is_empty() {
            return Ok(points);
        }
        let batch = params.batch.min(budget - labeled.len());
        let yl: Array1<usize> = labeled.iter().map(|&i| y[i]).collect();
        let query = learn::query(
            &params.model,
            x.select(Axis(0), &labeled).view(),
            yl.view(),
            n_classes,
            x.select(Axis(0), &pool).view(),
            QueryParams {
                strategy,
                diversity: params.diversity,
                batch,
                seed: seed.wrapping_mul(1_000_003) ^ labeled.len() as u64,
            },
        )?;
        let mut picked: Vec<usize> = query.picked.iter().map(|&p| pool[p]).collect();
        labeled.append(&mut picked);
        let taken: std::collections::HashSet<usize> = query.picked.iter().copied().collect();
        pool = pool
            .into_iter()
            .enumerate()
            .filter(|(k, _)| !taken.contains(k))
            .map(|(_, i)| i)
            .collect();
    }
}

/// All curves, calling `tick` after each (strategy, seed).
pub fn run(
    data: &Dataset,
    params: &SimParams,
    tick: &mut dyn FnMut(Strategy, u64),
) -> Result<Vec<CurvePoint>, LearnError> {
    let mut all = Vec::new();
    for &strategy in &params.strategies {
        for seed in 0..params.seeds {
            all.extend(curve(data, params, strategy, seed)?);
            tick(strategy, seed);
        }
    }
    Ok(all)
}

/// The curves as CSV: one row per strategy, seed and label count.
pub fn curves_csv(points: &[CurvePoint]) -> String {
    let mut out = String::from("strategy,seed,labels,accuracy,balanced_accuracy,macro_f1\n");
    for p in points {
        out.push_str(&format!(
            "{},{},{},{:.6},{:.6},{:.6}\n",
            p.strategy,
            p.seed,
            p.labels,
            p.scores.accuracy,
            p.scores.balanced_accuracy,
            p.scores.macro_f1
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::wdbc;
    use crate::learn::ClassifierParams;

    fn params(strategies: Vec<Strategy>) -> SimParams {
        SimParams {
            strategies,
            diversity: Diversity::Off,
            seeds: 2,
            initial: 2,
            batch: 4,
            budget: 22,
            test_fraction: 0.3,
            test_set: None,
            model: ClassifierParams::default().check().unwrap(),
        }
    }

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
        let (train, test) = stratified_split(&labels, 2, 0.3, 5);
        assert_eq!(train.len() + test.len(), 100);
        assert_eq!(test.iter().filter(|&&i| labels[i] == 1).count(), 8); // round(25 · 0.3)
        assert!(train.iter().all(|i| !test.contains(i)));
        assert_eq!((train, test), stratified_split(&labels, 2, 0.3, 5));
    }

    #[test]
    fn curves_grow_by_batch_to_the_budget_and_repeat_exactly() {
        let data = wdbc();
        let p = params(vec![Strategy::Margin, Strategy::Random]);
        let points = run(&data, &p, &mut |_, _| {}).unwrap();
        let margin0: Vec<usize> = points
            .iter()
            .filter(|c| c.strategy == Strategy::Margin && c.seed == 0)
            .map(|c| c.labels)
            .collect();
        assert_eq!(margin0, [2, 6, 10, 14, 18, 22]);
        assert_eq!(points.len(), 2 * 2 * 6);
        assert_eq!(
            points,
            run(&data, &p, &mut |_, _| {}).unwrap(),
            "same seeds, same curves"
        );
        // With 22 labels a logistic regression on WDBC is far above chance.
        let last = points
            .iter()
            .filter(|c| c.labels == 22)
            .map(|c| c.scores.accuracy)
            .fold(1.0, f64::min);
        assert!(last > 0.85, "{last}");
    }

    #[test]
    fn a_fixed_test_set_puts_every_row_in_the_pool() {
        let data = wdbc();
        let test = TestSet {
            features: data.features.slice(ndarray::s![..100, ..]).to_owned(),
            labels: data.labels[..100].to_vec(),
        };
        let mut p = params(vec![Strategy::Margin]);
        p.seeds = 1;
        p.budget = 600; // more than the data: stops when the pool is empty
        p.batch = 100;
        p.test_set = Some(test);
        let points = run(&data, &p, &mut |_, _| {}).unwrap();
        assert_eq!(points.last().unwrap().labels, 569);
        // Trained on every row, including the 100 it is tested on.
        assert!(points.last().unwrap().scores.accuracy > 0.95);
    }
}
