// Space::EraseUser: a data-subject erasure (Engine::EraseUser in mnemo/engine.h).
#include "engine/space.h"
#include "store/job_store.h"
#include "store/memory_store.h"

namespace mnemo::engine {

Result<UserErasure> Space::EraseUser(const std::string& user, const std::string& reason) {
  if (user.empty()) return Status::InvalidArgument("user is required").WithField("user");
  MNEMO_RETURN_IF_ERROR(ValidateShortField(user, "user"));
  MNEMO_RETURN_IF_ERROR(ValidateShortField(reason, "reason"));
  UserErasure out;
  {
    WriteTxn txn(this);
    MNEMO_RETURN_IF_ERROR(txn.Begin());
    store::Db& db = txn.db();
    MNEMO_ASSIGN_OR_RETURN(const std::vector<MemoryId> ids, store::MemoryIdsOfUser(db, user));
    // Ids stay used: a later memory never takes one (its history rows go below).
    if (!ids.empty()) MNEMO_RETURN_IF_ERROR(store::NoteErasedIds(db, ids.back()));
    for (MemoryId id : ids) {
      MNEMO_ASSIGN_OR_RETURN(auto current, store::GetMemory(db, id));
      if (!current) continue;
      // As a purge (row, tags, entities, vectors, links, index entries, quoting reasons),
      // then without the purge's own record: nothing of the user stays.
      MNEMO_RETURN_IF_ERROR(EraseOne(db, *current, reason, txn.vector_changes()));
      MNEMO_RETURN_IF_ERROR(store::DeleteHistory(db, id));
      ++out.memories;
    }
    MNEMO_ASSIGN_OR_RETURN(out.jobs, store::DeleteJobsOfUser(db, user));
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    // secure_delete zeroed the freed pages; move the WAL into the database and truncate it.
    MNEMO_RETURN_IF_ERROR(db.TruncateWal());
  }
  if (out.memories > 0) AdjustUserCount(user, -out.memories);
  // The index snapshots on disk may hold the user's vectors and terms: rewrite them now.
  MNEMO_RETURN_IF_ERROR(Snapshot(/*min_changes=*/0));
  return out;
}

}  // namespace mnemo::engine
