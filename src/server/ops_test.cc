// Operations of the network faces (ops.h) and the REST router (rest.h), against a real
// Engine in a temporary directory.
#include "server/ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine_test_util.h"
#include "mnemo/search_params.h"
#include "server/openapi.h"
#include "server/rest.h"

namespace mnemo::server {
namespace {

using util::Json;
using Op = ApiResult<Json> (*)(const ops::Context&, const Json&);

template <typename T>
::testing::AssertionResult IsError(const ApiResult<T>& r, int status, std::string_view code,
                                   std::string_view field) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded; expected " << status;
  const ApiError& e = r.error();
  if (e.http_status != status || e.code != code || e.field != field) {
    return ::testing::AssertionFailure()
           << e.http_status << " " << e.code << " field \"" << e.field << "\": " << e.message;
  }
  return ::testing::AssertionSuccess();
}

class OpsTest : public mnemo::testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("a").ok());
    ASSERT_TRUE(engine_->CreateSpace("b").ok());
    admin_.unrestricted = true;
    reader_ = {"reader", false, {{"a", Role::kRead}}, ""};
    writer_ = {"writer", false, {{"a", Role::kWrite}}, ""};
    a_admin_ = {"a-admin", false, {{"a", Role::kAdmin}}, ""};
    limits_.max_text_bytes = 1000;
    limits_.max_batch = 3;
    limits_.max_k = 20;
    limits_.max_list_limit = 50;
  }

  ops::Context Ctx(const Principal& p) { return ops::Context{*engine_, p, limits_, "http:test"}; }

  ApiResult<Json> Run(Op op, const Json& args, const Principal* p = nullptr) {
    return op(Ctx(p ? *p : admin_), args);
  }

  Json Must(Op op, const Json& args, const Principal* p = nullptr) {
    auto r = Run(op, args, p);
    if (!r.ok()) {
      ADD_FAILURE() << r.error().code << " (" << r.error().field << "): " << r.error().message;
      return Json();
    }
    return r.value();
  }

  MemoryId AddText(const std::string& space, const std::string& text, std::string user = "u1") {
    return MustAdd(space, Input(text, std::move(user)));
  }

  Principal admin_;
  Principal reader_;
  Principal writer_;
  Principal a_admin_;
  Limits limits_;
};

// --- spaces ------------------------------------------------------------------------------

TEST_F(OpsTest, ListSpacesShowsOnlySpacesTheKeyHasARoleOn) {
  AddText("a", "hello");
  EXPECT_EQ(Must(ops::ListSpaces, Json::object()),
            Json::parse(R"({"spaces":[{"name":"a","memories":1},{"name":"b","memories":0}]})"));
  EXPECT_EQ(Must(ops::ListSpaces, Json::object(), &reader_),
            Json::parse(R"({"spaces":[{"name":"a","memories":1}]})"));
  EXPECT_TRUE(IsError(Run(ops::ListSpaces, {{"space", "a"}}), 422, "invalid_argument", "space"));
  EXPECT_TRUE(IsError(Run(ops::ListSpaces, Json::array()), 422, "invalid_argument", ""));
}

TEST_F(OpsTest, CreateSpaceNeedsAdminOnTheName) {
  EXPECT_EQ(Must(ops::CreateSpace, {{"name", "c"}}), Json({{"name", "c"}}));
  EXPECT_TRUE(IsError(Run(ops::CreateSpace, {{"name", "c"}}), 409, "already_exists", "name"));
  EXPECT_TRUE(IsError(Run(ops::CreateSpace, {{"name", ".x"}}), 422, "invalid_argument", "name"));
  EXPECT_TRUE(IsError(Run(ops::CreateSpace, Json::object()), 422, "invalid_argument", "name"));
  EXPECT_TRUE(IsError(Run(ops::CreateSpace, {{"name", 3}}), 422, "invalid_argument", "name"));
  EXPECT_TRUE(
      IsError(Run(ops::CreateSpace, {{"name", "d"}, {"x", 1}}), 422, "invalid_argument", "x"));
  EXPECT_TRUE(IsError(Run(ops::CreateSpace, {{"name", "d"}}, &a_admin_), 403, "forbidden", "name"));
  EXPECT_TRUE(IsError(Run(ops::CreateSpace, {{"name", "d"}}, &writer_), 403, "forbidden", "name"));
  const Principal star_admin{"star", false, {{"*", Role::kAdmin}}, ""};
  EXPECT_EQ(Must(ops::CreateSpace, {{"name", "d"}}, &star_admin), Json({{"name", "d"}}));
  const Principal d_admin{"d", false, {{"e", Role::kAdmin}}, ""};
  EXPECT_EQ(Must(ops::CreateSpace, {{"name", "e"}}, &d_admin), Json({{"name", "e"}}));
}

TEST_F(OpsTest, GetSpaceReturnsStats) {
  AddText("a", "hello");
  Json stats = Must(ops::GetSpace, {{"space", "a"}}, &reader_);
  EXPECT_EQ(stats["space"], "a");
  EXPECT_EQ(stats["memories_active"], 1);
  EXPECT_TRUE(IsError(Run(ops::GetSpace, {{"space", "nope"}}), 404, "not_found", "space"));
  EXPECT_TRUE(IsError(Run(ops::GetSpace, Json::object()), 422, "invalid_argument", "space"));
  EXPECT_TRUE(IsError(Run(ops::GetSpace, {{"space", true}}), 422, "invalid_argument", "space"));
}

TEST_F(OpsTest, DropSpaceNeedsAdmin) {
  EXPECT_TRUE(IsError(Run(ops::DropSpace, {{"space", "a"}}, &writer_), 403, "forbidden", "space"));
  EXPECT_EQ(Must(ops::DropSpace, {{"space", "a"}}, &a_admin_),
            Json({{"name", "a"}, {"dropped", true}}));
  EXPECT_TRUE(IsError(Run(ops::DropSpace, {{"space", "a"}}), 404, "not_found", "space"));
  EXPECT_EQ(Must(ops::ListSpaces, Json::object())["spaces"].size(), 1u);
}

// --- memories ----------------------------------------------------------------------------

TEST_F(OpsTest, AddMemoryReturnsTheStoredMemory) {
  Json m = Must(ops::AddMemory, Json::parse(R"({"space":"a","text":"likes green tea",
      "user":"u1","kind":"preference","role":"assistant","time":"2024-05-08T13:56:00Z",
      "tags":["drinks"],"entities":["tea"],"meta":{"n":1},"importance":0.75})"),
                &writer_);
  EXPECT_GT(m["id"].get<int64_t>(), 0);
  EXPECT_EQ(m["text"], "likes green tea");
  EXPECT_EQ(m["kind"], "preference");
  EXPECT_EQ(m["origin"], "assistant");
  EXPECT_EQ(m["time"], "2024-05-08T13:56:00Z");
  EXPECT_EQ(m["tags"], Json({"drinks"}));
  EXPECT_EQ(m["meta"], Json({{"n", 1}}));
  EXPECT_EQ(m["version"], 1);
  EXPECT_EQ(ActiveCount("a"), 1);
}

