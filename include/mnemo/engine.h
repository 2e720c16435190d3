// mnemo/engine.h — the memory engine: one data directory, many isolated spaces.
//
// An Engine owns a data directory:
//   DIR/MNEMO                   marker with the directory format version
//   DIR/spaces/NAME/space.db    SQLite (WAL): memories, history, links, vectors, index log
//   DIR/spaces/NAME/vectors.idx HNSW snapshot (magic, version, checksum)
// A space is its own database file: no call can reach another space's memories.
//
// Thread safety: an Engine is safe for concurrent use from multiple threads without
// external synchronization. Writes to one space are serialized; reads run concurrently
// with each other and with writes. Only one process may open a data directory at a time
// (enforced with a lock file). With Options::background_jobs the Engine runs a pipeline
// thread: destroy it before the process exits (not from static storage after `main`
// returns), so that the thread stops before the library's own statics are destroyed.
//
// Errors: every method returns Status / Result; no exceptions escape.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/options.h"
#include "mnemo/query.h"
#include "mnemo/status.h"

namespace mnemo {

// One conversation message for Engine::Ingest.
struct Message {
  std::string session;  // session id; messages of a session are linked in order
  std::string role;     // "user", "assistant", ... (role or speaker or both)
  std::string speaker;  // speaker name
  std::string agent;    // the agent the conversation is with ("" when none)
  std::string text;
  std::optional<TimeMs> time;  // default: now
  std::string meta = "{}";     // JSON object
};

struct IngestResult {
  std::vector<MemoryId> ids;  // one per message, in input order
};

struct SpaceInfo {
  std::string name;
  int64_t memories = 0;  // active memories
};

struct SpaceStats {
  std::string name;
  int64_t memories_active = 0;
  int64_t memories_retired = 0;
  std::map<std::string, int64_t> by_kind;  // active memories per kind name
  std::map<std::string, int64_t> by_tier;  // active memories per tier name
  int64_t users = 0;
  int64_t sessions = 0;
  int64_t history_entries = 0;
  int64_t links = 0;
  int64_t vectors_indexed = 0;  // in the HNSW graph
  int64_t vectors_pending = 0;  // durable, searchable by exact scan, not yet in the graph
  std::string embedder;         // embedder id of the space's vectors
  int dimension = 0;
  // A re-embed in progress (docs/pipeline.md, "Re-embedding"): the embedder being moved
  // to ("" when none), how many memories have their vector from it, out of how many.
  // Searches use `embedder`'s vectors until the switch, or lexical search alone when
  // that embedder cannot be built here (vector_search false).
  std::string embedder_next;
  int dimension_next = 0;
  int64_t reembedded = 0;
  int64_t reembed_total = 0;
  bool vector_search = true;
  int schema_version = 0;
  int64_t db_bytes = 0;     // space.db + WAL
  int64_t index_bytes = 0;  // vectors.idx + lexical.idx (the snapshots)
};

// What one lifecycle maintenance pass did (Engine::Maintain, docs/lifecycle.md).
struct MaintenanceReport {
  int64_t recalls = 0;        // recalled memories whose strength and last access were saved
  int64_t expired = 0;        // retired because their expiry passed
  int64_t purged = 0;         // expired long enough ago to be erased (purge policy)
  int64_t to_short_term = 0;  // out of a session's working set, or cooled from long-term
  int64_t to_long_term = 0;   // heat reached promote_heat
  int64_t archived = 0;       // coldest beyond a user's capacity
  int64_t unarchived = 0;     // archived memories recalled again
};

// What Engine::EraseUser removed.
struct UserErasure {
  int64_t memories = 0;  // every memory of the user, any state: episodes, derived, summaries
  int64_t jobs = 0;      // the user's pipeline jobs, any state
};

struct ImportResult {
  int64_t memories = 0;
  int64_t history_entries = 0;
  int64_t links = 0;
};

// Background work of a space (docs/pipeline.md). extract: derive memories from episodes;
// embed: give memories the vectors the write path could not get from the embedder;
// reembed: vectors from a newly configured embedder for a range of memories.
enum class JobKind { kExtract, kEmbed, kReembed, kSummarize };
enum class JobState { kPending, kDone, kDead };
std::string_view JobKindName(JobKind k);    // "extract", "embed", "reembed", "summarize"
std::string_view JobStateName(JobState s);  // "pending", "done", "dead"
Result<JobState> ParseJobState(std::string_view name);

struct Job {
  int64_t id = 0;
  JobKind kind = JobKind::kExtract;
  JobState state = JobState::kPending;
  std::string user_id;
  std::string session_id;
  // extract and embed: the memories it covers; reembed: the first and last id of its range.
  std::vector<MemoryId> memories;
  int attempts = 0;
  TimeMs next_run_at = 0;
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
  std::string last_error;  // why the last attempt failed ("" if none)
  int64_t calls = 0;       // chat calls it made (failed attempts included)
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t derived = 0;  // extract: memories it added, superseded or merged into;
                        // embed, reembed: vectors it wrote
};

// Progress of a long call: `done` units of `total`, an estimate that may grow while the
// work runs. Called on the calling thread between units.
using Progress = std::function<void(int64_t done, int64_t total)>;

struct JobStats {
  int64_t pending = 0;
  int64_t done = 0;
  int64_t dead = 0;
  int64_t turns = 0;          // episodes covered by done extract jobs
  int64_t derived = 0;        // memories derived by them
  int64_t embed_pending = 0;  // pending embed and reembed jobs (counted in `pending` too)
  // Pending summarize jobs, most waiting for their session to be quiet (in `pending` too).
  int64_t summaries_pending = 0;
  int64_t embedded = 0;  // vectors written by embed and reembed jobs
  int64_t calls = 0;     // chat calls, all time
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t tokens_today = 0;  // prompt + completion, this UTC day
  int64_t daily_token_budget = 0;
  std::string extractor;  // "rules" or the chat model id
};

// One step of a memory's provenance: the memory and the memory it was derived into.
struct ProvenanceStep {
  Memory memory;
  MemoryId derived_into = 0;  // 0 for the memory asked about
  int depth = 0;              // 0 for the memory asked about, 1 for its sources, ...
};

// A user's core memory (docs/lifecycle.md, "Profile"): the current value of each
// attribute slot the pipeline (or an edit) recorded, one entry per slot.
struct ProfileEntry {
  std::string key;          // the slot: "home_city", "job", "allergy:peanuts", "likes:surfing"
  std::string value;        // its value ("porto"); "" for slots that are yes/no ("likes:surfing")
  std::string text;         // the memory's sentence ("Maya lives in Porto")
  Kind kind = Kind::kFact;  // fact or preference
  MemoryId memory_id = 0;
  std::optional<TimeMs> since;  // valid_from
  bool edited = false;          // written by Engine::EditProfile, not derived
};

struct Profile {
  std::string user;
  std::vector<ProfileEntry> entries;  // facts, then preferences; newest first within each
};

// Changes to a profile: `set` key -> value (a new fact for the slot that supersedes the
// current one), `unset` keys (their current memories are retired). Keys are 1-64
// characters of a-z 0-9 _ : - (lowercased); values 1-1000 bytes.
struct ProfileEdit {
  std::string user;
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> unset;
  std::string reason;  // recorded in the history of what it supersedes
};

// The ranges of GetProfile's limit (1..kMaxProfileEntries) and of ContextRequest's fields.
inline constexpr int kMaxProfileEntries = 100;
inline constexpr int kMinContextBudget = 50;
inline constexpr int kMaxContextBudget = 100000;
inline constexpr int kMaxContextK = 200;

// A prompt-ready block of memory for one user and query (docs/lifecycle.md, "Context").
struct ContextRequest {
  std::string user;              // required
  std::string query;             // required: what the memories should be relevant to
  int64_t budget_tokens = 1500;  // kMinContextBudget..kMaxContextBudget; ceil(bytes / 4)
  std::optional<TimeMs> now;     // reference time (default: the clock); later events are left out
  int k = 30;                    // memories retrieved before the budget cuts (1..kMaxContextK)
  int profile_entries = 20;      // at most this many profile lines (0..kMaxProfileEntries)
  LabelSet exclude_labels = 0;   // nothing from memories with any of these labels
};

struct ContextResult {
  std::string text;                // the block: profile, then memories grouped by session
  int64_t tokens = 0;              // estimate of `text` (<= budget_tokens)
  std::vector<MemoryId> memories;  // the memories in it, in the order shown
  int64_t omitted = 0;             // relevant memories left out by the budget
  Profile profile;                 // the profile entries in it
};

class Engine {
 public:
  // Opens (or with options.create_if_missing, creates) the data directory `dir`.
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir, const Options& options);

