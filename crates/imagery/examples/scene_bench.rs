//! Time and peak memory to ingest and analyse a full 10980 × 10980 Sentinel-2 tile (10 m, 6 bands,
//! uint16, Deflate strips) over Hongfeng Lake: decode only the strips meeting the lake, mask,
//! indices, figures, overlay. The tile is generated first (streamed, strip by strip), written to a
//! temporary file and dropped; the peak RSS counter is reset before the measured part.
//!
//! cargo run --release -p imagery --example scene_bench [-- SIZE]

use imagery::{AnalysisSettings, Crs, RowsSpec, SceneInput, analyse, write_rows};
use network::{Position, ZoneKind, geo::polygon_contains};
use std::time::Instant;

fn vm(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let size: u32 = std::env::args().nth(1).map_or(Ok(10980), |s| s.parse())?;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml");
    let net = network::parse_network(&std::fs::read_to_string(root)?, "hongfeng.toml")?;
    let crs = Crs::from_epsg(32648)?;
    let (cx, cy) = crs.from_wgs84(106.41, 26.51)?;
    let res = 10.0;
    let half = size as f64 * res / 2.0;
    let (x0, y0) = ((cx - half).round(), (cy + half).round());
    let outline = &net
        .zones
        .iter()
        .find(|z| z.kind == ZoneKind::LakeOutline)
        .ok_or("no outline")?
        .polygon;
    let utm: Vec<Vec<[f64; 2]>> = outline
        .iter()
        .map(|r| {
            r.iter()
                .map(|&[lo, la]| crs.from_wgs84(lo, la).map(|(x, y)| [x, y]))
                .collect()
        })
        .collect::<Result<_, _>>()?;
    let (bx0, by0) = utm[0]
        .iter()
        .fold((f64::MAX, f64::MAX), |a, p| (a.0.min(p[0]), a.1.min(p[1])));
    let (bx1, by1) = utm[0]
        .iter()
        .fold((f64::MIN, f64::MIN), |a, p| (a.0.max(p[0]), a.1.max(p[1])));
    let (sx, sy) = crs.from_wgs84(106.39, 26.468)?;
    let water = [400u16, 250, 180, 80, 60, 30].map(|v| v + 1000);
    let land = [800u16, 600, 1200, 2500, 3200, 2000].map(|v| v + 1000);
    let scum = [600u16, 450, 800, 1200, 1500, 500].map(|v| v + 1000);
    let spec = RowsSpec {
        width: size,
        height: size,
        descriptions: ["B03", "B04", "B05", "B06", "B8A", "B11"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        metadata: vec![("BOA_ADD_OFFSET".into(), "-1000".into())],
        epsg: 32648,
        x0,
        y0,
        dx: res,
        dy: res,
        nodata: Some(0),
        deflate: true,
    };
    let t = Instant::now();
    let bytes = write_rows(&spec, 6, &mut |r, out| {
        let y = y0 - (r as f64 + 0.5) * res;
        for (c, px) in out.chunks_mut(6).enumerate() {
            let x = x0 + (c as f64 + 0.5) * res;
            let lake = (bx0..bx1).contains(&x)
                && (by0..by1).contains(&y)
                && polygon_contains(&utm, Position { lon: x, lat: y });
            let v = if !lake {
                &land
            } else if (x - sx).abs() < 500.0 && (y - sy).abs() < 400.0 {
                &scum
            } else {
                &water
            };
            px.copy_from_slice(v);
        }
    })?;
    let dir = std::env::temp_dir().join(format!("scene_bench_{}.tif", std::process::id()));
    std::fs::write(&dir, &bytes)?;
    println!(
        "generated {size} x {size} x 6 uint16 (Deflate) = {} MB in {:.1} s",
        bytes.len() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    drop(bytes);
    // Reset the peak-RSS counter (Linux: "5" to clear_refs) so VmHWM is the analysis's own.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let t = Instant::now();
    let file = std::fs::read(&dir)?;
    let a = analyse(
        &file,
        &net,
        &SceneInput::default(),
        &AnalysisSettings::default(),
    )?;
    let took = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&dir);
    println!(
        "read + analysed in {took:.2} s: lake {} px, bloom {} px = {:.3} km², overlay {} KB",
        a.lake.lake_pixels,
        a.lake.bloom_pixels,
        a.lake.bloom_area_km2,
        a.overlay_png.len() / 1000
    );
    println!(
        "peak RSS (VmHWM{}): {}",
        if reset {
            ", reset before the read"
        } else {
            ", whole run"
        },
        vm("VmHWM:")
    );
    Ok(())
}
