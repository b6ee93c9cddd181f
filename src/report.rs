//! The human summary of a round: model, labels, the top of the queue, per-slide counts.

use std::fmt::Write;

use crate::learn::SiteMode;
use crate::round::{RoundReport, SlideSummary};
use crate::writeback::LayerChange;

fn bounds_link(report: &RoundReport, slide: usize, sample: usize) -> String {
    let item = &report.pool.slides[slide].item.id;
    let shape = &report.pool.samples[sample].shape;
    match crate::geometry::bounds(shape) {
        Some(b) => {
            // A little context around the sample.
            let pad = ((b.max_x - b.min_x).max(b.max_y - b.min_y) * 2.0).max(64.0);
            format!(
                "{}/histomics#?image={item}&bounds={:.0}%2C{:.0}%2C{:.0}%2C{:.0}%2C0",
                report.web_root,
                b.min_x - pad,
                b.min_y - pad,
                b.max_x + pad,
                b.max_y + pad
            )
        }
        None => format!("{}/histomics#?image={item}", report.web_root),
    }
}

fn change_text(s: &SlideSummary) -> &'static str {
    match s.change {
        Some(LayerChange::Created(_)) => "created",
        Some(LayerChange::Replaced(_)) => "replaced",
        Some(LayerChange::Removed(_)) => "removed (nothing queued)",
        Some(LayerChange::Nothing) => "-",
        None => "(dry run)",
    }
}

/// Renders the summary; `show` limits the queue rows printed.
pub fn render(report: &RoundReport, show: usize, dry_run: bool) -> String {
    let mut out = String::new();
    let pool = &report.pool;
    let labeled: usize = report.label_counts.iter().map(|(_, n)| n).sum();
    let _ = writeln!(
        out,
        "histoactive round {} ({}, diversity {})",
        report.run_id, report.strategy, report.diversity
    );
    let _ = writeln!(
        out,
        "  samples: {} on {} slide(s), {} features; {} labeled, {} unlabeled, {} with conflicting labels, {} unusable",
        pool.samples.len(),
        pool.slides.len(),
        pool.feature_names.len(),
        labeled,
        report.unlabeled,
        report.conflicts,
        pool.report.unusable
    );
    let counts: Vec<String> = report
        .label_counts
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "  labels: {} (from element groups: {}, from label regions: {})",
        counts.join(", "),
        pool.report.labeled_by_element,
        pool.report.labeled_by_region
    );
    if report.cold_start {
        let _ = writeln!(
            out,
            "  cold start: labels of fewer than 2 classes ({}), so no model yet. The queue is a diverse, \
             typical first batch (one sample nearest each k-means centre of the pool): label it and run again",
            crate::round::describe_counts(&report.label_counts)
        );
    }
    match report.cv {
        Some(cv) => {
            let _ = writeln!(
                out,
                "  model: logistic regression, {}-fold cross-validated accuracy {:.3}",
                cv.folds, cv.accuracy
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  model: logistic regression (too few labels per class to cross-validate)"
            );
        }
    }
    if report.conflicts > 0 {
        let _ = writeln!(
            out,
            "  conflicting labels (kept out of training and queue): {}",
            report.conflict_examples.join("; ")
        );
    }
    if pool.report.unusable > 0 {
        let _ = writeln!(
            out,
            "  unusable features on {} sample(s), e.g. {}",
            pool.report.unusable,
            pool.report.unusable_examples.join("; ")
        );
    }
    for (name, count) in &pool.report.dropped_features {
        let _ = writeln!(
            out,
            "  ignored feature '{name}': present on only {count} of {} samples",
            pool.samples.len()
        );
    }
    for (name, count) in &pool.report.unknown_region_classes {
        let _ = writeln!(
            out,
            "  ignored {count} label region(s) of class '{name}' (not in --classes)"
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:>5}  {:<24} {:>7}  {:<34} element",
        "rank", "slide", "score", "prediction"
    );
    for q in report.queue.iter().take(show) {
        let s = &pool.samples[q.sample];
        let prediction: Vec<String> = q
            .probabilities
            .iter()
            .take(2)
            .map(|(c, p)| format!("{c} {p:.2}"))
            .collect();
        let element = s
            .element_id
            .as_ref()
            .map_or_else(|| format!("#{}", s.element_index), ToString::to_string);
        let _ = writeln!(
            out,
            "{:>5}  {:<24} {:>7.4}  {:<34} {}",
            q.rank,
            truncate(&pool.slides[q.slide].item.name, 24),
            q.score,
            prediction.join(" / "),
            element
        );
    }
    if report.queue.len() > show {
        let _ = writeln!(
            out,
            "  ... {} more in the layers",
            report.queue.len() - show
        );
    }
    if let Some(first) = report.queue.first() {
        let _ = writeln!(
            out,
            "\nopen rank 1 in HistomicsUI: {}",
            bounds_link(report, first.slide, first.sample)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<30} {:>8} {:>8} {:>7}  layer",
        "slide", "samples", "labeled", "queued"
    );
    for s in &report.slides {
        let _ = writeln!(
            out,
            "{:<30} {:>8} {:>8} {:>7}  {}",
            truncate(&s.name, 30),
            s.samples,
            s.labeled,
            s.queued,
            change_text(s)
        );
    }
    render_sites(&mut out, report);
    let t = report.timings;
    let _ = writeln!(
        out,
        "\ntime: fetch {:.2}s, learn {:.2}s, write {:.2}s",
        t.fetch.as_secs_f64(),
        t.learn.as_secs_f64(),
        t.write.as_secs_f64()
    );
    if dry_run {
        let _ = writeln!(out, "dry run: nothing was written");
    }
    out
}

