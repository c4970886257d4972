//! Live view, the imperative shell: open a receive port on the media server, INVITE the
//! camera (play.rs builds it), wait for its answer, hand back the stream URLs; BYE and close
//! the port on stop. The HTTP handlers in `http/video.rs` call [`LiveView`].

use super::Shared;
use super::media::{MediaError, MediaServer, StreamUrls};
use super::play::InviteError;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::oneshot;

/// Why a play or stop request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error(
        "没有配置流媒体服务器,无法观看实时视频 / no media server is configured, so live video cannot be shown ([gb28181.media] api_base)"
    )]
    NoMedia,
    #[error("GB/T 28181 平台未运行 / the GB/T 28181 platform is not running ([gb28181] addr)")]
    NoListener,
    #[error("没有视频点 {0} / no video point {0:?} with a GB/T 28181 device")]
    UnknownPoint(String),
    #[error("摄像机 {0} 不在线 / camera {0} is not online")]
    Offline(String),
    #[error("摄像机 {0} 的实时视频正在建立 / a live view of camera {0} is being set up")]
    Busy(String),
    #[error("流媒体服务器出错 / media server error: {0}")]
    Media(#[from] MediaError),
    #[error("摄像机拒绝了视频请求 / the camera refused the INVITE: {0}")]
    Refused(String),
    #[error("摄像机 {0} 未在 {1} 秒内应答 / camera {0} did not answer the INVITE within {1} s")]
    Timeout(String, u64),
    #[error("{0}")]
    Internal(String),
}

/// A stream being watched.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlayBody {
    /// The video point (`V01`, …).
    pub point: String,
    pub device_id: String,
    pub channel_id: String,
    /// The media server's stream id (app `rtp`).
    pub stream_id: String,
    /// The SSRC sent in the INVITE's `y=` (10 digits, `0` = live).
    pub ssrc: String,
    /// Where the camera sends RTP (the media server's port opened for this stream).
    pub rtp_ip: String,
    pub rtp_port: u16,
    pub urls: StreamUrls,
    /// True when the camera was already streaming (this request started nothing new).
    pub already_playing: bool,
}

pub struct LiveView {
    media: Option<Arc<MediaServer>>,
    shared: OnceLock<Arc<Shared>>,
    timeout: Duration,
    /// Points whose play request is between `openRtpServer` and the camera's answer: a second
    /// request meanwhile must neither open the same stream id again nor close the first one's.
    /// Shared with the listener: a late answer's port is not closed under a starting play.
    starting: Arc<Mutex<HashSet<String>>>,
}

/// Holds a point in [`LiveView::starting`] until dropped (every return path releases it).
struct Starting<'a>(&'a LiveView, String);

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        self.0.starting().remove(&self.1);
    }
}

