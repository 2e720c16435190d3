#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds mnemo, and runs its main job: the HTTP/JSON
# API and MCP endpoint on 127.0.0.1:8420 (`mnemo serve`), data in ./mnemo-data
# (or $MNEMO_DATA). Extra arguments go to `mnemo serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh mnemo_cli
exec build/mnemo --data "${MNEMO_DATA:-mnemo-data}" serve "$@"
