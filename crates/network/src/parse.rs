//! `parse_network`: TOML text → validated [`Network`], with file/line/column on every error.

use crate::error::{NetworkError, Problem};
use crate::geo::{check_polygon, polygon_contains};
use crate::model::*;
use crate::raw::*;
use crate::span::line_column;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

mod links;

/// The file format version this build reads (`schema_version` at the top of the file).
pub const SCHEMA_VERSION: i64 = 1;

/// Parses and validates a network file.
///
/// `toml_text` is the file's content and `source_name` the name used in errors (usually the
/// path). No IO happens here. Returns the first problem found, with its line and column.
pub fn parse_network(toml_text: &str, source_name: &str) -> Result<Network, NetworkError> {
    let checker = Checker {
        text: toml_text,
        source_name,
    };
    let raw: RawFile = toml::from_str(toml_text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        checker.error(span, Problem::Syntax(e.message().trim().to_owned()))
    })?;
    checker.build(raw)
}

struct Checker<'a> {
    text: &'a str,
    source_name: &'a str,
}

fn is_identifier(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

type Check<T> = Result<T, NetworkError>;

/// Rings of `[lon, lat]` pairs, or which position is not a pair.
fn pairs(rings: &[Ring]) -> Result<Vec<Vec<[f64; 2]>>, String> {
    rings
        .iter()
        .enumerate()
        .map(|(r, ring)| {
            ring.iter()
                .enumerate()
                .map(|(i, pos)| match pos.as_slice() {
                    &[lon, lat] => Ok([lon, lat]),
                    other => Err(format!(
                        "position {} of ring {} has {} numbers; expected [lon, lat]",
                        i + 1,
                        r + 1,
                        other.len()
                    )),
                })
                .collect()
        })
        .collect()
}

impl Checker<'_> {
    fn error(&self, span: Range<usize>, problem: Problem) -> NetworkError {
        let (line, column) = line_column(self.text, span.start);
        NetworkError {
            source_name: self.source_name.to_owned(),
            line,
            column,
            problem,
        }
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        line_column(self.text, span.start).0
    }

    fn identifier(&self, what: &'static str, id: &Spanned<String>) -> Check<String> {
        if is_identifier(id.get_ref()) {
            Ok(id.get_ref().clone())
        } else {
            Err(self.error(
                id.span(),
                Problem::BadIdentifier {
                    what,
                    id: id.get_ref().clone(),
                },
            ))
        }
    }

    /// A GB/T 28181 code: 20 ASCII digits (only that: deployments keep vendor codes), unique
    /// among device and channel IDs of the file.
    fn gb_id(
        &self,
        seen: &mut HashMap<String, usize>,
        what: &'static str,
        id: &Spanned<String>,
    ) -> Check<String> {
        let v = id.get_ref();
        if v.len() != 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error(
                id.span(),
                Problem::BadGbId {
                    what,
                    id: v.clone(),
                },
            ));
        }
        self.unique(seen, what, id)
    }

    /// Records `id` as seen; a second occurrence is an error naming the first line.
    fn unique(
        &self,
        seen: &mut HashMap<String, usize>,
        what: &'static str,
        id: &Spanned<String>,
    ) -> Check<String> {
        let value = self.identifier(what, id)?;
        if let Some(&first_line) = seen.get(&value) {
            return Err(self.error(
                id.span(),
                Problem::DuplicateId {
                    what,
                    id: value,
                    first_line,
                },
            ));
        }
        seen.insert(value.clone(), self.line_of(&id.span()));
        Ok(value)
    }

    fn in_range(
        &self,
        key: &'static str,
        value: &Spanned<f64>,
        range: std::ops::RangeInclusive<f64>,
        label: &'static str,
    ) -> Check<f64> {
        let v = *value.get_ref();
        if range.contains(&v) {
            Ok(v)
        } else {
            Err(self.error(
                value.span(),
                Problem::ValueOutOfRange {
                    key,
                    value: v,
                    range: label,
                },
            ))
        }
    }

    fn position(
        &self,
        lon: &Spanned<f64>,
        lat: &Spanned<f64>,
        bbox: Option<BBox>,
    ) -> Check<Position> {
        let out_of_range = |what, value: &Spanned<f64>, range: String| {
            self.error(
                value.span(),
                Problem::CoordinateOutOfRange {
                    what,
                    value: *value.get_ref(),
                    range,
                },
            )
        };
        let (lon_v, lat_v) = (*lon.get_ref(), *lat.get_ref());
        if !(-180.0..=180.0).contains(&lon_v) {
            return Err(out_of_range("lon", lon, "[-180, 180]".to_owned()));
        }
        if !(-90.0..=90.0).contains(&lat_v) {
            return Err(out_of_range("lat", lat, "[-90, 90]".to_owned()));
        }
        if let Some(b) = bbox {
            if !(b.lon_min..=b.lon_max).contains(&lon_v) {
                let range = format!("the network bbox lon [{}, {}]", b.lon_min, b.lon_max);
                return Err(out_of_range("lon", lon, range));
            }
            if !(b.lat_min..=b.lat_max).contains(&lat_v) {
                let range = format!("the network bbox lat [{}, {}]", b.lat_min, b.lat_max);
                return Err(out_of_range("lat", lat, range));
            }
        }
        Ok(Position {
            lon: lon_v,
            lat: lat_v,
        })
    }

    fn bbox(&self, raw: &Spanned<Vec<f64>>) -> Check<BBox> {
        let fail = |why| Err(self.error(raw.span(), Problem::BadBbox(why)));
        let &[lon_min, lat_min, lon_max, lat_max] = raw.get_ref().as_slice() else {
            return fail("expected [lon_min, lat_min, lon_max, lat_max]");
        };
        if !(-180.0..=180.0).contains(&lon_min)
            || !(-180.0..=180.0).contains(&lon_max)
            || !(-90.0..=90.0).contains(&lat_min)
            || !(-90.0..=90.0).contains(&lat_max)
        {
            return fail("a corner is not a WGS 84 position");
        }
        if lon_min >= lon_max || lat_min >= lat_max {
            return fail("minimum must be below maximum");
        }
        Ok(BBox {
            lon_min,
            lat_min,
            lon_max,
            lat_max,
        })
    }

    fn interval(&self, key: &'static str, raw: &Spanned<i64>) -> Check<u32> {
        let v = *raw.get_ref();
        if (1..=3600).contains(&v) {
            Ok(v as u32)
        } else {
            Err(self.error(
                raw.span(),
                Problem::ValueOutOfRange {
                    key,
                    value: v as f64,
                    range: "1..=3600 seconds",
                },
            ))
        }
    }

    fn build(&self, raw: RawFile) -> Check<Network> {
        if *raw.schema_version.get_ref() != SCHEMA_VERSION {
            return Err(self.error(
                raw.schema_version.span(),
                Problem::UnsupportedSchemaVersion {
                    found: *raw.schema_version.get_ref(),
                    supported: SCHEMA_VERSION,
                },
            ));
        }
        let net = &raw.network;
        let id = self.identifier("network id", &net.id)?;
        let bbox = net.bbox.as_ref().map(|b| self.bbox(b)).transpose()?;
        let cadence = self.cadence(&raw.cadence)?;

        let mut seen = HashMap::new();
        let mut basins = Vec::new();
        for b in &raw.basins {
            basins.push(Basin {
                id: self.unique(&mut seen, "basin id", &b.id)?,
                name_zh: b.name_zh.clone(),
                name_en: b.name_en.clone(),
                note: b.note.clone(),
            });
        }

        let mut seen = HashMap::new();
        let mut parameters = Vec::new();
        for p in &raw.parameters {
            if wq::catalogue::by_code(p.code.get_ref()).is_none() {
                return Err(self.error(
                    p.code.span(),
                    Problem::UnknownParameter(p.code.get_ref().clone()),
                ));
            }
            let code = self.unique(&mut seen, "parameter code", &p.code)?;
            let hj212 = p.hj212.get_ref();
            if !(3..=6).contains(&hj212.len()) || !hj212.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(self.error(
                    p.hj212.span(),
                    Problem::BadHj212Field {
                        what: "factor code",
                        value: hj212.clone(),
                        reason: "expected 3–6 ASCII letters and digits, e.g. w21011",
                    },
                ));
            }
            let decimals = *p.decimals.get_ref();
            if !(0..=6).contains(&decimals) {
                return Err(self.error(
                    p.decimals.span(),
                    Problem::ValueOutOfRange {
                        key: "decimals",
                        value: decimals as f64,
                        range: "0..=6",
                    },
                ));
            }
            parameters.push(Parameter {
                code,
                hj212: hj212.clone(),
                name_zh: p.name_zh.clone(),
                name_en: p.name_en.clone(),
                unit: p.unit.clone(),
                unit_name: p.unit_name.clone(),
                ucum: p.ucum.clone(),
                decimals: decimals as u8,
            });
        }

        let mut zones = Vec::new();
        let mut seen = HashMap::new();
        for z in &raw.zones {
            let zone_id = self.unique(&mut seen, "zone id", &z.id)?;
            let polygon = pairs(z.polygon.get_ref()).and_then(|rings| {
                check_polygon(&rings, bbox)?;
                Ok(rings)
            });
            let polygon = match polygon {
                Ok(rings) => rings,
                Err(reason) => {
                    return Err(self.error(
                        z.polygon.span(),
                        Problem::BadPolygon {
                            zone: zone_id,
                            reason,
                        },
                    ));
                }
            };
            zones.push(Zone {
                id: zone_id,
                name_zh: z.name_zh.clone(),
                name_en: z.name_en.clone(),
                kind: z.kind,
                schematic: z.schematic,
                polygon,
            });
        }
        let lake_outline = zones.iter().find(|z| z.kind == ZoneKind::LakeOutline);

        let mut stations = Vec::new();
        let mut seen = HashMap::new();
        let mut mn_owner: HashMap<String, String> = HashMap::new();
        for s in &raw.stations {
            let station = self.station(
                s,
                &mut seen,
                &mut mn_owner,
                &basins,
                &parameters,
                bbox,
                &cadence,
                &net.hj212_st,
            )?;
            if let Some(outline) = lake_outline
                && station.kind != StationKind::River
                && !polygon_contains(&outline.polygon, station.position)
            {
                return Err(self.error(
                    s.lat.span(),
                    Problem::OutsideLake {
                        kind: station.kind.as_str(),
                        station: station.code,
                        zone: outline.id.clone(),
                    },
                ));
            }
            stations.push(station);
        }

        let mut video_points = Vec::new();
        let mut seen = HashMap::new();
        let mut seen_gb = HashMap::new();
        for v in &raw.video_points {
            let id = self.unique(&mut seen, "video point id", &v.id)?;
            if !zones.iter().any(|z| &z.id == v.zone.get_ref()) {
                return Err(self.error(
                    v.zone.span(),
                    Problem::UnknownZone(v.zone.get_ref().clone()),
                ));
            }
            let gb28181 = match &v.device_id {
                None => None,
                Some(device) => {
                    let device_id = self.gb_id(&mut seen_gb, "GB/T 28181 device_id", device)?;
                    let channel_id = match &v.channel_id {
                        Some(c) => self.gb_id(&mut seen_gb, "GB/T 28181 channel_id", c)?,
                        None => device_id.clone(),
                    };
                    Some(GbLink {
                        device_id,
                        channel_id,
                    })
                }
            };
            video_points.push(VideoPoint {
                id,
                name_zh: v.name_zh.clone(),
                name_en: v.name_en.clone(),
                kind: v.kind,
                zone: v.zone.get_ref().clone(),
                position: self.position(&v.lon, &v.lat, bbox)?,
                gb28181,
            });
        }

        let mqtt_devices = raw
            .mqtt_devices
            .iter()
            .map(|d| self.mqtt_device(d, &stations, &parameters))
            .collect::<Check<Vec<_>>>()?;

        Ok(Network {
            id,
            name_zh: net.name_zh.clone(),
            name_en: net.name_en.clone(),
            schematic: net.schematic,
            crs: net.crs.clone(),
            utc_offset: net.utc_offset.clone(),
            bbox,
            definition_base: net.definition_base.clone(),
            intake_in_basin_means: net.intake_in_basin_means,
            cadence,
            hj212_st: net.hj212_st.clone(),
            basins,
            parameters,
            stations,
            zones,
            video_points,
            mqtt_devices,
        })
    }

    /// One `[[mqtt_devices]]`: a usable pattern, known parameters, JSON pointers.
    fn mqtt_device(
        &self,
        d: &RawMqttDevice,
        stations: &[Station],
        parameters: &[Parameter],
    ) -> Check<MqttDevice> {
        let topic = d.topic.get_ref();
        let bad = |span: Range<usize>, reason: String| {
            self.error(
                span,
                Problem::BadMqttDevice {
                    topic: topic.clone(),
                    reason,
                },
            )
        };
        let segments: Vec<&str> = topic.split('/').collect();
        let placeholders = segments
            .iter()
            .filter(|s| s.starts_with('{') && s.ends_with('}'))
            .count();
        if topic.is_empty()
            || topic.starts_with("v1.1/")
            || topic.contains(['+', '#'])
            || segments.iter().any(|s| s.is_empty())
            || placeholders > 1
            || segments.iter().any(|s| {
                (s.contains('{') || s.contains('}')) && !(s.starts_with('{') && s.ends_with('}'))
            })
        {
            return Err(bad(
                d.topic.span(),
                "a topic of `/`-separated segments, at most one of them `{name}`, no wildcards, not under v1.1/".into(),
            ));
        }
        let station = match (&d.station, placeholders) {
            (Some(st), 0) => {
                if !stations.iter().any(|s| &s.code == st.get_ref()) {
                    return Err(bad(
                        st.span(),
                        format!("unknown station `{}`", st.get_ref()),
                    ));
                }
                Some(st.get_ref().clone())
            }
            (None, 1) => None,
            (Some(st), _) => {
                return Err(bad(
                    st.span(),
                    "`station` and a `{…}` segment both name the station".into(),
                ));
            }
            (None, _) => {
                return Err(bad(
                    d.topic.span(),
                    "name the station: a `{station}` segment or `station = \"…\"`".into(),
                ));
            }
        };
        let pointer_ok = |p: &str| p.is_empty() || p.starts_with('/');
        if let Some(t) = &d.time
            && !pointer_ok(t.get_ref())
        {
            return Err(bad(
                t.span(),
                format!("`{}` is not a JSON pointer", t.get_ref()),
            ));
        }
        if d.values.get_ref().is_empty() {
            return Err(bad(d.values.span(), "no values".into()));
        }
        for (code, pointer) in d.values.get_ref() {
            if !parameters.iter().any(|p| &p.code == code) {
                return Err(bad(
                    d.values.span(),
                    format!("unknown parameter `{code}` (not in [[parameters]])"),
                ));
            }
            if !pointer_ok(pointer) {
                return Err(bad(
                    d.values.span(),
                    format!("`{pointer}` is not a JSON pointer"),
                ));
            }
        }
        Ok(MqttDevice {
            topic: topic.clone(),
            station,
            time: d.time.as_ref().map(|t| t.get_ref().clone()),
            values: d
                .values
                .get_ref()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    fn cadence(&self, raw: &RawCadence) -> Check<Cadence> {
        let realtime_interval_s = self.interval("realtime_interval_s", &raw.realtime_interval_s)?;
        let hours = raw.analyser_cycle_hours.get_ref();
        let mut sorted = hours.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if hours.is_empty()
            || sorted.len() != hours.len()
            || hours.iter().any(|h| !(0..=23).contains(h))
        {
            return Err(self.error(
                raw.analyser_cycle_hours.span(),
                Problem::ValueOutOfRange {
                    key: "analyser_cycle_hours",
                    value: f64::NAN,
                    range: "distinct hours 0..=23, at least one",
                },
            ));
        }
        Ok(Cadence {
            realtime_interval_s,
            analyser_cycle_hours: sorted.into_iter().map(|h| h as u8).collect(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn station(
        &self,
        s: &RawStation,
        seen: &mut HashMap<String, usize>,
        mn_owner: &mut HashMap<String, String>,
        basins: &[Basin],
        catalogue: &[Parameter],
        bbox: Option<BBox>,
        cadence: &Cadence,
        default_st: &str,
    ) -> Check<Station> {
        let code = self.unique(seen, "station code", &s.code)?;
        if !basins.iter().any(|b| &b.id == s.basin.get_ref()) {
            return Err(self.error(
                s.basin.span(),
                Problem::UnknownBasin(s.basin.get_ref().clone()),
            ));
        }
        let target_class =
            TargetClass::parse(s.target_class.get_ref().trim()).ok_or_else(|| {
                self.error(
                    s.target_class.span(),
                    Problem::TargetClassOutOfRange(s.target_class.get_ref().clone()),
                )
            })?;
        let position = self.position(&s.lon, &s.lat, bbox)?;
        if let Some(role) = &s.role
            && s.kind != StationKind::River
        {
            return Err(self.error(role.span(), Problem::RoleOnNonRiver(code)));
        }
        let depth_m = s
            .depth_m
            .as_ref()
            .map(|d| self.in_range("depth_m", d, 0.0..=200.0, "0..=200 m"))
            .transpose()?;

        let mut parameters: Vec<StationParameter> = Vec::new();
        let lists = [
            (Method::Probe, &s.probes),
            (Method::Analyser, &s.analysers),
            (Method::Manual, &s.manual),
        ];
        for (method, list) in lists {
            for p in list {
                let pcode = p.get_ref();
                if wq::catalogue::by_code(pcode).is_none() {
                    return Err(self.error(p.span(), Problem::UnknownParameter(pcode.clone())));
                }
                if !catalogue.iter().any(|c| &c.code == pcode) {
                    return Err(
                        self.error(p.span(), Problem::ParameterNotInCatalogue(pcode.clone()))
                    );
                }
                if parameters.iter().any(|e| &e.code == pcode) {
                    return Err(self.error(
                        p.span(),
                        Problem::DuplicateStationParameter {
                            station: code.clone(),
                            parameter: pcode.clone(),
                        },
                    ));
                }
                parameters.push(StationParameter {
                    code: pcode.clone(),
                    method,
                });
            }
        }

        let automatic = parameters.iter().any(|p| p.method != Method::Manual);
        let links = self.links(s, &code, automatic, mn_owner, default_st)?;

        let realtime_interval_s = s
            .realtime_interval_s
            .as_ref()
            .map(|r| self.interval("realtime_interval_s", r))
            .transpose()?
            .unwrap_or(cadence.realtime_interval_s);

        let sim = match &s.sim {
            Some(hints) => {
                let h = *hints.get_ref();
                for (key, value) in [
                    ("sim.storm", h.storm),
                    ("sim.bloom", h.bloom),
                    ("sim.stability", h.stability),
                ] {
                    if !(0.0..=1.0).contains(&value) {
                        return Err(self.error(
                            hints.span(),
                            Problem::ValueOutOfRange {
                                key,
                                value,
                                range: "0..=1",
                            },
                        ));
                    }
                }
                h
            }
            None => SimHints::default(),
        };

        Ok(Station {
            code,
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            kind: s.kind,
            role: s.role.as_ref().map(|r| *r.get_ref()),
            basin: s.basin.get_ref().clone(),
            target_class,
            position,
            depth_m,
            links,
            realtime_interval_s,
            parameters,
            sim,
            note: s.note.clone(),
        })
    }
}