/// The per-site block: the table (when there is more than one site, or
/// selection was site-aware), then the notes on how sites were found.
fn render_sites(out: &mut String, report: &RoundReport) {
    let sites = &report.sites;
    if sites.rows.len() >= 2 || sites.mode != SiteMode::Off {
        site_table(out, report);
    }
    for note in &sites.notes {
        let _ = writeln!(out, "  site note: {note}");
    }
}

/// Counts, leave-one-site-out accuracy and quotas per site, the worst site.
fn site_table(out: &mut String, report: &RoundReport) {
    let sites = &report.sites;
    let classes: Vec<&str> = report
        .label_counts
        .iter()
        .map(|(c, _)| c.as_str())
        .collect();
    let labels_head = format!("labels ({})", classes.join("/"));
    let width = labels_head.len().max(8);
    let _ = writeln!(out);
    let mut line = |c: [&str; 9]| {
        let _ = writeln!(
            out,
            "{:<20} {:>6} {:>8} {:<width$} {:>9} {:>6} {:>8} {:>8} {:>5}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
        );
    };
    line([
        "site",
        "slides",
        "samples",
        &labels_head,
        "unlabeled",
        "queued",
        "LOSO acc",
        "exp.err",
        "quota",
    ]);
    let dash = || "-".to_string();
    for r in &sites.rows {
        let labels: Vec<String> = r.labels.iter().map(ToString::to_string).collect();
        let loso = match r.loso {
            Some(Ok(a)) => format!("{a:.3}"),
            _ => dash(),
        };
        line([
            &truncate(&r.name, 20),
            &r.slides.to_string(),
            &r.samples.to_string(),
            &labels.join("/"),
            &r.unlabeled.to_string(),
            &r.queued.to_string(),
            &loso,
            &r.error.map_or_else(dash, |e| format!("{e:.3}")),
            &r.quota.map_or_else(dash, |q| q.to_string()),
        ]);
    }
    let why_no_loso: Vec<String> = sites
        .rows
        .iter()
        .filter_map(|r| match r.loso {
            Some(Err(skip)) => Some(format!("'{}': {}", r.name, skip.describe())),
            _ => None,
        })
        .collect();
    if !why_no_loso.is_empty() {
        let _ = writeln!(
            out,
            "  no leave-one-site-out accuracy for {}",
            why_no_loso.join("; ")
        );
    }
    match &sites.worst {
        Some((name, acc)) => {
            let _ = writeln!(
                out,
                "  worst site: '{name}', leave-one-site-out accuracy {acc:.3} (a model trained on the other sites' labels, tested on its own)"
            );
        }
        None if sites.rows.len() >= 2 => {
            let _ = writeln!(
                out,
                "  worst site: not known yet (leave-one-site-out needs labels of 2+ classes on the other sites)"
            );
        }
        None => {}
    }
    if sites.mode != SiteMode::Off && !sites.applied {
        let _ = writeln!(
            out,
            "  --sites {}: fewer than 2 sites have unlabeled samples, so the batch was not shared out by site",
            sites.mode
        );
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// The human summary of a label audit.
pub fn render_audit(
    report: &crate::audit::AuditReport,
    classes: &[String],
    show: usize,
    dry_run: bool,
) -> String {
    use crate::audit::{Reason, audit_label};
    let mut out = String::new();
    let count = |r: Reason| report.entries.iter().filter(|e| e.reason == r).count();
    let _ = writeln!(out, "histoactive label audit {}", report.run_id);
    let _ = writeln!(
        out,
        "  {} labeled samples, {} folds: {} disagreements, {} likely label errors",
        report.labeled,
        report.folds,
        count(Reason::Disagreement),
        count(Reason::LikelyError)
    );
    for note in &report.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    if !report.annotators.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<24} {:>7} {:>9} {:>10}",
            "annotator", "labels", "quality", "agreement"
        );
        for a in &report.annotators {
            let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
            let _ = writeln!(
                out,
                "{:<24} {:>7} {:>9} {:>10}",
                truncate(&a.name, 24),
                a.labels,
                f(a.quality),
                f(a.agreement)
            );
        }
    }
    if !report.entries.is_empty() {
        let _ = writeln!(
            out,
            "\n{:>5}  {:<13} {:<24} {:>7}  label",
            "rank", "reason", "slide", "quality"
        );
        for e in report.entries.iter().take(show) {
            let s = &report.pool.samples[e.sample];
            let _ = writeln!(
                out,
                "{:>5}  {:<13} {:<24} {:>7.3}  {}",
                e.rank,
                e.reason.name(),
                truncate(&report.pool.slides[s.slide].item.name, 24),
                e.quality,
                audit_label(report, classes, e)
            );
        }
        if report.entries.len() > show {
            let _ = writeln!(
                out,
                "  ... {} more in the layers",
                report.entries.len() - show
            );
        }
    }
    for (slide, change) in &report.changes {
        let text = match change {
            LayerChange::Created(_) => "created",
            LayerChange::Replaced(_) => "replaced",
            LayerChange::Removed(_) => "removed (nothing flagged)",
            LayerChange::Nothing => continue,
        };
        let _ = writeln!(out, "  audit layer on {slide}: {text}");
    }
    let _ = writeln!(out, "time: {:.2}s", report.seconds);
    if dry_run {
        let _ = writeln!(out, "dry run: nothing was written");
    }
    out
}
