// Vectors the write path could not get, and re-embedding when the configured embedder
// changes (docs/pipeline.md, "Embed jobs" and "Re-embedding").
//
// A write embeds its texts outside the lock. When the provider fails (unavailable,
// timeout, garbage), the memory is stored anyway, without that vector, and an `embed`
// job (payload: the memory ids) is inserted in the write's transaction; it runs later
// with the pipeline's backoff and dead letter. Until then the memory is found lexically.
//
// Re-embedding. States of a space (space_meta):
//   embedder=A                      vectors holds A's vectors; the index is over them.
//   embedder=A, embedder_next=B     re-embedding: `reembed` jobs (payload [first, last]
//                                   id of a range) fill vectors_next with B's vectors;
//                                   writes embed with A (when A can be built here) and B.
//                                   Searches use A's vectors with A's query vector, or
//                                   lexical search alone when A cannot be built here.
//   switch                          when no embed work is pending and every memory has
//                                   its B vector: the B index is built outside locks from
//                                   a consistent read at index-log seq S, then, under
//                                   snapshot_mu_ and write_mu_, one transaction moves
//                                   vectors_next into vectors, sets embedder=B, drops
//                                   embedder_next and the index log; the index catches up
//                                   from the log entries after S and replaces the old one
//                                   under vectors_mu_.
// A crash anywhere before the switch's commit resumes from the jobs table (jobs are
// durable, vectors_next rows are kept); after it, the space simply uses B. Opening the
// space with A again cancels the re-embed; with a third embedder C restarts it toward C.
#include <algorithm>
#include <string>
#include <vector>

#include "embed/builtin_embedder.h"
#include "engine/space.h"
#include "index/quantize.h"
#include "store/memory_store.h"
#include "store/vector_store.h"
#include "util/fs.h"

