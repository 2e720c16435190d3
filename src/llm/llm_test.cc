// The OpenAI-compatible providers against FakeOpenAi over real loopback HTTP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "llm/fake_openai.h"
#include "llm/openai.h"
#include "util/json_codec.h"

namespace mnemo::llm {
namespace {

using namespace std::chrono_literals;
using util::Json;

constexpr char kEmbeddings[] = "/v1/embeddings";
constexpr char kChat[] = "/v1/chat/completions";

int64_t MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A port nothing listens on: bound, then closed.
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// {"data":[{"index":i,"embedding":v}...]} in the given order.
std::string EmbeddingsBody(const std::vector<std::pair<int, std::vector<float>>>& entries) {
  Json data = Json::array();
  for (const auto& [index, v] : entries) data.push_back({{"index", index}, {"embedding", v}});
  return util::DumpJson({{"object", "list"}, {"data", data}});
}

ScriptedResponse Status500() {
  ScriptedResponse r;
  r.status = 500;
  r.body = R"({"error":{"message":"the server had an error"}})";
  return r;
}

class LlmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setenv("no_proxy", "*", 1); }  // loopback, never a proxy

  void SetUp() override { StartFake(FakeOpenAi::Options{}); }

  void StartFake(FakeOpenAi::Options options) {
    options.dimension = 8;
    fake_ = std::make_unique<FakeOpenAi>(options);
    ASSERT_TRUE(fake_->Start().ok());
  }

  ProviderConfig Config() const {
    ProviderConfig c;
    c.base_url = fake_->base_url();
    c.model = "test-model";
    c.dimensions = 8;
    c.timeout_ms = 3000;
    c.connect_timeout_ms = 1000;
    c.max_retries = 2;
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 20;
    return c;
  }

  std::shared_ptr<const Embedder> MakeEmbedder(const ProviderConfig& c) {
    auto e = MakeOpenAiEmbedder(c);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : nullptr;
  }
  std::shared_ptr<const ChatModel> MakeChat(const ProviderConfig& c) {
    auto m = MakeOpenAiChatModel(c);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : nullptr;
  }

  static ChatRequest Ask(std::string text) {
    ChatRequest r;
    r.messages = {{"system", "You extract memories."}, {"user", std::move(text)}};
    return r;
  }

  std::unique_ptr<FakeOpenAi> fake_;
};

TEST_F(LlmTest, EmbedsNormalisedVectorsInOrder) {
  auto e = MakeEmbedder(Config());
  EXPECT_EQ(e->id(), "openai-compatible:test-model:8");
  EXPECT_EQ(e->dimension(), 8);
  std::vector<std::string_view> texts = {"the cat sat", "dogs bark loudly", "the cat sat down"};
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(e->Embed(texts, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto expected = FakeOpenAi::EmbedText(texts[i], 8);
    double norm2 = 0;
    for (size_t k = 0; k < 8; ++k) {
      EXPECT_NEAR(out[i][k], expected[k], 1e-6) << i;
      norm2 += out[i][k] * out[i][k];
    }
    EXPECT_NEAR(norm2, 1.0, 1e-5);
  }
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, kEmbeddings);
  Json body = Json::parse(requests[0].body);
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["input"], Json({"the cat sat", "dogs bark loudly", "the cat sat down"}));
  EXPECT_FALSE(body.contains("dimensions"));
}

TEST_F(LlmTest, NormalisesProviderVectors) {
  ScriptedResponse r;
  r.body = EmbeddingsBody({{0, {3, 4, 0, 0, 0, 0, 0, 0}}});
  fake_->Enqueue(kEmbeddings, r);
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(MakeEmbedder(Config())->Embed({"x"}, &out).ok());
  EXPECT_FLOAT_EQ(out[0][0], 0.6f);
  EXPECT_FLOAT_EQ(out[0][1], 0.8f);
}

TEST_F(LlmTest, FakeEmbeddingsAreSimilarForSimilarTexts) {
  auto dot = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  };
  auto a = FakeOpenAi::EmbedText("I love hiking in the Alps", 256);
  auto b = FakeOpenAi::EmbedText("hiking in the alps, I love it", 256);
  auto c = FakeOpenAi::EmbedText("quarterly tax report deadline", 256);
  EXPECT_GT(dot(a, b), 0.8);
  EXPECT_LT(dot(a, c), 0.3);
  EXPECT_EQ(FakeOpenAi::EmbedText("the cat", 16), FakeOpenAi::EmbedText("the cat", 16));
}

