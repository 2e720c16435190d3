// Extraction integrity (HaluMem-style): does the write pipeline derive the facts a
// conversation states about its user, only those, and keep the profile current as they
// change? A labelled set (tests/data/integrity/) gives, for each turn of a short
// conversation, the profile entries it asserts; the evaluation ingests the turns one at a
// time into a fresh space, runs the pipeline after each, and compares:
//  - extraction: the slot memories derived from the turn (new, or an existing one the
//    turn restated: its sources name the turn) against the turn's expected facts.
//    precision = right / derived, recall = found / expected. A derived fact is right when
//    its slot and value are expected from that turn (value compared as lower-case words
//    without articles; a negated fact matches an expected removal, value null).
//  - update accuracy: for each expected fact that changes a slot the expected profile
//    already held (another value, or removed), whether the profile right after the turn
//    shows the new value (or no longer shows the slot).
//  - the final profile of each conversation against the expected one (slot by slot).
//  - trap turns (tags hypothetical, question, other_person, assistant, suggestion):
//    derived facts from them, which should be none.
// The file format is described in docs/benchmarks.md ("Extraction integrity").
//
// Thread safety: functions take the engine by reference and use it from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/engine.h"
#include "util/json_codec.h"

namespace mnemo::eval {

struct IntegrityFact {
  std::string slot;
  std::optional<std::string> value;  // nullopt: the turn removes the slot
};

struct IntegrityTurn {
  std::string role;  // "user" or "assistant"
  std::string text;
  std::optional<TimeMs> time;  // default: a minute after the previous turn
  std::vector<std::string> tags;
  std::vector<IntegrityFact> facts;
};

struct IntegrityConversation {
  std::string id;
  std::string user;
  std::string speaker;  // "" when the conversation names no speaker
  std::vector<IntegrityTurn> turns;
  std::map<std::string, std::string> profile;  // expected after the last turn
};

struct IntegrityDataset {
  std::vector<IntegrityConversation> conversations;
};

// Parses the JSONL set. Every error names the line and field; the file is refused when a
// conversation's `profile` is not the fold of its turns' facts (a labelling error).
Result<IntegrityDataset> ParseIntegrity(std::string_view jsonl);
Result<IntegrityDataset> LoadIntegrity(const std::string& path);

// Counts of one group of turns (a tag, or all).
struct IntegrityCounts {
  int64_t turns = 0;
  int64_t expected = 0;  // facts the turns state
  int64_t found = 0;     // of them, derived
  int64_t derived = 0;   // slot facts derived from the turns
  int64_t right = 0;     // of them, expected
  double Precision() const { return derived == 0 ? 1.0 : double(right) / double(derived); }
  double Recall() const { return expected == 0 ? 1.0 : double(found) / double(expected); }
};

// One difference between what was expected and what was derived, for reading.
struct IntegrityMiss {
  std::string conversation;
  int turn = 0;      // 1-based
  std::string kind;  // "missed", "wrong", "stale" (an update the profile did not take)
  std::string fact;  // "home_city=oslo"
  std::string text;  // the turn's text
};

struct IntegrityReport {
  std::string extractor;  // "rules" or the model's id
  int64_t conversations = 0;
  IntegrityCounts overall;
  std::map<std::string, IntegrityCounts> by_tag;
  int64_t updates = 0;         // expected changes of a slot already held
  int64_t updates_right = 0;   // the profile showed the change right after the turn
  int64_t profile_slots = 0;   // final profiles: slots expected or shown
  int64_t profile_right = 0;   // of them, shown with the expected value
  int64_t profiles_exact = 0;  // conversations whose final profile is exactly the expected
  int64_t trap_turns = 0;      // hypothetical, question, other person, assistant, suggestion
  int64_t trap_facts = 0;      // slot facts derived from them
  std::vector<IntegrityMiss> misses;
  double UpdateAccuracy() const {
    return updates == 0 ? 1.0 : double(updates_right) / double(updates);
  }
};

// Runs the set: each conversation in its own new space (named "c<N>" after its position)
// of `engine`, turns ingested one at a time (session "s1") with Engine::RunJobs after each.
// The engine's options decide the extractor (rules, or the chat model when one is set and
// the pipeline may use it); `extractor` names it in the report. `progress` counts
// conversations.
Result<IntegrityReport> EvalIntegrity(Engine& engine, const IntegrityDataset& data,
                                      const std::string& extractor,
                                      const Progress& progress = nullptr);

util::Json IntegrityReportToJson(const IntegrityReport& report);
std::string IntegrityReportToTable(const IntegrityReport& report, bool list_misses);

}  // namespace mnemo::eval
