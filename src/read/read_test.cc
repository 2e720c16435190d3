#include <gtest/gtest.h>

#include "read/fusion.h"
#include "read/query.h"

namespace mnemo::read {
namespace {

TEST(QueryTest, TermsAreStemmedDistinctAndWithoutStopWords) {
  auto terms = QueryTerms("When did the runners run? Running!");
  EXPECT_EQ(terms, (std::vector<std::string>{"runner", "run"}));
}

TEST(QueryTest, MatchExpressionQuotesTermsAndScopes) {
  EXPECT_EQ(MatchExpression({}, "9123"), "");
  EXPECT_EQ(MatchExpression({"tea", "x\"y"}, ""),
            "({text speaker}:\"tea\" OR {text speaker}:\"x\"\"y\")");
  EXPECT_EQ(MatchExpression({"tea"}, "9123"), "({text speaker}:\"tea\") AND scope:\"9123\"");
}

constexpr TimeMs kDay = 24LL * 3600 * 1000;

TEST(QueryTest, DateMentionsNameDaysAndMonths) {
  // 2023-02-01 is day 19389 since the epoch.
  const TimeMs feb1 = 19389 * kDay;
  for (const char* q : {"What did Gina find on 1 February, 2023?", "on February 1, 2023",
                        "on 1st feb 2023", "as of 2023-02-01", "FEBRUARY 01 2023"}) {
    const auto d = DateMentions(q);
    ASSERT_EQ(d.size(), 1u) << q;
    EXPECT_EQ(d[0].from, feb1) << q;
    EXPECT_EQ(d[0].to, feb1 + kDay) << q;
  }
  const auto month = DateMentions("Who came to the party in June 2022?");
  ASSERT_EQ(month.size(), 1u);
  EXPECT_EQ(month[0].to - month[0].from, 30 * kDay);
  const auto december = DateMentions("December, 2022");  // the period ends in 2023
  ASSERT_EQ(december.size(), 1u);
  EXPECT_EQ(december[0].to - december[0].from, 31 * kDay);
  const auto two = DateMentions("between 3 May 2023 and 9 June 2023");
  EXPECT_EQ(two.size(), 2u);
  // A day the month lacks: the month is still named.
  const auto april = DateMentions("31 April 2023");
  ASSERT_EQ(april.size(), 1u);
  EXPECT_EQ(april[0].to - april[0].from, 30 * kDay);
  for (const char* q : {"May I ask something?", "in 2022", "last week", "the 3rd of May",
                        "2023-13-01", "Marchitecture 2023", ""}) {
    EXPECT_TRUE(DateMentions(q).empty()) << q;
  }
}

TEST(FusionTest, RrfCombinesRanksWithWeights) {
  std::vector<Signal> s = {{"lexical", 1.0, {{1, 9.0}, {2, 5.0}}},
                           {"vector", 0.5, {{2, 0.9}, {3, 0.8}}}};
  auto f = Fuse(s, Fusion::kRrf, 60);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].id, 2);  // 1/62 + 0.5/61 beats 1/61
  EXPECT_NEAR(f[0].score, 1.0 / 62 + 0.5 / 61, 1e-12);
  EXPECT_EQ(f[0].signals[0].rank, 2);
  EXPECT_EQ(f[0].signals[1].rank, 1);
  EXPECT_DOUBLE_EQ(f[0].signals[1].raw, 0.9);
  EXPECT_EQ(f[1].id, 1);
  EXPECT_EQ(f[1].signals[1].rank, 0);  // not retrieved by the vector signal
  EXPECT_EQ(f[2].id, 3);
}

TEST(FusionTest, WeightedNormalisesEachSignal) {
  std::vector<Signal> s = {{"lexical", 1.0, {{1, 10.0}, {2, 0.0}}},
                           {"vector", 2.0, {{2, 0.5}, {1, 0.25}}}};
  auto f = Fuse(s, Fusion::kWeighted, 60);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].id, 2);  // 0 + 2*1 > 1 + 0
  EXPECT_DOUBLE_EQ(f[0].score, 2.0);
  EXPECT_DOUBLE_EQ(f[1].score, 1.0);
}

TEST(FusionTest, TiesBreakByOlderId) {
  std::vector<Signal> s = {{"lexical", 1.0, {{7, 1.0}}}, {"vector", 1.0, {{3, 1.0}}}};
  auto f = Fuse(s, Fusion::kRrf, 60);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].id, 3);
  EXPECT_EQ(f[1].id, 7);
}

}  // namespace
}  // namespace mnemo::read