TEST_F(OpsTest, AddMemoryRejectsBadArgumentsNamingTheField) {
  const Json ok = {{"space", "a"}, {"text", "t"}, {"user", "u1"}};
  auto with = [&](const char* key, Json value) {
    Json j = ok;
    j[key] = std::move(value);
    return Run(ops::AddMemory, j);
  };
  EXPECT_TRUE(IsError(with("colour", "red"), 422, "invalid_argument", "colour"));
  EXPECT_TRUE(IsError(with("text", 5), 422, "invalid_argument", "text"));
  EXPECT_EQ(with("text", 5).error().message, "expected string for \"text\"");
  EXPECT_TRUE(IsError(with("kind", "gossip"), 422, "invalid_argument", "kind"));
  EXPECT_TRUE(IsError(with("time", "yesterday"), 422, "invalid_argument", "time"));
  EXPECT_TRUE(IsError(with("importance", "high"), 422, "invalid_argument", "importance"));
  EXPECT_TRUE(IsError(with("importance", 2), 422, "invalid_argument", "importance"));
  EXPECT_TRUE(IsError(with("tags", "a,b"), 422, "invalid_argument", "tags"));
  EXPECT_TRUE(IsError(with("meta", "{}"), 422, "invalid_argument", "meta"));
  EXPECT_TRUE(IsError(with("sources", Json({0})), 422, "invalid_argument", "sources"));
  EXPECT_TRUE(IsError(with("text", ""), 422, "invalid_argument", "text"));
  EXPECT_TRUE(IsError(with("text", std::string(1001, 'x')), 413, "too_large", "text"));
  EXPECT_TRUE(IsError(with("space", 7), 422, "invalid_argument", "space"));
  EXPECT_TRUE(IsError(Run(ops::AddMemory, {{"space", "a"}, {"text", "t"}}), 422, "invalid_argument",
                      "user"));
  EXPECT_TRUE(IsError(Run(ops::AddMemory, {{"space", "a"}, {"user", "u"}}), 422, "invalid_argument",
                      "text"));
  EXPECT_TRUE(IsError(Run(ops::AddMemory, Json::array()), 422, "invalid_argument", ""));
  EXPECT_TRUE(IsError(Run(ops::AddMemory, {{"space", "nope"}, {"text", "t"}, {"user", "u"}}), 404,
                      "not_found", "space"));
  EXPECT_EQ(ActiveCount("a"), 0);
}

TEST_F(OpsTest, AddMemoriesIsAllOrNothing) {
  Json items = Json::parse(R"([{"text":"one","user":"u1"},{"text":"two","user":"u1"}])");
  Json r = Must(ops::AddMemories, {{"space", "a"}, {"memories", items}});
  ASSERT_EQ(r["ids"].size(), 2u);
  EXPECT_LT(r["ids"][0].get<int64_t>(), r["ids"][1].get<int64_t>());

  auto batch = [&](Json memories) {
    return Run(ops::AddMemories, {{"space", "a"}, {"memories", std::move(memories)}});
  };
  auto bad_type = batch(Json::parse(R"([{"text":"x","user":"u1"},{"text":1,"user":"u1"}])"));
  EXPECT_TRUE(IsError(bad_type, 422, "invalid_argument", "memories[1].text"));
  EXPECT_EQ(bad_type.error().message, "memories[1]: expected string for \"text\"");
  EXPECT_TRUE(IsError(batch(Json::parse(R"([{"text":"x","user":"u1"},{"text":"","user":"u1"}])")),
                      422, "invalid_argument", "memories[1].text"));
  EXPECT_TRUE(IsError(batch(Json::parse(R"([{"text":"","user":"u1"}])")), 422, "invalid_argument",
                      "memories[0].text"));
  EXPECT_TRUE(IsError(batch(Json::parse(R"([{"text":"x","user":"u1","x":1}])")), 422,
                      "invalid_argument", "memories[0].x"));
  EXPECT_TRUE(IsError(batch(Json::array({{{"text", std::string(1001, 'x')}, {"user", "u"}}})), 413,
                      "too_large", "memories[0].text"));
  EXPECT_TRUE(IsError(batch(Json::parse(R"([{"text":"1","user":"u"},{"text":"2","user":"u"},
      {"text":"3","user":"u"},{"text":"4","user":"u"}])")),
                      413, "too_large", "memories"));
  EXPECT_TRUE(IsError(batch(Json::array()), 422, "invalid_argument", "memories"));
  EXPECT_TRUE(IsError(batch(Json::object()), 422, "invalid_argument", "memories"));
  EXPECT_TRUE(
      IsError(Run(ops::AddMemories, {{"space", "a"}}), 422, "invalid_argument", "memories"));
  EXPECT_EQ(ActiveCount("a"), 2);
}

// Secrets in a memory's text are revealed to the admin role only.
TEST_F(OpsTest, RevealNeedsAdmin) {
  const MemoryId id = AddText("a", "my password is hunter2quokka");
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", id}}, &reader_)["text"],
            "my password is [secret 1: password]");
  EXPECT_TRUE(IsError(Run(ops::GetMemory, {{"space", "a"}, {"id", id}, {"reveal", true}}, &writer_),
                      403, "forbidden", "space"));
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", id}, {"reveal", true}}, &a_admin_)["text"],
            "my password is hunter2quokka");
}

TEST_F(OpsTest, GetMemoryAcceptsIntegerAndDecimalStringIds) {
  const MemoryId id = AddText("a", "hello");
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", id}}, &reader_)["text"], "hello");
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", std::to_string(id)}})["id"], id);
  auto missing = Run(ops::GetMemory, {{"space", "a"}, {"id", id + 1}});
  EXPECT_TRUE(IsError(missing, 404, "not_found", "id"));
  for (const Json& bad : {Json("abc"), Json(-1), Json(0), Json(1.5), Json("12x"), Json(true),
                          Json("-5"), Json(""), Json("99999999999999999999")}) {
    EXPECT_TRUE(
        IsError(Run(ops::GetMemory, {{"space", "a"}, {"id", bad}}), 422, "invalid_argument", "id"))
        << bad.dump();
  }
  EXPECT_TRUE(IsError(Run(ops::GetMemory, {{"space", "a"}}), 422, "invalid_argument", "id"));
  EXPECT_TRUE(IsError(Run(ops::GetMemory, {{"space", "a"}, {"id", id}, {"text", "x"}}), 422,
                      "invalid_argument", "text"));
}

