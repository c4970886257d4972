//! The HTTP connection layer: what `axum::serve` does, plus the limits a public listener needs.
//!
//! Every accepted socket is driven by hyper-util's auto (HTTP/1.1 + h2c) connection, wrapped so
//! that nobody on the network can hold a connection or its memory for free:
//! - **connection cap**: past `max_connections` a socket gets a JSON 503 and is closed;
//! - **header read timeout**: a request head must be complete `header_read_timeout` after the
//!   connect (or after the first byte of a later request), so silent and trickling clients go;
//! - **idle timeout**: a keep-alive connection without a request for `idle_timeout` is closed;
//! - **write timeout**: a write that makes no progress for `write_timeout` fails the connection,
//!   which drops the response it was sending (a client that stops reading frees its memory);
//! - **bounded stop**: on the stop signal, idle connections close at once, in-flight requests
//!   finish, and whatever is still open after `shutdown_grace` is dropped.
//!
//! Body timeouts and limits are per request and live in the request guard (`guard.rs`).
//! hyper's own header timer is off: it also counts the idle time between keep-alive requests,
//! which would make the idle timeout the header timeout.

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

/// The connection-level limits (from `[http]`, see config.rs).
#[derive(Debug, Clone)]
pub struct ListenerSettings {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
    pub shutdown_grace: Duration,
    pub max_connections: usize,
    /// hyper's read buffer: bounds what a head may occupy before our guard sees it.
    pub max_buf_size: usize,
}

impl ListenerSettings {
    pub fn from_config(c: &crate::config::HttpConfig) -> Self {
        let secs = |s: u64| Duration::from_secs(s.max(1));
        ListenerSettings {
            header_read_timeout: secs(c.header_read_timeout_s),
            idle_timeout: secs(c.idle_timeout_s),
            write_timeout: secs(c.write_timeout_s),
            shutdown_grace: secs(c.shutdown_grace_s),
            max_connections: c.max_connections.max(1),
            // Room for the largest head our guard answers with a JSON 414/431 (hyper's own bare
            // 431 only beyond this); hyper needs at least 8 KiB.
            max_buf_size: (2 * (c.max_uri_bytes + c.max_header_bytes)).max(16 * 1024),
        }
    }
}

/// Serves `app` on `listener` until `stop` turns true, then drains within the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: ListenerSettings,
    mut stop: watch::Receiver<bool>,
) {
    let settings = Arc::new(settings);
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    // Refusals are bounded too: under a flood, sockets past these are closed without an answer.
    let refusals = Arc::new(Semaphore::new(64));
    let (conn_stop, conn_stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning on the error.
                        tracing::warn!(error = %e, "HTTP accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                match permits.clone().try_acquire_owned() {
                    Ok(permit) => {
                        conns.spawn(serve_connection(
                            stream,
                            peer,
                            app.clone(),
                            settings.clone(),
                            conn_stop_rx.clone(),
                            permit,
                        ));
                    }
                    Err(_) => {
                        if let Ok(slot) = refusals.clone().try_acquire_owned() {
                            conns.spawn(refuse(stream, peer, settings.max_connections, slot));
                        }
                    }
                }
            }
        }
    }
    drop(listener);
    let _ = conn_stop.send(true);
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = conns.len(),
            grace_s = settings.shutdown_grace.as_secs(),
            "dropping HTTP connections still open after the shutdown grace period"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

