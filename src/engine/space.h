// One open space: its SQLite database (one writer connection, a pool of readers) and
// its vector index. Implements every per-space operation of the Engine API.
//
// Write path: validate and embed outside any lock; then, under write_mu_, one SQLite
// transaction writes the rows, the history, the vectors and the index log; after the
// commit the vectors are handed to the index in log order (so they are searchable at
// once, by exact scan of the pending tail) and the background indexer is notified.
//
// Vectors: table `vectors` and the index hold the vectors of the space's embedder (meta
// "embedder"). A re-embed (embed_jobs.cc, docs/pipeline.md) fills `vectors_next` from the
// configured embedder in the background, then switches both at once.
//
// Thread safety: all public methods are safe to call concurrently.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/lexical_index.h"
#include "index/vector_index.h"
#include "mnemo/engine.h"
#include "read/signals.h"
#include "store/job_store.h"
#include "store/sqlite.h"

namespace mnemo::engine {

// A short identifying field (user, agent, session, role, speaker, reason): at most 256
// bytes of UTF-8 (kTooLarge / kInvalidArgument on field `what`).
Status ValidateShortField(std::string_view value, std::string_view what);

// What a space needs from its engine. Shared by all spaces of an engine.
struct SpaceContext {
  Options options;  // limits; embedder, clock and logger are resolved (never null/empty)
  std::function<void()> notify_indexer;
  // True once the engine is closing: long-running work (the job runner) stops between
  // steps and leaves the rest pending for the next start. May be empty (never).
  std::function<bool()> stopping;
};

// The failures of an embedding provider (unavailable: down, timing out, 429/5xx after its
// retries; corruption: an answer of the wrong shape), as opposed to a refusal of the
// input: they never fail a write (the vector is deferred to an embed job) nor a search
// (it runs lexically). embed_jobs.cc.
bool IsProviderFailure(const Status& s);

// The part of `f` the lexical index evaluates (space_lexical.cc; store::IndexEvaluates
// says whether that is all of it).
index::LexicalFilter ToLexicalFilter(const Filter& f);
// The lexical index snapshot of the space in `dir` (space_lexical.cc).
std::string LexicalPath(const std::string& dir);

class Space {
 public:
  // Opens the space stored in `dir` (creating its database when `create`).
  static Result<std::unique_ptr<Space>> Open(const std::string& dir, const std::string& name,
                                             bool create, const SpaceContext* ctx);
  // Writes a final snapshot when the index changed since the last one.
  ~Space();
  Space(const Space&) = delete;
  Space& operator=(const Space&) = delete;

  const std::string& name() const { return name_; }

  Result<std::vector<MemoryId>> AddBatch(const std::vector<MemoryInput>& inputs);
  Result<IngestResult> Ingest(const std::string& user, const std::vector<Message>& messages);
  Result<Memory> Get(MemoryId id);
  Result<Memory> Reveal(MemoryId id);  // Get with the text's secrets put back
  Result<ListPage> List(const ListRequest& request);
  Result<Memory> Update(MemoryId id, const MemoryUpdate& update);
  Status Remove(MemoryId id, const std::string& reason);
  Result<int64_t> RemoveMany(const std::vector<MemoryId>& ids, const std::string& reason);
  // The erased ids: `id`, then what was derived from it (of the same user).
  Result<std::vector<MemoryId>> Purge(MemoryId id, const std::string& reason);
  Result<std::vector<HistoryEntry>> History(MemoryId id);
  Result<std::vector<Link>> Links(MemoryId id);
  Result<std::vector<SearchHit>> Search(const SearchRequest& request);
  // The whole space, or only `user`'s memories, history and links (Engine::ExportUser).
  Status Export(std::ostream& out, const std::string& user = "");
  Result<UserErasure> EraseUser(const std::string& user, const std::string& reason);
  Result<ImportResult> Import(std::istream& in);
  Result<SpaceStats> Stats();
  Result<int64_t> ActiveCount();
  Result<std::vector<ProvenanceStep>> Provenance(MemoryId id);

