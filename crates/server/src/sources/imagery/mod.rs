//! Imagery: satellite and drone scenes pushed over HTTP (`POST /api/v1/scenes`, the handler is
//! `http/scenes.rs`). A sibling of the HJ 212 source with no listener of its own: the analysis is
//! `imagery`'s (pure, run on a blocking thread); this module holds the `[imagery]` settings, the
//! stored scene document and the `bloom_area` alert.

pub mod datastreams;
pub mod matchups;

use alerts::lifecycle::Trigger;
use alerts::model::{RuleKind, Severity};
use alerts::rules::Verdict;
use alerts::text::{Lang, Text};
use imagery::{Analysis, AnalysisSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `[imagery]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageryConfig {
    /// Largest accepted scene upload, bytes (a Sentinel-2 window of the lake is a few MB).
    pub max_scene_bytes: usize,
    /// A basin whose bloom coverage (of valid water) exceeds this share raises `bloom_area`
    /// (Taihu practice: ≥ 25 % of a segment is a significant bloom, imagery.md §4.3).
    pub alert_coverage: f64,
    /// A bloom pixel within this many metres of the intake raises `bloom_area` too.
    pub alert_intake_m: f64,
    /// How many scenes `/api/v1/network` lists (latest first).
    pub network_scenes: usize,
    /// Station chl-a within this many seconds of the acquisition calibrates NDCI ("same day").
    pub matchup_window_s: u64,
    /// `[imagery.analysis]`: thresholds, cloud test, buffer, HJ 1098 grade steps.
    pub analysis: AnalysisSettings,
}

impl Default for ImageryConfig {
    fn default() -> Self {
        ImageryConfig {
            max_scene_bytes: 64 * 1024 * 1024,
            alert_coverage: 0.25,
            alert_intake_m: 1000.0,
            network_scenes: 10,
            matchup_window_s: 43_200,
            analysis: AnalysisSettings::default(),
        }
    }
}

/// The stored scene document (what `GET /api/v1/scenes/{id}` answers, less `id`).
pub fn document(a: &Analysis, time_rfc3339: &str, sensor: &str, file_bytes: usize) -> Value {
    json!({
        "time": time_rfc3339,
        "sensor": sensor,
        "epsg": a.epsg,
        "index": a.index,
        "boa_add_offset": a.offset,
        "pixel_size": a.pixel_size,
        "bounds": a.bounds,
        "bytes": file_bytes,
        "bloom_area_km2": a.lake.bloom_area_km2,
        "coverage": a.lake.coverage,
        "valid_fraction": a.lake.valid_fraction,
        "cloud_limited": a.lake.cloud_limited,
        "grade": a.lake.grade,
        "lake": a.lake,
        "basins": a.basins,
        "nearest_bloom_to_intake_m": a.nearest_bloom_to_intake_m,
        "chl_fit": a.chl_fit,
    })
}

/// The `bloom_area` alerts a scene raises: one per basin over the coverage share, one for a
/// bloom near the intake. Messages in Chinese and English.
pub fn verdicts(
    a: &Analysis,
    scene_id: i64,
    cfg: &ImageryConfig,
    basins: &[::network::Basin],
    observed_us: i64,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    // A basin by its name in each language (its id when the network does not name it).
    let basin_name = |id: &str| match basins.iter().find(|b| b.id == id) {
        Some(b) => alerts::text::both(b.name_zh.clone(), b.name_en.clone()),
        None => id.into(),
    };
    for b in &a.basins {
        let f = &b.figures;
        if f.valid_pixels > 0 && f.coverage > cfg.alert_coverage {
            let text = Text::new("bloom_coverage")
                .with("scene", scene_id)
                .with("basin", basin_name(&b.basin))
                .with("coverage", format!("{:.0}", f.coverage * 100.0))
                .with("area", format!("{:.2}", f.bloom_area_km2))
                .with("limit", format!("{:.0}", cfg.alert_coverage * 100.0));
            out.push(trigger(
                format!("imagery:basin:{}", b.basin),
                Severity::Major,
                text,
                json!({"kind": "bloom_coverage", "scene": scene_id, "basin": b.basin, "coverage": f.coverage,
                       "bloom_area_km2": f.bloom_area_km2, "valid_fraction": f.valid_fraction, "grade": f.grade}),
                observed_us,
            ));
        }
    }
    if let Some(d) = a
        .nearest_bloom_to_intake_m
        .filter(|d| *d <= cfg.alert_intake_m)
    {
        out.push(trigger(
            "imagery:intake".into(),
            Severity::Critical,
            Text::new("bloom_near_intake")
                .with("scene", scene_id)
                .with("distance", format!("{d:.0}"))
                .with("limit", format!("{:.0}", cfg.alert_intake_m)),
            json!({"kind": "bloom_near_intake", "scene": scene_id, "distance_m": d}),
            observed_us,
        ));
    }
    out
}

fn trigger(source: String, severity: Severity, text: Text, details: Value, at: i64) -> Verdict {
    let message = text.render(Lang::En).unwrap_or_default();
    let details = text.into_details(details);
    Verdict::Trigger(Trigger {
        rule: RuleKind::BloomArea,
        source,
        station: None,
        parameter: None,
        datastream_id: None,
        severity,
        message,
        details,
        observed_at: Some(at),
    })
}
