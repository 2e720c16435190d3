#!/usr/bin/env bash
# Runs the MCP integration tests (stdio and Streamable HTTP) with the official MCP
# TypeScript SDK client. Needs node >= 18 and npm; set MNEMO_BIN to the mnemo binary
# (default: ../../build/mnemo).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/@modelcontextprotocol/sdk ]; then
  npm ci --no-audit --no-fund
fi
exec node --test "$@"
