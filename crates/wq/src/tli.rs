//! 综合营养状态指数 TLI(Σ) for lakes and reservoirs (§10).

use crate::catalogue::codes as c;
use crate::rounding;
use serde::{Deserialize, Serialize};

/// The five trophic-state components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TliComponent {
    ChlA,
    Tp,
    Tn,
    Sd,
    CodMn,
}

impl TliComponent {
    pub const ALL: [TliComponent; 5] = [Self::ChlA, Self::Tp, Self::Tn, Self::Sd, Self::CodMn];

    /// Catalogue code of the component's parameter.
    pub fn parameter(self) -> &'static str {
        match self {
            Self::ChlA => c::CHL_A,
            Self::Tp => c::TP,
            Self::Tn => c::TN,
            Self::Sd => c::SD,
            Self::CodMn => c::COD_MN,
        }
    }

    /// Correlation r_ij of the component with chl-a (金相灿, 26 Chinese lakes).
    pub fn correlation_with_chl_a(self) -> f64 {
        match self {
            Self::ChlA => 1.0,
            Self::Tp => 0.84,
            Self::Tn => 0.82,
            Self::Sd => -0.83,
            Self::CodMn => 0.83,
        }
    }

    /// The component index TLI(j). Units: chl-a mg/m³, TP/TN/CODMn mg/L, SD m.
    pub fn index(self, value: f64) -> f64 {
        let ln = value.ln();
        10.0 * match self {
            Self::ChlA => 2.5 + 1.086 * ln,
            Self::Tp => 9.436 + 1.624 * ln,
            Self::Tn => 5.453 + 1.694 * ln,
            Self::Sd => 5.118 - 1.94 * ln,
            Self::CodMn => 0.109 + 2.661 * ln,
        }
    }
}

/// The inputs: one value per available component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TliInputs {
    /// mg/m³ (= µg/L). A value in mg/L must be multiplied by 1000 first.
    pub chl_a: Option<f64>,
    /// mg/L (never µg/L).
    pub tp: Option<f64>,
    pub tn: Option<f64>,
    /// m.
    pub sd: Option<f64>,
    pub cod_mn: Option<f64>,
}

impl TliInputs {
    pub fn get(&self, component: TliComponent) -> Option<f64> {
        match component {
            TliComponent::ChlA => self.chl_a,
            TliComponent::Tp => self.tp,
            TliComponent::Tn => self.tn,
            TliComponent::Sd => self.sd,
            TliComponent::CodMn => self.cod_mn,
        }
    }
}

/// `tli.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TliSettings {
    /// `tli.min_params`: least number of components (3 = chl-a + two others).
    pub min_params: usize,
    /// chl-a must be among them (on).
    pub require_chl_a: bool,
    /// `tli.decimals`: the reported value, which is also the graded value (2).
    pub decimals: u32,
}

impl Default for TliSettings {
    fn default() -> Self {
        Self {
            min_params: 3,
            require_chl_a: true,
            decimals: 2,
        }
    }
}

/// Trophic state (§10.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrophicState {
    Oligotrophic,
    Mesotrophic,
    LightEutrophic,
    MiddleEutrophic,
    HyperEutrophic,
}

impl TrophicState {
    /// Grades a TLI(Σ) value: < 30 贫; 30–50 中 (inclusive); ≤ 60 轻度; ≤ 70 中度; > 70 重度.
    pub fn from_tli(tli: f64) -> Self {
        if tli < 30.0 {
            Self::Oligotrophic
        } else if tli <= 50.0 {
            Self::Mesotrophic
        } else if tli <= 60.0 {
            Self::LightEutrophic
        } else if tli <= 70.0 {
            Self::MiddleEutrophic
        } else {
            Self::HyperEutrophic
        }
    }

    pub fn word_zh(self) -> &'static str {
        match self {
            Self::Oligotrophic => "贫营养",
            Self::Mesotrophic => "中营养",
            Self::LightEutrophic => "轻度富营养",
            Self::MiddleEutrophic => "中度富营养",
            Self::HyperEutrophic => "重度富营养",
        }
    }

    pub fn word_en(self) -> &'static str {
        match self {
            Self::Oligotrophic => "oligotrophic",
            Self::Mesotrophic => "mesotrophic",
            Self::LightEutrophic => "light eutrophic",
            Self::MiddleEutrophic => "middle eutrophic",
            Self::HyperEutrophic => "hyper-eutrophic",
        }
    }

    /// 富营养: TLI > 50.
    pub fn is_eutrophic(self) -> bool {
        self >= Self::LightEutrophic
    }
}

/// Trophic colours (`ui.trophic_palette`; no official colours exist, project default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrophicPalette {
    pub oligotrophic: String,
    pub mesotrophic: String,
    pub light_eutrophic: String,
    pub middle_eutrophic: String,
    pub hyper_eutrophic: String,
}

