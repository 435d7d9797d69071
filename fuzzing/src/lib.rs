//! Fuzz targets for every parser of twostep that faces untrusted input, and the engine
//! that runs them on stable Rust.
//!
//! | target | input | code under test |
//! |---|---|---|
//! | `otpauth_uri` | a URI | `twostep_otp::uri::parse`, then codes, URI and storage round trips |
//! | `import_google` | a text file | Google Authenticator migration URIs, whole file and QR by QR |
//! | `import_google_payload` | protobuf bytes | the `MigrationPayload` decoder (wrapped into a URI) |
//! | `import_aegis`, `import_twofas`, `import_uri_list` | a file | the other import formats |
//! | `export_header` | a file | the encrypted export's header checks (before Argon2id) |
//! | `export_payload` | plaintext | the decrypted export's reader |
//! | `export_decrypt` | a file | the whole reader, Argon2id included (slow) |
//! | `request_bodies` | type byte + body | the server's JSON extractor for each request type |
//! | `server_routes` | route byte + flags + body | the JSON API: the real router, store and services, in-process |
//! | `web_forms` | route byte + flags + form | the web pages' forms and queries, with cookies and a CSRF token |
//! | `stored_hash` | a PHC string | the server's stored password hash parser |
//! | `core_answers` | a script | the core's HTTP client and state machine against a hostile server |
//!
//! Two ways to run them:
//! - **Bounded** (stable, part of `cargo test`): [`runner::run_bounded`] replays the seed corpus
//!   (`seeds/<target>/`) and past findings (`regressions/<target>/`), then a fixed number of
//!   deterministic mutations ([`mutate`]); `tests/bounded.rs` has one test per target.
//! - **Long** (nightly, coverage-guided): `fuzz/` holds one libFuzzer binary per target, each
//!   calling the function here; `scripts/fuzz-long.sh` runs them. See `docs/RELIABILITY.md`.

pub mod input;
pub mod mutate;
pub mod runner;
pub mod targets;

/// A fuzz target and how to run it.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Its name: the libFuzzer binary, the seed and regression directories.
    pub name: &'static str,
    /// The function under test.
    pub run: fn(&[u8]),
    /// A libFuzzer dictionary under `dict/`, shared with the bounded runs.
    pub dict: Option<&'static str>,
    /// Longest input generated.
    pub max_len: usize,
    /// Mutated inputs in a bounded run (a few seconds each in a debug build).
    pub cases: usize,
}

const fn target(name: &'static str, run: fn(&[u8]), dict: &'static str, cases: usize) -> Target {
    Target { name, run, dict: Some(dict), max_len: 64 * 1024, cases }
}

/// Every target.
pub const TARGETS: &[Target] = &[
    target("otpauth_uri", targets::otp::otpauth_uri, "otpauth.dict", 3000),
    target("import_google", targets::otp::import_google, "otpauth.dict", 1500),
    target("import_google_payload", targets::otp::import_google_payload, "protobuf.dict", 3000),
    target("import_aegis", targets::otp::import_aegis, "json.dict", 1500),
    target("import_twofas", targets::otp::import_twofas, "json.dict", 1500),
    target("import_uri_list", targets::otp::import_uri_list, "otpauth.dict", 1500),
    target("export_header", targets::otp::export_header, "json.dict", 3000),
    target("export_payload", targets::otp::export_payload, "json.dict", 1500),
    target("export_decrypt", targets::otp::export_decrypt, "json.dict", 12),
    target("request_bodies", targets::bodies::request_bodies, "json.dict", 4000),
    target("server_routes", targets::server::server_routes, "json.dict", 1500),
    target("web_forms", targets::web::web_forms, "form.dict", 600),
    target("stored_hash", targets::server::stored_hash, "phc.dict", 4000),
    target("core_answers", targets::core::core_answers, "json.dict", 300),
];

/// A target by name.
pub fn find(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
