// HTTP/1.1 request and response values exchanged between HttpServer and the handlers
// (REST, MCP, operations routes). Plain values; no internal synchronization.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mnemo::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent (upper case by RFC 9110)
  std::string target;  // the raw request target: "/v1/spaces/a/memories?limit=5"
  std::string path;    // percent-decoded path without the query: "/v1/spaces/a/memories"
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote;  // peer address "127.0.0.1"; "local" on the Unix socket
  // Arrived on the data directory's owner-only Unix socket (server/local_socket.h).
  bool local = false;

  // First header with this (lower-case) name, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
  // First query parameter with this name, or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
  // For the access log and metrics, set by whoever answered: the route template
  // ("/v1/spaces/{space}/memories") and the id of the API key that was used.
  std::string route;
  std::string key_id;
};

// The reason phrase of a status code ("Not Found").
std::string_view StatusReason(int status);

}  // namespace mnemo::server