impl Default for TrophicPalette {
    fn default() -> Self {
        Self {
            oligotrophic: "#1E88E5".into(),
            mesotrophic: "#43A047".into(),
            light_eutrophic: "#FDD835".into(),
            middle_eutrophic: "#FB8C00".into(),
            hyper_eutrophic: "#E53935".into(),
        }
    }
}

impl TrophicPalette {
    pub fn colour(&self, state: TrophicState) -> &str {
        match state {
            TrophicState::Oligotrophic => &self.oligotrophic,
            TrophicState::Mesotrophic => &self.mesotrophic,
            TrophicState::LightEutrophic => &self.light_eutrophic,
            TrophicState::MiddleEutrophic => &self.middle_eutrophic,
            TrophicState::HyperEutrophic => &self.hyper_eutrophic,
        }
    }
}

/// One component's share of TLI(Σ).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TliComponentResult {
    pub component: TliComponent,
    pub parameter: &'static str,
    pub value: f64,
    /// TLI(j), unrounded.
    pub index: f64,
    /// W_j renormalised over the available components.
    pub weight: f64,
}

/// TLI(Σ) with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TliResult {
    /// TLI(Σ) rounded to `tli.decimals`; the state is graded on this value.
    pub tli: f64,
    pub tli_unrounded: f64,
    pub state: TrophicState,
    pub state_zh: &'static str,
    pub state_en: &'static str,
    pub colour: String,
    pub components: Vec<TliComponentResult>,
    /// Components missing from the inputs (their weight went to the others).
    pub missing: Vec<TliComponent>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
pub enum TliError {
    #[error("insufficient data for TLI: {available} component(s) available, {required} required{}", if *.chl_a_missing { " (chl-a missing)" } else { "" })]
    InsufficientData {
        available: usize,
        required: usize,
        chl_a_missing: bool,
    },
    #[error("TLI input {component:?} = {value} is not positive")]
    NonPositive { component: TliComponent, value: f64 },
}

/// Weights W_j = r_j² / Σ r² over the available components (never a fixed 5-weight table).
pub fn weights(available: &[TliComponent]) -> Vec<f64> {
    let total: f64 = available
        .iter()
        .map(|c| c.correlation_with_chl_a().powi(2))
        .sum();
    available
        .iter()
        .map(|c| c.correlation_with_chl_a().powi(2) / total)
        .collect()
}

