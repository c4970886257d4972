//! The wall clock of the shells. The pure crates take `now` as an argument instead of reading
//! it, so that their results are a function of their inputs; the store and the server read it
//! here and pass it in.

/// Microseconds since the Unix epoch, UTC.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Milliseconds since the Unix epoch, UTC.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
