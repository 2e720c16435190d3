#include "eval/locomo.h"

#include <gtest/gtest.h>

#include "util/time_util.h"

namespace mnemo::eval {
namespace {

using util::Json;

TimeMs Iso(const char* s) { return *util::ParseIso8601(s); }

// A synthetic sample in LoCoMo's format: sessions listed out of order (and session_10
// after session_2 numerically), a date key without a session, a turn with an image,
// a numeric answer, malformed evidence and an adversarial question.
Json Sample(const std::string& id = "conv-x") {
  Json conv = {
      {"speaker_a", "Ana"},
      {"speaker_b", "Ben"},
      {"session_10_date_time", "12:05 am on 1 January, 2024"},
      {"session_10", {{{"speaker", "Ana"}, {"dia_id", "D10:1"}, {"text", "Happy new year!"}}}},
      {"session_2_date_time", "9:05 am on 3 June, 2023"},
      {"session_2",
       {{{"speaker", "Ana"}, {"dia_id", "D2:1"}, {"text", "Back from the lake."}},
        {{"speaker", "Ben"},
         {"dia_id", "D2:2"},
         {"text", "Look at this!"},
         {"img_url", "http://example.invalid/k.jpg"},
         {"blip_caption", "a photo of a red kayak"}}}},
      {"session_1_date_time", "12:30 pm on 1 June, 2023"},
      {"session_1",
       {{{"speaker", "Ana"}, {"dia_id", "D1:1"}, {"text", "I bought a kayak."}},
        {{"speaker", "Ben"}, {"dia_id", "D1:2"}, {"text", "Nice!"}}}},
      {"session_3_date_time", "1:00 pm on 4 June, 2023"},  // no session_3: ignored
  };
  Json qa = {
      {{"question", "What did Ana buy?"},
       {"answer", "a kayak"},
       {"evidence", {"D1:1"}},
       {"category", 4}},
      {{"question", "Which year?"},
       {"answer", 2023},
       {"evidence", {"D1:1; D2:2", "D", "D:11:26", "D1:1"}},
       {"category", 2}},
      {{"question", "Did Ben buy a boat?"},
       {"adversarial_answer", "no"},
       {"evidence", Json::array()},
       {"category", 5}},
  };
  return {{"sample_id", id}, {"conversation", conv}, {"qa", qa}, {"observation", Json::object()}};
}

Result<LocomoDataset> Parse(const Json& root, bool skip_bad = false) {
  ParseOptions o;
  o.skip_bad = skip_bad;
  return ParseLocomo(util::DumpJson(root), o);
}

TEST(LocomoDateTest, ParsesSessionTimes) {
  EXPECT_EQ(*ParseLocomoDateTime("1:56 pm on 8 May, 2023"), Iso("2023-05-08T13:56:00Z"));
  EXPECT_EQ(*ParseLocomoDateTime("12:05 am on 1 January, 2024"), Iso("2024-01-01T00:05:00Z"));
  EXPECT_EQ(*ParseLocomoDateTime("12:30 pm on 1 June, 2023"), Iso("2023-06-01T12:30:00Z"));
  EXPECT_EQ(*ParseLocomoDateTime("11:01 AM on 17 Dec, 2022"), Iso("2022-12-17T11:01:00Z"));
  for (const char* bad : {"", "13:00 pm on 1 May, 2023", "1:60 pm on 1 May, 2023",
                          "1:56 on 8 May, 2023", "1:56 pm on 30 February, 2023",
                          "1:56 pm on 8 Mayo, 2023", "1:56 pm on 8 May, 2023 extra", "yesterday"}) {
    auto r = ParseLocomoDateTime(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(LocomoEvidenceTest, SplitsAndDropsMalformedEntries) {
  std::vector<std::string> ids;
  EXPECT_EQ(NormalizeEvidence("D8:6; D9:17", &ids), 0);
  EXPECT_EQ(NormalizeEvidence("D8:6", &ids), 0);  // duplicate: kept once
  EXPECT_EQ(NormalizeEvidence("D", &ids), 1);
  EXPECT_EQ(NormalizeEvidence("D:11:26", &ids), 1);
  EXPECT_EQ(NormalizeEvidence("D1:2,D3", &ids), 1);
  EXPECT_EQ(NormalizeEvidence("  ", &ids), 1);
  EXPECT_EQ(ids, (std::vector<std::string>{"D8:6", "D9:17", "D1:2"}));
  EXPECT_EQ(LocomoSessionOf("D8:6"), "session_8");
  EXPECT_EQ(LocomoSessionOf("D08:6"), "session_8");
  EXPECT_EQ(LocomoSessionOf("D:6"), "");
}

TEST(LocomoParseTest, TurnsBecomeMessagesInSessionOrder) {
  auto ds = Parse(Json::array({Sample()}));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  ASSERT_EQ(ds->samples.size(), 1u);
  const LocomoSample& s = ds->samples[0];
  EXPECT_EQ(s.sample_id, "conv-x");
  EXPECT_EQ(s.speaker_a, "Ana");
  EXPECT_EQ(s.speaker_b, "Ben");
  ASSERT_EQ(s.messages.size(), 5u);
  std::vector<std::string> order;
  for (const auto& m : s.messages)
    order.push_back(util::ParseJson(m.meta)->at("dia_id").get<std::string>());
  EXPECT_EQ(order, (std::vector<std::string>{"D1:1", "D1:2", "D2:1", "D2:2", "D10:1"}));

  const Message& first = s.messages[0];
  EXPECT_EQ(first.session, "session_1");
  EXPECT_EQ(first.speaker, "Ana");
  EXPECT_EQ(first.role, "");
  EXPECT_EQ(first.text, "I bought a kayak.");
  EXPECT_EQ(*first.time, Iso("2023-06-01T12:30:00Z"));
  EXPECT_EQ(*s.messages[1].time, Iso("2023-06-01T12:30:01Z"));  // + turn index seconds
  EXPECT_EQ(first.meta, R"({"dia_id":"D1:1"})");

  const Message& image = s.messages[3];
  EXPECT_EQ(image.session, "session_2");
  EXPECT_EQ(image.speaker, "Ben");
  EXPECT_EQ(image.text, "Look at this! [image: a photo of a red kayak]");
  EXPECT_EQ(image.meta, R"({"blip_caption":"a photo of a red kayak","dia_id":"D2:2"})");
  EXPECT_EQ(*image.time, Iso("2023-06-03T09:05:01Z"));
  EXPECT_EQ(*s.messages[4].time, Iso("2024-01-01T00:05:00Z"));
}

TEST(LocomoParseTest, QuestionsKeepAnswersCategoriesAndNormalisedEvidence) {
  auto ds = Parse(Json::array({Sample()}));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  const auto& qs = ds->samples[0].questions;
  ASSERT_EQ(qs.size(), 3u);
  EXPECT_EQ(qs[0].answer, "a kayak");
  EXPECT_EQ(qs[0].category, 4);
  EXPECT_EQ(qs[0].evidence, (std::vector<std::string>{"D1:1"}));
  EXPECT_EQ(qs[1].answer, "2023");
  EXPECT_EQ(qs[1].evidence, (std::vector<std::string>{"D1:1", "D2:2"}));
  EXPECT_EQ(qs[2].answer, "");
  EXPECT_EQ(qs[2].category, 5);
  EXPECT_TRUE(qs[2].evidence.empty());
  EXPECT_EQ(ds->stats.dropped_evidence, 2);
  EXPECT_EQ(ds->stats.skipped_records, 0);
  EXPECT_EQ(LocomoCategoryName(1), "multi-hop");
  EXPECT_EQ(LocomoCategoryName(3), "open-domain");
}

TEST(LocomoParseTest, ImageOnlyTurnKeepsTheCaption) {
  Json s = Sample();
  s["conversation"]["session_1"][1]["text"] = "";
  s["conversation"]["session_1"][1]["blip_caption"] = "a dog on a beach";
  auto ds = Parse(Json::array({s}));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ(ds->samples[0].messages[1].text, "[image: a dog on a beach]");
}

TEST(LocomoParseTest, BadTurnFailsWithItsPositionUnlessSkipped) {
  Json bad = Sample("conv-41");
  bad["conversation"]["session_2"][1].erase("text");
  const Json root = Json::array({Sample("conv-1"), Sample("conv-2"), bad});
  auto failed = Parse(root);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.status().message(), R"(sample 3 (conv-41): session_2 turn 2: missing "text")");

  auto skipped = Parse(root, /*skip_bad=*/true);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  ASSERT_EQ(skipped->samples.size(), 3u);
  EXPECT_EQ(skipped->samples[2].messages.size(), 4u);  // only the bad turn is gone
  EXPECT_EQ(skipped->samples[2].questions.size(), 3u);
  EXPECT_EQ(skipped->stats.skipped_records, 1);
  ASSERT_EQ(skipped->stats.problems.size(), 1u);
  EXPECT_EQ(skipped->stats.problems[0], failed.status().message());
}

TEST(LocomoParseTest, SessionWithoutDateIsMalformed) {
  Json s = Sample();
  s["conversation"].erase("session_2_date_time");
  auto failed = Parse(Json::array({s}));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(),
            R"(sample 1 (conv-x): session_2: missing "session_2_date_time")");
  auto skipped = Parse(Json::array({s}), true);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->samples[0].messages.size(), 3u);  // session_2's two turns are out
  EXPECT_EQ(skipped->stats.skipped_records, 1);

  s["conversation"]["session_2_date_time"] = "sometime in June";
  failed = Parse(Json::array({s}));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("sample 1 (conv-x): session_2: expected a date"),
            std::string::npos)
      << failed.status().message();
}

TEST(LocomoParseTest, BadQuestionAndBadSampleAreSkippedWhole) {
  Json s = Sample();
  s["qa"][1]["category"] = 9;
  auto failed = Parse(Json::array({s}));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(),
            R"(sample 1 (conv-x): qa 2: "category" must be an integer from 1 to 5)");
  auto skipped = Parse(Json::array({s}), true);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->samples[0].questions.size(), 2u);
  EXPECT_EQ(skipped->stats.dropped_evidence, 0);  // the dropped question's evidence is not counted

  Json no_id = Sample();
  no_id.erase("sample_id");
  failed = Parse(Json::array({Sample(), no_id}));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), R"(sample 2: missing "sample_id")");
  skipped = Parse(Json::array({Sample(), no_id, Sample()}), true);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->samples.size(), 1u);  // the third repeats the first's id
  EXPECT_EQ(skipped->stats.skipped_records, 2);
}

TEST(LocomoParseTest, RejectsFilesThatAreNotLists) {
  EXPECT_FALSE(ParseLocomo("{}", {}).ok());
  EXPECT_FALSE(ParseLocomo("[", {}).ok());
  auto missing = LoadLocomo("/nonexistent/locomo.json", {});
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace mnemo::eval
