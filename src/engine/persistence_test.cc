// Durability: snapshots, replay, recovery from a bad snapshot, export/import, embedders.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "embed/builtin_embedder.h"
#include "engine/engine_test_util.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace mnemo::testing {
namespace {

class PersistenceTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
  }
  std::string IndexFile() const { return dir_.path() + "/spaces/s/vectors.idx"; }
  MemoryId TopVectorHit(const std::string& query) {
    SearchRequest q;
    q.query = query;
    q.lexical_weight = 0;
    auto ids = SearchIds("s", q);
    return ids.empty() ? 0 : ids.front();
  }
  std::string ExportText(const std::string& space) {
    std::ostringstream out;
    Status s = engine_->Export(space, out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out.str();
  }
  // The export minus its header line (which names the space and the export time) and
  // its end line (whose checksum covers the header).
  static std::string Body(const std::string& text) {
    const size_t start = text.find('\n') + 1;
    const size_t end = text.rfind('\n', text.size() - 2) + 1;
    return text.substr(start, end - start);
  }
};

TEST_F(PersistenceTest, SnapshotPlusReplayRestoresTheIndex) {
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(Input("snapshot filler " + std::to_string(i)));
  ASSERT_TRUE(engine_->AddBatch("s", batch).ok());
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  Reopen();  // writes the snapshot on close
  ASSERT_TRUE(std::filesystem::exists(IndexFile()));
  // Writes after the snapshot live only in SQLite and the index log until replayed.
  const MemoryId late = MustAdd("s", Input("a zeppelin over the harbour"));
  engine_.reset();  // no graceful snapshot would include it if it were pending...
  Reopen();
  EXPECT_EQ(TopVectorHit("zeppelin harbour"), late);
  auto stats = engine_->Stats("s");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->vectors_indexed + stats->vectors_pending, 501);
  EXPECT_TRUE(Warnings().empty());
}

TEST_F(PersistenceTest, CorruptSnapshotIsRebuiltWithAWarning) {
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 200; ++i) batch.push_back(Input("corruption filler " + std::to_string(i)));
  batch.push_back(Input("the violinist tuned her cello"));
  auto ids = engine_->AddBatch("s", batch);
  ASSERT_TRUE(ids.ok());
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  engine_.reset();
  ASSERT_TRUE(std::filesystem::exists(IndexFile()));
  {
    std::fstream f(IndexFile(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(IndexFile()) / 2));
    f.put('\x5a').put('\xa5').put('\x00');
  }
  Reopen();
  EXPECT_EQ(TopVectorHit("violinist cello"), ids->back());
  auto w = Warnings();
  ASSERT_FALSE(w.empty());
  EXPECT_NE(w[0].find("rebuilding"), std::string::npos) << w[0];
  EXPECT_EQ(ActiveCount("s"), 201);
}

TEST_F(PersistenceTest, MissingSnapshotIsRebuilt) {
  const MemoryId id = MustAdd("s", Input("penguins waddle on the ice"));
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  engine_.reset();
  std::filesystem::remove(IndexFile());
  Reopen();
  EXPECT_EQ(TopVectorHit("penguin ice"), id);
  EXPECT_FALSE(Warnings().empty());
}

TEST_F(PersistenceTest, AnInterruptedRebuildLosesNoVectors) {
  // Close while the graph is being rebuilt from SQLite: no snapshot may claim the
  // partial graph is complete, so the next open rebuilds again and finds every vector.
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 4000; ++i) batch.push_back(Input("rebuild filler " + std::to_string(i)));
  batch.push_back(Input("an albatross glides over the southern ocean"));
  auto ids = engine_->AddBatch("s", batch);
  ASSERT_TRUE(ids.ok());
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  engine_.reset();
  std::filesystem::remove(IndexFile());
  Reopen();
  ASSERT_TRUE(engine_->Stats("s").ok());  // opens the space: the rebuild starts
  engine_.reset();                        // at once: the rebuild has barely started
  Reopen();
  ASSERT_TRUE(engine_->Stats("s").ok());
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  auto stats = engine_->Stats("s");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->vectors_indexed, 4001);
  EXPECT_EQ(stats->vectors_pending, 0);
  engine_.reset();  // now complete: the snapshot is written and is whole
  Reopen();
  stats = engine_->Stats("s");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->vectors_indexed + stats->vectors_pending, 4001);
  EXPECT_EQ(TopVectorHit("albatross southern ocean"), ids->back());
}

