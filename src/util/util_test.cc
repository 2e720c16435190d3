#include <gtest/gtest.h>

#include "util/json_codec.h"
#include "util/time_util.h"
#include "util/url.h"
#include "util/utf8.h"

namespace mnemo::util {
namespace {

TEST(TimeTest, ParsesCommonForms) {
  EXPECT_EQ(*ParseIso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseIso8601("2023-05-08T13:56:00Z"), 1683554160000);
  EXPECT_EQ(*ParseIso8601("2023-05-08 13:56:00"), 1683554160000);
  EXPECT_EQ(*ParseIso8601("2023-05-08T15:56:00+02:00"), 1683554160000);
  EXPECT_EQ(*ParseIso8601("2023-05-08T15:56:00+0200"), 1683554160000);
  EXPECT_EQ(*ParseIso8601("2023-05-08T13:56"), 1683554160000);
  EXPECT_EQ(*ParseIso8601("2023-05-08"), 1683504000000);
  EXPECT_EQ(*ParseIso8601("2023-05-08T13:56:00.25Z"), 1683554160250);
  EXPECT_EQ(*ParseIso8601("2023-05-08T13:56:00.123456789Z"), 1683554160123);
  EXPECT_EQ(*ParseIso8601("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(*ParseIso8601("2024-02-29"), 1709164800000);
}

TEST(TimeTest, RejectsBadInput) {
  for (const char* bad : {"", "2023", "2023-5-8", "2023-13-01", "2023-02-29", "2023-05-08T25:00",
                          "2023-05-08T13:56:00Zjunk", "yesterday", "2023-05-08T13:56:00+25:00",
                          "2023-05-08T13:5", "2023-05-08T13:56:00.",
                          // A leap second is refused, not moved to :59.
                          "2024-01-01T12:00:60", "2016-12-31T23:59:60Z"}) {
    auto r = ParseIso8601(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("ISO 8601"), std::string::npos);
    }
  }
}

TEST(TimeTest, FormatRoundTrips) {
  for (TimeMs t : {0LL, 1683554160000LL, 1683554160250LL, -1000LL, -1LL, 253402300799999LL}) {
    EXPECT_EQ(*ParseIso8601(FormatIso8601(t)), t) << FormatIso8601(t);
  }
  EXPECT_EQ(FormatIso8601(1683554160000), "2023-05-08T13:56:00Z");
  EXPECT_EQ(FormatIso8601(1683554160250), "2023-05-08T13:56:00.250Z");
}

TEST(Utf8Test, ValidatesAndLocates) {
  EXPECT_TRUE(IsValidUtf8("hello"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_EQ(FindInvalidUtf8("ab\xff"), 2u);
  EXPECT_EQ(FindInvalidUtf8("ab\xc3"), 2u);            // truncated
  EXPECT_EQ(FindInvalidUtf8("\xc0\xaf"), 0u);          // overlong
  EXPECT_EQ(FindInvalidUtf8("x\xed\xa0\x80"), 1u);     // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // > U+10FFFF
}

TEST(JsonCodecTest, MemoryRoundTrip) {
  Memory m;
  m.id = 123456789;
  m.kind = Kind::kPreference;
  m.text = "likes green tea";
  m.user_id = "u1";
  m.session_id = "s1";
  m.role = "user";
  m.speaker = "Ann";
  m.event_time = 1683554160250;
  m.valid_from = 1683554160000;
  m.created_at = 1700000000000;
  m.updated_at = 1700000000001;
  m.expired_at = 1700000000002;
  m.importance = 0.75;
  m.access_count = 3;
  m.tier = Tier::kLongTerm;
  m.state = State::kRetired;
  m.version = 4;
  m.sources = {1, 2};
  m.origin = Origin::kDerived;
  m.tags = {"a", "b"};
  m.entities = {"tea"};
  m.metadata = R"({"n":1,"x":"y"})";
  auto back = MemoryFromJson(MemoryToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DumpJson(MemoryToJson(*back)), DumpJson(MemoryToJson(m)));
  EXPECT_EQ(back->event_time, m.event_time);
  EXPECT_EQ(back->valid_to, std::nullopt);
}

TEST(JsonCodecTest, StrictFieldErrors) {
  Memory m;
  m.text = "x";
  m.user_id = "u";
  Json j = MemoryToJson(m);
  j["text"] = 5;
  auto r = MemoryFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "expected string for \"text\"");
  j = MemoryToJson(m);
  j["kind"] = "gossip";
  EXPECT_NE(MemoryFromJson(j).status().message().find("unknown kind \"gossip\""),
            std::string::npos);
}

TEST(JsonCodecTest, MetadataValidation) {
  EXPECT_EQ(*NormalizeMetadata(R"({ "a" : [1, 2] })", 100), R"({"a":[1,2]})");
  EXPECT_EQ(*NormalizeMetadata("", 100), "{}");
  EXPECT_EQ(NormalizeMetadata("[1]", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeMetadata("{bad", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(NormalizeMetadata("{bad", 100).status().message().find("byte"), std::string::npos);
  EXPECT_EQ(NormalizeMetadata(R"({"a":"0123456789"})", 5).status().code(), StatusCode::kTooLarge);
}

TEST(JsonCodecTest, MemoryInputFromJson) {
  auto in = MemoryInputFromJson(Json::parse(R"({"text":"t","user":"u","role":"assistant",
      "kind":"fact","time":"2024-05-08","valid_to":null,"tags":["a"],"meta":{"k":1},
      "sources":[7,"8"],"importance":0.25})"));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->kind, Kind::kFact);
  EXPECT_EQ(in->origin, Origin::kAssistant);
  EXPECT_EQ(in->event_time, 1715126400000);
  EXPECT_EQ(in->valid_to, std::nullopt);
  EXPECT_EQ(in->tags, std::vector<std::string>{"a"});
  EXPECT_EQ(in->metadata, R"({"k":1})");
  EXPECT_EQ(in->sources, (std::vector<MemoryId>{7, 8}));
  EXPECT_EQ(in->importance, 0.25);
  auto plain = MemoryInputFromJson(Json::parse(R"({"text":"t","user":"u"})"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->kind, Kind::kEpisode);
  EXPECT_EQ(plain->origin, Origin::kUser);
  EXPECT_EQ(plain->event_time, std::nullopt);
  EXPECT_EQ(MemoryInputFromJson(Json::parse(R"({"text":"t","user":"u","role":"tool"})"))->origin,
            Origin::kTool);
  EXPECT_EQ(
      MemoryInputFromJson(Json::parse(R"({"text":"t","user":"u","origin":"import"})"))->origin,
      Origin::kImport);

  auto error_field = [](const char* json) {
    auto r = MemoryInputFromJson(Json::parse(json));
    return r.ok() ? std::string("(ok)") : r.status().field();
  };
  EXPECT_EQ(error_field(R"({"text":"t"})"), "user");
  EXPECT_EQ(error_field(R"({"text":"t","user":"u","colour":1})"), "colour");
  EXPECT_EQ(error_field(R"({"text":"t","user":"u","kind":"gossip"})"), "kind");
  EXPECT_EQ(error_field(R"({"text":"t","user":"u","origin":"me"})"), "origin");
  EXPECT_EQ(error_field(R"({"text":"t","user":"u","time":"soon"})"), "time");
  EXPECT_EQ(error_field(R"({"text":"t","user":"u","sources":[0]})"), "sources");
  EXPECT_EQ(error_field(R"({"text":"t","user":"u","meta":[1]})"), "meta");
  EXPECT_EQ(error_field(R"({"text":"t","user":"u","importance":"x"})"), "importance");
  EXPECT_EQ(error_field(R"([1])"), "");
}

TEST(JsonCodecTest, MemoryUpdateFromJson) {
  auto u = MemoryUpdateFromJson(Json::parse(R"({"valid_to":null,"tier":"archived","reason":"r"})"));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  ASSERT_TRUE(u->valid_to.has_value());
  EXPECT_EQ(*u->valid_to, std::nullopt);  // cleared
  EXPECT_FALSE(u->valid_from.has_value());
  EXPECT_FALSE(u->text.has_value());
  EXPECT_EQ(u->tier, Tier::kArchived);
  EXPECT_EQ(u->reason, "r");
  EXPECT_TRUE(u->actor.empty());
  auto t = MemoryUpdateFromJson(Json::parse(R"({"text":"new","time":"2024-05-08"})"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->text, "new");
  EXPECT_EQ(t->event_time, std::optional<TimeMs>(1715126400000));
  EXPECT_FALSE(MemoryUpdateFromJson(Json::parse(R"({"reason":"r"})")).ok());
  EXPECT_FALSE(MemoryUpdateFromJson(Json::object()).ok());
  EXPECT_EQ(MemoryUpdateFromJson(Json::parse(R"({"text":null})")).status().field(), "text");
  EXPECT_EQ(MemoryUpdateFromJson(Json::parse(R"({"user":"u"})")).status().field(), "user");
  EXPECT_EQ(MemoryUpdateFromJson(Json::parse(R"({"tags":"a"})")).status().field(), "tags");
}

TEST(JsonCodecTest, ListRequestFromJson) {
  auto r = ListRequestFromJson(Json::parse(R"({"user":"u","kinds":["fact","summary"],
      "tags":["a"],"since":"2024-01-01","include_retired":true,"limit":5,"cursor":"c1",
      "descending":true,"meta":{"k":"v"}})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->filter.user_id, "u");
  EXPECT_EQ(r->filter.kinds, (std::vector<Kind>{Kind::kFact, Kind::kSummary}));
  EXPECT_EQ(r->filter.tags, std::vector<std::string>{"a"});
  EXPECT_EQ(r->filter.time_from, std::optional<TimeMs>(1704067200000));
  EXPECT_TRUE(r->filter.include_retired);
  EXPECT_EQ(r->filter.meta_equals.size(), 1u);
  EXPECT_EQ(r->limit, 5);
  EXPECT_EQ(r->cursor, "c1");
  EXPECT_TRUE(r->descending);
  auto d = ListRequestFromJson(Json::object());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->limit, 100);
  EXPECT_FALSE(d->descending);
  EXPECT_EQ(ListRequestFromJson(Json::parse(R"({"limit":99999999999})")).status().field(), "limit");
  EXPECT_EQ(ListRequestFromJson(Json::parse(R"({"limit":1.5})")).status().field(), "limit");
  EXPECT_EQ(ListRequestFromJson(Json::parse(R"({"all_users":true})")).status().field(),
            "all_users");
  EXPECT_EQ(ListRequestFromJson(Json::parse(R"({"kinds":["x"]})")).status().field(), "kinds");
}

TEST(JsonCodecTest, SearchRequestFiltersUnchanged) {
  auto r = SearchRequestFromJson(Json::parse(R"({"query":"q","user":"u","agent":"a",
      "session":"s","kinds":["fact"],"since":"2024-01-01","until":"2024-02-01","tags":["t"],
      "meta":{"k":1},"include_retired":true,"k":7,"explain":true})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->filter.agent_id, "a");
  EXPECT_EQ(r->filter.session_id, "s");
  EXPECT_EQ(r->filter.time_to, std::optional<TimeMs>(1706745600000));
  EXPECT_EQ(r->filter.meta_equals, (std::vector<std::pair<std::string, std::string>>{{"k", "1"}}));
  EXPECT_EQ(r->k, 7);
  EXPECT_TRUE(r->explain);
  EXPECT_EQ(SearchRequestFromJson(Json::parse(R"({"query":"q","kinds":["x"]})"))
                .status()
                .message()
                .substr(0, 14),
            "unknown kind \"");
}

TEST(JsonCodecTest, ListPageToJson) {
  ListPage page;
  page.memories.resize(2);
  page.memories[0].id = 1;
  page.memories[1].id = 2;
  page.next_cursor = "c2";
  Json j = ListPageToJson(page);
  ASSERT_EQ(j["memories"].size(), 2u);
  EXPECT_EQ(j["memories"][1]["id"], 2);
  EXPECT_EQ(j["next_cursor"], "c2");
  EXPECT_EQ(ListPageToJson(ListPage{})["next_cursor"], "");
}

TEST(JsonCodecTest, ProfileAndContextToJson) {
  Profile p;
  p.user = "maya";
  p.entries.push_back(
      {"home_city", "porto", "Maya lives in Porto", Kind::kFact, 42, 1715126400000, false});
  p.entries.push_back(
      {"likes:surfing", "", "Maya loves surfing", Kind::kPreference, 43, std::nullopt, true});
  Json j = ProfileToJson(p);
  EXPECT_EQ(j, Json::parse(R"({"user":"maya","entries":[
      {"key":"home_city","value":"porto","text":"Maya lives in Porto","kind":"fact",
       "memory_id":42,"since":"2024-05-08T00:00:00Z","edited":false},
      {"key":"likes:surfing","value":"","text":"Maya loves surfing","kind":"preference",
       "memory_id":43,"since":null,"edited":true}]})"));
  EXPECT_EQ(ProfileToJson(Profile{"sam", {}}), Json::parse(R"({"user":"sam","entries":[]})"));

  ContextResult r;
  r.text = "About maya:\n- Maya lives in Porto\n";
  r.tokens = 9;
  r.memories = {42, 7};
  r.omitted = 3;
  r.profile = p;
  Json c = ContextResultToJson(r);
  EXPECT_EQ(c["text"], r.text);
  EXPECT_EQ(c["tokens"], 9);
  EXPECT_EQ(c["memories"], Json::array({42, 7}));
  EXPECT_EQ(c["omitted"], 3);
  EXPECT_EQ(c["profile"], j);
  EXPECT_EQ(c.size(), 5u);
}

TEST(JsonCodecTest, ProfileEditFromJson) {
  auto e = ProfileEditFromJson(Json::parse(R"({"user":"maya","set":{"home_city":"porto",
      "job":"nurse"},"unset":["likes:surfing"],"reason":"moved"})"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->user, "maya");
  EXPECT_EQ(e->set, (std::vector<std::pair<std::string, std::string>>{{"home_city", "porto"},
                                                                      {"job", "nurse"}}));
  EXPECT_EQ(e->unset, std::vector<std::string>{"likes:surfing"});
  EXPECT_EQ(e->reason, "moved");
  auto only_unset = ProfileEditFromJson(Json::parse(R"({"user":"maya","unset":["job"],
      "set":null})"));
  ASSERT_TRUE(only_unset.ok()) << only_unset.status().ToString();
  EXPECT_TRUE(only_unset->set.empty());
  EXPECT_TRUE(only_unset->reason.empty());

  auto error = [](const char* json) {
    auto r = ProfileEditFromJson(Json::parse(json));
    return r.ok() ? std::string("(ok)") : r.status().message();
  };
  auto error_field = [](const char* json) {
    auto r = ProfileEditFromJson(Json::parse(json));
    return r.ok() ? std::string("(ok)") : r.status().field();
  };
  EXPECT_EQ(error(R"({"user":7,"unset":["job"]})"), "expected string for \"user\"");
  EXPECT_EQ(error_field(R"({"unset":["job"]})"), "user");
  EXPECT_EQ(error_field(R"({"user":"","unset":["job"]})"), "user");
  EXPECT_EQ(error_field(R"({"user":"maya"})"), "set");
  EXPECT_EQ(error_field(R"({"user":"maya","set":{},"unset":[]})"), "set");
  EXPECT_EQ(error_field(R"({"user":"maya","set":["job"]})"), "set");
  EXPECT_EQ(error(R"({"user":"maya","set":{"job":3}})"),
            "expected a string value for \"set\" (key \"job\")");
  EXPECT_EQ(error_field(R"({"user":"maya","set":{"job":3}})"), "set");
  EXPECT_EQ(error_field(R"({"user":"maya","unset":"job"})"), "unset");
  EXPECT_EQ(error_field(R"({"user":"maya","unset":[1]})"), "unset");
  EXPECT_EQ(error_field(R"({"user":"maya","unset":["job"],"reason":1})"), "reason");
  EXPECT_EQ(error(R"({"user":"maya","unset":["job"],"colour":1})"),
            "unknown field \"colour\" (known: user, set, unset, reason)");
  EXPECT_EQ(error_field(R"([1])"), "");
}

TEST(JsonCodecTest, ContextRequestFromJson) {
  auto req = ContextRequestFromJson(Json::parse(R"({"user":"maya","query":"where does she live",
      "budget":400,"now":"2024-05-08","k":12,"profile_entries":0})"));
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_EQ(req->user, "maya");
  EXPECT_EQ(req->query, "where does she live");
  EXPECT_EQ(req->budget_tokens, 400);
  EXPECT_EQ(req->now, std::optional<TimeMs>(1715126400000));
  EXPECT_EQ(req->k, 12);
  EXPECT_EQ(req->profile_entries, 0);
  auto d = ContextRequestFromJson(Json::parse(R"({"user":"maya","query":"q","now":null})"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const ContextRequest defaults;
  EXPECT_EQ(d->budget_tokens, defaults.budget_tokens);
  EXPECT_EQ(d->now, std::nullopt);
  EXPECT_EQ(d->k, defaults.k);
  EXPECT_EQ(d->profile_entries, defaults.profile_entries);
  // Ranges are the engine's: a budget of 1 parses.
  EXPECT_EQ(
      ContextRequestFromJson(Json::parse(R"({"user":"u","query":"q","budget":1})"))->budget_tokens,
      1);

  auto error_field = [](const char* json) {
    auto r = ContextRequestFromJson(Json::parse(json));
    return r.ok() ? std::string("(ok)") : r.status().field();
  };
  EXPECT_EQ(error_field(R"({"query":"q"})"), "user");
  EXPECT_EQ(error_field(R"({"user":"u"})"), "query");
  EXPECT_EQ(error_field(R"({"user":"u","query":""})"), "query");
  EXPECT_EQ(error_field(R"({"user":["u"],"query":"q"})"), "user");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","budget":"500"})"), "budget");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","budget":1.5})"), "budget");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","now":"soon"})"), "now");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","now":5})"), "now");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","k":true})"), "k");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","k":4294967297})"), "k");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","profile_entries":"all"})"), "profile_entries");
  EXPECT_EQ(error_field(R"({"user":"u","query":"q","budget_tokens":5})"), "budget_tokens");
  EXPECT_EQ(
      ContextRequestFromJson(Json::parse(R"({"user":"u","query":"q","k":"5"})")).status().message(),
      "expected integer for \"k\"");
  EXPECT_EQ(error_field(R"("q")"), "");
}

