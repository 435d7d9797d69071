#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, end-to-end against the real server on
# 127.0.0.1, CLI binaries), the Swift checks of the iOS bindings, and the JVM tests of the
# Android bindings. `.ci/run` installs what this needs on a fresh machine
# (scripts/ci-install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# What the Kotlin and Swift checks need (apt/npm/pip); skips whatever is already installed.
scripts/ci-install.sh
cargo test --workspace --locked
# Packaging: the ELF alignment and symbol-split tools, the Android build files, the iOS
# release package (scripts/tests, Python standard library only).
scripts/test-packaging.sh
# Swift: `swift test` where a Swift toolchain exists, else the syntax and C ABI checks; before
# Kotlin, so that the output ends with JUnit's summary.
scripts/test-swift.sh
if [ -x scripts/test-kotlin.sh ]; then
  scripts/test-kotlin.sh
fi