TEST_F(LlmTest, SendsDimensionsWhenAsked) {
  ProviderConfig c = Config();
  c.dimensions = 16;  // the fake's default is 8; it honours "dimensions" like OpenAI
  c.send_dimensions = true;
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(MakeEmbedder(c)->Embed({"hello world"}, &out).ok());
  EXPECT_EQ(out[0].size(), 16u);
  EXPECT_EQ(Json::parse(fake_->requests()[0].body)["dimensions"], 16);
}

TEST_F(LlmTest, EmptyInputMakesNoRequestAndEmptyTextsGetZeroVectors) {
  auto e = MakeEmbedder(Config());
  std::vector<std::vector<float>> out = {{1.0f}};
  ASSERT_TRUE(e->Embed({}, &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(fake_->RequestCount(kEmbeddings), 0u);

  ASSERT_TRUE(e->Embed({"", "words here", ""}, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], std::vector<float>(8, 0.0f));
  EXPECT_EQ(out[2], std::vector<float>(8, 0.0f));
  EXPECT_NE(out[1], std::vector<float>(8, 0.0f));
  ASSERT_EQ(fake_->RequestCount(kEmbeddings), 1u);
  EXPECT_EQ(Json::parse(fake_->requests()[0].body)["input"], Json({"words here"}));
}

TEST_F(LlmTest, BatchesByBatchSizeAndKeepsOrder) {
  ProviderConfig c = Config();
  c.batch_size = 4;
  std::vector<std::string> owned;
  for (int i = 0; i < 10; ++i)
    owned.push_back("text number " + std::to_string(i) + " word" + std::to_string(i));
  std::vector<std::string_view> texts(owned.begin(), owned.end());
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(MakeEmbedder(c)->Embed(texts, &out).ok());
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);  // ceil(10 / 4)
  EXPECT_EQ(Json::parse(requests[0].body)["input"].size(), 4u);
  EXPECT_EQ(Json::parse(requests[1].body)["input"].size(), 4u);
  EXPECT_EQ(Json::parse(requests[2].body)["input"].size(), 2u);
  EXPECT_EQ(Json::parse(requests[2].body)["input"][1], owned[9]);
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(out[i], FakeOpenAi::EmbedText(texts[i], 8)) << i;
  }
}

TEST_F(LlmTest, MatchesShuffledIndexes) {
  std::vector<float> e0(8, 0), e1(8, 0), e2(8, 0);
  e0[0] = 1;
  e1[1] = 1;
  e2[2] = 1;
  ScriptedResponse r;
  r.body = EmbeddingsBody({{2, e2}, {0, e0}, {1, e1}});
  fake_->Enqueue(kEmbeddings, r);
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(MakeEmbedder(Config())->Embed({"a", "b", "c"}, &out).ok());
  EXPECT_EQ(out[0], e0);
  EXPECT_EQ(out[1], e1);
  EXPECT_EQ(out[2], e2);
}

TEST_F(LlmTest, HonoursRetryAfterOn429) {
  ProviderConfig c = Config();
  c.backoff_max_ms = 5000;  // the cap must not cut the 1 s asked for
  ScriptedResponse r;
  r.status = 429;
  r.headers = {{"Retry-After", "1"}};
  r.body = R"({"error":{"message":"Rate limit reached"}})";
  fake_->Enqueue(kEmbeddings, r);
  std::vector<std::vector<float>> out;
  EmbedUsage usage;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(MakeEmbedder(c)->EmbedCounted({"hello"}, &out, &usage).ok());
  const int64_t elapsed = MsSince(start);
  EXPECT_GE(elapsed, 950);  // backoff alone would have waited at most 5 ms
  EXPECT_LT(elapsed, 3000);
  EXPECT_EQ(usage.requests, 2);
  EXPECT_EQ(fake_->RequestCount(kEmbeddings), 2u);
}

TEST_F(LlmTest, RetryAfterIsCappedByBackoffMax) {
  ProviderConfig c = Config();
  c.backoff_max_ms = 50;
  ScriptedResponse r;
  r.status = 503;
  r.headers = {{"Retry-After", "30"}};
  r.body = "overloaded";
  fake_->Enqueue(kEmbeddings, r);
  std::vector<std::vector<float>> out;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(MakeEmbedder(c)->Embed({"hello"}, &out).ok());
  EXPECT_LT(MsSince(start), 2000);
  EXPECT_EQ(fake_->RequestCount(kEmbeddings), 2u);
}

