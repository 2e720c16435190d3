// The JSON form of mnemo's records, shared by export/import, history snapshots, the CLI
// and the network faces. Field names are a public contract:
//   id, kind, text, user, agent, session, role, speaker, time, valid_from, valid_to,
//   created_at, updated_at, expired_at, importance, strength, last_access,
//   access_count, tier, state, version, sources, origin, tags, entities, meta
// Times are ISO 8601 UTC strings (millisecond precision, lossless) or null.
//
// Thread safety: pure functions.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mnemo/engine.h"
#include "mnemo/memory.h"
#include "mnemo/query.h"
#include "mnemo/status.h"

namespace mnemo::util {

using Json = nlohmann::json;

// Arrays and objects nested deeper than this are refused by ParseJson.
inline constexpr int kMaxJsonDepth = 100;

// Parses text without exceptions; errors name the byte offset. Nesting deeper than
// kMaxJsonDepth is an error, and so is a key given twice in one object (a parser keeping
// one of them would guess). For input from outside: requests, files, providers.
Result<Json> ParseJson(std::string_view text);
// ParseJson without the duplicate-key check, for the JSON mnemo wrote itself and reads
// back on hot paths (a row's tags, sources and metadata, history): written by DumpJson
// from checked values, it has no duplicates, and the check would cost ~25% of the parse.
Result<Json> ParseStoredJson(std::string_view text);
// Compact dump that never throws (invalid UTF-8 is replaced, though mnemo validates
// every input first).
std::string DumpJson(const Json& j);

// Validates a metadata document: a JSON object of at most max_bytes; returns it compact.
Result<std::string> NormalizeMetadata(std::string_view text, size_t max_bytes);

Json MemoryToJson(const Memory& m);
// Strict: every field of MemoryToJson must be present with the right type.
Result<Memory> MemoryFromJson(const Json& j);

Json HistoryToJson(const HistoryEntry& h);
Result<HistoryEntry> HistoryFromJson(const Json& j);
Json LinkToJson(const Link& l);
// A provenance step: the memory's fields, "depth" and, below the top, "derived_into".
Json ProvenanceStepToJson(const ProvenanceStep& step);
Result<Link> LinkFromJson(const Json& j);

// The search result form: id, text, score, kind, user, session, role, speaker, time,
// meta (+ "explain" when present).
Json SearchHitToJson(const SearchHit& hit);

// A conversation message (ingest): {"session","role","speaker","text","time","meta"}.
// `text` is required, and at least one of role/speaker; unknown fields are an error.
Result<Message> MessageFromJson(const Json& j);

// A search request (batch search, HTTP): {"query", "user", "all_users", "k", "agent",
// "session", "kinds", "since", "until", "tags", "meta", "include_retired", "explain",
// "fusion", "lexical_weight", "vector_weight", "rrf_k", "context_weight", "session_weight",
// "date_weight"}; unknown fields are an error.
Result<SearchRequest> SearchRequestFromJson(const Json& j);

Json StatsToJson(const SpaceStats& s);
// {"recalls", "expired", "purged", "to_short_term", "to_long_term", "archived", "unarchived"}
Json MaintenanceReportToJson(const MaintenanceReport& r);

// A pipeline job (times in ISO 8601; "last_error" only when there is one).
Json JobToJson(const Job& j);
// The pipeline's counters with the derived ratios calls_per_turn and
// prompt_tokens_per_turn (0 before the first turn).
Json JobStatsToJson(const JobStats& s);

// A user's profile: {"user", "entries": [{"key", "value", "text", "kind", "memory_id",
// "since" (time or null), "edited"}, ...]}.
Json ProfileToJson(const Profile& p);
// A context block: {"text", "tokens", "memories": [ids in the order shown], "omitted",
// "profile": ProfileToJson}.
Json ContextResultToJson(const ContextResult& r);

// A profile edit (HTTP, MCP): {"user", "set": {key: value, ...}, "unset": [key, ...],
// "reason"}. "user" is required and non-empty; "set" and "unset" are optional but at
// least one of them must name a key. Unknown fields are an error. Key and value rules
// are the engine's to check.
Result<ProfileEdit> ProfileEditFromJson(const Json& j);

// A context request (HTTP, MCP): {"user", "query", "budget", "now", "k",
// "profile_entries"}. "user" and "query" are required and non-empty; "budget" (tokens),
// "k" and "profile_entries" are integers, "now" a time. Unknown fields are an error.
// Ranges are the engine's to check.
Result<ContextRequest> ContextRequestFromJson(const Json& j);

// A memory to add (HTTP, MCP): {"text", "user", "agent", "session", "kind", "role",
// "speaker", "time", "valid_from", "valid_to", "importance", "tags", "entities", "meta",
// "sources", "origin"}. "text" and "user" are required; "kind" defaults to episode,
// "origin" to what "role" implies (assistant, tool, else user), like Engine::Ingest.
// Unknown fields are an error. Limits and value ranges are the engine's to check.
Result<MemoryInput> MemoryInputFromJson(const Json& j);

// A partial change (HTTP, MCP): {"text", "kind", "time", "valid_from", "valid_to",
// "importance", "tier", "tags", "entities", "meta", "reason"}. Absent fields keep their
// value; null clears a time (and is an error elsewhere). At least one field other than
// "reason" is required. MemoryUpdate::actor is left for the caller to set.
Result<MemoryUpdate> MemoryUpdateFromJson(const Json& j);

// A list request (HTTP, MCP): the filter fields of SearchRequestFromJson except
// "all_users" ("user", "agent", "session", "kinds", "since", "until", "tags", "meta",
// "include_retired") plus "limit" (integer >= 1; default 100), "cursor" and "descending"
// (boolean; default false: oldest first). Unknown fields are an error.
Result<ListRequest> ListRequestFromJson(const Json& j);

// {"memories": [MemoryToJson...], "next_cursor": "..."} ("" on the last page).
Json ListPageToJson(const ListPage& page);
// {"users": [{"user","memories","first_time","last_time"}...], "next_cursor"}
Json UserPageToJson(const UserPage& page);

// Typed field access for request parsing: errors read `expected string for "text"`.
Result<std::string> GetString(const Json& obj, std::string_view key, bool required);
// A user id that narrows a scope: "" when absent or null, an error when given empty (an
// empty user must never widen a read or a delete to every user).
Result<std::string> GetScopeUser(const Json& obj);
// A boolean; `dflt` when absent or null.
Result<bool> GetBool(const Json& obj, std::string_view key, bool dflt);
// A list of sensitivity label names (mnemo::Label) at `key`; errors name the key.
Result<LabelSet> GetLabels(const Json& obj, std::string_view key);
// An integer that fits an int, into *out; *out unchanged when absent or null. Its range is
// the engine's to check.
Status GetIntInto(const Json& obj, std::string_view key, int* out);
// An error naming the first key of `j` (an object) that is not in `known`:
// `unknown field "x" (known: a, b)`.
Status CheckKnownFields(const Json& j, std::initializer_list<std::string_view> known);
Status CheckKnownFields(const Json& j, const std::vector<std::string>& known);
Result<std::optional<TimeMs>> GetTime(const Json& obj, std::string_view key);
// A required memory id: a positive integer, or its decimal string ("42", as path
// parameters arrive); errors read `expected memory id (a positive integer) for "id"`.
Result<MemoryId> GetMemoryId(const Json& obj, std::string_view key);

}  // namespace mnemo::util
