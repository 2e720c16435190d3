// The texts of summaries: extractive session summaries, the model's prompt and answer,
// topics and their summaries.
#include "lifecycle/summarize.h"

#include <gtest/gtest.h>

#include "util/json_codec.h"

namespace mnemo::lifecycle {
namespace {

constexpr TimeMs kMay8 = 1683540000000;  // 2023-05-08T10:00:00Z
constexpr TimeMs kMinute = 60000;

std::vector<SummaryTurn> Session() {
  const std::vector<std::pair<std::string, std::string>> lines = {
      {"Caroline", "Hey Mel! Good to see you."},
      {"Melanie", "Hi Caroline, how are you?"},
      {"Caroline", "I went to an LGBTQ support group yesterday and it was so powerful."},
      {"Melanie", "That sounds great. What happened at the support group?"},
      {"Caroline",
       "The support group had transgender stories that inspired me to pursue counseling."},
      {"Melanie", "I painted a sunrise over the lake last week for my painting class."},
      {"Caroline", "Your painting of the lake sounds lovely, Melanie."},
      {"Melanie", "Thanks! The painting class meets on 20 May 2023 at the Riverside studio."},
      {"Caroline", "I am researching counseling programs and adoption agencies."},
      {"Melanie", "Counseling suits you. Adoption agencies can be slow though."},
      {"Caroline", "Yes."},
      {"Melanie", "Bye!"},
  };
  std::vector<SummaryTurn> turns;
  TimeMs t = kMay8;
  for (const auto& [who, text] : lines) {
    turns.push_back(SummaryTurn{who, text, t});
    t += kMinute;
  }
  return turns;
}

TEST(SummarizeTest, HeaderNamesTheAbsoluteDateAndTheSpeakersInOrder) {
  auto turns = Session();
  EXPECT_EQ(SessionHeader(turns), "Session of 8 May 2023 (Caroline, Melanie)");
  turns.back().time = kMay8 + 2 * 86400000;
  EXPECT_EQ(SessionHeader(turns), "Session of 8 May 2023 - 10 May 2023 (Caroline, Melanie)");
  EXPECT_EQ(SessionHeader({SummaryTurn{"", "hello", std::nullopt}}), "Session");
}

TEST(SummarizeTest, ExtractiveSummaryKeepsCentralSentencesInTimeOrderWithinBounds) {
  const auto turns = Session();
  const std::string s = ExtractiveSessionSummary(turns);
  const std::string header = "Session of 8 May 2023 (Caroline, Melanie): ";
  ASSERT_EQ(s.substr(0, header.size()), header) << s;
  EXPECT_LE(s.size() - header.size(), kMaxSummaryBodyBytes + 40) << s;
  // Central content is kept; greetings and one-word turns are not.
  EXPECT_NE(s.find("support group"), std::string::npos) << s;
  EXPECT_NE(s.find("painting"), std::string::npos) << s;
  EXPECT_EQ(s.find("Good to see you"), std::string::npos) << s;
  EXPECT_EQ(s.find("Bye"), std::string::npos) << s;
  EXPECT_EQ(s.find("Yes."), std::string::npos) << s;
  // At most kMaxSummarySentences sentences, in time order, each turn after its speaker.
  size_t sentences = 0;
  for (char c : s.substr(header.size())) sentences += (c == '.' || c == '!' || c == '?');
  EXPECT_LE(sentences, kMaxSummarySentences) << s;
  const size_t group = s.find("support group");
  const size_t painting = s.find("painting");
  EXPECT_LT(group, painting) << s;
  EXPECT_NE(s.find("Caroline: "), std::string::npos) << s;
  EXPECT_NE(s.find("Melanie: "), std::string::npos) << s;
}

TEST(SummarizeTest, ExtractiveSummaryIsDeterministicAndBoundedForLongSessions) {
  std::vector<SummaryTurn> turns;
  for (int i = 0; i < 400; ++i) {
    turns.push_back(SummaryTurn{i % 2 ? "Bob" : "Ann",
                                "We talked about the garden project number " + std::to_string(i) +
                                    " and the tomatoes growing next to the old fence " +
                                    std::string(300, 'x'),
                                kMay8 + i * kMinute});
  }
  const std::string a = ExtractiveSessionSummary(turns);
  EXPECT_EQ(a, ExtractiveSessionSummary(turns));
  EXPECT_LE(a.size(), SessionHeader(turns).size() + 2 + kMaxSummaryBodyBytes);
  EXPECT_NE(a.find("..."), std::string::npos) << "long sentences are cut";
  EXPECT_EQ(ExtractiveSessionSummary({}), "");
}

TEST(SummarizeTest, GreetingsOnlyFallBackToTheFirstTurn) {
  const std::string s = ExtractiveSessionSummary(
      {SummaryTurn{"Ann", "Hi!", kMay8}, SummaryTurn{"Bob", "Hello.", kMay8 + kMinute}});
  EXPECT_EQ(s, "Session of 8 May 2023 (Ann, Bob): Ann: Hi!");
}

TEST(SummarizeTest, ModelRequestHasTheTurnsAndAStrictSchema) {
  const auto req = BuildSummaryRequest(Session());
  ASSERT_EQ(req.messages.size(), 2u);
  EXPECT_NE(req.messages[1].content.find("3. [2023-05-08] Caroline: I went to an LGBTQ"),
            std::string::npos)
      << req.messages[1].content;
  auto schema = util::ParseJson(req.json_schema);
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ((*schema)["required"][0], "summary");
  EXPECT_EQ((*schema)["additionalProperties"], false);
}

TEST(SummarizeTest, ModelAnswerIsParsedTolerantlyAndGarbageIsCorruption) {
  const auto turns = Session();
  auto ok = ParseSummaryAnswer(
      "```json\n{\"summary\": \" Caroline went to a support group. \"}\n```", turns);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, "Session of 8 May 2023 (Caroline, Melanie): Caroline went to a support group.");
  for (const char* bad : {"no json here", "{\"summary\": 3}", "{\"summary\": \"  \"}",
                          "{\"other\": \"x\"}", "{broken", "\xff\xfe{\"summary\":\"x\"}"}) {
    auto r = ParseSummaryAnswer(bad, turns);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
  }
  auto long_answer = ParseSummaryAnswer("{\"summary\": \"" + std::string(5000, 'a') + "\"}", turns);
  ASSERT_TRUE(long_answer.ok());
  EXPECT_LE(long_answer->size(), SessionHeader(turns).size() + 2 + kMaxModelSummaryBytes + 3);
}

TEST(SummarizeTest, TopicsAreEntitiesNamedByEnoughMemories) {
  std::vector<TopicItem> items = {
      {1, "Maya adopted a cat named Miso.", {"Maya", "Miso"}, 100},
      {2, "Miso likes tuna.", {"miso"}, 300},
      {3, "Maya took Miso to the vet.", {"Maya", "MISO", "Miso"}, 200},
      {4, "Maya lives in Porto.", {"Maya", "Porto"}, 50},
      {5, "Porto is rainy.", {"Porto"}, 60},
  };
  auto topics = FindTopics(items, 3, 10, {"maya"});
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0].name, "Miso");                           // as first spelled, by time
  EXPECT_EQ(topics[0].items, (std::vector<size_t>{0, 2, 1}));  // time order, once each
  auto two = FindTopics(items, 2, 10, {"maya"});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].name, "Miso");
  EXPECT_EQ(two[1].name, "Porto");
  EXPECT_EQ(FindTopics(items, 2, 1, {"maya"}).size(), 1u);  // capped
  EXPECT_EQ(FindTopics(items, 2, 10, {}).front().name, "Maya");
}

TEST(SummarizeTest, TopicSummaryListsTextsInTimeOrderKeepingTheNewest) {
  TopicItem a{1, "Miso is a cat", {}, 1}, b{2, "Miso likes tuna.", {}, 2};
  EXPECT_EQ(TopicSummaryText("Miso", {&a, &b}), "About Miso: Miso is a cat. Miso likes tuna.");
  std::vector<TopicItem> many;
  for (int i = 0; i < 100; ++i)
    many.push_back({i, "Fact number " + std::to_string(i) + " about Miso.", {}, i});
  std::vector<const TopicItem*> ptrs;
  for (const auto& it : many) ptrs.push_back(&it);
  const std::string s = TopicSummaryText("Miso", ptrs);
  EXPECT_LE(s.size(), kMaxTopicSummaryBytes + 20);
  EXPECT_NE(s.find("Fact number 99 about Miso."), std::string::npos);
  EXPECT_EQ(s.find("Fact number 0 about"), std::string::npos);
  EXPECT_LT(s.find("number 98"), s.find("number 99"));
}

}  // namespace
}  // namespace mnemo::lifecycle
