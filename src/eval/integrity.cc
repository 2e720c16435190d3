#include "eval/integrity.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "eval/dataset.h"
#include "util/fs.h"
#include "util/json_codec.h"
#include "util/time_util.h"
#include "write/derived.h"

namespace mnemo::eval {
namespace {

using internal::At;
using internal::Find;
using util::Json;

// Lower-case words joined by one space, without leading articles: "The Globex Corp." and
// "globex corp" compare equal.
std::string Norm(std::string_view s) {
  std::vector<std::string> words;
  std::string w;
  auto flush = [&] {
    if (!w.empty()) words.push_back(std::move(w));
    w.clear();
  };
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z')) {
      w += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || u >= 0x80 ||
               (c == '\'' && !w.empty())) {
      w += c;
    } else {
      flush();
    }
  }
  flush();
  for (auto& word : words) {  // "St Mary's" and "St Mary" (the analyzer drops the "'s")
    if (word.size() > 2 && word.ends_with("'s")) word.resize(word.size() - 2);
  }
  size_t b = 0;
  while (b < words.size() && (words[b] == "a" || words[b] == "an" || words[b] == "the")) ++b;
  std::string out;
  for (size_t k = b; k < words.size(); ++k) out += (out.empty() ? "" : " ") + words[k];
  return out;
}

std::string FactText(const std::string& slot, const std::optional<std::string>& value) {
  return slot + "=" + (value ? *value : "(none)");
}

const std::set<std::string>& KnownTags() {
  static const auto& tags = *new std::set<std::string>{
      "move",      "job",        "offer",        "relationship", "pet",
      "child",     "date",       "diet",         "like",         "dislike",
      "allergy",   "name",       "age",          "favorite",     "correction",
      "update",    "negation",   "hypothetical", "other_person", "question",
      "assistant", "suggestion", "restatement",  "plain",        "mixed"};
  return tags;
}

bool IsTrap(const IntegrityTurn& t) {
  static const auto& traps = *new std::set<std::string>{"hypothetical", "question", "other_person",
                                                        "assistant", "suggestion"};
  if (t.role == "assistant") return true;
  return std::any_of(t.tags.begin(), t.tags.end(), [](const auto& g) { return traps.count(g); });
}

Status CheckKeys(const Json& obj, std::initializer_list<std::string_view> known,
                 const std::string& where) {
  for (const auto& [key, v] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return At(where, "unknown field \"" + key + "\"");
    }
  }
  return Status::Ok();
}

Result<std::string> String(const Json& obj, std::string_view key, const std::string& where,
                           bool required) {
  const Json* v = Find(obj, key);
  if (v == nullptr) {
    if (required) return At(where, "\"" + std::string(key) + "\" is required");
    return std::string();
  }
  if (!v->is_string()) return At(where, "\"" + std::string(key) + "\" must be a string");
  std::string s = v->get<std::string>();
  if (required && s.empty()) return At(where, "\"" + std::string(key) + "\" is empty");
  return s;
}

Result<IntegrityFact> ParseFact(const Json& f, const std::string& where) {
  if (!f.is_object()) return At(where, "a fact must be an object");
  MNEMO_RETURN_IF_ERROR(CheckKeys(f, {"slot", "value"}, where));
  IntegrityFact fact;
  MNEMO_ASSIGN_OR_RETURN(fact.slot, String(f, "slot", where, true));
  const Json* v = Find(f, "value");
  if (v == nullptr) return At(where, "\"value\" is required (null removes the slot)");
  if (v->is_string() && !v->get<std::string>().empty()) {
    fact.value = v->get<std::string>();
  } else if (!v->is_null()) {
    return At(where, "\"value\" must be a non-empty string or null");
  }
  return fact;
}

