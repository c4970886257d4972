//! From a decoded HJ 212 data segment to the values to store: which data kind, which parameter,
//! which instant, which result, flag and provenance. Pure (no IO): the listener resolves the
//! datastream ids and writes.
//!
//! Storage rule: the result is `-Rtd` for real-time data (2011) and `-Avg` for minute (2051),
//! hourly (2061) and daily (2031) data; the data flag goes to `resultQuality` (`{"flag": "N"}`,
//! absent flag with a value → N, reference §9); `-Min`, `-Max`, `-Cou` and the provenance
//! (`source`, `mn`, `qn`, `cn`) go to `parameters`. Interval data get a phenomenon interval
//! starting at DataTime (the start of the interval, reference §8.2): 1 h for hourly, 1 d for daily.

use crate::network::RegisteredStation;
use crate::sources::ingest::{TimeRefusal, check_instants};
use hj212::{Cn, DataSegment, FactorValue};
use network::DataKind;
use serde_json::{Map, Value, json};

/// One value of a frame, before its datastream is known.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameValue {
    pub parameter: String,
    pub kind: DataKind,
    pub phenomenon_time: i64,
    pub phenomenon_time_end: Option<i64>,
    pub result: Value,
    pub result_time: Option<i64>,
    pub result_quality: Value,
    pub parameters: Value,
}

/// What a measurement frame carries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameValues {
    pub values: Vec<FrameValue>,
    /// Factors the station does not measure, or without a usable number: logged and counted.
    pub skipped: Vec<String>,
}

/// Why a measurement frame cannot be stored at all.
#[derive(Debug, Clone, PartialEq)]
pub enum ValuesError {
    /// No DataTime, or a DataTime that is not a valid local time.
    BadDataTime(String),
}

/// Checks every value time of a frame (DataTime and the QN time) with the shared ingest rule
/// ([`crate::sources::ingest::check_instants`]): one wrong clock must not pin a latest value or move the alert clock.
pub fn check_times(
    values: &FrameValues,
    now_micros: i64,
    tolerance_s: u64,
) -> Result<(), TimeRefusal> {
    let times = values
        .values
        .iter()
        .flat_map(|v| std::iter::once(v.phenomenon_time).chain(v.result_time));
    check_instants(times, now_micros, tolerance_s)
}

/// The data kind a CN uploads into, for the measurement CNs we store.
pub fn data_kind(cn: Cn) -> Option<DataKind> {
    match cn {
        Cn::REALTIME_DATA => Some(DataKind::Realtime),
        Cn::MINUTE_DATA => Some(DataKind::Minute),
        Cn::HOURLY_DATA => Some(DataKind::Hourly),
        Cn::DAILY_DATA => Some(DataKind::Daily),
        _ => None,
    }
}

fn interval_micros(kind: DataKind) -> Option<i64> {
    match kind {
        DataKind::Hourly => Some(3_600_000_000),
        DataKind::Daily => Some(86_400_000_000),
        _ => None,
    }
}

/// A decimal string as a JSON number; `None` for anything else (NaN, text, empty).
fn number(text: &str) -> Option<Value> {
    let v: f64 = text.trim().parse().ok().filter(|v: &f64| v.is_finite())?;
    // Integers stay integers (`Cou=12`), so the stored JSON reads as the station sent it.
    if let Ok(i) = text.trim().parse::<i64>() {
        return Some(json!(i));
    }
    serde_json::Number::from_f64(v).map(Value::Number)
}

/// The values of a measurement upload (`kind` from [`data_kind`]).
pub fn frame_values(
    segment: &DataSegment,
    kind: DataKind,
    station: &RegisteredStation,
) -> Result<FrameValues, ValuesError> {
    let time = match segment.data_time_utc(&station.options) {
        Some(Ok(t)) => t.timestamp_micros(),
        Some(Err(e)) => return Err(ValuesError::BadDataTime(e.to_string())),
        None => {
            return Err(ValuesError::BadDataTime(
                "the CP has no DataTime".to_owned(),
            ));
        }
    };
    let result_time = segment
        .qn_utc(&station.options)
        .and_then(Result::ok)
        .map(|t| t.timestamp_micros());
    let mut out = FrameValues::default();
    for factor in segment.cp.factors() {
        let Some(parameter) = station.factors.get(&factor.code) else {
            out.skipped.push(format!(
                "{}: not measured by station {}",
                factor.code, station.code
            ));
            continue;
        };
        match factor_value(&factor, kind) {
            Some((result, extra)) => {
                let mut parameters = Map::new();
                parameters.insert("source".into(), json!("hj212"));
                parameters.insert("mn".into(), json!(segment.mn));
                if let Some(qn) = &segment.qn {
                    parameters.insert("qn".into(), json!(qn));
                }
                parameters.insert("cn".into(), json!(segment.cn.to_string()));
                parameters.extend(extra);
                let mut quality = Map::new();
                if let Some(flag) = factor.effective_flag() {
                    quality.insert("flag".into(), json!(flag.as_str()));
                }
                if let Some(eflag) = &factor.eflag {
                    quality.insert("eflag".into(), json!(eflag));
                }
                out.values.push(FrameValue {
                    parameter: parameter.clone(),
                    kind,
                    phenomenon_time: time,
                    phenomenon_time_end: interval_micros(kind).map(|d| time + d),
                    result,
                    result_time,
                    result_quality: Value::Object(quality),
                    parameters: Value::Object(parameters),
                });
            }
            None => out.skipped.push(format!(
                "{}: no numeric value for {} data",
                factor.code,
                kind.as_str()
            )),
        }
    }
    Ok(out)
}

