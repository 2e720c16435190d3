#include "llm/fake_openai.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "server/http_server.h"
#include "util/json_codec.h"

namespace mnemo::llm {
namespace {

using server::HttpRequest;
using server::HttpResponse;
using util::Json;

constexpr std::string_view kEmbeddings = "/v1/embeddings";
constexpr std::string_view kChat = "/v1/chat/completions";

HttpResponse ErrorAnswer(int status, const std::string& message, const char* param = nullptr) {
  HttpResponse r;
  r.status = status;
  Json param_json = param ? Json(param) : Json(nullptr);
  r.body = util::DumpJson({{"error",
                            {{"message", message},
                             {"type", "invalid_request_error"},
                             {"param", param_json},
                             {"code", nullptr}}}});
  return r;
}

int64_t TokensOf(std::string_view text) { return static_cast<int64_t>((text.size() + 3) / 4); }

}  // namespace

const std::string* RecordedRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

struct FakeOpenAi::Impl {
  explicit Impl(Options o) : options(o) {}

  HttpResponse Handle(const HttpRequest& request);
  HttpResponse Embeddings(const Json& body, RecordedRequest* record) const;
  HttpResponse Chat(const Json& body, RecordedRequest* record);

  const Options options;
  std::unique_ptr<server::HttpServer> server;

  mutable std::mutex mu;
  std::condition_variable stop_cv;  // wakes delayed answers on Stop
  bool stopping = false;            // protected by mu
  std::map<std::string, std::deque<ScriptedResponse>, std::less<>> scripts;  // protected by mu
  std::vector<std::string> chat_contents{R"({"memories":[]})"};              // protected by mu
  size_t chat_next = 0;                                                      // protected by mu
  std::vector<RecordedRequest> records;                                      // protected by mu
  std::function<void(const RecordedRequest&)> observer;                      // protected by mu
  int in_flight = 0;                                                         // protected by mu
  int max_in_flight = 0;                                                     // protected by mu
};

HttpResponse FakeOpenAi::Impl::Handle(const HttpRequest& request) {
  std::optional<ScriptedResponse> script;
  {
    std::lock_guard<std::mutex> lock(mu);
    max_in_flight = std::max(max_in_flight, ++in_flight);
    auto it = scripts.find(request.path);
    if (it != scripts.end() && !it->second.empty()) {
      script = std::move(it->second.front());
      it->second.pop_front();
    }
  }
  RecordedRequest record{request.path, request.headers, request.body, "", 0, 0};
  Result<Json> body = util::ParseJson(request.body);
  if (body.ok() && body->is_object() && body->contains("model") && (*body)["model"].is_string()) {
    record.model = (*body)["model"].get<std::string>();
  }
  if (script && script->delay.count() > 0) {
    std::unique_lock<std::mutex> lock(mu);
    stop_cv.wait_for(lock, script->delay, [this] { return stopping; });
  }

  HttpResponse response;
  if (script && script->body) {
    response.status = script->status;
    response.body = *script->body;
  } else {
    if (request.method != "POST") {
      response = ErrorAnswer(405, "use POST");
    } else if (request.path != kEmbeddings && request.path != kChat) {
      response = ErrorAnswer(404, "unknown path " + request.path);
    } else if (!body.ok() || !body->is_object()) {
      response = ErrorAnswer(400, "the body is not a JSON object");
    } else if (request.path == kEmbeddings) {
      response = Embeddings(*body, &record);
    } else {
      response = Chat(*body, &record);
    }
    if (script) response.status = script->status;
  }
  if (script) {
    for (auto& header : script->headers) response.headers.push_back(header);
  }
  record.status = response.status;

  std::function<void(const RecordedRequest&)> notify;
  {
    std::lock_guard<std::mutex> lock(mu);
    --in_flight;
    records.push_back(record);
    notify = observer;
  }
  if (notify) notify(record);
  return response;
}

HttpResponse FakeOpenAi::Impl::Embeddings(const Json& body, RecordedRequest* record) const {
  std::vector<std::string> inputs;
  auto input = body.find("input");
  if (input != body.end() && input->is_string()) {
    inputs.push_back(input->get<std::string>());
  } else if (input != body.end() && input->is_array()) {
    for (const Json& item : *input) {
      if (!item.is_string()) return ErrorAnswer(400, "input items must be strings", "input");
      inputs.push_back(item.get<std::string>());
    }
  } else {
    return ErrorAnswer(400, "input must be a string or an array of strings", "input");
  }
  int dimension = options.dimension;
  auto dims = body.find("dimensions");
  if (dims != body.end()) {
    if (!dims->is_number_integer() || dims->get<int64_t>() < 1 || dims->get<int64_t>() > 65536) {
      return ErrorAnswer(400, "dimensions must be a positive integer", "dimensions");
    }
    dimension = static_cast<int>(dims->get<int64_t>());
  }
  Json data = Json::array();
  int64_t tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) return ErrorAnswer(400, "input must not contain empty strings", "input");
    tokens += TokensOf(inputs[i]);
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", FakeOpenAi::EmbedText(inputs[i], dimension)}});
  }
  record->prompt_tokens = tokens;
  HttpResponse r;
  r.body = util::DumpJson({{"object", "list"},
                           {"data", std::move(data)},
                           {"model", record->model},
                           {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
  return r;
}

HttpResponse FakeOpenAi::Impl::Chat(const Json& body, RecordedRequest* record) {
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty()) {
    return ErrorAnswer(400, "messages must be a non-empty array", "messages");
  }
  int64_t prompt_tokens = 0;
  for (const Json& m : *messages) {
    if (!m.is_object() || !m.contains("content") || !m["content"].is_string()) {
      return ErrorAnswer(400, "each message needs a string content", "messages");
    }
    prompt_tokens += TokensOf(m["content"].get<std::string>());
  }
  auto format = body.find("response_format");
  if (options.reject_json_schema && format != body.end() && format->is_object() &&
      format->value("type", "") == "json_schema") {
    return ErrorAnswer(400, "response_format type 'json_schema' is not supported, use json_object",
                       "response_format");
  }
  std::string content;
  {
    std::lock_guard<std::mutex> lock(mu);
    content = chat_contents[std::min(chat_next, chat_contents.size() - 1)];
    ++chat_next;
  }
  const int64_t completion_tokens = TokensOf(content);
  record->prompt_tokens = prompt_tokens;
  HttpResponse r;
  r.body = util::DumpJson(
      {{"id", "chatcmpl-fake"},
       {"object", "chat.completion"},
       {"model", record->model},
       {"choices", Json::array({{{"index", 0},
                                 {"message", {{"role", "assistant"}, {"content", content}}},
                                 {"finish_reason", "stop"}}})},
       {"usage",
        {{"prompt_tokens", prompt_tokens},
         {"completion_tokens", completion_tokens},
         {"total_tokens", prompt_tokens + completion_tokens}}}});
  return r;
}

FakeOpenAi::FakeOpenAi() : FakeOpenAi(Options{}) {}
FakeOpenAi::FakeOpenAi(Options options) : impl_(std::make_unique<Impl>(options)) {}
FakeOpenAi::~FakeOpenAi() { Stop(); }

Status FakeOpenAi::Start(int port) {
  server::Limits limits;
  limits.workers = std::max(1, impl_->options.workers);
  limits.max_body_bytes = size_t{64} << 20;
  Impl* impl = impl_.get();
  impl_->server = std::make_unique<server::HttpServer>(
      limits, [impl](const HttpRequest& r) { return impl->Handle(r); },
      [](const server::AccessRecord&) {});
  MNEMO_RETURN_IF_ERROR(impl_->server->Listen("127.0.0.1", port));
  return impl_->server->Start();
}

void FakeOpenAi::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->server) impl_->server->Stop(std::chrono::seconds(2));
}

