//! `store-sqlite` — the embedded backend of [`store::Store`]: one SQLite file in WAL mode, one writer thread that group-commits, and a
//! small pool of read connections.
//!
//! Group commit: the writer takes every command waiting in its queue (up to `max_batch`), runs
//! each in its own savepoint inside one transaction, commits once (one fsync with
//! `synchronous=FULL`), and only then answers the callers and publishes the batch's events. A
//! caller is never told "stored" before its data are durable.

mod error;
mod executor;
mod functions;
mod reader;
mod runner;
pub mod schema;
mod write;

pub use error::to_store_error;
pub use executor::{SqliteExecutor, to_sql_values};

use async_trait::async_trait;
use error::Db;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use store::counters::StoreCounters;
use store::sql_stores::{SqlRunner, typed};
use store::{
    CommitBatch, LatestValue, PageLimits, ReadRequest, ReadResponse, Series, SeriesBucket,
    SeriesData, SeriesPoint, SeriesRequest, Store, StoreError, StoreStats, WriteCommand,
    WriteOutcome,
};
use tokio::sync::{Semaphore, broadcast, oneshot};

#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub path: PathBuf,
    /// Read connections (concurrent readers).
    pub readers: usize,
    /// `FULL` makes every commit durable across power loss; `NORMAL` only across process crashes.
    pub synchronous_full: bool,
    /// Most commands in one group commit.
    pub max_batch: usize,
    pub page: PageLimits,
    /// A read running longer than this is interrupted (503); `None` lets reads run unbounded.
    pub statement_timeout: Option<Duration>,
    /// Observations with a phenomenonTime later than now + this many seconds are refused;
    /// `None` accepts any time.
    pub clock_tolerance_s: Option<u64>,
    /// Committed batches `subscribe` buffers for a slow subscriber before it lags (and catches
    /// up with `observations_since`).
    pub commit_stream_capacity: usize,
    /// Keep the index of observations by result (`schema::ensure_result_index`): filtered
    /// counts and pages on `result` are index ranges instead of scans, at a cost to every insert.
    pub result_index: bool,
}

impl SqliteConfig {
    pub fn new(path: impl AsRef<Path>) -> Self {
        SqliteConfig {
            path: path.as_ref().to_path_buf(),
            readers: 4,
            synchronous_full: true,
            max_batch: 512,
            page: PageLimits::default(),
            statement_timeout: Some(Duration::from_secs(10)),
            clock_tolerance_s: Some(600),
            commit_stream_capacity: 1024,
            result_index: true,
        }
    }
}

struct Job {
    cmd: WriteCommand,
    reply: oneshot::Sender<Result<WriteOutcome, StoreError>>,
}

/// Work for the writer thread: a client write, or a closure that needs the write connection for
/// tables outside the STA model (the capability stores of `store::sql_stores`). One writer per file means no second
/// connection can invalidate the group commit's snapshot (SQLITE_BUSY_SNAPSHOT).
enum Work {
    Write(Job),
    Exclusive(Box<dyn FnOnce(&mut Connection) + Send>),
}

pub struct SqliteStore {
    writer: Mutex<Option<mpsc::Sender<Work>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    reader_permits: Arc<Semaphore>,
    events: broadcast::Sender<Arc<CommitBatch>>,
    counters: Arc<StoreCounters>,
    page: PageLimits,
    statement_timeout: Option<Duration>,
    /// Set by `close`: running reads are interrupted, new ones refused.
    closing: Arc<AtomicBool>,
    future_refused: Arc<AtomicU64>,
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).db()?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).db()?;
    conn.pragma_update(None, "cache_size", -64_000i64).db()?;
    // Every write command runs in a savepoint, and SQLite keeps a savepoint's undo pages in a
    // statement sub-journal: in memory, not in a temp file written for every command.
    conn.pragma_update(None, "temp_store", "MEMORY").db()?;
    functions::register(&conn).db()?;
    Ok(conn)
}

