//! A multi-site evaluation set: the WDBC nuclei split over four sites, each
//! with the kind of effect a real institution has on nuclear features.
//!
//! WDBC's features are measured on segmented nuclei, so they react to what
//! differs between labs the way HistomicsTK features do:
//! - calibration / segmentation boundary: every length (radius, perimeter)
//!   scales by `size`, every area by `size²`;
//! - stain and section thickness: grey-level texture scales by
//!   `texture_gain` and its mean and worst values shift by `texture_offset`;
//! - focus / scanner optics (`blur` < 1): contours are smoothed, so
//!   concavity and concave points shrink by `blur`, and smoothness and
//!   fractal dimension by a third and a sixth of that loss;
//! - patient population: each site has its own share of malignant cases.
//!
//! On top of that, every site has a seeded ±4% gain per feature (unmodelled
//! differences) and every value a seeded 2% measurement noise. The same
//! seed always gives the same table.

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::dataset::{Dataset, csv_cell, wdbc};

/// One site's effects on the features, and its case mix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteEffect {
    pub name: &'static str,
    pub what: &'static str,
    pub malignant: usize,
    pub benign: usize,
    pub size: f64,
    pub texture_gain: f64,
    pub texture_offset: f64,
    pub blur: f64,
}

/// The four sites (their malignant and benign counts add up to WDBC's 212 and 357).
pub const SITES: [SiteEffect; 4] = [
    SiteEffect {
        name: "site-A",
        what: "reference academic centre: the original measurements, 25% malignant",
        malignant: 50,
        benign: 150,
        size: 1.0,
        texture_gain: 1.0,
        texture_offset: 0.0,
        blur: 1.0,
    },
    SiteEffect {
        name: "site-B",
        what: "other scanner calibration and a darker stain: lengths +8%, texture ×1.25 + 2, 40% malignant",
        malignant: 60,
        benign: 90,
        size: 1.08,
        texture_gain: 1.25,
        texture_offset: 2.0,
        blur: 1.0,
    },
    SiteEffect {
        name: "site-C",
        what: "older scanner, softer focus: concavity ×0.7, lengths −7%, 27% malignant",
        malignant: 30,
        benign: 80,
        size: 0.93,
        texture_gain: 0.9,
        texture_offset: 0.0,
        blur: 0.7,
    },
    SiteEffect {
        name: "site-D",
        what: "referral centre with thick sections: 66% malignant, lengths +12%, texture +4",
        malignant: 72,
        benign: 37,
        size: 1.12,
        texture_gain: 1.0,
        texture_offset: 4.0,
        blur: 0.9,
    },
];

/// The factor and offset a site applies to feature `name`.
fn effect_on(site: &SiteEffect, name: &str) -> (f64, f64) {
    let is_summary = !name.ends_with("_error"); // mean_ and worst_ values, not standard errors
    if name.contains("area") {
        (site.size * site.size, 0.0)
    } else if name.contains("radius") || name.contains("perimeter") {
        (site.size, 0.0)
    } else if name.contains("texture") {
        let offset = if is_summary { site.texture_offset } else { 0.0 };
        (site.texture_gain, offset)
    } else if name.contains("concav") {
        (site.blur, 0.0)
    } else if name.contains("smoothness") {
        (1.0 - (1.0 - site.blur) / 3.0, 0.0)
    } else if name.contains("fractal") {
        (1.0 - (1.0 - site.blur) / 6.0, 0.0)
    } else {
        (1.0, 0.0)
    }
}

