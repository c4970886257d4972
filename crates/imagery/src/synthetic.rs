//! Synthetic Sentinel-2 L2A scenes over a network's lake (imagery.md §4.7's recipe, written by our
//! own GeoTIFF writer): the demo's sky layer and the planted scenes of the tests. Deterministic.

use crate::{Crs, ImageryError, RowsSpec, SceneSpec, geographic_cell_area_m2, write_geotiff};
use network::{Network, Position, ZoneKind, geo::polygon_contains};

/// Surface reflectance of B03 B04 B05 B06 B8A B11 (imagery.md §4.7).
const LAND: [f64; 6] = [0.08, 0.06, 0.12, 0.25, 0.32, 0.20];
const WATER: [f64; 6] = [0.04, 0.025, 0.018, 0.008, 0.006, 0.003];
/// High-chlorophyll water without scum (NDCI ≈ 0.2).
const HIGH_CHL: [f64; 6] = [0.05, 0.030, 0.045, 0.015, 0.010, 0.004];
const SCUM: [f64; 6] = [0.06, 0.045, 0.080, 0.120, 0.150, 0.050];
const CLOUD: [f64; 6] = [0.45, 0.44, 0.45, 0.46, 0.47, 0.35];
pub const S2_BANDS: [&str; 6] = ["B03", "B04", "B05", "B06", "B8A", "B11"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cover {
    Land,
    Water,
    HighChl,
    Scum,
    Cloud,
}

/// A WGS 84 box `[lon_min, lat_min, lon_max, lat_max]`.
pub type LonLatBox = [f64; 4];

fn in_box(b: &LonLatBox, lon: f64, lat: f64) -> bool {
    (b[0]..b[2]).contains(&lon) && (b[1]..b[3]).contains(&lat)
}

#[derive(Debug, Clone)]
pub struct Synthetic {
    pub epsg: u32,
    /// Pixel size in CRS units (metres, or degrees for 4326/4490).
    pub res: f64,
    /// Area the scene covers (WGS 84 box).
    pub extent: LonLatBox,
    /// Scum patches (only inside the lake) and cloud patches (anywhere).
    pub scum: Vec<LonLatBox>,
    /// High-chlorophyll (not scum) water patches, inside the lake.
    pub high_chl: Vec<LonLatBox>,
    pub clouds: Vec<LonLatBox>,
    /// Added to reflectance × 10000 (1000 for processing baseline ≥ 04.00).
    pub dn_offset: f64,
    pub metadata: Vec<(String, String)>,
}

impl Synthetic {
    /// A baseline-04 Sentinel-2-like 20 m scene in UTM 48N over `extent`.
    pub fn sentinel2(extent: LonLatBox) -> Synthetic {
        Synthetic {
            epsg: 32648,
            res: 20.0,
            extent,
            scum: Vec::new(),
            high_chl: Vec::new(),
            clouds: Vec::new(),
            dn_offset: 1000.0,
            metadata: vec![
                ("BOA_ADD_OFFSET".into(), "-1000".into()),
                ("QUANTIFICATION_VALUE".into(), "10000".into()),
            ],
        }
    }
}

/// The written scene and, per pixel (row-major), what was planted and the pixel's area in m².
pub struct Written {
    pub bytes: Vec<u8>,
    pub covers: Vec<Cover>,
    pub pixel_area_m2: Vec<f64>,
}

impl Written {
    pub fn count(&self, c: Cover) -> u64 {
        self.covers.iter().filter(|x| **x == c).count() as u64
    }
}

pub fn write(network: &Network, s: &Synthetic) -> Result<Written, ImageryError> {
    let crs = Crs::from_epsg(s.epsg)?;
    let (x_min, y_max) = crs.from_wgs84(s.extent[0], s.extent[3])?;
    let (x_max, y_min) = crs.from_wgs84(s.extent[2], s.extent[1])?;
    let (w, h) = (
        ((x_max - x_min) / s.res) as u32,
        ((y_max - y_min) / s.res) as u32,
    );
    let outline = &network
        .zones
        .iter()
        .find(|z| z.kind == ZoneKind::LakeOutline)
        .ok_or_else(|| ImageryError::Setting("the network has no lake_outline zone".into()))?
        .polygon;
    let mut bands = vec![Vec::new(); 6];
    let (mut covers, mut pixel_area_m2) = (Vec::new(), Vec::new());
    for r in 0..h {
        for c in 0..w {
            let (x, y) = (
                x_min + (c as f64 + 0.5) * s.res,
                y_max - (r as f64 + 0.5) * s.res,
            );
            let (lon, lat) = crs.to_wgs84(x, y)?;
            let lake = polygon_contains(outline, Position { lon, lat });
            let cover = if s.clouds.iter().any(|b| in_box(b, lon, lat)) {
                Cover::Cloud
            } else if !lake {
                Cover::Land
            } else if s.scum.iter().any(|b| in_box(b, lon, lat)) {
                Cover::Scum
            } else if s.high_chl.iter().any(|b| in_box(b, lon, lat)) {
                Cover::HighChl
            } else {
                Cover::Water
            };
            let spec = match cover {
                Cover::Land => LAND,
                Cover::Water => WATER,
                Cover::HighChl => HIGH_CHL,
                Cover::Scum => SCUM,
                Cover::Cloud => CLOUD,
            };
            for (b, v) in spec.iter().enumerate() {
                bands[b].push((v * 10000.0 + s.dn_offset).round() as u16);
            }
            covers.push(cover);
            pixel_area_m2.push(if crs.is_geographic() {
                geographic_cell_area_m2(lat, s.res, s.res)
            } else {
                s.res * s.res
            });
        }
    }
    let layout = RowsSpec {
        width: w,
        height: h,
        descriptions: S2_BANDS.iter().map(|s| s.to_string()).collect(),
        metadata: s.metadata.clone(),
        epsg: s.epsg,
        x0: x_min,
        y0: y_max,
        dx: s.res,
        dy: s.res,
        nodata: Some(0),
        deflate: false,
    };
    Ok(Written {
        bytes: write_geotiff(&SceneSpec { bands, layout })?,
        covers,
        pixel_area_m2,
    })
}
