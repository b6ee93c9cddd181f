//! Batch diversity: turning one score per sample into a batch that does not
//! spend an expert's hour on near-duplicates.
//!
//! - `cluster` (cluster-margin, Citovsky et al., NeurIPS 2021): cluster the
//!   pool once, take the most uncertain candidates, then visit clusters
//!   round-robin (smallest first), taking the best remaining candidate of each.
//! - `kcenter` (core-set greedy, Sener & Savarese, ICLR 2018): among the top
//!   candidates, start from the best one and repeatedly add the candidate
//!   farthest from everything chosen so far.
//! - `off`: plain top-k of the score.

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayView1, ArrayView2};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;

use super::kmeans::{KMeans, assign, shrink_nearest};
use super::scale::{Feature, Standardizer, for_each_block};
use super::strategy::top_k;

/// How a batch is made diverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diversity {
    Off,
    Cluster,
    Kcenter,
}

impl Diversity {
    pub const ALL: [Diversity; 3] = [Diversity::Cluster, Diversity::Kcenter, Diversity::Off];

    pub fn name(self) -> &'static str {
        match self {
            Diversity::Off => "off",
            Diversity::Cluster => "cluster",
            Diversity::Kcenter => "kcenter",
        }
    }
}

impl fmt::Display for Diversity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Diversity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Diversity::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                format!("unknown diversity mode '{s}'; choose one of cluster, kcenter, off")
            })
    }
}

/// How many top-scored candidates diversity chooses among: enough room to
/// spread out, few enough that the batch stays informative.
pub fn candidate_count(pool: usize, batch: usize) -> usize {
    (batch * 10).max(100).min(pool)
}

/// Rows rounded-robin over clusters. `clusters[i]` is the cluster of
/// candidate `i`; candidates are given best score first.
pub fn round_robin(clusters: &[usize], batch: usize) -> Vec<usize> {
    let n_clusters = clusters.iter().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_clusters];
    for (i, &c) in clusters.iter().enumerate() {
        members[c].push(i);
    }
    // Smallest clusters first, so rare kinds of sample make it into the batch;
    // ties by the best score they hold (their first member).
    let mut order: Vec<usize> = (0..n_clusters)
        .filter(|&c| !members[c].is_empty())
        .collect();
    order.sort_by_key(|&c| (members[c].len(), members[c][0]));
    let mut picked = Vec::with_capacity(batch.min(clusters.len()));
    let mut depth = 0;
    while picked.len() < batch.min(clusters.len()) {
        for &c in &order {
            if let Some(&i) = members[c].get(depth) {
                picked.push(i);
                if picked.len() == batch {
                    break;
                }
            }
        }
        depth += 1;
    }
    picked
}

/// Greedy k-center: starts from row 0 (the best candidate), then adds the row
/// farthest from all rows chosen so far.
pub fn kcenter_greedy(x: ArrayView2<f64>, batch: usize) -> Vec<usize> {
    let n = x.nrows();
    if n == 0 || batch == 0 {
        return Vec::new();
    }
    let mut picked = vec![0];
    let mut nearest = vec![f64::INFINITY; n];
    while picked.len() < batch.min(n) {
        shrink_nearest(x, *picked.last().unwrap_or(&0), &mut nearest);
        // Farthest from the chosen set; the earlier (better scored) row on ties.
        let mut best = 0;
        for i in 1..n {
            if nearest[i] > nearest[best] {
                best = i;
            }
        }
        if nearest[best] <= 0.0 {
            break; // only duplicates of chosen rows are left
        }
        picked.push(best);
    }
    picked
}

/// Rows k-means is fitted on: a uniform sample represents the pool's
/// structure well enough for spreading a batch, at a fraction of the cost.
const KMEANS_ROWS: usize = 10_000;

fn kmeans_on_sample<T: Feature>(
    pool: ArrayView2<T>,
    scaler: &Standardizer,
    k: usize,
    seed: u64,
) -> KMeans {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows: Vec<usize> = if pool.nrows() > KMEANS_ROWS {
        sample(&mut rng, pool.nrows(), KMEANS_ROWS).into_vec()
    } else {
        (0..pool.nrows()).collect()
    };
    rows.sort_unstable();
    KMeans::fit(
        scaler.transform_rows(pool, &rows).view(),
        k,
        15,
        KMEANS_ROWS,
        seed,
    )
}

/// Picks `batch` pool rows by `scores`, made diverse in the standardized
/// feature space (`scaler` applied to `pool` rows as needed, never to the
/// whole pool at once). Returns pool row indices, highest score first.
pub fn select<T: Feature>(
    scores: ArrayView1<f64>,
    pool: ArrayView2<T>,
    scaler: &Standardizer,
    diversity: Diversity,
    batch: usize,
    seed: u64,
) -> Vec<usize> {
    if diversity == Diversity::Off || batch <= 1 {
        return top_k(scores, batch);
    }
    let candidates = top_k(scores, candidate_count(scores.len(), batch));
    let cx = scaler.transform_rows(pool, &candidates);
    let local = match diversity {
        Diversity::Cluster => {
            let model = kmeans_on_sample(pool, scaler, batch.min(candidates.len()), seed);
            round_robin(&model.predict(cx.view()), batch)
        }
        Diversity::Kcenter => kcenter_greedy(cx.view(), batch),
        Diversity::Off => unreachable!("handled above"),
    };
    let mut picked: Vec<usize> = local.into_iter().map(|i| candidates[i]).collect();
    // Diversity decides which samples make the batch; within it, the most
    // informative comes first, so rank 1 is what an expert should see first.
    picked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    // Keep the batch full when diversity ran out of distinct candidates.
    if picked.len() < batch {
        for &c in &candidates {
            if picked.len() == batch {
                break;
            }
            if !picked.contains(&c) {
                picked.push(c);
            }
        }
    }
    picked
}

