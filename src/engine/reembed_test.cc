// Embed jobs (a remote embedder failing on the write path) and re-embedding when the
// configured embedder changes, over real SQLite and a fake OpenAI server on loopback.
#include <algorithm>
#include <optional>

#include "embed/builtin_embedder.h"
#include "engine/engine_test_util.h"
#include "llm/fake_openai.h"
#include "llm/openai.h"

namespace mnemo::testing {
namespace {

class EmbedPipelineTest : public EngineTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start().ok());
    EngineTest::SetUp();
    fail_.status = 500;
    fail_.body = R"({"error":{"message":"embedding backend overloaded"}})";
  }

  std::shared_ptr<const Embedder> Remote(const std::string& model = "fake-embed",
                                         int dimension = 64) {
    llm::ProviderConfig c;
    c.base_url = fake_.base_url();
    c.model = model;
    c.dimensions = dimension;
    c.max_retries = 0;  // the job queue retries; keeps the tests fast
    c.timeout_ms = 2000;
    c.batch_size = 256;  // one request per job
    auto e = llm::MakeOpenAiEmbedder(c);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : nullptr;
  }

  // Reopens the engine (a restart) with `embedder` (null: the builtin one).
  void OpenWith(std::shared_ptr<const Embedder> embedder, PipelineOptions p = PipelineOptions()) {
    engine_.reset();
    Options o = MakeOptions();
    o.embedder = std::move(embedder);
    o.pipeline = p;
    auto e = Engine::Open(dir_.path(), o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  static SearchRequest VectorOnly(const std::string& query) {
    SearchRequest r;
    r.query = query;
    r.lexical_weight = 0;
    r.vector_weight = 1;
    r.context_weight = 0;
    r.k = 3;
    return r;
  }
  static SearchRequest LexicalOnly(const std::string& query) {
    SearchRequest r = VectorOnly(query);
    r.lexical_weight = 1;
    r.vector_weight = 0;
    return r;
  }

  MemoryId TopVectorHit(const std::string& query) {
    auto ids = SearchIds("s", VectorOnly(query));
    return ids.empty() ? 0 : ids[0];
  }

  std::vector<Job> Jobs(JobKind kind, std::optional<JobState> state = std::nullopt) {
    auto jobs = engine_->ListJobs("s", state, 1000);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    std::vector<Job> out;
    if (jobs.ok()) {
      for (auto& j : *jobs) {
        if (j.kind == kind) out.push_back(std::move(j));
      }
    }
    return out;
  }

  SpaceStats StatsOf() {
    auto s = engine_->Stats("s");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : SpaceStats{};
  }

  JobStats JobStatsOf() {
    auto s = engine_->GetJobStats("s");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : JobStats{};
  }

  size_t EmbedRequests() { return fake_.RequestCount("/v1/embeddings"); }

  llm::FakeOpenAi fake_;
  llm::ScriptedResponse fail_;
};

// ---- A: the write path ----------------------------------------------------------------

TEST_F(EmbedPipelineTest, AFailingRemoteEmbedderDefersTheVectorNotTheWrite) {
  OpenWith(Remote());
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  fake_.Enqueue("/v1/embeddings", fail_);
  const MemoryId zebra = MustAdd("s", Input("the zebra crossing near the bakery"));
  llm::ScriptedResponse garbage;
  garbage.body = "this is not json";
  fake_.Enqueue("/v1/embeddings", garbage);
  const MemoryId quantum = MustAdd("s", Input("quantum entanglement lecture notes"));
  ASSERT_NE(zebra, 0);
  ASSERT_NE(quantum, 0);
  // A refusal of the input is not a provider failure: the write fails, nothing is stored.
  llm::ScriptedResponse refused;
  refused.status = 400;
  refused.body = R"({"error":{"message":"input is too long for this model"}})";
  fake_.Enqueue("/v1/embeddings", refused);
  auto r = engine_->Add("s", Input("a text the provider refuses"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(ActiveCount("s"), 2);

  auto jobs = Jobs(JobKind::kEmbed, JobState::kPending);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[1].memories, std::vector<MemoryId>{zebra});  // newest first
  EXPECT_EQ(jobs[0].memories, std::vector<MemoryId>{quantum});
  EXPECT_NE(jobs[1].last_error.find("no vector at write time"), std::string::npos)
      << jobs[1].last_error;
  EXPECT_NE(jobs[1].last_error.find("500"), std::string::npos) << jobs[1].last_error;
  EXPECT_EQ(jobs[1].user_id, "u1");
  EXPECT_EQ(jobs[1].next_run_at, clock_->NowMillis() + PipelineOptions().retry_initial_ms);

  // Lexical search finds them at once; vector search only after the job.
  EXPECT_EQ(SearchIds("s", LexicalOnly("zebra bakery")), std::vector<MemoryId>{zebra});
  EXPECT_EQ(SearchIds("s", VectorOnly("zebra crossing near the bakery")).size(), 0u);
  EXPECT_EQ(StatsOf().vectors_indexed + StatsOf().vectors_pending, 0);
  ASSERT_TRUE(engine_->RunJobs("s").ok());  // extract jobs run; embed jobs are not due
  EXPECT_EQ(Jobs(JobKind::kEmbed, JobState::kPending).size(), 2u);

  clock_->Advance(PipelineOptions().retry_initial_ms);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(Jobs(JobKind::kEmbed, JobState::kDone).size(), 2u);
  EXPECT_EQ(TopVectorHit("zebra crossing near the bakery"), zebra);
  EXPECT_EQ(TopVectorHit("quantum entanglement lecture"), quantum);
  JobStats st = JobStatsOf();
  EXPECT_EQ(st.embed_pending, 0);
  EXPECT_EQ(st.embedded, 2);
  EXPECT_EQ(st.turns, 2);  // turns and derived stay about extract jobs
  EXPECT_EQ(st.derived, 0);
  EXPECT_EQ(st.pending, 0);
  EXPECT_EQ(st.done, 4);

  // Idempotent: running again (or a retried job) writes no second vector.
  const size_t calls = EmbedRequests();
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(EmbedRequests(), calls);
  EXPECT_EQ(JobStatsOf().embedded, 2);
  EXPECT_EQ(StatsOf().vectors_indexed + StatsOf().vectors_pending, 2);

  // An update whose new text cannot be embedded drops the stale vector and enqueues a job.
  fake_.Enqueue("/v1/embeddings", fail_);
  MemoryUpdate u;
  u.text = "the giraffe statue by the museum";
  ASSERT_TRUE(engine_->Update("s", zebra, u).ok());
  EXPECT_NE(TopVectorHit("zebra crossing near the bakery"), zebra);
  clock_->Advance(PipelineOptions().retry_initial_ms);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(TopVectorHit("giraffe statue museum"), zebra);
}

TEST_F(EmbedPipelineTest, AnEmbedderFailingAtQueryTimeDegradesSearchToLexical) {
  OpenWith(Remote());
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId zebra = MustAdd("s", Input("the zebra crossing near the bakery"));
  MustAdd("s", Input("quantum entanglement lecture notes"));
  fake_.Enqueue("/v1/embeddings", fail_);
  SearchRequest r;
  r.query = "zebra bakery";
  r.explain = true;
  r.k = 3;
  auto hits = engine_->Search("s", r);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].memory.id, zebra);
  const auto& why = (*hits)[0].explanation;
  EXPECT_TRUE(std::any_of(why.begin(), why.end(), [](const SignalExplanation& e) {
    return e.signal == "vector (off: the embedder failed)";
  }));
  auto warnings = Warnings();
  EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.find("searching lexically only") != std::string::npos &&
           w.find("500") != std::string::npos;
  })) << ::testing::PrintToString(warnings);
  // A vector-only request is answered lexically too, rather than with nothing.
  fake_.Enqueue("/v1/embeddings", fail_);
  EXPECT_EQ(SearchIds("s", VectorOnly("zebra bakery")), std::vector<MemoryId>{zebra});
  // The provider back: vector search again.
  EXPECT_EQ(TopVectorHit("zebra crossing near the bakery"), zebra);
  // A query the provider refuses is the caller's to fix: an error, not a silent fallback.
  llm::ScriptedResponse refused;
  refused.status = 400;
  refused.body = R"({"error":{"message":"input is too long for this model"}})";
  fake_.Enqueue("/v1/embeddings", refused);
  auto bad = engine_->Search("s", r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
}

