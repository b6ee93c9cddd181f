//! The review-queue layer: one element per queued sample, on the sample's slide.

use serde_json::{Map, Value, json};

use crate::dsa::{Element, Extra, Label, Shape};
use crate::geometry;

/// The `attributes.histoactive.kind` of a review-queue layer.
pub const QUEUE_KIND: &str = "review-queue";
/// Version of the layout of `attributes.histoactive` and of element `user` data.
pub const SCHEMA_VERSION: u64 = 1;

/// One queued sample, ready to be drawn.
#[derive(Debug, Clone)]
pub struct QueuedElement {
    /// 1 is the most informative sample of the whole scope.
    pub rank: usize,
    pub score: f64,
    pub strategy: String,
    /// `model` (ranked by the strategy's score) or `cold-start` (no model yet:
    /// a typical sample of one region of the pool).
    pub reason: String,
    /// `(class name, probability)`, most probable first; empty in a cold start.
    pub probabilities: Vec<(String, f64)>,
    pub shape: Shape,
    pub source_annotation: String,
    pub source_element_id: Option<String>,
    pub source_element_index: usize,
    /// The sample's site, and why its site got it into the batch.
    pub site: Option<String>,
    pub site_reason: Option<String>,
}

/// Red for the first ranks fading to yellow for the last.
pub fn priority_colour(rank: usize, total: usize) -> String {
    let t = if total <= 1 {
        0.0
    } else {
        (rank - 1) as f64 / (total - 1) as f64
    };
    let green = (t * 220.0).round() as u8;
    format!("#ff{green:02x}00")
}

/// `#3 tumor? 0.41 / lymphocyte 0.38`
pub fn label_text(rank: usize, probabilities: &[(String, f64)]) -> String {
    match probabilities {
        [] => format!("#{rank} (first labels)"),
        [(a, pa)] => format!("#{rank} {a}? {pa:.2}"),
        [(a, pa), (b, pb), ..] => format!("#{rank} {a}? {pa:.2} / {b} {pb:.2}"),
    }
}

/// The queue element's shape: the sample's own geometry for vector shapes;
/// rasters and grids are marked by their bounding box instead of copying them.
pub fn marker_shape(shape: &Shape) -> Shape {
    match shape {
        Shape::Point { .. }
        | Shape::Polyline { .. }
        | Shape::Rectangle { .. }
        | Shape::Ellipse { .. }
        | Shape::Circle { .. }
        | Shape::Arrow { .. } => strip_extra(shape.clone()),
        other => match geometry::bounds(other) {
            Some(b) if b.max_x > b.min_x || b.max_y > b.min_y => Shape::Rectangle {
                center: [(b.min_x + b.max_x) / 2.0, (b.min_y + b.max_y) / 2.0, 0.0],
                width: b.max_x - b.min_x,
                height: b.max_y - b.min_y,
                rotation: None,
                extra: Extra::new(),
            },
            Some(b) => Shape::Point {
                center: [b.min_x, b.min_y, 0.0],
                extra: Extra::new(),
            },
            None => Shape::Point {
                center: [0.0, 0.0, 0.0],
                extra: Extra::new(),
            },
        },
    }
}

/// Keeps geometry-relevant extra fields (`holes`, `normal`) and nothing else.
fn strip_extra(mut shape: Shape) -> Shape {
    let keep = |extra: &mut Extra| extra.retain(|k, _| k == "holes" || k == "normal");
    match &mut shape {
        Shape::Point { extra, .. }
        | Shape::Polyline { extra, .. }
        | Shape::Rectangle { extra, .. }
        | Shape::Ellipse { extra, .. }
        | Shape::Circle { extra, .. }
        | Shape::Arrow { extra, .. } => keep(extra),
        _ => {}
    }
    shape
}

