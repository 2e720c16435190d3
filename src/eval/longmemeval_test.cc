#include "eval/longmemeval.h"

#include <gtest/gtest.h>

#include "util/time_util.h"

namespace mnemo::eval {
namespace {

using util::Json;

TimeMs Iso(const char* s) { return *util::ParseIso8601(s); }

// A synthetic record in LongMemEval's schema: a filler session and an answer session
// with one evidence turn and one empty turn.
Json Record(const std::string& id = "q1") {
  Json filler = {{{"role", "user"}, {"content", "Any tips for growing basil?"}},
                 {{"role", "assistant"}, {"content", "Give it sun and water it often."}}};
  Json evidence = {{{"role", "user"}, {"content", "I turned 30 last week."}, {"has_answer", true}},
                   {{"role", "assistant"}, {"content", ""}, {"has_answer", false}},
                   {{"role", "assistant"}, {"content", "Happy birthday!"}, {"has_answer", false}}};
  return {{"question_id", id},
          {"question_type", "single-session-user"},
          {"question", "How old am I?"},
          {"answer", 30},
          {"question_date", "2023/06/01 (Thu) 10:00"},
          {"haystack_session_ids", {"sharegpt_1", "answer_a1"}},
          {"haystack_dates", {"2023/05/20 (Sat) 02:21", "2023/05/21 (Sun) 18:00"}},
          {"haystack_sessions", {filler, evidence}},
          {"answer_session_ids", {"answer_a1"}}};
}

Result<LongMemEvalDataset> Parse(const Json& root, bool skip_bad = false) {
  ParseOptions o;
  o.skip_bad = skip_bad;
  return ParseLongMemEval(util::DumpJson(root), o);
}

TEST(LongMemEvalDateTest, ParsesHaystackDates) {
  EXPECT_EQ(*ParseLongMemEvalDate("2023/05/20 (Sat) 02:21"), Iso("2023-05-20T02:21:00Z"));
  EXPECT_EQ(*ParseLongMemEvalDate("2023/05/20 02:21"), Iso("2023-05-20T02:21:00Z"));
  for (const char* bad : {"", "2023-05-20 02:21", "2023/05/20 (Sat)", "2023/13/20 (Sat) 02:21",
                          "2023/05/20 (Sat) 02:21 pm"}) {
    EXPECT_FALSE(ParseLongMemEvalDate(bad).ok()) << bad;
  }
}

TEST(LongMemEvalParseTest, TurnsBecomeMessagesWithSessionMetadata) {
  auto ds = Parse(Json::array({Record()}));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  ASSERT_EQ(ds->questions.size(), 1u);
  const LongMemEvalQuestion& q = ds->questions[0];
  EXPECT_EQ(q.question_id, "q1");
  EXPECT_EQ(q.question_type, "single-session-user");
  EXPECT_EQ(q.answer, "30");
  EXPECT_EQ(*q.question_time, Iso("2023-06-01T10:00:00Z"));
  EXPECT_EQ(q.answer_session_ids, (std::vector<std::string>{"answer_a1"}));
  EXPECT_EQ(q.answer_turns, (std::vector<std::string>{"answer_a1#0"}));
  EXPECT_FALSE(q.abstention());
  ASSERT_EQ(q.messages.size(), 4u);  // the empty turn is not stored
  EXPECT_EQ(ds->stats.empty_turns, 1);

  EXPECT_EQ(q.messages[0].session, "sharegpt_1");
  EXPECT_EQ(q.messages[0].role, "user");
  EXPECT_EQ(q.messages[0].meta, R"({"session_id":"sharegpt_1","turn":0})");
  EXPECT_EQ(*q.messages[1].time, Iso("2023-05-20T02:21:01Z"));
  const Message& answer = q.messages[2];
  EXPECT_EQ(answer.session, "answer_a1");
  EXPECT_EQ(answer.text, "I turned 30 last week.");
  EXPECT_EQ(*answer.time, Iso("2023-05-21T18:00:00Z"));
  EXPECT_EQ(answer.meta, R"({"has_answer":true,"session_id":"answer_a1","turn":0})");
  // Turn indices are those of the file, even after the skipped empty turn.
  EXPECT_EQ(q.messages[3].meta, R"({"has_answer":false,"session_id":"answer_a1","turn":2})");
  EXPECT_EQ(*q.messages[3].time, Iso("2023-05-21T18:00:02Z"));
}

// The official files repeat a haystack session id in a few records: each position is a
// session of its own in the store, scored by the file's id.
TEST(LongMemEvalParseTest, ARepeatedSessionIdIsTakenByPosition) {
  Json r = Record();
  r["haystack_session_ids"] = {"answer_a1", "answer_a1"};
  auto ds = Parse(Json::array({r}));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->stats.repeated_sessions, 1);
  const LongMemEvalQuestion& q = ds->questions[0];
  ASSERT_EQ(q.messages.size(), 4u);
  EXPECT_EQ(q.messages[0].session, "answer_a1");
  EXPECT_EQ(q.messages[2].session, "answer_a1@2");
  EXPECT_EQ(q.messages[2].meta, R"({"has_answer":true,"session_id":"answer_a1","turn":0})");
  EXPECT_EQ(q.answer_turns, (std::vector<std::string>{"answer_a1#0"}));
}

TEST(LongMemEvalParseTest, AbstentionIsRecognisedById) {
  auto ds = Parse(Json::array({Record("q1"), Record("q2_abs")}));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_FALSE(ds->questions[0].abstention());
  EXPECT_TRUE(ds->questions[1].abstention());
}

TEST(LongMemEvalParseTest, BadRecordFailsWithItsPositionUnlessSkipped) {
  Json bad = Record("ba358f49");
  bad["haystack_sessions"][1][2].erase("content");
  const Json root = Json::array({Record("q1"), bad, Record("q3")});
  auto failed = Parse(root);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(),
            R"(record 2 (ba358f49): session 2 (answer_a1) turn 3: missing "content")");
  auto skipped = Parse(root, /*skip_bad=*/true);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  ASSERT_EQ(skipped->questions.size(), 2u);
  EXPECT_EQ(skipped->questions[1].question_id, "q3");
  EXPECT_EQ(skipped->stats.skipped_records, 1);
  EXPECT_EQ(skipped->stats.empty_turns, 2);  // the skipped record's empty turn is not counted
}

TEST(LongMemEvalParseTest, StructuralProblemsAreReported) {
  Json r = Record();
  r["haystack_dates"].erase(1);
  auto failed = Parse(Json::array({r}));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("record 1 (q1): \"haystack_session_ids\""),
            std::string::npos)
      << failed.status().message();

  r = Record();
  r["haystack_dates"][0] = "May 20";
  failed = Parse(Json::array({r}));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(
      failed.status().message().find("record 1 (q1): session 1 (sharegpt_1): expected a date"),
      std::string::npos)
      << failed.status().message();

  r = Record();
  r["haystack_sessions"][0][0]["has_answer"] = "yes";
  failed = Parse(Json::array({r}));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(
      failed.status().message(),
      R"(record 1 (q1): session 1 (sharegpt_1) turn 1: expected true or false for "has_answer")");

  failed = Parse(Json::array({Record(), Record()}));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), R"(record 2 (q1): duplicate "question_id")");
  EXPECT_FALSE(ParseLongMemEval(R"({"question_id":"x"})", {}).ok());
}

}  // namespace
}  // namespace mnemo::eval
