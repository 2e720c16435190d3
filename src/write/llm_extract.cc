#include "write/llm_extract.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include "util/json_codec.h"
#include "util/time_util.h"
#include "util/utf8.h"

namespace mnemo::write {
namespace {

using util::Json;

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD
constexpr size_t kMaxShortFieldBytes = 200;                    // entities, time_text
constexpr size_t kMaxRepairEchoBytes = 8192;  // the broken answer sent back for repair
constexpr int kMaxJsonStarts = 16;            // '{' / '[' positions tried when prose surrounds JSON

// Compact on purpose: it is sent once per window, and its tokens count against the
// per-turn prompt budget.
constexpr std::string_view kSystemPrompt =
    "You extract long-term memories about the people in a conversation. Answer with JSON "
    "only: {\"memories\":[...]}, an empty list when nothing is worth keeping.\n"
    "Keep facts (events, plans, relations, jobs, places, possessions), preferences, and "
    "procedures (how someone wants things done). Skip small talk, greetings, questions, and "
    "assistant suggestions the user did not confirm.\n"
    "Each memory:\n"
    "- text: one self-contained third-person sentence naming who (\"Caroline moved to Boston "
    "on 2023-05-06\"); absolute dates computed from the turn's date, never \"yesterday\".\n"
    "- kind: fact, preference or procedure. subject: who it is about, lower case.\n"
    "- slot: key of an attribute with one current value (home_city, job, name, "
    "allergy:peanuts, likes:sushi, favorite:color), else \"\". value: its lower-case value, "
    "else \"\". polarity: -1 when negated or disliked, else 1.\n"
    "- event_date: YYYY-MM-DD when it happened, or null. time_text: original wording (\"last "
    "Friday\") or \"\".\n"
    "- entities: names of people, places, things. sources: numbers of the turns it comes "
    "from.\n"
    "- supersedes: id of a known memory it contradicts or updates, else null. same_as: id of "
    "a known memory that already says it, else null.";

constexpr std::string_view kRepairPrompt =
    "You fix broken JSON. Reply with only the corrected JSON object {\"memories\":[...]} "
    "following the schema: no prose, no code fences. Keep the content; drop items that "
    "cannot be repaired.";

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Cuts at a UTF-8 boundary so that what is sent stays valid text.
std::string Cut(std::string_view s, size_t max_bytes, std::string_view ellipsis = "...") {
  if (s.size() <= max_bytes) return std::string(s);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end)) + std::string(ellipsis);
}

std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

std::string Excerpt(std::string_view s) { return "\"" + OneLine(Cut(Trim(s), 80)) + "\""; }

std::string Date(TimeMs t) { return util::FormatIso8601(t).substr(0, 10); }

const std::string& ExtractionSchema() {
  static const std::string& schema = *new std::string([] {
    const Json str = {{"type", "string"}};
    const Json item = {
        {"type", "object"},
        {"additionalProperties", false},
        {"required",
         {"kind", "text", "subject", "slot", "value", "polarity", "event_date", "time_text",
          "entities", "sources", "supersedes", "same_as"}},
        {"properties",
         {{"kind", {{"type", "string"}, {"enum", {"fact", "preference", "procedure"}}}},
          {"text", str},
          {"subject", str},
          {"slot", str},
          {"value", str},
          {"polarity", {{"type", "integer"}, {"enum", {1, -1}}}},
          {"event_date", {{"type", {"string", "null"}}}},
          {"time_text", str},
          {"entities", {{"type", "array"}, {"items", str}}},
          {"sources", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
          {"supersedes", {{"type", {"integer", "null"}}}},
          {"same_as", {{"type", {"integer", "null"}}}}}}};
    const Json root = {{"type", "object"},
                       {"additionalProperties", false},
                       {"required", {"memories"}},
                       {"properties", {{"memories", {{"type", "array"}, {"items", item}}}}}};
    return util::DumpJson(root);
  }());
  return schema;
}

// The model's text with every invalid UTF-8 byte replaced by U+FFFD: nlohmann refuses
// invalid strings, and one bad byte must cost one item, not the whole answer.
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const auto bad = util::FindInvalidUtf8(s.substr(pos));
    if (!bad) {
      out.append(s.substr(pos));
      break;
    }
    out.append(s.substr(pos, *bad));
    out.append(kReplacementChar);
    pos += *bad + 1;
  }
  return out;
}