Result<IntegrityTurn> ParseTurn(const Json& t, const std::string& where) {
  if (!t.is_object()) return At(where, "a turn must be an object");
  MNEMO_RETURN_IF_ERROR(CheckKeys(t, {"role", "text", "time", "tags", "facts"}, where));
  IntegrityTurn turn;
  MNEMO_ASSIGN_OR_RETURN(turn.role, String(t, "role", where, true));
  if (turn.role != "user" && turn.role != "assistant") {
    return At(where, "\"role\" must be \"user\" or \"assistant\"");
  }
  MNEMO_ASSIGN_OR_RETURN(turn.text, String(t, "text", where, true));
  MNEMO_ASSIGN_OR_RETURN(std::string time, String(t, "time", where, false));
  if (!time.empty()) {
    auto parsed = util::ParseIso8601(time);
    if (!parsed.ok()) return At(where, "\"time\": " + parsed.status().message());
    turn.time = *parsed;
  }
  if (const Json* tags = Find(t, "tags")) {
    if (!tags->is_array()) return At(where, "\"tags\" must be an array of strings");
    for (const Json& g : *tags) {
      if (!g.is_string() || !KnownTags().count(g.get<std::string>())) {
        return At(where, "unknown tag " + util::DumpJson(g));
      }
      turn.tags.push_back(g.get<std::string>());
    }
  }
  if (const Json* facts = Find(t, "facts")) {
    if (!facts->is_array()) return At(where, "\"facts\" must be an array");
    for (size_t i = 0; i < facts->size(); ++i) {
      MNEMO_ASSIGN_OR_RETURN(auto fact,
                             ParseFact((*facts)[i], where + ": fact " + std::to_string(i + 1)));
      turn.facts.push_back(std::move(fact));
    }
  }
  if (turn.role == "assistant" && !turn.facts.empty()) {
    return At(where, "an assistant turn states no fact about the user");
  }
  return turn;
}

Result<IntegrityConversation> ParseConversation(const Json& c, const std::string& where) {
  if (!c.is_object()) return At(where, "a conversation must be a JSON object");
  MNEMO_RETURN_IF_ERROR(CheckKeys(c, {"id", "user", "speaker", "turns", "profile"}, where));
  IntegrityConversation conv;
  MNEMO_ASSIGN_OR_RETURN(conv.id, String(c, "id", where, true));
  MNEMO_ASSIGN_OR_RETURN(conv.user, String(c, "user", where, true));
  MNEMO_ASSIGN_OR_RETURN(conv.speaker, String(c, "speaker", where, false));
  const Json* turns = Find(c, "turns");
  if (turns == nullptr || !turns->is_array() || turns->empty()) {
    return At(where, "\"turns\" must be a non-empty array");
  }
  std::map<std::string, std::string> fold;
  for (size_t i = 0; i < turns->size(); ++i) {
    MNEMO_ASSIGN_OR_RETURN(auto turn,
                           ParseTurn((*turns)[i], where + ": turn " + std::to_string(i + 1)));
    for (const auto& f : turn.facts) {
      if (f.value) {
        fold[f.slot] = *f.value;
      } else {
        fold.erase(f.slot);
      }
    }
    conv.turns.push_back(std::move(turn));
  }
  const Json* profile = Find(c, "profile");
  if (profile == nullptr || !profile->is_object()) {
    return At(where, "\"profile\" must be an object of slot: value");
  }
  for (const auto& [slot, v] : profile->items()) {
    if (!v.is_string()) return At(where, "\"profile\": \"" + slot + "\" must be a string");
    conv.profile[slot] = v.get<std::string>();
  }
  if (conv.profile != fold) {
    return At(where, "\"profile\" is not what the turns' facts leave (labelling error)");
  }
  return conv;
}

// The profile entry a derived memory stands for: slot and value, no value when it negates
// an attribute ("Sam doesn't live in Oslo"; yes/no attributes keep "no").
struct DerivedFact {
  std::string slot;
  std::optional<std::string> value;
  MemoryId id = 0;
};

std::optional<DerivedFact> FactOf(const Memory& m) {
  auto meta = util::ParseStoredJson(m.metadata);
  if (!meta.ok() || !meta->is_object()) return std::nullopt;
  DerivedFact f;
  f.id = m.id;
  f.slot = meta->value("slot", "");
  if (f.slot.empty()) return std::nullopt;
  const std::string value = meta->value("value", "");
  const bool negated = meta->value("polarity", 1) < 0;
  // A yes/no attribute at its default (not allergic, not abstaining) and a negated value
  // are no entry, as the profile shows them.
  if (write::IsDefaultValue(f.slot, value) || (negated && !write::IsYesNoSlot(f.slot))) return f;
  if (!value.empty()) f.value = value;
  return f;
}

