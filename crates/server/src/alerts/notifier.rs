//! Sends alert changes to people and systems: webhooks (JSON POST, retried with exponential
//! backoff) and email (SMTP through `lettre`), each channel with its own routing and rate limit.
//! Over the limit, changes wait and leave as one digest when the window frees a slot.

use super::config::{EmailConfig, WebhookConfig};
use alerts::model::{Action, Alert};
use alerts::notify::{Limiter, Route};
use alerts::text::{Lang, message};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// One alert change to tell about.
#[derive(Debug, Clone)]
pub struct Notice {
    pub action: Action,
    pub alert: Alert,
    /// The alert as served by the API (ISO times).
    pub view: Value,
}

/// Delivery counters for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct NotifyStats {
    pub webhook_sent: AtomicU64,
    pub webhook_failed: AtomicU64,
    pub email_sent: AtomicU64,
    pub email_failed: AtomicU64,
    pub digests: AtomicU64,
}

enum Channel {
    Webhook(Arc<WebhookConfig>),
    Email(Arc<EmailConfig>, AsyncSmtpTransport<Tokio1Executor>),
}

struct Routed {
    channel: Channel,
    route: Route,
    limiter: Limiter<Notice>,
}

/// Starts the notifier task; returns the queue it reads from.
pub fn start(
    webhooks: &[WebhookConfig],
    email: Option<&EmailConfig>,
    tick: Duration,
    stats: Arc<NotifyStats>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<(mpsc::Sender<Notice>, tokio::task::JoinHandle<()>)> {
    let mut channels = Vec::new();
    for w in webhooks {
        channels.push(Routed {
            route: w.route(),
            limiter: Limiter::new(w.rate()),
            channel: Channel::Webhook(Arc::new(w.clone())),
        });
    }
    if let Some(e) = email {
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&e.smtp_host).port(e.smtp_port);
        if let (Some(u), Some(p)) = (&e.username, &e.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        // Fail at start on bad addresses rather than at the first alert.
        e.from
            .parse::<Mailbox>()
            .map_err(|err| anyhow::anyhow!("[alerts.email] from {:?}: {err}", e.from))?;
        for to in &e.to {
            to.parse::<Mailbox>()
                .map_err(|err| anyhow::anyhow!("[alerts.email] to {to:?}: {err}"))?;
        }
        channels.push(Routed {
            route: e.route(),
            limiter: Limiter::new(e.rate()),
            channel: Channel::Email(Arc::new(e.clone()), builder.build()),
        });
    }
    let (tx, mut rx) = mpsc::channel::<Notice>(4096);
    let client = reqwest::Client::new();
    let task = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(tick.max(Duration::from_millis(50)));
        loop {
            tokio::select! {
                notice = rx.recv() => {
                    let Some(notice) = notice else { break };
                    let now = store::clock::now_micros();
                    for ch in channels.iter_mut() {
                        if !ch.route.accepts(notice.alert.severity, notice.action) {
                            continue;
                        }
                        if let Some(n) = ch.limiter.offer(now, notice.clone()) {
                            deliver(&ch.channel, &client, vec![n], &stats);
                        }
                    }
                }
                _ = ticker.tick() => {
                    let now = store::clock::now_micros();
                    for ch in channels.iter_mut() {
                        if let Some(batch) = ch.limiter.take_digest(now) {
                            stats.digests.fetch_add(1, Ordering::Relaxed);
                            deliver(&ch.channel, &client, batch, &stats);
                        }
                    }
                }
                _ = super::stopped(&mut shutdown) => break,
            }
        }
    });
    Ok((tx, task))
}

/// Sends in the background: a slow receiver must not hold up other channels or later alerts.
fn deliver(
    channel: &Channel,
    client: &reqwest::Client,
    notices: Vec<Notice>,
    stats: &Arc<NotifyStats>,
) {
    let stats = stats.clone();
    match channel {
        Channel::Webhook(cfg) => {
            let cfg = cfg.clone();
            let client = client.clone();
            tokio::spawn(async move {
                let body = webhook_body(&notices, cfg.lang);
                let ok = retry(cfg.max_attempts, cfg.backoff_ms, || {
                    post(&client, &cfg, &body)
                })
                .await;
                let counter = if ok {
                    &stats.webhook_sent
                } else {
                    &stats.webhook_failed
                };
                counter.fetch_add(1, Ordering::Relaxed);
            });
        }
        Channel::Email(cfg, transport) => {
            let cfg = cfg.clone();
            let transport = transport.clone();
            tokio::spawn(async move {
                let ok =
                    match mail(&cfg, &notices) {
                        Ok(message) => retry(cfg.max_attempts, cfg.backoff_ms, || {
                            let (t, m) = (transport.clone(), message.clone());
                            async move { t.send(m).await.map(|_| ()).map_err(|e| e.to_string()) }
                        })
                        .await,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot build the alert mail");
                            false
                        }
                    };
                let counter = if ok {
                    &stats.email_sent
                } else {
                    &stats.email_failed
                };
                counter.fetch_add(1, Ordering::Relaxed);
            });
        }
    }
}

/// Runs `attempt` up to `max_attempts` times, waiting `backoff_ms`, 2×, 4×, … between tries.
async fn retry<F, Fut>(max_attempts: u32, backoff_ms: u64, mut attempt: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut wait = Duration::from_millis(backoff_ms.max(1));
    for n in 1..=max_attempts.max(1) {
        match attempt().await {
            Ok(()) => return true,
            Err(e) => {
                tracing::warn!(attempt = n, error = %e, "alert notification failed");
                if n < max_attempts {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(300));
                }
            }
        }
    }
    false
}

