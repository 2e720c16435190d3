// Sleep-time summaries end to end (real SQLite, fake clock): session summaries after
// quiet, refreshed as new versions, idempotent; topic summaries; the chat model path over
// a fake OpenAI server; coarse-to-fine search.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "engine/engine_test_util.h"
#include "llm/fake_openai.h"
#include "llm/openai.h"
#include "util/json_codec.h"

namespace mnemo::testing {
namespace {

constexpr TimeMs kMay10 = 1683712800000;  // 2023-05-10T10:00:00Z
constexpr TimeMs kWait = 600000;          // PipelineOptions::summary_wait_ms default

class SummariesTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
  }

  void Open(Options o) {
    engine_.reset();
    auto e = Engine::Open(dir_.path(), o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  void UseModel() {
    if (fake_.port() == 0) {
      ASSERT_TRUE(fake_.Start().ok());
    }
    llm::ProviderConfig c;
    c.base_url = fake_.base_url();
    c.model = "fake-chat";
    c.max_retries = 0;
    c.timeout_ms = 2000;
    auto model = llm::MakeOpenAiChatModel(c);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    Options o = MakeOptions();
    o.chat_model = *model;
    Open(o);
  }

  std::vector<MemoryId> Ingest(const std::vector<std::pair<std::string, std::string>>& turns,
                               const std::string& session = "s1", TimeMs start = kMay10) {
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

  std::vector<Memory> Summaries(bool include_retired = false) {
    ListRequest req;
    req.filter.user_id = "maya";
    req.filter.kinds = {Kind::kSummary};
    req.filter.include_retired = include_retired;
    req.limit = 1000;
    auto page = engine_->List("s", req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->memories : std::vector<Memory>{};
  }

  std::vector<Memory> OfKind(const std::string& what) {
    std::vector<Memory> out;
    for (auto& m : Summaries()) {
      auto meta = util::ParseJson(m.metadata);
      if (meta.ok() && meta->value("summary", "") == what) out.push_back(std::move(m));
    }
    return out;
  }

  std::vector<Job> SummarizeJobs(JobState state) {
    auto jobs = engine_->ListJobs("s", state, 1000);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    std::vector<Job> out;
    if (!jobs.ok()) return out;
    for (auto& j : *jobs) {
      if (j.kind == JobKind::kSummarize) out.push_back(std::move(j));
    }
    return out;
  }

  MemoryId AddFact(const std::string& text, const std::vector<std::string>& entities) {
    MemoryInput in = Input(text, "maya");
    in.kind = Kind::kFact;
    in.entities = entities;
    return MustAdd("s", in);
  }

  const std::vector<std::pair<std::string, std::string>> kTrip = {
      {"Maya", "Hi Leo!"},
      {"Leo", "Hey Maya, how was the weekend?"},
      {"Maya", "I drove to Porto on Saturday and visited the Livraria Lello bookshop."},
      {"Leo", "Porto is beautiful. Did you try the francesinha sandwich in Porto?"},
      {"Maya", "Yes, the francesinha in Porto was huge and I loved it."},
      {"Leo", "My sister bought a violin last week for her music school."},
      {"Maya", "Cool."},
  };

  llm::FakeOpenAi fake_;
};

TEST_F(SummariesTest, ASessionIsSummarizedOnceQuietAndAWritePushesTheJobBack) {
  Options o = MakeOptions();
  o.background_jobs = true;
  Open(o);
  const TimeMs t0 = clock_->NowMillis();
  Ingest({kTrip[0], kTrip[1]});
  auto pending = SummarizeJobs(JobState::kPending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].session_id, "s1");
  EXPECT_EQ(pending[0].next_run_at, t0 + kWait);
  clock_->Advance(kWait / 2);
  Ingest({kTrip[2], kTrip[3]});
  pending = SummarizeJobs(JobState::kPending);
  ASSERT_EQ(pending.size(), 1u) << "one job per session, pushed back";
  EXPECT_EQ(pending[0].next_run_at, t0 + kWait / 2 + kWait);
  // The background thread runs the extraction but not the summary before the quiet time.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto stats = [&] { return *engine_->GetJobStats("s"); };
  while (stats().done < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE(stats().done, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(Summaries().empty());
  clock_->Advance(kWait);
  while (Summaries().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto s = Summaries();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].sources.size(), 4u);
  EXPECT_TRUE(SummarizeJobs(JobState::kPending).empty());
}

TEST_F(SummariesTest, AFlushSummarizesAtOnceWithSourcesLinksAndMetadata) {
  auto ids = Ingest(kTrip);
  ASSERT_EQ(ids.size(), kTrip.size());
  ASSERT_TRUE(engine_->RunJobs("s").ok());  // a flush: no waiting for quiet
  auto sessions = OfKind("session");
  ASSERT_EQ(sessions.size(), 1u);
  const Memory& m = sessions[0];
  EXPECT_EQ(m.kind, Kind::kSummary);
  EXPECT_EQ(m.origin, Origin::kDerived);
  EXPECT_EQ(m.user_id, "maya");
  EXPECT_EQ(m.session_id, "s1");
  EXPECT_EQ(m.sources, ids);
  ASSERT_TRUE(m.event_time.has_value());
  EXPECT_EQ(*m.event_time, kMay10);
  EXPECT_EQ(m.text.rfind("Session of 10 May 2023 (Maya, Leo): ", 0), 0u) << m.text;
  EXPECT_NE(m.text.find("Porto"), std::string::npos) << m.text;
  EXPECT_EQ(m.text.find("Cool."), std::string::npos) << m.text;
  auto meta = util::ParseJson(m.metadata);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)["session"], "s1");
  EXPECT_EQ((*meta)["turns"], static_cast<int>(ids.size()));
  EXPECT_EQ((*meta)["from"], "2023-05-10T10:00:00Z");
  EXPECT_EQ((*meta)["extractor"], "extractive");
  auto links = engine_->Links("s", m.id);
  ASSERT_TRUE(links.ok());
  for (MemoryId id : ids) {
    EXPECT_TRUE(std::any_of(links->begin(), links->end(), [&](const Link& l) {
      return l.type == LinkType::kDerivedFrom && l.from == m.id && l.to == id;
    })) << id;
  }
  // Like every memory: in FTS, with a vector, and never extracted from.
  SearchRequest req;
  req.query = "Livraria Lello bookshop";
  req.filter.user_id = "maya";
  req.filter.kinds = {Kind::kSummary};
  req.lexical_weight = 0.0001;
  req.vector_weight = 1;
  EXPECT_EQ(SearchIds("s", req), std::vector<MemoryId>{m.id});
  req.lexical_weight = 1;
  req.vector_weight = 0;
  EXPECT_EQ(SearchIds("s", req), std::vector<MemoryId>{m.id});
  auto prov = engine_->Provenance("s", m.id);
  ASSERT_TRUE(prov.ok());
  EXPECT_EQ(prov->size(), ids.size() + 1);
  ListRequest derived;
  derived.filter.user_id = "maya";
  derived.filter.kinds = {Kind::kFact, Kind::kPreference, Kind::kProcedure};
  auto page = engine_->List("s", derived);
  ASSERT_TRUE(page.ok());
  for (const auto& d : page->memories) {
    EXPECT_EQ(std::find(d.sources.begin(), d.sources.end(), m.id), d.sources.end()) << d.text;
  }
}

TEST_F(SummariesTest, AGrowingSessionGetsANewVersionAndAnUnchangedOneNothing) {
  auto first = Ingest({kTrip[0], kTrip[1], kTrip[2], kTrip[3]});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto s = OfKind("session");
  ASSERT_EQ(s.size(), 1u);
  const MemoryId id = s[0].id;
  EXPECT_EQ(s[0].version, 1);
  auto more = Ingest({kTrip[4], kTrip[5]}, "s1", kMay10 + 3600000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  s = OfKind("session");
  ASSERT_EQ(s.size(), 1u) << "updated, not a second summary";
  EXPECT_EQ(s[0].id, id);
  EXPECT_EQ(s[0].version, 2);
  EXPECT_EQ(s[0].sources.size(), 6u);
  EXPECT_NE(s[0].text.find("francesinha"), std::string::npos) << s[0].text;
  auto history = engine_->History("s", id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(history->back().op, HistoryOp::kUpdate);
  EXPECT_NE(history->back().reason.find("6 turns (was 4)"), std::string::npos)
      << history->back().reason;
  auto links = engine_->Links("s", id);
  ASSERT_TRUE(links.ok());
  EXPECT_TRUE(std::any_of(links->begin(), links->end(), [&](const Link& l) {
    return l.type == LinkType::kDerivedFrom && l.to == more.back();
  }));
  // A turn written and removed before the job ran leaves the session as it was: the job
  // runs and writes nothing.
  auto gone =
      Ingest({{"Maya", "A short-lived remark about tennis rackets."}}, "s1", kMay10 + 7200000);
  ASSERT_TRUE(engine_->Remove("s", gone[0], "test").ok());
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_TRUE(SummarizeJobs(JobState::kPending).empty());
  s = OfKind("session");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].version, 2);
  EXPECT_EQ(s[0].text.find("tennis"), std::string::npos);
  // A session of fewer than 4 turns is its own summary; from 4 on it has one.
  Ingest({kTrip[5], kTrip[4], kTrip[3]}, "s2");
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(OfKind("session").size(), 1u);
  Ingest({kTrip[2]}, "s2", kMay10 + 3600000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(OfKind("session").size(), 2u);
  (void)first;
}

TEST_F(SummariesTest, TopicSummariesAppearAtTopicMinMemoriesAndFollowTheirMemories) {
  // Topic jobs follow derived memories: each ingest below derives a preference by rules.
  const MemoryId a = AddFact("Miso is Maya's cat.", {"Miso"});
  const MemoryId b = AddFact("Miso likes tuna.", {"Miso", "tuna"});
  Ingest({{"Maya", "I love surfing."}});
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_TRUE(OfKind("topic").empty()) << "two memories are not a topic yet (minimum 3)";
  const MemoryId c = AddFact("Miso went to the vet on 2023-05-02.", {"Miso"});
  Ingest({{"Maya", "I love hiking."}}, "s2");
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto topics = OfKind("topic");
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0].text.rfind("About Miso: ", 0), 0u) << topics[0].text;
  EXPECT_NE(topics[0].text.find("Miso likes tuna."), std::string::npos) << topics[0].text;
  EXPECT_EQ(topics[0].sources, (std::vector<MemoryId>{a, b, c}));
  EXPECT_EQ(topics[0].session_id, "");
  auto meta = util::ParseJson(topics[0].metadata);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)["topic"], "Miso");
  auto links = engine_->Links("s", topics[0].id);
  ASSERT_TRUE(links.ok());
  EXPECT_EQ(std::count_if(links->begin(), links->end(),
                          [&](const Link& l) { return l.type == LinkType::kDerivedFrom; }),
            3);
  // One of them retired: the topic is below the minimum, its summary is retired too.
  ASSERT_TRUE(engine_->Remove("s", b, "wrong").ok());
  Ingest({{"Maya", "I love climbing."}}, "s3");
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_TRUE(OfKind("topic").empty());
  auto all = Summaries(/*include_retired=*/true);
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const Memory& m) {
    return m.id == topics[0].id && m.state == State::kRetired;
  }));
}

