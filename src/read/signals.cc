#include "read/signals.h"

#include <algorithm>
#include <unordered_map>

namespace mnemo::read {

void SortRanked(std::vector<Ranked>* ranked) {
  std::sort(ranked->begin(), ranked->end(), [](const Ranked& a, const Ranked& b) {
    return a.raw != b.raw ? a.raw > b.raw : a.id < b.id;
  });
}

Status AddConversationContext(const index::LexicalIndex::View& view, double weight, size_t limit,
                              const PassingFn& passing, Signal* signal) {
  if (weight <= 0 || signal->ranked.empty()) return Status::Ok();
  std::unordered_map<MemoryId, double> total;
  total.reserve(signal->ranked.size() * 3);
  for (const auto& r : signal->ranked) total[r.id] += r.raw;
  std::vector<MemoryId> newcomers;
  auto give = [&](MemoryId to, double amount) {
    if (to == 0 || amount == 0) return;
    auto [slot, inserted] = total.emplace(to, 0.0);
    if (inserted) newcomers.push_back(to);
    slot->second += amount;
  };
  for (const auto& r : signal->ranked) {
    const double own = std::max(0.0, r.raw);
    if (own == 0) continue;
    give(view.Next(r.id), kContextForward * weight * own);
    give(view.Previous(r.id), kContextBackward * weight * own);
  }
  if (!newcomers.empty()) {
    MNEMO_ASSIGN_OR_RETURN(const auto pass, passing(newcomers));
    for (MemoryId id : newcomers) {
      if (!pass.count(id)) total.erase(id);
    }
  }
  signal->ranked.clear();
  for (const auto& [id, score] : total) signal->ranked.push_back(Ranked{id, score});
  SortRanked(&signal->ranked);
  if (signal->ranked.size() > limit) signal->ranked.resize(limit);
  return Status::Ok();
}

void AddSessionPrior(const index::LexicalIndex::View& view, double weight, Signal* signal) {
  if (weight <= 0 || signal->ranked.empty()) return;
  std::vector<uint32_t> keys;
  keys.reserve(signal->ranked.size());
  std::unordered_map<uint32_t, double> best;
  for (const auto& r : signal->ranked) {
    const uint32_t key = view.SessionKey(r.id);
    keys.push_back(key);
    if (key == 0) continue;
    auto [slot, inserted] = best.emplace(key, r.raw);
    if (!inserted) slot->second = std::max(slot->second, r.raw);
  }
  for (size_t i = 0; i < signal->ranked.size(); ++i) {
    if (keys[i] != 0) signal->ranked[i].raw += weight * std::max(0.0, best[keys[i]]);
  }
  SortRanked(&signal->ranked);
}

Status AddDateWindows(const std::vector<DateMention>& windows, double weight, size_t limit,
                      const WindowSearchFn& in_window, Signal* signal) {
  if (weight <= 0 || windows.empty()) return Status::Ok();
  std::unordered_map<MemoryId, double> score;
  for (const auto& r : signal->ranked) score[r.id] = r.raw;
  for (const auto& d : windows) {
    MNEMO_ASSIGN_OR_RETURN(auto hits, in_window(d.from - kDateWindowPad, d.to + kDateWindowPad));
    for (const auto& h : hits) {
      double& slot = score[h.id];
      slot = std::max(slot, h.score * (1 + weight));
    }
  }
  signal->ranked.clear();
  for (const auto& [id, sc] : score) signal->ranked.push_back(Ranked{id, sc});
  SortRanked(&signal->ranked);
  if (signal->ranked.size() > limit) signal->ranked.resize(limit);
  return Status::Ok();
}

}  // namespace mnemo::read
