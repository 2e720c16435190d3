// Event-anchored windows ("two days before the wedding") over a real engine with a fake
// clock: the windows AnchoredWindows finds, and their effect on Engine::Search.
#include "engine/anchors.h"

#include <string>
#include <vector>

#include "engine/engine_test_util.h"
#include "engine/space.h"
#include "index/lexical_index.h"
#include "store/memory_store.h"
#include "store/sqlite.h"
#include "util/time_util.h"

namespace mnemo::testing {
namespace {

TimeMs At(const char* iso) { return *util::ParseIso8601(iso); }

// "2023-06-12" or "2023-06-11 to 2023-06-13" for a window.
std::string Show(const read::DateMention& d) { return write::internal::FormatPeriod(d.from, d.to); }

std::vector<std::string> Show(const std::vector<read::DateMention>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(Show(d));
  return out;
}

// ---- AnchorWindow: the arithmetic, without a store ------------------------------------

std::string Window(const char* text, const char* anchor_day, const char* now) {
  const auto found = write::FindAnchoredExpressions(text);
  if (found.size() != 1) return "found " + std::to_string(found.size());
  const TimeMs a = At(anchor_day);
  const auto w = engine::AnchorWindow(found[0], a, a + 86400000, At(now));
  return w ? Show(*w) : "none";
}

TEST(AnchorWindow, PointOffsets) {
  // 2023-06-14 is a Wednesday.
  constexpr const char* kWed = "2023-06-14T00:00:00Z";
  constexpr const char* kNow = "2023-12-31T00:00:00Z";
  EXPECT_EQ(Window("two days before the wedding", kWed, kNow), "2023-06-12");
  EXPECT_EQ(Window("the day after the wedding", kWed, kNow), "2023-06-15");
  EXPECT_EQ(Window("the week before the wedding", kWed, kNow), "2023-06-07 to 2023-06-13");
  EXPECT_EQ(Window("the week after the wedding", kWed, kNow), "2023-06-15 to 2023-06-21");
  EXPECT_EQ(Window("3 weeks before the wedding", kWed, kNow), "2023-05-21 to 2023-05-27");
  EXPECT_EQ(Window("the weekend before the wedding", kWed, kNow), "2023-06-10 to 2023-06-11");
  EXPECT_EQ(Window("the weekend after the wedding", kWed, kNow), "2023-06-17 to 2023-06-18");
  EXPECT_EQ(Window("the Sunday before the wedding", kWed, kNow), "2023-06-11");
  EXPECT_EQ(Window("the Wednesday after the wedding", kWed, kNow), "2023-06-21");
  EXPECT_EQ(Window("a month after the wedding", kWed, kNow), "2023-07-07 to 2023-07-21");
  EXPECT_EQ(Window("the month before the wedding", kWed, kNow), "2023-05-14 to 2023-06-13");
  EXPECT_EQ(Window("a year before the wedding", kWed, kNow), "2022-05-15 to 2022-07-14");
  // Month arithmetic clamps to the month's length.
  EXPECT_EQ(Window("a month after the party", "2023-01-31T00:00:00Z", kNow),
            "2023-02-21 to 2023-03-07");
}

TEST(AnchorWindow, OpenExpressions) {
  constexpr const char* kWed = "2023-06-14T00:00:00Z";
  EXPECT_EQ(Window("before the wedding", kWed, "2023-12-31T00:00:00Z"), "2022-06-14 to 2023-06-13");
  // "after" stops at now when now is later than the anchor, else runs a year.
  EXPECT_EQ(Window("after the wedding", kWed, "2023-07-01T10:00:00Z"), "2023-06-15 to 2023-07-01");
  EXPECT_EQ(Window("after the wedding", kWed, "2023-06-01T00:00:00Z"), "2023-06-15 to 2024-06-13");
  EXPECT_EQ(Window("since the wedding", kWed, "2023-07-01T10:00:00Z"), "2023-06-14 to 2023-07-01");
  EXPECT_EQ(Window("since the wedding", kWed, "2023-06-01T00:00:00Z"), "none");
}

// ---- AnchoredWindows and Search over an engine ----------------------------------------

class AnchorsTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
  }

  MemoryId Say(const char* day, const std::string& text, const std::string& user = "maya") {
    Message m;
    m.session = std::string("s-") + day;
    m.role = "user";
    m.speaker = "Maya";
    m.text = text;
    m.time = At(day);
    auto r = engine_->Ingest("s", user, {m});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(engine_->RunJobs("s").ok());
    return r.ok() && !r->ids.empty() ? r->ids[0] : 0;
  }

  // A conversation over several days, each turn mentioning the wedding; the wedding
  // itself is on 2023-06-14.
  void Conversation() {
    dress_ = Say("2023-05-20T10:00:00Z", "The dress for the wedding finally fits, what a relief.");
    kayak_ = Say("2023-06-12T10:00:00Z",
                 "We went kayaking on the river and then picked up the cake for the wedding.");
    anchor_ = Say("2023-06-14T18:00:00Z",
                  "We got married! The wedding was perfect, the best wedding by the lake.");
    photos_ = Say("2023-06-25T10:00:00Z", "The photos of the wedding arrived, we did love them.");
  }

