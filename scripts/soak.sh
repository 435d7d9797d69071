#!/usr/bin/env bash
# Soak: the release twostep-server under the load generator's mixed workload. First a short
# closed-loop ramp (2..32 workers, 15 s each) measures capacity; then an open-loop run at 70%
# of it (operations start on a fixed schedule; latency counts from when each was due) for
# STEADY seconds, one CSV row per minute: throughput, errors, p50/p99, the server's RSS, the
# data dir's size, the sweeper's counters, the load average. Sessions live 120 s here (not
# 12 h) so that records expire and are swept within the run.
#
# Usage: scripts/soak.sh [STEADY_SECS=600]   (one command, fixed seed; ~14 minutes)
# Writes docs/soak.csv and docs/soak.svg (SOAK_OUT=dir to write elsewhere), prints a summary.
# Exits non-zero if any request failed or the generator ran out of users (the wrong-code,
# locking and enrolling users are used up; these counts last 10 minutes up to ~3000 ops/s).
set -euo pipefail
cd "$(dirname "$0")/.."
STEADY="${1:-600}"
OUT="${SOAK_OUT:-docs}"
mkdir -p "$OUT"
cargo build --release -q -p twostep-server -p twostep-bench
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "== $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
target/release/twostep-loadgen soak \
  --server-bin target/release/twostep-server --work-dir "$WORK" --csv "$OUT/soak.csv" \
  --steady-secs "$STEADY" --sample-secs 60 --fraction 0.7 --ramp 2,4,8,16,32 --ramp-secs 15 \
  --seed 1 --totp-users 70000 --password-users 500 --wrong-users 24000 --locking-users 12000 \
  --enroll-users 32000 --server-env TWOSTEP_SESSION_TTL_SECS=120
python3 scripts/soak_plot.py "$OUT/soak.csv" "$OUT/soak.svg" \
  "twostep-server soak: 70% of capacity, $((STEADY / 60)) min, $(nproc) shared cores"
echo "== done $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg); plot: $OUT/soak.svg"
