// Engine API tests: spaces, the write path, reads, versions, erasure, validation.
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "engine/engine_test_util.h"
#include "util/json_codec.h"

namespace mnemo::testing {
namespace {

TEST(EngineOpenTest, RequiresInitUnlessCreateIfMissing) {
  TempDir dir;
  Options o;
  auto e = Engine::Open(dir.path(), o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(e.status().message().find("init"), std::string::npos);
  o.create_if_missing = true;
  ASSERT_TRUE(Engine::Open(dir.path(), o).ok());
  o.create_if_missing = false;
  EXPECT_TRUE(Engine::Open(dir.path(), o).ok());
}

TEST(EngineOpenTest, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir dir;
  Options o;
  o.create_if_missing = true;
  auto first = Engine::Open(dir.path(), o);
  ASSERT_TRUE(first.ok());
  auto second = Engine::Open(dir.path(), o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
}

// Audit finding (issue 17): removing DIR/LOCK while a server ran let a second process
// open the directory (id collisions, memories missing from the index). The directory
// itself is locked too, and it cannot be removed while it holds data.
TEST(EngineOpenTest, AuditRemovingTheLockFileDoesNotFreeTheDirectory) {
  TempDir dir;
  Options o;
  o.create_if_missing = true;
  auto first = Engine::Open(dir.path(), o);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(std::remove((dir.path() + "/LOCK").c_str()), 0);
  auto second = Engine::Open(dir.path(), o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
  first->reset();
  EXPECT_TRUE(Engine::Open(dir.path(), o).ok()) << "the lock goes with the engine";
}

TEST_F(EngineTest, SpacesCreateListDrop) {
  ASSERT_TRUE(engine_->CreateSpace("notes").ok());
  ASSERT_TRUE(engine_->CreateSpace("work.2024").ok());
  EXPECT_EQ(engine_->CreateSpace("notes").code(), StatusCode::kAlreadyExists);
  // A leading '-' would read as an option on the command line.
  for (const char* bad : {"", ".hidden", "a/b", "spa ce", "x\xff", "-rf", "--help"}) {
    EXPECT_EQ(engine_->CreateSpace(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  MustAdd("notes", Input("hello"));
  auto spaces = engine_->ListSpaces();
  ASSERT_TRUE(spaces.ok());
  ASSERT_EQ(spaces->size(), 2u);
  EXPECT_EQ((*spaces)[0].name, "notes");
  EXPECT_EQ((*spaces)[0].memories, 1);
  EXPECT_EQ((*spaces)[1].name, "work.2024");
  ASSERT_TRUE(engine_->DropSpace("notes").ok());
  EXPECT_EQ(engine_->DropSpace("notes").code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Get("notes", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Add("missing", Input("x")).status().code(), StatusCode::kNotFound);
  // A dropped space can be created again, empty.
  ASSERT_TRUE(engine_->CreateSpace("notes").ok());
  EXPECT_EQ(ActiveCount("notes"), 0);
}

// Every validation error names its request field in Status::field(), so that no face
// reads messages (the HTTP "field", Python's InvalidArgument.field, the CLI's flag).
TEST_F(EngineTest, ErrorsNameTheirField) {
  auto field = [](const Status& s) {
    EXPECT_FALSE(s.ok());
    return s.field();
  };
  EXPECT_EQ(field(engine_->CreateSpace("a b")), "space");
  EXPECT_EQ(field(engine_->Add("nope", Input("x")).status()), "space");
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  EXPECT_EQ(field(engine_->Add("s", Input("")).status()), "text");
  MemoryInput bad = Input("x");
  bad.importance = 2;
  EXPECT_EQ(field(engine_->Add("s", bad).status()), "importance");
  bad = Input("x");
  bad.tags = {""};
  EXPECT_EQ(field(engine_->Add("s", bad).status()), "tags");
  bad = Input("x");
  bad.metadata = "[1]";
  EXPECT_EQ(field(engine_->Add("s", bad).status()), "meta");
  // In a batch, the item: "[1].user" (the caller names the array).
  auto batch = engine_->AddBatch("s", {Input("fine"), Input("x", "")});
  EXPECT_EQ(field(batch.status()), "[1].user");
  EXPECT_TRUE(batch.status().message().starts_with("item 2: ")) << batch.status().message();
  EXPECT_EQ(field(engine_->AddBatch("s", {Input("")}).status()), "[0].text");
  EXPECT_EQ(field(engine_->Ingest("s", std::string(300, 'u'), {Message{}}).status()), "user");
  EXPECT_EQ(field(engine_->Get("s", 12345).status()), "id");
  SearchRequest q;
  q.query = "x";
  q.k = 0;
  EXPECT_EQ(field(engine_->Search("s", q).status()), "k");
  q.k = 10;
  q.lexical_weight = -1;
  EXPECT_EQ(field(engine_->Search("s", q).status()), "lexical_weight");
  ListRequest l;
  l.cursor = "zz";
  EXPECT_EQ(field(engine_->List("s", l).status()), "cursor");
  ContextRequest c;
  c.user = "u";
  c.query = "x";
  c.budget_tokens = kMaxContextBudget + 1;
  EXPECT_EQ(field(engine_->BuildContext("s", c).status()), "budget");
  EXPECT_EQ(field(engine_->GetProfile("s", "u", kMaxProfileEntries + 1).status()), "limit");
  ProfileEdit edit;
  edit.user = "u";
  edit.unset = {"job"};
  EXPECT_EQ(field(engine_->EditProfile("s", edit).status()), "unset");
  edit.unset.clear();
  edit.set = {{" bad key", "v"}};
  EXPECT_EQ(field(engine_->EditProfile("s", edit).status()), "set");
}

TEST_F(EngineTest, AddAndGetKeepEveryField) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  MemoryInput in = Input("Maya is allergic to peanuts", "maya");
  in.agent_id = "helper";
  in.session_id = "s1";
  in.kind = Kind::kFact;
  in.role = "user";
  in.speaker = "Maya";
  in.event_time = 1683554160000;
  in.valid_from = 1683500000000;
  in.importance = 0.9;
  in.origin = Origin::kUser;
  in.tags = {"health", "food"};
  in.entities = {"peanuts"};
  in.metadata = R"({ "source": "chat", "n": 3 })";
  const MemoryId id = MustAdd("s", in);
  auto m = engine_->Get("s", id);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->text, in.text);
  EXPECT_EQ(m->user_id, "maya");
  EXPECT_EQ(m->agent_id, "helper");
  EXPECT_EQ(m->session_id, "s1");
  EXPECT_EQ(m->kind, Kind::kFact);
  EXPECT_EQ(m->role, "user");
  EXPECT_EQ(m->speaker, "Maya");
  EXPECT_EQ(m->event_time, 1683554160000);
  EXPECT_EQ(m->valid_from, 1683500000000);
  EXPECT_EQ(m->valid_to, std::nullopt);
  EXPECT_EQ(m->created_at, clock_->NowMillis());
  EXPECT_DOUBLE_EQ(m->importance, 0.9);
  EXPECT_EQ(m->tags, (std::vector<std::string>{"health", "food"}));
  EXPECT_EQ(m->entities, (std::vector<std::string>{"peanuts"}));
  // A fact without a slot gets the one the rules read in it (the profile shows it).
  EXPECT_EQ(m->metadata,
            R"({"n":3,"polarity":1,"slot":"allergy:peanuts","source":"chat","value":"yes"})");
  EXPECT_EQ(m->version, 1);
  EXPECT_EQ(m->state, State::kActive);
  EXPECT_EQ(engine_->Get("s", id + 12345).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, IdsAreTimeOrderedUniqueAndJsonSafe) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 5000; ++i) batch.push_back(Input("memory number " + std::to_string(i)));
  auto ids = engine_->AddBatch("s", batch);
  ASSERT_TRUE(ids.ok());
  clock_->Advance(1);
  const MemoryId later = MustAdd("s", Input("later"));
  std::set<MemoryId> unique(ids->begin(), ids->end());
  EXPECT_EQ(unique.size(), 5000u);
  EXPECT_TRUE(std::is_sorted(ids->begin(), ids->end()));
  EXPECT_GT(later, ids->back());
  EXPECT_LT(later, int64_t{1} << 53);
}

TEST_F(EngineTest, InvalidInputIsRejectedAndLeavesTheStoreUnchanged) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  MustAdd("s", Input("existing"));
  struct Case {
    MemoryInput in;
    StatusCode code;
    std::string fragment;
  };
  std::vector<Case> cases;
  cases.push_back({Input(""), StatusCode::kInvalidArgument, "text must not be empty"});
  cases.push_back({Input("bad \xc3\x28 utf8"), StatusCode::kInvalidArgument, "UTF-8 (byte 4)"});
  cases.push_back({Input(std::string(64 * 1024 + 1, 'a')), StatusCode::kTooLarge, "limit"});
  cases.push_back({Input("no user", ""), StatusCode::kInvalidArgument, "user is required"});
  MemoryInput meta = Input("bad meta");
  meta.metadata = "[1,2]";
  cases.push_back({meta, StatusCode::kInvalidArgument, "metadata must be a JSON object"});
  MemoryInput meta2 = Input("malformed meta");
  meta2.metadata = "{\"a\":";
  cases.push_back({meta2, StatusCode::kInvalidArgument, "malformed JSON"});
  MemoryInput imp = Input("importance");
  imp.importance = 2;
  cases.push_back({imp, StatusCode::kInvalidArgument, "importance"});
  MemoryInput valid = Input("validity");
  valid.valid_from = 10;
  valid.valid_to = 5;
  cases.push_back({valid, StatusCode::kInvalidArgument, "valid_to is before valid_from"});
  MemoryInput tag = Input("tag");
  tag.tags = {""};
  cases.push_back({tag, StatusCode::kInvalidArgument, "tags"});
  for (const auto& c : cases) {
    auto r = engine_->Add("s", c.in);
    ASSERT_FALSE(r.ok()) << c.fragment;
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos) << r.status().ToString();
  }
  // A batch with one bad item writes nothing at all, and says which item.
  std::vector<MemoryInput> batch = {Input("fine 1"), Input("fine 2"), Input("")};
  auto r = engine_->AddBatch("s", batch);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("item 3"), std::string::npos);
  EXPECT_EQ(ActiveCount("s"), 1);
}

TEST_F(EngineTest, ListUsersPagesThroughUsersWithActiveMemories) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  std::vector<MemoryInput> batch;
  // Odd names on purpose: the cursor must carry any user id ("=" and "/" included).
  const std::vector<std::string> users = {"b/=", "a", "c d", "é", "a"};
  for (size_t i = 0; i < users.size(); ++i) {
    MemoryInput in = Input("note " + std::to_string(i), users[i]);
    in.event_time = 1000 * static_cast<TimeMs>(i + 1);
    batch.push_back(in);
  }
  auto ids = engine_->AddBatch("s", batch);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_TRUE(engine_->Remove("s", (*ids)[2], "").ok());  // "c d" has none active left

  std::vector<UserInfo> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = engine_->ListUsers("s", cursor, 1);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_LE(page->users.size(), 1u);
    seen.insert(seen.end(), page->users.begin(), page->users.end());
    cursor = page->next_cursor;
    ASSERT_LT(++pages, 10);
  } while (!cursor.empty());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].user, "a");
  EXPECT_EQ((std::vector<int64_t>{seen[0].memories, seen[0].first_time, seen[0].last_time}),
            (std::vector<int64_t>{2, 2000, 5000}));
  EXPECT_EQ(seen[1].user, "b/=");
  EXPECT_EQ(seen[2].user, "é");

  for (const std::string bad : {"c12", "u", "u!!", "zzz"}) {
    auto page = engine_->ListUsers("s", bad, 10);
    ASSERT_FALSE(page.ok()) << bad;
    EXPECT_EQ(page.status().field(), "cursor") << bad;
  }
  EXPECT_EQ(engine_->ListUsers("s", "", 0).status().field(), "limit");
  EXPECT_EQ(engine_->ListUsers("nope", "", 10).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, ListFiltersAndPaginatesWithoutGapsOrDuplicates) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 250; ++i) {
    MemoryInput in = Input("item " + std::to_string(i), i % 2 ? "odd" : "even");
    in.session_id = "s" + std::to_string(i % 5);
    in.agent_id = i < 100 ? "a1" : "a2";
    in.kind = i % 10 == 0 ? Kind::kFact : Kind::kEpisode;
    in.event_time = 1000000 + i * 1000;
    if (i % 7 == 0) in.tags = {"seven"};
    in.metadata =
        "{\"mod3\":" + std::to_string(i % 3) + ",\"name\":\"n" + std::to_string(i) + "\"}";
    batch.push_back(in);
  }
  ASSERT_TRUE(engine_->AddBatch("s", batch).ok());

  ListRequest req;
  req.limit = 100;
  std::vector<MemoryId> all;
  int pages = 0;
  for (;;) {
    auto page = engine_->List("s", req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& m : page->memories) all.push_back(m.id);
    if (page->next_cursor.empty()) break;
    req.cursor = page->next_cursor;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all.size(), 250u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<MemoryId>(all.begin(), all.end()).size(), 250u);

  auto count = [&](const Filter& f) {
    ListRequest r;
    r.filter = f;
    r.limit = 1000;
    auto page = engine_->List("s", r);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? static_cast<int>(page->memories.size()) : -1;
  };
  Filter f;
  f.user_id = "odd";
  EXPECT_EQ(count(f), 125);
  f = {};
  f.session_id = "s3";
  EXPECT_EQ(count(f), 50);
  f = {};
  f.agent_id = "a1";
  EXPECT_EQ(count(f), 100);
  f = {};
  f.kinds = {Kind::kFact};
  EXPECT_EQ(count(f), 25);
  f = {};
  f.time_from = 1000000 + 200 * 1000;
  f.time_to = 1000000 + 210 * 1000;
  EXPECT_EQ(count(f), 10);
  f = {};
  f.tags = {"seven"};
  EXPECT_EQ(count(f), 36);
  f = {};
  f.meta_equals = {{"mod3", "0"}};
  EXPECT_EQ(count(f), 84);
  f.meta_equals = {{"name", "\"n17\""}};
  EXPECT_EQ(count(f), 1);
  f.meta_equals = {{"name", "17"}};  // a number does not equal the string "n17"
  EXPECT_EQ(count(f), 0);

  ListRequest desc;
  desc.limit = 5;
  desc.descending = true;
  auto newest = engine_->List("s", desc);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->memories.front().id, all.back());

  ListRequest bad;
  bad.limit = 5000;
  EXPECT_EQ(engine_->List("s", bad).status().code(), StatusCode::kInvalidArgument);
  bad.limit = 10;
  bad.cursor = "garbage";
  EXPECT_EQ(engine_->List("s", bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, UpdateWritesANewVersionAndKeepsTheOldInHistory) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId id = MustAdd("s", Input("I live in Berlin"));
  clock_->Advance(1000);
  MemoryUpdate u;
  u.text = "I live in Lisbon";
  u.reason = "moved";
  u.tags = std::vector<std::string>{"home"};
  auto updated = engine_->Update("s", id, u);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->text, "I live in Lisbon");
  EXPECT_EQ(updated->updated_at, clock_->NowMillis());

  auto h = engine_->History("s", id);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].op, HistoryOp::kAdd);
  EXPECT_EQ((*h)[0].before, "");
  EXPECT_NE((*h)[0].after.find("Berlin"), std::string::npos);
  EXPECT_EQ((*h)[1].op, HistoryOp::kUpdate);
  EXPECT_EQ((*h)[1].reason, "moved");
  EXPECT_NE((*h)[1].before.find("Berlin"), std::string::npos);
  EXPECT_NE((*h)[1].after.find("Lisbon"), std::string::npos);

  SearchRequest q;
  q.query = "Berlin";
  q.lexical_weight = 1;
  q.vector_weight = 0;
  EXPECT_TRUE(SearchIds("s", q).empty());
  q.query = "Lisbon";
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{id});

  MemoryUpdate bad;
  bad.text = "";
  EXPECT_EQ(engine_->Update("s", id, bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Update("s", id + 1, u).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Get("s", id)->version, 2);
}