  // The background pipeline (pipeline.cc). RunJobs runs ready jobs until none is ready;
  // `flush` sends partial session windows at once. One runner at a time per space.
  // `wake_summaries`: a flush also runs summaries waiting for their session to be quiet.
  Status RunJobs(bool flush, bool wake_summaries = true, const Progress& progress = nullptr);
  // False when no job can be ready (nothing enqueued or deferred since the last run).
  bool MayHaveReadyJobs() const { return Now() >= next_job_check_.load(); }
  Result<std::vector<Job>> ListJobs(std::optional<JobState> state, int limit);
  Result<UserPage> ListUsers(const std::string& cursor, int limit);

  // The lifecycle (space_lifecycle.cc, docs/lifecycle.md). Maintain: one pass now.
  // MaintenanceDue: the interval passed or an expiry is due. RecallsDue: counted recalls
  // pile up (and the last save is a few seconds old); SaveRecalls saves them alone.
  Result<MaintenanceReport> Maintain();
  bool MaintenanceDue() const;
  bool RecallsDue() const;
  Result<int64_t> SaveRecalls();
  Result<int64_t> RetryJobs(int64_t job_id);
  Result<JobStats> GetJobStats();

  // Background work, called by the engine's indexer thread.
  size_t IndexSome(size_t max_items, int threads) {
    return CurrentVectors()->index->IndexPending(max_items, threads);
  }
  bool HasPendingIndexWork() const { return CurrentVectors()->index->pending_count() > 0; }
  // Writes snapshots of the vector and lexical indexes when at least `min_changes` index
  // changes happened since the last ones (0: always), then truncates the index log up to
  // what both snapshots on disk hold.
  Status Snapshot(int64_t min_changes);
  // Index changes since the last snapshots: of the index with more of them (a memory
  // written counts once, though both indexes change).
  int64_t changes_since_snapshot() const {
    return std::max(lexical_changes_.load(), vector_changes_.load());
  }
  // Whether enough changed since the last snapshots to write new ones: `every` changes,
  // or a quarter of the space when that is more (a snapshot of a large space costs its
  // size; the replay at the next open costs the changes since).
  bool SnapshotDue(int64_t every) const;
  // Copies the WAL into the database once it holds 1,000 pages (4 MiB) and grew since the
  // last call: on a connection of its own, so that writers do not wait for checkpoints.
  Status CheckpointWal();

 private:
  Space(std::string dir, std::string name, const SpaceContext* ctx);

  // A reader connection borrowed from the pool for the duration of one call.
  class ReaderLease {
   public:
    ReaderLease(Space* s, std::unique_ptr<store::Db> db) : space_(s), db_(std::move(db)) {}
    ReaderLease(ReaderLease&&) = default;
    ~ReaderLease();
    store::Db& operator*() { return *db_; }

   private:
    Space* space_;
    std::unique_ptr<store::Db> db_;
  };
  Result<ReaderLease> Reader();

  // One write (space_lexical.cc): holds write_mu_ and a BEGIN IMMEDIATE transaction on the
  // writer. Commit() commits, then brings the in-memory indexes up to date — the writer's
  // journal (store::ChangeJournal) to the lexical index, `vector_changes` to the vector
  // index — before the lock is released, so that both follow SQLite in commit order and a
  // write is searchable when it returns. Destroyed without a successful Commit(), it rolls
  // back, forgets the journal and restores the id counter.
  // A committed change of a memory's vector, for the vector index.
  struct IndexChange {
    int64_t seq;
    MemoryId id;
    std::string blob;  // empty for removals
    bool erase = false;
  };
  // Remove and RemoveMany: one transaction retiring the active memories among `ids`.
  Result<int64_t> RemoveIds(const std::vector<MemoryId>& ids, const std::string& reason,
                            bool missing_is_error);
  class WriteTxn {
   public:
    explicit WriteTxn(Space* space);
    ~WriteTxn();
    WriteTxn(const WriteTxn&) = delete;
    WriteTxn& operator=(const WriteTxn&) = delete;
    Status Begin();
    store::Db& db() { return *space_->writer_; }
    std::vector<IndexChange>* vector_changes() { return &changes_; }
    Status Commit();

