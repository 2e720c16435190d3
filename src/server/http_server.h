// HttpServer: an HTTP/1.1 server for mnemo's network faces, built for many idle
// keep-alive connections and bounded work.
//
// One event-loop thread (epoll) accepts connections, reads and parses requests
// (http_parser.h) and writes responses; a fixed pool of worker threads runs the handler.
// Idle connections cost a file descriptor and a few hundred bytes, not a thread. A
// request waits for a worker in a queue of at most Limits::max_queue entries; beyond
// that, or after waiting Limits::request_timeout_ms, it is answered 503 with
// Retry-After at once instead of queueing without bound. A request that is not fully
// received within request_timeout_ms (slow or half-sent) gets 408 and its connection is
// closed; an idle keep-alive connection is closed after idle_timeout_ms. Connections
// beyond Limits::max_connections get 503 and are closed.
//
// Stop() is graceful: it stops accepting, lets in-flight requests finish and their
// responses go out (with "Connection: close"), closes idle connections, then joins the
// threads.
//
// Thread safety: Listen/Start/Stop are called by the owning thread. The handler and the
// observer are called concurrently from worker threads (and the observer from the loop
// thread for the server's own error answers), so both must be thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "mnemo/status.h"
#include "server/http.h"
#include "server/limits.h"

namespace mnemo::server {

// One line of the access log: what was asked, what was answered, how long it took.
struct AccessRecord {
  std::string method;
  std::string path;
  std::string route;  // route template from the handler ("" for the server's own answers)
  std::string remote;
  std::string key_id;
  int status = 0;
  size_t bytes_in = 0;      // request body
  size_t bytes_out = 0;     // response body
  int64_t duration_us = 0;  // first byte of the request to the response being queued
};

struct ServerStats {
  size_t connections = 0;  // open
  size_t queued = 0;       // requests waiting for a worker
  size_t in_flight = 0;    // requests being handled
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using Observer = std::function<void(const AccessRecord&)>;

  HttpServer(Limits limits, Handler handler, Observer observer);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on host:port (IPv4 or IPv6 literal, or "localhost"); port 0 picks
  // a free port (see port()).
  Status Listen(const std::string& host, int port);
  int port() const { return port_; }
  // Also answers on a Unix socket at `path` (server/local_socket.h; permissions 0600,
  // the file removed when the server stops), reading requests there within `limits`'
  // sizes (LocalLimits). Requests from it carry HttpRequest::local.
  Status ListenLocal(const std::string& path, const Limits& limits);

  // Starts the event loop and the workers.
  Status Start();

  // Graceful shutdown; waits at most `drain` for in-flight requests. Idempotent.
  void Stop(std::chrono::milliseconds drain = std::chrono::seconds(10));

  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace mnemo::server
