//! `histoactive simulate`: learning curves on a labeled CSV.

use std::fmt::Write as _;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::SimulateArgs;
use crate::config::{SimInput, client_builder, simulation};
use crate::dataset::parse_csv;
use crate::simulate::{self, SiteIndex, Summary, TestSet, curves_csv, plot, summarize};

/// Label counts shown in the summary table (those the curves reach).
const CHECKPOINTS: [usize; 6] = [10, 16, 20, 40, 80, 160];

pub async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let (input, mut params, target) = simulation(&args)?;
    let (data, file) = match input {
        SimInput::Csv {
            path,
            columns,
            test,
        } => {
            let file = path.display().to_string();
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading --data {file}"))?;
            let data = parse_csv(&text, &file, &columns)?;
            if let Some(test) = test {
                let name = test.display().to_string();
                let text = std::fs::read_to_string(&test)
                    .with_context(|| format!("reading --test-data {name}"))?;
                let table = parse_csv(&text, &name, &columns)?;
                params.test_set = Some(
                    TestSet::aligned(&table, &data)
                        .map_err(|e| anyhow::anyhow!("--test-data {name}: {e}"))?,
                );
            }
            (data, file)
        }
        SimInput::Dsa { connection, source } => {
            let (client, _) = client_builder(&connection)?
                .connect()
                .await
                .context("connecting to the DSA")?;
            let mut progress = |line: &str| eprintln!("· {line}");
            let (_, pool) = source.read(&client, &mut progress).await?;
            let table = source.sites(&pool);
            for note in table.notes(&source.sites) {
                progress(&note);
            }
            let mut data = pool.labeled_table();
            if table.names.len() >= 2 {
                data.sites = Some(pool.labeled_sites(&table.names, &table.of_slide));
            }
            let per_class: Vec<usize> = (0..data.classes.len())
                .map(|c| data.labels.iter().filter(|&&l| l == c).count())
                .collect();
            if per_class.iter().filter(|&&n| n > 0).count() < 2 {
                anyhow::bail!(
                    "the scope has labeled samples of fewer than 2 classes ({}); a simulation needs fully labeled data",
                    data.classes
                        .iter()
                        .zip(&per_class)
                        .map(|(c, n)| format!("{n} '{c}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            (data, format!("DSA {}", connection.api_url))
        }
    };
    let sites = SiteIndex::of(&data, params.test_set.as_ref());
    let site_names = sites.as_ref().map_or_else(Vec::new, |s| s.names.clone());
    let arms = simulate::arms(&data, &params);
    eprintln!(
        "{}: {} rows, {} features, classes {}{}; {} strateg{} × {} site mode(s) × {} seed(s), {} → {} labels by {}",
        file,
        data.ids.len(),
        data.feature_names.len(),
        data.classes.join("/"),
        if site_names.is_empty() {
            String::new()
        } else {
            format!(", {} sites ({})", site_names.len(), site_names.join(", "))
        },
        params.strategies.len(),
        if params.strategies.len() == 1 {
            "y"
        } else {
            "ies"
        },
        arms.len() / params.strategies.len().max(1),
        params.seeds,
        params.initial,
        params.budget,
        params.batch
    );
    if site_names.len() == 1 {
        eprintln!(
            "· every row is from one site ('{}'): site-aware selection is the same as off",
            site_names[0]
        );
    }
    let bar = ProgressBar::new(arms.len() as u64 * params.seeds);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} curves {msg} [{elapsed} / ~{eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let points = simulate::run(&data, &params, &mut |strategy, sites, seed| {
        bar.set_message(format!("{strategy} (sites {sites}) seed {seed}"));
        bar.inc(1);
    })?;
    bar.finish_and_clear();

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let csv = args.out.join("curves.csv");
    std::fs::write(&csv, curves_csv(&points, &site_names))
        .with_context(|| format!("writing {}", csv.display()))?;
    let summaries = summarize(&points, target);
    print!("{}", table(&summaries, target));
    if !site_names.is_empty() {
        print!("\n{}", site_table(&summaries, &site_names));
    }
    let (svg, png) = (args.out.join("curves.svg"), args.out.join("curves.png"));
    let title = format!("{} — {} seeds, batch {}", file, params.seeds, params.batch);
    plot::write(&summaries, &title, &svg, &png)?;
    if !site_names.is_empty() {
        let worst: Vec<Summary> = summaries
            .iter()
            .filter_map(Summary::worst_site_view)
            .collect();
        let (svg, png) = (
            args.out.join("worst-site.svg"),
            args.out.join("worst-site.png"),
        );
        plot::write(&worst, &format!("{title} — worst site"), &svg, &png)?;
        println!("wrote {} and {}", svg.display(), png.display());
    }
    for (made, copy) in [(&csv, &args.curves_csv), (&png, &args.curves_plot)] {
        if let Some(copy) = copy {
            std::fs::copy(made, copy).with_context(|| format!("writing {}", copy.display()))?;
        }
    }
    println!(
        "\nwrote {}, {} and {}",
        csv.display(),
        svg.display(),
        png.display()
    );
    Ok(())
}

fn table(summaries: &[Summary], target: f64) -> String {
    let mut out = String::new();
    let checkpoints: Vec<usize> = CHECKPOINTS
        .into_iter()
        .filter(|&c| summaries.iter().any(|s| s.at(c).is_some()))
        .collect();
    let _ = write!(out, "{:<18}", "strategy");
    for c in &checkpoints {
        let _ = write!(out, " {:>13}", format!("acc@{c}"));
    }
    let _ = writeln!(out, " {:>7} {:>12}", "AULC", format!("labels→{target:.2}"));
    for s in summaries {
        let _ = write!(out, "{:<18}", s.label());
        for &c in &checkpoints {
            let cell = s
                .at(c)
                .map_or("-".to_string(), |(m, sd)| format!("{m:.3} ± {sd:.3}"));
            let _ = write!(out, " {cell:>13}");
        }
        let reach = s
            .labels_to_target
            .map_or("not reached".to_string(), |n| n.to_string());
        let _ = writeln!(out, " {:>7.4} {:>12}", s.aulc, reach);
    }
    out
}

/// Worst-site and per-site AULC of every strategy and site mode.
fn site_table(summaries: &[Summary], sites: &[String]) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:<18} {:>10}", "strategy", "worst-site");
    for name in sites {
        let _ = write!(out, " {:>10}", truncate(name, 10));
    }
    let _ = writeln!(out, "   (AULC: mean test accuracy over the label range)");
    for s in summaries {
        let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        let _ = write!(out, "{:<18} {:>10}", s.label(), cell(s.worst_aulc));
        for v in &s.site_aulc {
            let _ = write!(out, " {:>10}", cell(*v));
        }
        let _ = writeln!(out);
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(width - 1).collect();
        t.push('…');
        t
    }
}
