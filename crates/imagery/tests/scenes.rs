//! Planted in-memory scenes over the Hongfeng network, written with the crate's own GeoTIFF
//! writer and analysed end to end (decode → mask → indices → figures → overlay).

use imagery::{
    AnalysisSettings, ImageryError, SceneInput, SceneSpec, analyse, read_header, write_geotiff,
};
use network::{Network, parse_network};

const HONGFENG: &str = include_str!("../../../config/hongfeng.toml");

fn network() -> Network {
    parse_network(HONGFENG, "config/hongfeng.toml").expect("hongfeng parses")
}

use imagery::synthetic::{Cover, Synthetic, Written, write};

/// The whole lake, with a margin of land.
const EXTENT: [f64; 4] = [106.355, 26.415, 106.46, 26.61];
/// The planted scum patch in the south basin (near L06), clear of the shore.
const SCUM: [f64; 4] = [106.389, 26.465, 106.395, 26.471];
/// A cloud over the north basin.
const CLOUD: [f64; 4] = [106.419, 26.564, 106.431, 26.576];

struct Scene {
    bytes: Vec<u8>,
    covers: Vec<Cover>,
    pixel_area_m2: Vec<f64>,
}

fn scene(
    epsg: u32,
    res: f64,
    cloud: bool,
    dn_offset: f64,
    metadata: Vec<(String, String)>,
) -> Scene {
    let s = Synthetic {
        epsg,
        res,
        scum: vec![SCUM],
        clouds: if cloud { vec![CLOUD] } else { vec![] },
        dn_offset,
        metadata,
        ..Synthetic::sentinel2(EXTENT)
    };
    let Written {
        bytes,
        covers,
        pixel_area_m2,
    } = write(&network(), &s).unwrap();
    Scene {
        bytes,
        covers,
        pixel_area_m2,
    }
}

fn baseline4() -> Vec<(String, String)> {
    vec![
        ("BOA_ADD_OFFSET".into(), "-1000".into()),
        ("QUANTIFICATION_VALUE".into(), "10000".into()),
    ]
}

fn run(bytes: &[u8]) -> Result<imagery::Analysis, ImageryError> {
    analyse(
        bytes,
        &network(),
        &SceneInput::default(),
        &AnalysisSettings::default(),
    )
}

#[test]
fn bloom_area_is_planted_pixels_times_pixel_area() {
    let s = scene(32648, 20.0, false, 1000.0, baseline4());
    let a = run(&s.bytes).unwrap();
    let planted = s.covers.iter().filter(|c| **c == Cover::Scum).count() as u64;
    assert!(
        planted > 500,
        "the patch is big enough to mean something: {planted}"
    );
    assert_eq!(a.lake.bloom_pixels, planted);
    assert_eq!(a.lake.bloom_area_km2, planted as f64 * 400.0 / 1e6);
    assert_eq!(a.offset, -1000.0);
    assert_eq!(a.index, "fai");
    let south = a.basins.iter().find(|b| b.basin == "south").unwrap();
    let north = a.basins.iter().find(|b| b.basin == "north").unwrap();
    assert_eq!(south.figures.bloom_pixels, planted);
    assert_eq!(north.figures.bloom_pixels, 0);
    assert_eq!(north.figures.grade, "none");
    assert_eq!(a.lake.valid_fraction, 1.0);
    assert!((a.lake.coverage - a.lake.bloom_area_km2 / a.lake.valid_area_km2).abs() < 1e-12);
    // The intake is in the north; the bloom is ~12 km south of it.
    let d = a.nearest_bloom_to_intake_m.unwrap();
    assert!((9_000.0..15_000.0).contains(&d), "{d}");
    assert!(a.overlay_png.starts_with(b"\x89PNG"));
    assert!(
        a.bounds[0] < 106.37
            && a.bounds[2] > 106.447
            && a.bounds[1] < 26.43
            && a.bounds[3] > 26.596
    );
}

#[test]
fn land_outside_the_mask_never_counts() {
    // Land is vegetation: FAI > 0 there (imagery.md §4.4), yet no land pixel may count.
    let s = scene(32648, 20.0, false, 1000.0, baseline4());
    let a = run(&s.bytes).unwrap();
    let lake_planted = s.covers.iter().filter(|c| **c != Cover::Land).count() as u64;
    // The mask is the outline eroded by one pixel, so it is inside the planted lake.
    assert!(a.lake.lake_pixels < lake_planted);
    assert!(a.lake.lake_pixels as f64 > 0.9 * lake_planted as f64);
    let no_buffer = AnalysisSettings {
        buffer_pixels: 0,
        ..Default::default()
    };
    let b = analyse(&s.bytes, &network(), &SceneInput::default(), &no_buffer).unwrap();
    assert!(b.lake.lake_pixels > a.lake.lake_pixels);
    // Without the buffer a mixed shore pixel (vegetation: FAI > 0) can slip in — why the buffer
    // exists; with it the bloom is exactly the planted patch.
    let planted = s.covers.iter().filter(|c| **c == Cover::Scum).count() as u64;
    assert_eq!(a.lake.bloom_pixels, planted);
    assert!(b.lake.bloom_pixels >= planted);
}

