#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, end-to-end against the real server on
# 127.0.0.1, CLI binaries), the end-to-end suite a second time on PostgreSQL (a throwaway
# cluster the tests start themselves), the Swift checks of the iOS bindings, and the JVM
# tests of the Android bindings. `.ci/run` installs what this needs on a fresh machine
# (scripts/ci-install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# What the Kotlin and Swift checks need (apt/npm/pip); skips whatever is already installed.
scripts/ci-install.sh
cargo test --workspace --locked
# The same end-to-end suite on the other store. (The replica tests always run on
# PostgreSQL, so the first pass already ran them.)
TWOSTEP_TEST_STORE=postgres cargo test --locked -p twostep-e2e --test e2e -- --skip replicas::
# Packaging: the ELF alignment and symbol-split tools, the Android build files, the iOS
# release package (scripts/tests, Python standard library only).
scripts/test-packaging.sh
# Swift: `swift test` where a Swift toolchain exists, else the syntax and C ABI checks; before
# Kotlin, so that the output ends with JUnit's summary.
scripts/test-swift.sh
if [ -x scripts/test-kotlin.sh ]; then
  scripts/test-kotlin.sh
fi
