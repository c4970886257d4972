//! `qingshui migrate` and `qingshui store copy` (docs/postgres.md): the operations of the two
//! backends, thin over `server::migrate` and `server::store_copy`.

use anyhow::Context;
use clap::{Args, Subcommand};
use server::config::{Config, Overrides};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// TOML configuration file (the one `serve` uses).
    #[arg(long, env = "QINGSHUI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory of the embedded store.
    #[arg(long, env = "QINGSHUI_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL, instead of the embedded store.
    #[arg(
        long,
        env = "QINGSHUI_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Copy an embedded store into an empty PostgreSQL database (ids kept), then verify it.
    Copy {
        /// The data directory holding qingshui.sqlite (stop the server that uses it first).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// postgres://user:password@host:5432/db (an empty database; migrated first).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn migrate(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_logging();
    let config = Config::load(args.config.as_deref())?.overlay(Overrides {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        ..Overrides::default()
    });
    if config.postgres_url().is_none() {
        std::fs::create_dir_all(&config.storage.data_dir)
            .with_context(|| format!("creating {}", config.storage.data_dir.display()))?;
    }
    let said = runtime()?.block_on(server::migrate(&config))?;
    println!("{said}");
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: StoreArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        StoreAction::Copy { from, to } => copy(&from, &to),
    }
}

fn copy(from: &std::path::Path, to: &str) -> anyhow::Result<ExitCode> {
    use indicatif::{ProgressBar, ProgressStyle};
    let style = ProgressStyle::with_template("{msg:>30} [{bar:40}] {pos}/{len} ({per_sec})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let mut bar: Option<(String, ProgressBar)> = None;
    let report = server::store_copy(from, to, &mut |table, done, total| {
        let same = bar.as_ref().is_some_and(|(t, _)| t == table);
        if !same {
            if let Some((_, b)) = bar.take() {
                b.finish();
            }
            let b = ProgressBar::new(total).with_style(style.clone());
            b.set_message(table.to_owned());
            bar = Some((table.to_owned(), b));
        }
        if let Some((_, b)) = &bar {
            b.set_position(done);
        }
    })?;
    if let Some((_, b)) = bar.take() {
        b.finish();
    }
    println!(
        "{:<32} {:>12} {:>12}",
        "table 表", "source 源", "copied 已复制"
    );
    for (table, a, b) in &report.tables {
        let mark = if a == b { "" } else { "  ✗" };
        println!("{table:<32} {a:>12} {b:>12}{mark}");
    }
    println!(
        "sample 抽样: {} observations compared, {} differ",
        report.sampled, report.sample_mismatches
    );
    if report.verified() {
        println!("verified 校验通过: {}", store_postgres_redact(to));
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("verification failed 校验失败: counts or sampled values differ");
        Ok(ExitCode::from(1))
    }
}

fn store_postgres_redact(url: &str) -> String {
    server::redact_database_url(url)
}
