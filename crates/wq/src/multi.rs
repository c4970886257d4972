//! Several stations: a river or basin (mean of sections below 5, the section-class proportion
//! method from 5), a lake (time mean per point, then the mean over points) (§6).

use crate::assess::{self, StationAssessment};
use crate::catalogue;
use crate::class::{Grade, WaterClass};
use crate::classify::WaterType;
use crate::options::{EvaluationOptions, LakeOrder, SevereRule};
use crate::series::{self, EvaluationError, SeriesByParameter, StationMeans};
use serde::Serialize;

/// One station's input to a multi-station evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StationSeries {
    pub station: String,
    pub series: SeriesByParameter,
    /// The station's own target class, overriding `options.target_class`.
    pub target_class: Option<WaterClass>,
}

/// How the water-body result was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregationMethod {
    /// One station: evaluated as a station.
    SingleStation,
    /// River with fewer than `min_sections` sections: mean of each indicator over sections.
    MeanOfSections,
    /// River with `min_sections` or more: section-class proportion method.
    ProportionMethod,
    /// Lake: time mean per point, then the mean over points.
    MeanOfPoints,
    /// Lake with `eval.lake.order = pooled`.
    PooledPoints,
}

/// The proportion method's figures (§6.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProportionResult {
    /// Sections with a class (sections without data are left out).
    pub sections: usize,
    /// Sections per class Ⅰ, Ⅱ, Ⅲ, Ⅳ, Ⅴ, 劣Ⅴ.
    pub counts_by_class: [usize; 6],
    /// G: share of Ⅰ–Ⅲ sections, %.
    pub share_good_percent: f64,
    /// B: share of 劣Ⅴ sections, %.
    pub share_worse_than_v_percent: f64,
}

/// A main pollutant of a river or basin: the share of sections where it is worse than Ⅲ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasinPollutant {
    pub parameter: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub sections_worse_than_iii: usize,
    pub exceedance_rate_percent: f64,
}

/// Assessment of a water body (river, basin or lake).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaterBodyAssessment {
    pub water_type: WaterType,
    pub method: AggregationMethod,
    pub grade: Grade,
    pub grade_zh: &'static str,
    pub grade_en: &'static str,
    pub colour: String,
    /// Class of the combined means (mean-based methods only).
    pub class: Option<WaterClass>,
    /// Every station on its own (always shown).
    pub stations: Vec<StationAssessment>,
    /// The combined means classified as one station (mean-based methods).
    pub combined: Option<StationAssessment>,
    pub proportion: Option<ProportionResult>,
    /// Proportion method: indicators by section exceedance rate, top `basin.main_pollutant_count`.
    pub main_pollutants: Vec<BasinPollutant>,
}

/// Grade of the proportion method (§6.1). Integer arithmetic keeps the boundaries exact.
pub fn proportion_grade(
    good: usize,
    worse_than_v: usize,
    sections: usize,
    rule: SevereRule,
) -> Grade {
    if sections == 0 {
        return Grade::NoData;
    }
    let pct = |n: usize, p: usize| 100 * n >= p * sections; // n/sections ≥ p %
    if pct(good, 90) {
        Grade::Excellent
    } else if pct(good, 75) {
        Grade::Good
    } else if pct(worse_than_v, 40) {
        match rule {
            SevereRule::GBelow75 => Grade::HeavilyPolluted,
            // "G < 60": at exactly G = 60, B = 40 no row matches; the nearest row is 中度污染.
            SevereRule::GBelow60 if !pct(good, 60) => Grade::HeavilyPolluted,
            SevereRule::GBelow60 => Grade::ModeratelyPolluted,
        }
    } else if pct(worse_than_v, 20) {
        Grade::ModeratelyPolluted
    } else {
        Grade::SlightlyPolluted
    }
}