TEST_F(PersistenceTest, TruncatedSnapshotIsRebuilt) {
  MustAdd("s", Input("one"));
  const MemoryId id = MustAdd("s", Input("kangaroos hop across the outback"));
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  engine_.reset();
  std::filesystem::resize_file(IndexFile(), std::filesystem::file_size(IndexFile()) - 7);
  Reopen();
  EXPECT_EQ(TopVectorHit("kangaroo outback"), id);
}

TEST_F(PersistenceTest, ExportImportRoundTripIsLossless) {
  std::vector<Message> msgs;
  for (int i = 0; i < 6; ++i) {
    Message m;
    m.session = "sess" + std::to_string(i / 3);
    m.speaker = i % 2 ? "Bo" : "Al";
    m.text = "turn " + std::to_string(i) + " about sailing";
    m.time = 1683554160000 + i * 60000;
    msgs.push_back(m);
  }
  auto r = engine_->Ingest("s", "u1", msgs);
  ASSERT_TRUE(r.ok());
  MemoryInput fact = Input("Al owns a sailboat named Petrel");
  fact.kind = Kind::kFact;
  fact.sources = {r->ids[0], r->ids[2]};
  fact.tags = {"boats"};
  fact.metadata = R"({"confidence":0.8})";
  const MemoryId fid = MustAdd("s", fact);
  MemoryUpdate u;
  u.text = "Al owns a sailboat named Petrel II";
  ASSERT_TRUE(engine_->Update("s", fid, u).ok());
  ASSERT_TRUE(engine_->Remove("s", r->ids[5], "noise").ok());
  ASSERT_TRUE(engine_->Purge("s", r->ids[4], "erase").ok());

  const std::string original = ExportText("s");
  std::istringstream in(original);
  auto imported = engine_->Import("copy", in);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->memories, 6);  // 5 turns left + the fact
  EXPECT_EQ(Body(ExportText("copy")), Body(original));
  // The copy is fully usable: search, history, links.
  SearchRequest q;
  q.query = "Petrel sailboat";
  EXPECT_EQ(SearchIds("copy", q).front(), fid);
  EXPECT_EQ(engine_->History("copy", fid)->size(), 2u);
  EXPECT_EQ(engine_->Links("copy", r->ids[0])->size(), 2u);  // next + derived_from
  // A new memory in the copy never reuses an imported id.
  EXPECT_GT(MustAdd("copy", Input("fresh")), fid);
}

TEST_F(PersistenceTest, ImportRejectsDamagedFilesAndWritesNothing) {
  MustAdd("s", Input("alpha"));
  MustAdd("s", Input("beta"));
  const std::string good = ExportText("s");
  ASSERT_TRUE(engine_->CreateSpace("t").ok());
  auto try_import = [&](const std::string& text) {
    std::istringstream in(text);
    return engine_->Import("t", in).status();
  };
  std::string truncated = good.substr(0, good.rfind('\n', good.size() - 2) + 1);
  EXPECT_EQ(try_import(truncated).code(), StatusCode::kInvalidArgument);
  std::string flipped = good;
  flipped[flipped.find("alpha")] = 'A';
  Status s = try_import(flipped);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("checksum"), std::string::npos);
  EXPECT_EQ(try_import("not json\n").code(), StatusCode::kInvalidArgument);
  EXPECT_NE(try_import("{\"format\":\"other\"}\n").message().find("not a mnemo export"),
            std::string::npos);
  EXPECT_EQ(try_import("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ActiveCount("t"), 0);
  // A failed import into a space that did not exist leaves no space behind.
  std::istringstream bad(truncated);
  EXPECT_FALSE(engine_->Import("fresh", bad).ok());
  EXPECT_EQ(engine_->Stats("fresh").status().code(), StatusCode::kNotFound);
  // Importing into the space it came from clashes on ids: nothing is written.
  std::istringstream again(good);
  auto clash = engine_->Import("s", again);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kConflict);
  EXPECT_EQ(ActiveCount("s"), 2);
}

