#include "server/app.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "mnemo/version.h"
#include "server/errors.h"
#include "server/openapi.h"
#include "server/rest.h"
#include "server/ui_files.h"
#include "util/json_codec.h"
#include "util/time_util.h"

namespace mnemo::server {
namespace {

HttpResponse JsonResponse(int status, const util::Json& j, std::string route) {
  HttpResponse r;
  r.status = status;
  r.body = util::DumpJson(j);
  r.route = std::move(route);
  return r;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The API key of a request: "Authorization: Bearer <key>" or "X-API-Key: <key>".
std::optional<std::string_view> RequestKey(const HttpRequest& req) {
  if (const std::string* auth = req.Header("authorization")) return BearerToken(*auth);
  if (const std::string* key = req.Header("x-api-key")) return std::string_view(*key);
  return std::nullopt;
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return false;
  bool all = res != nullptr;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      all = all && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (ai->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      all = all && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    } else {
      all = false;
    }
  }
  freeaddrinfo(res);
  return all;
}

App::App(Engine& engine, KeyStore& keys, AppConfig config, std::shared_ptr<Clock> clock)
    : engine_(engine),
      keys_(keys),
      config_(std::move(config)),
      clock_(std::move(clock)),
      local_limits_(LocalLimits(config_.limits)),
      limiter_(config_.limits.rate_limit_per_key, config_.limits.rate_burst_per_key, clock_),
      mcp_(engine, config_.limits, config_.default_space, "mnemo", MNEMO_VERSION) {}

namespace {

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The name of a Host header value, without its port: "[::1]:8420" -> "[::1]".
std::string_view HostName(std::string_view host) {
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  return host.substr(0, host.find(':'));
}

bool IsLoopbackName(std::string_view name) {
  if (name == "localhost" || name == "[::1]") return true;
  // 127.0.0.0/8, written as four decimal numbers.
  if (!name.starts_with("127.")) return false;
  int dots = 0;
  for (char c : name) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3 && name.back() != '.';
}

}  // namespace

std::optional<ApiError> App::CheckBrowser(const HttpRequest& req) const {
  const std::string* host_header = req.Header("host");
  const std::string host = host_header ? Lowercase(*host_header) : "";
  auto listed = [](const std::vector<std::string>& list, std::string_view value) {
    return std::any_of(list.begin(), list.end(),
                       [&](const std::string& x) { return Lowercase(x) == value; });
  };
  if (config_.loopback_listener && !host.empty() && !IsLoopbackName(HostName(host)) &&
      !listed(config_.allowed_hosts, host) && !listed(config_.allowed_hosts, HostName(host))) {
    return ApiError{403, "forbidden",
                    "this server listens on loopback and answers only requests addressed to "
                    "localhost, 127.0.0.1 or [::1], not to \"" +
                        *host_header +
                        "\" (a defence against DNS rebinding); list other names in the "
                        "server config's \"allowed_hosts\"",
                    ""};
  }
  const std::string* origin_header = req.Header("origin");
  if (origin_header == nullptr) return std::nullopt;
  const std::string origin = Lowercase(*origin_header);
  const size_t scheme_end = origin.find("://");
  const bool same_origin =
      !host.empty() && scheme_end != std::string::npos && origin.substr(scheme_end + 3) == host;
  if (IsLoopbackOrigin(origin) || same_origin || listed(config_.allowed_origins, origin)) {
    return std::nullopt;
  }
  return ApiError{403, "forbidden",
                  "cross-origin request from \"" + *origin_header +
                      "\" refused: pages may call this server only from its own origin or "
                      "from localhost, 127.0.0.1 or [::1]; list other origins in the server "
                      "config's \"allowed_origins\"",
                  ""};
}

bool App::Authorize(const HttpRequest& req, Principal* principal, HttpResponse* error) {
  if (Status s = keys_.MaybeReload(); !s.ok()) {
    std::lock_guard<std::mutex> lock(log_mu_);
    std::fprintf(config_.log, "mnemo: keeping the previous API keys: %s\n", s.ToString().c_str());
  }
  // Two credentials (two Authorization headers, or one and an X-API-Key) are refused:
  // whichever one a server picked, the other might be the one the caller meant.
  int credentials = 0;
  for (const auto& header : req.headers) {
    credentials += header.first == "authorization" || header.first == "x-api-key";
  }
  if (credentials > 1) {
    *error = ErrorResponse(ApiError{400, "malformed_request",
                                    "send one credential: this request has " +
                                        std::to_string(credentials) +
                                        " Authorization / X-API-Key headers",
                                    ""});
    return false;
  }
  std::optional<std::string_view> key = RequestKey(req);
  if (!key) {
    // Once a key file exists (even with every key revoked) every call needs a key, but
    // on the owner-only Unix socket, whose callers may read the data files anyway.
    if (req.local || (config_.anonymous_allowed && !keys_.Configured())) {
      principal->unrestricted = true;
      return true;
    }
    *error = ErrorResponse(ApiError{401, "unauthorized",
                                    "this server requires an API key: send 'Authorization: "
                                    "Bearer <key>' (create keys with 'mnemo keys create')",
                                    ""});
    error->headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mnemo\"");
    return false;
  }
  std::optional<Principal> p = keys_.Authenticate(*key);
  if (!p) {
    *error = ErrorResponse(ApiError{401, "unauthorized", "unknown or revoked API key", ""});
    error->headers.emplace_back("WWW-Authenticate",
                                "Bearer realm=\"mnemo\", error=\"invalid_token\"");
    return false;
  }
  *principal = std::move(*p);
  int64_t retry_after_ms = 0;
  if (!limiter_.Acquire(principal->key_id, &retry_after_ms)) {
    *error = ErrorResponse(ApiError{429, "rate_limited",
                                    "rate limit of " +
                                        std::to_string(config_.limits.rate_limit_per_key) +
                                        " requests/s for this key exceeded; retry after " +
                                        std::to_string(retry_after_ms) + " ms",
                                    ""});
    error->headers.emplace_back("Retry-After", std::to_string((retry_after_ms + 999) / 1000));
    error->key_id = principal->key_id;
    return false;
  }
  return true;
}

HttpResponse App::Handle(const HttpRequest& req) {
  const std::string& path = req.path;
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool ops_route =
      path == "/healthz" || path == "/readyz" || path == "/openapi.json" || path == "/metrics";
  if (ops_route && !get) {
    HttpResponse r = ErrorResponse(
        ApiError{405, "method_not_allowed",
                 req.method + " is not allowed on " + path + " (allowed: GET, HEAD)", ""});
    r.headers.emplace_back("Allow", "GET, HEAD");
    r.route = path;
    return r;
  }
  if (path == "/healthz") {
    return JsonResponse(200, {{"status", "ok"}, {"version", MNEMO_VERSION}}, "/healthz");
  }
  if (path == "/readyz") {
    if (draining_.load()) {
      return JsonResponse(503, {{"status", "shutting_down"}}, "/readyz");
    }
    return JsonResponse(200, {{"status", "ready"}}, "/readyz");
  }
  if (path == "/openapi.json") {
    HttpResponse r;
    r.body = std::string(OpenApiDocument());
    r.route = "/openapi.json";
    return r;
  }
  if (path == "/" || path == "/ui" || StartsWith(path, "/ui/")) return UiResponse(req);
  const bool is_metrics = path == "/metrics";
  const bool is_mcp = path == "/mcp";
  const bool is_rest = path == "/v1" || StartsWith(path, "/v1/");
  if (!is_metrics && !is_mcp && !is_rest) {
    HttpResponse r =
        ErrorResponse(ApiError{404, "not_found", "no route for " + req.method + " " + path, ""});
    return r;
  }
  if (!req.local && !is_mcp) {  // /mcp checks the Origin itself, answering JSON-RPC
    if (auto refused = CheckBrowser(req)) {
      HttpResponse r = ErrorResponse(*refused);
      r.route = is_metrics ? "/metrics" : "/v1";
      return r;
    }
  }
  Principal principal;
  HttpResponse error;
  if (!Authorize(req, &principal, &error)) {
    error.route = is_metrics ? "/metrics" : is_mcp ? "/mcp" : "/v1";
    return error;
  }
  HttpResponse r;
  if (is_metrics) {
    if (!principal.Can("*", Role::kRead) || !principal.user.empty()) {
      r = ErrorResponse(
          ApiError{403, "forbidden",
                   "/metrics needs a key with a role on every space (\"*\") and every user", ""});
    } else {
      r = Metrics();
    }
    r.route = "/metrics";
  } else if (is_mcp) {
    r = HandleMcpHttp(mcp_, req, principal,
                      principal.key_id.empty() ? "mcp" : "mcp:" + principal.key_id);
  } else {
    // The data directory's owner on the Unix socket is the CLI (backend.h in tools/mnemo).
    const std::string actor = !principal.key_id.empty() ? "http:" + principal.key_id
                              : req.local               ? "cli"
                                                        : "http";
    r = HandleRest(
        ops::Context{engine_, principal, req.local ? local_limits_ : config_.limits, actor, &keys_},
        req);
  }
  r.key_id = principal.key_id;
  return r;
}

// The web UI's files. They hold no data (the page reads it through /v1 with the user's
// key), so they are served to anyone who can reach the server, under a content security
// policy that allows nothing but this server.
HttpResponse App::UiResponse(const HttpRequest& req) {
  const std::string& path = req.path;
  HttpResponse r;
  r.route = "/ui";
  if (req.method != "GET" && req.method != "HEAD") {
    r = ErrorResponse(ApiError{405, "method_not_allowed",
                               req.method + " is not allowed on " + path + " (allowed: GET, HEAD)",
                               ""});
    r.headers.emplace_back("Allow", "GET, HEAD");
    r.route = "/ui";
    return r;
  }
  if (path == "/" || path == "/ui") {
    r.status = path == "/" ? 302 : 301;
    r.headers.emplace_back("Location", "/ui/");
    r.body = "";
    return r;
  }
  std::string_view name = std::string_view(path).substr(4);
  if (name.empty()) name = "index.html";
  const UiFile* file = FindUiFile(name);
  if (file == nullptr) {
    r = ErrorResponse(ApiError{404, "not_found", "no UI file " + path, ""});
    r.route = "/ui";
    return r;
  }
  r.content_type = std::string(file->content_type);
  r.body = std::string(file->body);
  r.headers = {
      {"Cache-Control", "no-cache"},
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
  return r;
}

HttpResponse App::Metrics() {
  std::vector<Metrics::Gauge> gauges;
  Metrics::Gauge memories{"mnemo_space_memories", "Active memories per space.", "space", {}};
  if (auto spaces = engine_.ListSpaces(); spaces.ok()) {
    for (const auto& s : *spaces) {
      memories.samples.emplace_back(s.name, static_cast<double>(s.memories));
    }
  }
  gauges.push_back(std::move(memories));
  if (server_ != nullptr) {
    const ServerStats st = server_->stats();
    gauges.push_back(
        {"mnemo_http_connections", "Open HTTP connections.", "", {{"", double(st.connections)}}});
    gauges.push_back({"mnemo_http_queue_depth",
                      "Requests waiting for a worker.",
                      "",
                      {{"", double(st.queued)}}});
    gauges.push_back(
        {"mnemo_http_in_flight", "Requests being handled.", "", {{"", double(st.in_flight)}}});
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.Render(gauges);
  return r;
}

void App::Observe(const AccessRecord& record) {
  metrics_.Record(record.route, record.method, record.status, record.duration_us);
  if (config_.access_log) Log(record);
}

void App::Log(const AccessRecord& r) {
  util::Json line = {{"ts", util::FormatIso8601(clock_->NowMillis())},
                     {"remote", r.remote},
                     {"method", r.method},
                     {"path", r.path},
                     {"route", r.route},
                     {"status", r.status},
                     {"ms", static_cast<double>(r.duration_us) / 1000.0},
                     {"bytes_in", r.bytes_in},
                     {"bytes_out", r.bytes_out}};
  if (!r.key_id.empty()) line["key"] = r.key_id;
  std::string text = util::DumpJson(line);
  text += '\n';
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fwrite(text.data(), 1, text.size(), config_.log);
}

}  // namespace mnemo::server
