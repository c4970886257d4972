//! Which band is which: names from the file's band descriptions or from a mapping the uploader
//! gives, reflectance scaling (Sentinel-2 L2A `(DN + BOA_ADD_OFFSET) / QUANTIFICATION_VALUE`),
//! and the processing-baseline trap of imagery.md §4.1.

use crate::{Header, ImageryError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Green,
    Red,
    RedEdge1,
    RedEdge2,
    Nir,
    Swir1,
    /// Sentinel-2 scene classification (cloud/shadow/water classes).
    Scl,
    /// Single-band index products (already computed by the provider).
    Fai,
    Ndci,
}

/// Sentinel-2 names first, then drone (R, G, RE, NIR) and product names; case-insensitive.
pub fn role_of(name: &str) -> Option<Role> {
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "B03" | "B3" | "G" | "GREEN" => Role::Green,
        "B04" | "B4" | "R" | "RED" => Role::Red,
        "B05" | "B5" | "RE" | "REDEDGE" | "RE1" => Role::RedEdge1,
        "B06" | "B6" | "RE2" => Role::RedEdge2,
        "B8A" | "B08" | "B8" | "NIR" => Role::Nir,
        "B11" | "SWIR" | "SWIR1" => Role::Swir1,
        "SCL" => Role::Scl,
        "FAI" => Role::Fai,
        "NDCI" => Role::Ndci,
        _ => return None,
    })
}

/// Band index of each role, from `mapping` (one name per band, in file order) or else the
/// file's band descriptions.
pub fn assign(
    header: &Header,
    mapping: Option<&[String]>,
) -> Result<Vec<(Role, usize)>, ImageryError> {
    let names: Vec<String> = match mapping {
        Some(m) if m.len() != header.bands => {
            return Err(ImageryError::UnknownBands(format!(
                "the band mapping names {} bands but the file has {}",
                m.len(),
                header.bands
            )));
        }
        Some(m) => m.to_vec(),
        None => header
            .descriptions
            .iter()
            .enumerate()
            .map(|(i, d)| {
                d.clone().ok_or_else(|| {
                    ImageryError::UnknownBands(format!(
                        "band {} has no description; give the band mapping (bands=B03,B04,…)",
                        i + 1
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut roles = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match role_of(n) {
            Some(r) if roles.iter().any(|(q, _)| *q == r) => {
                return Err(ImageryError::UnknownBands(format!(
                    "band {n:?} given twice"
                )));
            }
            Some(r) => roles.push((r, i)),
            // Bands the analysis does not use (B02, B12, …) are allowed and ignored.
            None if is_known_unused(n) => {}
            None => {
                return Err(ImageryError::UnknownBands(format!(
                    "band {} is named {n:?}, which is not a known band",
                    i + 1
                )));
            }
        }
    }
    Ok(roles)
}

fn is_known_unused(name: &str) -> bool {
    matches!(
        name.trim().to_ascii_uppercase().as_str(),
        "B01"
            | "B1"
            | "B02"
            | "B2"
            | "B07"
            | "B7"
            | "B09"
            | "B9"
            | "B10"
            | "B12"
            | "BLUE"
            | "B"
            | "AOT"
            | "WVP"
    )
}

/// Reflectance scaling of a DN band. Float products are reflectance already.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaling {
    pub offset: f64,
    pub quantification: f64,
}

/// The offset comes, in order, from the uploader, the file's `BOA_ADD_OFFSET`, its
/// `PROCESSING_BASELINE` (≥ 04.00 → −1000, before → 0), else `default_offset`; never hard-coded.
pub fn scaling(
    header: &Header,
    offset_override: Option<f64>,
    default_offset: f64,
) -> Result<Scaling, ImageryError> {
    let meta = |k: &str| header.metadata.get(k).map(|s| s.trim().to_string());
    let parse = |k: &str, v: String| {
        v.parse::<f64>()
            .map_err(|_| ImageryError::Setting(format!("metadata {k}={v:?} is not a number")))
    };
    let offset = match (
        offset_override,
        meta("BOA_ADD_OFFSET"),
        meta("PROCESSING_BASELINE"),
    ) {
        (Some(o), _, _) => o,
        (None, Some(v), _) => parse("BOA_ADD_OFFSET", v)?,
        (None, None, Some(b)) => {
            if parse("PROCESSING_BASELINE", b)? >= 4.0 {
                -1000.0
            } else {
                0.0
            }
        }
        (None, None, None) => default_offset,
    };
    let quantification = match meta("QUANTIFICATION_VALUE") {
        Some(v) => parse("QUANTIFICATION_VALUE", v)?,
        None => 10000.0,
    };
    if quantification <= 0.0 {
        return Err(ImageryError::Setting(
            "QUANTIFICATION_VALUE must be positive".into(),
        ));
    }
    Ok(Scaling {
        offset,
        quantification,
    })
}

impl Scaling {
    pub fn reflectance(&self, dn: f32, is_float: bool) -> f64 {
        if is_float {
            f64::from(dn)
        } else {
            (f64::from(dn) + self.offset) / self.quantification
        }
    }
}
