//! `qingshui` — the command-line shell around the platform's crates.
//!
//! Each subcommand is a thin adapter: it parses arguments, sets up logging and hands off to the
//! crate that does the work (`server` for `serve`, `wq` for `evaluate`, …).

mod cameras;
mod demo;
mod evaluate;
mod imagery;
mod report;
mod serve;
mod simulate;
mod store_cmd;
mod user;

use clap::{Parser, Subcommand};

// Reads build many small JSON values on one thread and free them on another; mimalloc handles
// that pattern far better than the system allocator (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "qingshui",
    version,
    about = "清水 qingshui — real-time water-quality monitoring platform"
)]
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
    /// Simulated stations sending to a running server over HJ 212 TCP and STA HTTP.
    Simulate(simulate::SimulateArgs),
    /// One-command demo: server + Hongfeng Lake network + history + live simulated stations.
    Demo(demo::DemoArgs),
    /// Satellite and drone scenes: send GeoTIFF/COG files to a running server.
    Imagery(imagery::ImageryArgs),
    /// Accounts: create the first admin, change passwords, disable people.
    User(user::UserArgs),
    /// Apply the store's pending schema migrations (SQLite or PostgreSQL) and say its version.
    Migrate(store_cmd::MigrateArgs),
    /// Store operations: copy the embedded store into PostgreSQL.
    Store(store_cmd::StoreArgs),
    /// Water-quality report (monthly/quarterly/annual) as PDF or Excel.
    Report(report::ReportArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Imagery(args) => imagery::run(args),
        Command::User(args) => user::run(args),
        Command::Migrate(args) => store_cmd::migrate(args),
        Command::Store(args) => store_cmd::run(args),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
