//! `qingshui evaluate` — placeholder until the water-quality crate lands.
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Input file (CSV or .xlsx).
    pub input: std::path::PathBuf,
}

pub fn run(_args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("evaluate is not implemented yet")
}
