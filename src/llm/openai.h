// Model providers over HTTP: any OpenAI-compatible endpoint (OpenAI, Azure-style
// gateways, Ollama, llama.cpp server, vLLM, LM Studio, ...) as an mnemo::Embedder
// (POST {base_url}/embeddings) and an mnemo::ChatModel (POST {base_url}/chat/completions).
//
// Every request is retried on 429, 408, 5xx, timeouts and connection failures with full
// jitter exponential backoff (Retry-After honoured, capped by backoff_max_ms); at most
// max_concurrency requests per provider object are in flight, further callers wait.
// Worst case, one request takes (max_retries + 1) * timeout_ms plus the backoff waits.
//
// Errors: kInvalidArgument for a bad config (naming the field) and for requests the
// provider refused (4xx other than 408/429, with the provider's own message);
// kUnavailable when the provider could not answer after the retries; kCorruption when it
// answered with something that is not the expected JSON (wrong shape, count, dimension).
// Messages name the URL and never contain the API key.
//
// Thread safety: the returned objects are safe for concurrent use from many threads.
#pragma once

#include <memory>
#include <string>

#include "mnemo/chat_model.h"
#include "mnemo/embedder.h"
#include "mnemo/status.h"

namespace mnemo::llm {

struct ProviderConfig {
  // e.g. "https://api.openai.com/v1", "http://localhost:11434/v1": http or https, without
  // the trailing "/embeddings" or "/chat/completions" (a trailing '/' is ignored).
  std::string base_url;
  std::string model;              // required
  std::string api_key;            // resolved secret ("" = no Authorization header); never logged
  int timeout_ms = 30000;         // one request, connect included (> 0)
  int connect_timeout_ms = 5000;  // > 0
  int max_retries = 4;            // retries after the first attempt (>= 0)
  int backoff_initial_ms = 500;   // ceiling of the first retry's jittered wait (>= 0)
  int backoff_max_ms = 20000;     // ceiling of any wait, Retry-After included (>= initial)
  int max_concurrency = 4;        // requests in flight per provider object (>= 1)
  int batch_size = 64;            // embeddings: texts per request (>= 1)
  int dimensions = 0;             // embeddings: required (> 0); every vector must match
  bool send_dimensions = false;   // send "dimensions" (OpenAI text-embedding-3 only)
};

// Embedder::id() is "openai-compatible:" + model + ":" + dimensions. Texts are sent in
// batches of batch_size, one batch after another; an empty text is not sent (providers
// refuse it) and gets a zero vector. Vectors are L2-normalised.
Result<std::shared_ptr<const Embedder>> MakeOpenAiEmbedder(const ProviderConfig& config);

// ChatModel::id() is "openai-compatible:" + model. A request's json_schema is sent as
// response_format {"type":"json_schema", ...}; when the provider answers 400 naming
// response_format/json_schema, the call is repeated with {"type":"json_object"} (and the
// schema appended as a system message), then without response_format, and the object
// remembers the downgrade for later calls.
Result<std::shared_ptr<const ChatModel>> MakeOpenAiChatModel(const ProviderConfig& config);

}  // namespace mnemo::llm