/// A first batch without labels: cluster the pool into `batch` groups and
/// take the sample nearest each centre (typical, and spread over the pool),
/// largest groups first.
pub fn cold_start<T: Feature>(
    pool: ArrayView2<T>,
    scaler: &Standardizer,
    batch: usize,
    seed: u64,
) -> Vec<usize> {
    let k = batch.min(pool.nrows());
    if k == 0 {
        return Vec::new();
    }
    let model = kmeans_on_sample(pool, scaler, k, seed);
    let mut best: Vec<Option<(f64, usize)>> = vec![None; model.centres.nrows()];
    let mut sizes = vec![0usize; model.centres.nrows()];
    for_each_block(scaler, pool, |start, block| {
        let (labels, dists) = assign(block, model.centres.view());
        for (i, (&l, &d)) in labels.iter().zip(&dists).enumerate() {
            sizes[l] += 1;
            if best[l].is_none_or(|(bd, _)| d < bd) {
                best[l] = Some((d, start + i));
            }
        }
    });
    let mut order: Vec<usize> = (0..best.len()).filter(|&c| best[c].is_some()).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(sizes[c]), c));
    order
        .into_iter()
        .filter_map(|c| best[c].map(|(_, i)| i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, Axis, array};

    #[test]
    fn kcenter_returns_the_farthest_points_of_a_grid() {
        // A 5×5 grid; start at the centre (row 12).
        let mut rows = Vec::new();
        for y in 0..5 {
            for x in 0..5 {
                rows.extend([x as f64, y as f64]);
            }
        }
        let grid = Array2::from_shape_vec((25, 2), rows).unwrap();
        let mut order: Vec<usize> = vec![12];
        order.extend((0..25).filter(|&i| i != 12));
        let x = grid.select(Axis(0), &order);
        let picked: Vec<usize> = kcenter_greedy(x.view(), 5)
            .into_iter()
            .map(|i| order[i])
            .collect();
        assert_eq!(picked[0], 12);
        let mut corners = picked[1..].to_vec();
        corners.sort_unstable();
        assert_eq!(
            corners,
            [0, 4, 20, 24],
            "after the centre come the four corners"
        );
    }

    #[test]
    fn round_robin_visits_small_clusters_first_then_cycles() {
        // Candidates best first; cluster 1 is the small one.
        let clusters = [0, 0, 1, 0, 2, 2];
        assert_eq!(round_robin(&clusters, 4), [2, 4, 0, 5]);
        assert_eq!(round_robin(&clusters, 10), [2, 4, 0, 5, 1, 3]);
    }

    #[test]
    fn cluster_batches_avoid_near_duplicates_that_top_k_takes() {
        // Ten near-identical uncertain samples and three distinct, slightly
        // less uncertain ones.
        let mut x = Array2::<f64>::zeros((13, 2));
        let mut scores = Array1::<f64>::zeros(13);
        for i in 0..10 {
            x[[i, 0]] = i as f64 * 1e-3;
            scores[i] = 0.99 - i as f64 * 1e-4;
        }
        for (j, (a, b)) in [(10.0, 0.0), (0.0, 10.0), (10.0, 10.0)]
            .into_iter()
            .enumerate()
        {
            x[[10 + j, 0]] = a;
            x[[10 + j, 1]] = b;
            scores[10 + j] = 0.9;
        }
        let id = Standardizer::identity(2);
        let plain = select(scores.view(), x.view(), &id, Diversity::Off, 4, 0);
        assert!(plain.iter().all(|&i| i < 10));
        for mode in [Diversity::Cluster, Diversity::Kcenter] {
            let picked = select(scores.view(), x.view(), &id, mode, 4, 0);
            assert_eq!(picked.len(), 4);
            assert_eq!(
                picked.iter().filter(|&&i| i < 10).count(),
                1,
                "{mode}: {picked:?}"
            );
            assert_eq!(
                picked,
                select(scores.view(), x.view(), &id, mode, 4, 0),
                "seeded"
            );
        }
    }

    #[test]
    fn cold_start_picks_one_typical_sample_per_group() {
        let x = array![
            [0.0, 0.0],
            [0.1, 0.0],
            [-0.1, 0.0],
            [20.0, 20.0],
            [20.2, 20.0],
            [19.9, 20.1],
            [20.0, 19.9]
        ];
        let picked = cold_start(x.view(), &Standardizer::identity(2), 2, 1);
        assert_eq!(picked.len(), 2);
        assert!(picked[0] >= 3, "the larger group comes first: {picked:?}");
        assert!(picked[1] < 3);
        assert_eq!(picked[1], 0, "the sample at the centre of its group");
    }
}
