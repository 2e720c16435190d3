#include "llm/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace mnemo::llm {
namespace {

// libcurl requires curl_global_init before any other call, once per process, and it is
// not itself thread-safe: a function-local static gives exactly-once initialisation.
void EnsureCurlGlobalInit() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;  // a failure shows up as curl_easy_init returning nullptr
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// The calling thread's easy handle, reused so its connection cache survives calls.
CURL* ThreadHandle() {
  EnsureCurlGlobalInit();
  thread_local std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
  return handle.get();
}

struct Sink {
  HttpAnswer* answer;
  size_t max_bytes;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->answer->body.size() + n > sink->max_bytes) {
    sink->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->answer->body.append(data, n);
  return n;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<HttpAnswer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  // A new status line (interim 100 Continue, or a proxy's answer) starts a new header set:
  // only the final response's headers are kept.
  if (line.starts_with("HTTP/")) {
    answer->headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  answer->headers.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
  return n;
}

Transport Classify(CURLcode code, bool too_large) {
  switch (code) {
    case CURLE_OK:
      return Transport::kOk;
    case CURLE_COULDNT_CONNECT:
      return Transport::kRefused;
    case CURLE_OPERATION_TIMEDOUT:
      return Transport::kTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Transport::kDns;
    case CURLE_WRITE_ERROR:
      return too_large ? Transport::kTooLarge : Transport::kOther;
    default:
      return Transport::kOther;
  }
}

}  // namespace

std::string_view TransportName(Transport t) {
  switch (t) {
    case Transport::kOk:
      return "ok";
    case Transport::kRefused:
      return "could not connect";
    case Transport::kTimeout:
      return "timed out";
    case Transport::kDns:
      return "host name did not resolve";
    case Transport::kTooLarge:
      return "answer too large";
    case Transport::kOther:
      return "transport error";
  }
  return "transport error";
}

const std::string* HttpAnswer::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

HttpAnswer PostJson(const HttpPost& post) {
  HttpAnswer answer;
  CURL* curl = ThreadHandle();
  if (curl == nullptr) {
    answer.transport_error = "libcurl could not be initialised";
    return answer;
  }
  curl_easy_reset(curl);  // forgets options, keeps the connection cache

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&headers](const std::string& h) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
    return next != nullptr;
  };
  // "Expect:" disables curl's 100-continue handshake for large bodies, which costs a
  // round trip (or a one-second stall with servers that ignore it).
  bool headers_ok = add_header("Content-Type: application/json") &&
                    add_header("Accept: application/json") && add_header("Expect:");
  for (const std::string& h : post.headers) headers_ok = headers_ok && add_header(h);
  if (!headers_ok) {
    answer.transport_error = "out of memory building the request headers";
    return answer;
  }

  Sink sink{&answer, post.max_response_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(post.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(post.timeout_ms));
  // No signals: the default resolver would otherwise use SIGALRM, unsafe with threads.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "mnemo");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);

  const CURLcode code = curl_easy_perform(curl);
  answer.transport = Classify(code, sink.too_large);
  if (answer.transport == Transport::kOk) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    answer.status = static_cast<int>(status);
  } else {
    answer.transport_error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    if (answer.transport == Transport::kTooLarge) {
      answer.transport_error =
          "answer larger than " + std::to_string(post.max_response_bytes) + " bytes";
    }
    answer.body.clear();
  }
  // The handle must not keep pointers into this frame's buffers.
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  return answer;
}

}  // namespace mnemo::llm
