//! From period means to a station assessment: rounding, single-factor classes, the station
//! class over the routine indicators, target compliance, main pollutants, the drinking-water
//! block and TLI (§4, §5, §7, §8, §12).

use crate::catalogue::{Gb3838Ref, codes as c};
use crate::class::{Grade, WaterClass};
use crate::classify::{self, Classification, ClassifyContext, WaterType};
use crate::drinking::{self, DrinkingWaterAssessment};
use crate::options::{CensoredSingle, EvaluationOptions, Period};
use crate::rounding;
use crate::series::{ParameterMean, StationMeans, ValueCounts};
use crate::tli::{self, TliInputs, TliResult};
use serde::Serialize;

/// One parameter's result with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorResult {
    pub parameter: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub unit: &'static str,
    /// The value classified: the period mean rounded to the evaluation decimals.
    pub value: Option<f64>,
    /// The value as shown: "0.044", or "0.01L" when every value was below the detection limit.
    pub display: String,
    /// The period mean before rounding (½ DL for censored values).
    pub mean_unrounded: Option<f64>,
    /// Every valid value was below the detection limit.
    pub below_detection_limit: bool,
    pub class: Option<WaterClass>,
    /// The class with the limit it was compared with, or why it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// 超标倍数 over the class Ⅲ limit (only worse than Ⅲ; never pH, DO, water temperature).
    pub exceedance_multiple: Option<f64>,
    /// Class ≤ the station's target class.
    pub meets_target: Option<bool>,
    pub counts: ValueCounts,
}

/// An item worse than the target class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetExceedance {
    pub parameter: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub class: WaterClass,
    pub value: f64,
    /// The target class's limit ("≤0.1", "≥5", "6–9").
    pub target_limit: Option<String>,
    /// (C − C_target) / C_target, labelled apart from 超标倍数; only for targets other than Ⅲ.
    pub multiple_over_target: Option<f64>,
}

/// Compliance with the station's functional class (§12).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetCompliance {
    pub target_class: WaterClass,
    /// Station class ≤ target class. `None` when there is no class.
    pub meets_target: Option<bool>,
    pub exceeding_items: Vec<TargetExceedance>,
}

/// A main pollutant (主要污染指标, §8).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MainPollutant {
    pub parameter: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub class: WaterClass,
    pub exceedance_multiple: Option<f64>,
    /// "高锰酸盐指数(0.2)"; pH and DO without a number.
    pub display_zh: String,
    pub display_en: String,
}

/// TLI outcome: computed, or why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TrophicOutcome {
    Computed(TliResult),
    NotComputed { reason: String },
}

/// The assessment of one station (or of a water body's combined means).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationAssessment {
    pub station: Option<String>,
    pub water_type: WaterType,
    pub period: Option<Period>,
    /// Worst single-factor class over the routine indicators with data; `None` without data.
    pub class: Option<WaterClass>,
    /// "符合Ⅲ类" / "劣于Ⅴ类" / "未监测".
    pub wording_zh: String,
    pub wording_en: String,
    pub grade: Grade,
    pub grade_zh: &'static str,
    pub grade_en: &'static str,
    pub colour: String,
    /// Some core item (`eval.core_items`) had no valid data.
    pub partial: bool,
    pub missing_core_items: Vec<String>,
    /// Routine indicators that had valid data and were used.
    pub indicators_used: Vec<&'static str>,
    /// The routine indicators that set the class (those with the worst class).
    pub limiting_parameters: Vec<&'static str>,
    /// The routine indicators (up to 21).
    pub indicators: Vec<IndicatorResult>,
    /// TN (lakes) and fecal coliform: own class lines, never in the station class.
    pub reference_indicators: Vec<IndicatorResult>,
    /// Displayed but not classed (water temperature, conductivity, chl-a, river TN, …).
    pub other_parameters: Vec<IndicatorResult>,
    pub target: Option<TargetCompliance>,
    pub main_pollutants: Vec<MainPollutant>,
    /// Table 2 / Table 3 达标 block for drinking-water sources.
    pub drinking_water: Option<DrinkingWaterAssessment>,
    /// TLI(Σ), lakes only.
    pub trophic: Option<TrophicOutcome>,
}

fn fmt_number(x: f64) -> String {
    x.to_string()
}

