//! The monthly report schedule: once the month has closed and the local day of the month has
//! reached `[reports] schedule_day`, the previous month's network report is written under
//! `<data_dir>/reports/` in each configured format and, when `[reports] email_to` lists
//! recipients, mailed with the files attached through the SMTP server of `[alerts.email]`. The
//! files themselves are the record of what was done: a restart finds them and makes no
//! duplicate (a `.mailed` marker beside each report does the same for the mail).

use super::{ReportFormat, ReportRequest, ReportScope};
use crate::config::ReportsConfig;
use crate::domain::Domain;
use chrono::{Datelike, TimeZone};
use report::{Lang, ReportPeriod};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Store;

/// The month whose report is due at local date (year, month, day), if any (pure).
pub fn due_month(year: i32, month: u32, day: u32, schedule_day: u32) -> Option<ReportPeriod> {
    if schedule_day == 0 || day < schedule_day {
        return None;
    }
    Some(ReportPeriod::month(year, month).previous())
}

pub fn report_path(
    dir: &Path,
    network_id: &str,
    period: &ReportPeriod,
    format: ReportFormat,
) -> PathBuf {
    dir.join(format!(
        "{network_id}-{}-network.{}",
        period.code(),
        format.extension()
    ))
}

fn formats(c: &ReportsConfig) -> Vec<ReportFormat> {
    c.schedule_formats
        .iter()
        .filter_map(|f| ReportFormat::parse(f).ok())
        .filter(|f| *f == ReportFormat::Xlsx || super::PDF_BUILT)
        .collect()
}

/// One pass: makes the due month's missing files; returns the files written.
pub async fn run_once(
    d: &Domain,
    store: &Arc<dyn Store>,
    c: &ReportsConfig,
    email: Option<&crate::alerts::config::EmailConfig>,
    dir: &Path,
    now_ms: i64,
) -> Vec<PathBuf> {
    let offset = crate::network::parse_utc_offset(&d.network.utc_offset).unwrap_or(8 * 3600);
    let Some(tz) = chrono::FixedOffset::east_opt(offset) else {
        return Vec::new();
    };
    let Some(now) = tz.timestamp_millis_opt(now_ms).single() else {
        return Vec::new();
    };
    let Some(period) = due_month(now.year(), now.month(), now.day(), c.schedule_day) else {
        return Vec::new();
    };
    let lang = Lang::parse(&c.schedule_lang).unwrap_or_default();
    let mut written = Vec::new();
    for format in formats(c) {
        let path = report_path(dir, &d.network.id, &period, format);
        if path.exists() {
            continue;
        }
        let req = ReportRequest {
            period,
            format,
            lang,
            scope: ReportScope::Network,
        };
        match super::make(d, store, &req, c, now_ms, &|_, _, _| {}).await {
            Ok(bytes) => {
                let tmp = path.with_extension("part");
                let ok = std::fs::create_dir_all(dir).is_ok()
                    && std::fs::write(&tmp, &bytes).is_ok()
                    && std::fs::rename(&tmp, &path).is_ok();
                if ok {
                    tracing::info!(file = %path.display(), "scheduled report written");
                    written.push(path);
                } else {
                    let _ = std::fs::remove_file(&tmp);
                    tracing::warn!(file = %path.display(), "scheduled report could not be written");
                }
            }
            Err(e) => {
                tracing::warn!(period = %period.code(), error = %e, "scheduled report not made")
            }
        }
    }
    if let Some(email) = email
        && !c.email_to.is_empty()
    {
        mail_unsent(d, c, email, dir, &period).await;
    }
    written
}

/// Mails the due month's files that have no `.mailed` marker yet.
async fn mail_unsent(
    d: &Domain,
    c: &ReportsConfig,
    email: &crate::alerts::config::EmailConfig,
    dir: &Path,
    period: &ReportPeriod,
) {
    let files: Vec<PathBuf> = formats(c)
        .into_iter()
        .map(|f| report_path(dir, &d.network.id, period, f))
        .filter(|p| p.exists() && !marker(p).exists())
        .collect();
    if files.is_empty() {
        return;
    }
    let lang = Lang::parse(&c.schedule_lang).unwrap_or_default();
    let subject = format!(
        "{}{} {}",
        lang.t(&d.network.name_zh, &d.network.name_en),
        period.report_name(lang),
        period.label(lang)
    );
    let body = lang
        .t(
            "附件为本期水质报告（系统自动生成）。",
            "The period's water-quality report is attached (generated automatically).",
        )
        .to_string();
    match crate::alerts::notifier::send_with_attachments(
        email,
        &c.email_to,
        &subject,
        &body,
        &files,
    )
    .await
    {
        Ok(()) => {
            for f in &files {
                let _ = std::fs::write(marker(f), b"");
            }
            tracing::info!(to = ?c.email_to, "scheduled report mailed");
        }
        Err(e) => {
            tracing::warn!(error = %e, "scheduled report not mailed (retried at the next check)")
        }
    }
}

fn marker(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".mailed");
    PathBuf::from(s)
}

/// Starts the schedule task (when `schedule_day` > 0): a check at start, then every
/// `schedule_check_s`.
pub fn spawn(
    d: Arc<Domain>,
    store: Arc<dyn Store>,
    c: ReportsConfig,
    email: Option<crate::alerts::config::EmailConfig>,
    dir: PathBuf,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if c.schedule_day == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(std::time::Duration::from_secs(c.schedule_check_s.max(1)));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|s| *s) => break,
            }
            run_once(
                &d,
                &store,
                &c,
                email.as_ref(),
                &dir,
                store::clock::now_millis(),
            )
            .await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_month_is_due_from_the_schedule_day() {
        assert_eq!(
            due_month(2026, 12, 2, 1).map(|p| p.code()),
            Some("2026-11".into())
        );
        assert_eq!(due_month(2026, 12, 2, 3), None);
        assert_eq!(
            due_month(2026, 12, 3, 3).map(|p| p.code()),
            Some("2026-11".into())
        );
        assert_eq!(
            due_month(2027, 1, 5, 3).map(|p| p.code()),
            Some("2026-12".into())
        );
        assert_eq!(due_month(2026, 12, 20, 0), None, "0 turns the schedule off");
    }
}
