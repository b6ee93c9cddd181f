//! Site-aware selection and per-site generalization.
//!
//! Slides come from several institutions; a model fitted on labels from one
//! of them transfers badly to the others. Sites are plain indices `0..n` here
//! (naming them is the caller's business).
//!
//! - `balance`: the batch is split into per-site quotas. Every site with
//!   unlabeled samples gets at least one slot (when the batch is big enough),
//!   the rest goes to sites in proportion to `(error + 0.05) / sqrt(1 + labels)`:
//!   sites the model is less sure about, and sites with fewer labels, get more.
//!   A site's error is the model's expected error on its unlabeled samples
//!   (mean of `1 - max p`). Within a site, the strategy's score and the
//!   diversity mode pick the samples.
//! - `shift`: as `balance`, and within a site each score is multiplied by
//!   `(1 + s) / 2`, where `s` is the sample's *site specificity*: how much
//!   more likely a site discriminator (a logistic regression predicting the
//!   site from the features) finds the sample's own site than that site's
//!   share of the pool, scaled to [0, 1]. Specific samples lie in regions of
//!   feature space over-represented by one site, where the other sites'
//!   labels say little. Weighting uncertainty by a domain discriminator
//!   follows active adversarial domain adaptation (Su et al., WACV 2020);
//!   a discriminator as a density-ratio estimate is Bickel, Brückner &
//!   Scheffer (JMLR 2009).
//! - `off`: sites are ignored.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::classifier::{ValidClassifierParams, argmax};
use super::error::LearnError;
use super::scale::Feature;

/// How sites shape a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteMode {
    Off,
    Balance,
    Shift,
}

impl SiteMode {
    pub const ALL: [SiteMode; 3] = [SiteMode::Off, SiteMode::Balance, SiteMode::Shift];

    pub fn name(self) -> &'static str {
        match self {
            SiteMode::Off => "off",
            SiteMode::Balance => "balance",
            SiteMode::Shift => "shift",
        }
    }
}

impl fmt::Display for SiteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SiteMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SiteMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown site mode '{s}'; choose one of balance, shift, off"))
    }
}

/// The site of every labeled and every pool row.
#[derive(Debug, Clone, Copy)]
pub struct SiteLayout<'a> {
    pub n_sites: usize,
    /// Site of each labeled row.
    pub labeled: &'a [usize],
    /// Site of each pool row.
    pub pool: &'a [usize],
}

impl SiteLayout<'_> {
    /// Labeled rows per site.
    pub fn label_counts(&self) -> Vec<usize> {
        count(self.labeled, self.n_sites)
    }

    /// Pool rows per site.
    pub fn pool_counts(&self) -> Vec<usize> {
        count(self.pool, self.n_sites)
    }
}

fn count(sites: &[usize], n: usize) -> Vec<usize> {
    let mut out = vec![0; n];
    for &s in sites {
        out[s] += 1;
    }
    out
}

/// Why a site has no leave-one-site-out accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LosoSkip {
    /// The site has no labeled samples to test on.
    NoLabels,
    /// The other sites' labels cover fewer than two classes: no model to test.
    OthersTooFewClasses,
}

impl LosoSkip {
    pub fn describe(self) -> &'static str {
        match self {
            LosoSkip::NoLabels => "no labels at this site",
            LosoSkip::OthersTooFewClasses => "the other sites' labels cover fewer than 2 classes",
        }
    }
}

/// One site's leave-one-site-out result: a model fitted on every other
/// site's labels, tested on this site's labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LosoSite {
    pub labeled: usize,
    pub accuracy: Result<f64, LosoSkip>,
}