TEST_F(OpsTest, ListMemoriesPagesAndFilters) {
  std::vector<MemoryId> ids;
  for (const char* t : {"one", "two", "three"}) {
    ids.push_back(AddText("a", t));
    clock_->Advance(1000);
  }
  MemoryInput fact = Input("a fact");
  fact.kind = Kind::kFact;
  const MemoryId fact_id = MustAdd("a", fact);

  Json page = Must(ops::ListMemories, {{"space", "a"}, {"limit", 2}}, &reader_);
  ASSERT_EQ(page["memories"].size(), 2u);
  EXPECT_EQ(page["memories"][0]["id"], ids[0]);
  ASSERT_NE(page["next_cursor"], "");
  Json rest = Must(ops::ListMemories,
                   {{"space", "a"}, {"limit", 2}, {"cursor", page["next_cursor"]}}, &reader_);
  EXPECT_EQ(rest["memories"].size(), 2u);
  EXPECT_EQ(rest["next_cursor"], "");

  Json desc = Must(ops::ListMemories, {{"space", "a"}, {"descending", true}});
  EXPECT_EQ(desc["memories"][0]["id"], fact_id);
  Json facts = Must(ops::ListMemories, {{"space", "a"}, {"kinds", {"fact"}}});
  ASSERT_EQ(facts["memories"].size(), 1u);
  EXPECT_EQ(facts["memories"][0]["id"], fact_id);
  EXPECT_EQ(Must(ops::ListMemories, {{"space", "a"}})["memories"].size(), 4u);  // default page

  EXPECT_TRUE(IsError(Run(ops::ListMemories, {{"space", "a"}, {"limit", 51}}), 422,
                      "invalid_argument", "limit"));
  EXPECT_TRUE(IsError(Run(ops::ListMemories, {{"space", "a"}, {"limit", 0}}), 422,
                      "invalid_argument", "limit"));
  EXPECT_TRUE(IsError(Run(ops::ListMemories, {{"space", "a"}, {"limit", "2"}}), 422,
                      "invalid_argument", "limit"));
  EXPECT_TRUE(IsError(Run(ops::ListMemories, {{"space", "a"}, {"kinds", {"gossip"}}}), 422,
                      "invalid_argument", "kinds"));
  EXPECT_TRUE(IsError(Run(ops::ListMemories, {{"space", "a"}, {"order", "desc"}}), 422,
                      "invalid_argument", "order"));
  EXPECT_TRUE(IsError(Run(ops::ListMemories, {{"space", "a"}, {"cursor", "zz"}}), 422,
                      "invalid_argument", "cursor"));
}

TEST_F(OpsTest, UpdateMemoryWritesANewVersionWithActorAndReason) {
  const MemoryId id = AddText("a", "lives in Paris");
  Json m = Must(ops::UpdateMemory,
                {{"space", "a"},
                 {"id", id},
                 {"text", "lives in Lisbon"},
                 {"valid_to", "2030-01-01"},
                 {"reason", "moved"}},
                &writer_);
  EXPECT_EQ(m["text"], "lives in Lisbon");
  EXPECT_EQ(m["version"], 2);
  EXPECT_EQ(m["valid_to"], "2030-01-01T00:00:00Z");
  Json cleared = Must(ops::UpdateMemory, {{"space", "a"}, {"id", id}, {"valid_to", nullptr}});
  EXPECT_TRUE(cleared["valid_to"].is_null());

  Json history = Must(ops::MemoryHistory, {{"space", "a"}, {"id", id}})["history"];
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1]["op"], "update");
  EXPECT_EQ(history[1]["actor"], "http:test");
  EXPECT_EQ(history[1]["reason"], "moved");

  auto update = [&](Json change) {
    Json args = {{"space", "a"}, {"id", id}};
    args.update(change);
    return Run(ops::UpdateMemory, args);
  };
  EXPECT_TRUE(IsError(update(Json::object()), 422, "invalid_argument", ""));
  EXPECT_TRUE(IsError(update({{"reason", "x"}}), 422, "invalid_argument", ""));
  EXPECT_TRUE(IsError(update({{"importance", "high"}}), 422, "invalid_argument", "importance"));
  EXPECT_TRUE(IsError(update({{"text", nullptr}}), 422, "invalid_argument", "text"));
  EXPECT_TRUE(IsError(update({{"tier", "hot"}}), 422, "invalid_argument", "tier"));
  EXPECT_TRUE(IsError(update({{"user", "u2"}}), 422, "invalid_argument", "user"));
  EXPECT_TRUE(IsError(update({{"text", std::string(1001, 'x')}}), 413, "too_large", "text"));
  EXPECT_TRUE(IsError(Run(ops::UpdateMemory, {{"space", "a"}, {"id", id + 1}, {"text", "x"}}), 404,
                      "not_found", "id"));
  EXPECT_EQ(Must(ops::UpdateMemory, {{"space", "a"}, {"id", id}, {"tier", "long_term"}})["tier"],
            "long_term");
  ASSERT_TRUE(engine_->Remove("a", id, "").ok());
  EXPECT_TRUE(IsError(update({{"text", "again"}}), 409, "failed_precondition", "id"));
}

TEST_F(OpsTest, DeleteMemoryRetiresAndPurgeNeedsAdmin) {
  const MemoryId id = AddText("a", "secret plan");
  EXPECT_TRUE(
      IsError(Run(ops::DeleteMemory, {{"space", "a"}, {"id", id}, {"purge", true}}, &writer_), 403,
              "forbidden", "space"));
  EXPECT_EQ(Must(ops::DeleteMemory, {{"space", "a"}, {"id", id}, {"reason", "stale"}}, &writer_),
            Json({{"id", id}, {"deleted", true}, {"purged", false}}));
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", id}})["state"], "retired");
  EXPECT_EQ(Must(ops::DeleteMemory, {{"space", "a"}, {"id", id}, {"purge", true}}, &a_admin_),
            Json({{"id", id}, {"deleted", true}, {"purged", true}, {"erased", {id}}}));
  EXPECT_TRUE(IsError(Run(ops::GetMemory, {{"space", "a"}, {"id", id}}), 404, "not_found", "id"));
  EXPECT_TRUE(
      IsError(Run(ops::DeleteMemory, {{"space", "a"}, {"id", id}}), 404, "not_found", "id"));
  EXPECT_TRUE(IsError(Run(ops::DeleteMemory, {{"space", "a"}, {"id", id}, {"purge", "yes"}}), 422,
                      "invalid_argument", "purge"));
  EXPECT_TRUE(IsError(Run(ops::DeleteMemory, {{"space", "a"}, {"id", id}, {"reason", 1}}), 422,
                      "invalid_argument", "reason"));
  EXPECT_TRUE(IsError(Run(ops::DeleteMemory, {{"space", "a"}, {"id", id}, {"force", true}}), 422,
                      "invalid_argument", "force"));
  EXPECT_FALSE(mnemo::testing::AnyFileContains(dir_.path(), "secret plan"));
}

