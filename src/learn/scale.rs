//! Standardization: zero mean, unit variance per feature, fitted on the labels.

use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Per-column mean and standard deviation learned from training rows.
#[derive(Debug, Clone)]
pub struct Standardizer {
    mean: Array1<f64>,
    scale: Array1<f64>,
}

impl Standardizer {
    pub fn fit(x: ArrayView2<f64>) -> Self {
        let n = x.nrows().max(1) as f64;
        let mean = x
            .mean_axis(Axis(0))
            .unwrap_or_else(|| Array1::zeros(x.ncols()));
        let var = x
            .axis_iter(Axis(0))
            .fold(Array1::<f64>::zeros(x.ncols()), |acc, row| {
                acc + (&row - &mean).mapv(|d| d * d)
            })
            / n;
        // A constant feature carries no information; leave it at zero rather
        // than dividing by zero.
        let scale = var.mapv(|v| if v > 1e-24 { v.sqrt() } else { 1.0 });
        Standardizer { mean, scale }
    }

    pub fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        (&x - &self.mean) / &self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn standardizes_and_keeps_constant_columns_finite() {
        let x = array![[1.0, 5.0], [3.0, 5.0]];
        let s = Standardizer::fit(x.view());
        let t = s.transform(x.view());
        assert_abs_diff_eq!(t, array![[-1.0, 0.0], [1.0, 0.0]], epsilon = 1e-12);
    }
}
