//! Configuration: a TOML file, overridden by `QINGSHUI_*` environment variables and command-line
//! flags (the binary merges flags and environment through clap, then calls [`Config::overlay`]).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub sta: StaConfig,
    pub network: NetworkConfig,
    pub hj212: Hj212Config,
    /// `[gb28181]`: the GB/T 28181 platform for the video points (docs/video.md).
    pub gb28181: Gb28181Config,
    /// `[ingest]`: rules every ingest path (HJ 212, STA HTTP, …) applies before storing.
    pub ingest: IngestConfig,
    /// `[alerts]`: rules, notifications, routing (docs/alerts.md).
    pub alerts: crate::alerts::config::AlertsConfig,
    /// `[imagery]`: satellite and drone scenes (docs/imagery.md).
    pub imagery: crate::sources::imagery::ImageryConfig,
    /// `[mqtt]`: the SensorThings MQTT extension (docs/mqtt.md). Disabled while `listen` is absent.
    pub mqtt: MqttConfig,
    /// `[reports]`: water-quality reports in PDF and Excel (docs/reports.md).
    pub reports: ReportsConfig,
}

/// `[reports]`: the monthly/quarterly/annual bulletins (docs/reports.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// Font files the PDF is typeset with (TTF/OTF/TTC), the CJK font first. Missing files are
    /// skipped; a PDF request with none found is an error naming them. Never downloaded.
    pub font_paths: Vec<PathBuf>,
    /// Day of the month (local time) from which the previous month's network report is made and
    /// stored under `<data_dir>/reports/`; 0 turns the schedule off.
    pub schedule_day: u32,
    /// How often the schedule looks for a due report, seconds.
    pub schedule_check_s: u64,
    /// Formats the schedule writes (`xlsx`, `pdf`; pdf only in a build with the `pdf` feature).
    pub schedule_formats: Vec<String>,
    /// Language of scheduled reports and their mail (`zh` or `en`).
    pub schedule_lang: String,
    /// Recipients of scheduled reports (sent through `[alerts.email]`'s SMTP server); empty: stored only.
    pub email_to: Vec<String>,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            font_paths: [
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
                "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
            ]
            .iter()
            .map(PathBuf::from)
            .collect(),
            schedule_day: 0,
            schedule_check_s: 3600,
            schedule_formats: vec!["xlsx".into(), "pdf".into()],
            schedule_lang: "zh".into(),
            email_to: Vec::new(),
        }
    }
}