TEST_F(SummariesTest, SummariesOffWritesNone) {
  Options o = MakeOptions();
  o.pipeline.summaries = false;
  Open(o);
  Ingest(kTrip);
  AddFact("Miso is Maya's cat.", {"Miso"});
  AddFact("Miso likes tuna.", {"Miso"});
  AddFact("Miso sleeps a lot.", {"Miso"});
  Ingest({{"Maya", "I love surfing."}}, "s2");
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_TRUE(Summaries().empty());
  EXPECT_TRUE(SummarizeJobs(JobState::kPending).empty());
  EXPECT_TRUE(SummarizeJobs(JobState::kDone).empty());
}

TEST_F(SummariesTest, TheChatModelWritesTheSummaryAndIsNotAskedTwice) {
  UseModel();
  fake_.SetChatContents(
      {"{\"memories\":[]}", "{\"summary\":\"Maya told Leo about her trip to Porto.\"}"});
  auto ids = Ingest(kTrip);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto s = OfKind("session");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].text,
            "Session of 10 May 2023 (Maya, Leo): Maya told Leo about her trip to Porto.");
  EXPECT_EQ(s[0].sources, ids);
  auto meta = util::ParseJson(s[0].metadata);
  ASSERT_TRUE(meta.ok());
  EXPECT_NE((*meta)["extractor"], "extractive");
  auto st = engine_->GetJobStats("s");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->calls, 2);  // one extraction window, one summary
  EXPECT_GT(st->prompt_tokens, 0);
  // The prompt carried the turns with their dates.
  bool saw_prompt = false;
  for (const auto& r : fake_.requests()) {
    saw_prompt |= r.body.find("[2023-05-10] Maya: I drove to Porto") != std::string::npos;
  }
  EXPECT_TRUE(saw_prompt);
}