fn distinct_classes(y: impl IntoIterator<Item = usize>) -> usize {
    let mut v: Vec<usize> = y.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

/// Most labels a leave-one-site-out model is fitted on: beyond this, an even
/// sample of them, stratified by class.
pub const LOSO_MAX_ROWS: usize = 10_000;

/// The model fitted without site `site`'s labels, or why there is none.
fn fit_without(
    params: &ValidClassifierParams,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    sites: &[usize],
    n_classes: usize,
    site: usize,
) -> Result<Result<super::Classifier, LosoSkip>, LearnError> {
    let mut others: Vec<usize> = (0..y.len()).filter(|&i| sites[i] != site).collect();
    if distinct_classes(others.iter().map(|&i| y[i])) < 2 {
        return Ok(Err(LosoSkip::OthersTooFewClasses));
    }
    if others.len() > LOSO_MAX_ROWS {
        // Held-out accuracy settles long before the optimizer does on tens of
        // thousands of rows, and there is one fit per site: cap the work.
        let classes: Vec<usize> = others.iter().map(|&i| y[i]).collect();
        let keep = even_sample(&classes, n_classes, LOSO_MAX_ROWS, 50);
        others = keep.iter().map(|&k| others[k]).collect();
    }
    let yo: Array1<usize> = others.iter().map(|&i| y[i]).collect();
    Ok(Ok(params.fit(
        x.select(Axis(0), &others).view(),
        yo.view(),
        n_classes,
    )?))
}

/// Leave-one-site-out accuracy of every site on the labeled rows `x`, `y`.
pub fn leave_one_site_out(
    params: &ValidClassifierParams,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    sites: &[usize],
    n_sites: usize,
    n_classes: usize,
) -> Result<Vec<LosoSite>, LearnError> {
    let mut out = Vec::with_capacity(n_sites);
    for site in 0..n_sites {
        let own: Vec<usize> = (0..y.len()).filter(|&i| sites[i] == site).collect();
        if own.is_empty() {
            out.push(LosoSite {
                labeled: 0,
                accuracy: Err(LosoSkip::NoLabels),
            });
            continue;
        }
        let accuracy = match fit_without(params, x, y, sites, n_classes, site)? {
            Err(skip) => Err(skip),
            Ok(model) => {
                let predicted = model.predict(x.select(Axis(0), &own).view())?;
                let right = own
                    .iter()
                    .zip(predicted.iter())
                    .filter(|&(&i, &p)| y[i] == p)
                    .count();
                Ok(right as f64 / own.len() as f64)
            }
        };
        out.push(LosoSite {
            labeled: own.len(),
            accuracy,
        });
    }
    Ok(out)
}

/// The site with the lowest leave-one-site-out accuracy (first on ties).
pub fn worst_site(loso: &[LosoSite]) -> Option<(usize, f64)> {
    loso.iter()
        .enumerate()
        .filter_map(|(s, l)| l.accuracy.ok().map(|a| (s, a)))
        .fold(None, |worst, (s, a)| match worst {
            Some((_, w)) if w <= a => worst,
            _ => Some((s, a)),
        })
}

/// How much of the batch each site gets: `weights` says how much a site
/// needs labels, `available` how many unlabeled samples it has. Each site
/// with samples gets one slot first (the neediest first when the batch is
/// smaller than the number of sites); the rest is shared in proportion to
/// the weights by largest remainder, never beyond what a site has.
pub fn quotas(weights: &[f64], available: &[usize], batch: usize) -> Vec<usize> {
    let n = weights.len();
    let mut quota = vec![0usize; n];
    let mut open: Vec<usize> = (0..n).filter(|&s| available[s] > 0).collect();
    // Neediest first; the lower index on ties, so the split is deterministic.
    open.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    let mut left = batch.min(available.iter().sum());
    for &s in &open {
        if left == 0 {
            return quota;
        }
        quota[s] = 1;
        left -= 1;
    }
    while left > 0 {
        let room: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&s| quota[s] < available[s])
            .collect();
        let total: f64 = room.iter().map(|&s| weights[s].max(0.0)).sum();
        let share = |s: usize| {
            if total > 0.0 {
                weights[s].max(0.0) / total * left as f64
            } else {
                left as f64 / room.len() as f64
            }
        };
        let mut given = 0;
        let mut remainders: Vec<(f64, usize)> = Vec::new();
        for &s in &room {
            let exact = share(s);
            let whole = (exact.floor() as usize).min(available[s] - quota[s]);
            quota[s] += whole;
            given += whole;
            if quota[s] < available[s] {
                remainders.push((exact - exact.floor(), s));
            }
        }
        left -= given;
        remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, s) in remainders.iter().take(left) {
            quota[s] += 1;
            left -= 1;
            given += 1;
        }
        if given == 0 {
            break; // every site is full
        }
    }
    quota
}