async fn post(client: &reqwest::Client, cfg: &WebhookConfig, body: &Value) -> Result<(), String> {
    let mut req = client
        .post(&cfg.url)
        .timeout(Duration::from_millis(cfg.timeout_ms.max(1)))
        .json(body);
    if let Some(t) = &cfg.bearer_token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", resp.status()))
    }
}

/// `{"type":"alert","action":…,"lang":…,"message":…,"alert":{…}}`, or for a digest
/// `{"type":"digest","count":n,"lang":…,"changes":[{"action":…,"message":…,"alert":{…}}, …]}`;
/// `message` is in the recipient's language, the alert carries both.
pub fn webhook_body(notices: &[Notice], lang: Lang) -> Value {
    let text = |n: &Notice| message(&n.alert.details, &n.alert.message, lang);
    match notices {
        [one] => json!({ "type": "alert", "action": one.action, "lang": lang, "message": text(one),
            "rule_label": one.alert.rule.label(lang), "alert": one.view }),
        many => json!({
            "type": "digest",
            "count": many.len(),
            "lang": lang,
            "changes": many.iter().map(|n| json!({ "action": n.action, "message": text(n), "alert": n.view })).collect::<Vec<_>>(),
        }),
    }
}

fn action_label(a: alerts::model::Action, lang: Lang) -> &'static str {
    use alerts::model::Action::*;
    match (a, lang) {
        (Raised, Lang::Zh) => "新告警",
        (Updated, Lang::Zh) => "更新",
        (Escalated, Lang::Zh) => "升级",
        (Acknowledged, Lang::Zh) => "已确认",
        (Cleared, Lang::Zh) => "已解除",
        (Commented, Lang::Zh) => "评论",
        (a, Lang::En) => a.as_str(),
    }
}

fn severity_label(s: alerts::model::Severity, lang: Lang) -> String {
    use alerts::model::Severity::*;
    match lang {
        Lang::En => s.as_str().to_uppercase(),
        Lang::Zh => match s {
            Critical => "紧急",
            Major => "重要",
            Minor => "一般",
            Warning => "提示",
        }
        .into(),
    }
}

/// The details a person reads: the message template is already the first line.
fn without_template(details: &Value) -> Value {
    let mut d = details.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("text");
    }
    d
}

fn line(n: &Notice, lang: Lang) -> String {
    format!(
        "[{}] {} #{} {} — {}",
        severity_label(n.alert.severity, lang),
        action_label(n.action, lang),
        n.alert.id,
        n.alert.rule.label(lang),
        message(&n.alert.details, &n.alert.message, lang)
    )
}

fn mail(cfg: &EmailConfig, notices: &[Notice]) -> anyhow::Result<Message> {
    let zh = cfg.lang == Lang::Zh;
    let label = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    let (subject, body) = match notices {
        [one] => (
            format!("{} {}", cfg.subject_prefix, line(one, cfg.lang)),
            format!(
                "{}\n\n{}: {}\n{}: {}\n{}: {}\n{}: {}\n\n{}:\n{}\n",
                line(one, cfg.lang),
                label("站点", "Station"),
                one.alert.station.as_deref().unwrap_or("-"),
                label("来源", "Source"),
                one.alert.source,
                label("状态", "State"),
                one.alert.state.as_str(),
                label("产生时间", "Raised"),
                one.view
                    .get("created_at")
                    .and_then(Value::as_str)
                    .unwrap_or("-"),
                label("详情", "Details"),
                serde_json::to_string_pretty(&without_template(&one.alert.details))
                    .unwrap_or_default()
            ),
        ),
        many => (
            if zh {
                format!("{} 告警汇总：{} 条变化", cfg.subject_prefix, many.len())
            } else {
                format!(
                    "{} digest: {} alert changes",
                    cfg.subject_prefix,
                    many.len()
                )
            },
            format!(
                "{}\n\n{}\n",
                if zh {
                    format!("因发送频率限制合并的 {} 条告警变化：", many.len())
                } else {
                    format!(
                        "{} alert changes were held back by the rate limit:",
                        many.len()
                    )
                },
                many.iter()
                    .map(|n| line(n, cfg.lang))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        ),
    };
    let mut builder = Message::builder()
        .from(cfg.from.parse()?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for to in &cfg.to {
        builder = builder.to(to.parse()?);
    }
    Ok(builder.body(body)?)
}

/// Sends one mail with files attached through the SMTP server of `[alerts.email]` (the same
/// transport settings the alert mails use): scheduled reports.
pub async fn send_with_attachments(
    e: &EmailConfig,
    to: &[String],
    subject: &str,
    body: &str,
    files: &[std::path::PathBuf],
) -> Result<(), String> {
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&e.smtp_host).port(e.smtp_port);
    if let (Some(u), Some(p)) = (&e.username, &e.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    let transport = builder.build();
    let from: Mailbox = e
        .from
        .parse()
        .map_err(|err| format!("from {:?}: {err}", e.from))?;
    let mut m = Message::builder().from(from).subject(subject);
    for t in to {
        m = m.to(t
            .parse::<Mailbox>()
            .map_err(|err| format!("to {t:?}: {err}"))?);
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body.to_string()));
    for f in files {
        let bytes = std::fs::read(f).map_err(|err| format!("{}: {err}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "report".into());
        let kind = if name.ends_with(".pdf") {
            "application/pdf"
        } else {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        };
        let ct = ContentType::parse(kind).map_err(|err| err.to_string())?;
        parts = parts.singlepart(Attachment::new(name).body(bytes, ct));
    }
    let message = m.multipart(parts).map_err(|err| err.to_string())?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|err| err.to_string())
}
