// The background pipeline end to end: rules without a model, a chat model behind a fake
// OpenAI-compatible server over real HTTP, failures, budgets, crashes and provenance.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "engine/engine_test_util.h"
#include "llm/fake_openai.h"
#include "llm/openai.h"
#include "util/json_codec.h"

namespace mnemo::testing {
namespace {

constexpr TimeMs kMay10 = 1683712800000;  // 2023-05-10T10:00:00Z

class PipelineTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
    ReopenWithRules();
  }

  // Reopens the engine with the rules. Summaries have their own tests
  // (summaries_test.cc); here they would add jobs, memories and calls to every count.
  void ReopenWithRules() {
    engine_.reset();
    Options o = MakeOptions();
    o.pipeline.summaries = false;
    auto e = Engine::Open(dir_.path(), o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  // Reopens the engine with a chat model served by `fake_` over loopback HTTP.
  void UseModel(PipelineOptions pipeline = PipelineOptions(), bool background = false) {
    if (fake_.port() == 0) {
      ASSERT_TRUE(fake_.Start().ok());
    }
    llm::ProviderConfig c;
    c.base_url = fake_.base_url();
    c.model = "fake-chat";
    c.max_retries = 0;  // the job queue retries; keeps the tests fast
    c.timeout_ms = 2000;
    auto model = llm::MakeOpenAiChatModel(c);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    engine_.reset();
    Options o = MakeOptions();
    o.chat_model = *model;
    o.pipeline = pipeline;
    o.pipeline.summaries = false;
    o.background_jobs = background;
    auto e = Engine::Open(dir_.path(), o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  std::vector<MemoryId> Ingest(const std::vector<std::pair<std::string, std::string>>& turns,
                               TimeMs start = kMay10, const std::string& session = "s1") {
    std::vector<Message> msgs;
    TimeMs t = start;
    for (const auto& [speaker, text] : turns) {
      Message m;
      m.session = session;
      m.role = "user";
      m.speaker = speaker;
      m.text = text;
      m.time = t;
      t += 60000;
      msgs.push_back(std::move(m));
    }
    auto r = engine_->Ingest("s", "maya", msgs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->ids : std::vector<MemoryId>{};
  }

  std::vector<Memory> Derived(bool include_retired = false) {
    ListRequest req;
    req.filter.user_id = "maya";
    req.filter.kinds = {Kind::kFact, Kind::kPreference, Kind::kProcedure};
    req.filter.include_retired = include_retired;
    req.limit = 1000;
    auto page = engine_->List("s", req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->memories : std::vector<Memory>{};
  }

  const Memory* FindText(const std::vector<Memory>& ms, const std::string& needle) {
    for (const auto& m : ms) {
      if (m.text.find(needle) != std::string::npos) return &m;
    }
    return nullptr;
  }

  JobStats Stats() {
    auto s = engine_->GetJobStats("s");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : JobStats{};
  }

  llm::FakeOpenAi fake_;
};

// The profile stays current through what people say in chat: a dislike shows as "no",
// a correction replaces the value it names, a negation ends a slot, leaving a job ends the
// employer, and facts name the user by id when no speaker is given.
TEST_F(PipelineTest, ProfileFollowsCorrectionsNegationsAndDislikes) {
  std::vector<Message> msgs;
  TimeMs t = kMay10;
  for (const char* text :
       {"I hate cilantro.", "I moved to Lisbon.", "Scratch that, I meant Porto, not Lisbon.",
        "I'm vegetarian.", "I'm not vegetarian anymore.", "I work at Initech.",
        "Oops, I meant Intertech.", "I'm allergic to peanuts.",
        "Sorry, I'm allergic to walnuts, not peanuts.", "I'm 34, live in Porto with my wife Ana"}) {
    Message m;
    m.session = "s1";
    m.role = "user";
    m.text = text;
    m.time = t;
    t += 60000;
    ASSERT_TRUE(engine_->Ingest("s", "sam", {m}).ok());
    ASSERT_TRUE(engine_->RunJobs("s").ok());  // turn by turn, as a chat goes
  }
  auto profile = engine_->GetProfile("s", "sam", 100);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  std::map<std::string, std::string> shown;
  for (const auto& e : profile->entries) shown[e.key] = e.value;
  EXPECT_EQ(shown, (std::map<std::string, std::string>{{"age", "34"},
                                                       {"allergy:walnuts", "yes"},
                                                       {"employer", "intertech"},
                                                       {"family:ana", "wife"},
                                                       {"home_city", "porto"},
                                                       {"likes:cilantro", "no"}}));
  ListRequest req;
  req.filter.user_id = "sam";
  req.filter.kinds = {Kind::kFact, Kind::kPreference};
  auto page = engine_->List("s", req);
  ASSERT_TRUE(page.ok());
  std::set<std::string> texts;
  for (const auto& m : page->memories) texts.insert(m.text);
  EXPECT_TRUE(texts.count("sam hates cilantro")) << ::testing::PrintToString(texts);
  EXPECT_TRUE(texts.count("sam moved to Porto")) << ::testing::PrintToString(texts);
  EXPECT_TRUE(texts.count("sam works at Intertech")) << ::testing::PrintToString(texts);
  // Lisbon was superseded, not lost: its history holds it.
  req.filter.include_retired = true;
  page = engine_->List("s", req);
  ASSERT_TRUE(page.ok());
  bool lisbon = false;
  for (const auto& m : page->memories) lisbon |= m.text == "sam moved to Lisbon";
  EXPECT_TRUE(lisbon);
}

TEST_F(PipelineTest, RulesDerivePreferencesProfileFactsAndResolvedEventTimes) {
  auto ids = Ingest({{"Maya", "I love surfing. I am allergic to peanuts."},
                     {"Maya", "I went to the vet yesterday with my cat."}});
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto derived = Derived();
  const Memory* surf = FindText(derived, "Maya loves surfing");
  ASSERT_NE(surf, nullptr);
  EXPECT_EQ(surf->kind, Kind::kPreference);
  EXPECT_EQ(surf->origin, Origin::kDerived);
  EXPECT_EQ(surf->sources, std::vector<MemoryId>{ids[0]});
  const Memory* allergy = FindText(derived, "allergic to peanuts");
  ASSERT_NE(allergy, nullptr);
  EXPECT_EQ(allergy->kind, Kind::kFact);
  const Memory* vet = FindText(derived, "vet yesterday");
  ASSERT_NE(vet, nullptr);
  EXPECT_NE(vet->text.find("(2023-05-09)"), std::string::npos) << vet->text;  // wording kept
  ASSERT_TRUE(vet->event_time.has_value());
  EXPECT_EQ(*vet->event_time, kMay10 - 10 * 3600000 - 86400000);  // 2023-05-09T00:00Z
  auto links = engine_->Links("s", surf->id);
  ASSERT_TRUE(links.ok());
  EXPECT_TRUE(std::any_of(links->begin(), links->end(), [&](const Link& l) {
    return l.type == LinkType::kDerivedFrom && l.from == surf->id && l.to == ids[0];
  }));
  JobStats st = Stats();
  EXPECT_EQ(st.done, 1);
  EXPECT_EQ(st.pending, 0);
  EXPECT_EQ(st.turns, 2);
  EXPECT_EQ(st.derived, static_cast<int64_t>(derived.size()));
  EXPECT_EQ(st.calls, 0);
  EXPECT_EQ(st.extractor, "rules");
}

TEST_F(PipelineTest, TheBackgroundThreadRunsJobsWithoutBeingAsked) {
  engine_.reset();
  Options o = MakeOptions();
  o.background_jobs = true;
  auto e = Engine::Open(dir_.path(), o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  engine_ = std::move(e).value();
  Ingest({{"Maya", "I love surfing."}});
  // The thread checks every 200 ms; a generous deadline keeps slow sanitizer runs green.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Stats().done == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Stats().done, 1);
  EXPECT_NE(FindText(Derived(), "Maya loves surfing"), nullptr);
}

TEST_F(PipelineTest, RunJobsDoesNotWaitForAWindowTheBackgroundThreadDeferred) {
  UseModel(PipelineOptions(), /*background=*/true);
  Ingest({{"Maya", "I love surfing."}});
  // The thread sees a partial window and defers it by window_wait_ms (30 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto waiting = [&] {
    auto jobs = engine_->ListJobs("s", JobState::kPending, 10);
    return jobs.ok() && jobs->size() == 1 && !(*jobs)[0].last_error.empty();
  };
  while (!waiting() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(waiting());
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 0u);
  ASSERT_TRUE(engine_->RunJobs("s").ok());  // a flush: runs it now
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 1u);
  EXPECT_EQ(Stats().done, 1);
}

TEST_F(PipelineTest, AContradictionSupersedesWithHistoryAndProvenance) {
  Ingest({{"Maya", "I moved to Lisbon."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto later = Ingest({{"Maya", "Big news: I moved to Porto."}}, kMay10 + 90LL * 86400000, "s2");
  ASSERT_TRUE(engine_->RunJobs("s").ok());

  auto current = Derived();
  const Memory* porto = FindText(current, "moved to Porto");
  ASSERT_NE(porto, nullptr);
  EXPECT_EQ(FindText(current, "moved to Lisbon"), nullptr);  // out of the default view
  auto all = Derived(/*include_retired=*/true);
  const Memory* lisbon = FindText(all, "moved to Lisbon");
  ASSERT_NE(lisbon, nullptr);  // superseded, not deleted
  EXPECT_EQ(lisbon->state, State::kRetired);
  ASSERT_TRUE(lisbon->valid_to.has_value());
  EXPECT_EQ(*lisbon->valid_to, *porto->valid_from);

  auto links = engine_->Links("s", porto->id);
  ASSERT_TRUE(links.ok());
  EXPECT_TRUE(std::any_of(links->begin(), links->end(), [&](const Link& l) {
    return l.type == LinkType::kSupersedes && l.from == porto->id && l.to == lisbon->id;
  }));
  auto history = engine_->History("s", lisbon->id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(history->back().actor, "pipeline");
  EXPECT_NE(history->back().reason.find("superseded by memory " + std::to_string(porto->id)),
            std::string::npos)
      << history->back().reason;
  EXPECT_NE(history->back().reason.find("home_city"), std::string::npos);

  auto chain = engine_->Provenance("s", porto->id);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[1].memory.id, later[0]);
  EXPECT_EQ((*chain)[1].memory.kind, Kind::kEpisode);
  EXPECT_EQ((*chain)[1].derived_into, porto->id);
}

TEST_F(PipelineTest, RunningJobsAgainDerivesNothingTwice) {
  Ingest({{"Maya", "I love surfing."}, {"Maya", "I love surfing."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ReopenWithRules();
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto derived = Derived();
  ASSERT_EQ(derived.size(), 1u);  // the restatement is a noop on the first
  EXPECT_EQ(derived[0].sources.size(), 2u);
  auto history = engine_->History("s", derived[0].id);
  ASSERT_TRUE(history.ok());
  EXPECT_NE(history->back().reason.find("noop"), std::string::npos);
}

TEST_F(PipelineTest, PurgingAnEpisodePurgesWhatWasDerivedFromIt) {
  auto ids = Ingest({{"Maya", "I am allergic to peanuts."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ASSERT_EQ(Derived().size(), 1u);
  ASSERT_TRUE(engine_->Purge("s", ids[0], "erasure request").ok());
  EXPECT_TRUE(Derived(/*include_retired=*/true).empty());
  EXPECT_FALSE(AnyFileContains(dir_.path(), "peanuts"));
}

// A data-subject request: one user's export restores them elsewhere; their erasure takes
// every memory (episodes, derived, retired), history row and job, and no file of the
// data directory keeps their text or their id; another user is untouched.
TEST_F(PipelineTest, UserExportAndErasureCoverEverythingOfTheUser) {
  auto first = Ingest(
      {{"Maya", "I am allergic to zanzipeanuts."}, {"Maya", "I love quokkasurfing on weekends."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ASSERT_FALSE(Derived().empty());
  MemoryUpdate u;
  u.text = "I am allergic to zanzipeanuts and wasps.";
  ASSERT_TRUE(engine_->Update("s", first[0], u).ok());
  ASSERT_TRUE(engine_->Remove("s", first[1], "retired").ok());
  Ingest({{"Maya", "My sister Zuleikaviolet visits in June."}}, kMay10 + 86400000, "s2");
  ASSERT_GT(Stats().pending + Stats().done, 0);  // jobs of maya, some still pending
  const MemoryId sams = MustAdd("s", Input("sam flies kites at the beach", "sam"));
  ASSERT_TRUE(engine_->WaitForIndexing().ok());

  std::ostringstream exported;
  ASSERT_TRUE(engine_->ExportUser("s", "maya", exported).ok());
  EXPECT_NE(exported.str().find("\"user\":\"maya\""), std::string::npos);
  EXPECT_NE(exported.str().find("zanzipeanuts and wasps"), std::string::npos);
  EXPECT_EQ(exported.str().find("kites"), std::string::npos) << "another user's memory";
  std::istringstream in(exported.str());
  auto copied = engine_->Import("copy", in);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  ListRequest all;
  all.filter.include_retired = true;
  all.limit = 1000;
  const auto mayas = engine_->List("s", [&] {
    ListRequest r = all;
    r.filter.user_id = "maya";
    return r;
  }());
  ASSERT_TRUE(mayas.ok());
  EXPECT_EQ(copied->memories, static_cast<int64_t>(mayas->memories.size()));
  EXPECT_GT(copied->history_entries, copied->memories) << "the update's version came along";
  ASSERT_TRUE(engine_->DropSpace("copy").ok());

  auto erased = engine_->EraseUser("s", "maya", "data-subject request 42");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(erased->memories, static_cast<int64_t>(mayas->memories.size()));
  EXPECT_GT(erased->jobs, 0);
  auto left = engine_->List("s", all);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->memories.size(), 1u);
  EXPECT_EQ(left->memories[0].id, sams);
  auto jobs = engine_->ListJobs("s", std::nullopt, 1000);
  ASSERT_TRUE(jobs.ok());
  for (const Job& j : *jobs) EXPECT_NE(j.user_id, "maya") << j.id;
  for (MemoryId id : first) EXPECT_FALSE(engine_->History("s", id).ok());
  engine_.reset();  // closes the space: every file as it rests
  for (const char* needle :
       {"zanzipeanuts", "quokkasurfing", "Zuleikaviolet", "maya", "data-subject request 42"}) {
    EXPECT_FALSE(AnyFileContains(dir_.path(), needle)) << needle;
  }
  ReopenWithRules();
  EXPECT_TRUE(engine_->Get("s", sams).ok());
  auto again = engine_->EraseUser("s", "maya", "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->memories, 0);
  EXPECT_EQ(engine_->EraseUser("s", "", "").status().field(), "user");
}

TEST_F(PipelineTest, ModelExtractionOverHttpBatchesASessionWindowPerCall) {
  fake_.SetChatContents({R"({"memories":[{"kind":"preference","text":"Maya loves surfing",
      "subject":"maya","slot":"likes:surfing","value":"","polarity":1,"event_date":null,
      "time_text":"","entities":["Maya"],"sources":[1],"supersedes":null,"same_as":null}]})"});
  PipelineOptions p;
  p.window_turns = 20;
  UseModel(p);
  std::vector<std::pair<std::string, std::string>> turns;
  for (int i = 0; i < 50; ++i) {
    turns.emplace_back(i % 2 ? "Bob" : "Maya", "turn " + std::to_string(i) + " about the waves");
  }
  auto ids = Ingest(turns);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  // 50 turns in one session: windows of at most 20 turns -> 3 calls.
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 3u);
  JobStats st = Stats();
  EXPECT_EQ(st.turns, 50);
  EXPECT_EQ(st.calls, 3);
  EXPECT_GT(st.prompt_tokens, 0);
  EXPECT_EQ(st.tokens_today, st.prompt_tokens + st.completion_tokens);
  EXPECT_EQ(st.extractor, "openai-compatible:fake-chat");
  auto derived = Derived();
  ASSERT_EQ(derived.size(), 1u);  // the same answer thrice: added once, then noop
  EXPECT_EQ(derived[0].text, "Maya loves surfing");
  auto meta = util::ParseJson(derived[0].metadata);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)["extractor"], "openai-compatible:fake-chat");
}

// Issue 17, secrets: a token, a password and a card number said in a conversation are
// kept out of the text (every read, search, context, export), out of the indexes and out
// of the model's prompt; an admin's Reveal puts them back; a purge erases them.
TEST_F(PipelineTest, SecretsNeverLeaveTheirTableButForReveal) {
  fake_.SetChatContents({R"({"memories":[]})"});
  UseModel();
  const std::string token = "ghp_" + std::string(20, 'Q') + "zanzitoken0123456";
  const std::string said = "my github token is " + token +
                           ", my password is hunter2quokka and my card is 4111 1111 1111 1111";
  auto ids = Ingest({{"Maya", said}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  const Memory m = *engine_->Get("s", ids[0]);
  EXPECT_EQ(m.text,
            "my github token is [secret 1: github token], my password is [secret 2: password] "
            "and my card is [secret 3: card number]");
  for (const auto& r : fake_.requests()) {
    for (const std::string& leak : {token, std::string("hunter2quokka"), std::string("4111")}) {
      EXPECT_EQ(r.body.find(leak), std::string::npos) << "sent to the model: " << leak;
    }
  }
  SearchRequest q;
  q.query = "hunter2quokka zanzitoken0123456";
  q.filter.user_id = "maya";
  auto hits = engine_->Search("s", q);
  ASSERT_TRUE(hits.ok());
  for (const SearchHit& h : *hits) EXPECT_EQ(h.memory.text.find("hunter2"), std::string::npos);
  q.query = "github token password";
  hits = engine_->Search("s", q);
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty()) << "the placeholder says what was there";
  ContextRequest c;
  c.user = "maya";
  c.query = "what is my github token";
  auto ctx = engine_->BuildContext("s", c);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->text.find("hunter2quokka"), std::string::npos);
  EXPECT_NE(ctx->text.find("[secret 1: github token]"), std::string::npos) << ctx->text;
  std::ostringstream exported;
  ASSERT_TRUE(engine_->Export("s", exported).ok());
  EXPECT_EQ(exported.str().find("hunter2quokka"), std::string::npos);
  EXPECT_EQ(engine_->Reveal("s", ids[0])->text, said);
  // An update re-reads the text: the new secret is hidden, the old one is gone.
  MemoryUpdate u;
  u.text = "my pin is 9931";
  ASSERT_TRUE(engine_->Update("s", ids[0], u).ok());
  EXPECT_EQ(engine_->Get("s", ids[0])->text, "my pin is [secret 1: pin]");
  EXPECT_EQ(engine_->Reveal("s", ids[0])->text, "my pin is 9931");
  ASSERT_TRUE(engine_->Purge("s", ids[0], "").ok());
  engine_.reset();
  for (const std::string& leak : {token, std::string("hunter2quokka"), std::string("9931")}) {
    EXPECT_FALSE(AnyFileContains(dir_.path(), leak)) << leak;
  }
}

// A user erased while a job of theirs waits on the model: what the model answers is not
// written, since its sources are gone (nothing outlives what it came from).
TEST_F(PipelineTest, AnErasureDuringAJobLeavesNothingBehind) {
  UseModel();
  auto ids = Ingest({{"Maya", "I work as a nurse in Quillbrook."}});
  llm::ScriptedResponse slow;
  slow.body =
      R"({"choices":[{"message":{"role":"assistant","content":"{\"memories\":[{\"kind\":\"fact\",\"text\":\"Maya works as a nurse in Quillbrook\",\"subject\":\"maya\",\"slot\":\"job\",\"value\":\"nurse\",\"polarity\":1,\"event_date\":null,\"time_text\":\"\",\"entities\":[],\"sources\":[1],\"supersedes\":null,\"same_as\":null}]}"},"finish_reason":"stop"}]})";
  slow.delay = std::chrono::milliseconds(400);
  fake_.Enqueue("/v1/chat/completions", slow);
  fake_.ClearRecords();
  std::thread jobs([&] { EXPECT_TRUE(engine_->RunJobs("s").ok()); });
  while (fake_.max_concurrent() == 0) {  // the model has the request, and waits
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto erased = engine_->EraseUser("s", "maya", "");
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 0u) << "erased before the answer";
  jobs.join();
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 1u);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(erased->memories, 1);
  EXPECT_TRUE(Derived(/*include_retired=*/true).empty());
  engine_.reset();
  EXPECT_FALSE(AnyFileContains(dir_.path(), "Quillbrook"));
}

TEST_F(PipelineTest, ModelDecidesSupersedeByIdOfAKnownMemory) {
  fake_.SetChatContents({R"({"memories":[{"kind":"fact","text":"Maya works as a nurse",
      "subject":"maya","slot":"job","value":"nurse","polarity":1,"event_date":null,
      "time_text":"","entities":[],"sources":[1],"supersedes":null,"same_as":null}]})"});
  UseModel();
  Ingest({{"Maya", "I work as a nurse."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto first = Derived();
  ASSERT_EQ(first.size(), 1u);
  // The next window's prompt shows the known memory with its id; the model answers with it.
  const std::string known = std::to_string(first[0].id);
  fake_.SetChatContents({R"({"memories":[{"kind":"fact","text":"Maya became a doctor",
      "subject":"maya","slot":"occupation","value":"doctor","polarity":1,"event_date":null,
      "time_text":"","entities":[],"sources":[1],"supersedes":)" +
                         known + R"(,"same_as":null}]})"});
  Ingest({{"Maya", "I finally became a doctor!"}}, kMay10 + 86400000, "s2");
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto reqs = fake_.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_NE(reqs.back().body.find(known), std::string::npos);  // known ids are in the prompt
  auto now = Derived();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].text, "Maya became a doctor");
  auto old = engine_->Get("s", first[0].id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->state, State::kRetired);
  auto history = engine_->History("s", first[0].id);
  ASSERT_TRUE(history.ok());
  EXPECT_NE(history->back().reason.find("the model found"), std::string::npos);
}

TEST_F(PipelineTest, ProviderFailuresRetryWithBackoffThenDeadLetterAndRetryOnRequest) {
  PipelineOptions p;
  p.max_attempts = 2;
  p.retry_initial_ms = 1000;
  p.retry_max_ms = 4000;
  UseModel(p);
  llm::ScriptedResponse fail;
  fail.status = 500;
  fail.body = R"({"error":{"message":"model overloaded"}})";
  fake_.Enqueue("/v1/chat/completions", fail);
  fake_.Enqueue("/v1/chat/completions", fail);
  auto ids = Ingest({{"Maya", "I love surfing."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto jobs = engine_->ListJobs("s", std::nullopt, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, JobState::kPending);
  EXPECT_EQ((*jobs)[0].attempts, 1);
  EXPECT_NE((*jobs)[0].last_error.find("500"), std::string::npos) << (*jobs)[0].last_error;
  EXPECT_GE((*jobs)[0].next_run_at, clock_->NowMillis() + 500);  // backoff with jitter
  EXPECT_LE((*jobs)[0].next_run_at, clock_->NowMillis() + 1000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());  // not due yet: nothing happens
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 1u);

  clock_->Advance(5000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  jobs = engine_->ListJobs("s", JobState::kDead, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_NE((*jobs)[0].last_error.find("gave up after 2 attempts"), std::string::npos);
  EXPECT_EQ((*jobs)[0].calls, 2);
  auto episode = engine_->Get("s", ids[0]);  // the episode is never lost
  ASSERT_TRUE(episode.ok());
  EXPECT_TRUE(Derived().empty());

  auto retried = engine_->RetryJobs("s", 0);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, 1);
  ASSERT_TRUE(engine_->RunJobs("s").ok());  // the default answer: valid, no memories
  JobStats st = Stats();
  EXPECT_EQ(st.done, 1);
  EXPECT_EQ(st.dead, 0);
  EXPECT_EQ(st.calls, 3);
  EXPECT_FALSE(engine_->RetryJobs("s", 999).ok());
}

TEST_F(PipelineTest, GarbageFromTheModelIsAJobErrorAfterOneRepairRound) {
  fake_.SetChatContents({"I am sorry, I cannot produce JSON today."});
  PipelineOptions p;
  p.max_attempts = 1;
  UseModel(p);
  Ingest({{"Maya", "I love surfing."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 2u);  // the call and one repair
  auto jobs = engine_->ListJobs("s", JobState::kDead, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_NE((*jobs)[0].last_error.find("corruption"), std::string::npos) << (*jobs)[0].last_error;
  EXPECT_EQ((*jobs)[0].calls, 2);
}

TEST_F(PipelineTest, TheDailyTokenBudgetDefersModelJobsToTheNextDay) {
  PipelineOptions p;
  p.daily_token_budget = 10;  // the first window spends more than that
  UseModel(p);
  Ingest({{"Maya", "I love surfing."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 1u);
  Ingest({{"Maya", "I love diving."}}, kMay10 + 60000, "s2");
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 1u);  // deferred, not called
  auto pending = engine_->ListJobs("s", JobState::kPending, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_NE((*pending)[0].last_error.find("daily token budget"), std::string::npos);
  EXPECT_EQ((*pending)[0].attempts, 0);
  clock_->Advance(86400000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(fake_.RequestCount("/v1/chat/completions"), 2u);
  EXPECT_EQ(Stats().pending, 0);
}

TEST_F(PipelineTest, NewMemoriesLinkByEntityAndEvolveTheirNeighboursTags) {
  Ingest({{"Maya", "I love surfing in Lisbon."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  Ingest({{"Maya", "I love the surf beaches near Lisbon."}}, kMay10 + 86400000, "s2");
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto derived = Derived();
  const Memory* first = FindText(derived, "surfing in Lisbon");
  const Memory* second = FindText(derived, "surf beaches");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto links = engine_->Links("s", second->id);
  ASSERT_TRUE(links.ok());
  auto link_to_first = [&](LinkType type) -> const Link* {
    for (const auto& l : *links) {
      if (l.type == type && l.from == second->id && l.to == first->id) return &l;
    }
    return nullptr;
  };
  const Link* same = link_to_first(LinkType::kSameEntity);
  ASSERT_NE(same, nullptr) << "entities " << ::testing::PrintToString(second->entities);
  EXPECT_GT(same->weight, 0);
  EXPECT_LE(same->weight, 1);
  // The related link made the first memory take new tags, as a new version with the reason.
  ASSERT_NE(link_to_first(LinkType::kRelated), nullptr);
  EXPECT_EQ(first->version, 2);
  auto history = engine_->History("s", first->id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_NE(history->back().reason.find("from related memory " + std::to_string(second->id)),
            std::string::npos)
      << history->back().reason;
  EXPECT_GT(first->tags.size(), 0u);
  for (const auto& t : second->tags) {
    if (std::find(first->tags.begin(), first->tags.end(), t) != first->tags.end()) continue;
    EXPECT_LT(first->tags.size(), 16u) << "only a full tag list may skip " << t;
  }
  EXPECT_EQ(first->text, "Maya loves surfing in Lisbon") << "evolution never changes the text";
}

TEST_F(PipelineTest, SearchCanExpandAlongLinksToTheSourceEpisodes) {
  auto ids = Ingest(
      {{"Maya", "I am allergic to peanuts."}, {"Bob", "Noted, no satay at the party then."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  SearchRequest req;
  req.query = "allergic peanuts";
  req.filter.user_id = "maya";
  req.filter.kinds = {Kind::kFact};
  req.k = 1;
  req.explain = true;
  auto plain = engine_->Search("s", req);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_EQ(plain->size(), 1u);
  req.expand_links = true;
  auto hits = engine_->Search("s", req);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);  // the source is an episode: the kind filter still applies
  req.filter.kinds.clear();
  req.k = 1;
  req.query = "Maya is allergic to peanuts";
  hits = engine_->Search("s", req);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  const SearchHit& expanded = (*hits)[1];
  EXPECT_TRUE(expanded.memory.id == ids[0] || (*hits)[0].memory.id == ids[0]);
  ASSERT_EQ(expanded.explanation.size(), 1u);
  EXPECT_EQ(expanded.explanation[0].signal, "link");
  EXPECT_LT(expanded.score, (*hits)[0].score);
}

// A model that kills the process in the middle of a job, after the call was made.
class CrashingModel final : public ChatModel {
 public:
  std::string id() const override { return "crash"; }
  Result<ChatResponse> Complete(const ChatRequest&) const override { _exit(7); }
};

TEST_F(PipelineTest, ACrashInTheMiddleOfAJobNeitherLosesNorDuplicates) {
  Ingest({{"Maya", "I love surfing. I am allergic to peanuts."}});
  engine_.reset();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Options o = MakeOptions();
    o.chat_model = std::make_shared<CrashingModel>();
    auto e = Engine::Open(dir_.path(), o);
    if (e.ok()) (void)(*e)->RunJobs("s");
    _exit(0);  // not reached when the model crashed
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 7);  // it did crash mid-job
  ReopenWithRules();                  // rules this time
  JobStats before = Stats();
  EXPECT_EQ(before.pending, 1);  // the job survived the crash
  EXPECT_TRUE(Derived().empty());
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto derived = Derived();
  EXPECT_EQ(derived.size(), 2u);  // surfing, peanuts: once each
  EXPECT_EQ(Stats().done, 1);
}

}  // namespace
}  // namespace mnemo::testing
