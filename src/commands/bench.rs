//! `histoactive bench`: timings of the learning engine at cohort scale.
//!
//! The pool is synthetic (seeded Gaussian blobs, one per class) so the figures
//! can be reproduced anywhere; data generation is not timed.

use std::time::Instant;

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::cli::BenchArgs;
use crate::config::ConfigError;
use crate::learn::{
    ClassifierParams, Diversity, QueryParams, SiteLayout, SiteMode, Standardizer, Strategy,
    query_by_site, scores, select,
};

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.r#gen::<f64>().max(f64::MIN_POSITIVE);
    let v: f64 = rng.r#gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn blobs(rows: usize, centres: &Array2<f64>, rng: &mut StdRng) -> (Array2<f64>, Array1<usize>) {
    let (k, d) = centres.dim();
    let y: Array1<usize> = (0..rows).map(|_| rng.gen_range(0..k)).collect();
    let x = Array2::from_shape_fn((rows, d), |(i, j)| centres[[y[i], j]] + 1.5 * normal(rng));
    (x, y)
}

/// Peak resident memory of this process so far (Linux), in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if args.classes < 2 || args.features == 0 || args.pool == 0 || args.labels < args.classes {
        return Err(ConfigError(
            "bench needs --classes ≥ 2, --features ≥ 1, --pool ≥ 1 and --labels ≥ --classes".into(),
        )
        .into());
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let centres =
        Array2::from_shape_fn((args.classes, args.features), |_| rng.gen_range(-1.0..1.0));
    let (x_train, y_train) = blobs(args.labels, &centres, &mut rng);
    // The pool is stored as f32, as a cohort-scale pool should be.
    let pool: Array2<f32> = {
        let y: Vec<usize> = (0..args.pool)
            .map(|_| rng.gen_range(0..args.classes))
            .collect();
        Array2::from_shape_fn((args.pool, args.features), |(i, j)| {
            (centres[[y[i], j]] + 1.5 * normal(&mut rng)) as f32
        })
    };
    let baseline = peak_mib();
    println!(
        "pool {} × {} f32 ({:.0} MiB), {} labels, {} classes, batch {}, seed {}",
        args.pool,
        args.features,
        mib(args.pool * args.features * 4),
        args.labels,
        args.classes,
        args.batch,
        args.seed
    );

    let params = ClassifierParams::default()
        .check()
        .map_err(|e| anyhow::anyhow!(e))?;
    let t = Instant::now();
    let model = params.fit(x_train.view(), y_train.view(), args.classes)?;
    println!(
        "fit (standardize + multinomial logistic regression) {:>8.3} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let proba = model.predict_proba(pool.view())?;
    let margin = scores(Strategy::Margin, proba.view(), args.seed);
    let score_time = t.elapsed().as_secs_f64();
    println!("score pool (probabilities + margin)               {score_time:>8.3} s");

    for diversity in [Diversity::Off, Diversity::Cluster, Diversity::Kcenter] {
        let t = Instant::now();
        let scaler = Standardizer::fit(pool.view());
        let picked = select(
            margin.view(),
            pool.view(),
            &scaler,
            diversity,
            args.batch,
            args.seed,
        );
        let select_time = t.elapsed().as_secs_f64();
        println!(
            "select {} with diversity {:<8} {:>8.3} s   (score + select {:.3} s)",
            picked.len(),
            diversity.name(),
            select_time,
            score_time + select_time
        );
    }
    match (peak_mib(), baseline) {
        (Some(peak), Some(base)) => println!(
            "peak resident memory {peak:.0} MiB ({:.0} MiB of it before fitting: the generated data); {:.2}× the f32 pool",
            base,
            peak / mib(args.pool * args.features * 4)
        ),
        _ => println!("peak resident memory: not available on this system"),
    }
    if args.sites >= 2 {
        // Sites drawn at random: the work is the same whatever the site effect.
        let labeled: Vec<usize> = (0..args.labels)
            .map(|_| rng.gen_range(0..args.sites))
            .collect();
        let pooled: Vec<usize> = (0..args.pool)
            .map(|_| rng.gen_range(0..args.sites))
            .collect();
        let layout = SiteLayout {
            n_sites: args.sites,
            labeled: &labeled,
            pool: &pooled,
        };
        for mode in SiteMode::ALL {
            let t = Instant::now();
            let (query, _) = query_by_site(
                &params,
                x_train.view(),
                y_train.view(),
                args.classes,
                pool.view(),
                QueryParams {
                    strategy: Strategy::Margin,
                    diversity: Diversity::Cluster,
                    batch: args.batch,
                    seed: args.seed,
                },
                &layout,
                mode,
            )?;
            println!(
                "whole query, {} sites, --sites {:<7} {:>8.3} s   ({} picked; fit, score, cluster{})",
                args.sites,
                mode.name(),
                t.elapsed().as_secs_f64(),
                query.picked.len(),
                match mode {
                    SiteMode::Off => "",
                    SiteMode::Balance => ", leave-one-site-out fits, quotas",
                    SiteMode::Shift => ", leave-one-site-out fits, quotas, site discriminator",
                }
            );
        }
        if let Some(peak) = peak_mib() {
            println!("peak resident memory with the site-aware queries {peak:.0} MiB");
        }
    }
    Ok(())
}