int FakeOpenAi::port() const { return impl_->server ? impl_->server->port() : 0; }

std::string FakeOpenAi::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port()) + "/v1";
}

void FakeOpenAi::Enqueue(const std::string& path, ScriptedResponse response) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->scripts[path].push_back(std::move(response));
}

void FakeOpenAi::SetChatContents(std::vector<std::string> contents) {
  if (contents.empty()) contents.emplace_back(R"({"memories":[]})");
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->chat_contents = std::move(contents);
  impl_->chat_next = 0;
}

void FakeOpenAi::SetObserver(std::function<void(const RecordedRequest&)> observer) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->observer = std::move(observer);
}

std::vector<RecordedRequest> FakeOpenAi::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->records;
}

size_t FakeOpenAi::RequestCount(std::string_view path) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return static_cast<size_t>(
      std::count_if(impl_->records.begin(), impl_->records.end(),
                    [&](const RecordedRequest& r) { return r.path == path; }));
}

int FakeOpenAi::max_concurrent() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->max_in_flight;
}

void FakeOpenAi::ClearRecords() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->records.clear();
  impl_->max_in_flight = impl_->in_flight;
}

std::vector<float> FakeOpenAi::EmbedText(std::string_view text, int dimension) {
  std::vector<float> v(static_cast<size_t>(std::max(dimension, 0)), 0.0f);
  if (v.empty()) return v;
  auto add_word = [&v](std::string_view word) {
    uint64_t h = 14695981039346656037ull;  // FNV-1a
    for (unsigned char c : word) h = (h ^ c) * 1099511628211ull;
    v[h % v.size()] += (h >> 63) != 0 ? -1.0f : 1.0f;
  };
  std::string word;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(c)));
    } else if (!word.empty()) {
      add_word(word);
      word.clear();
    }
  }
  if (!word.empty()) add_word(word);
  double norm2 = 0;
  for (float x : v) norm2 += static_cast<double>(x) * x;
  if (norm2 > 0) {
    const double inv = 1.0 / std::sqrt(norm2);
    for (float& x : v) x = static_cast<float>(x * inv);
  }
  return v;
}

}  // namespace mnemo::llm