class OtherEmbedder final : public Embedder {
 public:
  std::string id() const override { return "other-v1-8"; }
  int dimension() const override { return 8; }
  Status Embed(const std::vector<std::string_view>& texts,
               std::vector<std::vector<float>>* out) const override {
    out->assign(texts.size(), std::vector<float>(8, 0.35355339f));
    return Status::Ok();
  }
};

TEST_F(PersistenceTest, AnotherEmbedderIsAClearErrorNotACrashWhenReembeddingIsOff) {
  MustAdd("s", Input("vectors from the builtin embedder"));
  engine_.reset();
  Options o = MakeOptions();
  o.embedder = std::make_shared<OtherEmbedder>();
  o.reembed_on_embedder_change = false;
  auto e = Engine::Open(dir_.path(), o);
  ASSERT_TRUE(e.ok());
  auto r = (*e)->Get("s", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("other-v1-8"), std::string::npos);
  EXPECT_NE(r.status().message().find(embed::NewBuiltinEmbedder()->id()), std::string::npos);
  // The engine with the other embedder works for its own spaces.
  ASSERT_TRUE((*e)->CreateSpace("other").ok());
  ASSERT_TRUE((*e)->Add("other", Input("hello")).ok());
}

class BrokenEmbedder final : public Embedder {
 public:
  std::string id() const override { return "builtin-v1-256"; }
  int dimension() const override { return 256; }
  Status Embed(const std::vector<std::string_view>& texts,
               std::vector<std::vector<float>>* out) const override {
    out->assign(texts.size(), std::vector<float>(3, 1.0f));  // wrong dimension
    return Status::Ok();
  }
};

// Garbage from the embedder is a provider failure: the memory is stored without its
// vector and an embed job retries (src/engine/reembed_test.cc covers the jobs).
TEST_F(PersistenceTest, AnEmbedderReturningGarbageDefersTheVectorNotTheWrite) {
  MustAdd("s", Input("good"));
  engine_.reset();
  Options o = MakeOptions();
  o.embedder = std::make_shared<BrokenEmbedder>();
  auto e = Engine::Open(dir_.path(), o);
  ASSERT_TRUE(e.ok());
  auto r = (*e)->Add("s", Input("bad"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto stats = (*e)->Stats("s");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->memories_active, 2);
  EXPECT_EQ(stats->vectors_indexed + stats->vectors_pending, 1);
  auto jobs = (*e)->ListJobs("s", JobState::kPending, 10);
  ASSERT_TRUE(jobs.ok());
  auto embed = std::find_if(jobs->begin(), jobs->end(),
                            [](const Job& j) { return j.kind == JobKind::kEmbed; });
  ASSERT_NE(embed, jobs->end());
  EXPECT_EQ(embed->memories, std::vector<MemoryId>{*r});
  EXPECT_NE(embed->last_error.find("dimension 3"), std::string::npos) << embed->last_error;
}

// ---- the lexical index (index/lexical_index.h): snapshot, log replay, rebuild ------------

class LexicalPersistenceTest : public PersistenceTest {
 protected:
  std::string LexicalFile(const std::string& root) const { return root + "/spaces/s/lexical.idx"; }

  // The data directory as a crash would leave it now: SQLite's files (with the committed
  // WAL) and the snapshots on disk, without the clean close's final snapshots. Opened as
  // a second engine.
  std::unique_ptr<Engine> CrashCopy() {
    const std::string copy = crash_dir_.path();
    std::filesystem::remove_all(copy);
    std::filesystem::create_directories(copy);
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
      const auto rel = std::filesystem::relative(e.path(), dir_.path());
      if (e.is_directory()) {
        std::filesystem::create_directories(copy + "/" + rel.string());
      } else if (rel.filename() != "LOCK") {
        std::filesystem::copy_file(e.path(), copy + "/" + rel.string());
      }
    }
    auto e = Engine::Open(copy, MakeOptions());
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }

  static std::vector<MemoryId> Lexical(Engine& engine, const std::string& query,
                                       bool include_retired = false) {
    SearchRequest q;
    q.query = query;
    q.vector_weight = 0;
    q.context_weight = 0;
    q.session_weight = 0;
    q.filter.include_retired = include_retired;
    auto hits = engine.Search("s", q);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<MemoryId> ids;
    if (hits.ok()) {
      for (const auto& h : *hits) ids.push_back(h.memory.id);
    }
    return ids;
  }

  TempDir crash_dir_;
};

