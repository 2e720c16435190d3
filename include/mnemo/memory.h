// mnemo/memory.h — the memory record (MemCube: content + metadata + provenance + version).
//
// A Memory is a plain value type. Times are Unix epoch milliseconds (UTC); an unset
// optional time means "unknown" or "open" (valid_to unset: still valid).
//
// Thread safety: plain values, no internal synchronization.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/status.h"

namespace mnemo {

// 64-bit, time-ordered, unique within a space and below 2^53 so that it survives a
// round trip through JSON numbers in every language (JavaScript included).
using MemoryId = int64_t;
using TimeMs = int64_t;  // Unix epoch milliseconds, UTC

enum class Kind { kEpisode, kFact, kPreference, kProcedure, kSummary };
// Where a memory came from. "web": a page or document fetched from outside.
enum class Origin { kUser, kAssistant, kTool, kImport, kDerived, kWeb };
// How far its text may be trusted, by origin (docs/security.md, "Trust and quarantine"):
// high for what the user said and what mnemo derived from it, medium for the assistant's
// words and imported memories, low for tool results and web content. Text of low trust
// that reads as instructions to the agent is quarantined (Memory::quarantine).
enum class Trust { kLow, kMedium, kHigh };
// Sensitive categories of what a memory says (docs/security.md, "Sensitivity labels"):
// assigned at write by rules (write/sensitivity.h), added by the caller, inherited by what
// is derived from it. A key denied a label never sees such memories.
enum class Label {
  kHealth,
  kSexuality,  // sex life or sexual orientation
  kReligion,
  kPolitics,
  kEthnicity,
  kFinance,
  kLocation,  // a precise location: a street address, coordinates
  kIdentity,  // identity numbers: social security, passport, licence, tax id
  kCredentials,
};
inline constexpr int kLabelCount = 9;
using LabelSet = uint32_t;  // bit (1 << Label) for each label
constexpr LabelSet LabelBit(Label l) { return LabelSet{1} << static_cast<int>(l); }
enum class Tier { kWorking, kShortTerm, kLongTerm, kArchived };
// kActive: searchable. kRetired: removed (soft) or superseded; kept with its history.
enum class State { kActive, kRetired };

std::string_view KindName(Kind k);      // "episode", "fact", "preference", "procedure", "summary"
std::string_view OriginName(Origin o);  // "user", "assistant", "tool", "import", "derived", "web"
Trust TrustOf(Origin o);
std::string_view TrustName(Trust t);  // "low", "medium", "high"
std::string_view TierName(Tier t);    // "working", "short_term", "long_term", "archived"
std::string_view StateName(State s);  // "active", "retired"
Result<Kind> ParseKind(std::string_view name);
Result<Origin> ParseOrigin(std::string_view name);
Result<Tier> ParseTier(std::string_view name);
Result<State> ParseState(std::string_view name);
// "health", "sexuality", "religion", "politics", "ethnicity", "finance", "location",
// "identity", "credentials".
std::string_view LabelName(Label l);
Result<Label> ParseLabel(std::string_view name);
std::vector<std::string> LabelNames(LabelSet labels);  // in the enum's order
Result<LabelSet> ParseLabels(const std::vector<std::string>& names);

struct Memory {
  MemoryId id = 0;
  Kind kind = Kind::kEpisode;
  std::string text;

  // Scope: every memory belongs to exactly one user; agent and session are optional ("").
  std::string user_id;
  std::string agent_id;
  std::string session_id;
  std::string role;     // "user", "assistant", "system", "tool" or free text; may be ""
  std::string speaker;  // who spoke, by name (e.g. "Caroline"); may be ""

  std::optional<TimeMs> event_time;  // when it was said or happened
  std::optional<TimeMs> valid_from;  // valid time: when it became true in the world
  std::optional<TimeMs> valid_to;    // unset while still true
  TimeMs created_at = 0;             // system time: when mnemo learned it
  TimeMs updated_at = 0;             // system time of the latest version
  std::optional<TimeMs> expired_at;  // system time when it was retired, if it was
  // When it expires (TTL): it is then retired with reason "expired", and erased later by
  // the purge policy (docs/lifecycle.md). Unset: never.
  std::optional<TimeMs> expires_at;

