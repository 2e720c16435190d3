#include "llm/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <random>
#include <string>

namespace mnemo::llm {

bool IsRetryable(const HttpAnswer& answer) {
  switch (answer.transport) {
    case Transport::kOk:
      // 408 is the server timing out on us: as transient as our own timeout.
      return answer.status == 429 || answer.status == 408 ||
             (answer.status >= 500 && answer.status <= 599);
    case Transport::kTooLarge:
      return false;  // the same request would get the same answer
    case Transport::kRefused:
    case Transport::kTimeout:
    case Transport::kDns:
    case Transport::kOther:
      return true;
  }
  return false;
}

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry) {
  int64_t ceiling = std::max(policy.initial_ms, 0);
  for (int i = 0; i < retry && ceiling < policy.max_ms; ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, std::max(policy.max_ms, 0));
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter(0, ceiling);
  return std::chrono::milliseconds(jitter(rng));
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         int64_t now_unix_ms) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](unsigned char c) { return std::isdigit(c) != 0; })) {
    // delta-seconds; anything beyond a day is as good as "a long time" (capped later).
    if (value.size() > 6) return std::chrono::milliseconds(int64_t{86400} * 1000);
    return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
  }
  // An HTTP-date starts with the day name; curl_getdate alone is too lenient ("-3").
  if (!std::isalpha(static_cast<unsigned char>(value.front()))) return std::nullopt;
  const std::string text(value);
  const time_t when = curl_getdate(text.c_str(), nullptr);  // RFC 1123 and its elders
  if (when == static_cast<time_t>(-1)) return std::nullopt;
  const int64_t delta = static_cast<int64_t>(when) * 1000 - now_unix_ms;
  return std::chrono::milliseconds(std::max<int64_t>(delta, 0));
}

std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int retry,
                                     const HttpAnswer& answer) {
  std::optional<std::chrono::milliseconds> asked;
  if (const std::string* ms = answer.Header("retry-after-ms")) {
    // OpenAI's millisecond variant; fractional values are allowed.
    char* end = nullptr;
    const double v = std::strtod(ms->c_str(), &end);
    if (end != ms->c_str() && *end == '\0' && v >= 0 && v < 1e9) {
      asked = std::chrono::milliseconds(static_cast<int64_t>(v));
    }
  }
  if (!asked) {
    if (const std::string* ra = answer.Header("retry-after")) {
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      asked = ParseRetryAfter(*ra, now);
    }
  }
  if (asked) return std::min(*asked, std::chrono::milliseconds(std::max(policy.max_ms, 0)));
  return BackoffDelay(policy, retry);
}

ConcurrencyLimit::Permit ConcurrencyLimit::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return available_ > 0; });
  --available_;
  return Permit(this);
}

void ConcurrencyLimit::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++available_;
  }
  cv_.notify_one();
}

}  // namespace mnemo::llm
