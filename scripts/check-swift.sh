#!/usr/bin/env bash
# The Swift (iOS) side, as far as Linux can check it (no Swift compiler here):
#   1. builds twostep-ffi (debug: libtwostep_ffi.so + libtwostep_ffi.a) and generates the
#      Swift bindings + C header + module map with the pinned uniffi-bindgen;
#   2. syntax-checks the generated Swift and every hand-written Swift file under ios/
#      (Package.swift, Sources, Tests) with the tree-sitter Swift grammar;
#   3. compiles ios/scripts/header-check.c against the generated header with gcc, links it
#      with the static library and runs it (one real call through the C ABI).
# Where a Swift compiler exists, scripts/test-swift.sh runs `swift test` instead (it falls back
# to this script without one); scripts/tests/test_ios_release.py checks the release manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tool-versions.sh
[ -x "$TOOLS_VENV/bin/python" ] || scripts/ci-install.sh

TARGET="${CARGO_TARGET_DIR:-target}"
OUT="$TARGET/swift"

echo "== check-swift: cargo build -p twostep-ffi"
cargo build --locked -q -p twostep-ffi -p uniffi-bindgen
# Copies, so that a concurrent build in the shared target dir cannot mix two versions.
rm -rf "$OUT" && mkdir -p "$OUT/generated" "$OUT/lib"
cp "$TARGET/debug/libtwostep_ffi.so" "$TARGET/debug/libtwostep_ffi.a" "$OUT/lib/"
"$TARGET/debug/uniffi-bindgen" generate --library "$OUT/lib/libtwostep_ffi.so" --language swift --out-dir "$OUT/generated" --no-format

echo "== check-swift: tree-sitter-swift $TREE_SITTER_SWIFT_VERSION syntax check"
mapfile -t FILES < <(find "$OUT/generated" ios -name '*.swift' -not -path 'ios/Sources/TwostepFFI/*' \
  -not -path 'ios/build/*' -not -path 'ios/.build/*' | sort)
"$TOOLS_VENV/bin/python" scripts/swift-syntax-check.py "${FILES[@]}"

echo "== check-swift: C header against the static library (gcc)"
gcc -std=c11 -Wall -Wextra -Werror -D_Nonnull= -D_Nullable= -I "$OUT/generated" ios/scripts/header-check.c \
  "$OUT/lib/libtwostep_ffi.a" -lpthread -ldl -lm -o "$OUT/header-check"
"$OUT/header-check"