/// The result and the extra parameters (Min/Max/Cou) of one factor.
fn factor_value(f: &FactorValue, kind: DataKind) -> Option<(Value, Map<String, Value>)> {
    let primary = match kind {
        DataKind::Realtime => f.rtd.as_deref().or(f.avg.as_deref()),
        _ => f.avg.as_deref().or(f.rtd.as_deref()),
    };
    let result = number(primary?)?;
    let mut extra = Map::new();
    for (name, v) in [("min", &f.min), ("max", &f.max), ("cou", &f.cou)] {
        if let Some(text) = v {
            extra.insert(name.into(), number(text).unwrap_or_else(|| json!(text)));
        }
    }
    Some((result, extra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hj212::StationOptions;
    use std::collections::HashMap;

    fn station() -> RegisteredStation {
        RegisteredStation {
            index: 0,
            code: "R01".into(),
            mn: "MN1".into(),
            pw: "pw".into(),
            st: "21".into(),
            options: StationOptions::default(),
            factors: HashMap::from([
                ("w21011".into(), "tp".into()),
                ("w01010".into(), "water_temp".into()),
            ]),
            realtime_interval_s: 300,
        }
    }

    #[test]
    fn hourly_avg_min_max_flag() {
        let seg = DataSegment::parse(
            "QN=20260315100000456;ST=21;CN=2061;PW=p;MN=MN1;Flag=5;CP=&&DataTime=20260315090000;\
             w21011-Min=0.021,w21011-Avg=0.024,w21011-Max=0.027,w21011-Cou=12,w21011-Flag=M;w99999-Avg=1&&",
        )
        .expect("parses");
        let v = frame_values(&seg, DataKind::Hourly, &station()).expect("values");
        assert_eq!(v.values.len(), 1);
        assert_eq!(v.skipped.len(), 1);
        let tp = &v.values[0];
        assert_eq!(tp.parameter, "tp");
        assert_eq!(tp.result, json!(0.024));
        assert_eq!(tp.result_quality, json!({"flag": "M"}));
        assert_eq!(tp.parameters["min"], json!(0.021));
        assert_eq!(tp.parameters["cou"], json!(12));
        assert_eq!(tp.parameters["qn"], json!("20260315100000456"));
        assert_eq!(tp.parameters["cn"], json!("2061"));
        // 09:00 Beijing = 01:00 UTC.
        assert_eq!(
            sta::time::format_instant(tp.phenomenon_time),
            "2026-03-15T01:00:00.000Z"
        );
        assert_eq!(
            tp.phenomenon_time_end,
            Some(tp.phenomenon_time + 3_600_000_000)
        );
    }

    #[test]
    fn future_and_ancient_times_are_refused() {
        let seg = |data_time: &str| {
            DataSegment::parse(&format!(
                "ST=21;CN=2061;PW=p;MN=MN1;Flag=5;CP=&&DataTime={data_time};w21011-Avg=0.024&&"
            ))
            .expect("parses")
        };
        let now = sta::time::parse_instant("2026-03-15T01:00:00Z").expect("instant");
        let values = |t: &str| frame_values(&seg(t), DataKind::Hourly, &station()).expect("values");
        // 09:00 Beijing = now; 09:09 is within 600 s; 09:11 is not.
        assert_eq!(check_times(&values("20260315090000"), now, 600), Ok(()));
        assert_eq!(check_times(&values("20260315090900"), now, 600), Ok(()));
        assert!(matches!(
            check_times(&values("20260315091100"), now, 600),
            Err(TimeRefusal::Future { .. })
        ));
        assert!(matches!(
            check_times(&values("20990101000000"), now, 600),
            Err(TimeRefusal::Future { .. })
        ));
        // However large the tolerance, the year 2201 stays out.
        assert!(matches!(
            check_times(&values("22010101090000"), now, u64::MAX),
            Err(TimeRefusal::Future { .. })
        ));
        assert!(matches!(
            check_times(&values("18991231000000"), now, 600),
            Err(TimeRefusal::TooEarly { .. })
        ));
    }

    #[test]
    fn realtime_rtd_default_flag_and_bad_values() {
        let seg = DataSegment::parse(
            "QN=20260315093000123;ST=21;CN=2011;PW=p;MN=MN1;Flag=5;CP=&&DataTime=20260315093000;w01010-Rtd=14.6;w21011-Rtd=abc&&",
        )
        .expect("parses");
        let v = frame_values(&seg, DataKind::Realtime, &station()).expect("values");
        assert_eq!(v.values.len(), 1);
        assert_eq!(v.values[0].result, json!(14.6));
        assert_eq!(v.values[0].result_quality, json!({"flag": "N"}));
        assert_eq!(v.values[0].phenomenon_time_end, None);
        assert_eq!(v.skipped.len(), 1);
        let no_time = DataSegment::parse("ST=21;CN=2011;PW=p;MN=MN1;Flag=5;CP=&&w01010-Rtd=1&&")
            .expect("parses");
        assert!(matches!(
            frame_values(&no_time, DataKind::Realtime, &station()),
            Err(ValuesError::BadDataTime(_))
        ));
    }
}