bool Same(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a || !b) return !a && !b;
  return Norm(*a) == Norm(*b);
}

// Slot memories of `user` (any state) whose sources name `turn`.
Result<std::vector<DerivedFact>> DerivedFrom(Engine& e, const std::string& space,
                                             const std::string& user, MemoryId turn) {
  std::vector<DerivedFact> out;
  ListRequest req;
  req.filter.user_id = user;
  req.filter.kinds = {Kind::kFact, Kind::kPreference};
  req.filter.include_retired = true;
  req.limit = 1000;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(ListPage page, e.List(space, req));
    for (const Memory& m : page.memories) {
      if (std::find(m.sources.begin(), m.sources.end(), turn) == m.sources.end()) continue;
      if (auto f = FactOf(m)) out.push_back(std::move(*f));
    }
    if (page.next_cursor.empty()) break;
    req.cursor = page.next_cursor;
  }
  return out;
}

Result<std::map<std::string, std::string>> ProfileOf(Engine& e, const std::string& space,
                                                     const std::string& user) {
  MNEMO_ASSIGN_OR_RETURN(Profile p, e.GetProfile(space, user, kMaxProfileEntries));
  std::map<std::string, std::string> out;
  for (const auto& entry : p.entries) out[entry.key] = entry.value;
  return out;
}

void Score(const IntegrityTurn& turn, const std::vector<DerivedFact>& derived, IntegrityCounts* c) {
  c->turns += 1;
  c->expected += static_cast<int64_t>(turn.facts.size());
  for (const auto& f : turn.facts) {
    c->found += std::any_of(derived.begin(), derived.end(), [&](const DerivedFact& d) {
      return d.slot == f.slot && Same(d.value, f.value);
    });
  }
  c->derived += static_cast<int64_t>(derived.size());
  for (const auto& d : derived) {
    c->right += std::any_of(turn.facts.begin(), turn.facts.end(), [&](const IntegrityFact& f) {
      return d.slot == f.slot && Same(d.value, f.value);
    });
  }
}

class Runner {
 public:
  Runner(Engine& e, IntegrityReport* r) : e_(e), r_(*r) {}

  Status Conversation(const IntegrityConversation& conv, size_t index) {
    const std::string space = "c" + std::to_string(index + 1);
    MNEMO_RETURN_IF_ERROR(e_.CreateSpace(space));
    std::map<std::string, std::string> expected;  // the profile so far
    TimeMs time = 1704067200000;                  // 2024-01-01T00:00:00Z
    std::map<std::string, std::string> shown;
    for (size_t i = 0; i < conv.turns.size(); ++i) {
      const IntegrityTurn& turn = conv.turns[i];
      time = turn.time ? *turn.time : time + 60'000;
      Message msg;
      msg.session = "s1";
      msg.role = turn.role;
      if (turn.role == "user") msg.speaker = conv.speaker;
      msg.text = turn.text;
      msg.time = time;
      MNEMO_ASSIGN_OR_RETURN(IngestResult ingested, e_.Ingest(space, conv.user, {msg}));
      MNEMO_RETURN_IF_ERROR(e_.RunJobs(space, /*summaries_now=*/false));
      MNEMO_ASSIGN_OR_RETURN(auto derived, DerivedFrom(e_, space, conv.user, ingested.ids[0]));
      MNEMO_ASSIGN_OR_RETURN(shown, ProfileOf(e_, space, conv.user));
      Record(conv, i, derived, &expected, shown);
    }
    std::set<std::string> slots;
    for (const auto& [k, v] : expected) slots.insert(k);
    for (const auto& [k, v] : shown) slots.insert(k);
    int64_t right = 0;
    for (const auto& k : slots) {
      auto a = expected.find(k);
      auto b = shown.find(k);
      right += a != expected.end() && b != shown.end() && Norm(a->second) == Norm(b->second);
    }
    r_.profile_slots += static_cast<int64_t>(slots.size());
    r_.profile_right += right;
    r_.profiles_exact += right == static_cast<int64_t>(slots.size());
    r_.conversations += 1;
    return Status::Ok();
  }

