// Search: hybrid retrieval, scope enforcement, filters, explain, read-your-writes.
#include <algorithm>
#include <cmath>
#include <thread>

#include "engine/engine_test_util.h"

namespace mnemo::testing {
namespace {

class SearchTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
  }
  SearchRequest Query(std::string q, std::string user = "") {
    SearchRequest r;
    r.query = std::move(q);
    r.filter.user_id = std::move(user);
    return r;
  }
  static bool Contains(const std::vector<MemoryId>& v, MemoryId id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  }
};

TEST_F(SearchTest, LexicalMatchesStemsAndIgnoresStopWords) {
  const MemoryId run = MustAdd("s", Input("She runs every morning along the river"));
  MustAdd("s", Input("The cat sleeps on the sofa"));
  MustAdd("s", Input("Dinner was pasta with friends"));
  SearchRequest q = Query("running");
  q.vector_weight = 0;
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{run});
  q.query = "the of and";  // nothing but stop words: no lexical candidates at all
  EXPECT_TRUE(SearchIds("s", q).empty());
}

TEST_F(SearchTest, VectorSignalFindsMorphologicalNeighbours) {
  const MemoryId hike = MustAdd("s", Input("We hiked up the mountain trail at dawn"));
  MustAdd("s", Input("Quarterly budget spreadsheet review"));
  MustAdd("s", Input("Bought new headphones online"));
  SearchRequest q = Query("mountain hiking");
  q.lexical_weight = 0;
  auto ids = SearchIds("s", q);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), hike);
}

TEST_F(SearchTest, ReadYourWritesBeforeTheIndexerRuns) {
  // Many writes back to back: each must be findable the moment Add returns, by both
  // signals, whether or not the background indexer has reached it.
  for (int i = 0; i < 200; ++i) {
    const std::string word = "marker" + std::to_string(i) + "x";
    const MemoryId id = MustAdd("s", Input("note with " + word));
    SearchRequest lex = Query(word);
    lex.vector_weight = 0;
    ASSERT_EQ(SearchIds("s", lex), std::vector<MemoryId>{id}) << i;
    SearchRequest vec = Query("note with " + word);
    vec.lexical_weight = 0;
    vec.k = 1;
    ASSERT_EQ(SearchIds("s", vec), std::vector<MemoryId>{id}) << i;
  }
}

TEST_F(SearchTest, ScopeIsEnforcedWhenSeveralUsersShareASpace) {
  const MemoryId a = MustAdd("s", Input("alice likes green tea", "alice"));
  SearchRequest q = Query("green tea");
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{a});  // one user: no need to name her
  const MemoryId b = MustAdd("s", Input("bob likes green tea too", "bob"));
  auto r = engine_->Search("s", q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "user");  // the faces name their own way out
  EXPECT_NE(r.status().message().find("2 users"), std::string::npos) << r.status().message();
  q.filter.user_id = "alice";
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{a});
  q.filter.user_id = "bob";
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{b});
  q.filter.user_id = "carol";
  EXPECT_TRUE(SearchIds("s", q).empty());
  q.filter.user_id = "";
  q.filter.all_users = true;
  auto both = SearchIds("s", q);
  EXPECT_EQ(both.size(), 2u);
  q.filter.user_id = "alice";
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SearchTest, OversizeFilterListsAreRejectedNotAnInternalError) {
  MustAdd("s", Input("one memory"));
  SearchRequest q = Query("memory");
  ListRequest list;
  for (int i = 0; i < 992; ++i) q.filter.tags.push_back("t" + std::to_string(i));
  list.filter.tags = q.filter.tags;
  for (const Status& s : {engine_->Search("s", q).status(), engine_->List("s", list).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kTooLarge) << s.ToString();
    EXPECT_EQ(s.message().rfind("tags", 0), 0u) << s.message();  // names the field first
  }
  q.filter.tags.resize(64);  // as many as a memory may hold
  EXPECT_TRUE(engine_->Search("s", q).ok());
  q.filter.tags.clear();
  for (int i = 0; i < 994; ++i) q.filter.meta_equals.emplace_back("k" + std::to_string(i), "1");
  auto meta = engine_->Search("s", q);
  EXPECT_EQ(meta.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(meta.status().message().rfind("metadata", 0), 0u) << meta.status().message();
}

TEST_F(SearchTest, FiltersApplyToBothSignals) {
  MemoryInput a = Input("project kickoff meeting notes");
  a.session_id = "monday";
  a.kind = Kind::kSummary;
  a.event_time = 1000;
  a.tags = {"work"};
  a.metadata = R"({"team":"red"})";
  const MemoryId ida = MustAdd("s", a);
  MemoryInput b = Input("project kickoff meeting snacks");
  b.session_id = "tuesday";
  b.event_time = 5000;
  b.metadata = R"({"team":"blue"})";
  const MemoryId idb = MustAdd("s", b);
  auto only = [&](auto set_filter, MemoryId expected) {
    SearchRequest q = Query("project kickoff meeting");
    set_filter(q.filter);
    EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{expected});
  };
  only([](Filter& f) { f.session_id = "monday"; }, ida);
  only([](Filter& f) { f.kinds = {Kind::kSummary}; }, ida);
  only([](Filter& f) { f.kinds = {Kind::kEpisode}; }, idb);
  only([](Filter& f) { f.time_from = 2000; }, idb);
  only([](Filter& f) { f.time_to = 2000; }, ida);
  only([](Filter& f) { f.tags = {"work"}; }, ida);
  only([](Filter& f) { f.meta_equals = {{"team", "\"blue\""}}; }, idb);
}

