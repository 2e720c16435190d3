// The pipeline's lookups among a user's derived memories (facts, preferences,
// procedures): each through an index of active memories only (schema v5:
// memories_by_slot, memories_derived_text, memory_entities), never a scan of the user's
// memories nor of a slot's past values, so that consolidating one candidate costs the
// same at 1,000 memories and at 1,000,000.
//
// Thread safety: each function uses the Db it is given; see store/sqlite.h.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mnemo/memory.h"
#include "store/sqlite.h"

namespace mnemo::store {

// Active derived memories of `user` whose metadata slot is `slot` (at most `limit`).
Result<std::vector<MemoryId>> DerivedBySlot(Db& db, const std::string& user,
                                            const std::string& slot, int limit);
// Active derived memories of `user` whose text is exactly `text` (at most `limit`).
Result<std::vector<MemoryId>> DerivedByText(Db& db, const std::string& user,
                                            const std::string& text, int limit);
// Active derived memories of `user` other than `except` naming `entity` (compared
// lower-cased, ASCII), newest first, with their entities (at most `limit`).
Result<std::vector<std::pair<MemoryId, std::vector<std::string>>>> DerivedByEntity(
    Db& db, const std::string& user, const std::string& entity, MemoryId except, int limit);

// The active derived memories of `user` that hold a slot, newest first (at most `limit`),
// with the fields ActiveDerivedLight reads: what a correction may take back.
Result<std::vector<Memory>> DerivedWithSlots(Db& db, const std::string& user, int limit);

// The active derived memories among `ids`, with the fields consolidation compares (id,
// kind, text, entities, metadata, valid_from, event_time, created_at), in one statement.
Result<std::vector<Memory>> ActiveDerivedLight(Db& db, const std::vector<MemoryId>& ids);

}  // namespace mnemo::store
