//! GeoTIFF / COG decoding from bytes with the `tiff` crate: bands, sample formats, GDAL nodata and
//! metadata (band descriptions, BOA_ADD_OFFSET), GeoKeys → EPSG, pixel scale + tie point or
//! ModelTransformation. Only the chunks (tiles or strips) that meet the requested window are
//! decoded, so a 10980 × 10980 tile clipped to the lake costs the lake, not the tile.

use crate::ImageryError;
use std::collections::BTreeMap;
use std::io::Cursor;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::{PlanarConfiguration, Tag};

/// GDAL's private tags (not named by the `tiff` crate).
const GDAL_METADATA: u16 = 42112;
/// GeoKey ids (GeoTIFF 1.1 §7).
const KEY_MODEL_TYPE: u16 = 1024;
const KEY_GEOGRAPHIC_TYPE: u16 = 2048;
const KEY_PROJECTED_TYPE: u16 = 3072;

/// Affine pixel → CRS transform: `x = x0 + col·dx + row·rx`, `y = y0 + col·ry + row·dy`
/// (GDAL order), at pixel corners.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform {
    pub x0: f64,
    pub dx: f64,
    pub rx: f64,
    pub y0: f64,
    pub ry: f64,
    pub dy: f64,
}

impl GeoTransform {
    pub fn apply(&self, col: f64, row: f64) -> (f64, f64) {
        (
            self.x0 + col * self.dx + row * self.rx,
            self.y0 + col * self.ry + row * self.dy,
        )
    }

    /// CRS → pixel (fractional col, row).
    pub fn invert(&self, x: f64, y: f64) -> (f64, f64) {
        let det = self.dx * self.dy - self.rx * self.ry;
        let (u, v) = (x - self.x0, y - self.y0);
        (
            (u * self.dy - v * self.rx) / det,
            (v * self.dx - u * self.ry) / det,
        )
    }

    /// Pixel area in CRS units² (m² for projected CRSs).
    pub fn pixel_area(&self) -> f64 {
        (self.dx * self.dy - self.rx * self.ry).abs()
    }
}

/// Everything known about a file before its pixels are read.
#[derive(Debug, Clone)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    pub bands: usize,
    /// "u8", "u16", "i16", "u32", "f32", "f64".
    pub sample: &'static str,
    pub epsg: u32,
    pub transform: GeoTransform,
    pub nodata: Option<f64>,
    /// Band descriptions from GDAL metadata (`<Item name="DESCRIPTION" sample="i" role="description">`).
    pub descriptions: Vec<Option<String>>,
    /// Dataset-level GDAL metadata items (e.g. BOA_ADD_OFFSET, QUANTIFICATION_VALUE).
    pub metadata: BTreeMap<String, String>,
}

/// A rectangle of pixels: columns `col0..col0+width`, rows `row0..row0+height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub col0: u32,
    pub row0: u32,
    pub width: u32,
    pub height: u32,
}

/// Band-sequential samples of one window, as f32 (the DN or the float value; NaN never invented).
#[derive(Debug, Clone)]
pub struct Pixels {
    pub window: Window,
    pub bands: Vec<Vec<f32>>,
}

fn decode_err(e: tiff::TiffError) -> ImageryError {
    ImageryError::Decode(e.to_string())
}

