#!/usr/bin/env bash
# Builds the iOS library on macOS (Xcode + rustup): the Rust static library for devices, the
# simulators and macOS (for `swift test`), the XCFramework ios/build/TwostepFFIC.xcframework,
# and the Swift bindings ios/Sources/TwostepFFI/TwostepFFI.swift, all from one build.
#
#   ios/scripts/build-xcframework.sh            # --profile mobile (size-optimized, stripped)
#   PROFILE=dev ios/scripts/build-xcframework.sh  # faster, for local work
#
# Then: `cd ios && swift build` (or add the package to an Xcode project), and
# `cargo build -p twostep-server && cd ios && swift test` for the XCTest scenario.
set -euo pipefail
cd "$(dirname "$0")/../.."            # repository root
[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }

PROFILE="${PROFILE:-mobile}"
OUT_DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BUILD=ios/build
DEVICE=aarch64-apple-ios
SIMULATORS=(aarch64-apple-ios-sim x86_64-apple-ios)
MACS=(aarch64-apple-darwin x86_64-apple-darwin)

rustup target add "$DEVICE" "${SIMULATORS[@]}" "${MACS[@]}"
export IPHONEOS_DEPLOYMENT_TARGET=15.0 MACOSX_DEPLOYMENT_TARGET=12.0
for target in "$DEVICE" "${SIMULATORS[@]}" "${MACS[@]}"; do
  # Only the staticlib: with the rlib of `crate-type = ["lib", ...]` in the same run, LTO
  # leaves the library about a third larger.
  cargo rustc --locked -p twostep-ffi --lib --crate-type staticlib --profile "$PROFILE" --target "$target"
done
lib() { echo "$TARGET_DIR/$1/$OUT_DIR/libtwostep_ffi.a"; }

rm -rf "$BUILD"
mkdir -p "$BUILD/headers" "$BUILD/ios-simulator" "$BUILD/macos" "$BUILD/generated"

# Bindings: generated from the macOS static library of this same build (uniffi reads its
# metadata from static archives as well as from shared libraries).
cargo run --locked -q -p uniffi-bindgen -- generate --library "$(lib aarch64-apple-darwin)" \
  --language swift --out-dir "$BUILD/generated" --no-format
cp "$BUILD/generated/TwostepFFIC.h" "$BUILD/headers/"
cp "$BUILD/generated/TwostepFFIC.modulemap" "$BUILD/headers/module.modulemap"
cp "$BUILD/generated/TwostepFFI.swift" ios/Sources/TwostepFFI/TwostepFFI.swift

# One fat library per platform (simulator: arm64 + x86_64; macOS: arm64 + x86_64).
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$BUILD/ios-simulator/libtwostep_ffi.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$BUILD/macos/libtwostep_ffi.a"

xcodebuild -create-xcframework \
  -library "$(lib "$DEVICE")" -headers "$BUILD/headers" \
  -library "$BUILD/ios-simulator/libtwostep_ffi.a" -headers "$BUILD/headers" \
  -library "$BUILD/macos/libtwostep_ffi.a" -headers "$BUILD/headers" \
  -output "$BUILD/TwostepFFIC.xcframework"

echo "built $BUILD/TwostepFFIC.xcframework and ios/Sources/TwostepFFI/TwostepFFI.swift ($PROFILE)"