TEST_F(LlmTest, RetriesA500ThenSucceeds) {
  fake_->Enqueue(kEmbeddings, Status500());
  std::vector<std::vector<float>> out;
  EmbedUsage usage;
  ASSERT_TRUE(MakeEmbedder(Config())->EmbedCounted({"hello there"}, &out, &usage).ok());
  EXPECT_EQ(out[0], FakeOpenAi::EmbedText("hello there", 8));
  EXPECT_EQ(usage.requests, 2);
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].status, 500);
  EXPECT_EQ(requests[1].status, 200);
  EXPECT_EQ(usage.tokens, requests[1].prompt_tokens);
}

TEST_F(LlmTest, PersistentServerErrorIsUnavailableAfterMaxRetries) {
  ProviderConfig c = Config();
  c.max_retries = 3;
  for (int i = 0; i < 10; ++i) fake_->Enqueue(kEmbeddings, Status500());
  std::vector<std::vector<float>> out;
  EmbedUsage usage;
  Status s = MakeEmbedder(c)->EmbedCounted({"hello"}, &out, &usage);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(fake_->RequestCount(kEmbeddings), 4u);  // max_retries + 1
  EXPECT_EQ(usage.requests, 4);
  EXPECT_TRUE(Contains(s.message(), fake_->base_url() + "/embeddings")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "HTTP 500")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "the server had an error")) << s.message();
}

TEST_F(LlmTest, SlowAnswerBeyondTimeoutIsUnavailable) {
  ProviderConfig c = Config();
  c.timeout_ms = 200;
  c.max_retries = 1;
  ScriptedResponse slow;
  slow.delay = 3000ms;
  fake_->Enqueue(kEmbeddings, slow);
  fake_->Enqueue(kEmbeddings, slow);
  std::vector<std::vector<float>> out;
  const auto start = std::chrono::steady_clock::now();
  Status s = MakeEmbedder(c)->Embed({"hello"}, &out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_LT(MsSince(start), 2000);
  EXPECT_TRUE(Contains(s.message(), "timeout_ms=200")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "2 attempts")) << s.message();
}

