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
        // One pass, no temporary per row: pools reach millions of rows.
        let mut var = Array1::<f64>::zeros(x.ncols());
        for row in x.rows() {
            for ((v, &a), &m) in var.iter_mut().zip(row.iter()).zip(mean.iter()) {
                *v += (a - m) * (a - m);
            }
        }
        var /= n;
        // A constant feature carries no information; leave it at zero rather
        // than dividing by zero.
        let scale = var.mapv(|v| if v > 1e-24 { v.sqrt() } else { 1.0 });
        Standardizer { mean, scale }
    }

    pub fn mean(&self) -> &Array1<f64> {
        &self.mean
    }

    pub fn scale(&self) -> &Array1<f64> {
        &self.scale
    }

    /// Leaves features as they are (for data already on a common scale).
    pub fn identity(features: usize) -> Self {
        Standardizer {
            mean: Array1::zeros(features),
            scale: Array1::ones(features),
        }
    }

    pub fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        (&x - &self.mean) / &self.scale
    }

    /// Standardized copies of the given rows only.
    pub fn transform_rows(&self, x: ArrayView2<f64>, rows: &[usize]) -> Array2<f64> {
        self.transform(x.select(Axis(0), rows).view())
    }
}

/// Rows per block when a whole pool is transformed piece by piece: keeps the
/// temporary copy small whatever the pool size.
pub const BLOCK_ROWS: usize = 65_536;

/// Calls `f(first_row, block)` for consecutive standardized blocks of `x`.
pub fn for_each_block(
    scaler: &Standardizer,
    x: ArrayView2<f64>,
    mut f: impl FnMut(usize, ArrayView2<f64>),
) {
    let mut start = 0;
    while start < x.nrows() {
        let end = (start + BLOCK_ROWS).min(x.nrows());
        let block = scaler.transform(x.slice(ndarray::s![start..end, ..]));
        f(start, block.view());
        start = end;
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
