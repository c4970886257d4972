//! Benchmark: one year of 5-minute data for 18 stations × 12 parameters (≈ 22.7 M values),
//! evaluated as one lake (QC, daily means, period means, classes, TLI, per point and combined).
//!
//! Run with `cargo run --release -p wq --example bench_evaluate`.

use std::time::Instant;
use wq::codes as c;
use wq::{EvaluationOptions, Period, Sample, SeriesByParameter, StationSeries, WaterType};

const STEP: i64 = 300;
const YEAR_START: i64 = 1_704_038_400; // 2024-01-01 00:00 +08:00
const VALUES_PER_SERIES: i64 = 365 * 24 * 3600 / STEP;

/// (code, base value, amplitude of the noise)
const PARAMETERS: [(&str, f64, f64); 12] = [
    (c::WATER_TEMPERATURE, 18.0, 6.0),
    (c::PH, 7.8, 0.4),
    (c::DO, 7.0, 1.5),
    (c::CONDUCTIVITY, 320.0, 40.0),
    (c::TURBIDITY, 8.0, 4.0),
    (c::COD_MN, 3.5, 1.0),
    (c::NH3_N, 0.35, 0.15),
    (c::TP, 0.04, 0.015),
    (c::TN, 1.4, 0.4),
    (c::CHL_A, 12.0, 6.0),
    (c::ALGAL_DENSITY, 2.0e6, 1.0e6),
    (c::SD, 1.6, 0.4),
];

/// Small deterministic generator (xorshift) so the run needs no extra crates.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

fn station(i: usize) -> StationSeries {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
    let mut series = SeriesByParameter::new();
    for (code, base, amp) in PARAMETERS {
        let samples = (0..VALUES_PER_SERIES)
            .map(|k| {
                let t = YEAR_START + k * STEP;
                let seasonal = (k as f64 / VALUES_PER_SERIES as f64 * std::f64::consts::TAU).sin();
                let v = base + amp * (0.5 * seasonal + 0.5 * noise.next());
                Sample::new(t, (v * 1000.0).round() / 1000.0)
            })
            .collect();
        series.insert(code.to_string(), samples);
    }
    StationSeries {
        station: format!("P{i:02}"),
        series,
        target_class: None,
    }
}

fn main() {
    let t0 = Instant::now();
    let stations: Vec<StationSeries> = (0..18).map(station).collect();
    let n: usize = stations
        .iter()
        .flat_map(|s| s.series.values())
        .map(Vec::len)
        .sum();
    println!(
        "generated {n} values for {} stations in {:.2?}",
        stations.len(),
        t0.elapsed()
    );

    let mut options = EvaluationOptions::new(WaterType::Lake);
    options.period = Some(Period {
        start: YEAR_START,
        end: YEAR_START + VALUES_PER_SERIES * STEP,
    });

    let t1 = Instant::now();
    let result = wq::evaluate_water_body(&stations, &options).expect("known parameters");
    let elapsed = t1.elapsed();
    let combined = result.combined.as_ref().expect("lake result");
    println!(
        "evaluated {n} values in {elapsed:.3?} ({:.1} M values/s): lake class {:?}, {}, TLI {:?}",
        n as f64 / elapsed.as_secs_f64() / 1e6,
        combined.class,
        combined.grade_en,
        match &combined.trophic {
            Some(wq::TrophicOutcome::Computed(t)) => Some(t.tli),
            _ => None,
        }
    );
}
