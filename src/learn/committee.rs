//! Query-by-committee over a bootstrap ensemble: several models fitted on
//! resamples of the labels; where they disagree, a label teaches the most.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::classifier::{Classifier, ValidClassifierParams, argmax};
use super::error::LearnError;

/// Fits `members` models, each on a bootstrap resample drawn per class (so
/// every member sees every labeled class, as many rows of each as the labels have).
pub fn bootstrap_committee(
    params: &ValidClassifierParams,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    n_classes: usize,
    members: usize,
    seed: u64,
) -> Result<Vec<Classifier>, LearnError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let by_class: Vec<Vec<usize>> = (0..n_classes)
        .map(|c| (0..y.len()).filter(|&i| y[i] == c).collect())
        .collect();
    (0..members.max(1))
        .map(|_| {
            let rows: Vec<usize> = by_class
                .iter()
                .filter(|rows| !rows.is_empty())
                .flat_map(|rows| {
                    (0..rows.len())
                        .map(|_| rows[rng.gen_range(0..rows.len())])
                        .collect::<Vec<_>>()
                })
                .collect();
            params.fit(
                x.select(Axis(0), &rows).view(),
                y.select(Axis(0), &rows).view(),
                n_classes,
            )
        })
        .collect()
}

/// Vote entropy of the members' predicted classes, divided by its maximum
/// (`ln min(K, members)`), so 1 means the votes are spread as evenly as they can be.
pub fn vote_entropy(probas: &[Array2<f64>]) -> Array1<f64> {
    let (n, k) = probas.first().map_or((0, 0), |p| p.dim());
    let m = probas.len();
    let max = (k.min(m) as f64).ln();
    (0..n)
        .map(|i| {
            let mut votes = vec![0usize; k];
            for p in probas {
                votes[argmax(p.row(i))] += 1;
            }
            let h: f64 = votes
                .iter()
                .filter(|&&v| v > 0)
                .map(|&v| {
                    let f = v as f64 / m as f64;
                    -f * f.ln()
                })
                .sum();
            if max > 0.0 {
                (h / max).clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Mean Kullback–Leibler divergence of each member's probabilities from the
/// committee's mean (the consensus), in nats.
pub fn mean_kl(probas: &[Array2<f64>]) -> Array1<f64> {
    let m = probas.len().max(1) as f64;
    let Some(first) = probas.first() else {
        return Array1::zeros(0);
    };
    let mut consensus = Array2::<f64>::zeros(first.raw_dim());
    for p in probas {
        consensus += p;
    }
    consensus /= m;
    let mut kl = Array1::<f64>::zeros(first.nrows());
    for p in probas {
        for (i, (row, cons)) in p.rows().into_iter().zip(consensus.rows()).enumerate() {
            kl[i] += row
                .iter()
                .zip(cons.iter())
                .filter(|&(&a, _)| a > 0.0)
                .map(|(&a, &c)| a * (a / c.max(1e-300)).ln())
                .sum::<f64>();
        }
    }
    kl / m
}

/// The `committee` score: the mean of vote entropy and `1 − e^(−KL)`, both in
/// [0, 1]. Vote entropy says whether members pick different classes; KL
/// separates samples where they do not, by how far their confidences differ.
pub fn committee_scores(probas: &[Array2<f64>]) -> Array1<f64> {
    let ve = vote_entropy(probas);
    let kl = mean_kl(probas);
    (&ve + &kl.mapv(|d| 1.0 - (-d).exp())) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::ClassifierParams;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn known_answers_for_disagreement() {
        // Sample 0: all members agree exactly. Sample 1: votes split 2–1.
        let a = array![[0.9, 0.1], [0.8, 0.2]];
        let b = array![[0.9, 0.1], [0.7, 0.3]];
        let c = array![[0.9, 0.1], [0.2, 0.8]];
        let probas = [a, b, c];
        let ve = vote_entropy(&probas);
        assert_abs_diff_eq!(ve[0], 0.0);
        // -(2/3 ln 2/3 + 1/3 ln 1/3) / ln 2 = 0.918296
        assert_abs_diff_eq!(ve[1], 0.918_295_8, epsilon = 1e-6);
        let kl = mean_kl(&probas);
        assert_abs_diff_eq!(kl[0], 0.0, epsilon = 1e-12);
        // consensus [0.5667, 0.4333]; KL of each member: 0.12123, 0.03760, 0.28219 → mean 0.14701
        assert_abs_diff_eq!(kl[1], 0.147_009, epsilon = 1e-5);
        let s = committee_scores(&probas);
        assert!(s[1] > s[0]);
    }

    #[test]
    fn bootstrap_members_differ_but_see_every_class() {
        let x = array![[0.0], [1.0], [2.0], [3.0], [10.0], [11.0], [12.0], [13.0]];
        let y = array![0, 0, 0, 0, 1, 1, 1, 1];
        let params = ClassifierParams::default().check().unwrap();
        let members = bootstrap_committee(&params, x.view(), y.view(), 2, 4, 9).unwrap();
        assert_eq!(members.len(), 4);
        let p: Vec<f64> = members
            .iter()
            .map(|m| m.predict_proba(array![[6.5]].view()).unwrap()[[0, 0]])
            .collect();
        assert!(
            p.windows(2).any(|w| (w[0] - w[1]).abs() > 1e-6),
            "resamples give different members: {p:?}"
        );
    }
}
