//! `Network::to_toml`: the inverse of `parse_network` (same schema; comments are not kept).

use crate::model::*;
use crate::parse::SCHEMA_VERSION;
use crate::raw::*;
use toml::Spanned;

fn s<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

fn strings(params: &[StationParameter], method: Method) -> Vec<Spanned<String>> {
    params
        .iter()
        .filter(|p| p.method == method)
        .map(|p| s(p.code.clone()))
        .collect()
}

impl Network {
    /// Writes the network in the file format read by [`crate::parse_network`].
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let raw = RawFile {
            schema_version: s(SCHEMA_VERSION),
            network: RawNetwork {
                id: s(self.id.clone()),
                name_zh: self.name_zh.clone(),
                name_en: self.name_en.clone(),
                schematic: self.schematic,
                crs: self.crs.clone(),
                utc_offset: self.utc_offset.clone(),
                bbox: self
                    .bbox
                    .map(|b| s(vec![b.lon_min, b.lat_min, b.lon_max, b.lat_max])),
                definition_base: self.definition_base.clone(),
                intake_in_basin_means: self.intake_in_basin_means,
                hj212_st: self.hj212_st.clone(),
            },
            cadence: RawCadence {
                realtime_interval_s: s(i64::from(self.cadence.realtime_interval_s)),
                analyser_cycle_hours: s(self
                    .cadence
                    .analyser_cycle_hours
                    .iter()
                    .map(|&h| i64::from(h))
                    .collect()),
            },
            basins: self
                .basins
                .iter()
                .map(|b| RawBasin {
                    id: s(b.id.clone()),
                    name_zh: b.name_zh.clone(),
                    name_en: b.name_en.clone(),
                    note: b.note.clone(),
                })
                .collect(),
            parameters: self
                .parameters
                .iter()
                .map(|p| RawParameter {
                    code: s(p.code.clone()),
                    hj212: s(p.hj212.clone()),
                    name_zh: p.name_zh.clone(),
                    name_en: p.name_en.clone(),
                    unit: p.unit.clone(),
                    unit_name: p.unit_name.clone(),
                    ucum: p.ucum.clone(),
                    decimals: s(i64::from(p.decimals)),
                })
                .collect(),
            stations: self.stations.iter().map(raw_station).collect(),
            zones: self
                .zones
                .iter()
                .map(|z| RawZone {
                    id: s(z.id.clone()),
                    name_zh: z.name_zh.clone(),
                    name_en: z.name_en.clone(),
                    kind: z.kind,
                    schematic: z.schematic,
                    polygon: s(z
                        .polygon
                        .iter()
                        .map(|ring| ring.iter().map(|p| p.to_vec()).collect())
                        .collect()),
                })
                .collect(),
            video_points: self
                .video_points
                .iter()
                .map(|v| RawVideoPoint {
                    id: s(v.id.clone()),
                    name_zh: v.name_zh.clone(),
                    name_en: v.name_en.clone(),
                    kind: v.kind,
                    zone: s(v.zone.clone()),
                    lon: s(v.position.lon),
                    lat: s(v.position.lat),
                    device_id: v.gb28181.as_ref().map(|g| s(g.device_id.clone())),
                    // Written only where it differs, as the file says it.
                    channel_id: v
                        .gb28181
                        .as_ref()
                        .filter(|g| g.channel_id != g.device_id)
                        .map(|g| s(g.channel_id.clone())),
                })
                .collect(),
            mqtt_devices: self
                .mqtt_devices
                .iter()
                .map(|d| RawMqttDevice {
                    topic: s(d.topic.clone()),
                    station: d.station.clone().map(s),
                    time: d.time.clone().map(s),
                    values: s(d.values.iter().cloned().collect()),
                })
                .collect(),
        };
        toml::to_string(&raw)
    }
}

fn raw_station(st: &Station) -> RawStation {
    RawStation {
        code: s(st.code.clone()),
        name_zh: st.name_zh.clone(),
        name_en: st.name_en.clone(),
        kind: st.kind,
        role: st.role.map(s),
        basin: s(st.basin.clone()),
        target_class: s(st.target_class.as_str().to_owned()),
        lon: s(st.position.lon),
        lat: s(st.position.lat),
        depth_m: st.depth_m.map(s),
        // The only protocol so far: written in the short form, which reads back the same.
        mn: st.hj212().map(|h| s(h.mn.clone())),
        pw: st.hj212().map(|h| s(h.pw.clone())),
        st: st.hj212().map(|h| s(h.st.clone())),
        links: Vec::new(),
        realtime_interval_s: Some(s(i64::from(st.realtime_interval_s))),
        probes: strings(&st.parameters, Method::Probe),
        analysers: strings(&st.parameters, Method::Analyser),
        manual: strings(&st.parameters, Method::Manual),
        sim: Some(s(st.sim)),
        note: st.note.clone(),
    }
}
