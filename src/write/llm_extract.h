// Model-based extraction: one chat call per window of turns both extracts memories and
// says how they relate to what is already known (supersedes / same_as), so that the
// pipeline stays within its budget of <= 0.05 chat calls and <= 800 prompt tokens per
// ingested turn (a window is ~20-40 turns; the system prompt is kept compact).
//
// The model's answer is untrusted input: it is parsed tolerantly (fences, prose around the
// JSON, a bare array) and validated item by item; invalid items are dropped and counted.
//
// Thread safety: pure functions; ExtractWithModel calls model.Complete(), which
// implementations make safe for concurrent use.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "mnemo/chat_model.h"
#include "mnemo/status.h"
#include "write/consolidate.h"
#include "write/derived.h"

namespace mnemo::write {

// Limits applied to the prompt and the answer.
inline constexpr size_t kMaxPromptTurnBytes = 2000;  // a longer turn is cut (with "...")
inline constexpr size_t kMaxPromptKnownBytes = 300;  // a longer known memory is cut
inline constexpr size_t kMaxMemoryTextBytes = 2000;  // a longer extracted text drops the item
inline constexpr size_t kMaxAnswerBytes = 1 << 20;   // a longer answer is kCorruption
inline constexpr size_t kMaxEntitiesPerMemory = 20;  // further entities are ignored
inline constexpr double kModelConfidence = 0.8;      // Candidate::confidence of model items

// Estimated tokens of a text: ceil(bytes / 4), the usual rule of thumb for English with
// BPE tokenizers (slightly pessimistic for plain English, optimistic for CJK). Used for
// budgets when a provider reports no usage.
size_t EstimateTokens(std::string_view text);
size_t EstimateTokensOfBytes(size_t bytes);  // the same estimate for a text of `bytes`

// The extraction prompt for a window of turns: a compact system message, and a user
// message listing the known memories ("#<id> [subject slot=value] text") and the turns,
// numbered from 1, with absolute date (UTC "YYYY-MM-DD", from Turn::time), speaker (or
// role) and text. json_schema is the strict answer schema (OpenAI strict mode: every
// property required, additionalProperties false, nullables as type arrays):
//   {"memories":[{"kind":"fact|preference|procedure","text","subject","slot","value",
//     "polarity":1|-1,"event_date":"YYYY-MM-DD"|null,"time_text","entities":[...],
//     "sources":[turn numbers],"supersedes":<known id>|null,"same_as":<known id>|null}]}
// max_tokens grows with the window (256 + 96 per turn, at most 4096).
ChatRequest BuildExtractionRequest(const std::vector<Turn>& window,
                                   const std::vector<Neighbour>& known);

// A memory the model proposes, with its relation to a known memory (0: none).
struct ModelCandidate {
  Candidate candidate;
  MemoryId supersedes = 0;  // the known memory this one contradicts or updates
  MemoryId same_as = 0;     // the known memory this one repeats (possibly with more detail)
};

// Parses and validates the model's answer. Accepts the JSON object, optionally inside
// ``` fences or surrounded by prose, or a top-level array of items; unknown fields are
// ignored. Each item needs: kind (fact, preference or procedure), text (non-empty after
// trimming, <= kMaxMemoryTextBytes, valid UTF-8) and sources (turn numbers 1..window size,
// mapped to the turns' ids; out-of-range numbers are ignored, none left drops the item).
// Optional fields may be absent or null; present with a wrong type, the item is dropped.
// subject defaults to the first source turn's speaker (or role), lower-cased; slot and
// value are lower-cased; polarity < 0 is -1, else 1; event_date that does not parse is
// null; supersedes / same_as that are not ids of `known` (a number, or "#123"/"123") are 0,
// and both are 0 when the model gave both (it contradicted itself; rules decide then).
// Invalid UTF-8 bytes in the answer are replaced by U+FFFD before parsing, and an item
// with U+FFFD in its text, subject, slot or value is dropped (entities with it are skipped).
// Dropped items are counted in *dropped when given. Errors: kCorruption (with a short
// excerpt) when no JSON of that shape is found, or nesting/size exceed the limits.
Result<std::vector<ModelCandidate>> ParseExtraction(std::string_view content,
                                                    const std::vector<Turn>& window,
                                                    const std::vector<Neighbour>& known,
                                                    int* dropped = nullptr);

// What a model extraction spent; filled on success and on failure, so that budgets count
// failed calls too.
struct ModelUsage {
  int64_t calls = 0;  // ChatModel::Complete() calls, failed ones included
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

struct ExtractionRun {
  std::vector<ModelCandidate> candidates;
  int64_t calls = 0, prompt_tokens = 0, completion_tokens = 0;
  int dropped = 0;        // invalid items ignored
  bool repaired = false;  // the first answer was not valid and the repair round succeeded
};

// One call with BuildExtractionRequest. When the answer does not parse, one repair round
// sends back the broken answer (cut to 8 KB) and the parse error, asking for the valid
// JSON only (a short prompt: the turns are not sent again). Errors: the model's own error
// as is (kUnavailable: retry the job later); kCorruption when the repaired answer does
// not parse either. An empty window makes no call. `usage`, when given, is always set.
Result<ExtractionRun> ExtractWithModel(const ChatModel& model, const std::vector<Turn>& window,
                                       const std::vector<Neighbour>& known,
                                       ModelUsage* usage = nullptr);

}  // namespace mnemo::write