// {"memories":[...]}, or a bare array that is empty or holds an object: "[1]" in prose
// ("see turn [1]") is not an answer.
bool HasShape(const Json& j) {
  if (j.is_array()) {
    return j.empty() ||
           std::any_of(j.begin(), j.end(), [](const Json& e) { return e.is_object(); });
  }
  return j.is_object() && j.contains("memories") && j["memories"].is_array();
}

// The end (exclusive) of the JSON value starting with '{' or '[' at `start`, scanning
// strings and escapes; nullopt when it never closes. Iterative: depth is only counted.
std::optional<size_t> BalancedEnd(std::string_view s, size_t start, bool* too_deep) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = start; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > util::kMaxJsonDepth) {
        *too_deep = true;
        return std::nullopt;
      }
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::nullopt;
}

// Finds the answer's JSON: the whole text, a ``` fenced block, or the first balanced
// {...} / [...] of the right shape in prose.
Result<Json> LocateJson(std::string_view text) {
  std::string last_error = "no JSON object found";
  // The parsed value when `part` is JSON of the right shape; `was_json` tells a JSON value
  // of another shape (whose inner arrays must not be mistaken for the answer) from text.
  const auto attempt = [&](std::string_view part, bool* was_json) -> std::optional<Json> {
    auto j = util::ParseJson(part);
    if (was_json) *was_json = j.ok();
    if (!j.ok()) {
      last_error = j.status().message();
      return std::nullopt;
    }
    if (!HasShape(*j)) {
      last_error = "expected {\"memories\":[...]}";
      return std::nullopt;
    }
    return std::move(j).value();
  };
  if (auto j = attempt(Trim(text), nullptr)) return std::move(*j);
  if (const size_t fence = text.find("```"); fence != std::string_view::npos) {
    const size_t body = text.find('\n', fence);
    const size_t close = body == std::string_view::npos ? body : text.find("```", body);
    if (close != std::string_view::npos) {
      if (auto j = attempt(text.substr(body, close - body), nullptr)) return std::move(*j);
    }
  }
  size_t pos = 0;
  for (int tries = 0; tries < kMaxJsonStarts; ++tries) {
    pos = text.find_first_of("{[", pos);
    if (pos == std::string_view::npos) break;
    bool too_deep = false;
    const auto end = BalancedEnd(text, pos, &too_deep);
    if (too_deep) {
      return Status::Corruption("model answer nested deeper than " +
                                std::to_string(util::kMaxJsonDepth) + " levels");
    }
    bool was_json = false;
    if (end) {
      if (auto j = attempt(text.substr(pos, *end - pos), &was_json)) return std::move(*j);
    }
    pos = was_json ? *end : pos + 1;
  }
  return Status::Corruption("model answer is not valid JSON (" + last_error +
                            "): " + Excerpt(text));
}

// An integer from a number (integral) or a string "123" / "#123"; models quote ids.
std::optional<int64_t> AsInteger(const Json& j) {
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  if (j.is_string()) {
    std::string_view s = j.get_ref<const std::string&>();
    if (!s.empty() && s.front() == '#') s.remove_prefix(1);
    if (s.empty() || s.size() > 18) return std::nullopt;
    int64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  }
  return std::nullopt;
}

