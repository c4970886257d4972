//! From raw series to period means: QC, validity and time aggregation (§9, §13.3).

use crate::average::{Mean, MeanAccumulator, MeanKind};
use crate::catalogue::{self, Parameter};
use crate::options::{EvaluationOptions, Period, TimeAggregation};
use crate::qc::{self, QcFlags};
use crate::sample::Sample;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The input of an evaluation: samples per parameter, keyed by catalogue code, in the
/// catalogue unit of each parameter.
pub type SeriesByParameter = BTreeMap<String, Vec<Sample>>;

/// Errors of an evaluation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluationError {
    #[error("unknown parameter code {0:?}")]
    UnknownParameter(String),
    #[error("no stations to evaluate")]
    NoStations,
}

/// How many values there were and which counted.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ValueCounts {
    /// Values inside the period.
    pub total: usize,
    /// Values that entered the mean.
    pub valid: usize,
    /// Values kept out: `total − valid`.
    pub invalid: usize,
    /// … of which for their HJ 212 data flag.
    pub invalid_by_flag: usize,
    /// … of which for a QC check (range, constant, spike, suspect zero).
    pub invalid_by_qc: usize,
    /// Valid values below the detection limit (entered as ½ DL).
    pub below_detection_limit: usize,
    /// Local days with at least one valid value.
    pub days_with_data: usize,
    /// Days of the period (or of the span of the data when no period is given).
    pub days_expected: usize,
    /// `days_with_data / days_expected`.
    pub coverage: Option<f64>,
    /// Coverage below `stats.min_coverage`.
    pub incomplete: bool,
    /// Gap events found by QC.
    pub gaps: usize,
}

impl ValueCounts {
    /// Adds the counts of another station (multi-station results).
    pub fn add(&mut self, o: &ValueCounts) {
        self.total += o.total;
        self.valid += o.valid;
        self.invalid += o.invalid;
        self.invalid_by_flag += o.invalid_by_flag;
        self.invalid_by_qc += o.invalid_by_qc;
        self.below_detection_limit += o.below_detection_limit;
        self.days_with_data += o.days_with_data;
        self.days_expected += o.days_expected;
        self.gaps += o.gaps;
        self.incomplete |= o.incomplete;
        self.coverage = (self.days_expected > 0)
            .then(|| self.days_with_data as f64 / self.days_expected as f64);
    }
}

/// One parameter's period mean with its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterMean {
    pub parameter: &'static Parameter,
    pub mean: Option<Mean>,
    pub counts: ValueCounts,
}

/// Period means of every parameter of one station (or of a combined water body).
pub type StationMeans = BTreeMap<&'static str, ParameterMean>;

const DAY: i64 = 86_400;

fn local_day(t: i64, offset: i64) -> i64 {
    (t + offset).div_euclid(DAY)
}

fn is_sorted(samples: &[Sample]) -> bool {
    samples.windows(2).all(|w| w[0].time <= w[1].time)
}

/// Looks up the parameter and returns the samples sorted by time.
pub(crate) fn prepare<'a>(
    code: &str,
    samples: &'a [Sample],
) -> Result<(&'static Parameter, Cow<'a, [Sample]>), EvaluationError> {
    let parameter = catalogue::by_code(code)
        .ok_or_else(|| EvaluationError::UnknownParameter(code.to_string()))?;
    let samples = if is_sorted(samples) {
        Cow::Borrowed(samples)
    } else {
        let mut v = samples.to_vec();
        v.sort_by_key(|s| s.time);
        Cow::Owned(v)
    };
    Ok((parameter, samples))
}

/// QC flags for one parameter's sorted series, restricted to nothing (QC looks at neighbours
/// outside the period too, so a constant run crossing the period start is still seen).
pub(crate) fn qc_flags(
    code: &str,
    samples: &[Sample],
    options: &EvaluationOptions,
) -> (Vec<QcFlags>, usize) {
    let report = qc::check_series(code, samples, &options.qc);
    let gaps = match options.period {
        Some(p) => report
            .gaps
            .iter()
            .filter(|g| g.before > p.start && g.after < p.end)
            .count(),
        None => report.gaps.len(),
    };
    (report.flags, gaps)
}