TEST_F(OpsTest, IngestLinksMessagesAndReportsTheMessageAtFault) {
  Json r = Must(ops::Ingest, Json::parse(R"({"space":"a","user":"u1","messages":[
      {"session":"s1","role":"user","text":"I adopted a cat"},
      {"session":"s1","role":"assistant","text":"What is its name?"}]})"),
                &writer_);
  ASSERT_EQ(r["ids"].size(), 2u);
  Json links = Must(ops::MemoryLinks, {{"space", "a"}, {"id", r["ids"][1]}}, &reader_)["links"];
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0],
            Json({{"from", r["ids"][0]}, {"to", r["ids"][1]}, {"type", "next"}, {"weight", 1.0}}));
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", r["ids"][1]}})["origin"], "assistant");

  auto ingest = [&](Json args) {
    args["space"] = "a";
    return Run(ops::Ingest, args);
  };
  const Json one = Json::array({{{"role", "user"}, {"text", "hi"}}});
  EXPECT_TRUE(IsError(ingest({{"messages", one}}), 422, "invalid_argument", "user"));
  EXPECT_TRUE(IsError(ingest({{"user", ""}, {"messages", one}}), 422, "invalid_argument", "user"));
  EXPECT_TRUE(IsError(ingest({{"user", "u1"}}), 422, "invalid_argument", "messages"));
  EXPECT_TRUE(
      IsError(ingest({{"user", "u1"}, {"messages", "hi"}}), 422, "invalid_argument", "messages"));
  EXPECT_TRUE(IsError(ingest({{"user", "u1"}, {"messages", {one[0], {{"text", "no role"}}}}}), 422,
                      "invalid_argument", "messages[1].role"));
  EXPECT_TRUE(IsError(ingest({{"user", "u1"}, {"messages", {{{"role", "user"}, {"text", ""}}}}}),
                      422, "invalid_argument", "messages[0].text"));
  EXPECT_TRUE(
      IsError(ingest({{"user", "u1"},
                      {"messages", {{{"role", "user"}, {"text", std::string(1001, 'x')}}}}}),
              413, "too_large", "messages[0].text"));
  EXPECT_TRUE(IsError(ingest({{"user", "u1"}, {"messages", {one[0], one[0], one[0], one[0]}}}), 413,
                      "too_large", "messages"));
  EXPECT_TRUE(IsError(ingest({{"user", "u1"}, {"messages", one}, {"agent", "x"}}), 422,
                      "invalid_argument", "agent"));
  auto long_user = ingest({{"user", std::string(300, 'u')}, {"messages", {one[0], one[0]}}});
  EXPECT_TRUE(IsError(long_user, 413, "too_large", "user"));
  EXPECT_TRUE(long_user.error().message.starts_with("user is 300 bytes"))
      << long_user.error().message;
  EXPECT_EQ(ActiveCount("a"), 2);
}

TEST_F(OpsTest, HistoryAndLinksOfAnUnknownIdAreNotFound) {
  for (Op op : {ops::MemoryHistory, ops::MemoryLinks}) {
    EXPECT_TRUE(IsError(Run(op, {{"space", "a"}, {"id", 12345}}), 404, "not_found", "id"));
    EXPECT_TRUE(IsError(Run(op, {{"space", "a"}, {"id", "x"}}), 422, "invalid_argument", "id"));
  }
}

TEST_F(OpsTest, SearchFindsMemoriesAndChecksItsLimits) {
  const MemoryId tea = AddText("a", "Ann likes green tea");
  AddText("a", "Bob plays chess");
  Json r = Must(ops::Search, {{"space", "a"}, {"query", "green tea"}, {"k", 1}}, &reader_);
  ASSERT_EQ(r["results"].size(), 1u);
  EXPECT_EQ(r["results"][0]["id"], tea);
  EXPECT_TRUE(r["results"][0].contains("score"));

  auto search = [&](Json args) {
    args["space"] = "a";
    return Run(ops::Search, args);
  };
  EXPECT_TRUE(IsError(search({{"query", "tea"}, {"k", 21}}), 422, "invalid_argument", "k"));
  EXPECT_TRUE(IsError(search({{"query", "tea"}, {"k", 0}}), 422, "invalid_argument", "k"));
  EXPECT_TRUE(IsError(search({{"query", "tea"}, {"k", "3"}}), 422, "invalid_argument", "k"));
  EXPECT_TRUE(IsError(search(Json::object()), 422, "invalid_argument", "query"));
  EXPECT_TRUE(
      IsError(search({{"query", "tea"}, {"colour", 1}}), 422, "invalid_argument", "colour"));
  EXPECT_TRUE(
      IsError(search({{"query", "tea"}, {"kinds", {"gossip"}}}), 422, "invalid_argument", "kinds"));
  EXPECT_TRUE(IsError(search({{"query", std::string(1001, 'x')}}), 413, "too_large", "query"));
  EXPECT_TRUE(IsError(search({{"query", "tea"}, {"user", "u1"}, {"all_users", true}}), 422,
                      "invalid_argument", "all_users"));
  AddText("a", "Cy drinks tea", "u2");
  auto unscoped = search({{"query", "tea"}});
  EXPECT_TRUE(IsError(unscoped, 422, "invalid_argument", "user"));
  EXPECT_EQ(unscoped.error().message.find("--"), std::string::npos) << unscoped.error().message;
  Json all = Must(ops::Search, {{"space", "a"}, {"query", "tea"}, {"all_users", true}});
  std::vector<std::string> users;
  for (const auto& hit : all["results"]) users.push_back(hit["user"]);
  EXPECT_NE(std::find(users.begin(), users.end(), "u2"), users.end());
}

TEST_F(OpsTest, ExportReturnsTheSpaceAsJsonLines) {
  AddText("a", "exported memory");
  auto out = ops::Export(Ctx(reader_), {{"space", "a"}});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_NE(out.value().find("exported memory"), std::string::npos);
  EXPECT_TRUE(out.value().starts_with("{\"format\""));
  EXPECT_TRUE(IsError(ops::Export(Ctx(reader_), {{"space", "b"}}), 403, "forbidden", "space"));
  EXPECT_TRUE(IsError(ops::Export(Ctx(admin_), {{"space", "nope"}}), 404, "not_found", "space"));
  EXPECT_TRUE(IsError(ops::Export(Ctx(admin_), {{"space", "a"}, {"gzip", true}}), 422,
                      "invalid_argument", "gzip"));
}

// --- authorization -----------------------------------------------------------------------

TEST_F(OpsTest, ReadRoleCannotWrite) {
  const MemoryId id = AddText("a", "hello");
  const Json one = Json::array({{{"text", "x"}, {"user", "u1"}}});
  const std::vector<std::pair<Op, Json>> writes = {
      {ops::AddMemory, {{"space", "a"}, {"text", "x"}, {"user", "u1"}}},
      {ops::AddMemories, {{"space", "a"}, {"memories", one}}},
      {ops::Ingest,
       {{"space", "a"}, {"user", "u1"}, {"messages", {{{"role", "user"}, {"text", "x"}}}}}},
      {ops::UpdateMemory, {{"space", "a"}, {"id", id}, {"text", "changed"}}},
      {ops::DeleteMemory, {{"space", "a"}, {"id", id}}},
  };
  for (const auto& [op, args] : writes) {
    auto r = Run(op, args, &reader_);
    EXPECT_TRUE(IsError(r, 403, "forbidden", "space")) << args.dump();
    EXPECT_EQ(r.error().message,
              "this operation needs the write role on space \"a\"; this key has the read role");
  }
  auto purge = Run(ops::DeleteMemory, {{"space", "a"}, {"id", id}, {"purge", true}}, &writer_);
  EXPECT_NE(purge.error().message.find("needs the admin role on space \"a\""), std::string::npos);
  EXPECT_TRUE(IsError(Run(ops::DropSpace, {{"space", "a"}}, &writer_), 403, "forbidden", "space"));
  EXPECT_EQ(ActiveCount("a"), 1);
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", id}})["version"], 1);
}

