#!/usr/bin/env bash
# The FFI benchmark from Kotlin (not a test): builds twostep-ffi as shipped (the `mobile`
# profile, cdylib + staticlib only, see scripts/mobile-size.sh) plus the `bench` feature
# (bench-only exports), generates the Kotlin bindings, compiles android/src/main +
# android/src/bench, and runs io.twostep.bench on the JVM with JNA. Prints a Markdown table
# (docs/BENCHMARKS.md, "## Bindings").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tool-versions.sh
[ -x "$KOTLIN_HOME/bin/kotlinc" ] && [ -f /usr/share/java/jna.jar ] || scripts/ci-install.sh

TARGET="${CARGO_TARGET_DIR:-target}"
OUT="$TARGET/kotlin-bench"
KLIB="$KOTLIN_HOME/lib"

cargo rustc --locked -q --profile mobile -p twostep-ffi --features bench --lib --crate-type cdylib,staticlib
cargo build --locked -q -p uniffi-bindgen
rm -rf "$OUT" && mkdir -p "$OUT/generated" "$OUT/classes" "$OUT/lib"
cp "$TARGET/mobile/libtwostep_ffi.so" "$TARGET/mobile/libtwostep_ffi.a" "$OUT/lib/"
# Metadata from the static library of the same build (a shipped, stripped .so has no symbol
# table left for uniffi to read).
"$TARGET/debug/uniffi-bindgen" generate --library "$OUT/lib/libtwostep_ffi.a" --language kotlin --out-dir "$OUT/generated" --no-format

CP="/usr/share/java/jna.jar:$KLIB/kotlinx-coroutines-core-jvm.jar"
mapfile -t SOURCES < <(find "$OUT/generated" android/src/main/kotlin android/src/bench/kotlin -name '*.kt' | sort)
"$KOTLIN_HOME/bin/kotlinc" -jvm-target 17 -nowarn -cp "$CP" -d "$OUT/classes" "${SOURCES[@]}"

echo "host: $(nproc) cores, $(uname -m), load $(cut -d" " -f1-3 /proc/loadavg), library $(stat -c %s "$OUT/lib/libtwostep_ffi.so") bytes (mobile + bench)"
exec java -Djna.library.path="$OUT/lib" -cp "$OUT/classes:$KLIB/kotlin-stdlib.jar:$CP" io.twostep.bench.FfiBenchmarkKt
