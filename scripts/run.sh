#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds mnemo, and runs its main job: for now the
# demo, which ingests a sample conversation into ./mnemo-data and searches it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh mnemo_cli
exec build/mnemo --data "${MNEMO_DATA:-mnemo-data}" demo "$@"
