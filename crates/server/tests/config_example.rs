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
    assert_eq!(example.http.addr, defaults.http.addr);
    assert_eq!(example.http.max_body_bytes, defaults.http.max_body_bytes);
    assert_eq!(example.storage.data_dir, defaults.storage.data_dir);
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
}

#[test]
fn a_typo_in_the_config_is_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[storage]\ndatadir = \"x\"\n").unwrap();
    let err = Config::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("datadir"), "{err}");
}
