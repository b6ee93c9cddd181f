//! Typed large_image annotation elements.
//!
//! Every element type of the large_image annotation schema has its own variant.
//! Fields this crate does not use are kept in `extra` maps, so an element read
//! and written back is not stripped of anything the server or another tool put
//! there.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::ElementId;

/// `[x, y, z]` in base-image pixels.
pub type Coord = [f64; 3];

/// Free-form JSON fields that are preserved but not interpreted.
pub type Extra = Map<String, Value>;

/// One annotation element: the fields every type shares, then its shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// Assigned by the server; left out when creating a copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ElementId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// HistomicsUI's "group": the class an expert gave the element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Free object; HistomicsTK puts per-nucleus features here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Map<String, Value>>,
    #[serde(default, rename = "lineColor", skip_serializing_if = "Option::is_none")]
    pub line_color: Option<String>,
    #[serde(default, rename = "lineWidth", skip_serializing_if = "Option::is_none")]
    pub line_width: Option<f64>,
    #[serde(default, rename = "fillColor", skip_serializing_if = "Option::is_none")]
    pub fill_color: Option<String>,
    #[serde(flatten)]
    pub shape: Shape,
}

/// The text shown with an element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Label {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The geometry (or raster) of an element, tagged by the schema's `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Shape {
    Point {
        center: Coord,
        #[serde(flatten)]
        extra: Extra,
    },
    /// A polygon is a polyline with `closed: true`; the schema has no `polygon`.
    Polyline {
        points: Vec<Coord>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        closed: Option<bool>,
        #[serde(flatten)]
        extra: Extra,
    },
    Rectangle {
        center: Coord,
        width: f64,
        height: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rotation: Option<f64>,
        #[serde(flatten)]
        extra: Extra,
    },
    Ellipse {
        center: Coord,
        width: f64,
        height: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rotation: Option<f64>,
        #[serde(flatten)]
        extra: Extra,
    },
    Circle {
        center: Coord,
        radius: f64,
        #[serde(flatten)]
        extra: Extra,
    },
    Arrow {
        points: Vec<Coord>,
        #[serde(flatten)]
        extra: Extra,
    },
    Rectanglegrid {
        center: Coord,
        width: f64,
        height: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rotation: Option<f64>,
        #[serde(rename = "widthSubdivisions")]
        width_subdivisions: u64,
        #[serde(rename = "heightSubdivisions")]
        height_subdivisions: u64,
        #[serde(flatten)]
        extra: Extra,
    },
    /// Points are `[x, y, z, value]`.
    Heatmap {
        points: Vec<[f64; 4]>,
        #[serde(flatten)]
        extra: Extra,
    },
    Griddata {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<Coord>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dx: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dy: Option<f64>,
        #[serde(rename = "gridWidth")]
        grid_width: u64,
        values: Vec<f64>,
        #[serde(flatten)]
        extra: Extra,
    },
    Image {
        #[serde(rename = "girderId")]
        girder_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transform: Option<Transform>,
        #[serde(flatten)]
        extra: Extra,
    },
    Pixelmap {
        #[serde(rename = "girderId")]
        girder_id: String,
        values: Vec<Value>,
        boundaries: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transform: Option<Transform>,
        #[serde(flatten)]
        extra: Extra,
    },
}

/// Placement of an `image` or `pixelmap` overlay on the base image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Transform {
    #[serde(default, rename = "xoffset", skip_serializing_if = "Option::is_none")]
    pub x_offset: Option<f64>,
    #[serde(default, rename = "yoffset", skip_serializing_if = "Option::is_none")]
    pub y_offset: Option<f64>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Shape {
    /// The schema's name for this element type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Shape::Point { .. } => "point",
            Shape::Polyline { .. } => "polyline",
            Shape::Rectangle { .. } => "rectangle",
            Shape::Ellipse { .. } => "ellipse",
            Shape::Circle { .. } => "circle",
            Shape::Arrow { .. } => "arrow",
            Shape::Rectanglegrid { .. } => "rectanglegrid",
            Shape::Heatmap { .. } => "heatmap",
            Shape::Griddata { .. } => "griddata",
            Shape::Image { .. } => "image",
            Shape::Pixelmap { .. } => "pixelmap",
        }
    }
}

