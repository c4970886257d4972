//! Our own GeoTIFF writer (the `tiff` encoder plus GeoKeys and GDAL tags): the demo's synthetic
//! scenes and the crate's planted test scenes. North-up, pixel-interleaved, uint16 DN.

use crate::ImageryError;
use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, colortype::ColorType};
use tiff::tags::{PhotometricInterpretation, SampleFormat, Tag};

/// A scene to write: band-sequential DN rows plus its layout and georeference.
#[derive(Debug, Clone)]
pub struct SceneSpec {
    pub bands: Vec<Vec<u16>>,
    pub layout: RowsSpec,
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

fn gdal_metadata(spec: &RowsSpec) -> String {
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

/// Size, band names, metadata and north-up georeference (upper-left corner, pixel size; `dy`
/// positive: rows go south) of a scene to write.
#[derive(Debug, Clone)]
pub struct RowsSpec {
    pub width: u32,
    pub height: u32,
    pub descriptions: Vec<String>,
    pub metadata: Vec<(String, String)>,
    pub epsg: u32,
    pub x0: f64,
    pub y0: f64,
    pub dx: f64,
    pub dy: f64,
    pub nodata: Option<u16>,
    /// Deflate the strips (a whole synthetic Sentinel-2 tile then stays small as a file).
    pub deflate: bool,
}

fn write_n<const N: usize>(
    spec: &RowsSpec,
    row: &mut dyn FnMut(u32, &mut [u16]),
) -> Result<Vec<u8>, ImageryError> {
    let geographic = matches!(spec.epsg, 4326 | 4490);
    // GeoKeyDirectory: version 1.1.0, then (key, location, count, value) for each key.
    #[rustfmt::skip]
    let keys: Vec<u16> = vec![
        1, 1, 0, 3,
        1024, 0, 1, if geographic { 2 } else { 1 },
        1025, 0, 1, 1,
        if geographic { 2048 } else { 3072 }, 0, 1, spec.epsg as u16,
    ];
    let mut out = std::io::Cursor::new(Vec::new());
    let mut tiff = TiffEncoder::new(&mut out).map_err(enc)?;
    if spec.deflate {
        tiff = tiff.with_compression(Compression::Deflate(DeflateLevel::Fast));
    }
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
    // One buffer for the whole image: the encoder compresses only in `write_data`
    // (`write_strip` would write raw bytes under a Deflate tag).
    let row_len = spec.width as usize * N;
    let mut data = vec![0u16; row_len * spec.height as usize];
    for (r, chunk) in data.chunks_mut(row_len).enumerate() {
        row(r as u32, chunk);
    }
    image.write_data(&data).map_err(enc)?;
    Ok(out.into_inner())
}

/// Encode a scene whose pixel-interleaved rows come from `row(r, out)` (`out` has
/// width × bands samples); no band-sequential copy is made.
pub fn write_rows(
    spec: &RowsSpec,
    bands: usize,
    row: &mut dyn FnMut(u32, &mut [u16]),
) -> Result<Vec<u8>, ImageryError> {
    match bands {
        1 => write_n::<1>(spec, row),
        2 => write_n::<2>(spec, row),
        3 => write_n::<3>(spec, row),
        4 => write_n::<4>(spec, row),
        5 => write_n::<5>(spec, row),
        6 => write_n::<6>(spec, row),
        7 => write_n::<7>(spec, row),
        n => Err(ImageryError::Encode(format!(
            "{n} bands (1 to 7 supported)"
        ))),
    }
}

/// Encode the scene as a GeoTIFF (1 to 7 bands, uncompressed).
pub fn write_geotiff(spec: &SceneSpec) -> Result<Vec<u8>, ImageryError> {
    let l = &spec.layout;
    let (w, n) = (l.width as usize, spec.bands.len());
    let px = w * l.height as usize;
    if spec.bands.iter().any(|b| b.len() != px) {
        return Err(ImageryError::Encode(
            "a band's length is not width × height".into(),
        ));
    }
    write_rows(l, n, &mut |r, out| {
        for (i, px) in out.chunks_mut(n).enumerate() {
            for (b, v) in px.iter_mut().enumerate() {
                *v = spec.bands[b][r as usize * w + i];
            }
        }
    })
}
