// Limits of the network faces, each with its documented default (docs/api.md).
// Loaded from the server config file (`mnemo serve --config FILE`).
//
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>

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

}  // namespace mnemo::server
