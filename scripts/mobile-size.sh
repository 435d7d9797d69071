#!/usr/bin/env bash
# The size of the mobile library as shipped: twostep-ffi with the `mobile` profile
# (opt-level z, fat LTO, one codegen unit, line tables, panic = unwind), built as cdylib +
# staticlib only, then split like the Android release build does
# (scripts/split-debug-symbols.py: the stripped library ships, the symbols are published
# separately). (`cargo build` would also build the rlib of `crate-type = ["lib", ...]` in the
# same rustc run, and then the cdylib comes out about a third larger: build mobile libraries
# with `cargo rustc --crate-type`, as android/build.gradle.kts and
# ios/scripts/build-xcframework.sh do.)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
cargo rustc --locked -q --profile mobile -p twostep-ffi --lib --crate-type cdylib,staticlib
built="$TARGET/mobile/libtwostep_ffi.so"
so="$TARGET/mobile/shipped/libtwostep_ffi.so"
python3 scripts/split-debug-symbols.py "$built" "$so" "$so.dbg"
python3 scripts/check-elf-alignment.py "$so"
echo "libtwostep_ffi.so (mobile, $(uname -m)): $(stat -c %s "$so") bytes shipped, $(stat -c %s "$so.dbg") bytes of symbols; sections:"
size -A "$so" | sort -k2 -n | tail -6