/// How much a site needs labels: higher error and fewer labels mean more.
pub fn site_weight(error: f64, labels: usize) -> f64 {
    (error + 0.05) / (1.0 + labels as f64).sqrt()
}

/// The model's expected error on each site's pool rows: the mean of
/// `1 - max p` (0 where a site has no pool rows).
pub fn expected_error(proba: ArrayView2<f64>, pool_sites: &[usize], n_sites: usize) -> Vec<f64> {
    let mut sum = vec![0.0; n_sites];
    let mut n = vec![0usize; n_sites];
    for (row, &s) in proba.rows().into_iter().zip(pool_sites) {
        sum[s] += 1.0 - row[argmax(row)];
        n[s] += 1;
    }
    sum.iter()
        .zip(&n)
        .map(|(&t, &k)| if k == 0 { 0.0 } else { t / k as f64 })
        .collect()
}

/// An even sample of about `cap` rows, spread over the groups (`group[i]`
/// is row `i`'s group, `< n_groups`) in proportion to their size but at
/// least `min` of each (all of a smaller group), so a small group is never
/// left out. Evenly spaced within a group, so it is deterministic and covers
/// the group's whole range (rows are in slide order). Sorted.
pub fn even_sample(group: &[usize], n_groups: usize, cap: usize, min: usize) -> Vec<usize> {
    let n = group.len().max(1);
    let mut rows = Vec::new();
    for g in 0..n_groups {
        let own = rows_of(group, g);
        let want = (cap * own.len() / n).max(min).min(own.len());
        if want == 0 {
            continue;
        }
        let step = own.len() as f64 / want as f64;
        rows.extend((0..want).map(|k| own[(k as f64 * step) as usize]));
    }
    rows.sort_unstable();
    rows
}

/// Rows the site discriminator is fitted on: every site's pool rows, about
/// `cap` in all but at least 50 of each site.
fn discriminator_rows(layout: &SiteLayout, cap: usize) -> Vec<usize> {
    even_sample(layout.pool, layout.n_sites, cap, 50)
}

/// Per pool row: its site specificity in [0, 1] (see the module docs):
/// `(p(own site | x) − share) / (1 − share)`, clipped at 0, from a
/// multinomial logistic regression fitted to predict the site of up to
/// about 20,000 pool rows.
pub fn site_specificity<T: Feature>(
    params: &ValidClassifierParams,
    pool: ArrayView2<T>,
    layout: &SiteLayout,
) -> Result<Array1<f64>, LearnError> {
    let rows = discriminator_rows(layout, 20_000);
    let sites: Array1<usize> = rows.iter().map(|&i| layout.pool[i]).collect();
    if distinct_classes(sites.iter().copied()) < 2 {
        return Ok(Array1::zeros(pool.nrows()));
    }
    let x: Array2<f64> = pool.select(Axis(0), &rows).mapv(Into::into);
    let discriminator = params.fit(x.view(), sites.view(), layout.n_sites)?;
    let share: Vec<f64> = layout
        .pool_counts()
        .iter()
        .map(|&c| c as f64 / layout.pool.len().max(1) as f64)
        .collect();
    let p = discriminator.predict_proba(pool)?;
    Ok(layout
        .pool
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if share[s] >= 1.0 {
                0.0
            } else {
                ((p[[i, s]] - share[s]) / (1.0 - share[s])).clamp(0.0, 1.0)
            }
        })
        .collect())
}

/// The `shift` score: the strategy's score, halved where the sample is
/// not specific to its site at all.
pub fn shift_scores(base: ArrayView1<f64>, specificity: ArrayView1<f64>) -> Array1<f64> {
    ndarray::Zip::from(base)
        .and(specificity)
        .map_collect(|&b, &s| b * (1.0 + s) / 2.0)
}

