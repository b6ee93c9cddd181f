//! Label quality: which given labels are probably wrong (confident learning,
//! Northcutt, Jiang & Chuang, JAIR 2021), and what several annotators most
//! likely meant (a CROWDLAB-style consensus, Goh, Mueller et al., arXiv 2210.06812).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::classifier::ValidClassifierParams;
use super::cv::stratified_folds;
use super::error::LearnError;

/// Out-of-fold probabilities and the number of folds used.
#[derive(Debug, Clone)]
pub struct OutOfFold {
    pub proba: Array2<f64>,
    pub folds: usize,
    /// Classes with a single label: their one sample is never in a training
    /// fold with another of its class, so its out-of-fold probability for its
    /// own class is 0 and says nothing about its label.
    pub singleton_classes: Vec<usize>,
}

/// Probabilities for every labeled row from a model that did not see it:
/// stratified `k` folds, `k` capped by the smallest class count (at least 2).
pub fn out_of_fold(
    params: &ValidClassifierParams,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    n_classes: usize,
    k: usize,
    seed: u64,
) -> Result<OutOfFold, LearnError> {
    let mut counts = vec![0usize; n_classes];
    for &c in y {
        counts[c] += 1;
    }
    let present: Vec<usize> = (0..n_classes).filter(|&c| counts[c] > 0).collect();
    if present.len() < 2 {
        let have = present
            .first()
            .map_or("none".to_string(), |c| format!("only class #{c}"));
        return Err(LearnError::TooFewClasses { have });
    }
    let smallest = present.iter().map(|&c| counts[c]).min().unwrap_or(0);
    let folds = k.min(smallest).max(2);
    let fold = stratified_folds(y, folds, seed);
    let mut proba = Array2::<f64>::zeros((y.len(), n_classes));
    for f in 0..folds {
        let train: Vec<usize> = (0..y.len()).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..y.len()).filter(|&i| fold[i] == f).collect();
        if test.is_empty() {
            continue;
        }
        let yt = y.select(Axis(0), &train);
        let mut distinct = yt.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let p = if distinct.len() < 2 {
            // Every other row is one class: the fold can only say that class.
            let mut p = Array2::zeros((test.len(), n_classes));
            p.column_mut(distinct.first().copied().unwrap_or(0))
                .fill(1.0);
            p
        } else {
            params
                .fit(x.select(Axis(0), &train).view(), yt.view(), n_classes)?
                .predict_proba(x.select(Axis(0), &test).view())?
        };
        for (row, &i) in test.iter().enumerate() {
            proba.row_mut(i).assign(&p.row(row));
        }
    }
    let singleton_classes = present.into_iter().filter(|&c| counts[c] == 1).collect();
    Ok(OutOfFold {
        proba,
        folds,
        singleton_classes,
    })
}

/// What confident learning found.
#[derive(Debug, Clone)]
pub struct ConfidentLearning {
    /// Per-class threshold: the mean out-of-fold probability of the class
    /// over the rows labeled with it.
    pub thresholds: Array1<f64>,
    /// `joint[[given, true]]`: rows labeled `given` confidently belonging to `true`.
    pub joint: Array2<usize>,
    /// Rows flagged as label errors, worst (lowest quality) first.
    pub issues: Vec<usize>,
    /// Label quality of every row: the normalized margin
    /// `p[given] − max_{j≠given} p[j]` mapped to [0, 1]; low = suspicious.
    pub quality: Array1<f64>,
}

/// Normalized margin of the given label, in [0, 1] (0.5 = a tie).
pub fn label_quality(p: ArrayView1<f64>, given: usize) -> f64 {
    let other = p
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != given)
        .map(|(_, &v)| v)
        .fold(0.0, f64::max);
    ((p[given] - other + 1.0) / 2.0).clamp(0.0, 1.0)
}

