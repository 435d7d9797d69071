#!/usr/bin/env bash
# Compares the TOTP verification benchmark of two builds on this machine, interleaved
# (A B A B ...), so that both see the same background load. Each phase seeds a fresh data dir
# with that build's own load generator, starts that build's server, and runs wrk (2 threads,
# 32 connections) over valid, never-used codes (POST /v1/me/two-step/verify).
# Usage: bench/ab.sh BASELINE_BIN_DIR [seconds-per-phase] [rounds]
#   BASELINE_BIN_DIR holds twostep-server and twostep-loadgen of the build to compare with;
#   the other build is target/release of this checkout (built here).
# Needs wrk and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="$1"
SECS="${2:-10}"
ROUNDS="${3:-3}"
PORT="${BENCH_PORT:-18090}"
URL="http://127.0.0.1:$PORT"
cargo build --release -q -p twostep-server -p twostep-bench
NEW="$(pwd)/target/release"
WORK="$(mktemp -d)"
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

phase() { # name bin_dir
  local name="$1" bin="$2" dir="$WORK/$1-$RANDOM"
  mkdir -p "$dir"
  "$bin/twostep-loadgen" seed --data-dir "$dir/data" --totp-users 100000 --password-users 64 \
    --out "$dir/users.json" >/dev/null 2>&1
  TWOSTEP_LOG=warn "$bin/twostep-server" serve --listen "127.0.0.1:$PORT" --data-dir "$dir/data" \
    2>"$dir/server.log" &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done
  "$bin/twostep-loadgen" wrk-script --users "$dir/users.json" --out "$dir/verify.lua" \
    --threads 2 --first 60000 >/dev/null 2>&1
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  wrk -t2 -c32 -d"${SECS}s" --latency -s "$dir/verify.lua" "$URL" >"$dir/wrk.txt"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  local rps p50 p90 p99 bad
  rps="$(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.txt")"
  p50="$(awk '$1=="50%" {print $2}' "$dir/wrk.txt")"
  p90="$(awk '$1=="90%" {print $2}' "$dir/wrk.txt")"
  p99="$(awk '$1=="99%" {print $2}' "$dir/wrk.txt")"
  bad="$(awk '/Non-2xx/ {print $5}' "$dir/wrk.txt")"
  printf '%-9s %9s req/s  p50 %-8s p90 %-8s p99 %-8s non-2xx %-6s load %s\n' \
    "$name" "$rps" "$p50" "$p90" "$p99" "${bad:-0}" "$load"
  rm -rf "$dir"
}

echo "== $(nproc) cores, $(uname -m), ${SECS}s phases, $ROUNDS rounds, $(date -u +%FT%TZ)"
for r in $(seq 1 "$ROUNDS"); do
  phase baseline "$BASE"
  phase new "$NEW"
done