/// A read-only connection to an existing database file as a [`store::executor::Executor`]
/// (`qingshui store copy` reads its source through it; nothing is migrated or written).
pub struct ReadOnlyDb(Connection);

impl ReadOnlyDb {
    pub fn open(path: &Path) -> Result<ReadOnlyDb, StoreError> {
        if !path.exists() {
            return Err(StoreError::Database(format!(
                "{} does not exist",
                path.display()
            )));
        }
        Ok(ReadOnlyDb(open_connection(path, true)?))
    }
}

impl store::executor::Executor for ReadOnlyDb {
    fn dialect(&self) -> store::sql::Dialect {
        store::sql::Dialect::Sqlite
    }
    fn query_each(
        &self,
        sql: &str,
        params: &[store::sql::SqlValue],
        visit: &mut dyn FnMut(
            &dyn store::executor::RowRef,
        ) -> Result<store::executor::Flow, StoreError>,
    ) -> Result<(), StoreError> {
        SqliteExecutor(&self.0).query_each(sql, params, visit)
    }
    fn execute(&self, _: &str, _: &[store::sql::SqlValue]) -> Result<usize, StoreError> {
        Err(StoreError::Database("this connection is read only".into()))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database, then starts the writer.
    pub fn open(config: SqliteConfig) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = config.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = open_connection(&config.path, false)?;
        conn.pragma_update(None, "journal_mode", "WAL").db()?;
        conn.pragma_update(
            None,
            "synchronous",
            if config.synchronous_full {
                "FULL"
            } else {
                "NORMAL"
            },
        )
        .db()?;
        schema::migrate(&mut conn).db()?;
        schema::ensure_result_index(&conn, config.result_index).db()?;
        // Checkpoints copy WAL pages into the database file and fsync it; done inside a commit they
        // stall the writer (and every caller waiting for an ack). A background thread checkpoints
        // instead, PASSIVE so that it never blocks the writer or readers.
        conn.pragma_update(None, "wal_autocheckpoint", 0i64).db()?;
        let checkpointer = start_checkpointer(&config.path)?;
        let mut state = write::WriterState::load(&conn)?;
        let future_refused = Arc::new(AtomicU64::new(0));
        state.time = write::TimePolicy {
            tolerance_s: config.clock_tolerance_s,
            refused: future_refused.clone(),
        };
        let mut readers = Vec::new();
        for _ in 0..config.readers.max(1) {
            readers.push(open_connection(&config.path, true)?);
        }
        let (tx, rx) = mpsc::channel::<Work>();
        let (events, _) = broadcast::channel(config.commit_stream_capacity.max(1));
        let counters = Arc::new(StoreCounters::default());
        let thread = {
            let events = events.clone();
            let counters = counters.clone();
            let max_batch = config.max_batch.max(1);
            std::thread::Builder::new()
                .name("qingshui-writer".into())
                .spawn(move || writer_loop(conn, state, rx, events, counters, max_batch))
                .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?
        };
        Ok(SqliteStore {
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            checkpointer: Mutex::new(Some(checkpointer)),
            reader_permits: Arc::new(Semaphore::new(readers.len())),
            readers: Arc::new(Mutex::new(readers)),
            events,
            counters,
            page: config.page,
            statement_timeout: config.statement_timeout,
            closing: Arc::new(AtomicBool::new(false)),
            future_refused,
        })
    }
}

