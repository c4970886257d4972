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
    /// `[ingest]`: rules every ingest path (HJ 212, STA HTTP, …) applies before storing.
    pub ingest: IngestConfig,
    /// `[alerts]`: rules, notifications, routing (docs/alerts.md).
    pub alerts: crate::alerts::config::AlertsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    /// Externally visible URL (scheme://host[:port]) used in links; derived from Host if empty.
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes (bulk CreateObservations).
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Bearer tokens allowed to write.
    pub tokens: Vec<String>,
    /// Allow anonymous writes (local demos only).
    pub open: bool,
    /// Allow anonymous reads.
    pub read_public: bool,
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
}

/// `[ingest]`: sanity rules shared by every source.
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
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addr: ([127, 0, 0, 1], 8080).into(),
            public_url: None,
            max_body_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("./data"),
            synchronous: "full".into(),
            readers: 4,
            max_batch: 512,
            statement_timeout_ms: 10_000,
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
        }
    }
}

/// Values given on the command line or in `QINGSHUI_*` variables; `None` keeps the file's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub http: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub open: bool,
    pub tokens: Vec<String>,
    pub network: Option<PathBuf>,
    pub hj212: Option<SocketAddr>,
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
        self
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
