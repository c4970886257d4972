//! Analysis settings. Defaults follow imagery.md; HJ 1098-2020's grade steps are marked uncertain
//! there, so they are a setting with the recalled 10 % / 30 % / 60 % as default.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisSettings {
    /// FAI above this is surface scum (Sentinel-2 surface reflectance: FAI > 0, imagery.md §4.3).
    pub fai_threshold: f64,
    /// NDVI above this is bloom for sensors without SWIR (GF, drones).
    pub ndvi_threshold: f64,
    /// NDCI above this is bloom for single-band NDCI products (NDCI > 0.4 ≈ Chl > 50 µg/L).
    pub ndci_threshold: f64,
    /// Without SCL, a pixel whose green and red reflectance both exceed this is cloud.
    pub cloud_reflectance: f64,
    /// The lake outline is eroded inward by this many pixels (land adjacency, imagery.md §4.4).
    pub buffer_pixels: u32,
    /// Bloom-area ratio steps of the grades sporadic → local → regional → full (HJ 1098-2020, [R]).
    pub grade_steps: [f64; 3],
    /// BOA_ADD_OFFSET used when neither the uploader nor the file says (pre-04.00 products: 0).
    pub default_offset: f64,
    /// Below this valid (cloud-free) fraction a scene is "cloud-limited", never "no bloom".
    pub min_valid_fraction: f64,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            fai_threshold: 0.0,
            ndvi_threshold: 0.0,
            ndci_threshold: 0.4,
            cloud_reflectance: 0.2,
            buffer_pixels: 1,
            grade_steps: [0.10, 0.30, 0.60],
            default_offset: 0.0,
            min_valid_fraction: 0.5,
        }
    }
}

/// The bloom grade of a bloom-area ratio (bloom ÷ valid water).
pub fn grade(bloom_pixels: u64, valid_pixels: u64, ratio: f64, steps: &[f64; 3]) -> &'static str {
    if valid_pixels == 0 {
        "unknown"
    } else if bloom_pixels == 0 {
        "none"
    } else if ratio < steps[0] {
        "sporadic"
    } else if ratio < steps[1] {
        "local"
    } else if ratio < steps[2] {
        "regional"
    } else {
        "full"
    }
}
