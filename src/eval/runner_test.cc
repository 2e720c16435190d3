#include "eval/runner.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "eval/scratch_dir.h"
#include "util/fs.h"

namespace mnemo::eval {
namespace {

using util::Json;

Message Turn(const std::string& session, const std::string& dia_id, const std::string& text) {
  Message m;
  m.session = session;
  m.speaker = "Ana";
  m.text = text;
  m.time = 1685000000000;
  m.meta = util::DumpJson({{"dia_id", dia_id}});
  return m;
}

LocomoDataset TinyLocomo() {
  LocomoSample s;
  s.sample_id = "conv-t";
  s.messages = {Turn("session_1", "D1:1", "I bought a kayak."), Turn("session_1", "D1:2", "Nice!"),
                Turn("session_2", "D2:1", "Back from the lake."),
                Turn("session_2", "D2:2", "Look at this! [image: a red kayak]")};
  s.questions = {{"Who bought a kayak?", "Ana", {"D1:1"}, 4},
                 {"kayak", "", {"D1:1", "D2:2"}, 2},
                 {"Is Ben a pilot?", "", {}, 5},
                 {"No usable evidence", "", {}, 3}};
  LocomoDataset ds;
  ds.samples.push_back(std::move(s));
  return ds;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = ScratchDir::Create("mnemo-eval-test-");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = std::move(dir).value();
    Options o;
    o.create_if_missing = true;
    o.durability = Durability::kNormal;
    o.background_jobs = false;  // scored on the turns alone, as `mnemo eval` does
    auto e = Engine::Open(dir_->path() + "/data", o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    ASSERT_TRUE(engine_->CreateSpace("bench").ok());
  }

  std::unique_ptr<ScratchDir> dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(RunnerTest, LocomoScoresByHand) {
  EvalConfig c = EvalConfig::ForLocomo();
  c.ks = {1, 5};
  c.session_ks = {1};
  c.search.vector_weight = 0;  // BM25 only: a ranking that can be worked out by hand
  auto r = EvalLocomo(*engine_, "bench", TinyLocomo(), c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->questions, 2);
  EXPECT_EQ(r->skipped, 2);
  EXPECT_EQ(r->ingested.added, 4);
  EXPECT_EQ(r->ingested.users, 1);
  EXPECT_EQ(r->latency.samples, 2u);
  // Q1 ranks D1:1 (both terms) above D2:2; Q2's two gold turns are the only matches.
  const auto overall = r->metrics.Overall();
  EXPECT_DOUBLE_EQ(overall.at("recall_any@1"), 1.0);
  EXPECT_DOUBLE_EQ(overall.at("recall_all@1"), 0.5);
  EXPECT_DOUBLE_EQ(overall.at("ndcg@1"), 1.0);
  EXPECT_DOUBLE_EQ(overall.at("recall_all@5"), 1.0);
  EXPECT_DOUBLE_EQ(overall.at("ndcg@5"), 1.0);
  EXPECT_DOUBLE_EQ(overall.at("session_recall_any@1"), 1.0);
  EXPECT_DOUBLE_EQ(r->metrics.Category("temporal").at("recall_all@1"), 0.0);

  const Json j = ReportToJson(*r);
  EXPECT_EQ(j["dataset"], "locomo");
  EXPECT_EQ(j["questions"], 2);
  EXPECT_EQ(j["by_category"]["single-hop"]["questions"], 1);
  EXPECT_EQ(j["by_category"]["temporal"]["recall_all@1"], 0.0);
  EXPECT_FALSE(j["by_category"].contains("open-domain"));  // nothing scored there
  EXPECT_TRUE(j["latency_ms"].contains("p99"));
  EXPECT_EQ(j["config"]["vector_weight"], 0.0);
  EXPECT_EQ(j["config"]["search_k"], 5);
  const std::string table = ReportToTable(*r);
  EXPECT_NE(table.find("session_recall_any@1"), std::string::npos) << table;
  EXPECT_NE(table.find("single-hop"), std::string::npos) << table;
}

TEST_F(RunnerTest, LongMemEvalLeavesAbstentionOut) {
  LongMemEvalDataset ds;
  for (const char* id : {"q1", "q1_abs"}) {
    LongMemEvalQuestion q;
    q.question_id = id;
    q.question_type = "single-session-user";
    q.question = "How old did I turn?";
    q.haystack_session_ids = {"filler", "answer_a"};
    q.answer_session_ids = {"answer_a"};
    q.answer_turns = {TurnKey("answer_a", 1)};
    auto msg = [](const char* session, int turn, const char* text) {
      Message m;
      m.session = session;
      m.role = "user";
      m.text = text;
      m.meta = util::DumpJson({{"session_id", session}, {"turn", turn}});
      return m;
    };
    q.messages = {msg("filler", 0, "Basil likes sun."), msg("answer_a", 0, "Hello there."),
                  msg("answer_a", 1, "I turned 30 last week.")};
    ds.questions.push_back(std::move(q));
  }
  auto r = EvalLongMemEval(*engine_, "bench", ds, EvalConfig::ForLongMemEval());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->questions, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->ingested.added, 6);
  EXPECT_EQ(r->ingested.users, 2);
  const auto overall = r->metrics.Overall();
  for (const char* m :
       {"recall_any@5", "recall_all@50", "session_recall_any@5", "session_recall_all@10"}) {
    EXPECT_DOUBLE_EQ(overall.at(m), 1.0) << m;  // three turns, all within every cutoff
  }
  EXPECT_GT(overall.at("ndcg_any@5"), 0.0);
  EXPECT_LE(overall.at("session_ndcg_any@10"), 1.0);
  EXPECT_EQ(ReportToJson(*r)["by_category"]["single-session-user"]["questions"], 1);
}

// A haystack that repeats a session id (as 13 records of the official file do): the
// copies are stored apart and scored by the file's id, as the official protocol does.
TEST_F(RunnerTest, LongMemEvalScoresARepeatedSessionByItsId) {
  const util::Json filler = {{{"role", "user"}, {"content", "Basil likes sun."}}};
  const util::Json evidence = {
      {{"role", "user"}, {"content", "I adopted a greyhound named Comet."}, {"has_answer", true}}};
  const util::Json record = {
      {"question_id", "q1"},
      {"question_type", "single-session-user"},
      {"question", "What is the name of my greyhound?"},
      {"answer", "Comet"},
      {"haystack_session_ids", {"s_a", "filler", "s_a"}},
      {"haystack_dates",
       {"2023/05/20 (Sat) 02:21", "2023/05/21 (Sun) 02:21", "2023/05/22 (Mon) 02:21"}},
      {"haystack_sessions", {filler, filler, evidence}},
      {"answer_session_ids", {"s_a"}}};
  auto ds = ParseLongMemEval(util::DumpJson(util::Json::array({record})), {});
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  auto r = EvalLongMemEval(*engine_, "bench", *ds, EvalConfig::ForLongMemEval());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->questions, 1);
  const auto overall = r->metrics.Overall();
  EXPECT_DOUBLE_EQ(overall.at("session_recall_any@5"), 1.0);
  EXPECT_DOUBLE_EQ(overall.at("recall_any@5"), 1.0);
  EXPECT_EQ(ReportToJson(*r)["data"]["repeated_sessions"], 1);
  EXPECT_NE(ReportToTable(*r).find("1 haystack sessions repeat"), std::string::npos);
}

// The real benchmark files, when present (never copied into the repository).
std::string BenchDir() {
  if (const char* env = std::getenv("MNEMO_BENCH_DIR"); env && *env) return env;
  return std::string(MNEMO_SOURCE_DIR) + "/../shared/bench";
}

TEST(BenchFilesTest, LocomoDevLoads) {
  const std::string path = BenchDir() + "/locomo-dev.json";
  if (!util::PathExists(path)) GTEST_SKIP() << path << " is absent";
  auto ds = LoadLocomo(path, {});
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  size_t questions = 0, scorable = 0;
  for (const auto& s : ds->samples) {
    EXPECT_FALSE(s.messages.empty()) << s.sample_id;
    for (const auto& q : s.questions) {
      ++questions;
      if (q.category <= 4 && !q.evidence.empty()) ++scorable;
    }
  }
  // The counts the bench README states.
  EXPECT_EQ(ds->samples.size(), 5u);
  EXPECT_EQ(questions, 999u);
  EXPECT_EQ(scorable, 760u);
  EXPECT_EQ(ds->stats.skipped_records, 0);
}

TEST(BenchFilesTest, LongMemEvalSampleLoads) {
  const std::string path = BenchDir() + "/longmemeval-s-sample2.json";
  if (!util::PathExists(path)) GTEST_SKIP() << path << " is absent";
  auto ds = LoadLongMemEval(path, {});
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  ASSERT_EQ(ds->questions.size(), 2u);
  for (const auto& q : ds->questions) {
    EXPECT_FALSE(q.answer_turns.empty()) << q.question_id;
    EXPECT_FALSE(q.answer_session_ids.empty()) << q.question_id;
    EXPECT_FALSE(q.messages.empty());
  }
}

}  // namespace
}  // namespace mnemo::eval
