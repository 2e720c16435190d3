#include "write/llm_extract.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "util/json_codec.h"
#include "util/time_util.h"

namespace mnemo::write {
namespace {

using util::Json;

TimeMs Day(int y, unsigned m, unsigned d) { return util::DaysFromCivil(y, m, d) * 86'400'000; }

// A ChatModel that answers from a script and records what it was asked: no HTTP.
class FakeChatModel : public ChatModel {
 public:
  explicit FakeChatModel(std::vector<Result<ChatResponse>> script) : script_(std::move(script)) {}
  std::string id() const override { return "fake:scripted"; }
  Result<ChatResponse> Complete(const ChatRequest& request) const override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (next_ >= script_.size()) return Status::Internal("fake model: script exhausted");
    return script_[next_++];
  }
  std::vector<ChatRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Result<ChatResponse>> script_;   // protected by mu_
  mutable size_t next_ = 0;                    // protected by mu_
  mutable std::vector<ChatRequest> requests_;  // protected by mu_
};

Result<ChatResponse> Answer(std::string content, int64_t prompt = 100, int64_t completion = 20) {
  ChatResponse r;
  r.content = std::move(content);
  r.prompt_tokens = prompt;
  r.completion_tokens = completion;
  r.requests = 1;
  return r;
}

std::vector<Turn> Window() {
  std::vector<Turn> turns(3);
  turns[0] = {
      1001, "s1", "user", "Caroline", "I went to a LGBTQ support group yesterday.", Day(2023, 5, 8),
      "",   ""};
  turns[1] = {
      1002, "s1", "user", "Melanie", "That's great! I moved to Paris last month.", Day(2023, 5, 8),
      "",   ""};
  turns[2] = {1003, "s1", "assistant", "", "Noted.", std::nullopt, "", ""};
  return turns;
}

std::vector<Neighbour> KnownMemories() {
  Neighbour home;
  home.id = 501;
  home.text = "Melanie lives in Boston";
  home.subject = "melanie";
  home.slot = "home_city";
  home.value = "boston";
  home.time = Day(2022, 1, 1);
  Neighbour hobby;
  hobby.id = 502;
  hobby.text = "Caroline likes painting";
  hobby.subject = "caroline";
  return {home, hobby};
}

constexpr const char* kItem =
    R"({"kind":"fact","text":"Melanie moved to Paris in April 2023","subject":"Melanie",)"
    R"("slot":"Home_City","value":"Paris","polarity":1,"event_date":"2023-04-15",)"
    R"("time_text":"last month","entities":["Paris","paris","Melanie"],"sources":[2],)"
    R"("supersedes":501,"same_as":null,"confidence":0.9})";

std::string Doc(const std::string& items) { return R"({"memories":[)" + items + "]}"; }

// --- Prompt ----------------------------------------------------------------------------

TEST(ExtractionPromptTest, ListsTurnsWithDatesAndKnownIds) {
  const ChatRequest req = BuildExtractionRequest(Window(), KnownMemories());
  ASSERT_EQ(req.messages.size(), 2u);
  EXPECT_EQ(req.messages[0].role, "system");
  EXPECT_EQ(req.messages[1].role, "user");
  const std::string& user = req.messages[1].content;
  EXPECT_NE(user.find("1. 2023-05-08 Caroline: I went to a LGBTQ support group yesterday."),
            std::string::npos)
      << user;
  EXPECT_NE(user.find("2. 2023-05-08 Melanie: "), std::string::npos);
  EXPECT_NE(user.find("3. assistant: Noted."), std::string::npos);  // no time, no speaker
  EXPECT_NE(user.find("#501 [melanie home_city=boston] Melanie lives in Boston"),
            std::string::npos);
  EXPECT_NE(user.find("#502 [caroline] Caroline likes painting"), std::string::npos);
  EXPECT_EQ(req.temperature, 0);
  EXPECT_GE(req.max_tokens, 256);

  const ChatRequest none = BuildExtractionRequest(Window(), {});
  EXPECT_NE(none.messages[1].content.find("Known memories: none"), std::string::npos);
}

// Every object schema lists all its properties as required and forbids others; nullable
// fields use type arrays (OpenAI strict mode).
void ExpectStrict(const Json& schema, const std::string& path) {
  ASSERT_TRUE(schema.is_object()) << path;
  if (schema.contains("items")) ExpectStrict(schema["items"], path + "[]");
  if (schema.value("type", Json()) != "object") return;
  ASSERT_EQ(schema.value("additionalProperties", true), false) << path;
  ASSERT_TRUE(schema.contains("properties")) << path;
  std::vector<std::string> props, required = schema["required"].get<std::vector<std::string>>();
  for (const auto& [name, sub] : schema["properties"].items()) {
    props.push_back(name);
    ExpectStrict(sub, path + "." + name);
  }
  std::sort(props.begin(), props.end());
  std::sort(required.begin(), required.end());
  EXPECT_EQ(props, required) << path;
}

TEST(ExtractionPromptTest, SchemaIsStrictJsonSchema) {
  const ChatRequest req = BuildExtractionRequest(Window(), {});
  auto schema = util::ParseJson(req.json_schema);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ExpectStrict(*schema, "$");
  const Json& item = (*schema)["properties"]["memories"]["items"];
  EXPECT_EQ(item["properties"].size(), 12u);
  EXPECT_EQ(item["properties"]["event_date"]["type"], Json::array({"string", "null"}));
  EXPECT_EQ(item["properties"]["supersedes"]["type"], Json::array({"integer", "null"}));
  EXPECT_EQ(item["properties"]["kind"]["enum"], Json::array({"fact", "preference", "procedure"}));
  EXPECT_FALSE(req.schema_name.empty());
}

TEST(ExtractionPromptTest, EstimatedTokensFitTheBudgetFor30Turns) {
  EXPECT_EQ(EstimateTokens(""), 0u);
  EXPECT_EQ(EstimateTokens("abcd"), 1u);
  EXPECT_EQ(EstimateTokens("abcde"), 2u);
  std::vector<Turn> window;
  const std::string text =
      "Yesterday I finally took the kids to the lake near our new house, and we spent the "
      "whole afternoon painting the sunrise scenes we had photographed last summer together.";
  for (int i = 0; i < 30; ++i) {
    window.push_back(
        {2000 + i, "s1", "user", i % 2 ? "Melanie" : "Caroline", text, Day(2023, 5, 8), "", ""});
  }
  std::vector<Neighbour> known = KnownMemories();
  for (int i = 0; i < 10; ++i) {
    Neighbour n = known[i % 2];
    n.id = 600 + i;
    known.push_back(n);
  }
  const ChatRequest req = BuildExtractionRequest(window, known);
  size_t tokens = EstimateTokens(req.json_schema);
  for (const auto& m : req.messages) tokens += EstimateTokens(m.content);
  EXPECT_LE(tokens, 800u * 30);
  EXPECT_LE(tokens, 100u * 30);  // far below the budget: the prompt is compact
  EXPECT_LE(EstimateTokens(req.messages[0].content), 400u);
}

TEST(ExtractionPromptTest, LongTurnsAreCutAtACharacterBoundary) {
  std::vector<Turn> window = Window();
  window[0].text = std::string(1999, 'a') + "\xC3\xA9" + std::string(8000, 'b');
  const ChatRequest req = BuildExtractionRequest(window, {});
  EXPECT_LT(req.messages[1].content.size(), kMaxPromptTurnBytes + 500);
  EXPECT_NE(req.messages[1].content.find(std::string(1999, 'a') + "..."), std::string::npos);
}

// --- Parsing ---------------------------------------------------------------------------

TEST(ParseExtractionTest, CleanJsonMapsEveryField) {
  int dropped = -1;
  auto r = ParseExtraction(Doc(kItem), Window(), KnownMemories(), &dropped);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(dropped, 0);
  const ModelCandidate& mc = (*r)[0];
  const Candidate& c = mc.candidate;
  EXPECT_EQ(c.kind, Kind::kFact);
  EXPECT_EQ(c.text, "Melanie moved to Paris in April 2023");
  EXPECT_EQ(c.subject, "melanie");
  EXPECT_EQ(c.slot, "home_city");
  EXPECT_EQ(c.value, "paris");
  EXPECT_EQ(c.polarity, 1);
  EXPECT_EQ(c.event_time, Day(2023, 4, 15));
  EXPECT_EQ(c.time_text, "last month");
  EXPECT_EQ(c.entities, (std::vector<std::string>{"Paris", "Melanie"}));
  EXPECT_EQ(c.sources, (std::vector<MemoryId>{1002}));
  EXPECT_DOUBLE_EQ(c.confidence, kModelConfidence);
  EXPECT_EQ(mc.supersedes, 501);
  EXPECT_EQ(mc.same_as, 0);
}

TEST(ParseExtractionTest, AcceptsFencesProseArraysAndTrailingGarbage) {
  const std::vector<std::string> answers = {
      "```json\n" + Doc(kItem) + "\n```",
      "Sure! Based on turns [1-3], here you go:\n" + Doc(kItem) + "\nHope this helps {",
      std::string("[") + kItem + "]",
      Doc(kItem) + "}}]] trailing",
  };
  for (const auto& a : answers) {
    auto r = ParseExtraction(a, Window(), KnownMemories());
    ASSERT_TRUE(r.ok()) << a << ": " << r.status().ToString();
    ASSERT_EQ(r->size(), 1u) << a;
    EXPECT_EQ((*r)[0].candidate.text, "Melanie moved to Paris in April 2023");
  }
}

TEST(ParseExtractionTest, EmptyMemoriesIsNotAnError) {
  int dropped = -1;
  auto r = ParseExtraction(R"({"memories": []})", Window(), {}, &dropped);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(dropped, 0);
}

TEST(ParseExtractionTest, WrongTypesDropTheItem) {
  const std::string good = R"({"kind":"preference","text":"Caroline loves hiking","sources":[1]})";
  const std::vector<std::string> bad = {
      R"({"kind":"fact","text":42,"sources":[1]})",
      R"({"kind":"opinion","text":"x","sources":[1]})",
      R"({"text":"no kind","sources":[1]})",
      R"({"kind":"fact","text":"sources not a list","sources":"1"})",
      R"({"kind":"fact","text":"polarity","polarity":"yes","sources":[1]})",
      R"({"kind":"fact","text":"entities","entities":"Paris","sources":[1]})",
      R"({"kind":"fact","text":"   ","sources":[1]})",
      R"({"kind":"fact","text":"slot","slot":7,"sources":[1]})",
      R"("just a string")",
  };
  std::string items = good;
  for (const auto& b : bad) items += "," + b;
  int dropped = 0;
  auto r = ParseExtraction(Doc(items), Window(), {}, &dropped);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(dropped, static_cast<int>(bad.size()));
  const Candidate& c = (*r)[0].candidate;
  EXPECT_EQ(c.kind, Kind::kPreference);
  EXPECT_EQ(c.subject, "caroline");  // defaulted from the source turn's speaker
  EXPECT_EQ(c.polarity, 1);
  EXPECT_FALSE(c.event_time.has_value());
}

TEST(ParseExtractionTest, SourcesOutOfRangeAreIgnoredAndNoneLeftDrops) {
  int dropped = 0;
  auto r = ParseExtraction(Doc(R"({"kind":"fact","text":"a","sources":[0, 4, 3, 3, -1, 1.5]},)"
                               R"({"kind":"fact","text":"b","sources":[99]},)"
                               R"({"kind":"fact","text":"c","sources":[]})"),
                           Window(), {}, &dropped);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].candidate.sources, (std::vector<MemoryId>{1003}));
  EXPECT_EQ((*r)[0].candidate.subject, "assistant");  // no speaker: the role
  EXPECT_EQ(dropped, 2);
}