TEST(JsonCodecTest, GetMemoryId) {
  EXPECT_EQ(*GetMemoryId(Json{{"id", 42}}, "id"), 42);
  EXPECT_EQ(*GetMemoryId(Json{{"id", "42"}}, "id"), 42);
  EXPECT_EQ(*GetMemoryId(Json{{"id", 9007199254740991ull}}, "id"), 9007199254740991);
  for (const Json& bad : {Json(0), Json(-3), Json(2.5), Json("4x"), Json("+4"), Json(" 4"),
                          Json(""), Json(18446744073709551615ull), Json(nullptr)}) {
    auto r = GetMemoryId(Json{{"id", bad}}, "id");
    EXPECT_FALSE(r.ok()) << bad.dump();
    EXPECT_EQ(r.status().field(), "id") << bad.dump();
  }
  EXPECT_EQ(GetMemoryId(Json::object(), "id").status().field(), "id");
}

TEST(JsonCodecTest, ParseErrorsCarryTheirField) {
  auto field = [](const Status& s) { return s.field(); };
  EXPECT_EQ(field(CheckKnownFields(Json{{"a for \"b\"", 1}}, {"a"})), "a for \"b\"");
  EXPECT_EQ(field(MemoryInputFromJson(Json{{"user", "u"}}).status()), "text");
  EXPECT_EQ(field(MemoryInputFromJson(Json{{"user", "u"}, {"text", 5}}).status()), "text");
  EXPECT_EQ(
      field(MemoryInputFromJson(Json{{"user", "u"}, {"text", "t"}, {"time", "soon"}}).status()),
      "time");
  EXPECT_EQ(
      field(MemoryInputFromJson(Json{{"user", "u"}, {"text", "t"}, {"ttl", "forever"}}).status()),
      "ttl");
  EXPECT_EQ(field(MessageFromJson(Json{{"text", "hi"}}).status()), "role");
  EXPECT_EQ(field(ListRequestFromJson(Json{{"kinds", {"x"}}}).status()), "kinds");
  EXPECT_EQ(field(SearchRequestFromJson(Json{{"query", "q"}, {"fusion", "x"}}).status()), "fusion");
  EXPECT_EQ(field(SearchRequestFromJson(Json{{"query", "q"}, {"k", 1e20}}).status()), "k");
  EXPECT_EQ(field(NormalizeMetadata("[1]", 100).status()), "meta");
  EXPECT_EQ(field(NormalizeMetadata("{\"a\":1}", 2).status()), "meta");
  // Not about one field: the whole body.
  EXPECT_EQ(field(SearchRequestFromJson(Json::array()).status()), "");
  EXPECT_EQ(field(ParseJson("{\"unterminated").status()), "");
}

}  // namespace
}  // namespace mnemo::util