TEST_F(LexicalPersistenceTest, EveryKindOfChangeSurvivesACrashThroughTheLog) {
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 300; ++i)
    batch.push_back(Input("lexical filler number " + std::to_string(i)));
  const auto early = engine_->AddBatch("s", batch);
  ASSERT_TRUE(early.ok());
  const MemoryId edited = MustAdd("s", Input("the old lighthouse keeper"));
  const MemoryId removed = MustAdd("s", Input("a removable glacier note"));
  const MemoryId purged = MustAdd("s", Input("a purgeable quokka secret"));
  // A purge rewrites the snapshots at once (they must not keep what it erased).
  ASSERT_TRUE(engine_->Purge("s", purged, "test").ok());
  ASSERT_TRUE(std::filesystem::exists(LexicalFile(dir_.path())));
  // After the snapshot, in the log only: an add, an update, a removal, another add.
  const MemoryId late = MustAdd("s", Input("a walrus on the beach"));
  MemoryUpdate u;
  u.text = "the new harbour master";
  ASSERT_TRUE(engine_->Update("s", edited, u).ok());
  ASSERT_TRUE(engine_->Remove("s", removed, "test").ok());
  const MemoryId after_purge = MustAdd("s", Input("another walrus sighting"));

  auto crashed = CrashCopy();
  ASSERT_NE(crashed, nullptr);
  EXPECT_EQ(Lexical(*crashed, "walrus"), (std::vector<MemoryId>{late, after_purge}));
  EXPECT_EQ(Lexical(*crashed, "harbour master"), std::vector<MemoryId>{edited});
  EXPECT_TRUE(Lexical(*crashed, "lighthouse keeper").empty());
  EXPECT_TRUE(Lexical(*crashed, "glacier").empty());
  EXPECT_EQ(Lexical(*crashed, "glacier", /*include_retired=*/true), std::vector<MemoryId>{removed});
  EXPECT_TRUE(Lexical(*crashed, "quokka", true).empty());
  EXPECT_EQ(Lexical(*crashed, "filler number 17").front(), (*early)[17]);
  // The same answers as the engine that never crashed.
  for (const char* q : {"walrus", "harbour", "glacier", "filler 250", "beach sighting"}) {
    EXPECT_EQ(Lexical(*crashed, q), Lexical(*engine_, q)) << q;
  }
}