TEST_F(SearchTest, ExplainAccountsForTheScore) {
  const MemoryId id = MustAdd("s", Input("the violin concert was wonderful"));
  // BM25's IDF needs a corpus in which the query terms are rare.
  for (int i = 0; i < 10; ++i) MustAdd("s", Input("grocery list " + std::to_string(i)));
  SearchRequest q = Query("violin concert");
  q.explain = true;
  q.vector_weight = 1.0;
  q.context_weight = 0;
  auto hits = engine_->Search("s", q);
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty());
  const SearchHit& top = hits->front();
  EXPECT_EQ(top.memory.id, id);
  ASSERT_EQ(top.explanation.size(), 3u);
  EXPECT_EQ(top.explanation[0].signal, "lexical");
  EXPECT_EQ(top.explanation[0].rank, 1);
  EXPECT_GT(top.explanation[0].raw, 0);
  EXPECT_EQ(top.explanation[1].signal, "vector");
  EXPECT_EQ(top.explanation[1].rank, 1);
  EXPECT_EQ(top.explanation[2].signal, "retention");  // just written: R = 1, no change
  EXPECT_DOUBLE_EQ(top.explanation[2].raw, 1.0);
  EXPECT_NEAR(top.score,
              top.explanation[0].contribution + top.explanation[1].contribution +
                  top.explanation[2].contribution,
              1e-12);
  EXPECT_NEAR(top.score, 2.0 / 61, 1e-12);  // RRF, k = 60, rank 1 in both
  q.explain = false;
  EXPECT_TRUE(engine_->Search("s", q)->front().explanation.empty());
}