TEST_F(EmbedPipelineTest, EmbedJobsBackOffThenDeadLetterAndRetryOnRequest) {
  PipelineOptions p;
  p.max_attempts = 2;
  p.retry_initial_ms = 1000;
  p.retry_max_ms = 4000;
  OpenWith(Remote(), p);
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  for (int i = 0; i < 3; ++i) fake_.Enqueue("/v1/embeddings", fail_);
  const MemoryId id = MustAdd("s", Input("the lighthouse keeper's logbook"));
  clock_->Advance(1000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto jobs = Jobs(JobKind::kEmbed);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kPending);
  EXPECT_EQ(jobs[0].attempts, 1);
  EXPECT_GE(jobs[0].next_run_at, clock_->NowMillis() + 500);  // backoff with jitter
  EXPECT_LE(jobs[0].next_run_at, clock_->NowMillis() + 1000);
  clock_->Advance(5000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  jobs = Jobs(JobKind::kEmbed);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kDead);
  EXPECT_NE(jobs[0].last_error.find("gave up after 2 attempts"), std::string::npos)
      << jobs[0].last_error;
  EXPECT_EQ(SearchIds("s", LexicalOnly("lighthouse logbook")), std::vector<MemoryId>{id});
  EXPECT_NE(TopVectorHit("lighthouse keeper logbook"), id);

  auto retried = engine_->RetryJobs("s", jobs[0].id);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, 1);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(Jobs(JobKind::kEmbed, JobState::kDone).size(), 1u);
  EXPECT_EQ(TopVectorHit("lighthouse keeper logbook"), id);
}

