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
use crate::learn::{
    self, Diversity, LearnError, QueryParams, SiteLayout, SiteMode, Strategy, ValidClassifierParams,
};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimParams {
    pub strategies: Vec<Strategy>,
    pub diversity: Diversity,
    /// Site modes each strategy runs with (only `off` is run when the data has no sites).
    pub site_modes: Vec<SiteMode>,
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
    /// The site of each row, when the table has a site column.
    pub sites: Option<Vec<String>>,
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
        if test.sites.is_some() != train.sites.is_some() {
            return Err(
                "the test set and the data must both have the site column, or neither".into(),
            );
        }
        Ok(TestSet {
            features: test.features.clone(),
            labels: test.labels.iter().map(|&l| map[l]).collect(),
            sites: test.sites.clone(),
        })
    }
}

/// One point of a learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub strategy: Strategy,
    pub sites: SiteMode,
    pub seed: u64,
    pub labels: usize,
    pub scores: Scores,
    /// Test accuracy per site (see [`SiteIndex::names`]); `None` for a site
    /// without test rows. Empty when the data has no sites.
    pub per_site: Vec<Option<f64>>,
}

impl CurvePoint {
    /// The lowest per-site accuracy.
    pub fn worst_site(&self) -> Option<f64> {
        self.per_site.iter().flatten().copied().reduce(f64::min)
    }
}

/// Sites as indices: every site name of the data and the test set, sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteIndex {
    pub names: Vec<String>,
    /// Site of each data row.
    pub data: Vec<usize>,
    /// Site of each fixed-test-set row.
    pub test: Vec<usize>,
}

impl SiteIndex {
    /// `None` when the data has no site column.
    pub fn of(data: &Dataset, test: Option<&TestSet>) -> Option<SiteIndex> {
        let data_sites = data.sites.as_ref()?;
        let test_sites = test.and_then(|t| t.sites.as_ref());
        let mut names: Vec<String> = data_sites
            .iter()
            .chain(test_sites.into_iter().flatten())
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        let index = |s: &String| names.binary_search(s).unwrap_or(0);
        Some(SiteIndex {
            data: data_sites.iter().map(index).collect(),
            test: test_sites.map_or_else(Vec::new, |t| t.iter().map(index).collect()),
            names,
        })
    }
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
    (x_test, truth, test_sites): (ArrayView2<f64>, &[usize], &[usize]),
    n_classes: usize,
    n_sites: usize,
) -> Result<(Scores, Vec<Option<f64>>), LearnError> {
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
    let mut right = vec![0usize; n_sites];
    let mut total = vec![0usize; n_sites];
    for ((&t, &p), &s) in truth.iter().zip(&predicted).zip(test_sites) {
        if s >= n_sites {
            break; // no sites
        }
        total[s] += 1;
        right[s] += usize::from(t == p);
    }
    let per_site = right
        .iter()
        .zip(&total)
        .map(|(&r, &n)| (n > 0).then(|| r as f64 / n as f64))
        .collect();
    Ok((score(truth, &predicted, n_classes), per_site))
}