   private:
    Space* space_;
    std::unique_lock<std::mutex> lock_;
    store::Transaction txn_;
    MemoryId saved_last_id_;
    bool committed_ = false;
    std::vector<IndexChange> changes_;
  };
  // Applies the writer's journal to the lexical index. Requires write_mu_.
  void ApplyJournal();
  // Loads the lexical index snapshot and replays the index log after it, or rebuilds the
  // index from the memories table. Never refuses to open over the index.
  Status OpenLexical();
  Status RebuildLexical(store::Db& db);
  // BM25 top-k of `terms` among the memories passing `f`: the lexical index evaluates
  // what it holds (scope, kind, state, tier, agent, session, event time); tags, metadata
  // and the bi-temporal views are checked in SQLite.
  Result<std::vector<index::LexicalHit>> LexicalCandidates(store::Db& db,
                                                           const index::LexicalIndex::View& view,
                                                           const std::vector<std::string>& terms,
                                                           const Filter& f, size_t k);

  // The embedders of the space's vectors and the index over them. Immutable once
  // published; replaced whole when a re-embed switches (under write_mu_ and
  // vectors_mu_), so a reader holding one never mixes two embedders.
  struct Vectors {
    std::string id;  // embedder of table `vectors` (space_meta "embedder")
    int dimension = 0;
    int64_t row = 0;  // its row in table `embedders`
    // Builds `id`'s vectors: the configured embedder, or during a re-embed the old one
    // when it can be built here (builtin); null otherwise (vector search is then off).
    std::shared_ptr<const Embedder> embedder;
    std::shared_ptr<index::VectorIndex> index;  // over table `vectors`; never null
    // During a re-embed: the configured embedder, whose vectors go to `vectors_next`.
    std::shared_ptr<const Embedder> next;
    int64_t next_row = 0;
  };
  std::shared_ptr<const Vectors> CurrentVectors() const {
    std::lock_guard<std::mutex> lock(vectors_mu_);
    return vectors_;
  }
  // At open (embed_jobs.cc): compares the recorded embedder with the configured one and
  // starts, resumes, restarts or cancels a re-embed, or refuses the space. Sets vectors_
  // (without its index). Requires the writer, before the space is shared.
  Status SetUpEmbedders();
  Status OpenIndex();
  TimeMs Now() const { return ctx_->options.clock->NowMillis(); }
  void Log(LogLevel level, const std::string& msg) const { ctx_->options.logger(level, msg); }

  // Validation shared by add, ingest and import.
  Status ValidateInput(const MemoryInput& in) const;
  Status ValidateText(std::string_view text, std::string_view what) const;
  // `given` and the labels the rules find in a text as stored (credentials if secrets
  // were taken out of it).
  static LabelSet LabelsFor(LabelSet given, std::string_view stored_text, bool had_secrets);
  // Labels the memories of a space written before schema v7: the rules' labels, and
  // derived memories their sources' (one transaction, at open).
  static Status LabelExisting(store::Db& db);
  // Why a memory of `origin` with `text` is quarantined at write; "" when it is not.
  std::string QuarantineReason(Origin origin, std::string_view text) const;
  // A fact or preference written without a slot (an agent's "Maya is allergic to peanuts")
  // gets the slot, value and polarity the rules read in it (write::SlotOfStatement), so
  // that the profile shows it; `metadata` is the normalised object, returned as it was
  // when nothing is found.
  std::string WithInferredSlot(const MemoryInput& in, std::string metadata) const;
  // `emb`'s quantized vectors of `texts`; a malformed answer is kCorruption.
  static Result<std::vector<std::string>> EmbedBlobs(const Embedder& emb,
                                                     const std::vector<std::string_view>& texts);

