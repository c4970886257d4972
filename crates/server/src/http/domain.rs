//! The domain API over the loaded network: `/api/v1/network`, `/api/v1/series`,
//! `/api/v1/assessment` (see docs/api.md).

use super::AppState;
use super::error::ApiError;
use super::schema::{
    AssessmentBody, Band, BasinBody, ClassKey, DatastreamRef, ErrorBody, NetworkBody, Palette,
    ParameterBody, SeriesBody, SeriesBucket, SeriesPoint, StationBody, StationLatest,
    StationLinkStatus, VideoPointBody,
};
use crate::directory::speaking_rank;
use crate::domain::{Domain, Scope, water_type};
use ::network::DataKind;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, TimeZone};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use store::{SeriesData, SeriesRequest};
use wq::classify::{ClassLimits, ClassifyContext, class_limits};
use wq::{WaterClass, classify};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/network", get(network))
        .route("/api/v1/series", get(series))
        .route("/api/v1/assessment", get(assessment))
}

fn domain(state: &AppState) -> Result<Arc<Domain>, ApiError> {
    state.domain.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no monitoring network is loaded (start the server with --network FILE)",
        )
    })
}

/// Each video point's online state (`None` until it is a fact: online, or offline after the
/// listener ran a whole offline window) and its GB/T 28181 details, by video point id.
fn video_states(
    devices: &[crate::sources::status::DeviceStatus],
) -> HashMap<String, (Option<bool>, Value)> {
    devices
        .iter()
        .filter(|d| d.source == "gb28181")
        .map(|d| {
            let known = d.details.get("known").and_then(Value::as_bool) == Some(true);
            let mut camera = Value::Object(d.details.clone());
            camera["last_seen"] = d.last_frame_at.clone().map_or(Value::Null, Value::String);
            (d.station.clone(), (known.then_some(d.online()), camera))
        })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/network", tag = "domain",
    responses((status = 200, body = NetworkBody), (status = 404, body = ErrorBody)))]
