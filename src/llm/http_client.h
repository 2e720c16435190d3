// A minimal HTTP client over libcurl for the model providers: one blocking POST of a
// JSON body, with a connect timeout and a total timeout, that reports the HTTP status,
// the body and the Retry-After headers, and tells transport failures apart (refused,
// timed out, name not resolved, other).
//
// Connections: each thread keeps one curl easy handle (thread_local) and reuses it for
// every call it makes, so keep-alive connections (and TLS sessions) to a provider are
// reused across calls of the same thread; the handle is reset between calls and freed
// when the thread exits. curl_global_init runs exactly once, on first use.
//
// Thread safety: PostJson may be called from any number of threads concurrently.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mnemo::llm {

enum class Transport {
  kOk,        // an HTTP answer arrived (any status)
  kRefused,   // could not connect (refused, unreachable)
  kTimeout,   // connect or total timeout elapsed
  kDns,       // the host name did not resolve
  kTooLarge,  // the answer exceeded HttpPost::max_response_bytes
  kOther,     // any other transport failure (reset, TLS, malformed HTTP, ...)
};

// "connection refused", "timed out", ...
std::string_view TransportName(Transport t);

struct HttpPost {
  std::string url;
  std::vector<std::string> headers;  // "Name: value" lines, added to the JSON defaults
  std::string body;                  // sent as application/json
  int connect_timeout_ms = 5000;
  int timeout_ms = 30000;  // whole exchange, connect included
  size_t max_response_bytes = size_t{256} << 20;
};

struct HttpAnswer {
  Transport transport = Transport::kOther;
  std::string transport_error;  // curl's explanation when transport != kOk
  int status = 0;               // HTTP status when transport == kOk
  std::string body;
  // Response headers of the final answer, names lower-cased, values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;

  const std::string* Header(std::string_view lower_name) const;
  const std::string* RetryAfter() const { return Header("retry-after"); }
};

HttpAnswer PostJson(const HttpPost& post);

}  // namespace mnemo::llm
