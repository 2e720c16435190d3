#include "llm/provider_client.h"

#include <thread>
#include <utility>

#include "util/json_codec.h"
#include "util/url.h"

namespace mnemo::llm {
namespace {

Status Invalid(std::string_view field, std::string_view problem) {
  return Status::InvalidArgument("provider config: " + std::string(field) + " " +
                                 std::string(problem));
}

std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

Status ValidateProviderConfig(const ProviderConfig& c) {
  if (c.base_url.empty())
    return Invalid("base_url", "is required (e.g. https://api.openai.com/v1)");
  if (!c.base_url.starts_with("http://") && !c.base_url.starts_with("https://")) {
    return Invalid("base_url", "must start with http:// or https:// (got '" +
                                   Printable(util::RedactUrl(c.base_url), 200) + "')");
  }
  for (char ch : c.base_url) {
    if (static_cast<unsigned char>(ch) <= 0x20) {
      return Invalid("base_url", "must not contain spaces or control characters");
    }
  }
  if (c.model.empty()) return Invalid("model", "is required (e.g. text-embedding-3-small)");
  for (char ch : c.api_key) {
    if (ch == '\r' || ch == '\n' || ch == '\0') {
      return Invalid("api_key", "contains a line break or NUL (check how the secret was read)");
    }
  }
  if (c.timeout_ms <= 0) return Invalid("timeout_ms", "must be > 0");
  if (c.connect_timeout_ms <= 0) return Invalid("connect_timeout_ms", "must be > 0");
  if (c.max_retries < 0) return Invalid("max_retries", "must be >= 0");
  if (c.backoff_initial_ms < 0) return Invalid("backoff_initial_ms", "must be >= 0");
  if (c.backoff_max_ms < c.backoff_initial_ms) {
    return Invalid("backoff_max_ms", "must be >= backoff_initial_ms");
  }
  if (c.max_concurrency < 1) return Invalid("max_concurrency", "must be >= 1");
  return Status::Ok();
}

const util::Json* JsonField(const util::Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string ProviderErrorText(std::string_view body) {
  auto parsed = util::ParseJson(body);
  if (parsed.ok() && parsed->is_object()) {
    const util::Json* error = JsonField(*parsed, "error");
    if (error && error->is_string()) return Printable(error->get<std::string>(), 300);
    const util::Json* message = error ? JsonField(*error, "message") : nullptr;
    if (!message) message = JsonField(*parsed, "message");
    if (message && message->is_string()) return Printable(message->get<std::string>(), 300);
  }
  if (body.empty()) return "(empty body)";
  return Printable(body, 300);
}

ProviderClient::ProviderClient(const ProviderConfig& config)
    : base_url_(config.base_url),
      api_key_(config.api_key),
      timeout_ms_(config.timeout_ms),
      connect_timeout_ms_(config.connect_timeout_ms),
      retry_{config.max_retries, config.backoff_initial_ms, config.backoff_max_ms},
      in_flight_(std::make_unique<ConcurrencyLimit>(config.max_concurrency)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  // A very short "key" (a placeholder like "x" for local servers) is no secret, and
  // replacing it everywhere would garble messages.
  if (api_key_.size() >= 6) secrets_.push_back(api_key_);
  for (std::string& s : util::UrlSecrets(base_url_)) secrets_.push_back(std::move(s));
}

std::string ProviderClient::Url(std::string_view path) const {
  return base_url_ + std::string(path);
}

std::string ProviderClient::ShownUrl(std::string_view path) const {
  return util::RedactUrl(Url(path));
}

std::string ProviderClient::Redact(std::string message) const {
  for (const std::string& secret : secrets_) {
    for (size_t pos = message.find(secret); pos != std::string::npos;
         pos = message.find(secret, pos)) {
      message.replace(pos, secret.size(), "[redacted]");
    }
  }
  return message;
}

Result<HttpAnswer> ProviderClient::Post(std::string_view path, const std::string& body,
                                        int64_t* requests) const {
  HttpPost post;
  post.url = Url(path);
  post.body = body;
  post.timeout_ms = timeout_ms_;
  post.connect_timeout_ms = connect_timeout_ms_;
  if (!api_key_.empty()) post.headers.push_back("Authorization: Bearer " + api_key_);

  const int attempts = retry_.max_retries + 1;
  HttpAnswer answer;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(RetryDelay(retry_, attempt - 1, answer));
    {
      // The permit covers the request only, not the wait before a retry.
      ConcurrencyLimit::Permit permit = in_flight_->Acquire();
      answer = PostJson(post);
    }
    ++*requests;
    if (answer.transport == Transport::kTooLarge) {
      return Status::Corruption(Redact("POST " + ShownUrl(path) + ": " + answer.transport_error));
    }
    if (!IsRetryable(answer)) return answer;
  }

  const std::string tries = " (" + std::to_string(attempts) + " attempt" +
                            (attempts == 1 ? "" : "s") + "; the caller may retry later)";
  std::string what;
  switch (answer.transport) {
    case Transport::kOk:
      what = "HTTP " + std::to_string(answer.status) + ": " + ProviderErrorText(answer.body);
      break;
    case Transport::kTimeout:
      what = "no answer within timeout_ms=" + std::to_string(timeout_ms_) +
             " (connect_timeout_ms=" + std::to_string(connect_timeout_ms_) +
             "): " + answer.transport_error;
      break;
    case Transport::kRefused:
      what = "could not connect (is the server running and base_url right?): " +
             answer.transport_error;
      break;
    case Transport::kDns:
      what = "host name did not resolve (check base_url): " + answer.transport_error;
      break;
    default:
      what = std::string(TransportName(answer.transport)) + ": " + answer.transport_error;
      break;
  }
  return Status::Unavailable(Redact("POST " + ShownUrl(path) + ": " + what + tries));
}

Status ProviderClient::ErrorFor(std::string_view path, const HttpAnswer& answer) const {
  std::string hint;
  if (answer.status == 401 || answer.status == 403) {
    hint = " (check api_key)";
  } else if (answer.status == 404) {
    hint = " (check base_url and model)";
  } else if (answer.status >= 300 && answer.status < 400) {
    const std::string* location = answer.Header("location");
    hint = " (redirects are not followed; set base_url to the final address" +
           (location ? ": " + Printable(*location, 200) : std::string()) + ")";
  }
  return Status::InvalidArgument(
      Redact("POST " + ShownUrl(path) + ": provider refused the request: HTTP " +
             std::to_string(answer.status) + ": " + ProviderErrorText(answer.body) + hint));
}

}  // namespace mnemo::llm