TEST(ParseExtractionTest, RelationsMustNameKnownIds) {
  auto r = ParseExtraction(
      Doc(R"({"kind":"fact","text":"a","sources":[1],"supersedes":777},)"
          R"({"kind":"fact","text":"b","sources":[1],"same_as":"#502"},)"
          R"({"kind":"fact","text":"c","sources":[1],"supersedes":501,"same_as":502},)"
          R"({"kind":"fact","text":"d","sources":[1],"supersedes":"501x","same_as":true})"),
      Window(), KnownMemories());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].supersedes, 0);  // not a known id
  EXPECT_EQ((*r)[1].same_as, 502);   // quoted like the prompt shows it
  EXPECT_EQ((*r)[2].supersedes, 0);  // both given: the model contradicted itself
  EXPECT_EQ((*r)[2].same_as, 0);
  EXPECT_EQ((*r)[3].supersedes, 0);
  EXPECT_EQ((*r)[3].same_as, 0);
}

TEST(ParseExtractionTest, UnparsableDatesBecomeNullAndNegativePolarityIsMinusOne) {
  auto r =
      ParseExtraction(Doc(R"({"kind":"preference","text":"Caroline dislikes sushi","sources":[1],)"
                          R"("polarity":-1,"event_date":"last friday"})"),
                      Window(), {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].candidate.polarity, -1);
  EXPECT_FALSE((*r)[0].candidate.event_time.has_value());
}