// A key with every role on space "a" reaches nothing of space "b", nor learns whether a
// space exists: every operation is 403 and "b" is unchanged.
TEST_F(OpsTest, KeyOfOneSpaceCannotTouchAnother) {
  const MemoryId id = AddText("b", "b's memory");
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  auto before = engine_->Stats("b");
  ASSERT_TRUE(before.ok());
  for (const std::string space : {"b", "nope"}) {
    const Json target = {{"space", space}, {"id", id}};
    const std::vector<std::pair<Op, Json>> calls = {
        {ops::GetSpace, {{"space", space}}},
        {ops::DropSpace, {{"space", space}}},
        {ops::AddMemory, {{"space", space}, {"text", "x"}, {"user", "u1"}}},
        {ops::AddMemories,
         {{"space", space}, {"memories", Json::array({{{"text", "x"}, {"user", "u1"}}})}}},
        {ops::GetMemory, target},
        {ops::ListMemories, {{"space", space}}},
        {ops::UpdateMemory, {{"space", space}, {"id", id}, {"text", "changed"}}},
        {ops::DeleteMemory, target},
        {ops::DeleteMemory, {{"space", space}, {"id", id}, {"purge", true}}},
        {ops::MemoryHistory, target},
        {ops::MemoryLinks, target},
        {ops::Ingest,
         {{"space", space}, {"user", "u1"}, {"messages", {{{"role", "user"}, {"text", "x"}}}}}},
        {ops::Search, {{"space", space}, {"query", "memory"}}},
        {ops::CreateSpace, {{"name", space}}},
    };
    for (const auto& [op, args] : calls) {
      auto r = Run(op, args, &a_admin_);
      ASSERT_FALSE(r.ok()) << args.dump();
      EXPECT_EQ(r.error().http_status, 403) << args.dump() << ": " << r.error().message;
      EXPECT_EQ(r.error().code, "forbidden");
      EXPECT_NE(r.error().message.find("space \"" + space + "\""), std::string::npos);
      EXPECT_NE(r.error().message.find("this key has no role there"), std::string::npos);
    }
    EXPECT_TRUE(IsError(ops::Export(Ctx(a_admin_), {{"space", space}}), 403, "forbidden", "space"));
  }
  EXPECT_EQ(Must(ops::ListSpaces, Json::object(), &a_admin_)["spaces"].size(), 1u);
  auto after = engine_->Stats("b");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(util::StatsToJson(*after), util::StatsToJson(*before));
  EXPECT_EQ(engine_->Get("b", id)->version, 1);
  EXPECT_TRUE(IsError(Run(ops::GetSpace, {{"space", "nope"}}), 404, "not_found", "space"));
}

// An end-user key (bound to alice, admin on "a") on every operation, aimed at bob or at
// every user: 403, or the 404 of a missing memory for bob's memory by id; nothing changes.
// A key denied a sensitivity label (mnemo keys create --deny-labels health) never sees a
// memory carrying it: every operation is run, and none answers with its id or its words.
TEST_F(OpsTest, DeniedLabelKeySeesNoLabelledMemoryThroughAnyOperation) {
  MemoryInput health = Input("Maya was diagnosed with asthma in May", "maya");
  health.kind = Kind::kFact;
  health.metadata = R"({"slot":"condition","value":"asthma"})";
  const MemoryId secret = MustAdd("a", health);
  const MemoryId plain = AddText("a", "Maya lives in Oslo", "maya");
  ASSERT_EQ(engine_->Get("a", secret)->labels, LabelBit(Label::kHealth));
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  Principal denied = a_admin_;
  denied.key_id = "no-health";
  denied.deny_labels = LabelBit(Label::kHealth);
  const Json of_secret = {{"space", "a"}, {"id", secret}};
  const Json msg = Json::array({{{"role", "user"}, {"text", "hi"}}});
  const Json of_maya = {{"space", "a"}, {"user", "maya"}};
  auto with = [&](Json base, const Json& more) {
    for (const auto& [k, v] : more.items()) base[k] = v;
    return base;
  };
  enum Expect { kAnswer, kNotFound, kForbidden };
  struct Case {
    std::string op;
    Json args;
    Expect expect;
  };
  const std::vector<Case> cases = {
      {"list_keys", Json::object(), kForbidden},
      {"create_key", {{"name", "x"}, {"grants", {{"a", "read"}}}}, kForbidden},
      {"revoke_key", {{"id", "0badc0de"}}, kForbidden},
      {"list_spaces", Json::object(), kAnswer},
      {"create_space", {{"name", "c"}}, kForbidden},
      {"get_space", {{"space", "a"}}, kAnswer},
      {"drop_space", {{"space", "b"}}, kForbidden},
      {"add_memory", with(of_maya, {{"text", "Maya likes tea"}}), kAnswer},
      {"add_memories",
       {{"space", "a"}, {"memories", {{{"user", "maya"}, {"text", "y"}}}}},
       kAnswer},
      {"get_memory", of_secret, kNotFound},
      {"list_memories", of_maya, kAnswer},
      {"update_memory", with(of_secret, {{"text", "changed"}}), kNotFound},
      {"delete_memory", of_secret, kNotFound},
      {"memory_history", of_secret, kNotFound},
      {"memory_links", of_secret, kNotFound},
      {"memory_provenance", of_secret, kNotFound},
      {"ingest", with(of_maya, {{"messages", msg}}), kAnswer},
      {"search", with(of_maya, {{"query", "asthma diagnosed Maya"}}), kAnswer},
      {"list_users", {{"space", "a"}}, kAnswer},
      {"list_jobs", {{"space", "a"}}, kAnswer},
      {"retry_jobs", {{"space", "a"}, {"all", true}}, kAnswer},
      {"job_stats", {{"space", "a"}}, kAnswer},
      {"maintain", {{"space", "a"}}, kAnswer},
      {"get_profile", of_maya, kAnswer},
      {"edit_profile", with(of_maya, {{"set", {{"home_city", "oslo"}}}}), kAnswer},
      {"build_context", with(of_maya, {{"query", "what about Maya's asthma?"}}), kAnswer},
      {"export", of_maya, kForbidden},
      {"import", {{"space", "a"}, {"export", ""}}, kAnswer},
      {"delete_memories", of_maya, kAnswer},
      {"erase_user", {{"space", "a"}, {"user", "nobody"}}, kAnswer},
  };
  std::vector<std::string> covered;
  for (const Case& k : cases) covered.push_back(k.op);
  for (const ops::Operation& op : ops::Operations()) {
    EXPECT_NE(std::find(covered.begin(), covered.end(), op.name), covered.end())
        << op.name << " has no denied-label case";
  }
  const std::string id_text = std::to_string(secret);
  for (const Case& k : cases) {
    auto r = ops::Call(Ctx(denied), k.op, k.args);
    if (k.expect == kNotFound) {
      EXPECT_TRUE(IsError(r, 404, "not_found", "id")) << k.op;
    } else if (k.expect == kForbidden) {
      EXPECT_TRUE(!r.ok() && r.error().http_status == 403) << k.op;
    } else if (r.ok()) {
      const std::string answer = r.value().dump();
      EXPECT_EQ(answer.find("asthma"), std::string::npos) << k.op << ": " << answer;
      EXPECT_EQ(answer.find(id_text), std::string::npos) << k.op << ": " << answer;
    }
    if (k.expect == kAnswer && k.op != "import") {
      EXPECT_TRUE(r.ok()) << k.op;
    }
  }
  // The labelled memory is untouched (delete_memories removed what the key could see);
  // a key without the denial sees it.
  auto kept = engine_->Get("a", secret);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->state, State::kActive);
  EXPECT_EQ(kept->text, "Maya was diagnosed with asthma in May");
  EXPECT_EQ(engine_->Get("a", plain)->state, State::kRetired);
  EXPECT_EQ(Must(ops::GetMemory, of_secret, &a_admin_)["labels"], Json::array({"health"}));
}