TEST_F(EngineTest, RemoveRetiresButKeepsHistory) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId id = MustAdd("s", Input("temporary note about kayaks"));
  MustAdd("s", Input("another note"));
  ASSERT_TRUE(engine_->Remove("s", id, "obsolete").ok());
  EXPECT_TRUE(engine_->Remove("s", id, "again").ok());  // idempotent
  auto m = engine_->Get("s", id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->state, State::kRetired);
  EXPECT_TRUE(m->expired_at.has_value());

  SearchRequest q;
  q.query = "kayaks";
  auto contains = [](const std::vector<MemoryId>& v, MemoryId x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  EXPECT_FALSE(contains(SearchIds("s", q), id));
  q.filter.include_retired = true;
  EXPECT_EQ(SearchIds("s", q).front(), id);

  ListRequest l;
  EXPECT_EQ(engine_->List("s", l)->memories.size(), 1u);
  l.filter.include_retired = true;
  EXPECT_EQ(engine_->List("s", l)->memories.size(), 2u);

  auto h = engine_->History("s", id);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].op, HistoryOp::kRemove);
  EXPECT_EQ((*h)[1].reason, "obsolete");
  MemoryUpdate u;
  u.text = "revive";
  EXPECT_EQ(engine_->Update("s", id, u).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->Remove("s", id + 99, "").code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, RemoveManyRetiresAllInOneTransaction) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId a = MustAdd("s", Input("first"));
  const MemoryId b = MustAdd("s", Input("second"));
  const MemoryId c = MustAdd("s", Input("third"));
  ASSERT_TRUE(engine_->Remove("s", b, "").ok());
  // b is retired already and 12345 does not exist: both are skipped, not errors.
  auto n = engine_->RemoveMany("s", {a, b, 12345, c}, "erasure request");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(ActiveCount("s"), 0);
  auto h = engine_->History("s", c);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->back().reason, "erasure request");
  // A bad argument changes nothing.
  const MemoryId d = MustAdd("s", Input("fourth"));
  EXPECT_EQ(engine_->RemoveMany("s", {d}, std::string(10000, 'r')).status().code(),
            StatusCode::kTooLarge);
  EXPECT_EQ(ActiveCount("s"), 1);
  EXPECT_EQ(*engine_->RemoveMany("s", {}, ""), 0);
}

