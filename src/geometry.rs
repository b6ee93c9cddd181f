//! Plane geometry on annotation shapes: where a sample is, and whether a label
//! region contains it.

use crate::dsa::Shape;

/// An axis-aligned box in base-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub min_x: f64,
    pub min_y: f64,
    pub max_x: f64,
    pub max_y: f64,
}

impl Bounds {
    fn of_points<'a>(points: impl IntoIterator<Item = (f64, f64)> + 'a) -> Option<Bounds> {
        let mut b: Option<Bounds> = None;
        for (x, y) in points {
            b = Some(match b {
                None => Bounds {
                    min_x: x,
                    min_y: y,
                    max_x: x,
                    max_y: y,
                },
                Some(b) => Bounds {
                    min_x: b.min_x.min(x),
                    min_y: b.min_y.min(y),
                    max_x: b.max_x.max(x),
                    max_y: b.max_y.max(y),
                },
            });
        }
        b
    }

    pub fn center(&self) -> (f64, f64) {
        (
            (self.min_x + self.max_x) / 2.0,
            (self.min_y + self.max_y) / 2.0,
        )
    }
}

fn rotated_corners(cx: f64, cy: f64, w: f64, h: f64, rotation: f64) -> [(f64, f64); 4] {
    let (s, c) = rotation.sin_cos();
    [(-w, -h), (w, -h), (w, h), (-w, h)]
        .map(|(dx, dy)| (cx + (dx * c - dy * s) / 2.0, cy + (dx * s + dy * c) / 2.0))
}

/// The box a shape covers. Rasters (`image`, `pixelmap`) have no extent in the
/// annotation itself (it lives in the referenced file), so they get a
/// zero-size box at their offset.
pub fn bounds(shape: &Shape) -> Option<Bounds> {
    match shape {
        Shape::Point { center, .. } => Bounds::of_points([(center[0], center[1])]),
        Shape::Polyline { points, .. } | Shape::Arrow { points, .. } => {
            Bounds::of_points(points.iter().map(|p| (p[0], p[1])))
        }
        Shape::Heatmap { points, .. } => Bounds::of_points(points.iter().map(|p| (p[0], p[1]))),
        Shape::Rectangle {
            center,
            width,
            height,
            rotation,
            ..
        }
        | Shape::Ellipse {
            center,
            width,
            height,
            rotation,
            ..
        }
        | Shape::Rectanglegrid {
            center,
            width,
            height,
            rotation,
            ..
        } => Bounds::of_points(rotated_corners(
            center[0],
            center[1],
            *width,
            *height,
            rotation.unwrap_or(0.0),
        )),
        Shape::Circle { center, radius, .. } => Some(Bounds {
            min_x: center[0] - radius,
            min_y: center[1] - radius,
            max_x: center[0] + radius,
            max_y: center[1] + radius,
        }),
        Shape::Griddata {
            origin,
            dx,
            dy,
            grid_width,
            values,
            ..
        } => {
            let o = origin.unwrap_or([0.0; 3]);
            let cols = (*grid_width).max(1) as f64;
            let rows = (values.len() as f64 / cols).ceil().max(1.0);
            let (dx, dy) = (dx.unwrap_or(1.0), dy.unwrap_or(1.0));
            Bounds::of_points([
                (o[0], o[1]),
                (o[0] + dx * (cols - 1.0), o[1] + dy * (rows - 1.0)),
            ])
        }
        Shape::Image { transform, .. } | Shape::Pixelmap { transform, .. } => {
            let t = transform.clone().unwrap_or_default();
            let (x, y) = (t.x_offset.unwrap_or(0.0), t.y_offset.unwrap_or(0.0));
            Bounds::of_points([(x, y)])
        }
    }
}

/// The point that stands for a sample: the area centroid of a closed polygon,
/// the mean of an open polyline's vertices, the centre of everything else.
pub fn centroid(shape: &Shape) -> Option<(f64, f64)> {
    match shape {
        Shape::Polyline { points, closed, .. } if closed.unwrap_or(false) && points.len() >= 3 => {
            polygon_centroid(points).or_else(|| vertex_mean(points))
        }
        Shape::Polyline { points, .. } | Shape::Arrow { points, .. } => vertex_mean(points),
        other => bounds(other).map(|b| b.center()),
    }
}

fn vertex_mean(points: &[[f64; 3]]) -> Option<(f64, f64)> {
    if points.is_empty() {
        return None;
    }
    let n = points.len() as f64;
    Some((
        points.iter().map(|p| p[0]).sum::<f64>() / n,
        points.iter().map(|p| p[1]).sum::<f64>() / n,
    ))
}

