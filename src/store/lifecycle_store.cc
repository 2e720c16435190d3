#include "store/lifecycle_store.h"

#include <algorithm>

#include "store/memory_store.h"
#include "store/sql_values.h"

namespace mnemo::store {
namespace {

constexpr int64_t kArchived = static_cast<int64_t>(Tier::kArchived);
constexpr int64_t kWorking = static_cast<int64_t>(Tier::kWorking);
constexpr int64_t kShortTerm = static_cast<int64_t>(Tier::kShortTerm);

// The lexical index filters on the archive tier: it re-reads a row whose tier changed.
// (The bulk moves between working and short-term below never touch the archive.)
Status NoteTierChange(Db& db, MemoryId id) {
  MNEMO_RETURN_IF_ERROR(LogIndexChange(db, id, IndexOp::kRow).status());
  db.journal().reread.push_back(id);
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::pair<MemoryId, TimeMs>>> DueExpiries(Db& db, TimeMs now, size_t limit) {
  std::vector<std::pair<MemoryId, TimeMs>> out;
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT id, expires_at FROM memories WHERE "
                                             "expires_at<=? AND state=" SQL_ACTIVE " LIMIT ?"));
  st.Bind(1, now).Bind(2, static_cast<int64_t>(limit));
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace_back(st.Int(0), st.Int(1));
  }
  return out;
}

Result<std::optional<TimeMs>> NextExpiry(Db& db) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT min(expires_at) FROM memories WHERE "
                                             "expires_at IS NOT NULL AND state=" SQL_ACTIVE));
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.IsNull(0)) return std::optional<TimeMs>();
  return std::optional<TimeMs>(st.Int(0));
}

Result<std::vector<MemoryId>> ExpiredBefore(Db& db, TimeMs cutoff, size_t limit) {
  // Retired by expiry: retired at (or after) its expiry, not removed before it. The grace
  // period counts from the retirement (updated_at), never from an expiry in the past.
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT id FROM memories WHERE state=" SQL_RETIRED
                                             " AND expires_at IS NOT NULL AND "
                                             "expired_at>=expires_at AND updated_at<=? LIMIT ?"));
  st.Bind(1, cutoff).Bind(2, static_cast<int64_t>(limit));
  std::vector<MemoryId> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(st.Int(0));
  }
  return out;
}

Result<std::optional<std::pair<double, Tier>>> ActiveStrength(Db& db, MemoryId id) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("SELECT strength, tier FROM memories WHERE id=? AND state=" SQL_ACTIVE));
  st.Bind(1, id);
  MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::pair<double, Tier>>();
  return std::optional<std::pair<double, Tier>>({st.Double(0), static_cast<Tier>(st.Int(1))});
}

Status SaveRecalls(Db& db, MemoryId id, int64_t count, TimeMs last, double strength, Tier from,
                   Tier tier) {
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("UPDATE memories SET access_count=access_count+?, "
                          "last_access=max(coalesce(last_access, 0), ?), strength=?, tier=? "
                          "WHERE id=?"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, count)
                            .Bind(2, last)
                            .Bind(3, strength)
                            .Bind(4, static_cast<int64_t>(tier))
                            .Bind(5, id)
                            .Run());
  return from == tier ? Status::Ok() : NoteTierChange(db, id);
}

Status SetTier(Db& db, MemoryId id, Tier tier) {
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare("UPDATE memories SET tier=? WHERE id=?"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(tier)).Bind(2, id).Run());
  return NoteTierChange(db, id);
}

Result<int64_t> EndIdleWorkingSets(Db& db, TimeMs quiet_before) {
  // Literal tier and state: SQLite then reads the memories_working partial index.
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("UPDATE memories SET tier=? WHERE id IN (SELECT id FROM memories "
                          "WHERE tier=" SQL_WORKING " AND state=" SQL_ACTIVE
                          " AND (user_id, session_id) IN (SELECT "
                          "user_id, session_id FROM memories WHERE tier=" SQL_WORKING
                          " AND state=" SQL_ACTIVE " GROUP BY "
                          "user_id, session_id HAVING max(created_at)<=?))"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, kShortTerm).Bind(2, quiet_before).Run());
  return db.Changes();
}