// An optional string field: absent or null leaves `out` empty; false when of another type.
bool OptionalString(const Json& item, const char* key, std::string* out) {
  const auto it = item.find(key);
  if (it == item.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  *out = Trim(it->get_ref<const std::string&>());
  return true;
}

bool Clean(std::string_view s, size_t max_bytes) {
  return s.size() <= max_bytes && s.find(kReplacementChar) == std::string_view::npos &&
         util::IsValidUtf8(s);
}

MemoryId KnownId(const Json& item, const char* key, const std::set<MemoryId>& known_ids) {
  const auto it = item.find(key);
  if (it == item.end()) return 0;
  const auto id = AsInteger(*it);
  return id && known_ids.count(*id) ? *id : 0;
}

std::optional<ModelCandidate> ParseItem(const Json& item, const std::vector<Turn>& window,
                                        const std::set<MemoryId>& known_ids) {
  if (!item.is_object()) return std::nullopt;
  ModelCandidate out;
  Candidate& c = out.candidate;

  std::string kind;
  if (!OptionalString(item, "kind", &kind)) return std::nullopt;
  kind = Lower(kind);
  if (kind == "fact") {
    c.kind = Kind::kFact;
  } else if (kind == "preference") {
    c.kind = Kind::kPreference;
  } else if (kind == "procedure") {
    c.kind = Kind::kProcedure;
  } else {
    return std::nullopt;
  }
  if (!OptionalString(item, "text", &c.text) || c.text.empty() ||
      !Clean(c.text, kMaxMemoryTextBytes)) {
    return std::nullopt;
  }

  const auto sources = item.find("sources");
  if (sources == item.end() || !sources->is_array()) return std::nullopt;
  for (const Json& s : *sources) {
    const auto n = AsInteger(s);
    if (!n || *n < 1 || *n > static_cast<int64_t>(window.size())) continue;
    const MemoryId id = window[static_cast<size_t>(*n - 1)].id;
    if (std::find(c.sources.begin(), c.sources.end(), id) == c.sources.end()) {
      c.sources.push_back(id);
    }
  }
  if (c.sources.empty()) return std::nullopt;

  if (!OptionalString(item, "subject", &c.subject) || !OptionalString(item, "slot", &c.slot) ||
      !OptionalString(item, "value", &c.value) ||
      !OptionalString(item, "time_text", &c.time_text)) {
    return std::nullopt;
  }
  if (!Clean(c.subject, kMaxShortFieldBytes) || !Clean(c.slot, kMaxShortFieldBytes) ||
      !Clean(c.value, kMaxMemoryTextBytes)) {
    return std::nullopt;
  }
  if (!Clean(c.time_text, kMaxShortFieldBytes)) c.time_text.clear();
  if (c.subject.empty()) {
    // The first source turn is the best guess of who it is about.
    for (const Turn& t : window) {
      if (t.id != c.sources.front()) continue;
      c.subject = !t.speaker.empty() ? t.speaker : !t.role.empty() ? t.role : "user";
      break;
    }
  }
  c.subject = Lower(c.subject);
  c.slot = Lower(c.slot);
  c.value = Lower(c.value);

  if (const auto p = item.find("polarity"); p != item.end() && !p->is_null()) {
    if (!p->is_number()) return std::nullopt;
    c.polarity = p->get<double>() < 0 ? -1 : 1;
  }
  if (const auto d = item.find("event_date"); d != item.end() && d->is_string()) {
    if (auto t = util::ParseIso8601(Trim(d->get_ref<const std::string&>())); t.ok()) {
      c.event_time = *t;
    }
  }
  if (const auto e = item.find("entities"); e != item.end() && !e->is_null()) {
    if (!e->is_array()) return std::nullopt;
    std::set<std::string> seen;
    for (const Json& v : *e) {
      if (c.entities.size() >= kMaxEntitiesPerMemory) break;
      if (!v.is_string()) continue;
      std::string name = Trim(v.get_ref<const std::string&>());
      if (name.empty() || !Clean(name, kMaxShortFieldBytes)) continue;
      if (seen.insert(Lower(name)).second) c.entities.push_back(std::move(name));
    }
  }
  out.supersedes = KnownId(item, "supersedes", known_ids);
  out.same_as = KnownId(item, "same_as", known_ids);
  if (out.supersedes != 0 && out.same_as != 0) out.supersedes = out.same_as = 0;
  c.confidence = kModelConfidence;
  return out;
}

void AddUsage(const ChatResponse& r, ModelUsage* spent) {
  spent->prompt_tokens += r.prompt_tokens;
  spent->completion_tokens += r.completion_tokens;
}

}  // namespace

size_t EstimateTokensOfBytes(size_t bytes) { return (bytes + 3) / 4; }
size_t EstimateTokens(std::string_view text) { return EstimateTokensOfBytes(text.size()); }