/// Resolves once the stop signal is set (or its sender is gone); holds no watch guard across
/// an await, which would make the serving future non-`Send`.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Over the connection cap: one short JSON 503, then close (never wait on the client long).
async fn refuse(mut stream: TcpStream, peer: SocketAddr, max: usize, _slot: OwnedSemaphorePermit) {
    tracing::debug!(%peer, max, "HTTP connection refused: max_connections reached");
    let body = format!(
        r#"{{"code":503,"type":"error","message":"too many connections (max_connections = {max}); retry later"}}"#
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    settings: Arc<ListenerSettings>,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(GuardedIo {
        inner: stream,
        activity: activity.clone(),
        write_timeout: settings.write_timeout,
        write_stall: None,
    });
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        // The peer address for the audit trail and login throttling (`ConnectInfo`).
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let guard = InFlight::begin(service_activity.clone());
        let mut router = app.clone();
        async move {
            let response = router.call(req).await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                Body::new(TrackedBody {
                    inner: body,
                    _guard: guard,
                })
            }))
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .header_read_timeout(None)
        .max_buf_size(settings.max_buf_size);
    // h2c: few streams per connection, and headers bounded like HTTP/1.1 heads.
    builder
        .http2()
        .max_concurrent_streams(64)
        .max_header_list_size(u32::try_from(settings.max_buf_size).unwrap_or(u32::MAX));
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let deadline = activity.deadline(&settings);
        let expire = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            _ = expire => {
                if activity.deadline(&settings).is_some_and(|at| at <= Instant::now()) {
                    tracing::debug!(%peer, "HTTP connection closed: header or idle timeout");
                    return;
                }
            }
            _ = activity.changed.notified() => {}
            _ = stopped(&mut stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What the watchdog needs to know about a connection, updated by the IO and the service.
struct Activity {
    epoch: Instant,
    /// Requests whose response is not completely sent yet.
    in_flight: AtomicUsize,
    /// Since when (ms after `epoch`) the connection waits for a request.
    waiting_since_ms: AtomicU64,
    /// When the first byte of the next head arrived (ms after `epoch`), `u64::MAX` if none.
    head_started_ms: AtomicU64,
    /// No request yet: the header timeout runs from the connect.
    fresh: AtomicBool,
    changed: Notify,
}

const NONE: u64 = u64::MAX;

impl Activity {
    fn new() -> Self {
        Activity {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            waiting_since_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(NONE),
            fresh: AtomicBool::new(true),
            changed: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    /// When the connection is to be closed unless something happens; `None` while serving.
    fn deadline(&self, s: &ListenerSettings) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let head = self.head_started_ms.load(Ordering::Acquire);
        if head != NONE {
            return Some(self.at(head) + s.header_read_timeout);
        }
        let since = self.at(self.waiting_since_ms.load(Ordering::Acquire));
        if self.fresh.load(Ordering::Acquire) {
            Some(since + s.header_read_timeout)
        } else {
            Some(since + s.idle_timeout)
        }
    }

    fn on_read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_started_ms.load(Ordering::Acquire) == NONE
        {
            self.head_started_ms.store(self.now_ms(), Ordering::Release);
            self.changed.notify_one();
        }
    }
}

/// Counts a request as in flight until its response body is dropped (sent or abandoned).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.fresh.store(false, Ordering::Release);
        activity.head_started_ms.store(NONE, Ordering::Release);
        activity.changed.notify_one();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        if a.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            a.waiting_since_ms.store(a.now_ms(), Ordering::Release);
            a.head_started_ms.store(NONE, Ordering::Release);
        }
        a.changed.notify_one();
    }
}

/// A response body that keeps its request counted as in flight.
struct TrackedBody {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, with reads reported to the watchdog and writes that fail when stalled.
struct GuardedIo {
    inner: TcpStream,
    activity: Arc<Activity>,
    write_timeout: Duration,
    /// Running while a write (or flush) is pending; reset whenever one completes.
    write_stall: Option<Pin<Box<Sleep>>>,
}

impl GuardedIo {
    fn stalled<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(r) => {
                self.write_stall = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.write_timeout;
                let timer = self
                    .write_stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                ready!(timer.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client did not read its response within write_timeout_s",
                )))
            }
        }
    }
}

impl AsyncRead for GuardedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.on_read();
        }
        r
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        this.stalled(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.stalled(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.stalled(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.stalled(cx, r)
    }
}
