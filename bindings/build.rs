//! Links the shared library with 16 KB segment alignment on ELF targets (Android, Linux).
//!
//! Android 15+ runs on devices with 16 KB memory pages; their loader refuses a library whose
//! `PT_LOAD` segments are aligned to less, and Google Play rejects new uploads that contain one.
//! The flag only changes the cdylib's link (not the staticlib, not the Rust compilation), and
//! costs a few KB of padding. `scripts/check-elf-alignment.py` checks every built library.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "android" | "linux") {
        println!("cargo::rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384");
    }
}
