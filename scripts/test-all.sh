#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, end-to-end against the real server on
# 127.0.0.1, CLI binaries) and, when the Kotlin toolchain is present, the JVM tests of the
# Android bindings. `.ci/run` installs what this needs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
if [ -x scripts/test-kotlin.sh ]; then
  scripts/test-kotlin.sh
fi
