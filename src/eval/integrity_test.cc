#include "eval/integrity.h"

#include <gtest/gtest.h>

#include "eval/scratch_dir.h"
#include "llm/fake_openai.h"
#include "llm/openai.h"

namespace mnemo::eval {
namespace {

// Two conversations whose figures are worked out by hand. The labels are deliberately
// not all reachable: "I love jazz" is labelled as stating nothing (a derived fact the
// labels do not expect: wrong), and the employer of "I'm a nurse at the clinic" is
// expected but not derivable (missed).
constexpr const char* kSet =
    R"({"id":"a-1","user":"sam","turns":[)"
    R"({"role":"user","time":"2024-03-01T10:00:00Z","text":"I hate cilantro.","tags":["dislike"],"facts":[{"slot":"likes:cilantro","value":"no"}]},)"
    R"({"role":"user","text":"I moved to Lisbon.","tags":["move"],"facts":[{"slot":"home_city","value":"lisbon"}]},)"
    R"({"role":"user","text":"Scratch that, I meant Porto, not Lisbon.","tags":["correction","update"],"facts":[{"slot":"home_city","value":"Porto"}]},)"
    R"({"role":"assistant","text":"Porto is lovely! You could move to Madrid too.","tags":["assistant","suggestion"]}],)"
    R"("profile":{"likes:cilantro":"no","home_city":"Porto"}})"
    "\n\n"
    R"({"id":"b-1","user":"u-7","speaker":"Priya","turns":[)"
    R"({"role":"user","text":"If I moved to Paris I'd be happier.","tags":["hypothetical"],"facts":[]},)"
    R"({"role":"user","text":"My sister Anna lives in Paris.","tags":["relationship","other_person"],"facts":[{"slot":"family:anna","value":"sister"}]},)"
    R"({"role":"user","text":"I love jazz.","tags":["like"],"facts":[]},)"
    R"({"role":"user","text":"I'm a nurse at the clinic.","tags":["job"],"facts":[{"slot":"job","value":"nurse"},{"slot":"employer","value":"the clinic"}]}],)"
    R"("profile":{"family:anna":"sister","job":"nurse","employer":"the clinic"}})"
    "\n";

std::unique_ptr<Engine> OpenEngine(const ScratchDir& dir, Options o = Options()) {
  o.create_if_missing = true;
  o.durability = Durability::kNormal;
  o.background_jobs = false;
  o.pipeline.summaries = false;
  auto e = Engine::Open(dir.path() + "/data", o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

TEST(IntegrityTest, ParsesTheSetAndRefusesLabellingErrorsByLineAndField) {
  auto set = ParseIntegrity(kSet);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->conversations.size(), 2u);
  const auto& a = set->conversations[0];
  EXPECT_EQ(a.user, "sam");
  ASSERT_EQ(a.turns.size(), 4u);
  EXPECT_EQ(*a.turns[0].time, 1709287200000);
  EXPECT_FALSE(a.turns[1].time.has_value());
  EXPECT_EQ(a.turns[2].facts[0].value, "Porto");
  EXPECT_EQ(set->conversations[1].speaker, "Priya");

  const std::string turn =
      R"({"role":"user","text":"I moved to Oslo.","facts":[{"slot":"home_city","value":"oslo"}]})";
  struct Bad {
    std::string line;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {"not json", "line 1: "},
      {R"({"id":"x","user":"u","turns":[)" + turn + R"(],"profile":{}})",
       "line 1: \"profile\" is not what the turns' facts leave"},
      {R"({"id":"x","user":"u","turns":[)" + turn +
           R"(],"profile":{"home_city":"oslo"},"extra":1})",
       "line 1: unknown field \"extra\""},
      {R"({"id":"x","user":"u","turns":[{"role":"assistant","text":"Hi","facts":[{"slot":"a","value":"b"}]}],"profile":{"a":"b"}})",
       "line 1: turn 1: an assistant turn states no fact"},
      {R"({"id":"x","user":"u","turns":[{"role":"user","text":"Hi","tags":["moves"]}],"profile":{}})",
       "line 1: turn 1: unknown tag \"moves\""},
      {R"({"id":"x","user":"u","turns":[{"role":"user","text":"Hi","facts":[{"slot":"a"}]}],"profile":{}})",
       "line 1: turn 1: fact 1: \"value\" is required"},
      {R"({"id":"x","user":"","turns":[)" + turn + R"(],"profile":{"home_city":"oslo"}})",
       "line 1: \"user\" is empty"},
      {R"({"id":"x","user":"u","turns":[{"role":"bot","text":"Hi"}],"profile":{}})",
       "line 1: turn 1: \"role\" must be"},
      {R"({"id":"x","user":"u","turns":[{"role":"user","text":"Hi","time":"yesterday"}],"profile":{}})",
       "line 1: turn 1: \"time\": "},
      {"", "holds no conversation"},
  };
  for (const Bad& b : bad) {
    auto r = ParseIntegrity(b.line);
    ASSERT_FALSE(r.ok()) << b.line;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(b.message), std::string::npos)
        << r.status().message() << " / " << b.message;
  }
  // A repeated id is refused on the line that repeats it.
  const std::string one =
      R"({"id":"x","user":"u","turns":[)" + turn + R"(],"profile":{"home_city":"oslo"}})";
  auto twice = ParseIntegrity(one + "\n" + one + "\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("line 2: duplicate id \"x\""), std::string::npos);
}

TEST(IntegrityTest, RulesScoredByHandThroughTheRealPipeline) {
  auto dir = ScratchDir::Create("mnemo-integrity-test-");
  ASSERT_TRUE(dir.ok());
  auto engine = OpenEngine(**dir);
  ASSERT_NE(engine, nullptr);
  auto set = ParseIntegrity(kSet);
  ASSERT_TRUE(set.ok());
  int64_t progress = 0;
  auto r = EvalIntegrity(*engine, *set, "rules", [&](int64_t done, int64_t total) {
    progress = done;
    EXPECT_EQ(total, 2);
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(progress, 2);
  EXPECT_EQ(r->conversations, 2);
  EXPECT_EQ(r->overall.turns, 8);
  // Expected 6 facts; derived: cilantro, Lisbon, Porto (the correction), Anna, nurse (all
  // right) and jazz (wrong); the clinic is missed.
  EXPECT_EQ(r->overall.expected, 6);
  EXPECT_EQ(r->overall.found, 5);
  EXPECT_EQ(r->overall.derived, 6);
  EXPECT_EQ(r->overall.right, 5);
  EXPECT_DOUBLE_EQ(r->overall.Precision(), 5.0 / 6);
  EXPECT_DOUBLE_EQ(r->overall.Recall(), 5.0 / 6);
  // Lisbon -> Porto is the one update, and the profile took it.
  EXPECT_EQ(r->updates, 1);
  EXPECT_EQ(r->updates_right, 1);
  // Final profiles: sam's 2 slots right; u-7's expected 3 and shown likes:jazz make 4
  // slots, 2 right (Anna, nurse).
  EXPECT_EQ(r->profile_slots, 6);
  EXPECT_EQ(r->profile_right, 4);
  EXPECT_EQ(r->profiles_exact, 1);
  EXPECT_EQ(r->trap_turns,
            3);  // the suggestion, the hypothetical, the sister (her family:anna is right)
  EXPECT_EQ(r->trap_facts, 0);
  EXPECT_EQ(r->by_tag.at("like").derived, 1);
  EXPECT_EQ(r->by_tag.at("like").right, 0);
  EXPECT_EQ(r->by_tag.at("job").expected, 2);
  EXPECT_EQ(r->by_tag.at("job").found, 1);
  ASSERT_EQ(r->misses.size(), 2u);
  EXPECT_EQ(r->misses[0].kind, "wrong");
  EXPECT_EQ(r->misses[0].fact, "likes:jazz=yes");
  EXPECT_EQ(r->misses[1].kind, "missed");
  EXPECT_EQ(r->misses[1].fact, "employer=the clinic");
  // Facts name the user: the speaker, else the user id.
  ListRequest req;
  req.filter.user_id = "sam";
  req.filter.kinds = {Kind::kPreference};
  auto prefs = engine->List("c1", req);
  ASSERT_TRUE(prefs.ok());
  ASSERT_EQ(prefs->memories.size(), 1u);
  EXPECT_EQ(prefs->memories[0].text, "sam hates cilantro");
  req.filter.user_id = "u-7";
  req.filter.kinds = {Kind::kFact};
  auto facts = engine->List("c2", req);
  ASSERT_TRUE(facts.ok());
  ASSERT_FALSE(facts->memories.empty());
  EXPECT_EQ(facts->memories[0].text, "Priya's sister is Anna");

  const util::Json j = IntegrityReportToJson(*r);
  EXPECT_EQ(j["extractor"], "rules");
  EXPECT_DOUBLE_EQ(j["update_accuracy"].get<double>(), 1.0);
  EXPECT_EQ(j["misses"].size(), 2u);
  const std::string table = IntegrityReportToTable(*r, true);
  EXPECT_NE(table.find("precision 0.833  recall 0.833  update accuracy 1.000 (1/1)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("missed  b-1 turn 4  employer=the clinic"), std::string::npos) << table;
}

// The model path: the chat model is a fake over real HTTP that answers each turn's call
// as scripted (one call per turn, as the evaluation flushes each turn's window).
TEST(IntegrityTest, ModelPathIsScoredTheSameWay) {
  llm::FakeOpenAi fake;
  ASSERT_TRUE(fake.Start().ok());
  // Turn 1: a yes/no slot with no value and a negative polarity (-> likes:cilantro = no);
  // turn 2: a fact the labels do not expect; turn 3: nothing.
  fake.SetChatContents(
      {R"({"memories":[{"kind":"preference","text":"sam hates cilantro","subject":"sam",
          "slot":"likes:cilantro","value":"","polarity":-1,"event_date":null,"time_text":"",
          "entities":[],"sources":[1],"supersedes":null,"same_as":null}]})",
       R"({"memories":[{"kind":"fact","text":"sam lives in Madrid","subject":"sam",
          "slot":"home_city","value":"madrid","polarity":1,"event_date":null,"time_text":"",
          "entities":["Madrid"],"sources":[1],"supersedes":null,"same_as":null}]})",
       R"({"memories":[]})"});
  llm::ProviderConfig c;
  c.base_url = fake.base_url();
  c.model = "fake-chat";
  c.max_retries = 0;
  c.timeout_ms = 5000;
  auto model = llm::MakeOpenAiChatModel(c);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Options o;
  o.chat_model = *model;
  o.pipeline.window_wait_ms = 0;
  auto dir = ScratchDir::Create("mnemo-integrity-test-");
  ASSERT_TRUE(dir.ok());
  auto engine = OpenEngine(**dir, o);
  ASSERT_NE(engine, nullptr);
  auto set = ParseIntegrity(
      R"({"id":"m-1","user":"sam","turns":[)"
      R"({"role":"user","text":"I hate cilantro.","facts":[{"slot":"likes:cilantro","value":"no"}]},)"
      R"({"role":"user","text":"What if I moved to Madrid?","tags":["question"],"facts":[]},)"
      R"({"role":"user","text":"I live in Oslo.","facts":[{"slot":"home_city","value":"oslo"}]}],)"
      R"("profile":{"likes:cilantro":"no","home_city":"oslo"}})");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto r = EvalIntegrity(*engine, *set, (*model)->id());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 3u);
  EXPECT_EQ(r->overall.expected, 2);
  EXPECT_EQ(r->overall.found, 1);
  EXPECT_EQ(r->overall.derived, 2);
  EXPECT_EQ(r->overall.right, 1);
  EXPECT_EQ(r->trap_turns, 1);
  EXPECT_EQ(r->trap_facts, 1);  // the question's Madrid
  // The profile shows Madrid after turn 3 (the model said nothing of Oslo).
  EXPECT_EQ(r->profile_slots, 2);
  EXPECT_EQ(r->profile_right, 1);
  // The prompt named the user by id.
  const auto requests = fake.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_NE(requests[0].body.find("sam (user): I hate cilantro."), std::string::npos)
      << requests[0].body;
}

}  // namespace
}  // namespace mnemo::eval
