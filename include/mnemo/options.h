// mnemo/options.h — how an Engine is opened. Every field documents its default.
//
// Thread safety: plain values, no internal synchronization.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "mnemo/chat_model.h"
#include "mnemo/embedder.h"
#include "mnemo/memory.h"

namespace mnemo {

// Source of time. Tests substitute a fake clock so that time-dependent behaviour is
// deterministic. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs NowMillis() const = 0;
};

// The wall clock (std::chrono::system_clock).
std::shared_ptr<Clock> SystemClock();

enum class LogLevel { kDebug, kInfo, kWarning, kError };
using Logger = std::function<void(LogLevel, std::string_view message)>;

enum class Durability {
  kFull,    // every acknowledged write is fsynced (SQLite synchronous=FULL): survives power loss
  kNormal,  // survives a process crash; the last writes may roll back on power loss
};

// The background pipeline that derives facts, preferences and procedures from episodes
// (docs/pipeline.md). Every default is what `mnemo config show` prints.
struct PipelineOptions {
  // Derive memories from new episodes. Default true.
  bool enabled = true;
  // Use Options::chat_model when one is set; false keeps the rules even with a model.
  bool use_model = true;
  // A model call covers up to this many turns of one session (the session window).
  // Default 40: with LoCoMo's turn lengths, 0.025 calls and ~150 prompt tokens per turn.
  int window_turns = 40;
  // A partial window waits this long for more turns of its session before it is sent
  // anyway (model only; rules run at once). Default 30 s.
  int64_t window_wait_ms = 30000;
  // A failing job is retried with exponential backoff (with jitter) from
  // retry_initial_ms up to retry_max_ms; after max_attempts it is dead (dead letter,
  // with the reason) until `mnemo jobs retry`. Defaults 5, 2 s, 10 min.
  int max_attempts = 5;
  int64_t retry_initial_ms = 2000;
  int64_t retry_max_ms = 600000;
  // Prompt + completion tokens a space may spend per UTC day; when spent, model jobs
  // wait for the next day (episodes stay stored and searchable). 0: no limit. Default 2M.
  int64_t daily_token_budget = 2000000;
  // A new derived memory is linked ("related", weight = cosine) to at most link_k of the
  // user's derived memories with similarity >= link_min_similarity. Defaults 3, 0.5.
  int link_k = 3;
  double link_min_similarity = 0.5;
  // Sleep-time summaries (docs/lifecycle.md, "Summaries"): a session that has been quiet
  // for summary_wait_ms gets a summary of its turns (kind summary, derived_from its
  // episodes; extractive, or by the chat model when one is used), refreshed when the
  // session grows; a user's derived memories that share a topic (an entity named by at
  // least topic_min_memories of them) get a topic summary. Defaults true, 10 min, 3.
  bool summaries = true;
  int64_t summary_wait_ms = 600000;
  int topic_min_memories = 3;
};

// Forgetting, tiers and expiry (docs/lifecycle.md). Every default is what `mnemo config
// show` prints (config section "lifecycle", per space "spaces.S.lifecycle").
struct LifecycleOptions {
  // Retention (Ebbinghaus): R = 2^(-days since last access (else creation) / S), with the
  // stability S = half_life_days x strength x (0.5 + importance); strength starts at 1 and
  // grows by 1 with every recall (a search result), up to max_strength. Defaults 30, 64.
  double half_life_days = 30;
  double max_strength = 64;
  // Tiers. A session keeps at most working_capacity memories in tier working (its newest
  // episodes); older ones, and those of a session quiet for working_idle_ms, move to
  // short_term. A memory whose heat reaches promote_heat moves to long_term; a long-term
  // one whose heat falls below demote_heat moves back. When a user holds more than
  // user_capacity memories outside the archive, the coldest move to archived (searchable
  // with include_archived; never deleted). user_capacity 0: no limit. Defaults 20, 1 h,
  // 3.0, 1.0, 0.
  int working_capacity = 20;
  int64_t working_idle_ms = 3600000;
  double promote_heat = 3.0;
  double demote_heat = 1.0;
  int64_t user_capacity = 0;
  // Expiry. A memory written without an expiry of its own gets created_at + ttl_ms[kind]
  // when that kind has one (0 or absent: never expires; at most 100 years). The TTL is
  // stamped at write: changing it affects memories written afterwards, never existing
  // ones. An expired memory is retired (reason "expired at T") at once: it leaves search
  // and list; purge_expired_after_ms after that retirement it is erased (the memory
  // alone: what was derived from it stays). -1: never purge. Defaults: no TTL, 30 days.
  std::map<Kind, int64_t> ttl_ms;
  int64_t purge_expired_after_ms = 30LL * 24 * 3600 * 1000;
  // How often the background thread runs the lifecycle maintenance of an open space
  // (flush recalls, expire, purge, tiers). Default 60 s.
  int64_t maintenance_interval_ms = 60000;
};