/// The value to classify and its display, from a period mean (§9.3, §11).
pub(crate) fn value_used(
    pm: &ParameterMean,
    options: &EvaluationOptions,
) -> Option<(f64, f64, String, bool)> {
    let mean = pm.mean?;
    let decimals = if pm.parameter.code == c::PH {
        options.rounding.ph_eval_decimals
    } else {
        pm.parameter.evaluation_decimals()
    };
    let raw = match (mean.all_censored, options.stats.censored_single) {
        (true, CensoredSingle::DetectionLimit) => mean.detection_limit.unwrap_or(mean.value * 2.0),
        _ => mean.value,
    };
    let (value, text) = if options.rounding.enabled {
        let r = rounding::round_half_even(raw, decimals);
        (r.value, r.text)
    } else {
        (raw, fmt_number(raw))
    };
    let display = match (mean.all_censored, mean.detection_limit) {
        (true, Some(dl)) => format!("{}L", fmt_number(dl)),
        _ => text,
    };
    Some((value, mean.value, display, mean.all_censored))
}

fn indicator(
    pm: &ParameterMean,
    ctx: &ClassifyContext,
    options: &EvaluationOptions,
    classify_it: bool,
) -> IndicatorResult {
    let p = pm.parameter;
    let used = value_used(pm, options);
    let classification = match (&used, classify_it) {
        (Some((v, ..)), true) => Some(classify::classify(p.code, *v, ctx)),
        _ => None,
    };
    let class = classification.as_ref().and_then(Classification::class);
    let exceedance_multiple = match (class, &used) {
        (Some(cl), Some((v, ..))) => classify::exceedance_multiple(
            p.code,
            *v,
            cl,
            ctx.water_type,
            options.eval.multiple_decimals,
        ),
        _ => None,
    };
    IndicatorResult {
        parameter: p.code,
        name_zh: p.name_zh,
        name_en: p.name_en,
        unit: p.unit.symbol(),
        value: used.as_ref().map(|u| u.0),
        display: used
            .as_ref()
            .map(|u| u.2.clone())
            .unwrap_or_else(|| "—".into()),
        mean_unrounded: used.as_ref().map(|u| u.1),
        below_detection_limit: used.as_ref().is_some_and(|u| u.3),
        class,
        classification,
        exceedance_multiple,
        meets_target: options.target_class.zip(class).map(|(t, cl)| cl <= t),
        counts: pm.counts,
    }
}

/// Assesses one station (or combined water body) from its period means.
pub fn assess(
    station: Option<String>,
    means: &StationMeans,
    options: &EvaluationOptions,
) -> StationAssessment {
    let water_temperature = means
        .get(c::WATER_TEMPERATURE)
        .and_then(|pm| pm.mean)
        .map(|m| m.value);
    let ctx = ClassifyContext {
        water_type: options.water_type,
        do_class1: options.eval.do_class1,
        water_temperature,
    };

    let mut indicators = Vec::new();
    let mut reference_indicators = Vec::new();
    let mut other_parameters = Vec::new();
    // Catalogue order keeps tables in the order of the standard.
    for p in crate::catalogue::all() {
        let Some(pm) = means.get(p.code) else {
            continue;
        };
        if p.is_routine() {
            indicators.push(indicator(pm, &ctx, options, true));
        } else if p.code == c::FECAL_COLIFORM
            || (p.code == c::TN && options.water_type == WaterType::Lake)
        {
            reference_indicators.push(indicator(pm, &ctx, options, true));
        } else if matches!(
            p.gb3838,
            Gb3838Ref::Table1 { .. } | Gb3838Ref::NotInStandard
        ) || !options.drinking_water_source
        {
            // TN in rivers still gets its "not classified" explanation.
            let explain = p.code == c::TN;
            other_parameters.push(indicator(pm, &ctx, options, explain));
        }
    }

    let class = indicators.iter().filter_map(|i| i.class).max();
    let indicators_used: Vec<&'static str> = indicators
        .iter()
        .filter(|i| i.class.is_some())
        .map(|i| i.parameter)
        .collect();
    let limiting_parameters = indicators
        .iter()
        .filter(|i| i.class.is_some() && i.class == class)
        .map(|i| i.parameter)
        .collect();
    let missing_core_items: Vec<String> = options
        .eval
        .core_items
        .iter()
        .filter(|code| !indicators_used.contains(&code.as_str()))
        .cloned()
        .collect();
    let grade = class.map(WaterClass::grade).unwrap_or(Grade::NoData);

    let target = options
        .target_class
        .map(|target| target_compliance(target, class, &indicators, options));
    let main_pollutants = main_pollutants(class, &indicators, options);
    let drinking_water = options
        .drinking_water_source
        .then(|| drinking::assess_drinking_water(means, options));
    let trophic = (options.water_type == WaterType::Lake).then(|| trophic(means, options));

    StationAssessment {
        station,
        water_type: options.water_type,
        period: options.period,
        class,
        wording_zh: class
            .map(WaterClass::wording_zh)
            .unwrap_or_else(|| "未监测".into()),
        wording_en: class
            .map(WaterClass::wording_en)
            .unwrap_or_else(|| "no data".into()),
        grade,
        grade_zh: grade.word_zh(),
        grade_en: grade.word_en(),
        colour: options.ui.class_palette.class_colour(class).to_string(),
        partial: !missing_core_items.is_empty(),
        missing_core_items,
        indicators_used,
        limiting_parameters,
        indicators,
        reference_indicators,
        other_parameters,
        target,
        main_pollutants,
        drinking_water,
        trophic,
    }
}

