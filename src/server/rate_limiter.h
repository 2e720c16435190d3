// Per-key token buckets: each key (an API key id, or a client address for anonymous
// callers) may make `burst` requests at once and `rate_per_s` per second on average.
//
// Memory is bounded: the limiter tracks at most `max_keys` buckets. Each shard keeps its
// buckets in least-recently-used order; when a shard is over its share, its least
// recently used bucket is dropped. Usually that bucket has been idle long enough to be
// full again, so dropping it changes nothing (a new bucket starts full); only when more
// than `max_keys` keys are active at once does a key lose its state early.
//
// Thread safety: Acquire may be called from any number of threads; buckets live in 16
// shards, each behind its own mutex. Acquire is O(1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mnemo/options.h"

namespace mnemo::server {

class RateLimiter {
 public:
  static constexpr size_t kDefaultMaxKeys = 65536;

  // rate_per_s <= 0 disables limiting (Acquire always succeeds). burst below 1 counts as 1.
  // clock nullptr = SystemClock().
  RateLimiter(double rate_per_s, double burst, std::shared_ptr<Clock> clock,
              size_t max_keys = kDefaultMaxKeys);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token from `key`'s bucket. On refusal, *retry_after_ms (if not null) is
  // the time until one token is available (>= 1); on success it is set to 0.
  bool Acquire(std::string_view key, int64_t* retry_after_ms);

  bool unlimited() const { return rate_per_ms_ <= 0; }
  // Buckets currently tracked (for tests and metrics).
  size_t TrackedKeys() const;

 private:
  struct Bucket {
    std::string key;
    double tokens;
    int64_t last_ms;  // time of the last refill
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Bucket> lru;  // protected by mu; most recently used first
    // protected by mu; key -> its node in lru (the views point into the nodes' strings,
    // which list nodes never move)
    std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;
  };
  static constexpr size_t kShards = 16;

  const double rate_per_ms_;
  const double burst_;
  const std::shared_ptr<Clock> clock_;
  const size_t max_per_shard_;
  Shard shards_[kShards];
};

}  // namespace mnemo::server