/// Period mean of one parameter from a sorted series and its QC flags.
pub fn time_mean(
    code: &str,
    samples: &[Sample],
    flags: &[QcFlags],
    options: &EvaluationOptions,
) -> (Option<Mean>, ValueCounts) {
    let kind = MeanKind::for_parameter(code);
    let offset = options.utc_offset_seconds;
    let by_day = options.stats.time_aggregation == TimeAggregation::DailyMeans;
    let mut counts = ValueCounts::default();
    let mut period_acc = MeanAccumulator::default();
    let mut day_acc = MeanAccumulator::default();
    let mut current_day: Option<i64> = None;
    let (mut first_day, mut last_day) = (i64::MAX, i64::MIN);

    for (s, f) in samples.iter().zip(flags) {
        if options.period.is_some_and(|p| !p.contains(s.time)) {
            continue;
        }
        counts.total += 1;
        let day = local_day(s.time, offset);
        first_day = first_day.min(day);
        last_day = last_day.max(day);
        if f.excludes() {
            counts.invalid += 1;
            if f.contains(QcFlags::INSTRUMENT_FLAG) {
                counts.invalid_by_flag += 1;
            } else {
                counts.invalid_by_qc += 1;
            }
            continue;
        }
        counts.valid += 1;
        counts.below_detection_limit += usize::from(s.censored);
        if current_day != Some(day) {
            if let Some(m) = day_acc.finish(kind) {
                period_acc.push_mean(&m, kind);
            }
            day_acc = MeanAccumulator::default();
            current_day = Some(day);
            counts.days_with_data += 1;
        }
        if by_day {
            day_acc.push_sample(s.value, s.censored, kind);
        } else {
            period_acc.push_sample(s.value, s.censored, kind);
        }
    }
    if let Some(m) = day_acc.finish(kind) {
        period_acc.push_mean(&m, kind);
    }
    counts.days_expected = match options.period {
        Some(Period { start, end }) if end > start => {
            (local_day(end - 1, offset) - local_day(start, offset) + 1) as usize
        }
        _ if counts.total > 0 => (last_day - first_day + 1) as usize,
        _ => 0,
    };
    counts.coverage = (counts.days_expected > 0)
        .then(|| counts.days_with_data as f64 / counts.days_expected as f64);
    counts.incomplete = counts
        .coverage
        .is_some_and(|c| c < options.stats.min_coverage);
    (period_acc.finish(kind), counts)
}

/// Period means of every parameter of one station.
pub fn station_means(
    series: &SeriesByParameter,
    options: &EvaluationOptions,
) -> Result<StationMeans, EvaluationError> {
    let mut out = StationMeans::new();
    for (code, samples) in series {
        let (parameter, samples) = prepare(code, samples)?;
        let (flags, gaps) = qc_flags(parameter.code, &samples, options);
        let (mean, mut counts) = time_mean(parameter.code, &samples, &flags, options);
        counts.gaps = gaps;
        out.insert(
            parameter.code,
            ParameterMean {
                parameter,
                mean,
                counts,
            },
        );
    }
    Ok(out)
}

/// Spatial mean of several stations' period means, parameter by parameter (pH on [H⁺]). Used
/// for rivers with fewer than 5 sections and for lakes (§6).
pub fn spatial_mean(stations: &[StationMeans]) -> StationMeans {
    let mut acc: BTreeMap<&'static str, (&'static Parameter, MeanAccumulator, ValueCounts)> =
        BTreeMap::new();
    for station in stations {
        for (code, pm) in station {
            let entry = acc.entry(code).or_insert((
                pm.parameter,
                MeanAccumulator::default(),
                ValueCounts::default(),
            ));
            if let Some(m) = &pm.mean {
                entry.1.push_mean(m, MeanKind::for_parameter(code));
            }
            entry.2.add(&pm.counts);
        }
    }
    acc.into_iter()
        .map(|(code, (parameter, a, counts))| {
            (
                code,
                ParameterMean {
                    parameter,
                    mean: a.finish(MeanKind::for_parameter(code)),
                    counts,
                },
            )
        })
        .collect()
}

