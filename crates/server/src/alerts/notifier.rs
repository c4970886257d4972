//! Sends alert changes to people and systems: webhooks (JSON POST, retried with exponential
//! backoff) and email (SMTP through `lettre`), each channel with its own routing and rate limit.
//! Over the limit, changes wait and leave as one digest when the window frees a slot.

use super::config::{EmailConfig, WebhookConfig};
use alerts::model::{Action, Alert};
use alerts::notify::{Limiter, Route};
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
                let body = webhook_body(&notices);
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

/// `{"type":"alert","action":…,"alert":{…}}`, or for a digest
/// `{"type":"digest","count":n,"changes":[{"action":…,"alert":{…}}, …]}`.
pub fn webhook_body(notices: &[Notice]) -> Value {
    match notices {
        [one] => json!({ "type": "alert", "action": one.action, "alert": one.view }),
        many => json!({
            "type": "digest",
            "count": many.len(),
            "changes": many.iter().map(|n| json!({ "action": n.action, "alert": n.view })).collect::<Vec<_>>(),
        }),
    }
}

fn line(n: &Notice) -> String {
    format!(
        "[{}] {} #{} {} — {}",
        n.alert.severity.as_str().to_uppercase(),
        n.action.as_str(),
        n.alert.id,
        n.alert.rule.as_str(),
        n.alert.message
    )
}

fn mail(cfg: &EmailConfig, notices: &[Notice]) -> anyhow::Result<Message> {
    let (subject, body) = match notices {
        [one] => (
            format!("{} {}", cfg.subject_prefix, line(one)),
            format!(
                "{}\n\nStation: {}\nSource: {}\nState: {}\nRaised: {}\n\nDetails:\n{}\n",
                line(one),
                one.alert.station.as_deref().unwrap_or("-"),
                one.alert.source,
                one.alert.state.as_str(),
                one.view
                    .get("created_at")
                    .and_then(Value::as_str)
                    .unwrap_or("-"),
                serde_json::to_string_pretty(&one.alert.details).unwrap_or_default()
            ),
        ),
        many => (
            format!(
                "{} digest: {} alert changes",
                cfg.subject_prefix,
                many.len()
            ),
            format!(
                "{} alert changes were held back by the rate limit:\n\n{}\n",
                many.len(),
                many.iter().map(line).collect::<Vec<_>>().join("\n")
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
