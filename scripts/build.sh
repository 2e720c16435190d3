#!/usr/bin/env bash
# Configures and builds mnemo into build/ (or build-asan/ with --sanitize).
# Usage: scripts/build.sh [--sanitize] [ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMNEMO_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  dir=build-asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DMNEMO_SANITIZE=ON -DMNEMO_BUILD_BENCH=OFF -DMNEMO_WERROR=ON)
fi
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir" -j "${MNEMO_JOBS:-2}" "$@"