TEST_F(SummariesTest, GarbageFromTheModelFailsTheSummarizeJobWithBackoff) {
  UseModel();
  fake_.SetChatContents({"{\"memories\":[]}", "I cannot summarize this, sorry."});
  Ingest(kTrip);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_TRUE(Summaries().empty());
  auto pending = SummarizeJobs(JobState::kPending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempts, 1);
  EXPECT_GT(pending[0].next_run_at, clock_->NowMillis());
  EXPECT_NE(pending[0].last_error.find("summary"), std::string::npos) << pending[0].last_error;
  EXPECT_EQ(pending[0].calls, 1);
  // A good answer on the retry.
  fake_.SetChatContents({"{\"summary\":\"Maya went to Porto.\"}"});
  clock_->Advance(3600000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto s = OfKind("session");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_NE(s[0].text.find("Maya went to Porto."), std::string::npos);
}

TEST_F(SummariesTest, RemovingATurnRefreshesTheSummaryThatQuotedIt) {
  auto ids = Ingest(kTrip);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto s = OfKind("session");
  ASSERT_EQ(s.size(), 1u);
  ASSERT_NE(s[0].text.find("Livraria Lello"), std::string::npos) << s[0].text;
  ASSERT_TRUE(engine_->Remove("s", ids[2], "private").ok());  // the bookshop turn
  EXPECT_EQ(SummarizeJobs(JobState::kPending).size(), 1u);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  s = OfKind("session");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].version, 2);
  EXPECT_EQ(s[0].text.find("Livraria Lello"), std::string::npos) << s[0].text;
  // A summary removed by hand stays removed when its session changes again.
  ASSERT_TRUE(engine_->Remove("s", s[0].id, "not wanted").ok());
  Ingest({{"Maya", "One more thing about the Porto trip: the tram was lovely."}}, "s1",
         kMay10 + 3600000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto again = engine_->Get("s", s[0].id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, State::kRetired);
}

