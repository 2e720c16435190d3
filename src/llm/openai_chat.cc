// The OpenAI-compatible chat model: POST {base_url}/chat/completions.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>

#include "llm/openai.h"
#include "llm/openai_parse.h"
#include "llm/provider_client.h"
#include "util/json_codec.h"

namespace mnemo::llm {
namespace {

using util::Json;

constexpr std::string_view kPath = "/chat/completions";

// How a json_schema request is expressed; only ever moves down, for providers that
// refuse the richer form (older Ollama and llama.cpp servers know json_object only).
enum ResponseFormatMode : int { kJsonSchema = 0, kJsonObject = 1, kNoFormat = 2 };

bool MentionsResponseFormat(std::string_view body) {
  std::string lower(body);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view needle :
       {"response_format", "response format", "json_schema", "json schema", "json_object"}) {
    if (lower.find(needle) != std::string::npos) return true;
  }
  return false;
}

class OpenAiChatModel final : public ChatModel {
 public:
  explicit OpenAiChatModel(const ProviderConfig& config) : client_(config), model_(config.model) {}

  std::string id() const override { return "openai-compatible:" + model_; }

  Result<ChatResponse> Complete(const ChatRequest& request) const override {
    if (request.messages.empty()) {
      return Status::InvalidArgument("chat request has no messages");
    }
    Json schema;
    if (!request.json_schema.empty()) {
      Result<Json> parsed = util::ParseJson(request.json_schema);
      if (!parsed.ok()) {
        return Status::InvalidArgument("chat request json_schema is not valid JSON: " +
                                       parsed.status().message());
      }
      schema = std::move(parsed).value();
    }
    const bool structured = !request.json_schema.empty();
    int mode = structured ? mode_.load() : kNoFormat;

    ChatResponse response;
    for (;;) {
      Result<HttpAnswer> answer = client_.Post(
          kPath, util::DumpJson(BuildBody(request, schema, structured, mode)), &response.requests);
      if (!answer.ok()) return answer.status();
      if (answer->status / 100 == 2) {
        // Estimates, replaced by the provider's usage when it reports one.
        int64_t prompt_bytes = 0;
        for (const ChatMessage& m : request.messages) {
          prompt_bytes += static_cast<int64_t>(m.content.size());
        }
        response.prompt_tokens = prompt_bytes / 4;
        response.completion_tokens = -1;
        Status parsed = ParseChatAnswer(answer->body, &response);
        if (!parsed.ok()) {
          return Status::Corruption(
              client_.Redact("POST " + client_.ShownUrl(kPath) +
                             ": not an OpenAI chat completion: " + parsed.message()));
        }
        if (response.completion_tokens < 0) {
          response.completion_tokens = static_cast<int64_t>(response.content.size()) / 4;
        }
        return response;
      }
      if (answer->status == 400 && structured && mode < kNoFormat &&
          MentionsResponseFormat(answer->body)) {
        ++mode;
        int seen = mode_.load();
        while (seen < mode && !mode_.compare_exchange_weak(seen, mode)) {
        }
        continue;
      }
      return client_.ErrorFor(kPath, *answer);
    }
  }

 private:
  Json BuildBody(const ChatRequest& request, const Json& schema, bool structured, int mode) const {
    // Without json_schema support the schema travels in the prompt (json_object mode at
    // OpenAI also needs the word "JSON" in the messages): appended to the leading system
    // message, or sent as one, since some chat templates accept a system message first only.
    std::string hint;
    if (structured && mode != kJsonSchema) {
      hint = "Answer with a single JSON object that follows this JSON Schema:\n" +
             util::DumpJson(schema);
    }
    Json messages = Json::array();
    const bool leading_system = request.messages.front().role == "system";
    if (!hint.empty() && !leading_system) {
      messages.push_back({{"role", "system"}, {"content", hint}});
    }
    for (size_t i = 0; i < request.messages.size(); ++i) {
      const ChatMessage& m = request.messages[i];
      std::string content = m.content;
      if (i == 0 && leading_system && !hint.empty()) content += "\n\n" + hint;
      messages.push_back({{"role", m.role}, {"content", std::move(content)}});
    }
    Json body = {
        {"model", model_}, {"messages", std::move(messages)}, {"temperature", request.temperature}};
    if (request.max_tokens > 0) body["max_tokens"] = request.max_tokens;
    if (structured && mode == kJsonSchema) {
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema", {{"name", request.schema_name}, {"schema", schema}, {"strict", true}}}};
    } else if (structured && mode == kJsonObject) {
      body["response_format"] = {{"type", "json_object"}};
    }
    return body;
  }

  ProviderClient client_;
  std::string model_;
  mutable std::atomic<int> mode_{kJsonSchema};  // the richest format the provider accepted
};

}  // namespace

Result<std::shared_ptr<const ChatModel>> MakeOpenAiChatModel(const ProviderConfig& config) {
  MNEMO_RETURN_IF_ERROR(ValidateProviderConfig(config));
  return std::shared_ptr<const ChatModel>(std::make_shared<OpenAiChatModel>(config));
}

}  // namespace mnemo::llm
