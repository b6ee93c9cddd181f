//! Query strategies: how informative a label for each unlabeled sample would be.
//!
//! Every score lies in `[0, 1]` and higher means "ask an expert about this one
//! first", so scores are comparable across slides, runs and class counts:
//! - `margin`: `1 - (p1 - p2)`, one minus the gap between the two most likely classes;
//! - `entropy`: Shannon entropy of the probabilities divided by `ln K`;
//! - `least-confidence`: `(1 - p1) * K / (K - 1)`, the doubt in the top class,
//!   scaled so that a uniform prediction scores 1;
//! - `committee`: disagreement of a bootstrap ensemble (see `committee.rs`);
//! - `density`: margin × typicality in the pool (see `density.rs`);
//! - `random`: a seeded uniform draw, the baseline every strategy must beat.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, ArrayView1, ArrayView2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Which score ranks the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Margin,
    Entropy,
    LeastConfidence,
    Committee,
    Density,
    Random,
}

impl Strategy {
    pub const ALL: [Strategy; 6] = [
        Strategy::Margin,
        Strategy::Entropy,
        Strategy::LeastConfidence,
        Strategy::Committee,
        Strategy::Density,
        Strategy::Random,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Margin => "margin",
            Strategy::Entropy => "entropy",
            Strategy::LeastConfidence => "least-confidence",
            Strategy::Committee => "committee",
            Strategy::Density => "density",
            Strategy::Random => "random",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Strategy::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
                format!("unknown strategy '{s}'; choose one of {}", names.join(", "))
            })
    }
}

/// The two largest values of a row.
fn top_two(row: ArrayView1<f64>) -> (f64, f64) {
    let (mut a, mut b) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &p in row {
        if p > a {
            b = a;
            a = p;
        } else if p > b {
            b = p;
        }
    }
    (a, if b.is_finite() { b } else { 0.0 })
}

pub fn margin(row: ArrayView1<f64>) -> f64 {
    let (a, b) = top_two(row);
    (1.0 - (a - b)).clamp(0.0, 1.0)
}

pub fn entropy(row: ArrayView1<f64>) -> f64 {
    let k = row.len();
    if k < 2 {
        return 0.0;
    }
    let h: f64 = row.iter().filter(|&&p| p > 0.0).map(|&p| -p * p.ln()).sum();
    (h / (k as f64).ln()).clamp(0.0, 1.0)
}

pub fn least_confidence(row: ArrayView1<f64>) -> f64 {
    let k = row.len();
    if k < 2 {
        return 0.0;
    }
    let (a, _) = top_two(row);
    ((1.0 - a) * k as f64 / (k as f64 - 1.0)).clamp(0.0, 1.0)
}

/// One score per row of `proba` (rows: samples, columns: classes). The
/// strategies that need more than one model's probabilities (`committee`,
/// `density`) fall back to margin here; `learn::query` computes them in full.
pub fn scores(strategy: Strategy, proba: ArrayView2<f64>, seed: u64) -> Array1<f64> {
    match strategy {
        Strategy::Margin | Strategy::Committee | Strategy::Density => {
            proba.rows().into_iter().map(margin).collect()
        }
        Strategy::Entropy => proba.rows().into_iter().map(entropy).collect(),
        Strategy::LeastConfidence => proba.rows().into_iter().map(least_confidence).collect(),
        Strategy::Random => {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..proba.nrows()).map(|_| rng.r#gen::<f64>()).collect()
        }
    }
}

/// Indices of the `k` highest scores, best first; equal scores keep pool order
/// so the queue is deterministic.
pub fn top_k(scores: ArrayView1<f64>, k: usize) -> Vec<usize> {
    // (score, index) pairs side by side: the selection then reads memory in
    // order instead of jumping into the score array for every comparison.
    let mut order: Vec<(f64, usize)> = scores.iter().copied().zip(0..).collect();
    let by_score = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let k = k.min(order.len());
    if k == 0 {
        return Vec::new();
    }
    if k < order.len() {
        order.select_nth_unstable_by(k - 1, by_score);
        order.truncate(k);
    }
    order.sort_by(by_score);
    order.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn known_answers_for_each_score() {
        let p = array![0.5, 0.3, 0.2];
        assert_abs_diff_eq!(margin(p.view()), 0.8, epsilon = 1e-12);
        // H = -(0.5 ln 0.5 + 0.3 ln 0.3 + 0.2 ln 0.2) = 1.029653; / ln 3 = 0.937231
        assert_abs_diff_eq!(entropy(p.view()), 0.937_231_4, epsilon = 1e-6);
        // (1 - 0.5) * 3 / 2
        assert_abs_diff_eq!(least_confidence(p.view()), 0.75, epsilon = 1e-12);
        let uniform = array![0.25, 0.25, 0.25, 0.25];
        for f in [margin, entropy, least_confidence] {
            assert_abs_diff_eq!(f(uniform.view()), 1.0, epsilon = 1e-12);
            assert_abs_diff_eq!(f(array![1.0, 0.0, 0.0].view()), 0.0, epsilon = 1e-12);
        }
    }

    #[test]
    fn strategies_order_a_pool_as_expected() {
        let proba = array![[0.9, 0.1], [0.55, 0.45], [0.7, 0.3]];
        let s = scores(Strategy::Margin, proba.view(), 0);
        assert_eq!(top_k(s.view(), 2), vec![1, 2]);
        let s = scores(Strategy::Entropy, proba.view(), 0);
        assert_eq!(top_k(s.view(), 3), vec![1, 2, 0]);
    }

    #[test]
    fn random_is_seeded_and_top_k_breaks_ties_by_position() {
        let proba = ndarray::Array2::<f64>::zeros((50, 2));
        let a = scores(Strategy::Random, proba.view(), 42);
        assert_eq!(a, scores(Strategy::Random, proba.view(), 42));
        assert_ne!(a, scores(Strategy::Random, proba.view(), 43));
        assert_eq!(top_k(array![0.5, 0.9, 0.5, 0.5].view(), 3), vec![1, 0, 2]);
        assert_eq!(top_k(array![0.1].view(), 5), vec![0]);
    }

    #[test]
    fn names_parse_back() {
        for s in Strategy::ALL {
            assert_eq!(s.name().parse::<Strategy>().unwrap(), s);
        }
        assert!(
            "bald"
                .parse::<Strategy>()
                .unwrap_err()
                .contains("margin, entropy")
        );
    }
}
