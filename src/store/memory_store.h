// The SQL of a space: memories, tags, history, links, vectors and the index log.
//
// Functions here do not open transactions: the caller (engine/space.cc) groups them into
// one transaction per API call. They validate nothing the caller has validated already.
//
// Thread safety: each function uses the Db it is given; see store/sqlite.h.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/query.h"
#include "store/filter_expr.h"
#include "store/sqlite.h"

namespace mnemo::store {

// ---- memories -------------------------------------------------------------------------
// InsertMemory, ReplaceMemory and EraseMemory record the change in db.journal() and log it
// in index_log (op kRow): the lexical index follows every row change.
Status InsertMemory(Db& db, const Memory& m);
Result<std::optional<Memory>> GetMemory(Db& db, MemoryId id);
// Rewrites the row of `after` (same id), re-indexing tags when they changed.
Status ReplaceMemory(Db& db, const Memory& before, const Memory& after);
// The secrets of a memory's text (write/secrets.h), n = 1, 2, ...: replaced as a whole.
Status PutSecrets(Db& db, MemoryId id,
                  const std::vector<std::pair<std::string, std::string>>& kind_value);
Result<std::vector<std::pair<std::string, std::string>>> ReadSecrets(Db& db, MemoryId id);
// Erases the memory: row, tags, vector, links and secrets.
Status EraseMemory(Db& db, const Memory& m);
// Largest id ever used in the space (memories, history and NoteErasedIds), 0 if none.
Result<MemoryId> MaxMemoryId(Db& db);
// Remembers that ids up to `id` were used (their history rows are about to go with a
// user's erasure), so that MaxMemoryId never hands them out again.
Status NoteErasedIds(Db& db, MemoryId id);

// ---- filters --------------------------------------------------------------------------
// The SQL of a Filter (its expression compiled by store/filter_expr.h). An expression
// that does not parse is an error; the engine checks it before any statement runs.
Result<SqlWhere> BuildFilter(const Filter& f);
void BindAll(Stmt& st, const std::vector<SqlArg>& args, int first_index);

// Memories matching `f` after `cursor_id` (exclusive; 0 = from the start), up to `limit`.
Result<std::vector<Memory>> ListMemories(Db& db, const Filter& f, MemoryId cursor_id,
                                         bool descending, int limit);
// Ids of memories matching `f` (for the exact vector scan of a narrow scope).
Result<std::vector<MemoryId>> MatchingIds(Db& db, const Filter& f, size_t limit);
// The memories among `ids` that match `f`, keyed by id.
// The ids among `ids` that pass `f` (in no particular order): FetchMatching without
// reading the rows.
Result<std::unordered_set<MemoryId>> PassingIds(Db& db, const std::vector<MemoryId>& ids,
                                                const Filter& f);
// Every memory's id, text and sources, in id order (labelling the memories of a space
// written before schema v7).
Status ForEachLabelInput(
    Db& db,
    const std::function<Status(MemoryId, std::string_view, const std::vector<MemoryId>&)>& fn);
// Sets a memory's labels in place (no new version) and logs the row change for the
// indexes.
Status SetLabels(Db& db, MemoryId id, LabelSet labels);
// The memories whose text had secrets taken out (table secrets).
Result<std::unordered_set<MemoryId>> IdsWithSecrets(Db& db);
// The union of the sensitivity labels of `ids` (what is derived from them inherits it).
Result<LabelSet> LabelsOf(Db& db, const std::vector<MemoryId>& ids);
// The session id of each of `ids` that exists and has one.
Result<std::unordered_map<MemoryId, std::string>> SessionsOf(Db& db,
                                                             const std::vector<MemoryId>& ids);
Result<std::vector<Memory>> FetchMatching(Db& db, const std::vector<MemoryId>& ids,
                                          const Filter& f);
// True when `f` selects by user (or all users), state, tier, agent, session, kind and
// event time only: what the lexical index evaluates itself (index/lexical_index.h).
// Tags, metadata and the bi-temporal views need SQLite.
bool IndexEvaluates(const Filter& f);

// ---- history, links -------------------------------------------------------------------
Status AppendHistory(Db& db, const HistoryEntry& h);
// Entries oldest first; `after` is left empty (the caller derives it).
Result<std::vector<HistoryEntry>> ReadHistory(Db& db, MemoryId id);
// Erases every snapshot of the memory and the reasons that could quote it.
Status ScrubHistory(Db& db, MemoryId id);
// Deletes every history row of the memory (a user's erasure: nothing of it stays).
Status DeleteHistory(Db& db, MemoryId id);
Result<bool> HasHistory(Db& db, MemoryId id);
// A "next" link is recorded in db.journal() (the lexical index keeps session order).
Status InsertLink(Db& db, const Link& l);
Result<std::vector<Link>> ReadLinks(Db& db, MemoryId id);  // both directions
// The links of `type` with either end among `ids`.
Result<std::vector<Link>> LinksTouching(Db& db, const std::vector<MemoryId>& ids, LinkType type);
// The most recent memory of `session` for `user` with an id below `before`, if any.
Result<std::optional<MemoryId>> LastInSession(Db& db, const std::string& user,
                                              const std::string& session, MemoryId before);

// ---- the index log (vectors: vector_store.h) ------------------------------------------
// Vector changes (kUpsert, kRemove, kErase) and row changes (kRow: the memories row of
// the id was written or deleted; the lexical index re-reads it).
enum class IndexOp { kUpsert = 0, kRemove = 1, kErase = 2, kRow = 3 };
// Appends to index_log and to db.journal().last_seq; returns the seq.
Result<int64_t> LogIndexChange(Db& db, MemoryId id, IndexOp op);
struct IndexLogEntry {
  int64_t seq;
  MemoryId id;
  IndexOp op;
};
// Entries after `after_seq` in seq order: the vector ops only (kRow left out) unless
// `with_rows`.
Result<std::vector<IndexLogEntry>> ReadIndexLog(Db& db, int64_t after_seq, bool with_rows = false);
Result<int64_t> MaxIndexSeq(Db& db);  // highest seq ever issued (survives truncation)
Status TruncateIndexLog(Db& db, int64_t up_to_seq);
// Deletes at most `max_rows` of the entries TruncateIndexLog would; returns how many.
Result<int64_t> TruncateIndexLogSome(Db& db, int64_t up_to_seq, int64_t max_rows);

// ---- full scans (export) -------------------------------------------------------------
// Each calls fn for every row, in id (or seq) order; fn's error stops the scan.
Status ForEachMemory(Db& db,
                     const std::function<Status(const Memory&, std::string_view vector)>& fn);
Status ForEachHistory(Db& db, const std::function<Status(const HistoryEntry&)>& fn);
Status ForEachLink(Db& db, const std::function<Status(const Link&)>& fn);
// Calls fn(from, to) for every link of `type`, in no particular order.
Status ForEachLinkOf(Db& db, LinkType type, const std::function<void(MemoryId, MemoryId)>& fn);
// The ids of the memories (any state) in [first, last], ascending.
Result<std::vector<MemoryId>> MemoryIdsBetween(Db& db, MemoryId first, MemoryId last);
// The ids of every memory (any state) of `user`, ascending.
Result<std::vector<MemoryId>> MemoryIdsOfUser(Db& db, const std::string& user);

// ---- meta and stats -------------------------------------------------------------------
Status SetMeta(Db& db, const std::string& key, const std::string& value);
Result<std::optional<std::string>> GetMeta(Db& db, const std::string& key);
Status DeleteMeta(Db& db, const std::string& key);
// What CountOf counts: memories (all, active, retired), distinct users and (user, session)
// pairs, history entries, links, and vectors of a re-embed's target.
enum class Counted {
  kMemories,
  kActive,
  kRetired,
  kUsers,
  kSessions,
  kHistory,
  kLinks,
  kNextVectors
};
Result<int64_t> CountOf(Db& db, Counted what);
Result<std::vector<std::pair<std::string, int64_t>>> CountByUser(Db& db);
// Users with active memories whose id sorts after `after`, by id, at most `limit`.
Result<std::vector<UserInfo>> ListUsers(Db& db, const std::string& after, int limit);
// Active memories per kind or per tier (the enum's ordinal).
enum class ActiveGroup { kKind, kTier };
Result<std::vector<std::pair<int, int64_t>>> CountActiveBy(Db& db, ActiveGroup group);

}  // namespace mnemo::store
