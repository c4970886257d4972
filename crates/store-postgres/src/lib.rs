//! `store-postgres` — the PostgreSQL backend of [`store::Store`], for deployments that outgrow
//! one machine (docs/postgres.md).
//!
//! Shaped like `store-sqlite`, so the backend-neutral STA engine runs unchanged: one writer
//! thread per node owns a connection and group-commits (every command waiting in its queue, up
//! to `max_batch`, each in its own savepoint inside one transaction; callers are answered only
//! after `COMMIT` returned, with `synchronous_commit = on`), and a small pool of reader threads
//! each own a connection with a `statement_timeout`. Several nodes may share one database:
//! while another node listens, every commit is announced with `pg_notify` inside the transaction
//! (delivered on commit only), and each node's listener thread re-publishes other nodes' batches
//! on its own commit stream (`notify.rs`); `leader.rs` is the advisory lock that makes one node the alert engine.

pub mod copy;
mod exec;
pub mod fence;
pub mod leader;
mod notify;
mod runner;
pub mod schema;
pub mod tls;
mod write;

pub use exec::{PgExec, placeholders, to_store_error};
pub use notify::channel as commit_channel;

use async_trait::async_trait;
use exec::{cell, float, int, text};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use store::counters::StoreCounters;
use store::sql::SqlValue;
use store::sql_stores::{SqlRunner, typed};
use store::{
    CommitBatch, LatestValue, PageLimits, ReadRequest, ReadResponse, Series, SeriesBucket,
    SeriesData, SeriesPoint, SeriesRequest, Store, StoreError, StoreStats, WriteCommand,
    WriteOutcome,
};
use tokio::sync::{Semaphore, broadcast, oneshot};

