//! From annotations to samples: which elements are samples, their feature
//! vectors, and the labels experts gave them.
//!
//! A sample is one element of an annotation whose name matches the sample
//! pattern. It is labeled by its own `group` / `label.value` when that names a
//! class, and by every region of a label annotation (closed polyline,
//! rectangle, ellipse, circle) whose class is named the same way and that
//! contains the sample's centroid. Different classes on one sample are kept as
//! a conflict.

mod features;

use std::collections::{BTreeMap, BTreeSet};

use ndarray::Array2;
use regex::Regex;

use crate::dsa::{Annotation, AnnotationId, Element, ElementId, Item, Shape, UserId};
use crate::geometry;
pub use features::{Found, choose_columns, flatten};

/// Where a sample's label came from.
#[derive(Debug, Clone, PartialEq)]
pub enum VoteSource {
    /// The sample element's own `group` or `label.value`; the annotation's creator gave it.
    Element { creator: Option<UserId> },
    /// A region of a label annotation.
    Region {
        annotation: AnnotationId,
        element_index: usize,
        creator: Option<UserId>,
    },
}

impl VoteSource {
    /// Who gave the label, as far as the server records it.
    pub fn annotator(&self) -> Option<&UserId> {
        match self {
            VoteSource::Element { creator } | VoteSource::Region { creator, .. } => {
                creator.as_ref()
            }
        }
    }
}

/// One class given to a sample by one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    pub class: usize,
    pub source: VoteSource,
}

/// A sample's label state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelState {
    Unlabeled,
    Labeled(usize),
    /// Sources disagree; kept for review, used neither for training nor queued.
    Conflict,
}

/// One element that is a sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Index into [`Pool::slides`].
    pub slide: usize,
    pub annotation: AnnotationId,
    pub element_index: usize,
    pub element_id: Option<ElementId>,
    pub shape: Shape,
    pub centroid: Option<(f64, f64)>,
    pub votes: Vec<Vote>,
    /// Row in [`Pool::features`], or `None` when its features are unusable.
    pub row: Option<usize>,
}

impl Sample {
    pub fn label(&self) -> LabelState {
        match self.votes.split_first() {
            None => LabelState::Unlabeled,
            Some((first, rest)) if rest.iter().all(|v| v.class == first.class) => {
                LabelState::Labeled(first.class)
            }
            Some(_) => LabelState::Conflict,
        }
    }

    /// A human-readable reference: `slide-name annotation#index`.
    pub fn describe(&self, slides: &[SlideAnnotations]) -> String {
        let name = slides.get(self.slide).map_or("?", |s| s.item.name.as_str());
        match &self.element_id {
            Some(id) => format!("{name} element {id}"),
            None => format!(
                "{name} annotation {} element #{}",
                self.annotation, self.element_index
            ),
        }
    }
}

/// One slide with the annotations fetched for it.
#[derive(Debug, Clone)]
pub struct SlideAnnotations {
    pub item: Item,
    /// Folder names from the scope folder (first) down to the item's folder;
    /// empty for an item given by id only.
    pub path: Vec<String>,
    /// Annotations whose name matches the sample pattern, with elements.
    pub samples: Vec<Annotation>,
    /// Annotations whose name matches the label pattern, with elements.
    pub labels: Vec<Annotation>,
    /// Names of all the slide's annotations, for messages when nothing matches.
    pub names: Vec<String>,
}

/// What to read from the annotations.
#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub classes: Vec<String>,
    pub feature_prefix: Option<String>,
}

/// What extraction noticed, for the run summary.
#[derive(Debug, Clone, Default)]
pub struct PoolReport {
    /// Samples whose features were missing or not finite, and up to five examples.
    pub unusable: usize,
    pub unusable_examples: Vec<String>,
    /// Feature names found on too few samples to use, with their counts.
    pub dropped_features: Vec<(String, usize)>,
    /// Samples labeled by their own group/label and by label regions.
    pub labeled_by_element: usize,
    pub labeled_by_region: usize,
    /// Label regions whose class is not one of the classes (ignored), by name.
    pub unknown_region_classes: BTreeMap<String, usize>,
}

/// All samples of a scope, ready for learning.
#[derive(Debug, Clone)]
pub struct Pool {
    pub slides: Vec<SlideAnnotations>,
    pub classes: Vec<String>,
    pub feature_names: Vec<String>,
    pub samples: Vec<Sample>,
    /// One row per sample with usable features (see [`Sample::row`]).
    pub features: Array2<f64>,
    pub report: PoolReport,
}

