//! The domain view of the store: the loaded network (stations, their targets and datastreams)
//! and the GB 3838 judgements made on stored data. The judging itself is `wq`'s (pure); this
//! module only gathers the right series for it.

use crate::directory::DatastreamDirectory;
use ::network::{DataKind, station_key};
use ::network::{Network, StationKind};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::{SeriesData, SeriesRequest, Store};
use wq::{
    EvaluationOptions, Period, Sample, SeriesByParameter, StationSeries, WaterClass, WaterType,
};

/// The network as loaded into the store, with the store ids of its entities.
pub struct Domain {
    pub network: Network,
    /// Store id of every planned entity by plan key (`station:R01`, `datastream:R01:tp:hourly`, …)
    /// as the load left them; datastreams are looked up in `directory`, which also holds those
    /// created later.
    pub ids: BTreeMap<String, i64>,
    /// The shared datastream directory (also the alert engine's and the sources').
    pub directory: Arc<DatastreamDirectory>,
}

/// Which stations an assessment covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Station(String),
    Basin(String),
    Lake,
    Rivers,
}

impl Scope {
    pub fn parse(text: &str) -> Result<Scope, String> {
        match text.split_once(':') {
            Some(("station", code)) => Ok(Scope::Station(code.to_string())),
            Some(("basin", id)) => Ok(Scope::Basin(id.to_string())),
            Some(("waterbody", "lake")) => Ok(Scope::Lake),
            Some(("waterbody", "rivers")) => Ok(Scope::Rivers),
            _ => Err(format!(
                "scope '{text}' is not one of station:CODE, basin:ID, waterbody:lake, waterbody:rivers"
            )),
        }
    }
}

pub fn water_type(kind: StationKind) -> WaterType {
    match kind {
        StationKind::River => WaterType::River,
        StationKind::Lake | StationKind::Intake => WaterType::Lake,
    }
}

pub fn target_class(t: ::network::TargetClass) -> WaterClass {
    match t.number() {
        1 => WaterClass::I,
        2 => WaterClass::II,
        3 => WaterClass::III,
        4 => WaterClass::IV,
        _ => WaterClass::V,
    }
}

impl Domain {
    pub fn new(
        network: Network,
        ids: BTreeMap<String, i64>,
        directory: Arc<DatastreamDirectory>,
    ) -> Domain {
        Domain {
            network,
            ids,
            directory,
        }
    }

    pub fn thing_id(&self, station: &str) -> Option<i64> {
        self.ids.get(&station_key(station)).copied()
    }

    pub fn datastream(&self, station: &str, parameter: &str, kind: DataKind) -> Option<i64> {
        self.directory.datastream(station, parameter, kind)
    }

    /// (station code, parameter code, data kind) of a datastream of the network.
    pub fn describe_datastream(&self, id: i64) -> Option<(String, String, DataKind)> {
        let e = self.directory.entry(id)?;
        self.network.station(&e.info.station)?;
        Some((
            e.info.station.clone(),
            e.info.parameter.clone(),
            e.data_kind?,
        ))
    }

    /// The datastreams of a station: (parameter, kind, id).
    pub fn station_datastreams(&self, station: &str) -> Vec<(String, DataKind, i64)> {
        self.directory.station_datastreams(station)
    }

    /// The datastream that speaks for a parameter (judging, the station page's value and chart):
    /// see [`crate::directory::speaking_rank`].
    pub fn speaking_datastream(&self, station: &str, parameter: &str) -> Option<i64> {
        self.directory
            .speaking_datastream(station, parameter)
            .map(|(_, id)| id)
    }

    /// The stations a scope covers.
    pub fn stations_in(&self, scope: &Scope) -> Result<Vec<&::network::Station>, String> {
        let net = &self.network;
        let lake_member = |s: &&::network::Station| {
            s.kind == StationKind::Lake
                || (s.kind == StationKind::Intake && net.intake_in_basin_means)
        };
        let list: Vec<_> = match scope {
            Scope::Station(code) => vec![
                net.station(code)
                    .ok_or_else(|| format!("no station '{code}' in the network"))?,
            ],
            Scope::Basin(id) => {
                if net.basin(id).is_none() {
                    return Err(format!("no basin '{id}' in the network"));
                }
                net.stations
                    .iter()
                    .filter(|s| &s.basin == id)
                    .filter(lake_member)
                    .collect()
            }
            Scope::Lake => net.stations.iter().filter(lake_member).collect(),
            Scope::Rivers => net
                .stations
                .iter()
                .filter(|s| s.kind == StationKind::River)
                .collect(),
        };
        if list.is_empty() {
            return Err("the scope holds no stations".into());
        }
        Ok(list)
    }

