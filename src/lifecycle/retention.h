// Retention and heat of a memory (docs/lifecycle.md, "Retention" and "Tiers").
//
// Retention is an Ebbinghaus forgetting curve with reinforcement:
//   R = 2^(-d / S),  d = days since the last recall (else since mnemo learned it),
//   S = half_life_days x strength x (0.5 + importance)   (stability, in days)
// where strength starts at 1 and grows by 1 with every recall. A memory recalled often,
// or important, fades slower; recalling it resets d.
//
// Heat ranks memories for the tiers: heat = log2(1 + recalls) + R - 0.25 x log2(1 + KiB)
// (recalled often, recently, and small is hot).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "mnemo/memory.h"
#include "mnemo/options.h"

namespace mnemo::lifecycle {

// What retention and heat read of a memory.
struct RecallState {
  double importance = 0.5;
  double strength = 1.0;
  int64_t access_count = 0;
  std::optional<TimeMs> last_access;
  TimeMs created_at = 0;
  size_t bytes = 0;  // text size
};

RecallState RecallStateOf(const Memory& m);

// R in [0, 1] at `now` (1 when `now` is not after the reference time).
double Retention(const RecallState& m, TimeMs now, const LifecycleOptions& o);

double Heat(const RecallState& m, TimeMs now, const LifecycleOptions& o);

// The strength after `recalls` more recalls: strength + recalls, at most max_strength.
double Reinforce(double strength, int64_t recalls, const LifecycleOptions& o);

// The score multiplier of SearchRequest::retention_weight w: (1 - w) + w x R.
inline double RetentionFactor(double retention, double weight) {
  return (1 - weight) + weight * retention;
}

}  // namespace mnemo::lifecycle
