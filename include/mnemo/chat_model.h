// mnemo/chat_model.h — a chat language model, used by the background pipeline to
// extract facts, preferences and procedures and to decide how they consolidate.
//
// mnemo needs no model: without one the pipeline uses deterministic rules. With one
// (any OpenAI-compatible /v1/chat/completions endpoint, see docs/pipeline.md, or a test
// fake implementing this interface) it derives richer memories.
//
// Thread safety: implementations must be safe for concurrent calls to Complete() from
// multiple threads without external synchronization.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mnemo/status.h"

namespace mnemo {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  // When non-empty, a JSON Schema (JSON text) the answer must follow: sent as OpenAI's
  // response_format {"type":"json_schema"}. The caller still validates the answer:
  // small local models break JSON.
  std::string json_schema;
  std::string schema_name = "result";
  int max_tokens = 1024;
  double temperature = 0;
};

struct ChatResponse {
  std::string content;            // the assistant message text
  int64_t prompt_tokens = 0;      // as reported by the provider (estimated when it does not)
  int64_t completion_tokens = 0;  // as reported by the provider (estimated when it does not)
  int64_t requests = 0;           // HTTP requests made, retries included
};

class ChatModel {
 public:
  virtual ~ChatModel() = default;
  // Stable identifier of the endpoint and model, e.g. "openai:gpt-4o-mini".
  virtual std::string id() const = 0;
  // Errors: kUnavailable when the provider could not answer (timeouts, 429 and 5xx
  // after retries, connection refused): the caller retries later. kInvalidArgument when
  // the provider refused the request (4xx other than 429). kCorruption when it answered
  // with something that is not an OpenAI chat completion.
  virtual Result<ChatResponse> Complete(const ChatRequest& request) const = 0;
};

}  // namespace mnemo
