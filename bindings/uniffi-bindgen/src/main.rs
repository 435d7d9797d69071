//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libtwostep_ffi.so --language
//! kotlin --out-dir DIR`
//!
//! Pinned to the uniffi version of `twostep-ffi`: bindings and library must come from the
//! same uniffi release, so the generator lives in the workspace instead of being installed.
//! After uniffi has generated the bindings, `kotlin_messages` gives the Kotlin exceptions a
//! readable `message` and `swift_messages` the Swift errors a readable `localizedDescription`
//! (see there).

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod kotlin_messages;
mod rewrite;
mod swift_messages;

use std::path::PathBuf;

fn main() {
    uniffi::uniffi_bindgen_main();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("generate") {
        return;
    }
    if let Some(out_dir) = option(&args, "--out-dir", "-o") {
        let out_dir = PathBuf::from(out_dir);
        if let Err(e) = kotlin_messages::patch_dir(&out_dir) {
            eprintln!("uniffi-bindgen: readable Kotlin exception messages: {e}");
            std::process::exit(1);
        }
        if let Err(e) = swift_messages::patch_dir(&out_dir) {
            eprintln!("uniffi-bindgen: readable Swift error descriptions: {e}");
            std::process::exit(1);
        }
    }
}

/// The value of `--long VALUE`, `--long=VALUE` or `-s VALUE`.
fn option<'a>(args: &'a [String], long: &str, short: &str) -> Option<&'a str> {
    args.iter().enumerate().find_map(|(i, arg)| {
        if arg == long || arg == short {
            args.get(i + 1).map(String::as_str)
        } else {
            arg.strip_prefix(long).and_then(|rest| rest.strip_prefix('='))
        }
    })
}
