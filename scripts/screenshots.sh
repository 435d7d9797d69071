#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: the browser tests (headless Chromium through
# chromedriver, against the real server) save a screenshot of each page they visit, at
# 1024 px and, for some pages, 320 px wide.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f docs/screenshots/*.png
TWOSTEP_SCREENSHOTS=docs/screenshots cargo test -p twostep-e2e --test web
ls docs/screenshots