/// Confident learning with noise-rate pruning: build the confident joint,
/// calibrate it to the class counts, and for each off-diagonal cell
/// `(given i, true j)` flag the `n·Q[i][j]` rows labeled `i` with the largest
/// margin `p[j] − p[i]`.
pub fn confident_learning(y: ArrayView1<usize>, proba: ArrayView2<f64>) -> ConfidentLearning {
    let (n, k) = proba.dim();
    let mut thresholds = Array1::<f64>::zeros(k);
    let mut counts = vec![0usize; k];
    for (i, &c) in y.iter().enumerate() {
        thresholds[c] += proba[[i, c]];
        counts[c] += 1;
    }
    for c in 0..k {
        thresholds[c] = if counts[c] > 0 {
            thresholds[c] / counts[c] as f64
        } else {
            1.0
        };
    }
    // The confident joint: each row counts for the most probable class among
    // those whose threshold it reaches.
    let mut joint = Array2::<usize>::zeros((k, k));
    for (i, &given) in y.iter().enumerate() {
        let mut best: Option<usize> = None;
        for j in 0..k {
            if counts[j] > 0
                && proba[[i, j]] >= thresholds[j]
                && best.is_none_or(|b| proba[[i, j]] > proba[[i, b]])
            {
                best = Some(j);
            }
        }
        if let Some(j) = best {
            joint[[given, j]] += 1;
        }
    }
    // Calibrate each row of the joint to the number of rows with that label.
    let mut calibrated = Array2::<f64>::zeros((k, k));
    for i in 0..k {
        let row_sum: usize = joint.row(i).sum();
        if row_sum > 0 {
            for j in 0..k {
                calibrated[[i, j]] = joint[[i, j]] as f64 / row_sum as f64 * counts[i] as f64;
            }
        }
    }
    let total: f64 = calibrated.sum();
    let quality: Array1<f64> = (0..n).map(|i| label_quality(proba.row(i), y[i])).collect();
    let mut flagged = vec![false; n];
    if total > 0.0 {
        for i in 0..k {
            for j in (0..k).filter(|&j| j != i) {
                let prune = (calibrated[[i, j]] / total * n as f64).round() as usize;
                if prune == 0 {
                    continue;
                }
                let mut rows: Vec<usize> = (0..n).filter(|&r| y[r] == i && !flagged[r]).collect();
                rows.sort_by(|&a, &b| {
                    let ma = proba[[a, j]] - proba[[a, i]];
                    let mb = proba[[b, j]] - proba[[b, i]];
                    mb.total_cmp(&ma).then(a.cmp(&b))
                });
                // Never flag a row the model agrees with.
                for &r in rows.iter().take(prune) {
                    if proba[[r, j]] > proba[[r, i]] {
                        flagged[r] = true;
                    }
                }
            }
        }
    }
    let mut issues: Vec<usize> = (0..n).filter(|&r| flagged[r]).collect();
    issues.sort_by(|&a, &b| quality[a].total_cmp(&quality[b]).then(a.cmp(&b)));
    ConfidentLearning {
        thresholds,
        joint,
        issues,
        quality,
    }
}

/// Consensus of several annotators.
#[derive(Debug, Clone)]
pub struct Consensus {
    /// The most likely true class of each sample.
    pub label: Vec<usize>,
    /// Posterior probability of the consensus label (0–1).
    pub quality: Vec<f64>,
    /// Majority vote (ties broken by the model), the baseline.
    pub majority: Vec<usize>,
    /// Per annotator: mean posterior probability of the labels they gave;
    /// `None` for annotators without labels.
    pub annotator_quality: Vec<Option<f64>>,
    /// Per annotator: share of their labels that match the consensus.
    pub annotator_agreement: Vec<Option<f64>>,
}

/// Combines model probabilities with annotators' votes (`votes[i]` lists
/// `(annotator, class)` for sample `i`).
///
/// Start from the majority vote; estimate each annotator's accuracy and the
/// model's accuracy against it; weight each source by how much better than
/// always answering the most common class it is; the posterior of a sample
/// is the weighted mix of the model's probabilities and each vote, a vote
/// spreading `1 − accuracy` over the other classes. Two rounds of
/// re-estimating the accuracies against the new consensus.
pub fn consensus(
    votes: &[Vec<(usize, usize)>],
    proba: ArrayView2<f64>,
    n_annotators: usize,
) -> Consensus {
    let (n, k) = proba.dim();
    let km1 = (k.max(2) - 1) as f64;
    let majority: Vec<usize> = (0..n)
        .map(|i| {
            let mut tally = vec![0usize; k];
            for &(_, c) in &votes[i] {
                tally[c] += 1;
            }
            let top = tally.iter().copied().max().unwrap_or(0);
            (0..k)
                .filter(|&c| tally[c] == top)
                .max_by(|&a, &b| proba[[i, a]].total_cmp(&proba[[i, b]]).then(b.cmp(&a)))
                .unwrap_or(0)
        })
        .collect();
    let mut label = majority.clone();
    let mut posterior = Array2::<f64>::zeros((n, k));
    let mut accuracy = vec![0.5f64; n_annotators];
    for _ in 0..3 {
        // Accuracies against the current consensus (add-one smoothed).
        let mut hits = vec![1.0f64; n_annotators];
        let mut seen = vec![2.0f64; n_annotators];
        for (i, v) in votes.iter().enumerate() {
            for &(a, c) in v {
                seen[a] += 1.0;
                if c == label[i] {
                    hits[a] += 1.0;
                }
            }
        }
        for a in 0..n_annotators {
            accuracy[a] = hits[a] / seen[a];
        }
        let mut class_freq = vec![0.0f64; k];
        for &l in &label {
            class_freq[l] += 1.0;
        }
        let baseline = class_freq.iter().copied().fold(0.0, f64::max) / n.max(1) as f64;
        let weight = |acc: f64| (1.0 - (1.0 - acc) / (1.0 - baseline).max(1e-6)).max(1e-3);
        let model_acc = (0..n)
            .filter(|&i| super::classifier::argmax(proba.row(i)) == label[i])
            .count() as f64
            / n.max(1) as f64;
        let w_model = weight(model_acc);
        for (i, sample_votes) in votes.iter().enumerate() {
            let mut row = proba.row(i).mapv(|p| p * w_model);
            let mut total = w_model;
            for &(a, c) in sample_votes {
                let w = weight(accuracy[a]);
                for j in 0..k {
                    row[j] += w * if j == c {
                        accuracy[a]
                    } else {
                        (1.0 - accuracy[a]) / km1
                    };
                }
                total += w;
            }
            row /= total;
            posterior.row_mut(i).assign(&row);
        }
        label = (0..n)
            .map(|i| super::classifier::argmax(posterior.row(i)))
            .collect();
    }
    let quality = (0..n).map(|i| posterior[[i, label[i]]]).collect();
    let mut sum = vec![0.0f64; n_annotators];
    let mut agree = vec![0.0f64; n_annotators];
    let mut count = vec![0usize; n_annotators];
    for (i, v) in votes.iter().enumerate() {
        for &(a, c) in v {
            sum[a] += posterior[[i, c]];
            agree[a] += f64::from(u8::from(c == label[i]));
            count[a] += 1;
        }
    }
    let per = |x: &[f64]| {
        (0..n_annotators)
            .map(|a| (count[a] > 0).then(|| x[a] / count[a] as f64))
            .collect()
    };
    Consensus {
        label,
        quality,
        majority,
        annotator_quality: per(&sum),
        annotator_agreement: per(&agree),
    }
}

