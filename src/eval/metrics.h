// Retrieval metrics over ranked id lists with binary relevance, and their aggregation.
//
// Conventions: k counts positions of `ranked` (a list shorter than k is not padded); an
// id that repeats in `ranked` counts once, at its first position; an empty gold set
// scores 0 everywhere (callers leave such questions out instead).
//
// Thread safety: pure functions; MetricMeans is a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

namespace mnemo::eval {

using IdSet = std::unordered_set<std::string>;

// 1 if any gold id is in the top k, else 0.
double RecallAny(const std::vector<std::string>& ranked, const IdSet& gold, size_t k);
// 1 if every gold id is in the top k, else 0.
double RecallAll(const std::vector<std::string>& ranked, const IdSet& gold, size_t k);

enum class Discount {
  // Position p (1-based) weighs 1 / log2(p + 1): the textbook DCG.
  kStandard,
  // Position 1 weighs 1, position p >= 2 weighs 1 / log2(p): the DCG of LongMemEval's
  // reference evaluation, used for its ndcg_any so that numbers compare with published ones.
  kLongMemEval,
};

// DCG of the top k over the ideal DCG, whose relevant ids fill the first
// min(|gold|, k) positions.
double Ndcg(const std::vector<std::string>& ranked, const IdSet& gold, size_t k,
            Discount discount = Discount::kStandard);

// The ids in order of first appearance (turns -> the sessions they belong to).
std::vector<std::string> DistinctInOrder(const std::vector<std::string>& ids);

struct LatencySummary {
  double mean_ms = 0;
  double p99_ms = 0;  // nearest rank: the ceil(0.99 n)-th smallest sample
  size_t samples = 0;
};
LatencySummary SummarizeLatency(std::vector<double> ms);

// Means of named metrics per category and overall. Each (category, metric) pair
// averages the values added for it, so a metric that does not apply to some question
// (no gold turns, say) simply has fewer samples.
class MetricMeans {
 public:
  // Adds one question's value to `category` and to the overall mean.
  void Add(const std::string& category, const std::string& metric, double value);
  // Counts one scored question of `category` (reported next to the means).
  void CountQuestion(const std::string& category);

  std::map<std::string, double> Overall() const { return Means(overall_); }
  std::map<std::string, double> Category(const std::string& category) const;
  std::vector<std::string> Categories() const;  // in order of first use
  int64_t Questions(const std::string& category) const;
  int64_t TotalQuestions() const { return total_questions_; }

 private:
  struct Sum {
    double total = 0;
    int64_t n = 0;
  };
  using Sums = std::map<std::string, Sum>;
  static std::map<std::string, double> Means(const Sums& sums);

  Sums overall_;
  std::map<std::string, Sums> by_category_;
  std::map<std::string, int64_t> questions_;
  std::vector<std::string> order_;
  int64_t total_questions_ = 0;
};

}  // namespace mnemo::eval
