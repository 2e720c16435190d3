#include "util/json_codec.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "mnemo/search_params.h"
#include "util/time_util.h"

namespace mnemo::util {
namespace {

Json TimeOrNull(const std::optional<TimeMs>& t) {
  return t ? Json(FormatIso8601(*t)) : Json(nullptr);
}

Status FieldError(std::string_view key, std::string_view expected) {
  return Status::InvalidArgument("expected " + std::string(expected) + " for \"" +
                                 std::string(key) + "\"")
      .WithField(std::string(key));
}

const Json* Find(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<int64_t> GetInt(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (!v || !v->is_number_integer()) return FieldError(key, "integer");
  return v->get<int64_t>();
}

// Present and not null.
bool Has(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  return v && !v->is_null();
}

}  // namespace

Status GetIntInto(const Json& obj, std::string_view key, int* out) {
  if (!Has(obj, key)) return Status::Ok();
  MNEMO_ASSIGN_OR_RETURN(int64_t v, GetInt(obj, key));
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    return Status::InvalidArgument("\"" + std::string(key) + "\" is out of range")
        .WithField(std::string(key));
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

namespace {

Result<double> GetNumber(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (!v || !v->is_number()) return FieldError(key, "number");
  const double d = v->get<double>();
  if (!std::isfinite(d)) return FieldError(key, "finite number");
  return d;
}

Result<std::vector<std::string>> GetStringArray(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (!v || !v->is_array()) return FieldError(key, "array of strings");
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string()) return FieldError(key, "array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// A memory id: a positive JSON integer, or its decimal string (path parameters).
std::optional<MemoryId> AsMemoryId(const Json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u < 1 || u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<MemoryId>(u);
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    return i >= 1 ? std::optional<MemoryId>(i) : std::nullopt;
  }
  if (!v.is_string()) return std::nullopt;
  const std::string& t = v.get_ref<const std::string&>();
  MemoryId id = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), id);
  if (t.empty() || t[0] < '0' || t[0] > '9' || ec != std::errc() || end != t.data() + t.size() ||
      id < 1) {
    return std::nullopt;
  }
  return id;
}

}  // namespace

// A list of sensitivity label names (mnemo::Label); errors name the key.
Result<LabelSet> GetLabels(const Json& obj, std::string_view key) {
  MNEMO_ASSIGN_OR_RETURN(auto names, GetStringArray(obj, key));
  auto labels = ParseLabels(names);
  if (!labels.ok()) {
    return labels.status().WithContext("\"" + std::string(key) + "\"").WithField(std::string(key));
  }
  return labels;
}

Result<MemoryId> GetMemoryId(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (!v || v->is_null()) {
    return Status::InvalidArgument("missing required field \"" + std::string(key) + "\"")
        .WithField(std::string(key));
  }
  auto id = AsMemoryId(*v);
  if (!id) return FieldError(key, "memory id (a positive integer)");
  return *id;
}

namespace {

// The deepest nesting of arrays and objects in `text` (strings skipped); stops counting
// once past `limit`.
int NestingDepth(std::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

Result<Json> Parse(std::string_view text, bool reject_duplicates) {
  // Deep nesting is refused before parsing: copying, dumping and comparing JSON values
  // recurse, and SQLite's JSON functions stop at 1,000 levels.
  if (NestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return Status::InvalidArgument("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
  }
  // The parser would take a NUL byte for the end of the input and ignore what follows.
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Status::InvalidArgument("malformed JSON at byte " + std::to_string(nul) +
                                   ": a NUL byte (inside a string, write it as \\u0000)");
  }
  // A key given twice in one object is refused: the parser would keep the last, so
  // {"user": "alice", ..., "user": "bob"} would be read as bob's without a word.
  std::vector<std::unordered_set<std::string>> keys;  // of each object being parsed
  std::string duplicate;
  auto track = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      keys.pop_back();
    } else if (event == Json::parse_event_t::key && !keys.empty() && duplicate.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(key).second) duplicate = key;
    }
    return true;
  };
  Json j = reject_duplicates
               ? Json::parse(text.begin(), text.end(), track, /*allow_exceptions=*/false)
               : Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && !duplicate.empty()) {
    return Status::InvalidArgument("malformed JSON: the key \"" + duplicate.substr(0, 100) +
                                   "\" appears twice in one object (give each key once)");
  }
  if (j.is_discarded()) {
    // Re-parse with a sax-free approach to find the position: nlohmann reports it only
    // through exceptions, which we keep inside this function.
    try {
      [[maybe_unused]] Json unreachable = Json::parse(text.begin(), text.end());
    } catch (const Json::parse_error& e) {
      // what() reads "[json.exception.parse_error.101] parse error at line 1, column 9:
      // syntax error ..."; keep the part after the position, which says what was wrong.
      std::string why = e.what();
      const size_t col = why.find("column ");
      const size_t colon = col == std::string::npos ? std::string::npos : why.find(": ", col);
      if (colon != std::string::npos) why = why.substr(colon + 2);
      return Status::InvalidArgument("malformed JSON at byte " + std::to_string(e.byte) + ": " +
                                     why.substr(0, 200));
    } catch (const Json::out_of_range& e) {
      // "number overflow parsing '1e309'": the position is that of the number's text.
      const std::string why = e.what();
      const size_t open = why.find('\'');
      const size_t close = open == std::string::npos ? open : why.find('\'', open + 1);
      if (close != std::string::npos) {
        const std::string number = why.substr(open + 1, close - open - 1);
        const size_t at = text.find(number);
        return Status::InvalidArgument(
            "malformed JSON at byte " + std::to_string(at == std::string_view::npos ? 0 : at) +
            ": the number " + number + " is out of range (a double holds up to about 1.8e308)");
      }
    } catch (...) {
    }
    return Status::InvalidArgument("malformed JSON");
  }
  return j;
}

}  // namespace

