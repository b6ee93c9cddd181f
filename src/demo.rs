//! A realistic demo cohort on a DSA server, built from the WDBC nuclei data.
//!
//! Each slide is an item holding a small rendered PNG (so large_image serves it
//! as a tiled image) and a `nuclei` annotation: one closed polygon per WDBC row,
//! sized by its radius, with the row's 30 measurements as
//! `user["Feature.<column>"]`. A few nuclei per slide are labeled through their
//! `group` (as when an expert relabels nuclei in HistomicsUI), and an
//! `expert labels` annotation holds rectangles that label the nuclei inside
//! them. On the first slide one nucleus carries a group that contradicts the
//! region around it: a planted conflict.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::dataset::Dataset;
use crate::dsa::{
    AnnotationBody, AnnotationId, Client, ClientBuilder, CollectionId, DsaError, Element, Extra,
    FolderId, ItemId, Label, Secret, Shape,
};

/// One row of the source table, placed on a slide.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    features: Vec<f64>,
    class: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Dsa(#[from] DsaError),
    #[error("rendering the slide image failed: {0}")]
    Image(String),
}

/// What to build.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub collection: String,
    pub slides: usize,
    /// `None`: split the table's rows across the slides. `Some(n)`: draw `n`
    /// rows per slide with replacement, jittered, to make large cohorts.
    pub nuclei_per_slide: Option<usize>,
    pub seed: u64,
}

/// What was built.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoCohort {
    pub collection_id: CollectionId,
    pub folder_id: FolderId,
    pub items: Vec<ItemId>,
    pub nuclei_annotations: Vec<AnnotationId>,
    pub label_annotations: Vec<AnnotationId>,
    pub classes: Vec<String>,
    pub nuclei: usize,
    pub group_labels: usize,
    pub region_labels: usize,
}

/// Signs in as the admin of a test server, registering it first when the
/// server has no users yet (the first user registered becomes admin).
pub async fn admin_client(
    api_url: &str,
    login: &str,
    password: &Secret,
) -> Result<Client, DsaError> {
    let mut client = ClientBuilder::new(api_url).build()?;
    match client
        .create_user(login, password, &format!("{login}@example.org"), true)
        .await
    {
        Ok(_) => {}
        // Already registered: just log in.
        Err(DsaError::Api {
            status: 400,
            ref message,
            ..
        }) if message.contains("already") => {}
        Err(e) => return Err(e),
    }
    client.login(login, password).await?;
    Ok(client)
}

const SPACING: f64 = 40.0;

fn nucleus_polygon(cx: f64, cy: f64, radius: f64, rng: &mut StdRng) -> Vec<[f64; 3]> {
    (0..10)
        .map(|k| {
            let angle = k as f64 * std::f64::consts::TAU / 10.0;
            let r = radius * rng.gen_range(0.85..1.15);
            [
                (cx + r * angle.cos()).round(),
                (cy + r * angle.sin()).round(),
                0.0,
            ]
        })
        .collect()
}

