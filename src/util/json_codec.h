// The JSON form of mnemo's records, shared by export/import, history snapshots, the CLI
// and the network faces. Field names are a public contract:
//   id, kind, text, user, agent, session, role, speaker, time, valid_from, valid_to,
//   created_at, updated_at, expired_at, importance, strength, last_access,
//   access_count, tier, state, version, sources, origin, tags, entities, meta
// Times are ISO 8601 UTC strings (millisecond precision, lossless) or null.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mnemo/engine.h"
#include "mnemo/memory.h"
#include "mnemo/query.h"
#include "mnemo/status.h"

namespace mnemo::util {

using Json = nlohmann::json;

// Parses text without exceptions; errors name the byte offset.
Result<Json> ParseJson(std::string_view text);
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

// Typed field access for request parsing: errors read `expected string for "text"`.
Result<std::string> GetString(const Json& obj, std::string_view key, bool required);
Result<std::optional<TimeMs>> GetTime(const Json& obj, std::string_view key);

}  // namespace mnemo::util
