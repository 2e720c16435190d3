#include "eval/locomo.h"

#include <algorithm>
#include <set>
#include <utility>

#include "util/fs.h"

namespace mnemo::eval {
namespace {

using internal::At;
using internal::Find;
using internal::SkipOrFail;
using util::Json;

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsDiaId(std::string_view s) {
  if (s.size() < 4 || s[0] != 'D') return false;
  const size_t colon = s.find(':');
  return colon != std::string_view::npos && AllDigits(s.substr(1, colon - 1)) &&
         AllDigits(s.substr(colon + 1));
}

// "session_12" -> 12; -1 for any other key (dates, speakers, ...).
int SessionNumber(const std::string& key) {
  constexpr std::string_view kPrefix = "session_";
  if (key.compare(0, kPrefix.size(), kPrefix) != 0) return -1;
  const std::string_view digits = std::string_view(key).substr(kPrefix.size());
  if (!AllDigits(digits) || digits.size() > 6) return -1;
  return std::stoi(std::string(digits));
}

Result<std::string> RequiredString(const Json& obj, const char* key, const std::string& where) {
  const Json* v = Find(obj, key);
  if (!v || v->is_null()) return At(where, std::string("missing \"") + key + "\"");
  if (!v->is_string()) return At(where, std::string("expected a string for \"") + key + "\"");
  return v->get<std::string>();
}

// One turn -> one message; std::nullopt for a turn with no text at all.
Result<std::optional<Message>> ParseTurn(const Json& turn, const std::string& where,
                                         const std::string& session, TimeMs time) {
  if (!turn.is_object()) return At(where, "expected an object");
  Message m;
  MNEMO_ASSIGN_OR_RETURN(m.speaker, RequiredString(turn, "speaker", where));
  MNEMO_ASSIGN_OR_RETURN(std::string dia_id, RequiredString(turn, "dia_id", where));
  if (dia_id.empty()) return At(where, "empty \"dia_id\"");
  MNEMO_ASSIGN_OR_RETURN(m.text, RequiredString(turn, "text", where));
  std::string caption;
  if (const Json* c = Find(turn, "blip_caption"); c && !c->is_null()) {
    if (!c->is_string()) return At(where, "expected a string for \"blip_caption\"");
    caption = c->get<std::string>();
  }
  Json meta = {{"dia_id", dia_id}};
  if (!caption.empty()) {
    m.text += (m.text.empty() ? "" : " ") + std::string("[image: ") + caption + "]";
    meta["blip_caption"] = caption;
  }
  if (m.text.empty()) return std::optional<Message>();
  m.session = session;
  m.time = time;
  m.meta = util::DumpJson(meta);
  return std::optional<Message>(std::move(m));
}

Result<LocomoQuestion> ParseQuestion(const Json& qa, const std::string& where,
                                     int* dropped_evidence) {
  if (!qa.is_object()) return At(where, "expected an object");
  LocomoQuestion q;
  MNEMO_ASSIGN_OR_RETURN(q.question, RequiredString(qa, "question", where));
  if (q.question.empty()) return At(where, "empty \"question\"");
  if (const Json* a = Find(qa, "answer"); a && !a->is_null()) {
    auto text = internal::ScalarText(*a);
    if (!text) return At(where, "expected a string or number for \"answer\"");
    q.answer = *text;
  }
  const Json* cat = Find(qa, "category");
  if (!cat) return At(where, "missing \"category\"");
  if (!cat->is_number_integer() || cat->get<int64_t>() < 1 || cat->get<int64_t>() > 5) {
    return At(where, "\"category\" must be an integer from 1 to 5");
  }
  q.category = cat->get<int>();
  int dropped = 0;
  if (const Json* ev = Find(qa, "evidence"); ev && !ev->is_null()) {
    if (!ev->is_array()) return At(where, "expected a list of strings for \"evidence\"");
    for (const Json& e : *ev) {
      if (!e.is_string()) return At(where, "expected a list of strings for \"evidence\"");
      dropped += NormalizeEvidence(e.get<std::string>(), &q.evidence);
    }
  }
  *dropped_evidence += dropped;
  return q;
}

Status ParseSessions(const Json& conv, const std::string& where, const ParseOptions& options,
                     LocomoSample* sample, LoadStats* stats) {
  std::vector<std::pair<int, std::string>> sessions;
  for (auto it = conv.begin(); it != conv.end(); ++it) {
    const int n = SessionNumber(it.key());
    if (n >= 0) sessions.emplace_back(n, it.key());
  }
  std::sort(sessions.begin(), sessions.end());
  for (const auto& [n, key] : sessions) {
    const std::string swhere = where + ": " + key;
    const Json& turns = *Find(conv, key);
    const Json* date = Find(conv, key + "_date_time");
    Status bad;
    Result<TimeMs> start = Status::InvalidArgument("unset");
    if (!turns.is_array()) {
      bad = At(swhere, "expected a list of turns");
    } else if (!date || !date->is_string()) {
      bad = At(swhere, "missing \"" + key + "_date_time\"");
    } else if (start = ParseLocomoDateTime(date->get<std::string>()); !start.ok()) {
      bad = At(swhere, start.status().message());
    }
    if (!bad.ok()) {
      MNEMO_RETURN_IF_ERROR(SkipOrFail(bad, options, stats));
      continue;
    }
    for (size_t j = 0; j < turns.size(); ++j) {
      const std::string twhere = swhere + " turn " + std::to_string(j + 1);
      auto m = ParseTurn(turns[j], twhere, key, *start + static_cast<TimeMs>(j) * 1000);
      if (!m.ok()) {
        MNEMO_RETURN_IF_ERROR(SkipOrFail(m.status(), options, stats));
      } else if (!m->has_value()) {
        ++stats->empty_turns;
      } else {
        sample->messages.push_back(std::move(**m));
      }
    }
  }
  return Status::Ok();
}

Result<LocomoSample> ParseSample(const Json& s, size_t index, const ParseOptions& options,
                                 LoadStats* stats) {
  std::string where = "sample " + std::to_string(index + 1);
  if (!s.is_object()) return At(where, "expected an object");
  LocomoSample sample;
  MNEMO_ASSIGN_OR_RETURN(sample.sample_id, RequiredString(s, "sample_id", where));
  if (sample.sample_id.empty()) return At(where, "empty \"sample_id\"");
  where += " (" + sample.sample_id + ")";
  const Json* conv = Find(s, "conversation");
  if (!conv || !conv->is_object()) return At(where, "missing \"conversation\" object");
  MNEMO_ASSIGN_OR_RETURN(sample.speaker_a, RequiredString(*conv, "speaker_a", where));
  MNEMO_ASSIGN_OR_RETURN(sample.speaker_b, RequiredString(*conv, "speaker_b", where));
  // Work on a local copy of the counters: if the sample turns out bad, the records it
  // skipped so far must not be counted on top of the sample itself.
  LoadStats local;
  MNEMO_RETURN_IF_ERROR(ParseSessions(*conv, where, options, &sample, &local));
  if (const Json* qa = Find(s, "qa"); qa && !qa->is_null()) {
    if (!qa->is_array()) return At(where, "expected a list for \"qa\"");
    for (size_t q = 0; q < qa->size(); ++q) {
      int dropped = 0;
      auto question = ParseQuestion((*qa)[q], where + ": qa " + std::to_string(q + 1), &dropped);
      if (!question.ok()) {
        MNEMO_RETURN_IF_ERROR(SkipOrFail(question.status(), options, &local));
        continue;
      }
      local.dropped_evidence += dropped;
      sample.questions.push_back(std::move(question).value());
    }
  }
  stats->skipped_records += local.skipped_records;
  stats->dropped_evidence += local.dropped_evidence;
  stats->empty_turns += local.empty_turns;
  for (auto& p : local.problems) stats->problems.push_back(std::move(p));
  return sample;
}

}  // namespace

Result<LocomoDataset> ParseLocomo(std::string_view json_text, const ParseOptions& options) {
  auto root = util::ParseJson(json_text);
  if (!root.ok()) return root.status().WithContext("LoCoMo file");
  if (!root->is_array())
    return Status::InvalidArgument("LoCoMo file: expected a JSON list of samples");
  LocomoDataset ds;
  std::set<std::string> seen;
  for (size_t i = 0; i < root->size(); ++i) {
    auto sample = ParseSample((*root)[i], i, options, &ds.stats);
    Status bad = sample.ok() ? Status::Ok() : sample.status();
    if (sample.ok() && !seen.insert(sample->sample_id).second) {
      bad = At("sample " + std::to_string(i + 1) + " (" + sample->sample_id + ")",
               "duplicate \"sample_id\"");
    }
    if (!bad.ok()) {
      MNEMO_RETURN_IF_ERROR(SkipOrFail(bad, options, &ds.stats));
      continue;
    }
    ds.samples.push_back(std::move(sample).value());
  }
  return ds;
}

Result<LocomoDataset> LoadLocomo(const std::string& path, const ParseOptions& options) {
  auto text = util::ReadFile(path);
  if (!text.ok()) return text.status();
  auto ds = ParseLocomo(*text, options);
  if (!ds.ok()) return ds.status().WithContext(path);
  return ds;
}

std::string_view LocomoCategoryName(int category) {
  switch (category) {
    case 1:
      return "multi-hop";
    case 2:
      return "temporal";
    case 3:
      return "open-domain";
    case 4:
      return "single-hop";
    case 5:
      return "adversarial";
    default:
      return "";
  }
}

std::string LocomoSessionOf(std::string_view dia_id) {
  if (!IsDiaId(dia_id)) return "";
  const std::string_view digits = dia_id.substr(1, dia_id.find(':') - 1);
  size_t first = digits.find_first_not_of('0');  // "D08:1" belongs to session_8
  if (first == std::string_view::npos) first = digits.size() - 1;
  return "session_" + std::string(digits.substr(first));
}

int NormalizeEvidence(std::string_view entry, std::vector<std::string>* ids) {
  int dropped = 0, pieces = 0;
  size_t i = 0;
  while (i < entry.size()) {
    const size_t end = entry.find_first_of("; ,\t\n", i);
    const std::string_view piece = entry.substr(i, end == std::string_view::npos ? end : end - i);
    i = end == std::string_view::npos ? entry.size() : end + 1;
    if (piece.empty()) continue;
    ++pieces;
    if (!IsDiaId(piece)) {
      ++dropped;
    } else if (std::find(ids->begin(), ids->end(), piece) == ids->end()) {
      ids->emplace_back(piece);
    }
  }
  return pieces == 0 ? 1 : dropped;  // an empty entry is malformed too
}

}  // namespace mnemo::eval