namespace mnemo::engine {
namespace {

constexpr size_t kEmbedJobItems = 256;  // memories per embed / reembed job
constexpr const char* kNextKey = "embedder_next";

// An embedder that produces `id`'s vectors: the configured one, or the builtin embedder of
// that dimension (it needs no configuration). Null when neither is `id`.
std::shared_ptr<const Embedder> BuildKnown(const std::string& id, int dimension,
                                           const std::shared_ptr<const Embedder>& configured) {
  if (configured->id() == id && configured->dimension() == dimension) return configured;
  if (id.rfind("builtin-", 0) == 0 && dimension >= embed::kMinBuiltinDimension &&
      dimension <= embed::kMaxBuiltinDimension) {
    auto builtin = embed::NewBuiltinEmbedder(dimension);
    if (builtin->id() == id && builtin->dimension() == dimension) return builtin;
  }
  return nullptr;
}

// Inserts reembed jobs over `ids` (sorted), kEmbedJobItems memories per id range.
Status InsertRanges(store::Db& db, const std::vector<MemoryId>& ids, TimeMs now) {
  for (size_t i = 0; i < ids.size(); i += kEmbedJobItems) {
    const size_t last = std::min(ids.size(), i + kEmbedJobItems) - 1;
    MNEMO_RETURN_IF_ERROR(
        store::InsertJob(db, JobKind::kReembed, "", "", {ids[i], ids[last]}, now).status());
  }
  return Status::Ok();
}

}  // namespace

bool IsProviderFailure(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kCorruption;
}

Status Space::SetUpEmbedders() {
  store::Db& db = *writer_;
  const std::shared_ptr<const Embedder>& configured = ctx_->options.embedder;
  MNEMO_ASSIGN_OR_RETURN(auto recorded, store::SpaceEmbedder(db));
  if (!recorded) return Status::Corruption("space '" + name_ + "' has no embedder recorded");
  MNEMO_ASSIGN_OR_RETURN(auto next_id, store::GetMeta(db, kNextKey));
  const bool same =
      recorded->first == configured->id() && recorded->second == configured->dimension();
  if (!same && !ctx_->options.reembed_on_embedder_change) {
    return Status::FailedPrecondition(
        "space '" + name_ + "' holds vectors from embedder " + recorded->first + " (dimension " +
        std::to_string(recorded->second) + ") but mnemo is configured with " + configured->id() +
        " (dimension " + std::to_string(configured->dimension()) +
        "); use the embedder the space was created with, or enable re-embedding "
        "(embedding.reembed=true) to move the space to the new one in the background");
  }
  auto v = std::make_shared<Vectors>();
  v->id = recorded->first;
  v->dimension = recorded->second;
  const TimeMs now = Now();
  std::string note;
  store::Transaction txn(&db);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  MNEMO_ASSIGN_OR_RETURN(v->row, store::EmbedderRowId(db, v->id, v->dimension));
  if (same) {
    v->embedder = configured;
    if (next_id) {
      // The space's own embedder is configured again: the re-embed is cancelled. Memories
      // written meanwhile may lack its vector (when it could not be built): embed jobs.
      MNEMO_RETURN_IF_ERROR(store::ClearNextVectors(db));
      MNEMO_RETURN_IF_ERROR(store::DeleteMeta(db, kNextKey));
      MNEMO_RETURN_IF_ERROR(store::CancelJobs(db, JobKind::kReembed, /*dead_only=*/false,
                                              "cancelled: the space's embedder is configured again",
                                              now));
      MNEMO_ASSIGN_OR_RETURN(auto missing, store::IdsWithoutVector(db, /*next=*/false));
      if (!missing.empty()) {
        MNEMO_RETURN_IF_ERROR(EnqueueEmbed(
            db, missing, "", Status::Unavailable("written during a cancelled re-embed"), now));
      }
      note = "re-embed to " + *next_id + " cancelled: " + v->id + " is configured again";
    }
  } else {
    v->embedder = BuildKnown(v->id, v->dimension, configured);
    v->next = configured;
    MNEMO_ASSIGN_OR_RETURN(v->next_row,
                           store::EmbedderRowId(db, configured->id(), configured->dimension()));
    if (!next_id || *next_id != configured->id()) {
      // Start (or restart toward another embedder): every memory gets a reembed range.
      MNEMO_RETURN_IF_ERROR(store::ClearNextVectors(db));
      MNEMO_RETURN_IF_ERROR(store::SetMeta(db, kNextKey, configured->id()));
      const std::string why = "superseded by the re-embed to " + configured->id();
      MNEMO_RETURN_IF_ERROR(store::CancelJobs(db, JobKind::kReembed, false, why, now));
      MNEMO_RETURN_IF_ERROR(store::CancelJobs(db, JobKind::kEmbed, /*dead_only=*/true, why, now));
      MNEMO_ASSIGN_OR_RETURN(auto all,
                             store::MemoryIdsBetween(db, 0, std::numeric_limits<MemoryId>::max()));
      MNEMO_RETURN_IF_ERROR(InsertRanges(db, all, now));
      note = "re-embedding " + std::to_string(all.size()) + " memories from " + v->id + " to " +
             configured->id() + " in the background";
    } else {
      note = "resuming the re-embed from " + v->id + " to " + configured->id();
    }
    note += v->embedder ? "; searches use " + v->id + "'s vectors until it completes"
                        : "; " + v->id +
                              " is not configured, so searches are lexical only until it "
                              "completes";
  }
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  if (!note.empty()) Log(LogLevel::kInfo, "space '" + name_ + "': " + note);
  std::lock_guard<std::mutex> lock(vectors_mu_);
  vectors_ = std::move(v);
  return Status::Ok();
}

Result<Space::WriteVectors> Space::EmbedForWrite(const std::vector<std::string_view>& texts) const {
  const auto v = CurrentVectors();
  WriteVectors out;
  for (const Embedder* emb : {v->embedder.get(), v->next.get()}) {
    if (emb == nullptr) continue;
    auto blobs = EmbedBlobs(*emb, texts);
    if (blobs.ok()) {
      out.blobs[emb->id()] = std::move(blobs).value();
    } else if (IsProviderFailure(blobs.status())) {
      out.deferred = blobs.status();
    } else {
      return blobs.status();
    }
  }
  return out;
}

Result<bool> Space::PutVectors(store::Db& db, const Vectors& v, MemoryId id, const WriteVectors& w,
                               size_t i, bool replace, std::vector<IndexChange>* changes) {
  auto blob_of = [&](const std::string& embedder) -> const std::string* {
    auto it = w.blobs.find(embedder);
    return it != w.blobs.end() && i < it->second.size() ? &it->second[i] : nullptr;
  };
  bool missing = false;
  bool logged = false;  // one index-log entry per change of the memory's vectors
  if (const std::string* blob = v.embedder ? blob_of(v.id) : nullptr) {
    MNEMO_RETURN_IF_ERROR(store::PutVector(db, id, v.row, *blob));
    MNEMO_ASSIGN_OR_RETURN(int64_t seq, store::LogIndexChange(db, id, store::IndexOp::kUpsert));
    changes->push_back(IndexChange{seq, id, *blob});
    logged = true;
  } else {
    missing = v.embedder != nullptr;
    if (replace) {  // the old vector describes the old text
      MNEMO_RETURN_IF_ERROR(store::DeleteVector(db, id));
      MNEMO_ASSIGN_OR_RETURN(int64_t seq, store::LogIndexChange(db, id, store::IndexOp::kRemove));
      changes->push_back(IndexChange{seq, id, ""});
      logged = true;
    }
  }
  if (v.next) {
    if (const std::string* blob = blob_of(v.next->id())) {
      MNEMO_RETURN_IF_ERROR(store::PutNextVector(db, id, v.next_row, *blob));
    } else {
      missing = true;
      if (replace) MNEMO_RETURN_IF_ERROR(store::DeleteNextVector(db, id));
    }
    // A re-embed building its index catches up from the log: it must see this change.
    if (!logged) {
      MNEMO_RETURN_IF_ERROR(store::LogIndexChange(db, id, store::IndexOp::kUpsert).status());
    }
  }
  return missing;
}

Status Space::EnqueueEmbed(store::Db& db, const std::vector<MemoryId>& ids, const std::string& user,
                           const Status& why, TimeMs now) {
  // The provider has just failed (after its own retries): the first attempt waits like
  // a retry would.
  const TimeMs run_at = now + pipeline_->retry_initial_ms;
  for (size_t i = 0; i < ids.size(); i += kEmbedJobItems) {
    std::vector<MemoryId> part(
        ids.begin() + static_cast<ptrdiff_t>(i),
        ids.begin() + static_cast<ptrdiff_t>(std::min(ids.size(), i + kEmbedJobItems)));
    MNEMO_ASSIGN_OR_RETURN(int64_t job, store::InsertJob(db, JobKind::kEmbed, user, "", part, now));
    MNEMO_RETURN_IF_ERROR(
        store::DeferJob(db, job, "no vector at write time: " + why.ToString(), run_at, now));
  }
  return Status::Ok();
}

Status Space::EmbedDerived(const std::vector<std::string_view>& texts,
                           std::vector<std::vector<float>>* out) const {
  const auto v = CurrentVectors();
  if (!v->embedder) {
    out->assign(texts.size(), {});  // the re-embed gives them their new vector
    return Status::Ok();
  }
  return v->embedder->Embed(texts, out);
}

Status Space::StoreVector(store::Db& db, MemoryId id, const std::vector<float>& vec,
                          std::vector<IndexChange>* changes) {
  const auto v = CurrentVectors();
  WriteVectors w;
  if (!vec.empty() && static_cast<int>(vec.size()) == v->dimension) {
    w.blobs[v->id] = {index::Quantize(vec)};
  }
  // The pipeline runs in the job runner, like the re-embed: a missing new vector is
  // found by FinishReembed, so no embed job is needed here.
  return PutVectors(db, *v, id, w, 0, /*replace=*/true, changes).status();
}

Status Space::RunEmbedJob(const Job& job) {
  const auto v = CurrentVectors();
  const bool range = job.kind == JobKind::kReembed;
  struct Todo {
    MemoryId id;
    std::string text;
    bool current;  // needs the space embedder's vector
    bool next;     // needs the re-embed target's vector
  };
  std::vector<Todo> todo;
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    store::Db& db = *reader;
    std::vector<MemoryId> ids = job.memories;
    if (range) {
      ids.clear();
      if (job.memories.size() == 2) {
        MNEMO_ASSIGN_OR_RETURN(ids, store::MemoryIdsBetween(db, job.memories[0], job.memories[1]));
      }
    }
    for (MemoryId id : ids) {
      MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(db, id));
      // Purged memories are skipped; so are retired ones, except by a re-embed (the
      // switch carries every vector over, retired memories' included).
      if (!m || (!range && m->state != State::kActive)) continue;
      Todo t{id, std::move(m->text), false, false};
      if (v->embedder && !range) {
        MNEMO_ASSIGN_OR_RETURN(bool has, store::HasVector(db, id, /*next=*/false));
        t.current = !has;
      }
      if (v->next) {
        MNEMO_ASSIGN_OR_RETURN(bool has, store::HasVector(db, id, /*next=*/true));
        t.next = !has;
      }
      if (t.current || t.next) todo.push_back(std::move(t));
    }
  }
  // Embed outside any lock.
  WriteVectors w;
  for (const auto& [emb, wanted] :
       {std::pair{v->embedder.get(), &Todo::current}, std::pair{v->next.get(), &Todo::next}}) {
    std::vector<std::string_view> texts;
    for (const auto& t : todo) {
      if (t.*wanted) texts.push_back(t.text);
    }
    if (texts.empty()) continue;
    auto blobs = EmbedBlobs(*emb, texts);
    if (!blobs.ok()) {
      return FailJobs({job}, blobs.status().WithContext(range ? "re-embedding" : "embedding"),
                      store::JobOutcome{});
    }
    w.blobs[emb->id()] = std::move(blobs).value();
  }

  const TimeMs now = Now();
  WriteTxn txn(this);
  MNEMO_RETURN_IF_ERROR(txn.Begin());
  store::Db& db = txn.db();
  std::vector<IndexChange>& changes = *txn.vector_changes();
  int64_t written = 0;
  size_t at_current = 0, at_next = 0;  // positions in w.blobs
  for (const auto& t : todo) {
    const size_t ci = t.current ? at_current++ : 0;
    const size_t ni = t.next ? at_next++ : 0;
    // Skip what changed meanwhile: the change stored its own vectors or enqueued a job.
    MNEMO_ASSIGN_OR_RETURN(auto m, store::GetMemory(db, t.id));
    if (!m || m->text != t.text) continue;
    if (t.current) {
      MNEMO_ASSIGN_OR_RETURN(bool has, store::HasVector(db, t.id, false));
      if (!has) {
        const std::string& blob = w.blobs[v->id][ci];
        MNEMO_RETURN_IF_ERROR(store::PutVector(db, t.id, v->row, blob));
        MNEMO_ASSIGN_OR_RETURN(int64_t seq,
                               store::LogIndexChange(db, t.id, store::IndexOp::kUpsert));
        changes.push_back(IndexChange{seq, t.id, blob});
        ++written;
      }
    }
    if (t.next) {
      // Not logged: the re-embed's index is built after the jobs, in this same runner.
      MNEMO_ASSIGN_OR_RETURN(bool has, store::HasVector(db, t.id, true));
      if (!has) {
        MNEMO_RETURN_IF_ERROR(
            store::PutNextVector(db, t.id, v->next_row, w.blobs[v->next->id()][ni]));
        ++written;
      }
    }
  }
  store::JobOutcome outcome;
  outcome.derived = written;
  MNEMO_RETURN_IF_ERROR(store::CompleteJob(db, job.id, outcome, now));
  return txn.Commit();
}