TEST_F(SearchTest, ConversationContextReachesShortReplies) {
  std::vector<Message> msgs;
  for (const char* text : {"Did you enjoy the pottery class on Saturday?", "Yes, it was amazing!",
                           "What did you have for lunch?", "Just a sandwich."}) {
    Message m;
    m.session = "s1";
    m.speaker = msgs.size() % 2 ? "Bo" : "Al";
    m.text = text;
    msgs.push_back(m);
  }
  auto ids = engine_->Ingest("s", "u1", msgs);
  ASSERT_TRUE(ids.ok());
  for (int i = 0; i < 10; ++i) MustAdd("s", Input("unrelated filler " + std::to_string(i)));
  SearchRequest q = Query("pottery class");
  q.vector_weight = 0;
  q.context_weight = 0;
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{ids->ids[0]});
  q.context_weight = 0.5;
  auto with_context = SearchIds("s", q);
  ASSERT_EQ(with_context.size(), 2u);
  EXPECT_EQ(with_context[0], ids->ids[0]);  // its own match still ranks first
  EXPECT_EQ(with_context[1], ids->ids[1]);  // the reply, through its neighbour
  // Context never crosses into filtered-out memories.
  q.filter.kinds = {Kind::kFact};
  EXPECT_TRUE(SearchIds("s", q).empty());
  q.context_weight = -1;
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SearchTest, DateWeightFavoursMatchesInTheNamedPeriod) {
  constexpr TimeMs kDay = 24LL * 3600 * 1000;
  const TimeMs march3 = 19785 * kDay;  // 2024-03-03
  std::vector<MemoryId> ids;
  for (TimeMs t : {march3 - 40 * kDay, march3 + 3600 * 1000, march3 + 60 * kDay}) {
    MemoryInput in = Input("we went hiking by the lake");
    in.event_time = t;
    ids.push_back(MustAdd("s", in));
  }
  SearchRequest q = Query("Where did we go hiking on 3 March, 2024?");
  q.vector_weight = 0;
  q.date_weight = 0;
  EXPECT_EQ(SearchIds("s", q).front(), ids[0]);  // equal BM25: the oldest first
  q.date_weight = 2;
  EXPECT_EQ(SearchIds("s", q), (std::vector<MemoryId>{ids[1], ids[0], ids[2]}));
  // The request's own time range still bounds the result.
  q.filter.time_from = march3 + 30 * kDay;
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{ids[2]});
  q.filter.time_from.reset();
  q.date_weight = -1;
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SearchTest, SessionPriorLiftsTheBestMatchingConversation) {
  auto ingest = [&](const std::string& session, std::vector<std::string> texts) {
    std::vector<Message> msgs;
    for (auto& t : texts) {
      Message m;
      m.session = session;
      m.speaker = "Al";
      m.text = std::move(t);
      msgs.push_back(std::move(m));
    }
    auto r = engine_->Ingest("s", "u1", msgs);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->ids : std::vector<MemoryId>{};
  };
  const auto other = ingest("b", {"some clay left", "weather talk", "more weather"});
  const auto best = ingest("a", {"the pottery kiln and glaze workshop", "weather chat",
                                 "some clay left", "nothing else"});
  SearchRequest q = Query("pottery kiln glaze clay");
  q.vector_weight = 0;
  q.context_weight = 0;
  q.session_weight = 0;
  auto plain = SearchIds("s", q);
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_EQ(plain[0], best[0]);
  EXPECT_EQ(plain[1], other[0]);  // same BM25 as best[2]: the older first
  q.session_weight = 0.8;
  EXPECT_EQ(SearchIds("s", q), (std::vector<MemoryId>{best[0], best[2], other[0]}));
  q.session_weight = std::nan("");
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SearchTest, KLimitsAndValidation) {
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 30; ++i)
    batch.push_back(Input("apple pie recipe variant " + std::to_string(i)));
  ASSERT_TRUE(engine_->AddBatch("s", batch).ok());
  SearchRequest q = Query("apple pie");
  q.k = 7;
  EXPECT_EQ(SearchIds("s", q).size(), 7u);
  q.k = 0;
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
  q.k = 5;
  q.query = "";
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
  q.query = "bad \xff";
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
  q.query = "apple";
  q.lexical_weight = 0;
  q.vector_weight = 0;
  EXPECT_EQ(engine_->Search("s", q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SearchTest, LargeScopeUsesTheGraphAndStillFiltersExactly) {
  // Above the exact-scan limit the vector signal goes through HNSW with over-fetch.
  engine_.reset();
  Options o = MakeOptions();
  o.exact_scan_limit = 200;
  auto e = Engine::Open(dir_.path(), o);
  ASSERT_TRUE(e.ok());
  engine_ = std::move(e).value();
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 3000; ++i) {
    batch.push_back(Input("routine log entry " + std::to_string(i) + " nothing special",
                          i % 3 == 0 ? "minor" : "major"));
  }
  batch.push_back(Input("the submarine surfaced near the glacier", "major"));
  batch.push_back(Input("a submarine documentary about glaciers", "minor"));
  auto ids = engine_->AddBatch("s", batch);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  SearchRequest q = Query("submarine glacier", "major");
  q.lexical_weight = 0;
  auto found = SearchIds("s", q);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.front(), (*ids)[3000]);
  EXPECT_FALSE(Contains(found, (*ids)[3001]));  // another user's memory never leaks in
  // The minority user (1,001 memories, above the limit) also goes through the graph.
  q.filter.user_id = "minor";
  found = SearchIds("s", q);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.front(), (*ids)[3001]);
  EXPECT_FALSE(Contains(found, (*ids)[3000]));
}