fn polygon_centroid(points: &[[f64; 3]]) -> Option<(f64, f64)> {
    let (mut area2, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for (i, a) in points.iter().enumerate() {
        let b = &points[(i + 1) % points.len()];
        let cross = a[0] * b[1] - b[0] * a[1];
        area2 += cross;
        cx += (a[0] + b[0]) * cross;
        cy += (a[1] + b[1]) * cross;
    }
    // A degenerate (zero-area) polygon has no area centroid.
    if area2.abs() < 1e-12 {
        return None;
    }
    Some((cx / (3.0 * area2), cy / (3.0 * area2)))
}

/// Whether a region shape contains the point. Only shapes that enclose an
/// area can: closed polylines, rectangles, ellipses, circles.
pub fn contains(shape: &Shape, x: f64, y: f64) -> bool {
    match shape {
        Shape::Polyline {
            points,
            closed: Some(true),
            ..
        } => point_in_polygon(points, x, y),
        Shape::Rectangle {
            center,
            width,
            height,
            rotation,
            ..
        } => {
            let (u, v) = to_local(center, rotation.unwrap_or(0.0), x, y);
            u.abs() <= width / 2.0 && v.abs() <= height / 2.0
        }
        Shape::Ellipse {
            center,
            width,
            height,
            rotation,
            ..
        } => {
            let (u, v) = to_local(center, rotation.unwrap_or(0.0), x, y);
            let (a, b) = (width / 2.0, height / 2.0);
            a > 0.0 && b > 0.0 && (u / a).powi(2) + (v / b).powi(2) <= 1.0
        }
        Shape::Circle { center, radius, .. } => {
            (x - center[0]).powi(2) + (y - center[1]).powi(2) <= radius * radius
        }
        _ => false,
    }
}

/// Whether a shape encloses an area (and so can act as a label region).
pub fn is_region(shape: &Shape) -> bool {
    matches!(
        shape,
        Shape::Polyline {
            closed: Some(true),
            ..
        } | Shape::Rectangle { .. }
            | Shape::Ellipse { .. }
            | Shape::Circle { .. }
    )
}

fn to_local(center: &[f64; 3], rotation: f64, x: f64, y: f64) -> (f64, f64) {
    let (s, c) = rotation.sin_cos();
    let (dx, dy) = (x - center[0], y - center[1]);
    (dx * c + dy * s, -dx * s + dy * c)
}

/// Even-odd ray casting.
fn point_in_polygon(points: &[[f64; 3]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = points.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi, xj, yj) = (points[i][0], points[i][1], points[j][0], points[j][1]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsa::Extra;
    use approx::assert_abs_diff_eq;

    fn poly(points: &[(f64, f64)]) -> Shape {
        Shape::Polyline {
            points: points.iter().map(|&(x, y)| [x, y, 0.0]).collect(),
            closed: Some(true),
            extra: Extra::new(),
        }
    }

    #[test]
    fn polygon_centroid_is_the_area_centroid() {
        // An L shape: the vertex mean would be pulled towards the corner.
        let l = poly(&[
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (1.0, 1.0),
            (1.0, 2.0),
            (0.0, 2.0),
        ]);
        let (x, y) = centroid(&l).unwrap();
        assert_abs_diff_eq!(x, 5.0 / 6.0, epsilon = 1e-12);
        assert_abs_diff_eq!(y, 5.0 / 6.0, epsilon = 1e-12);
    }

    #[test]
    fn containment_for_each_region_type() {
        let square = poly(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]);
        assert!(contains(&square, 5.0, 5.0));
        assert!(!contains(&square, 11.0, 5.0));
        let rotated = Shape::Rectangle {
            center: [0.0, 0.0, 0.0],
            width: 10.0,
            height: 2.0,
            rotation: Some(std::f64::consts::FRAC_PI_2),
            extra: Extra::new(),
        };
        assert!(
            contains(&rotated, 0.0, 4.0),
            "rotated 90 degrees the long side is vertical"
        );
        assert!(!contains(&rotated, 4.0, 0.0));
        let circle = Shape::Circle {
            center: [0.0, 0.0, 0.0],
            radius: 2.0,
            extra: Extra::new(),
        };
        assert!(contains(&circle, 1.0, 1.0) && !contains(&circle, 2.0, 2.0));
        let ellipse = Shape::Ellipse {
            center: [0.0, 0.0, 0.0],
            width: 4.0,
            height: 2.0,
            rotation: None,
            extra: Extra::new(),
        };
        assert!(contains(&ellipse, 1.9, 0.0) && !contains(&ellipse, 0.0, 1.5));
        let point = Shape::Point {
            center: [0.0, 0.0, 0.0],
            extra: Extra::new(),
        };
        assert!(!contains(&point, 0.0, 0.0), "a point encloses nothing");
    }

    #[test]
    fn rotated_rectangle_bounds() {
        let r = Shape::Rectangle {
            center: [5.0, 5.0, 0.0],
            width: 4.0,
            height: 2.0,
            rotation: Some(std::f64::consts::FRAC_PI_2),
            extra: Extra::new(),
        };
        let b = bounds(&r).unwrap();
        assert_abs_diff_eq!(b.min_x, 4.0, epsilon = 1e-9);
        assert_abs_diff_eq!(b.max_y, 7.0, epsilon = 1e-9);
    }
}
