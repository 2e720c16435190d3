// The OpenAI-compatible embedder: POST {base_url}/embeddings in batches.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llm/openai.h"
#include "llm/openai_parse.h"
#include "llm/provider_client.h"
#include "util/json_codec.h"

namespace mnemo::llm {
namespace {

using util::Json;

constexpr std::string_view kPath = "/embeddings";

class OpenAiEmbedder final : public Embedder {
 public:
  explicit OpenAiEmbedder(const ProviderConfig& config)
      : client_(config),
        model_(config.model),
        dimension_(config.dimensions),
        batch_size_(config.batch_size),
        send_dimensions_(config.send_dimensions) {}

  std::string id() const override {
    return "openai-compatible:" + model_ + ":" + std::to_string(dimension_);
  }
  int dimension() const override { return dimension_; }

  Status Embed(const std::vector<std::string_view>& texts,
               std::vector<std::vector<float>>* out) const override {
    return EmbedCounted(texts, out, nullptr);
  }

  Status EmbedCounted(const std::vector<std::string_view>& texts,
                      std::vector<std::vector<float>>* out, EmbedUsage* usage) const override {
    EmbedUsage unused;
    if (usage == nullptr) usage = &unused;
    out->assign(texts.size(), std::vector<float>(static_cast<size_t>(dimension_), 0.0f));
    // Providers refuse empty strings; they get the zero vector without a request.
    std::vector<size_t> pending;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (!texts[i].empty()) pending.push_back(i);
    }
    for (size_t start = 0; start < pending.size(); start += static_cast<size_t>(batch_size_)) {
      const size_t end = std::min(pending.size(), start + static_cast<size_t>(batch_size_));
      std::vector<size_t> batch(pending.begin() + static_cast<std::ptrdiff_t>(start),
                                pending.begin() + static_cast<std::ptrdiff_t>(end));
      MNEMO_RETURN_IF_ERROR(EmbedBatch(texts, batch, out, usage));
    }
    return Status::Ok();
  }

 private:
  Status EmbedBatch(const std::vector<std::string_view>& texts, const std::vector<size_t>& batch,
                    std::vector<std::vector<float>>* out, EmbedUsage* usage) const {
    Json input = Json::array();
    for (size_t i : batch) input.push_back(std::string(texts[i]));
    Json request = {{"model", model_}, {"input", std::move(input)}};
    if (send_dimensions_) request["dimensions"] = dimension_;

    int64_t requests = 0;
    Result<HttpAnswer> answer = client_.Post(kPath, util::DumpJson(request), &requests);
    usage->requests += requests;
    if (!answer.ok()) return answer.status();
    if (answer->status / 100 != 2) return client_.ErrorFor(kPath, *answer);
    std::vector<std::vector<float>> vectors;
    Status parsed =
        ParseEmbeddingsAnswer(answer->body, batch.size(), dimension_, &vectors, &usage->tokens);
    if (!parsed.ok()) {
      return Status::Corruption(
          client_.Redact("POST " + client_.ShownUrl(kPath) +
                         ": not an OpenAI embeddings answer: " + parsed.message()));
    }
    for (size_t i = 0; i < batch.size(); ++i) (*out)[batch[i]] = std::move(vectors[i]);
    return Status::Ok();
  }

  ProviderClient client_;
  std::string model_;
  int dimension_;
  int batch_size_;
  bool send_dimensions_;
};

}  // namespace

Result<std::shared_ptr<const Embedder>> MakeOpenAiEmbedder(const ProviderConfig& config) {
  MNEMO_RETURN_IF_ERROR(ValidateProviderConfig(config));
  if (config.dimensions <= 0) {
    return Status::InvalidArgument(
        "provider config: dimensions is required for an embedder (> 0; e.g. 1536 for "
        "text-embedding-3-small)");
  }
  if (config.batch_size < 1) {
    return Status::InvalidArgument("provider config: batch_size must be >= 1");
  }
  return std::shared_ptr<const Embedder>(std::make_shared<OpenAiEmbedder>(config));
}

}  // namespace mnemo::llm