/// A pink H&E-like background with purple nuclei, as a PNG.
fn render_slide(width: u32, height: u32, nuclei: &[(f64, f64, f64)]) -> Result<Vec<u8>, DemoError> {
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    for y in 0..height {
        for x in 0..width {
            let i = ((y * width + x) * 3) as usize;
            let shade = ((x / 64 + y / 64) % 2) as u8 * 6;
            pixels[i..i + 3].copy_from_slice(&[236 - shade, 196 - shade, 216 - shade]);
        }
    }
    for &(cx, cy, r) in nuclei {
        let (x0, x1) = ((cx - r).max(0.0) as u32, ((cx + r) as u32).min(width - 1));
        let (y0, y1) = ((cy - r).max(0.0) as u32, ((cy + r) as u32).min(height - 1));
        for y in y0..=y1 {
            for x in x0..=x1 {
                if (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2) <= r * r {
                    let i = ((y * width + x) * 3) as usize;
                    pixels[i..i + 3].copy_from_slice(&[92, 58, 140]);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| DemoError::Image(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| DemoError::Image(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| DemoError::Image(e.to_string()))?;
    Ok(out)
}

fn labeled_element(shape: Shape, class: &str) -> Element {
    let mut e = Element::new(shape);
    e.group = Some(class.to_string());
    e.label = Some(Label {
        value: Some(class.to_string()),
        extra: Extra::new(),
    });
    e
}

/// Builds the cohort in a new collection (or a new folder in an existing one).
pub async fn seed_cohort(
    client: &Client,
    table: &Dataset,
    spec: &DemoSpec,
) -> Result<DemoCohort, DemoError> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let classes = table.classes.clone();
    let rows: Vec<Row> = (0..table.ids.len())
        .map(|i| Row {
            id: table.ids[i].clone(),
            features: table.features.row(i).to_vec(),
            class: classes[table.labels[i]].clone(),
        })
        .collect();
    let slides = spec.slides.max(1);
    // Which rows go to which slide.
    let mut assignment: Vec<Vec<Row>> = vec![Vec::new(); slides];
    match spec.nuclei_per_slide {
        None => {
            let mut rows = rows;
            rows.shuffle(&mut rng);
            for (i, row) in rows.into_iter().enumerate() {
                assignment[i % slides].push(row);
            }
        }
        Some(n) => {
            // Jitter resampled rows by up to 5% of each feature's spread.
            let sd = table.features.std_axis(ndarray::Axis(0), 0.0);
            for (s, list) in assignment.iter_mut().enumerate() {
                for k in 0..n {
                    let base = &rows[rng.gen_range(0..rows.len())];
                    let features = base
                        .features
                        .iter()
                        .zip(&sd)
                        .map(|(v, sd)| (v + rng.gen_range(-0.05..0.05) * sd).max(0.0))
                        .collect();
                    list.push(Row {
                        id: format!("{}-s{s}-{k}", base.id),
                        features,
                        class: base.class.clone(),
                    });
                }
            }
        }
    }

    let collection = match client.create_collection(&spec.collection, true).await {
        Ok(c) => c,
        Err(DsaError::Api {
            status: 400,
            ref message,
            ..
        }) if message.contains("already") => {
            // Reuse it and put this cohort in a fresh folder.
            let mut c = None;
            for listed in client
                .get_all::<crate::dsa::Collection>("/collection", &[])
                .await?
            {
                if listed.name == spec.collection {
                    c = Some(listed);
                }
            }
            c.ok_or_else(|| DsaError::NotFound {
                request: "GET /collection".into(),
                message: spec.collection.clone(),
            })?
        }
        Err(e) => return Err(e.into()),
    };
    // Cohorts seeded in the same millisecond (parallel tests) need distinct names.
    static SEEDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEEDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut folder_name = format!("cohort {}", chrono::Utc::now().format("%Y%m%d-%H%M%S%.3f"));
    if n > 0 {
        folder_name.push_str(&format!(" ({})", n + 1));
    }
    let folder = client
        .create_folder_in_collection(&collection.id, &folder_name)
        .await?;
    let mut cohort = DemoCohort {
        collection_id: collection.id.clone(),
        folder_id: folder.id.clone(),
        items: Vec::new(),
        nuclei_annotations: Vec::new(),
        label_annotations: Vec::new(),
        classes: classes.clone(),
        nuclei: 0,
        group_labels: 0,
        region_labels: 0,
    };

    for (s, mut rows) in assignment.into_iter().enumerate() {
        // Same-class nuclei next to each other, so a rectangle can label a run of them.
        rows.sort_by(|a, b| a.class.cmp(&b.class).then(a.id.cmp(&b.id)));
        let cols = (rows.len() as f64).sqrt().ceil().max(1.0) as usize;
        let position = |k: usize| {
            (
                SPACING * (1 + k % cols) as f64,
                SPACING * (1 + k / cols) as f64,
            )
        };
        let width = (SPACING * (cols + 1) as f64) as u32;
        let height = (SPACING * (rows.len().div_ceil(cols) + 1) as f64) as u32;

        let mut elements = Vec::with_capacity(rows.len());
        let mut discs = Vec::with_capacity(rows.len());
        for (k, row) in rows.iter().enumerate() {
            let (cx, cy) = position(k);
            let radius = (4.0 + row.features[0] * 0.5).min(SPACING * 0.45);
            discs.push((cx, cy, radius));
            let mut user = Map::new();
            user.insert("sampleId".into(), json!(row.id));
            for (name, v) in table.feature_names.iter().zip(&row.features) {
                user.insert(format!("Feature.{name}"), json!(v));
            }
            let mut e = Element::new(Shape::Polyline {
                points: nucleus_polygon(cx, cy, radius, &mut rng),
                closed: Some(true),
                extra: Extra::new(),
            });
            e.user = Some(user);
            e.line_color = Some("#3c1e78".into());
            elements.push(e);
        }
        // Group labels: the first two nuclei of each class on the slide.
        for class in &classes {
            for k in rows
                .iter()
                .enumerate()
                .filter(|(_, r)| &r.class == class)
                .map(|(k, _)| k)
                .take(2)
            {
                elements[k].group = Some(class.clone());
                cohort.group_labels += 1;
            }
        }
        // Region labels: for each class, a rectangle over three neighbours of
        // that class in one grid row (past the group-labeled ones).
        let mut regions = Vec::new();
        let mut region_of_first_class = None;
        for class in &classes {
            let members: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| &r.class == class)
                .map(|(k, _)| k)
                .skip(2)
                .collect();
            if let Some(start) = members
                .windows(3)
                .find(|w| w[2] == w[0] + 2 && w[0] / cols == w[2] / cols)
                .map(|w| w[0])
            {
                let (x0, y) = position(start);
                let (x1, _) = position(start + 2);
                let shape = Shape::Rectangle {
                    center: [(x0 + x1) / 2.0, y, 0.0],
                    width: x1 - x0 + SPACING * 0.8,
                    height: SPACING * 0.8,
                    rotation: None,
                    extra: Extra::new(),
                };
                regions.push(labeled_element(shape, class));
                cohort.region_labels += 3;
                region_of_first_class.get_or_insert((start, class.clone()));
            }
        }
        // The planted conflict: a nucleus inside a region gets the other class as its group.
        if s == 0 {
            if let Some((start, class)) = &region_of_first_class {
                if let Some(other) = classes.iter().find(|c| *c != class) {
                    elements[start + 1].group = Some(other.clone());
                }
            }
        }

        let name = format!("demo-slide-{:02}.png", s + 1);
        let item = client.create_item(&folder.id, &name).await?;
        let mut meta = Map::new();
        meta.insert(
            "site".into(),
            Value::String(["site-A", "site-B", "site-C"][s % 3].into()),
        );
        client.set_item_metadata(&item.id, &meta).await?;
        let png = render_slide(width, height, &discs)?;
        let file = client
            .upload_to_item(&item.id, &name, "image/png", &png)
            .await?;
        client.make_large_image(&item.id, &file.id).await?;
        cohort.nuclei += elements.len();
        let nuclei = AnnotationBody {
            name: "nuclei".into(),
            description: Some(
                "Segmented nuclei with HistomicsTK-style features (demo data from WDBC)".into(),
            ),
            display: None,
            attributes: Map::new(),
            elements,
        };
        cohort
            .nuclei_annotations
            .push(client.create_annotation(&item.id, &nuclei).await?.id);
        if !regions.is_empty() {
            let labels = AnnotationBody {
                name: "expert labels".into(),
                description: Some("Regions whose nuclei share a class".into()),
                display: None,
                attributes: Map::new(),
                elements: regions,
            };
            cohort
                .label_annotations
                .push(client.create_annotation(&item.id, &labels).await?.id);
        }
        cohort.items.push(item.id);
    }
    Ok(cohort)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slide_images_are_pngs() {
        let png = render_slide(80, 60, &[(40.0, 30.0, 10.0)]).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