TEST_F(LexicalPersistenceTest, AnUnusableSnapshotIsRebuiltFromTheTable) {
  const MemoryId a = MustAdd("s", Input("a narwhal in the fjord"));
  const MemoryId b = MustAdd("s", Input("the narwhal tusk is a tooth"));
  Reopen();
  const auto want = Lexical(*engine_, "narwhal tusk");
  ASSERT_EQ(want, (std::vector<MemoryId>{b, a}));
  engine_.reset();
  {
    std::fstream f(LexicalFile(dir_.path()), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(LexicalFile(dir_.path())) / 2));
    f.put('\x5a').put('\xa5');
  }
  Reopen();
  EXPECT_EQ(Lexical(*engine_, "narwhal tusk"), want);
  auto w = Warnings();
  ASSERT_FALSE(w.empty());
  EXPECT_NE(w[0].find("lexical index snapshot unusable"), std::string::npos) << w[0];

  // Deleted: rebuilt too.
  engine_.reset();
  std::filesystem::remove(LexicalFile(dir_.path()));
  Reopen();
  EXPECT_EQ(Lexical(*engine_, "narwhal tusk"), want);
}

TEST_F(LexicalPersistenceTest, ALogTruncatedPastTheSnapshotIsDetected) {
  MustAdd("s", Input("an otter holds hands"));
  Reopen();
  const std::string old_snapshot = crash_dir_.path() + ".lexical";
  std::filesystem::copy_file(LexicalFile(dir_.path()), old_snapshot);
  const MemoryId late = MustAdd("s", Input("an otter cracks a shell"));
  engine_.reset();
  // The old snapshot back, and the log after it gone: a replay could not be complete,
  // so the index must not trust it.
  std::filesystem::copy_file(old_snapshot, LexicalFile(dir_.path()),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(old_snapshot);
  {
    auto db =
        store::Db::Open(dir_.path() + "/spaces/s/space.db", store::Db::Mode::kReadWrite, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DELETE FROM index_log").ok());
  }
  Reopen();
  EXPECT_EQ(Lexical(*engine_, "otter shell").front(), late);
  auto w = Warnings();
  ASSERT_FALSE(w.empty());
  EXPECT_NE(w[0].find("no longer reaches back"), std::string::npos) << w[0];
}

TEST_F(LexicalPersistenceTest, AVersion4SpaceIsMigratedAndIndexed) {
  engine_.reset();
  std::filesystem::remove_all(dir_.path() + "/spaces/s");
  std::filesystem::create_directories(dir_.path() + "/spaces/s");
  {
    // A space as mnemo wrote it before the lexical index (schema v4, FTS5).
    auto db =
        store::Db::Open(dir_.path() + "/spaces/s/space.db", store::Db::Mode::kReadWrite, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(store::MigrateTo(**db, 4).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO space_meta VALUES('name','s'),('created_at','0'),"
                           "('embedder','builtin-v1-256')")
                    .ok());
    ASSERT_TRUE(
        (*db)->Exec("INSERT INTO embedders(name, dimension) VALUES('builtin-v1-256', 256)").ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO memories(id, kind, text, user_id, agent_id, session_id, "
                           "role, speaker, event_time, created_at, updated_at, importance, "
                           "strength, access_count, tier, state, version, origin, entities) "
                           "VALUES(42, 1, 'Maya keeps bees on the roof', 'maya', '', '', '', "
                           "'', 1, 1, 1, 0.5, 1, 0, 1, 0, 1, 4, '[\"Maya\"]')")
                    .ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO memories_fts(rowid, text, speaker, scope) "
                           "VALUES(42, 'Maya keeps bees on the roof', '', '9')")
                    .ok());
    // A turn about health and a fact derived from it, written before labels existed.
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO memories(id, kind, text, user_id, agent_id, session_id, "
                           "role, speaker, event_time, created_at, updated_at, importance, "
                           "strength, access_count, tier, state, version, origin, sources) "
                           "VALUES(43, 0, 'I was diagnosed with asthma', 'maya', '', '', '', "
                           "'', 1, 1, 1, 0.5, 1, 0, 1, 0, 1, 0, NULL), "
                           "(44, 1, 'Maya uses an inhaler at night', 'maya', '', '', '', '', 1, "
                           "1, 1, 0.5, 1, 0, 1, 0, 1, 4, '[43]')")
                    .ok());
  }
  Reopen();
  EXPECT_EQ(Lexical(*engine_, "bees roof"), std::vector<MemoryId>{42});
  // The migration labelled them: the rules for the turn, the turn's labels for the fact.
  EXPECT_EQ(engine_->Get("s", 43)->labels, LabelBit(Label::kHealth));
  EXPECT_EQ(engine_->Get("s", 44)->labels, LabelBit(Label::kHealth));
  EXPECT_EQ(engine_->Get("s", 42)->labels, 0u);
  SearchRequest q;
  q.query = "asthma inhaler bees";
  q.filter.exclude_labels = LabelBit(Label::kHealth);
  auto hits = engine_->Search("s", q);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->front().memory.id, 42);
  auto db = store::Db::Open(dir_.path() + "/spaces/s/space.db", store::Db::Mode::kReadOnly, false);
  ASSERT_TRUE(db.ok());
  auto version = store::SchemaVersion(**db);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, store::kSchemaVersion);
  auto st = (*db)->Prepare("SELECT entity, memory_id FROM memory_entities", false);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->Text(0), "maya");
  EXPECT_EQ(st->Int(1), 42);
}

