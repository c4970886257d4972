//! Monotonicity properties of single-factor classification and TLI.

use proptest::prelude::*;
use wq::classify::{ClassifyContext, WaterType, classify};
use wq::tables::{TABLE1, Table1Limits};
use wq::tli::TliComponent;

/// Codes of every "≤"-limited Table 1 item.
fn at_most_codes() -> Vec<&'static str> {
    TABLE1
        .iter()
        .filter(|r| {
            matches!(
                r.limits,
                Table1Limits::AtMost { .. }
                    | Table1Limits::AtMostByWaterType { .. }
                    | Table1Limits::AtMostLakeOnly { .. }
            )
        })
        .map(|r| r.parameter)
        .collect()
}

fn water_type() -> impl Strategy<Value = WaterType> {
    prop_oneof![Just(WaterType::River), Just(WaterType::Lake)]
}

proptest! {
    #[test]
    fn raising_an_at_most_concentration_never_improves_the_class(
        idx in 0usize..21,
        v in 0.0f64..50_000.0,
        factor in 1.0f64..10.0,
        wt in water_type(),
    ) {
        let codes = at_most_codes();
        let code = codes[idx % codes.len()];
        // log-uniform over 1e-6 … 5e4 so that every class of every item is reachable
        let lo = 10f64.powf(-6.0 + 10.7 * v / 50_000.0);
        let hi = lo * factor;
        let ctx = ClassifyContext::new(wt);
        let (a, b) = (classify(code, lo, &ctx).class(), classify(code, hi, &ctx).class());
        prop_assert!(b >= a, "{code}: {lo} → {a:?}, {hi} → {b:?}");
    }

    #[test]
    fn lowering_do_never_improves_the_class(v in 0.0f64..15.0, d in 0.0f64..15.0, wt in water_type()) {
        let ctx = ClassifyContext::new(wt);
        let higher = classify(wq::codes::DO, v + d, &ctx).class().unwrap();
        let lower = classify(wq::codes::DO, v, &ctx).class().unwrap();
        prop_assert!(lower >= higher);
    }

    #[test]
    fn tli_is_monotone_in_each_component(
        comp in 0usize..5,
        v in 0.001f64..100.0,
        factor in 1.0f64..5.0,
    ) {
        let c = TliComponent::ALL[comp];
        let (a, b) = (c.index(v), c.index(v * factor));
        // SD (transparency) is the only component whose index falls as it grows.
        if c == TliComponent::Sd { prop_assert!(b <= a) } else { prop_assert!(b >= a) }
        // and TLI(Σ) follows the component
        let base = wq::TliInputs { chl_a: Some(10.0), tp: Some(0.05), tn: Some(1.0), sd: Some(1.5), cod_mn: Some(4.0) };
        let set = |x: f64| {
            let mut i = base;
            match c {
                TliComponent::ChlA => i.chl_a = Some(x),
                TliComponent::Tp => i.tp = Some(x),
                TliComponent::Tn => i.tn = Some(x),
                TliComponent::Sd => i.sd = Some(x),
                TliComponent::CodMn => i.cod_mn = Some(x),
            }
            wq::tli::tli(&i, &Default::default(), &Default::default()).unwrap().tli_unrounded
        };
        let (ta, tb) = (set(v), set(v * factor));
        if c == TliComponent::Sd { prop_assert!(tb <= ta) } else { prop_assert!(tb >= ta) }
    }

    #[test]
    fn half_even_rounding_is_within_half_a_unit(v in 0.0f64..1000.0, dp in 0u32..5) {
        let r = wq::rounding::round_half_even(v, dp);
        let unit = 10f64.powi(-(dp as i32));
        if r.value != 0.0 && v >= unit {
            prop_assert!((r.value - v).abs() <= unit / 2.0 + 1e-9, "{v} → {}", r.text);
        }
    }
}