/// WDBC split over [`SITES`] with their effects applied; `sites` is set.
pub fn multisite_wdbc(seed: u64) -> Dataset {
    let base = wdbc();
    let mut rng = StdRng::seed_from_u64(seed);
    let malignant = base
        .classes
        .iter()
        .position(|c| c == "malignant")
        .expect("WDBC has a malignant class");
    let mut by_class: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (i, &l) in base.labels.iter().enumerate() {
        by_class[usize::from(l == malignant)].push(i);
    }
    for rows in &mut by_class {
        rows.shuffle(&mut rng);
    }
    let n_features = base.feature_names.len();
    let mut values = Vec::with_capacity(base.labels.len() * n_features);
    let (mut ids, mut labels, mut sites) = (Vec::new(), Vec::new(), Vec::new());
    let (mut next_benign, mut next_malignant) = (0, 0);
    for site in &SITES {
        let gains: Vec<f64> = (0..n_features)
            .map(|_| 1.0 + rng.gen_range(-0.04..0.04))
            .collect();
        let mut rows: Vec<usize> = by_class[1][next_malignant..next_malignant + site.malignant]
            .iter()
            .chain(&by_class[0][next_benign..next_benign + site.benign])
            .copied()
            .collect();
        next_malignant += site.malignant;
        next_benign += site.benign;
        rows.shuffle(&mut rng);
        for row in rows {
            for (f, name) in base.feature_names.iter().enumerate() {
                let (factor, offset) = effect_on(site, name);
                let noise = 1.0 + 0.02 * (rng.r#gen::<f64>() * 2.0 - 1.0);
                values.push((base.features[[row, f]] * factor * gains[f] + offset) * noise);
            }
            ids.push(base.ids[row].clone());
            labels.push(base.labels[row]);
            sites.push(site.name.to_string());
        }
    }
    Dataset {
        features: Array2::from_shape_vec((ids.len(), n_features), values)
            .expect("one value per row and feature"),
        ids,
        feature_names: base.feature_names,
        labels,
        classes: base.classes,
        sites: Some(sites),
    }
}

/// The table as CSV: `sample_id`, the features, `diagnosis`, `site`.
pub fn to_csv(data: &Dataset) -> String {
    let mut out = String::from("sample_id");
    for name in &data.feature_names {
        out.push(',');
        out.push_str(&csv_cell(name));
    }
    out.push_str(",diagnosis,site\n");
    for (i, id) in data.ids.iter().enumerate() {
        out.push_str(&csv_cell(id));
        for v in data.features.row(i) {
            out.push_str(&format!(",{}", format_value(*v)));
        }
        let site = data.sites.as_ref().map_or("", |s| s[i].as_str());
        out.push_str(&format!(
            ",{},{}\n",
            csv_cell(&data.classes[data.labels[i]]),
            csv_cell(site)
        ));
    }
    out
}

/// Six significant digits, like the source data.
fn format_value(v: f64) -> String {
    format!("{}", format!("{v:.6e}").parse::<f64>().unwrap_or(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Columns, parse_csv};

    #[test]
    fn sites_have_their_case_mix_and_effects_and_the_seed_decides() {
        let d = multisite_wdbc(7);
        assert_eq!(d.labels.len(), 569);
        let sites = d.sites.as_ref().unwrap();
        let malignant = d.classes.iter().position(|c| c == "malignant").unwrap();
        for site in &SITES {
            let rows: Vec<usize> = (0..569).filter(|&i| sites[i] == site.name).collect();
            let m = rows.iter().filter(|&&i| d.labels[i] == malignant).count();
            assert_eq!(
                (m, rows.len() - m),
                (site.malignant, site.benign),
                "{}",
                site.name
            );
        }
        // Site D's lengths are ~12% up and its texture shifted: its benign
        // nuclei are bigger on average than site A's.
        let mean = |site: &str, col: &str| {
            let f = d.feature_names.iter().position(|n| n == col).unwrap();
            let benign: Vec<f64> = (0..569)
                .filter(|&i| sites[i] == site && d.labels[i] != malignant)
                .map(|i| d.features[[i, f]])
                .collect();
            benign.iter().sum::<f64>() / benign.len() as f64
        };
        assert!(mean("site-D", "mean_radius") > 1.05 * mean("site-A", "mean_radius"));
        assert!(mean("site-C", "mean_concavity") < 0.85 * mean("site-A", "mean_concavity"));
        assert_eq!(d.features, multisite_wdbc(7).features);
        assert_ne!(d.features, multisite_wdbc(8).features);
    }

    #[test]
    fn the_csv_reads_back_with_its_site_column() {
        let d = multisite_wdbc(3);
        let columns = Columns {
            label: "diagnosis".into(),
            id: Some("sample_id".into()),
            site: Some("site".into()),
            features: None,
        };
        let back = parse_csv(&to_csv(&d), "multisite.csv", &columns).unwrap();
        assert_eq!(back.sites, d.sites);
        assert_eq!(back.labels, d.labels);
        assert_eq!(back.feature_names, d.feature_names);
        let err = (&back.features - &d.features)
            .iter()
            .zip(d.features.iter())
            .map(|(e, v)| (e / v).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-5, "{err}");
    }
}
