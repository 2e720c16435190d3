// The SQL of the lifecycle (docs/lifecycle.md): recalls, expiry, purge policy, tiers.
// Like memory_store.h: no transactions here; the caller (engine/space_lifecycle.cc)
// groups the calls.
//
// Thread safety: each function uses the Db it is given; see store/sqlite.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mnemo/memory.h"
#include "store/sqlite.h"

namespace mnemo::store {

// Active memories whose expires_at is at or before `now`, with it. At most `limit`.
Result<std::vector<std::pair<MemoryId, TimeMs>>> DueExpiries(Db& db, TimeMs now, size_t limit);
// The earliest expires_at of an active memory, if any.
Result<std::optional<TimeMs>> NextExpiry(Db& db);
// Memories retired by expiry (retired at or after their expires_at) whose retirement (their
// last update) is at or before `cutoff`, at most `limit`.
Result<std::vector<MemoryId>> ExpiredBefore(Db& db, TimeMs cutoff, size_t limit);

// The strength and tier of an active memory (none: not active, or gone).
Result<std::optional<std::pair<double, Tier>>> ActiveStrength(Db& db, MemoryId id);
// Saves `count` more recalls of memory `id`, the latest at `last`, with its new strength
// and tier (`from`: its tier before). Bookkeeping: no new version. A tier change, like
// SetTier, is recorded in db.journal() and index_log (op kRow).
Status SaveRecalls(Db& db, MemoryId id, int64_t count, TimeMs last, double strength, Tier from,
                   Tier tier);

Status SetTier(Db& db, MemoryId id, Tier tier);
// Moves to short_term every working memory of the sessions whose newest working memory
// was created at or before `quiet_before`. Returns how many moved.
Result<int64_t> EndIdleWorkingSets(Db& db, TimeMs quiet_before);
// Moves to short_term the working memories of (user, session) beyond its newest
// `capacity`. Returns how many moved.
Result<int64_t> BoundWorkingSet(Db& db, const std::string& user, const std::string& session,
                                int capacity);

// What heat needs of an active memory (lifecycle/retention.h).
struct TierRow {
  MemoryId id = 0;
  Tier tier = Tier::kShortTerm;
  std::string user_id;
  double importance = 0.5;
  double strength = 1.0;
  int64_t access_count = 0;
  std::optional<TimeMs> last_access;
  TimeMs created_at = 0;
  size_t bytes = 0;
};
// The active memories whose tier heat may move: long-term ones (they may cool down) and
// short-term ones that were recalled (the others have heat <= 1: retention at most 1,
// no recall), through indexes. With `all_short_term`, every short-term one (for a
// promotion threshold of 1 or less).
Result<std::vector<TierRow>> HeatCandidates(Db& db, bool all_short_term);
// Active memories in tiers short_term and long_term (and, with `archived`, archived),
// of `user` ("" = every user).
Result<std::vector<TierRow>> TierRows(Db& db, const std::string& user, bool archived);
// Users holding more than `capacity` active short- and long-term memories, with that count.
Result<std::vector<std::pair<std::string, int64_t>>> UsersOverCapacity(Db& db, int64_t capacity);

}  // namespace mnemo::store