Result<Json> ParseJson(std::string_view text) { return Parse(text, /*reject_duplicates=*/true); }

Result<Json> ParseStoredJson(std::string_view text) {
  return Parse(text, /*reject_duplicates=*/false);
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> NormalizeMetadata(std::string_view text, size_t max_bytes) {
  if (text.empty()) return std::string("{}");
  if (text.size() > max_bytes) {
    return Status::TooLarge("metadata is " + std::to_string(text.size()) + " bytes; the limit is " +
                            std::to_string(max_bytes))
        .WithField("meta");
  }
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return parsed.status().WithContext("metadata").WithField("meta");
  if (!parsed->is_object()) {
    return Status::InvalidArgument("metadata must be a JSON object").WithField("meta");
  }
  return DumpJson(*parsed);
}

Json MemoryToJson(const Memory& m) {
  Json j = Json::object();
  j["id"] = m.id;
  j["kind"] = KindName(m.kind);
  j["text"] = m.text;
  j["user"] = m.user_id;
  j["agent"] = m.agent_id;
  j["session"] = m.session_id;
  j["role"] = m.role;
  j["speaker"] = m.speaker;
  j["time"] = TimeOrNull(m.event_time);
  j["valid_from"] = TimeOrNull(m.valid_from);
  j["valid_to"] = TimeOrNull(m.valid_to);
  j["created_at"] = FormatIso8601(m.created_at);
  j["updated_at"] = FormatIso8601(m.updated_at);
  j["expired_at"] = TimeOrNull(m.expired_at);
  j["expires_at"] = TimeOrNull(m.expires_at);
  j["importance"] = m.importance;
  j["strength"] = m.strength;
  j["last_access"] = TimeOrNull(m.last_access);
  j["access_count"] = m.access_count;
  j["tier"] = TierName(m.tier);
  j["state"] = StateName(m.state);
  j["version"] = m.version;
  j["sources"] = m.sources;
  j["origin"] = OriginName(m.origin);
  j["trust"] = TrustName(TrustOf(m.origin));
  j["quarantined"] = !m.quarantine.empty();
  j["quarantine_reason"] = m.quarantine.empty() ? Json(nullptr) : Json(m.quarantine);
  j["labels"] = LabelNames(m.labels);
  j["tags"] = m.tags;
  j["entities"] = m.entities;
  auto meta = ParseStoredJson(m.metadata);
  j["meta"] = meta.ok() ? *meta : Json::object();
  return j;
}

Result<std::string> GetString(const Json& obj, std::string_view key, bool required) {
  const Json* v = Find(obj, key);
  if (!v || v->is_null()) {
    if (required)
      return Status::InvalidArgument("missing required field \"" + std::string(key) + "\"")
          .WithField(std::string(key));
    return std::string();
  }
  if (!v->is_string()) return FieldError(key, "string");
  return v->get<std::string>();
}

Result<std::optional<TimeMs>> GetTime(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (!v || v->is_null()) return std::optional<TimeMs>();
  if (!v->is_string()) return FieldError(key, "ISO 8601 time string or null");
  auto t = ParseIso8601(v->get<std::string>());
  if (!t.ok())
    return t.status().WithContext("\"" + std::string(key) + "\"").WithField(std::string(key));
  return std::optional<TimeMs>(*t);
}

Result<Memory> MemoryFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a memory");
  Memory m;
  MNEMO_ASSIGN_OR_RETURN(m.id, GetInt(j, "id"));
  MNEMO_ASSIGN_OR_RETURN(std::string kind, GetString(j, "kind", true));
  MNEMO_ASSIGN_OR_RETURN(m.kind, ParseKind(kind));
  MNEMO_ASSIGN_OR_RETURN(m.text, GetString(j, "text", true));
  MNEMO_ASSIGN_OR_RETURN(m.user_id, GetString(j, "user", true));
  MNEMO_ASSIGN_OR_RETURN(m.agent_id, GetString(j, "agent", false));
  MNEMO_ASSIGN_OR_RETURN(m.session_id, GetString(j, "session", false));
  MNEMO_ASSIGN_OR_RETURN(m.role, GetString(j, "role", false));
  MNEMO_ASSIGN_OR_RETURN(m.speaker, GetString(j, "speaker", false));
  MNEMO_ASSIGN_OR_RETURN(m.event_time, GetTime(j, "time"));
  MNEMO_ASSIGN_OR_RETURN(m.valid_from, GetTime(j, "valid_from"));
  MNEMO_ASSIGN_OR_RETURN(m.valid_to, GetTime(j, "valid_to"));
  MNEMO_ASSIGN_OR_RETURN(auto created, GetTime(j, "created_at"));
  MNEMO_ASSIGN_OR_RETURN(auto updated, GetTime(j, "updated_at"));
  if (!created || !updated)
    return Status::InvalidArgument("created_at and updated_at are required")
        .WithField(created ? "updated_at" : "created_at");
  m.created_at = *created;
  m.updated_at = *updated;
  MNEMO_ASSIGN_OR_RETURN(m.expired_at, GetTime(j, "expired_at"));
  MNEMO_ASSIGN_OR_RETURN(m.expires_at, GetTime(j, "expires_at"));  // absent before schema v4
  MNEMO_ASSIGN_OR_RETURN(m.importance, GetNumber(j, "importance"));
  MNEMO_ASSIGN_OR_RETURN(m.strength, GetNumber(j, "strength"));
  MNEMO_ASSIGN_OR_RETURN(m.last_access, GetTime(j, "last_access"));
  MNEMO_ASSIGN_OR_RETURN(m.access_count, GetInt(j, "access_count"));
  MNEMO_ASSIGN_OR_RETURN(std::string tier, GetString(j, "tier", true));
  MNEMO_ASSIGN_OR_RETURN(m.tier, ParseTier(tier));
  MNEMO_ASSIGN_OR_RETURN(std::string state, GetString(j, "state", true));
  MNEMO_ASSIGN_OR_RETURN(m.state, ParseState(state));
  MNEMO_ASSIGN_OR_RETURN(m.version, GetInt(j, "version"));
  const Json* sources = Find(j, "sources");
  if (!sources || !sources->is_array()) return FieldError("sources", "array of integers");
  for (const auto& s : *sources) {
    if (!s.is_number_integer()) return FieldError("sources", "array of integers");
    m.sources.push_back(s.get<int64_t>());
  }
  MNEMO_ASSIGN_OR_RETURN(std::string origin, GetString(j, "origin", true));
  MNEMO_ASSIGN_OR_RETURN(m.origin, ParseOrigin(origin));
  // Absent before schema v7 ("trust" is derived from the origin, never read).
  MNEMO_ASSIGN_OR_RETURN(const bool quarantined, GetBool(j, "quarantined", false));
  MNEMO_ASSIGN_OR_RETURN(m.quarantine, GetString(j, "quarantine_reason", false));
  if (quarantined && m.quarantine.empty()) m.quarantine = "quarantined by hand";
  if (!quarantined) m.quarantine.clear();
  if (Has(j, "labels")) {  // absent before schema v7
    MNEMO_ASSIGN_OR_RETURN(m.labels, GetLabels(j, "labels"));
  }
  MNEMO_ASSIGN_OR_RETURN(m.tags, GetStringArray(j, "tags"));
  MNEMO_ASSIGN_OR_RETURN(m.entities, GetStringArray(j, "entities"));
  const Json* meta = Find(j, "meta");
  if (!meta || !meta->is_object()) return FieldError("meta", "object");
  m.metadata = DumpJson(*meta);
  return m;
}

