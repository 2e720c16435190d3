#!/usr/bin/env bash
# Installs every Debian 12 package mnemo needs to build, test and run, and the npm test
# client of tests/mcp. Idempotent: it installs only what is missing.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config            # toolchain
  libsqlite3-dev                              # storage (SQLite with FTS5)
  libhnswlib-dev                              # bench/: the hnswlib baseline of our graph
  nlohmann-json3-dev                          # JSON
  libcli11-dev                                # command line
  libstemmer-dev                              # Snowball stemmers
  zlib1g-dev                                  # CRC-32 of snapshots and exports
  libjemalloc-dev                             # the allocator of the mnemo binary
  libssl-dev                                  # SHA-256 of API keys (libcrypto)
  libcurl4-openssl-dev                        # OpenAI-compatible model providers over HTTP
  libgtest-dev libgmock-dev                   # unit tests
  libbenchmark-dev wrk                        # benchmarks (wrk: independent HTTP load)
  python3                                     # scenario tests drive the CLI
  python3-dev pybind11-dev python3-venv       # the Python package (python/): its engine module
  python3-pytest                              # ... and its tests
  curl                                        # the README's HTTP example is tested as written
  python3-jsonschema                          # API tests validate answers against docs/openapi.json
  clang libclang-rt-14-dev llvm               # fuzzing: clang, libFuzzer + sanitizer runtimes, symbolizer
  dpkg-dev lintian                            # Debian packages (scripts/package.sh: shlibdeps) and their check
  chromium                                    # the web UI's browser tests (tests/ui, puppeteer-core)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The MCP SDK tests (tests/mcp) need node and npm: Debian's, only when there is no node.
command -v node >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The MCP SDK client of tests/mcp and the browser driver of tests/ui, pinned by their
# package-lock.json (node_modules is not committed; npm ci installs exactly the locked
# versions from the npm registry; puppeteer-core downloads no browser).
TESTS="$(cd "$(dirname "$0")/../tests" && pwd)"
if [ ! -d "$TESTS/mcp/node_modules/@modelcontextprotocol/sdk" ]; then
  (cd "$TESTS/mcp" && npm ci --no-audit --no-fund)
fi
if [ ! -d "$TESTS/ui/node_modules/puppeteer-core" ]; then
  (cd "$TESTS/ui" && npm ci --no-audit --no-fund)
fi
