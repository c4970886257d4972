//! Water-quality reports (docs/reports.md): the shell around the pure `report` crate. It
//! gathers the period's assessments through [`Domain::assess_typed`] — the code behind
//! `/api/v1/assessment`, so every number in a report is the API's — plus the trend months,
//! scenes, alerts and station-day means, and renders Excel or (with the `pdf` feature) PDF.

mod facts;
pub mod schedule;

use crate::domain::{Assessed, Domain, Scope, water_type};
use ::network::{DataKind, StationKind};
use report::{
    BasinInfo, BodyResult, Lang, ReportInput, ReportPeriod, ReviewCounts, StationInfo, TrendMonth,
};
use std::sync::Arc;
use store::Store;

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// Every station: the lake, its basins, the intake and the rivers.
    Network,
    /// The lake's points, the lake and its basins.
    Lake,
    Basin(String),
    Station(String),
}

impl ReportScope {
    pub fn parse(text: &str) -> Result<ReportScope, String> {
        match text.split_once(':') {
            None if text == "network" => Ok(ReportScope::Network),
            Some(("waterbody", "lake")) => Ok(ReportScope::Lake),
            Some(("basin", id)) if !id.is_empty() => Ok(ReportScope::Basin(id.into())),
            Some(("station", code)) if !code.is_empty() => Ok(ReportScope::Station(code.into())),
            _ => Err(format!(
                "scope '{text}' is not one of network, waterbody:lake, basin:ID, station:CODE"
            )),
        }
    }

