// Parsers of what an OpenAI-compatible provider answers (outside input: fuzzable, no
// network). Errors are kCorruption naming the offending field; callers prefix the URL.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "mnemo/chat_model.h"
#include "mnemo/status.h"

namespace mnemo::llm {

// An embeddings answer for `count` inputs: a JSON object whose "data" array has one
// entry per input (placed by "index" when present, else by position; each index once),
// each "embedding" an array of exactly `dimension` finite numbers. On success *vectors
// holds `count` L2-normalised vectors in input order and usage.prompt_tokens (when
// reported) is added to *prompt_tokens.
Status ParseEmbeddingsAnswer(std::string_view body, size_t count, int dimension,
                             std::vector<std::vector<float>>* vectors, int64_t* prompt_tokens);

// A chat completion: choices[0].message.content must be a string. Sets
// response->content, and prompt_tokens / completion_tokens from "usage" when reported
// (otherwise leaves them as they were: the caller's estimates). Leaves requests alone.
Status ParseChatAnswer(std::string_view body, ChatResponse* response);

}  // namespace mnemo::llm