TEST_F(LlmTest, ConnectionRefusedIsUnavailable) {
  ProviderConfig c = Config();
  c.base_url = "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/v1";
  c.max_retries = 1;
  std::vector<std::vector<float>> out;
  EmbedUsage usage;
  Status s = MakeEmbedder(c)->EmbedCounted({"hello"}, &out, &usage);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "could not connect")) << s.message();
  EXPECT_TRUE(Contains(s.message(), c.base_url + "/embeddings")) << s.message();
  EXPECT_EQ(usage.requests, 2);

  auto chat = MakeChat(c);
  Result<ChatResponse> r = chat->Complete(Ask("hi"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(LlmTest, MalformedJsonIsCorruptionWithoutRetry) {
  ScriptedResponse r;
  r.body = R"({"data": [ {"embedding": [0.1, )";
  fake_->Enqueue(kEmbeddings, r);
  std::vector<std::vector<float>> out;
  Status s = MakeEmbedder(Config())->Embed({"hello"}, &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "invalid JSON")) << s.message();
  EXPECT_EQ(fake_->RequestCount(kEmbeddings), 1u);
}

TEST_F(LlmTest, WrongShapeIsCorruption) {
  struct Case {
    std::string body;
    std::string expected;
  };
  const std::vector<float> good(8, 0.5f);
  const std::vector<Case> cases = {
      {EmbeddingsBody({{0, std::vector<float>(7, 0.5f)}, {1, good}}), "7 numbers"},
      {EmbeddingsBody({{0, good}}), "1 entries for 2 inputs"},
      {EmbeddingsBody({{0, good}, {0, good}}), "repeated"},
      {EmbeddingsBody({{0, good}, {5, good}}), "index"},
      {R"({"data":[{"embedding":[1,2,3,4,5,6,7,"x"]},{"embedding":[1,2,3,4,5,6,7,8]}]})",
       "not a number"},
      {R"({"object":"list"})", "\"data\""},
      {R"([1,2])", "object"},
  };
  auto e = MakeEmbedder(Config());
  for (const Case& c : cases) {
    ScriptedResponse r;
    r.body = c.body;
    fake_->Enqueue(kEmbeddings, r);
    std::vector<std::vector<float>> out;
    Status s = e->Embed({"one", "two"}, &out);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << c.body << " -> " << s.ToString();
    EXPECT_TRUE(Contains(s.message(), c.expected)) << s.message();
  }
  // A vector of the wrong dimension from the default answer too: the fake answers 8.
  ProviderConfig wrong = Config();
  wrong.dimensions = 12;
  std::vector<std::vector<float>> out;
  EXPECT_EQ(MakeEmbedder(wrong)->Embed({"x"}, &out).code(), StatusCode::kCorruption);
}

TEST_F(LlmTest, UnauthorizedIsInvalidArgumentWithoutRetryAndNeverShowsTheKey) {
  ProviderConfig c = Config();
  c.api_key = "sk-secret-key-123";
  ScriptedResponse r;
  r.status = 401;
  r.body =
      R"({"error":{"message":"Incorrect API key provided: sk-secret-key-123.","type":"invalid_request_error"}})";
  fake_->Enqueue(kEmbeddings, r);
  std::vector<std::vector<float>> out;
  Status s = MakeEmbedder(c)->Embed({"hello"}, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(fake_->RequestCount(kEmbeddings), 1u);
  EXPECT_TRUE(Contains(s.message(), "Incorrect API key provided")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "HTTP 401")) << s.message();
  EXPECT_TRUE(Contains(s.message(), fake_->base_url())) << s.message();
  EXPECT_FALSE(Contains(s.message(), "sk-secret-key-123")) << s.message();
}

// Audit finding (issue 17): a user and password or a key in base_url appeared in errors,
// hence in jobs' last_error and the server's warning lines.
TEST_F(LlmTest, AuditCredentialsInBaseUrlNeverReachAMessage) {
  ProviderConfig c = Config();
  const std::string host = fake_->base_url().substr(std::string("http://").size());
  c.base_url = "http://bob:hunter2pw@" + host;
  ScriptedResponse r;
  r.status = 401;
  r.body = R"({"error":{"message":"bad credentials bob:hunter2pw"}})";
  fake_->Enqueue(kEmbeddings, r);
  std::vector<std::vector<float>> out;
  Status s = MakeEmbedder(c)->Embed({"hello"}, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_FALSE(Contains(s.message(), "hunter2pw")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "http://[redacted]@" + host + "/embeddings")) << s.message();

  c.base_url = "http://bob:hunter2pw@127.0.0.1:" + std::to_string(UnusedPort()) + "/v1";
  c.max_retries = 0;
  s = MakeEmbedder(c)->Embed({"hello"}, &out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_FALSE(Contains(s.message(), "hunter2pw")) << s.message();
  Result<ChatResponse> chat = MakeChat(c)->Complete(Ask("hi"));
  EXPECT_FALSE(Contains(chat.status().message(), "hunter2pw")) << chat.status().message();

  c.base_url = "ftp://bob:hunter2pw@example.com/v1";
  Status invalid = MakeOpenAiEmbedder(c).status();
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Contains(invalid.message(), "hunter2pw")) << invalid.message();
}

TEST_F(LlmTest, SendsApiKeyAsBearerOnlyWhenSet) {
  ProviderConfig c = Config();
  c.api_key = "sk-test-abc";
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(MakeEmbedder(c)->Embed({"hello"}, &out).ok());
  c.api_key = "";
  ASSERT_TRUE(MakeEmbedder(c)->Embed({"hello"}, &out).ok());
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_NE(requests[0].Header("authorization"), nullptr);
  EXPECT_EQ(*requests[0].Header("authorization"), "Bearer sk-test-abc");
  EXPECT_EQ(requests[1].Header("authorization"), nullptr);
  EXPECT_EQ(*requests[0].Header("content-type"), "application/json");
}

TEST_F(LlmTest, ChatCompletesWithUsage) {
  fake_->SetChatContents({R"({"memories":["likes tea"]})"});
  auto chat = MakeChat(Config());
  EXPECT_EQ(chat->id(), "openai-compatible:test-model");
  ChatRequest req = Ask("I like tea");
  req.max_tokens = 77;
  req.temperature = 0.5;
  Result<ChatResponse> r = chat->Complete(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->content, R"({"memories":["likes tea"]})");
  EXPECT_EQ(r->requests, 1);
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, kChat);
  EXPECT_EQ(r->prompt_tokens, requests[0].prompt_tokens);
  EXPECT_GT(r->prompt_tokens, 0);
  EXPECT_EQ(r->completion_tokens, static_cast<int64_t>((r->content.size() + 3) / 4));
  Json body = Json::parse(requests[0].body);
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["max_tokens"], 77);
  EXPECT_EQ(body["temperature"], 0.5);
  EXPECT_EQ(body["messages"][1]["role"], "user");
  EXPECT_EQ(body["messages"][1]["content"], "I like tea");
  EXPECT_FALSE(body.contains("response_format"));
}