namespace mnemo::util {
namespace {

// Regression (found by tests/fuzz and api_test.py): a 200 KB body nested 100,000 levels
// deep overflowed the stack when the parsed value was copied.
TEST(UrlTest, RedactUrlHidesUserInfoAndQueryValues) {
  EXPECT_EQ(RedactUrl("https://api.example.com/v1"), "https://api.example.com/v1");
  EXPECT_EQ(RedactUrl("http://user:pw@host:8080/v1"), "http://[redacted]@host:8080/v1");
  EXPECT_EQ(RedactUrl("http://token@host/v1"), "http://[redacted]@host/v1");
  EXPECT_EQ(RedactUrl("https://h/v1?api-key=abc&api-version=2024&flag&x="),
            "https://h/v1?api-key=[redacted]&api-version=[redacted]&[redacted]&x=");
  EXPECT_EQ(RedactUrl("https://h/v1#frag"), "https://h/v1#[redacted]");
  EXPECT_EQ(RedactUrl("http://h/a@b"), "http://h/a@b") << "an @ in the path is no user info";
  EXPECT_EQ(RedactUrl("ftp//weird?k=v"), "ftp//weird?k=[redacted]");
  EXPECT_EQ(UrlSecrets("http://bob:hunter2@h/v1?key=sekrit&v=1"),
            (std::vector<std::string>{"hunter2", "sekrit"}));
  EXPECT_EQ(UrlSecrets("http://longuser@h/"), std::vector<std::string>{"longuser"});
  EXPECT_TRUE(UrlSecrets("https://api.openai.com/v1").empty());
}

TEST(JsonCodecTest, DeepNestingIsRefusedBeforeParsing) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(ParseJson(nested(kMaxJsonDepth)).ok());
  auto deep = ParseJson(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("nested deeper than 100"), std::string::npos);
  EXPECT_FALSE(ParseJson("{\"a\":" + nested(100000) + "}").ok());
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJson("\"" + std::string(500, '[') + "\\\"" + std::string(500, '{') + "\"").ok());
}