Json HistoryToJson(const HistoryEntry& h) {
  Json j = Json::object();
  j["memory_id"] = h.memory_id;
  j["version"] = h.version;
  j["op"] = HistoryOpName(h.op);
  auto parse_or_null = [](const std::string& s) -> Json {
    if (s.empty()) return nullptr;
    auto p = ParseStoredJson(s);
    return p.ok() ? *p : Json(nullptr);
  };
  j["before"] = parse_or_null(h.before);
  j["after"] = parse_or_null(h.after);
  j["actor"] = h.actor;
  j["time"] = FormatIso8601(h.time);
  j["reason"] = h.reason;
  return j;
}

Result<HistoryEntry> HistoryFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a history entry");
  HistoryEntry h;
  MNEMO_ASSIGN_OR_RETURN(h.memory_id, GetInt(j, "memory_id"));
  MNEMO_ASSIGN_OR_RETURN(h.version, GetInt(j, "version"));
  MNEMO_ASSIGN_OR_RETURN(std::string op, GetString(j, "op", true));
  MNEMO_ASSIGN_OR_RETURN(h.op, ParseHistoryOp(op));
  for (auto [key, out] : {std::pair{"before", &h.before}, std::pair{"after", &h.after}}) {
    const Json* v = Find(j, key);
    if (v && !v->is_null()) {
      if (!v->is_object()) return FieldError(key, "object or null");
      *out = DumpJson(*v);
    }
  }
  MNEMO_ASSIGN_OR_RETURN(h.actor, GetString(j, "actor", false));
  MNEMO_ASSIGN_OR_RETURN(auto t, GetTime(j, "time"));
  if (!t) return Status::InvalidArgument("missing required field \"time\"").WithField("time");
  h.time = *t;
  MNEMO_ASSIGN_OR_RETURN(h.reason, GetString(j, "reason", false));
  return h;
}

Json ProvenanceStepToJson(const ProvenanceStep& step) {
  Json j = MemoryToJson(step.memory);
  j["depth"] = step.depth;
  if (step.derived_into != 0) j["derived_into"] = step.derived_into;
  return j;
}

Json LinkToJson(const Link& l) {
  return Json{{"from", l.from}, {"to", l.to}, {"type", LinkTypeName(l.type)}, {"weight", l.weight}};
}