TEST_F(LlmTest, ChatEstimatesUsageWhenMissingAndCountsRetries) {
  fake_->Enqueue(kChat, Status500());
  ScriptedResponse r;
  r.body = R"({"choices":[{"message":{"role":"assistant","content":"12345678"}}]})";
  fake_->Enqueue(kChat, r);
  ChatRequest req;
  req.messages = {{"user", std::string(40, 'a')}};
  Result<ChatResponse> resp = MakeChat(Config())->Complete(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->requests, 2);
  EXPECT_EQ(resp->prompt_tokens, 10);     // 40 bytes / 4
  EXPECT_EQ(resp->completion_tokens, 2);  // 8 bytes / 4
}

TEST_F(LlmTest, ChatSendsJsonSchema) {
  ChatRequest req = Ask("x");
  req.json_schema = R"({"type":"object","properties":{"memories":{"type":"array"}}})";
  req.schema_name = "extraction";
  ASSERT_TRUE(MakeChat(Config())->Complete(req).ok());
  Json format = Json::parse(fake_->requests()[0].body)["response_format"];
  EXPECT_EQ(format["type"], "json_schema");
  EXPECT_EQ(format["json_schema"]["name"], "extraction");
  EXPECT_EQ(format["json_schema"]["strict"], true);
  EXPECT_EQ(format["json_schema"]["schema"], Json::parse(req.json_schema));

  req.json_schema = "{not json";
  Result<ChatResponse> bad = MakeChat(Config())->Complete(req);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_->RequestCount(kChat), 1u);  // refused before any request
}

TEST_F(LlmTest, FallsBackToJsonObjectAndRemembers) {
  FakeOpenAi::Options options;
  options.reject_json_schema = true;
  StartFake(options);
  auto chat = MakeChat(Config());
  ChatRequest req = Ask("x");
  req.json_schema = R"({"type":"object"})";
  Result<ChatResponse> first = chat->Complete(req);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->requests, 2);
  Result<ChatResponse> second = chat->Complete(req);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->requests, 1);  // remembered: no json_schema attempt any more

  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].status, 400);
  EXPECT_EQ(Json::parse(requests[0].body)["response_format"]["type"], "json_schema");
  for (size_t i : {1u, 2u}) {
    Json body = Json::parse(requests[i].body);
    EXPECT_EQ(body["response_format"]["type"], "json_object");
    // The schema moved into the (first, system) message.
    EXPECT_TRUE(
        Contains(body["messages"][0]["content"].get<std::string>(), R"({"type":"object"})"));
    EXPECT_EQ(body["messages"].size(), 2u);
  }
}

TEST_F(LlmTest, OtherChat400IsInvalidArgumentWithoutFallback) {
  ScriptedResponse r;
  r.status = 400;
  r.body = R"({"error":{"message":"This model's maximum context length is 8192 tokens"}})";
  fake_->Enqueue(kChat, r);
  ChatRequest req = Ask("x");
  req.json_schema = R"({"type":"object"})";
  Result<ChatResponse> resp = MakeChat(Config())->Complete(req);
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(resp.status().message(), "maximum context length"));
  EXPECT_EQ(fake_->RequestCount(kChat), 1u);
}

TEST_F(LlmTest, ChatWrongShapeIsCorruptionAnd5xxIsUnavailable) {
  auto chat = MakeChat(Config());
  for (const char* body :
       {R"({"choices":[{"message":{"role":"assistant","content":null}}]})", R"({"choices":[]})",
        R"({"choices":[{"message":{"role":"assistant"}}]})", "<html>Bad Gateway</html>"}) {
    ScriptedResponse r;
    r.body = body;
    fake_->Enqueue(kChat, r);
    Result<ChatResponse> resp = chat->Complete(Ask("x"));
    EXPECT_EQ(resp.status().code(), StatusCode::kCorruption) << body;
    EXPECT_TRUE(Contains(resp.status().message(), fake_->base_url() + "/chat/completions"));
  }
  for (int i = 0; i < 3; ++i) {
    ScriptedResponse r;
    r.status = 503;
    r.body = "busy";
    fake_->Enqueue(kChat, r);
  }
  Result<ChatResponse> resp = chat->Complete(Ask("x"));
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

TEST_F(LlmTest, ConcurrencyCapHoldsUnderEightCallers) {
  ProviderConfig c = Config();
  c.max_concurrency = 2;
  auto e = MakeEmbedder(c);
  for (int i = 0; i < 8; ++i) {
    ScriptedResponse slow;
    slow.delay = 100ms;
    fake_->Enqueue(kEmbeddings, slow);
  }
  std::vector<std::thread> callers;
  std::vector<Status> results(8);
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      std::vector<std::vector<float>> out;
      results[static_cast<size_t>(i)] = e->Embed({"caller " + std::to_string(i)}, &out);
    });
  }
  for (auto& t : callers) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(fake_->RequestCount(kEmbeddings), 8u);
  EXPECT_LE(fake_->max_concurrent(), 2);
  EXPECT_EQ(fake_->max_concurrent(), 2);  // and the cap is reached: calls do overlap
}