TEST_F(OpsTest, EndUserKeyReachesNoOtherUserThroughAnyOperation) {
  const MemoryId bob = AddText("a", "bob lives in Paris", "bob");
  const MemoryId alice = AddText("a", "alice lives in Oslo", "alice");
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  const Principal bound{"alice-app", false, {{"a", Role::kAdmin}}, "alice"};
  const Json of_bob = {{"space", "a"}, {"id", bob}};
  const Json msg = Json::array({{{"role", "user"}, {"text", "hi"}}});
  struct Case {
    std::string op;
    Json args;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"list_keys", Json::object(), 403, ""},
      {"create_key", {{"name", "x"}, {"grants", {{"a", "read"}}}}, 403, ""},
      {"revoke_key", {{"id", "0badc0de"}}, 403, ""},
      {"create_space", {{"name", "a"}}, 403, ""},
      {"get_space", {{"space", "a"}}, 403, ""},
      {"drop_space", {{"space", "a"}}, 403, ""},
      {"add_memory", {{"space", "a"}, {"user", "bob"}, {"text", "x"}}, 403, "user"},
      {"add_memories",
       {{"space", "a"},
        {"memories", Json::array({{{"text", "x"}}, {{"user", "bob"}, {"text", "y"}}})}},
       403,
       "memories[1].user"},
      {"get_memory", of_bob, 404, "id"},
      {"list_memories", {{"space", "a"}, {"user", "bob"}}, 403, "user"},
      {"update_memory", {{"space", "a"}, {"id", bob}, {"text", "changed"}}, 404, "id"},
      {"delete_memory", of_bob, 404, "id"},
      {"delete_memories", {{"space", "a"}, {"user", "bob"}}, 403, "user"},
      {"memory_history", of_bob, 404, "id"},
      {"memory_links", of_bob, 404, "id"},
      {"memory_provenance", of_bob, 404, "id"},
      {"ingest", {{"space", "a"}, {"user", "bob"}, {"messages", msg}}, 403, "user"},
      {"search", {{"space", "a"}, {"user", "bob"}, {"query", "lives"}}, 403, "user"},
      {"list_users", {{"space", "a"}}, 403, ""},
      {"list_jobs", {{"space", "a"}}, 403, ""},
      {"retry_jobs", {{"space", "a"}, {"all", true}}, 403, ""},
      {"job_stats", {{"space", "a"}}, 403, ""},
      {"maintain", {{"space", "a"}}, 403, ""},
      {"get_profile", {{"space", "a"}, {"user", "bob"}}, 403, "user"},
      {"edit_profile",
       {{"space", "a"}, {"user", "bob"}, {"set", {{"home_city", "x"}}}},
       403,
       "user"},
      {"build_context", {{"space", "a"}, {"user", "bob"}, {"query", "lives"}}, 403, "user"},
      {"export", {{"space", "a"}, {"user", "bob"}}, 403, "user"},
      {"erase_user", {{"space", "a"}, {"user", "bob"}}, 403, "user"},
      {"import", {{"space", "a"}, {"export", ""}}, 403, ""},
  };
  std::vector<std::string> covered;
  for (const Case& k : cases) covered.push_back(k.op);
  for (const ops::Operation& op : ops::Operations()) {
    if (op.name == "list_spaces") continue;  // checked below: names without counts
    EXPECT_NE(std::find(covered.begin(), covered.end(), op.name), covered.end())
        << op.name << " has no end-user key case";
  }
  auto dump = [&] {
    auto r = ops::Call(Ctx(admin_), "export", {{"space", "a"}});
    return r.ok() ? r.value() : Json("export failed: " + r.error().message);
  };
  const Json before = dump();
  for (const Case& k : cases) {
    EXPECT_TRUE(IsError(ops::Call(Ctx(bound), k.op, k.args), k.status,
                        k.status == 404 ? "not_found" : "forbidden", k.field))
        << k.op << " " << k.args.dump();
  }
  EXPECT_TRUE(IsError(
      ops::Call(Ctx(bound), "search", {{"space", "a"}, {"all_users", true}, {"query", "lives"}}),
      403, "forbidden", "all_users"));
  // Another space is still a matter of roles.
  EXPECT_TRUE(IsError(ops::Call(Ctx(bound), "add_memory", {{"space", "b"}, {"text", "x"}}), 403,
                      "forbidden", "space"));
  EXPECT_EQ(dump(), before);
  EXPECT_EQ(engine_->Get("a", bob)->text, "bob lives in Paris");

  // What the key may do, it does as alice, with "user" left out or given as "alice".
  EXPECT_EQ(Must(ops::ListSpaces, Json::object(), &bound),
            Json::parse(R"({"spaces":[{"name":"a"}]})"));
  const Json added =
      Must(ops::AddMemory, {{"space", "a"}, {"text", "alice moved to Bergen"}}, &bound);
  EXPECT_EQ(added["user"], "alice");
  ASSERT_TRUE(engine_->WaitForIndexing().ok());
  for (const Json& args : {Json{{"space", "a"}, {"query", "lives moved"}},
                           Json{{"space", "a"}, {"query", "lives moved"}, {"user", "alice"}}}) {
    const Json hits = Must(ops::Search, args, &bound)["results"];
    ASSERT_FALSE(hits.empty());
    for (const Json& h : hits) EXPECT_EQ(h["user"], "alice") << h.dump();
  }
  const Json listed = Must(ops::ListMemories, {{"space", "a"}}, &bound)["memories"];
  EXPECT_EQ(listed.size(), 2u);
  for (const Json& m : listed) EXPECT_EQ(m["user"], "alice");
  EXPECT_EQ(Must(ops::GetMemory, {{"space", "a"}, {"id", alice}}, &bound)["user"], "alice");
  EXPECT_EQ(
      Must(ops::BuildContext, {{"space", "a"}, {"query", "where"}}, &bound)["profile"]["user"],
      "alice");
  // The key's export is its user's (a data subject may take their data along).
  auto own = ops::Export(Ctx(bound), {{"space", "a"}});
  ASSERT_TRUE(own.ok());
  EXPECT_NE(own.value().find("alice moved to Bergen"), std::string::npos);
  EXPECT_EQ(own.value().find("bob lives"), std::string::npos);
  EXPECT_EQ(Must(ops::DeleteMemories, {{"space", "a"}, {"reason", "mine"}}, &bound)["deleted"], 2);
  EXPECT_EQ(engine_->Get("a", bob)->state, State::kActive);
}