/// Computes TLI(Σ). Values must be positive (censored inputs enter as ½ DL before this).
pub fn tli(
    inputs: &TliInputs,
    settings: &TliSettings,
    palette: &TrophicPalette,
) -> Result<TliResult, TliError> {
    let available: Vec<TliComponent> = TliComponent::ALL
        .into_iter()
        .filter(|c| inputs.get(*c).is_some())
        .collect();
    let chl_a_missing = inputs.chl_a.is_none();
    if available.len() < settings.min_params || (settings.require_chl_a && chl_a_missing) {
        return Err(TliError::InsufficientData {
            available: available.len(),
            required: settings.min_params,
            chl_a_missing,
        });
    }
    let w = weights(&available);
    let mut components = Vec::with_capacity(available.len());
    for (component, weight) in available.iter().zip(w) {
        let value = inputs.get(*component).unwrap_or(f64::NAN);
        if value.is_nan() || value <= 0.0 {
            return Err(TliError::NonPositive {
                component: *component,
                value,
            });
        }
        components.push(TliComponentResult {
            component: *component,
            parameter: component.parameter(),
            value,
            index: component.index(value),
            weight,
        });
    }
    let total: f64 = components.iter().map(|c| c.weight * c.index).sum();
    let tli = rounding::round_half_even(total, settings.decimals).value;
    let state = TrophicState::from_tli(tli);
    Ok(TliResult {
        tli,
        tli_unrounded: total,
        state,
        state_zh: state.word_zh(),
        state_en: state.word_en(),
        colour: palette.colour(state).to_string(),
        components,
        missing: TliComponent::ALL
            .into_iter()
            .filter(|c| inputs.get(*c).is_none())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TliComponent::*;

    fn r2(x: f64) -> f64 {
        rounding::round_half_even(x, 2).value
    }

    #[test]
    fn weight_table() {
        // §10.2 rows (5 decimals)
        let r5 = |x: f64| rounding::round_half_even(x, 5).value;
        let all = weights(&TliComponent::ALL);
        assert_eq!(
            all.iter().map(|w| r5(*w)).collect::<Vec<_>>(),
            [0.26625, 0.18787, 0.17903, 0.18342, 0.18342]
        );
        let rows: [(&[TliComponent], [f64; 4]); 5] = [
            (&[ChlA, Tp, Tn, CodMn], [0.32606, 0.23007, 0.21924, 0.22462]),
            (&[Tp, Tn, Sd, CodMn], [0.25604, 0.24399, 0.24998, 0.24998]),
            (&[ChlA, Tp, Sd, CodMn], [0.32432, 0.22884, 0.22342, 0.22342]),
            (&[ChlA, Tn, Sd, CodMn], [0.32785, 0.22044, 0.22585, 0.22585]),
            (&[ChlA, Tp, Tn, Sd], [0.32606, 0.23007, 0.21924, 0.22462]),
        ];
        for (set, want) in rows {
            assert_eq!(
                weights(set).iter().map(|w| r5(*w)).collect::<Vec<_>>(),
                want,
                "{set:?}"
            );
        }
    }

    #[test]
    fn reference_vectors() {
        // §10.4: chl, TP, TN, SD, CODMn → component indices, TLI(Σ), state; TLI without SD
        // (inputs, component indices, TLI(Σ), state, TLI without SD)
        type Row = ([f64; 5], [f64; 5], f64, TrophicState, f64);
        let rows: [Row; 6] = [
            (
                [10.0, 0.05, 1.0, 1.5, 4.0],
                [50.01, 45.71, 54.53, 43.31, 37.98],
                46.58,
                TrophicState::Mesotrophic,
                47.31,
            ),
            (
                [5.0, 0.025, 0.5, 3.0, 2.0],
                [42.48, 34.45, 42.79, 29.87, 19.53],
                34.50,
                TrophicState::Mesotrophic,
                35.55,
            ),
            (
                [30.0, 0.1, 2.0, 0.8, 6.0],
                [61.94, 56.97, 66.27, 55.51, 48.77],
                58.18,
                TrophicState::LightEutrophic,
                58.79,
            ),
            (
                [8.0, 0.04, 1.8, 2.0, 3.0],
                [47.58, 42.09, 64.49, 37.73, 30.32],
                44.60,
                TrophicState::Mesotrophic,
                46.15,
            ),
            (
                [3.0, 0.01, 0.2, 5.0, 1.5],
                [36.93, 19.57, 27.27, 19.96, 11.88],
                24.23,
                TrophicState::Oligotrophic,
                25.19,
            ),
            (
                [60.0, 0.2, 3.0, 0.4, 10.0],
                [69.46, 68.22, 73.14, 68.96, 62.36],
                68.49,
                TrophicState::MiddleEutrophic,
                68.39,
            ),
        ];
        let s = TliSettings::default();
        let p = TrophicPalette::default();
        for (v, idx, total, state, without_sd) in rows {
            for (i, comp) in TliComponent::ALL.iter().enumerate() {
                assert_eq!(r2(comp.index(v[i])), idx[i], "{comp:?} of {v:?}");
            }
            let inputs = TliInputs {
                chl_a: Some(v[0]),
                tp: Some(v[1]),
                tn: Some(v[2]),
                sd: Some(v[3]),
                cod_mn: Some(v[4]),
            };
            let r = tli(&inputs, &s, &p).unwrap();
            assert_eq!(r.tli, total, "{v:?}");
            assert_eq!(r.state, state);
            let r = tli(&TliInputs { sd: None, ..inputs }, &s, &p).unwrap();
            assert_eq!(r.tli, without_sd, "{v:?} without SD");
            assert_eq!(r.state, state);
            assert_eq!(r.missing, vec![Sd]);
        }
    }

    #[test]
    fn boundaries() {
        use TrophicState::*;
        for (x, s) in [
            (29.99, Oligotrophic),
            (30.0, Mesotrophic),
            (50.0, Mesotrophic),
            (50.01, LightEutrophic),
            (60.0, LightEutrophic),
            (70.0, MiddleEutrophic),
            (70.01, HyperEutrophic),
        ] {
            assert_eq!(TrophicState::from_tli(x), s, "{x}");
        }
        assert!(!Mesotrophic.is_eutrophic());
        assert!(LightEutrophic.is_eutrophic());
    }

    #[test]
    fn insufficient_data() {
        let s = TliSettings::default();
        let p = TrophicPalette::default();
        let only_two = TliInputs {
            chl_a: Some(10.0),
            tp: Some(0.05),
            ..TliInputs::default()
        };
        assert!(matches!(
            tli(&only_two, &s, &p),
            Err(TliError::InsufficientData { .. })
        ));
        let no_chl = TliInputs {
            tp: Some(0.05),
            tn: Some(1.0),
            cod_mn: Some(4.0),
            ..TliInputs::default()
        };
        assert!(tli(&no_chl, &s, &p).is_err());
        let relaxed = TliSettings {
            require_chl_a: false,
            ..s
        };
        assert!(tli(&no_chl, &relaxed, &p).is_ok());
        let three = TliInputs {
            chl_a: Some(10.0),
            tp: Some(0.05),
            tn: Some(1.0),
            ..TliInputs::default()
        };
        assert!(tli(&three, &TliSettings::default(), &p).is_ok());
    }
}