struct Options {
  // Create the data directory if it does not exist. Default false: opening a directory
  // that was never initialised is an error that says how to initialise it.
  bool create_if_missing = false;

  // Default kFull. See Durability.
  Durability durability = Durability::kFull;

  // SQLite page I/O of each space (docs/architecture.md, "Storage"). Reads go through a
  // memory map of the database file, up to sqlite_mmap_bytes of it: a page already in
  // the OS page cache costs a memory access, not a read() system call (which on a VM
  // costs microseconds). Each connection also caches up to sqlite_cache_bytes of pages
  // (the writer's modified pages live there until the commit). 0 turns the map off.
  // Defaults 1 GiB and 32 MiB (config storage.mmap_mb, storage.cache_mb).
  int64_t sqlite_mmap_bytes = int64_t{1} << 30;
  int64_t sqlite_cache_bytes = int64_t{32} << 20;

  // The embedder for new spaces and queries. Default (nullptr): the builtin embedder.
  // A space remembers the embedder id its vectors came from; opening it with another
  // embedder starts a background re-embed (see reembed_on_embedder_change).
  std::shared_ptr<const Embedder> embedder;

  // Opening a space whose vectors come from another embedder than `embedder` re-embeds
  // it in the background (reembed jobs; searches keep using the old vectors, or lexical
  // search alone when the old embedder cannot be built here, until every memory has its
  // new vector, then switch at once). false: such a space is refused with an error naming
  // both embedders. Default true (config key embedding.reembed).
  bool reembed_on_embedder_change = true;

  // Time source. Default (nullptr): SystemClock().
  std::shared_ptr<Clock> clock;

  // Receives warnings such as "index snapshot corrupt, rebuilt from SQLite". Default
  // (empty): warnings and errors go to stderr.
  Logger logger;

  // Quarantine at write the memories of low trust (origin tool or web) whose text reads
  // as instructions to the agent (write/injection.h; docs/security.md, "Trust and
  // quarantine"). Default true (config security.quarantine).
  bool quarantine_instructions = true;

  // Limits. Requests beyond them are rejected with kTooLarge / kInvalidArgument.
  size_t max_text_bytes = 64 * 1024;      // per memory text; default 64 KiB
  size_t max_metadata_bytes = 16 * 1024;  // per metadata object; default 16 KiB
  size_t max_batch = 10000;               // memories per add_batch / ingest call
  int max_list_limit = 1000;              // page size of list
  int max_k = 1000;                       // results of one search

  // A search whose scope (after filters on user) holds at most this many memories
  // scores their vectors exactly; larger scopes go through the HNSW graph with an
  // over-fetch. Exact is both cheaper and exact at this size. Default 20,000.
  size_t exact_scan_limit = 20000;

  // Spaces kept open at once; the least recently used beyond this are closed (their
  // vector index is snapshotted first). Default 64.
  size_t max_open_spaces = 64;

  // Threads that move pending vectors into a space's HNSW graph (the background indexer
  // and helpers it starts for each batch); searches never wait for them. 0: one per core,
  // at most 4. Default 0.
  int index_threads = 0;

  // Snapshots of a space's vector and lexical indexes are written after this many changes
  // since the last ones, or a quarter of the space's memories when that is more (a
  // snapshot costs the space's size; the replay at the next open the changes since), and
  // when the space closes. Default 50,000.
  size_t snapshot_every = 50000;

  // The chat model of the pipeline. Default (nullptr): none; the pipeline uses rules.
  std::shared_ptr<const ChatModel> chat_model;
  PipelineOptions pipeline;
  // Run the open spaces' ready pipeline jobs on a background thread. Default true. false
  // leaves them queued until Engine::RunJobs: short-lived processes (the CLI's one-shot
  // commands) and tests that want every job run at a point they choose.
  bool background_jobs = true;
  // Per-space overrides of `pipeline`, by space name.
  std::map<std::string, PipelineOptions> space_pipeline;
  LifecycleOptions lifecycle;
  // Per-space overrides of `lifecycle`, by space name.
  std::map<std::string, LifecycleOptions> space_lifecycle;
};

}  // namespace mnemo
