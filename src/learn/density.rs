//! Information density (Settles & Craven, EMNLP 2008): weight uncertainty by
//! how typical a sample is of the pool, so the queue prefers samples whose
//! label also informs many others over outliers.
//!
//! Similarity is the mean cosine similarity to every pool sample. That mean
//! equals the dot product with the mean of the unit-length rows, so it takes
//! one pass over the pool, never an N×N matrix.

use ndarray::{Array1, ArrayView1, ArrayView2};

use super::scale::{Feature, Standardizer, for_each_block};

/// Mean cosine similarity of each standardized row to all rows (itself
/// included), mapped from [−1, 1] to [0, 1]. Two passes over the pool in
/// blocks: the mean unit vector, then one dot product per row.
pub fn pool_similarity<T: Feature>(x: ArrayView2<T>, scaler: &Standardizer) -> Array1<f64> {
    let mut mean_unit = Array1::<f64>::zeros(x.ncols());
    for_each_block(scaler, x, |_, block| {
        for row in block.rows() {
            let n = row.dot(&row).sqrt();
            if n > 0.0 {
                mean_unit.scaled_add(1.0 / n, &row);
            }
        }
    });
    mean_unit /= x.nrows().max(1) as f64;
    let mut out = Array1::<f64>::zeros(x.nrows());
    for_each_block(scaler, x, |start, block| {
        for (i, row) in block.rows().into_iter().enumerate() {
            let n = row.dot(&row).sqrt();
            out[start + i] = if n > 0.0 {
                ((row.dot(&mean_unit) / n + 1.0) / 2.0).clamp(0.0, 1.0)
            } else {
                0.5
            };
        }
    });
    out
}

/// `uncertainty × similarity^beta`, in [0, 1].
pub fn density_scores(
    uncertainty: ArrayView1<f64>,
    similarity: ArrayView1<f64>,
    beta: f64,
) -> Array1<f64> {
    ndarray::Zip::from(uncertainty)
        .and(similarity)
        .map_collect(|&u, &s| u * s.powf(beta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn similarity_matches_the_pairwise_definition() {
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        // Pairwise cosines of row 0 with rows 0..3: 1, 0, 1/√2 → mean 0.569036 → (0.569036 + 1) / 2
        let s = pool_similarity(x.view(), &Standardizer::identity(2));
        assert_abs_diff_eq!(
            s[0],
            (1.0 + 0.0 + 0.5f64.sqrt()) / 3.0 / 2.0 + 0.5,
            epsilon = 1e-12
        );
        // Row 2 is the most typical.
        assert!(s[2] > s[0] && (s[0] - s[1]).abs() < 1e-12);
    }

    #[test]
    fn an_outlier_loses_to_a_typical_sample_of_equal_uncertainty() {
        let s = array![0.9, 0.3];
        let u = array![0.8, 0.8];
        let d = density_scores(u.view(), s.view(), 1.0);
        assert_abs_diff_eq!(d[0], 0.72, epsilon = 1e-12);
        assert!(d[0] > d[1]);
    }
}