  virtual ~Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Spaces. Names: 1-64 characters of [A-Za-z0-9_.-], not starting with '.'.
  virtual Status CreateSpace(const std::string& name) = 0;
  virtual Result<std::vector<SpaceInfo>> ListSpaces() = 0;
  // Deletes the space's folder and everything in it.
  virtual Status DropSpace(const std::string& name) = 0;

  // Adds one memory; it is durable and searchable (lexically and by vector) on return.
  virtual Result<MemoryId> Add(const std::string& space, const MemoryInput& input) = 0;
  // Adds all or nothing, in one transaction. Ids are returned in input order. An error
  // about one input names it in Status::field() as "[2].text" (the third input's text).
  virtual Result<std::vector<MemoryId>> AddBatch(const std::string& space,
                                                 const std::vector<MemoryInput>& inputs) = 0;
  // Stores conversation messages as episode memories of `user`, each linked to the
  // previous message of its session (type "next"), in one transaction. Errors name the
  // message as AddBatch's do ("[2].text").
  virtual Result<IngestResult> Ingest(const std::string& space, const std::string& user,
                                      const std::vector<Message>& messages) = 0;

  // Memory text never holds a credential: secrets found at write (API tokens, private
  // keys, "password is ...", card numbers) are stored apart, the text shows "[secret N:
  // KIND]" in their place (every read, the indexes and model providers see only that).
  virtual Result<Memory> Get(const std::string& space, MemoryId id) = 0;
  // Get with the secrets put back into the text: for an admin who must see them.
  virtual Result<Memory> Reveal(const std::string& space, MemoryId id) = 0;
  virtual Result<ListPage> List(const std::string& space, const ListRequest& request) = 0;
  // The users with active memories in `space`, by user id, `limit` (1..max_list_limit)
  // per page; `cursor` is "" or the next_cursor of the previous page.
  virtual Result<UserPage> ListUsers(const std::string& space, const std::string& cursor,
                                     int limit) = 0;
  // Writes a new version; the previous one stays in history. Returns the new version.
  virtual Result<Memory> Update(const std::string& space, MemoryId id,
                                const MemoryUpdate& update) = 0;
  // Soft delete: the memory is retired (out of search, listed only on request) and
  // stays in history.
  virtual Status Remove(const std::string& space, MemoryId id, const std::string& reason) = 0;
  // Remove for many memories in one transaction: all or none. Ids of memories that are
  // retired already or do not exist are skipped. Returns how many were retired.
  virtual Result<int64_t> RemoveMany(const std::string& space, const std::vector<MemoryId>& ids,
                                     const std::string& reason) = 0;
  // Hard erase: the text leaves the memory table, history, lexical index, vector index and
  // the files on disk (secure delete + checkpoint). A history entry records the purge.
  // What was derived from the memory (its provenance successors) goes too, but never a
  // memory of another user. Returns the erased ids, `id` first.
  virtual Result<std::vector<MemoryId>> Purge(const std::string& space, MemoryId id,
                                              const std::string& reason) = 0;
  virtual Result<std::vector<HistoryEntry>> History(const std::string& space, MemoryId id) = 0;
  virtual Result<std::vector<Link>> Links(const std::string& space, MemoryId id) = 0;