TEST_F(LlmTest, UsageCountsRequestsAndTokensAcrossBatchesAndRetries) {
  ProviderConfig c = Config();
  c.batch_size = 2;
  fake_->Enqueue(kEmbeddings, ScriptedResponse{});  // first batch: default answer
  fake_->Enqueue(kEmbeddings, Status500());         // second batch: one retry
  std::vector<std::vector<float>> out;
  EmbedUsage usage;
  usage.requests = 10;  // added to, not overwritten
  ASSERT_TRUE(MakeEmbedder(c)->EmbedCounted({"a b", "c d e", "f", "g h", "i"}, &out, &usage).ok());
  EXPECT_EQ(usage.requests, 10 + 3 + 1);
  int64_t reported = 0;
  for (const auto& r : fake_->requests()) reported += r.prompt_tokens;
  EXPECT_GT(reported, 0);
  EXPECT_EQ(usage.tokens, reported);
}

TEST_F(LlmTest, TrailingSlashInBaseUrl) {
  ProviderConfig c = Config();
  c.base_url += "/";
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(MakeEmbedder(c)->Embed({"x"}, &out).ok());
  EXPECT_EQ(fake_->requests()[0].path, kEmbeddings);
}

TEST_F(LlmTest, NotFoundNamesTheUrlAndHints) {
  ProviderConfig c = Config();
  c.base_url = "http://127.0.0.1:" + std::to_string(fake_->port()) + "/wrong";
  std::vector<std::vector<float>> out;
  Status s = MakeEmbedder(c)->Embed({"x"}, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "/wrong/embeddings")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "check base_url and model")) << s.message();
}

TEST_F(LlmTest, ConfigValidationNamesTheField) {
  auto expect_invalid = [](ProviderConfig c, const std::string& field, bool embedder) {
    Status s = embedder ? MakeOpenAiEmbedder(c).status() : MakeOpenAiChatModel(c).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(Contains(s.message(), field)) << field << ": " << s.message();
    EXPECT_FALSE(Contains(s.message(), "sk-hidden")) << s.message();
  };
  ProviderConfig good = Config();
  good.api_key = "sk-hidden";
  ProviderConfig c = good;
  c.base_url = "";
  expect_invalid(c, "base_url", true);
  c.base_url = "ftp://example.com/v1";
  expect_invalid(c, "base_url", false);
  c = good;
  c.model = "";
  expect_invalid(c, "model", false);
  c = good;
  c.dimensions = 0;
  expect_invalid(c, "dimensions", true);
  EXPECT_TRUE(MakeOpenAiChatModel(c).ok());  // chat needs no dimensions
  c = good;
  c.batch_size = 0;
  expect_invalid(c, "batch_size", true);
  c = good;
  c.timeout_ms = 0;
  expect_invalid(c, "timeout_ms", true);
  c = good;
  c.connect_timeout_ms = -1;
  expect_invalid(c, "connect_timeout_ms", true);
  c = good;
  c.max_retries = -1;
  expect_invalid(c, "max_retries", false);
  c = good;
  c.backoff_initial_ms = 100;
  c.backoff_max_ms = 10;
  expect_invalid(c, "backoff_max_ms", true);
  c = good;
  c.max_concurrency = 0;
  expect_invalid(c, "max_concurrency", false);
  c = good;
  c.api_key = "sk-hidden\n";
  expect_invalid(c, "api_key", true);
  EXPECT_TRUE(MakeOpenAiEmbedder(good).ok());
}

}  // namespace
}  // namespace mnemo::llm