pub(super) async fn network(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<NetworkBody>, ApiError> {
    state.authorize_read(&headers)?;
    let d = domain(&state)?;
    let net = &d.network;
    let latest: HashMap<i64, store::LatestValue> = state
        .store
        .latest(None)
        .await?
        .into_iter()
        .map(|l| (l.datastream_id, l))
        .collect();
    let now = store::clock::now_micros();
    let devices = state.metrics.sources.devices(now);
    let video = video_states(&devices);
    let status: HashMap<String, StationLinkStatus> = devices
        .into_iter()
        .filter(|s| s.source != "gb28181")
        .map(|s| {
            (
                s.station.clone(),
                StationLinkStatus {
                    online: s.status == "online",
                    last_seen: s.last_frame_at,
                },
            )
        })
        .collect();
    let mut stations = Vec::new();
    for s in &net.stations {
        let ctx = ClassifyContext::new(water_type(s.kind));
        let mut streams = d.station_datastreams(&s.code);
        // Per parameter, the datastream that speaks for it comes first (the dashboard relies on it).
        streams.sort_by_key(|(p, k, _)| (p.clone(), speaking_rank(*k).unwrap_or(u8::MAX)));
        let speaks: HashMap<&str, i64> = s
            .parameters
            .iter()
            .filter_map(|p| Some((p.code.as_str(), d.speaking_datastream(&s.code, &p.code)?)))
            .collect();
        let mut latest_values = Vec::new();
        let mut judged: HashMap<String, Option<WaterClass>> = HashMap::new();
        for (parameter, kind, id) in &streams {
            let Some(l) = latest.get(id) else { continue };
            let value = l.result.as_f64();
            let flag = l
                .result_quality
                .as_ref()
                .and_then(|q| q.get("flag"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let valid = flag.as_deref().is_none_or(|f| f == "N");
            let class = match value {
                Some(v) if valid => classify(parameter, v, &ctx).class(),
                _ => None,
            };
            // The station's class: per parameter, the speaking datastream among those with a value
            // (`streams` is in speaking order, so the first with a value).
            if l.observation_id.is_some()
                && speaking_rank(*kind).is_some()
                && !judged.contains_key(parameter)
            {
                let routine = wq::catalogue::by_code(parameter).is_some_and(|p| p.is_routine());
                judged.insert(parameter.clone(), if routine { class } else { None });
            }
            latest_values.push(StationLatest {
                parameter: parameter.clone(),
                datastream_id: *id,
                data_kind: kind.as_str().into(),
                time: l.phenomenon_time.clone(),
                value: l.result.clone(),
                flag,
                class: class.map(ClassKey::from),
            });
        }
        let class = judged.values().flatten().max().copied();
        let target = crate::domain::target_class(s.target_class);
        stations.push(StationBody {
            code: s.code.clone(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            kind: s.kind.as_str().into(),
            water_type: s.kind.water_type().into(),
            basin: s.basin.clone(),
            target_class: target.into(),
            lon: s.position.lon,
            lat: s.position.lat,
            thing_id: d.thing_id(&s.code),
            status: status.get(&s.code).cloned(),
            latest: latest_values,
            class: class.map(ClassKey::from),
            meets_target: class.map(|c| c <= target),
            datastreams: streams
                .iter()
                .map(|(p, k, id)| DatastreamRef {
                    id: *id,
                    parameter: p.clone(),
                    data_kind: k.as_str().into(),
                    speaks: speaks.get(p.as_str()) == Some(id),
                })
                .collect(),
        });
    }
    let parameters = net
        .parameters
        .iter()
        .map(|p| ParameterBody {
            code: p.code.clone(),
            name_zh: p.name_zh.clone(),
            name_en: p.name_en.clone(),
            unit: p.unit.clone(),
            decimals: p.decimals,
            hj212: p.hj212.clone(),
        })
        .collect();
    let video_points = net
        .video_points
        .iter()
        .map(|v| VideoPointBody {
            id: v.id.clone(),
            name_zh: v.name_zh.clone(),
            name_en: v.name_en.clone(),
            kind: v.kind.as_str().into(),
            zone: v.zone.clone(),
            lon: v.position.lon,
            lat: v.position.lat,
            device_id: v.gb28181.as_ref().map(|g| g.device_id.clone()),
            online: video.get(&v.id).and_then(|d| d.0),
            camera: video.get(&v.id).map(|d| d.1.clone()),
        })
        .collect();
    let basins = net
        .basins
        .iter()
        .map(|b| BasinBody {
            id: b.id.clone(),
            name_zh: b.name_zh.clone(),
            name_en: b.name_en.clone(),
        })
        .collect();
    Ok(Json(NetworkBody {
        id: net.id.clone(),
        name_zh: net.name_zh.clone(),
        name_en: net.name_en.clone(),
        schematic: net.schematic,
        bbox: net
            .bbox
            .map(|b| [b.lon_min, b.lat_min, b.lon_max, b.lat_max]),
        zones: net.zones_geojson(),
        basins,
        parameters,
        stations,
        video_points,
        scenes: super::scenes::latest(&state).await,
        palette: Palette::from(&wq::class::Palette::default()),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct SeriesParams {
    datastream: i64,
    from: Option<String>,
    to: Option<String>,
    interval: Option<String>,
}

/// An instant parameter (µs since the epoch), or a 400 naming it.
pub(super) fn parse_instant(name: &str, t: &str) -> Result<i64, ApiError> {
    sta::time::parse_instant(t).map_err(|e| {
        ApiError::bad_request(format!("{name}: '{t}' is not an ISO 8601 instant ({e})"))
    })
}

pub(super) fn parse_time(name: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    v.as_deref().map(|t| parse_instant(name, t)).transpose()
}

/// Most raw points `interval=auto` returns before aggregating.
const AUTO_RAW_POINTS: i64 = 2500;
/// Buckets `interval=auto` aims at when it aggregates.
const AUTO_BUCKETS: i64 = 500;

#[utoipa::path(get, path = "/api/v1/series", tag = "domain", params(SeriesParams),
    responses((status = 200, body = SeriesBody), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn series(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<SeriesParams>,
) -> Result<Json<SeriesBody>, ApiError> {
    state.authorize_read(&headers)?;
    let d = domain(&state)?;
    let (station_code, parameter, kind) = d.describe_datastream(p.datastream).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("datastream {} is not part of the network", p.datastream),
        )
    })?;
    let station = d
        .network
        .station(&station_code)
        .ok_or_else(|| ApiError::bad_request("station vanished"))?;
    let to = parse_time("to", &p.to)?.unwrap_or_else(store::clock::now_micros);
    let from = parse_time("from", &p.from)?.unwrap_or(to - 7 * 86_400_000_000);
    if from >= to {
        return Err(ApiError::bad_request("from must be before to"));
    }
    let cadence_s: i64 = match kind {
        DataKind::Realtime => station.realtime_interval_s as i64,
        DataKind::Hourly => 3600,
        _ => 86_400,
    };
    let bucket_s = match p.interval.as_deref().unwrap_or("auto") {
        "raw" => None,
        "auto" => {
            let expected = (to - from) / 1_000_000 / cadence_s.max(1);
            (expected > AUTO_RAW_POINTS)
                .then(|| ((to - from) / 1_000_000 / AUTO_BUCKETS).max(cadence_s))
        }
        other => Some(
            other
                .parse::<i64>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "interval: '{other}' is not raw, auto or a number of seconds"
                    ))
                })?,
        ),
    };
    let mut result = state
        .store
        .series(SeriesRequest {
            datastreams: vec![p.datastream],
            from,
            to,
            bucket: bucket_s.map(|s| s * 1_000_000),
        })
        .await?;
    let data = result.pop().map(|s| s.data);
    let iso = sta::time::format_instant;
    let (points, buckets) = match data {
        Some(SeriesData::Raw(pts)) => (
            Some(
                pts.into_iter()
                    .map(|p| SeriesPoint {
                        t: iso(p.t),
                        v: p.v,
                        flag: p.flag,
                    })
                    .collect::<Vec<_>>(),
            ),
            None,
        ),
        Some(SeriesData::Buckets(bs)) => (
            None,
            Some(
                bs.into_iter()
                    .map(|b| SeriesBucket {
                        t: iso(b.t),
                        avg: b.avg,
                        min: b.min,
                        max: b.max,
                        n: b.n,
                        flagged: b.flagged,
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        None => (Some(Vec::new()), None),
    };
    let wt = water_type(station.kind);
    let unit = d.network.parameter(&parameter).map(|p| p.unit.clone());
    Ok(Json(SeriesBody {
        datastream_id: p.datastream,
        station: station_code,
        bands: bands(&parameter, wt),
        parameter,
        data_kind: kind.as_str().into(),
        unit,
        water_type: station.kind.water_type().into(),
        from: iso(from),
        to: iso(to),
        interval_s: bucket_s,
        points,
        buckets,
    }))
}

/// The class limits of a parameter as chart bands.
fn bands(parameter: &str, wt: wq::WaterType) -> Vec<Band> {
    let names = [
        ClassKey::I,
        ClassKey::II,
        ClassKey::III,
        ClassKey::IV,
        ClassKey::V,
    ];
    let band = |class, lower, upper| Band {
        class,
        lower,
        upper,
    };
    match class_limits(parameter, wt) {
        Ok(ClassLimits::AtMost(l)) => names
            .iter()
            .zip(l)
            .map(|(c, u)| band(*c, None, Some(u)))
            .collect(),
        Ok(ClassLimits::AtLeast(l)) => names
            .iter()
            .zip(l)
            .map(|(c, u)| band(*c, Some(u), None))
            .collect(),
        Ok(ClassLimits::Range { min, max }) => vec![band(ClassKey::I, Some(min), Some(max))],
        Err(_) => Vec::new(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct AssessmentParams {
    scope: String,
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
    /// RFC 3339: the assessment as it stood then (reviews made or undone later ignored).
    as_of: Option<String>,
}

/// The calendar period containing `now` in local time (Beijing time for Chinese networks).
fn calendar_period(period: &str, now_s: i64, offset_s: i32) -> Result<(i64, i64), ApiError> {
    let tz = chrono::FixedOffset::east_opt(offset_s)
        .ok_or_else(|| ApiError::bad_request("bad utc offset"))?;
    let now = tz
        .timestamp_opt(now_s, 0)
        .single()
        .ok_or_else(|| ApiError::bad_request("bad time"))?;
    let (y, m, d) = (now.year(), now.month(), now.day());
    let start_end =
        |y0: i32, m0: u32, d0: u32, y1: i32, m1: u32, d1: u32| -> Result<(i64, i64), ApiError> {
            let a = tz.with_ymd_and_hms(y0, m0, d0, 0, 0, 0).single();
            let b = tz.with_ymd_and_hms(y1, m1, d1, 0, 0, 0).single();
            match (a, b) {
                (Some(a), Some(b)) => Ok((a.timestamp(), b.timestamp())),
                _ => Err(ApiError::bad_request("cannot compute the period")),
            }
        };
    let next_month = |y: i32, m: u32| if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    match period {
        "day" => {
            let start = tz
                .with_ymd_and_hms(y, m, d, 0, 0, 0)
                .single()
                .ok_or_else(|| ApiError::bad_request("bad day"))?;
            Ok((start.timestamp(), start.timestamp() + 86_400))
        }
        "month" => {
            let (ny, nm) = next_month(y, m);
            start_end(y, m, 1, ny, nm, 1)
        }
        "quarter" => {
            let qm = (m - 1) / 3 * 3 + 1;
            let (ny, nm) = if qm == 10 { (y + 1, 1) } else { (y, qm + 3) };
            start_end(y, qm, 1, ny, nm, 1)
        }
        "year" => start_end(y, 1, 1, y + 1, 1, 1),
        other => Err(ApiError::bad_request(format!(
            "period: '{other}' is not day, month, quarter or year"
        ))),
    }
}

#[utoipa::path(get, path = "/api/v1/assessment", tag = "domain", params(AssessmentParams),
    responses((status = 200, body = AssessmentBody), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn assessment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<AssessmentParams>,
) -> Result<Json<AssessmentBody>, ApiError> {
    state.authorize_read(&headers)?;
    let d = domain(&state)?;
    let scope = Scope::parse(&p.scope).map_err(ApiError::bad_request)?;
    let offset = crate::network::parse_utc_offset(&d.network.utc_offset).unwrap_or(8 * 3600);
    let period = p.period.as_deref().unwrap_or("month");
    let (mut from, mut to) =
        calendar_period(period, store::clock::now_micros() / 1_000_000, offset)?;
    if let Some(f) = parse_time("from", &p.from)? {
        from = f / 1_000_000;
    }
    if let Some(t) = parse_time("to", &p.to)? {
        to = t / 1_000_000;
    }
    if from >= to {
        return Err(ApiError::bad_request("from must be before to"));
    }
    // The as-of view: the assessment as it stood before later reviews.
    let as_of = match parse_time("as_of", &p.as_of)? {
        Some(t) => t / 1_000,
        None => store::clock::now_millis(),
    };
    let result = d
        .assess(&state.store, &scope, from, to, as_of)
        .await
        .map_err(|e| match e {
            crate::domain::AssessError::BadScope(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            crate::domain::AssessError::Store(s) => s.into(),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        })?;
    Ok(Json(AssessmentBody {
        scope: p.scope,
        from: sta::time::format_instant(from * 1_000_000),
        to: sta::time::format_instant(to * 1_000_000),
        result: match result {
            Value::Object(r) => r,
            _ => serde_json::Map::new(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_periods_in_beijing_time() {
        // 2026-03-31T20:00:00Z is 2026-04-01 04:00 in Beijing: April, Q2.
        let now = 1_774_987_200;
        let (a, b) = calendar_period("month", now, 8 * 3600).unwrap();
        assert_eq!(
            sta::time::format_instant(a * 1_000_000),
            "2026-03-31T16:00:00.000Z"
        );
        assert_eq!(
            sta::time::format_instant(b * 1_000_000),
            "2026-04-30T16:00:00.000Z"
        );
        let (a, _) = calendar_period("quarter", now, 8 * 3600).unwrap();
        assert_eq!(
            sta::time::format_instant(a * 1_000_000),
            "2026-03-31T16:00:00.000Z"
        );
        let (a, b) = calendar_period("year", now, 8 * 3600).unwrap();
        assert_eq!(b - a, 365 * 86_400);
        assert!(calendar_period("week", now, 0).is_err());
    }

    #[test]
    fn bands_follow_the_water_type() {
        let lake = bands("tp", wq::WaterType::Lake);
        let river = bands("tp", wq::WaterType::River);
        let json = |b: &Band| serde_json::to_value(b).unwrap_or_default();
        assert_eq!(
            json(&lake[1]),
            serde_json::json!({ "class": "II", "upper": 0.025 })
        );
        assert_eq!(
            json(&river[1]),
            serde_json::json!({ "class": "II", "upper": 0.1 })
        );
        assert_eq!(
            json(&bands("do", wq::WaterType::Lake)[0]),
            serde_json::json!({ "class": "I", "lower": 7.5 })
        );
        assert!(bands("water_temp", wq::WaterType::Lake).is_empty());
    }
}