  // Writes memories (and, for ingest, their session links) in one transaction.
  Result<std::vector<MemoryId>> WriteBatch(const std::vector<MemoryInput>& inputs,
                                           bool link_sessions);
  MemoryId NextId();  // requires write_mu_
  // Hands committed vector changes to the index, in log order. Requires write_mu_.
  void ApplyToIndex(std::vector<IndexChange>& changes);
  // Vectors of a write's texts, computed outside the lock (embed_jobs.cc): quantized
  // blobs by embedder id, one per text. A provider failure (unavailable, garbage) leaves
  // that embedder out and is kept in `deferred`; any other failure fails the call.
  struct WriteVectors {
    std::map<std::string, std::vector<std::string>> blobs;
    Status deferred;
  };
  Result<WriteVectors> EmbedForWrite(const std::vector<std::string_view>& texts) const;
  // Under write_mu_, in the caller's transaction: stores text `i`'s vectors of `w` for
  // memory `id` in the tables `v` says are wanted, logs the index change and queues it in
  // `changes`. With `replace`, a vector that cannot be renewed is deleted (the text
  // changed). Returns whether a wanted vector is missing (the caller enqueues an embed job).
  Result<bool> PutVectors(store::Db& db, const Vectors& v, MemoryId id, const WriteVectors& w,
                          size_t i, bool replace, std::vector<IndexChange>* changes);
  // Inserts embed jobs for `ids` (at most 256 each), first run after retry_initial_ms.
  Status EnqueueEmbed(store::Db& db, const std::vector<MemoryId>& ids, const std::string& user,
                      const Status& why, TimeMs now);
  // The pipeline's vector of a derived memory: `vec` from the space's embedder (empty:
  // none) stored like a write's. Requires write_mu_.
  Status StoreVector(store::Db& db, MemoryId id, const std::vector<float>& vec,
                     std::vector<IndexChange>* changes);
  // Embeds derived texts with the space's embedder; empty vectors when it cannot be built.
  Status EmbedDerived(const std::vector<std::string_view>& texts,
                      std::vector<std::vector<float>>* out) const;
  // Runs one embed or reembed job (embed_jobs.cc).
  Status RunEmbedJob(const Job& job);
  // During a re-embed with no embed work pending: enqueues jobs for memories still
  // without a new vector (returns true), or builds the new index and switches.
  Result<bool> FinishReembed();
  void AdjustUserCount(const std::string& user, int64_t delta);
  Status CheckScope(const Filter& f);
  // The sizes of a filter's lists: no more tags than a memory can hold, as many metadata
  // keys (SQLite refuses deeper expressions than a few hundred terms).
  static Status CheckFilterSizes(const Filter& f);
  // CheckFilterSizes, and checks the filter expression, whose scope conditions move into
  // the plain fields (store::FilterExpression::HoistScope).
  static Status PrepareFilter(Filter* f);
  // NotFound for an id without a live row: "was purged" when its history remains.
  Status Missing(store::Db& db, MemoryId id);
  // Each of m.sources is a memory of m's user in this space (else kInvalidArgument on
  // `field`).
  Status CheckSources(store::Db& db, const Memory& m, const std::string& field);
  // True when every memory of the space (retired ones included) belongs to `user`.
  bool OwnsWholeSpace(const std::string& user);
  // Pipeline internals (pipeline.cc, pipeline_apply.cc, pipeline_internal.h).
  struct Derivation;
  struct ExtractedGroup;
  struct ApplyState;
  bool Stopping() const { return ctx_->stopping && ctx_->stopping(); }
  // Inserts the extraction jobs of `written` in the caller's transaction. Returns whether
  // it inserted any: the caller calls WakeJobsAt once the transaction has committed (an
  // earlier wake-up could be claimed by a run that cannot see the jobs yet, and lost).
  Result<bool> EnqueueExtraction(store::Db& db, const std::vector<Memory>& written, TimeMs now);
  // Extracts a job group's candidates (rules, or one model call per session window).
  // None when the group was deferred (a partial window, the token budget) or failed
  // (recorded on its jobs).
  Result<std::optional<ExtractedGroup>> ExtractGroup(const std::vector<Job>& jobs, bool flush);
  // Replaces each correction candidate ("I meant Porto, not Lisbon") by what it corrects
  // in `user`'s slots (this group's derivations, then the stored ones), or drops it.
  Status ResolveCorrections(const std::string& user, std::vector<Derivation>* derivations);
  // The assistant's question that user turn `m` answers (the previous turn of its session,
  // when the assistant asked), or "".
  static Result<std::string> AskedBefore(store::Db& db, const Memory& m);
  // When the space's daily token budget is spent: defers `jobs` to the next UTC day and
  // returns true.
  Result<bool> DeferIfBudgetSpent(const std::vector<Job>& jobs, int64_t tokens_today, TimeMs now);
  // Embeds the groups' candidates, then consolidates and writes them and completes their
  // jobs in one transaction.
  Status ApplyGroups(std::vector<ExtractedGroup>& groups);
  // One group in ApplyGroups' transaction; returns how many memories it derived.
  Result<int64_t> ConsolidateGroup(WriteTxn& txn, ExtractedGroup& group, ApplyState* state);
  // The user's derived memories a candidate is compared with, and their similarity.
  Result<std::map<MemoryId, double>> DerivedNeighbours(store::Db& db, const std::string& user,
                                                       const Derivation& d,
                                                       const ApplyState& state);
  Status FailJobs(const std::vector<Job>& jobs, const Status& error,
                  const store::JobOutcome& usage);
  void WakeJobsAt(TimeMs t);
  // Derived memories that list one of `ids` among their sources, transitively.
  Result<std::vector<MemoryId>> DerivedFrom(store::Db& db, MemoryId id);
  Status ExpandLinks(store::Db& db, const SearchRequest& req, std::vector<SearchHit>* hits);
  // ---- Lifecycle internals (space_lifecycle.cc) ----
  // Counts a recall of each hit (O(1) each, in memory; saved by the next maintenance).
  void RecordRecalls(const std::vector<SearchHit>& hits, TimeMs now);
  // Saves the counted recalls in one transaction.
  Result<int64_t> FlushRecalls(MaintenanceReport* report);
  // Retires the memories whose expiry passed, when one may have (an O(1) check otherwise):
  // reads call it first, so an expired memory never shows.
  void ExpireIfDue();
  // Retires every memory whose expiry is at or before `now` (transactions of a batch);
  // then recomputes next_expiry_.
  Result<int64_t> Expire(TimeMs now);
  Status RefreshNextExpiry(store::Db& db);
  void NoteExpiry(TimeMs t);  // a memory written with this expiry
  // The expiry a new memory gets: its own, else its kind's TTL (stamped at write: a TTL
  // changed later applies to new memories only), else none.
  std::optional<TimeMs> ExpiryFor(const MemoryInput& in, TimeMs now) const;
  std::optional<TimeMs> KindExpiry(Kind kind, TimeMs now) const;
  // Schedules the refresh of the summary of `m`'s session (an episode left it).
  Status ScheduleSummaryRefresh(store::Db& db, const Memory& m, TimeMs now);
  // Moves a session's oldest working memories to short_term beyond working_capacity.
  Status BoundWorkingSet(store::Db& db, const std::string& user, const std::string& session);
  Status MoveTiers(store::Db& db, TimeMs now, MaintenanceReport* report);
  // Erases up to a batch of memories expired long enough ago (the purge policy), adding
  // their index changes and their users (one per memory) to the lists.
  Result<int64_t> PurgeExpired(store::Db& db, TimeMs now, std::vector<IndexChange>* changes,
                               std::vector<std::string>* users);
  // Retires an active memory as of `at` (it left every read then) and records the removal,
  // by `actor`, in its history. The caller schedules what depends on it (summaries).
  Status RetireOne(store::Db& db, const Memory& current, TimeMs at, TimeMs now,
                   const std::string& actor, const std::string& reason);
  // Erases one memory (row, lexical postings, vector, links, history snapshots) and records
  // the purge.
  Status EraseOne(store::Db& db, const Memory& current, const std::string& reason,
                  std::vector<IndexChange>* changes);