  virtual Result<std::vector<SearchHit>> Search(const std::string& space,
                                                const SearchRequest& request) = 0;

  // Lossless JSONL export (memories with vectors, history, links) with a header that
  // carries a magic and format version and a trailer that carries a checksum.
  virtual Status Export(const std::string& space, std::ostream& out) = 0;
  // The same format for one user (a data-subject export): every memory of `user` in any
  // state, their history and the links between them; the header names the user.
  // Importing it elsewhere restores that user losslessly.
  virtual Status ExportUser(const std::string& space, const std::string& user,
                            std::ostream& out) = 0;
  // A data-subject erasure: every memory of `user` in any state (derived ones, summaries
  // and profile entries are the user's memories too), their history rows, links, vectors,
  // index entries and pipeline jobs, in one transaction; freed pages are zeroed and the
  // WAL and index snapshots rewritten, so no file keeps the user's text. An unknown user
  // erases nothing (memories 0). `reason` is checked like a purge's but kept nowhere: no
  // record of the user remains.
  virtual Result<UserErasure> EraseUser(const std::string& space, const std::string& user,
                                        const std::string& reason) = 0;
  // Imports an export into `space` (created if missing) in one transaction. Ids are
  // kept; a clash with an existing id is a kConflict and nothing is imported.
  virtual Result<ImportResult> Import(const std::string& space, std::istream& in) = 0;