// Audit finding (issue 17): a memory of alice naming bob's episode among its sources was
// erased by the purge of that episode. Sources are now checked at write (each a memory of
// the same user, at most 64, no repeats), and a purge never takes another user's memory.
TEST_F(EngineTest, AuditPurgeNeverCrossesUsersAndSourcesAreChecked) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const MemoryId bobs = MustAdd("s", Input("bob's diary entry", "bob"));
  const MemoryId alices = MustAdd("s", Input("alice's note", "alice"));
  auto with_sources = [&](std::vector<MemoryId> sources) {
    MemoryInput in = Input("alice's derived fact", "alice");
    in.sources = std::move(sources);
    return engine_->Add("s", in);
  };
  const auto before = engine_->Stats("s")->memories_active;
  for (const auto& [sources, code] : std::vector<std::pair<std::vector<MemoryId>, StatusCode>>{
           {{bobs}, StatusCode::kInvalidArgument},
           {{alices, bobs}, StatusCode::kInvalidArgument},
           {{alices + 999}, StatusCode::kInvalidArgument},
           {{(MemoryId{1} << 60)}, StatusCode::kInvalidArgument},
           {{alices, alices}, StatusCode::kInvalidArgument},
           {std::vector<MemoryId>(65, alices), StatusCode::kTooLarge}}) {
    auto r = with_sources(sources);
    ASSERT_FALSE(r.ok()) << sources.size();
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_EQ(r.status().field(), "sources") << r.status().ToString();
  }
  EXPECT_EQ(engine_->Stats("s")->memories_active, before) << "a refused add wrote nothing";
  // In a batch the field names the item.
  std::vector<MemoryInput> batch = {Input("fine", "alice"), Input("bad", "alice")};
  batch[1].sources = {bobs};
  auto b = engine_->AddBatch("s", batch);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().field(), "[1].sources");

  // The user's own sources are fine, and purging one takes what was derived from it.
  auto derived = with_sources({alices});
  ASSERT_TRUE(derived.ok()) << derived.status().ToString();
  auto erased = engine_->Purge("s", alices, "request");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(*erased, (std::vector<MemoryId>{alices, *derived}));

  // Data from before the check (here through an edited export): alice's memory derived
  // from bob's survives the purge of bob's.
  const MemoryId legacy = *with_sources({});
  std::ostringstream out;
  ASSERT_TRUE(engine_->Export("s", out).ok());
  std::string text = out.str();
  const std::string link = R"({"type":"link","link":{"from":)" + std::to_string(legacy) +
                           R"(,"to":)" + std::to_string(bobs) +
                           R"(,"type":"derived_from","weight":1.0}})";
  const size_t end = text.find(R"({"type":"end")");
  ASSERT_NE(end, std::string::npos);
  std::string head = text.substr(0, end) + link + "\n";
  auto tail = util::ParseJson(text.substr(end));
  ASSERT_TRUE(tail.ok());
  (*tail)["links"] = (*tail)["links"].template get<int64_t>() + 1;
  (*tail)["crc32"] = crc32(0, reinterpret_cast<const Bytef*>(head.data()), head.size());
  std::istringstream in(head + util::DumpJson(*tail) + "\n");
  auto imported = engine_->Import("t", in);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto purged = engine_->Purge("t", bobs, "bob's request");
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, std::vector<MemoryId>{bobs});
  EXPECT_TRUE(engine_->Get("t", legacy).ok());
}

