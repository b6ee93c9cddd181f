//! k-means written over ndarray, because linfa's k-means is far too slow at
//! pool sizes a cohort has (10^5–10^6 rows): the distance step here is one
//! blocked matrix product (‖x‖² − 2·x·cᵀ + ‖c‖²), which `dot` runs with SIMD,
//! instead of a loop over points.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;

/// Rows per block in distance computations: bounds the temporary matrix to
/// `BLOCK × k` values whatever the pool size.
const BLOCK: usize = 8192;

/// Nearest centre of each row and the squared distance to it.
pub fn assign(x: ArrayView2<f64>, centres: ArrayView2<f64>) -> (Vec<usize>, Vec<f64>) {
    let c_norm: Array1<f64> = centres.rows().into_iter().map(|c| c.dot(&c)).collect();
    let mut labels = Vec::with_capacity(x.nrows());
    let mut dists = Vec::with_capacity(x.nrows());
    let mut start = 0;
    while start < x.nrows() {
        let end = (start + BLOCK).min(x.nrows());
        let block = x.slice(s![start..end, ..]);
        let cross = block.dot(&centres.t());
        for (i, row) in block.rows().into_iter().enumerate() {
            let x_norm = row.dot(&row);
            let (mut best, mut best_d) = (0, f64::INFINITY);
            for (j, &c) in c_norm.iter().enumerate() {
                let d = x_norm - 2.0 * cross[[i, j]] + c;
                if d < best_d {
                    best = j;
                    best_d = d;
                }
            }
            labels.push(best);
            // Rounding can make a tiny distance negative.
            dists.push(best_d.max(0.0));
        }
        start = end;
    }
    (labels, dists)
}

/// Lowers each row's squared distance to the chosen set with a newly chosen
/// row: the step both k-means++ seeding and k-center greedy repeat.
pub fn shrink_nearest(x: ArrayView2<f64>, chosen: usize, nearest: &mut [f64]) {
    let last = x.row(chosen);
    for (row, best) in x.rows().into_iter().zip(nearest.iter_mut()) {
        let d: f64 = row
            .iter()
            .zip(last.iter())
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        *best = best.min(d);
    }
}

/// k-means++ seeding: each new centre is drawn with probability proportional
/// to its squared distance from the centres so far.
pub fn kmeans_pp(x: ArrayView2<f64>, k: usize, rng: &mut StdRng) -> Array2<f64> {
    let n = x.nrows();
    let k = k.min(n).max(1);
    let mut chosen = vec![rng.gen_range(0..n)];
    let mut nearest: Vec<f64> = vec![f64::INFINITY; n];
    while chosen.len() < k {
        shrink_nearest(x, *chosen.last().unwrap_or(&0), &mut nearest);
        let total: f64 = nearest.iter().sum();
        if total <= 0.0 {
            break; // every point coincides with a centre already
        }
        let mut target = rng.r#gen::<f64>() * total;
        let mut pick = n - 1;
        for (i, &d) in nearest.iter().enumerate() {
            if target < d {
                pick = i;
                break;
            }
            target -= d;
        }
        chosen.push(pick);
    }
    x.select(Axis(0), &chosen)
}

/// Fitted centres.
#[derive(Debug, Clone)]
pub struct KMeans {
    pub centres: Array2<f64>,
}

impl KMeans {
    /// Lloyd iterations from k-means++ seeds, on at most `max_rows` rows drawn
    /// from `x` (a uniform sample represents the pool's structure well enough
    /// for choosing diverse batches, at a fraction of the cost).
    pub fn fit(
        x: ArrayView2<f64>,
        k: usize,
        iterations: usize,
        max_rows: usize,
        seed: u64,
    ) -> KMeans {
        let mut rng = StdRng::seed_from_u64(seed);
        let sampled;
        let data = if x.nrows() > max_rows {
            let mut rows = sample(&mut rng, x.nrows(), max_rows).into_vec();
            rows.sort_unstable();
            sampled = x.select(Axis(0), &rows);
            sampled.view()
        } else {
            x.view()
        };
        let mut centres = kmeans_pp(data, k, &mut rng);
        for _ in 0..iterations {
            let (labels, _) = assign(data, centres.view());
            let mut sums = Array2::<f64>::zeros(centres.raw_dim());
            let mut counts = vec![0usize; centres.nrows()];
            for (row, &l) in data.rows().into_iter().zip(&labels) {
                let mut target = sums.row_mut(l);
                target += &row;
                counts[l] += 1;
            }
            let mut moved = false;
            for (j, &count) in counts.iter().enumerate() {
                // An empty cluster keeps its centre.
                if count > 0 {
                    let new = sums.row(j).mapv(|v| v / count as f64);
                    if new != centres.row(j) {
                        moved = true;
                    }
                    centres.row_mut(j).assign(&new);
                }
            }
            if !moved {
                break;
            }
        }
        KMeans { centres }
    }

    pub fn predict(&self, x: ArrayView2<f64>) -> Vec<usize> {
        assign(x, self.centres.view()).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn assignment_matches_brute_force() {
        let x = array![[0.0, 0.0], [10.0, 0.0], [4.0, 0.0], [6.0, 1.0]];
        let c = array![[0.0, 0.0], [10.0, 0.0]];
        let (labels, d) = assign(x.view(), c.view());
        assert_eq!(labels, [0, 1, 0, 1]);
        assert!((d[2] - 16.0).abs() < 1e-9 && (d[3] - 17.0).abs() < 1e-9);
    }

    #[test]
    fn finds_well_separated_blobs_and_is_seeded() {
        let mut rows = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (50.0, 0.0), (0.0, 50.0)] {
            for k in 0..20 {
                rows.extend([cx + (k % 5) as f64 * 0.1, cy + (k / 5) as f64 * 0.1]);
            }
        }
        let x = Array2::from_shape_vec((60, 2), rows).unwrap();
        let model = KMeans::fit(x.view(), 3, 20, 1000, 3);
        let labels = model.predict(x.view());
        for blob in 0..3 {
            let first = labels[blob * 20];
            assert!(
                labels[blob * 20..blob * 20 + 20]
                    .iter()
                    .all(|&l| l == first),
                "{labels:?}"
            );
        }
        let mut distinct = labels.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 3);
        assert_eq!(model.centres, KMeans::fit(x.view(), 3, 20, 1000, 3).centres);
    }
}
