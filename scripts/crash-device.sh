#!/usr/bin/env bash
# The long run of the device's crash-consistency tests (cli/tests/crash/): the scenarios that
# `cargo test` runs with a few random kills each, here with many (and as many rounds, each with
# its own seed, as asked). Prints one line of figures per scenario and round; the full output
# goes to target/crash-device.log.
#
#   scripts/crash-device.sh [KILLS_PER_SCENARIO [ROUNDS]]     (default 300 kills, 1 round)
#   TWOSTEP_CRASH_SEED=N scripts/crash-device.sh 300          (repeat a round's random moments)
#
# Results: docs/RELIABILITY.md, "Crash consistency, device".
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-300}"
rounds="${2:-1}"
log="${CARGO_TARGET_DIR:-target}/crash-device.log"
mkdir -p "$(dirname "$log")"
: >"$log"
# Built once, with the hook points (the test build turns on twostep-core's test-hooks).
cargo test -p twostep-cli --test crash --no-run >>"$log" 2>&1
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds: $kills random kills per scenario" | tee -a "$log"
  TWOSTEP_CRASH_KILLS="$kills" cargo test -p twostep-cli --test crash -- --nocapture \
    --test-threads "${CRASH_TEST_THREADS:-2}" >>"$log" 2>&1 || {
    grep -oE 'crash-device \|.*|panicked.*|test result.*' "$log" | tail -20
    echo "FAILED: see $log" >&2
    exit 1
  }
done
grep -oE 'crash-device \|.*|test result.*' "$log"
