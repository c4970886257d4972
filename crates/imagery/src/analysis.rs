//! One scene → bloom figures per water body and per basin (imagery.md §4.4), the chl-a matchup
//! fit, and the classified overlay.

use crate::bands::{Role, Scaling, assign, scaling};
use crate::settings::{AnalysisSettings, grade};
use crate::{
    Crs, ImageryError, geographic_cell_area_m2, mask, metres_per_degree, overlay, read_header,
    read_window,
};
use network::{Network, StationKind};
use serde::Serialize;

/// What the uploader adds to the file.
#[derive(Debug, Clone, Default)]
pub struct SceneInput<'a> {
    /// One band name per band in file order, when the file's descriptions do not say.
    pub band_mapping: Option<&'a [String]>,
    /// BOA_ADD_OFFSET given by the uploader (wins over the file's metadata).
    pub offset: Option<f64>,
    /// Same-day station chl-a (station code, µg/L) for the NDCI calibration.
    pub station_chl: &'a [(String, f64)],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub lake_pixels: u64,
    pub valid_pixels: u64,
    pub bloom_pixels: u64,
    /// Lake area inside the eroded mask, km².
    pub water_area_km2: f64,
    pub valid_area_km2: f64,
    pub bloom_area_km2: f64,
    /// Bloom area ÷ valid water area.
    pub coverage: f64,
    /// Valid (cloud-free, observed) water ÷ lake water.
    pub valid_fraction: f64,
    pub cloud_limited: bool,
    pub grade: &'static str,
    pub ndci_mean: Option<f64>,
    /// Mean chl-a from the NDCI fit, µg/L (when a fit exists).
    pub chl_a_estimate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasinFigures {
    pub basin: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Least-squares chl-a = intercept + slope · NDCI over the station matchups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChlFit {
    pub n: usize,
    pub slope: f64,
    pub intercept: f64,
    pub r2: f64,
    pub matchups: Vec<(String, f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub epsg: u32,
    /// "fai", "ndvi" or "ndci": the index that decided bloom.
    pub index: &'static str,
    pub offset: f64,
    pub pixel_size: [f64; 2],
    pub lake: Figures,
    pub basins: Vec<BasinFigures>,
    /// Distance from the intake to the nearest bloom pixel, metres.
    pub nearest_bloom_to_intake_m: Option<f64>,
    pub chl_fit: Option<ChlFit>,
    /// WGS 84 `[lon_min, lat_min, lon_max, lat_max]` of the overlay.
    pub bounds: [f64; 4],
    #[serde(skip)]
    pub overlay_png: Vec<u8>,
}

/// Per-pixel class, for the overlay and the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Outside,
    Invalid,
    Water,
    Bloom,
}

/// Sentinel-2 SCL classes that are no usable surface: no data, defective, cloud shadow,
/// cloud medium/high, thin cirrus, snow. Vegetation (4) stays: scum is often classed so.
fn scl_invalid(v: f32) -> bool {
    matches!(v as u8, 0 | 1 | 3 | 8 | 9 | 10 | 11)
}

#[derive(Default, Clone)]
struct Acc {
    lake: u64,
    valid: u64,
    bloom: u64,
    lake_m2: f64,
    valid_m2: f64,
    bloom_m2: f64,
    ndci_sum: f64,
    ndci_n: u64,
}

impl Acc {
    fn figures(&self, s: &AnalysisSettings, fit: Option<&ChlFit>) -> Figures {
        let coverage = if self.valid_m2 > 0.0 {
            self.bloom_m2 / self.valid_m2
        } else {
            0.0
        };
        let valid_fraction = if self.lake_m2 > 0.0 {
            self.valid_m2 / self.lake_m2
        } else {
            0.0
        };
        let ndci_mean = (self.ndci_n > 0).then(|| self.ndci_sum / self.ndci_n as f64);
        Figures {
            lake_pixels: self.lake,
            valid_pixels: self.valid,
            bloom_pixels: self.bloom,
            water_area_km2: self.lake_m2 / 1e6,
            valid_area_km2: self.valid_m2 / 1e6,
            bloom_area_km2: self.bloom_m2 / 1e6,
            coverage,
            valid_fraction,
            cloud_limited: valid_fraction < s.min_valid_fraction,
            grade: grade(self.bloom, self.valid, coverage, &s.grade_steps),
            ndci_mean,
            chl_a_estimate: ndci_mean.zip(fit).map(|(m, f)| f.intercept + f.slope * m),
        }
    }
}

fn fit(matchups: Vec<(String, f64, f64)>) -> Option<ChlFit> {
    let n = matchups.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = matchups.iter().map(|m| m.1).sum::<f64>() / nf;
    let my = matchups.iter().map(|m| m.2).sum::<f64>() / nf;
    let sxx: f64 = matchups.iter().map(|m| (m.1 - mx).powi(2)).sum();
    let sxy: f64 = matchups.iter().map(|m| (m.1 - mx) * (m.2 - my)).sum();
    let syy: f64 = matchups.iter().map(|m| (m.2 - my).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        1.0
    };
    Some(ChlFit {
        n,
        slope,
        intercept: my - slope * mx,
        r2,
        matchups,
    })
}

/// Analyse one GeoTIFF against the network's lake.
pub fn analyse(
    bytes: &[u8],
    network: &Network,
    input: &SceneInput<'_>,
    s: &AnalysisSettings,
) -> Result<Analysis, ImageryError> {
    let header = read_header(bytes)?;
    let crs = Crs::from_epsg(header.epsg)?;
    let roles = assign(&header, input.band_mapping)?;
    let band = |r: Role| roles.iter().find(|(q, _)| *q == r).map(|(_, i)| *i);
    let (green, red, re1, nir, swir, scl) = (
        band(Role::Green),
        band(Role::Red),
        band(Role::RedEdge1),
        band(Role::Nir),
        band(Role::Swir1),
        band(Role::Scl),
    );
    let index = match (band(Role::Fai), band(Role::Ndci), red, nir, swir) {
        (_, _, Some(_), Some(_), Some(_)) => "fai",
        (Some(_), _, _, _, _) => "fai",
        (_, _, Some(_), Some(_), None) => "ndvi",
        (None, Some(_), _, _, _) => "ndci",
        _ => {
            return Err(ImageryError::UnknownBands(
                "need B04 + B8A (+ B11 for FAI), or a FAI or NDCI band".into(),
            ));
        }
    };
    let is_float = header.sample.starts_with('f');
    let sc: Scaling = scaling(&header, input.offset, s.default_offset)?;
    let t = header.transform;
    let rings = mask::outline_in_pixels(network, &crs, &t)?;
    let (c0, r0, gw, gh) = mask::grid(&rings);
    let win =
        mask::window_in_image(c0, r0, gw, gh, header.width, header.height).ok_or_else(|| {
            ImageryError::NotOverLake(format!(
                "the scene (EPSG:{}) does not overlap the lake outline",
                header.epsg
            ))
        })?;
    let lake = mask::rasterise(&rings, c0, r0, gw, gh, s.buffer_pixels);
    let px = read_window(bytes, &header, win)?;

    // Basins: each pixel belongs to the basin of the nearest in-lake station (basins have no
    // polygons in the network file; the stations define them).
    let geographic = crs.is_geographic();
    let (xc, yc) = t.apply(c0 as f64 + gw as f64 / 2.0, r0 as f64 + gh as f64 / 2.0);
    let lat0 = crs.to_wgs84(xc, yc)?.1;
    let (mx, my) = if geographic {
        metres_per_degree(lat0)
    } else {
        (1.0, 1.0)
    };
    let to_metres = |c: f64, r: f64| {
        let (x, y) = t.apply(c, r);
        (x * mx, y * my)
    };
    let station_px = |p: network::Position| -> Result<(f64, f64), ImageryError> {
        let (x, y) = crs.from_wgs84(p.lon, p.lat)?;
        Ok(t.invert(x, y))
    };
    let mut anchors = Vec::new();
    for st in network.stations_of(StationKind::Lake) {
        let (c, r) = station_px(st.position)?;
        anchors.push((to_metres(c, r), st.basin.clone()));
    }
    let mut basin_ids: Vec<String> = network.basins.iter().map(|b| b.id.clone()).collect();
    if basin_ids.is_empty() {
        basin_ids.push("lake".into());
    }
    let intakes: Vec<(f64, f64)> = network
        .stations_of(StationKind::Intake)
        .map(|st| station_px(st.position).map(|(c, r)| to_metres(c, r)))
        .collect::<Result<_, _>>()?;

    let nodata = header.nodata.map(|v| v as f32);
    let w = win.width as usize;
    let refl = |b: usize, i: usize| sc.reflectance(px.bands[b][i], is_float);
    let ndci_at = |i: usize| -> Option<f64> {
        match (band(Role::Ndci), red, re1) {
            (Some(b), _, _) => Some(f64::from(px.bands[b][i])),
            (None, Some(r), Some(e)) => {
                let (r, e) = (refl(r, i), refl(e, i));
                (r + e != 0.0).then(|| (e - r) / (e + r))
            }
            _ => None,
        }
    };
    let mut classes = vec![Class::Outside; gw as usize * gh as usize];
    let mut total = Acc::default();
    let mut per_basin = vec![Acc::default(); basin_ids.len()];
    let mut nearest: Option<f64> = None;
    for gr in 0..gh as usize {
        let row = r0 + gr as i64;
        let row_area = if geographic {
            let (_, lat) = t.apply(0.5, row as f64 + 0.5);
            geographic_cell_area_m2(lat, t.dx, t.dy)
        } else {
            t.pixel_area()
        };
        for gc in 0..gw as usize {
            let g = gr * gw as usize + gc;
            if !lake[g] {
                continue;
            }
            let col = c0 + gc as i64;
            let (xm, ym) = to_metres(col as f64 + 0.5, row as f64 + 0.5);
            let bi = anchors
                .iter()
                .min_by(|a, b| {
                    let da = (a.0.0 - xm).powi(2) + (a.0.1 - ym).powi(2);
                    let db = (b.0.0 - xm).powi(2) + (b.0.1 - ym).powi(2);
                    da.total_cmp(&db)
                })
                .and_then(|(_, id)| basin_ids.iter().position(|b| b == id))
                .unwrap_or(0);
            let inside = col >= win.col0 as i64
                && row >= win.row0 as i64
                && col < (win.col0 + win.width) as i64
                && row < (win.row0 + win.height) as i64;
            let i = if inside {
                (row - win.row0 as i64) as usize * w + (col - win.col0 as i64) as usize
            } else {
                0
            };
            let no_data = || {
                px.bands
                    .iter()
                    .enumerate()
                    .any(|(b, v)| Some(b) != scl && (Some(v[i]) == nodata || v[i].is_nan()))
            };
            // SCL when the product has it, else the brightness test on green and red.
            let cloudy = || match (scl, green, red) {
                (Some(b), _, _) => scl_invalid(px.bands[b][i]),
                (None, Some(gb), Some(rb)) => {
                    refl(gb, i) > s.cloud_reflectance && refl(rb, i) > s.cloud_reflectance
                }
                _ => false,
            };
            let valid = inside && !no_data() && !cloudy();
            let bloom = valid
                && match index {
                    "fai" => match band(Role::Fai) {
                        Some(b) => f64::from(px.bands[b][i]) > s.fai_threshold,
                        None => {
                            let (r, n, w1) = (
                                refl(red.unwrap_or(0), i),
                                refl(nir.unwrap_or(0), i),
                                refl(swir.unwrap_or(0), i),
                            );
                            n - r - (w1 - r) * (865.0 - 665.0) / (1610.0 - 665.0) > s.fai_threshold
                        }
                    },
                    "ndvi" => {
                        let (r, n) = (refl(red.unwrap_or(0), i), refl(nir.unwrap_or(0), i));
                        r + n != 0.0 && (n - r) / (n + r) > s.ndvi_threshold
                    }
                    _ => ndci_at(i).is_some_and(|v| v > s.ndci_threshold),
                };
            let ndci = if valid { ndci_at(i) } else { None };
            for acc in [&mut total, &mut per_basin[bi]] {
                acc.lake += 1;
                acc.lake_m2 += row_area;
                if valid {
                    acc.valid += 1;
                    acc.valid_m2 += row_area;
                }
                if bloom {
                    acc.bloom += 1;
                    acc.bloom_m2 += row_area;
                }
                if let Some(v) = ndci {
                    acc.ndci_sum += v;
                    acc.ndci_n += 1;
                }
            }
            if bloom {
                for &(ix, iy) in &intakes {
                    let d = ((ix - xm).powi(2) + (iy - ym).powi(2)).sqrt();
                    nearest = Some(nearest.map_or(d, |n: f64| n.min(d)));
                }
            }
            classes[g] = if bloom {
                Class::Bloom
            } else if valid {
                Class::Water
            } else {
                Class::Invalid
            };
        }
    }
    if total.lake == 0 {
        return Err(ImageryError::NotOverLake(
            "the lake mask is empty after the inward buffer".into(),
        ));
    }
    if total.valid == 0 && !classes.iter().any(|c| *c != Class::Outside) {
        return Err(ImageryError::NotOverLake(
            "no lake pixel lies inside the scene".into(),
        ));
    }

    // Matchups: NDCI (3 × 3 mean of valid lake pixels) at each station with a same-day chl-a.
    let mut matchups = Vec::new();
    for (code, chl) in input.station_chl {
        let Some(st) = network.station(code) else {
            continue;
        };
        let (c, r) = station_px(st.position)?;
        let (mut sum, mut n) = (0.0, 0);
        for dr in -1..=1i64 {
            for dc in -1..=1i64 {
                let (gc, gr) = (c.floor() as i64 + dc - c0, r.floor() as i64 + dr - r0);
                if gc < 0 || gr < 0 || gc >= gw as i64 || gr >= gh as i64 {
                    continue;
                }
                let g = gr as usize * gw as usize + gc as usize;
                let (col, row) = (c0 + gc, r0 + gr);
                if !matches!(classes[g], Class::Water | Class::Bloom) {
                    continue;
                }
                let i = (row - win.row0 as i64) as usize * w + (col - win.col0 as i64) as usize;
                if let Some(v) = ndci_at(i) {
                    sum += v;
                    n += 1;
                }
            }
        }
        if n > 0 {
            matchups.push((code.clone(), sum / n as f64, *chl));
        }
    }
    let chl_fit = fit(matchups);

    let mut corners = Vec::new();
    for (c, r) in [(0, 0), (gw, 0), (0, gh), (gw, gh)] {
        let (x, y) = t.apply((c0 + c as i64) as f64, (r0 + r as i64) as f64);
        corners.push(crs.to_wgs84(x, y)?);
    }
    let bounds = [
        corners.iter().map(|p| p.0).fold(f64::MAX, f64::min),
        corners.iter().map(|p| p.1).fold(f64::MAX, f64::min),
        corners.iter().map(|p| p.0).fold(f64::MIN, f64::max),
        corners.iter().map(|p| p.1).fold(f64::MIN, f64::max),
    ];
    let overlay_png = overlay::encode(&classes, gw, gh)?;
    Ok(Analysis {
        epsg: header.epsg,
        index,
        offset: sc.offset,
        pixel_size: [t.dx.abs(), t.dy.abs()],
        lake: total.figures(s, chl_fit.as_ref()),
        basins: basin_ids
            .iter()
            .zip(&per_basin)
            .map(|(id, a)| BasinFigures {
                basin: id.clone(),
                figures: a.figures(s, chl_fit.as_ref()),
            })
            .collect(),
        nearest_bloom_to_intake_m: nearest,
        chl_fit,
        bounds,
        overlay_png,
    })
}