fn decoder(bytes: &[u8]) -> Result<Decoder<Cursor<&[u8]>>, ImageryError> {
    let magic = [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"];
    if bytes.len() < 8 || !magic.iter().any(|m| bytes.starts_with(*m)) {
        return Err(ImageryError::NotTiff(
            "the body does not start with a TIFF or BigTIFF header".into(),
        ));
    }
    let mut limits = Limits::default();
    // One decoded chunk is at most a few MB; the whole-file caps are the server's upload limit.
    limits.decoding_buffer_size = 512 << 20;
    limits.intermediate_buffer_size = 512 << 20;
    Decoder::new(Cursor::new(bytes))
        .map(|d| d.with_limits(limits))
        .map_err(decode_err)
}

fn tag_f64s(d: &mut Decoder<Cursor<&[u8]>>, tag: Tag) -> Result<Option<Vec<f64>>, ImageryError> {
    match d.find_tag(tag).map_err(decode_err)? {
        Some(v) => Ok(Some(v.into_f64_vec().map_err(decode_err)?)),
        None => Ok(None),
    }
}

/// Parse GDAL's metadata XML (a flat list of `<Item name=.. [sample=..] [role=..]>value</Item>`).
fn parse_gdal_metadata(xml: &str, bands: usize) -> (BTreeMap<String, String>, Vec<Option<String>>) {
    let mut items = BTreeMap::new();
    let mut desc = vec![None; bands];
    for part in xml.split("<Item").skip(1) {
        let Some((attrs, rest)) = part.split_once('>') else {
            continue;
        };
        let Some((value, _)) = rest.split_once("</Item>") else {
            continue;
        };
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            attrs.find(&key).and_then(|i| {
                let s = &attrs[i + key.len()..];
                s.find('"').map(|j| s[..j].to_string())
            })
        };
        let Some(name) = attr("name") else { continue };
        let value = value
            .trim()
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        match attr("sample").and_then(|s| s.parse::<usize>().ok()) {
            Some(i)
                if i < bands
                    && (name == "DESCRIPTION"
                        || attr("role").as_deref() == Some("description")) =>
            {
                desc[i] = Some(value);
            }
            Some(_) => {}
            None => {
                items.insert(name, value);
            }
        }
    }
    (items, desc)
}

fn epsg_from_geokeys(keys: &[u16]) -> Result<u32, ImageryError> {
    if keys.len() < 4 {
        return Err(ImageryError::NoGeoreference(
            "GeoKeyDirectory is truncated".into(),
        ));
    }
    let n = keys[3] as usize;
    let mut model = None;
    let (mut geographic, mut projected) = (None, None);
    for k in keys[4..].chunks_exact(4).take(n) {
        // Location 0 means the value is the short itself (all the keys read here are shorts).
        if k[1] != 0 {
            continue;
        }
        match k[0] {
            KEY_MODEL_TYPE => model = Some(k[3]),
            KEY_GEOGRAPHIC_TYPE => geographic = Some(k[3] as u32),
            KEY_PROJECTED_TYPE => projected = Some(k[3] as u32),
            _ => {}
        }
    }
    let code = match model {
        Some(1) => projected,
        Some(2) => geographic,
        _ => projected.or(geographic),
    };
    match code {
        Some(32767) | None => Err(ImageryError::CrsUnsupported(
            "the GeoKeys give no EPSG code (user-defined CRS)".into(),
        )),
        Some(c) => Ok(c),
    }
}

/// Read the header: size, bands, sample type, georeference, nodata and metadata.
pub fn read_header(bytes: &[u8]) -> Result<Header, ImageryError> {
    let mut d = decoder(bytes)?;
    let (width, height) = d.dimensions().map_err(decode_err)?;
    let color = d.colortype().map_err(decode_err)?;
    let bands = color.num_samples() as usize;
    let bits = color.bit_depth();
    // One SampleFormat per band; the analysis needs them equal (they are in every product).
    let formats = match d.find_tag(Tag::SampleFormat).map_err(decode_err)? {
        Some(v) => v.into_u16_vec().map_err(decode_err)?,
        None => vec![1],
    };
    if formats.windows(2).any(|w| w[0] != w[1]) {
        return Err(ImageryError::SampleFormat(
            "bands of different sample formats".into(),
        ));
    }
    let format = formats.first().copied().unwrap_or(1);
    let sample = match (format, bits) {
        (1, 8) => "u8",
        (1, 16) => "u16",
        (2, 16) => "i16",
        (1, 32) => "u32",
        (3, 32) => "f32",
        (3, 64) => "f64",
        (f, b) => {
            return Err(ImageryError::SampleFormat(format!(
                "SampleFormat {f} with {b} bits"
            )));
        }
    };
    let keys = match d.find_tag(Tag::GeoKeyDirectoryTag).map_err(decode_err)? {
        Some(v) => v.into_u16_vec().map_err(decode_err)?,
        None => {
            return Err(ImageryError::NoGeoreference(
                "no GeoKeyDirectory tag".into(),
            ));
        }
    };
    let epsg = epsg_from_geokeys(&keys)?;
    let transform = if let Some(m) = tag_f64s(&mut d, Tag::ModelTransformationTag)? {
        if m.len() < 8 {
            return Err(ImageryError::NoGeoreference(
                "ModelTransformation has fewer than 8 values".into(),
            ));
        }
        GeoTransform {
            x0: m[3],
            dx: m[0],
            rx: m[1],
            y0: m[7],
            ry: m[4],
            dy: m[5],
        }
    } else {
        let scale = tag_f64s(&mut d, Tag::ModelPixelScaleTag)?;
        let tie = tag_f64s(&mut d, Tag::ModelTiepointTag)?;
        match (scale, tie) {
            (Some(s), Some(t)) if s.len() >= 2 && t.len() >= 6 => GeoTransform {
                x0: t[3] - t[0] * s[0],
                dx: s[0],
                rx: 0.0,
                y0: t[4] + t[1] * s[1],
                ry: 0.0,
                dy: -s[1],
            },
            _ => {
                return Err(ImageryError::NoGeoreference(
                    "neither ModelTransformation nor ModelPixelScale + ModelTiepoint".into(),
                ));
            }
        }
    };
    if transform.pixel_area() == 0.0 || !transform.pixel_area().is_finite() {
        return Err(ImageryError::NoGeoreference(
            "the pixel size is zero".into(),
        ));
    }
    let nodata = match d.find_tag(Tag::GdalNodata).map_err(decode_err)? {
        Some(v) => v
            .into_string()
            .ok()
            .and_then(|s| s.trim_matches(char::from(0)).trim().parse().ok()),
        None => None,
    };
    let xml = match d
        .find_tag(Tag::Unknown(GDAL_METADATA))
        .map_err(decode_err)?
    {
        Some(v) => v.into_string().unwrap_or_default(),
        None => String::new(),
    };
    let (metadata, descriptions) = parse_gdal_metadata(&xml, bands);
    Ok(Header {
        width,
        height,
        bands,
        sample,
        epsg,
        transform,
        nodata,
        descriptions,
        metadata,
    })
}

