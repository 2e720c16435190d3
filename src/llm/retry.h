// When and how long to wait before retrying a provider request, and the per-provider
// cap on requests in flight.
//
// Retried: 429, 408 and 5xx answers, timeouts and connection failures (refused, name not
// resolved, reset). Never retried: other 4xx (the request itself is wrong) and answers
// over the size limit. The wait before retry n (0-based) is "full jitter" exponential
// backoff: uniform in [0, min(max, initial * 2^n)]; when the provider says Retry-After
// (delta-seconds or an HTTP-date) or OpenAI's retry-after-ms, that wait is used instead,
// capped by max.
//
// Thread safety: the functions are pure except for BackoffDelay's use of a thread-local
// random generator; ConcurrencyLimit is safe for concurrent use.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "llm/http_client.h"

namespace mnemo::llm {

struct RetryPolicy {
  int max_retries = 4;  // attempts = max_retries + 1
  int initial_ms = 500;
  int max_ms = 20000;
};

bool IsRetryable(const HttpAnswer& answer);

// Full-jitter backoff before retry number `retry` (0 = the first retry).
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry);

// The delay a Retry-After header value asks for: delta-seconds ("3") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to now_unix_ms; a past date is 0).
// nullopt when the value is neither.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         int64_t now_unix_ms);

// The wait before retry number `retry` after `answer`: Retry-After (or retry-after-ms)
// when present, capped by policy.max_ms; otherwise BackoffDelay.
std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int retry,
                                     const HttpAnswer& answer);

// A counting semaphore: at most `max` holders of a Permit at once; Acquire blocks until
// a slot frees up (FIFO is not guaranteed).
class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(int max) : available_(max) {}
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

  class Permit {
   public:
    explicit Permit(ConcurrencyLimit* limit) : limit_(limit) {}
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { limit_->Release(); }

   private:
    ConcurrencyLimit* limit_;
  };

  [[nodiscard]] Permit Acquire();

 private:
  void Release();

  std::mutex mu_;
  std::condition_variable cv_;
  int available_;  // protected by mu_
};

}  // namespace mnemo::llm