  virtual Result<SpaceStats> Stats(const std::string& space) = 0;

  // The memory and, breadth first, the memories it was derived from, down to episodes.
  virtual Result<std::vector<ProvenanceStep>> Provenance(const std::string& space, MemoryId id) = 0;

  // Background jobs. `state` unset lists every state; newest first, at most `limit`.
  virtual Result<std::vector<Job>> ListJobs(const std::string& space, std::optional<JobState> state,
                                            int limit) = 0;
  // Moves a dead job (or, with job_id 0, every dead job) back to pending. Returns how many.
  virtual Result<int64_t> RetryJobs(const std::string& space, int64_t job_id) = 0;
  virtual Result<JobStats> GetJobStats(const std::string& space) = 0;
  // Runs the space's ready jobs in the calling thread until none is ready, sending
  // partial session windows at once (tests, `mnemo jobs run`, the CLI after ingest).
  // Jobs waiting for a retry or for tomorrow's token budget stay pending. Sessions' summaries
  // are made at once too unless `summaries_now` is false (the CLI after a write: they wait
  // for the session to be quiet, as in the server).
  // `progress`, when set, is called on this thread as jobs finish, with the jobs done and
  // the jobs done plus those ready (which grows when jobs enqueue others).
  virtual Status RunJobs(const std::string& space, bool summaries_now = true,
                         const Progress& progress = nullptr) = 0;

  // The lifecycle's maintenance, now, in the calling thread (the background thread runs it
  // every LifecycleOptions::maintenance_interval_ms): saves the recalls counted since the
  // last pass, retires expired memories, erases those the purge policy says to, and moves
  // memories between tiers. `mnemo maintain`.
  virtual Result<MaintenanceReport> Maintain(const std::string& space) = 0;

  // The profile of `user`: at most `limit` (1..kMaxProfileEntries) entries, none taken
  // from a memory with a label of `exclude_labels`.
  virtual Result<Profile> GetProfile(const std::string& space, const std::string& user, int limit,
                                     LabelSet exclude_labels = 0) = 0;
  // Applies `edit` and returns the profile after it.
  virtual Result<Profile> EditProfile(const std::string& space, const ProfileEdit& edit) = 0;
  // The profile and the memories relevant to the query, within the token budget.
  virtual Result<ContextResult> BuildContext(const std::string& space,
                                             const ContextRequest& request) = 0;

  // Waits until every pending vector of every open space is in its HNSW graph
  // (benchmarks and tests; never needed for correctness).
  virtual Status WaitForIndexing() = 0;

 protected:
  Engine() = default;
};

}  // namespace mnemo
