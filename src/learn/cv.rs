//! Stratified k-fold cross-validation: how well the model does on labels it did not see.

use ndarray::{ArrayView1, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::classifier::ValidClassifierParams;
use super::error::LearnError;

/// Result of a cross-validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CvScore {
    pub folds: usize,
    pub accuracy: f64,
}

/// Assigns each row to one of `k` folds so that every class is spread evenly.
pub fn stratified_folds(y: ArrayView1<usize>, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut fold = vec![0; y.len()];
    let n_classes = y.iter().max().map_or(0, |m| m + 1);
    // Continue the round-robin from class to class so small classes do not
    // all land in fold 0.
    let mut next = 0;
    for class in 0..n_classes {
        let mut rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        rows.shuffle(&mut rng);
        for row in rows {
            fold[row] = next % k;
            next += 1;
        }
    }
    fold
}

/// Accuracy over `k` stratified folds, with `k` capped by the smallest class
/// count (each fold must see every class in training). `None` when some class
/// has a single label or only one class is labeled, where no fold split makes sense.
pub fn cross_validate(
    params: &ValidClassifierParams,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    n_classes: usize,
    k: usize,
    seed: u64,
) -> Result<Option<CvScore>, LearnError> {
    let mut counts = vec![0usize; n_classes];
    for &c in y {
        counts[c] += 1;
    }
    if counts.iter().filter(|&&c| c > 0).count() < 2 {
        return Ok(None); // one class: nothing to tell apart
    }
    let smallest = counts.iter().copied().filter(|&c| c > 0).min().unwrap_or(0);
    let k = k.min(smallest);
    if k < 2 {
        return Ok(None);
    }
    let fold = stratified_folds(y, k, seed);
    let mut correct = 0usize;
    for f in 0..k {
        let train: Vec<usize> = (0..y.len()).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..y.len()).filter(|&i| fold[i] == f).collect();
        let model = params.fit(
            x.select(Axis(0), &train).view(),
            y.select(Axis(0), &train).view(),
            n_classes,
        )?;
        let predicted = model.predict(x.select(Axis(0), &test).view())?;
        correct += test
            .iter()
            .zip(predicted.iter())
            .filter(|&(&row, &p)| y[row] == p)
            .count();
    }
    Ok(Some(CvScore {
        folds: k,
        accuracy: correct as f64 / y.len() as f64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::ClassifierParams;
    use ndarray::{Array1, Array2, array};

    #[test]
    fn folds_are_balanced_per_class_and_seeded() {
        let y = Array1::from(vec![0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
        let folds = stratified_folds(y.view(), 2, 7);
        for class in 0..2 {
            let in0 = (0..10).filter(|&i| y[i] == class && folds[i] == 0).count();
            let total = (0..10).filter(|&i| y[i] == class).count();
            assert_eq!(in0, total / 2, "class {class} split unevenly: {folds:?}");
        }
        assert_eq!(folds, stratified_folds(y.view(), 2, 7));
    }

    #[test]
    fn separable_data_scores_perfectly_and_singletons_give_none() {
        let x = Array2::from_shape_fn(
            (20, 1),
            |(i, _)| if i < 10 { i as f64 } else { 100.0 + i as f64 },
        );
        let y = Array1::from_shape_fn(20, |i| usize::from(i >= 10));
        let params = ClassifierParams::default().check().unwrap();
        let cv = cross_validate(&params, x.view(), y.view(), 2, 5, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            cv,
            CvScore {
                folds: 5,
                accuracy: 1.0
            }
        );
        let none = cross_validate(
            &params,
            array![[0.0], [1.0], [2.0]].view(),
            array![0, 0, 1].view(),
            2,
            5,
            1,
        );
        assert!(none.unwrap().is_none());
    }
}
