// Unit tests of the answer parsers (no network).
#include "llm/openai_parse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mnemo::llm {
namespace {

TEST(OpenAiParseTest, EmbeddingsPlacedByIndexAndNormalised) {
  std::vector<std::vector<float>> v;
  int64_t tokens = 5;
  Status s = ParseEmbeddingsAnswer(
      R"({"data":[{"index":1,"embedding":[0,2]},{"index":0,"embedding":[3,4]}],)"
      R"("usage":{"prompt_tokens":7}})",
      2, 2, &v, &tokens);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FLOAT_EQ(v[0][0], 0.6f);
  EXPECT_FLOAT_EQ(v[0][1], 0.8f);
  EXPECT_FLOAT_EQ(v[1][1], 1.0f);
  EXPECT_EQ(tokens, 12);  // added
  // Without index: by position; a zero vector stays zero.
  ASSERT_TRUE(ParseEmbeddingsAnswer(R"({"data":[{"embedding":[0,0]}]})", 1, 2, &v, &tokens).ok());
  EXPECT_EQ(v[0], std::vector<float>({0.0f, 0.0f}));
}

TEST(OpenAiParseTest, EmbeddingsRejectBadNumbers) {
  std::vector<std::vector<float>> v;
  int64_t tokens = 0;
  for (const char* body :
       {R"({"data":[{"embedding":[1e39,1]}]})", R"({"data":[{"embedding":[null,1]}]})",
        R"({"data":[{"embedding":"AAAA"}]})", R"({"data":[{"index":-1,"embedding":[1,1]}]})",
        R"({"data":[{"index":0.5,"embedding":[1,1]}]})", R"({"data":{}})", "", "null",
        R"({"data":[7]})"}) {
    Status s = ParseEmbeddingsAnswer(body, 1, 2, &v, &tokens);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << body;
  }
}

TEST(OpenAiParseTest, ChatContentAndUsage) {
  ChatResponse r;
  r.prompt_tokens = 99;
  r.completion_tokens = 98;
  ASSERT_TRUE(ParseChatAnswer(R"({"choices":[{"message":{"content":"hi"}}]})", &r).ok());
  EXPECT_EQ(r.content, "hi");
  EXPECT_EQ(r.prompt_tokens, 99);  // no usage: the caller's estimates stay
  ASSERT_TRUE(ParseChatAnswer(R"({"choices":[{"message":{"content":"yo"}}],)"
                              R"("usage":{"prompt_tokens":3,"completion_tokens":1}})",
                              &r)
                  .ok());
  EXPECT_EQ(r.prompt_tokens, 3);
  EXPECT_EQ(r.completion_tokens, 1);
  Status refused = ParseChatAnswer(
      R"({"choices":[{"message":{"content":null,"refusal":"I cannot help"}}]})", &r);
  EXPECT_EQ(refused.code(), StatusCode::kCorruption);
  EXPECT_NE(refused.message().find("I cannot help"), std::string::npos);
  EXPECT_EQ(ParseChatAnswer(R"({"choices":[7]})", &r).code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseChatAnswer(R"({"choices":[{"message":{"content":5}}]})", &r).code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace mnemo::llm
