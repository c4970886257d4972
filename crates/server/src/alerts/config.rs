//! `[alerts]`: rules, thresholds, notification channels, routing and rate limits
//! (docs/alerts.md lists every key with its default).

use alerts::model::{Action, Severity};
use alerts::notify::{RateLimit, Route};
use alerts::rules::{
    BloomSettings, ExceedanceSettings, OfflineSettings, RuleSettings, SensorFaultSettings,
    TrendSettings,
};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Evaluate rules and send notifications. Live events (`/api/v1/events`) run either way.
    pub enabled: bool,
    /// Period of the offline check and of digest flushing (ms).
    pub tick_ms: u64,
    /// At most this many observations committed after the engine's saved position are judged
    /// when the engine starts or a node takes over the lead; beyond it (a long outage, a bulk
    /// import with no engine running), the engine judges from now on and says so in the log.
    pub replay_limit: u64,
    // The rule sections repeat `alerts::rules::RuleSettings` field by field instead of
    // `#[serde(flatten)]`ing it: serde cannot combine `flatten` with `deny_unknown_fields`, and a
    // misspelt key in `[alerts]` must be an error. `rules()` assembles them.
    /// Data kinds the threshold rules read (see `alerts::rules::RuleSettings`).
    pub threshold_data_kinds: Vec<String>,
    pub exceedance: ExceedanceSettings,
    pub trend: TrendSettings,
    pub sensor_fault: SensorFaultSettings,
    pub offline: OfflineSettings,
    pub bloom: BloomSettings,
    pub webhooks: Vec<WebhookConfig>,
    pub email: Option<EmailConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        let r = RuleSettings::default();
        AlertsConfig {
            enabled: true,
            tick_ms: 1000,
            replay_limit: 100_000,
            threshold_data_kinds: r.threshold_data_kinds,
            exceedance: r.exceedance,
            trend: r.trend,
            sensor_fault: r.sensor_fault,
            offline: r.offline,
            bloom: r.bloom,
            webhooks: Vec::new(),
            email: None,
        }
    }
}

impl AlertsConfig {
    pub fn rules(&self) -> RuleSettings {
        RuleSettings {
            threshold_data_kinds: self.threshold_data_kinds.clone(),
            exceedance: self.exceedance.clone(),
            trend: self.trend.clone(),
            sensor_fault: self.sensor_fault.clone(),
            offline: self.offline.clone(),
            bloom: self.bloom.clone(),
        }
    }
}

fn default_on() -> Vec<Action> {
    Route::default().on
}

/// `[[alerts.webhooks]]`: a JSON POST per alert change (or per digest).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://…` (this build has no TLS client).
    pub url: String,
    #[serde(default = "warning")]
    pub min_severity: Severity,
    #[serde(default = "default_on")]
    pub on: Vec<Action>,
    /// Attempts per delivery, the first included.
    #[serde(default = "five")]
    pub max_attempts: u32,
    /// Wait before the first retry; doubled after each failure.
    #[serde(default = "half_second")]
    pub backoff_ms: u64,
    #[serde(default = "five_seconds")]
    pub timeout_ms: u64,
    /// Rate limit (0 = none): beyond it, changes are sent as one digest when the window frees.
    #[serde(default)]
    pub max_per_window: usize,
    #[serde(default = "ten_minutes")]
    pub window_s: i64,
    /// Sent as `Authorization: Bearer …` when set.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// The recipient's language for `message` and `rule_label` (`zh` or `en`; the alert
    /// itself carries both).
    #[serde(default)]
    pub lang: alerts::text::Lang,
}

/// `[alerts.email]`: mail over SMTP (plain, or STARTTLS-less local relays).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub smtp_host: String,
    #[serde(default = "smtp_port")]
    pub smtp_port: u16,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    #[serde(default = "major")]
    pub min_severity: Severity,
    #[serde(default = "default_on")]
    pub on: Vec<Action>,
    /// At most this many mails per window; the rest leave as one digest mail.
    #[serde(default = "five_mails")]
    pub max_per_window: usize,
    #[serde(default = "ten_minutes")]
    pub window_s: i64,
    #[serde(default = "subject_prefix")]
    pub subject_prefix: String,
    #[serde(default = "five")]
    pub max_attempts: u32,
    #[serde(default = "half_second")]
    pub backoff_ms: u64,
    /// The recipients' language (`zh` or `en`).
    #[serde(default)]
    pub lang: alerts::text::Lang,
}

impl WebhookConfig {
    pub fn route(&self) -> Route {
        Route {
            min_severity: self.min_severity,
            on: self.on.clone(),
        }
    }
    pub fn rate(&self) -> RateLimit {
        RateLimit {
            max_per_window: self.max_per_window,
            window_s: self.window_s,
        }
    }
}

impl EmailConfig {
    pub fn route(&self) -> Route {
        Route {
            min_severity: self.min_severity,
            on: self.on.clone(),
        }
    }
    pub fn rate(&self) -> RateLimit {
        RateLimit {
            max_per_window: self.max_per_window,
            window_s: self.window_s,
        }
    }
}

fn warning() -> Severity {
    Severity::Warning
}
fn major() -> Severity {
    Severity::Major
}
fn five() -> u32 {
    5
}
fn five_mails() -> usize {
    5
}
fn half_second() -> u64 {
    500
}
fn five_seconds() -> u64 {
    5000
}
fn ten_minutes() -> i64 {
    600
}
fn smtp_port() -> u16 {
    25
}
fn subject_prefix() -> String {
    "[qingshui]".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults() {
        let c: AlertsConfig = toml::from_str(
            r#"
            [exceedance]
            min_duration_s = 0
            [offline]
            after_s = 30
            [[webhooks]]
            url = "http://127.0.0.1:9/hook"
            min_severity = "major"
            [email]
            smtp_host = "127.0.0.1"
            from = "qingshui@example.org"
            to = ["duty@example.org"]
            "#,
        )
        .expect("parses");
        assert_eq!(c.exceedance.min_duration_s, 0);
        assert_eq!(c.exceedance.clear_duration_s, 900);
        assert_eq!(c.offline.after_s, Some(30));
        assert_eq!(c.webhooks[0].max_attempts, 5);
        assert_eq!(c.webhooks[0].min_severity, Severity::Major);
        let e = c.email.expect("email");
        assert_eq!(
            (e.smtp_port, e.max_per_window, e.min_severity),
            (25, 5, Severity::Major)
        );
        assert!(
            toml::from_str::<AlertsConfig>("[exceedance]\nmin_duration = 1\n").is_err(),
            "unknown keys are rejected"
        );
    }
}
