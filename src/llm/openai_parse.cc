#include "llm/openai_parse.h"

#include <cfloat>
#include <cmath>
#include <string>

#include "llm/provider_client.h"
#include "util/json_codec.h"

namespace mnemo::llm {
namespace {

using util::Json;

Status ParseVector(const Json& entry, const std::string& where, int dimension,
                   std::vector<float>* v) {
  const Json* embedding = JsonField(entry, "embedding");
  if (!embedding || !embedding->is_array()) {
    return Status::Corruption(where +
                              ".embedding is not an array (base64 answers are not supported)");
  }
  if (embedding->size() != static_cast<size_t>(dimension)) {
    return Status::Corruption(
        where + ".embedding has " + std::to_string(embedding->size()) +
        " numbers, the config says dimensions=" + std::to_string(dimension) +
        " (fix dimensions, or set send_dimensions for models that accept it)");
  }
  v->assign(static_cast<size_t>(dimension), 0.0f);
  double norm2 = 0;
  size_t k = 0;
  for (const Json& x : *embedding) {
    const std::string at = where + ".embedding[" + std::to_string(k) + "]";
    if (!x.is_number()) return Status::Corruption(at + " is not a number");
    const double d = x.get<double>();
    // Checked before the conversion: a double beyond float's range does not convert.
    if (!std::isfinite(d) || std::fabs(d) > FLT_MAX) {
      return Status::Corruption(at + " is not a finite float");
    }
    (*v)[k++] = static_cast<float>(d);
    norm2 += d * d;
  }
  if (norm2 > 0) {  // finite: at most dimension * FLT_MAX^2, far below DBL_MAX
    const double inv = 1.0 / std::sqrt(norm2);
    for (float& f : *v) f = static_cast<float>(f * inv);
  }
  return Status::Ok();
}

}  // namespace

Status ParseEmbeddingsAnswer(std::string_view body, size_t count, int dimension,
                             std::vector<std::vector<float>>* vectors, int64_t* prompt_tokens) {
  Result<Json> parsed = util::ParseJson(body);
  if (!parsed.ok()) return Status::Corruption("invalid JSON: " + parsed.status().message());
  const Json& j = *parsed;
  if (!j.is_object()) return Status::Corruption("expected a JSON object");
  const Json* data = JsonField(j, "data");
  if (!data || !data->is_array()) return Status::Corruption("missing \"data\" array");
  if (data->size() != count) {
    return Status::Corruption("\"data\" has " + std::to_string(data->size()) + " entries for " +
                              std::to_string(count) + " inputs");
  }
  vectors->assign(count, {});
  std::vector<bool> filled(count, false);
  size_t pos = 0;
  for (const Json& entry : *data) {
    const std::string where = "data[" + std::to_string(pos) + "]";
    if (!entry.is_object()) return Status::Corruption(where + " is not an object");
    size_t slot = pos++;
    if (const Json* index = JsonField(entry, "index")) {
      if (!index->is_number_integer() || index->get<int64_t>() < 0 ||
          index->get<int64_t>() >= static_cast<int64_t>(count)) {
        return Status::Corruption(where + ".index is not an integer in [0, " +
                                  std::to_string(count) + ")");
      }
      slot = static_cast<size_t>(index->get<int64_t>());
    }
    if (filled[slot]) {
      return Status::Corruption(where + ": index " + std::to_string(slot) + " repeated");
    }
    filled[slot] = true;
    MNEMO_RETURN_IF_ERROR(ParseVector(entry, where, dimension, &(*vectors)[slot]));
  }
  const Json* usage = JsonField(j, "usage");
  const Json* tokens = usage ? JsonField(*usage, "prompt_tokens") : nullptr;
  if (tokens && tokens->is_number_integer()) *prompt_tokens += tokens->get<int64_t>();
  return Status::Ok();
}

Status ParseChatAnswer(std::string_view body, ChatResponse* response) {
  Result<Json> parsed = util::ParseJson(body);
  if (!parsed.ok()) return Status::Corruption("invalid JSON: " + parsed.status().message());
  const Json& j = *parsed;
  if (!j.is_object()) return Status::Corruption("expected a JSON object");
  const Json* choices = JsonField(j, "choices");
  if (!choices || !choices->is_array() || choices->empty()) {
    return Status::Corruption("missing or empty \"choices\" array");
  }
  const Json& choice = choices->front();
  if (!choice.is_object()) return Status::Corruption("choices[0] is not an object");
  const Json* message = JsonField(choice, "message");
  if (!message || !message->is_object()) {
    return Status::Corruption("choices[0].message is not an object");
  }
  const Json* content = JsonField(*message, "content");
  if (!content || !content->is_string()) {
    const Json* refusal = JsonField(*message, "refusal");
    if (refusal && refusal->is_string()) {
      return Status::Corruption("the model refused: " +
                                ProviderErrorText(refusal->get<std::string>()));
    }
    return Status::Corruption("choices[0].message.content is not a string");
  }
  response->content = content->get<std::string>();
  if (const Json* usage = JsonField(j, "usage")) {
    const Json* p = JsonField(*usage, "prompt_tokens");
    if (p && p->is_number_integer()) response->prompt_tokens = p->get<int64_t>();
    const Json* c = JsonField(*usage, "completion_tokens");
    if (c && c->is_number_integer()) response->completion_tokens = c->get<int64_t>();
  }
  return Status::Ok();
}

}  // namespace mnemo::llm
