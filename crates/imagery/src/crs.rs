//! Coordinate reference systems a scene may use, through `proj4rs` (no hand-written projection
//! formulas). WGS 84 (4326), CGCS2000 (4490: metre-level equal to WGS 84, imagery.md §4.6) and the
//! WGS 84 UTM zones (326xx north, 327xx south; Hongfeng is 32648).

use crate::ImageryError;
use proj4rs::Proj;

/// WGS 84 semi-major axis and first eccentricity squared (for the area of a geographic pixel).
const WGS84_A: f64 = 6_378_137.0;
const WGS84_E2: f64 = 0.006_694_379_990_14;

pub struct Crs {
    pub epsg: u32,
    proj: Proj,
    wgs84: Proj,
}

impl std::fmt::Debug for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EPSG:{}", self.epsg)
    }
}

fn proj(def: &str) -> Result<Proj, ImageryError> {
    Proj::from_proj_string(def).map_err(|e| ImageryError::CrsUnsupported(format!("{def}: {e}")))
}

impl Crs {
    pub fn from_epsg(epsg: u32) -> Result<Crs, ImageryError> {
        let def = match epsg {
            4326 | 4490 => "+proj=longlat +datum=WGS84 +no_defs".to_string(),
            32601..=32660 => format!(
                "+proj=utm +zone={} +datum=WGS84 +units=m +no_defs",
                epsg - 32600
            ),
            32701..=32760 => {
                format!(
                    "+proj=utm +zone={} +south +datum=WGS84 +units=m +no_defs",
                    epsg - 32700
                )
            }
            other => {
                return Err(ImageryError::CrsUnsupported(format!(
                    "EPSG:{other} (supported: 4326, 4490, 32601-32660, 32701-32760)"
                )));
            }
        };
        Ok(Crs {
            epsg,
            proj: proj(&def)?,
            wgs84: proj("+proj=longlat +datum=WGS84 +no_defs")?,
        })
    }

    pub fn is_geographic(&self) -> bool {
        self.proj.is_latlong()
    }

    /// WGS 84 lon/lat (degrees) to scene coordinates.
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), ImageryError> {
        if self.is_geographic() {
            return Ok((lon, lat));
        }
        let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
        proj4rs::transform::transform(&self.wgs84, &self.proj, &mut p)
            .map_err(|e| ImageryError::CrsUnsupported(format!("EPSG:{}: {e}", self.epsg)))?;
        Ok((p.0, p.1))
    }

    /// Scene coordinates to WGS 84 lon/lat (degrees).
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), ImageryError> {
        if self.is_geographic() {
            return Ok((x, y));
        }
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(&self.proj, &self.wgs84, &mut p)
            .map_err(|e| ImageryError::CrsUnsupported(format!("EPSG:{}: {e}", self.epsg)))?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }
}

/// Prime-vertical and meridian radii of curvature (m) at `lat_deg` on WGS 84.
fn radii(lat_deg: f64) -> (f64, f64) {
    let w = 1.0 - WGS84_E2 * lat_deg.to_radians().sin().powi(2);
    (WGS84_A / w.sqrt(), WGS84_A * (1.0 - WGS84_E2) / w.powf(1.5))
}

/// Metres per degree of longitude and of latitude at `lat_deg` (WGS 84 ellipsoid).
pub fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let (n, m) = radii(lat_deg);
    let rad = 1f64.to_radians();
    (n * lat_deg.to_radians().cos() * rad, m * rad)
}

/// Area in m² of a geographic cell `dlon` × `dlat` degrees centred at `lat` (exact enough for
/// cells of metres: the radii barely change across one cell).
pub fn geographic_cell_area_m2(lat_deg: f64, dlon_deg: f64, dlat_deg: f64) -> f64 {
    let (mx, my) = metres_per_degree(lat_deg);
    mx * dlon_deg.abs() * my * dlat_deg.abs()
}
