//! Geometry for `$filter`'s geospatial functions, on the `geo` crate. Locations and features are
//! GeoJSON (a geometry or a Feature); literals are WKT.

use geo::{Contains, Distance, Euclidean, Geometry, Intersects, Length, Point, Relate, Within};

pub fn parse_wkt(text: &str) -> Result<Geometry<f64>, String> {
    use std::str::FromStr;
    let w = wkt::Wkt::<f64>::from_str(text).map_err(|e| e.to_string())?;
    Geometry::try_from(w).map_err(|e| e.to_string())
}

/// Reads a geometry from GeoJSON text (geometry, Feature) or WKT.
pub fn parse_any(text: &str) -> Option<Geometry<f64>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let gj: geojson::GeoJson = trimmed.parse().ok()?;
        let geometry = match gj {
            geojson::GeoJson::Geometry(g) => g,
            geojson::GeoJson::Feature(f) => f.geometry?,
            geojson::GeoJson::FeatureCollection(_) => return None,
        };
        Geometry::<f64>::try_from(geometry).ok()
    } else {
        parse_wkt(trimmed).ok()
    }
}

/// Planar distance in the coordinates' units (degrees for WGS 84), as OGC 18-088 leaves units to
/// the coordinate system.
pub fn distance(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    Euclidean.distance(a, b)
}

pub fn length(a: &Geometry<f64>) -> f64 {
    match a {
        Geometry::LineString(l) => Euclidean.length(l),
        Geometry::MultiLineString(l) => Euclidean.length(l),
        _ => 0.0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialRelation {
    Equals,
    Disjoint,
    Touches,
    Within,
    Overlaps,
    Crosses,
    Intersects,
    Contains,
}

pub fn relation(rel: SpatialRelation, a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
    use SpatialRelation::*;
    match rel {
        Intersects => a.intersects(b),
        Disjoint => !a.intersects(b),
        Within => a.is_within(b),
        Contains => a.contains(b),
        Equals => a.relate(b).is_equal_topo(),
        Touches => a.relate(b).is_touches(),
        Overlaps => a.relate(b).is_overlaps(),
        Crosses => a.relate(b).is_crosses(),
    }
}

/// `st_relate(a, b, 'T*F**F***')`: DE-9IM pattern match.
pub fn relate_pattern(a: &Geometry<f64>, b: &Geometry<f64>, pattern: &str) -> Option<bool> {
    a.relate(b).matches(pattern).ok()
}

pub fn point(lon: f64, lat: f64) -> Geometry<f64> {
    Geometry::Point(Point::new(lon, lat))
}

/// An axis-aligned envelope `[min_x, min_y, max_x, max_y]` (for WGS 84: lon, lat): what a
/// Datastream's server-computed `observedArea` is (OGC 18-088 §8.2.4: "the spatial bounding
/// box of the spatial extent of the FeaturesOfInterest").
pub type Envelope = [f64; 4];

/// The envelope of a GeoJSON/WKT geometry; `None` for text that is no geometry, or an empty one.
pub fn envelope_of(text: &str) -> Option<Envelope> {
    use geo::BoundingRect;
    let rect = parse_any(text)?.bounding_rect()?;
    Some([rect.min().x, rect.min().y, rect.max().x, rect.max().y])
}

/// The smallest envelope holding both.
pub fn union(a: Option<Envelope>, b: Envelope) -> Envelope {
    match a {
        None => b,
        Some(a) => [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ],
    }
}

/// The envelope as GeoJSON: a Point when it is one, a LineString when it has no area, else the
/// Polygon of its corners (counter-clockwise, closed, RFC 7946 §3.1.6).
pub fn envelope_geojson(e: Envelope) -> serde_json::Value {
    let [x0, y0, x1, y1] = e;
    if x0 == x1 && y0 == y1 {
        serde_json::json!({ "type": "Point", "coordinates": [x0, y0] })
    } else if x0 == x1 || y0 == y1 {
        serde_json::json!({ "type": "LineString", "coordinates": [[x0, y0], [x1, y1]] })
    } else {
        serde_json::json!({
            "type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_of_features_and_their_union() {
        let p = r#"{"type":"Point","coordinates":[106.43,26.59]}"#;
        let f = r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106.38,26.47]}}"#;
        let poly = "POLYGON ((0 0, 2 0, 2 3, 0 3, 0 0))";
        assert_eq!(envelope_of(p), Some([106.43, 26.59, 106.43, 26.59]));
        assert_eq!(envelope_of(poly), Some([0.0, 0.0, 2.0, 3.0]));
        assert_eq!(envelope_of("not a geometry"), None);
        let one = envelope_of(p).unwrap();
        assert_eq!(
            envelope_geojson(one),
            serde_json::json!({ "type": "Point", "coordinates": [106.43, 26.59] })
        );
        let both = union(Some(one), envelope_of(f).unwrap());
        assert_eq!(both, [106.38, 26.47, 106.43, 26.59]);
        assert_eq!(
            envelope_geojson(both)["coordinates"][0],
            serde_json::json!([
                [106.38, 26.47],
                [106.43, 26.47],
                [106.43, 26.59],
                [106.38, 26.59],
                [106.38, 26.47]
            ])
        );
        assert_eq!(envelope_geojson([1.0, 2.0, 1.0, 5.0])["type"], "LineString");
        assert_eq!(union(None, one), one);
    }

    #[test]
    fn relations_on_points_and_polygons() {
        let square = parse_wkt("POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))").unwrap();
        let inside = parse_any(r#"{"type":"Point","coordinates":[1,1]}"#).unwrap();
        let outside = parse_any(
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[3,1]}}"#,
        )
        .unwrap();
        assert!(relation(SpatialRelation::Within, &inside, &square));
        assert!(relation(SpatialRelation::Contains, &square, &inside));
        assert!(!relation(SpatialRelation::Within, &outside, &square));
        assert!(relation(SpatialRelation::Disjoint, &outside, &square));
        assert!(relation(SpatialRelation::Intersects, &inside, &square));
        assert!((distance(&outside, &square) - 1.0).abs() < 1e-12);
        let line = parse_wkt("LINESTRING (0 0, 3 4)").unwrap();
        assert!((length(&line) - 5.0).abs() < 1e-12);
        assert_eq!(relate_pattern(&inside, &square, "T*F**F***"), Some(true));
        assert!(parse_wkt("POINT (1)").is_err());
        assert!(parse_any("{not json").is_none());
    }
}