// --- REST --------------------------------------------------------------------------------

class RestTest : public OpsTest {
 protected:
  HttpResponse Call(std::string method, std::string path, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> query = {},
                    const Principal* p = nullptr) {
    HttpRequest req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.target = req.path;
    req.query = std::move(query);
    req.body = std::move(body);
    if (!req.body.empty()) req.headers.emplace_back("content-type", "application/json");
    return HandleRest(Ctx(p ? *p : admin_), req);
  }

  static Json BodyOf(const HttpResponse& r) {
    auto j = util::ParseJson(r.body);
    return j.ok() ? *j : Json("unparseable: " + r.body);
  }

  static ::testing::AssertionResult IsErrorResponse(const HttpResponse& r, int status,
                                                    std::string_view code, std::string_view field) {
    const Json body = BodyOf(r);
    const Json err = body.is_object() ? body.value("error", Json()) : Json();
    if (r.status != status || !err.is_object() || err.value("code", "") != code ||
        err.value("field", "") != field) {
      return ::testing::AssertionFailure() << r.status << " " << r.body;
    }
    return ::testing::AssertionSuccess();
  }
};

TEST_F(RestTest, SpaceRoutes) {
  HttpResponse r = Call("GET", "/v1/spaces");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/spaces");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(BodyOf(r)["spaces"].size(), 2u);

  r = Call("POST", "/v1/spaces", R"({"name":"c"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(BodyOf(r), Json({{"name", "c"}}));

  r = Call("GET", "/v1/spaces/c");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/spaces/{space}");
  EXPECT_EQ(BodyOf(r)["space"], "c");

  r = Call("DELETE", "/v1/spaces/c");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/spaces/{space}");
  EXPECT_TRUE(IsErrorResponse(Call("GET", "/v1/spaces/c"), 404, "not_found", "space"));
}

TEST_F(RestTest, MemoryRoutes) {
  HttpResponse r = Call("POST", "/v1/spaces/a/memories", R"({"text":"likes tea","user":"u1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.route, "/v1/spaces/{space}/memories");
  const std::string id = std::to_string(BodyOf(r)["id"].get<int64_t>());
  const std::string path = "/v1/spaces/a/memories/" + id;

  r = Call("GET", path);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/spaces/{space}/memories/{id}");
  EXPECT_EQ(BodyOf(r)["text"], "likes tea");

  r = Call("PATCH", path, R"({"text":"likes coffee","reason":"changed taste"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["version"], 2);

  r = Call("GET", path + "/history");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/spaces/{space}/memories/{id}/history");
  EXPECT_EQ(BodyOf(r)["history"].size(), 2u);

  r = Call("GET", path + "/links");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/spaces/{space}/memories/{id}/links");
  EXPECT_EQ(BodyOf(r), Json({{"links", Json::array()}}));

  r = Call("DELETE", path, "", {{"reason", "stale"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["purged"], false);
  EXPECT_EQ(engine_->History("a", std::stoll(id))->back().reason, "stale");
  r = Call("DELETE", path, "", {{"purge", "true"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["purged"], true);
  EXPECT_TRUE(IsErrorResponse(Call("GET", path), 404, "not_found", "id"));
  EXPECT_TRUE(IsErrorResponse(Call("DELETE", path, "", {{"purge", "yes"}}), 422, "invalid_argument",
                              "purge"));
  EXPECT_TRUE(
      IsErrorResponse(Call("GET", "/v1/spaces/a/memories/abc"), 422, "invalid_argument", "id"));
}

TEST_F(RestTest, BatchIngestSearchAndExportRoutes) {
  HttpResponse r = Call("POST", "/v1/spaces/a/memories/batch",
                        R"({"memories":[{"text":"Ann likes green tea","user":"u1"}]})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.route, "/v1/spaces/{space}/memories/batch");
  EXPECT_EQ(BodyOf(r)["ids"].size(), 1u);

  r = Call("POST", "/v1/spaces/a/ingest",
           R"({"user":"u1","messages":[{"role":"user","text":"I play chess"}]})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.route, "/v1/spaces/{space}/ingest");

  r = Call("POST", "/v1/spaces/a/search", R"({"query":"green tea","k":1})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.route, "/v1/spaces/{space}/search");
  ASSERT_EQ(BodyOf(r)["results"].size(), 1u);
  EXPECT_EQ(BodyOf(r)["results"][0]["text"], "Ann likes green tea");

  r = Call("GET", "/v1/spaces/a/export");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "/v1/spaces/{space}/export");
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  EXPECT_NE(r.body.find("I play chess"), std::string::npos);
  EXPECT_TRUE(IsErrorResponse(Call("GET", "/v1/spaces/b/export", "", {}, &writer_), 403,
                              "forbidden", "space"));
}

TEST_F(RestTest, ListQueryParametersAreTyped) {
  MemoryInput fact = Input("a fact");
  fact.kind = Kind::kFact;
  fact.tags = {"x", "y"};
  const MemoryId fact_id = MustAdd("a", fact);
  AddText("a", "an episode");
  const MemoryId retired = AddText("a", "retired one");
  ASSERT_TRUE(engine_->Remove("a", retired, "").ok());

  auto list = [&](std::vector<std::pair<std::string, std::string>> query) {
    return Call("GET", "/v1/spaces/a/memories", "", std::move(query));
  };
  HttpResponse r = list({{"kind", "fact,preference"}, {"tag", "x"}, {"tag", "y"}, {"limit", "5"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.route, "/v1/spaces/{space}/memories");
  ASSERT_EQ(BodyOf(r)["memories"].size(), 1u);
  EXPECT_EQ(BodyOf(r)["memories"][0]["id"], fact_id);
  EXPECT_EQ(BodyOf(list({{"kind", "summary"}, {"kind", "fact"}}))["memories"].size(), 1u);
  EXPECT_EQ(BodyOf(list({}))["memories"].size(), 2u);
  EXPECT_EQ(BodyOf(list({{"include_retired", "true"}}))["memories"].size(), 3u);
  EXPECT_EQ(BodyOf(list({{"order", "desc"}, {"include_retired", "true"}}))["memories"][0]["id"],
            retired);
  EXPECT_EQ(BodyOf(list({{"user", "u1"}, {"limit", "1"}}))["memories"].size(), 1u);

  EXPECT_TRUE(IsErrorResponse(list({{"limit", "ten"}}), 422, "invalid_argument", "limit"));
  EXPECT_TRUE(IsErrorResponse(list({{"limit", "0"}}), 422, "invalid_argument", "limit"));
  EXPECT_TRUE(
      IsErrorResponse(list({{"limit", "1"}, {"limit", "2"}}), 422, "invalid_argument", "limit"));
  EXPECT_TRUE(IsErrorResponse(list({{"include_retired", "yes"}}), 422, "invalid_argument",
                              "include_retired"));
  EXPECT_TRUE(IsErrorResponse(list({{"order", "up"}}), 422, "invalid_argument", "order"));
  EXPECT_TRUE(IsErrorResponse(list({{"kind", "gossip"}}), 422, "invalid_argument", "kind"));
  EXPECT_TRUE(IsErrorResponse(list({{"since", "yesterday"}}), 422, "invalid_argument", "since"));
  EXPECT_TRUE(IsErrorResponse(list({{"colour", "red"}}), 422, "invalid_argument", "colour"));
}

TEST_F(RestTest, UnknownPathIsNotFound) {
  for (const char* path : {"/v1", "/v1/nothing", "/v1/spaces/", "/v1/spaces/a/memories/1/extra",
                           "/v1/spaces//memories", "/v2/spaces"}) {
    HttpResponse r = Call("GET", path);
    EXPECT_TRUE(IsErrorResponse(r, 404, "not_found", "")) << path;
    EXPECT_EQ(BodyOf(r)["error"]["message"], std::string("no route for GET ") + path);
    EXPECT_EQ(r.route, kUnmatchedRoute);
  }
}

TEST_F(RestTest, WrongMethodIsNotAllowedWithAllowHeader) {
  struct Case {
    const char* method;
    const char* path;
    const char* route;
    const char* allow;
  };
  for (const Case& c :
       {Case{"PUT", "/v1/spaces", "/v1/spaces", "GET, POST"},
        Case{"GET", "/v1/spaces/a/memories/batch", "/v1/spaces/{space}/memories/batch", "POST"},
        Case{"POST", "/v1/spaces/a/memories/7", "/v1/spaces/{space}/memories/{id}",
             "GET, PATCH, DELETE"},
        Case{"GET", "/v1/spaces/a/search", "/v1/spaces/{space}/search", "POST"},
        Case{"HEAD", "/v1/spaces/a/export", "/v1/spaces/{space}/export", "GET"}}) {
    HttpResponse r = Call(c.method, c.path);
    EXPECT_TRUE(IsErrorResponse(r, 405, "method_not_allowed", "")) << c.path;
    EXPECT_EQ(r.route, c.route);
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0], std::make_pair(std::string("Allow"), std::string(c.allow)));
  }
}

TEST_F(RestTest, BodyRules) {
  HttpRequest req;
  req.method = "POST";
  req.path = "/v1/spaces/a/memories";
  req.body = R"({"text":"t","user":"u1"})";
  req.headers = {{"content-type", "text/plain"}};
  HttpResponse r = HandleRest(Ctx(admin_), req);
  EXPECT_TRUE(IsErrorResponse(r, 415, "unsupported_media_type", ""));
  EXPECT_EQ(r.route, "/v1/spaces/{space}/memories");
  req.headers = {{"content-type", "Application/JSON; charset=utf-8"}};
  EXPECT_EQ(HandleRest(Ctx(admin_), req).status, 201);
  req.headers.clear();  // no Content-Type: refused (a browser sends that to any site)
  EXPECT_TRUE(IsErrorResponse(HandleRest(Ctx(admin_), req), 415, "unsupported_media_type", ""));

  r = Call("POST", "/v1/spaces/a/memories", R"({"text": "t", )");
  EXPECT_TRUE(IsErrorResponse(r, 400, "malformed_json", ""));
  EXPECT_NE(BodyOf(r)["error"]["message"].get<std::string>().find("at byte"), std::string::npos);
  EXPECT_TRUE(IsErrorResponse(Call("POST", "/v1/spaces/a/search", ""), 400, "malformed_json", ""));
  EXPECT_TRUE(
      IsErrorResponse(Call("POST", "/v1/spaces/a/search", "[1]"), 422, "invalid_argument", ""));
  EXPECT_TRUE(IsErrorResponse(Call("PATCH", "/v1/spaces/a/memories/1", R"({"id":2,"text":"x"})"),
                              422, "invalid_argument", "id"));
  EXPECT_TRUE(IsErrorResponse(
      Call("POST", "/v1/spaces/a/memories", R"({"space":"b","text":"t","user":"u1"})"), 422,
      "invalid_argument", "space"));
  EXPECT_TRUE(
      IsErrorResponse(Call("GET", "/v1/spaces/a", R"({"x":1})"), 400, "malformed_request", ""));
  EXPECT_TRUE(IsErrorResponse(Call("DELETE", "/v1/spaces/a/memories/1", R"({"purge":true})"), 400,
                              "malformed_request", ""));
  EXPECT_TRUE(IsErrorResponse(Call("POST", "/v1/spaces/a/search", R"({"query":"x"})", {{"k", "3"}}),
                              422, "invalid_argument", "k"));
  EXPECT_TRUE(IsErrorResponse(Call("POST", "/v1/spaces/a/memories", R"({"text":"t","user":"u1",
      "colour":"red"})"),
                              422, "invalid_argument", "colour"));
  EXPECT_EQ(ActiveCount("a"), 1);
}

TEST_F(RestTest, RolesApplyThroughRest) {
  EXPECT_TRUE(IsErrorResponse(
      Call("POST", "/v1/spaces/a/memories", R"({"text":"t","user":"u"})", {}, &reader_), 403,
      "forbidden", "space"));
  EXPECT_TRUE(IsErrorResponse(Call("GET", "/v1/spaces/b/memories", "", {}, &reader_), 403,
                              "forbidden", "space"));
  EXPECT_TRUE(IsErrorResponse(Call("POST", "/v1/spaces", R"({"name":"z"})", {}, &a_admin_), 403,
                              "forbidden", "name"));
  EXPECT_EQ(Call("GET", "/v1/spaces/a/memories", "", {}, &reader_).status, 200);
}

// The search tuning parameters are described once (mnemo/search_params.h); the OpenAPI
// document must say the same, and name no weight the table lacks.
TEST(OpenApiTest, SearchParametersMatchTheTable) {
  auto doc = util::ParseJson(OpenApiDocument());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const auto& props = (*doc)["components"]["schemas"]["SearchRequest"]["properties"];
  for (const SearchParam& p : SearchParams()) {
    SCOPED_TRACE(p.name);
    ASSERT_TRUE(props.contains(p.name));
    const auto& prop = props[p.name];
    EXPECT_EQ(prop.value("type", ""), p.integer != nullptr ? "integer" : "number");
    EXPECT_DOUBLE_EQ(prop.value("minimum", -1.0), p.min);
    EXPECT_DOUBLE_EQ(prop.value("maximum", -1.0), p.max);
    EXPECT_DOUBLE_EQ(prop.value("default", -1.0), p.Default());
  }
  for (auto it = props.begin(); it != props.end(); ++it) {
    if (it.key().find("weight") != std::string::npos || it.key() == "rrf_k") {
      EXPECT_NE(FindSearchParam(it.key()), nullptr) << it.key() << " is not in SearchParams()";
    }
  }
}

// The engine checks the same ranges for every face: a request out of range is refused
// with the parameter's name, through REST as through the library.
TEST_F(RestTest, SearchParametersOutOfRangeNameTheField) {
  for (const SearchParam& p : SearchParams()) {
    const std::string body = std::string(R"({"query":"x","user":"u1",")") + p.name +
                             "\":" + (p.integer != nullptr ? "100001" : "1e9") + "}";
    EXPECT_TRUE(
        IsErrorResponse(Call("POST", "/v1/spaces/a/search", body), 422, "invalid_argument", p.name))
        << body;
  }
}

}  // namespace
}  // namespace mnemo::server
