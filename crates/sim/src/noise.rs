//! Deterministic, order-free randomness: every random number is a hash of
//! (seed, station, parameter, channel, time), so the same inputs always give the same value no
//! matter in which order or how fast values are asked for.

/// splitmix64 finaliser: a fast, well-mixing 64-bit bijection.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a seed and three words.
#[inline]
pub(crate) fn hash(seed: u64, a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(seed ^ a) ^ b) ^ c)
}

/// Uniform in [0, 1).
#[inline]
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// FNV-1a of a string: stable keys for station and parameter codes (independent of file order).
pub(crate) const fn key_of(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u64).wrapping_mul(0x0000_0100_0000_01B3);
        i += 1;
    }
    h
}

/// Independent noise streams of one station × parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Channel {
    White = 1,
    Slow = 2,
    Spike = 3,
    Fault = 4,
    Rain = 5,
    RainHour = 6,
    RainIntensity = 7,
    Bloom = 8,
    Overturn = 9,
    Maintenance = 10,
    Character = 11,
    Calibration = 12,
    LakeLag = 13,
}

/// Triangular noise in (-1, 1), centred on 0: white noise of one sample.
#[inline]
pub(crate) fn white(seed: u64, stream: u64, t: i64) -> f64 {
    let h = hash(seed, stream, Channel::White as u64, t as u64);
    let h2 = mix(h);
    unit(h) + unit(h2) - 1.0
}

/// Smooth value noise in [-1, 1]: random knots every `period_s` seconds, joined by a cosine
/// curve. Two octaves (period and period / 6) give day-to-day weather plus hours-scale wobble.
pub(crate) fn slow(seed: u64, stream: u64, t: i64, period_s: i64) -> f64 {
    0.7 * value_noise(seed, stream, t, period_s)
        + 0.3 * value_noise(seed, stream ^ 0x5A5A, t, (period_s / 6).max(1))
}

fn value_noise(seed: u64, stream: u64, t: i64, period_s: i64) -> f64 {
    let knot = t.div_euclid(period_s);
    let frac = t.rem_euclid(period_s) as f64 / period_s as f64;
    let knot_value = |k: i64| 2.0 * unit(hash(seed, stream, Channel::Slow as u64, k as u64)) - 1.0;
    let w = (1.0 - (std::f64::consts::PI * frac).cos()) / 2.0;
    knot_value(knot) * (1.0 - w) + knot_value(knot + 1) * w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_bounded_and_centred() {
        let n = 20_000;
        let mean: f64 = (0..n).map(|t| white(7, 3, t)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((0..n).all(|t| white(7, 3, t).abs() < 1.0));
        assert!((0..n).all(|t| slow(7, 3, t * 997, 86_400).abs() <= 1.0));
    }

    #[test]
    fn slow_noise_is_continuous() {
        let a = slow(1, 2, 86_400 * 10, 86_400);
        let b = slow(1, 2, 86_400 * 10 + 60, 86_400);
        assert!((a - b).abs() < 0.05);
    }
}