/// The annotation element for one queued sample.
pub fn queue_element(q: &QueuedElement, total: usize) -> Element {
    let colour = priority_colour(q.rank, total);
    let mut element = Element::new(marker_shape(&q.shape));
    element.label = Some(Label {
        value: Some(label_text(q.rank, &q.probabilities)),
        extra: Extra::new(),
    });
    element.line_color = Some(colour);
    element.line_width = Some(3.0);
    let probabilities: Map<String, Value> = q
        .probabilities
        .iter()
        .map(|(c, p)| (c.clone(), json!(round4(*p))))
        .collect();
    let mut user = Map::new();
    user.insert("rank".into(), json!(q.rank));
    user.insert("score".into(), json!(round4(q.score)));
    user.insert("strategy".into(), json!(q.strategy));
    user.insert("reason".into(), json!(q.reason));
    if let Some(site) = &q.site {
        user.insert("site".into(), json!(site));
    }
    if let Some(why) = &q.site_reason {
        user.insert("siteReason".into(), json!(why));
    }
    user.insert(
        "predicted".into(),
        json!(q.probabilities.first().map(|(c, _)| c.clone())),
    );
    user.insert("probabilities".into(), Value::Object(probabilities));
    user.insert("sourceAnnotationId".into(), json!(q.source_annotation));
    user.insert("sourceElementId".into(), json!(q.source_element_id));
    user.insert("sourceElementIndex".into(), json!(q.source_element_index));
    element.user = Some(user);
    element
}

fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(rank: usize, shape: Shape) -> QueuedElement {
        QueuedElement {
            rank,
            score: 0.912_345,
            strategy: "margin".into(),
            reason: "model".into(),
            probabilities: vec![
                ("tumor".into(), 0.41),
                ("lymphocyte".into(), 0.38),
                ("stroma".into(), 0.21),
            ],
            shape,
            source_annotation: "6b119a70e5fc2c70876f0010".into(),
            source_element_id: Some("6b119a70e5fc2c70876f0011".into()),
            source_element_index: 4,
            site: Some("site-A".into()),
            site_reason: None,
        }
    }

    #[test]
    fn label_and_colour_encode_rank_and_prediction() {
        assert_eq!(
            label_text(
                3,
                &queued(
                    3,
                    Shape::Point {
                        center: [0.0; 3],
                        extra: Extra::new()
                    }
                )
                .probabilities
            ),
            "#3 tumor? 0.41 / lymphocyte 0.38"
        );
        assert_eq!(priority_colour(1, 10), "#ff0000");
        assert_eq!(priority_colour(10, 10), "#ffdc00");
        assert_eq!(priority_colour(1, 1), "#ff0000");
    }

    #[test]
    fn element_copies_geometry_without_id_and_references_the_source() {
        let mut extra = Extra::new();
        extra.insert("holes".into(), json!([]));
        extra.insert("someTool".into(), json!(1));
        let shape = Shape::Polyline {
            points: vec![[0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [4.0, 4.0, 0.0]],
            closed: Some(true),
            extra,
        };
        let e = queue_element(&queued(1, shape), 5);
        let v = serde_json::to_value(&e).unwrap();
        assert!(v.get("id").is_none());
        assert_eq!(v["type"], "polyline");
        assert_eq!(v["holes"], json!([]));
        assert!(v.get("someTool").is_none());
        assert_eq!(v["user"]["sourceElementIndex"], 4);
        assert_eq!(v["user"]["score"], 0.9123);
        assert_eq!(v["user"]["predicted"], "tumor");
    }

    #[test]
    fn rasters_are_marked_by_their_box() {
        let grid = Shape::Griddata {
            origin: Some([10.0, 10.0, 0.0]),
            dx: Some(2.0),
            dy: Some(2.0),
            grid_width: 3,
            values: vec![0.0; 6],
            extra: Extra::new(),
        };
        match marker_shape(&grid) {
            Shape::Rectangle {
                center,
                width,
                height,
                ..
            } => assert_eq!((center, width, height), ([12.0, 11.0, 0.0], 4.0, 2.0)),
            other => panic!("expected a rectangle, got {other:?}"),
        }
    }
}
