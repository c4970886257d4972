//! Schema migrations, versioned in code and applied in order inside one transaction each.
//! `PRAGMA user_version` records the last applied migration.

use rusqlite::Connection;

/// Each entry is one migration; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the SensorThings model. Observations are a WITHOUT ROWID table keyed by
    // (datastream, phenomenon time): a datastream's series is contiguous on disk, so series reads
    // and "latest" are range scans, and the key is also the idempotency rule for resent values.
    r#"
    CREATE TABLE things (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        properties TEXT
    );
    CREATE TABLE locations (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        encoding_type TEXT NOT NULL,
        location TEXT NOT NULL,
        properties TEXT
    );
    CREATE TABLE thing_locations (
        thing_id INTEGER NOT NULL,
        location_id INTEGER NOT NULL,
        PRIMARY KEY (thing_id, location_id)
    ) WITHOUT ROWID;
    CREATE INDEX thing_locations_location ON thing_locations (location_id, thing_id);
    CREATE TABLE historical_locations (
        id INTEGER PRIMARY KEY,
        thing_id INTEGER NOT NULL,
        time INTEGER NOT NULL
    );
    CREATE INDEX historical_locations_thing ON historical_locations (thing_id, time);
    CREATE TABLE historical_location_locations (
        historical_location_id INTEGER NOT NULL,
        location_id INTEGER NOT NULL,
        PRIMARY KEY (historical_location_id, location_id)
    ) WITHOUT ROWID;
    CREATE INDEX hll_location ON historical_location_locations (location_id, historical_location_id);
    CREATE TABLE sensors (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        encoding_type TEXT NOT NULL,
        metadata TEXT,
        properties TEXT
    );
    CREATE TABLE observed_properties (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        description TEXT NOT NULL,
        properties TEXT
    );
    CREATE TABLE datastreams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        unit_of_measurement TEXT NOT NULL,
        observation_type TEXT NOT NULL,
        properties TEXT,
        observed_area TEXT,
        phenomenon_time_start INTEGER,
        phenomenon_time_end INTEGER,
        result_time_start INTEGER,
        result_time_end INTEGER,
        thing_id INTEGER NOT NULL,
        sensor_id INTEGER NOT NULL,
        observed_property_id INTEGER NOT NULL,
        -- maintained by the writer: exact count and the latest observation, for the fast paths
        observation_count INTEGER NOT NULL DEFAULT 0,
        latest_observation_id INTEGER,
        latest_phenomenon_time INTEGER
    );
    CREATE INDEX datastreams_thing ON datastreams (thing_id);
    CREATE INDEX datastreams_sensor ON datastreams (sensor_id);
    CREATE INDEX datastreams_observed_property ON datastreams (observed_property_id);
    CREATE TABLE features (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        encoding_type TEXT NOT NULL,
        feature TEXT NOT NULL,
        properties TEXT,
        -- the Location this feature was generated from (OGC 18-088 §8.2.7), if any
        generated_from_location INTEGER UNIQUE
    );
    CREATE TABLE observations (
        datastream_id INTEGER NOT NULL,
        phenomenon_time_start INTEGER NOT NULL,
        id INTEGER NOT NULL,
        phenomenon_time_end INTEGER,
        result ANY,
        result_json TEXT,
        result_time INTEGER,
        result_quality TEXT,
        valid_time_start INTEGER,
        valid_time_end INTEGER,
        parameters TEXT,
        feature_id INTEGER NOT NULL,
        PRIMARY KEY (datastream_id, phenomenon_time_start)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX observations_id ON observations (id);
    CREATE INDEX observations_feature ON observations (feature_id);
    -- Stations resend; a changed value replaces the stored one and the old one is kept here.
    CREATE TABLE observation_revisions (
        observation_id INTEGER NOT NULL,
        revised_at INTEGER NOT NULL,
        old_result ANY,
        old_result_json TEXT,
        old_result_quality TEXT,
        old_parameters TEXT
    );
    CREATE INDEX observation_revisions_obs ON observation_revisions (observation_id, revised_at);
    "#,
    // 2: alerts (crate::alerts). The record is JSON in `body`; the columns the API filters on are
    // copied out. The partial unique index is the rule "one open alert per rule and source".
    r#"
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        rule TEXT NOT NULL,
        source TEXT NOT NULL,
        station TEXT,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX alerts_updated ON alerts (updated_at);
    CREATE INDEX alerts_state ON alerts (state, updated_at);
    CREATE INDEX alerts_station ON alerts (station, updated_at);
    CREATE UNIQUE INDEX alerts_open_per_source ON alerts (rule, source) WHERE state <> 'cleared';
    CREATE TABLE alert_history (
        alert_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (alert_id, seq)
    ) WITHOUT ROWID;
    "#,
    // 3: scenes (satellite/drone imagery, crates/imagery). Figures as JSON in `body`; the
    // classified overlay PNG is small (the lake's box only), so it is a BLOB beside it.
    r#"
    CREATE TABLE scenes (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        sensor TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        overlay BLOB NOT NULL
    );
    CREATE INDEX scenes_time ON scenes (time);
    "#,
    // 4: accounts, API tokens, login sessions, the audit trail (crate::accounts). Secrets are
    // digests or argon2 PHC strings, never the secret itself.
    r#"
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
    );
    CREATE TABLE sessions (
        digest TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        from_addr TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        principal TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        from_addr TEXT NOT NULL,
        details TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at);
    CREATE INDEX audit_principal ON audit (principal, at);
    "#,
    // 5: data review (crate::review): reviews of datastream ranges and station-day approvals,
    // beside the raw values; an undo is a timestamp, never a delete.
    r#"
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        datastream_id INTEGER NOT NULL,
        start_us INTEGER NOT NULL,
        end_us INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL,
        note TEXT NOT NULL,
        by TEXT NOT NULL,
        at INTEGER NOT NULL,
        undone_at INTEGER,
        undone_by TEXT
    );
    CREATE INDEX reviews_datastream ON reviews (datastream_id, start_us);
    CREATE TABLE day_approvals (
        id INTEGER PRIMARY KEY,
        station TEXT NOT NULL,
        day TEXT NOT NULL,
        by TEXT NOT NULL,
        at INTEGER NOT NULL,
        undone_at INTEGER,
        undone_by TEXT
    );
    CREATE INDEX day_approvals_station ON day_approvals (station, day);
    "#,
    // 6: where the alert engine stands in the stream of committed observations (one row), so
    // the engine that starts or takes over judges what was committed after it (docs/alerts.md).
    r#"
    CREATE TABLE alert_engine_position (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_id INTEGER NOT NULL,
        revised_after INTEGER NOT NULL,
        saved_at INTEGER NOT NULL
    );
    "#,
];

pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    let current: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(MIGRATIONS.len())
}

pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The optional index of observations by result (issue 12, `[storage] result_index`).
/// `$filter=result gt 99.5&$count=true` is a scan of every observation without it; the compiled
/// filter compares `e.result` bare (sargable), so with it the count is one range of a covering
/// index. It costs every insert a second B-tree entry in result order (random, unlike the
/// (datastream, time) key): an index, not a migration, so that a deployment can trade it back
/// and switching is a restart (building it on 10⁷ observations takes seconds, logged).
pub fn ensure_result_index(conn: &Connection, wanted: bool) -> rusqlite::Result<()> {
    let present: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'observations_result')",
        [],
        |r| r.get(0),
    )?;
    match (wanted, present) {
        (true, false) => {
            tracing::info!("building index observations_result ([storage] result_index = true)");
            conn.execute_batch("CREATE INDEX observations_result ON observations (result)")?;
            tracing::info!("index observations_result built");
        }
        (false, true) => {
            tracing::info!("dropping index observations_result ([storage] result_index = false)");
            conn.execute_batch("DROP INDEX observations_result")?;
        }
        _ => {}
    }
    Ok(())
}
