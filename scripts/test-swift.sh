#!/usr/bin/env bash
# The Swift package, as far as this machine can test it:
#   - with `swift` on the PATH (macOS, or Linux with a Swift toolchain): builds the Rust library
#     and the server (debug), generates the Swift bindings from that library, and runs
#     `swift test` in ios/ — the conveniences tests and the iOS-user scenario against the real
#     twostep-server on 127.0.0.1. macOS builds the XCFramework (ios/scripts/build-xcframework.sh,
#     dev profile); Linux has no XCFrameworks, so the package's TwostepFFIC becomes a system
#     library: the generated header with a module map that links libtwostep_ffi.a, laid out in
#     ios/build/linux/TwostepFFIC (ios/Package.swift picks it with `#if os(Linux)`);
#   - without it: scripts/check-swift.sh (the tree-sitter syntax check of every Swift file and
#     the C header compiled and run against the static library), and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
  echo "== test-swift: no Swift toolchain on the PATH: 'swift test' skipped; running the syntax and C header checks (scripts/check-swift.sh) instead"
  exec scripts/check-swift.sh
fi

TARGET="${CARGO_TARGET_DIR:-target}"
echo "== test-swift: $(swift --version 2>&1 | head -1)"
echo "== test-swift: cargo build -p twostep-ffi -p twostep-server -p uniffi-bindgen"
cargo build --locked -q -p twostep-ffi -p twostep-server -p uniffi-bindgen
LINK=()
if [ "$(uname -s)" = Darwin ]; then
  PROFILE=dev ios/scripts/build-xcframework.sh
else
  OUT="$TARGET/swift-linux"
  C_MODULE=ios/build/linux/TwostepFFIC
  rm -rf "$OUT" "$C_MODULE" && mkdir -p "$OUT/generated" "$OUT/lib" "$C_MODULE"
  cp "$TARGET/debug/libtwostep_ffi.so" "$OUT/generated/"
  cp "$TARGET/debug/libtwostep_ffi.a" "$OUT/lib/"   # only the static library: linked statically
  "$TARGET/debug/uniffi-bindgen" generate --library "$OUT/generated/libtwostep_ffi.so" --language swift \
    --out-dir "$OUT/generated" --no-format
  cp "$OUT/generated/TwostepFFIC.h" "$C_MODULE/"
  cat > "$C_MODULE/module.modulemap" <<'EOF'
module TwostepFFIC [system] {
    header "TwostepFFIC.h"
    link "twostep_ffi"
    link "pthread"
    link "dl"
    link "m"
    link "gcc_s"
    export *
}
EOF
  cp "$OUT/generated/TwostepFFI.swift" ios/Sources/TwostepFFI/TwostepFFI.swift
  LINK=(-Xlinker "-L$(cd "$OUT/lib" && pwd)")
fi

TWOSTEP_SERVER="$(cd "$TARGET/debug" && pwd)/twostep-server"
export TWOSTEP_SERVER
echo "== test-swift: swift test (server $TWOSTEP_SERVER)"
cd ios
exec swift test "${LINK[@]}"
