//! `qingshui` — the command-line shell around the platform's crates.
//!
//! Each subcommand is a thin adapter: it parses arguments, sets up logging and hands off to the
//! crate that does the work (`server` for `serve`, `wq` for `evaluate`, …).

mod evaluate;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "qingshui", version, about = "清水 qingshui — real-time water-quality monitoring platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform: SensorThings API, domain API, dashboard, ingestion listeners.
    Serve(serve::ServeArgs),
    /// Evaluate water quality from a CSV or Excel file per GB 3838-2002.
    Evaluate(evaluate::EvaluateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Evaluate(args) => evaluate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