/// Area under the ROC curve of `score` for telling `positive` rows apart
/// (ties count half): how well a low quality score finds flipped labels
/// when called with `score = −quality`.
pub fn auroc(score: &[f64], positive: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &r in &order[i..=j] {
            if positive[r] {
                rank_sum += mid;
            }
        }
        i = j + 1;
    }
    let p = positive.iter().filter(|&&b| b).count() as f64;
    let q = positive.len() as f64 - p;
    if p == 0.0 || q == 0.0 {
        return 0.5;
    }
    (rank_sum - p * (p + 1.0) / 2.0) / (p * q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::wdbc;
    use crate::learn::ClassifierParams;
    use approx::assert_abs_diff_eq;
    use ndarray::array;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    #[test]
    fn confident_joint_and_pruning_on_a_hand_made_case() {
        // Rows 0–2 labeled 0, rows 3–5 labeled 1; row 2 looks like class 1.
        let y = array![0, 0, 0, 1, 1, 1];
        let p = array![
            [0.9, 0.1],
            [0.8, 0.2],
            [0.1, 0.9],
            [0.15, 0.85],
            [0.1, 0.9],
            [0.3, 0.7]
        ];
        let cl = confident_learning(y.view(), p.view());
        // t0 = (0.9 + 0.8 + 0.1) / 3 = 0.6; t1 = (0.85 + 0.9 + 0.7) / 3 = 0.81667;
        // row 5 reaches neither threshold, row 2 counts as given 0 / true 1.
        assert_abs_diff_eq!(cl.thresholds[0], 0.6, epsilon = 1e-12);
        assert_abs_diff_eq!(cl.thresholds[1], 2.45 / 3.0, epsilon = 1e-12);
        assert_eq!(cl.joint, array![[2, 1], [0, 2]]);
        assert_eq!(cl.issues, vec![2]);
        assert_abs_diff_eq!(cl.quality[2], 0.1, epsilon = 1e-12);
    }

    #[test]
    fn auroc_known_answers() {
        assert_abs_diff_eq!(
            auroc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]),
            1.0
        );
        assert_abs_diff_eq!(auroc(&[0.5, 0.5], &[true, false]), 0.5);
        assert_abs_diff_eq!(
            auroc(&[0.1, 0.9, 0.2, 0.8], &[false, false, true, true]),
            0.5
        );
    }

    /// Flip 10% of the WDBC labels and find them again: precision and recall
    /// of the flagged set over 5 seeds (cleanlab measures about 0.83 / 0.84).
    #[test]
    fn finds_flipped_wdbc_labels() {
        let data = wdbc();
        let params = ClassifierParams::default().check().unwrap();
        let (mut precision, mut recall, mut area) = (0.0, 0.0, 0.0);
        for seed in 0..5u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut rows: Vec<usize> = (0..data.labels.len()).collect();
            rows.shuffle(&mut rng);
            let flipped: Vec<usize> = rows[..data.labels.len() / 10].to_vec();
            let mut y = Array1::from(data.labels.clone());
            let mut is_flipped = vec![false; y.len()];
            for &r in &flipped {
                y[r] = 1 - y[r];
                is_flipped[r] = true;
            }
            let oof = out_of_fold(&params, data.features.view(), y.view(), 2, 5, seed).unwrap();
            let cl = confident_learning(y.view(), oof.proba.view());
            let hits = cl.issues.iter().filter(|&&r| is_flipped[r]).count() as f64;
            precision += hits / cl.issues.len().max(1) as f64 / 5.0;
            recall += hits / flipped.len() as f64 / 5.0;
            let neg: Vec<f64> = cl.quality.iter().map(|q| -q).collect();
            area += auroc(&neg, &is_flipped) / 5.0;
        }
        eprintln!("flipped 10%: precision {precision:.3}, recall {recall:.3}, AUROC {area:.3}");
        assert!(
            precision >= 0.8 && recall >= 0.8,
            "precision {precision:.3}, recall {recall:.3}"
        );
        assert!(area > 0.9, "AUROC {area:.3}");
    }

    /// Three annotators with 5%, 10% and 30% error rates, each labeling a
    /// random 60% of the rows: the consensus beats the majority vote and the
    /// annotator scores rank them correctly.
    #[test]
    fn consensus_beats_majority_and_ranks_annotators() {
        let data = wdbc();
        let params = ClassifierParams::default().check().unwrap();
        let error = [0.05, 0.10, 0.30];
        let (mut cons_acc, mut maj_acc) = (0.0, 0.0);
        for seed in 0..5u64 {
            let mut rng = StdRng::seed_from_u64(100 + seed);
            let n = data.labels.len();
            let mut votes: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
            for (i, sample_votes) in votes.iter_mut().enumerate() {
                for (a, &e) in error.iter().enumerate() {
                    if rng.r#gen::<f64>() < 0.6 {
                        let truth = data.labels[i];
                        sample_votes.push((
                            a,
                            if rng.r#gen::<f64>() < e {
                                1 - truth
                            } else {
                                truth
                            },
                        ));
                    }
                }
            }
            let rows: Vec<usize> = (0..n).filter(|&i| !votes[i].is_empty()).collect();
            let x = data.features.select(Axis(0), &rows);
            let votes: Vec<Vec<(usize, usize)>> = rows.iter().map(|&i| votes[i].clone()).collect();
            let truth: Vec<usize> = rows.iter().map(|&i| data.labels[i]).collect();
            // The model learns from the majority vote, out of fold.
            let provisional =
                consensus(&votes, Array2::from_elem((rows.len(), 2), 0.5).view(), 3).majority;
            let oof = out_of_fold(
                &params,
                x.view(),
                Array1::from(provisional).view(),
                2,
                5,
                seed,
            )
            .unwrap();
            let c = consensus(&votes, oof.proba.view(), 3);
            let acc = |l: &[usize]| {
                l.iter().zip(&truth).filter(|(a, b)| a == b).count() as f64 / truth.len() as f64
            };
            cons_acc += acc(&c.label) / 5.0;
            maj_acc += acc(&c.majority) / 5.0;
            let q: Vec<f64> = c.annotator_quality.iter().map(|q| q.unwrap()).collect();
            assert!(
                q[0] > q[1] && q[1] > q[2],
                "seed {seed}: annotator quality {q:?}"
            );
        }
        eprintln!("3 annotators: consensus accuracy {cons_acc:.4}, majority vote {maj_acc:.4}");
        assert!(
            cons_acc > maj_acc,
            "consensus {cons_acc:.4} vs majority {maj_acc:.4}"
        );
    }

    #[test]
    fn an_annotator_with_a_single_label_gets_a_score() {
        let p = array![[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]];
        let votes = vec![vec![(0, 0), (1, 1)], vec![(0, 1)], vec![(0, 0)]];
        let c = consensus(&votes, p.view(), 2);
        assert_eq!(c.label, [0, 1, 0]);
        assert!(c.annotator_quality[1].is_some_and(|q| q < c.annotator_quality[0].unwrap()));
        assert_eq!(c.annotator_agreement[1], Some(0.0));
    }

    #[test]
    fn small_classes_fall_back_instead_of_failing() {
        let x = array![[0.0], [0.1], [0.2], [5.0]];
        let y = array![0, 0, 0, 1];
        let params = ClassifierParams::default().check().unwrap();
        let oof = out_of_fold(&params, x.view(), y.view(), 2, 5, 0).unwrap();
        assert_eq!(oof.folds, 2);
        assert_eq!(oof.singleton_classes, vec![1]);
        let one = out_of_fold(&params, x.view(), array![0, 0, 0, 0].view(), 2, 5, 0).unwrap_err();
        assert!(one.to_string().contains("at least 2 classes"), "{one}");
    }
}