/// How a site-aware batch was planned, per site.
#[derive(Debug, Clone, PartialEq)]
pub struct SitePlan {
    pub mode: SiteMode,
    /// Labeled rows per site.
    pub labels: Vec<usize>,
    /// Pool rows per site.
    pub available: Vec<usize>,
    /// The model's expected error per site (see the module docs); `None` in a cold start.
    pub error: Vec<Option<f64>>,
    /// Leave-one-site-out accuracy per site, where it could be measured.
    pub loso: Vec<LosoSite>,
    /// Batch slots per site.
    pub quotas: Vec<usize>,
    /// For `shift`, the site specificity of each picked row (same order as
    /// the query's picks); empty otherwise.
    pub specificity: Vec<f64>,
}

/// Rows of `sites` equal to `site`.
pub fn rows_of(sites: &[usize], site: usize) -> Vec<usize> {
    (0..sites.len()).filter(|&i| sites[i] == site).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::ClassifierParams;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, array};

    #[test]
    fn every_site_with_samples_gets_a_slot_then_the_needy_get_more() {
        // Site 2 has nothing to offer; site 0 needs labels three times as much as site 1.
        let q = quotas(&[3.0, 1.0, 5.0], &[100, 100, 0], 10);
        assert_eq!(q, [7, 3, 0]); // 1 + 1, then 8 shared 6 : 2
        // A site's quota never exceeds what it has; the rest flows on.
        let q = quotas(&[3.0, 1.0], &[2, 100], 10);
        assert_eq!(q, [2, 8]);
        // A batch smaller than the number of sites goes to the neediest.
        assert_eq!(quotas(&[1.0, 3.0, 2.0], &[5, 5, 5], 2), [0, 1, 1]);
        // Never more than the pool.
        assert_eq!(quotas(&[1.0, 1.0], &[1, 2], 10), [1, 2]);
        // Zero weights share evenly.
        assert_eq!(quotas(&[0.0, 0.0], &[10, 10], 6), [3, 3]);
    }

    #[test]
    fn quotas_sum_to_the_batch_whenever_the_pool_allows() {
        for batch in 0..40 {
            let q = quotas(&[0.3, 0.01, 0.2, 0.7], &[5, 9, 0, 13], batch);
            assert_eq!(q.iter().sum::<usize>(), batch.min(27), "batch {batch}");
            assert!(q.iter().zip([5, 9, 0, 13]).all(|(&q, a)| q <= a));
        }
    }

    #[test]
    fn weight_grows_with_error_and_shrinks_with_labels() {
        assert!(site_weight(0.3, 10) > site_weight(0.1, 10));
        assert!(site_weight(0.1, 0) > site_weight(0.1, 10));
        assert_abs_diff_eq!(site_weight(0.25, 3), 0.15);
    }

    #[test]
    fn expected_error_is_the_mean_doubt_per_site() {
        let p = array![[0.9, 0.1], [0.6, 0.4], [0.5, 0.5]];
        let e = expected_error(p.view(), &[0, 0, 1], 3);
        assert_abs_diff_eq!(e[0], 0.25, epsilon = 1e-12);
        assert_abs_diff_eq!(e[1], 0.5, epsilon = 1e-12);
        assert_eq!(e[2], 0.0);
    }

    /// Two sites whose labels disagree about the same region: site 1 is site 0
    /// shifted by +3 on the first feature.
    fn shifted() -> (Array2<f64>, Array1<usize>, Vec<usize>) {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        let mut sites = Vec::new();
        for site in 0..2 {
            for i in 0..20 {
                let class = i % 2;
                let x0 = if class == 0 { -1.0 } else { 1.0 } + 0.1 * (i / 2) as f64 / 10.0;
                rows.push([x0 + 3.0 * site as f64, 0.05 * i as f64]);
                y.push(class);
                sites.push(site);
            }
        }
        (Array2::from(rows), Array1::from(y), sites)
    }

    #[test]
    fn loso_finds_the_site_others_do_not_transfer_to() {
        let params = ClassifierParams::default().check().unwrap();
        let (x, y, sites) = shifted();
        let loso = leave_one_site_out(&params, x.view(), y.view(), &sites, 3, 2).unwrap();
        // Trained on site 0 only, site 1's class 0 (at x0 ≈ 2) looks like class 1.
        let a1 = loso[1].accuracy.unwrap();
        assert!((0.45..0.55).contains(&a1), "{a1}");
        assert_eq!(loso[1].labeled, 20);
        assert_eq!(loso[2].accuracy, Err(LosoSkip::NoLabels));
        let a0 = loso[0].accuracy.unwrap();
        let worst = worst_site(&loso).unwrap();
        assert_eq!(worst.1, a0.min(a1));
        assert_eq!(worst.0, if a1 < a0 { 1 } else { 0 });
        // Only one class at the other site: no model to test with.
        let y1: Array1<usize> = y
            .iter()
            .zip(&sites)
            .map(|(&c, &s)| if s == 0 { 0 } else { c })
            .collect();
        let loso = leave_one_site_out(&params, x.view(), y1.view(), &sites, 2, 2).unwrap();
        assert_eq!(loso[1].accuracy, Err(LosoSkip::OthersTooFewClasses));
    }

    #[test]
    fn specificity_is_high_where_only_one_site_has_samples() {
        let params = ClassifierParams::default().check().unwrap();
        // Site 0 spans x in [0, 10], site 1 spans [5, 15]: [5, 10] is shared.
        let mut rows = Vec::new();
        let mut sites = Vec::new();
        for site in 0..2 {
            for i in 0..40 {
                rows.push([5.0 * site as f64 + i as f64 / 4.0, (i % 3) as f64]);
                sites.push(site);
            }
        }
        let pool = Array2::from(rows);
        let layout = SiteLayout {
            n_sites: 2,
            labeled: &[],
            pool: &sites,
        };
        let s = site_specificity(&params, pool.view(), &layout).unwrap();
        assert!(s.iter().all(|&v| (0.0..=1.0).contains(&v)));
        // x = 0.5 (site 0 alone) and x = 14.5 (site 1 alone) are specific;
        // x = 7.5 is in both sites' range.
        assert!(s[2] > 0.6 && s[78] > 0.6, "{s}");
        assert!(s[30] < 0.3 && s[50] < 0.3, "{s}");
        // Scores of specific samples keep their value, shared ones lose up to half.
        let shifted = shift_scores(array![0.8, 0.8].view(), array![1.0, 0.0].view());
        assert_abs_diff_eq!(shifted[0], 0.8);
        assert_abs_diff_eq!(shifted[1], 0.4);
    }

    #[test]
    fn a_small_site_is_always_in_the_discriminator_sample() {
        let mut pool = vec![0usize; 100_000];
        pool.extend([1, 1, 1]);
        let layout = SiteLayout {
            n_sites: 2,
            labeled: &[],
            pool: &pool,
        };
        let rows = discriminator_rows(&layout, 20_000);
        assert_eq!(rows.iter().filter(|&&i| pool[i] == 1).count(), 3);
        assert!((19_900..=20_100).contains(&rows.len()), "{}", rows.len());
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    }

    #[test]
    fn even_sample_keeps_proportions_and_rare_groups() {
        // 30,000 of class 0, 3,000 of class 1, 7 of class 2.
        let mut y = vec![0usize; 30_000];
        y.extend(vec![1; 3_000]);
        y.extend(vec![2; 7]);
        let rows = even_sample(&y, 3, 10_000, 50);
        let count = |c: usize| rows.iter().filter(|&&i| y[i] == c).count();
        assert_eq!(count(0), 9_088);
        assert_eq!(count(1), 908);
        assert_eq!(count(2), 7);
        // Spread over the whole range of a group, not its first rows.
        assert!(rows.iter().any(|&i| i > 29_000 && y[i] == 0));
        // A group smaller than the cap is kept whole.
        assert_eq!(even_sample(&[0, 1, 1, 0], 2, 10, 1), [0, 1, 2, 3]);
    }

    #[test]
    fn site_modes_parse_by_name() {
        for m in SiteMode::ALL {
            assert_eq!(m.name().parse::<SiteMode>().unwrap(), m);
        }
        assert!(
            "hospital"
                .parse::<SiteMode>()
                .unwrap_err()
                .contains("balance, shift, off")
        );
    }
}