Result<int64_t> BoundWorkingSet(Db& db, const std::string& user, const std::string& session,
                                int capacity) {
  // The working-set index finds the session's working rows (at most capacity + one
  // batch); the newest `capacity` stay.
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st, db.Prepare("UPDATE memories SET tier=? WHERE id IN (SELECT id FROM memories "
                          "INDEXED BY memories_working WHERE user_id=? AND session_id=? AND "
                          "tier=" SQL_WORKING " AND state=" SQL_ACTIVE
                          " ORDER BY id DESC LIMIT -1 OFFSET ?)"));
  MNEMO_RETURN_IF_ERROR(st.Bind(1, kShortTerm)
                            .Bind(2, user)
                            .Bind(3, session)
                            .Bind(4, static_cast<int64_t>(std::max(0, capacity)))
                            .Run());
  return db.Changes();
}

namespace {
constexpr const char* kTierColumns =
    "SELECT id, tier, user_id, importance, strength, access_count, last_access, created_at, "
    "length(CAST(text AS BLOB)) FROM memories ";

Result<std::vector<TierRow>> ReadTierRows(Stmt& st) {
  std::vector<TierRow> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    TierRow r;
    r.id = st.Int(0);
    r.tier = static_cast<Tier>(st.Int(1));
    r.user_id = st.Text(2);
    r.importance = st.Double(3);
    r.strength = st.Double(4);
    r.access_count = st.Int(5);
    r.last_access = st.OptInt(6);
    r.created_at = st.Int(7);
    r.bytes = static_cast<size_t>(st.Int(8));
    out.push_back(std::move(r));
  }
  return out;
}
}  // namespace

Result<std::vector<TierRow>> HeatCandidates(Db& db, bool all_short_term) {
  // Literal tiers and state: SQLite reads memories_by_tier and memories_recalled.
  MNEMO_ASSIGN_OR_RETURN(
      Stmt st,
      db.Prepare(
          std::string(kTierColumns) +
          (all_short_term
               ? "WHERE state=" SQL_ACTIVE " AND tier IN (" SQL_SHORT_TERM ", " SQL_LONG_TERM ")"
               : "WHERE state=" SQL_ACTIVE " AND tier=" SQL_LONG_TERM " UNION ALL " +
                     std::string(kTierColumns) +
                     "WHERE state=" SQL_ACTIVE " AND access_count>0 AND tier=" SQL_SHORT_TERM)));
  return ReadTierRows(st);
}

Result<std::vector<TierRow>> TierRows(Db& db, const std::string& user, bool archived) {
  std::string sql = std::string(kTierColumns) + "WHERE state=" SQL_ACTIVE " AND tier<>?";
  if (!archived) sql += " AND tier<>?";
  if (!user.empty()) sql += " AND user_id=?";
  MNEMO_ASSIGN_OR_RETURN(Stmt st, db.Prepare(sql));
  int i = 1;
  st.Bind(i++, kWorking);
  if (!archived) st.Bind(i++, kArchived);
  if (!user.empty()) st.Bind(i++, user);
  return ReadTierRows(st);
}

Result<std::vector<std::pair<std::string, int64_t>>> UsersOverCapacity(Db& db, int64_t capacity) {
  // A session's working set does not count: only what the archive can take.
  MNEMO_ASSIGN_OR_RETURN(Stmt st,
                         db.Prepare("SELECT user_id, count(*) FROM memories WHERE "
                                    "state=" SQL_ACTIVE " AND tier NOT IN (?,?) GROUP BY user_id "
                                    "HAVING count(*)>?"));
  st.Bind(1, kArchived).Bind(2, kWorking).Bind(3, capacity);
  std::vector<std::pair<std::string, int64_t>> out;
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace_back(st.Text(0), st.Int(1));
  }
  return out;
}

}  // namespace mnemo::store