Result<Link> LinkFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a link");
  Link l;
  MNEMO_ASSIGN_OR_RETURN(l.from, GetInt(j, "from"));
  MNEMO_ASSIGN_OR_RETURN(l.to, GetInt(j, "to"));
  MNEMO_ASSIGN_OR_RETURN(std::string type, GetString(j, "type", true));
  MNEMO_ASSIGN_OR_RETURN(l.type, ParseLinkType(type));
  MNEMO_ASSIGN_OR_RETURN(l.weight, GetNumber(j, "weight"));
  return l;
}

Json SearchHitToJson(const SearchHit& hit) {
  const Memory& m = hit.memory;
  Json j = Json::object();
  j["id"] = m.id;
  j["text"] = m.text;
  j["score"] = hit.score;
  j["kind"] = KindName(m.kind);
  j["user"] = m.user_id;
  j["agent"] = m.agent_id;
  j["session"] = m.session_id;
  j["role"] = m.role;
  j["speaker"] = m.speaker;
  j["time"] = TimeOrNull(m.event_time);
  j["tags"] = m.tags;
  auto meta = ParseStoredJson(m.metadata);
  j["meta"] = meta.ok() ? *meta : Json::object();
  j["created_at"] = FormatIso8601(m.created_at);
  j["updated_at"] = FormatIso8601(m.updated_at);
  if (!hit.explanation.empty()) {
    Json ex = Json::array();
    for (const auto& e : hit.explanation) {
      ex.push_back({{"signal", e.signal},
                    {"rank", e.rank},
                    {"raw", e.raw},
                    {"contribution", e.contribution}});
    }
    j["explain"] = ex;
  }
  return j;
}

}  // namespace mnemo::util

namespace mnemo::util {
namespace {

// A JSON object field, as compact text.
Result<std::string> GetObjectText(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (!v || !v->is_object()) return FieldError(key, "object");
  return DumpJson(*v);
}

// A name field parsed by `parse` (ParseKind, ParseTier, ...); errors start with the key.
template <typename E>
Result<E> GetName(const Json& obj, std::string_view key, Result<E> (*parse)(std::string_view)) {
  MNEMO_ASSIGN_OR_RETURN(std::string name, GetString(obj, key, true));
  auto parsed = parse(name);
  if (!parsed.ok()) {
    return parsed.status().WithContext("\"" + std::string(key) + "\"").WithField(std::string(key));
  }
  return parsed;
}

Result<std::vector<MemoryId>> GetIdArray(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (!v || !v->is_array()) return FieldError(key, "array of memory ids");
  std::vector<MemoryId> out;
  for (const auto& e : *v) {
    auto id = AsMemoryId(e);
    if (!id) return FieldError(key, "array of memory ids (positive integers)");
    out.push_back(*id);
  }
  return out;
}

// The filter fields shared by search and list (all but "all_users").
Status ParseFilter(const Json& j, Filter* f) {
  MNEMO_ASSIGN_OR_RETURN(f->user_id, GetScopeUser(j));
  MNEMO_ASSIGN_OR_RETURN(f->agent_id, GetString(j, "agent", false));
  MNEMO_ASSIGN_OR_RETURN(f->session_id, GetString(j, "session", false));
  if (j.contains("kinds")) {
    MNEMO_ASSIGN_OR_RETURN(auto kinds, GetStringArray(j, "kinds"));
    for (const auto& k : kinds) {
      auto kind = ParseKind(k);
      if (!kind.ok()) return kind.status().WithField("kinds");
      f->kinds.push_back(*kind);
    }
  }
  MNEMO_ASSIGN_OR_RETURN(f->time_from, GetTime(j, "since"));
  MNEMO_ASSIGN_OR_RETURN(f->time_to, GetTime(j, "until"));
  if (j.contains("tags")) {
    MNEMO_ASSIGN_OR_RETURN(f->tags, GetStringArray(j, "tags"));
  }
  if (j.contains("meta")) {
    const Json& meta = j.at("meta");
    if (!meta.is_object()) return FieldError("meta", "object of key: value to match");
    for (auto it = meta.begin(); it != meta.end(); ++it) {
      // An object or array would be compared as text and match nothing: say so instead.
      if (it.value().is_structured()) {
        return FieldError("meta." + it.key(),
                          "a string, number, boolean or null to equal (compare with \"filters\": "
                          "{\"metadata." +
                              it.key() + "\": {\"gt\": 50}})");
      }
      f->meta_equals.emplace_back(it.key(), DumpJson(it.value()));
    }
  }
  if (Has(j, "filters")) {
    // The engine checks the expression (store/filter_expr.h); here only its container.
    MNEMO_ASSIGN_OR_RETURN(f->expression, GetObjectText(j, "filters"));
  }
  MNEMO_ASSIGN_OR_RETURN(f->include_retired, GetBool(j, "include_retired", false));
  MNEMO_ASSIGN_OR_RETURN(f->include_archived, GetBool(j, "include_archived", false));
  if (Has(j, "quarantined")) {
    MNEMO_ASSIGN_OR_RETURN(f->quarantined, GetName(j, "quarantined", &ParseQuarantineFilter));
  }
  if (Has(j, "labels")) {
    MNEMO_ASSIGN_OR_RETURN(f->labels, GetLabels(j, "labels"));
  }
  if (Has(j, "exclude_labels")) {
    MNEMO_ASSIGN_OR_RETURN(f->exclude_labels, GetLabels(j, "exclude_labels"));
  }
  MNEMO_ASSIGN_OR_RETURN(f->as_of, GetTime(j, "as_of"));
  MNEMO_ASSIGN_OR_RETURN(f->valid_at, GetTime(j, "valid_at"));
  return Status::Ok();
}

}  // namespace

namespace {
Status CheckKnown(const Json& j, std::span<const std::string_view> known) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (auto k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (auto k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      return Status::InvalidArgument("unknown field \"" + it.key() + "\" (known: " + list + ")")
          .WithField(it.key());
    }
  }
  return Status::Ok();
}
}  // namespace

