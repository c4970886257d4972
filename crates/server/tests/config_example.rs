//! The shipped example configuration parses, and says what the defaults are.

use server::config::Config;

#[test]
fn example_config_parses_and_matches_the_defaults() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/qingshui.example.toml"
    );
    let example = Config::load(Some(std::path::Path::new(path))).unwrap();
    let defaults = Config::default();
    assert_eq!(example.imagery, defaults.imagery, "[imagery]");
    assert_eq!(example.mqtt, defaults.mqtt, "[mqtt]");
    assert_eq!(example.reports, defaults.reports, "[reports]");
    assert_eq!(example.http.addr, defaults.http.addr);
    assert_eq!(example.http.max_body_bytes, defaults.http.max_body_bytes);
    let (e, d) = (&example.http, &defaults.http);
    assert_eq!(e.public_url, d.public_url);
    assert_eq!(e.max_anonymous_body_bytes, d.max_anonymous_body_bytes);
    assert_eq!(e.max_response_bytes, d.max_response_bytes);
    assert_eq!(e.max_uri_bytes, d.max_uri_bytes);
    assert_eq!(e.max_header_bytes, d.max_header_bytes);
    assert_eq!(e.header_read_timeout_s, d.header_read_timeout_s);
    assert_eq!(e.idle_timeout_s, d.idle_timeout_s);
    assert_eq!(e.body_timeout_s, d.body_timeout_s);
    assert_eq!(e.write_timeout_s, d.write_timeout_s);
    assert_eq!(e.shutdown_grace_s, d.shutdown_grace_s);
    assert_eq!(e.max_connections, d.max_connections);
    assert_eq!(e.cors_origins, d.cors_origins);
    assert_eq!(example.auth.read_public, defaults.auth.read_public);
    assert_eq!(example.auth.metrics_token, defaults.auth.metrics_token);
    assert_eq!(example.auth.tokens, defaults.auth.tokens);
    assert_eq!(example.storage.data_dir, defaults.storage.data_dir);
    assert_eq!(example.storage.database_url, defaults.storage.database_url);
    assert_eq!(example.storage.synchronous, defaults.storage.synchronous);
    assert_eq!(example.storage.max_batch, defaults.storage.max_batch);
    assert_eq!(example.auth.open, defaults.auth.open);
    assert_eq!(example.sta.max_top, defaults.sta.max_top);
    assert_eq!(example.sta.default_top, defaults.sta.default_top);
    assert_eq!(
        example.sta.query_limits(),
        defaults.sta.query_limits(),
        "[sta] budgets"
    );
    assert_eq!(
        example.sta.max_expanded_rows,
        defaults.sta.max_expanded_rows
    );
    assert_eq!(
        example.storage.statement_timeout_ms,
        defaults.storage.statement_timeout_ms
    );
    assert_eq!(example.storage.readers, defaults.storage.readers);
    assert_eq!(
        example.storage.stop_timeout_ms,
        defaults.storage.stop_timeout_ms
    );
    assert_eq!(
        example.hj212.offline_after_s,
        defaults.hj212.offline_after_s
    );
    assert_eq!(example.hj212.idle_timeout_s, defaults.hj212.idle_timeout_s);
    let (e, d) = (&example.hj212, &defaults.hj212);
    assert_eq!(e.max_connections, d.max_connections);
    assert_eq!(e.max_connections_per_ip, d.max_connections_per_ip);
    assert_eq!(e.per_ip_exempt, d.per_ip_exempt);
    assert_eq!(e.partial_frame_timeout_s, d.partial_frame_timeout_s);
    assert_eq!(e.first_frame_timeout_s, d.first_frame_timeout_s);
    assert_eq!(e.reject_log_lines, d.reject_log_lines);
    assert_eq!(e.reject_log_interval_s, d.reject_log_interval_s);
    assert_eq!(e.auth_backoff_after, d.auth_backoff_after);
    assert_eq!(e.auth_backoff_base_ms, d.auth_backoff_base_ms);
    assert_eq!(e.auth_backoff_max_s, d.auth_backoff_max_s);
    assert_eq!(e.auth_fail_lockout_after, d.auth_fail_lockout_after);
    assert_eq!(e.auth_fail_window_s, d.auth_fail_window_s);
    assert_eq!(e.auth_lockout_s, d.auth_lockout_s);
    let (e, d) = (&example.gb28181, &defaults.gb28181);
    assert_eq!(e.addr, d.addr);
    assert_eq!(e.platform_id, d.platform_id);
    assert_eq!(e.domain, d.domain);
    assert_eq!(e.password, d.password);
    assert_eq!(e.device_passwords, d.device_passwords);
    assert_eq!(e.keepalive_interval_s, d.keepalive_interval_s);
    assert_eq!(e.keepalive_count, d.keepalive_count);
    assert_eq!(e.min_expires_s, d.min_expires_s);
    assert_eq!(e.max_expires_s, d.max_expires_s);
    assert_eq!(e.nonce_ttl_s, d.nonce_ttl_s);
    assert_eq!(e.max_message_bytes, d.max_message_bytes);
    assert_eq!(e.max_tcp_connections, d.max_tcp_connections);
    assert_eq!(e.tcp_idle_timeout_s, d.tcp_idle_timeout_s);
    assert_eq!(e.arm_on_register, d.arm_on_register);
    assert_eq!(e.sweep_interval_ms, d.sweep_interval_ms);
    assert_eq!(e.query_retry_s, d.query_retry_s);
    assert_eq!(e.query_retries, d.query_retries);
    assert_eq!(e.reject_log_lines, d.reject_log_lines);
    assert_eq!(e.reject_log_interval_s, d.reject_log_interval_s);
    assert_eq!(e.station_alert_video_points, d.station_alert_video_points);
    assert_eq!(e.snapshots, d.snapshots);
    assert_eq!(e.snapshot_max_bytes, d.snapshot_max_bytes);
    assert_eq!(e.snapshot_session_s, d.snapshot_session_s);
    assert_eq!(e.snapshot_upload_base, d.snapshot_upload_base);
    assert_eq!(e.media, d.media, "[gb28181.media]");
    // The password never shows in a debug print of the configuration.
    let mut c = defaults.clone();
    c.gb28181.password = server::config::Secret::new("hunter2");
    c.gb28181.media.secret = server::config::Secret::new("zlm-s3cret");
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("zlm-s3cret"));
}

#[test]
fn a_typo_in_the_config_is_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[storage]\ndatadir = \"x\"\n").unwrap();
    let err = Config::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("datadir"), "{err}");
}
