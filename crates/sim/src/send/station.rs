//! An HJ 212 data logger over TCP, as a real station runs one (hj212.md §11–§12): the logger is
//! the TCP client, sends each upload with A=1, waits for the platform's 9014 echoing its QN,
//! resends the same frame (same QN) when the answer does not come in time, and reconnects after
//! a failure.

use super::SendError;
use super::stats::SendStats;
use hj212::{Cn, DataSegment, ExeRtn, Hj212Decoder, QnRtn, StationOptions, encode_segment};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Timing of the logger (hj212.md §11.1: 5 s on wired links, 3 retries).
#[derive(Debug, Clone)]
pub struct LoggerTiming {
    /// How long to wait for the 9014 before resending.
    pub answer_timeout: Duration,
    /// Resends after the first attempt.
    pub retries: u32,
    /// Pause before reconnecting after a failed connect or a lost connection.
    pub reconnect_delay: Duration,
    pub connect_timeout: Duration,
}

impl Default for LoggerTiming {
    fn default() -> Self {
        LoggerTiming {
            answer_timeout: Duration::from_secs(5),
            retries: 3,
            reconnect_delay: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// One station's connection to the platform.
pub struct StationLogger {
    addr: SocketAddr,
    mn: String,
    timing: LoggerTiming,
    utc_offset_s: i64,
    stream: Option<TcpStream>,
    decoder: Hj212Decoder,
    /// Last QN used, in Unix milliseconds: QNs stay unique per MN (hj212.md §11.3).
    last_qn_ms: i64,
    stats: Arc<SendStats>,
}

impl StationLogger {
    pub fn new(
        addr: SocketAddr,
        mn: impl Into<String>,
        timing: LoggerTiming,
        utc_offset_s: i64,
        stats: Arc<SendStats>,
    ) -> StationLogger {
        StationLogger {
            addr,
            mn: mn.into(),
            timing,
            utc_offset_s,
            stream: None,
            decoder: Hj212Decoder::default(),
            last_qn_ms: i64::MIN,
            stats,
        }
    }

    pub fn mn(&self) -> &str {
        &self.mn
    }

    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// A fresh QN for an upload sent at simulated instant `now` (Unix seconds): the logger's
    /// clock, plus 1 ms when two uploads share an instant.
    pub fn next_qn(&mut self, now: i64) -> String {
        let ms = (now * 1000).max(self.last_qn_ms.saturating_add(1));
        self.last_qn_ms = ms;
        super::feed::qn_of(ms, self.utc_offset_s)
    }

    /// Closes the connection (the station goes silent, e.g. a power or network outage).
    pub async fn disconnect(&mut self) {
        if let Some(mut stream) = self.stream.take() {
            let _ = stream.shutdown().await;
        }
        self.decoder = Hj212Decoder::default();
    }

    async fn connect(&mut self) -> Result<(), SendError> {
        if self.stream.is_some() {
            return Ok(());
        }
        let attempt =
            tokio::time::timeout(self.timing.connect_timeout, TcpStream::connect(self.addr));
        let stream = match attempt.await {
            Ok(Ok(stream)) => stream,
            Ok(Err(source)) => {
                return Err(SendError::Connect {
                    addr: self.addr,
                    source,
                });
            }
            Err(_) => {
                return Err(SendError::Connect {
                    addr: self.addr,
                    source: std::io::ErrorKind::TimedOut.into(),
                });
            }
        };
        let _ = stream.set_nodelay(true);
        self.stream = Some(stream);
        self.decoder = Hj212Decoder::default();
        self.stats.connects.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Sends one data segment and waits for its 9014: resends the same bytes (same QN) up to
    /// `retries` times when no answer comes in time; a lost connection is re-established once
    /// per attempt. Fails with [`SendError::NoAnswer`] or the connection error once the attempts
    /// are used up; the caller keeps the record for a later backfill.
    pub async fn send(&mut self, segment: &DataSegment) -> Result<(), SendError> {
        let qn = segment.qn.clone().unwrap_or_default();
        let frame = encode_segment(segment);
        let attempts = self.timing.retries + 1;
        let mut last_error = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                self.stats.resends.fetch_add(1, Ordering::Relaxed);
            }
            if let Err(e) = self.connect().await {
                last_error = Some(e);
                tokio::time::sleep(self.timing.reconnect_delay).await;
                continue;
            }
            self.stats.frames_sent.fetch_add(1, Ordering::Relaxed);
            match self.exchange(&frame, &qn).await {
                Ok(true) => {
                    self.stats.answered.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Ok(false) => {
                    // Timed out: resend on the same connection, as loggers do.
                    self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    self.disconnect().await;
                    self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    last_error = Some(e);
                    tokio::time::sleep(self.timing.reconnect_delay).await;
                }
            }
        }
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        Err(last_error
            .filter(|e| !matches!(e, SendError::Io { .. }))
            .unwrap_or(SendError::NoAnswer { qn, attempts }))
    }

    /// Writes the frame and reads until the 9014 with our QN arrives (`true`) or the answer
    /// timeout passes (`false`). Platform requests that arrive meanwhile are answered.
    async fn exchange(&mut self, frame: &[u8], qn: &str) -> Result<bool, SendError> {
        let addr = self.addr;
        let io_error = |source| SendError::Io { addr, source };
        let Some(stream) = self.stream.as_mut() else {
            return Err(io_error(std::io::ErrorKind::NotConnected.into()));
        };
        stream.write_all(frame).await.map_err(io_error)?;
        let deadline = Instant::now() + self.timing.answer_timeout;
        let mut buf = [0u8; 4096];
        loop {
            while let Some(item) = self.decoder.next_item() {
                let Ok(reply) = item else {
                    continue; // A damaged frame from the platform: ignore it, as loggers do.
                };
                let seg = reply.segment;
                if seg.cn == Cn::DATA_ANSWER && seg.qn.as_deref() == Some(qn) {
                    return Ok(true);
                }
                if let Some(answer) = answer_platform_request(&seg) {
                    let Some(stream) = self.stream.as_mut() else {
                        return Err(io_error(std::io::ErrorKind::NotConnected.into()));
                    };
                    stream.write_all(&answer).await.map_err(io_error)?;
                }
            }
            let Some(stream) = self.stream.as_mut() else {
                return Err(io_error(std::io::ErrorKind::NotConnected.into()));
            };
            let read = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await;
            match read {
                Err(_) => return Ok(false),
                Ok(Ok(0)) => return Err(io_error(std::io::ErrorKind::UnexpectedEof.into())),
                Ok(Ok(n)) => self.decoder.push(&buf[..n]),
                Ok(Err(e)) => return Err(io_error(e)),
            }
        }
    }
}

/// What a simulated logger answers to a platform request (hj212.md §10.3): a set-time request
/// (1012) is acknowledged (9011 ready, 9012 success) — the simulated clock stays authoritative,
/// so the time is not changed; any other request with A=1 is refused (9011 QnRtn=2). Answers and
/// notifications get nothing.
fn answer_platform_request(request: &DataSegment) -> Option<Vec<u8>> {
    if request.cn.0 >= 9000 || !request.answer_requested() {
        return None;
    }
    let options = StationOptions::default();
    if request.cn == Cn::SET_TIME {
        let mut bytes = hj212::request_answer(request, QnRtn::Ready, &options);
        bytes.extend(hj212::execute_answer(request, ExeRtn::Success, &options));
        Some(bytes)
    } else {
        Some(hj212::request_answer(request, QnRtn::Refused, &options))
    }
}
