//! Standardization: zero mean, unit variance per feature, fitted on the labels.

use ndarray::{Array1, Array2, ArrayView2, Axis};

/// A feature value type a pool can be stored in: f64, or f32 to halve the
/// memory of a million-sample pool. Computation is always in f64.
pub trait Feature: Copy + Into<f64> + Send + Sync + 'static {}
impl Feature for f32 {}
impl Feature for f64 {}

/// Per-column mean and standard deviation learned from training rows.
#[derive(Debug, Clone)]
pub struct Standardizer {
    mean: Array1<f64>,
    scale: Array1<f64>,
}

impl Standardizer {
    pub fn fit<T: Feature>(x: ArrayView2<T>) -> Self {
        let n = x.nrows().max(1) as f64;
        // Two passes, no temporary per row: pools reach millions of rows.
        let mut mean = Array1::<f64>::zeros(x.ncols());
        for row in x.rows() {
            for (m, &a) in mean.iter_mut().zip(row.iter()) {
                *m += a.into();
            }
        }
        mean /= n;
        let mut var = Array1::<f64>::zeros(x.ncols());
        for row in x.rows() {
            for ((v, &a), &m) in var.iter_mut().zip(row.iter()).zip(mean.iter()) {
                let d = a.into() - m;
                *v += d * d;
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

    pub fn transform<T: Feature>(&self, x: ArrayView2<T>) -> Array2<f64> {
        let mut out = x.mapv(Into::into);
        out -= &self.mean;
        out /= &self.scale;
        out
    }

    /// Standardized copies of the given rows only.
    pub fn transform_rows<T: Feature>(&self, x: ArrayView2<T>, rows: &[usize]) -> Array2<f64> {
        self.transform(x.select(Axis(0), rows).view())
    }
}

/// Rows per block when a whole pool is transformed piece by piece: keeps the
/// temporary copy small whatever the pool size.
pub const BLOCK_ROWS: usize = 8_192;

/// Calls `f(first_row, block)` for consecutive standardized blocks of `x`.
pub fn for_each_block<T: Feature>(
    scaler: &Standardizer,
    x: ArrayView2<T>,
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