TEST_F(EmbedPipelineTest, AMemoryRetiredOrPurgedBeforeItsEmbedJobIsSkipped) {
  OpenWith(Remote());
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  fake_.Enqueue("/v1/embeddings", fail_);
  auto ids = engine_->AddBatch("s", {Input("first soon retired"), Input("second soon purged")});
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(Jobs(JobKind::kEmbed).size(), 1u);  // one job for the batch
  ASSERT_TRUE(engine_->Remove("s", (*ids)[0], "test").ok());
  ASSERT_TRUE(engine_->Purge("s", (*ids)[1], "test").ok());
  const size_t calls = EmbedRequests();
  clock_->Advance(PipelineOptions().retry_initial_ms);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  auto jobs = Jobs(JobKind::kEmbed);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kDone);
  EXPECT_EQ(jobs[0].derived, 0);
  EXPECT_EQ(EmbedRequests(), calls);  // nothing left to embed
  EXPECT_EQ(StatsOf().vectors_indexed + StatsOf().vectors_pending, 0);
}

TEST_F(EmbedPipelineTest, ExtractionWorksForEpisodesStoredWithoutAVector) {
  OpenWith(Remote());
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  fake_.Enqueue("/v1/embeddings", fail_);
  Message m;
  m.session = "s1";
  m.role = "user";
  m.speaker = "Maya";
  m.text = "I love surfing.";
  ASSERT_TRUE(engine_->Ingest("s", "maya", {m}).ok());
  ASSERT_TRUE(engine_->RunJobs("s").ok());  // the extract job runs; the embed job waits
  ListRequest lr;
  lr.filter.user_id = "maya";
  lr.filter.kinds = {Kind::kPreference};
  auto derived = engine_->List("s", lr);
  ASSERT_TRUE(derived.ok());
  ASSERT_EQ(derived->memories.size(), 1u);
  EXPECT_NE(derived->memories[0].text.find("loves surfing"), std::string::npos);
  EXPECT_EQ(Jobs(JobKind::kEmbed, JobState::kPending).size(), 1u);
}

// ---- B: re-embedding -------------------------------------------------------------------