impl SqliteStore {
    /// Runs `f` on the writer thread between group commits (see [`Work`]).
    pub(crate) async fn exclusive<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        let work = Work::Exclusive(Box::new(move |conn: &mut Connection| {
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
}

/// How often the background thread checkpoints the WAL.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

fn start_checkpointer(
    path: &Path,
) -> Result<(mpsc::Sender<()>, std::thread::JoinHandle<()>), StoreError> {
    let conn = open_connection(path, false)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("qingshui-checkpoint".into())
        .spawn(move || {
            // Runs until the store drops the sender.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        })
        .map_err(|e| StoreError::Database(format!("cannot start the checkpoint thread: {e}")))?;
    Ok((stop, handle))
}

fn writer_loop(
    mut conn: Connection,
    mut state: write::WriterState,
    rx: mpsc::Receiver<Work>,
    events: broadcast::Sender<Arc<CommitBatch>>,
    counters: Arc<StoreCounters>,
    max_batch: usize,
) {
    while let Ok(first) = rx.recv() {
        let first = match first {
            Work::Write(job) => job,
            Work::Exclusive(f) => {
                f(&mut conn);
                continue;
            }
        };
        let mut jobs = vec![first];
        // An exclusive closure ends the batch and runs after its commit, in queue order.
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
        let mut results = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        let mut batch_events = Vec::new();
        let outcome = (|| -> Result<(), rusqlite::Error> {
            let mut tx = conn.transaction()?;
            for job in jobs {
                replies.push(job.reply);
                let sp = tx.savepoint()?;
                let mut ev = Vec::new();
                let r = write::apply(&sp, &mut state, job.cmd, &mut ev);
                if r.is_ok() {
                    sp.commit()?;
                    batch_events.extend(ev);
                } else {
                    drop(sp); // rolls the command back, the rest of the batch stands
                }
                results.push(r);
            }
            tx.commit()
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
                // The in-memory id counter and caches may be ahead of the database now.
                match write::WriterState::load(&conn) {
                    Ok(mut s) => {
                        s.time = state.time.clone();
                        state = s
                    }
                    Err(e2) => tracing::error!(error = %e2, "cannot reload writer state"),
                }
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Database(format!("commit failed: {e}"))));
                }
            }
        }
        if let Some(f) = after_commit {
            f(&mut conn);
        }
    }
    // Queue closed: checkpoint so the WAL does not have to be replayed on next open.
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(error = %e, "final WAL checkpoint failed");
    }
    tracing::info!("writer stopped; all acknowledged writes are committed");
}

#[async_trait]
impl Store for SqliteStore {
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, StoreError> {
        let page = self.page;
        self.with_reader(move |conn| store::read::read(&executor::SqliteExecutor(conn), &req, page))
            .await
    }

    async fn read_rendered(
        &self,
        req: ReadRequest,
        render: store::render::Render,
    ) -> Result<store::render::ReadBody, StoreError> {
        let page = self.page;
        self.with_reader(move |conn| {
            store::read::read_rendered(&executor::SqliteExecutor(conn), &req, page, &render)
        })
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
        self.on_reader(typed::observation_cursor).await
    }

    async fn settled_observation_id(&self) -> Result<i64, StoreError> {
        // One writer hands ids out in commit order: nothing below the largest is in flight.
        self.on_reader(typed::max_observation_id).await
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
        self.on_reader(move |ex| typed::observations_since(ex, since, limit))
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
        store::BackendHealth {
            backend: "sqlite".into(),
            ..Default::default()
        }
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
        // Running reads' progress handlers see the flag within a few thousand VM steps.
        self.closing.store(true, Ordering::Relaxed);
        self.reader_permits.close();
    }