TEST_F(LexicalPersistenceTest, SessionLinksSurviveReopenForConversationContext) {
  std::vector<Message> msgs;
  for (const char* t : {"did you try the new ramen place?", "yes, it was amazing!"}) {
    Message m;
    m.session = "s1";
    m.role = "user";
    m.text = t;
    msgs.push_back(m);
  }
  auto r = engine_->Ingest("s", "u1", msgs);
  ASSERT_TRUE(r.ok());
  Reopen();
  SearchRequest q;
  q.query = "ramen";
  q.vector_weight = 0;
  auto hits = engine_->Search("s", q);
  ASSERT_TRUE(hits.ok());
  // The reply shares no word with the query: it comes through its question.
  std::vector<MemoryId> ids;
  for (const auto& h : *hits) ids.push_back(h.memory.id);
  EXPECT_EQ(ids, (std::vector<MemoryId>{r->ids[0], r->ids[1]}));
}

// The writer's commits leave WAL checkpoints to another connection (Space::CheckpointWal
// on the indexer thread) until the WAL reaches store::kMaxWalPages.
TEST(WalCheckpointTest, WriterLeavesCheckpointsToAnotherConnectionUpToTheCap) {
  TempDir dir;
  std::filesystem::create_directories(dir.path());
  const std::string path = dir.path() + "/t.db";
  store::DbOptions background;
  background.full_sync = false;
  background.background_checkpoint = true;
  auto writer = store::Db::Open(path, store::Db::Mode::kReadWrite, background);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  store::Db& w = **writer;
  ASSERT_TRUE(w.Exec("CREATE TABLE t(x BLOB)").ok());
  auto write_mb = [&](int mb) {
    for (int i = 0; i < mb; ++i) {
      ASSERT_TRUE(w.Exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
                         "WHERE i < 256) INSERT INTO t SELECT randomblob(4000) FROM c")
                      .ok());
    }
  };
  write_mb(12);
  EXPECT_GE(w.wal_pages(), 2500);  // no checkpoint at SQLite's usual 1,000 pages
  EXPECT_LT(std::filesystem::file_size(path), 1u << 20);

  auto other = store::Db::Open(path, store::Db::Mode::kReadWrite, false);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE((*other)->CheckpointWal().ok());
  EXPECT_GT(std::filesystem::file_size(path), 10u << 20);  // the pages reached the file
  write_mb(1);
  EXPECT_LT(w.wal_pages(), 400);  // the WAL restarted from its start

  // Nobody checkpoints: the writer does it itself at the cap, the WAL stays bounded.
  write_mb(70);
  EXPECT_LT(w.wal_pages(), store::kMaxWalPages);
  EXPECT_GT(std::filesystem::file_size(path), 64u << 20);
}

}  // namespace
}  // namespace mnemo::testing
