//! The static lake mask (imagery.md §4.4: never a per-scene NDWI mask, scum looks like land):
//! the network's lake outline projected into the scene, rasterised on pixel centres, eroded
//! inward by whole pixels.

use crate::{Crs, GeoTransform, ImageryError, Window};
use network::{Network, Position, ZoneKind, geo::polygon_contains};

/// The outline in pixel coordinates (col, row as lon, lat of `Position`), each ring closed.
pub fn outline_in_pixels(
    network: &Network,
    crs: &Crs,
    t: &GeoTransform,
) -> Result<Vec<Vec<[f64; 2]>>, ImageryError> {
    let zone = network
        .zones
        .iter()
        .find(|z| z.kind == ZoneKind::LakeOutline)
        .ok_or_else(|| ImageryError::Setting("the network has no lake_outline zone".into()))?;
    zone.polygon
        .iter()
        .map(|ring| {
            ring.iter()
                .map(|&[lon, lat]| {
                    let (x, y) = crs.from_wgs84(lon, lat)?;
                    let (c, r) = t.invert(x, y);
                    Ok([c, r])
                })
                .collect()
        })
        .collect()
}

/// The grid the mask covers: the outline's pixel bounding box (it may reach past the image, and
/// those lake pixels count as unobserved).
pub fn grid(rings: &[Vec<[f64; 2]>]) -> (i64, i64, u32, u32) {
    let (mut c0, mut r0, mut c1, mut r1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &[c, r] in rings.iter().flatten() {
        c0 = c0.min(c);
        r0 = r0.min(r);
        c1 = c1.max(c);
        r1 = r1.max(r);
    }
    let (c0, r0) = (c0.floor() as i64, r0.floor() as i64);
    let (w, h) = (
        (c1.ceil() as i64 - c0).max(1),
        (r1.ceil() as i64 - r0).max(1),
    );
    (c0, r0, w as u32, h as u32)
}

/// Rasterise (pixel centre inside) on the grid starting at (`c0`, `r0`), then erode `buffer` times.
pub fn rasterise(
    rings: &[Vec<[f64; 2]>],
    c0: i64,
    r0: i64,
    w: u32,
    h: u32,
    buffer: u32,
) -> Vec<bool> {
    let (w, h) = (w as usize, h as usize);
    let mut mask = vec![false; w * h];
    for row in 0..h {
        for col in 0..w {
            let p = Position {
                lon: (c0 + col as i64) as f64 + 0.5,
                lat: (r0 + row as i64) as f64 + 0.5,
            };
            mask[row * w + col] = polygon_contains(rings, p);
        }
    }
    for _ in 0..buffer {
        mask = erode(&mask, w, h);
    }
    mask
}

/// 8-neighbour erosion: a pixel stays only if every neighbour is lake (off-grid counts as land).
fn erode(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let at = |c: i64, r: i64| {
        c >= 0
            && r >= 0
            && (c as usize) < w
            && (r as usize) < h
            && mask[r as usize * w + c as usize]
    };
    let mut out = vec![false; w * h];
    for r in 0..h as i64 {
        for c in 0..w as i64 {
            out[r as usize * w + c as usize] =
                (-1..=1).all(|dr| (-1..=1).all(|dc| at(c + dc, r + dr)));
        }
    }
    out
}

/// The part of the grid the image has, or None when the scene misses the lake's box.
pub fn window_in_image(
    c0: i64,
    r0: i64,
    w: u32,
    h: u32,
    width: u32,
    height: u32,
) -> Option<Window> {
    let (a, b) = (c0.max(0), r0.max(0));
    let (e, f) = (
        (c0 + w as i64).min(width as i64),
        (r0 + h as i64).min(height as i64),
    );
    (e > a && f > b).then(|| Window {
        col0: a as u32,
        row0: b as u32,
        width: (e - a) as u32,
        height: (f - b) as u32,
    })
}
