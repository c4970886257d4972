//! SQL functions registered on every SQLite connection: the `$filter` date, math and geospatial
//! functions that SQLite lacks, implemented with `sta::time`/`sta::geo` (the `geo` crate).

use chrono::{Datelike, TimeZone, Timelike, Utc};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Result};

fn micros_arg(ctx: &Context<'_>, i: usize) -> Option<chrono::DateTime<Utc>> {
    match ctx.get_raw(i) {
        ValueRef::Integer(m) => Utc.timestamp_micros(m).single(),
        ValueRef::Real(m) => Utc.timestamp_micros(m as i64).single(),
        _ => None,
    }
}

fn num_arg(ctx: &Context<'_>, i: usize) -> Option<f64> {
    match ctx.get_raw(i) {
        ValueRef::Integer(v) => Some(v as f64),
        ValueRef::Real(v) => Some(v),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.parse().ok(),
        _ => None,
    }
}

fn geometry_arg(ctx: &Context<'_>, i: usize) -> Option<geo::Geometry<f64>> {
    match ctx.get_raw(i) {
        ValueRef::Text(t) => sta::geo::parse_any(std::str::from_utf8(t).ok()?),
        _ => None,
    }
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map(Into::into).unwrap_or(Value::Null)
}

pub fn register(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    type DatePart = fn(&chrono::DateTime<Utc>) -> i64;
    let parts: [(&str, DatePart); 6] = [
        ("qs_year", |t| t.year() as i64),
        ("qs_month", |t| t.month() as i64),
        ("qs_day", |t| t.day() as i64),
        ("qs_hour", |t| t.hour() as i64),
        ("qs_minute", |t| t.minute() as i64),
        ("qs_second", |t| t.second() as i64),
    ];
    for (name, part) in parts {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(opt(micros_arg(ctx, 0).map(|t| part(&t))))
        })?;
    }
    conn.create_scalar_function("qs_fractionalseconds", 1, flags, |ctx| {
        Ok(opt(micros_arg(ctx, 0).map(|t| t.nanosecond() as f64 / 1e9)))
    })?;
    conn.create_scalar_function("qs_date", 1, flags, |ctx| {
        Ok(opt(
            micros_arg(ctx, 0).map(|t| t.format("%Y-%m-%d").to_string())
        ))
    })?;
    conn.create_scalar_function("qs_time", 1, flags, |ctx| {
        Ok(opt(
            micros_arg(ctx, 0).map(|t| t.format("%H:%M:%S%.f").to_string())
        ))
    })?;
    // `div`: real division whatever the operands' storage class; NULL on a zero divisor.
    conn.create_scalar_function("qs_div", 2, flags, |ctx| {
        Ok(opt(match (num_arg(ctx, 0), num_arg(ctx, 1)) {
            (Some(a), Some(b)) if b != 0.0 => Some(a / b),
            _ => None,
        }))
    })?;
    // `mod`: the integer remainder on two integers, the floating remainder (truncated, as
    // OData's and C's fmod) when either is a double; NULL on a zero divisor.
    conn.create_scalar_function("qs_mod", 2, flags, |ctx| {
        if let (ValueRef::Integer(a), ValueRef::Integer(b)) = (ctx.get_raw(0), ctx.get_raw(1)) {
            return Ok(opt(a.checked_rem(b)));
        }
        Ok(opt(match (num_arg(ctx, 0), num_arg(ctx, 1)) {
            (Some(a), Some(b)) if b != 0.0 => Some(a % b),
            _ => None,
        }))
    })?;
    conn.create_scalar_function("qs_round", 1, flags, |ctx| {
        Ok(opt(num_arg(ctx, 0).map(f64::round)))
    })?;
    conn.create_scalar_function("qs_floor", 1, flags, |ctx| {
        Ok(opt(num_arg(ctx, 0).map(f64::floor)))
    })?;
    conn.create_scalar_function("qs_ceiling", 1, flags, |ctx| {
        Ok(opt(num_arg(ctx, 0).map(f64::ceil)))
    })?;
    conn.create_scalar_function("qs_geo_distance", 2, flags, |ctx| {
        let (a, b) = (geometry_arg(ctx, 0), geometry_arg(ctx, 1));
        Ok(opt(a.zip(b).map(|(a, b)| sta::geo::distance(&a, &b))))
    })?;
    conn.create_scalar_function("qs_geo_length", 1, flags, |ctx| {
        Ok(opt(geometry_arg(ctx, 0).map(|g| sta::geo::length(&g))))
    })?;
    conn.create_scalar_function("qs_spatial", 3, flags, |ctx| {
        use sta::geo::SpatialRelation::*;
        let op: String = ctx.get(0)?;
        let rel = match op.as_str() {
            "equals" => Equals,
            "disjoint" => Disjoint,
            "touches" => Touches,
            "within" => Within,
            "overlaps" => Overlaps,
            "crosses" => Crosses,
            "intersects" => Intersects,
            _ => Contains,
        };
        let (a, b) = (geometry_arg(ctx, 1), geometry_arg(ctx, 2));
        Ok(opt(a.zip(b).map(|(a, b)| sta::geo::relation(rel, &a, &b))))
    })?;
    conn.create_scalar_function("qs_st_relate", 3, flags, |ctx| {
        let (a, b) = (geometry_arg(ctx, 0), geometry_arg(ctx, 1));
        let pattern: String = ctx.get(2).unwrap_or_default();
        Ok(opt(a.zip(b).and_then(|(a, b)| {
            sta::geo::relate_pattern(&a, &b, &pattern)
        })))
    })?;
    Ok(())
}
