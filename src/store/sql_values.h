// The enum values that the SQL of src/store writes as literal text.
//
// They stay literals, not bound parameters, because SQLite uses a partial index (schema
// v5: "WHERE state=0", "WHERE kind<>0 AND state=0") only when the query's WHERE clause
// holds the same literal term. Each macro expands to a string literal, so that it joins
// the statement text at compile time ("... WHERE state=" SQL_ACTIVE " AND ..."), and each
// is checked against its enum below. Include it only from src/store/*.cc.
#pragma once

#include "mnemo/engine.h"
#include "mnemo/memory.h"
#include "store/memory_store.h"

// Memory::state
#define SQL_ACTIVE "0"   // State::kActive
#define SQL_RETIRED "1"  // State::kRetired
// Memory::kind
#define SQL_EPISODE "0"  // Kind::kEpisode
// The kinds the pipeline keeps current per slot: Kind::kFact, kPreference, kProcedure.
#define SQL_FACT_KINDS "1,2,3"
// Memory::tier
#define SQL_WORKING "0"     // Tier::kWorking
#define SQL_SHORT_TERM "1"  // Tier::kShortTerm
#define SQL_LONG_TERM "2"   // Tier::kLongTerm
#define SQL_ARCHIVED "3"    // Tier::kArchived
// Link::type
#define SQL_LINK_NEXT "4"  // LinkType::kNext
// Job::kind and Job::state
#define SQL_JOB_EXTRACT "0"    // JobKind::kExtract
#define SQL_JOB_EMBED "1"      // JobKind::kEmbed
#define SQL_JOB_REEMBED "2"    // JobKind::kReembed
#define SQL_JOB_SUMMARIZE "3"  // JobKind::kSummarize
#define SQL_JOB_PENDING "0"    // JobState::kPending
#define SQL_JOB_DONE "1"       // JobState::kDone
#define SQL_JOB_DEAD "2"       // JobState::kDead
// index_log.op
#define SQL_OP_ROW "3"  // IndexOp::kRow (memory_store.h)

namespace mnemo::store::sql_values {

// The value of the digit at s[i].
constexpr int Digit(const char* s, int i = 0) { return s[i] - '0'; }

static_assert(Digit(SQL_ACTIVE) == static_cast<int>(State::kActive));
static_assert(Digit(SQL_RETIRED) == static_cast<int>(State::kRetired));
static_assert(Digit(SQL_EPISODE) == static_cast<int>(Kind::kEpisode));
static_assert(Digit(SQL_FACT_KINDS) == static_cast<int>(Kind::kFact));
static_assert(Digit(SQL_FACT_KINDS, 2) == static_cast<int>(Kind::kPreference));
static_assert(Digit(SQL_FACT_KINDS, 4) == static_cast<int>(Kind::kProcedure));
static_assert(Digit(SQL_WORKING) == static_cast<int>(Tier::kWorking));
static_assert(Digit(SQL_SHORT_TERM) == static_cast<int>(Tier::kShortTerm));
static_assert(Digit(SQL_LONG_TERM) == static_cast<int>(Tier::kLongTerm));
static_assert(Digit(SQL_ARCHIVED) == static_cast<int>(Tier::kArchived));
static_assert(Digit(SQL_LINK_NEXT) == static_cast<int>(LinkType::kNext));
static_assert(Digit(SQL_JOB_EXTRACT) == static_cast<int>(JobKind::kExtract));
static_assert(Digit(SQL_JOB_EMBED) == static_cast<int>(JobKind::kEmbed));
static_assert(Digit(SQL_JOB_REEMBED) == static_cast<int>(JobKind::kReembed));
static_assert(Digit(SQL_JOB_SUMMARIZE) == static_cast<int>(JobKind::kSummarize));
static_assert(Digit(SQL_JOB_PENDING) == static_cast<int>(JobState::kPending));
static_assert(Digit(SQL_JOB_DONE) == static_cast<int>(JobState::kDone));
static_assert(Digit(SQL_JOB_DEAD) == static_cast<int>(JobState::kDead));
static_assert(Digit(SQL_OP_ROW) == static_cast<int>(IndexOp::kRow));

}  // namespace mnemo::store::sql_values