/// Evaluates several stations of one water body with the rules of its water type.
pub fn evaluate_water_body(
    stations: &[StationSeries],
    options: &EvaluationOptions,
) -> Result<WaterBodyAssessment, EvaluationError> {
    if stations.is_empty() {
        return Err(EvaluationError::NoStations);
    }
    let mut station_means: Vec<StationMeans> = Vec::with_capacity(stations.len());
    let mut assessments = Vec::with_capacity(stations.len());
    for s in stations {
        let opts = station_options(s, options);
        let means = series::station_means(&s.series, &opts)?;
        assessments.push(assess::assess(Some(s.station.clone()), &means, &opts));
        station_means.push(means);
    }
    let palette = &options.ui.class_palette;

    let method = match (stations.len(), options.water_type) {
        (1, _) => AggregationMethod::SingleStation,
        (n, WaterType::River) if n >= options.eval.basin.min_sections => {
            AggregationMethod::ProportionMethod
        }
        (_, WaterType::River) => AggregationMethod::MeanOfSections,
        (_, WaterType::Lake) if options.eval.lake.order == LakeOrder::Pooled => {
            AggregationMethod::PooledPoints
        }
        (_, WaterType::Lake) => AggregationMethod::MeanOfPoints,
    };

    if method == AggregationMethod::ProportionMethod {
        let classes: Vec<WaterClass> = assessments.iter().filter_map(|a| a.class).collect();
        let mut counts_by_class = [0usize; 6];
        for cl in &classes {
            counts_by_class[WaterClass::ALL.iter().position(|c| c == cl).unwrap_or(5)] += 1;
        }
        let n = classes.len();
        let good = counts_by_class[..3].iter().sum::<usize>();
        let bad = counts_by_class[5];
        let grade = proportion_grade(good, bad, n, options.eval.basin.severe_rule);
        let share = |k: usize| {
            if n == 0 {
                0.0
            } else {
                k as f64 * 100.0 / n as f64
            }
        };
        return Ok(WaterBodyAssessment {
            water_type: options.water_type,
            method,
            grade,
            grade_zh: grade.word_zh(),
            grade_en: grade.word_en(),
            colour: palette.grade_colour(grade).to_string(),
            class: None,
            main_pollutants: basin_pollutants(
                &assessments,
                n,
                options.eval.basin.main_pollutant_count,
            ),
            proportion: Some(ProportionResult {
                sections: n,
                counts_by_class,
                share_good_percent: share(good),
                share_worse_than_v_percent: share(bad),
            }),
            stations: assessments,
            combined: None,
        });
    }

    let combined_means = match method {
        AggregationMethod::PooledPoints => {
            let refs: Vec<&SeriesByParameter> = stations.iter().map(|s| &s.series).collect();
            series::pooled_means(&refs, options)?
        }
        _ => series::spatial_mean(&station_means),
    };
    let combined = if method == AggregationMethod::SingleStation {
        assessments[0].clone()
    } else {
        assess::assess(None, &combined_means, options)
    };
    let grade = combined.grade;
    Ok(WaterBodyAssessment {
        water_type: options.water_type,
        method,
        grade,
        grade_zh: grade.word_zh(),
        grade_en: grade.word_en(),
        colour: palette.grade_colour(grade).to_string(),
        class: combined.class,
        stations: assessments,
        combined: Some(combined),
        proportion: None,
        main_pollutants: Vec::new(),
    })
}

fn station_options(s: &StationSeries, options: &EvaluationOptions) -> EvaluationOptions {
    match s.target_class {
        Some(t) => EvaluationOptions {
            target_class: Some(t),
            ..options.clone()
        },
        None => options.clone(),
    }
}

/// Section exceedance rate per routine indicator: sections where it is worse than Ⅲ over all
/// classed sections; top `count` with a rate above 0, ties in catalogue order.
fn basin_pollutants(
    assessments: &[StationAssessment],
    sections: usize,
    count: usize,
) -> Vec<BasinPollutant> {
    if sections == 0 {
        return Vec::new();
    }
    let mut rates: Vec<BasinPollutant> = catalogue::all()
        .filter(|p| p.is_routine())
        .filter_map(|p| {
            let worse = assessments
                .iter()
                .filter(|a| a.class.is_some())
                .filter(|a| {
                    a.indicators.iter().any(|i| {
                        i.parameter == p.code && i.class.is_some_and(|c| c > WaterClass::III)
                    })
                })
                .count();
            (worse > 0).then(|| BasinPollutant {
                parameter: p.code,
                name_zh: p.name_zh,
                name_en: p.name_en,
                sections_worse_than_iii: worse,
                exceedance_rate_percent: worse as f64 * 100.0 / sections as f64,
            })
        })
        .collect();
    rates.sort_by_key(|r| std::cmp::Reverse(r.sections_worse_than_iii));
    rates.truncate(count);
    rates
}