/// `[mqtt]`: the MQTT 3.1.1/5 listener — create observations by PUBLISH, subscribe to STA topics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttConfig {
    /// TCP listen address; unset: no MQTT.
    pub listen: Option<SocketAddr>,
    /// MQTT over WebSocket (browsers) on its own address; unset: none. Needs `listen`.
    pub websocket: Option<SocketAddr>,
    /// The endpoint `serverSettings` advertises (`mqtt://host:port`); unset: the bound address.
    pub public_url: Option<String>,
    /// A new subscriber to `v1.1/Datastreams(id)/Observations` gets the datastream's latest
    /// stored observation at once, as a retained message (beyond the standard).
    pub retain_latest: bool,
    /// Messages waiting for one subscriber; when full, further ones are dropped and counted.
    pub queue: usize,
    /// Publishes of one connection being stored at once; the socket is not read past this.
    pub max_inflight: usize,
    /// Largest MQTT packet accepted, in bytes; a larger one closes the connection.
    pub max_packet_bytes: usize,
    /// Connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// A connection must send CONNECT within this long.
    pub connect_timeout_s: u64,
    /// A write to a client that does not read for this long closes its connection (a stuck
    /// subscriber must not hold its session, or the server's stop, for ever).
    pub write_timeout_s: u64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            listen: None,
            websocket: None,
            public_url: None,
            retain_latest: true,
            queue: 1000,
            max_inflight: 64,
            max_packet_bytes: 262_144,
            max_connections: 1024,
            connect_timeout_s: 10,
            write_timeout_s: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    /// Externally visible URL (scheme://host[:port]) used in selfLinks, nextLinks and Location.
    /// Unset: `http://` + the bound listen address. Never taken from the client's Host header,
    /// which anyone can set.
    pub public_url: Option<String>,
    /// Largest accepted request body of an authorised request, in bytes (bulk CreateObservations).
    pub max_body_bytes: usize,
    /// Largest body of a request without a valid token (`--open` writes); a stranger cannot make
    /// the server buffer 64 MiB per connection.
    pub max_anonymous_body_bytes: usize,
    /// Largest serialised JSON response; a bigger one is refused with a 400 naming this limit.
    pub max_response_bytes: usize,
    /// Longest request target (path + query), in bytes; longer ones get a JSON 414.
    pub max_uri_bytes: usize,
    /// Largest sum of header names and values, in bytes; more gets a JSON 431.
    pub max_header_bytes: usize,
    /// A connection must deliver a complete request head this many seconds after it opened (or
    /// after its first byte of a later request); silent or trickling clients are closed.
    pub header_read_timeout_s: u64,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout_s: u64,
    /// A request body must arrive completely within this many seconds (408 otherwise).
    pub body_timeout_s: u64,
    /// A response write that makes no progress for this long closes the connection and frees the
    /// response (a client that stops reading cannot hold memory).
    pub write_timeout_s: u64,
    /// After the stop signal, connections still open this long are dropped.
    pub shutdown_grace_s: u64,
    /// Most HTTP connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Origins (`https://host[:port]`) whose web pages may send writes (POST, PATCH, PUT, DELETE)
    /// cross-origin. Empty: none; reads are allowed from any origin.
    pub cors_origins: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// `postgres://user:password@host:port/db`: run on PostgreSQL (docs/postgres.md) instead of
    /// the embedded SQLite file in `data_dir`. Empty: embedded. Never logged with its password.
    pub database_url: String,
    /// `full` (durable across power loss, the default) or `normal` (across process crashes).
    pub synchronous: String,
    pub readers: usize,
    pub max_batch: usize,
    /// A read (one STA GET, latest values, a series) running longer than this is interrupted and
    /// answered 503 naming this setting; 0 disables the timeout.
    pub statement_timeout_ms: u64,
    /// On SIGTERM/Ctrl-C reads are interrupted at once and writes flushed; a process still
    /// running this long after the signal exits anyway (acknowledged writes are already durable).
    pub stop_timeout_ms: u64,
    /// Index observations by result: `$filter=result gt x&$count=true` becomes an index range
    /// instead of a scan of every observation, at a cost to every insert (BENCHMARKS.md, issues
    /// 12 and 16). Changing it builds or drops the index at the next start. Unset: on for the
    /// embedded store, off on PostgreSQL ([`StorageConfig::result_index_for`]).
    pub result_index: Option<bool>,
}