  SearchRequest Request(const std::string& query) {
    SearchRequest req;
    req.query = query;
    req.filter.user_id = "maya";
    req.k = 10;
    req.vector_weight = 0;  // lexical only: deterministic scores
    req.now = At("2023-07-01T12:00:00Z");
    return req;
  }

  Result<std::vector<read::DateMention>> Windows(const std::string& query) {
    return WindowsFor(Request(query));
  }

  // The windows of req, its anchors searched in a lexical index of the space's memories,
  // as Space::Search does.
  Result<std::vector<read::DateMention>> WindowsFor(const SearchRequest& req) {
    MNEMO_ASSIGN_OR_RETURN(auto db, store::Db::Open(dir_.path() + "/spaces/s/space.db",
                                                    store::Db::Mode::kReadOnly, false));
    auto lexical = index::LexicalIndex::Create();
    std::vector<index::LexicalDoc> docs;
    MNEMO_RETURN_IF_ERROR(store::ForEachMemory(*db, [&](const Memory& m, std::string_view) {
      docs.push_back(index::AnalyzeMemory(m, 0));
      return Status::Ok();
    }));
    lexical->Apply(1, std::move(docs), {});
    auto view = lexical->Read();
    const engine::AnchorSearchFn search = [&](const std::vector<std::string>& terms,
                                              const Filter& f) -> Result<std::vector<Memory>> {
      std::vector<Memory> out;
      for (const auto& h :
           view.Search(terms, engine::ToLexicalFilter(f), engine::kAnchorCandidates)) {
        MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(*db, h.id));
        if (m) out.push_back(std::move(*m));
      }
      return out;
    };
    return engine::AnchoredWindows(req, *req.now, search);
  }

  MemoryId dress_ = 0, kayak_ = 0, anchor_ = 0, photos_ = 0;
};

TEST_F(AnchorsTest, TheWeddingAnchorsTwoDaysBefore) {
  Conversation();
  auto w = Windows("what did we do two days before the wedding?");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Show(*w), std::vector<std::string>{"2023-06-12"});

  w = Windows("what did we do the week after the wedding?");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Show(*w), std::vector<std::string>{"2023-06-15 to 2023-06-21"});

  // Open: "since" runs to now.
  w = Windows("what happened since the wedding?");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Show(*w), std::vector<std::string>{"2023-06-14 to 2023-07-01"});
}

TEST_F(AnchorsTest, AnAnchorMatchingEveryTermIsPreferred) {
  Conversation();
  Say("2023-06-01T10:00:00Z", "The lake was freezing this spring, the lake lake lake.");
  // "lake" alone scores higher on the 1 June turn, but only the wedding turn has both.
  auto w = Windows("two days before the wedding by the lake");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Show(*w), std::vector<std::string>{"2023-06-12"});
}

TEST_F(AnchorsTest, TimeAnchorsNeedNoEvent) {
  auto w = Windows("what did we do two weeks before June 28, 2023?");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Show(*w), std::vector<std::string>{"2023-06-11 to 2023-06-17"});  // +- 3 days
}

TEST_F(AnchorsTest, AnUnknownAnchorGivesNoWindow) {
  Conversation();
  for (const char* q : {"what did we do two days before the zeppelin race?",
                        "what did we buy before the graduation?", "the day before yesterday",
                        "what did we do after all?"}) {
    auto w = Windows(q);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_TRUE(w->empty()) << q << ": " << ::testing::PrintToString(Show(*w));
  }
}

TEST_F(AnchorsTest, AnotherUsersWeddingIsNotAnAnchor) {
  Conversation();
  Say("2023-03-01T10:00:00Z", "My wedding wedding wedding was lovely.", "sam");
  SearchRequest req = Request("two days before the wedding");
  req.filter.user_id = "sam";
  auto w = WindowsFor(req);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Show(*w), std::vector<std::string>{"2023-02-27"});
  req.filter.user_id = "maya";
  w = WindowsFor(req);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Show(*w), std::vector<std::string>{"2023-06-12"});
}

// Needs the call in AddDateWindows (engine/space_search.cc).
TEST_F(AnchorsTest, SearchPrefersTheTurnOfTheAnchoredDay) {
  Conversation();
  SearchRequest req = Request("what did we do two days before the wedding?");
  req.date_weight = 0;
  const auto plain = SearchIds("s", req);
  ASSERT_FALSE(plain.empty());
  EXPECT_NE(plain[0], kayak_) << "the test needs another turn to rank first without the window";
  req.date_weight = 2;
  const auto ids = SearchIds("s", req);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], kayak_);
}

TEST_F(AnchorsTest, AnUnknownAnchorLeavesTheRankingUnchanged) {
  Conversation();
  SearchRequest req = Request("wedding cake two days before the zeppelin race");
  req.date_weight = 0;
  const auto plain = SearchIds("s", req);
  req.date_weight = 2;
  EXPECT_EQ(SearchIds("s", req), plain);
}

}  // namespace
}  // namespace mnemo::testing
