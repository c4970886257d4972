//! Small planar geometry on lon/lat degrees, enough to validate schematic polygons.
//! (Planar is fine at lake scale: a few kilometres, far from the poles and the antimeridian.)

use crate::model::{BBox, Position};

/// Checks one GeoJSON Polygon's coordinates; returns the first problem found.
pub(crate) fn check_polygon(rings: &[Vec<[f64; 2]>], bbox: Option<BBox>) -> Result<(), String> {
    if rings.is_empty() {
        return Err("no rings (a Polygon needs an outer ring)".to_owned());
    }
    for (ring_no, ring) in rings.iter().enumerate() {
        let ring_name = if ring_no == 0 {
            "outer ring".to_owned()
        } else {
            format!("hole {ring_no}")
        };
        if ring.len() < 4 {
            return Err(format!(
                "{ring_name} has {} positions; a closed ring needs at least 4",
                ring.len()
            ));
        }
        for (i, &[lon, lat]) in ring.iter().enumerate() {
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(format!(
                    "{ring_name} position {} [{lon}, {lat}] is not a WGS 84 [lon, lat]",
                    i + 1
                ));
            }
            if let Some(b) = bbox
                && !b.contains(Position { lon, lat })
            {
                return Err(format!(
                    "{ring_name} position {} [{lon}, {lat}] lies outside the network bbox",
                    i + 1
                ));
            }
        }
        if ring.first() != ring.last() {
            return Err(format!(
                "{ring_name} is not closed (the first and last positions differ)"
            ));
        }
        for (i, pair) in ring.windows(2).enumerate() {
            if pair[0] == pair[1] {
                return Err(format!(
                    "{ring_name} repeats position {} (zero-length edge)",
                    i + 1
                ));
            }
        }
        if let Some((a, b)) = first_self_intersection(ring) {
            return Err(format!(
                "{ring_name} crosses itself (edges {} and {})",
                a + 1,
                b + 1
            ));
        }
        if signed_area(ring).abs() < 1e-12 {
            return Err(format!("{ring_name} encloses no area"));
        }
    }
    Ok(())
}

/// Shoelace formula, in square degrees (positive = counter-clockwise).
fn signed_area(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum::<f64>()
        / 2.0
}

/// Edges `i` (from position i to i+1) that properly intersect a non-adjacent edge.
fn first_self_intersection(ring: &[[f64; 2]]) -> Option<(usize, usize)> {
    let edges = ring.len() - 1;
    for i in 0..edges {
        for j in (i + 1)..edges {
            let adjacent = j == i + 1 || (i == 0 && j == edges - 1);
            if adjacent {
                continue;
            }
            if segments_intersect(ring[i], ring[i + 1], ring[j], ring[j + 1]) {
                return Some((i, j));
            }
        }
    }
    None
}

fn orientation(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn on_segment(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

fn segments_intersect(p1: [f64; 2], p2: [f64; 2], q1: [f64; 2], q2: [f64; 2]) -> bool {
    let d1 = orientation(q1, q2, p1);
    let d2 = orientation(q1, q2, p2);
    let d3 = orientation(p1, p2, q1);
    let d4 = orientation(p1, p2, q2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(q1, q2, p1))
        || (d2 == 0.0 && on_segment(q1, q2, p2))
        || (d3 == 0.0 && on_segment(p1, p2, q1))
        || (d4 == 0.0 && on_segment(p1, p2, q2))
}

/// Even-odd ray casting: inside the outer ring and not inside a hole.
pub fn polygon_contains(rings: &[Vec<[f64; 2]>], p: Position) -> bool {
    let mut rings = rings.iter();
    let Some(outer) = rings.next() else {
        return false;
    };
    ring_contains(outer, p) && !rings.any(|hole| ring_contains(hole, p))
}

fn ring_contains(ring: &[[f64; 2]], p: Position) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let ([x1, y1], [x2, y2]) = (w[0], w[1]);
        if (y1 > p.lat) != (y2 > p.lat) {
            let x_cross = x1 + (p.lat - y1) / (y2 - y1) * (x2 - x1);
            if p.lon < x_cross {
                inside = !inside;
            }
        }
    }
    inside
}

/// Great-circle distance in metres (haversine on a 6,371 km sphere: ample for "which camera
/// is nearest a station" on one lake).
pub fn distance_m(a: Position, b: Position) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> Vec<[f64; 2]> {
        vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    }

    #[test]
    fn polygon_checks() {
        assert!(check_polygon(&[square()], None).is_ok());
        let bowtie = vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]];
        assert!(
            check_polygon(&[bowtie], None)
                .unwrap_err()
                .contains("crosses itself")
        );
        let open = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        assert!(
            check_polygon(&[open], None)
                .unwrap_err()
                .contains("not closed")
        );
        let flat = vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 0.0]];
        assert!(check_polygon(&[flat], None).is_err());
        assert!(check_polygon(&[], None).is_err());
    }

    #[test]
    fn containment() {
        let rings = vec![square()];
        assert!(polygon_contains(&rings, Position { lon: 0.5, lat: 0.5 }));
        assert!(!polygon_contains(&rings, Position { lon: 1.5, lat: 0.5 }));
    }
}
