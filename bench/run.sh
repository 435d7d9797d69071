#!/usr/bin/env bash
# Reruns the server benchmarks of docs/BENCHMARKS.md against the release build on loopback.
# Usage: bench/run.sh [seconds-per-phase]   (needs cargo, curl and wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-15}"
PORT="${BENCH_PORT:-18080}"
URL="http://127.0.0.1:$PORT"
cargo build --release -q -p twostep-server -p twostep-bench
DIR="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT
target/release/twostep-loadgen seed --data-dir "$DIR/data" --totp-users 100000 --password-users 64 --out "$DIR/users.json"
# Every request comes from one address (the load generator): lift the per-address failure
# budget, which counts sign-ins in flight, so the sign-in phases measure the server.
TWOSTEP_ADDRESS_FAILURES_PER_MINUTE=1000000 TWOSTEP_LOG=warn target/release/twostep-server serve --listen "127.0.0.1:$PORT" --data-dir "$DIR/data" 2>"$DIR/server.log" &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done
echo "== machine: $(nproc) cores, $(uname -m)"
target/release/twostep-loadgen hash-cost
# 1. TOTP verification with wrk (C, epoll) so the client takes little of the 2 cores.
target/release/twostep-loadgen wrk-script --users "$DIR/users.json" --out "$DIR/verify.lua" --threads 2 --first 60000
wrk -t2 -c32 -d"${SECS}s" --latency -s "$DIR/verify.lua" "$URL"
# 2. The same with the Rust load generator (reqwest; heavier client, for comparison).
target/release/twostep-loadgen totp --url "$URL" --users "$DIR/users.json" --duration-secs "$SECS" --concurrency 32
target/release/twostep-loadgen signin --url "$URL" --users "$DIR/users.json" --duration-secs "$SECS" --concurrency 32
target/release/twostep-loadgen mixed --url "$URL" --users "$DIR/users.json" --duration-secs "$SECS" --concurrency 32 --verify-concurrency 4
echo "== flushes: $(curl -s "$URL/metrics" | grep '^twostep_store_flushes ')"
