//! `wq` — water-quality science for qingshui, pure (no IO, no async, no threads).
//!
//! * [`catalogue`]: parameters with stable codes, names, units, HJ 212 codes, decimals;
//! * [`tables`]: GB 3838-2002 Tables 1–3 as data;
//! * [`classify`]: single-factor classes, exceedance multiples;
//! * [`average`], [`rounding`]: means (pH on [H⁺], ½ DL) and half-even rounding;
//! * [`qc`]: automatic QC checks that flag values;
//! * [`tli`]: the trophic-state index TLI(Σ);
//! * [`evaluate_station`], [`evaluate_water_body`]: whole evaluations with their explanations.
//!
//! Numbers and rules come from `shared/reference/water-quality.md`; every uncertain point there
//! is a setting in [`EvaluationOptions`].

pub mod assess;
pub mod average;
pub mod catalogue;
pub mod class;
pub mod classify;
pub mod drinking;
pub mod multi;
pub mod options;
pub mod parameter;
pub mod qc;
pub mod rounding;
pub mod sample;
pub mod series;
pub mod tables;
pub mod tli;
pub mod unit;

pub use assess::{
    IndicatorResult, MainPollutant, StationAssessment, TargetCompliance, TrophicOutcome,
};
pub use catalogue::{Parameter, codes};
pub use class::{Grade, Palette, WaterClass};
pub use classify::{Classification, ClassifyContext, WaterType, classify};
pub use drinking::{DrinkingWaterAssessment, Verdict};
pub use multi::{AggregationMethod, StationSeries, WaterBodyAssessment, evaluate_water_body};
pub use options::{EvaluationOptions, Period};
pub use sample::{DataFlag, Sample};
pub use series::{EvaluationError, SeriesByParameter, ValueCounts};
pub use tli::{TliInputs, TliResult, TrophicState};
pub use unit::Unit;

/// Evaluates one station (section or point) over `options.period`: QC, period means, rounding,
/// single-factor classes, the station class over the routine indicators, TN and fecal coliform
/// on their own lines, compliance, main pollutants, the drinking-water block and (lakes) TLI.
pub fn evaluate_station(
    series: &SeriesByParameter,
    options: &EvaluationOptions,
) -> Result<StationAssessment, EvaluationError> {
    let means = series::station_means(series, options)?;
    Ok(assess::assess(None, &means, options))
}
