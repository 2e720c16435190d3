#include "eval/longmemeval.h"

#include <set>
#include <utility>

#include "util/fs.h"

namespace mnemo::eval {
namespace {

using internal::At;
using internal::Find;
using util::Json;

Result<std::string> RequiredString(const Json& obj, const char* key, const std::string& where) {
  const Json* v = Find(obj, key);
  if (!v || v->is_null()) return At(where, std::string("missing \"") + key + "\"");
  if (!v->is_string()) return At(where, std::string("expected a string for \"") + key + "\"");
  return v->get<std::string>();
}

Result<std::vector<std::string>> StringList(const Json& obj, const char* key,
                                            const std::string& where, bool required) {
  std::vector<std::string> out;
  const Json* v = Find(obj, key);
  if (!v || v->is_null()) {
    if (required) return At(where, std::string("missing \"") + key + "\"");
    return out;
  }
  const Status bad = At(where, std::string("expected a list of strings for \"") + key + "\"");
  if (!v->is_array()) return bad;
  for (const Json& e : *v) {
    if (!e.is_string()) return bad;
    out.push_back(e.get<std::string>());
  }
  return out;
}

// Appends the turns of one haystack session to q->messages: stored in session `stored_as`,
// scored as `session_id` (the file's id, in the metadata).
Status ParseSession(const Json& turns, const std::string& session_id, const std::string& stored_as,
                    TimeMs start, const std::string& where, LongMemEvalQuestion* q,
                    int64_t* empty_turns) {
  if (!turns.is_array()) return At(where, "expected a list of turns");
  for (size_t i = 0; i < turns.size(); ++i) {
    const std::string twhere = where + " turn " + std::to_string(i + 1);
    const Json& t = turns[i];
    if (!t.is_object()) return At(twhere, "expected an object");
    Message m;
    MNEMO_ASSIGN_OR_RETURN(m.role, RequiredString(t, "role", twhere));
    MNEMO_ASSIGN_OR_RETURN(m.text, RequiredString(t, "content", twhere));
    const auto turn = static_cast<int64_t>(i);
    Json meta = {{"session_id", session_id}, {"turn", turn}};
    if (const Json* h = Find(t, "has_answer"); h && !h->is_null()) {
      if (!h->is_boolean()) return At(twhere, "expected true or false for \"has_answer\"");
      meta["has_answer"] = h->get<bool>();
      if (h->get<bool>()) q->answer_turns.push_back(TurnKey(session_id, turn));
    }
    if (m.text.empty()) {
      ++*empty_turns;
      continue;
    }
    m.session = stored_as;
    m.time = start + turn * 1000;
    m.meta = util::DumpJson(meta);
    q->messages.push_back(std::move(m));
  }
  return Status::Ok();
}

// `empty_turns` and `repeated` count turns without text and haystack sessions whose id
// an earlier position of the record has already.
Result<LongMemEvalQuestion> ParseRecord(const Json& r, size_t index, int64_t* empty_turns,
                                        int64_t* repeated) {
  std::string where = "record " + std::to_string(index + 1);
  if (!r.is_object()) return At(where, "expected an object");
  LongMemEvalQuestion q;
  MNEMO_ASSIGN_OR_RETURN(q.question_id, RequiredString(r, "question_id", where));
  if (q.question_id.empty()) return At(where, "empty \"question_id\"");
  where += " (" + q.question_id + ")";
  MNEMO_ASSIGN_OR_RETURN(q.question_type, RequiredString(r, "question_type", where));
  MNEMO_ASSIGN_OR_RETURN(q.question, RequiredString(r, "question", where));
  if (q.question.empty()) return At(where, "empty \"question\"");
  if (const Json* a = Find(r, "answer"); a && !a->is_null()) {
    auto text = internal::ScalarText(*a);
    if (!text) return At(where, "expected a string or number for \"answer\"");
    q.answer = *text;
  }
  if (const Json* d = Find(r, "question_date"); d && !d->is_null()) {
    if (!d->is_string()) return At(where, "expected a string for \"question_date\"");
    auto t = ParseLongMemEvalDate(d->get<std::string>());
    if (!t.ok()) return At(where, "\"question_date\": " + t.status().message());
    q.question_time = *t;
  }
  MNEMO_ASSIGN_OR_RETURN(q.haystack_session_ids,
                         StringList(r, "haystack_session_ids", where, /*required=*/true));
  MNEMO_ASSIGN_OR_RETURN(auto dates, StringList(r, "haystack_dates", where, /*required=*/true));
  MNEMO_ASSIGN_OR_RETURN(q.answer_session_ids,
                         StringList(r, "answer_session_ids", where, /*required=*/false));
  const Json* sessions = Find(r, "haystack_sessions");
  if (!sessions || !sessions->is_array()) return At(where, "missing \"haystack_sessions\" list");
  const size_t n = q.haystack_session_ids.size();
  if (dates.size() != n || sessions->size() != n) {
    return At(where,
              "\"haystack_session_ids\", \"haystack_dates\" and \"haystack_sessions\" "
              "differ in length (" +
                  std::to_string(n) + ", " + std::to_string(dates.size()) + ", " +
                  std::to_string(sessions->size()) + ")");
  }
  std::set<std::string> seen;
  for (size_t s = 0; s < n; ++s) {
    const std::string& id = q.haystack_session_ids[s];
    const std::string swhere = where + ": session " + std::to_string(s + 1) + " (" + id + ")";
    if (id.empty()) return At(swhere, "empty session id");
    // The official files repeat a session id in a few haystacks; the official protocol
    // takes sessions by position. A repeat is stored as a session of its own ("ID@POS",
    // so that the two conversations do not merge) and scored by its id, as there.
    const bool repeat = !seen.insert(id).second;
    if (repeat) ++*repeated;
    const std::string stored_as = repeat ? id + "@" + std::to_string(s + 1) : id;
    auto start = ParseLongMemEvalDate(dates[s]);
    if (!start.ok()) return At(swhere, start.status().message());
    MNEMO_RETURN_IF_ERROR(
        ParseSession((*sessions)[s], id, stored_as, *start, swhere, &q, empty_turns));
  }
  return q;
}

}  // namespace

bool LongMemEvalQuestion::abstention() const {
  constexpr std::string_view kSuffix = "_abs";
  return question_id.size() >= kSuffix.size() &&
         question_id.compare(question_id.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

std::string TurnKey(std::string_view session_id, int64_t turn) {
  return std::string(session_id) + "#" + std::to_string(turn);
}

Result<LongMemEvalDataset> ParseLongMemEval(std::string_view json_text,
                                            const ParseOptions& options) {
  auto root = util::ParseJson(json_text);
  if (!root.ok()) return root.status().WithContext("LongMemEval file");
  if (!root->is_array()) {
    return Status::InvalidArgument("LongMemEval file: expected a JSON list of records");
  }
  LongMemEvalDataset ds;
  std::set<std::string> seen;
  for (size_t i = 0; i < root->size(); ++i) {
    int64_t empty_turns = 0, repeated = 0;
    auto q = ParseRecord((*root)[i], i, &empty_turns, &repeated);
    Status bad = q.ok() ? Status::Ok() : q.status();
    if (q.ok() && !seen.insert(q->question_id).second) {
      bad = At("record " + std::to_string(i + 1) + " (" + q->question_id + ")",
               "duplicate \"question_id\"");
    }
    if (!bad.ok()) {
      MNEMO_RETURN_IF_ERROR(internal::SkipOrFail(bad, options, &ds.stats));
      continue;
    }
    ds.stats.empty_turns += empty_turns;
    ds.stats.repeated_sessions += repeated;
    ds.questions.push_back(std::move(q).value());
  }
  return ds;
}

Result<LongMemEvalDataset> LoadLongMemEval(const std::string& path, const ParseOptions& options) {
  auto text = util::ReadFile(path);
  if (!text.ok()) return text.status();
  auto ds = ParseLongMemEval(*text, options);
  if (!ds.ok()) return ds.status().WithContext(path);
  return ds;
}

}  // namespace mnemo::eval
