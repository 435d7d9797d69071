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
# Swift: syntax and C ABI checks (no Swift compiler here); before Kotlin, so that the
# output ends with JUnit's summary.
if [ -x scripts/check-swift.sh ]; then
  scripts/check-swift.sh
fi
if [ -x scripts/test-kotlin.sh ]; then
  scripts/test-kotlin.sh
fi