    async fn close(&self) {
        self.interrupt_reads();
        if let Some((stop, handle)) = self.checkpointer.lock().ok().and_then(|mut c| c.take()) {
            drop(stop);
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
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

fn latest_values(conn: &Connection, only: Option<&[i64]>) -> Result<Vec<LatestValue>, StoreError> {
    let mut sql = String::from(
        "SELECT d.id, d.name, d.properties, d.unit_of_measurement, d.thing_id, t.name, d.observed_property_id, op.name,
                d.observation_count, o.id, o.phenomenon_time_start, o.phenomenon_time_end, o.result, o.result_json, o.result_quality
         FROM datastreams d
         JOIN things t ON t.id = d.thing_id
         JOIN observed_properties op ON op.id = d.observed_property_id
         LEFT JOIN observations o ON o.id = d.latest_observation_id",
    );
    let mut params = Vec::new();
    if let Some(ids) = only {
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("?{i}")).collect();
        sql.push_str(&format!(" WHERE d.id IN ({})", marks.join(", ")));
        params.extend(ids.iter().copied());
    }
    sql.push_str(" ORDER BY d.id");
    let parse = |t: Option<String>| t.and_then(|s| serde_json::from_str(&s).ok());
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            let start: Option<i64> = r.get(10)?;
            let end: Option<i64> = r.get(11)?;
            Ok(LatestValue {
                datastream_id: r.get(0)?,
                datastream_name: r.get(1)?,
                datastream_properties: parse(r.get(2)?),
                unit_of_measurement: parse(r.get(3)?).unwrap_or(serde_json::Value::Null),
                thing_id: r.get(4)?,
                thing_name: r.get(5)?,
                observed_property_id: r.get(6)?,
                observed_property_name: r.get(7)?,
                observation_count: r.get(8)?,
                observation_id: r.get(9)?,
                phenomenon_time: start.map(|s| sta::time::format_time_value(s, end)),
                result: store::read::decode::result_value(
                    executor::cell_of(r.get_ref(12)?),
                    executor::cell_of(r.get_ref(13)?),
                ),
                result_quality: parse(r.get(14)?),
            })
        })
        .db()?;
    rows.collect::<Result<_, _>>().db()
}

fn series(conn: &Connection, req: &SeriesRequest) -> Result<Vec<Series>, StoreError> {
    let mut out = Vec::with_capacity(req.datastreams.len());
    for &ds in &req.datastreams {
        let data = match req.bucket {
            None => {
                let mut stmt = conn.prepare_cached(
                    "SELECT phenomenon_time_start, CASE WHEN typeof(result) IN ('integer', 'real') AND result_json IS NULL THEN result END,
                            json_extract(result_quality, '$.flag')
                     FROM observations WHERE datastream_id = ?1 AND phenomenon_time_start >= ?2 AND phenomenon_time_start < ?3
                     ORDER BY phenomenon_time_start",
                ).db()?;
                let rows = stmt
                    .query_map(rusqlite::params![ds, req.from, req.to], |r| {
                        Ok(SeriesPoint {
                            t: r.get(0)?,
                            v: r.get(1)?,
                            flag: r.get::<_, Option<String>>(2)?,
                        })
                    })
                    .db()?;
                SeriesData::Raw(rows.collect::<Result<_, _>>().db()?)
            }
            Some(bucket) => {
                let bucket = bucket.max(1);
                let mut stmt = conn.prepare_cached(
                    "SELECT (phenomenon_time_start - ?4) / ?5 * ?5 + ?4 AS b, AVG(result), MIN(result), MAX(result), COUNT(*),
                            SUM(CASE WHEN COALESCE(json_extract(result_quality, '$.flag'), 'N') <> 'N' THEN 1 ELSE 0 END)
                     FROM observations
                     WHERE datastream_id = ?1 AND phenomenon_time_start >= ?2 AND phenomenon_time_start < ?3
                       AND typeof(result) IN ('integer', 'real') AND result_json IS NULL
                     GROUP BY b ORDER BY b",
                ).db()?;
                let origin = req.from.div_euclid(bucket) * bucket;
                let rows = stmt
                    .query_map(
                        rusqlite::params![ds, req.from, req.to, origin, bucket],
                        |r| {
                            Ok(SeriesBucket {
                                t: r.get(0)?,
                                avg: r.get(1)?,
                                min: r.get(2)?,
                                max: r.get(3)?,
                                n: r.get(4)?,
                                flagged: r.get(5)?,
                            })
                        },
                    )
                    .db()?;
                SeriesData::Buckets(rows.collect::<Result<_, _>>().db()?)
            }
        };
        out.push(Series {
            datastream_id: ds,
            data,
        });
    }
    Ok(out)
}
