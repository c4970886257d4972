//! The OpenAPI shape of a stored scene document (`GET /api/v1/scenes/{id}`). The document is
//! written once by `sources::imagery::document` from the `imagery` crate's `Analysis` and served
//! as stored, so these types only describe it for the contract (and the web client's types);
//! they are never built. The pure crate stays free of the HTTP layer's schema derive.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// Figures of the whole lake or one basin.
#[derive(Serialize, ToSchema)]
pub struct SceneFigures {
    pub lake_pixels: u64,
    pub valid_pixels: u64,
    pub bloom_pixels: u64,
    /// Lake water inside the eroded mask, km².
    pub water_area_km2: f64,
    pub valid_area_km2: f64,
    pub bloom_area_km2: f64,
    /// Bloom area ÷ valid water area.
    pub coverage: f64,
    /// Cloud-free observed water ÷ lake water.
    pub valid_fraction: f64,
    /// Below `[imagery.analysis] min_valid_fraction`: a low bloom area is not "no bloom".
    pub cloud_limited: bool,
    /// HJ 1098-2020 grade (the `grade_steps` setting).
    pub grade: String,
    pub ndci_mean: Option<f64>,
    /// Mean chl-a from the NDCI fit, µg/L, when the scene has a fit.
    pub chl_a_estimate: Option<f64>,
}

/// One basin's figures: its id plus the figures.
#[derive(Serialize, ToSchema)]
pub struct SceneBasinFigures {
    pub basin: String,
    #[schema(inline)]
    #[serde(flatten)]
    pub figures: SceneFigures,
}

/// The NDCI → chl-a least-squares fit over same-day station matchups.
#[derive(Serialize, ToSchema)]
pub struct SceneChlFit {
    pub n: u32,
    pub slope: f64,
    pub intercept: f64,
    pub r2: f64,
    /// `[station code, NDCI at the station (3 × 3 mean), measured chl-a µg/L]` per matchup.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub matchups: Vec<(String, f64, f64)>,
}

/// A scene as stored: the summary fields plus the analysis.
#[derive(Serialize, ToSchema)]
pub struct SceneDocument {
    pub id: i64,
    pub time: String,
    pub sensor: String,
    /// EPSG code of the scene's CRS.
    pub epsg: u32,
    /// "fai", "ndvi" or "ndci": the index that decided bloom.
    pub index: String,
    pub boa_add_offset: f64,
    pub pixel_size: Vec<f64>,
    /// WGS 84 `[lon_min, lat_min, lon_max, lat_max]` of the overlay.
    pub bounds: Vec<f64>,
    /// Size of the uploaded file.
    pub bytes: u64,
    pub bloom_area_km2: f64,
    pub coverage: f64,
    pub valid_fraction: f64,
    pub cloud_limited: bool,
    pub grade: String,
    pub overlay_url: String,
    pub lake: SceneFigures,
    pub basins: Vec<SceneBasinFigures>,
    /// Distance from the intake to the nearest bloom pixel, m.
    pub nearest_bloom_to_intake_m: Option<f64>,
    pub chl_fit: Option<SceneChlFit>,
}