impl StorageConfig {
    /// Whether the observations-by-result index is kept: as set, else on for the embedded
    /// store and off on PostgreSQL, where it costs durable ingest 12–26 % and the ≥ 0.5 ratio to
    /// the raw COPY (BENCHMARKS.md "The result index on PostgreSQL").
    pub fn result_index_for(&self, postgres: bool) -> bool {
        self.result_index.unwrap_or(!postgres)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Bearer tokens allowed to write.
    pub tokens: Vec<String>,
    /// Allow anonymous writes (local demos only).
    pub open: bool,
    /// Allow anonymous reads (also of `/metrics` and `/api/v1/health`).
    pub read_public: bool,
    /// A token that may read `/metrics` and `/api/v1/health` (only) when reads are closed, so a
    /// Prometheus scraper need not hold a write token.
    pub metrics_token: Option<String>,
    /// A dashboard login lasts this long.
    pub session_ttl_s: u64,
    /// Mark the session cookie `Secure` (set it when the dashboard is served over HTTPS).
    pub cookie_secure: bool,
    /// Failed logins for one name or from one address before further attempts are refused.
    pub login_max_failures: u32,
    /// How long those failures count, and the refusal lasts.
    pub login_lockout_s: u64,
    /// Shortest accepted password.
    pub min_password_len: usize,
    /// Personal tokens expire after at most this many days.
    pub token_max_days: u32,
    /// Live tokens and sessions are reloaded from the store this often (changes made by the CLI
    /// or another node take effect within it).
    pub refresh_s: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaConfig {
    pub default_top: u64,
    pub max_top: u64,
    /// Deepest `$expand` (path segments and nested `$expand` options both count).
    pub max_expand_depth: usize,
    /// Most navigation steps in one `$filter`/`$orderby` path (`Datastream/Thing/name` is 2).
    pub max_filter_nav_depth: usize,
    /// Most nodes (operators, operands, calls) in one `$filter`.
    pub max_filter_nodes: usize,
    /// Most vertices in one geometry literal of `$filter`.
    pub max_geometry_vertices: usize,
    /// Most entities `$expand` may embed in one response, over all levels.
    pub max_expanded_rows: u64,
    /// Most entities one filtered DELETE (`DELETE /v1.1/Observations?$filter=…`) may remove;
    /// more is refused (400) and deletes nothing, so one request cannot hold the writer for long.
    pub max_delete_rows: u64,
    /// Most requests in one `$batch`; more is refused (400) before any runs.
    pub max_batch_requests: usize,
}

impl StaConfig {
    /// The parse-time budgets for `sta::Query::parse_with`.
    pub fn query_limits(&self) -> sta::QueryLimits {
        sta::QueryLimits {
            max_expand_depth: self.max_expand_depth,
            max_filter_nav_depth: self.max_filter_nav_depth,
            max_filter_nodes: self.max_filter_nodes,
            max_geometry_vertices: self.max_geometry_vertices,
        }
    }
}

/// `[network]`: the monitoring-network file loaded into the store at start (docs/network.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    pub file: Option<PathBuf>,
}

/// `[hj212]`: the HJ 212 TCP listener (docs/hj212.md). Disabled while `addr` is absent.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hj212Config {
    pub addr: Option<SocketAddr>,
    /// A station is offline when no valid frame arrived for this long (reference §12: 2 × the
    /// 300 s real-time interval).
    pub offline_after_s: u64,
    /// Close the connection after a frame with an unknown MN or a wrong PW.
    pub close_on_auth_failure: bool,
    /// Close a connection silent for this long (reference §12: at least 15 min).
    pub idle_timeout_s: u64,
    /// Most HJ 212 connections open at once; more are closed at accept.
    pub max_connections: usize,
    /// Most connections open at once from one IP address (a data logger needs one or two).
    pub max_connections_per_ip: usize,
    /// Addresses without the per-IP cap: loopback by default, where the simulator, benchmarks
    /// and a local TCP proxy connect from (stations on the network never do).
    pub per_ip_exempt: Vec<std::net::IpAddr>,
    /// Close a connection that holds an incomplete frame for this long.
    pub partial_frame_timeout_s: u64,
    /// Close a connection that sent no valid, authenticated frame within this long of opening.
    pub first_frame_timeout_s: u64,
    /// Rejection log lines per connection per `reject_log_interval_s`; the rest is summed up.
    pub reject_log_lines: u32,
    pub reject_log_interval_s: u64,
    /// Credential failures from one IP before its frames are ignored for a growing delay
    /// (0: never).
    pub auth_backoff_after: u32,
    /// The first backoff delay; it doubles with every further failure.
    pub auth_backoff_base_ms: u64,
    /// The longest backoff delay.
    pub auth_backoff_max_s: u64,
    /// Failures for one MN from one IP within `auth_fail_window_s` that lock that pair (0: never).
    pub auth_fail_lockout_after: u32,
    /// Failures older than this are forgotten.
    pub auth_fail_window_s: u64,
    /// How long a locked (MN, IP) pair is ignored, even with the right PW.
    pub auth_lockout_s: u64,
}