TEST(ParseExtractionTest, InvalidUtf8CostsOnlyTheItem) {
  int dropped = 0;
  auto r = ParseExtraction(
      Doc("{\"kind\":\"fact\",\"text\":\"bad \xff\xfe text\",\"sources\":[1]},"
          "{\"kind\":\"fact\",\"text\":\"good\",\"entities\":[\"ok\",\"b\xc3\"],\"sources\":[1]}"),
      Window(), {}, &dropped);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ((*r)[0].candidate.text, "good");
  EXPECT_EQ((*r)[0].candidate.entities, (std::vector<std::string>{"ok"}));
}

TEST(ParseExtractionTest, OverlongTextIsDropped) {
  int dropped = 0;
  const std::string long_text(kMaxMemoryTextBytes + 1, 'x');
  auto r = ParseExtraction(Doc(R"({"kind":"fact","text":")" + long_text + R"(","sources":[1]})"),
                           Window(), {}, &dropped);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(dropped, 1);
}

TEST(ParseExtractionTest, NotJsonIsCorruptionWithAnExcerpt) {
  for (const std::string a :
       {"I cannot help with that request.", "", R"({"facts": []})", "see turns [1] and [2]",
        R"({"memories": {"kind": "fact"}})", "{\"memories\": [ {\"kind\""}) {
    auto r = ParseExtraction(a, Window(), {});
    ASSERT_FALSE(r.ok()) << a;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << a;
  }
  auto r = ParseExtraction("I cannot help with that request.", Window(), {});
  EXPECT_NE(r.status().message().find("\"I cannot help"), std::string::npos)
      << r.status().message();
}

