//! The model: standardized features into a multinomial logistic regression.
//!
//! Follows linfa's shape: [`ClassifierParams`] are checked once into
//! [`ValidClassifierParams`], whose `fit` returns a fitted [`Classifier`].

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};

use super::error::{LearnError, ParamError};
use super::scale::{BLOCK_ROWS, Feature, Standardizer};

/// Hyperparameters, not yet validated.
#[derive(Debug, Clone, Copy)]
pub struct ClassifierParams {
    alpha: f64,
    max_iterations: u64,
}

/// Hyperparameters that passed [`ClassifierParams::check`].
#[derive(Debug, Clone, Copy)]
pub struct ValidClassifierParams(ClassifierParams);

impl Default for ClassifierParams {
    fn default() -> Self {
        // L2 strength 1.0 on standardized features matches scikit-learn's
        // LogisticRegression(C=1) closely enough to compare figures.
        ClassifierParams {
            alpha: 1.0,
            max_iterations: 200,
        }
    }
}

impl ClassifierParams {
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }

    pub fn check(self) -> Result<ValidClassifierParams, ParamError> {
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return Err(ParamError::Alpha(self.alpha));
        }
        if self.max_iterations == 0 {
            return Err(ParamError::Iterations);
        }
        Ok(ValidClassifierParams(self))
    }
}

/// A fitted model over `n_classes` classes numbered `0..n_classes`.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// The fitted weights with standardization folded in
    /// (`W / σ`, `b − (μ / σ)·W`), so prediction reads raw rows without
    /// copying them: one matrix product per block of the pool.
    weights: Array2<f64>,
    bias: Array1<f64>,
    /// Class index of each weight column.
    classes: Vec<usize>,
    n_classes: usize,
    n_features: usize,
}

impl ValidClassifierParams {
    /// Fits on rows `x` with class indices `y` (each `< n_classes`). At least two
    /// distinct classes must be present.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: ArrayView1<usize>,
        n_classes: usize,
    ) -> Result<Classifier, LearnError> {
        if x.nrows() != y.len() {
            return Err(LearnError::Shape {
                rows: x.nrows(),
                labels: y.len(),
            });
        }
        let mut present: Vec<usize> = y.to_vec();
        present.sort_unstable();
        present.dedup();
        if present.len() < 2 {
            let have = match present.first() {
                Some(c) => format!("only class #{c} ({} samples)", y.len()),
                None => "none".to_string(),
            };
            return Err(LearnError::TooFewClasses { have });
        }
        let scaler = Standardizer::fit(x);
        let xs = scaler.transform(x);
        let dataset = Dataset::new(xs, y.to_owned());
        let model = MultiLogisticRegression::default()
            .alpha(self.0.alpha)
            .max_iterations(self.0.max_iterations)
            .fit(&dataset)
            .map_err(|e| LearnError::Fit(e.to_string()))?;
        let scaled_w = model.params() / &scaler.scale().view().insert_axis(Axis(1));
        let bias = model.intercept() - &(scaler.mean() / scaler.scale()).dot(model.params());
        Ok(Classifier {
            weights: scaled_w,
            bias,
            classes: model.classes().to_vec(),
            n_classes,
            n_features: x.ncols(),
        })
    }
}

impl Classifier {
    /// Class probabilities, one row per sample and one column per class
    /// `0..n_classes`. A class absent from the training rows gets probability 0.
    pub fn predict_proba<T: Feature>(&self, x: ArrayView2<T>) -> Result<Array2<f64>, LearnError> {
        if x.ncols() != self.n_features {
            return Err(LearnError::FeatureCount {
                expected: self.n_features,
                got: x.ncols(),
            });
        }
        let mut out = Array2::zeros((x.nrows(), self.n_classes));
        let mut start = 0;
        // Block by block, so the logits of a million-row pool never exist at once.
        while start < x.nrows() {
            let end = (start + BLOCK_ROWS).min(x.nrows());
            let mut logits = x
                .slice(s![start..end, ..])
                .mapv(Into::into)
                .dot(&self.weights)
                + &self.bias;
            let mut target = out.slice_mut(s![start..end, ..]);
            for (mut row, mut dest) in logits.rows_mut().into_iter().zip(target.rows_mut()) {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                row.mapv_inplace(|v| (v - max).exp());
                let sum = row.sum();
                for (col, &class) in self.classes.iter().enumerate() {
                    dest[class] = row[col] / sum;
                }
            }
            start = end;
        }
        Ok(out)
    }

    /// The most probable class of each row.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>, LearnError> {
        let p = self.predict_proba(x)?;
        Ok(p.rows().into_iter().map(argmax).collect())
    }

    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
}

/// Index of the largest value; the first one on ties.
pub fn argmax(row: ArrayView1<f64>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, array};

    fn blobs() -> (Array2<f64>, Array1<usize>) {
        // Three well separated groups on a line, plus a noise column.
        let x = array![
            [0.0, 1.0],
            [0.2, 0.0],
            [0.1, 1.0],
            [5.0, 0.0],
            [5.2, 1.0],
            [5.1, 0.0],
            [10.0, 1.0],
            [10.2, 0.0],
            [10.1, 1.0]
        ];
        (x, array![0, 0, 0, 1, 1, 1, 2, 2, 2])
    }

    #[test]
    fn separable_classes_are_learned_and_probabilities_sum_to_one() {
        let (x, y) = blobs();
        let model = ClassifierParams::default()
            .check()
            .unwrap()
            .fit(x.view(), y.view(), 3)
            .unwrap();
        assert_eq!(model.predict(x.view()).unwrap(), y);
        let p = model.predict_proba(array![[5.05, 0.5]].view()).unwrap();
        assert_abs_diff_eq!(p.sum(), 1.0, epsilon = 1e-9);
        assert_eq!(argmax(p.row(0)), 1);
    }

    #[test]
    fn classes_missing_from_training_get_zero_probability() {
        let (x, y) = blobs();
        let keep = [0, 1, 2, 6, 7, 8];
        let xs = x.select(ndarray::Axis(0), &keep);
        let ys = y.select(ndarray::Axis(0), &keep);
        let model = ClassifierParams::default()
            .check()
            .unwrap()
            .fit(xs.view(), ys.view(), 3)
            .unwrap();
        let p = model.predict_proba(x.view()).unwrap();
        assert!(p.column(1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn one_class_and_bad_params_are_clear_errors() {
        let x = array![[0.0], [1.0]];
        let err = ClassifierParams::default()
            .check()
            .unwrap()
            .fit(x.view(), array![1, 1].view(), 2)
            .unwrap_err();
        assert!(err.to_string().contains("at least 2 classes"), "{err}");
        assert_eq!(
            ClassifierParams::default().alpha(-1.0).check().unwrap_err(),
            ParamError::Alpha(-1.0)
        );
    }
}