TEST_F(SearchTest, ReadYourWritesOnTheGraphPath) {
  // With the exact-scan limit below the space size every vector search goes through
  // HNSW plus the pending tail: a write must still be found the moment Add returns.
  engine_.reset();
  Options o = MakeOptions();
  o.exact_scan_limit = 8;
  auto e = Engine::Open(dir_.path(), o);
  ASSERT_TRUE(e.ok());
  engine_ = std::move(e).value();
  ASSERT_TRUE(engine_->CreateSpace("g").ok());
  for (int i = 0; i < 120; ++i) {
    const std::string word = "beacon" + std::to_string(i) + "q";
    const MemoryId id = MustAdd("g", Input("signal with " + word));
    SearchRequest vec = Query("signal with " + word);
    vec.lexical_weight = 0;
    vec.k = 1;
    ASSERT_EQ(SearchIds("g", vec), std::vector<MemoryId>{id}) << i;
    SearchRequest lex = Query(word);
    lex.vector_weight = 0;
    ASSERT_EQ(SearchIds("g", lex), std::vector<MemoryId>{id}) << i;
  }
}

TEST_F(SearchTest, RetiredBestMatchesDoNotShortenResults) {
  // The best-scoring candidates of both signals are retired: the search must look
  // further (in the index scan, the graph and the FTS ranking) and still return k.
  for (const size_t limit : {size_t{20000}, size_t{8}}) {
    engine_.reset();
    Options o = MakeOptions();
    o.exact_scan_limit = limit;
    auto e = Engine::Open(dir_.path(), o);
    ASSERT_TRUE(e.ok());
    engine_ = std::move(e).value();
    const std::string space = "r" + std::to_string(limit);
    ASSERT_TRUE(engine_->CreateSpace(space).ok());
    std::vector<MemoryInput> batch;
    for (int i = 0; i < 300; ++i) {
      batch.push_back(Input("lantern festival night " + std::to_string(i)));
    }
    for (int i = 0; i < 40; ++i) batch.push_back(Input("a quiet lantern " + std::to_string(i)));
    auto ids = engine_->AddBatch(space, batch);
    ASSERT_TRUE(ids.ok());
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(engine_->Remove(space, (*ids)[size_t(i)], "").ok());
    for (const bool lexical : {true, false}) {
      SearchRequest q = Query("lantern festival night");
      (lexical ? q.vector_weight : q.lexical_weight) = 0;
      q.context_weight = 0;
      q.k = 30;
      const auto found = SearchIds(space, q);
      EXPECT_EQ(found.size(), 30u) << "limit " << limit << (lexical ? " lexical" : " vector");
      for (MemoryId id : found) {
        EXPECT_GE(id, (*ids)[300]) << "a retired memory was returned";
      }
      q.filter.include_retired = true;
      const auto with_retired = SearchIds(space, q);
      ASSERT_FALSE(with_retired.empty());
      EXPECT_LT(with_retired.front(), (*ids)[300]);  // the retired ones rank first
    }
  }
}

TEST_F(SearchTest, ConcurrentReadersAndWritersAgree) {
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto r = engine_->Search("s", Query("concurrent write"));
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        ++searches;
      }
    });
  }
  for (int i = 0; i < 300; ++i) MustAdd("s", Input("concurrent write number " + std::to_string(i)));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(ActiveCount("s"), 300);
}

}  // namespace
}  // namespace mnemo::testing