  // ---- Summaries (space_summaries.cc; sleep-time work, docs/lifecycle.md) ----
  // Coarse to fine (SearchRequest::summary_episodes): after each summary among `hits`,
  // its best-matching source episodes.
  Status ExpandSummaryHits(store::Db& db, const SearchRequest& req, std::vector<SearchHit>* hits);
  // Runs one summarize job: the summary of the session (job.user_id, job.session_id), or,
  // for an empty session, the user's topic summaries. Writes nothing when nothing changed.
  Status RunSummarizeJob(const Job& job);
  struct SummaryDraft;
  Status SummarizeSession(const Job& job);
  Status SummarizeTopics(const Job& job);
  // Embeds and writes `drafts` (new summaries, or new versions), retires `retire`, and
  // completes `job` unless a write pushed it back meanwhile, in one transaction.
  Status ApplySummaries(const Job& job, std::vector<SummaryDraft>& drafts,
                        const std::vector<std::pair<Memory, std::string>>& retire,
                        const store::JobOutcome& usage);
  // ---- end of summaries ----
  // Replaces `m` by its version at system time `t` (from history) when it changed since.
  Status RewindTo(store::Db& db, TimeMs t, Memory* m);
  // Candidate lists for search.
  // `index`: the index `q` was embedded for (default: the current one); a query of
  // another dimension yields nothing.
  Result<std::vector<std::pair<MemoryId, double>>> VectorCandidates(
      store::Db& db, const index::LexicalIndex::View& view, const std::vector<float>& q,
      const Filter& f, size_t n, const index::VectorIndex* index = nullptr);
  Status ValidateSearch(const SearchRequest& req) const;
  Result<read::Signal> LexicalSignal(store::Db& db, const index::LexicalIndex::View& view,
                                     const SearchRequest& req, size_t per_signal,
                                     const read::PassingFn& passing);