/// Pools the samples of several points (lake order `pooled`): each point's QC runs on its own
/// series, then the valid values of all points enter one time aggregation.
pub fn pooled_means(
    stations: &[&SeriesByParameter],
    options: &EvaluationOptions,
) -> Result<StationMeans, EvaluationError> {
    type Pooled = (&'static Parameter, Vec<(Sample, QcFlags)>, usize);
    let mut merged: BTreeMap<&'static str, Pooled> = BTreeMap::new();
    for series in stations {
        for (code, samples) in series.iter() {
            let (parameter, samples) = prepare(code, samples)?;
            let (flags, gaps) = qc_flags(parameter.code, &samples, options);
            let entry = merged
                .entry(parameter.code)
                .or_insert((parameter, Vec::new(), 0));
            entry.1.extend(samples.iter().copied().zip(flags));
            entry.2 += gaps;
        }
    }
    Ok(merged
        .into_iter()
        .map(|(code, (parameter, mut pairs, gaps))| {
            pairs.sort_by_key(|(s, _)| s.time);
            let (samples, flags): (Vec<Sample>, Vec<QcFlags>) = pairs.into_iter().unzip();
            let (mean, mut counts) = time_mean(code, &samples, &flags, options);
            counts.gaps = gaps;
            (
                code,
                ParameterMean {
                    parameter,
                    mean,
                    counts,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::codes as c;
    use crate::sample::DataFlag;

    const H: i64 = 3600;

    fn opts() -> EvaluationOptions {
        EvaluationOptions::default()
    }

    #[test]
    fn daily_means_then_period_mean() {
        // Day 1: 1.0, 3.0 (mean 2); day 2: 5.0 → mean of daily means 3.5 (all values: 3.0).
        // Times are Beijing days: 00:00 +08:00 = 16:00 UTC the day before.
        let d0 = -8 * H;
        let s = [
            Sample::new(d0, 1.0),
            Sample::new(d0 + H, 3.0),
            Sample::new(d0 + 24 * H, 5.0),
        ];
        let flags = vec![QcFlags::default(); 3];
        let (m, counts) = time_mean(c::COD, &s, &flags, &opts());
        assert_eq!(m.unwrap().value, 3.5);
        assert_eq!(counts.days_with_data, 2);
        let mut o = opts();
        o.stats.time_aggregation = TimeAggregation::AllValues;
        assert_eq!(time_mean(c::COD, &s, &flags, &o).0.unwrap().value, 3.0);
    }

    #[test]
    fn invalid_values_are_counted_not_used() {
        let s = [
            Sample::new(0, 1.0),
            Sample::new(H, 100.0).with_flag(DataFlag::D),
            Sample::new(2 * H, -5.0),
            Sample::new(3 * H, 3.0),
        ];
        let mut series = SeriesByParameter::new();
        series.insert(c::COD.into(), s.to_vec());
        let means = station_means(&series, &opts()).unwrap();
        let pm = &means[c::COD];
        assert_eq!(pm.mean.unwrap().value, 2.0);
        assert_eq!(pm.counts.valid, 2);
        assert_eq!(pm.counts.invalid, 2);
        assert_eq!(pm.counts.invalid_by_flag, 1);
        assert_eq!(pm.counts.invalid_by_qc, 1);
    }

    #[test]
    fn period_and_coverage() {
        let mut o = opts();
        // 4 Beijing days; data on 2 of them → coverage 0.5 → incomplete
        let start = -8 * H;
        o.period = Some(Period {
            start,
            end: start + 4 * 24 * H,
        });
        let s = [
            Sample::new(start - H, 9.0),
            Sample::new(start, 1.0),
            Sample::new(start + 30 * H, 2.0),
        ];
        let (m, counts) = time_mean(c::COD, &s, &[QcFlags::default(); 3], &o);
        assert_eq!(m.unwrap().value, 1.5);
        assert_eq!(counts.total, 2);
        assert_eq!(counts.days_expected, 4);
        assert_eq!(counts.coverage, Some(0.5));
        assert!(counts.incomplete);
    }

    #[test]
    fn unsorted_input_is_sorted_and_unknown_codes_rejected() {
        let mut series = SeriesByParameter::new();
        series.insert(
            c::PH.into(),
            vec![
                Sample::new(2 * H, 9.0),
                Sample::new(0, 7.0),
                Sample::new(H, 8.0),
            ],
        );
        let mut o = opts();
        o.stats.time_aggregation = TimeAggregation::AllValues;
        let means = station_means(&series, &o).unwrap();
        let v = means[c::PH].mean.unwrap().value;
        assert_eq!(crate::rounding::round_half_even(v, 2).text, "7.43");
        series.insert("unobtainium".into(), vec![]);
        assert_eq!(
            station_means(&series, &o),
            Err(EvaluationError::UnknownParameter("unobtainium".into()))
        );
    }
}