    pub fn code(&self) -> String {
        match self {
            ReportScope::Network => "network".into(),
            ReportScope::Lake => "waterbody:lake".into(),
            ReportScope::Basin(b) => format!("basin:{b}"),
            ReportScope::Station(s) => format!("station:{s}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Pdf,
    Xlsx,
}

impl ReportFormat {
    pub fn parse(text: &str) -> Result<ReportFormat, String> {
        match text {
            "pdf" => Ok(ReportFormat::Pdf),
            "xlsx" => Ok(ReportFormat::Xlsx),
            other => Err(format!("format '{other}' is not pdf or xlsx")),
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Xlsx => "xlsx",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub period: ReportPeriod,
    pub format: ReportFormat,
    pub lang: Lang,
    pub scope: ReportScope,
}

impl ReportRequest {
    /// Parses the query words (`period`, `format`, `lang`, `scope`); each error names its field.
    pub fn parse(
        period: &str,
        format: &str,
        lang: Option<&str>,
        scope: Option<&str>,
    ) -> Result<ReportRequest, String> {
        let period = ReportPeriod::parse(period).map_err(|e| format!("period: {e}"))?;
        let format = ReportFormat::parse(format).map_err(|e| format!("format: {e}"))?;
        let lang = match lang {
            None => Lang::Zh,
            Some(l) => Lang::parse(l).ok_or_else(|| format!("lang: '{l}' is not zh or en"))?,
        };
        let scope =
            ReportScope::parse(scope.unwrap_or("network")).map_err(|e| format!("scope: {e}"))?;
        Ok(ReportRequest {
            period,
            format,
            lang,
            scope,
        })
    }

    /// `hongfeng-2026-11-network.pdf`.
    pub fn file_name(&self, network_id: &str) -> String {
        format!(
            "{}-{}-{}.{}",
            network_id,
            self.period.code(),
            self.scope.code().replace(':', "-"),
            self.format.extension()
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportFailure {
    /// The request cannot be answered as asked (bad scope, period not begun, no data): 4xx.
    #[error("{0}")]
    Bad(String),
    #[error("{0}")]
    NotFound(String),
    /// PDF asked of a build without the `pdf` feature: 501.
    #[error(
        "PDF reports are not built into this binary (build with `--features pdf`); Excel (format=xlsx) works"
    )]
    PdfNotBuilt,
    #[error("{0}")]
    Internal(String),
}

impl From<store::StoreError> for ReportFailure {
    fn from(e: store::StoreError) -> Self {
        ReportFailure::Internal(e.to_string())
    }
}

/// Progress of a long build: (step done, steps in all, what).
pub type Progress<'a> = &'a (dyn Fn(u64, u64, &str) + Send + Sync);

fn lake_member(net: &::network::Network, s: &::network::Station) -> bool {
    s.kind == StationKind::Lake || (s.kind == StationKind::Intake && net.intake_in_basin_means)
}

async fn station_result(
    d: &Domain,
    store: &Arc<dyn Store>,
    code: &str,
    from: i64,
    to: i64,
    as_of: i64,
) -> Result<(Option<wq::StationAssessment>, crate::domain::ReviewTally), ReportFailure> {
    match d
        .assess_typed(store, &Scope::Station(code.into()), from, to, as_of)
        .await
    {
        Ok((Assessed::Station(a), t)) => Ok((Some(*a), t)),
        Ok((Assessed::WaterBody(_), t)) => Ok((None, t)),
        Err(crate::domain::AssessError::Store(e)) => Err(e.into()),
        Err(crate::domain::AssessError::BadScope(m)) => Err(ReportFailure::NotFound(m)),
        Err(_) => Ok((None, Default::default())),
    }
}

async fn body_result(
    d: &Domain,
    store: &Arc<dyn Store>,
    scope: &Scope,
    from: i64,
    to: i64,
    as_of: i64,
) -> Result<Option<wq::WaterBodyAssessment>, ReportFailure> {
    match d.assess_typed(store, scope, from, to, as_of).await {
        Ok((Assessed::WaterBody(b), _)) => Ok(Some(*b)),
        Ok(_) => Ok(None),
        Err(crate::domain::AssessError::Store(e)) => Err(e.into()),
        Err(_) => Ok(None),
    }
}

fn tli(a: Option<&wq::StationAssessment>) -> Option<f64> {
    match a.and_then(|a| a.trophic.as_ref()) {
        Some(wq::assess::TrophicOutcome::Computed(t)) => Some(t.tli),
        _ => None,
    }
}

/// Gathers everything a report needs. `now_ms` is the shell's clock: a period that has not
/// begun is refused; `as_of` of the reviews is now.
pub async fn gather(
    d: &Domain,
    store: &Arc<dyn Store>,
    req: &ReportRequest,
    now_ms: i64,
    progress: Progress<'_>,
) -> Result<ReportInput, ReportFailure> {
    let net = &d.network;
    let offset = crate::network::parse_utc_offset(&net.utc_offset).unwrap_or(8 * 3600);
    let (from, to) = req.period.bounds(offset);
    if from * 1000 > now_ms {
        return Err(ReportFailure::Bad(format!(
            "period {} has not begun yet",
            req.period.code()
        )));
    }
    let as_of = now_ms;
    // Which stations, which water bodies.
    let stations: Vec<&::network::Station> = match &req.scope {
        ReportScope::Network => net.stations.iter().collect(),
        ReportScope::Lake => net
            .stations
            .iter()
            .filter(|s| lake_member(net, s))
            .collect(),
        ReportScope::Basin(id) => {
            if net.basin(id).is_none() {
                return Err(ReportFailure::NotFound(format!(
                    "no basin '{id}' in the network"
                )));
            }
            net.stations.iter().filter(|s| &s.basin == id).collect()
        }
        ReportScope::Station(code) => vec![net.station(code).ok_or_else(|| {
            ReportFailure::NotFound(format!("no station '{code}' in the network"))
        })?],
    };
    if stations.is_empty() {
        return Err(ReportFailure::NotFound(
            "the scope holds no stations".into(),
        ));
    }
    let with_lake = matches!(req.scope, ReportScope::Network | ReportScope::Lake);
    let basins: Vec<&::network::Basin> = match &req.scope {
        ReportScope::Network | ReportScope::Lake => net
            .basins
            .iter()
            .filter(|b| {
                net.stations
                    .iter()
                    .any(|s| s.basin == b.id && lake_member(net, s))
            })
            .collect(),
        ReportScope::Basin(id) => net.basins.iter().filter(|b| &b.id == id).collect(),
        ReportScope::Station(_) => Vec::new(),
    };
    let trend = req.period.trailing_months(12);
    let steps = (stations.len() + basins.len() + 3 + trend.len() + 3) as u64;
    let mut step = 0u64;
    let mut tick = |what: &str| {
        step += 1;
        progress(step, steps, what);
    };

    let mut station_results = Vec::new();
    let mut review = ReviewCounts::default();
    for s in &stations {
        let (a, t) = station_result(d, store, &s.code, from, to, as_of).await?;
        review.invalidated += t.invalidated;
        review.confirmed += t.confirmed;
        review.unreviewed += t.unreviewed;
        if let Some(a) = a {
            station_results.push(a);
        }
        tick(&s.code);
    }
    let lake = if with_lake {
        body_result(d, store, &Scope::Lake, from, to, as_of)
            .await?
            .map(|result| BodyResult {
                id: "lake".into(),
                name_zh: lake_name(&net.name_zh),
                name_en: lake_name(&net.name_en),
                result,
            })
    } else {
        None
    };
    tick("lake");
    let mut basin_results = Vec::new();
    for b in &basins {
        if let Some(result) =
            body_result(d, store, &Scope::Basin(b.id.clone()), from, to, as_of).await?
        {
            basin_results.push(BodyResult {
                id: b.id.clone(),
                name_zh: b.name_zh.clone(),
                name_en: b.name_en.clone(),
                result,
            });
        }
        tick(&b.id);
    }
    // The rivers as a water body (proportion method from 5 sections) in the network report.
    if req.scope == ReportScope::Network
        && net.stations.iter().any(|s| s.kind == StationKind::River)
        && let Some(result) = body_result(d, store, &Scope::Rivers, from, to, as_of).await?
    {
        basin_results.push(BodyResult {
            id: "rivers".into(),
            name_zh: "出入湖河流".into(),
            name_en: "Inflow and outflow rivers".into(),
            result,
        });
    }
    // 环比 / 同比 of TLI: the lake's, else the single station's (for a basin: the basin's).
    let tli_subject = |p: ReportPeriod| {
        let (f, t) = p.bounds(offset);
        (f, t)
    };
    let mut tli_at = Vec::new();
    for p in [req.period.previous(), req.period.year_ago()] {
        let (f, t) = tli_subject(p);
        let v = match &req.scope {
            ReportScope::Network | ReportScope::Lake => {
                body_result(d, store, &Scope::Lake, f, t, as_of)
                    .await?
                    .and_then(|b| tli(b.combined.as_ref()))
            }
            ReportScope::Basin(id) => body_result(d, store, &Scope::Basin(id.clone()), f, t, as_of)
                .await?
                .and_then(|b| tli(b.combined.as_ref())),
            ReportScope::Station(code) => tli(station_result(d, store, code, f, t, as_of)
                .await?
                .0
                .as_ref()),
        };
        tli_at.push(v);
        tick("tli");
    }
    // The trend months: the lake (its station results give the class map) plus the others.
    let mut months = Vec::new();
    for m in trend {
        let (f, t) = m.bounds(offset);
        if f * 1000 > now_ms {
            months.push(TrendMonth {
                period: m,
                lake: None,
                others: vec![],
            });
            tick(&m.code());
            continue;
        }
        let lake_m = match &req.scope {
            ReportScope::Network | ReportScope::Lake => {
                body_result(d, store, &Scope::Lake, f, t, as_of).await?
            }
            ReportScope::Basin(id) => {
                body_result(d, store, &Scope::Basin(id.clone()), f, t, as_of).await?
            }
            ReportScope::Station(_) => None,
        };
        let mut others = Vec::new();
        for s in &stations {
            let covered = lake_m.as_ref().is_some_and(|l| {
                l.stations
                    .iter()
                    .any(|a| a.station.as_deref() == Some(s.code.as_str()))
            });
            if !covered && let (Some(a), _) = station_result(d, store, &s.code, f, t, as_of).await?
            {
                others.push(a);
            }
        }
        months.push(TrendMonth {
            period: m,
            lake: lake_m,
            others,
        });
        tick(&m.code());
    }
    let scenes = facts::scenes_of(store, from, to).await?;
    tick("scenes");
    let codes: Vec<&str> = stations.iter().map(|s| s.code.as_str()).collect();
    let alerts = facts::alerts_of(
        store,
        from,
        to,
        &codes,
        matches!(req.scope, ReportScope::Network),
    )
    .await?;
    tick("alerts");
    let day_means = facts::day_means(d, store, &stations, from, to, as_of, offset).await?;
    tick("day means");

    let infos = stations
        .iter()
        .map(|s| StationInfo {
            code: s.code.clone(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            kind: s.kind.as_str().into(),
            basin: s.basin.clone(),
            target: crate::domain::target_class(s.target_class),
            expected: s
                .parameters
                .iter()
                .map(|p| {
                    let end = to.min(now_ms / 1000);
                    let hours = (end - from).max(0) / 3600;
                    // Analysers report once per cycle (HJ 915: at the network's cycle hours),
                    // probes every hour (hourly data) or every real-time interval.
                    let cycles = net.cadence.analyser_cycle_hours.len().max(1) as i64;
                    let expected = match d.directory.speaking_datastream(&s.code, &p.code) {
                        Some((DataKind::Hourly, _)) if p.method == ::network::Method::Analyser => {
                            Some(hours * cycles / 24)
                        }
                        Some((DataKind::Hourly, _)) => Some(hours),
                        Some((DataKind::Realtime, _)) => {
                            Some((end - from).max(0) / s.realtime_interval_s.max(1) as i64)
                        }
                        _ => None,
                    };
                    (p.code.clone(), expected.map(|e| e as u64))
                })
                .collect(),
        })
        .collect();
    let (scope_zh, scope_en) = match &req.scope {
        ReportScope::Network => ("全部监测点位".to_string(), "the whole network".to_string()),
        ReportScope::Lake => (
            format!("{}湖体", net.name_zh),
            format!("{} (in-lake points)", net.name_en),
        ),
        ReportScope::Basin(id) => net
            .basin(id)
            .map(|b| (b.name_zh.clone(), b.name_en.clone()))
            .unwrap_or_default(),
        ReportScope::Station(code) => net
            .station(code)
            .map(|s| {
                (
                    format!("{} {}", s.code, s.name_zh),
                    format!("{} {}", s.code, s.name_en),
                )
            })
            .unwrap_or_default(),
    };
    let _ = water_type;
    Ok(ReportInput {
        lang: req.lang,
        period: req.period,
        utc_offset_s: offset,
        network_zh: net.name_zh.clone(),
        network_en: net.name_en.clone(),
        lake_zh: lake_name(&net.name_zh),
        lake_en: lake_name(&net.name_en),
        scope: req.scope.code(),
        scope_zh,
        scope_en,
        stations: infos,
        basins: net
            .basins
            .iter()
            .map(|b| BasinInfo {
                id: b.id.clone(),
                name_zh: b.name_zh.clone(),
                name_en: b.name_en.clone(),
            })
            .collect(),
        lake,
        basin_results,
        station_results,
        tli_previous: tli_at.first().copied().flatten(),
        tli_year_ago: tli_at.get(1).copied().flatten(),
        trend: months,
        scenes,
        alerts,
        review,
        day_means,
        generated_at: chrono::DateTime::from_timestamp_millis(now_ms)
            .map(|t| {
                t.with_timezone(
                    &chrono::FixedOffset::east_opt(offset).unwrap_or_else(|| chrono::Utc.fix()),
                )
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
            })
            .unwrap_or_default(),
    })
}

use chrono::Offset;

/// The lake's name from the network's: up to "水质监测网", "monitoring network" or a bracketed
/// note ("红枫湖水质监测网（演示）" → "红枫湖").
pub fn lake_name(network: &str) -> String {
    let cut = [
        "水质监测网",
        "监测网",
        "（",
        " water-quality",
        " monitoring network",
        " (",
    ]
    .iter()
    .filter_map(|m| network.find(m))
    .min()
    .unwrap_or(network.len());
    let name = network[..cut].trim();
    if name.is_empty() {
        network.to_string()
    } else {
        name.to_string()
    }
}

/// The rendered file.
pub fn render(
    input: &ReportInput,
    format: ReportFormat,
    settings: &crate::config::ReportsConfig,
) -> Result<Vec<u8>, ReportFailure> {
    let report = report::build(input).map_err(|e| match e {
        report::ReportError::Empty(m) => ReportFailure::Bad(m),
        other => ReportFailure::Internal(other.to_string()),
    })?;
    match format {
        ReportFormat::Xlsx => {
            report::xlsx::write(&report).map_err(|e| ReportFailure::Internal(e.to_string()))
        }
        ReportFormat::Pdf => pdf(&report, settings),
    }
}

#[cfg(feature = "pdf")]
fn pdf(
    report: &report::Report,
    settings: &crate::config::ReportsConfig,
) -> Result<Vec<u8>, ReportFailure> {
    let fonts = report_pdf::Fonts::load(&settings.font_paths)
        .map_err(|e| ReportFailure::Internal(e.to_string()))?;
    let source = report::typst_source::source(report);
    let files: Vec<(String, Vec<u8>)> = report
        .sections
        .iter()
        .flat_map(|s| s.charts.iter())
        .map(|c| (c.file.clone(), c.svg.clone().into_bytes()))
        .collect();
    report_pdf::compile(&source, &files, &fonts, (report.period.year, 1, 1))
        .map_err(|e| ReportFailure::Internal(e.to_string()))
}

#[cfg(not(feature = "pdf"))]
fn pdf(
    _report: &report::Report,
    _settings: &crate::config::ReportsConfig,
) -> Result<Vec<u8>, ReportFailure> {
    Err(ReportFailure::PdfNotBuilt)
}

/// Whether this build can write PDF.
pub const PDF_BUILT: bool = cfg!(feature = "pdf");

/// Gathers and renders in one go (the HTTP handler and the CLI).
pub async fn make(
    d: &Domain,
    store: &Arc<dyn Store>,
    req: &ReportRequest,
    settings: &crate::config::ReportsConfig,
    now_ms: i64,
    progress: Progress<'_>,
) -> Result<Vec<u8>, ReportFailure> {
    if req.format == ReportFormat::Pdf && !PDF_BUILT {
        return Err(ReportFailure::PdfNotBuilt);
    }
    let input = gather(d, store, req, now_ms, progress).await?;
    // Typesetting is CPU work: off the async threads.
    let (format, settings) = (req.format, settings.clone());
    tokio::task::spawn_blocking(move || render(&input, format, &settings))
        .await
        .map_err(|e| ReportFailure::Internal(e.to_string()))?
}