/// `[ingest]`: sanity rules shared by every source.
/// A password from the configuration: never printed (`Debug` shows `***`), compared by the
/// digest code only.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it (digest verification).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// `[gb28181]`: the GB/T 28181 platform (SIP registrar) for the video points (docs/video.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gb28181Config {
    /// UDP and TCP on this one address; `None`: no listener (video points stay unknown).
    pub addr: Option<SocketAddr>,
    /// The platform's own 20-digit SIP ID (type 200).
    pub platform_id: String,
    /// SIP domain and digest realm (conventionally the first 10 digits of the platform ID).
    pub domain: String,
    /// Registration password of every device; empty: devices without their own are refused.
    pub password: Secret,
    /// Per-device passwords by 20-digit device ID, overriding `password`.
    pub device_passwords: std::collections::BTreeMap<String, Secret>,
    /// Platform side of the offline rule: offline after min(expires, interval × count) silent.
    pub keepalive_interval_s: u32,
    pub keepalive_count: u32,
    /// Bounds on the Expires a device asks for (seconds).
    pub min_expires_s: u32,
    pub max_expires_s: u32,
    /// A challenge nonce is accepted for this long.
    pub nonce_ttl_s: u64,
    /// Largest SIP message accepted (UDP datagram or TCP message).
    pub max_message_bytes: usize,
    /// TCP connections open at once; a connection silent this long is closed.
    pub max_tcp_connections: usize,
    pub tcp_idle_timeout_s: u64,
    /// Send SetGuard after each new registration (many IPCs send no alarms unarmed).
    pub arm_on_register: bool,
    /// How often online/offline transitions are checked (and unanswered queries re-asked).
    pub sweep_interval_ms: u64,
    /// A Catalog/DeviceInfo/DeviceStatus query unanswered this long (s) is sent again …
    pub query_retry_s: u32,
    /// … at most this many times per registration.
    pub query_retries: u32,
    /// Rejection log lines per interval (the rest summed up in one line).
    pub reject_log_lines: u32,
    pub reject_log_interval_s: u64,
    /// How many nearest video points a station's alert links in its details (0: none).
    pub station_alert_video_points: usize,
    /// Ask for a snapshot on each intrusion alarm (2022 SnapShotConfig).
    pub snapshots: bool,
    /// Largest snapshot upload accepted, and how long an upload session stays open.
    pub snapshot_max_bytes: usize,
    pub snapshot_session_s: u64,
    /// Base URL cameras upload to; unset: `[http] public_url` (or the bound address) +
    /// `/api/v1/video/snapshots`.
    pub snapshot_upload_base: Option<String>,
    /// `[gb28181.media]`: the ZLMediaKit-compatible media server live view goes through.
    pub media: MediaConfig,
}

/// `[gb28181.media]`: a ZLMediaKit-compatible media server (its HTTP API). Without `api_base`
/// there is no live view, and the play endpoint says so (503).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// `http://host:port` of the media server's HTTP API (`/index/api/…`); unset: no live view.
    pub api_base: Option<String>,
    /// The API's `secret` (a secret: never logged, `Debug` prints `***`).
    pub secret: Secret,
    /// The address cameras send RTP to (the SDP's `c=`); unset: the host of `api_base`.
    pub rtp_ip: Option<String>,
    /// Base of the play URLs handed to browsers; unset: `api_base` (ZLMediaKit serves both).
    pub stream_base: Option<String>,
    /// Longest wait for the media server's API and for the camera's answer to INVITE.
    pub timeout_s: u64,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            api_base: None,
            secret: Secret::default(),
            rtp_ip: None,
            stream_base: None,
            timeout_s: 10,
        }
    }
}

impl Default for Gb28181Config {
    fn default() -> Self {
        Gb28181Config {
            addr: None,
            platform_id: "52018100432002000001".into(),
            domain: "5201810043".into(),
            password: Secret::default(),
            device_passwords: Default::default(),
            keepalive_interval_s: 60,
            keepalive_count: 3,
            min_expires_s: 60,
            max_expires_s: 86_400,
            nonce_ttl_s: 300,
            max_message_bytes: 65_535,
            max_tcp_connections: 1024,
            tcp_idle_timeout_s: 600,
            arm_on_register: true,
            sweep_interval_ms: 1000,
            query_retry_s: 5,
            query_retries: 3,
            reject_log_lines: 5,
            reject_log_interval_s: 10,
            station_alert_video_points: 3,
            snapshots: true,
            snapshot_max_bytes: 1024 * 1024,
            snapshot_session_s: 120,
            snapshot_upload_base: None,
            media: MediaConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// A phenomenonTime later than now + this many seconds is refused on every ingest path: one
    /// wrong clock must not pin a latest value or move the alert clock. The default allows the
    /// 10 min of station clock drift the HJ 212 reference tolerates (`clock_tolerance_s`).
    pub clock_tolerance_s: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            clock_tolerance_s: 600,
        }
    }
}

impl Default for Hj212Config {
    fn default() -> Self {
        Hj212Config {
            addr: None,
            offline_after_s: 600,
            close_on_auth_failure: true,
            idle_timeout_s: 900,
            max_connections: 1024,
            max_connections_per_ip: 32,
            per_ip_exempt: vec![
                std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::Ipv6Addr::LOCALHOST.into(),
            ],
            partial_frame_timeout_s: 30,
            first_frame_timeout_s: 60,
            reject_log_lines: 5,
            reject_log_interval_s: 10,
            auth_backoff_after: 3,
            auth_backoff_base_ms: 1000,
            auth_backoff_max_s: 300,
            auth_fail_lockout_after: 10,
            auth_fail_window_s: 900,
            auth_lockout_s: 1800,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addr: ([127, 0, 0, 1], 8080).into(),
            public_url: None,
            max_body_bytes: 64 * 1024 * 1024,
            max_anonymous_body_bytes: 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            header_read_timeout_s: 10,
            idle_timeout_s: 60,
            body_timeout_s: 30,
            write_timeout_s: 30,
            shutdown_grace_s: 10,
            max_connections: 1024,
            cors_origins: Vec::new(),
        }
    }
}