Status CheckKnownFields(const Json& j, std::initializer_list<std::string_view> known) {
  return CheckKnown(j, std::span<const std::string_view>(known.begin(), known.size()));
}

Status CheckKnownFields(const Json& j, const std::vector<std::string>& known) {
  const std::vector<std::string_view> views(known.begin(), known.end());
  return CheckKnown(j, views);
}

Result<bool> GetBool(const Json& obj, std::string_view key, bool dflt) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) return FieldError(key, "boolean");
  return it->get<bool>();
}

Result<Message> MessageFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a message");
  MNEMO_RETURN_IF_ERROR(
      CheckKnownFields(j, {"session", "role", "speaker", "agent", "text", "time", "meta"}));
  Message m;
  MNEMO_ASSIGN_OR_RETURN(m.text, GetString(j, "text", true));
  MNEMO_ASSIGN_OR_RETURN(m.session, GetString(j, "session", false));
  MNEMO_ASSIGN_OR_RETURN(m.role, GetString(j, "role", false));
  MNEMO_ASSIGN_OR_RETURN(m.speaker, GetString(j, "speaker", false));
  MNEMO_ASSIGN_OR_RETURN(m.agent, GetString(j, "agent", false));
  if (m.role.empty() && m.speaker.empty()) {
    return Status::InvalidArgument("a message needs \"role\" or \"speaker\"").WithField("role");
  }
  MNEMO_ASSIGN_OR_RETURN(m.time, GetTime(j, "time"));
  if (Has(j, "meta")) {
    MNEMO_ASSIGN_OR_RETURN(m.meta, GetObjectText(j, "meta"));
  }
  return m;
}

Result<SearchRequest> SearchRequestFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a search");
  static const std::vector<std::string> kFields = [] {
    std::vector<std::string> f = {"query",
                                  "user",
                                  "all_users",
                                  "k",
                                  "agent",
                                  "session",
                                  "kinds",
                                  "since",
                                  "until",
                                  "tags",
                                  "meta",
                                  "filters",
                                  "include_retired",
                                  "include_archived",
                                  "quarantined",
                                  "labels",
                                  "exclude_labels",
                                  "explain",
                                  "fusion",
                                  "expand_links",
                                  "as_of",
                                  "valid_at",
                                  "now"};
    for (const SearchParam& p : SearchParams()) f.push_back(p.name);  // mnemo/search_params.h
    return f;
  }();
  MNEMO_RETURN_IF_ERROR(CheckKnownFields(j, kFields));
  SearchRequest r;
  MNEMO_ASSIGN_OR_RETURN(r.query, GetString(j, "query", true));
  MNEMO_ASSIGN_OR_RETURN(r.filter.all_users, GetBool(j, "all_users", false));
  MNEMO_RETURN_IF_ERROR(GetIntInto(j, "k", &r.k));  // its range: the engine's (Options::max_k)
  MNEMO_RETURN_IF_ERROR(ParseFilter(j, &r.filter));
  MNEMO_ASSIGN_OR_RETURN(r.explain, GetBool(j, "explain", false));
  MNEMO_ASSIGN_OR_RETURN(r.expand_links, GetBool(j, "expand_links", false));
  MNEMO_ASSIGN_OR_RETURN(std::string fusion, GetString(j, "fusion", false));
  if (fusion == "weighted") {
    r.fusion = Fusion::kWeighted;
  } else if (!fusion.empty() && fusion != "rrf") {
    return Status::InvalidArgument("\"fusion\" must be \"rrf\" or \"weighted\"")
        .WithField("fusion");
  }
  // The tuning parameters: their types here; their ranges where the engine checks every
  // request (CheckSearchParams).
  for (const SearchParam& p : SearchParams()) {
    if (!j.contains(p.name)) continue;
    if (p.integer != nullptr) {
      MNEMO_ASSIGN_OR_RETURN(int64_t n, GetInt(j, p.name));
      p.Set(&r, static_cast<double>(std::clamp<int64_t>(n, INT32_MIN, INT32_MAX)));
    } else {
      MNEMO_ASSIGN_OR_RETURN(double v, GetNumber(j, p.name));
      p.Set(&r, v);
    }
  }
  MNEMO_ASSIGN_OR_RETURN(r.now, GetTime(j, "now"));
  return r;
}