fn target_limit_text(code: &str, water_type: WaterType, target: WaterClass) -> Option<String> {
    use classify::ClassLimits;
    let i = target.limit_index()?;
    Some(match classify::class_limits(code, water_type).ok()? {
        ClassLimits::AtMost(l) => format!("≤{}", fmt_number(l[i])),
        ClassLimits::AtLeast(l) => format!("≥{}", fmt_number(l[i])),
        ClassLimits::Range { min, max } => format!("{}–{}", fmt_number(min), fmt_number(max)),
    })
}

fn target_compliance(
    target: WaterClass,
    class: Option<WaterClass>,
    indicators: &[IndicatorResult],
    options: &EvaluationOptions,
) -> TargetCompliance {
    let exceeding_items = indicators
        .iter()
        .filter_map(|i| {
            let (cl, v) = (i.class?, i.value?);
            (cl > target).then(|| TargetExceedance {
                parameter: i.parameter,
                name_zh: i.name_zh,
                name_en: i.name_en,
                class: cl,
                value: v,
                target_limit: target_limit_text(i.parameter, options.water_type, target),
                multiple_over_target: if target == WaterClass::III {
                    None
                } else {
                    classify::multiple_over_target(
                        i.parameter,
                        v,
                        cl,
                        target,
                        options.water_type,
                        options.eval.multiple_decimals,
                    )
                },
            })
        })
        .collect();
    TargetCompliance {
        target_class: target,
        meets_target: class.map(|cl| cl <= target),
        exceeding_items,
    }
}

/// 主要污染指标 (§8): none for 优/良好; otherwise the routine indicators worse than Ⅲ, toxic items
/// first, then worst class, then larger multiple; items without a multiple (pH, DO) last within
/// their class; the first `count`.
pub fn main_pollutants(
    class: Option<WaterClass>,
    indicators: &[IndicatorResult],
    options: &EvaluationOptions,
) -> Vec<MainPollutant> {
    if class.is_none_or(|cl| cl <= WaterClass::III) {
        return Vec::new();
    }
    let settings = &options.eval.main_pollutants;
    let mut candidates: Vec<&IndicatorResult> = indicators
        .iter()
        .filter(|i| i.class.is_some_and(|cl| cl > WaterClass::III))
        .collect();
    let is_toxic = |i: &IndicatorResult| {
        settings.toxic_first && settings.toxic_items.iter().any(|t| t == i.parameter)
    };
    // Stable sort: ties keep catalogue order.
    candidates.sort_by(|a, b| {
        is_toxic(b)
            .cmp(&is_toxic(a))
            .then(b.class.cmp(&a.class))
            .then_with(|| match (a.exceedance_multiple, b.exceedance_multiple) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
    });
    candidates
        .into_iter()
        .take(settings.count)
        .map(|i| {
            let (zh, en) = match i.exceedance_multiple {
                Some(m) => (
                    format!("{}({})", i.name_zh, fmt_number(m)),
                    format!("{} ({})", i.name_en, fmt_number(m)),
                ),
                None => (i.name_zh.to_string(), i.name_en.to_string()),
            };
            MainPollutant {
                parameter: i.parameter,
                name_zh: i.name_zh,
                name_en: i.name_en,
                class: i.class.unwrap_or(WaterClass::WorseThanV),
                exceedance_multiple: i.exceedance_multiple,
                display_zh: zh,
                display_en: en,
            }
        })
        .collect()
}

fn trophic(means: &StationMeans, options: &EvaluationOptions) -> TrophicOutcome {
    // TLI takes the same averaged values as the class: the period mean (½ DL for censored
    // values, since the logarithm needs a positive number) rounded to the evaluation decimals.
    let get = |code: &str| {
        let pm = means.get(code)?;
        let mean = pm.mean?;
        let decimals = pm.parameter.evaluation_decimals();
        Some(rounding::round_half_even(mean.value, decimals).value).filter(|v| *v > 0.0)
    };
    let inputs = TliInputs {
        chl_a: get(c::CHL_A),
        tp: get(c::TP),
        tn: get(c::TN),
        sd: get(c::SD),
        cod_mn: get(c::COD_MN),
    };
    match tli::tli(&inputs, &options.tli, &options.ui.trophic_palette) {
        Ok(r) => TrophicOutcome::Computed(r),
        Err(e) => TrophicOutcome::NotComputed {
            reason: e.to_string(),
        },
    }
}
