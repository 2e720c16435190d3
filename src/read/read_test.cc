#include <gtest/gtest.h>

#include "index/lexical_index.h"
#include "read/fusion.h"
#include "read/query.h"
#include "read/signals.h"

namespace mnemo::read {
namespace {

TEST(QueryTest, TermsAreStemmedDistinctAndWithoutStopWords) {
  auto terms = QueryTerms("When did the runners run? Running!");
  EXPECT_EQ(terms, (std::vector<std::string>{"runner", "run"}));
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


// ---- query signals (signals.h) ---------------------------------------------------------

// A session s1 of three turns (1 -> 2 -> 3), a session s2 of one (4), and a memory
// without a session (5).
std::unique_ptr<index::LexicalIndex> Conversation() {
  auto lexical = index::LexicalIndex::Create();
  std::vector<index::LexicalDoc> docs;
  auto turn = [](MemoryId id, const std::string& session, MemoryId prev) {
    Memory m;
    m.id = id;
    m.user_id = "u";
    m.session_id = session;
    m.text = "turn " + std::to_string(id);
    return index::AnalyzeMemory(m, prev);
  };
  docs.push_back(turn(1, "s1", 0));
  docs.push_back(turn(2, "s1", 1));
  docs.push_back(turn(3, "s1", 2));
  docs.push_back(turn(4, "s2", 0));
  docs.push_back(turn(5, "", 0));
  lexical->Apply(1, std::move(docs), {});
  return lexical;
}

PassingFn AllBut(MemoryId excluded) {
  return [excluded](const std::vector<MemoryId>& ids) -> Result<std::unordered_set<MemoryId>> {
    std::unordered_set<MemoryId> out;
    for (MemoryId id : ids) {
      if (id != excluded) out.insert(id);
    }
    return out;
  };
}

TEST(SignalsTest, ConversationContextFlowsForwardMoreThanBackward) {
  auto lexical = Conversation();
  auto view = lexical->Read();
  Signal s{"lexical", 1, {{2, 10.0}}};
  ASSERT_TRUE(AddConversationContext(view, 0.4, 100, AllBut(0), &s).ok());
  ASSERT_EQ(s.ranked.size(), 3u);
  EXPECT_EQ(s.ranked[0].id, 2);
  EXPECT_DOUBLE_EQ(s.ranked[0].raw, 10.0);
  EXPECT_EQ(s.ranked[1].id, 3);  // the reply after the match
  EXPECT_DOUBLE_EQ(s.ranked[1].raw, kContextForward * 0.4 * 10);
  EXPECT_EQ(s.ranked[2].id, 1);
  EXPECT_DOUBLE_EQ(s.ranked[2].raw, kContextBackward * 0.4 * 10);

  // A neighbour that does not pass the filter does not enter; the limit cuts the list.
  Signal t{"lexical", 1, {{2, 10.0}}};
  ASSERT_TRUE(AddConversationContext(view, 0.4, 100, AllBut(3), &t).ok());
  ASSERT_EQ(t.ranked.size(), 2u);
  EXPECT_EQ(t.ranked[1].id, 1);
  Signal u{"lexical", 1, {{2, 10.0}}};
  ASSERT_TRUE(AddConversationContext(view, 0.4, 1, AllBut(0), &u).ok());
  EXPECT_EQ(u.ranked.size(), 1u);
  // Weight 0: unchanged.
  Signal v{"lexical", 1, {{2, 10.0}}};
  ASSERT_TRUE(AddConversationContext(view, 0, 100, AllBut(0), &v).ok());
  EXPECT_EQ(v.ranked.size(), 1u);
}

TEST(SignalsTest, SessionPriorLiftsTheBestSessionTogether) {
  auto lexical = Conversation();
  auto view = lexical->Read();
  Signal s{"lexical", 1, {{4, 5.0}, {1, 4.0}, {3, 1.0}, {5, 3.0}}};
  AddSessionPrior(view, 0.5, &s);
  // s1's best is 4.0: 1 -> 6.0, 3 -> 3.0; s2 (4) -> 7.5; 5 has no session -> 3.0.
  ASSERT_EQ(s.ranked.size(), 4u);
  EXPECT_EQ(s.ranked[0].id, 4);
  EXPECT_DOUBLE_EQ(s.ranked[0].raw, 7.5);
  EXPECT_EQ(s.ranked[1].id, 1);
  EXPECT_DOUBLE_EQ(s.ranked[1].raw, 6.0);
  EXPECT_EQ(s.ranked[2].id, 3);  // ties (3.0) by smaller id
  EXPECT_EQ(s.ranked[3].id, 5);
}

TEST(SignalsTest, DateWindowsMultiplyTheBestWindowScore) {
  Signal s{"lexical", 1, {{1, 2.0}, {2, 1.0}}};
  std::vector<std::pair<TimeMs, TimeMs>> asked;
  const WindowSearchFn in_window =
      [&](TimeMs from, TimeMs to) -> Result<std::vector<index::LexicalHit>> {
    asked.emplace_back(from, to);
    if (from < 1000000) return std::vector<index::LexicalHit>{{2, 1.0}, {7, 0.5}};
    return std::vector<index::LexicalHit>{{2, 0.8}};
  };
  ASSERT_TRUE(AddDateWindows({{500000, 600000}, {2000000, 3000000}}, 2.0, 100, in_window, &s).ok());
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].first, 500000 - kDateWindowPad);
  EXPECT_EQ(asked[0].second, 600000 + kDateWindowPad);
  ASSERT_EQ(s.ranked.size(), 3u);
  EXPECT_EQ(s.ranked[0].id, 2);
  EXPECT_DOUBLE_EQ(s.ranked[0].raw, 3.0);  // its best window: 1.0 x 3
  EXPECT_EQ(s.ranked[1].id, 1);
  EXPECT_EQ(s.ranked[2].id, 7);
  EXPECT_DOUBLE_EQ(s.ranked[2].raw, 1.5);
}

}  // namespace
}  // namespace mnemo::read
