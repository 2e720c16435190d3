// App: the request handler of `mnemo serve`. It answers the operations routes itself
// (/healthz, /readyz, /metrics, /openapi.json) and the web UI's files (/ui/, ui_files.h),
// authenticates and rate-limits every call to /v1 (REST, rest.h) and /mcp (MCP over
// Streamable HTTP, mcp.h), and turns each answered request into a metrics sample and one
// structured access-log line.
//
// Authentication: "Authorization: Bearer <key>" (or "X-API-Key: <key>"). When no key was
// ever created (no keys.json), and only when the server listens on loopback, calls are
// anonymous and unrestricted; otherwise a missing or unknown key is 401. On the data
// directory's Unix socket (owner-only, server/local_socket.h) a call without a key is
// the owner's: unrestricted, as the CLI is on the files; a key given there counts.
//
// Thread safety: Handle and Observe are called concurrently by HttpServer's threads.
// The Engine, KeyStore and HttpServer passed in must outlive the App.
#pragma once

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mnemo/engine.h"
#include "server/errors.h"
#include "server/http_server.h"
#include "server/keys.h"
#include "server/limits.h"
#include "server/mcp.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"

namespace mnemo::server {

struct AppConfig {
  Limits limits;
  bool anonymous_allowed = false;  // true only with no keys and a loopback listener
  // Browser defences, for /v1 and /metrics over TCP (/mcp checks Origin itself; the Unix
  // socket is exempt). With a loopback listener a request must be addressed to localhost,
  // 127.0.0.1, [::1] or one of `allowed_hosts` ("name" or "name:port"): a page that
  // rebinds its own name to 127.0.0.1 is refused (DNS rebinding). A request that carries
  // an Origin must come from a loopback page, from the server's own origin, or from one of
  // `allowed_origins` ("https://app.example"): a page elsewhere cannot write or read
  // (cross-site requests). Both refusals are 403 forbidden.
  bool loopback_listener = false;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_origins;
  bool access_log = true;     // one JSON line per request on `log`
  std::string default_space;  // MCP tools that omit "space"
  FILE* log = stderr;
};

class App {
 public:
  App(Engine& engine, KeyStore& keys, AppConfig config, std::shared_ptr<Clock> clock);

  HttpResponse Handle(const HttpRequest& req);
  void Observe(const AccessRecord& record);

  // Queue and connection gauges for /metrics come from the server.
  void AttachServer(const HttpServer* server) { server_ = server; }
  // From now on /readyz answers 503 (graceful shutdown has begun).
  void SetDraining() { draining_.store(true); }

 private:
  // The browser defences of AppConfig: an error for a request they refuse.
  std::optional<ApiError> CheckBrowser(const HttpRequest& req) const;
  // Resolves the caller; on failure fills `error` (401/429) and returns false.
  bool Authorize(const HttpRequest& req, Principal* principal, HttpResponse* error);
  HttpResponse UiResponse(const HttpRequest& req);
  HttpResponse Metrics();
  void Log(const AccessRecord& record);

  Engine& engine_;
  KeyStore& keys_;
  AppConfig config_;
  std::shared_ptr<Clock> clock_;
  Limits local_limits_;  // of REST calls on the Unix socket: the CLI's (LocalLimits)
  RateLimiter limiter_;
  McpServer mcp_;
  server::Metrics metrics_;
  const HttpServer* server_ = nullptr;
  std::atomic<bool> draining_{false};
  std::mutex log_mu_;
};

// Whether every address `host` resolves to is a loopback address.
bool IsLoopbackHost(const std::string& host);

}  // namespace mnemo::server
