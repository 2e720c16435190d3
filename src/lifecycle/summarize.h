// Summaries (docs/lifecycle.md, "Summaries"): the text of a session summary — extractive
// (no model) or the prompt and answer of a chat model — and the topics of a user's
// derived memories with the text of their topic summaries.
//
// Extractive session summary: the session's sentences are scored by TF-IDF centrality
// (cosine of the sentence's term vector with the session's, terms weighted by their
// inverse frequency over the session's sentences), with a bonus for concrete details
// (numbers, dates, names), a penalty for questions and very short sentences; the best are
// chosen greedily without near-duplicates (shared terms), within kMaxSummarySentences and
// kMaxSummaryBodyBytes, then listed in time order, each after its speaker, behind a
// header with the absolute date and the speakers:
//   "Session of 8 May 2023 (Caroline, Melanie): Caroline: I went to ... Melanie: ..."
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/chat_model.h"
#include "mnemo/memory.h"
#include "mnemo/status.h"

namespace mnemo::lifecycle {

inline constexpr size_t kMaxSummarySentences = 5;
inline constexpr size_t kMaxSummaryBodyBytes = 600;        // extractive body, header excluded
inline constexpr size_t kMaxSummarySentenceBytes = 220;    // a longer sentence is cut ("...")
inline constexpr size_t kMaxModelSummaryBytes = 2000;      // a longer model summary is cut
inline constexpr size_t kMaxSummaryPromptTurnBytes = 600;  // a longer turn is cut in prompts
inline constexpr size_t kMaxSummaryPromptBytes = 24000;    // later turns are left out
inline constexpr size_t kMaxTopicSummaryBytes = 1000;      // topic body
inline constexpr size_t kMaxSpeakersInHeader = 5;

// One turn of a session, in time order.
struct SummaryTurn {
  std::string speaker;  // or the role when there is no speaker; may be ""
  std::string text;
  std::optional<TimeMs> time;
};

// "Session of 8 May 2023 (Caroline, Melanie)": the first turn's date (a session over
// several days: "8 May 2023 - 10 May 2023"), the distinct speakers in order of
// appearance (at most kMaxSpeakersInHeader). Without times: "Session (Caroline)".
std::string SessionHeader(const std::vector<SummaryTurn>& turns);

// The extractive summary "<header>: <speaker>: <sentence> ..." ("" for no turns).
std::string ExtractiveSessionSummary(const std::vector<SummaryTurn>& turns);

// The chat request for an abstractive summary: the turns numbered with date and speaker
// (each cut to kMaxSummaryPromptTurnBytes; turns beyond kMaxSummaryPromptBytes are left
// out, with a note saying how many), and the strict schema {"summary": string}.
ChatRequest BuildSummaryRequest(const std::vector<SummaryTurn>& turns);

// The model's summary from its answer: the JSON object {"summary": "..."} (code fences
// or prose around it tolerated), trimmed, cut to kMaxModelSummaryBytes at a UTF-8
// boundary, behind SessionHeader(turns). kCorruption (with an excerpt) when there is no
// such object, the summary is empty or not valid UTF-8.
Result<std::string> ParseSummaryAnswer(std::string_view content,
                                       const std::vector<SummaryTurn>& turns);

// A derived memory as topic detection sees it.
struct TopicItem {
  MemoryId id = 0;
  std::string text;
  std::vector<std::string> entities;
  TimeMs time = 0;  // when it happened or became valid
};

struct Topic {
  std::string name;           // the entity as first spelled (oldest memory)
  std::vector<size_t> items;  // indexes into the input, in time order
};

// The entities named (case-insensitively) by at least `min_items` of `items`, excluding
// those in `exclude` (the user's own id), most named first (ties: name), at most
// `max_topics`.
std::vector<Topic> FindTopics(const std::vector<TopicItem>& items, int min_items, size_t max_topics,
                              const std::vector<std::string>& exclude);

// "About Miso: <texts in time order>" within kMaxTopicSummaryBytes, keeping the most
// recent texts when they do not all fit.
std::string TopicSummaryText(const std::string& topic, const std::vector<const TopicItem*>& items);

}  // namespace mnemo::lifecycle
