#include <gtest/gtest.h>

#include "util/json_codec.h"
#include "util/time_util.h"
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
                          "2023-05-08T13:5", "2023-05-08T13:56:00."}) {
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

}  // namespace
}  // namespace mnemo::util
