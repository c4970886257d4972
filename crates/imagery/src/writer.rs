//! Our own GeoTIFF writer (the `tiff` encoder plus GeoKeys and GDAL tags): the demo's synthetic
//! scenes and the crate's planted test scenes. North-up, pixel-interleaved, uint16 DN.

use crate::ImageryError;
use tiff::encoder::{TiffEncoder, colortype::ColorType};
use tiff::tags::{PhotometricInterpretation, SampleFormat, Tag};

/// A scene to write: band-sequential DN rows, north-up geotransform at pixel corners.
#[derive(Debug, Clone)]
pub struct SceneSpec {
    pub width: u32,
    pub height: u32,
    pub bands: Vec<Vec<u16>>,
    pub descriptions: Vec<String>,
    /// Dataset-level GDAL metadata items (e.g. `("BOA_ADD_OFFSET", "-1000")`).
    pub metadata: Vec<(String, String)>,
    pub epsg: u32,
    /// Upper-left corner and pixel size (`dy` positive: rows go south).
    pub x0: f64,
    pub y0: f64,
    pub dx: f64,
    pub dy: f64,
    pub nodata: Option<u16>,
}

/// `N` uint16 samples per pixel, BlackIsZero (the encoder has no ready colour type for N ≠ 1, 3, 4).
struct Bands16<const N: usize>;

impl<const N: usize> ColorType for Bands16<N> {
    type Inner = u16;
    const TIFF_VALUE: PhotometricInterpretation = PhotometricInterpretation::BlackIsZero;
    const BITS_PER_SAMPLE: &'static [u16] = &[16; N];
    const SAMPLE_FORMAT: &'static [SampleFormat] = &[SampleFormat::Uint; N];
    fn horizontal_predict(row: &[u16], result: &mut Vec<u16>) {
        result.extend_from_slice(row);
    }
}

fn enc(e: tiff::TiffError) -> ImageryError {
    ImageryError::Encode(e.to_string())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn gdal_metadata(spec: &SceneSpec) -> String {
    let mut xml = String::from("<GDALMetadata>");
    for (k, v) in &spec.metadata {
        xml.push_str(&format!(
            "<Item name=\"{}\">{}</Item>",
            xml_escape(k),
            xml_escape(v)
        ));
    }
    for (i, d) in spec.descriptions.iter().enumerate() {
        xml.push_str(&format!(
            "<Item name=\"DESCRIPTION\" sample=\"{i}\" role=\"description\">{}</Item>",
            xml_escape(d)
        ));
    }
    xml.push_str("</GDALMetadata>");
    xml
}

fn write_n<const N: usize>(spec: &SceneSpec) -> Result<Vec<u8>, ImageryError> {
    let px = (spec.width * spec.height) as usize;
    if spec.bands.len() != N || spec.bands.iter().any(|b| b.len() != px) {
        return Err(ImageryError::Encode(
            "band count or band length does not match".into(),
        ));
    }
    let mut data = Vec::with_capacity(px * N);
    for i in 0..px {
        data.extend(spec.bands.iter().map(|b| b[i]));
    }
    let geographic = matches!(spec.epsg, 4326 | 4490);
    // GeoKeyDirectory: version 1.1.0, then (key, location, count, value) for each key.
    let keys: Vec<u16> = vec![
        1,
        1,
        0,
        3,
        1024,
        0,
        1,
        if geographic { 2 } else { 1 },
        1025,
        0,
        1,
        1,
        if geographic { 2048 } else { 3072 },
        0,
        1,
        spec.epsg as u16,
    ];
    let mut out = std::io::Cursor::new(Vec::new());
    let mut tiff = TiffEncoder::new(&mut out).map_err(enc)?;
    // No ExtraSamples tag: the encoder would count those on top of BitsPerSample; readers
    // (GDAL, tiff) take N BlackIsZero samples as N bands.
    let mut image = tiff
        .new_image::<Bands16<N>>(spec.width, spec.height)
        .map_err(enc)?;
    let dir = image.encoder();
    dir.write_tag(Tag::GeoKeyDirectoryTag, &keys[..])
        .map_err(enc)?;
    dir.write_tag(Tag::ModelPixelScaleTag, &[spec.dx, spec.dy, 0.0][..])
        .map_err(enc)?;
    dir.write_tag(
        Tag::ModelTiepointTag,
        &[0.0, 0.0, 0.0, spec.x0, spec.y0, 0.0][..],
    )
    .map_err(enc)?;
    dir.write_tag(Tag::Unknown(42112), gdal_metadata(spec).as_str())
        .map_err(enc)?;
    if let Some(n) = spec.nodata {
        dir.write_tag(Tag::GdalNodata, n.to_string().as_str())
            .map_err(enc)?;
    }
    image.write_data(&data).map_err(enc)?;
    Ok(out.into_inner())
}

/// Encode the scene as a GeoTIFF (1 to 7 bands).
pub fn write_geotiff(spec: &SceneSpec) -> Result<Vec<u8>, ImageryError> {
    match spec.bands.len() {
        1 => write_n::<1>(spec),
        2 => write_n::<2>(spec),
        3 => write_n::<3>(spec),
        4 => write_n::<4>(spec),
        5 => write_n::<5>(spec),
        6 => write_n::<6>(spec),
        7 => write_n::<7>(spec),
        n => Err(ImageryError::Encode(format!(
            "{n} bands (1 to 7 supported)"
        ))),
    }
}