impl Element {
    /// An element with only a shape: the starting point for elements we write.
    pub fn new(shape: Shape) -> Self {
        Element {
            id: None,
            label: None,
            group: None,
            user: None,
            line_color: None,
            line_width: None,
            fill_color: None,
            shape,
        }
    }

    /// The label text, if any.
    pub fn label_value(&self) -> Option<&str> {
        self.label.as_ref().and_then(|l| l.value.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(value: Value) -> Element {
        let element: Element = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(&element).unwrap(),
            value,
            "round trip changed the element"
        );
        element
    }

    #[test]
    fn every_schema_type_deserializes_and_round_trips() {
        let samples = [
            json!({"type": "point", "center": [1.0, 2.0, 0.0]}),
            json!({"type": "polyline", "closed": true, "points": [[0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [4.0, 4.0, 0.0]],
                   "holes": [[[1.0, 1.0, 0.0], [2.0, 1.0, 0.0], [2.0, 2.0, 0.0]]]}),
            json!({"type": "rectangle", "center": [5.0, 5.0, 0.0], "width": 4.0, "height": 2.0, "rotation": 0.5,
                   "normal": [0.0, 0.0, 1.0]}),
            json!({"type": "ellipse", "center": [5.0, 5.0, 0.0], "width": 4.0, "height": 2.0}),
            json!({"type": "circle", "center": [5.0, 5.0, 0.0], "radius": 3.0}),
            json!({"type": "arrow", "points": [[0.0, 0.0, 0.0], [3.0, 3.0, 0.0]], "fillColor": "#ff0000"}),
            json!({"type": "rectanglegrid", "center": [5.0, 5.0, 0.0], "width": 4.0, "height": 2.0,
                   "widthSubdivisions": 2, "heightSubdivisions": 3}),
            json!({"type": "heatmap", "points": [[1.0, 2.0, 0.0, 0.5]], "radius": 25.0, "colorRange": ["#000", "#fff"]}),
            json!({"type": "griddata", "origin": [0.0, 0.0, 0.0], "dx": 2.0, "dy": 2.0, "gridWidth": 2,
                   "values": [0.1, 0.2, 0.3, 0.4], "interpretation": "heatmap"}),
            json!({"type": "image", "girderId": "6b119a70e5fc2c70876f61bc", "transform": {"xoffset": 10.0, "yoffset": 20.0}}),
            json!({"type": "pixelmap", "girderId": "6b119a70e5fc2c70876f61bc", "values": [0, 1, 1], "boundaries": false,
                   "categories": [{"label": "a", "fillColor": "#f00"}]}),
        ];
        let names: Vec<&str> = samples
            .iter()
            .map(|v| roundtrip(v.clone()).shape.type_name())
            .collect();
        assert_eq!(
            names,
            [
                "point",
                "polyline",
                "rectangle",
                "ellipse",
                "circle",
                "arrow",
                "rectanglegrid",
                "heatmap",
                "griddata",
                "image",
                "pixelmap"
            ]
        );
    }

    #[test]
    fn common_fields_are_typed_and_unknown_fields_kept() {
        let element = roundtrip(json!({
            "id": "6b119a70e5fc2c70876f61c5",
            "type": "circle", "center": [1.0, 1.0, 0.0], "radius": 2.0,
            "group": "tumor",
            "label": {"value": "tumor", "fontSize": 12.0},
            "user": {"Feature.Size.Area": 3.5},
            "lineColor": "#00ff00", "lineWidth": 2.0,
            "someFutureField": {"kept": true}
        }));
        assert_eq!(element.group.as_deref(), Some("tumor"));
        assert_eq!(element.label_value(), Some("tumor"));
        assert_eq!(
            element.id.as_ref().map(|i| i.as_str()),
            Some("6b119a70e5fc2c70876f61c5")
        );
        match element.shape {
            Shape::Circle { extra, .. } => {
                assert_eq!(extra["someFutureField"], json!({"kept": true}))
            }
            other => panic!("expected a circle, got {other:?}"),
        }
    }

    #[test]
    fn an_unknown_type_is_an_error_naming_it() {
        let err = serde_json::from_value::<Element>(json!({"type": "polygon", "points": []}))
            .unwrap_err();
        assert!(err.to_string().contains("polygon"), "{err}");
    }
}