    /// Reads the stored values of every judged parameter of a station in [from, to), less the
    /// values a review in force at `as_of` (ms) marked invalid; counts what review did.
    pub async fn station_series(
        &self,
        store: &Arc<dyn Store>,
        station: &::network::Station,
        from: i64,
        to: i64,
        as_of: i64,
        tally: &mut ReviewTally,
    ) -> Result<SeriesByParameter, store::StoreError> {
        let mut wanted: Vec<(String, i64)> = Vec::new();
        for p in &station.parameters {
            if let Some(id) = self.speaking_datastream(&station.code, &p.code) {
                wanted.push((p.code.clone(), id));
            }
        }
        let series = store
            .series(SeriesRequest {
                datastreams: wanted.iter().map(|(_, id)| *id).collect(),
                from: from * 1_000_000,
                to: to * 1_000_000,
                bucket: None,
            })
            .await?;
        let reviews = match store.clone().review_store() {
            Some(r) => {
                r.reviews(
                    wanted.iter().map(|(_, id)| *id).collect(),
                    from * 1_000_000,
                    to * 1_000_000,
                )
                .await?
            }
            None => Vec::new(),
        };
        let mut out = SeriesByParameter::new();
        for ((code, id), s) in wanted.into_iter().zip(series) {
            let SeriesData::Raw(points) = s.data else {
                continue;
            };
            let mine: Vec<_> = reviews
                .iter()
                .filter(|r| r.datastream_id == id)
                .cloned()
                .collect();
            let samples: Vec<Sample> = points
                .into_iter()
                .filter_map(|p| {
                    match store::review::verdict_at(&mine, p.t, as_of) {
                        Some(store::review::Verdict::Invalid) => {
                            tally.invalidated += 1;
                            return None;
                        }
                        Some(store::review::Verdict::Valid) => tally.confirmed += 1,
                        None => tally.unreviewed += 1,
                    }
                    let v = p.v?;
                    let mut sample = Sample::new(p.t.div_euclid(1_000_000), v);
                    // An unknown flag letter is not silently taken as valid.
                    sample.flag = match p.flag.as_deref() {
                        None => wq::DataFlag::N,
                        Some(f) => wq::DataFlag::parse(f).unwrap_or(wq::DataFlag::D),
                    };
                    Some(sample)
                })
                .collect();
            if !samples.is_empty() {
                out.insert(code, samples);
            }
        }
        Ok(out)
    }

    /// The GB 3838-2002 evaluation of a scope over [from, to) (unix seconds), as `wq`'s typed
    /// result, on the reviewed data as they stood at `as_of` (ms), with what review did. The
    /// JSON answer ([`Domain::assess`]) and the reports both come from here.
    pub async fn assess_typed(
        &self,
        store: &Arc<dyn Store>,
        scope: &Scope,
        from: i64,
        to: i64,
        as_of: i64,
    ) -> Result<(Assessed, ReviewTally), AssessError> {
        let mut tally = ReviewTally::default();
        let stations = self.stations_in(scope).map_err(AssessError::BadScope)?;
        let first = stations[0];
        let mut options = EvaluationOptions::new(water_type(first.kind));
        options.period = Some(Period {
            start: from,
            end: to,
        });
        if let Some(offset) = crate::network::parse_utc_offset(&self.network.utc_offset) {
            options.utc_offset_seconds = offset as i64;
        }
        let result = if let Scope::Station(_) = scope {
            options.target_class = Some(target_class(first.target_class));
            options.drinking_water_source = first.is_drinking_water_source();
            let series = self
                .station_series(store, first, from, to, as_of, &mut tally)
                .await?;
            let mut result = wq::evaluate_station(&series, &options)
                .map_err(|e| AssessError::Evaluation(e.to_string()))?;
            result.station = Some(first.code.clone());
            Assessed::Station(Box::new(result))
        } else {
            let mut all = Vec::new();
            for s in &stations {
                all.push(StationSeries {
                    station: s.code.clone(),
                    series: self
                        .station_series(store, s, from, to, as_of, &mut tally)
                        .await?,
                    target_class: Some(target_class(s.target_class)),
                });
            }
            let result = wq::evaluate_water_body(&all, &options)
                .map_err(|e| AssessError::Evaluation(e.to_string()))?;
            Assessed::WaterBody(Box::new(result))
        };
        Ok((result, tally))
    }

    /// The GB 3838-2002 evaluation of a scope over [from, to) (unix seconds), as JSON, on the
    /// reviewed data as they stood at `as_of` (ms; now for the current view).
    pub async fn assess(
        &self,
        store: &Arc<dyn Store>,
        scope: &Scope,
        from: i64,
        to: i64,
        as_of: i64,
    ) -> Result<serde_json::Value, AssessError> {
        let (result, tally) = self.assess_typed(store, scope, from, to, as_of).await?;
        let value = match result {
            Assessed::Station(r) => serde_json::to_value(r),
            Assessed::WaterBody(r) => serde_json::to_value(r),
        };
        let mut value = value.map_err(|e| AssessError::Evaluation(e.to_string()))?;
        if let Some(o) = value.as_object_mut() {
            o.insert(
                "review".into(),
                serde_json::to_value(&tally).unwrap_or_default(),
            );
        }
        Ok(value)
    }
}

/// A typed assessment: one station's, or a water body's with its stations.
#[derive(Debug, Clone)]
pub enum Assessed {
    Station(Box<wq::StationAssessment>),
    WaterBody(Box<wq::WaterBodyAssessment>),
}

/// What data review did to an assessment's values (the answer's `review`).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ReviewTally {
    /// Values left out: a review marked them invalid.
    pub invalidated: u64,
    /// Values a reviewer confirmed valid.
    pub confirmed: u64,
    /// Values no review covers (automatic data not yet reviewed).
    pub unreviewed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("{0}")]
    BadScope(String),
    #[error("evaluation failed: {0}")]
    Evaluation(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}