// By hand: the database URL may hold a password, and configurations get printed.
impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &store_postgres::redact_url(&self.database_url),
            )
            .field("synchronous", &self.synchronous)
            .field("readers", &self.readers)
            .field("max_batch", &self.max_batch)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field("stop_timeout_ms", &self.stop_timeout_ms)
            .field("result_index", &self.result_index)
            .finish()
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            synchronous: "full".into(),
            readers: 4,
            max_batch: 512,
            statement_timeout_ms: 10_000,
            result_index: None,
            stop_timeout_ms: 8_000,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            tokens: Vec::new(),
            open: false,
            read_public: true,
            metrics_token: None,
            session_ttl_s: 12 * 3600,
            cookie_secure: false,
            login_max_failures: 5,
            login_lockout_s: 900,
            min_password_len: 8,
            token_max_days: 365,
            refresh_s: 10,
        }
    }
}

impl Default for StaConfig {
    fn default() -> Self {
        let limits = sta::QueryLimits::default();
        StaConfig {
            default_top: 100,
            max_top: 10_000,
            max_expand_depth: limits.max_expand_depth,
            max_filter_nav_depth: limits.max_filter_nav_depth,
            max_filter_nodes: limits.max_filter_nodes,
            max_geometry_vertices: limits.max_geometry_vertices,
            max_expanded_rows: 100_000,
            max_delete_rows: 200_000,
            max_batch_requests: 1000,
        }
    }
}

/// Values given on the command line or in `QINGSHUI_*` variables; `None` keeps the file's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub http: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub open: bool,
    pub tokens: Vec<String>,
    pub network: Option<PathBuf>,
    pub hj212: Option<SocketAddr>,
    pub gb28181: Option<SocketAddr>,
    pub mqtt: Option<SocketAddr>,
}

impl Config {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))
    }

    pub fn overlay(mut self, o: Overrides) -> Config {
        if let Some(a) = o.http {
            self.http.addr = a;
        }
        if let Some(d) = o.data_dir {
            self.storage.data_dir = d;
        }
        if let Some(u) = o.database_url {
            self.storage.database_url = u;
        }
        if o.open {
            self.auth.open = true;
        }
        self.auth.tokens.extend(o.tokens);
        if let Some(f) = o.network {
            self.network.file = Some(f);
        }
        if let Some(a) = o.hj212 {
            self.hj212.addr = Some(a);
        }
        if let Some(a) = o.gb28181 {
            self.gb28181.addr = Some(a);
        }
        if let Some(a) = o.mqtt {
            self.mqtt.listen = Some(a);
        }
        self
    }

    /// The PostgreSQL URL when the configuration asks for that backend.
    pub fn postgres_url(&self) -> Option<&str> {
        let u = self.storage.database_url.trim();
        (!u.is_empty()).then_some(u)
    }

    /// Where the store is, for people: the SQLite file or the PostgreSQL URL without password.
    pub fn store_description(&self) -> String {
        match self.postgres_url() {
            Some(u) => store_postgres::redact_url(u),
            None => self.database_path().display().to_string(),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.storage.data_dir.join("qingshui.sqlite")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_overrides() {
        let c: Config =
            toml::from_str("[http]\naddr = \"0.0.0.0:9000\"\n[auth]\ntokens = [\"a\"]\n").unwrap();
        assert_eq!(c.http.addr.port(), 9000);
        assert_eq!(c.storage.data_dir, PathBuf::from("./data"));
        let c = c.overlay(Overrides {
            data_dir: Some("/tmp/x".into()),
            tokens: vec!["b".into()],
            ..Default::default()
        });
        assert_eq!(c.database_path(), PathBuf::from("/tmp/x/qingshui.sqlite"));
        assert_eq!(c.auth.tokens, ["a", "b"]);
        assert!(
            toml::from_str::<Config>("[http]\nadr = 1\n").is_err(),
            "unknown keys are rejected"
        );
    }
}