/// How long a catch-up or a resume waits for the writers' transactions in flight (fence.rs):
/// a batch takes milliseconds; one held longer is waiting for a lock, and the caller retries.
const FENCE_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/database` (or key=value form).
    pub url: String,
    pub readers: usize,
    pub max_batch: usize,
    pub page: PageLimits,
    pub statement_timeout: Option<Duration>,
    pub clock_tolerance_s: Option<u64>,
    pub commit_stream_capacity: usize,
    /// Announce commits to, and receive them from, the other nodes on the same database.
    pub notify: bool,
    /// Keep the index of observations by result (`schema::ensure_result_index`): filtered
    /// counts and `$filter` on results are index ranges, at a cost to ingest (off by default:
    /// BENCHMARKS.md "The result index on PostgreSQL").
    pub result_index: bool,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            readers: 4,
            max_batch: 512,
            page: PageLimits::default(),
            statement_timeout: Some(Duration::from_secs(10)),
            clock_tolerance_s: Some(600),
            commit_stream_capacity: 1024,
            notify: true,
            result_index: false,
        }
    }
}

/// `url` with its password replaced by `***`, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    // URL form: scheme://user:password@host…
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &rest[at..]
                );
            }
        }
        // password=… in the query string
        if let Some(q) = url.find("password=") {
            let end = url[q..].find('&').map_or(url.len(), |e| q + e);
            return format!("{}password=***{}", &url[..q], &url[end..]);
        }
        return url.to_owned();
    }
    // key=value form
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***".to_owned()
            } else {
                kv.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Opens one connection, encrypted when the URL asks for it (`sslmode`, `tls.rs`).
pub fn connect(url: &str) -> Result<postgres::Client, StoreError> {
    let target = tls::parse(url)?;
    let connected = match tls::connector(&target)? {
        Some(tls) => postgres::Client::connect(&target.url, tls),
        None => postgres::Client::connect(&target.url, postgres::NoTls),
    };
    connected.map_err(|e| {
        // The reason a TLS handshake or a connection failed is in the error's sources.
        let mut causes = String::new();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            causes.push_str(": ");
            causes.push_str(&c.to_string());
            cause = c.source();
        }
        StoreError::Database(format!(
            "cannot connect to {}: {}{causes}",
            redact_url(url),
            exec::to_store_error(e)
        ))
    })
}

/// A name unique on this host for a schema or a node: the prefix, the process, the start
/// microsecond and a per-process sequence (parallel tests open several in one microsecond).
pub fn unique_name(prefix: &str) -> String {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}{:x}_{:x}_{:x}",
        std::process::id(),
        store::clock::now_micros() & 0xff_ffff_ffff,
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Creates a fresh schema named from `prefix` (blocking) and answers its name and the URL
/// whose `search_path` names it: tests and benchmarks, each in a schema of its own.
pub fn create_fresh_schema(admin_url: &str, prefix: &str) -> Result<(String, String), StoreError> {
    let name = unique_name(prefix);
    let mut c = connect(admin_url)?;
    c.batch_execute(&format!("CREATE SCHEMA {name}"))
        .map_err(exec::to_store_error)?;
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    Ok((
        name.clone(),
        format!("{admin_url}{sep}options=-csearch_path%3D{name}"),
    ))
}

struct Job {
    cmd: WriteCommand,
    reply: oneshot::Sender<Result<WriteOutcome, StoreError>>,
}

enum Work {
    Write(Job),
    Exclusive(Box<dyn FnOnce(&PgExec) + Send>),
}

/// The commit-notification channel, this node's id, and who listens.
#[derive(Clone)]
struct Announce {
    channel: String,
    node: String,
    peers: Arc<notify::Peers>,
}

pub struct PgStore {
    url: String,
    scope: u32,
    node: String,
    /// How this node announces its commits, when notifications are on.
    announce: Option<Announce>,
    writer: Mutex<Option<mpsc::Sender<Work>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<PgExec>>>,
    reader_permits: Arc<Semaphore>,
    events: broadcast::Sender<Arc<CommitBatch>>,
    counters: Arc<StoreCounters>,
    page: PageLimits,
    statement_timeout: Option<Duration>,
    closing: Arc<AtomicBool>,
    future_refused: Arc<AtomicU64>,
    listener: Option<notify::Listener>,
    /// Microseconds of the last batch received from another node (0: none yet).
    last_remote_commit: Arc<AtomicI64>,
    /// The other nodes listening: the writer announces only while one is.
    peers: Arc<notify::Peers>,
    /// Whether this node's alert-engine leadership is held (for health).
    alert_leader: Arc<AtomicBool>,
    /// Which observation ids no writer of any node still holds (fence.rs).
    fence: Arc<fence::Fence>,
}

fn open_reader(url: &str, timeout: Option<Duration>) -> Result<PgExec, StoreError> {
    let exec = PgExec::new(connect(url)?);
    let ms = timeout.map_or(0, |t| t.as_millis());
    exec.batch(&format!(
        "SET statement_timeout = {ms}; SET default_transaction_read_only = on"
    ))?;
    Ok(exec)
}

fn current_schema(conn: &PgExec) -> Result<String, StoreError> {
    let rows = conn.rows("SELECT current_schema()", &[])?;
    rows.first()
        .map(|r| text(r, 0))
        .transpose()?
        .flatten()
        .ok_or_else(|| {
            StoreError::Database(
                "no current schema: the search_path names no existing schema".into(),
            )
        })
}

/// A stable 32-bit scope (FNV-1a) of the schema: the notification channel and the advisory
/// lock keys of one deployment.
pub fn scope_of(schema: &str) -> u32 {
    schema.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A node id for the commit notifications: host-unique enough (pid and start time).
fn node_id() -> String {
    unique_name("")
}

/// The writer's session settings, on its first connection and after a reconnect.
///
/// `synchronous_commit = on`: an acknowledged write is on disk, whatever the server's default.
/// `plan_cache_mode = force_custom_plan`: every statement is planned for its values, so that
/// PostgreSQL opens only the partitions they fall in. A generic plan (what a prepared statement
/// gets after five executions) locks every partition of `observations`, the default one too;
/// a writer holding the default partition while it waits for another node's new month
/// (`qs_ensure_partition` takes a lock per month) deadlocks with that node, whose ATTACH
/// PARTITION waits for the default partition (`tests/bulk_writes.rs`). The writer's statements
/// are small; planning each costs less than locking a partition per month stored.
/// The writer's session: durable commits, every statement planned for its values (a generic
/// plan locks every partition, the default one included, and deadlocks with another node's
/// ATTACH), and the name the fence finds its transactions by (`fence.rs`).
fn writer_session(conn: &PgExec, app: &str) -> Result<(), StoreError> {
    conn.batch(&format!(
        "SET synchronous_commit = on; SET plan_cache_mode = force_custom_plan; SET application_name = '{}'",
        app.replace('\'', "")
    ))
}

impl PgStore {
    /// Connects, migrates, creates the partitions ahead and starts the writer, the readers
    /// and (with `notify`) the listener.
    ///
    /// Runs on a thread of its own: the blocking client must not run inside an async runtime,
    /// and the server opens its store from one.
    pub fn open(config: PgConfig) -> Result<PgStore, StoreError> {
        std::thread::spawn(move || Self::open_here(config))
            .join()
            .map_err(|_| StoreError::Database("opening the PostgreSQL store panicked".into()))?
    }

    fn open_here(config: PgConfig) -> Result<PgStore, StoreError> {
        let target = tls::parse(&config.url)?;
        if target.unverified() {
            tracing::warn!(
                sslmode = target.describe(),
                "the database connection is encrypted but the server's certificate is not verified: use sslmode=verify-full with sslrootcert"
            );
        } else {
            tracing::info!(sslmode = target.describe(), "connecting to PostgreSQL");
        }
        let conn = PgExec::new(connect(&config.url)?);
        let scope = scope_of(&current_schema(&conn)?);
        schema::migrate(&conn)?;
        schema::install_geometry(&conn)?;
        schema::ensure_partitions_ahead(&conn, store::clock::now_micros(), 2)?;
        schema::ensure_result_index(&conn, config.result_index)?;
        let writer_app = fence::writer_application_name(scope);
        writer_session(&conn, &writer_app)?;
        let future_refused = Arc::new(AtomicU64::new(0));
        let mut state = write::WriterState::new(&conn)?;
        state.time = write::TimePolicy {
            tolerance_s: config.clock_tolerance_s,
            refused: future_refused.clone(),
        };
        let mut readers = Vec::new();
        for _ in 0..config.readers.max(1) {
            readers.push(open_reader(&config.url, config.statement_timeout)?);
        }
        let (tx, rx) = mpsc::channel::<Work>();
        let (events, _) = broadcast::channel(config.commit_stream_capacity.max(1));
        let counters = Arc::new(StoreCounters::default());
        let node = node_id();
        let last_remote_commit = Arc::new(AtomicI64::new(0));
        let peers = Arc::new(notify::Peers::default());
        let listener = if config.notify {
            let listener = notify::Listener::start(
                config.url.clone(),
                notify::channel(scope),
                node.clone(),
                events.clone(),
                last_remote_commit.clone(),
                peers.clone(),
            )?;
            // Serve no one before the other nodes know of us (notify.rs).
            if !peers.wait_until_known(Duration::from_secs(5)) {
                tracing::warn!(
                    "this node's hello did not come back within 5 s: other nodes may miss its first commits"
                );
            }
            Some(listener)
        } else {
            None
        };
        let announce = config.notify.then(|| Announce {
            channel: notify::channel(scope),
            node: node.clone(),
            peers: peers.clone(),
        });
        let thread = {
            let events = events.clone();
            let counters = counters.clone();
            let max_batch = config.max_batch.max(1);
            let announce = announce.clone();
            let url = config.url.clone();
            std::thread::Builder::new()
                .name("qingshui-pg-writer".into())
                .spawn(move || {
                    writer_loop(
                        conn,
                        url,
                        &writer_app,
                        state,
                        rx,
                        events,
                        counters,
                        max_batch,
                        announce,
                    )
                })
                .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?
        };
        Ok(PgStore {
            url: config.url,
            scope,
            node,
            announce,
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            reader_permits: Arc::new(Semaphore::new(readers.len())),
            readers: Arc::new(Mutex::new(readers)),
            events,
            counters,
            page: config.page,
            statement_timeout: config.statement_timeout,
            closing: Arc::new(AtomicBool::new(false)),
            future_refused,
            listener,
            last_remote_commit,
            peers,
            alert_leader: Arc::new(AtomicBool::new(false)),
            fence: Arc::new(fence::Fence::new(scope)),
        })
    }

    /// This node's id in the commit notifications.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The database URL with the password hidden.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    /// Microseconds of the last commit another node announced (0: none seen).
    pub fn last_remote_commit(&self) -> i64 {
        self.last_remote_commit.load(Ordering::Relaxed)
    }

    /// Runs `f` on the writer's connection between group commits.
    pub(crate) async fn exclusive<T: Send + 'static>(
        &self,
        f: impl FnOnce(&PgExec) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        let work = Work::Exclusive(Box::new(move |conn: &PgExec| {
            let _ = reply.send(f(conn));
        }));
        {
            let guard = self.writer.lock().map_err(|_| StoreError::Closed)?;
            guard
                .as_ref()
                .ok_or(StoreError::Closed)?
                .send(work)
                .map_err(|_| StoreError::Closed)?;
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a read connection (reconnecting one the database closed).
    pub(crate) async fn with_reader<T: Send + 'static>(
        &self,
        f: impl FnOnce(&PgExec) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.closing.load(Ordering::Relaxed) {
            return Err(StoreError::Closed);
        }
        let permit = self
            .reader_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        let pool = self.readers.clone();
        let url = self.url.clone();
        let timeout = self.statement_timeout;
        let counters = self.counters.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool
                .lock()
                .map_err(|_| StoreError::Closed)?
                .pop()
                .ok_or(StoreError::Closed)?;
            if conn.is_closed() {
                conn = open_reader(&url, timeout)?;
            }
            let result = f(&conn);
            if let Ok(mut p) = pool.lock() {
                p.push(conn);
            }
            if let Err(StoreError::Interrupted(_)) = &result {
                counters.reads_timed_out.fetch_add(1, Ordering::Relaxed);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("reader task failed: {e}")))?
    }
}

#[allow(clippy::too_many_arguments)]
fn writer_loop(
    mut conn: PgExec,
    url: String,
    app: &str,
    mut state: write::WriterState,
    rx: mpsc::Receiver<Work>,
    events: broadcast::Sender<Arc<CommitBatch>>,
    counters: Arc<StoreCounters>,
    max_batch: usize,
    announce: Option<Announce>,
) {
    while let Ok(first) = rx.recv() {
        if conn.is_closed() {
            match connect(&url).and_then(|c| {
                let c = PgExec::new(c);
                writer_session(&c, app)?;
                Ok(c)
            }) {
                Ok(c) => {
                    conn = c;
                    state.months.clear();
                }
                Err(e) => tracing::error!(error = %e, "the writer cannot reconnect"),
            }
        }
        let first = match first {
            Work::Write(job) => job,
            Work::Exclusive(f) => {
                f(&conn);
                continue;
            }
        };
        let mut jobs = vec![first];
        let mut after_commit = None;
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(Work::Write(j)) => jobs.push(j),
                Ok(Work::Exclusive(f)) => {
                    after_commit = Some(f);
                    break;
                }
                Err(_) => break,
            }
        }
        counters
            .pending_writes
            .fetch_sub(jobs.len() as u64, Ordering::Relaxed);
        // Another node may have changed what the caches hold since the last batch.
        state.forget_between_batches();
        let mut results = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        let mut batch_events = Vec::new();
        let outcome = (|| -> Result<(), StoreError> {
            // Statements that need no answer of their own ride with the next one: BEGIN
            // with the first SAVEPOINT, a RELEASE with the next SAVEPOINT or the COMMIT (a
            // round trip each fewer). The transaction id is taken first (fence.rs).
            let mut pending = String::from(fence::WRITER_BEGIN);
            for job in jobs {
                replies.push(job.reply);
                conn.batch(&format!("{pending}SAVEPOINT cmd"))?;
                pending.clear();
                let mut ev = Vec::new();
                let r = write::apply(&conn, &mut state, job.cmd, &mut ev);
                if r.is_ok() {
                    pending.push_str("RELEASE SAVEPOINT cmd; ");
                    batch_events.extend(ev);
                } else {
                    // rolls the command back, the rest of the batch stands
                    conn.batch("ROLLBACK TO SAVEPOINT cmd; RELEASE SAVEPOINT cmd")?;
                    state.forget_after_rollback();
                }
                results.push(r);
            }
            // The last step before COMMIT: a node that said hello before this check hears
            // this batch (notify.rs).
            if let Some(a) = &announce
                && !batch_events.is_empty()
                && a.peers.any_live(store::clock::now_micros())
            {
                if !pending.is_empty() {
                    conn.batch(&pending)?;
                    pending.clear();
                }
                notify::announce(&conn, &a.channel, &a.node, &batch_events)?;
            }
            conn.batch(&format!("{pending}COMMIT"))
        })();
        match outcome {
            Ok(()) => {
                counters.committed(&results);
                // Acknowledge only now: the batch is durable.
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
                if !batch_events.is_empty() {
                    let _ = events.send(Arc::new(CommitBatch {
                        events: batch_events,
                    }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed; the batch is rolled back");
                let _ = conn.batch("ROLLBACK");
                state.forget_after_rollback();
                state.months.clear();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Database(format!("commit failed: {e}"))));
                }
            }
        }
        if let Some(f) = after_commit {
            f(&conn);
        }
    }
    tracing::info!("PostgreSQL writer stopped; all acknowledged writes are committed");
}

#[async_trait]
impl Store for PgStore {
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, StoreError> {
        let page = self.page;
        self.with_reader(move |conn| store::read::read(conn, &req, page))
            .await
    }

    async fn read_rendered(
        &self,
        req: ReadRequest,
        render: store::render::Render,
    ) -> Result<store::render::ReadBody, StoreError> {
        let page = self.page;
        self.with_reader(move |conn| store::read::read_rendered(conn, &req, page, &render))
            .await
    }

    async fn write(&self, cmd: WriteCommand) -> Result<WriteOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        {
            let guard = self.writer.lock().map_err(|_| StoreError::Closed)?;
            let sender = guard.as_ref().ok_or(StoreError::Closed)?;
            self.counters.pending_writes.fetch_add(1, Ordering::Relaxed);
            sender
                .send(Work::Write(Job { cmd, reply }))
                .map_err(|_| StoreError::Closed)?;
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn latest(&self, datastreams: Option<Vec<i64>>) -> Result<Vec<LatestValue>, StoreError> {
        self.with_reader(move |conn| latest_values(conn, datastreams.as_deref()))
            .await
    }

    async fn series(&self, req: SeriesRequest) -> Result<Vec<Series>, StoreError> {
        self.with_reader(move |conn| series(conn, &req)).await
    }

    async fn keyed_entities(
        &self,
        entity: sta::EntityType,
        key: Option<String>,
    ) -> Result<Vec<store::KeyedEntity>, StoreError> {
        self.on_reader(move |ex| typed::keyed_entities(ex, entity, key.as_deref()))
            .await
    }

    async fn datastreams_with_things(&self) -> Result<Vec<store::DatastreamRow>, StoreError> {
        self.on_reader(typed::datastreams_with_things).await
    }

    async fn observation_cursor(&self) -> Result<store::ObservationCursor, StoreError> {
        let fence = self.fence.clone();
        self.with_reader(move |ex| {
            let settled = fence.wait(ex, FENCE_WAIT)?;
            let mut cursor = typed::observation_cursor(ex)?;
            cursor.last_id = settled;
            Ok(cursor)
        })
        .await
    }

    async fn settled_observation_id(&self) -> Result<i64, StoreError> {
        let fence = self.fence.clone();
        self.with_reader(move |ex| fence.settled_now(ex)).await
    }

    async fn observations_between(
        &self,
        after: i64,
        through: i64,
        limit: usize,
    ) -> Result<Vec<store::ObservationEvent>, StoreError> {
        self.on_reader(move |ex| typed::inserted_between(ex, after, through, limit))
            .await
    }

    async fn observations_since(
        &self,
        since: store::ObservationCursor,
        limit: usize,
    ) -> Result<store::CommittedObservations, StoreError> {
        let fence = self.fence.clone();
        self.with_reader(move |ex| {
            let settled = fence.wait(ex, FENCE_WAIT)?;
            typed::observations_since_through(ex, since, limit, settled)
        })
        .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<CommitBatch>> {
        self.events.subscribe()
    }

    fn stats(&self) -> StoreStats {
        self.counters
            .stats(self.future_refused.load(Ordering::Relaxed))
    }

    async fn backend_health(&self) -> store::BackendHealth {
        let started = std::time::Instant::now();
        let asked = self
            .with_reader(|conn| {
                let rows = conn.rows(
                    "SELECT CASE WHEN pg_is_in_recovery()
                        THEN (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::DOUBLE PRECISION END",
                    &[],
                )?;
                Ok(rows.first().map(|r| float(r, 0)).transpose()?.flatten())
            })
            .await;
        let last = self.last_remote_commit();
        let mut h = store::BackendHealth {
            backend: "postgres".into(),
            node: Some(self.node.clone()),
            tls: tls::parse(&self.url).ok().map(|t| t.describe().to_owned()),
            last_remote_commit_age_ms: (last > 0)
                .then(|| (store::clock::now_micros() - last) / 1000),
            alert_leader: Some(self.alert_leader.load(Ordering::Relaxed)),
            peers: self
                .listener
                .is_some()
                .then(|| self.peers.live_count(store::clock::now_micros())),
            ..Default::default()
        };
        match asked {
            Ok(lag) => {
                h.round_trip_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
                h.replica_lag_ms = lag;
            }
            Err(e) => h.error = Some(e.to_string()),
        }
        h
    }

    fn leadership(&self, name: &str) -> Option<Box<dyn store::Leadership>> {
        let key = match name {
            "alerts" => leader::ALERT_ENGINE,
            other => i64::from(scope_of(other)),
        };
        Some(Box::new(leader::Leadership::new(
            &self.url,
            key ^ i64::from(self.scope),
            (name == "alerts").then(|| self.alert_leader.clone()),
        )))
    }

    fn alert_store(self: Arc<Self>) -> Option<Arc<dyn store::alerts::AlertStore>> {
        Some(self)
    }

    fn scene_store(self: Arc<Self>) -> Option<Arc<dyn store::scenes::SceneStore>> {
        Some(self)
    }

    fn account_store(self: Arc<Self>) -> Option<Arc<dyn store::accounts::AccountStore>> {
        Some(self)
    }

    fn review_store(self: Arc<Self>) -> Option<Arc<dyn store::review::ReviewStore>> {
        Some(self)
    }

    fn interrupt_reads(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.reader_permits.close();
    }

    async fn close(&self) {
        self.interrupt_reads();
        if let Some(l) = &self.listener {
            l.stop();
        }
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
        let handle = self.writer_thread.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

// Dropping a blocking client runs its runtime, which must not happen on an async runtime's
// thread (the server drops its store on one): the connections close on a thread of their own.
impl Drop for PgStore {
    fn drop(&mut self) {
        let readers = self
            .readers
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        if !readers.is_empty() {
            let _ = std::thread::spawn(move || drop(readers)).join();
        }
        if let Some(l) = &self.listener {
            l.stop();
        }
    }
}

fn latest_values(conn: &PgExec, only: Option<&[i64]>) -> Result<Vec<LatestValue>, StoreError> {
    let mut sql = String::from(
        "SELECT d.id, d.name, d.properties, d.unit_of_measurement, d.thing_id, t.name, d.observed_property_id, op.name,
                d.observation_count, o.id, o.phenomenon_time_start, o.phenomenon_time_end, o.result, o.result_json, o.result_quality
         FROM datastreams d
         JOIN things t ON t.id = d.thing_id
         JOIN observed_properties op ON op.id = d.observed_property_id
         LEFT JOIN observations o ON o.datastream_id = d.id AND o.phenomenon_time_start = d.latest_phenomenon_time",
    );
    let mut params = Vec::new();
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        sql.push_str(&format!(" WHERE d.id IN ({})", marks.join(", ")));
        params.extend(ids.iter().map(|&i| SqlValue::Int(i)));
    }
    sql.push_str(" ORDER BY d.id");
    let parse = |t: Option<String>| t.and_then(|s| serde_json::from_str(&s).ok());
    conn.rows(&sql, &params)?
        .iter()
        .map(|r| {
            let start = int(r, 10)?;
            let end = int(r, 11)?;
            Ok(LatestValue {
                datastream_id: int(r, 0)?.unwrap_or(0),
                datastream_name: text(r, 1)?.unwrap_or_default(),
                datastream_properties: parse(text(r, 2)?),
                unit_of_measurement: parse(text(r, 3)?).unwrap_or(serde_json::Value::Null),
                thing_id: int(r, 4)?.unwrap_or(0),
                thing_name: text(r, 5)?.unwrap_or_default(),
                observed_property_id: int(r, 6)?.unwrap_or(0),
                observed_property_name: text(r, 7)?.unwrap_or_default(),
                observation_count: int(r, 8)?.unwrap_or(0),
                observation_id: int(r, 9)?,
                phenomenon_time: start.map(|s| sta::time::format_time_value(s, end)),
                result: store::read::decode::result_value(cell(r, 12)?, cell(r, 13)?),
                result_quality: parse(text(r, 14)?),
            })
        })
        .collect()
}

fn series(conn: &PgExec, req: &SeriesRequest) -> Result<Vec<Series>, StoreError> {
    let mut out = Vec::with_capacity(req.datastreams.len());
    for &ds in &req.datastreams {
        let data = match req.bucket {
            None => {
                let rows = conn.rows(
                    "SELECT phenomenon_time_start, result, result_quality::jsonb ->> 'flag'
                     FROM observations WHERE datastream_id = $1 AND phenomenon_time_start >= $2 AND phenomenon_time_start < $3
                     ORDER BY phenomenon_time_start",
                    &[SqlValue::Int(ds), SqlValue::Int(req.from), SqlValue::Int(req.to)],
                )?;
                SeriesData::Raw(
                    rows.iter()
                        .map(|r| {
                            Ok(SeriesPoint {
                                t: int(r, 0)?.unwrap_or(0),
                                v: float(r, 1)?,
                                flag: text(r, 2)?,
                            })
                        })
                        .collect::<Result<_, StoreError>>()?,
                )
            }
            Some(bucket) => {
                let bucket = bucket.max(1);
                let origin = req.from.div_euclid(bucket) * bucket;
                let rows = conn.rows(
                    "SELECT (phenomenon_time_start - $4) / $5 * $5 + $4 AS b, AVG(result), MIN(result), MAX(result), COUNT(*),
                            COUNT(*) FILTER (WHERE COALESCE(result_quality::jsonb ->> 'flag', 'N') <> 'N')
                     FROM observations
                     WHERE datastream_id = $1 AND phenomenon_time_start >= $2 AND phenomenon_time_start < $3
                       AND result IS NOT NULL
                     GROUP BY b ORDER BY b",
                    &[
                        SqlValue::Int(ds),
                        SqlValue::Int(req.from),
                        SqlValue::Int(req.to),
                        SqlValue::Int(origin),
                        SqlValue::Int(bucket),
                    ],
                )?;
                SeriesData::Buckets(
                    rows.iter()
                        .map(|r| {
                            Ok(SeriesBucket {
                                t: int(r, 0)?.unwrap_or(0),
                                avg: float(r, 1)?.unwrap_or(f64::NAN),
                                min: float(r, 2)?.unwrap_or(f64::NAN),
                                max: float(r, 3)?.unwrap_or(f64::NAN),
                                n: int(r, 4)?.unwrap_or(0),
                                flagged: int(r, 5)?.unwrap_or(0),
                            })
                        })
                        .collect::<Result<_, StoreError>>()?,
                )
            }
        };
        out.push(Series {
            datastream_id: ds,
            data,
        });
    }
    Ok(out)
}

/// Checks that the database answers (for `/api/v1/health` and `qingshui migrate`): the schema
/// version.
pub fn schema_version(url: &str) -> Result<i64, StoreError> {
    let url = url.to_owned();
    std::thread::spawn(move || schema_version_here(&url))
        .join()
        .map_err(|_| StoreError::Database("the schema query panicked".into()))?
}

fn schema_version_here(url: &str) -> Result<i64, StoreError> {
    let exec = PgExec::new(connect(url)?);
    let rows = exec.rows(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        &[],
    )?;
    Ok(rows
        .first()
        .map(|r| int(r, 0))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>() {}
    is_send::<PgExec>();
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://qs:s3cret@db:5432/qingshui"),
            "postgres://qs:***@db:5432/qingshui"
        );
        assert_eq!(
            redact_url("postgres://qs@db/qingshui?password=s3cret&sslmode=disable"),
            "postgres://qs@db/qingshui?password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("host=db user=qs password=s3cret dbname=q"),
            "host=db user=qs password=*** dbname=q"
        );
        assert_eq!(redact_url("postgres://db/q"), "postgres://db/q");
    }
}
