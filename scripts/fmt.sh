#!/usr/bin/env bash
# Formats the workspace: 100 columns (rustfmt.toml, stable), and comments wrapped at 100
# columns when a nightly rustfmt is installed (`wrap_comments` is a nightly-only option, so
# it is passed here instead of in rustfmt.toml, which stable rustfmt reads without warnings).
# `scripts/fmt.sh --check` checks instead of writing; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
check=()
[ "${1:-}" = "--check" ] && check=(--check)
if rustup run nightly rustfmt --version >/dev/null 2>&1; then
  cargo +nightly fmt --all -- "${check[@]}" --config wrap_comments=true,comment_width=100
fi
cargo fmt --all -- "${check[@]}"
