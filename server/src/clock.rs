//! The only place the server reads the wall clock; logic below takes `now` as an argument.

/// Unix seconds.
pub fn now() -> u64 {
    now_ms() / 1000
}

/// Unix milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
