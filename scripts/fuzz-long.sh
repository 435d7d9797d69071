#!/usr/bin/env bash
# Long, coverage-guided fuzzing with libFuzzer: each target of fuzzing/ (crate
# twostep-fuzz) in turn, one at a time, through the binaries in fuzz/. Needs a nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`); CI does not run this (the bounded
# runs in `cargo test` are its stable counterpart). See docs/RELIABILITY.md.
#
#   scripts/fuzz-long.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 600 s, every target)
#
# Environment: FUZZ_SANITIZER=none|address (default none: overflow checks and debug
# assertions are on either way; ASan costs ~2x throughput and our code has no unsafe),
# FUZZ_JOBS (build jobs, default 2).
#
# Writes: fuzz/corpus/<target>/ (grows across runs), fuzz/artifacts/<target>/ (crashing
# inputs), target/fuzz-long/<target>.log, and target/fuzz-long/summary.md (one table row
# per target: wall seconds (less than asked when a crash stopped it), executions, exec/s,
# coverage, corpus, crashes).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
sanitizer="${FUZZ_SANITIZER:-none}"
out=target/fuzz-long
mkdir -p "$out"

# Targets and their dictionaries, from the one registry (fuzzing/src/lib.rs).
mapfile -t registry < <(grep -oE 'target\("[a-z_]+", [^,]+, "[a-z.]+"' fuzzing/src/lib.rs |
  sed -E 's/target\("([a-z_]+)", [^,]+, "([a-z.]+)"/\1 \2/')
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for entry in "${registry[@]}"; do targets+=("${entry%% *}"); done
fi

# The fuzz workspace resolves the same dependency versions as the main one.
cp Cargo.lock fuzz/Cargo.lock
CARGO_BUILD_JOBS="${FUZZ_JOBS:-2}" cargo +nightly fuzz build --fuzz-dir fuzz -a -s "$sanitizer" ||
  exit 1

summary="$out/summary.md"
echo "| target | seconds | executions | exec/s | coverage (edges) | corpus (inputs) | crashes |" >"$summary"
echo "|---|---:|---:|---:|---:|---:|---:|" >>"$summary"
status=0
for target in "${targets[@]}"; do
  dict=""
  for entry in "${registry[@]}"; do
    [ "${entry%% *}" = "$target" ] && dict="fuzzing/dict/${entry##* }"
  done
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus" "fuzz/artifacts/$target"
  seeds=("fuzzing/seeds/$target")
  [ -d "fuzzing/regressions/$target" ] && seeds+=("fuzzing/regressions/$target")
  log="$out/$target.log"
  echo "== $target: ${seconds}s" >&2
  args=(-max_total_time="$seconds" -max_len=65536 -timeout=60 -rss_limit_mb=4096
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/")
  [ -n "$dict" ] && args+=(-dict="$dict")
  started=$(date +%s)
  cargo +nightly fuzz run --fuzz-dir fuzz -a -s "$sanitizer" "$target" "$corpus" "${seeds[@]}" \
    -- "${args[@]}" >"$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - started))
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  inputs=$(find "$corpus" -type f | wc -l)
  crashes=$(find "fuzz/artifacts/$target" -type f | wc -l)
  echo "| \`$target\` | $elapsed | ${runs:-?} | ${speed:-?} | ${cov:-?} | $inputs | $crashes |" >>"$summary"
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "   $target stopped with status $rc; see $log and fuzz/artifacts/$target/" >&2
    echo "   replay: copy the artifact to fuzzing/regressions/$target/ and run" >&2
    echo "   cargo test -p twostep-fuzz --test bounded $target" >&2
  fi
done
cat "$summary"
exit "$status"
