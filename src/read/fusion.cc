#include "read/fusion.h"

#include <algorithm>
#include <unordered_map>

namespace mnemo::read {

std::vector<Fused> Fuse(const std::vector<Signal>& signals, Fusion fusion, int rrf_k) {
  std::unordered_map<MemoryId, size_t> slot;
  std::vector<Fused> out;
  for (size_t s = 0; s < signals.size(); ++s) {
    const Signal& sig = signals[s];
    double lo = 0, hi = 0;
    if (!sig.ranked.empty()) {
      auto [mn, mx] =
          std::minmax_element(sig.ranked.begin(), sig.ranked.end(),
                              [](const Ranked& a, const Ranked& b) { return a.raw < b.raw; });
      lo = mn->raw;
      hi = mx->raw;
    }
    for (size_t r = 0; r < sig.ranked.size(); ++r) {
      const Ranked& c = sig.ranked[r];
      auto [it, inserted] = slot.emplace(c.id, out.size());
      if (inserted) {
        Fused f;
        f.id = c.id;
        for (const auto& other : signals)
          f.signals.push_back(SignalExplanation{other.name, 0, 0, 0});
        out.push_back(std::move(f));
      }
      Fused& f = out[it->second];
      SignalExplanation& e = f.signals[s];
      if (e.rank != 0) continue;  // a list names each id once; keep the best rank
      e.rank = static_cast<int>(r) + 1;
      e.raw = c.raw;
      if (fusion == Fusion::kRrf) {
        e.contribution = sig.weight / (rrf_k + e.rank);
      } else {
        const double norm = hi > lo ? (c.raw - lo) / (hi - lo) : 1.0;
        e.contribution = sig.weight * norm;
      }
      f.score += e.contribution;
    }
  }
  std::sort(out.begin(), out.end(), [](const Fused& a, const Fused& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.id < b.id;
  });
  return out;
}

}  // namespace mnemo::read