Json MaintenanceReportToJson(const MaintenanceReport& r) {
  return {{"recalls", r.recalls},
          {"expired", r.expired},
          {"purged", r.purged},
          {"to_short_term", r.to_short_term},
          {"to_long_term", r.to_long_term},
          {"archived", r.archived},
          {"unarchived", r.unarchived}};
}

Json StatsToJson(const SpaceStats& s) {
  Json kinds = Json::object();
  for (const auto& [k, n] : s.by_kind) kinds[k] = n;
  Json tiers = Json::object();
  for (const auto& [t, n] : s.by_tier) tiers[t] = n;
  Json out{{"space", s.name},
           {"memories_active", s.memories_active},
           {"memories_retired", s.memories_retired},
           {"by_kind", kinds},
           {"by_tier", tiers},
           {"users", s.users},
           {"sessions", s.sessions},
           {"history_entries", s.history_entries},
           {"links", s.links},
           {"vectors_indexed", s.vectors_indexed},
           {"vectors_pending", s.vectors_pending},
           {"embedder", s.embedder},
           {"dimension", s.dimension},
           {"schema_version", s.schema_version},
           {"db_bytes", s.db_bytes},
           {"index_bytes", s.index_bytes}};
  if (!s.embedder_next.empty()) {  // only while a re-embed runs
    out["reembed"] =
        Json{{"embedder", s.embedder_next},
             {"dimension", s.dimension_next},
             {"done", s.reembedded},
             {"total", s.reembed_total},
             {"vector_search", s.vector_search ? "old vectors" : "off (lexical only)"}};
  }
  return out;
}

Json JobToJson(const Job& j) {
  Json out = {{"id", j.id},
              {"kind", JobKindName(j.kind)},
              {"state", JobStateName(j.state)},
              {"user", j.user_id},
              {"session", j.session_id},
              {"memories", j.memories},
              {"attempts", j.attempts},
              {"next_run_at", FormatIso8601(j.next_run_at)},
              {"created_at", FormatIso8601(j.created_at)},
              {"updated_at", FormatIso8601(j.updated_at)},
              {"calls", j.calls},
              {"prompt_tokens", j.prompt_tokens},
              {"completion_tokens", j.completion_tokens},
              {"derived", j.derived}};
  if (!j.last_error.empty()) out["last_error"] = j.last_error;
  return out;
}

Json JobStatsToJson(const JobStats& s) {
  auto per_turn = [&](int64_t n) {
    return s.turns ? static_cast<double>(n) / static_cast<double>(s.turns) : 0.0;
  };
  return Json{{"pending", s.pending},
              {"done", s.done},
              {"dead", s.dead},
              {"turns", s.turns},
              {"derived", s.derived},
              {"embed_pending", s.embed_pending},
              {"summaries_pending", s.summaries_pending},
              {"embedded", s.embedded},
              {"extractor", s.extractor},
              {"chat_calls", s.calls},
              {"prompt_tokens", s.prompt_tokens},
              {"completion_tokens", s.completion_tokens},
              {"calls_per_turn", per_turn(s.calls)},
              {"prompt_tokens_per_turn", per_turn(s.prompt_tokens)},
              {"tokens_today", s.tokens_today},
              {"daily_token_budget", s.daily_token_budget}};
}

Json ProfileToJson(const Profile& p) {
  Json entries = Json::array();
  for (const auto& e : p.entries) {
    entries.push_back({{"key", e.key},
                       {"value", e.value},
                       {"text", e.text},
                       {"kind", KindName(e.kind)},
                       {"memory_id", e.memory_id},
                       {"since", TimeOrNull(e.since)},
                       {"edited", e.edited}});
  }
  return Json{{"user", p.user}, {"entries", std::move(entries)}};
}

Json ContextResultToJson(const ContextResult& r) {
  return Json{{"text", r.text},
              {"tokens", r.tokens},
              {"memories", r.memories},
              {"omitted", r.omitted},
              {"profile", ProfileToJson(r.profile)}};
}

Result<std::string> GetScopeUser(const Json& obj) {
  MNEMO_ASSIGN_OR_RETURN(std::string user, GetString(obj, "user", false));
  if (user.empty() && obj.contains("user") && !obj["user"].is_null()) {
    return Status::InvalidArgument(
               "\"user\" is empty; name a user, or leave it out to cover every user (a "
               "search says so with \"all_users\": true)")
        .WithField("user");
  }
  return user;
}

namespace {

// A required, non-empty string.
Result<std::string> GetNonEmptyString(const Json& obj, std::string_view key) {
  MNEMO_ASSIGN_OR_RETURN(std::string s, GetString(obj, key, true));
  if (s.empty()) {
    return Status::InvalidArgument("\"" + std::string(key) + "\" must not be empty")
        .WithField(std::string(key));
  }
  return s;
}

}  // namespace

