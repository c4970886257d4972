//! Same-day station chl-a for the NDCI calibration (imagery.md §4.2: regress against in-situ
//! chl-a): for every in-lake station and the intake, the stored chl-a value nearest in time to
//! the acquisition, within the window.

use crate::domain::Domain;
use network::StationKind;
use std::sync::Arc;
use store::{SeriesData, SeriesRequest, Store};

pub async fn station_chl(
    domain: &Domain,
    store: &Arc<dyn Store>,
    time_us: i64,
    window_s: u64,
) -> Vec<(String, f64)> {
    let window = window_s as i64 * 1_000_000;
    let mut out = Vec::new();
    for st in domain
        .network
        .stations
        .iter()
        .filter(|s| s.kind != StationKind::River)
    {
        let Some(id) = domain.speaking_datastream(&st.code, "chl_a") else {
            continue;
        };
        let req = SeriesRequest {
            datastreams: vec![id],
            from: time_us - window,
            to: time_us + window + 1,
            bucket: None,
        };
        let series = match store.series(req).await {
            Ok(s) => s,
            Err(e) => {
                // No calibration rather than no scene: the fit is an extra.
                tracing::debug!(error = %e, station = %st.code, "no chl-a matchup");
                continue;
            }
        };
        let nearest = series
            .iter()
            .filter_map(|s| match &s.data {
                SeriesData::Raw(points) => Some(points),
                SeriesData::Buckets(_) => None,
            })
            .flatten()
            .filter_map(|p| p.v.map(|v| ((p.t - time_us).abs(), v)))
            .min_by_key(|(d, _)| *d);
        if let Some((_, v)) = nearest {
            out.push((st.code.clone(), v));
        }
    }
    out
}
