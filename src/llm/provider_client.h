// What the OpenAI-compatible embedder and chat model share: config validation, the
// retrying, concurrency-capped POST, and turning a provider's answer into a Status.
//
// Thread safety: ProviderClient is safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llm/http_client.h"
#include "llm/openai.h"
#include "llm/retry.h"
#include "mnemo/status.h"
#include "util/json_codec.h"

namespace mnemo::llm {

// Checks the fields both providers use; errors are kInvalidArgument naming the field.
Status ValidateProviderConfig(const ProviderConfig& config);

// obj[key] when obj is an object holding key, else nullptr.
const util::Json* JsonField(const util::Json& obj, std::string_view key);

// The provider's explanation in an error body: error.message (OpenAI), error (string),
// message, or else the start of the raw body; at most ~300 printable bytes.
std::string ProviderErrorText(std::string_view body);

class ProviderClient {
 public:
  // `config` must have passed ValidateProviderConfig.
  explicit ProviderClient(const ProviderConfig& config);

  // base_url + path ("/embeddings").
  std::string Url(std::string_view path) const;
  // Url(path) for messages: credentials in the user info or the query redacted.
  std::string ShownUrl(std::string_view path) const;

  // POSTs `body` to Url(path), retrying as retry.h describes; adds every HTTP request
  // made to *requests. Returns the final answer when it is not retryable (2xx, 3xx, 4xx
  // other than 408/429); kUnavailable when retries ran out; kCorruption when the answer
  // was over the size limit.
  Result<HttpAnswer> Post(std::string_view path, const std::string& body, int64_t* requests) const;

  // The Status for a final non-2xx answer: kInvalidArgument with the provider's message
  // and a hint (401/403: api_key, 404: base_url and model).
  Status ErrorFor(std::string_view path, const HttpAnswer& answer) const;

  // Removes the API key and the base_url's credentials (util::UrlSecrets) from a
  // message, should a provider echo them back.
  std::string Redact(std::string message) const;

 private:
  std::string base_url_;  // without a trailing '/'
  std::string api_key_;
  std::vector<std::string> secrets_;  // api_key_ (when >= 6 bytes) and the URL's secrets
  int timeout_ms_;
  int connect_timeout_ms_;
  RetryPolicy retry_;
  std::unique_ptr<ConcurrencyLimit> in_flight_;
};

}  // namespace mnemo::llm