Result<ProfileEdit> ProfileEditFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a profile edit");
  MNEMO_RETURN_IF_ERROR(CheckKnownFields(j, {"user", "set", "unset", "reason"}));
  ProfileEdit e;
  MNEMO_ASSIGN_OR_RETURN(e.user, GetNonEmptyString(j, "user"));
  if (Has(j, "set")) {
    const Json& set = j.at("set");
    if (!set.is_object()) return FieldError("set", "object of key: value strings");
    for (auto it = set.begin(); it != set.end(); ++it) {
      if (!it.value().is_string()) {
        return Status::InvalidArgument("expected a string value for \"set\" (key \"" + it.key() +
                                       "\")")
            .WithField("set");
      }
      e.set.emplace_back(it.key(), it.value().get<std::string>());
    }
  }
  if (Has(j, "unset")) {
    MNEMO_ASSIGN_OR_RETURN(e.unset, GetStringArray(j, "unset"));
  }
  MNEMO_ASSIGN_OR_RETURN(e.reason, GetString(j, "reason", false));
  if (e.set.empty() && e.unset.empty()) {
    return Status::InvalidArgument(
               "a profile edit needs \"set\" (an object of key: value) or \"unset\" (an array of "
               "keys) with at least one key")
        .WithField("set");
  }
  return e;
}

Result<ContextRequest> ContextRequestFromJson(const Json& j) {
  if (!j.is_object()) {
    return Status::InvalidArgument("expected a JSON object for a context request");
  }
  MNEMO_RETURN_IF_ERROR(CheckKnownFields(
      j, {"user", "query", "budget", "now", "k", "profile_entries", "exclude_labels"}));
  ContextRequest r;
  MNEMO_ASSIGN_OR_RETURN(r.user, GetNonEmptyString(j, "user"));
  MNEMO_ASSIGN_OR_RETURN(r.query, GetNonEmptyString(j, "query"));
  if (Has(j, "budget")) {
    MNEMO_ASSIGN_OR_RETURN(r.budget_tokens, GetInt(j, "budget"));
  }
  MNEMO_ASSIGN_OR_RETURN(r.now, GetTime(j, "now"));
  MNEMO_RETURN_IF_ERROR(GetIntInto(j, "k", &r.k));
  MNEMO_RETURN_IF_ERROR(GetIntInto(j, "profile_entries", &r.profile_entries));
  if (Has(j, "exclude_labels")) {
    MNEMO_ASSIGN_OR_RETURN(r.exclude_labels, GetLabels(j, "exclude_labels"));
  }
  return r;
}

Result<MemoryInput> MemoryInputFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a memory");
  MNEMO_RETURN_IF_ERROR(
      CheckKnownFields(j, {"text", "user", "agent", "session", "kind", "role", "speaker", "time",
                           "valid_from", "valid_to", "expires_at", "ttl", "importance", "tags",
                           "entities", "meta", "sources", "origin", "labels"}));
  MemoryInput in;
  MNEMO_ASSIGN_OR_RETURN(in.text, GetString(j, "text", true));
  MNEMO_ASSIGN_OR_RETURN(in.user_id, GetString(j, "user", true));
  MNEMO_ASSIGN_OR_RETURN(in.agent_id, GetString(j, "agent", false));
  MNEMO_ASSIGN_OR_RETURN(in.session_id, GetString(j, "session", false));
  MNEMO_ASSIGN_OR_RETURN(in.role, GetString(j, "role", false));
  MNEMO_ASSIGN_OR_RETURN(in.speaker, GetString(j, "speaker", false));
  if (Has(j, "kind")) {
    MNEMO_ASSIGN_OR_RETURN(in.kind, GetName(j, "kind", &ParseKind));
  }
  MNEMO_ASSIGN_OR_RETURN(in.event_time, GetTime(j, "time"));
  MNEMO_ASSIGN_OR_RETURN(in.valid_from, GetTime(j, "valid_from"));
  MNEMO_ASSIGN_OR_RETURN(in.valid_to, GetTime(j, "valid_to"));
  MNEMO_ASSIGN_OR_RETURN(in.expires_at, GetTime(j, "expires_at"));
  if (Has(j, "ttl")) {
    MNEMO_ASSIGN_OR_RETURN(std::string ttl, GetString(j, "ttl", true));
    auto ms = ParseDuration(ttl);
    if (!ms.ok()) return ms.status().WithContext("\"ttl\"").WithField("ttl");
    if (in.expires_at) {
      return Status::InvalidArgument("give either \"expires_at\" or \"ttl\", not both")
          .WithField("ttl");
    }
    in.ttl_ms = *ms;
  }
  if (Has(j, "importance")) {
    MNEMO_ASSIGN_OR_RETURN(in.importance, GetNumber(j, "importance"));
  }
  if (Has(j, "tags")) {
    MNEMO_ASSIGN_OR_RETURN(in.tags, GetStringArray(j, "tags"));
  }
  if (Has(j, "entities")) {
    MNEMO_ASSIGN_OR_RETURN(in.entities, GetStringArray(j, "entities"));
  }
  if (Has(j, "meta")) {
    MNEMO_ASSIGN_OR_RETURN(in.metadata, GetObjectText(j, "meta"));
  }
  if (Has(j, "labels")) {
    MNEMO_ASSIGN_OR_RETURN(in.labels, GetLabels(j, "labels"));
  }
  if (Has(j, "sources")) {
    MNEMO_ASSIGN_OR_RETURN(in.sources, GetIdArray(j, "sources"));
  }
  in.origin = in.role == "assistant" ? Origin::kAssistant
              : in.role == "tool"    ? Origin::kTool
                                     : Origin::kUser;
  if (Has(j, "origin")) {
    MNEMO_ASSIGN_OR_RETURN(in.origin, GetName(j, "origin", &ParseOrigin));
  }
  return in;
}

