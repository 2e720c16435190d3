#!/usr/bin/env bash
# Installs every Debian 12 package mnemo needs to build, test and run. Idempotent: it
# installs only what is missing, and does nothing on a machine that has everything.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config            # toolchain
  libsqlite3-dev                              # storage (SQLite with FTS5)
  libhnswlib-dev                              # vector index
  nlohmann-json3-dev                          # JSON
  libcli11-dev                                # command line
  libstemmer-dev                              # Snowball stemmers
  zlib1g-dev                                  # CRC-32 of snapshots and exports
  libssl-dev                                  # SHA-256 of API keys (libcrypto)
  libgtest-dev libgmock-dev                   # unit tests
  libbenchmark-dev                            # benchmarks
  python3                                     # scenario tests drive the CLI
  curl                                        # the README's HTTP example is tested as written
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