ChatRequest BuildExtractionRequest(const std::vector<Turn>& window,
                                   const std::vector<Neighbour>& known) {
  std::string user = "Known memories:";
  if (known.empty()) user += " none";
  for (const Neighbour& n : known) {
    user += "\n#" + std::to_string(n.id) + " [" + (n.subject.empty() ? "?" : n.subject);
    if (!n.slot.empty()) {
      user += " " + n.slot + "=" + (n.polarity < 0 ? "not " : "") + n.value;
    }
    user += "] " + OneLine(Cut(n.text, kMaxPromptKnownBytes));
  }
  user += "\n\nTurns:";
  for (size_t i = 0; i < window.size(); ++i) {
    const Turn& t = window[i];
    user += "\n" + std::to_string(i + 1) + ". ";
    if (t.time) user += Date(*t.time) + " ";
    // The user's turns carry the user id when they name no speaker, so that the model's
    // texts name the person ("sam is vegetarian") rather than "the user".
    user += !t.speaker.empty()                    ? t.speaker
            : t.role == "user" && !t.user.empty() ? t.user + " (user)"
            : !t.role.empty()                     ? t.role
                                                  : "user";
    user += ": " + OneLine(Cut(t.text, kMaxPromptTurnBytes));
  }
  ChatRequest req;
  req.messages = {{"system", std::string(kSystemPrompt)}, {"user", std::move(user)}};
  req.json_schema = ExtractionSchema();
  req.schema_name = "memories";
  req.max_tokens = static_cast<int>(std::min<size_t>(4096, 256 + 96 * window.size()));
  req.temperature = 0;
  return req;
}

Result<std::vector<ModelCandidate>> ParseExtraction(std::string_view content,
                                                    const std::vector<Turn>& window,
                                                    const std::vector<Neighbour>& known,
                                                    int* dropped) {
  if (dropped) *dropped = 0;
  // Checked before anything copies the answer.
  if (content.size() > kMaxAnswerBytes) {
    return Status::Corruption("model answer of " + std::to_string(content.size()) +
                              " bytes is over the limit of " + std::to_string(kMaxAnswerBytes));
  }
  MNEMO_ASSIGN_OR_RETURN(const Json j, LocateJson(SanitizeUtf8(content)));
  const Json& items = j.is_array() ? j : j["memories"];
  std::set<MemoryId> known_ids;
  for (const Neighbour& n : known) known_ids.insert(n.id);
  std::vector<ModelCandidate> out;
  for (const Json& item : items) {
    if (auto mc = ParseItem(item, window, known_ids)) {
      out.push_back(std::move(*mc));
    } else if (dropped) {
      ++*dropped;
    }
  }
  return out;
}

Result<ExtractionRun> ExtractWithModel(const ChatModel& model, const std::vector<Turn>& window,
                                       const std::vector<Neighbour>& known, ModelUsage* usage) {
  ModelUsage spent;
  // Every return goes through here so that the caller's budget sees failed calls too.
  const auto finish = [&](Result<ExtractionRun> r) {
    if (usage) *usage = spent;
    return r;
  };
  if (window.empty()) return finish(ExtractionRun{});

  const ChatRequest request = BuildExtractionRequest(window, known);
  auto first = model.Complete(request);
  ++spent.calls;
  if (!first.ok()) return finish(first.status());
  AddUsage(*first, &spent);

  ExtractionRun run;
  auto parsed = ParseExtraction(first->content, window, known, &run.dropped);
  if (!parsed.ok()) {
    ChatRequest repair;
    repair.messages = {{"system", std::string(kRepairPrompt)},
                       {"user", "Parse error: " + parsed.status().message() + "\nBroken answer:\n" +
                                    Cut(SanitizeUtf8(first->content), kMaxRepairEchoBytes, "")}};
    repair.json_schema = request.json_schema;
    repair.schema_name = request.schema_name;
    repair.max_tokens = request.max_tokens;
    auto second = model.Complete(repair);
    ++spent.calls;
    if (!second.ok()) return finish(second.status());
    AddUsage(*second, &spent);
    parsed = ParseExtraction(second->content, window, known, &run.dropped);
    if (!parsed.ok()) {
      return finish(Status::Corruption("model answer still invalid after one repair round: " +
                                       parsed.status().message()));
    }
    run.repaired = true;
  }
  run.candidates = std::move(parsed).value();
  run.calls = spent.calls;
  run.prompt_tokens = spent.prompt_tokens;
  run.completion_tokens = spent.completion_tokens;
  return finish(std::move(run));
}

}  // namespace mnemo::write
