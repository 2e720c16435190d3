#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mnemo::eval {
namespace {

// The distinct gold ids among the first k positions.
size_t GoldInTopK(const std::vector<std::string>& ranked, const IdSet& gold, size_t k) {
  IdSet found;
  for (size_t i = 0; i < ranked.size() && i < k; ++i) {
    if (gold.count(ranked[i])) found.insert(ranked[i]);
  }
  return found.size();
}

double Weight(size_t position, Discount discount) {  // position is 1-based
  if (discount == Discount::kLongMemEval) {
    return position == 1 ? 1.0 : 1.0 / std::log2(static_cast<double>(position));
  }
  return 1.0 / std::log2(static_cast<double>(position) + 1.0);
}

}  // namespace

double RecallAny(const std::vector<std::string>& ranked, const IdSet& gold, size_t k) {
  return GoldInTopK(ranked, gold, k) > 0 ? 1.0 : 0.0;
}

double RecallAll(const std::vector<std::string>& ranked, const IdSet& gold, size_t k) {
  return !gold.empty() && GoldInTopK(ranked, gold, k) == gold.size() ? 1.0 : 0.0;
}

double Ndcg(const std::vector<std::string>& ranked, const IdSet& gold, size_t k,
            Discount discount) {
  double dcg = 0;
  IdSet seen;
  for (size_t i = 0; i < ranked.size() && i < k; ++i) {
    if (gold.count(ranked[i]) && seen.insert(ranked[i]).second) dcg += Weight(i + 1, discount);
  }
  double ideal = 0;
  for (size_t p = 1; p <= std::min(gold.size(), k); ++p) ideal += Weight(p, discount);
  return ideal > 0 ? dcg / ideal : 0.0;
}

std::vector<std::string> DistinctInOrder(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  IdSet seen;
  for (const auto& id : ids) {
    if (seen.insert(id).second) out.push_back(id);
  }
  return out;
}

LatencySummary SummarizeLatency(std::vector<double> ms) {
  LatencySummary s;
  s.samples = ms.size();
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  const auto rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(ms.size())));
  s.p99_ms = ms[std::max<size_t>(rank, 1) - 1];
  return s;
}

void MetricMeans::Add(const std::string& category, const std::string& metric, double value) {
  auto& c = by_category_[category][metric];
  c.total += value;
  ++c.n;
  auto& o = overall_[metric];
  o.total += value;
  ++o.n;
  if (std::find(order_.begin(), order_.end(), category) == order_.end()) order_.push_back(category);
}

void MetricMeans::CountQuestion(const std::string& category) {
  ++questions_[category];
  ++total_questions_;
  if (std::find(order_.begin(), order_.end(), category) == order_.end()) order_.push_back(category);
}

std::map<std::string, double> MetricMeans::Category(const std::string& category) const {
  auto it = by_category_.find(category);
  return it == by_category_.end() ? std::map<std::string, double>() : Means(it->second);
}

std::vector<std::string> MetricMeans::Categories() const { return order_; }

int64_t MetricMeans::Questions(const std::string& category) const {
  auto it = questions_.find(category);
  return it == questions_.end() ? 0 : it->second;
}

std::map<std::string, double> MetricMeans::Means(const Sums& sums) {
  std::map<std::string, double> out;
  for (const auto& [name, s] : sums) out[name] = s.n > 0 ? s.total / static_cast<double>(s.n) : 0.0;
  return out;
}

}  // namespace mnemo::eval
