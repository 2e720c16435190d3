#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mnemo::eval {
namespace {

using Ids = std::vector<std::string>;

TEST(MetricsTest, RecallAnyAndAll) {
  const Ids ranked = {"a", "x", "b", "y", "c"};
  const IdSet gold = {"a", "b", "c"};
  EXPECT_EQ(RecallAny(ranked, gold, 1), 1.0);
  EXPECT_EQ(RecallAll(ranked, gold, 1), 0.0);
  EXPECT_EQ(RecallAll(ranked, gold, 4), 0.0);
  EXPECT_EQ(RecallAll(ranked, gold, 5), 1.0);
  EXPECT_EQ(RecallAll(ranked, gold, 50), 1.0);  // a short list is not padded
  EXPECT_EQ(RecallAny({"x", "y", "a"}, gold, 2), 0.0);
  EXPECT_EQ(RecallAny({"x", "y", "a"}, gold, 3), 1.0);
  EXPECT_EQ(RecallAny({}, gold, 10), 0.0);
  EXPECT_EQ(RecallAny(ranked, {}, 10), 0.0);
  EXPECT_EQ(RecallAll(ranked, {}, 10), 0.0);
}

TEST(MetricsTest, NdcgByHand) {
  // Relevant at positions 1, 3, 5: DCG = 1 + 1/log2(4) + 1/log2(6) = 1.886853;
  // ideal with 3 relevant = 1 + 1/log2(3) + 1/log2(4) = 2.130930.
  EXPECT_NEAR(Ndcg({"a", "x", "b", "y", "c"}, {"a", "b", "c"}, 5), 0.8854598815714874, 1e-12);
  // At k = 1 the ideal holds min(|gold|, k) = 1 relevant id.
  EXPECT_NEAR(Ndcg({"a", "x", "b"}, {"a", "b", "c"}, 1), 1.0, 1e-12);
  EXPECT_NEAR(Ndcg({"x", "b"}, {"b"}, 1), 0.0, 1e-12);
  EXPECT_NEAR(Ndcg({"x", "b"}, {"b"}, 2), 1.0 / std::log2(3.0), 1e-12);  // 0.6309
  // A repeated id counts once: 1 + 1/log2(4) over 1 + 1/log2(3).
  EXPECT_NEAR(Ndcg({"a", "a", "b"}, {"a", "b"}, 3), 0.9197207891481876, 1e-12);
  EXPECT_EQ(Ndcg({"a"}, {}, 5), 0.0);
}

TEST(MetricsTest, LongMemEvalDiscountWeighsTheFirstTwoPositionsAlike) {
  EXPECT_NEAR(Ndcg({"x", "a"}, {"a"}, 2, Discount::kLongMemEval), 1.0, 1e-12);
  EXPECT_NEAR(Ndcg({"x", "y", "a"}, {"a"}, 3, Discount::kLongMemEval), 1.0 / std::log2(3.0), 1e-12);
  // Two relevant at 2 and 3: (1 + 1/log2 3) / (1 + 1) = 0.815465.
  EXPECT_NEAR(Ndcg({"x", "a", "b"}, {"a", "b"}, 3, Discount::kLongMemEval),
              (1.0 + 1.0 / std::log2(3.0)) / 2.0, 1e-12);
}

TEST(MetricsTest, DistinctInOrder) {
  EXPECT_EQ(DistinctInOrder({"s2", "s1", "s2", "s3", "s1"}), (Ids{"s2", "s1", "s3"}));
  EXPECT_TRUE(DistinctInOrder({}).empty());
}

TEST(MetricsTest, LatencyMeanAndNearestRankP99) {
  std::vector<double> ms;
  for (int i = 100; i >= 1; --i) ms.push_back(i);
  LatencySummary s = SummarizeLatency(ms);
  EXPECT_DOUBLE_EQ(s.mean_ms, 50.5);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99.0);
  EXPECT_EQ(s.samples, 100u);
  s = SummarizeLatency({2.0, 1.0});
  EXPECT_DOUBLE_EQ(s.p99_ms, 2.0);
  s = SummarizeLatency({7.0});
  EXPECT_DOUBLE_EQ(s.mean_ms, 7.0);
  EXPECT_DOUBLE_EQ(s.p99_ms, 7.0);
  s = SummarizeLatency({});
  EXPECT_EQ(s.samples, 0u);
  EXPECT_EQ(s.p99_ms, 0.0);
}

TEST(MetricsTest, MeansPerCategoryAndOverall) {
  MetricMeans m;
  m.CountQuestion("temporal");
  m.Add("temporal", "recall_any@1", 1.0);
  m.CountQuestion("temporal");
  m.Add("temporal", "recall_any@1", 0.0);
  m.CountQuestion("multi-hop");
  m.Add("multi-hop", "recall_any@1", 1.0);
  m.Add("multi-hop", "ndcg@1", 0.5);  // only one question had this metric
  EXPECT_EQ(m.Categories(), (Ids{"temporal", "multi-hop"}));
  EXPECT_EQ(m.TotalQuestions(), 3);
  EXPECT_EQ(m.Questions("temporal"), 2);
  EXPECT_EQ(m.Questions("open-domain"), 0);
  EXPECT_DOUBLE_EQ(m.Category("temporal").at("recall_any@1"), 0.5);
  EXPECT_DOUBLE_EQ(m.Category("multi-hop").at("recall_any@1"), 1.0);
  EXPECT_DOUBLE_EQ(m.Overall().at("recall_any@1"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.Overall().at("ndcg@1"), 0.5);
  EXPECT_TRUE(m.Category("open-domain").empty());
}

}  // namespace
}  // namespace mnemo::eval
