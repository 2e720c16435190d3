#!/usr/bin/env bash
# Sets up, builds, and runs every test (unit, engine, CLI scenarios, crash).
# Usage: scripts/test.sh [--sanitize]   (--sanitize: the same tests under ASan+UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  scripts/build.sh --sanitize
  dir=build-asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  scripts/build.sh
  dir=build
fi
ctest --test-dir "$dir" --output-on-failure -j "${MNEMO_JOBS:-2}"