impl Pool {
    /// The labeled samples with usable features as a table (conflicts and
    /// unlabeled samples left out), e.g. to simulate active learning on them.
    pub fn labeled_table(&self) -> crate::dataset::Dataset {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut ids = Vec::new();
        for s in &self.samples {
            if let (LabelState::Labeled(c), Some(row)) = (s.label(), s.row) {
                rows.push(row);
                labels.push(c);
                ids.push(s.describe(&self.slides));
            }
        }
        crate::dataset::Dataset {
            ids,
            feature_names: self.feature_names.clone(),
            features: self.features.select(ndarray::Axis(0), &rows),
            labels,
            classes: self.classes.clone(),
            sites: None,
        }
    }
}

impl Pool {
    /// The site name of each row of [`Pool::labeled_table`], from each slide's site.
    pub fn labeled_sites(&self, names: &[String], of_slide: &[usize]) -> Vec<String> {
        self.samples
            .iter()
            .filter(|s| matches!((s.label(), s.row), (LabelState::Labeled(_), Some(_))))
            .map(|s| names[of_slide[s.slide]].clone())
            .collect()
    }
}

/// Why samples could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(
        "no sample elements: no annotation on the {slides} slide(s) in scope has a name matching '{pattern}' \
         (annotation names seen: {seen}). Set --samples to a pattern that matches your nuclei/superpixel annotations"
    )]
    NoSampleAnnotations {
        pattern: String,
        slides: usize,
        seen: String,
    },
    #[error(
        "the {samples} sample elements carry no numeric features in their `user` object{prefix}. \
         Features are numbers such as user[\"Feature.Size.Area\"] (HistomicsTK's ComputeNucleiFeatures writes them)"
    )]
    NoFeatures { samples: usize, prefix: String },
    #[error(
        "none of the {samples} samples has a complete feature vector ({examples}); check the features in their `user` objects"
    )]
    NoUsableSamples { samples: usize, examples: String },
}

fn class_of(classes: &[String], name: Option<&str>) -> Option<usize> {
    let name = name?.trim();
    classes.iter().position(|c| c == name)
}

/// Classes an element names through its group and its label text.
fn element_classes(classes: &[String], element: &Element) -> Vec<usize> {
    let mut found: Vec<usize> = [
        class_of(classes, element.group.as_deref()),
        class_of(classes, element.label_value()),
    ]
    .into_iter()
    .flatten()
    .collect();
    found.dedup();
    found
}

/// Builds the pool: samples, labels and the feature matrix.
pub fn build_pool(
    slides: Vec<SlideAnnotations>,
    spec: &SampleSpec,
    sample_pattern: &Regex,
) -> Result<Pool, SampleError> {
    let mut samples = Vec::new();
    let mut found: Vec<BTreeMap<String, Found>> = Vec::new();
    let mut report = PoolReport::default();
    for (slide_index, slide) in slides.iter().enumerate() {
        for annotation in &slide.samples {
            for (index, element) in annotation.annotation.elements.iter().enumerate() {
                let votes: Vec<Vote> = element_classes(&spec.classes, element)
                    .into_iter()
                    .map(|class| Vote {
                        class,
                        source: VoteSource::Element {
                            creator: annotation.creator_id.clone(),
                        },
                    })
                    .collect();
                if !votes.is_empty() {
                    report.labeled_by_element += 1;
                }
                let empty = serde_json::Map::new();
                found.push(flatten(
                    element.user.as_ref().unwrap_or(&empty),
                    spec.feature_prefix.as_deref(),
                ));
                samples.push(Sample {
                    slide: slide_index,
                    annotation: annotation.id.clone(),
                    element_index: index,
                    element_id: element.id.clone(),
                    centroid: geometry::centroid(&element.shape),
                    shape: element.shape.clone(),
                    votes,
                    row: None,
                });
            }
        }
    }
    if samples.is_empty() {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for s in &slides {
            seen.extend(s.names.iter().cloned());
        }
        return Err(SampleError::NoSampleAnnotations {
            pattern: sample_pattern.as_str().to_string(),
            slides: slides.len(),
            seen: if seen.is_empty() {
                "none".into()
            } else {
                seen.into_iter().take(10).collect::<Vec<_>>().join(", ")
            },
        });
    }
    apply_region_labels(&slides, &spec.classes, &mut samples, &mut report);

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for f in &found {
        for name in f.keys() {
            *counts.entry(name.clone()).or_default() += 1;
        }
    }
    let (columns, dropped) = choose_columns(&counts, samples.len());
    report.dropped_features = dropped;
    if columns.is_empty() {
        return Err(SampleError::NoFeatures {
            samples: samples.len(),
            prefix: spec
                .feature_prefix
                .as_ref()
                .map(|p| format!(" under the prefix '{p}'"))
                .unwrap_or_default(),
        });
    }
    let mut data = Vec::with_capacity(samples.len() * columns.len());
    let mut rows = 0;
    for (sample, f) in samples.iter_mut().zip(&found) {
        let values: Option<Vec<f64>> = columns
            .iter()
            .map(|c| match f.get(c) {
                Some(Found::Number(v)) => Some(*v),
                _ => None,
            })
            .collect();
        match values {
            Some(values) => {
                data.extend(values);
                sample.row = Some(rows);
                rows += 1;
            }
            None => {
                report.unusable += 1;
                if report.unusable_examples.len() < 5 {
                    let missing: Vec<&str> = columns
                        .iter()
                        .filter(|c| !matches!(f.get(*c), Some(Found::Number(_))))
                        .map(|c| c.as_str())
                        .take(3)
                        .collect();
                    report.unusable_examples.push(format!(
                        "{} ({})",
                        sample.describe(&slides),
                        missing.join(", ")
                    ));
                }
            }
        }
    }
    if rows == 0 {
        return Err(SampleError::NoUsableSamples {
            samples: samples.len(),
            examples: report.unusable_examples.join("; "),
        });
    }
    let features = Array2::from_shape_vec((rows, columns.len()), data)
        .expect("rows × columns values were pushed");
    Ok(Pool {
        slides,
        classes: spec.classes.clone(),
        feature_names: columns,
        samples,
        features,
        report,
    })
}