#[test]
fn a_cloud_lowers_the_valid_fraction_and_is_not_no_bloom() {
    let s = scene(32648, 20.0, true, 1000.0, baseline4());
    let a = run(&s.bytes).unwrap();
    let north = &a
        .basins
        .iter()
        .find(|b| b.basin == "north")
        .unwrap()
        .figures;
    assert!(a.lake.valid_fraction < 1.0);
    assert!(north.valid_fraction < 1.0);
    let lost = a.lake.lake_pixels - a.lake.valid_pixels;
    let clouds = s.covers.iter().filter(|c| **c == Cover::Cloud).count() as u64;
    assert!(lost > 0 && lost <= clouds, "{lost} of {clouds}");
    assert!(
        (a.lake.valid_fraction - a.lake.valid_pixels as f64 / a.lake.lake_pixels as f64).abs()
            < 1e-12
    );
    // Bright cloud has FAI > 0 in raw numbers but is masked, so it is neither bloom nor water.
    let clear = run(&scene(32648, 20.0, false, 1000.0, baseline4()).bytes).unwrap();
    assert_eq!(a.lake.bloom_pixels, clear.lake.bloom_pixels);
    assert!(
        a.lake.coverage > clear.lake.coverage,
        "coverage is of valid water"
    );
    let strict = AnalysisSettings {
        min_valid_fraction: 0.99,
        ..Default::default()
    };
    let c = analyse(&s.bytes, &network(), &SceneInput::default(), &strict).unwrap();
    assert!(c.lake.cloud_limited);
    assert!(!a.lake.cloud_limited);
}

#[test]
fn l2a_offset_before_and_after_baseline_04_gives_the_same_reflectance() {
    let after = run(&scene(32648, 20.0, false, 1000.0, baseline4()).bytes).unwrap();
    let before = run(&scene(
        32648,
        20.0,
        false,
        0.0,
        vec![("PROCESSING_BASELINE".into(), "03.01".into())],
    )
    .bytes)
    .unwrap();
    let by_baseline = run(&scene(
        32648,
        20.0,
        false,
        1000.0,
        vec![("PROCESSING_BASELINE".into(), "04.00".into())],
    )
    .bytes)
    .unwrap();
    assert_eq!(before.offset, 0.0);
    assert_eq!(by_baseline.offset, -1000.0);
    assert_eq!(before.lake, after.lake);
    assert_eq!(by_baseline.lake, after.lake);
    // Ignoring the offset (the trap) changes the answer: every water pixel gains 0.1 reflectance.
    let s = scene(32648, 20.0, false, 1000.0, vec![]);
    let trap = run(&s.bytes).unwrap();
    assert_ne!(trap.lake, after.lake);
    let told = analyse(
        &s.bytes,
        &network(),
        &SceneInput {
            offset: Some(-1000.0),
            ..Default::default()
        },
        &AnalysisSettings::default(),
    )
    .unwrap();
    assert_eq!(told.lake, after.lake);
}

#[test]
fn the_same_scene_in_32648_and_4326_gives_the_same_area_within_1_percent() {
    let utm = scene(32648, 20.0, false, 1000.0, baseline4());
    let geo = scene(4326, 0.0002, false, 1000.0, baseline4());
    let (a, b) = (run(&utm.bytes).unwrap(), run(&geo.bytes).unwrap());
    assert_eq!(b.epsg, 4326);
    let rel = |x: f64, y: f64| (x - y).abs() / y;
    assert!(
        rel(b.lake.bloom_area_km2, a.lake.bloom_area_km2) < 0.01,
        "{} vs {}",
        b.lake.bloom_area_km2,
        a.lake.bloom_area_km2
    );
    assert!(rel(b.lake.water_area_km2, a.lake.water_area_km2) < 0.01);
    // And in 4326 the area is the per-row ellipsoidal cell area of exactly the planted pixels.
    let planted: f64 = geo
        .covers
        .iter()
        .zip(&geo.pixel_area_m2)
        .filter(|(c, _)| **c == Cover::Scum)
        .map(|(_, a)| a)
        .sum();
    assert!(rel(b.lake.bloom_area_km2, planted / 1e6) < 1e-9);
}

#[test]
fn cgcs2000_is_read_as_geographic() {
    let s = scene(4490, 0.0002, false, 1000.0, baseline4());
    let a = run(&s.bytes).unwrap();
    assert_eq!(a.epsg, 4490);
    assert!(a.lake.bloom_pixels > 0);
}

