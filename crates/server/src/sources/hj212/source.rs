//! HJ 212 as a [`Source`]: configured from `[hj212]`, its stations from the network's HJ 212
//! links, its status on a [`StationBoard`].

use super::board::StationBoard;
use super::guard::AuthSettings;
use super::lockout_alerts::NoticeSender;
use super::{ListenerSettings, start_listener};
use crate::config::Hj212Config;
use crate::network::StationRegistry;
use crate::sources::{RunningSource, Source, SourceContext, StartFuture};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The HJ 212 source, configured.
pub struct Hj212Source {
    /// `None`: the stations are reported (offline) but nothing listens.
    addr: Option<SocketAddr>,
    registry: Arc<StationRegistry>,
    offline_after_s: u64,
    settings: ListenerSettings,
}

impl Hj212Source {
    pub fn from_config(
        h: &Hj212Config,
        registry: Arc<StationRegistry>,
        lockouts: Option<NoticeSender>,
    ) -> Hj212Source {
        // A zero timeout would close every connection at once; one second is the floor.
        let secs = |s: u64| Duration::from_secs(s.max(1));
        let settings = ListenerSettings {
            close_on_auth_failure: h.close_on_auth_failure,
            idle_timeout: secs(h.idle_timeout_s),
            max_connections: h.max_connections,
            max_connections_per_ip: h.max_connections_per_ip,
            per_ip_exempt: h.per_ip_exempt.clone(),
            partial_frame_timeout: secs(h.partial_frame_timeout_s),
            first_frame_timeout: secs(h.first_frame_timeout_s),
            reject_log_lines: h.reject_log_lines,
            reject_log_interval: secs(h.reject_log_interval_s),
            auth: AuthSettings {
                backoff_after: h.auth_backoff_after,
                backoff_base: Duration::from_millis(h.auth_backoff_base_ms),
                backoff_max: secs(h.auth_backoff_max_s),
                lockout_after: h.auth_fail_lockout_after,
                lockout: secs(h.auth_lockout_s),
                window: secs(h.auth_fail_window_s),
            },
            lockouts,
        };
        Hj212Source {
            addr: h.addr,
            registry,
            offline_after_s: h.offline_after_s,
            settings,
        }
    }
}

impl Source for Hj212Source {
    fn name(&self) -> &'static str {
        "hj212"
    }

    fn start(self: Box<Self>, context: SourceContext) -> StartFuture {
        Box::pin(async move {
            let board = Arc::new(StationBoard::new(&self.registry, self.offline_after_s));
            let Some(addr) = self.addr else {
                return Ok(RunningSource {
                    addr: None,
                    status: board,
                    task: None,
                });
            };
            let stations = self.registry.stations().len();
            let (bound, task) = start_listener(
                addr,
                self.registry,
                context.ingest,
                board.clone(),
                self.settings,
                context.shutdown,
            )
            .await
            .with_context(|| format!("cannot listen for HJ 212 on {addr}"))?;
            tracing::info!(%bound, stations, "HJ 212 listener ready");
            Ok(RunningSource {
                addr: Some(bound),
                status: board,
                task: Some(task),
            })
        })
    }
}