TEST_F(SummariesTest, ASummaryHitBringsItsBestEpisodesWithinFilterAndK) {
  auto ids = Ingest(kTrip);
  auto other = Ingest({{"Leo", "The violin lessons start in June at the music school."},
                       {"Maya", "Porto has a music school too?"},
                       {"Leo", "Yes, near the river, with a choir on Sundays."},
                       {"Maya", "I might sign up for the choir then."}},
                      "s2", kMay10 + 86400000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto sessions = OfKind("session");
  ASSERT_EQ(sessions.size(), 2u);
  const Memory& trip = sessions[0].session_id == "s1" ? sessions[0] : sessions[1];
  // Only summaries and episodes, and a query the summary matches best.
  SearchRequest req;
  req.query = "francesinha sandwich in Porto";
  req.filter.user_id = "maya";
  req.filter.kinds = {Kind::kSummary, Kind::kEpisode};
  req.k = 10;
  req.explain = true;
  req.summary_weight = 1;  // scored as any memory (the default 0.5 is tested at the end)
  auto hits = engine_->Search("s", req);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  auto at = std::find_if(hits->begin(), hits->end(),
                         [&](const SearchHit& h) { return h.memory.id == trip.id; });
  ASSERT_NE(at, hits->end());
  const size_t pos = static_cast<size_t>(at - hits->begin());
  // The summary's best episodes follow it at once, unless ranked above it already.
  std::set<MemoryId> above;
  for (size_t i = 0; i < pos; ++i) above.insert((*hits)[i].memory.id);
  ASSERT_GT(hits->size(), pos + 1);
  const SearchHit& next = (*hits)[pos + 1];
  // Best match first among the session's turns not ranked above the summary.
  MemoryId expected = 0;
  for (size_t i : {3, 4, 2}) {
    if (!expected && !above.count(ids[i])) expected = ids[i];
  }
  EXPECT_EQ(next.memory.id, expected) << next.memory.text;
  EXPECT_LE(next.score, at->score);
  EXPECT_TRUE(std::any_of(next.explanation.begin(), next.explanation.end(),
                          [](const SignalExplanation& e) { return e.signal == "summary"; }));
  // No duplicates, at most k, scores never increase.
  std::set<MemoryId> seen;
  for (size_t i = 0; i < hits->size(); ++i) {
    EXPECT_TRUE(seen.insert((*hits)[i].memory.id).second);
    if (i > 0) {
      EXPECT_LE((*hits)[i].score, (*hits)[i - 1].score + 1e-12);
    }
  }
  EXPECT_LE(hits->size(), 10u);
  // summary_episodes 0: no summary children.
  req.summary_episodes = 0;
  auto plain = engine_->Search("s", req);
  ASSERT_TRUE(plain.ok());
  for (const auto& h : *plain) {
    EXPECT_FALSE(std::any_of(h.explanation.begin(), h.explanation.end(),
                             [](const SignalExplanation& e) { return e.signal == "summary"; }));
  }
  // A filter the episodes do not pass: the summary comes alone.
  req.summary_episodes = 3;
  req.filter.kinds = {Kind::kSummary};
  auto alone = engine_->Search("s", req);
  ASSERT_TRUE(alone.ok());
  for (const auto& h : *alone) EXPECT_EQ(h.memory.kind, Kind::kSummary);
  // k = 1: the summary alone, its episodes do not push the list past k.
  req.filter.kinds = {Kind::kSummary, Kind::kEpisode};
  req.summary_episodes = 3;
  req.k = 1;
  req.lexical_weight = 1;
  req.filter.session_id = "s1";
  auto one = engine_->Search("s", req);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  // The default summary_weight halves a derived summary's score: the turn that matches
  // best ranks above it, and explain says why.
  SearchRequest def;
  def.query = "francesinha sandwich in Porto";
  def.filter.user_id = "maya";
  def.filter.kinds = {Kind::kSummary, Kind::kEpisode};
  def.explain = true;
  auto weighted = engine_->Search("s", def);
  ASSERT_TRUE(weighted.ok());
  ASSERT_FALSE(weighted->empty());
  EXPECT_EQ(weighted->front().memory.kind, Kind::kEpisode);
  for (const auto& h : *weighted) {
    const bool has_weight =
        std::any_of(h.explanation.begin(), h.explanation.end(),
                    [](const SignalExplanation& e) { return e.signal == "summary_weight"; });
    EXPECT_EQ(has_weight, h.memory.kind == Kind::kSummary) << h.memory.text;
  }
  def.summary_weight = 1.5;
  EXPECT_FALSE(engine_->Search("s", def).ok());
  (void)other;
}

}  // namespace
}  // namespace mnemo::testing
