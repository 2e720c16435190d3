// LoCoMo (Maharana et al., 2024) adapter: the JSON of its public release parsed into
// plain structs, ready to ingest (one user scope per sample) and to score.
//
// Mapping of a turn {speaker, dia_id, text, blip_caption?} of `session_N`:
//   Message.session = "session_N", speaker = the name (role stays empty: both
//   participants are people), text = the text plus " [image: <caption>]" when the turn
//   shared an image (the caption is all mnemo can know of it), time = the session's
//   `session_N_date_time` + the turn's index in seconds (turns stay ordered),
//   meta = {"dia_id": ..., "blip_caption": ... (if any)}.
// Sessions come in numeric order; date keys without a session are ignored.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/dataset.h"
#include "mnemo/engine.h"

namespace mnemo::eval {

struct LocomoQuestion {
  std::string question;
  std::string answer;  // numbers as text; "" when absent (adversarial questions)
  // Normalised dia ids "D<n>:<m>", deduplicated, in file order. Malformed entries are
  // split ("D8:6; D9:17" -> two ids) or dropped and counted (LoadStats::dropped_evidence).
  std::vector<std::string> evidence;
  int category = 0;  // 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial
};

struct LocomoSample {
  std::string sample_id;  // also the user scope of its memories
  std::string speaker_a;
  std::string speaker_b;
  std::vector<Message> messages;  // session order, then turn order
  std::vector<LocomoQuestion> questions;
};

struct LocomoDataset {
  std::vector<LocomoSample> samples;
  LoadStats stats;
};

// Parses the whole file. A malformed sample, session, turn or question fails with its
// position (`sample 3 (conv-41): session_7 turn 12: missing "text"`), or is skipped
// and counted under options.skip_bad (a skipped sample takes its questions with it).
Result<LocomoDataset> ParseLocomo(std::string_view json_text, const ParseOptions& options);
Result<LocomoDataset> LoadLocomo(const std::string& path, const ParseOptions& options);

// "multi-hop", "temporal", "open-domain", "single-hop", "adversarial"; "" otherwise.
std::string_view LocomoCategoryName(int category);

// The session key "session_<n>" a dia id "D<n>:<m>" belongs to ("" if malformed).
std::string LocomoSessionOf(std::string_view dia_id);

// Splits one raw evidence entry into well-formed dia ids; returns how many pieces were
// dropped because they do not look like D<n>:<m>.
int NormalizeEvidence(std::string_view entry, std::vector<std::string>* ids);

}  // namespace mnemo::eval
