//! The parameter codes a network file may use.
//!
//! This is a deliberately minimal stand-in for the parameter catalogue of the `wq` crate, which
//! is being written in parallel. It only answers "is this a code we know?", and gives the
//! default HJ 212-2017 factor code for documentation and cross-checks. Names, units and decimals
//! live in the network file's `[[parameters]]` catalogue. When `wq` lands, replace
//! [`known_parameter`] by a lookup in `wq`'s catalogue and delete this file.
//!
//! Factor codes: `hj212.md` §13.1 (HJ 212-2017 Table B.1) and §13.2 (codes known only from
//! public code: turbidity, chl-a, algal density, transparency, microcystin-LR).

/// One known parameter: the stable lowercase code and its default HJ 212-2017 factor code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownParameter {
    pub code: &'static str,
    pub hj212: &'static str,
    pub name_en: &'static str,
}

const fn known(code: &'static str, hj212: &'static str, name_en: &'static str) -> KnownParameter {
    KnownParameter {
        code,
        hj212,
        name_en,
    }
}

/// Every parameter code a network file may name.
pub const KNOWN_PARAMETERS: &[KnownParameter] = &[
    // The five conventional parameters (probes).
    known("water_temp", "w01010", "water temperature"),
    known("ph", "w01001", "pH"),
    known("do", "w01009", "dissolved oxygen"),
    known("conductivity", "w01014", "conductivity"),
    known("turbidity", "w01003", "turbidity"),
    // Analysers of a national automatic station; COD kept because real micro stations may
    // measure COD rather than CODMn (hongfeng.md §3.3).
    known("cod_mn", "w01019", "permanganate index"),
    known("cod", "w01018", "chemical oxygen demand"),
    known("nh3_n", "w21003", "ammonia nitrogen"),
    known("tp", "w21011", "total phosphorus"),
    known("tn", "w21001", "total nitrogen"),
    // Algae and transparency (lake stations, TLI).
    known("chl_a", "w01016", "chlorophyll-a"),
    known("algal_density", "w19011", "algal density"),
    known("sd", "w01004", "transparency (Secchi depth)"),
    // Manual routine items used by the demo.
    known("bod5", "w01017", "five-day biochemical oxygen demand"),
    known("fecal_coliform", "w02003", "fecal coliform"),
    // GB 3838 Table 2 (drinking-water source supplementary items).
    known("sulfate", "w21038", "sulfate"),
    known("chloride", "w21022", "chloride"),
    known("nitrate", "w21007", "nitrate"),
    known("fe", "w20125", "iron"),
    known("mn", "w20124", "manganese"),
    // GB 3838 Table 3 item sampled at the intake in bloom season.
    known("microcystin_lr", "w99004", "microcystin-LR"),
];

/// Looks a parameter code up in [`KNOWN_PARAMETERS`].
pub fn known_parameter(code: &str) -> Option<&'static KnownParameter> {
    KNOWN_PARAMETERS.iter().find(|p| p.code == code)
}