/// Adds a vote to every sample whose centroid lies in a label region.
fn apply_region_labels(
    slides: &[SlideAnnotations],
    classes: &[String],
    samples: &mut [Sample],
    report: &mut PoolReport,
) {
    // Per slide, sample indices sorted by centroid x: each region then only
    // tests the samples inside its x-range.
    let mut by_slide: Vec<Vec<(f64, usize)>> = vec![Vec::new(); slides.len()];
    for (i, s) in samples.iter().enumerate() {
        if let Some((x, _)) = s.centroid {
            by_slide[s.slide].push((x, i));
        }
    }
    for list in &mut by_slide {
        list.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut labeled_by_region = BTreeSet::new();
    for (slide_index, slide) in slides.iter().enumerate() {
        for annotation in &slide.labels {
            for (element_index, element) in annotation.annotation.elements.iter().enumerate() {
                if !geometry::is_region(&element.shape) {
                    continue;
                }
                let region_classes = element_classes(classes, element);
                if region_classes.is_empty() {
                    if let Some(name) = element.group.as_deref().or(element.label_value()) {
                        *report
                            .unknown_region_classes
                            .entry(name.to_string())
                            .or_default() += 1;
                    }
                    continue;
                }
                let Some(b) = geometry::bounds(&element.shape) else {
                    continue;
                };
                let list = &by_slide[slide_index];
                let start = list.partition_point(|&(x, _)| x < b.min_x);
                for &(x, i) in &list[start..] {
                    if x > b.max_x {
                        break;
                    }
                    let Some((cx, cy)) = samples[i].centroid else {
                        continue;
                    };
                    if cy < b.min_y || cy > b.max_y || !geometry::contains(&element.shape, cx, cy) {
                        continue;
                    }
                    for &class in &region_classes {
                        samples[i].votes.push(Vote {
                            class,
                            source: VoteSource::Region {
                                annotation: annotation.id.clone(),
                                element_index,
                                creator: annotation.creator_id.clone(),
                            },
                        });
                    }
                    labeled_by_region.insert(i);
                }
            }
        }
    }
    report.labeled_by_region = labeled_by_region.len();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn annotation(id: &str, name: &str, elements: serde_json::Value) -> Annotation {
        serde_json::from_value(json!({
            "_id": id, "itemId": "6b119a70e5fc2c70876f0001", "creatorId": "6b119a70e5fc2c70876f00aa",
            "annotation": {"name": name, "elements": elements}
        }))
        .unwrap()
    }

    fn slide(samples: Vec<Annotation>, labels: Vec<Annotation>) -> SlideAnnotations {
        let item = serde_json::from_value(json!({"_id": "6b119a70e5fc2c70876f0001", "name": "s1", "folderId": "6b119a70e5fc2c70876f0002"})).unwrap();
        SlideAnnotations {
            item,
            path: Vec::new(),
            samples,
            labels,
            names: vec!["regions".into()],
        }
    }

    fn nucleus(x: f64, area: serde_json::Value, group: Option<&str>) -> serde_json::Value {
        let mut e = json!({"type": "polyline", "closed": true,
            "points": [[x, 0.0, 0.0], [x + 2.0, 0.0, 0.0], [x + 2.0, 2.0, 0.0], [x, 2.0, 0.0]],
            "user": {"Feature.Size.Area": area, "Feature.Shape.Round": 0.5}});
        if let Some(g) = group {
            e["group"] = json!(g);
        }
        e
    }

    fn spec() -> SampleSpec {
        SampleSpec {
            classes: vec!["tumor".into(), "stroma".into()],
            feature_prefix: None,
        }
    }

    #[test]
    fn labels_come_from_groups_and_regions_and_conflicts_are_kept() {
        let nuclei = annotation(
            "6b119a70e5fc2c70876f0010",
            "nuclei",
            json!([
                nucleus(0.0, json!(1.0), Some("tumor")),
                nucleus(10.0, json!(2.0), None),
                nucleus(20.0, json!(3.0), Some("tumor")),
                nucleus(40.0, json!(4.0), None)
            ]),
        );
        let regions = annotation(
            "6b119a70e5fc2c70876f0011",
            "expert labels",
            json!([
                {"type": "rectangle", "center": [15.0, 1.0, 0.0], "width": 20.0, "height": 10.0, "group": "stroma"},
                {"type": "rectangle", "center": [41.0, 1.0, 0.0], "width": 4.0, "height": 4.0, "group": "necrosis"}
            ]),
        );
        let pool = build_pool(
            vec![slide(vec![nuclei], vec![regions])],
            &spec(),
            &Regex::new("nuclei").unwrap(),
        )
        .unwrap();
        let states: Vec<LabelState> = pool.samples.iter().map(Sample::label).collect();
        assert_eq!(
            states,
            [
                LabelState::Labeled(0),
                LabelState::Labeled(1),
                LabelState::Conflict,
                LabelState::Unlabeled
            ]
        );
        assert_eq!(pool.report.labeled_by_element, 2);
        assert_eq!(pool.report.labeled_by_region, 2);
        assert_eq!(pool.report.unknown_region_classes.get("necrosis"), Some(&1));
        assert_eq!(
            pool.feature_names,
            ["Feature.Shape.Round", "Feature.Size.Area"]
        );
        assert_eq!(pool.features.column(1).to_vec(), [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn incomplete_features_are_excluded_and_reported() {
        let nuclei = annotation(
            "6b119a70e5fc2c70876f0010",
            "nuclei",
            json!([nucleus(0.0, json!(1.0), None), nucleus(10.0, json!(null), None), {"type": "point", "center": [5.0, 5.0, 0.0], "user": {"Feature.Shape.Round": 1.0}}]),
        );
        let pool = build_pool(
            vec![slide(vec![nuclei], vec![])],
            &spec(),
            &Regex::new("nuclei").unwrap(),
        )
        .unwrap();
        assert_eq!(pool.features.nrows(), 1);
        assert_eq!(pool.report.unusable, 2);
        assert!(
            pool.report.unusable_examples[1].contains("Feature.Size.Area"),
            "{:?}",
            pool.report.unusable_examples
        );
        assert_eq!(pool.samples[1].row, None);
    }

    #[test]
    fn no_samples_and_no_features_are_errors_that_say_what_to_change() {
        let labels = annotation("6b119a70e5fc2c70876f0011", "regions", json!([]));
        let err = build_pool(
            vec![slide(vec![], vec![labels])],
            &spec(),
            &Regex::new("nuclei").unwrap(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("--samples"), "{err}");
        let bare = annotation(
            "6b119a70e5fc2c70876f0010",
            "nuclei",
            json!([{"type": "point", "center": [1.0, 1.0, 0.0]}]),
        );
        let err = build_pool(
            vec![slide(vec![bare], vec![])],
            &spec(),
            &Regex::new("nuclei").unwrap(),
        )
        .unwrap_err();
        assert!(
            matches!(err, SampleError::NoFeatures { samples: 1, .. }),
            "{err}"
        );
    }
}