/// One learning curve: initial random labels, then batches by `strategy`
/// (shared out over sites by `sites` when the data has sites).
pub fn curve(
    data: &Dataset,
    params: &SimParams,
    strategy: Strategy,
    sites: SiteMode,
    seed: u64,
) -> Result<Vec<CurvePoint>, LearnError> {
    let n_classes = data.classes.len();
    let x = data.features.view();
    let y = &data.labels;
    let index = SiteIndex::of(data, params.test_set.as_ref()).unwrap_or_else(|| SiteIndex {
        names: Vec::new(),
        data: vec![0; y.len()],
        test: params
            .test_set
            .as_ref()
            .map_or_else(Vec::new, |t| vec![0; t.labels.len()]),
    });
    let n_sites = index.names.len();
    let (train, held_out) = match &params.test_set {
        Some(_) => ((0..y.len()).collect(), Vec::new()),
        None => {
            // Stratified by site and class, so every site is tested.
            let strata: Vec<usize> = (0..y.len())
                .map(|i| index.data[i] * n_classes + y[i])
                .collect();
            stratified_split(
                &strata,
                n_classes * n_sites.max(1),
                params.test_fraction,
                seed,
            )
        }
    };
    let held_out_x = x.select(Axis(0), &held_out);
    let held_out_y: Vec<usize> = held_out.iter().map(|&i| y[i]).collect();
    let held_out_sites: Vec<usize> = held_out.iter().map(|&i| index.data[i]).collect();
    let test = match &params.test_set {
        Some(t) => (
            t.features.view(),
            t.labels.as_slice(),
            index.test.as_slice(),
        ),
        None => (
            held_out_x.view(),
            held_out_y.as_slice(),
            held_out_sites.as_slice(),
        ),
    };
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut pool = train.clone();
    pool.shuffle(&mut rng);
    let mut labeled: Vec<usize> = pool.drain(..params.initial.min(pool.len())).collect();
    pool.sort_unstable();
    let budget = params.budget.min(train.len());
    let mut points = Vec::new();
    loop {
        let (scores, per_site) = evaluate(&params.model, x, y, &labeled, test, n_classes, n_sites)?;
        points.push(CurvePoint {
            strategy,
            sites,
            seed,
            labels: labeled.len(),
            scores,
            per_site,
        });
        if labeled.len() >= budget || pool.is_empty() {
            return Ok(points);
        }
        let batch = params.batch.min(budget - labeled.len());
        let yl: Array1<usize> = labeled.iter().map(|&i| y[i]).collect();
        let labeled_sites: Vec<usize> = labeled.iter().map(|&i| index.data[i]).collect();
        let pool_sites: Vec<usize> = pool.iter().map(|&i| index.data[i]).collect();
        let (query, _) = learn::query_by_site(
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
            &SiteLayout {
                n_sites: n_sites.max(1),
                labeled: &labeled_sites,
                pool: &pool_sites,
            },
            sites,
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

/// The (strategy, site mode) pairs a simulation runs: every strategy with
/// every site mode when the data has sites, else with `off` only.
pub fn arms(data: &Dataset, params: &SimParams) -> Vec<(Strategy, SiteMode)> {
    let modes: Vec<SiteMode> = if data.sites.is_some() {
        params.site_modes.clone()
    } else {
        vec![SiteMode::Off]
    };
    params
        .strategies
        .iter()
        .flat_map(|&s| modes.iter().map(move |&m| (s, m)))
        .collect()
}

/// All curves, calling `tick` after each (strategy, site mode, seed).
pub fn run(
    data: &Dataset,
    params: &SimParams,
    tick: &mut dyn FnMut(Strategy, SiteMode, u64),
) -> Result<Vec<CurvePoint>, LearnError> {
    let mut all = Vec::new();
    for (strategy, sites) in arms(data, params) {
        for seed in 0..params.seeds {
            all.extend(curve(data, params, strategy, sites, seed)?);
            tick(strategy, sites, seed);
        }
    }
    Ok(all)
}

/// The curves as CSV: one row per strategy, site mode, seed and label
/// count; with sites, also the worst-site and each site's accuracy.
pub fn curves_csv(points: &[CurvePoint], site_names: &[String]) -> String {
    let mut out = String::from("strategy,sites,seed,labels,accuracy,balanced_accuracy,macro_f1");
    if !site_names.is_empty() {
        out.push_str(",worst_site_accuracy");
        for name in site_names {
            out.push_str(&format!(
                ",{}",
                crate::dataset::csv_cell(&format!("accuracy:{name}"))
            ));
        }
    }
    out.push('\n');
    let cell = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.6}"));
    for p in points {
        out.push_str(&format!(
            "{},{},{},{},{:.6},{:.6},{:.6}",
            p.strategy,
            p.sites,
            p.seed,
            p.labels,
            p.scores.accuracy,
            p.scores.balanced_accuracy,
            p.scores.macro_f1
        ));
        if !site_names.is_empty() {
            out.push_str(&format!(",{}", cell(p.worst_site())));
            for v in &p.per_site {
                out.push_str(&format!(",{}", cell(*v)));
            }
        }
        out.push('\n');
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
            site_modes: vec![SiteMode::Off],
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
        let points = run(&data, &p, &mut |_, _, _| {}).unwrap();
        let margin0: Vec<usize> = points
            .iter()
            .filter(|c| c.strategy == Strategy::Margin && c.seed == 0)
            .map(|c| c.labels)
            .collect();
        assert_eq!(margin0, [2, 6, 10, 14, 18, 22]);
        assert_eq!(points.len(), 2 * 2 * 6);
        assert_eq!(
            points,
            run(&data, &p, &mut |_, _, _| {}).unwrap(),
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
            sites: None,
        };
        let mut p = params(vec![Strategy::Margin]);
        p.seeds = 1;
        p.budget = 600; // more than the data: stops when the pool is empty
        p.batch = 100;
        p.test_set = Some(test);
        let points = run(&data, &p, &mut |_, _, _| {}).unwrap();
        assert_eq!(points.last().unwrap().labels, 569);
        // Trained on every row, including the 100 it is tested on.
        assert!(points.last().unwrap().scores.accuracy > 0.95);
    }
}
