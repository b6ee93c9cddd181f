//! Learning-curve plots (SVG and PNG): mean accuracy per strategy with a
//! ±1 sd band over seeds.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;

use super::Summary;

/// Where the plot's font is looked for (Debian's fonts-dejavu-core, and the
/// usual places on other systems); `HISTOACTIVE_FONT` overrides.
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
];

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error(
        "no font to draw the plot's text: install DejaVu Sans (Debian: apt-get install fonts-dejavu-core) \
         or point HISTOACTIVE_FONT at a .ttf file"
    )]
    NoFont,
    #[error("drawing {path} failed: {message}")]
    Draw { path: String, message: String },
}

fn ensure_font() -> Result<(), PlotError> {
    static LOADED: OnceLock<bool> = OnceLock::new();
    let ok = *LOADED.get_or_init(|| {
        let candidates = std::env::var("HISTOACTIVE_FONT")
            .ok()
            .into_iter()
            .chain(FONT_PATHS.iter().map(|s| s.to_string()));
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                // The font registry wants 'static bytes; one font per process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    });
    if ok { Ok(()) } else { Err(PlotError::NoFont) }
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    summaries: &[Summary],
    title: &str,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let x_max = summaries
        .iter()
        .flat_map(|s| s.curve.iter().map(|c| c.0))
        .max()
        .unwrap_or(1)
        .max(1);
    let x_min = summaries
        .iter()
        .flat_map(|s| s.curve.iter().map(|c| c.0))
        .min()
        .unwrap_or(0);
    let y_min = summaries
        .iter()
        .flat_map(|s| s.curve.iter().map(|c| c.1 - c.2))
        .fold(1.0f64, f64::min)
        .clamp(0.0, 0.95);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x_min as f64..x_max as f64, (y_min - 0.02).max(0.0)..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("labels")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("test accuracy (mean ± sd over seeds)")
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, s) in summaries.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let upper: Vec<(f64, f64)> = s
            .curve
            .iter()
            .map(|c| (c.0 as f64, (c.1 + c.2).min(1.0)))
            .collect();
        let lower: Vec<(f64, f64)> = s
            .curve
            .iter()
            .rev()
            .map(|c| (c.0 as f64, c.1 - c.2))
            .collect();
        let band: Vec<(f64, f64)> = upper.into_iter().chain(lower).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, colour.mix(0.15))))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                s.curve.iter().map(|c| (c.0 as f64, c.1)),
                colour.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("{} (AULC {:.3})", s.label(), s.aulc))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Writes the same plot as SVG and PNG.
pub fn write(summaries: &[Summary], title: &str, svg: &Path, png: &Path) -> Result<(), PlotError> {
    ensure_font()?;
    let fail = |path: &Path, message: String| PlotError::Draw {
        path: path.display().to_string(),
        message,
    };
    draw(
        SVGBackend::new(svg, (900, 600)).into_drawing_area(),
        summaries,
        title,
    )
    .map_err(|m| fail(svg, m))?;
    draw(
        BitMapBackend::new(png, (900, 600)).into_drawing_area(),
        summaries,
        title,
    )
    .map_err(|m| fail(png, m))?;
    Ok(())
}