namespace {

// Sets a time field of an update when the key is present: null clears the time.
Status UpdateTime(const Json& j, std::string_view key, std::optional<std::optional<TimeMs>>* out) {
  if (!j.contains(key)) return Status::Ok();
  MNEMO_ASSIGN_OR_RETURN(auto t, GetTime(j, key));
  out->emplace(t);
  return Status::Ok();
}

bool ChangesSomething(const MemoryUpdate& u) {
  return u.text || u.kind || u.event_time || u.valid_from || u.valid_to || u.expires_at ||
         u.importance || u.tier || u.tags || u.entities || u.metadata || u.quarantined || u.labels;
}

}  // namespace

Result<MemoryUpdate> MemoryUpdateFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for an update");
  MNEMO_RETURN_IF_ERROR(CheckKnownFields(
      j, {"text", "kind", "time", "valid_from", "valid_to", "expires_at", "importance", "tier",
          "tags", "entities", "meta", "quarantined", "labels", "reason"}));
  for (std::string_view key : {"text", "kind", "importance", "tier", "tags", "entities", "meta",
                               "quarantined", "labels"}) {
    if (j.contains(key) && j.at(key).is_null()) {
      return Status::InvalidArgument("\"" + std::string(key) +
                                     "\" cannot be null (only times can be cleared)")
          .WithField(std::string(key));
    }
  }
  MemoryUpdate u;
  if (j.contains("text")) {
    MNEMO_ASSIGN_OR_RETURN(u.text, GetString(j, "text", true));
  }
  if (j.contains("kind")) {
    MNEMO_ASSIGN_OR_RETURN(u.kind, GetName(j, "kind", &ParseKind));
  }
  MNEMO_RETURN_IF_ERROR(UpdateTime(j, "time", &u.event_time));
  MNEMO_RETURN_IF_ERROR(UpdateTime(j, "valid_from", &u.valid_from));
  MNEMO_RETURN_IF_ERROR(UpdateTime(j, "valid_to", &u.valid_to));
  MNEMO_RETURN_IF_ERROR(UpdateTime(j, "expires_at", &u.expires_at));
  if (j.contains("importance")) {
    MNEMO_ASSIGN_OR_RETURN(u.importance, GetNumber(j, "importance"));
  }
  if (j.contains("tier")) {
    MNEMO_ASSIGN_OR_RETURN(u.tier, GetName(j, "tier", &ParseTier));
  }
  if (j.contains("tags")) {
    MNEMO_ASSIGN_OR_RETURN(u.tags, GetStringArray(j, "tags"));
  }
  if (j.contains("entities")) {
    MNEMO_ASSIGN_OR_RETURN(u.entities, GetStringArray(j, "entities"));
  }
  if (j.contains("meta")) {
    MNEMO_ASSIGN_OR_RETURN(u.metadata, GetObjectText(j, "meta"));
  }
  if (j.contains("quarantined")) {
    MNEMO_ASSIGN_OR_RETURN(u.quarantined, GetBool(j, "quarantined", false));
  }
  if (j.contains("labels")) {
    MNEMO_ASSIGN_OR_RETURN(u.labels, GetLabels(j, "labels"));
  }
  MNEMO_ASSIGN_OR_RETURN(u.reason, GetString(j, "reason", false));
  if (!ChangesSomething(u)) {
    return Status::InvalidArgument(
        "an update needs at least one field to change (text, kind, time, valid_from, valid_to, "
        "expires_at, importance, tier, tags, entities, meta, quarantined, labels)");
  }
  return u;
}

Result<ListRequest> ListRequestFromJson(const Json& j) {
  if (!j.is_object()) return Status::InvalidArgument("expected a JSON object for a list request");
  MNEMO_RETURN_IF_ERROR(CheckKnownFields(
      j, {"user", "agent", "session", "kinds", "since", "until", "tags", "meta", "filters",
          "include_retired", "include_archived", "quarantined", "labels", "exclude_labels", "as_of",
          "valid_at", "limit", "cursor", "descending"}));
  ListRequest r;
  MNEMO_RETURN_IF_ERROR(ParseFilter(j, &r.filter));
  MNEMO_RETURN_IF_ERROR(GetIntInto(j, "limit", &r.limit));  // range: Options::max_list_limit
  MNEMO_ASSIGN_OR_RETURN(r.cursor, GetString(j, "cursor", false));
  MNEMO_ASSIGN_OR_RETURN(r.descending, GetBool(j, "descending", false));
  return r;
}

Json ListPageToJson(const ListPage& page) {
  Json memories = Json::array();
  for (const auto& m : page.memories) memories.push_back(MemoryToJson(m));
  return Json{{"memories", std::move(memories)}, {"next_cursor", page.next_cursor}};
}

Json UserPageToJson(const UserPage& page) {
  Json users = Json::array();
  for (const auto& u : page.users) {
    users.push_back({{"user", u.user},
                     {"memories", u.memories},
                     {"first_time", FormatIso8601(u.first_time)},
                     {"last_time", FormatIso8601(u.last_time)}});
  }
  return Json{{"users", std::move(users)}, {"next_cursor", page.next_cursor}};
}

}  // namespace mnemo::util