Result<bool> Space::FinishReembed() {
  const auto v = CurrentVectors();
  if (!v->next) return false;
  const TimeMs now = Now();
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    // Pending or dead embed work: wait for it (a dead job waits for `mnemo jobs retry`).
    MNEMO_ASSIGN_OR_RETURN(bool busy, store::HasOpenEmbedJobs(*reader));
    if (busy) return false;
    // Memories still without their new vector (written while the new provider failed,
    // derived by the pipeline, imported): a sweep.
    MNEMO_ASSIGN_OR_RETURN(auto missing, store::IdsWithoutVector(*reader, /*next=*/true));
    if (!missing.empty()) {
      // Twice in a row at the same time means something keeps failing: not in a loop.
      const bool again = now - last_sweep_at_ < pipeline_->retry_initial_ms;
      {
        WriteTxn txn(this);
        MNEMO_RETURN_IF_ERROR(txn.Begin());
        MNEMO_RETURN_IF_ERROR(InsertRanges(txn.db(), missing, now));
        if (again) {
          MNEMO_RETURN_IF_ERROR(
              store::PostponeJobs(txn.db(), JobKind::kReembed, now + pipeline_->retry_initial_ms));
        }
        MNEMO_RETURN_IF_ERROR(txn.Commit());
      }
      last_sweep_at_ = now;
      WakeJobsAt(again ? now + pipeline_->retry_initial_ms : now);
      return !again;
    }
  }

  // Build the new index outside the locks, from a consistent read at index-log seq S.
  struct KeepLog {
    std::atomic<int64_t>& keep;
    ~KeepLog() { keep = -1; }
  } keep_log{keep_log_after_};
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    MNEMO_ASSIGN_OR_RETURN(int64_t seq, store::MaxIndexSeq(*writer_));
    keep_log_after_ = seq;
  }
  std::shared_ptr<index::VectorIndex> index =
      index::VectorIndex::Create(v->next->id(), v->next->dimension());
  if (!index)
    return Status::Internal("cannot create an index of dimension " +
                            std::to_string(v->next->dimension()));
  int64_t built_seq = 0;
  int64_t n = 0;
  {
    MNEMO_ASSIGN_OR_RETURN(auto reader, Reader());
    store::Db& db = *reader;
    store::ReadSnapshot snapshot(&db);
    MNEMO_RETURN_IF_ERROR(snapshot.Begin());
    MNEMO_ASSIGN_OR_RETURN(built_seq, store::MaxIndexSeq(db));
    MNEMO_RETURN_IF_ERROR(
        store::ForEachVector(db, /*next=*/true, [&](MemoryId id, std::string_view blob) {
          index->Seed(built_seq, id, std::string(blob));
          ++n;
        }));
  }
  while (index->IndexPending(1024) > 0) {
  }

  // Switch: one transaction, then the index, so that no reader mixes two embedders.
  std::vector<IndexChange> catch_up;
  {
    std::lock_guard<std::mutex> snap_lock(snapshot_mu_);
    std::lock_guard<std::mutex> lock(write_mu_);
    store::Db& db = *writer_;
    store::Transaction txn(&db);
    MNEMO_RETURN_IF_ERROR(txn.Begin());
    MNEMO_ASSIGN_OR_RETURN(auto missing, store::IdsWithoutVector(db, /*next=*/true));
    if (!missing.empty()) return true;  // written meanwhile without a new vector: sweep
    MNEMO_ASSIGN_OR_RETURN(auto log, store::ReadIndexLog(db, built_seq));
    MNEMO_RETURN_IF_ERROR(store::PromoteNextVectors(db));
    MNEMO_RETURN_IF_ERROR(store::SetMeta(db, "embedder", v->next->id()));
    MNEMO_RETURN_IF_ERROR(store::DeleteMeta(db, kNextKey));
    MNEMO_RETURN_IF_ERROR(store::DeleteMeta(db, "snapshot_seq"));
    // The old log describes the old vectors; what the lexical snapshot on disk still needs
    // of it stays.
    MNEMO_RETURN_IF_ERROR(store::TruncateIndexLog(db, lexical_disk_seq_.load() < 0
                                                          ? std::numeric_limits<int64_t>::max()
                                                          : lexical_disk_seq_.load()));
    for (const auto& e : log) {
      MNEMO_ASSIGN_OR_RETURN(auto blob, store::GetVector(db, e.id));
      catch_up.push_back(IndexChange{e.seq, e.id, blob ? std::move(*blob) : std::string(),
                                     e.op == store::IndexOp::kErase});
    }
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    for (auto& c : catch_up) {
      if (c.blob.empty()) {
        index->Remove(c.seq, c.id, c.erase);
      } else {
        index->Upsert(c.seq, c.id, std::move(c.blob));
      }
    }
    auto next = std::make_shared<Vectors>();
    next->id = v->next->id();
    next->dimension = v->next->dimension();
    next->row = v->next_row;
    next->embedder = v->next;
    next->index = std::move(index);
    {
      std::lock_guard<std::mutex> vlock(vectors_mu_);
      vectors_ = std::move(next);
    }
    vector_changes_ = std::max<int64_t>(n + static_cast<int64_t>(catch_up.size()), 1);
    // The old snapshot describes the old vectors; the next snapshot describes the new.
    Status removed = util::RemoveAll(dir_ + "/vectors.idx");
    if (!removed.ok()) Log(LogLevel::kWarning, "space '" + name_ + "': " + removed.ToString());
  }
  warned_lexical_only_ = false;
  ctx_->notify_indexer();
  Log(LogLevel::kInfo, "space '" + name_ + "': re-embed complete; " + std::to_string(n) +
                           " memories now searched with " + v->next->id() + " (was " + v->id + ")");
  return false;
}

}  // namespace mnemo::engine
