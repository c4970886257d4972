//! Tables 2 and 3 for drinking-water sources: each item 达标 / 超标 against its single limit,
//! isomer sums added first (§3, §9.3).

use crate::catalogue;
use crate::options::EvaluationOptions;
use crate::rounding;
use crate::series::{StationMeans, ValueCounts};
use crate::tables::{SingleLimitRow, TABLE2, TABLE3};
use serde::Serialize;

/// 达标 / 超标 / 无法判定.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 达标
    Meets,
    /// 超标
    Exceeds,
    /// 无法判定: below a detection limit that is itself above the limit.
    CannotJudge,
}

impl Verdict {
    pub fn word_zh(self) -> &'static str {
        match self {
            Self::Meets => "达标",
            Self::Exceeds => "超标",
            Self::CannotJudge => "无法判定",
        }
    }

    pub fn word_en(self) -> &'static str {
        match self {
            Self::Meets => "meets",
            Self::Exceeds => "exceeds",
            Self::CannotJudge => "cannot judge",
        }
    }
}

/// One component of a sum item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentValue {
    pub parameter: &'static str,
    /// Mean used in the sum (½ DL when below the detection limit).
    pub value: f64,
    pub below_detection_limit: bool,
}

/// One Table 2 or Table 3 item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SingleLimitResult {
    pub table: u8,
    pub no: u8,
    pub parameter: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// mg/L.
    pub limit: f64,
    /// The value compared (rounded); the DL (or sum of DLs) when every input was censored.
    pub value: f64,
    pub display: String,
    pub below_detection_limit: bool,
    pub verdict: Verdict,
    /// (C − limit) / limit when it exceeds.
    pub exceedance_multiple: Option<f64>,
    /// For sum items: the components that were added.
    pub components: Vec<ComponentValue>,
    pub counts: ValueCounts,
}

/// The drinking-water block of a station assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrinkingWaterAssessment {
    /// Items with data, Table 2 first.
    pub items: Vec<SingleLimitResult>,
    pub exceeding: Vec<&'static str>,
    /// Every judged item meets its limit.
    pub all_meet: bool,
}

/// Judges every Table 2 and Table 3 item that has data.
pub fn assess_drinking_water(
    means: &StationMeans,
    options: &EvaluationOptions,
) -> DrinkingWaterAssessment {
    let items: Vec<SingleLimitResult> = TABLE2
        .iter()
        .chain(TABLE3.iter())
        .filter_map(|row| judge_row(row, means, options))
        .collect();
    let exceeding = items
        .iter()
        .filter(|i| i.verdict == Verdict::Exceeds)
        .map(|i| i.parameter)
        .collect();
    let all_meet = items.iter().all(|i| i.verdict == Verdict::Meets);
    DrinkingWaterAssessment {
        items,
        exceeding,
        all_meet,
    }
}

/// The mean of an item: its own series, or (with `eval.isomer_sum`) the sum of its components.
/// Returns (statistical value, all censored, DL or sum of DLs, components, counts).
fn item_value(
    row: &SingleLimitRow,
    means: &StationMeans,
    options: &EvaluationOptions,
) -> Option<(f64, bool, f64, Vec<ComponentValue>, ValueCounts)> {
    if let Some(pm) = means.get(row.parameter)
        && let Some(m) = pm.mean
    {
        return Some((
            m.value,
            m.all_censored,
            m.detection_limit.unwrap_or(0.0),
            Vec::new(),
            pm.counts,
        ));
    }
    if !options.eval.isomer_sum || row.components.is_empty() {
        return None;
    }
    let mut sum = 0.0;
    let mut dl_sum = 0.0;
    let mut all_censored = true;
    let mut counts = ValueCounts::default();
    let mut components = Vec::new();
    for code in row.components {
        let Some(pm) = means.get(code) else { continue };
        let Some(m) = pm.mean else { continue };
        // A censored component contributes ½ DL, which is already its mean.
        sum += m.value;
        dl_sum += m.detection_limit.unwrap_or(0.0);
        all_censored &= m.all_censored;
        counts.add(&pm.counts);
        components.push(ComponentValue {
            parameter: code,
            value: m.value,
            below_detection_limit: m.all_censored,
        });
    }
    if components.is_empty() {
        return None;
    }
    Some((sum, all_censored, dl_sum, components, counts))
}

fn judge_row(
    row: &SingleLimitRow,
    means: &StationMeans,
    options: &EvaluationOptions,
) -> Option<SingleLimitResult> {
    let parameter = catalogue::by_code(row.parameter)?;
    let (stat, all_censored, dl, components, counts) = item_value(row, means, options)?;
    let decimals = parameter.evaluation_decimals();
    let (value, display, verdict, multiple) = if all_censored {
        // Single-sample rule (§9.3): DL ≤ limit → 达标 with no multiple, else 无法判定.
        let verdict = if dl <= row.limit {
            Verdict::Meets
        } else {
            Verdict::CannotJudge
        };
        (dl, format!("{dl}L"), verdict, None)
    } else {
        let r = rounding::round_half_even(stat, decimals);
        if r.value <= row.limit {
            (r.value, r.text, Verdict::Meets, None)
        } else {
            let m =
                rounding::exceedance_multiple(r.value, row.limit, options.eval.multiple_decimals);
            (r.value, r.text, Verdict::Exceeds, m)
        }
    };
    Some(SingleLimitResult {
        table: row.table,
        no: row.no,
        parameter: row.parameter,
        name_zh: parameter.name_zh,
        name_en: parameter.name_en,
        limit: row.limit,
        value,
        display,
        below_detection_limit: all_censored,
        verdict,
        exceedance_multiple: multiple,
        components,
        counts,
    })
}
