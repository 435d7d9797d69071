#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain on a fresh Debian machine, as root
# and without questions. Idempotent: whatever is already there is left alone.
#
#   Debian   libjna-java (JNA, how the Kotlin bindings call the library on the JVM),
#            junit5 (JUnit 5 with the console launcher), a JDK if java or jar is missing,
#            zip, unzip, binutils if missing (the packaging tests),
#            chromium + chromium-driver (the web pages' browser tests), postgresql (the
#            tests start throwaway clusters from its binaries)
#   npm      kotlin-compiler@$KOTLIN_COMPILER_VERSION into .tools/kotlin (kotlinc, kotlin-stdlib,
#            kotlin-test, kotlinx-coroutines)
#   PyPI     tree-sitter + tree-sitter-swift into .tools/venv (the Swift syntax check)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tool-versions.sh
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v java >/dev/null 2>&1 && command -v jar >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
# The packaging tests: zip/unzip (iOS release package), objcopy/nm/addr2line (symbols).
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v objcopy >/dev/null 2>&1 && command -v addr2line >/dev/null 2>&1 || missing+=(binutils)
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
[ -f /usr/share/java/junit-platform-console-standalone.jar ] || missing+=(junit5)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ci-install: apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(cat "$KOTLIN_HOME/build.txt" 2>/dev/null)" != "$KOTLIN_COMPILER_VERSION" ]; then
  echo "ci-install: npm install kotlin-compiler@$KOTLIN_COMPILER_VERSION"
  mkdir -p "$TOOLS_DIR/kotlin"
  npm install --prefix "$TOOLS_DIR/kotlin" --no-save --no-audit --no-fund --loglevel=error \
    "kotlin-compiler@$KOTLIN_COMPILER_VERSION" >/dev/null
fi

want="tree-sitter==$TREE_SITTER_VERSION tree-sitter-swift==$TREE_SITTER_SWIFT_VERSION"
have=$("$TOOLS_VENV/bin/python" -m pip freeze 2>/dev/null | grep -E '^tree-sitter(-swift)?==' | sort | tr '\n' ' ' || true)
if [ "$have" != "$(echo "$want" | tr ' ' '\n' | sort | tr '\n' ' ')" ]; then
  echo "ci-install: pip install $want"
  [ -x "$TOOLS_VENV/bin/python" ] || python3 -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check $want
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
echo "ci-install: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') in $pgbin"
echo "ci-install: $(chromedriver --version | cut -d' ' -f1-2), kotlinc $(cat "$KOTLIN_HOME/build.txt"), JNA $(basename "$(readlink -f /usr/share/java/jna.jar)"), $want"