fn to_f32(r: DecodingResult) -> Result<Vec<f32>, ImageryError> {
    Ok(match r {
        DecodingResult::U8(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::U16(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::I16(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::U32(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::F32(v) => v,
        DecodingResult::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        _ => {
            return Err(ImageryError::SampleFormat(
                "unsupported decoded sample type".into(),
            ));
        }
    })
}

/// Decode the pixels of `window` (clamped to the image), reading only the chunks it meets.
pub fn read_window(bytes: &[u8], header: &Header, window: Window) -> Result<Pixels, ImageryError> {
    let mut d = decoder(bytes)?;
    let nb = header.bands;
    let planar = d
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(decode_err)?
        == Some(PlanarConfiguration::Planar.to_u16());
    let (cw, ch) = d.chunk_dimensions();
    let across = header.width.div_ceil(cw);
    let down = header.height.div_ceil(ch);
    let per_plane = across * down;
    let (w, h) = (window.width as usize, window.height as usize);
    let mut bands = vec![vec![0f32; w * h]; nb];
    let (c_first, c_last) = (window.col0 / cw, (window.col0 + window.width - 1) / cw);
    let (r_first, r_last) = (window.row0 / ch, (window.row0 + window.height - 1) / ch);
    for cr in r_first..=r_last {
        for cc in c_first..=c_last {
            let planes: Vec<(u32, Option<usize>)> = if planar {
                (0..nb)
                    .map(|b| (b as u32 * per_plane + cr * across + cc, Some(b)))
                    .collect()
            } else {
                vec![(cr * across + cc, None)]
            };
            for (index, plane) in planes {
                let (dw, dh) = d.chunk_data_dimensions(index);
                let data = to_f32(d.read_chunk(index).map_err(decode_err)?)?;
                let stride = if plane.is_some() { 1 } else { nb };
                // Chunks may be padded to the full chunk width in the stored data.
                let row_len = (data.len() / stride / dh.max(1) as usize).max(dw as usize);
                for y in 0..dh {
                    let row = cr * ch + y;
                    if row < window.row0 || row >= window.row0 + window.height {
                        continue;
                    }
                    for x in 0..dw {
                        let col = cc * cw + x;
                        if col < window.col0 || col >= window.col0 + window.width {
                            continue;
                        }
                        let out = (row - window.row0) as usize * w + (col - window.col0) as usize;
                        let at = (y as usize * row_len + x as usize) * stride;
                        match plane {
                            Some(b) => bands[b][out] = data[at],
                            None => {
                                for (b, band) in bands.iter_mut().enumerate() {
                                    band[out] = data[at + b];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(Pixels { window, bands })
}