TEST_F(EngineTest, PurgeErasesTheTextFromEveryFile) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  const std::string secret = "zanzibarquokka";
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(Input("filler memory " + std::to_string(i)));
  ASSERT_TRUE(engine_->AddBatch("s", batch).ok());
  const MemoryId id = MustAdd("s", Input("my bank pin is " + secret));
  MemoryUpdate u;
  u.text = "my bank pin is " + secret + " still";
  ASSERT_TRUE(engine_->Update("s", id, u).ok());
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  Reopen();  // the snapshot on disk now holds the vector
  ASSERT_TRUE(AnyFileContains(dir_.path(), secret));

  ASSERT_TRUE(engine_->Purge("s", id, "user request").ok());
  EXPECT_FALSE(AnyFileContains(dir_.path(), secret));
  auto g = engine_->Get("s", id);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_NE(g.status().message().find("purged"), std::string::npos);
  // Every call about the purged id says so, not only Get.
  MemoryUpdate again;
  again.text = "new text";
  for (const Status& s : {engine_->Update("s", id, again).status(), engine_->Remove("s", id, ""),
                          engine_->Purge("s", id, "").status(), engine_->Links("s", id).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_NE(s.message().find("was purged"), std::string::npos) << s.message();
  }
  auto h = engine_->History("s", id);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->back().op, HistoryOp::kPurge);
  for (const auto& e : *h) {
    EXPECT_EQ(e.before.find(secret), std::string::npos);
    EXPECT_EQ(e.after.find(secret), std::string::npos);
  }
  SearchRequest q;
  q.query = secret;
  q.filter.include_retired = true;
  auto found = SearchIds("s", q);
  EXPECT_EQ(std::find(found.begin(), found.end(), id), found.end());
  EXPECT_EQ(ActiveCount("s"), 50);
  Reopen();
  EXPECT_FALSE(AnyFileContains(dir_.path(), secret));
  EXPECT_EQ(ActiveCount("s"), 50);
  // Ids are never reused, even after the newest memory was purged.
  EXPECT_GT(MustAdd("s", Input("after purge")), id);
}

