//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libtwostep_ffi.so --language
//! kotlin --out-dir DIR`
//!
//! Pinned to the uniffi version of `twostep-ffi`: bindings and library must come from the
//! same uniffi release, so the generator lives in the workspace instead of being installed.

fn main() {
    uniffi::uniffi_bindgen_main()
}