impl LiveView {
    pub fn new(media: Option<MediaServer>, timeout: Duration) -> LiveView {
        LiveView {
            media: media.map(Arc::new),
            shared: OnceLock::new(),
            timeout,
            starting: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    fn starting(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.starting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The points whose play is being set up (see [`LiveView::starting`]).
    pub(super) fn starting_set(&self) -> Arc<Mutex<HashSet<String>>> {
        self.starting.clone()
    }

    pub(super) fn media(&self) -> Option<Arc<MediaServer>> {
        self.media.clone()
    }

    /// Called once by the listener when it runs.
    pub(super) fn attach(&self, shared: Arc<Shared>) {
        let _ = self.shared.set(shared);
    }

    fn parts(&self) -> Result<(&Arc<MediaServer>, &Arc<Shared>), PlayError> {
        let media = self.media.as_ref().ok_or(PlayError::NoMedia)?;
        let shared = self.shared.get().ok_or(PlayError::NoListener)?;
        Ok((media, shared))
    }

    pub async fn play(&self, point: &str) -> Result<PlayBody, PlayError> {
        let (media, shared) = self.parts()?;
        let now = chrono::Utc::now();
        // Reserved before looking at the dialogs: a request that finished meanwhile has left
        // its dialog behind, and this one joins it instead of opening the stream again.
        if !self.starting().insert(point.to_string()) {
            return Err(PlayError::Busy(point.into()));
        }
        let _starting = Starting(self, point.to_string());
        let (i, stream_id) = {
            let p = shared.lock();
            let i = p
                .camera_by_point(point)
                .ok_or_else(|| PlayError::UnknownPoint(point.into()))?;
            if !p.is_online(i, now) {
                return Err(PlayError::Offline(point.into()));
            }
            if let Some(d) = p.dialog_of(i) {
                if !d.confirmed {
                    return Err(PlayError::Busy(point.into()));
                }
                let body = body(&p, point, d, media.urls(&d.stream_id), true);
                return Ok(body);
            }
            (i, p.stream_id(i))
        };
        let port = media.open_rtp_server(&stream_id).await?;
        let invited = shared.lock().invite(i, &media.rtp_ip, port, now);
        let (out, dialog) = match invited {
            Ok(x) => x,
            Err(e) => {
                close(media, &stream_id).await;
                return Err(match e {
                    InviteError::Offline => PlayError::Offline(point.into()),
                    InviteError::Busy => PlayError::Busy(point.into()),
                    InviteError::Sdp(e) => PlayError::Internal(e.to_string()),
                });
            }
        };
        let (tx, rx) = oneshot::channel();
        shared.invite_waiters().insert(dialog.call_id.clone(), tx);
        shared.send(vec![out]).await;
        let answer = tokio::time::timeout(self.timeout, rx).await;
        match answer {
            Ok(Ok(Ok(_sdp))) => {
                let p = shared.lock();
                let d = p.dialog_of(i).unwrap_or(&dialog);
                Ok(body(&p, point, d, media.urls(&stream_id), false))
            }
            Ok(Ok(Err(why))) => {
                close(media, &stream_id).await;
                Err(PlayError::Refused(why))
            }
            _ => {
                shared.invite_waiters().remove(&dialog.call_id);
                // CANCEL it (now, or at the camera's first 1xx): a camera answering later
                // gets ACK + BYE from the platform (cancel.rs).
                let cancel = shared.lock().abandon(&dialog.call_id, chrono::Utc::now());
                if let Some(out) = cancel {
                    shared.send(vec![out]).await;
                }
                close(media, &stream_id).await;
                Err(PlayError::Timeout(point.into(), self.timeout.as_secs()))
            }
        }
    }

    /// Ends the live view of `point`; `false` when none was running.
    pub async fn stop(&self, point: &str) -> Result<bool, PlayError> {
        let (media, shared) = self.parts()?;
        let ended = {
            let mut p = shared.lock();
            let i = p
                .camera_by_point(point)
                .ok_or_else(|| PlayError::UnknownPoint(point.into()))?;
            p.bye(i)
        };
        let Some((bye, dialog)) = ended else {
            return Ok(false);
        };
        if let Some(out) = bye {
            shared.send(vec![out]).await;
        }
        media.close_rtp_server(&dialog.stream_id).await?;
        Ok(true)
    }
}

fn body(
    p: &super::platform::Platform,
    point: &str,
    d: &super::play::Dialog,
    urls: StreamUrls,
    already_playing: bool,
) -> PlayBody {
    let c = &p.cameras[d.camera];
    PlayBody {
        point: point.to_string(),
        device_id: c.device_id.clone(),
        channel_id: c.channel_id.clone(),
        stream_id: d.stream_id.clone(),
        ssrc: d.ssrc.clone(),
        rtp_ip: d.rtp_ip.clone(),
        rtp_port: d.rtp_port,
        urls,
        already_playing,
    }
}

/// Closes a port no stream will use; a failure only leaves it to the media server's own
/// timeout (ZLMediaKit closes an RTP server that receives nothing), so it is logged.
pub(super) async fn close(media: &MediaServer, stream_id: &str) {
    if let Err(e) = media.close_rtp_server(stream_id).await {
        tracing::warn!(stream_id, error = %e, "closeRtpServer failed");
    }
}
