#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace mnemo::server {

RateLimiter::RateLimiter(double rate_per_s, double burst, std::shared_ptr<Clock> clock,
                         size_t max_keys)
    : rate_per_ms_(rate_per_s > 0 ? rate_per_s / 1000.0 : 0),
      burst_(std::max(burst, 1.0)),
      clock_(clock ? std::move(clock) : SystemClock()),
      max_per_shard_(std::max<size_t>(1, (max_keys + kShards - 1) / kShards)) {}

bool RateLimiter::Acquire(std::string_view key, int64_t* retry_after_ms) {
  if (retry_after_ms) *retry_after_ms = 0;
  if (unlimited()) return true;
  const int64_t now = clock_->NowMillis();
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  Bucket* b = nullptr;
  if (auto it = shard.index.find(key); it != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    b = &*it->second;
    // A clock that steps back refills nothing (and does not push last_ms back).
    if (now > b->last_ms) {
      b->tokens =
          std::min(burst_, b->tokens + static_cast<double>(now - b->last_ms) * rate_per_ms_);
      b->last_ms = now;
    }
  } else {
    shard.lru.push_front(Bucket{std::string(key), burst_, now});
    b = &shard.lru.front();
    shard.index.emplace(std::string_view(b->key), shard.lru.begin());
    if (shard.index.size() > max_per_shard_) {
      // The least recently used bucket: usually idle long enough to be full again.
      shard.index.erase(std::string_view(shard.lru.back().key));
      shard.lru.pop_back();
    }
  }
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
    return true;
  }
  if (retry_after_ms) {
    const double wait = std::ceil((1.0 - b->tokens) / rate_per_ms_);
    *retry_after_ms = std::max<int64_t>(1, static_cast<int64_t>(wait));
  }
  return false;
}

size_t RateLimiter::TrackedKeys() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.index.size();
  }
  return n;
}

}  // namespace mnemo::server
