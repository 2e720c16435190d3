#!/usr/bin/env bash
# Runs the web UI's browser tests: puppeteer-core driving Debian's chromium (no browser
# download). Needs node >= 18, npm and chromium; MNEMO_BIN is the mnemo binary (default
# ../../build/mnemo), MNEMO_CHROMIUM the browser (default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/puppeteer-core ]; then
  npm ci --no-audit --no-fund
fi
exec node --test "$@"
