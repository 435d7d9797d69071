#!/usr/bin/env bash
# Reruns the server benchmarks of docs/BENCHMARKS.md against the release build on loopback:
#   1. the embedded store (sled): TOTP verification with wrk, then the Rust load generator's
#      verification, sign-in and mixed phases;
#   2. PostgreSQL (a throwaway cluster on this machine, fsync on), one replica: TOTP
#      verification with wrk;
#   3. the same database, two replicas: wrk with 16 connections against each (32 in all).
# Usage: bench/run.sh [seconds-per-phase] [sled|pg|all]
# Needs cargo, curl, wrk (apt-get install wrk) and PostgreSQL (apt-get install postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-15}"
WHAT="${2:-all}"
cargo build --release -q -p twostep-server -p twostep-bench
BIN=target/release
DIR="$(mktemp -d)"
SERVERS=()
PG_CTL=""
cleanup() {
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$PG_CTL" ]; then $PG_CTL -D "$DIR/pg/db" stop -m fast -w >/dev/null 2>&1 || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server PORT DATA_DIR [VAR=value ...]: a replica in the background, ready when /healthz is.
# Every request comes from one address (the load generator): lift the per-address failure
# budget, which counts sign-ins in flight, so the sign-in phases measure the server.
start_server() {
  local port=$1 data=$2; shift 2
  env TWOSTEP_LOG=warn TWOSTEP_ADDRESS_FAILURES_PER_MINUTE=1000000 "$@" $BIN/twostep-server serve --listen "127.0.0.1:$port" --data-dir "$data" \
    2>>"$DIR/server-$port.log" &
  SERVERS+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start:"; cat "$DIR/server-$port.log"; exit 1
}

stop_servers() {
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  SERVERS=()
}

load() { echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

# cpu_ms PID...: user + system CPU time of these processes so far, in milliseconds.
cpu_ms() {
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo $((t * 1000 / $(getconf CLK_TCK)))
}
pg_pids() { local pm; pm=$(head -1 "$DIR/pg/db/postmaster.pid"); echo "$pm" $(pgrep -P "$pm"); }

echo "== machine: $(nproc) cores, $(uname -m)"
$BIN/twostep-loadgen hash-cost

if [ "$WHAT" = all ] || [ "$WHAT" = sled ]; then
  echo "== 1. embedded store (sled)"
  PORT=$(free_port); URL="http://127.0.0.1:$PORT"
  $BIN/twostep-loadgen seed --data-dir "$DIR/sled" --totp-users 100000 --password-users 64 --out "$DIR/sled-users.json"
  start_server "$PORT" "$DIR/sled"
  # TOTP verification with wrk (C, epoll) so the client takes little of the 2 cores.
  $BIN/twostep-loadgen wrk-script --users "$DIR/sled-users.json" --out "$DIR/sled.lua" --threads 2 --first 75000
  load; wrk -t2 -c32 -d"${SECS}s" --latency -s "$DIR/sled.lua" "$URL"
  # The same with the Rust load generator (reqwest; heavier client, for comparison).
  $BIN/twostep-loadgen totp --url "$URL" --users "$DIR/sled-users.json" --duration-secs "$SECS" --concurrency 32
  $BIN/twostep-loadgen signin --url "$URL" --users "$DIR/sled-users.json" --duration-secs "$SECS" --concurrency 32
  $BIN/twostep-loadgen mixed --url "$URL" --users "$DIR/sled-users.json" --duration-secs "$SECS" --concurrency 32 --verify-concurrency 4
  echo "== flushes: $(curl -s "$URL/metrics" | grep '^twostep_store_flushes ')"
  stop_servers
fi

if [ "$WHAT" = all ] || [ "$WHAT" = pg ]; then
  echo "== PostgreSQL cluster (this machine, fsync on)"
  PGBIN="${TWOSTEP_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
  mkdir -p "$DIR/pg"
  AS=()
  # PostgreSQL refuses to run as root: as root it runs as the postgres user, which must be
  # able to reach its directory.
  if [ "$(id -u)" = 0 ]; then chmod 711 "$DIR"; chown postgres: "$DIR/pg"; AS=(runuser -u postgres --); fi
  PG_CTL="${AS[*]} $PGBIN/pg_ctl"
  "${AS[@]}" "$PGBIN/initdb" -D "$DIR/pg/db" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  PGPORT=$(free_port)
  $PG_CTL -D "$DIR/pg/db" -l "$DIR/pg/server.log" -w -o \
    "-p $PGPORT -k $DIR/pg -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB -c max_connections=100 -c shared_preload_libraries=pg_stat_statements" \
    start >/dev/null
  PSQL=("$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PGPORT" -U postgres)
  "${PSQL[@]}" -c "SELECT version()"
  "${PSQL[@]}" -c "CREATE EXTENSION pg_stat_statements"
  DB="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
  # Every replica needs the same master key (the TOTP secrets are sealed under it).
  KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  TWOSTEP_MASTER_KEY=$KEY TWOSTEP_DATABASE_URL=$DB \
    $BIN/twostep-loadgen seed --data-dir "$DIR/pg-a" --totp-users 100000 --password-users 64 --out "$DIR/pg-users.json"

  echo "== 2. PostgreSQL, one replica"
  A=$(free_port)
  start_server "$A" "$DIR/pg-a" TWOSTEP_MASTER_KEY="$KEY" TWOSTEP_DATABASE_URL="$DB"
  $BIN/twostep-loadgen wrk-script --users "$DIR/pg-users.json" --out "$DIR/pg1.lua" --threads 2 --first 50000
  "${PSQL[@]}" -c "SELECT pg_stat_statements_reset()" >/dev/null
  STATS="SELECT xact_commit || ' ' || (SELECT wal_sync FROM pg_stat_wal) FROM pg_stat_database WHERE datname = 'postgres'"
  read -r C0 W0 <<<"$("${PSQL[@]}" -c "$STATS")"
  S0=$(cpu_ms "${SERVERS[0]}"); P0=$(cpu_ms $(pg_pids))
  load; wrk -t2 -c32 -d"${SECS}s" --latency -s "$DIR/pg1.lua" "http://127.0.0.1:$A" | tee "$DIR/wrk-1.txt"
  # Where the time goes: statements per verification, and their mean time in PostgreSQL.
  N=$(awk '/requests in/ {print $1}' "$DIR/wrk-1.txt")
  read -r C1 W1 <<<"$("${PSQL[@]}" -c "$STATS")"
  S1=$(cpu_ms "${SERVERS[0]}"); P1=$(cpu_ms $(pg_pids))
  echo "-- CPU per verification: twostep-server $(( (S1 - S0) * 1000 / N )) µs, PostgreSQL $(( (P1 - P0) * 1000 / N )) µs"
  echo "-- $N verifications: $((C1 - C0)) transactions (statements) committed, $((W1 - W0)) WAL flushes (group commit); per verification:"
  "${PSQL[@]}" -F ' | ' -c "SELECT round(calls::numeric / $N, 2) AS per_request, round(mean_exec_time::numeric * 1000) AS mean_us, left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_statements WHERE calls >= $N / 10 ORDER BY calls DESC"

  echo "== 3. PostgreSQL, two replicas (16 connections each)"
  B=$(free_port)
  start_server "$B" "$DIR/pg-b" TWOSTEP_MASTER_KEY="$KEY" TWOSTEP_DATABASE_URL="$DB"
  $BIN/twostep-loadgen wrk-script --users "$DIR/pg-users.json" --out "$DIR/pg2a.lua" --threads 1 --skip 50000 --first 25000
  $BIN/twostep-loadgen wrk-script --users "$DIR/pg-users.json" --out "$DIR/pg2b.lua" --threads 1 --skip 75000 --first 25000
  load
  wrk -t1 -c16 -d"${SECS}s" --latency -s "$DIR/pg2a.lua" "http://127.0.0.1:$A" >"$DIR/wrk-a.txt" &
  WA=$!
  wrk -t1 -c16 -d"${SECS}s" --latency -s "$DIR/pg2b.lua" "http://127.0.0.1:$B" >"$DIR/wrk-b.txt"
  wait $WA
  echo "-- replica A"; cat "$DIR/wrk-a.txt"
  echo "-- replica B"; cat "$DIR/wrk-b.txt"
  echo "-- both: $(grep -h '^Requests/sec' "$DIR/wrk-a.txt" "$DIR/wrk-b.txt" | awk '{s+=$2} END {printf "%.0f requests/s", s}')"
  echo "== PostgreSQL: $("${PSQL[@]}" -c \
    "SELECT 'commits ' || xact_commit || ', rollbacks ' || xact_rollback || ', WAL ' || (SELECT pg_size_pretty(wal_bytes) || ' in ' || wal_sync || ' WAL flushes' FROM pg_stat_wal) FROM pg_stat_database WHERE datname = 'postgres'")"
  echo "== users updates: $("${PSQL[@]}" -c "SELECT n_tup_upd || ' (' || n_tup_hot_upd || ' HOT)' FROM pg_stat_user_tables WHERE relname = 'users'")"
  stop_servers
fi