#[test]
fn bad_files_name_what_is_wrong() {
    let good = scene(32648, 40.0, false, 1000.0, baseline4());
    let code = |r: Result<imagery::Analysis, ImageryError>| r.map(|_| ()).unwrap_err().code();
    assert_eq!(code(run(b"GIF89a not a tiff at all")), "not_tiff");
    assert_eq!(
        code(run(&good.bytes[..good.bytes.len() / 3])),
        "tiff_decode"
    );
    // Plain TIFF without GeoKeys.
    let mut plain = std::io::Cursor::new(Vec::new());
    tiff::encoder::TiffEncoder::new(&mut plain)
        .unwrap()
        .write_image::<tiff::encoder::colortype::Gray16>(4, 4, &[1u16; 16])
        .unwrap();
    assert_eq!(code(run(plain.get_ref())), "no_georeference");
    let mut spec = SceneSpec {
        bands: vec![vec![1200u16; 64]; 6],
        layout: imagery::RowsSpec {
            width: 8,
            height: 8,
            descriptions: imagery::synthetic::S2_BANDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            metadata: baseline4(),
            epsg: 3857,
            x0: 11_847_000.0,
            y0: 3_065_000.0,
            dx: 1000.0,
            dy: 1000.0,
            nodata: None,
            deflate: false,
        },
    };
    let err = run(&write_geotiff(&spec).unwrap()).unwrap_err();
    assert_eq!(err.code(), "crs_unsupported");
    assert!(err.to_string().contains("EPSG:3857"), "{err}");
    // A scene 100 km east of the lake.
    spec.layout.epsg = 32648;
    spec.layout.x0 = 740_000.0;
    spec.layout.y0 = 2_940_000.0;
    assert_eq!(code(run(&write_geotiff(&spec).unwrap())), "not_over_lake");
    spec.layout.descriptions[2] = "B99".into();
    let err = run(&write_geotiff(&spec).unwrap()).unwrap_err();
    assert_eq!(err.code(), "unknown_bands");
    assert!(err.to_string().contains("B99"), "{err}");
    // A mapping of the wrong length is refused too.
    let mapping = vec!["B03".to_string()];
    let input = SceneInput {
        band_mapping: Some(&mapping),
        ..Default::default()
    };
    let err = analyse(
        &good.bytes,
        &network(),
        &input,
        &AnalysisSettings::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "unknown_bands");
}

#[test]
fn a_band_mapping_stands_in_for_missing_descriptions_and_ndvi_serves_sensors_without_swir() {
    let s = scene(32648, 20.0, false, 1000.0, baseline4());
    let header = read_header(&s.bytes).unwrap();
    assert_eq!(header.descriptions[4].as_deref(), Some("B8A"));
    assert_eq!(header.nodata, Some(0.0));
    // Call the SWIR band something unused (B12): the analysis falls back to NDVI (GF, drones).
    let mapping: Vec<String> = ["G", "R", "RE", "B06", "NIR", "B12"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let input = SceneInput {
        band_mapping: Some(&mapping),
        ..Default::default()
    };
    let a = analyse(&s.bytes, &network(), &input, &AnalysisSettings::default()).unwrap();
    assert_eq!(a.index, "ndvi");
    let planted = s.covers.iter().filter(|c| **c == Cover::Scum).count() as u64;
    assert_eq!(a.lake.bloom_pixels, planted);
}

#[test]
fn ndci_is_calibrated_against_station_chl_a() {
    let s = scene(32648, 20.0, false, 1000.0, baseline4());
    // Uniform clear water: NDCI = (0.018 − 0.025)/(0.043) at every station; give different
    // chl-a so the slope cannot be fitted (no NDCI spread) and no estimate is invented.
    let chl = vec![
        ("L01".to_string(), 10.0),
        ("L03".to_string(), 12.0),
        ("L05".to_string(), 14.0),
    ];
    let input = SceneInput {
        station_chl: &chl,
        ..Default::default()
    };
    let a = analyse(&s.bytes, &network(), &input, &AnalysisSettings::default()).unwrap();
    assert!(a.chl_fit.is_none());
    let ndci = a.lake.ndci_mean.unwrap();
    assert!(
        ndci < 0.0,
        "scum raises NDCI a little, clear water is negative: {ndci}"
    );
    assert!(a.lake.chl_a_estimate.is_none());
}

#[test]
fn grades_follow_the_configured_steps() {
    let steps = [0.10, 0.30, 0.60];
    let table = [
        (0, 10, 0.0, "none"),
        (1, 10, 0.05, "sporadic"),
        (1, 10, 0.10, "local"),
        (1, 10, 0.30, "regional"),
        (1, 10, 0.60, "full"),
        (0, 0, 0.0, "unknown"),
    ];
    for (bloom, valid, ratio, want) in table {
        assert_eq!(imagery::grade(bloom, valid, ratio, &steps), want, "{ratio}");
    }
}