TEST(JsonCodecTest, WhatTheParserWouldSkipIsAnErrorWithItsOffset) {
  // A NUL byte would end parsing early and the rest would be ignored.
  auto nul = ParseJson(std::string("{\"user\":\"u\",\"text\":\"x\"}\0{junk", 30));
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("at byte 23"), std::string::npos) << nul.status().message();
  EXPECT_NE(nul.status().message().find("NUL"), std::string::npos);
  EXPECT_TRUE(ParseJson("\"a\\u0000b\"").ok());  // escaped, it is a character like any other
  auto huge = ParseJson("{\"importance\": 1e309}");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("at byte 15"), std::string::npos)
      << huge.status().message();
  EXPECT_NE(huge.status().message().find("1e309"), std::string::npos);
}

TEST(JsonCodecTest, AMetadataFilterValueMustBeAScalar) {
  for (const char* meta : {R"({"meta": {"amount": {"gt": 50}}})", R"({"meta": {"amount": [1]}})"}) {
    auto r = ListRequestFromJson(*ParseJson(meta));
    ASSERT_FALSE(r.ok()) << meta;
    EXPECT_EQ(r.status().field(), "meta.amount") << r.status().message();
  }
  EXPECT_TRUE(ListRequestFromJson(*ParseJson(R"({"meta": {"a": 1, "b": "x", "c": null}})")).ok());
}

}  // namespace
}  // namespace mnemo::util