  const std::string dir_;
  const std::string name_;
  const SpaceContext* ctx_;

  std::mutex write_mu_;
  std::unique_ptr<store::Db> writer_;  // protected by write_mu_
  MemoryId last_id_ = 0;               // protected by write_mu_

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<store::Db>> idle_readers_;  // protected by readers_mu_

  mutable std::mutex vectors_mu_;
  std::shared_ptr<const Vectors> vectors_;  // protected by vectors_mu_; index internally synced
  // Never null once open; internally synchronized.
  std::unique_ptr<index::LexicalIndex> lexical_;
  // The applied seq of lexical.idx on disk (-1: none): the index log after it is kept.
  std::atomic<int64_t> lexical_disk_seq_{-1};
  std::mutex snapshot_mu_;  // serializes snapshot writes
  static constexpr int64_t kCheckpointPages = 1000;
  std::mutex checkpoint_mu_;
  std::unique_ptr<store::Db> checkpointer_;  // protected by checkpoint_mu_; opened lazily
  std::atomic<int64_t> checkpointed_pages_{0};
  std::atomic<int64_t> lexical_changes_{0};  // since the last snapshot, per index
  std::atomic<int64_t> vector_changes_{0};
  // While a re-embed builds its index: snapshots keep the index log after this seq (the
  // build catches up from it at the switch). -1: no build.
  std::atomic<int64_t> keep_log_after_{-1};
  std::atomic<bool> warned_lexical_only_{false};

  const PipelineOptions* pipeline_;  // this space's pipeline options (from ctx_)
  std::mutex pipeline_mu_;           // one job runner at a time
  // Earliest time a job may be ready; Now() after a write enqueues one.
  std::atomic<TimeMs> next_job_check_{0};
  TimeMs last_sweep_at_ = 0;  // FinishReembed's last sweep; protected by pipeline_mu_

  const LifecycleOptions* lifecycle_;  // this space's lifecycle options (from ctx_)
  std::mutex recalls_mu_;
  struct PendingRecall {
    int64_t count = 0;
    TimeMs last = 0;
  };
  std::unordered_map<MemoryId, PendingRecall> pending_recalls_;  // protected by recalls_mu_
  std::atomic<size_t> pending_recall_count_{0};
  std::atomic<TimeMs> last_recall_flush_{0};  // when FlushRecalls last took the pending ones
  // Earliest expiry of an active memory (INT64_MAX: none).
  std::atomic<TimeMs> next_expiry_{INT64_MAX};
  std::atomic<TimeMs> next_maintenance_{0};

  std::mutex counts_mu_;
  std::unordered_map<std::string, int64_t> user_counts_;  // protected by counts_mu_
  int64_t total_count_ = 0;                               // protected by counts_mu_
};

}  // namespace mnemo::engine