TEST(ParseExtractionTest, DeepNestingIsRefusedWithoutRecursion) {
  for (const std::string open : {"[", "{\"a\":"}) {
    std::string deep;
    for (int i = 0; i < 200000; ++i) deep += open;
    auto r = ParseExtraction(R"({"memories":)" + deep, Window(), {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("nested"), std::string::npos) << r.status().message();
  }
  auto huge = ParseExtraction(std::string(kMaxAnswerBytes + 1, ' '), Window(), {});
  EXPECT_EQ(huge.status().code(), StatusCode::kCorruption);
}

// --- ExtractWithModel ------------------------------------------------------------------

TEST(ExtractWithModelTest, OneCallOnSuccess) {
  FakeChatModel model({Answer(Doc(kItem), 900, 80)});
  ModelUsage usage;
  auto r = ExtractWithModel(model, Window(), KnownMemories(), &usage);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->calls, 1);
  EXPECT_EQ(r->prompt_tokens, 900);
  EXPECT_EQ(r->completion_tokens, 80);
  EXPECT_FALSE(r->repaired);
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].supersedes, 501);
  EXPECT_EQ(usage.calls, 1);
  const auto requests = model.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].json_schema.empty());
  EXPECT_NE(requests[0].messages[1].content.find("#501"), std::string::npos);
}

