#!/usr/bin/env bash
# Crash consistency of the server, the long run: the release twostep-server under the load
# generator's mixed workload (verifications, sign-ins with code challenges, enrollments by
# TOTP/SMS/email, wrong codes and passwords, lockouts) is killed with SIGKILL after a random
# 50-1500 ms, N times, and restarted on the same data dir; after every restart the store must
# open and every acknowledged answer in the workload's fsynced log must still hold. The test
# suite runs a short version (server/tests/crash_consistency.rs). Results: docs/RELIABILITY.md.
#
# Usage: scripts/crash-server.sh [N_KILLS=500] [more `twostep-loadgen crash` options]
#   e.g. scripts/crash-server.sh 500 --seed 1
# With TWOSTEP_DATABASE_URL=postgres://... set (an empty database), the seed and the server
# use that database instead of the data dir's embedded store.
# Exits non-zero on a violation and keeps the work dir (data, users, ack log, server log).
# Locking and enrolling users are used up (one lock or enrollment each): their pools grow
# with N so that every cycle has some (a run takes ~1 s per kill on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${1:-500}"
shift || true
cargo build --release -q -p twostep-server -p twostep-bench
WORK="$(mktemp -d)"
cleanup() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "work dir kept: $WORK" >&2; fi
}
trap cleanup EXIT
echo "== $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
target/release/twostep-loadgen crash \
  --server-bin target/release/twostep-server --work-dir "$WORK" --kills "$KILLS" \
  --totp-users 20000 --password-users 200 --wrong-users 500 \
  --locking-users "$((KILLS * 30 + 1000))" --enroll-users "$((KILLS * 60 + 2000))" \
  --workers 8 --min-delay-ms 50 --max-delay-ms 1500 --audit-every 25 "$@"
echo "== done $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
