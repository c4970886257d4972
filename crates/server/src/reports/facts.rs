//! The non-assessment facts of a report: scenes, alerts and station-day means of the period.

use super::ReportFailure;
use crate::domain::Domain;
use report::{AlertFact, DayMean, SceneFact};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::Store;

pub(super) async fn scenes_of(
    store: &Arc<dyn Store>,
    from: i64,
    to: i64,
) -> Result<Vec<SceneFact>, ReportFailure> {
    let Some(scenes) = store.clone().scene_store() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<SceneFact> = scenes
        .scenes(10_000)
        .await?
        .into_iter()
        .filter(|s| s.time >= from * 1000 && s.time < to * 1000)
        .map(|s| {
            let f = |k: &str| {
                s.body
                    .get(k)
                    .and_then(serde_json::Value::as_f64)
                    .unwrap_or(0.0)
            };
            SceneFact {
                time_ms: s.time,
                sensor: s.sensor.clone(),
                bloom_area_km2: f("bloom_area_km2"),
                coverage: f("coverage"),
                valid_fraction: f("valid_fraction"),
                cloud_limited: s
                    .body
                    .get("cloud_limited")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
                grade: s
                    .body
                    .get("grade")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            }
        })
        .collect();
    out.sort_by_key(|s| s.time_ms);
    Ok(out)
}

pub(super) async fn alerts_of(
    store: &Arc<dyn Store>,
    from: i64,
    to: i64,
    stations: &[&str],
    everything: bool,
) -> Result<Vec<AlertFact>, ReportFailure> {
    let Some(alerts) = store.clone().alert_store() else {
        return Ok(Vec::new());
    };
    let (list, _) = alerts
        .alerts(store::alerts::AlertFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await?;
    let mut out: Vec<AlertFact> = list
        .into_iter()
        .filter(|a| a.created_at >= from * 1000 && a.created_at < to * 1000)
        // The network report has every alert; a narrower one those of its stations.
        .filter(|a| everything || a.station.as_deref().is_some_and(|s| stations.contains(&s)))
        .map(|a| {
            let rule = a.rule.parse::<alerts::RuleKind>().ok();
            let label = |l| rule.map_or(a.rule.clone(), |r| r.label(l).to_string());
            AlertFact {
                id: a.id,
                rule_zh: label(alerts::text::Lang::Zh),
                rule_en: label(alerts::text::Lang::En),
                rule: a.rule.clone(),
                severity: a.severity.clone(),
                station: a.station.clone(),
                message: a
                    .body
                    .get("message")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                created_at: a.created_at,
                acknowledged_at: a
                    .body
                    .get("acknowledged_at")
                    .and_then(serde_json::Value::as_i64),
                cleared_at: a.body.get("cleared_at").and_then(serde_json::Value::as_i64),
            }
        })
        .collect();
    out.sort_by_key(|a| a.created_at);
    Ok(out)
}

/// The mean of each station-day of each parameter over the values the assessment uses (after
/// review; flag `N` only, as a valid value must be).
pub(super) async fn day_means(
    d: &Domain,
    store: &Arc<dyn Store>,
    stations: &[&::network::Station],
    from: i64,
    to: i64,
    as_of: i64,
    offset: i32,
) -> Result<Vec<DayMean>, ReportFailure> {
    let mut out = Vec::new();
    for s in stations {
        let mut tally = crate::domain::ReviewTally::default();
        let series = d
            .station_series(store, s, from, to, as_of, &mut tally)
            .await?;
        for (parameter, samples) in series {
            let mut days: BTreeMap<i64, (f64, u32)> = BTreeMap::new();
            for sm in samples.iter().filter(|sm| sm.flag == wq::DataFlag::N) {
                let day = (sm.time + offset as i64).div_euclid(86_400);
                let e = days.entry(day).or_insert((0.0, 0));
                e.0 += sm.value;
                e.1 += 1;
            }
            for (day, (sum, n)) in days {
                let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                out.push(DayMean {
                    station: s.code.clone(),
                    parameter: parameter.clone(),
                    day: date,
                    mean: sum / n as f64,
                    n,
                });
            }
        }
    }
    Ok(out)
}
