#!/usr/bin/env bash
# The mobile packaging, as far as a machine without Gradle, the Android SDK or Xcode can check
# it (Python standard library tests in scripts/tests):
#   - scripts/check-elf-alignment.py: the host-built libtwostep_ffi.so passes the 16 KB check,
#     libraries gcc links at 4 KB and Debian's JNA 5.13 libjnidispatch.so fail it, inside
#     directories and AARs too, ELF32 and big-endian headers included;
#   - scripts/split-debug-symbols.py: the stripped library and its symbols, same build ID, a
#     crash address symbolicated with addr2line;
#   - android/: the version catalog parses and is the one place versions are written, AGP,
#     Gradle, NDK and Kotlin fit Google's tables, R8 rules, publication, profiles;
#   - ios/scripts/release-package.sh: zip, checksum and release Package.swift (parsed by the
#     tree-sitter Swift grammar) from a stand-in XCFramework.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tool-versions.sh
[ -x "$TOOLS_VENV/bin/python" ] || scripts/ci-install.sh

TARGET="${CARGO_TARGET_DIR:-target}"
OUT="$TARGET/packaging"
echo "== test-packaging: cargo build -p twostep-ffi"
cargo build --locked -q -p twostep-ffi
# A copy: the shared target dir may be rebuilt by another build meanwhile.
rm -rf "$OUT" && mkdir -p "$OUT"
cp "$TARGET/debug/libtwostep_ffi.so" "$OUT/"

export TWOSTEP_FFI_LIBRARY="$OUT/libtwostep_ffi.so"
export TWOSTEP_SWIFT_SYNTAX_PYTHON="$TOOLS_VENV/bin/python"
echo "== test-packaging: python3 -m unittest (scripts/tests)"
python3 -m unittest discover --start-directory scripts/tests --top-level-directory scripts/tests -v 2>&1