TEST_F(EmbedPipelineTest, ReembedSearchesOldVectorsUntilTheSwitchAndResumesAfterARestart) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());  // builtin embedder
  std::vector<MemoryInput> batch;
  const char* topics[] = {"gardening", "taxes", "cycling", "cooking", "chess"};
  for (int i = 0; i < 300; ++i) {
    batch.push_back(Input("note " + std::to_string(i) + " about " + topics[i % 5]));
  }
  batch.push_back(Input("the violin concert in vienna"));
  auto added = engine_->AddBatch("s", batch);
  ASSERT_TRUE(added.ok());
  const MemoryId violin = added->back();
  const std::string old_id = embed::NewBuiltinEmbedder()->id();

  PipelineOptions p;
  p.retry_initial_ms = 1000;
  p.retry_max_ms = 4000;
  auto remote = Remote();
  OpenWith(remote, p);
  SpaceStats st = StatsOf();
  EXPECT_EQ(st.embedder, old_id);
  EXPECT_EQ(st.dimension, 256);
  EXPECT_EQ(st.embedder_next, remote->id());
  EXPECT_EQ(st.dimension_next, 64);
  EXPECT_EQ(st.reembedded, 0);
  EXPECT_EQ(st.reembed_total, 301);
  EXPECT_TRUE(st.vector_search);
  EXPECT_EQ(Jobs(JobKind::kReembed, JobState::kPending).size(), 2u);  // 256 + 45 ids

  // Searches use the old vectors, with a query vector from the old embedder.
  size_t calls = EmbedRequests();
  EXPECT_EQ(TopVectorHit("violin concert vienna"), violin);
  EXPECT_EQ(EmbedRequests(), calls);
  // A write during the re-embed gets both vectors (old: searchable now; new: the switch).
  const MemoryId harp = MustAdd("s", Input("the harpsichord recital in salzburg"));
  EXPECT_EQ(EmbedRequests(), calls + 1);
  EXPECT_EQ(TopVectorHit("harpsichord recital salzburg"), harp);

  // The first range succeeds, the second fails: progress is kept, the failure backs off.
  fake_.Enqueue("/v1/embeddings", llm::ScriptedResponse{});  // the default answer
  fake_.Enqueue("/v1/embeddings", fail_);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  st = StatsOf();
  EXPECT_EQ(st.embedder, old_id);
  EXPECT_EQ(st.reembedded, 256 + 1);
  EXPECT_EQ(st.reembed_total, 302);
  auto pending = Jobs(JobKind::kReembed, JobState::kPending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempts, 1);
  EXPECT_NE(pending[0].last_error.find("500"), std::string::npos) << pending[0].last_error;
  EXPECT_GT(pending[0].next_run_at, clock_->NowMillis());
  calls = EmbedRequests();
  EXPECT_EQ(TopVectorHit("violin concert vienna"), violin);
  EXPECT_EQ(EmbedRequests(), calls);

  // A restart mid-way resumes where it stopped.
  OpenWith(remote, p);
  st = StatsOf();
  EXPECT_EQ(st.embedder, old_id);
  EXPECT_EQ(st.embedder_next, remote->id());
  EXPECT_EQ(st.reembedded, 257);
  EXPECT_EQ(Jobs(JobKind::kReembed, JobState::kPending).size(), 1u);
  EXPECT_EQ(TopVectorHit("violin concert vienna"), violin);

  clock_->Advance(5000);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  st = StatsOf();
  EXPECT_EQ(st.embedder, remote->id());
  EXPECT_EQ(st.dimension, 64);
  EXPECT_EQ(st.embedder_next, "");
  EXPECT_EQ(st.vectors_indexed + st.vectors_pending, 302);
  EXPECT_EQ(JobStatsOf().embedded, 301);
  // Now queries are embedded by the new embedder and meet the new vectors.
  calls = EmbedRequests();
  EXPECT_EQ(TopVectorHit("violin concert vienna"), violin);
  EXPECT_EQ(EmbedRequests(), calls + 1);
  EXPECT_EQ(TopVectorHit("harpsichord recital salzburg"), harp);

  // The switch is durable and the new index reopens cleanly.
  OpenWith(remote, p);
  EXPECT_EQ(StatsOf().embedder, remote->id());
  EXPECT_EQ(TopVectorHit("violin concert vienna"), violin);
  for (const auto& w : Warnings()) EXPECT_EQ(w.find("unusable"), std::string::npos) << w;
}

