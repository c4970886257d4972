//! The per-basin scene figures as observations: one water-body Thing per basin (and one for the
//! whole lake) with three Datastreams — bloom area (km²), bloom coverage and valid fraction
//! (ratios) — created on first use (upsert by `properties.key`) and written through `Ingest`,
//! so the STA API, charts and the alert engine see them like any other data.

use crate::sources::ingest::Ingest;
use anyhow::Context;
use imagery::{Analysis, Figures};
use serde_json::{Value, json};
use sta::EntityType;
use std::sync::{Arc, OnceLock};
use store::{NewObservation, Store, WriteCommand};

/// (metric, name, unit symbol, unit name, definition of the unit).
const METRICS: [(&str, &str, &str, &str); 3] = [
    (
        "bloom_area",
        "Bloom area 水华面积",
        "km2",
        "square kilometre",
    ),
    (
        "bloom_coverage",
        "Bloom coverage of valid water 水华覆盖率",
        "1",
        "ratio",
    ),
    (
        "valid_fraction",
        "Valid (cloud-free) fraction 有效像元比例",
        "1",
        "ratio",
    ),
];

fn thing_key(water_body: &str) -> String {
    format!("waterbody:{water_body}")
}

fn datastream_key(water_body: &str, metric: &str) -> String {
    format!("datastream:waterbody:{water_body}:{metric}")
}

/// One creation at a time in this process, so two scenes arriving together do not both create
/// the same Thing (the upsert is by key; the store has no unique index on it).
fn creating() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

fn thing_body(water_body: &str, name: &str, at: [f64; 2]) -> Value {
    let datastreams: Vec<Value> = METRICS
        .iter()
        .map(|(metric, title, symbol, unit)| {
            json!({
                "name": format!("{name} — {title}"),
                "description": format!("{title} from satellite/drone scenes over {name}"),
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": unit, "symbol": symbol, "definition": format!("ucum:{symbol}")},
                "properties": {"key": datastream_key(water_body, metric), "kind": "imagery", "metric": metric},
                "Sensor": {"name": "Imagery analysis", "description": "qingshui imagery (FAI/NDVI on scenes)",
                           "encodingType": "text/html", "metadata": "docs/imagery.md"},
                "ObservedProperty": {"name": title, "definition": format!("qingshui:imagery:{metric}"),
                                     "description": title},
            })
        })
        .collect();
    json!({
        "name": name,
        "description": format!("Water body {name} as seen by scenes"),
        "properties": {"key": thing_key(water_body), "kind": "water_body", "water_body": water_body},
        // Observations take their FeatureOfInterest from the Thing's Location.
        "Locations": [{
            "name": name,
            "description": format!("{name}: mean position of its in-lake stations"),
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": at},
        }],
        "Datastreams": datastreams,
    })
}

/// Datastream ids of a water body's three metrics, creating the Thing when missing.
async fn ensure(
    store: &Arc<dyn Store>,
    water_body: &str,
    name: &str,
    at: [f64; 2],
) -> anyhow::Result<Vec<i64>> {
    let lookup = || async {
        let mut ids = Vec::new();
        for (metric, ..) in METRICS {
            let found = store
                .keyed_entities(
                    EntityType::Datastream,
                    Some(datastream_key(water_body, metric)),
                )
                .await
                .context("reading the water-body datastreams")?;
            ids.push(found.first().map(|e| e.id));
        }
        anyhow::Ok(ids.into_iter().collect::<Option<Vec<i64>>>())
    };
    if let Some(ids) = lookup().await? {
        return Ok(ids);
    }
    let _guard = creating().lock().await;
    if let Some(ids) = lookup().await? {
        return Ok(ids);
    }
    store
        .write(WriteCommand::Create {
            path: sta::parse_path("Things")?,
            body: thing_body(water_body, name, at),
        })
        .await
        .context("creating the water-body Thing")?;
    lookup()
        .await?
        .context("the water-body datastreams are missing after their creation")
}

fn rows(ids: &[i64], f: &Figures, time_us: i64, scene: i64) -> Vec<NewObservation> {
    let values = [f.bloom_area_km2, f.coverage, f.valid_fraction];
    ids.iter()
        .zip(values)
        .map(|(&id, v)| NewObservation {
            datastream_id: id,
            phenomenon_time: time_us,
            phenomenon_time_end: None,
            result: json!(v),
            result_time: None,
            result_quality: None,
            parameters: Some(
                json!({"scene": scene, "cloud_limited": f.cloud_limited, "grade": f.grade}),
            ),
            feature_id: None,
        })
        .collect()
}

/// Writes the lake's and every basin's figures at the acquisition time; returns the row count.
pub async fn write_figures(
    ingest: &Ingest,
    network: &network::Network,
    a: &Analysis,
    time_us: i64,
    scene: i64,
) -> anyhow::Result<u64> {
    let store = ingest.store().clone();
    let mut all = rows(
        &ensure(&store, "lake", &network.name_en, centre(network, None)).await?,
        &a.lake,
        time_us,
        scene,
    );
    for b in &a.basins {
        let name = network
            .basin(&b.basin)
            .map_or(b.basin.clone(), |x| x.name_en.clone());
        all.extend(rows(
            &ensure(&store, &b.basin, &name, centre(network, Some(&b.basin))).await?,
            &b.figures,
            time_us,
            scene,
        ));
    }
    Ok(ingest.observations(all).await?)
}

/// Mean position of the in-lake stations (of one basin, or all).
fn centre(network: &network::Network, basin: Option<&str>) -> [f64; 2] {
    let pts: Vec<_> = network
        .stations_of(network::StationKind::Lake)
        .filter(|s| basin.is_none_or(|b| s.basin == b))
        .map(|s| s.position)
        .collect();
    if pts.is_empty() {
        return network.bbox.map_or([0.0, 0.0], |b| {
            [(b.lon_min + b.lon_max) / 2.0, (b.lat_min + b.lat_max) / 2.0]
        });
    }
    let n = pts.len() as f64;
    [
        pts.iter().map(|p| p.lon).sum::<f64>() / n,
        pts.iter().map(|p| p.lat).sum::<f64>() / n,
    ]
}