 private:
  void Miss(const IntegrityConversation& conv, size_t i, const char* kind, std::string fact) {
    r_.misses.push_back(
        {conv.id, static_cast<int>(i + 1), kind, std::move(fact), conv.turns[i].text});
  }

  void Record(const IntegrityConversation& conv, size_t i, const std::vector<DerivedFact>& derived,
              std::map<std::string, std::string>* expected,
              const std::map<std::string, std::string>& shown) {
    const IntegrityTurn& turn = conv.turns[i];
    Score(turn, derived, &r_.overall);
    for (const auto& tag : turn.tags) Score(turn, derived, &r_.by_tag[tag]);
    if (IsTrap(turn)) {
      r_.trap_turns += 1;
      for (const auto& d : derived) {
        r_.trap_facts += std::none_of(
            turn.facts.begin(), turn.facts.end(),
            [&](const IntegrityFact& f) { return d.slot == f.slot && Same(d.value, f.value); });
      }
    }
    for (const auto& f : turn.facts) {
      const bool found = std::any_of(derived.begin(), derived.end(), [&](const DerivedFact& d) {
        return d.slot == f.slot && Same(d.value, f.value);
      });
      if (!found) Miss(conv, i, "missed", FactText(f.slot, f.value));
    }
    for (const auto& d : derived) {
      const bool right = std::any_of(
          turn.facts.begin(), turn.facts.end(),
          [&](const IntegrityFact& f) { return d.slot == f.slot && Same(d.value, f.value); });
      if (!right) Miss(conv, i, "wrong", FactText(d.slot, d.value));
    }
    for (const auto& f : turn.facts) {
      auto before = expected->find(f.slot);
      const bool update = before != expected->end() && !Same(before->second, f.value);
      if (f.value) {
        (*expected)[f.slot] = *f.value;
      } else {
        expected->erase(f.slot);
      }
      if (!update) continue;
      r_.updates += 1;
      auto now = shown.find(f.slot);
      const std::optional<std::string> is =
          now == shown.end() ? std::nullopt : std::optional<std::string>(now->second);
      if (Same(is, f.value)) {
        r_.updates_right += 1;
      } else {
        Miss(conv, i, "stale",
             FactText(f.slot, f.value) + " (profile: " + FactText(f.slot, is) + ")");
      }
    }
  }

  Engine& e_;
  IntegrityReport& r_;
};

std::string Fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

std::string Row(const std::string& name, const IntegrityCounts& c) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%-14s %6lld %8lld %8lld %9s %7s\n", name.c_str(),
                static_cast<long long>(c.turns), static_cast<long long>(c.expected),
                static_cast<long long>(c.derived), Fixed3(c.Precision()).c_str(),
                Fixed3(c.Recall()).c_str());
  return buf;
}

Json CountsToJson(const IntegrityCounts& c) {
  return {{"turns", c.turns},     {"expected", c.expected}, {"found", c.found},
          {"derived", c.derived}, {"right", c.right},       {"precision", c.Precision()},
          {"recall", c.Recall()}};
}

}  // namespace

Result<IntegrityDataset> ParseIntegrity(std::string_view jsonl) {
  IntegrityDataset data;
  std::set<std::string> ids;
  size_t line_no = 0;
  while (!jsonl.empty()) {
    const size_t nl = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, nl);
    jsonl = nl == std::string_view::npos ? std::string_view() : jsonl.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = "line " + std::to_string(line_no);
    auto json = util::ParseJson(line);
    if (!json.ok()) return At(where, json.status().message());
    MNEMO_ASSIGN_OR_RETURN(auto conv, ParseConversation(*json, where));
    if (!ids.insert(conv.id).second) return At(where, "duplicate id \"" + conv.id + "\"");
    data.conversations.push_back(std::move(conv));
  }
  if (data.conversations.empty()) {
    return Status::InvalidArgument("the integrity set holds no conversation");
  }
  return data;
}

