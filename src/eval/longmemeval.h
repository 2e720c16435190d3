// LongMemEval (Wu et al., 2024) adapter: the official JSON schema parsed into plain
// structs. Each record is one question with its own haystack, so its question_id is
// the user scope of its memories.
//
// Mapping of turn i {role, content, has_answer?} of haystack session S:
//   Message.session = S, role = the role, text = content, time = the session's date +
//   i seconds, meta = {"session_id": S, "turn": i (0-based), "has_answer": bool (if
//   present)}.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/dataset.h"
#include "mnemo/engine.h"

namespace mnemo::eval {

struct LongMemEvalQuestion {
  std::string question_id;  // also the user scope
  std::string question_type;
  std::string question;
  std::string answer;  // numbers as text
  std::optional<TimeMs> question_time;
  std::vector<std::string> haystack_session_ids;
  std::vector<std::string> answer_session_ids;
  std::vector<std::string> answer_turns;  // TurnKey()s of the turns with has_answer true
  std::vector<Message> messages;          // haystack order, then turn order

  // Abstention questions (id ending in "_abs") have no answer in the haystack: the
  // official retrieval protocol leaves them out.
  bool abstention() const;
};

struct LongMemEvalDataset {
  std::vector<LongMemEvalQuestion> questions;
  LoadStats stats;
};

// Parses the whole file (a JSON list of records). A malformed record fails with its
// position (`record 2 (ba358f49): session 5 (answer_1) turn 3: missing "content"`) or,
// under options.skip_bad, the whole record is skipped and counted: dropping only a turn
// would leave a haystack that is not the benchmark's.
Result<LongMemEvalDataset> ParseLongMemEval(std::string_view json_text,
                                            const ParseOptions& options);
Result<LongMemEvalDataset> LoadLongMemEval(const std::string& path, const ParseOptions& options);

// The id of turn `turn` (0-based) of a haystack session, as scoring compares them.
std::string TurnKey(std::string_view session_id, int64_t turn);

}  // namespace mnemo::eval