TEST_F(EmbedPipelineTest, WithoutTheOldEmbedderSearchIsLexicalUntilTheSwitch) {
  OpenWith(Remote("embed-a"));
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId violin = MustAdd("s", Input("the violin concert in vienna"));
  MustAdd("s", Input("a recipe for lentil soup"));
  OpenWith(nullptr);  // the builtin embedder; embed-a is no longer configured
  SpaceStats st = StatsOf();
  EXPECT_EQ(st.embedder, "openai-compatible:embed-a:64");
  EXPECT_EQ(st.embedder_next, embed::NewBuiltinEmbedder()->id());
  EXPECT_FALSE(st.vector_search);

  const size_t calls = EmbedRequests();
  SearchRequest r = VectorOnly("violin vienna");
  r.explain = true;
  auto hits = engine_->Search("s", r);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].memory.id, violin);
  auto off = [](const SearchHit& h) {
    return std::any_of(h.explanation.begin(), h.explanation.end(), [](const SignalExplanation& e) {
      return e.signal.rfind("vector (off", 0) == 0;
    });
  };
  EXPECT_TRUE(off((*hits)[0]));
  EXPECT_EQ(EmbedRequests(), calls);  // never embeds a query with another embedder
  auto warnings = Warnings();
  EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.find("lexical only") != std::string::npos;
  }));

  auto run = engine_->RunJobs("s");
  ASSERT_TRUE(run.ok()) << run.ToString();
  st = StatsOf();
  EXPECT_EQ(st.embedder, embed::NewBuiltinEmbedder()->id());
  EXPECT_TRUE(st.vector_search);
  hits = engine_->Search("s", r);
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].memory.id, violin);
  EXPECT_FALSE(off((*hits)[0]));
}

TEST_F(EmbedPipelineTest, ADeadReembedJobHoldsTheSwitchUntilRetried) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId violin = MustAdd("s", Input("the violin concert in vienna"));
  PipelineOptions p;
  p.max_attempts = 1;
  auto remote = Remote();
  OpenWith(remote, p);
  fake_.Enqueue("/v1/embeddings", fail_);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ASSERT_EQ(Jobs(JobKind::kReembed, JobState::kDead).size(), 1u);
  // A write while the new provider fails: stored with its old vector, an embed job for
  // the new one.
  fake_.Enqueue("/v1/embeddings", fail_);
  const MemoryId harp = MustAdd("s", Input("the harpsichord recital in salzburg"));
  EXPECT_EQ(TopVectorHit("harpsichord recital salzburg"), harp);  // old vectors
  clock_->Advance(p.retry_initial_ms);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  EXPECT_EQ(Jobs(JobKind::kEmbed, JobState::kDone).size(), 1u);
  // The dead job blocks the switch; nothing is swept around it.
  SpaceStats st = StatsOf();
  EXPECT_EQ(st.embedder_next, remote->id());
  EXPECT_EQ(st.reembedded, 1);
  EXPECT_EQ(Jobs(JobKind::kReembed).size(), 1u);

  ASSERT_TRUE(engine_->RetryJobs("s", 0).ok());
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  st = StatsOf();
  EXPECT_EQ(st.embedder, remote->id());
  EXPECT_EQ(st.embedder_next, "");
  EXPECT_EQ(TopVectorHit("violin concert vienna"), violin);
  EXPECT_EQ(TopVectorHit("harpsichord recital salzburg"), harp);
}

TEST_F(EmbedPipelineTest, ConfiguringTheOldEmbedderAgainCancelsTheReembed) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId violin = MustAdd("s", Input("the violin concert in vienna"));
  OpenWith(Remote());
  ASSERT_EQ(StatsOf().embedder_next, Remote()->id());
  OpenWith(nullptr);
  SpaceStats st = StatsOf();
  EXPECT_EQ(st.embedder, embed::NewBuiltinEmbedder()->id());
  EXPECT_EQ(st.embedder_next, "");
  auto jobs = Jobs(JobKind::kReembed);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kDone);
  EXPECT_NE(jobs[0].last_error.find("cancelled"), std::string::npos);
  EXPECT_EQ(TopVectorHit("violin concert vienna"), violin);
}

TEST_F(EmbedPipelineTest, WithReembeddingOffAnotherEmbedderIsAnErrorNamingBoth) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  MustAdd("s", Input("vectors from the builtin embedder"));
  engine_.reset();
  Options o = MakeOptions();
  o.embedder = Remote();
  o.reembed_on_embedder_change = false;
  auto e = Engine::Open(dir_.path(), o);
  ASSERT_TRUE(e.ok());
  auto r = (*e)->Stats("s");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(o.embedder->id()), std::string::npos);
  EXPECT_NE(r.status().message().find(embed::NewBuiltinEmbedder()->id()), std::string::npos);
  EXPECT_NE(r.status().message().find("embedding.reembed"), std::string::npos);
}

}  // namespace
}  // namespace mnemo::testing