Result<IntegrityDataset> LoadIntegrity(const std::string& path) {
  MNEMO_ASSIGN_OR_RETURN(std::string text, util::ReadFile(path));
  auto data = ParseIntegrity(text);
  if (!data.ok()) return Status(data.status().code(), path + ": " + data.status().message());
  return data;
}

Result<IntegrityReport> EvalIntegrity(Engine& engine, const IntegrityDataset& data,
                                      const std::string& extractor, const Progress& progress) {
  IntegrityReport report;
  report.extractor = extractor;
  Runner runner(engine, &report);
  for (size_t i = 0; i < data.conversations.size(); ++i) {
    if (Status s = runner.Conversation(data.conversations[i], i); !s.ok()) {
      return Status(s.code(), "conversation \"" + data.conversations[i].id + "\": " + s.message());
    }
    if (progress) {
      progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(data.conversations.size()));
    }
  }
  return report;
}

util::Json IntegrityReportToJson(const IntegrityReport& r) {
  Json tags = Json::object();
  for (const auto& [tag, c] : r.by_tag) tags[tag] = CountsToJson(c);
  Json misses = Json::array();
  for (const auto& m : r.misses) {
    misses.push_back({{"conversation", m.conversation},
                      {"turn", m.turn},
                      {"kind", m.kind},
                      {"fact", m.fact},
                      {"text", m.text}});
  }
  return {{"dataset", "integrity"},
          {"extractor", r.extractor},
          {"conversations", r.conversations},
          {"precision", r.overall.Precision()},
          {"recall", r.overall.Recall()},
          {"update_accuracy", r.UpdateAccuracy()},
          {"updates", r.updates},
          {"updates_right", r.updates_right},
          {"profile_slot_accuracy",
           r.profile_slots == 0 ? 1.0 : double(r.profile_right) / double(r.profile_slots)},
          {"profiles_exact", r.profiles_exact},
          {"trap_turns", r.trap_turns},
          {"trap_facts", r.trap_facts},
          {"overall", CountsToJson(r.overall)},
          {"by_tag", std::move(tags)},
          {"misses", std::move(misses)}};
}

std::string IntegrityReportToTable(const IntegrityReport& r, bool list_misses) {
  std::string out = "integrity: " + std::to_string(r.conversations) + " conversations, " +
                    std::to_string(r.overall.turns) + " turns, extractor " + r.extractor + "\n\n";
  out += "precision " + Fixed3(r.overall.Precision()) + "  recall " + Fixed3(r.overall.Recall()) +
         "  update accuracy " + Fixed3(r.UpdateAccuracy()) + " (" +
         std::to_string(r.updates_right) + "/" + std::to_string(r.updates) + ")\n";
  out += "final profiles: " + std::to_string(r.profile_right) + "/" +
         std::to_string(r.profile_slots) + " slots right, " + std::to_string(r.profiles_exact) +
         "/" + std::to_string(r.conversations) + " exact\n";
  out += "trap turns (hypothetical, question, other person, assistant): " +
         std::to_string(r.trap_facts) + " wrong facts from " + std::to_string(r.trap_turns) +
         " turns\n\n";
  char head[160];
  std::snprintf(head, sizeof(head), "%-14s %6s %8s %8s %9s %7s\n", "tag", "turns", "expected",
                "derived", "precision", "recall");
  out += head;
  for (const auto& [tag, c] : r.by_tag) out += Row(tag, c);
  out += Row("overall", r.overall);
  if (list_misses) {
    out += "\n";
    for (const auto& m : r.misses) {
      out += m.kind + "  " + m.conversation + " turn " + std::to_string(m.turn) + "  " + m.fact +
             "  \"" + m.text + "\"\n";
    }
  } else if (!r.misses.empty()) {
    out += "\n" + std::to_string(r.misses.size()) + " differences (--misses lists them)";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace mnemo::eval
