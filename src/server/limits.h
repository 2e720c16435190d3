// Limits of the network faces, each with its documented default (docs/api.md).
// Loaded from the server config file (`mnemo serve --config FILE`).
//
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mnemo/options.h"

namespace mnemo::server {

struct Limits {
  size_t max_body_bytes = 4 * 1024 * 1024;  // request body; 413 beyond
  size_t max_header_bytes = 16 * 1024;      // request line + headers; 431 beyond
  size_t max_batch = 1000;                  // memories per batch create / messages per ingest
  int max_k = 100;                          // search results per request
  int max_list_limit = 1000;                // page size of list
  size_t max_text_bytes = 64 * 1024;        // one memory's text
  int64_t request_timeout_ms = 10000;       // to receive a whole request, and to wait for a worker
  int64_t idle_timeout_ms = 60000;          // keep-alive connection without a request
  double rate_limit_per_key = 1000;         // requests per second per API key (0 = unlimited)
  double rate_burst_per_key = 2000;         // token bucket size
  size_t max_connections = 4096;            // open connections; beyond, new ones get 503
  size_t max_queue = 512;                   // requests waiting for a worker; beyond, 503
  int workers = 0;                          // handler threads; 0 = max(2, hardware threads)
};

// The limits of the data directory's own callers: the CLI, in its process or through the
// Unix socket of a running server (server/local_socket.h). An ingest of a whole file is
// one transaction, and a search returns as many results as the engine allows.
inline Limits LocalLimits(Limits l = {}) {
  const Options engine;
  l.max_body_bytes = size_t{1} << 30;
  l.max_batch = 10'000'000;
  l.max_k = engine.max_k;
  l.max_list_limit = engine.max_list_limit;
  return l;
}

}  // namespace mnemo::server
