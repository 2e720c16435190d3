// FakeOpenAi: an in-process OpenAI-compatible server for tests, on 127.0.0.1 and a free
// port, over real HTTP (mnemo::server::HttpServer).
//
// Default answers:
//   POST /v1/embeddings        deterministic vectors of Options::dimension (or the
//                              request's "dimensions"): hashed word features, so texts
//                              sharing words get similar vectors (EmbedText), with usage.
//   POST /v1/chat/completions  the next chat content (SetChatContents: in order, the last
//                              one repeated), with usage; a json_schema response_format
//                              is refused with 400 when Options::reject_json_schema.
// Scripting: Enqueue(path, response) queues answers per path, consumed in order before
// the defaults; each may set the status, extra headers (Retry-After ...), a raw body
// (possibly malformed; none = the default body) and a delay before answering.
// Every request is recorded (path, headers, body), and the highest number of requests
// being handled at once is tracked.
//
// Thread safety: all methods may be called concurrently with requests being served.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/status.h"

namespace mnemo::llm {

struct ScriptedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Retry-After", "1"}
  std::optional<std::string> body;     // raw body as sent; nullopt = the default answer
  std::chrono::milliseconds delay{0};  // before answering (interrupted by Stop)
};

struct RecordedRequest {
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string model;          // the request's "model", "" when absent
  int status = 0;             // what the fake answered
  int64_t prompt_tokens = 0;  // what the fake reported in usage (0 for scripted bodies)

  const std::string* Header(std::string_view lower_name) const;
};

class FakeOpenAi {
 public:
  struct Options {
    int dimension = 64;
    int workers = 16;  // requests handled at once (delays hold a worker)
    bool reject_json_schema = false;
  };

  FakeOpenAi();
  explicit FakeOpenAi(Options options);
  ~FakeOpenAi();  // Stop()
  FakeOpenAi(const FakeOpenAi&) = delete;
  FakeOpenAi& operator=(const FakeOpenAi&) = delete;

  // Listens on 127.0.0.1:port (0 = a free port) and starts serving.
  Status Start(int port = 0);
  // Interrupts pending delays, then stops the server. Idempotent.
  void Stop();

  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT/v1"

  // path: "/v1/embeddings" or "/v1/chat/completions".
  void Enqueue(const std::string& path, ScriptedResponse response);
  // Chat contents answered in order, the last one repeated (default {"memories":[]}).
  void SetChatContents(std::vector<std::string> contents);
  // Called after each request is answered (from server threads).
  void SetObserver(std::function<void(const RecordedRequest&)> observer);

  std::vector<RecordedRequest> requests() const;
  size_t RequestCount(std::string_view path) const;
  int max_concurrent() const;  // the most requests handled at once so far
  void ClearRecords();         // forgets requests and max_concurrent

  // The default embedding of a text: words (lower-cased ASCII letters and digits, other
  // bytes >= 0x80 kept) hashed into `dimension` signed buckets, L2-normalised; the zero
  // vector when the text has no word.
  static std::vector<float> EmbedText(std::string_view text, int dimension);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnemo::llm
