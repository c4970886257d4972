//! The HTTP API of a ZLMediaKit-compatible media server, as live view needs it:
//! `openRtpServer` (a receive port for one camera's PS-over-RTP, keyed by stream id) and
//! `closeRtpServer`, and the play URLs of a stream (app `rtp`, the stream id).
//!
//! ZLMediaKit answers HTTP 200 with `{"code": 0, …}` on success and a negative `code` plus
//! `msg` otherwise. The secret travels in the JSON body, never in the URL, so no error text
//! or access log of ours can carry it (`reqwest` errors are stripped of their URL as well).

use crate::config::MediaConfig;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the media server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the media server answered HTTP {0}")]
    Status(u16),
    #[error("the media server refused {call}: code {code}, {msg}")]
    Refused {
        call: &'static str,
        code: i64,
        msg: String,
    },
    #[error("the media server's answer to {0} is not what its API documents")]
    BadAnswer(&'static str),
}

/// Where a stream can be watched (ZLMediaKit's play URL rules for app `rtp`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct StreamUrls {
    /// HLS playlist: `{base}/rtp/{stream}/hls.m3u8`.
    pub hls: String,
    /// HTTP-FLV: `{base}/rtp/{stream}.live.flv`.
    pub http_flv: String,
    /// WebRTC (ZLMediaKit's signalling endpoint): `{base}/index/api/webrtc?app=rtp&stream=…&type=play`.
    pub webrtc: String,
}

pub struct MediaServer {
    api_base: String,
    stream_base: String,
    secret: crate::config::Secret,
    /// The address cameras send RTP to (SDP `c=`).
    pub rtp_ip: String,
    client: reqwest::Client,
}

impl MediaServer {
    /// `None` without `api_base` (live view not configured).
    pub fn from_config(c: &MediaConfig) -> Option<MediaServer> {
        let api_base = c.api_base.as_deref()?.trim_end_matches('/').to_string();
        let rtp_ip = c.rtp_ip.clone().unwrap_or_else(|| host_of(&api_base));
        let stream_base = c
            .stream_base
            .as_deref()
            .map_or(api_base.clone(), |b| b.trim_end_matches('/').to_string());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(c.timeout_s.max(1)))
            .build()
            .ok()?;
        Some(MediaServer {
            api_base,
            stream_base,
            secret: c.secret.clone(),
            rtp_ip,
            client,
        })
    }

    async fn call(
        &self,
        call: &'static str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, MediaError> {
        let mut body = args;
        if let serde_json::Value::Object(m) = &mut body {
            m.insert("secret".into(), self.secret.expose().into());
        }
        let res = self
            .client
            .post(format!("{}/index/api/{call}", self.api_base))
            .json(&body)
            .send()
            .await
            .map_err(|e| MediaError::Unreachable(e.without_url().to_string()))?;
        if !res.status().is_success() {
            return Err(MediaError::Status(res.status().as_u16()));
        }
        let v: serde_json::Value = res.json().await.map_err(|_| MediaError::BadAnswer(call))?;
        match v["code"].as_i64() {
            Some(0) => Ok(v),
            Some(code) => Err(MediaError::Refused {
                call,
                code,
                msg: v["msg"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect(),
            }),
            None => Err(MediaError::BadAnswer(call)),
        }
    }

    /// Opens a UDP receive port for `stream_id` (port 0: the server picks one); returns it.
    pub async fn open_rtp_server(&self, stream_id: &str) -> Result<u16, MediaError> {
        let v = self
            .call(
                "openRtpServer",
                serde_json::json!({"port": 0, "tcp_mode": 0, "stream_id": stream_id}),
            )
            .await?;
        v["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or(MediaError::BadAnswer("openRtpServer"))
    }

    pub async fn close_rtp_server(&self, stream_id: &str) -> Result<(), MediaError> {
        self.call(
            "closeRtpServer",
            serde_json::json!({ "stream_id": stream_id }),
        )
        .await
        .map(|_| ())
    }

    pub fn urls(&self, stream_id: &str) -> StreamUrls {
        let b = &self.stream_base;
        StreamUrls {
            hls: format!("{b}/rtp/{stream_id}/hls.m3u8"),
            http_flv: format!("{b}/rtp/{stream_id}.live.flv"),
            webrtc: format!("{b}/index/api/webrtc?app=rtp&stream={stream_id}&type=play"),
        }
    }
}

/// The host of `scheme://host[:port]/…` (brackets of an IPv6 literal removed).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default().to_string();
    }
    authority.split(':').next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn host_of_urls() {
        assert_eq!(host_of("http://10.0.0.3:8080"), "10.0.0.3");
        assert_eq!(host_of("http://zlm.local/api"), "zlm.local");
        assert_eq!(host_of("http://[::1]:80"), "::1");
    }
}
