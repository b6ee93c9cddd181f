//! Learning curves summarized per strategy: mean ± sd at each label count,
//! area under the curve, labels needed to reach a target accuracy.

use std::collections::BTreeMap;

use super::CurvePoint;
use crate::learn::{SiteMode, Strategy};

/// The mean curve of one strategy and its headline numbers.
#[derive(Debug, Clone)]
pub struct Summary {
    pub strategy: Strategy,
    pub sites: SiteMode,
    /// `(labels, mean, sd)` over seeds of the lowest per-site accuracy; empty
    /// without sites.
    pub worst_curve: Vec<(usize, f64, f64)>,
    /// Area under the worst-site curve, normalized like `aulc`.
    pub worst_aulc: Option<f64>,
    /// Area under each site's mean accuracy curve (sites without test rows: `None`).
    pub site_aulc: Vec<Option<f64>>,
    /// `(labels, mean accuracy, sd accuracy, mean balanced accuracy, mean macro-F1)` by label count.
    pub curve: Vec<(usize, f64, f64, f64, f64)>,
    /// Area under the mean accuracy curve divided by the label range (so it
    /// is an average accuracy, comparable between budgets of equal range).
    pub aulc: f64,
    /// Fewest labels at which the mean accuracy reaches the target.
    pub labels_to_target: Option<usize>,
    pub seeds: usize,
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Trapezoidal area under `(x, y)` points divided by the x range.
pub fn normalized_area(points: &[(usize, f64)]) -> f64 {
    match points {
        [] => 0.0,
        [(_, y)] => *y,
        _ => {
            let area: f64 = points
                .windows(2)
                .map(|w| (w[1].0 - w[0].0) as f64 * (w[0].1 + w[1].1) / 2.0)
                .sum();
            area / (points[points.len() - 1].0 - points[0].0) as f64
        }
    }
}

/// One summary per (strategy, site mode), in the order they first appear.
pub fn summarize(points: &[CurvePoint], target: f64) -> Vec<Summary> {
    let mut order: Vec<(Strategy, SiteMode)> = Vec::new();
    for p in points {
        if !order.contains(&(p.strategy, p.sites)) {
            order.push((p.strategy, p.sites));
        }
    }
    order
        .into_iter()
        .map(|(strategy, sites)| {
            let mut by_labels: BTreeMap<usize, Vec<&CurvePoint>> = BTreeMap::new();
            let mut seeds: Vec<u64> = Vec::new();
            for p in points
                .iter()
                .filter(|p| p.strategy == strategy && p.sites == sites)
            {
                by_labels.entry(p.labels).or_default().push(p);
                if !seeds.contains(&p.seed) {
                    seeds.push(p.seed);
                }
            }
            let curve: Vec<(usize, f64, f64, f64, f64)> = by_labels
                .iter()
                .map(|(&labels, ps)| {
                    let acc: Vec<f64> = ps.iter().map(|p| p.scores.accuracy).collect();
                    let (mean, sd) = mean_sd(&acc);
                    let bal = mean_sd(
                        &ps.iter()
                            .map(|p| p.scores.balanced_accuracy)
                            .collect::<Vec<_>>(),
                    )
                    .0;
                    let f1 = mean_sd(&ps.iter().map(|p| p.scores.macro_f1).collect::<Vec<_>>()).0;
                    (labels, mean, sd, bal, f1)
                })
                .collect();
            let aulc = normalized_area(&curve.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>());
            let labels_to_target = curve.iter().find(|c| c.1 >= target).map(|c| c.0);
            let worst_curve: Vec<(usize, f64, f64)> = by_labels
                .iter()
                .filter_map(|(&labels, ps)| {
                    let worst: Vec<f64> = ps.iter().filter_map(|p| p.worst_site()).collect();
                    (!worst.is_empty()).then(|| {
                        let (m, sd) = mean_sd(&worst);
                        (labels, m, sd)
                    })
                })
                .collect();
            let worst_aulc = (!worst_curve.is_empty()).then(|| {
                normalized_area(&worst_curve.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>())
            });
            let n_sites = points.first().map_or(0, |p| p.per_site.len());
            let site_aulc = (0..n_sites)
                .map(|s| {
                    let curve: Vec<(usize, f64)> = by_labels
                        .iter()
                        .filter_map(|(&labels, ps)| {
                            let acc: Vec<f64> = ps.iter().filter_map(|p| p.per_site[s]).collect();
                            (!acc.is_empty()).then(|| (labels, mean_sd(&acc).0))
                        })
                        .collect();
                    (!curve.is_empty()).then(|| normalized_area(&curve))
                })
                .collect();
            Summary {
                strategy,
                sites,
                worst_curve,
                worst_aulc,
                site_aulc,
                curve,
                aulc,
                labels_to_target,
                seeds: seeds.len(),
            }
        })
        .collect()
}

impl Summary {
    /// `margin`, or `margin+balance` for a site-aware arm.
    pub fn label(&self) -> String {
        match self.sites {
            SiteMode::Off => self.strategy.name().to_string(),
            m => format!("{}+{m}", self.strategy),
        }
    }

    /// The same summary with the worst-site curve as its curve (for plots).
    pub fn worst_site_view(&self) -> Option<Summary> {
        Some(Summary {
            curve: self
                .worst_curve
                .iter()
                .map(|&(l, m, sd)| (l, m, sd, f64::NAN, f64::NAN))
                .collect(),
            aulc: self.worst_aulc?,
            labels_to_target: None,
            ..self.clone()
        })
    }

    /// Mean and sd of accuracy at `labels`, if the curve has that point.
    pub fn at(&self, labels: usize) -> Option<(f64, f64)> {
        self.curve
            .iter()
            .find(|c| c.0 == labels)
            .map(|c| (c.1, c.2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::Scores;
    use approx::assert_abs_diff_eq;

    fn point(seed: u64, labels: usize, accuracy: f64) -> CurvePoint {
        CurvePoint {
            strategy: Strategy::Margin,
            sites: SiteMode::Off,
            per_site: Vec::new(),
            seed,
            labels,
            scores: Scores {
                accuracy,
                balanced_accuracy: accuracy,
                macro_f1: accuracy,
            },
        }
    }

    #[test]
    fn mean_sd_area_and_labels_to_target() {
        let points = [
            point(0, 2, 0.5),
            point(1, 2, 0.7),
            point(0, 4, 0.9),
            point(1, 4, 1.0),
            point(0, 6, 1.0),
            point(1, 6, 1.0),
        ];
        let s = &summarize(&points, 0.95)[0];
        assert_eq!(s.seeds, 2);
        let (m, sd) = s.at(2).unwrap();
        assert_abs_diff_eq!(m, 0.6, epsilon = 1e-12);
        assert_abs_diff_eq!(sd, 0.02f64.sqrt(), epsilon = 1e-12);
        // Mean curve 0.6, 0.95, 1.0 over 2..6: (2·0.775 + 2·0.975) / 4
        assert_abs_diff_eq!(s.aulc, 0.875, epsilon = 1e-12);
        assert_eq!(s.labels_to_target, Some(4));
    }
}