  double importance = 0.5;  // 0..1
  // Recall bookkeeping (docs/lifecycle.md, "Retention"): strength grows with every recall
  // (a search result), last_access is the latest one. Updated in batches, off the search
  // path, without a new version.
  double strength = 1.0;
  std::optional<TimeMs> last_access;
  int64_t access_count = 0;
  Tier tier = Tier::kShortTerm;  // moved by the lifecycle maintenance, never versioned
  State state = State::kActive;
  int64_t version = 1;  // 1 on add, +1 on every update

  std::vector<MemoryId> sources;  // memories this one was derived from
  Origin origin = Origin::kUser;
  // Why the memory is quarantined; "" when it is not. A quarantined memory is kept and
  // shown when asked for (Filter::quarantined), but never in context, in a default list
  // or search, or a source of derived memories. Set at write (write/injection.h) or by
  // an update; released by an update.
  std::string quarantine;
  LabelSet labels = 0;  // sensitive categories (Label)
  std::vector<std::string> tags;
  std::vector<std::string> entities;
  std::string metadata = "{}";  // a JSON object, compact text
};

// What a caller supplies to add a memory; everything else is set by the engine.
struct MemoryInput {
  std::string text;     // required, valid UTF-8, non-empty, at most Options::max_text_bytes
  std::string user_id;  // required
  std::string agent_id;
  std::string session_id;
  Kind kind = Kind::kEpisode;
  std::string role;
  std::string speaker;
  std::optional<TimeMs> event_time;  // default: now
  std::optional<TimeMs> valid_from;
  std::optional<TimeMs> valid_to;
  // Expiry: at expires_at, or ttl_ms after it is written (not both). Neither: the kind's
  // TTL (LifecycleOptions::ttl_ms) if it has one, else never.
  std::optional<TimeMs> expires_at;
  std::optional<int64_t> ttl_ms;
  double importance = 0.5;
  Origin origin = Origin::kUser;
  LabelSet labels = 0;  // added to those the rules find in the text
  std::vector<std::string> tags;
  std::vector<std::string> entities;
  std::vector<MemoryId> sources;
  std::string metadata = "{}";  // must parse as a JSON object
};

// A partial change: unset fields keep their value. Any change creates a new version.
struct MemoryUpdate {
  std::optional<std::string> text;
  std::optional<Kind> kind;
  std::optional<std::optional<TimeMs>> event_time;
  std::optional<std::optional<TimeMs>> valid_from;
  std::optional<std::optional<TimeMs>> valid_to;
  std::optional<std::optional<TimeMs>> expires_at;  // set to nullopt: never expires
  std::optional<double> importance;
  std::optional<Tier> tier;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::vector<std::string>> entities;
  std::optional<std::string> metadata;  // replaces the whole object
  // true: quarantine the memory (reason: `reason`, else "quarantined by hand"); false:
  // release it. A new text of a memory of low trust is checked again unless this is set.
  std::optional<bool> quarantined;
  // Replaces the labels; those the rules find in the (new) text are kept.
  std::optional<LabelSet> labels;
  std::string reason;  // recorded in history
  std::string actor;   // recorded in history ("" = "api")
};

enum class HistoryOp { kAdd, kUpdate, kRemove, kPurge };
std::string_view HistoryOpName(HistoryOp op);
Result<HistoryOp> ParseHistoryOp(std::string_view name);

// One entry of the append-only history. `before` / `after` are the memory's JSON
// representation (see Engine::Export) at that point; empty when not applicable, and
// emptied by purge (the entry itself stays, so the erasure is on record).
struct HistoryEntry {
  MemoryId memory_id = 0;
  int64_t version = 0;
  HistoryOp op = HistoryOp::kAdd;
  std::string before;
  std::string after;
  std::string actor;
  TimeMs time = 0;
  std::string reason;
};

enum class LinkType { kDerivedFrom, kSupersedes, kRelated, kSameEntity, kNext };
std::string_view LinkTypeName(LinkType t);
Result<LinkType> ParseLinkType(std::string_view name);

struct Link {
  MemoryId from = 0;
  MemoryId to = 0;
  LinkType type = LinkType::kRelated;
  double weight = 1.0;
};

}  // namespace mnemo