TEST(ExtractWithModelTest, GarbageThenRepairSucceeds) {
  FakeChatModel model(
      {Answer("Here are the memories: {memories: [oops", 900, 50), Answer(Doc(kItem), 120, 60)});
  ModelUsage usage;
  auto r = ExtractWithModel(model, Window(), KnownMemories(), &usage);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->repaired);
  EXPECT_EQ(r->calls, 2);
  EXPECT_EQ(r->prompt_tokens, 1020);
  EXPECT_EQ(r->completion_tokens, 110);
  EXPECT_EQ(r->candidates.size(), 1u);
  const auto requests = model.requests();
  ASSERT_EQ(requests.size(), 2u);
  const std::string& repair = requests[1].messages.back().content;
  EXPECT_NE(repair.find("{memories: [oops"), std::string::npos);  // the broken answer
  EXPECT_NE(repair.find("Parse error: "), std::string::npos);
  EXPECT_EQ(requests[1].json_schema, requests[0].json_schema);
  // The repair round does not resend the turns: it must stay cheap.
  EXPECT_EQ(repair.find("LGBTQ"), std::string::npos);
}

TEST(ExtractWithModelTest, GarbageTwiceIsCorruptionAndUsageCountsBothCalls) {
  FakeChatModel model({Answer("no idea", 900, 5), Answer("still no idea", 100, 5)});
  ModelUsage usage;
  auto r = ExtractWithModel(model, Window(), {}, &usage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("still no idea"), std::string::npos);
  EXPECT_EQ(usage.calls, 2);
  EXPECT_EQ(usage.prompt_tokens, 1000);
  EXPECT_EQ(usage.completion_tokens, 10);
  EXPECT_EQ(model.requests().size(), 2u);
}

TEST(ExtractWithModelTest, UnavailableIsPassedThroughWithoutRepair) {
  FakeChatModel model({Status::Unavailable("provider timed out"), Answer(Doc(kItem))});
  ModelUsage usage;
  auto r = ExtractWithModel(model, Window(), {}, &usage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "provider timed out");
  EXPECT_EQ(usage.calls, 1);
  EXPECT_EQ(model.requests().size(), 1u);
}

TEST(ExtractWithModelTest, UnavailableDuringRepairKeepsTheFirstCallsUsage) {
  FakeChatModel model({Answer("garbage", 700, 30), Status::Unavailable("429 after retries")});
  ModelUsage usage;
  auto r = ExtractWithModel(model, Window(), {}, &usage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(usage.calls, 2);
  EXPECT_EQ(usage.prompt_tokens, 700);
  EXPECT_EQ(usage.completion_tokens, 30);
}

TEST(ExtractWithModelTest, EmptyWindowMakesNoCall) {
  FakeChatModel model({});
  ModelUsage usage;
  usage.calls = 99;
  auto r = ExtractWithModel(model, {}, {}, &usage);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->candidates.empty());
  EXPECT_EQ(usage.calls, 0);
  EXPECT_TRUE(model.requests().empty());
}

}  // namespace
}  // namespace mnemo::write
