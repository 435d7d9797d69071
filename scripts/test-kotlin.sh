#!/usr/bin/env bash
# The Kotlin (Android) API on the desktop JVM, against the real library and the real server:
#   1. builds twostep-ffi (the host libtwostep_ffi.so) and twostep-server, debug;
#   2. generates the Kotlin bindings from the library with the pinned uniffi-bindgen
#      (bindings/uniffi.toml, without `android = true`);
#   3. compiles them, the idiomatic layer (android/src/main/kotlin) and the JVM tests
#      (android/src/test/kotlin) in one kotlinc run; the Android-only sources
#      (android/src/android/kotlin) are left out;
#   4. runs JUnit 5 (console launcher) with JNA loading target/debug/libtwostep_ffi.so; the
#      tests start target/debug/twostep-server on 127.0.0.1 with temp data dirs themselves.
# Exits non-zero when anything fails. Tools: scripts/ci-install.sh (run here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tool-versions.sh

if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ] || [ ! -f /usr/share/java/jna.jar ] || [ ! -f /usr/share/java/junit-platform-console-standalone.jar ]; then
  scripts/ci-install.sh
fi

TARGET="${CARGO_TARGET_DIR:-target}"
OUT="$TARGET/kotlin"
KLIB="$KOTLIN_HOME/lib"
JUNIT=/usr/share/java/junit-platform-console-standalone.jar

echo "== test-kotlin: cargo build -p twostep-ffi -p twostep-server"
cargo build --locked -q -p twostep-ffi -p twostep-server -p uniffi-bindgen

# Library, server and bindings are used from copies: the shared target dir may be rebuilt
# by another build meanwhile, and bindings must match their library exactly.
rm -rf "$OUT" && mkdir -p "$OUT/generated" "$OUT/classes" "$OUT/lib"
cp "$TARGET/debug/libtwostep_ffi.so" "$TARGET/debug/twostep-server" "$OUT/lib/"
LIB="$OUT/lib/libtwostep_ffi.so"
SERVER="$OUT/lib/twostep-server"

echo "== test-kotlin: uniffi-bindgen generate --language kotlin"
"$TARGET/debug/uniffi-bindgen" generate --library "$LIB" --language kotlin --out-dir "$OUT/generated" --no-format

echo "== test-kotlin: kotlinc $(cat "$KOTLIN_HOME/build.txt") (generated + android/src/main + android/src/test)"
CP="/usr/share/java/jna.jar:$KLIB/kotlinx-coroutines-core-jvm.jar:$JUNIT"
mapfile -t SOURCES < <(find "$OUT/generated" android/src/main/kotlin android/src/test/kotlin -name '*.kt' | sort)
"$KOTLIN_HOME/bin/kotlinc" -jvm-target 17 -nowarn -cp "$CP" -d "$OUT/classes" "${SOURCES[@]}"

echo "== test-kotlin: JUnit 5 (JNA -> $LIB, server $SERVER)"
exec java -Djna.library.path="$OUT/lib" -Dtwostep.server="$SERVER" \
  -jar "$JUNIT" --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
  --class-path "$OUT/classes:$KLIB/kotlin-stdlib.jar:$CP" --scan-class-path "$OUT/classes"
