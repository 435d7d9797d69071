#!/usr/bin/env bash
# The Kotlin (Android) API on the desktop JVM, against the real library and the real server:
#   1. builds twostep-ffi (the host libtwostep_ffi.so), twostep-server and the test harness's
#      TLS terminator (twostep-tls-terminator), debug;
#   2. generates the Kotlin bindings from the library with the pinned uniffi-bindgen
#      (bindings/uniffi.toml, without `android = true`; it rewrites the exceptions' `message`
#      to the library's text);
#   3. checks that the library's segments are 16 KB-aligned (and those of any Android build
#      under android/build/rust), scripts/check-elf-alignment.py;
#   4. compiles the bindings, the idiomatic layer (android/src/main/kotlin) and the JVM tests
#      (android/src/test/kotlin) in one kotlinc run, at the Kotlin language and API version
#      the AAR is built with (android/gradle/libs.versions.toml: one minor back); the
#      Android-only sources (android/src/android/kotlin) are left out;
#   5. packs the library into a jar in JNA's resource layout (linux-x86-64/libtwostep_ffi.so),
#      as the io.twostep:twostep-android-forUnitTests artifact does, and runs JUnit 5 (console
#      launcher) with only that jar to find it; the tests start target/debug/twostep-server
#      on 127.0.0.1 with temp data dirs themselves. The JVM runs with SSL_CERT_FILE naming a
#      file the TLS test fills with a CA it makes (on Linux the library's trust store is then
#      that file alone).
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

echo "== test-kotlin: cargo build -p twostep-ffi -p twostep-server -p uniffi-bindgen, twostep-tls-terminator"
cargo build --locked -q -p twostep-ffi -p twostep-server -p uniffi-bindgen
cargo build --locked -q -p twostep-e2e --bin twostep-tls-terminator

# Library, server and bindings are used from copies: the shared target dir may be rebuilt
# by another build meanwhile, and bindings must match their library exactly.
rm -rf "$OUT" && mkdir -p "$OUT/generated" "$OUT/classes" "$OUT/lib"
cp "$TARGET/debug/libtwostep_ffi.so" "$TARGET/debug/twostep-server" "$TARGET/debug/twostep-tls-terminator" "$OUT/lib/"
LIB="$OUT/lib/libtwostep_ffi.so"
SERVER="$OUT/lib/twostep-server"
TLS_TERMINATOR="$OUT/lib/twostep-tls-terminator"
mkdir -p "$OUT/tls"
TRUST_STORE="$OUT/tls/trusted-ca.pem"

echo "== test-kotlin: 16 KB segment alignment"
ALIGN_PATHS=("$LIB")
[ -d android/build/rust ] && ALIGN_PATHS+=(android/build/rust)
python3 scripts/check-elf-alignment.py "${ALIGN_PATHS[@]}"

echo "== test-kotlin: uniffi-bindgen generate --language kotlin"
"$TARGET/debug/uniffi-bindgen" generate --library "$LIB" --language kotlin --out-dir "$OUT/generated" --no-format

KOTLIN_API=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["versions"]["kotlinApi"])' android/gradle/libs.versions.toml)
echo "== test-kotlin: kotlinc $(cat "$KOTLIN_HOME/build.txt") at Kotlin $KOTLIN_API (generated + android/src/main + android/src/test)"
CP="/usr/share/java/jna.jar:$KLIB/kotlinx-coroutines-core-jvm.jar:$JUNIT"
mapfile -t SOURCES < <(find "$OUT/generated" android/src/main/kotlin android/src/test/kotlin -name '*.kt' | sort)
"$KOTLIN_HOME/bin/kotlinc" -jvm-target 17 -language-version "$KOTLIN_API" -api-version "$KOTLIN_API" -nowarn \
  -cp "$CP" -d "$OUT/classes" "${SOURCES[@]}"

# The host library as JNA finds it in io.twostep:twostep-android-forUnitTests: a classpath
# resource under JNA's platform prefix (com.sun.jna.Platform.RESOURCE_PREFIX).
case "$(uname -m)" in x86_64 | amd64) ARCH=x86-64 ;; aarch64 | arm64) ARCH=aarch64 ;; *) ARCH=$(uname -m) ;; esac
mkdir -p "$OUT/for-unit-tests/linux-$ARCH"
cp "$LIB" "$OUT/for-unit-tests/linux-$ARCH/"
(cd "$OUT/for-unit-tests" && jar --create --file ../twostep-android-forUnitTests.jar "linux-$ARCH")
NATIVE_JAR="$OUT/twostep-android-forUnitTests.jar"

echo "== test-kotlin: JUnit 5 (JNA -> $NATIVE_JAR!/linux-$ARCH/libtwostep_ffi.so, server $SERVER)"
exec env -u SSL_CERT_DIR SSL_CERT_FILE="$TRUST_STORE" \
  java -Dtwostep.server="$SERVER" -Dtwostep.tlsTerminator="$TLS_TERMINATOR" -Dtwostep.trustStore="$TRUST_STORE" \
  -Djna.tmpdir="$OUT/jna-tmp" \
  -jar "$JUNIT" --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
  --class-path "$OUT/classes:$KLIB/kotlin-stdlib.jar:$CP:$NATIVE_JAR" --scan-class-path "$OUT/classes"
