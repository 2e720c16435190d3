#include "lifecycle/retention.h"

#include <algorithm>
#include <cmath>

namespace mnemo::lifecycle {
namespace {
constexpr double kDayMs = 24.0 * 3600 * 1000;
}  // namespace

RecallState RecallStateOf(const Memory& m) {
  return RecallState{m.importance,  m.strength,   m.access_count,
                     m.last_access, m.created_at, m.text.size()};
}

double Retention(const RecallState& m, TimeMs now, const LifecycleOptions& o) {
  const TimeMs ref = m.last_access.value_or(m.created_at);
  const double days = std::max<double>(0, static_cast<double>(now - ref)) / kDayMs;
  const double importance = std::clamp(m.importance, 0.0, 1.0);
  const double stability =
      std::max(1e-9, o.half_life_days * std::max(1.0, m.strength) * (0.5 + importance));
  return std::exp2(-days / stability);
}

double Heat(const RecallState& m, TimeMs now, const LifecycleOptions& o) {
  const double recalls = std::log2(1.0 + static_cast<double>(std::max<int64_t>(0, m.access_count)));
  const double size = 0.25 * std::log2(1.0 + static_cast<double>(m.bytes) / 1024.0);
  return recalls + Retention(m, now, o) - size;
}

double Reinforce(double strength, int64_t recalls, const LifecycleOptions& o) {
  return std::min(o.max_strength, std::max(1.0, strength) + static_cast<double>(recalls));
}

}  // namespace mnemo::lifecycle