TEST_F(EngineTest, IngestLinksMessagesInSessionOrder) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  std::vector<Message> msgs;
  for (int i = 0; i < 4; ++i) {
    Message m;
    m.session = i < 2 ? "a" : "b";
    m.role = i % 2 ? "assistant" : "user";
    m.text = "message " + std::to_string(i);
    m.time = 1000 * i;
    m.meta = R"({"turn":)" + std::to_string(i) + "}";
    msgs.push_back(m);
  }
  auto r = engine_->Ingest("s", "u1", msgs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->ids.size(), 4u);
  auto m1 = engine_->Get("s", r->ids[1]);
  ASSERT_TRUE(m1.ok());
  EXPECT_EQ(m1->kind, Kind::kEpisode);
  EXPECT_EQ(m1->role, "assistant");
  EXPECT_EQ(m1->origin, Origin::kAssistant);
  EXPECT_EQ(m1->event_time, 1000);
  EXPECT_EQ(m1->metadata, R"({"turn":1})");
  auto links = engine_->Links("s", r->ids[0]);
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].type, LinkType::kNext);
  EXPECT_EQ((*links)[0].to, r->ids[1]);
  EXPECT_TRUE(engine_->Links("s", r->ids[2])->size() == 1u);  // b starts fresh: only 2 -> 3

  // A later batch continues the session chain.
  Message more;
  more.session = "a";
  more.role = "user";
  more.text = "later message";
  auto r2 = engine_->Ingest("s", "u1", {more});
  ASSERT_TRUE(r2.ok());
  auto l1 = engine_->Links("s", r->ids[1]);
  ASSERT_TRUE(l1.ok());
  bool linked = false;
  for (const auto& l : *l1) linked = linked || (l.from == r->ids[1] && l.to == r2->ids[0]);
  EXPECT_TRUE(linked);
}

TEST_F(EngineTest, DataSurvivesReopen) {
  ASSERT_TRUE(engine_->CreateSpace("s").ok());
  std::vector<MemoryInput> batch;
  for (int i = 0; i < 300; ++i) batch.push_back(Input("durable fact number " + std::to_string(i)));
  auto ids = engine_->AddBatch("s", batch);
  ASSERT_TRUE(ids.ok());
  const MemoryId special = MustAdd("s", Input("the lighthouse keeper plays the oboe"));
  Reopen();
  EXPECT_EQ(ActiveCount("s"), 301);
  EXPECT_EQ(engine_->Get("s", (*ids)[150])->text, "durable fact number 150");
  SearchRequest q;
  q.query = "oboe lighthouse";
  EXPECT_EQ(SearchIds("s", q).front(), special);
  q.lexical_weight = 0;  // vector signal alone, from the replayed or loaded index
  EXPECT_EQ(SearchIds("s", q).front(), special);
  auto stats = engine_->Stats("s");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->vectors_indexed + stats->vectors_pending, 301);
}

}  // namespace
}  // namespace mnemo::testing
